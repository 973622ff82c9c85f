package casework

// violation.go: violations of the agreement, their review, the handling
// ladder and the serious-violation thresholds (issue 5 §4; DOMAIN §1.4,
// R1, R2, R8, R9, R10, R29). Pure rules: the store detects and records.
//
// A violation's state machine (R29, local practice):
//
//	open ──explain──▶ explained ──excuse──▶ excused   (final; not counted for R9)
//	  │                  └──────confirm──▶ confirmed (final)
//	  ├──excuse──▶ excused
//	  └──confirm──▶ confirmed
//
// Every step needs a reason; excusing needs a lead (PermDecideViolations).
// A late check-in for a day already judged missed explains that violation
// by itself (the store does it with the check-in's id as the reason).
//
// The ladder (R29): 劝诫 → 告诫 → 通报公安, per person and measure. A step
// is taken on a confirmed violation; a warning needs an exhortation before
// it; no step may be lower than the highest already taken; a police report
// (通报) may be made at any time, because R10 makes reporting a refusal, a
// positive test or drug use a duty that cannot wait for the ladder.

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ViolationKind is what was violated.
type ViolationKind string

// The kinds of violation.
const (
	ViolationMissedCheckin ViolationKind = "missed_checkin" // a due check-in day without any check-in
	ViolationMissedTest    ViolationKind = "missed_test"    // evasion: a drawn test day passed without a test (R9)
	ViolationRefusedTest   ViolationKind = "refused_test"   // a test refused (R9; R10: report to police)
	ViolationPositiveTest  ViolationKind = "positive_test"  // relapse shown by a test (R10: serious at once)
	ViolationDrugUse       ViolationKind = "drug_use"       // drug use recorded by staff (R10: serious at once)
	ViolationDeparture     ViolationKind = "departure"      // left the county without approved leave (R8, R9)
	ViolationOverdueReport ViolationKind = "overdue_report" // no report-in within 15 days (R1, R2: deemed refusal)
)

// ViolationKinds lists every kind.
var ViolationKinds = []ViolationKind{ViolationMissedCheckin, ViolationMissedTest, ViolationRefusedTest, ViolationPositiveTest,
	ViolationDrugUse, ViolationDeparture, ViolationOverdueReport}

var violationKindLabels = map[ViolationKind][2]string{
	ViolationMissedCheckin: {"未签到", "missed check-in"},
	ViolationMissedTest:    {"逃避检测（未按抽签检测）", "missed test (evasion)"},
	ViolationRefusedTest:   {"拒绝检测", "refused test"},
	ViolationPositiveTest:  {"检测阳性", "positive test"},
	ViolationDrugUse:       {"吸食毒品", "drug use"},
	ViolationDeparture:     {"擅自离开执行地县（区）", "unauthorised departure from the county"},
	ViolationOverdueReport: {"逾期未报到", "overdue report-in"},
}

// Valid reports whether k is a known kind.
func (k ViolationKind) Valid() bool { _, ok := violationKindLabels[k]; return ok }

// Label returns the kind's name in the language.
func (k ViolationKind) Label(lang string) string {
	return label(violationKindLabels[k], string(k), lang)
}

// CountsAsRefusal reports whether the kind counts toward the R9 threshold
// of evading or refusing tests.
func (k ViolationKind) CountsAsRefusal() bool {
	return k == ViolationRefusedTest || k == ViolationMissedTest
}

// NeedsPoliceReport reports whether R10 (or R2) makes a single violation
// of the kind a duty to report to the police: a refusal of a test and a
// deemed refusal of the measure. A single refusal is not a serious case
// (R9 needs three); it is a required 通报 step, which the ladder records.
// Positive tests and drug use open a serious case instead.
func (k ViolationKind) NeedsPoliceReport() bool {
	return k == ViolationRefusedTest || k == ViolationOverdueReport
}

// ViolationState is where a violation's review stands.
type ViolationState string

