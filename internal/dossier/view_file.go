package dossier

// view_file.go: the parts of the whole file (issue 18 §7) beyond identity,
// measures and documents: drug tests, violations with their ladder steps,
// leave, the check-in summary by month; and who did what — the person's
// name where the person acted in the app, "the system" only for the
// system's own jobs.

import (
	"encoding/json"
	"fmt"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// TestRow is a drug test (R18–R21).
type TestRow struct{ Date, Kind, Sample, Result, By string }

// ViolationRow is a violation with the ladder steps taken on it (R29).
type ViolationRow struct {
	Date, Kind, State, Detail, By string
	Steps                         []StepRow
}

// StepRow is a ladder step.
type StepRow struct{ At, Step, Reason, By string }

// LeaveRow is a leave request (R8, R28).
type LeaveRow struct{ Kind, From, To, Days, State, Reason, Requested, Decided string }

// MonthRow is the check-in duty of a month.
type MonthRow struct {
	Month                             string
	Due, Done, Missed, OnLeave, NoApp int
}

// tr translates the first key the catalog has, or returns "".
func tr(lang string, keys ...string) string {
	cat := i18n.Keys(lang)
	for _, k := range keys {
		if _, ok := cat[k]; ok {
			return i18n.T(lang, k)
		}
	}
	return ""
}

// testSampleKeys and testOutcomeKeys name the catalog keys of a test's
// sample type and outcome (the test page's words).
var testSampleKeys = map[string]string{"urine": "test.sample_urine", "blood": "test.sample_blood", "saliva": "test.sample_saliva", "hair": "test.sample_hair"}

var testOutcomeKeys = map[string]string{
	casework.OutcomeNegative: "test.outcome_negative", casework.OutcomePositive: "test.outcome_positive",
	casework.OutcomeInvalid: "test.outcome_invalid", casework.OutcomeRefused: "test.outcome_refused",
}

// word is the catalog's word for a code, or the "other" word: a code is
// never printed.
func word(lang, key string) string {
	if w := tr(lang, key); w != "" {
		return w
	}
	return T(lang, "dossier.other")
}

func (b *builder) tests(d *store.Dossier) {
	for _, t := range d.Tests {
		kind := T(b.lang, "dossier.test_kind.regular")
		switch {
		case t.Forced:
			kind = T(b.lang, "dossier.test_kind.forced")
		case t.Remote:
			kind = T(b.lang, "dossier.test_kind.remote") + " · " + t.RemoteInstitution
		}
		result := word(b.lang, testOutcomeKeys[t.Outcome])
		if len(t.Positive) > 0 && t.Outcome == casework.OutcomePositive {
			result += paren(b.lang, strings.Join(t.Positive, lang2sep(b.lang)))
		}
		b.v.Tests = append(b.v.Tests, TestRow{Date: dateStr(t.TestedOn), Kind: kind, Sample: word(b.lang, testSampleKeys[t.Sample]),
			Result: result, By: b.staff(t.CreatedBy, t.CreatedByName)})
	}
}

func (b *builder) violations(d *store.Dossier) {
	for _, v := range d.Violations {
		date := dateStr(v.Day)
		if v.LastDay != v.Day && !v.LastDay.IsZero() {
			date += " – " + dateStr(v.LastDay)
		}
		row := ViolationRow{Date: date, Kind: v.Kind.Label(b.lang), State: v.State.Label(b.lang), Detail: v.Detail,
			By: b.staff(v.CreatedBy, "")}
		if v.Kind == casework.ViolationDeparture && v.Days > 0 {
			row.Kind += " · " + T(b.lang, "dossier.days", v.Days)
		}
		if v.StateReason != "" && v.StateReason != v.Detail {
			row.Detail = strings.TrimSpace(row.Detail + " " + v.StateReason)
		}
		for _, s := range v.Steps {
			reason := s.Reason
			if s.Recipient != "" {
				reason = T(b.lang, "dossier.step_to", s.Recipient) + " " + reason
			}
			row.Steps = append(row.Steps, StepRow{At: b.when(s.CreatedAt), Step: s.Step.Label(b.lang), Reason: reason, By: orDash(s.CreatedByName)})
		}
		b.v.Violations = append(b.v.Violations, row)
	}
}

func (b *builder) leaves(d *store.Dossier) {
	for _, l := range d.Leaves {
		by := b.v.Name // requested in the app by the person
		if l.Source != "app" {
			by = b.staff(l.CreatedBy, l.CreatedByName)
		}
		row := LeaveRow{Kind: l.Kind.Label(b.lang), From: dateStr(l.From), To: dateStr(l.To), Days: fmt.Sprint(l.Days),
			State: l.Effective.Label(b.lang), Reason: l.Reason, Requested: b.when(l.CreatedAt) + " · " + by}
		if l.State == casework.LeaveOverdue || l.OverdueDays > 0 {
			row.State += " · " + T(b.lang, "dossier.days", l.OverdueDays)
		}
		if !l.DecidedAt.IsZero() {
			row.Decided = b.when(l.DecidedAt) + " · " + b.staff(l.DecidedBy, l.DecidedByName)
			if l.DecisionReason != "" {
				row.Decided += " · " + l.DecisionReason
			}
		}
		if !l.ReturnedOn.IsZero() {
			row.State += " · " + T(b.lang, "dossier.returned_on", dateStr(l.ReturnedOn))
		}
		b.v.Leaves = append(b.v.Leaves, row)
	}
}

func (b *builder) checkins(d *store.Dossier) {
	for _, m := range d.Checkins {
		b.v.Checkins = append(b.v.Checkins, MonthRow{Month: m.Month, Due: m.Due, Done: m.Done, Missed: m.Missed, OnLeave: m.OnLeave, NoApp: m.NoApp})
	}
}

// staff names a staff member by id (or the name stored with the record);
// "" is a system job.
func (b *builder) staff(id, name string) string {
	if name != "" {
		return name
	}
	return b.user(id)
}

// personKinds are the timeline entries only the person makes (in the
// app): entries written before the person was named as their actor show
// the person too, not the system.
var personKinds = map[string]bool{"message.read": true, "leave.submitted": true, "leave.withdrawn": true,
	"leave.extension_requested": true, "leave.return_reported": true}

// byOf names who made a timeline entry.
func (b *builder) byOf(e store.TimelineEntry) string {
	if e.ActorID == "" {
		var data struct {
			Source string `json:"source"`
		}
		json.Unmarshal([]byte(e.Data), &data)
		if personKinds[e.Kind] || (e.Kind == "leave.requested" && data.Source == "app") {
			return b.v.Name
		}
	}
	return b.user(e.ActorID)
}

// reportInRow is the report-in (报到) of a measure registered with its
// report date (an import or a file opened after the person reported):
// the status history has no event for it, but the person reported.
func (b *builder) reportInRow(d *store.Dossier, m *store.Measure) (EventRow, bool) {
	if m.ReportDate.IsZero() {
		return EventRow{}, false
	}
	for _, e := range m.Events {
		if e.Action == casework.ActReportIn {
			return EventRow{}, false
		}
	}
	by := "—"
	for _, e := range d.Timeline {
		var data struct {
			DecisionNumber string `json:"decision_number"`
		}
		if e.Kind == "measure.created" && json.Unmarshal([]byte(e.Data), &data) == nil && data.DecisionNumber == m.DecisionNumber {
			by = b.user(e.ActorID)
		}
	}
	return EventRow{At: dateStr(m.ReportDate),
		What:   casework.ActReportIn.Label(b.lang) + colon(b.lang) + casework.StatusPendingReport.Label(b.lang) + " → " + casework.StatusExecuting.Label(b.lang),
		Detail: T(b.lang, "dossier.report_in_registered"), By: by}, true
}
