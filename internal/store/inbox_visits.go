package store

// inbox_visits.go: the task inbox's visit sources (issue 11 §1, R27): who
// is due or overdue a home visit or a contact under the visit cadence of
// the place's policy, and which follow-up actions agreed at visits are due.
// For the workers and leads who record visits (a worker: its caseload).
// Each source is one query; the period is judged per row in the zone and
// policy of the place of execution.

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

// visitCadenceTasks: for each person executing (or on leave: phone
// contact only, the person is away) the home-visit and contact cadences.
// A contact not yet made this period shows when the period ends within
// casework.DueSoonDays; a whole period passed without one is overdue.
func visitCadenceTasks(ctx context.Context, tx *Tx, actor *casework.Actor, _ casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermWritePersons) {
		return nil, nil
	}
	scope, args := personScope(actor, casework.PermWritePersons)
	q := `SELECT p.id, p.name, o.name, p.org_id, p.status, m.report_date,
		(SELECT MAX(v.local_date) FROM visits v WHERE v.person_id = p.id AND v.state = 'done' AND v.kind = 'home'),
		(SELECT MAX(v.local_date) FROM visits v WHERE v.person_id = p.id AND v.state = 'done'),
		(SELECT ra.tier FROM risk_assessments ra WHERE ra.person_id = p.id AND ra.state IN ('confirmed', 'overridden') AND ra.effective_from <= ?
			ORDER BY ra.effective_from DESC, ra.decided_at DESC LIMIT 1)` + taskFrom +
		` JOIN measures m ON m.person_id = p.id AND m.in_force = ?
		WHERE p.status IN (?, ?) AND m.report_date IS NOT NULL AND ` + scope + ` ORDER BY p.name_key, p.id LIMIT ` + fmt.Sprint(InboxLimit)
	// The tier in force today (R31) sets the cadence, today taken in the
	// default zone (a decision takes effect at the start of a local day).
	rows, err := tx.Query(ctx, q, append([]any{casework.DateOf(tx.now, nil), true, string(casework.StatusExecuting), string(casework.StatusOnLeave)}, args...)...)
	if err != nil {
		return nil, err
	}
	type row struct {
		id, name, orgName, orgID, status string
		since                            casework.Date
		home, contact                    sql.Null[casework.Date]
		tier                             sql.NullString
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.name, &r.orgName, &r.orgID, &r.status, &r.since, &r.home, &r.contact, &r.tier); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	pp := newPlacePolicies(tx)
	var out []Task
	for _, r := range all {
		org, pol, err := pp.get(ctx, r.orgID)
		if err != nil {
			return nil, err
		}
		today := casework.DateOf(tx.now, org.Location())
		p := pol(today)
		for _, c := range []struct {
			cadence string
			last    sql.Null[casework.Date]
		}{{casework.CadenceHome, r.home}, {casework.CadenceContact, r.contact}} {
			if c.cadence == casework.CadenceHome && r.status != string(casework.StatusExecuting) {
				continue
			}
			var last casework.Date
			if c.last.Valid {
				last = c.last.V
			}
			st := casework.VisitCadence(casework.CadencePeriod(p, c.cadence, r.tier.String), r.since, last, today)
			if st.State != "due" && st.State != "overdue" || st.State == "due" && today.DaysUntil(st.Due) >= casework.DueSoonDays {
				continue
			}
			out = append(out, cadenceTask(r.id, r.name, r.orgName, c.cadence, st))
		}
	}
	return out, nil
}

func cadenceTask(id, name, orgName, cadence string, st casework.CadenceStatus) Task {
	t := Task{Kind: "visit_" + cadence, PersonID: id, PersonName: name, OrgName: orgName, Due: st.Due, Overdue: st.State == "overdue",
		Rule: "R27", Link: "/persons/" + id + "/visits/new"}
	what, whatEN, noEN := "联系（电访等）", "a contact (phone or other)", "contact (phone or other)"
	if cadence == casework.CadenceHome {
		what, whatEN, noEN, t.Link = "入户走访", "a home visit", "home visit", t.Link+"?kind=home"
	} else {
		t.Link += "?kind=phone"
	}
	if t.Overdue {
		t.TitleZH = fmt.Sprintf("%s 截至 %s 的周期内没有%s，已逾期", name, st.Due, what)
		t.TitleEN = fmt.Sprintf("%s: no %s in the period that ended %s (overdue)", name, noEN, st.Due)
	} else {
		t.TitleZH = fmt.Sprintf("%s 须在 %s 前完成本期%s", name, st.Due, what)
		t.TitleEN = fmt.Sprintf("%s: %s due by %s", name, whatEN, st.Due)
	}
	return t
}

// visitFollowUpTasks: follow-up actions agreed at visits, open and due
// within casework.DueSoonDays (or past due) in the place's zone.
func visitFollowUpTasks(ctx context.Context, tx *Tx, actor *casework.Actor, _ casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermWritePersons) {
		return nil, nil
	}
	scope, args := personScope(actor, casework.PermWritePersons)
	u := casework.DateOf(tx.now, time.UTC)
	q := `SELECT p.id, p.name, o.name, p.org_id, f.action, f.due FROM visit_followups f JOIN persons p ON p.id = f.person_id JOIN orgs o ON o.id = p.org_id
		WHERE f.done_at IS NULL AND f.due <= ? AND ` + scope + ` ORDER BY f.due, p.name_key LIMIT ` + fmt.Sprint(InboxLimit)
	rows, err := tx.Query(ctx, q, append([]any{u.AddDays(casework.DueSoonDays + 1)}, args...)...)
	if err != nil {
		return nil, err
	}
	type row struct {
		id, name, orgName, orgID, action string
		due                              casework.Date
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.name, &r.orgName, &r.orgID, &r.action, &r.due); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	pp := newPlacePolicies(tx)
	var out []Task
	for _, r := range all {
		org, _, err := pp.get(ctx, r.orgID)
		if err != nil {
			return nil, err
		}
		today := casework.DateOf(tx.now, org.Location())
		if today.DaysUntil(r.due) >= casework.DueSoonDays {
			continue
		}
		out = append(out, Task{Kind: "visit_followup", PersonID: r.id, PersonName: r.name, OrgName: r.orgName, Due: r.due, Overdue: r.due.Before(today),
			Rule: "R27", Link: "/persons/" + r.id + "/visits",
			TitleZH: fmt.Sprintf("%s 走访后续事项：%s（期限 %s）", r.name, r.action, r.due),
			TitleEN: fmt.Sprintf("%s: follow-up from a visit: %s (due %s)", r.name, r.action, r.due)})
	}
	return out, nil
}
