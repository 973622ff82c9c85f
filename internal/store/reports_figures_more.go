package store

// reports_figures_more.go: the figures of issue 12 §1 that read other
// parts' records through their own counting: 检测完成率 (R25, through
// measureCoverage, the count OrgTestCoverage and the schedule use), the
// resident survey's 满意率 and 知晓率 (the counting of surveys_figures.go,
// row by row), and the risk tiers with 定级率 (R31, the rule of
// GradingRate and tierAt).

import (
	"context"
	"strings"

	"kangfu/internal/casework"
)

// testIntervalSettings are the schedule's interval settings (R22, R23).
var testIntervalSettings = []string{"test.treatment.y1_months", "test.treatment.y2_months", "test.treatment.y3_months",
	"test.rehab.y1_months", "test.rehab.y2_months", "test.rehab.y3_months", "test.rehab_short.months"}

func init() {
	// 检测完成率 (R25, CARE.md E 尿检率): the scheduled-test intervals that
	// ended in the period, and of those the ones with a test recorded in
	// them; wholly suspended intervals are not owed (R13). One row per
	// measure that owed one, at its place of execution.
	RegisterFigure(&FigureSpec{Key: "test_completion", Group: "supervision", Kind: FigureRate, Rule: "R22, R23, R25",
		Settings: testIntervalSettings, Subject: "measure", Headline: true, Order: 45, Rows: testCompletionRows})
	// 满意率 and 知晓率 (CARE.md §4): one row per online answer and one per
	// imported third-party result, at its org.
	RegisterFigure(&FigureSpec{Key: "satisfaction_rate", Group: "outreach", Kind: FigureRate, Subject: "survey", Headline: true, Order: 97,
		Rows: surveyRows(false)})
	RegisterFigure(&FigureSpec{Key: "awareness_rate", Group: "outreach", Kind: FigureRate, Subject: "survey", Headline: true, Order: 98,
		Rows: surveyRows(true)})
	// Persons under measure at the period's end by current risk tier, and
	// 定级率: those with a confirmed tier in force over all of them (R31).
	RegisterFigure(&FigureSpec{Key: "risk_tiers", Group: "persons", Kind: FigureCount, Rule: "R31", Subject: "person", Order: 12,
		Rows: riskRows(false)})
	RegisterFigure(&FigureSpec{Key: "grading_rate", Group: "persons", Kind: FigureRate, Rule: "R31", Subject: "person", Headline: true, Order: 13,
		Rows: riskRows(true)})
}

