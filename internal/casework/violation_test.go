package casework

import (
	"slices"
	"testing"
)

// The review state machine (R29): every transition and every refusal.
func TestViolationStateMachine(t *testing.T) {
	tests := []struct {
		from ViolationState
		act  ViolationAction
		to   ViolationState
		ok   bool
	}{
		{ViolationOpen, ActExplain, ViolationExplained, true},
		{ViolationOpen, ActExcuse, ViolationExcused, true},
		{ViolationOpen, ActConfirm, ViolationConfirmed, true},
		{ViolationExplained, ActExcuse, ViolationExcused, true},
		{ViolationExplained, ActConfirm, ViolationConfirmed, true},
		{ViolationExplained, ActExplain, ViolationExplained, false},
		{ViolationExcused, ActConfirm, ViolationExcused, false},
		{ViolationExcused, ActExplain, ViolationExcused, false},
		{ViolationConfirmed, ActExcuse, ViolationConfirmed, false},
		{ViolationOpen, "burn", ViolationOpen, false},
	}
	for _, tc := range tests {
		got, err := NextViolationState(tc.from, tc.act)
		if (err == nil) != tc.ok || got != tc.to {
			t.Errorf("%s --%s--> %s, %v; want %s ok=%v", tc.from, tc.act, got, err, tc.to, tc.ok)
		}
		if err != nil && (ErrorMessage(err, "zh") == "" || ErrorMessage(err, "en") == ErrorMessage(err, "zh")) {
			t.Errorf("%s/%s: want separate zh and en messages, got %q", tc.from, tc.act, err)
		}
	}
	if !ViolationExplained.Counted() || ViolationExcused.Counted() {
		t.Error("excused ones must not count, explained ones must")
	}
	if ActExcuse.Perm() != PermDecideViolations || ActConfirm.Perm() != PermReviewViolations {
		t.Error("excusing is a lead's decision")
	}
	in := ViolationReview{Action: ActExcuse, Reason: "  "}
	if err := in.Validate(); ErrorField(err) != "reason" {
		t.Errorf("a review without a reason: %v", err)
	}
}

// The ladder (R29): exhortation before warning, never back down, a police
// report at any time (R10).
func TestLadder(t *testing.T) {
	tests := []struct {
		highest, step LadderStep
		ok            bool
	}{
		{"", StepExhort, true},
		{"", StepWarn, false},
		{"", StepPolice, true},
		{StepExhort, StepExhort, true},
		{StepExhort, StepWarn, true},
		{StepWarn, StepExhort, false},
		{StepWarn, StepWarn, true},
		{StepPolice, StepWarn, false},
		{StepPolice, StepPolice, true},
		{"", "scold", false},
	}
	for _, tc := range tests {
		if err := CheckLadderStep(tc.highest, tc.step); (err == nil) != tc.ok {
			t.Errorf("after %q, %q: %v, want ok=%v", tc.highest, tc.step, err, tc.ok)
		}
	}
	if got := AllowedSteps(""); !slices.Equal(got, []LadderStep{StepExhort, StepPolice}) {
		t.Errorf("first steps %v", got)
	}
	if got := AllowedSteps(StepWarn); !slices.Equal(got, []LadderStep{StepWarn, StepPolice}) {
		t.Errorf("after a warning %v", got)
	}
	in := LadderInput{Step: StepPolice, Reason: "拒绝检测"}
	if err := in.Validate(); ErrorField(err) != "recipient" {
		t.Errorf("a police report without recipient: %v", err)
	}
	if StepExhort.DocumentKind() != "exhortation" || StepPolice.DocumentKind() != "violation_report" {
		t.Error("document kinds")
	}
}

func days(start Date, n int, f func(i int, d *DayFacts)) []DayFacts {
	out := make([]DayFacts, n)
	for i := range out {
		out[i] = DayFacts{Date: start.AddDays(i), Duty: true, Inside: true}
		if f != nil {
			f(i, &out[i])
		}
	}
	return out
}

type tripTotals struct{ departures, absence int }

func walk(fs []DayFacts, threshold int) tripTotals {
	var tr Trip
	var tot tripTotals
	for _, f := range fs {
		switch tr.Step(f, threshold) {
		case TripDeparted:
			tot.departures++
			tot.absence += tr.Days
		case TripContinued:
			tot.absence++
		}
	}
	return tot
}

func away(d *DayFacts) { d.Inside, d.Outside = false, true }

