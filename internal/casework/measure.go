package casework

import (
	"strings"
	"unicode/utf8"
)

// MeasureKind is the kind of a measure (措施) a person is under.
type MeasureKind string

// The measure kinds.
const (
	MeasureTreatment MeasureKind = "community_treatment" // 社区戒毒 (禁毒法 Art 33; R1, R3)
	MeasureRehab     MeasureKind = "community_rehab"     // 社区康复 (禁毒法 Art 48; R4, R5)
)

// MeasureKinds lists the kinds.
var MeasureKinds = []MeasureKind{MeasureTreatment, MeasureRehab}

// Valid reports whether k is a known kind.
func (k MeasureKind) Valid() bool { return k == MeasureTreatment || k == MeasureRehab }

// Label returns the name of the kind in the language ("zh" or "en").
func (k MeasureKind) Label(lang string) string {
	zh, en := string(k), string(k)
	switch k {
	case MeasureTreatment:
		zh, en = "社区戒毒", "community drug treatment"
	case MeasureRehab:
		zh, en = "社区康复", "community rehabilitation"
	}
	if lang == "en" {
		return en
	}
	return zh
}

// The statutory numbers of the measure dates (all HIGH confidence in
// DOMAIN §9, so constants rather than per-jurisdiction policy).
const (
	// ReportDeadlineDays: a person must report within 15 days of receiving
	// the decision (R1, 社区戒毒; R5, 社区康复), and within 15 days of a
	// change of place of execution (R11).
	ReportDeadlineDays = 15
	// TreatmentTermYears: 社区戒毒 lasts 3 years from the report date (R3).
	TreatmentTermYears = 3
	// MaxRehabTermMonths: 社区康复 lasts at most 3 years, as decided (R4).
	MaxRehabTermMonths = 36
	// NoRelapseYears: 3 years without relapse after release ends dynamic
	// control (R16).
	NoRelapseYears = 3
	// ReleaseNoticeDays: at expiry the police notify the township within 7
	// days (R15), an SLA to track.
	ReleaseNoticeDays = 7
)

// ReportDeadline returns the last day on which a person who received the
// decision on received may report: received + 15 calendar days (R1, R5).
// The day of receipt is day 0, so a decision received on 1 March may be
// reported on up to 16 March. The zero Date gives the zero Date.
//
// The same rule serves a change of place (R11): pass the date of the change.
// Whether a deadline falling on a public holiday moves to the next working
// day is not stated by the regulation; it does not move here.
func ReportDeadline(received Date) Date { return received.AddDays(ReportDeadlineDays) }

// ReportOverdue reports whether, on today, the 15-day report deadline after
// received has passed (R1, R5), and by how many days. Day 15 after receipt
// is still on time; day 16 is 1 day late. A zero received or today is never
// overdue. Whether the person has already reported is for the caller (see
// DeemedRefusal).
func ReportOverdue(received, today Date) (overdue bool, daysOverdue int) {
	if received.IsZero() || today.IsZero() {
		return false, 0
	}
	late := ReportDeadline(received).DaysUntil(today)
	if late <= 0 {
		return false, 0
	}
	return true, late
}

// ReportLate reports whether the report-in due by deadline counts as a
// deemed refusal (R2), judged from the dates alone, whatever the status
// shows now: the person reported after the deadline, or has not reported
// and today is past it. Day 15 after receipt (the deadline) is on time, day
// 16 late. A zero deadline is never late; reportedOn is the date of the
// report-in for this deadline (zero while none).
func ReportLate(deadline, reportedOn, today Date) bool {
	if deadline.IsZero() {
		return false
	}
	if !reportedOn.IsZero() {
		return reportedOn.After(deadline)
	}
	return !today.IsZero() && today.After(deadline)
}