// testCompletionRows counts the measures of persons placed in the subtree
// that ran during the period (in force, or ended in or after it): for an
// ended measure the intervals after its end are not owed. An interval is
// over once its last day has passed, so asOf is the day after the period
// and at most today (an interval ending today is still open).
func testCompletionRows(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
	where, args := q.orgWhere("o.path")
	asOf := q.Period.To.AddDays(1)
	if today := casework.DateOf(tx.now, q.Zone); asOf.After(today) {
		asOf = today
	}
	rows, err := tx.Query(ctx, `SELECT m.id, m.person_id, m.kind, m.report_date, m.term_end, m.term_months, m.place_org_id, m.ended_on FROM measures m
		JOIN orgs o ON o.id = m.place_org_id WHERE m.report_date IS NOT NULL AND m.term_end IS NOT NULL AND m.report_date <= ?
		AND (m.in_force = ? OR (m.ended_on IS NOT NULL AND m.ended_on >= ?)) AND `+where+` ORDER BY m.id`,
		append([]any{q.Period.To, true, q.Period.From}, args...)...)
	if err != nil {
		return nil, err
	}
	type item struct {
		m     *activeMeasure
		ended *casework.Date
	}
	var ms []item
	for rows.Next() {
		it := item{m: &activeMeasure{}}
		var kind string
		if err := rows.Scan(&it.m.id, &it.m.personID, &kind, &it.m.start, &it.m.end, &it.m.termMonths, &it.m.placeOrgID, &it.ended); err != nil {
			rows.Close()
			return nil, err
		}
		it.m.kind = casework.MeasureKind(kind)
		ms = append(ms, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	pp := newPlacePolicies(tx)
	var out []FigureRow
	for _, it := range ms {
		upTo := asOf
		if it.ended != nil && !it.ended.IsZero() && it.ended.AddDays(1).Before(upTo) {
			upTo = it.ended.AddDays(1)
		}
		c, ok, err := tx.measureCoverage(ctx, pp, it.m, q.Period.From, upTo)
		if err != nil {
			return nil, err
		}
		if !ok || c.Should == 0 {
			continue
		}
		out = append(out, FigureRow{OrgID: it.m.placeOrgID, PersonID: it.m.personID, RecordID: it.m.id, Day: q.Period.To,
			Num: int64(c.Done), Den: int64(c.Should)})
	}
	return out, nil
}

// surveyRows reads the online answers given in the period and the
// imported results whose period ends in it, as SurveyFigures counts them:
// satisfied = 满意 or 比较满意 over the answers other than 不清楚 (the five
// items of an answer together); awareness = knowledge answers right over
// knowledge items asked. Answers carry no person.
func surveyRows(awareness bool) func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
	return func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
		where, args := q.orgWhere("o.path")
		rows, err := tx.Query(ctx, `SELECT r.id, r.org_id, r.submitted_on, `+strings.Join(prefixed("r.", satColumns), ", ")+`, r.k_correct, r.k_items
			FROM survey_responses r JOIN orgs o ON o.id = r.org_id WHERE `+where+` AND r.submitted_on >= ? AND r.submitted_on <= ?`,
			append(args, q.Period.From, q.Period.To)...)
		if err != nil {
			return nil, err
		}
		var out []FigureRow
		for rows.Next() {
			r := FigureRow{Class: "survey:online"}
			s := make([]string, len(satColumns))
			var correct, items int64
			if err := rows.Scan(&r.RecordID, &r.OrgID, &r.Day, &s[0], &s[1], &s[2], &s[3], &s[4], &correct, &items); err != nil {
				rows.Close()
				return nil, err
			}
			if awareness {
				r.Num, r.Den = correct, items
			} else {
				for _, a := range s {
					switch casework.SatAnswer(a) {
					case casework.SatUnknown:
					case casework.SatSatisfied, casework.SatFairly:
						r.Num++
						r.Den++
					default:
						r.Den++
					}
				}
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		rows, err = tx.Query(ctx, `SELECT i.id, i.org_id, i.period_to, i.satisfied, i.valid, i.correct, i.respondents * i.knowledge_items
			FROM survey_imports i JOIN orgs o ON o.id = i.org_id WHERE `+where+` AND i.period_to >= ? AND i.period_to <= ?`,
			append(args, q.Period.From, q.Period.To)...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			r := FigureRow{Class: "survey:import"}
			var sat, valid, correct, asked int64
			if err := rows.Scan(&r.RecordID, &r.OrgID, &r.Day, &sat, &valid, &correct, &asked); err != nil {
				return nil, err
			}
			if awareness {
				r.Num, r.Den = correct, asked
			} else {
				r.Num, r.Den = sat, valid
			}
			out = append(out, r)
		}
		return out, rows.Err()
	}
}

func prefixed(p string, cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = p + c
	}
	return out
}

// riskRows: the persons under measure at the period's end as GradingRate
// counts them (executing, on leave, or transferred and not yet reported at
// the new place, with a report date: underMeasure), each with the tier in
// force on that day (tierAt: the latest confirmed or overridden decision
// effective by then). For risk_tiers the class is the tier ("none" for a
// person never graded); for grading_rate Num is 1 when graded.
func riskRows(rate bool) func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
	return func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error) {
		day := q.Period.To
		ps, err := tx.underAt(ctx, q, day, func(s casework.Status) bool {
			return s == casework.StatusExecuting || s == casework.StatusOnLeave || s == casework.StatusPendingReport
		})
		if err != nil {
			return nil, err
		}
		ids := personIDs(ps)
		reported, err := tx.inChunks(ctx, ids, `SELECT DISTINCT person_id FROM measures WHERE person_id IN (@ids) AND report_date IS NOT NULL AND report_date <= ?`, day)
		if err != nil {
			return nil, err
		}
		tiers := map[string]casework.Tier{}
		for part := range chunks(ids) {
			rs, err := tx.Query(ctx, `SELECT person_id, tier FROM risk_assessments WHERE person_id IN (`+qmarks(len(part))+`)
				AND state IN ('confirmed', 'overridden') AND effective_from <= ? ORDER BY person_id, effective_from, decided_at`, append(anys(part), day)...)
			if err != nil {
				return nil, err
			}
			for rs.Next() {
				var pid, t string
				if err := rs.Scan(&pid, &t); err != nil {
					rs.Close()
					return nil, err
				}
				tiers[pid] = casework.Tier(t) // the latest wins, as in tierAt
			}
			rs.Close()
			if err := rs.Err(); err != nil {
				return nil, err
			}
		}
		var out []FigureRow
		for _, p := range ps {
			if !reported[p.ID] {
				continue
			}
			t, graded := tiers[p.ID]
			r := FigureRow{OrgID: p.OrgID, PersonID: p.ID, RecordID: p.ID, Day: day, Class: "tier:none", Num: 1}
			if graded {
				r.Class = "tier:" + string(t)
			}
			if rate {
				r.Den, r.Num = 1, 0
				if graded {
					r.Num = 1
				}
			}
			out = append(out, r)
		}
		return out, nil
	}
}