// Departures (R8, R9): counted once per trip, only from the leave
// threshold, across approved leave and days without check-in.
func TestTripCounting(t *testing.T) {
	start := MustParseDate("2025-03-01")
	tests := []struct {
		name string
		fs   []DayFacts
		want tripTotals
	}{
		{"two days away: below the 3-day threshold (R8)", days(start, 10, func(i int, d *DayFacts) {
			if i == 2 || i == 3 {
				away(d)
			}
		}), tripTotals{0, 0}},
		{"three days away: one departure, 3 days", days(start, 10, func(i int, d *DayFacts) {
			if i >= 2 && i <= 4 {
				away(d)
			}
		}), tripTotals{1, 3}},
		{"31 days in one trip: one departure", days(start, 40, func(i int, d *DayFacts) {
			if i >= 1 && i <= 31 {
				away(d)
			}
		}), tripTotals{1, 31}},
		{"two trips", days(start, 20, func(i int, d *DayFacts) {
			if (i >= 1 && i <= 3) || (i >= 10 && i <= 14) {
				away(d)
			}
		}), tripTotals{2, 8}},
		{"approved leave in between: still one trip, leave days not counted", days(start, 20, func(i int, d *DayFacts) {
			switch {
			case i >= 1 && i <= 2:
				away(d)
			case i >= 3 && i <= 6:
				away(d)
				d.Leave = true
			case i >= 7 && i <= 8:
				away(d)
			}
		}), tripTotals{1, 4}},
		{"short away, leave, home: the trip lasted past the threshold", days(start, 10, func(i int, d *DayFacts) {
			switch {
			case i == 1:
				away(d)
			case i >= 2 && i <= 4:
				away(d)
				d.Leave = true
			}
		}), tripTotals{1, 1}},
		{"R9: a day without check-in inside a trip is a day absent", days(start, 10, func(i int, d *DayFacts) {
			switch {
			case i == 1 || i == 3:
				away(d)
			case i == 2:
				d.Inside = false
			}
		}), tripTotals{1, 3}},
		{"R9: away every third day from day 1 to day 61, no home between: 61 days", days(start, 70, func(i int, d *DayFacts) {
			switch {
			case i >= 1 && i <= 61 && (i-1)%3 == 0:
				away(d)
			case i >= 1 && i <= 62:
				d.Inside = false // no check-in (day 62 too: last seen away)
			}
		}), tripTotals{1, 62}},
		{"R9: the trip ends the day before evidence of home", days(start, 10, func(i int, d *DayFacts) {
			switch {
			case i == 1:
				away(d)
			case i >= 2 && i <= 4:
				d.Inside = false
			}
		}), tripTotals{1, 4}},
		{"R8: no check-in and no away evidence is not a trip", days(start, 10, func(i int, d *DayFacts) {
			if i >= 1 && i <= 5 {
				d.Inside = false
			}
		}), tripTotals{0, 0}},
		{"R9: days without check-in inside leave are not counted", days(start, 12, func(i int, d *DayFacts) {
			switch {
			case i == 1:
				away(d)
			case i >= 2 && i <= 6:
				d.Inside, d.Leave = false, true
			case i == 7:
				away(d)
			}
		}), tripTotals{1, 2}},
		{"overdue leave return counts as away", days(start, 12, func(i int, d *DayFacts) {
			switch {
			case i >= 1 && i <= 4:
				away(d)
				d.Leave = true
			case i >= 5 && i <= 7:
				d.Inside = false
				d.Overdue = true
			}
		}), tripTotals{1, 3}},
		{"suspension ends a trip", days(start, 10, func(i int, d *DayFacts) {
			switch {
			case i == 1 || i == 3:
				away(d)
			case i == 2:
				d.Inside, d.Duty = false, false
			}
		}), tripTotals{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := walk(tc.fs, 3); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// R9 at its boundaries.
func TestR9Thresholds(t *testing.T) {
	tests := []struct {
		c    R9Counts
		want []CaseTrigger
	}{
		{R9Counts{Refusals: 2}, nil},
		{R9Counts{Refusals: 3}, []CaseTrigger{TriggerRefusals}},
		{R9Counts{Departures: 2, AbsenceDays: 30}, nil},
		{R9Counts{Departures: 3}, []CaseTrigger{TriggerDepartures}},
		{R9Counts{AbsenceDays: 31}, []CaseTrigger{TriggerAbsence}},
		{R9Counts{Refusals: 4, Departures: 3, AbsenceDays: 40}, []CaseTrigger{TriggerRefusals, TriggerDepartures, TriggerAbsence}},
	}
	for _, tc := range tests {
		if got := tc.c.Serious(LawThresholds); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.c, got, tc.want)
		}
	}
	if got := (R9Counts{Refusals: 1}).Serious(Thresholds{Refusals: 1}); len(got) != 1 {
		t.Error("a stricter jurisdiction acts on the first refusal")
	}
}

// The serious case's flow and its fields.
func TestSeriousCaseFlow(t *testing.T) {
	s := CaseOpen
	for _, a := range []CaseAction{CaseReport, CaseAcknowledge, CaseDecide, CaseClose} {
		next, err := NextCaseState(s, a)
		if err != nil {
			t.Fatalf("%s from %s: %v", a, s, err)
		}
		s = next
	}
	if s != CaseClosed {
		t.Fatalf("ended %s", s)
	}
	if _, err := NextCaseState(CaseOpen, CaseDecide); !IsCode(err, ECONFLICT) {
		t.Errorf("deciding an unreported case: %v", err)
	}
	today := MustParseDate("2025-06-01")
	for _, tc := range []struct {
		in    CaseStep
		field string
	}{
		{CaseStep{Action: CaseReport}, "recipient"},
		{CaseStep{Action: CaseDecide, Decision: "jail", DecisionDate: today, Text: "x"}, "decision"},
		{CaseStep{Action: CaseDecide, Decision: DecisionCompulsory, DecisionDate: today.AddDays(1), Text: "x"}, "decision_date"},
		{CaseStep{Action: CaseClose}, "text"},
		{CaseStep{Action: CaseDecide, Decision: DecisionCompulsory, DecisionDate: today, Text: "三公（禁）决字〔2025〕12号"}, ""},
	} {
		if err := tc.in.Validate(today); ErrorField(err) != tc.field {
			t.Errorf("%+v: %v, want field %q", tc.in, err, tc.field)
		}
	}
	if !slices.Contains(CaseClose.Perms(), PermPoliceCase) || slices.Contains(CaseReport.Perms(), PermPoliceCase) {
		t.Error("perms")
	}
}