// SuspendedReportDeadline is the report deadline of a person released from
// detention (继续, R13) who had not reported by deadline when detained on
// since and is released on resumed. How the 15 days run during detention
// is UNCONFIRMED in law, so it follows the same policy as the term
// (term.suspension_clock): paused, the deadline moves later by the days
// detained; continuing, it stays — but a person cannot report while
// detained, so a deadline that fell during the detention becomes the day
// of release (the deemed refusal, R2, falls on the day after it, never on a
// day the person was held). A deadline already past when the detention
// began does not move: that refusal was complete before it.
func SuspendedReportDeadline(deadline, since, resumed Date, pause bool) Date {
	if deadline.IsZero() || deadline.Before(since) {
		return deadline
	}
	if pause {
		return deadline.AddDays(since.DaysUntil(resumed))
	}
	if deadline.Before(resumed) {
		return resumed
	}
	return deadline
}

// TermPolicy holds the jurisdiction's choices about terms that the law
// leaves open. The zero TermPolicy is the default.
type TermPolicy struct {
	// PauseClockOnSuspension: whether the term stops running while the
	// measure is suspended (中止, the person detained or arrested; R13). The
	// regulation (戒毒条例 Art 24) says the measure is suspended and resumes
	// after release, but not whether the suspended days count toward the
	// term: UNCONFIRMED. The default, false, lets the clock continue (the
	// end date does not move), matching the explicit "连续计算" rule for a
	// change of place (R11). With true, the end date moves later by the
	// number of suspended days.
	PauseClockOnSuspension bool
}

// TermEnd computes the end date of a measure under the default TermPolicy
// (the clock continues during suspension). See TermPolicy.TermEnd.
func TermEnd(kind MeasureKind, reportDate Date, termMonths, suspendedDays int) (Date, error) {
	return TermPolicy{}.TermEnd(kind, reportDate, termMonths, suspendedDays)
}

// TermEnd computes the end date (期满日) of a measure: the date on which it
// expires and is released (R15). The term runs from the report date, not
// the decision date:
//
//   - 社区戒毒: report date + 3 years (R3). termMonths must be 0 or 36.
//   - 社区康复: report date + termMonths months as decided, 1 to 36 (R4).
//
// Years and months are added as calendar years and months, with a day that
// does not exist in the end month moved back to that month's last day (a
// term reported on 2020-02-29 ends on 2023-02-28; see Date.AddYears). We
// read "3 years from the report date" as ending on the same calendar day 3
// years later; the regulation gives no finer rule.
//
// suspendedDays is the number of days the measure has spent suspended (中止,
// R13). It moves the end date only when PauseClockOnSuspension is set; it
// must not be negative either way.
func (p TermPolicy) TermEnd(kind MeasureKind, reportDate Date, termMonths, suspendedDays int) (Date, error) {
	if reportDate.IsZero() {
		return Date{}, Invalid("report_date", "尚未报到，无法计算期满日期（期限自报到之日起计算）",
			"the person has not reported yet; the term runs from the report date")
	}
	if !reportDate.Valid() {
		return Date{}, Invalid("report_date", "报到日期无效", "the report date is not a real date")
	}
	if suspendedDays < 0 {
		return Date{}, Invalid("suspended_days", "中止天数不能为负数", "suspended days cannot be negative")
	}
	var end Date
	switch kind {
	case MeasureTreatment:
		if termMonths != 0 && termMonths != 12*TreatmentTermYears {
			return Date{}, Invalid("term_months", "社区戒毒期限固定为3年，不能设为%d个月",
				"community drug treatment always lasts 3 years; it cannot be set to %d months", termMonths)
		}
		end = reportDate.AddYears(TreatmentTermYears)
	case MeasureRehab:
		if err := ValidateRehabTerm(termMonths); err != nil {
			return Date{}, err
		}
		end = reportDate.AddMonths(termMonths)
	default:
		return Date{}, Invalid("kind", "措施类型无效：%q（应为社区戒毒或社区康复）",
			"unknown measure kind %q (want community_treatment or community_rehab)", string(kind))
	}
	if p.PauseClockOnSuspension {
		end = end.AddDays(suspendedDays)
	}
	return end, nil
}

// ValidateRehabTerm checks the term of a 社区康复 decision: a whole number of
// months, more than 0 and at most 36 (R4; 24 and 36 are the usual values).
func ValidateRehabTerm(termMonths int) error {
	if termMonths <= 0 {
		return Invalid("term_months", "请填写社区康复期限（月），须大于0",
			"the community rehabilitation term (in months) is required and must be more than 0")
	}
	if termMonths > MaxRehabTermMonths {
		return Invalid("term_months", "社区康复期限不能超过3年（36个月），当前为%d个月",
			"community rehabilitation lasts at most 3 years (36 months); got %d months", termMonths)
	}
	return nil
}

