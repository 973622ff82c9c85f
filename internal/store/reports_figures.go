package store

// reports_figures.go: the figures of issue 12 §1 (R34), CARE.md E's
// default formulas. Their words (name and formula, zh and en) are in the
// i18n files under report.fig.<key>; the settings marked UNCONFIRMED by
// DOMAIN are policy settings (report.lost_contact_days, report.caseload_max).

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"kangfu/internal/casework"
)

// under is the statuses of a person under a measure (R30): the report is
// owed or made and the measure has not ended.
var underStatuses = map[casework.Status]bool{
	casework.StatusPendingReport: true, casework.StatusExecuting: true,
	casework.StatusOnLeave: true, casework.StatusSuspended: true,
}

// personAt is a person's place, measure kind and status at the end of a day.
type personAt struct {
	ID, OrgID string
	Kind      string
	Status    casework.Status
}

// personsAt returns the persons whose place of execution at the end of
// day (custody: a transfer counts the person at the new place from the
// hand-over, so once) is in the subtree, with their status on the day
// from the status history (personSpansOf, as the check-in duty reads it).
// Persons with no measure begun by then are left out.
func (tx *Tx) personsAt(ctx context.Context, q *FigureQuery, day casework.Date) ([]personAt, error) {
	where, args := q.orgWhere("o.path")
	cut := day.AddDays(1).In(q.Zone)
	rows, err := tx.Query(ctx, `SELECT c.person_id, c.org_id FROM custody c JOIN orgs o ON o.id = c.org_id
		WHERE `+where+` AND c.from_at < ? AND (c.to_at IS NULL OR c.to_at >= ?) ORDER BY c.person_id, c.from_at`,
		append(args, cut, cut)...)
	if err != nil {
		return nil, err
	}
	place := map[string]string{}
	var ids []string
	for rows.Next() {
		var pid, oid string
		if err := rows.Scan(&pid, &oid); err != nil {
			rows.Close()
			return nil, err
		}
		if _, ok := place[pid]; !ok {
			ids = append(ids, pid)
		}
		place[pid] = oid
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	spans, err := tx.personSpansOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	kinds := map[string]string{}
	for part := range chunks(ids) {
		rs, err := tx.Query(ctx, `SELECT person_id, kind FROM measures WHERE person_id IN (`+qmarks(len(part))+`) AND received_date <= ?
			ORDER BY person_id, received_date, created_at`, append(anys(part), day)...)
		if err != nil {
			return nil, err
		}
		for rs.Next() {
			var pid, k string
			if err := rs.Scan(&pid, &k); err != nil {
				rs.Close()
				return nil, err
			}
			kinds[pid] = k
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, err
		}
	}
	var out []personAt
	for _, id := range ids {
		var st casework.Status
		for _, s := range spans[id] {
			if !s.From.After(day) {
				st = s.Status
			}
		}
		if st == "" {
			continue
		}
		out = append(out, personAt{ID: id, OrgID: place[id], Kind: kinds[id], Status: st})
	}
	return out, nil
}

// chunks yields ids in parts of spansChunk.
func chunks(ids []string) func(func([]string) bool) {
	return func(yield func([]string) bool) {
		for len(ids) > 0 {
			part := ids[:min(len(ids), spansChunk)]
			ids = ids[len(part):]
			if !yield(part) {
				return
			}
		}
	}
}

func (tx *Tx) underAt(ctx context.Context, q *FigureQuery, day casework.Date, keep func(casework.Status) bool) ([]personAt, error) {
	all, err := tx.personsAt(ctx, q, day)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, p := range all {
		if keep(p.Status) {
			out = append(out, p)
		}
	}
	return out, nil
}

func isUnder(s casework.Status) bool { return underStatuses[s] }

// reportedIn is executing, on leave or suspended: reported and not ended.
func reportedIn(s casework.Status) bool { return isUnder(s) && s != casework.StatusPendingReport }

// owesContact is executing or on leave: a person the office must reach.
func owesContact(s casework.Status) bool {
	return s == casework.StatusExecuting || s == casework.StatusOnLeave
}

// idSet reads a one-column set of person ids.
func (tx *Tx) idSet(ctx context.Context, query string, args ...any) (map[string]bool, error) {
	ids, err := scanStrings(tx.Query(ctx, query, args...))
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// personIDs returns the ids of ps.
func personIDs(ps []personAt) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

// inChunks runs a query with "IN (…)" over ids in parts and collects the
// ids of the first column.
func (tx *Tx) inChunks(ctx context.Context, ids []string, query string, args ...any) (map[string]bool, error) {
	out := map[string]bool{}
	for part := range chunks(ids) {
		q := replaceIn(query, len(part))
		got, err := tx.idSet(ctx, q, append(anys(part), args...)...)
		if err != nil {
			return nil, err
		}
		for id := range got {
			out[id] = true
		}
	}
	return out, nil
}

// replaceIn puts n placeholders where the query says (@ids).
func replaceIn(query string, n int) string {
	for i := 0; i+5 < len(query); i++ {
		if query[i:i+6] == "(@ids)" {
			return query[:i] + "(" + qmarks(n) + ")" + query[i+6:]
		}
	}
	return query
}

func personRows(ps []personAt, day casework.Date, num func(p personAt) bool, class func(p personAt) string) []FigureRow {
	out := make([]FigureRow, 0, len(ps))
	for _, p := range ps {
		r := FigureRow{OrgID: p.OrgID, PersonID: p.ID, RecordID: p.ID, Day: day, Den: 1}
		if num == nil || num(p) {
			r.Num = 1
		}
		if class != nil {
			r.Class = class(p)
		}
		out = append(out, r)
	}
	return out
}

// recordRows reads count rows: id, person id ("" for none), org id,
// date, num.
func (tx *Tx) recordRows(ctx context.Context, class string, query string, args ...any) ([]FigureRow, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FigureRow
	for rows.Next() {
		var r FigureRow
		var pid sql.NullString
		if err := rows.Scan(&r.RecordID, &pid, &r.OrgID, &r.Day, &r.Num); err != nil {
			return nil, err
		}
		r.PersonID = pid.String
		r.Class = class
		out = append(out, r)
	}
	return out, rows.Err()
}

func init() {
	// 1. Persons under a measure at the period's end, by kind and status.
	RegisterFigure(&FigureSpec{Key: "persons", Group: "persons", Kind: FigureCount, Rule: "R30", Subject: "person", Headline: true, Order: 10,
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			ps, err := tx.underAt(ctx, q, q.Period.To, isUnder)
			out := personRows(ps, q.Period.To, nil, func(p personAt) string { return p.Kind + "/" + string(p.Status) })
			for i := range out {
				out[i].Den = 0
			}
			return out, err
		}})
	// 2, 3. 报到率 and 执行率 (R1, R2, R5, R6): measures whose decision was
	// received in the period; reported on or before the deadline (day 15)
	// counts, day 16 does not. A measure still inside its 15 days and not
	// yet reported is not counted yet.
	reportRows := func(agreement bool) func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
		return func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			where, args := q.orgWhere("o.path")
			today := casework.DateOf(tx.now, q.Zone)
			rows, err := tx.Query(ctx, `SELECT m.id, m.person_id, m.place_org_id, m.received_date, m.report_deadline, m.report_date, m.agreement_date
				FROM measures m JOIN orgs o ON o.id = m.place_org_id WHERE `+where+` AND m.received_date >= ? AND m.received_date <= ?`,
				append(args, q.Period.From, q.Period.To)...)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var out []FigureRow
			for rows.Next() {
				var r FigureRow
				var deadline casework.Date
				var rep, agr sql.Null[casework.Date]
				if err := rows.Scan(&r.RecordID, &r.PersonID, &r.OrgID, &r.Day, &deadline, &rep, &agr); err != nil {
					return nil, err
				}
				if !rep.Valid && !deadline.Before(today) {
					continue // still inside the 15 days (R1)
				}
				r.Den = 1
				onTime := rep.Valid && !rep.V.After(deadline)
				if agreement {
					onTime = onTime && agr.Valid && !agr.V.After(deadline)
				}
				if onTime {
					r.Num = 1
				}
				out = append(out, r)
			}
			return out, rows.Err()
		}
	}
	RegisterFigure(&FigureSpec{Key: "report_rate", Group: "supervision", Kind: FigureRate, Rule: "R1, R2, R5", Subject: "measure", Headline: true, Order: 20,
		Rows: reportRows(false)})
	RegisterFigure(&FigureSpec{Key: "execution_rate", Group: "supervision", Kind: FigureRate, Rule: "R1, R5, R6", Subject: "measure", Headline: true, Order: 21,
		Rows: reportRows(true)})
	// 4. 注册率: persons executing or on leave with an active app device
	// at the period's end.
	RegisterFigure(&FigureSpec{Key: "registration_rate", Group: "supervision", Kind: FigureRate, Rule: "R34", Subject: "person", Headline: true, Order: 30,
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			ps, err := tx.underAt(ctx, q, q.Period.To, owesContact)
			if err != nil {
				return nil, err
			}
			cut := q.endCutoff()
			has, err := tx.inChunks(ctx, personIDs(ps), `SELECT person_id FROM devices WHERE person_id IN (@ids)
				AND activated_at < ? AND (retired_at IS NULL OR retired_at >= ?)`, cut, cut)
			return personRows(ps, q.Period.To, func(p personAt) bool { return has[p.ID] }, nil), err
		}})
	// 5. 每日签到率 = days done ÷ days due, with the duty of the check-in
	// code (casework.DutyDays, CheckinDueOn, ComputeDuty): executing and
	// not suspended, on leave still due, only with an active device; a day
	// is done by a check-in that counts, on its local date.
	RegisterFigure(&FigureSpec{Key: "checkin_rate", Group: "supervision", Kind: FigureRate, Rule: "R34", Settings: []string{"checkin.counts", "checkin.every_days"},
		Subject: "person", Headline: true, Order: 40, Rows: checkinRows})
	// 6. Positive tests in the period (R10).
	RegisterFigure(&FigureSpec{Key: "positives", Group: "supervision", Kind: FigureCount, Rule: "R10", Subject: "test", Headline: true, Order: 50,
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			return tx.positiveRows(ctx, q)
		}})
	// 7. 复吸率 = persons with a positive test in the period ÷ persons under
	// a measure at its end (and those with a positive who left since).
	RegisterFigure(&FigureSpec{Key: "relapse_rate", Group: "supervision", Kind: FigureRate, Rule: "R34", Subject: "person", Headline: true, Order: 51,
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			ps, err := tx.underAt(ctx, q, q.Period.To, reportedIn)
			if err != nil {
				return nil, err
			}
			pos, err := tx.positiveRows(ctx, q)
			if err != nil {
				return nil, err
			}
			positive := map[string]FigureRow{}
			for _, r := range pos {
				positive[r.PersonID] = r
			}
			out := personRows(ps, q.Period.To, func(p personAt) bool { _, ok := positive[p.PersonID()]; return ok }, nil)
			seen := map[string]bool{}
			for _, p := range ps {
				seen[p.ID] = true
			}
			for pid, r := range positive {
				if !seen[pid] {
					out = append(out, FigureRow{OrgID: r.OrgID, PersonID: pid, RecordID: pid, Day: r.Day, Num: 1, Den: 1})
				}
			}
			return out, nil
		}})
	// 8. 操守保持率 at 6, 12 and 36 months: of the measures released whose
	// N-month mark falls in the period, those with no relapse (R16) in
	// the N months after release.
	for i, months := range []int{6, 12, 36} {
		RegisterFigure(&FigureSpec{Key: "abstinence_" + itoa(months) + "m", Group: "supervision", Kind: FigureRate, Rule: "R16, R34", Subject: "measure",
			Headline: months == 12, Order: 52 + i, Rows: abstinenceRows(months)})
	}
	// 9. 戒断三年未复吸: persons whose three years without relapse after
	// release (R16) were complete on or before the period's end.
	RegisterFigure(&FigureSpec{Key: "no_relapse_3y", Group: "supervision", Kind: FigureCount, Rule: "R16", Subject: "measure", Headline: true, Order: 56,
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			where, args := q.orgWhere("o.path")
			return tx.recordRows(ctx, "", `SELECT m.id, m.person_id, m.place_org_id, m.no_relapse_on, 1 FROM measures m JOIN orgs o ON o.id = m.place_org_id
				WHERE `+where+` AND m.in_force = ? AND m.status = ? AND m.no_relapse_on IS NOT NULL AND m.no_relapse_on <= ?`,
				append(args, false, string(casework.StatusReleased), q.Period.To)...)
		}})
	// 10. 失联: persons executing or on leave at the period's end with no
	// done visit, counted check-in or test for more than N days (policy
	// report.lost_contact_days, default 30), counted from the report date
	// when there was none.
	RegisterFigure(&FigureSpec{Key: "lost_contact", Group: "supervision", Kind: FigureCount, Rule: "R9, R34", Settings: []string{"report.lost_contact_days"},
		Subject: "person", Headline: true, Order: 60, Rows: lostContactRows})
	// 11. 新增吸毒人员: persons whose first measure's decision was received
	// in the period, at that measure's place.
	RegisterFigure(&FigureSpec{Key: "new_persons", Group: "persons", Kind: FigureCount, Rule: "R34", Subject: "person", Headline: true, Order: 11,
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			where, args := q.orgWhere("o.path")
			return tx.recordRows(ctx, "", `SELECT m.person_id, m.person_id, m.place_org_id, m.received_date, 1 FROM measures m JOIN orgs o ON o.id = m.place_org_id
				WHERE `+where+` AND m.received_date >= ? AND m.received_date <= ?
				AND NOT EXISTS (SELECT 1 FROM measures e WHERE e.person_id = m.person_id AND (e.received_date < m.received_date
					OR (e.received_date = m.received_date AND e.id < m.id)))`, append(args, q.Period.From, q.Period.To)...)
		}})
	// 12. 就业率 = employed at the period's end ÷ persons under a measure
	// who can work (EmploymentOverview's formula, casework.EmploymentOn).
	RegisterFigure(&FigureSpec{Key: "employment_rate", Group: "care", Kind: FigureRate, Rule: "R34", Subject: "person", Headline: true, Order: 70,
		Rows: employmentRows})
	// 13. 低保 and other assistance approved and running at the period's end.
	RegisterFigure(&FigureSpec{Key: "assistance", Group: "care", Kind: FigureCount, Rule: "R34", Subject: "assistance", Headline: true, Order: 71,
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			where, args := q.orgWhere("o.path")
			rows, err := tx.Query(ctx, `SELECT a.id, a.person_id, a.org_id, a.decided_on, a.kind FROM assistance a JOIN orgs o ON o.id = a.org_id
				WHERE `+where+` AND a.status IN (?, ?) AND a.decided_on IS NOT NULL AND a.decided_on <= ? AND (a.ended_on IS NULL OR a.ended_on >= ?)`,
				append(args, "approved", "ended", q.Period.To, q.Period.To)...)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var out []FigureRow
			for rows.Next() {
				r := FigureRow{Num: 1}
				if err := rows.Scan(&r.RecordID, &r.PersonID, &r.OrgID, &r.Day, &r.Class); err != nil {
					return nil, err
				}
				out = append(out, r)
			}
			return out, rows.Err()
		}})
	// 14. Visits done in the period by kind (R27: home and phone counted apart).
	for i, kind := range []casework.VisitKind{casework.VisitHome, casework.VisitPhone, casework.VisitOffice} {
		RegisterFigure(&FigureSpec{Key: "visits_" + string(kind), Group: "outreach", Kind: FigureCount, Rule: "R27", Subject: "visit", Headline: true, Order: 80 + i,
			Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
				where, args := q.orgWhere("o.path")
				return tx.recordRows(ctx, "", `SELECT v.id, v.person_id, v.org_id, v.local_date, 1 FROM visits v JOIN orgs o ON o.id = v.org_id
					WHERE `+where+` AND v.kind = ? AND v.state = ? AND v.local_date >= ? AND v.local_date <= ?`,
					append(args, string(kind), string(casework.VisitDone), q.Period.From, q.Period.To)...)
			}})
	}
	// 15. Group sessions held, and the persons they reached (attendances).
	RegisterFigure(&FigureSpec{Key: "group_sessions", Group: "outreach", Kind: FigureCount, Subject: "session", Headline: true, Order: 90,
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			where, args := q.orgWhere("o.path")
			return tx.recordRows(ctx, "", `SELECT g.id, NULL, g.org_id, g.held_on, 1 FROM group_sessions g JOIN orgs o ON o.id = g.org_id
				WHERE `+where+` AND g.held_on >= ? AND g.held_on <= ?`, append(args, q.Period.From, q.Period.To)...)
		}})
	RegisterFigure(&FigureSpec{Key: "group_reach", Group: "outreach", Kind: FigureCount, Subject: "person", Order: 91,
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			where, args := q.orgWhere("o.path")
			return tx.recordRows(ctx, "", `SELECT g.id, a.person_id, g.org_id, g.held_on, 1 FROM group_sessions g JOIN orgs o ON o.id = g.org_id
				JOIN group_session_attendees a ON a.session_id = g.id
				WHERE `+where+` AND g.held_on >= ? AND g.held_on <= ?`, append(args, q.Period.From, q.Period.To)...)
		}})
	// 16. One-to-one sessions held (not the planned ones), scales given.
	RegisterFigure(&FigureSpec{Key: "counselling", Group: "outreach", Kind: FigureCount, Subject: "session", Headline: true, Order: 92,
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			where, args := q.orgWhere("o.path")
			return tx.recordRows(ctx, "", `SELECT c.id, c.person_id, c.org_id, c.held_on, 1 FROM counselling_sessions c JOIN orgs o ON o.id = c.org_id
				WHERE `+where+` AND c.planned = ? AND c.held_on >= ? AND c.held_on <= ?`, append(args, false, q.Period.From, q.Period.To)...)
		}})
	RegisterFigure(&FigureSpec{Key: "scales", Group: "outreach", Kind: FigureCount, Subject: "scale", Order: 93,
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			where, args := q.orgWhere("o.path")
			return tx.recordRows(ctx, "", `SELECT s.id, s.person_id, s.org_id, s.administered_on, 1 FROM scale_administrations s JOIN orgs o ON o.id = s.org_id
				WHERE `+where+` AND s.administered_on >= ? AND s.administered_on <= ?`, append(args, q.Period.From, q.Period.To)...)
		}})
	// 17. Prevention events (场次) and their reach (人次: the audience).
	RegisterFigure(&FigureSpec{Key: "prevention_events", Group: "outreach", Kind: FigureCount, Subject: "event", Headline: true, Order: 95,
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			where, args := q.orgWhere("o.path")
			return tx.recordRows(ctx, "", `SELECT e.id, NULL, e.org_id, e.held_on, 1 FROM prevention_events e JOIN orgs o ON o.id = e.org_id
				WHERE `+where+` AND e.held_on >= ? AND e.held_on <= ?`, append(args, q.Period.From, q.Period.To)...)
		}})
	RegisterFigure(&FigureSpec{Key: "prevention_reach", Group: "outreach", Kind: FigureCount, Subject: "event", Order: 96,
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			where, args := q.orgWhere("o.path")
			return tx.recordRows(ctx, "", `SELECT e.id, NULL, e.org_id, e.held_on, e.audience FROM prevention_events e JOIN orgs o ON o.id = e.org_id
				WHERE `+where+` AND e.held_on >= ? AND e.held_on <= ?`, append(args, q.Period.From, q.Period.To)...)
		}})
	// 18. Persons per worker (R33): persons under a measure at the period's
	// end ÷ active workers (专干) granted in the subtree; flagged above
	// report.caseload_max (default 30).
	RegisterFigure(&FigureSpec{Key: "caseload", Group: "staffing", Kind: FigureRatio, Rule: "R33", Settings: []string{"report.caseload_max"},
		Subject: "person", Headline: true, Order: 100,
		Flag: func(f *Figure, pol *casework.EffectivePolicy) bool {
			v, ok := f.Value()
			if f.Den == 0 {
				return f.Num > 0
			}
			return ok && v > float64(pol.Value("report.caseload_max").Int())
		},
		Rows: func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
			ps, err := tx.underAt(ctx, q, q.Period.To, isUnder)
			if err != nil {
				return nil, err
			}
			out := personRows(ps, q.Period.To, nil, nil)
			for i := range out {
				out[i].Den = 0
			}
			where, args := q.orgWhere("o.path")
			rows, err := tx.Query(ctx, `SELECT DISTINCT u.id, g.org_id FROM grants g JOIN users u ON u.id = g.user_id JOIN orgs o ON o.id = g.org_id
				WHERE `+where+` AND g.role = ? AND u.disabled = ?`, append(args, string(casework.RoleWorker), false)...)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			seen := map[string]bool{}
			for rows.Next() {
				var uid, oid string
				if err := rows.Scan(&uid, &oid); err != nil {
					return nil, err
				}
				if !seen[uid] {
					seen[uid] = true
					out = append(out, FigureRow{OrgID: oid, RecordID: uid, Day: q.Period.To, Den: 1, Class: "worker"})
				}
			}
			return out, rows.Err()
		}})
}

