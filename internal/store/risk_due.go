package store

// risk_due.go: reassessments (issue 13 §3–4; R31, R32). Who needs one is
// computed from the records when asked, like the rest of the inbox: a
// person under measure never assessed needs a first one; an assessment
// older than risk.reassess_days (default monthly) is due; an event since
// the last assessment (a positive test, a confirmed violation, a PHQ-9
// item 9 above zero, a job found or lost, an accepted transfer) asks for
// one at once; a tier above low held risk.stepdown_days with no violation
// (every test negative: a positive test is a violation) gives the lead a
// step-down proposal. Nothing changes a tier by itself. One query per
// call, whatever the number of persons.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// RiskTrigger is an event since the last assessment that asks for a
// reassessment now.
type RiskTrigger string

// The triggers.
const (
	TriggerPositive  RiskTrigger = "positive_test"
	TriggerViolation RiskTrigger = "violation"
	TriggerItem9     RiskTrigger = "phq9_item9"
	TriggerJob       RiskTrigger = "job_change"
	TriggerTransfer  RiskTrigger = "transfer"
)

var triggerLabels = map[RiskTrigger][2]string{
	TriggerPositive: {"检测阳性", "a positive test"}, TriggerViolation: {"违规经确认", "a confirmed violation"},
	TriggerItem9: {"PHQ-9第9题阳性", "PHQ-9 item 9 above zero"}, TriggerJob: {"就业变化", "a job found or lost"},
	TriggerTransfer: {"变更执行地", "a transfer"},
}

// Label names the trigger in the language.
func (t RiskTrigger) Label(lang string) string {
	l := triggerLabels[t]
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

// RiskDueRow is where one person stands.
type RiskDueRow struct {
	PersonID, PersonName, OrgName, OrgID string
	Tier                                 casework.Tier // in force today; "" never decided
	Proposal                             bool          // an open proposal awaits the lead
	Never                                bool          // never assessed
	Due                                  casework.Date // the next reassessment
	Overdue                              bool
	Triggers                             []RiskTrigger
	StepDown                             bool
	Today                                casework.Date
}

// underMeasure (with "m" joined on the measure in force, whose argument
// comes first in underMeasureArgs) is a person under measure: reported and
// executing, on leave, or transferred and not yet reported at the new
// place (the clock continues, R11).
const underMeasure = `p.status IN (?, ?, ?) AND m.report_date IS NOT NULL`

func underMeasureArgs(inForce bool) []any {
	return []any{inForce, string(casework.StatusExecuting), string(casework.StatusOnLeave), string(casework.StatusPendingReport)}
}

// allPersons is the where of the nightly run: every person under measure.
const allPersons = `1 = 1`

// riskDue computes the rows for the persons under measure matching where
// (over "p", "o", "m"), at most limit (0: all). Set-based: one query for
// the persons and one aggregate per source, each scoped the same way, so
// the cost grows with the rows and not with a query per person.
func riskDue(ctx context.Context, tx *Tx, where string, args []any, limit int) ([]RiskDueRow, error) {
	base := taskFrom + ` JOIN measures m ON m.person_id = p.id AND m.in_force = ? WHERE ` + underMeasure + ` AND ` + where
	bargs := append(underMeasureArgs(true), args...)
	q := `SELECT p.id, p.name, o.name, p.org_id, m.report_date` + base + ` ORDER BY p.name_key, p.id`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := tx.Query(ctx, q, bargs...)
	if err != nil {
		return nil, fmt.Errorf("risk due: %w", err)
	}
	type raw struct {
		RiskDueRow
		since    casework.Date
		last     anyTime
		open     int
		tier     casework.Tier
		eff      casework.Date
		decided  anyTime
		lastViol casework.Date
	}
	var all []*raw
	byID := map[string]*raw{}
	for rows.Next() {
		r := &raw{}
		if err := rows.Scan(&r.PersonID, &r.PersonName, &r.OrgName, &r.OrgID, &r.since); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, r)
		byID[r.PersonID] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, nil
	}
	agg := func(sel, from, group string, fn func(r *raw, vals []any), dst ...any) error {
		// IN (subquery): SQLite indexes the set once; a join on a derived
		// table would scan it for every row.
		// The nightly run over everyone (where "1 = 1") reads each source
		// whole and keeps the persons of the first query.
		q, qargs := `SELECT x.person_id, `+sel+` FROM `+from+` `+group, []any(nil)
		if where != allPersons {
			q, qargs = `SELECT x.person_id, `+sel+` FROM `+from+` `+strings.Replace(group, "WHERE ", "WHERE x.person_id IN (SELECT p.id"+base+`) AND `, 1), bargs
		}
		rows, err := tx.Query(ctx, q, qargs...)
		if err != nil {
			return fmt.Errorf("risk due: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(append([]any{&id}, dst...)...); err != nil {
				return err
			}
			if r := byID[id]; r != nil {
				fn(r, dst)
			}
		}
		return rows.Err()
	}
	var last anyTime
	var open int
	if err := agg(`MAX(x.assessed_at), SUM(CASE WHEN x.state = 'proposed' THEN 1 ELSE 0 END)`, `risk_assessments x`,
		`WHERE x.state <> 'superseded' GROUP BY x.person_id`, func(r *raw, _ []any) { r.last, r.open = last, open }, &last, &open); err != nil {
		return nil, err
	}
	var tier string
	var eff casework.Date
	var decided anyTime
	if err := agg(`x.tier, x.effective_from, x.decided_at`, `risk_assessments x`, `WHERE x.state IN ('confirmed', 'overridden')`,
		func(r *raw, _ []any) {
			if r.tier == "" || eff.After(r.eff) || eff == r.eff && decided.Time.After(r.decided.Time) {
				r.tier, r.eff, r.decided = casework.Tier(tier), eff, decided
			}
		}, &tier, &eff, &decided); err != nil {
		return nil, err
	}
	var lastViol casework.Date
	if err := agg(`MAX(x.day)`, `violations x`, `WHERE x.state <> 'excused' GROUP BY x.person_id`,
		func(r *raw, _ []any) { r.lastViol = lastViol }, &lastViol); err != nil {
		return nil, err
	}
	// Triggers: the latest event of each kind, compared with the last assessment.
	var at anyTime
	for _, k := range []struct {
		t         RiskTrigger
		col, from string
		cond      string
	}{
		{TriggerPositive, "x.created_at", "violations x", `x.kind = 'positive_test'`},
		{TriggerViolation, "x.state_at", "violations x", `x.state = 'confirmed'`},
		{TriggerItem9, "x.created_at", "scale_administrations x", `x.scale = 'phq9' AND x.item9 > 0`},
		{TriggerJob, "x.updated_at", "employment x", `x.kind = 'employed'`},
		{TriggerTransfer, "x.decided_at", "transfers x", `x.state = 'accepted'`},
	} {
		if err := agg(`MAX(`+k.col+`)`, k.from, `WHERE `+k.cond+` GROUP BY x.person_id`, func(r *raw, _ []any) {
			if at.Valid && r.last.Valid && at.Time.After(r.last.Time) {
				r.Triggers = append(r.Triggers, k.t)
			}
		}, &at); err != nil {
			return nil, err
		}
	}
	pp := newPlacePolicies(tx)
	out := make([]RiskDueRow, 0, len(all))
	for _, r := range all {
		org, pol, err := pp.get(ctx, r.OrgID)
		if err != nil {
			return nil, err
		}
		today := casework.DateOf(tx.now, org.Location())
		p := pol(today)
		row := r.RiskDueRow
		row.Today, row.Proposal = today, r.open > 0
		if r.tier != "" && !r.eff.After(today) {
			row.Tier = r.tier
		}
		if !r.last.Valid {
			row.Never, row.Due, row.Triggers = true, r.since, nil
		} else {
			lastDay := casework.DateOf(r.last.Time, org.Location())
			row.Due = lastDay.AddDays(p.Value("risk.reassess_days").Int())
		}
		row.Overdue = row.Due.Before(today)
		// Step-down (R31, R32): a tier above low held, with no violation,
		// for the whole window; from the later of the tier's first day and
		// the day after the last violation.
		if row.Tier == casework.TierHigh || row.Tier == casework.TierMedium {
			from := r.eff
			if !r.lastViol.IsZero() && !r.lastViol.Before(from) {
				from = r.lastViol.AddDays(1)
			}
			row.StepDown = from.DaysUntil(today) >= p.Value("risk.stepdown_days").Int()
		}
		out = append(out, row)
	}
	return out, nil
}

