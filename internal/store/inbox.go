package store

// inbox.go is the task inbox (PRODUCT §3, issue 5 §5): for each worker,
// lead and police user, what is due today and what is overdue, computed
// from the records and policy when asked (nothing is stored), each task
// linking to the form that completes it. Every source scopes by the
// actor's subtree for its permission, and a worker sees the files of its
// own caseload (and unassigned ones). Each source is one indexed query.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// Task is one thing to do.
type Task struct {
	Kind       string // report_in, agreement, leave_approval, leave_return, release, transfer
	PersonID   string
	PersonName string
	OrgName    string
	Due        casework.Date // the day it is due
	Overdue    bool          // the due day has passed
	Link       string        // the console page that completes it
	Rule       string        // the DOMAIN rule behind it, e.g. "R1"
	TitleZH    string
	TitleEN    string
}

// Title is the task's title in the language.
func (t *Task) Title(lang string) string {
	if lang == "en" {
		return t.TitleEN
	}
	return t.TitleZH
}

// TaskSource computes one kind of task for the actor. today is the local
// date in the default zone; a source that judges a date per person uses
// the zone of the person's org (zoneToday).
type TaskSource func(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error)

// taskSources are the inbox's sources. The test draws, violations and
// serious cases add theirs here, one line each.
var taskSources = []TaskSource{
	reportInTasks,
	agreementTasks,
	leaveApprovalTasks,
	leaveReturnTasks,
	releaseTasks,
	releaseNoticeTasks, // release_notice.go
	transferTasks,
	testDueTasks,          // inbox_tests.go
	missedTestTasks,       // inbox_tests.go
	missedCheckinTasks,    // inbox_tests.go
	violationReviewTasks,  // inbox_violations.go
	caseReportTasks,       // inbox_violations.go
	casePoliceTasks,       // inbox_violations.go
	item9Tasks,            // inbox_care.go
	policeReportTasks,     // inbox_rules.go (R10)
	groupTasks,            // inbox_rules.go (R7)
	helpReviewTasks,       // inbox_help.go
	methadoneReportTasks,  // inbox_help.go
	visitCadenceTasks,     // inbox_visits.go
	visitFollowUpTasks,    // inbox_visits.go
	riskTasks,             // risk_due.go
	breakGlassReviewTasks, // breakglass.go
	identityReviewTasks,   // face.go (issue 17, R32)
	spotCheckTasks,        // spotchecks.go (issue 17 §4)
}

// ReleaseHorizonDays is how far ahead the inbox shows term ends (R15): the
// release notice and the R16 tracking are prepared in that time.
const ReleaseHorizonDays = 30

// InboxLimit caps each source's tasks; the counts in the nav stay exact
// up to it.
const InboxLimit = 500

// Inbox lists the actor's tasks: overdue first, then by due date.
func (db *DB) Inbox(ctx context.Context, actor *casework.Actor) ([]Task, error) {
	var out []Task
	err := db.Read(ctx, func(tx *Tx) error {
		today := casework.DateOf(tx.now, nil)
		for _, src := range taskSources {
			ts, err := src(ctx, tx, actor, today)
			if err != nil {
				return err
			}
			out = append(out, ts...)
		}
		// R38: sources that scope by org alone drop sealed files here.
		var err error
		out, err = tx.dropSealedTasks(ctx, out)
		return err
	})
	slices.SortStableFunc(out, func(a, b Task) int {
		if a.Overdue != b.Overdue {
			if a.Overdue {
				return -1
			}
			return 1
		}
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.PersonName, b.PersonName)
	})
	return out, err
}

// InboxCounts returns how many tasks the actor has and how many are
// overdue (the console's navigation).
func (db *DB) InboxCounts(ctx context.Context, actor *casework.Actor) (total, overdue int, err error) {
	ts, err := db.Inbox(ctx, actor)
	for _, t := range ts {
		if t.Overdue {
			overdue++
		}
	}
	return len(ts), overdue, err
}

// zoneToday is the local date now in the zone named tz.
func (tx *Tx) zoneToday(tz string) casework.Date {
	return casework.DateOf(tx.now, casework.LoadLocation(tz))
}