// PersonID names the person (for closures reading personAt).
func (p personAt) PersonID() string { return p.ID }

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// checkinRows: see figure 5.
func checkinRows(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
	ps, err := tx.personsAt(ctx, q, q.Period.To)
	if err != nil {
		return nil, err
	}
	ids := personIDs(ps)
	spans, err := tx.personSpansOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	apps, err := tx.appSpansOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	done := map[string]map[casework.Date]bool{}
	for part := range chunks(ids) {
		rows, err := tx.Query(ctx, `SELECT DISTINCT person_id, local_date FROM checkins WHERE person_id IN (`+qmarks(len(part))+`)
			AND local_date >= ? AND local_date <= ? AND counts = ?`, append(anys(part), q.Period.From, q.Period.To, true)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var pid string
			var d casework.Date
			if err := rows.Scan(&pid, &d); err != nil {
				rows.Close()
				return nil, err
			}
			if done[pid] == nil {
				done[pid] = map[casework.Date]bool{}
			}
			done[pid][d] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	// The check-in frequency (checkin.every_days, issue 13 §4): a day that
	// is not a check-in day is not in the denominator.
	cads, err := newCadenceSource(tx).cadencesOf(ctx, ids, spans, apps, q.Period.To)
	if err != nil {
		return nil, err
	}
	var out []FigureRow
	for _, p := range ps {
		var due []casework.Date
		for _, d := range casework.DutyDays(spans[p.ID], q.Period.From, q.Period.To) {
			if casework.CheckinDueOnCadence(true, apps[p.ID], cads[p.ID], d) {
				due = append(due, d)
			}
		}
		if len(due) == 0 {
			continue
		}
		d := casework.ComputeDuty(due, done[p.ID])
		out = append(out, FigureRow{OrgID: p.OrgID, PersonID: p.ID, RecordID: p.ID, Day: q.Period.To, Num: int64(d.Done), Den: int64(d.Due)})
	}
	return out, nil
}

// positiveRows returns one row per positive test in the period, at the
// test's org: the tests opened a case (R10) or a relapse (R16).
func (tx *Tx) positiveRows(ctx context.Context, q *FigureQuery) ([]FigureRow, error) {
	where, args := q.orgWhere("o.path")
	rows, err := tx.Query(ctx, `SELECT t.id, t.person_id, t.org_id, t.tested_on, t.result_enc FROM drug_tests t JOIN orgs o ON o.id = t.org_id
		WHERE `+where+` AND t.tested_on >= ? AND t.tested_on <= ?`, append(args, q.Period.From, q.Period.To)...)
	if err != nil {
		return nil, err
	}
	type raw struct {
		r   FigureRow
		enc string
	}
	var all []raw
	for rows.Next() {
		var x raw
		if err := rows.Scan(&x.r.RecordID, &x.r.PersonID, &x.r.OrgID, &x.r.Day, &x.enc); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []FigureRow
	for _, x := range all {
		plain, err := tx.db.vault.Open(x.enc, sealDrugCtx(x.r.RecordID))
		if err != nil {
			return nil, fmt.Errorf("drug test %s result: %w", x.r.RecordID, err)
		}
		var res drugResult
		if err := json.Unmarshal([]byte(plain), &res); err != nil {
			return nil, err
		}
		if res.Outcome == casework.OutcomePositive {
			x.r.Num = 1
			out = append(out, x.r)
		}
	}
	return out, nil
}

func abstinenceRows(months int) func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
	return func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
		// Released on day e, the mark is e + N months; it falls in the period
		// when e is in [From − N months, To − N months].
		from, to := q.Period.From.AddMonths(-months), q.Period.To.AddMonths(-months)
		where, args := q.orgWhere("o.path")
		rows, err := tx.Query(ctx, `SELECT m.id, m.person_id, m.place_org_id, m.ended_on FROM measures m JOIN orgs o ON o.id = m.place_org_id
			WHERE `+where+` AND m.in_force = ? AND m.ended_on IS NOT NULL AND m.ended_on >= ? AND m.ended_on <= ? AND m.status = ?`,
			append(args, false, from, to, string(casework.StatusReleased))...)
		if err != nil {
			return nil, err
		}
		var out []FigureRow
		for rows.Next() {
			r := FigureRow{Den: 1}
			if err := rows.Scan(&r.RecordID, &r.PersonID, &r.OrgID, &r.Day); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for i := range out {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM relapses WHERE measure_id = ? AND day >= ? AND day <= ?`,
				out[i].RecordID, out[i].Day, out[i].Day.AddMonths(months)).Scan(&n); err != nil {
				return nil, err
			}
			if n == 0 {
				out[i].Num = 1
			}
			out[i].Day = out[i].Day.AddMonths(months)
		}
		return out, nil
	}
}

func lostContactRows(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
	ps, err := tx.underAt(ctx, q, q.Period.To, owesContact)
	if err != nil {
		return nil, err
	}
	last := map[string]casework.Date{}
	seen := func(pid string, d casework.Date) {
		if d.After(last[pid]) {
			last[pid] = d
		}
	}
	ids := personIDs(ps)
	for _, src := range []struct {
		query string
		flag  any
	}{
		{`SELECT person_id, MAX(local_date) FROM checkins WHERE person_id IN (@ids) AND counts = ? AND local_date <= ? GROUP BY person_id`, true},
		{`SELECT person_id, MAX(local_date) FROM visits WHERE person_id IN (@ids) AND state = ? AND local_date <= ? GROUP BY person_id`, string(casework.VisitDone)},
		{`SELECT person_id, MAX(tested_on) FROM drug_tests WHERE person_id IN (@ids) AND forced >= ? AND tested_on <= ? GROUP BY person_id`, false},
		{`SELECT person_id, MAX(report_date) FROM measures WHERE person_id IN (@ids) AND in_force >= ? AND report_date <= ? GROUP BY person_id`, false},
	} {
		for part := range chunks(ids) {
			rows, err := tx.Query(ctx, replaceIn(src.query, len(part)), append(anys(part), src.flag, q.Period.To)...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var pid string
				var d sql.Null[casework.Date]
				if err := rows.Scan(&pid, &d); err != nil {
					rows.Close()
					return nil, err
				}
				if d.Valid {
					seen(pid, d.V)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	var out []FigureRow
	for _, p := range ps {
		pol, err := q.Policy(ctx, tx, p.OrgID)
		if err != nil {
			return nil, err
		}
		n := pol.Value("report.lost_contact_days").Int
		l, ok := last[p.ID]
		if ok && l.DaysUntil(q.Period.To) <= n() {
			continue
		}
		if !ok {
			continue // never reported: the report figures and R2 cover it
		}
		out = append(out, FigureRow{OrgID: p.OrgID, PersonID: p.ID, RecordID: p.ID, Day: l, Num: 1})
	}
	return out, nil
}

func employmentRows(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
	ps, err := tx.underAt(ctx, q, q.Period.To, reportedIn)
	if err != nil {
		return nil, err
	}
	on := q.Period.To
	byPerson := map[string][]Employment{}
	for part := range chunks(personIDs(ps)) {
		recs, err := tx.employment(ctx, `e.from_on <= ? AND (e.to_on IS NULL OR e.to_on >= ?) AND e.person_id IN (`+qmarks(len(part))+`)`,
			append([]any{on, on}, anys(part)...)...)
		if err != nil {
			return nil, err
		}
		for _, e := range recs {
			byPerson[e.PersonID] = append(byPerson[e.PersonID], e)
		}
	}
	var out []FigureRow
	for _, p := range ps {
		st, _ := statusOf(byPerson[p.ID], on)
		r := FigureRow{OrgID: p.OrgID, PersonID: p.ID, RecordID: p.ID, Day: on, Class: string(st)}
		if st.CanWork() {
			r.Den = 1
		}
		if st == casework.WorkEmployed {
			r.Num = 1
		}
		out = append(out, r)
	}
	return out, nil
}
