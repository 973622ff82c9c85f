package casework

import (
	"fmt"
	"slices"
)

// Status is the state of a measure in a person's file (R30; PRODUCT §2).
type Status string

// The statuses. The Hainan reference enum (DOMAIN §1.8) has no 待报到; we add
// it for the time between the decision and the report (R1, R2).
const (
	StatusPendingReport  Status = "pending_report"  // 待报到: decision received, not yet reported
	StatusExecuting      Status = "executing"       // 执行中
	StatusOnLeave        Status = "on_leave"        // 请假: away with a report/approval (R8)
	StatusSuspended      Status = "suspended"       // 中止: detained or arrested (R13)
	StatusReleased       Status = "released"        // 解除: term expired (R15)
	StatusTerminated     Status = "terminated"      // 终止: imprisonment, compulsory education, or 强戒 (R14)
	StatusTransferredOut Status = "transferred_out" // 变更执行地: moved to another place (R11)
	StatusDeceased       Status = "deceased"        // 死亡
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{
	StatusPendingReport, StatusExecuting, StatusOnLeave, StatusSuspended,
	StatusReleased, StatusTerminated, StatusTransferredOut, StatusDeceased,
}

var statusLabels = map[Status][2]string{
	StatusPendingReport:  {"待报到", "pending report"},
	StatusExecuting:      {"执行中", "executing"},
	StatusOnLeave:        {"请假", "on leave"},
	StatusSuspended:      {"中止", "suspended"},
	StatusReleased:       {"解除", "released"},
	StatusTerminated:     {"终止", "terminated"},
	StatusTransferredOut: {"变更执行地", "transferred out"},
	StatusDeceased:       {"死亡", "deceased"},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { _, ok := statusLabels[s]; return ok }

// Label returns the name of the status in the language ("zh" or "en"); an
// unknown status is returned as is.
func (s Status) Label(lang string) string { return label(statusLabels[s], string(s), lang) }

func label(l [2]string, raw, lang string) string {
	switch {
	case l[0] == "":
		return raw
	case lang == "en":
		return l[1]
	}
	return l[0]
}

// Final reports whether no action leads out of s: released, terminated and
// deceased. The measure is over.
func (s Status) Final() bool {
	return s == StatusReleased || s == StatusTerminated || s == StatusDeceased
}

// Archived reports whether a file in s is archived and so read-only at the
// place that holds it (R30; corrections go through an approval workflow with
// a reason, not through edits): the final statuses, and transferred_out,
// which is archived as far as the old place is concerned (Hainan status 5
// "auto-archives" the old file) while the measure itself goes on at the new
// place once accepted (ActTransferIn).
func (s Status) Archived() bool { return s.Final() || s == StatusTransferredOut }

// Active reports whether the measure is running at its place: executing, on
// leave or suspended (pending report has not started; the rest are
// archived).
func (s Status) Active() bool {
	return s == StatusExecuting || s == StatusOnLeave || s == StatusSuspended
}

// Action is a named change of status.
type Action string

// The actions.
const (
	ActReportIn    Action = "report_in"    // 报到: the person reports (R1, R3; after a transfer, R11)
	ActStartLeave  Action = "start_leave"  // 请假: leave begins (R8)
	ActEndLeave    Action = "end_leave"    // 销假: back from leave
	ActSuspend     Action = "suspend"      // 中止: detained or arrested (R13)
	ActResume      Action = "resume"       // 继续: released from detention, measure resumes (R13)
	ActRelease     Action = "release"      // 解除: term expired (R15)
	ActTerminate   Action = "terminate"    // 终止: imprisonment, compulsory education, or 强戒 decided (R14)
	ActTransferOut Action = "transfer_out" // 变更执行地: the old place hands the file on (R11)
	ActTransferIn  Action = "transfer_in"  // 接收: the new place accepts the file; the person must report there (R11)
	ActDecease     Action = "decease"      // 死亡: record a death
)

// Actions lists every action.
var Actions = []Action{
	ActReportIn, ActStartLeave, ActEndLeave, ActSuspend, ActResume,
	ActRelease, ActTerminate, ActTransferOut, ActTransferIn, ActDecease,
}

var actionLabels = map[Action][2]string{
	ActReportIn:    {"报到", "report in"},
	ActStartLeave:  {"请假", "start leave"},
	ActEndLeave:    {"销假", "end leave"},
	ActSuspend:     {"中止", "suspend"},
	ActResume:      {"继续执行", "resume"},
	ActRelease:     {"解除", "release"},
	ActTerminate:   {"终止", "terminate"},
	ActTransferOut: {"变更执行地（转出）", "transfer out"},
	ActTransferIn:  {"接收转入", "accept transfer"},
	ActDecease:     {"登记死亡", "record death"},
}

// Valid reports whether a is a known action.
func (a Action) Valid() bool { _, ok := actionLabels[a]; return ok }

// Label returns the name of the action in the language ("zh" or "en").
func (a Action) Label(lang string) string { return label(actionLabels[a], string(a), lang) }

// transitions is the status machine: for each action, the statuses it may
// be taken from and the one it leads to. Every pair not listed is refused.
//
//   - report_in: 待报到 → 执行中. After a transfer the person reports at the
//     new place the same way; the term is not restarted (R11: "连续计算"),
//     which is the caller's to keep (the first report date stays).
//   - start_leave / end_leave: 执行中 ⇄ 请假 (R8, R28).
//   - suspend: 执行中, 请假 or 待报到 → 中止 (R13; a person may be detained
//     while away, or before reporting in — then the non-report while
//     detained is no refusal, R2). resume (继续): 中止 → 执行中, or back to
//     待报到 for a person who had not reported for the current deadline
//     (ResumeStatus; the store decides, it knows the report dates); a
//     suspended file accepts nothing else but release, termination or death.
//   - release: 执行中, 请假, 中止 or 待报到 → 解除 (R15: automatic at expiry,
//     which can fall during leave, during a suspension when the clock
//     continues, TermPolicy, or while the person has not yet reported at a
//     new place after a transfer: the term runs from the first report, R3,
//     R11, and ends on its date whatever the status. A person who never
//     reported has no term end, so the store refuses the release).
//   - terminate: from any non-archived status → 终止 (R14; also the police
//     deciding 强戒 for refusal to report, R2, or a violation, R9/R10).
//   - transfer_out: 执行中 → 变更执行地 (R11; leave must be ended first, and
//     a person not yet reported is re-addressed by the police, not moved).
//   - transfer_in: 变更执行地 → 待报到 at the new place: the person must
//     report there within 15 days of the change (R11), then report_in.
//   - decease: from any non-archived status → 死亡.
var transitions = []struct {
	action Action
	from   []Status
	to     Status
}{
	{ActReportIn, []Status{StatusPendingReport}, StatusExecuting},
	{ActStartLeave, []Status{StatusExecuting}, StatusOnLeave},
	{ActEndLeave, []Status{StatusOnLeave}, StatusExecuting},
	{ActSuspend, []Status{StatusExecuting, StatusOnLeave, StatusPendingReport}, StatusSuspended},
	{ActResume, []Status{StatusSuspended}, StatusExecuting},
	{ActRelease, []Status{StatusExecuting, StatusOnLeave, StatusSuspended, StatusPendingReport}, StatusReleased},
	{ActTerminate, []Status{StatusPendingReport, StatusExecuting, StatusOnLeave, StatusSuspended}, StatusTerminated},
	{ActTransferOut, []Status{StatusExecuting}, StatusTransferredOut},
	{ActTransferIn, []Status{StatusTransferredOut}, StatusPendingReport},
	{ActDecease, []Status{StatusPendingReport, StatusExecuting, StatusOnLeave, StatusSuspended}, StatusDeceased},
}

// LeaveOnly reports whether the action belongs to the leave workflow alone
// (R28, issue 18 §1): 请假 begins when an approved leave's first day comes
// and ends with its return report (销假), never by hand — a status 请假
// without a leave has no destination, no dates and no approval, and an
// overdue return could never be flagged.
func (a Action) LeaveOnly() bool { return a == ActStartLeave || a == ActEndLeave }

// ErrLeaveOnly is the answer to a leave action asked for by hand.
func ErrLeaveOnly(a Action) *Error {
	if a == ActEndLeave {
		return &Error{Code: EINVALID, Field: "action",
			ZH: "销假须在该人员的请假记录中办理（报告返回、确认销假）（R28）",
			EN: "ending leave is done on the person's leave record (report the return, confirm it) (R28)"}
	}
	return &Error{Code: EINVALID, Field: "action",
		ZH: "“请假”状态只能由已批准的请假产生：请在“请假”中登记去向和日期，由领导审批，假期首日自动转为请假（R28）",
		EN: "the status \"on leave\" comes only from an approved leave: record the destination and dates under Leave and have a lead approve it; the status follows on the first day (R28)"}
}

// ActionTarget returns the status an action leads to ("" for an unknown
// action).
func ActionTarget(a Action) Status {
	for _, t := range transitions {
		if t.action == a {
			return t.to
		}
	}
	return ""
}

// AllowedActions returns the actions that may be taken from s, in the order
// of Actions (for the buttons a file shows).
func AllowedActions(s Status) []Action {
	var out []Action
	for _, t := range transitions {
		if slices.Contains(t.from, s) {
			out = append(out, t.action)
		}
	}
	return out
}

// Transition returns the status that action leads to from from. An unknown
// status or action is EINVALID (fields "status" and "action"); an action the
// machine does not allow from that status is ECONFLICT, with a message that
// names the current status, the action and the status it would lead to, in
// Chinese and English.
func Transition(from Status, action Action) (Status, error) {
	if !from.Valid() {
		return "", Invalid("status", "未知状态：%q", "unknown status %q", string(from))
	}
	if !action.Valid() {
		return "", Invalid("action", "未知操作：%q", "unknown action %q", string(action))
	}
	for _, t := range transitions {
		if t.action == action && slices.Contains(t.from, from) {
			return t.to, nil
		}
	}
	to := ActionTarget(action)
	e := &Error{
		Code: ECONFLICT,
		ZH: fmt.Sprintf("当前状态为“%s”，不能“%s”（不能从“%s”变为“%s”）",
			from.Label("zh"), action.Label("zh"), from.Label("zh"), to.Label("zh")),
		EN: fmt.Sprintf("cannot %s: the measure is %s, and cannot go from %s to %s",
			action.Label("en"), from.Label("en"), from.Label("en"), to.Label("en")),
	}
	if from.Archived() {
		e.ZH += "。该档案已归档，为只读"
		e.EN += "; the file is archived and read-only"
	}
	return "", e
}

// DeemedRefusal reports whether a measure counts as refused (R2): still
// pending report after the 15-day deadline from received (R1, R5). received
// is the date the report clock started: the decision's receipt, or, after a
// transfer, the date of the change of place (R11). The result flags the
// case for a report to the police; a "good reason" (正当理由) recorded with
// a documented reason overrides it, which is the caller's to check.
func DeemedRefusal(status Status, received, today Date) bool {
	if status != StatusPendingReport {
		return false
	}
	overdue, _ := ReportOverdue(received, today)
	return overdue
}

// ReleaseDue reports whether a measure in force has reached its end date on
// today and is due for automatic release (R15). A person awaiting report-in
// at a new place is released too (the term runs from the first report, R3,
// R11); one who never reported has no end date.
func ReleaseDue(status Status, termEnd, today Date) bool {
	return (status.Active() || status == StatusPendingReport) && !termEnd.IsZero() && !today.Before(termEnd)
}

// ResumeStatus is where a suspended measure goes on resume (R13): back to
// 执行中, or to 待报到 when the person had not yet reported for the current
// report deadline (detained before reporting in, or before reporting at a
// new place).
func ResumeStatus(reported bool) Status {
	if reported {
		return StatusExecuting
	}
	return StatusPendingReport
}

// NoRelapseDate returns the date on which a person released on releaseDate
// has been 3 years without relapse (戒断三年未复吸, R16), after which dynamic
// control is no longer applied. 29 February moves to 28 February as in
// Date.AddYears. The zero Date gives the zero Date.
func NoRelapseDate(releaseDate Date) Date { return releaseDate.AddYears(NoRelapseYears) }

// NoRelapseFrom is the day the three years of R16 count from: the release
// date, or the day of the latest relapse (a positive test or recorded drug
// use) on or after it. "戒断3年未复吸" (S1 Art 7) is three years of
// abstinence; a relapse ends the abstinence, so the years count again from
// the day of the relapse itself (the test day, or the day of the use), not
// from the day it was recorded. A relapse before release is the one the
// measure was for and changes nothing. Zero when never released.
func NoRelapseFrom(releaseDate, lastRelapse Date) Date {
	if releaseDate.IsZero() {
		return Date{}
	}
	if !lastRelapse.IsZero() && !lastRelapse.Before(releaseDate) {
		return lastRelapse
	}
	return releaseDate
}

// NoRelapseReached reports whether, on today, a person released on
// releaseDate counts as 3 years without relapse (R16): three years have
// passed since NoRelapseFrom (the anniversary itself counts; 29 February
// gives 28 February). lastRelapse is the date of the latest recorded
// relapse, zero for none. A zero releaseDate is never reached.
func NoRelapseReached(releaseDate, lastRelapse, today Date) bool {
	if releaseDate.IsZero() || today.IsZero() {
		return false
	}
	return !today.Before(NoRelapseDate(NoRelapseFrom(releaseDate, lastRelapse)))
}

// OverdueDays is how many days a pending report is past its deadline on
// today; the file then counts as a deemed refusal (R2). 0 when it is not.
func OverdueDays(status Status, deadline, today Date) int {
	if status != StatusPendingReport || deadline.IsZero() || today.IsZero() {
		return 0
	}
	return max(deadline.DaysUntil(today), 0)
}
