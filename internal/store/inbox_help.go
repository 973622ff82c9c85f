package store

// inbox_help.go: the task inbox's sources from the help work (issue 11 §4):
// help plans whose review is due, and methadone enrolments not yet
// reported to the police (R41). Both go to those who record help (workers
// for their caseload, leads for their subtree), judged on the local date of
// the person's place.

import (
	"context"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

// HelpReviewHorizonDays is how far ahead the inbox shows a plan's review.
const HelpReviewHorizonDays = 7

// helpReviewTasks: plans of persons under a measure whose next review is
// within HelpReviewHorizonDays; overdue once the review day has passed.
func helpReviewTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermWriteHelp) {
		return nil, nil
	}
	scope, args := personScope(actor, casework.PermWriteHelp)
	// Candidates by the latest date anywhere (UTC+14); each judged on its org's date.
	limit := casework.DateOf(tx.now, time.UTC).AddDays(1 + HelpReviewHorizonDays)
	q := `SELECT p.id, p.name, o.name, o.time_zone, h.next_review FROM help_plans h JOIN persons p ON p.id = h.person_id JOIN orgs o ON o.id = p.org_id
		WHERE h.next_review <= ? AND p.status IN ('executing', 'on_leave', 'suspended') AND ` + scope + ` ORDER BY h.next_review`
	return personTasks(ctx, tx, q, append([]any{limit}, args...), func(t *Task, tz string, d casework.Date) bool {
		local := tx.zoneToday(tz)
		if d.After(local.AddDays(HelpReviewHorizonDays)) {
			return false
		}
		t.Kind, t.Due, t.Link = "help_review", d, "/persons/"+t.PersonID+"/help"
		t.Overdue = d.Before(local)
		t.TitleZH = fmt.Sprintf("%s 的帮扶计划应于 %s 回顾", t.PersonName, d)
		t.TitleEN = fmt.Sprintf("%s: help plan review due %s", t.PersonName, d)
		return true
	})
}

// methadoneReportTasks: enrolments in methadone maintenance not yet
// reported to the police (R41: the enrolment must be reported). Due the day
// of enrolment, overdue the day after.
func methadoneReportTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermWriteHelp) {
		return nil, nil
	}
	scope, args := personScope(actor, casework.PermWriteHelp)
	q := `SELECT p.id, p.name, o.name, o.time_zone, a.decided_on FROM assistance a JOIN persons p ON p.id = a.person_id JOIN orgs o ON o.id = p.org_id
		WHERE a.kind = 'methadone' AND a.status = 'approved' AND a.police_reported_on IS NULL AND a.decided_on IS NOT NULL AND ` + scope + ` ORDER BY a.decided_on`
	return personTasks(ctx, tx, q, args, func(t *Task, tz string, d casework.Date) bool {
		t.Kind, t.Due, t.Rule, t.Link = "methadone_report", d, "R41", "/persons/"+t.PersonID+"/help#assistance"
		t.Overdue = d.Before(tx.zoneToday(tz))
		t.TitleZH = fmt.Sprintf("%s 已于 %s 参加美沙酮维持治疗，待报告公安机关（R41）", t.PersonName, d)
		t.TitleEN = fmt.Sprintf("%s joined methadone maintenance on %s: report it to the police (R41)", t.PersonName, d)
		return true
	})
}
