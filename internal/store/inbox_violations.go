package store

import (
	"context"
	"fmt"

	"kangfu/internal/casework"
)

// Inbox sources of the violation work (issue 5 §4–5): violations waiting to
// be reviewed, serious cases to report to the police, and for the police the
// cases reported to them and not yet decided. Counts only what the actor may
// act on (the permission of the action, over its subtree).

// ViolationReviewDays is the inbox's target for reviewing a detected
// violation (explain, excuse or confirm): a working convention, not law;
// after it the task shows as overdue.
const ViolationReviewDays = 3

func violationReviewTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermReviewViolations) {
		return nil, nil
	}
	where, args := scopeClause("o.path", actor.Scope(casework.PermReviewViolations))
	rows, err := tx.Query(ctx, `SELECT v.id, v.person_id, p.name, o.name, v.kind, v.day`+violationFrom+`
		WHERE `+where+` AND v.state IN ('open', 'explained') ORDER BY v.day, v.id LIMIT `+fmt.Sprint(InboxLimit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		var id, pid, name, org, kind string
		var day casework.Date
		if err := rows.Scan(&id, &pid, &name, &org, &kind, &day); err != nil {
			return nil, err
		}
		k := casework.ViolationKind(kind)
		due := day.AddDays(ViolationReviewDays)
		out = append(out, Task{Kind: "violation_review", PersonID: pid, PersonName: name, OrgName: org, Due: due, Overdue: due.Before(today),
			Rule: "R29", Link: "/violations/" + id,
			TitleZH: fmt.Sprintf("%s %s：%s，待核实处理", name, day, k.Label("zh")),
			TitleEN: fmt.Sprintf("%s, %s: %s — to review", name, day, k.Label("en"))})
	}
	return out, rows.Err()
}

// caseTasks lists serious cases in the given states that the actor may act
// on with perm. A case still to be reported is due the day it opened (R10:
// report at once) and overdue the day after.
func caseTasks(perm casework.Perm, states []string, kind, zh, en string) TaskSource {
	return func(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
		if !actor.CanAnywhere(perm) {
			return nil, nil
		}
		where, args := scopeClause("o.path", actor.Scope(perm))
		in := ""
		for i, s := range states {
			if i > 0 {
				in += ", "
			}
			in += "?"
			args = append(args, s)
		}
		rows, err := tx.Query(ctx, `SELECT c.id, c.person_id, p.name, o.name, c.trigger_kind, c.opened_on, c.statutory`+caseFrom+`
			WHERE `+where+` AND c.state IN (`+in+`) ORDER BY c.opened_on, c.id LIMIT `+fmt.Sprint(InboxLimit), args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []Task
		for rows.Next() {
			var id, pid, name, org, trig string
			var opened casework.Date
			var statutory bool
			if err := rows.Scan(&id, &pid, &name, &org, &trig, &opened, &statutory); err != nil {
				return nil, err
			}
			tr := casework.CaseTrigger(trig)
			out = append(out, Task{Kind: kind, PersonID: pid, PersonName: name, OrgName: org, Due: opened,
				Overdue: kind == "case_report" && opened.Before(today), Rule: "R10", Link: "/cases/" + id,
				TitleZH: fmt.Sprintf("%s：%s（%s）", name, zh, tr.CaseLabel(statutory, "zh")),
				TitleEN: fmt.Sprintf("%s: %s (%s)", name, en, tr.CaseLabel(statutory, "en"))})
		}
		return out, rows.Err()
	}
}

var (
	caseReportTasks = caseTasks(casework.PermReportCase, []string{string(casework.CaseOpen)}, "case_report",
		"严重违规案件待报告公安机关", "serious case to report to the police")
	casePoliceTasks = caseTasks(casework.PermPoliceCase, []string{string(casework.CaseReported), string(casework.CaseAcknowledged)}, "case_police",
		"严重违规案件待公安机关签收、决定", "serious case to acknowledge and decide")
)
