package casework

// seriouscase.go: a serious case (严重违反 R9, or relapse R10) reported to
// the police (R10: record the time and the recipient), and the police's
// acknowledgement and decision (S2 Art 38: the police may decide 强制隔离戒毒).
//
//	open ──report (worker/lead)──▶ reported ──acknowledge (police)──▶ acknowledged
//	     ──decide (police)──▶ decided ──close (worker/lead or police)──▶ closed
//
// A case stays on the worker's, lead's and police lists until closed.

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CaseState is where a serious case stands.
type CaseState string

// The states, in order.
const (
	CaseOpen         CaseState = "open"
	CaseReported     CaseState = "reported"
	CaseAcknowledged CaseState = "acknowledged"
	CaseDecided      CaseState = "decided"
	CaseClosed       CaseState = "closed"
)

// CaseStates lists every state in order.
var CaseStates = []CaseState{CaseOpen, CaseReported, CaseAcknowledged, CaseDecided, CaseClosed}

var caseStateLabels = map[CaseState][2]string{
	CaseOpen:         {"待报告", "to report"},
	CaseReported:     {"已报告公安", "reported"},
	CaseAcknowledged: {"公安已接收", "acknowledged"},
	CaseDecided:      {"公安已决定", "decided"},
	CaseClosed:       {"已结案", "closed"},
}

// Valid reports whether s is one of CaseStates.
func (s CaseState) Valid() bool { _, ok := caseStateLabels[s]; return ok }

// Label returns the state's name in the language.
func (s CaseState) Label(lang string) string { return label(caseStateLabels[s], string(s), lang) }

// CaseAction is a step of a serious case.
type CaseAction string

// The actions.
const (
	CaseReport      CaseAction = "report"
	CaseAcknowledge CaseAction = "acknowledge"
	CaseDecide      CaseAction = "decide"
	CaseClose       CaseAction = "close"
)

var caseActionLabels = map[CaseAction][2]string{
	CaseReport:      {"报告公安", "report to police"},
	CaseAcknowledge: {"确认接收", "acknowledge"},
	CaseDecide:      {"录入决定", "record decision"},
	CaseClose:       {"结案", "close"},
}

// Label returns the action's name in the language.
func (a CaseAction) Label(lang string) string { return label(caseActionLabels[a], string(a), lang) }

// caseFlow is the one transition of each action and who may take it.
var caseFlow = map[CaseAction]struct {
	from, to CaseState
	perms    []Perm
}{
	CaseReport:      {CaseOpen, CaseReported, []Perm{PermReportCase}},
	CaseAcknowledge: {CaseReported, CaseAcknowledged, []Perm{PermPoliceCase}},
	CaseDecide:      {CaseAcknowledged, CaseDecided, []Perm{PermPoliceCase}},
	CaseClose:       {CaseDecided, CaseClosed, []Perm{PermReportCase, PermPoliceCase}},
}

// Perms are the permissions any of which allows the action.
func (a CaseAction) Perms() []Perm { return caseFlow[a].perms }

// CaseActionsFrom lists the actions possible in the state.
func CaseActionsFrom(s CaseState) []CaseAction {
	var out []CaseAction
	for _, a := range []CaseAction{CaseReport, CaseAcknowledge, CaseDecide, CaseClose} {
		if caseFlow[a].from == s {
			out = append(out, a)
		}
	}
	return out
}

// NextCaseState returns the state after the action or says why not.
func NextCaseState(from CaseState, a CaseAction) (CaseState, error) {
	f, ok := caseFlow[a]
	if !ok {
		return from, Invalid("action", "未知的案件操作：%s", "unknown case action %s (report, acknowledge, decide, close)", string(a))
	}
	if f.from != from {
		return from, Msg(ECONFLICT, fmt.Sprintf("案件当前为“%s”，不能%s（须先为“%s”）", from.Label("zh"), a.Label("zh"), f.from.Label("zh")),
			fmt.Sprintf("the case is %s: it cannot be %s now (it must be %s first)", from.Label("en"), a.Label("en"), f.from.Label("en")))
	}
	return f.to, nil
}

// PoliceDecision is the police's decision on a serious case.
type PoliceDecision string

// The decisions.
const (
	DecisionCompulsory    PoliceDecision = "compulsory"     // 决定强制隔离戒毒 (S2 Art 38)
	DecisionNotCompulsory PoliceDecision = "not_compulsory" // 不予强制隔离戒毒，继续社区戒毒/康复
	DecisionOther         PoliceDecision = "other"          // 其他处理
)

// PoliceDecisions lists every decision.
var PoliceDecisions = []PoliceDecision{DecisionCompulsory, DecisionNotCompulsory, DecisionOther}

var decisionLabels = map[PoliceDecision][2]string{
	DecisionCompulsory:    {"决定强制隔离戒毒", "compulsory isolation decided"},
	DecisionNotCompulsory: {"不予强制隔离戒毒", "no compulsory isolation"},
	DecisionOther:         {"其他处理", "other"},
}

// Label returns the decision's name in the language.
func (d PoliceDecision) Label(lang string) string { return label(decisionLabels[d], string(d), lang) }

// CaseStep is a case action as submitted, with the fields it needs.
type CaseStep struct {
	Action       CaseAction
	Recipient    string         // report: the police unit or officer it went to (R10)
	SentAt       string         // report: RFC 3339 or "2006-01-02T15:04" local; empty: now
	Decision     PoliceDecision // decide
	DecisionDate Date           // decide
	Text         string         // acknowledge/decide/close: a note; decide and close: required
}

// Validate checks the fields the action needs, every one at once (issue
// 18 item 9).
func (in *CaseStep) Validate(today Date) error {
	in.Recipient, in.Text, in.SentAt = strings.TrimSpace(in.Recipient), strings.TrimSpace(in.Text), strings.TrimSpace(in.SentAt)
	var errs FieldErrors
	if utf8.RuneCountInString(in.Text) > 2000 {
		errs.Add(Invalid("text", "内容不能超过2000字", "the text must be at most 2000 characters"))
	}
	if utf8.RuneCountInString(in.Recipient) > 200 {
		errs.Add(Invalid("recipient", "接收单位或民警不能超过200字", "the recipient must be at most 200 characters"))
	}
	switch in.Action {
	case CaseReport:
		if in.Recipient == "" {
			errs.Add(Invalid("recipient", "请写明接收报告的公安机关或民警（R10）", "name the police unit or officer the report went to (R10)"))
		}
	case CaseDecide:
		if _, ok := decisionLabels[in.Decision]; !ok {
			errs.Add(Invalid("decision", "请选择公安机关的决定", "choose the police decision (compulsory, not_compulsory, other)"))
		}
		if in.DecisionDate.IsZero() || in.DecisionDate.After(today) {
			errs.Add(Invalid("decision_date", "请填写决定日期（不晚于今天）", "give the decision date (today or earlier)"))
		}
		if in.Text == "" {
			errs.Add(Invalid("text", "请填写决定内容或文号", "give the decision's text or number"))
		}
	case CaseClose:
		if in.Text == "" {
			errs.Add(Invalid("text", "请填写结案说明", "give a closing note"))
		}
	case CaseAcknowledge:
	default:
		errs.Add(Invalid("action", "未知的案件操作：%s", "unknown case action %s (report, acknowledge, decide, close)", string(in.Action)))
	}
	return errs.Err()
}