// personScope returns the WHERE clause that limits persons p (joined to
// orgs o) to the actor's subtree for perm, and for a worker to its own
// caseload and unassigned files.
func personScope(actor *casework.Actor, perm casework.Perm) (string, []any) {
	clause, args := scopeClause("o.path", actor.Scope(perm))
	if actor.HasRole(casework.RoleWorker) && !actor.System {
		// A worker's grant is at its community; leads and police above it
		// see the whole subtree. A user holding both keeps the wider view.
		wide := false
		for _, g := range actor.Grants {
			if g.Role != casework.RoleWorker && casework.RoleHas(g.Role, perm) {
				wide = true
			}
		}
		if !wide {
			clause += ` AND (p.worker_id = ? OR p.worker_id IS NULL)`
			args = append(args, actor.UserID)
		}
	}
	return clause + ` AND ` + notSealed, args // R38: no task about a sealed file
}

// personTasks runs a query selecting p.id, p.name, o.name, o.time_zone and
// one date, and makes a task of each row with mk.
func personTasks(ctx context.Context, tx *Tx, q string, args []any, mk func(t *Task, tz string, d casework.Date) bool) ([]Task, error) {
	rows, err := tx.Query(ctx, q+fmt.Sprintf(" LIMIT %d", InboxLimit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		var t Task
		var tz string
		var d casework.Date
		if err := rows.Scan(&t.PersonID, &t.PersonName, &t.OrgName, &tz, &d); err != nil {
			return nil, err
		}
		if mk(&t, tz, d) {
			out = append(out, t)
		}
	}
	return out, rows.Err()
}

const taskFrom = ` FROM persons p JOIN orgs o ON o.id = p.org_id`

// reportInTasks: decisions received and not reported yet — report within
// 15 days (R1, R5); after the deadline it counts as refusal (R2) and the
// police must hear of it, so police see the overdue ones.
func reportInTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	scope, args := personScope(actor, casework.PermWritePersons)
	policeOnly := false
	if !actor.CanAnywhere(casework.PermWritePersons) {
		if !actor.CanAnywhere(casework.PermPoliceCase) {
			return nil, nil
		}
		scope, args = personScope(actor, casework.PermPoliceCase)
		policeOnly = true
	}
	q := `SELECT p.id, p.name, o.name, o.time_zone, p.report_deadline` + taskFrom +
		` WHERE p.status = 'pending_report' AND p.report_deadline IS NOT NULL AND ` + scope + ` ORDER BY p.report_deadline`
	return personTasks(ctx, tx, q, args, func(t *Task, tz string, d casework.Date) bool {
		t.Kind, t.Due, t.Rule, t.Link = "report_in", d, "R1", "/persons/"+t.PersonID
		t.Overdue = d.Before(tx.zoneToday(tz))
		if t.Overdue {
			t.Rule = "R2"
			t.TitleZH = fmt.Sprintf("%s 逾期未报到（期限 %s），视为拒绝接受（R2）", t.PersonName, d)
			t.TitleEN = fmt.Sprintf("%s did not report by %s: deemed refusal (R2)", t.PersonName, d)
		} else {
			t.TitleZH = fmt.Sprintf("%s 待报到，期限 %s（R1）", t.PersonName, d)
			t.TitleEN = fmt.Sprintf("%s to report in by %s (R1)", t.PersonName, d)
		}
		return t.Overdue || !policeOnly
	})
}

