package casework

import (
	"testing"
	"time"
)

func vd(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// R27 cadence: calendar weeks run Monday to Sunday, months and quarters
// by the calendar, at the boundaries.
func TestVisitPeriodBoundsR27(t *testing.T) {
	tests := []struct {
		p        VisitPeriod
		day      string
		from, to string
	}{
		{PeriodWeek, "2026-03-01", "2026-02-23", "2026-03-01"}, // a Sunday ends its week
		{PeriodWeek, "2026-03-02", "2026-03-02", "2026-03-08"}, // a Monday starts one
		{PeriodWeek, "2026-12-31", "2026-12-28", "2027-01-03"}, // across the year end
		{PeriodMonth, "2026-01-31", "2026-01-01", "2026-01-31"},
		{PeriodMonth, "2026-02-01", "2026-02-01", "2026-02-28"},
		{PeriodMonth, "2028-02-29", "2028-02-01", "2028-02-29"},
		{PeriodQuarter, "2026-03-31", "2026-01-01", "2026-03-31"},
		{PeriodQuarter, "2026-04-01", "2026-04-01", "2026-06-30"},
	}
	for _, tt := range tests {
		from, to := tt.p.Bounds(vd(tt.day))
		if from != vd(tt.from) || to != vd(tt.to) {
			t.Errorf("%s %s: %s–%s, want %s–%s", tt.p, tt.day, from, to, tt.from, tt.to)
		}
	}
}

// R27 cadence: a contact in the current period is ok; none yet is due by
// the period's end; a whole period passed without one is overdue; the
// period the duty began in is never missed.
func TestVisitCadenceR27(t *testing.T) {
	var none Date
	tests := []struct {
		name             string
		p                VisitPeriod
		since, last, day string
		state, due       string
	}{
		{"week: done Monday, judged Sunday", PeriodWeek, "2026-01-05", "2026-03-02", "2026-03-08", "ok", "2026-03-08"},
		{"week: done last Sunday, judged Monday", PeriodWeek, "2026-01-05", "2026-03-01", "2026-03-02", "due", "2026-03-08"},
		{"week: done Saturday two weeks ago, judged Monday", PeriodWeek, "2026-01-05", "2026-02-21", "2026-03-02", "overdue", "2026-03-01"},
		{"week: done last Monday, judged this Monday", PeriodWeek, "2026-01-05", "2026-02-23", "2026-03-02", "due", "2026-03-08"},
		{"month: done Jan 31, judged Feb 1", PeriodMonth, "2025-12-01", "2026-01-31", "2026-02-01", "due", "2026-02-28"},
		{"month: done Dec 31, judged Feb 1", PeriodMonth, "2025-12-01", "2025-12-31", "2026-02-01", "overdue", "2026-01-31"},
		{"month: done Dec 31, judged Jan 31", PeriodMonth, "2025-12-01", "2025-12-31", "2026-01-31", "due", "2026-01-31"},
		{"month: reported mid-January, none, judged Jan 31", PeriodMonth, "2026-01-15", "", "2026-01-31", "due", "2026-01-31"},
		{"month: reported Jan 15, none, judged Feb 1", PeriodMonth, "2026-01-15", "", "2026-02-01", "overdue", "2026-01-31"},
		{"month: reported Feb 1, none, judged Feb 1", PeriodMonth, "2026-02-01", "", "2026-02-01", "due", "2026-02-28"},
		{"off", PeriodOff, "2026-01-05", "", "2026-03-02", "none", ""},
		{"before the duty", PeriodWeek, "2026-03-05", "", "2026-03-02", "none", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			last := none
			if tt.last != "" {
				last = vd(tt.last)
			}
			got := VisitCadence(tt.p, vd(tt.since), last, vd(tt.day))
			want := CadenceStatus{State: tt.state}
			if tt.due != "" {
				want.Due = vd(tt.due)
			}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestVisitInputValidate(t *testing.T) {
	now := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)
	ok := func() VisitInput {
		return VisitInput{Kind: VisitHome, At: now.Add(-time.Hour), Condition: "stable"}
	}
	tests := []struct {
		name  string
		edit  func(*VisitInput)
		field string
	}{
		{"ok", func(*VisitInput) {}, ""},
		{"bad kind", func(v *VisitInput) { v.Kind = "letter" }, "kind"},
		{"home visit cannot be an attempt", func(v *VisitInput) { v.State = VisitAttempt }, "state"},
		{"phone attempt needs no condition", func(v *VisitInput) { v.Kind, v.State, v.Condition = VisitPhone, VisitAttempt, "" }, ""},
		{"done needs a condition", func(v *VisitInput) { v.Condition = "" }, "condition"},
		{"future visit", func(v *VisitInput) { v.At = now.Add(time.Hour) }, "at"},
		{"planned in the past", func(v *VisitInput) { v.State, v.Condition = VisitPlanned, "" }, "at"},
		{"planned ahead", func(v *VisitInput) { v.State, v.At, v.Condition = VisitPlanned, now.Add(48*time.Hour), "" }, ""},
		{"phone face to face", func(v *VisitInput) { f := true; v.Kind, v.FaceToFace = VisitPhone, &f }, "face_to_face"},
		{"participant without name", func(v *VisitInput) { v.Participants = []Participant{{Role: "family"}} }, "participants"},
		{"follow-up without date", func(v *VisitInput) { v.FollowUps = []FollowUp{{Action: "联系就业"}} }, "follow_ups"},
		{"bad location", func(v *VisitInput) { v.Location = &Geo{Lat: 95, Lng: 110} }, "location"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := ok()
			tt.edit(&v)
			err := v.Validate(now)
			if ErrorField(err) != tt.field || (tt.field == "" && err != nil) {
				t.Errorf("got %v (field %q), want field %q", err, ErrorField(err), tt.field)
			}
		})
	}
	v := ok()
	_ = v.Validate(now)
	if v.FaceToFace == nil || !*v.FaceToFace {
		t.Error("a home visit is face to face by default")
	}
}