// The states.
const (
	ViolationOpen      ViolationState = "open"
	ViolationExplained ViolationState = "explained"
	ViolationExcused   ViolationState = "excused"
	ViolationConfirmed ViolationState = "confirmed"
)

// ViolationStates lists every state.
var ViolationStates = []ViolationState{ViolationOpen, ViolationExplained, ViolationExcused, ViolationConfirmed}

var violationStateLabels = map[ViolationState][2]string{
	ViolationOpen:      {"待处理", "open"},
	ViolationExplained: {"已说明", "explained"},
	ViolationExcused:   {"已免责", "excused"},
	ViolationConfirmed: {"已确认", "confirmed"},
}

// Valid reports whether s is a known state.
func (s ViolationState) Valid() bool { _, ok := violationStateLabels[s]; return ok }

// Label returns the state's name in the language.
func (s ViolationState) Label(lang string) string {
	return label(violationStateLabels[s], string(s), lang)
}

// Counted reports whether a violation in the state counts toward R9:
// everything but an excused one.
func (s ViolationState) Counted() bool { return s != ViolationExcused }

// ViolationAction is a review step.
type ViolationAction string

// The review actions.
const (
	ActExplain ViolationAction = "explain"
	ActExcuse  ViolationAction = "excuse"
	ActConfirm ViolationAction = "confirm"
)

// ViolationActions lists every action.
var ViolationActions = []ViolationAction{ActExplain, ActExcuse, ActConfirm}

var violationActionLabels = map[ViolationAction][2]string{
	ActExplain: {"记录说明", "record explanation"},
	ActExcuse:  {"免责", "excuse"},
	ActConfirm: {"确认违规", "confirm"},
}

// Label returns the action's name in the language.
func (a ViolationAction) Label(lang string) string {
	return label(violationActionLabels[a], string(a), lang)
}

// Perm is the permission the action needs: excusing is a lead's decision.
func (a ViolationAction) Perm() Perm {
	if a == ActExcuse {
		return PermDecideViolations
	}
	return PermReviewViolations
}

// NextViolationState returns the state after the action, or an error
// naming why the action is not possible now.
func NextViolationState(from ViolationState, a ViolationAction) (ViolationState, error) {
	var to ViolationState
	switch a {
	case ActExplain:
		to = ViolationExplained
	case ActExcuse:
		to = ViolationExcused
	case ActConfirm:
		to = ViolationConfirmed
	default:
		return from, Invalid("action", "未知的处理动作：%s", "unknown action %s (explain, excuse or confirm)", string(a))
	}
	switch from {
	case ViolationOpen:
		return to, nil
	case ViolationExplained:
		if a == ActExplain {
			return from, Errorf(ECONFLICT, "该违规已有说明；请免责或确认", "the violation is already explained: excuse or confirm it")
		}
		return to, nil
	case ViolationExcused, ViolationConfirmed:
		return from, Msg(ECONFLICT, fmt.Sprintf("该违规已%s，不能再%s", from.Label("zh"), a.Label("zh")),
			fmt.Sprintf("the violation is already %s: no %s now", from.Label("en"), a.Label("en")))
	}
	return from, Invalid("state", "未知的违规状态：%s", "unknown violation state %s", string(from))
}

// ViolationReview is a review step as submitted.
type ViolationReview struct {
	Action ViolationAction
	Reason string
}

// Validate checks that the action is known and the step has a reason
// (every step is justified, R29), both at once (issue 18 item 9).
func (in *ViolationReview) Validate() error {
	in.Reason = strings.TrimSpace(in.Reason)
	var errs FieldErrors
	if _, ok := violationActionLabels[in.Action]; !ok {
		errs.Add(Invalid("action", "请选择处理动作：记录说明、免责或确认违规", "choose an action: explain, excuse or confirm"))
	}
	if in.Reason == "" {
		errs.Add(Invalid("reason", "请填写理由（说明、免责和确认都须写明理由）", "a reason is required (explaining, excusing and confirming are always justified)"))
	} else if utf8.RuneCountInString(in.Reason) > 1000 {
		errs.Add(Invalid("reason", "理由不能超过1000字", "the reason must be at most 1000 characters"))
	}
	return errs.Err()
}

