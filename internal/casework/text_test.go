package casework

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// Issue 15 §7: names and free text refused with a field error.
func TestValidNameAndCleanText(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"张三", true}, {"阿卜杜·买买提", true}, {"  李四 ", true}, {"Mary Ann", true},
		{"", false}, {"\u200b", false}, {"\u200b\u200c\u200d", false}, {"\ufeff", false}, {"\u0007", false},
		{"张\u202e三", false}, {"张\u2066三", false}, {"张\n三", false}, {"...", false}, {"\u3164", false},
		{strings.Repeat("张", 51), false},
	} {
		_, err := ValidName("name", tt.in, 50)
		if (err == nil) != tt.ok || (err != nil && ErrorField(err) != "name") {
			t.Errorf("ValidName(%q) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"走访前核对\n第二行", true}, {"原因\t说明", true},
		{"核对\u202e", false}, {"\u0000", false}, {strings.Repeat("查", MaxReason+1), false}, {strings.Repeat("查", MaxReason), true},
	} {
		_, err := CleanText("reason", tt.in, MaxReason)
		if (err == nil) != tt.ok || (err != nil && ErrorField(err) != "reason") {
			t.Errorf("CleanText(%.20q) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}

// Issue 15 §7: check-in time, coordinates and accuracy at their edges.
func TestCheckinInputEdges(t *testing.T) {
	now := time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC)
	base := func() CheckinInput {
		return CheckinInput{ID: "0b0e8f4c-5d7a-4c8e-9f00-1a2b3c4d5e6f", TakenAt: now.Format(time.RFC3339), Lat: 18.25, Lng: 109.5, AccuracyM: 20}
	}
	tests := []struct {
		name  string
		edit  func(*CheckinInput)
		field string
	}{
		{"ok", func(*CheckinInput) {}, ""},
		{"1970", func(c *CheckinInput) { c.TakenAt = "1970-01-01T00:00:00Z" }, "taken_at"},
		{"91 days old", func(c *CheckinInput) { c.TakenAt = now.AddDate(0, 0, -91).Format(time.RFC3339) }, "taken_at"},
		{"89 days old: synced late", func(c *CheckinInput) { c.TakenAt = now.AddDate(0, 0, -89).Format(time.RFC3339) }, ""},
		{"within clock skew", func(c *CheckinInput) { c.TakenAt = now.Add(CheckinClockSkew).Format(time.RFC3339) }, ""},
		{"beyond clock skew", func(c *CheckinInput) { c.TakenAt = now.Add(CheckinClockSkew + time.Second).Format(time.RFC3339) }, "taken_at"},
		{"next year", func(c *CheckinInput) { c.TakenAt = now.AddDate(1, 0, 0).Format(time.RFC3339) }, "taken_at"},
		{"longitude out of range names lng", func(c *CheckinInput) { c.Lng = 200 }, "lng"},
		{"latitude out of range names lat", func(c *CheckinInput) { c.Lat = -91 }, "lat"},
		{"accuracy 1e308", func(c *CheckinInput) { c.AccuracyM = 1e308 }, "accuracy_m"},
		{"accuracy +Inf", func(c *CheckinInput) { c.AccuracyM = math.Inf(1) }, "accuracy_m"},
	}
	for _, tt := range tests {
		c := base()
		tt.edit(&c)
		_, err := c.Validate(now)
		if ErrorField(err) != tt.field || (tt.field != "" && err == nil) {
			t.Errorf("%s: %v, want field %q", tt.name, err, tt.field)
		}
		if err != nil && !strings.Contains(ErrorMessage(err, "zh"), "不超过 100000") && tt.field == "accuracy_m" {
			t.Errorf("%s: says only 'more than 0': %v", tt.name, err)
		}
	}
}

// hasFieldError reports whether err is EINVALID with a problem on field.
func hasFieldError(err error, field string) bool {
	var fe FieldErrors
	if errors.As(err, &fe) && fe.Has(field) {
		return true
	}
	return IsCode(err, EINVALID) && ErrorField(err) == field
}

// Issue 15 §7: the reasons and care notes left over refuse a 100,000-
// character text, and a bidi override, with an error on their own field.
func TestReasonsAndCareNotesAreCappedText(t *testing.T) {
	now := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)
	today := Date{Year: 2026, Month: 3, Day: 10}
	for _, bad := range []string{strings.Repeat("长", 100000), "看似正常\u202e的文字"} {
		checks := []struct {
			field string
			err   error
		}{
			{"notes", (&VisitInput{Kind: VisitKinds[0], At: now, Notes: bad}).Validate(now)},
			{"condition_note", (&VisitInput{Kind: VisitKinds[0], At: now, ConditionNote: bad}).Validate(now)},
			{"address", (&VisitInput{Kind: VisitKinds[0], At: now, Address: bad}).Validate(now)},
			{"notes", (&CounsellingInput{Notes: bad}).Validate(now)},
			{"note", (&EventInput{Note: bad}).Validate(today)},
		}
		_, err := (&LeaveInput{Reason: bad}).Validate(today)
		checks = append(checks, struct {
			field string
			err   error
		}{"reason", err})
		_, err = CheckRevisionReason(bad)
		checks = append(checks, struct {
			field string
			err   error
		}{"reason", err})
		for i, c := range checks {
			if !hasFieldError(c.err, c.field) {
				t.Errorf("check %d with a %d-character text: %v, want an error on %q", i, len([]rune(bad)), c.err, c.field)
			}
		}
	}
}
