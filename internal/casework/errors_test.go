package casework

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestValidatorsReportEveryField (issue 18 item 9): the form inputs report
// all their bad fields at once, the first one's field on the error.
func TestValidatorsReportEveryField(t *testing.T) {
	fields := func(err error) map[string]bool {
		var fe FieldErrors
		if !errors.As(err, &fe) {
			t.Fatalf("not FieldErrors: %v", err)
		}
		m := map[string]bool{}
		for _, e := range fe {
			m[e.Field] = true
		}
		return m
	}
	today := Date{Year: 2026, Month: 3, Day: 12}
	now := time.Date(2026, 3, 12, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"person", func() error {
			in := PersonInput{Phone: "12", HealthNotes: string(make([]rune, 2001))}
			_, err := in.Validate(now)
			return err
		}(), []string{"name", "org_id", "id_number", "phone", "health_notes"}},
		{"user", (&UserInput{Username: "X!", Password: "short"}).Validate(), []string{"username", "org_id", "password"}},
		{"drug test", (&DrugTestInput{TestedOn: today.AddDays(1), Sample: "urine", Outcome: OutcomeNegative}).Validate(today),
			[]string{"tested_on", "place", "substances", "staff_ids"}},
		{"leave", func() error {
			_, err := (&LeaveInput{Province: "460000", City: "", From: today, To: today.AddDays(-2)}).Validate(today)
			return err
		}(), []string{"destination_city", "to", "reason"}},
		{"measure", (&MeasureInput{Kind: MeasureTreatment, ReceivedDate: today}).Validate(today),
			[]string{"decision_number", "decision_authority", "decision_date", "place_org_id"}},
		{"visit", (&VisitInput{Kind: VisitHome, State: VisitDone, At: now.Add(time.Hour), Notes: string(make([]rune, MaxVisitNotes+1))}).Validate(now),
			[]string{"at", "notes", "condition"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fields(tt.err)
			for _, f := range tt.want {
				if !got[f] {
					t.Errorf("no problem on %s; got %v", f, got)
				}
			}
			if ErrorField(tt.err) != tt.want[0] || ErrorCode(tt.err) != EINVALID {
				t.Errorf("first field %q code %q, want %q", ErrorField(tt.err), ErrorCode(tt.err), tt.want[0])
			}
		})
	}
}

// One problem keeps its own message; Add passes on an error that is not
// about the input.
func TestFieldErrorsAdd(t *testing.T) {
	var fe FieldErrors
	if err := fe.Add(errors.New("disk")); err == nil || len(fe) != 0 {
		t.Fatal("an internal error was taken as a field's")
	}
	fe.Add(Invalid("a", "甲", "A"))
	err := fe.Err()
	if ErrorMessage(err, "en") != "A" || ErrorField(err) != "a" {
		t.Errorf("one problem: %v", err)
	}
	var again FieldErrors
	again.Add(err)
	again.Add(Invalid("b", "乙", "B"))
	if len(again) != 2 || ErrorMessage(again.Err(), "zh") != "甲；乙" {
		t.Errorf("joined: %v", again.Err())
	}
}

// "1 try left", not "1 tries left" (issue 18 item 13).
func TestPINMessagesCountInEnglish(t *testing.T) {
	now := time.Date(2026, 3, 12, 2, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		err  *Error
		want string
	}{
		{ErrWrongPIN(1), "1 try left"}, {ErrWrongPIN(3), "3 tries left"}, {ErrWrongAppPIN(1), "1 try left"},
		{ErrPINLocked(now.Add(time.Minute), now), "in 1 minute;"}, {ErrAppPINLocked(now.Add(14*time.Minute), now), "in 14 minutes;"},
	} {
		if !strings.Contains(c.err.EN, c.want) {
			t.Errorf("%q lacks %q", c.err.EN, c.want)
		}
	}
}