// LadderStep is a rung of the handling ladder (R29).
type LadderStep string

// The ladder, lowest first.
const (
	StepExhort LadderStep = "exhort" // 劝诫
	StepWarn   LadderStep = "warn"   // 告诫
	StepPolice LadderStep = "police" // 通报公安
)

// LadderSteps lists the rungs, lowest first.
var LadderSteps = []LadderStep{StepExhort, StepWarn, StepPolice}

var ladderLabels = map[LadderStep][2]string{
	StepExhort: {"劝诫", "exhortation"},
	StepWarn:   {"告诫", "warning"},
	StepPolice: {"通报公安机关", "report to police"},
}

// Label returns the step's name in the language.
func (s LadderStep) Label(lang string) string { return label(ladderLabels[s], string(s), lang) }

// Rank is the step's height on the ladder (1…3), 0 for an unknown step.
func (s LadderStep) Rank() int {
	for i, x := range LadderSteps {
		if x == s {
			return i + 1
		}
	}
	return 0
}

// DocumentKind is the document kind the step's generated notice is filed
// under (store.DocumentKinds).
func (s LadderStep) DocumentKind() string {
	switch s {
	case StepExhort:
		return "exhortation"
	case StepWarn:
		return "warning"
	}
	return "violation_report"
}

// AllowedSteps returns the steps that may be taken now, given the highest
// step already taken for the person's measure ("" for none).
func AllowedSteps(highest LadderStep) []LadderStep {
	var out []LadderStep
	for _, s := range LadderSteps {
		if CheckLadderStep(highest, s) == nil {
			out = append(out, s)
		}
	}
	return out
}

// CheckLadderStep says whether step may follow the highest step taken.
func CheckLadderStep(highest, step LadderStep) error {
	switch {
	case step.Rank() == 0:
		return Invalid("step", "未知的处理步骤：%s", "unknown step %s (exhort, warn or police)", string(step))
	case step == StepPolice:
		return nil // R10: reporting to the police never waits for the ladder
	case step.Rank() < highest.Rank():
		return Msg(ECONFLICT, fmt.Sprintf("已作出%s，不能再降为%s（R29）", highest.Label("zh"), step.Label("zh")),
			fmt.Sprintf("a %s was already given: the ladder does not go back to a %s (R29)", highest.Label("en"), step.Label("en")))
	case step == StepWarn && highest.Rank() < StepExhort.Rank():
		return Errorf(ECONFLICT, "告诫之前须先劝诫（R29：劝诫 → 告诫 → 通报公安）", "a warning needs an exhortation first (R29: exhortation → warning → police)")
	}
	return nil
}

// LadderInput is a ladder step as submitted.
type LadderInput struct {
	Step      LadderStep
	Reason    string
	Recipient string // police unit or officer, for StepPolice (R10: record the recipient)
}

// Validate checks the step's fields, every one at once (issue 18 item 9).
func (in *LadderInput) Validate() error {
	in.Reason, in.Recipient = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Recipient)
	var errs FieldErrors
	if in.Step.Rank() == 0 {
		errs.Add(Invalid("step", "请选择处理步骤（劝诫、告诫或通报公安）", "choose a step: exhort, warn or police"))
	}
	if in.Reason == "" {
		errs.Add(Invalid("reason", "请填写理由", "a reason is required"))
	} else if utf8.RuneCountInString(in.Reason) > 1000 {
		errs.Add(Invalid("reason", "理由不能超过1000字", "the reason must be at most 1000 characters"))
	}
	if in.Step == StepPolice && in.Recipient == "" {
		errs.Add(Invalid("recipient", "通报公安须写明接收单位或民警（R10）", "a report to the police names the receiving unit or officer (R10)"))
	}
	return errs.Err()
}