// RiskNightly computes every person's reassessment state (the nightly
// run's share of issue 13; also what the inbox shows). It returns the
// counts: due or overdue, triggered, step-down proposals.
func (db *DB) RiskNightly(ctx context.Context) (due, triggered, stepDown int, err error) {
	err = db.Read(ctx, func(tx *Tx) error {
		rows, err := riskDue(ctx, tx, allPersons, nil, 0)
		for _, r := range rows {
			if r.Overdue || r.Due == r.Today || r.Never {
				due++
			}
			if len(r.Triggers) > 0 {
				triggered++
			}
			if r.StepDown {
				stepDown++
			}
		}
		return err
	})
	return due, triggered, stepDown, err
}

// GradingRate is 定级率 for the org's subtree on the local date: persons
// under measure (underMeasure) with a tier
// confirmed and in force, over persons under measure. For the reports
// engine: scope by the actor's PermRiskView; ENOTFOUND outside it.
func (db *DB) GradingRate(ctx context.Context, actor *casework.Actor, orgID string, date casework.Date) (graded, under int, err error) {
	err = db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermRiskView, orgID)
		if err != nil {
			return err
		}
		if date.IsZero() {
			date = tx.today(org)
		}
		return tx.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM risk_assessments ra WHERE ra.person_id = p.id
			AND ra.state IN ('confirmed', 'overridden') AND ra.effective_from <= ?) THEN 1 ELSE 0 END), 0)`+taskFrom+`
			JOIN measures m ON m.person_id = p.id AND m.in_force = ?
			WHERE `+underMeasure+` AND o.path LIKE ? ESCAPE '\'`, append(append([]any{date}, underMeasureArgs(true)...), likePrefix(org.Path))...).Scan(&under, &graded)
	})
	return graded, under, err
}

// anyTime scans a timestamp computed by an expression (MAX, a scalar
// subquery): PostgreSQL gives a time, SQLite the stored text.
type anyTime struct {
	Time  time.Time
	Valid bool
}

func (t *anyTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.Valid = false
		return nil
	case time.Time:
		t.Time, t.Valid = v, true
		return nil
	case []byte:
		src = string(v)
	}
	s, ok := src.(string)
	if !ok {
		return fmt.Errorf("timestamp: unexpected %T", src)
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05"} {
		if p, err := time.Parse(layout, s); err == nil {
			t.Time, t.Valid = p, true
			return nil
		}
	}
	return fmt.Errorf("timestamp: cannot read %q", s)
}