// ReleaseNoticeDeadline returns the last day on which the police should
// notify the township of a release on end (R15: within 7 days).
func ReleaseNoticeDeadline(end Date) Date { return end.AddDays(ReleaseNoticeDays) }

// MeasureInput is what a user supplies to record a measure (措施) from the
// police decision (决定书).
type MeasureInput struct {
	Kind              MeasureKind
	DecisionNumber    string // 决定书文号, e.g. 公(…)社戒决字〔2021〕12号
	DecisionAuthority string // 决定机关, the police organ that decided
	DecisionDate      Date   // 决定日期
	ReceivedDate      Date   // 送达/收到日期: starts the 15-day report clock (R1, R5)
	PlaceOrgID        string // place of execution (执行地), an org node
	ReportDate        Date   // 报到日期; zero while not reported
	AgreementDate     Date   // 协议签订日期; zero while not signed (R6)
	TermMonths        int    // 社区康复: the decided term (R4); 社区戒毒: 0 or 36, set to 36
	WorkerID          string // responsible worker; optional
}

// Validate checks the input as of today (the calendar date in the org's
// zone; the zero Date is a programming error, EINTERNAL), trimming the text fields and setting TermMonths to 36 for 社区戒毒.
// Each fault is an EINVALID error on its own field:
//
//   - kind, decision_number, decision_authority, decision_date,
//     received_date and place_org_id are required;
//   - decision date ≤ received date ≤ today (the report clock cannot start
//     before the decision exists, nor in the future);
//   - report date, when given: not before the received date, not after
//     today. A report after the deadline is allowed (it is recorded, and
//     flagged by ReportOverdue/DeemedRefusal, R2);
//   - agreement date, when given: needs a report date, not before it, not
//     after today (R6: signed after reporting);
//   - term: see TermEnd (R3, R4).
func (in *MeasureInput) Validate(today Date) error {
	in.DecisionNumber = strings.TrimSpace(in.DecisionNumber)
	in.DecisionAuthority = strings.TrimSpace(in.DecisionAuthority)
	in.PlaceOrgID = strings.TrimSpace(in.PlaceOrgID)
	in.WorkerID = strings.TrimSpace(in.WorkerID)
	if today.IsZero() {
		return Errorf(EINTERNAL, "系统内部错误：校验措施时缺少当前日期", "internal error: MeasureInput.Validate needs today's date")
	}

	// Every block is checked, so a form shows all its problems at once
	// (issue 18 item 9); within a block the first problem is enough.
	var errs FieldErrors
	errs.Add(in.checkKind())
	errs.Add(in.checkDecision())
	errs.Add(in.checkAuthority())
	errs.Add(in.checkDates(today))
	if in.PlaceOrgID == "" {
		errs = append(errs, Invalid("place_org_id", "请选择执行地", "the place of execution is required"))
	}
	if in.Kind.Valid() {
		errs.Add(in.checkTerm())
	}
	return errs.Err()
}

func (in *MeasureInput) checkKind() error {
	if !in.Kind.Valid() {
		return Invalid("kind", "请选择措施类型：社区戒毒或社区康复（收到 %q）",
			"choose the kind of measure: community_treatment or community_rehab (got %q)", string(in.Kind))
	}
	return nil
}

func (in *MeasureInput) checkDecision() error {
	if in.DecisionNumber == "" {
		return Invalid("decision_number", "请填写决定书文号", "the decision number is required")
	}
	if utf8.RuneCountInString(in.DecisionNumber) > 100 {
		return Invalid("decision_number", "决定书文号不能超过100个字", "the decision number must be at most 100 characters")
	}
	return nil
}

func (in *MeasureInput) checkAuthority() error {
	if in.DecisionAuthority == "" {
		return Invalid("decision_authority", "请填写决定机关", "the deciding authority is required")
	}
	if utf8.RuneCountInString(in.DecisionAuthority) > 100 {
		return Invalid("decision_authority", "决定机关不能超过100个字", "the deciding authority must be at most 100 characters")
	}
	return nil
}