// agreementTasks: a measure being executed without a signed agreement
// (the agreement is signed at report-in, PRODUCT §2), and a measure handed
// to a new place, which signs its own (R11) — due at the report there, or
// at the new report deadline while it is awaited.
func agreementTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermWritePersons) {
		return nil, nil
	}
	scope, args := personScope(actor, casework.PermWritePersons)
	q := `SELECT p.id, p.name, o.name, o.time_zone, COALESCE(m.reported_on, m.report_deadline)` + taskFrom + ` JOIN measures m ON m.person_id = p.id AND m.in_force = ?
		WHERE m.status IN ('executing', 'on_leave', 'pending_report') AND m.agreement_date IS NULL AND m.report_date IS NOT NULL AND ` + scope + ` ORDER BY 5`
	return personTasks(ctx, tx, q, append([]any{true}, args...), func(t *Task, tz string, d casework.Date) bool {
		t.Kind, t.Due, t.Rule, t.Link = "agreement", d, "R6", "/persons/"+t.PersonID+"#measure"
		t.Overdue = d.Before(tx.zoneToday(tz))
		t.TitleZH = fmt.Sprintf("%s 的社区戒毒（康复）协议待签订（应于 %s 报到时签订）", t.PersonName, d)
		t.TitleEN = fmt.Sprintf("%s: agreement to sign (due at report-in, %s)", t.PersonName, d)
		return true
	})
}

// leaveApprovalTasks: requests waiting for a lead's decision (R28); overdue
// once the first day has come. A request still undecided on its first day
// is raised for review: by the law's reading (leave.approval_required off)
// the filed request is the written report R8 asks for, so the days away
// are not counted as unauthorised (R9) — the lead should decide it now;
// where approval is required, the days away count until it is approved.
func leaveApprovalTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermApproveLeave) {
		return nil, nil
	}
	scope, args := scopeClause("o.path", actor.Scope(casework.PermApproveLeave))
	q := `SELECT p.id, p.name, o.name, o.time_zone, l.from_date, l.id, l.state, p.org_id FROM leaves l JOIN persons p ON p.id = l.person_id JOIN orgs o ON o.id = p.org_id
		WHERE l.state IN ('pending', 'extension_requested') AND ` + scope + ` ORDER BY l.from_date LIMIT ` + fmt.Sprint(InboxLimit)
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []Task
	var begun []int // tasks of requests undecided on their first day
	var orgIDs []string
	for rows.Next() {
		t := Task{Kind: "leave_approval", Rule: "R28"}
		var tz, id, state, orgID string
		if err := rows.Scan(&t.PersonID, &t.PersonName, &t.OrgName, &tz, &t.Due, &id, &state, &orgID); err != nil {
			rows.Close()
			return nil, err
		}
		t.Link = "/leave/" + id
		t.Overdue = !t.Due.After(tx.zoneToday(tz))
		if state == string(casework.LeaveExtensionRequested) {
			t.TitleZH, t.TitleEN = fmt.Sprintf("%s 申请延期，待审批", t.PersonName), fmt.Sprintf("%s asks for an extension", t.PersonName)
		} else {
			t.TitleZH = fmt.Sprintf("%s 的请假申请待审批（%s 起）", t.PersonName, t.Due)
			t.TitleEN = fmt.Sprintf("%s: leave request to decide (from %s)", t.PersonName, t.Due)
			if t.Overdue {
				begun, orgIDs = append(begun, len(out)), append(orgIDs, orgID)
			}
		}
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	pp := newPlacePolicies(tx)
	for i, k := range begun {
		org, pol, err := pp.get(ctx, orgIDs[i])
		if err != nil {
			return nil, err
		}
		t := &out[k]
		if pol(tx.today(org)).Value("leave.approval_required").Bool() {
			t.TitleZH = fmt.Sprintf("%s 的请假申请（%s 起）已到开始日期仍未审批：本地规定须批准，离开期间计为擅自离开", t.PersonName, t.Due)
			t.TitleEN = fmt.Sprintf("%s: leave request from %s still undecided on its first day; local policy requires approval, so days away count as unauthorised", t.PersonName, t.Due)
		} else {
			t.TitleZH = fmt.Sprintf("%s 的请假申请（%s 起）已到开始日期仍未审批：已书面报告，不计擅自离开，请审查", t.PersonName, t.Due)
			t.TitleEN = fmt.Sprintf("%s: leave request from %s still undecided on its first day; the written report was made, so days away are not unauthorised — please review", t.PersonName, t.Due)
		}
	}
	return out, nil
}