// checkDates checks each date on its own, so every bad date has its own
// message beside it (issue 18 item 9); a date compared with another one is
// not compared when that one is already at fault.
func (in *MeasureInput) checkDates(today Date) error {
	var errs FieldErrors
	for _, d := range []struct {
		field string
		date  Date
	}{
		{"decision_date", in.DecisionDate}, {"received_date", in.ReceivedDate},
		{"report_date", in.ReportDate}, {"agreement_date", in.AgreementDate},
	} {
		if !d.date.IsZero() && !d.date.Valid() {
			errs.Add(Invalid(d.field, "日期无效", "not a real date"))
		}
	}
	ok := func(field string) bool { return !errs.Has(field) }
	if ok("decision_date") {
		if in.DecisionDate.IsZero() {
			errs.Add(Invalid("decision_date", "请填写决定日期", "the decision date is required"))
		} else if in.DecisionDate.After(today) {
			errs.Add(Invalid("decision_date", "决定日期 %s 不能晚于今天（%s）",
				"the decision date %s cannot be after today (%s)", in.DecisionDate, today))
		}
	}
	if ok("received_date") {
		switch {
		case in.ReceivedDate.IsZero():
			errs.Add(Invalid("received_date", "请填写决定书送达（收到）日期，报到期限自该日起算",
				"the date the decision was received is required: the report deadline counts from it"))
		case ok("decision_date") && in.ReceivedDate.Before(in.DecisionDate):
			errs.Add(Invalid("received_date", "送达日期 %s 不能早于决定日期 %s",
				"the date received, %s, cannot be before the decision date, %s", in.ReceivedDate, in.DecisionDate))
		case in.ReceivedDate.After(today):
			errs.Add(Invalid("received_date", "送达日期 %s 不能晚于今天（%s）",
				"the date received, %s, cannot be after today (%s)", in.ReceivedDate, today))
		}
	}
	if ok("report_date") && !in.ReportDate.IsZero() {
		switch {
		case ok("received_date") && !in.ReceivedDate.IsZero() && in.ReportDate.Before(in.ReceivedDate):
			errs.Add(Invalid("report_date", "报到日期 %s 不能早于送达日期 %s",
				"the report date, %s, cannot be before the date received, %s", in.ReportDate, in.ReceivedDate))
		case in.ReportDate.After(today):
			errs.Add(Invalid("report_date", "报到日期 %s 不能晚于今天（%s）",
				"the report date, %s, cannot be after today (%s)", in.ReportDate, today))
		}
	}
	if ok("agreement_date") && !in.AgreementDate.IsZero() {
		switch {
		case in.ReportDate.IsZero():
			errs.Add(Invalid("agreement_date", "尚未报到，不能填写协议签订日期（协议在报到后签订）",
				"an agreement date needs a report date: the agreement is signed after reporting"))
		case ok("report_date") && in.AgreementDate.Before(in.ReportDate):
			errs.Add(Invalid("agreement_date", "协议签订日期 %s 不能早于报到日期 %s",
				"the agreement date, %s, cannot be before the report date, %s", in.AgreementDate, in.ReportDate))
		case in.AgreementDate.After(today):
			errs.Add(Invalid("agreement_date", "协议签订日期 %s 不能晚于今天（%s）",
				"the agreement date, %s, cannot be after today (%s)", in.AgreementDate, today))
		}
	}
	return errs.Err()
}

func (in *MeasureInput) checkTerm() error {
	switch in.Kind {
	case MeasureTreatment:
		if in.TermMonths != 0 && in.TermMonths != 12*TreatmentTermYears {
			return Invalid("term_months", "社区戒毒期限固定为3年，不能设为%d个月",
				"community drug treatment always lasts 3 years; it cannot be set to %d months", in.TermMonths)
		}
		in.TermMonths = 12 * TreatmentTermYears
	case MeasureRehab:
		if err := ValidateRehabTerm(in.TermMonths); err != nil {
			return err
		}
	}
	return nil
}

// ReportDeadline returns the input's report deadline (R1, R5).
func (in *MeasureInput) ReportDeadline() Date { return ReportDeadline(in.ReceivedDate) }