// leaveReturnTasks: approved leaves whose end date has passed without a
// return report (销假, R28) — always overdue.
func leaveReturnTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermViewLeave) {
		return nil, nil
	}
	scope, args := personScope(actor, casework.PermViewLeave)
	// Candidates by the latest date anywhere (UTC+14); each judged on its org's date.
	limit := casework.DateOf(tx.now, time.UTC).AddDays(1)
	q := `SELECT p.id, p.name, o.name, o.time_zone, l.to_date FROM leaves l JOIN persons p ON p.id = l.person_id JOIN orgs o ON o.id = p.org_id
		WHERE l.state IN ('approved', 'extension_requested') AND l.to_date < ? AND ` + scope + ` ORDER BY l.to_date`
	return personTasks(ctx, tx, q, append([]any{limit}, args...), func(t *Task, tz string, d casework.Date) bool {
		today := tx.zoneToday(tz)
		if casework.LeaveOverdueDays(casework.LeaveApproved, d, today) == 0 {
			return false
		}
		t.Kind, t.Due, t.Overdue, t.Rule, t.Link = "leave_return", d, true, "R28", "/persons/"+t.PersonID+"/leave"
		t.TitleZH = fmt.Sprintf("%s 请假已于 %s 到期，未销假（逾期 %d 天）", t.PersonName, d, d.DaysUntil(today))
		n := d.DaysUntil(today)
		t.TitleEN = fmt.Sprintf("%s: leave ended %s, no return reported (%d %s)", t.PersonName, d, n, map[bool]string{true: "day", false: "days"}[n == 1])
		return true
	})
}

// releaseTasks: terms that end within ReleaseHorizonDays (R15); the
// release itself is automatic, the notice and the 3-year tracking (R16)
// are the worker's.
func releaseTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermWritePersons) {
		return nil, nil
	}
	scope, args := personScope(actor, casework.PermWritePersons)
	q := `SELECT p.id, p.name, o.name, o.time_zone, m.term_end` + taskFrom + ` JOIN measures m ON m.person_id = p.id AND m.in_force = ?
		WHERE m.term_end IS NOT NULL AND m.term_end <= ? AND m.status IN ('executing', 'on_leave', 'pending_report') AND ` + scope + ` ORDER BY m.term_end`
	return personTasks(ctx, tx, q, append([]any{true, today.AddDays(ReleaseHorizonDays)}, args...), func(t *Task, tz string, d casework.Date) bool {
		t.Kind, t.Due, t.Rule, t.Link = "release", d, "R15", "/persons/"+t.PersonID+"/documents"
		t.TitleZH = fmt.Sprintf("%s 将于 %s 期满解除，准备解除通知书", t.PersonName, d)
		t.TitleEN = fmt.Sprintf("%s: term ends %s, prepare the release notice", t.PersonName, d)
		return true
	})
}

// transferTasks: transfers waiting for the receiving office to accept or
// refuse (R11).
func transferTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermTransfer) {
		return nil, nil
	}
	scope, args := scopeClause("o.path", actor.Scope(casework.PermTransfer))
	q := `SELECT p.id, p.name, o.name, o.time_zone, t.requested_at FROM transfers t JOIN persons p ON p.id = t.person_id JOIN orgs o ON o.id = t.to_org_id
		WHERE t.state = 'pending' AND ` + scope + ` ORDER BY t.requested_at LIMIT ` + fmt.Sprint(InboxLimit)
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		t := Task{Kind: "transfer", Rule: "R11", Link: "/transfers"}
		var tz string
		var at time.Time
		if err := rows.Scan(&t.PersonID, &t.PersonName, &t.OrgName, &tz, &at); err != nil {
			return nil, err
		}
		t.Due = casework.DateOf(at, casework.LoadLocation(tz))
		t.Overdue = t.Due.Before(tx.zoneToday(tz))
		t.TitleZH = fmt.Sprintf("%s 变更执行地到本单位，待接收", t.PersonName)
		t.TitleEN = fmt.Sprintf("%s: transfer to your office to accept", t.PersonName)
		out = append(out, t)
	}
	return out, rows.Err()
}
