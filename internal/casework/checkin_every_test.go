package casework

import "testing"

// The check-in frequency (policy checkin.every_days, issue 13 §4, R31):
// every Nth day counted from the anchor; a change anchors at its own date.
func TestCadenceOwes(t *testing.T) {
	start := d(2026, 3, 10)
	cases := []struct {
		name    string
		changes []EverySpan
		owed    map[Date]bool
	}{
		{"daily by default", nil, map[Date]bool{start: true, start.AddDays(1): true, start.AddDays(2): true}},
		// Days 1, 2, 3, 4 from the anchor: 1 and 3 owe, 2 and 4 do not.
		{"every 2 days at day boundaries", []EverySpan{{From: d(2025, 1, 1), N: 2}},
			map[Date]bool{start.AddDays(-1): true, start: true, start.AddDays(1): false, start.AddDays(2): true, start.AddDays(3): false, start.AddDays(4): true}},
		{"every 3 days across a month end", []EverySpan{{From: d(2025, 1, 1), N: 3}},
			map[Date]bool{d(2026, 3, 28): true, d(2026, 3, 29): false, d(2026, 3, 30): false, d(2026, 3, 31): true, d(2026, 4, 1): false, d(2026, 4, 3): true}},
		// A version taking effect on the 16th (decided the 15th): the 15th
		// keeps the old frequency; the new one anchors on the 16th.
		{"policy change mid-month takes effect the next day", []EverySpan{{From: d(2025, 1, 1), N: 1}, {From: d(2026, 3, 16), N: 3}},
			map[Date]bool{d(2026, 3, 14): true, d(2026, 3, 15): true, d(2026, 3, 16): true, d(2026, 3, 17): false, d(2026, 3, 18): false, d(2026, 3, 19): true}},
		// A tier raised to high (every day) from the 20th after every 3 days.
		{"tier change increases frequency from its day", []EverySpan{{From: start, N: 3}, {From: d(2026, 3, 20), N: 1}},
			map[Date]bool{d(2026, 3, 18): false, d(2026, 3, 19): true, d(2026, 3, 20): true, d(2026, 3, 21): true}},
		// A change keeping the frequency does not move the anchor.
		{"same frequency keeps the anchor", []EverySpan{{From: start, N: 2}, {From: d(2026, 3, 13), N: 2, Ref: "v2"}},
			map[Date]bool{d(2026, 3, 13): false, d(2026, 3, 14): true}},
		// A change before the duty start: the anchor is the duty start.
		{"change before the duty start", []EverySpan{{From: d(2026, 3, 1), N: 2}},
			map[Date]bool{d(2026, 3, 10): true, d(2026, 3, 11): false, d(2026, 3, 12): true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cad := NewCadence(start, c.changes)
			for day, want := range c.owed {
				if got := cad.Owes(day); got != want {
					t.Errorf("Owes(%s) = %v, want %v (spans %+v)", day, got, want, cad.Spans)
				}
			}
		})
	}
}

func TestCadenceNextOwedAndEvery(t *testing.T) {
	cad := NewCadence(d(2026, 1, 30), []EverySpan{{From: d(2026, 1, 1), N: 2, Ref: "a"}, {From: d(2026, 2, 2), N: 5, Ref: "b"}})
	if got := cad.NextOwed(d(2026, 1, 30)); got != d(2026, 2, 1) {
		t.Errorf("next after 01-30 = %s, want 2026-02-01 (across the month end)", got)
	}
	if got := cad.NextOwed(d(2026, 2, 1)); got != d(2026, 2, 2) {
		t.Errorf("next after 02-01 = %s, want 2026-02-02 (the new frequency's anchor)", got)
	}
	if got := cad.NextOwed(d(2026, 2, 2)); got != d(2026, 2, 7) {
		t.Errorf("next after 02-02 = %s, want 2026-02-07", got)
	}
	if cad.Every(d(2026, 2, 1)) != 2 || cad.Every(d(2026, 2, 2)) != 5 || cad.Ref(d(2026, 2, 3)) != "b" || cad.Ref(d(2026, 1, 31)) != "a" {
		t.Errorf("every/ref wrong: %+v", cad.Spans)
	}
}

// A suspended day (R13) or a day without a device is not owed, and does not
// shift the count: the duty days stay the same dates.
func TestCheckinDueOnCadenceSuspensionAndApp(t *testing.T) {
	spans := []StatusSpan{{From: d(2026, 3, 1), Status: StatusExecuting}, {From: d(2026, 3, 5), Status: StatusSuspended}, {From: d(2026, 3, 8), Status: StatusExecuting}}
	apps := []AppSpan{{From: d(2026, 3, 3)}}
	start := DutyStart(spans, apps, d(2026, 3, 31))
	if start != d(2026, 3, 3) {
		t.Fatalf("duty start = %s, want the activation 2026-03-03", start)
	}
	cad := NewCadence(start, []EverySpan{{From: d(2026, 1, 1), N: 2}})
	var due []Date
	for day := d(2026, 3, 1); !day.After(d(2026, 3, 12)); day = day.AddDays(1) {
		if CheckinDueOnCadence(len(DutyDays(spans, day, day)) == 1, apps, cad, day) {
			due = append(due, day)
		}
	}
	want := []Date{d(2026, 3, 3), d(2026, 3, 9), d(2026, 3, 11)} // 5, 7 suspended; 1 no app
	if len(due) != len(want) {
		t.Fatalf("due %v, want %v", due, want)
	}
	for i := range want {
		if due[i] != want[i] {
			t.Fatalf("due %v, want %v", due, want)
		}
	}
	if (Cadence{}).Owes(d(2026, 3, 4)) != true {
		t.Error("a zero cadence owes every day")
	}
	if !DutyStart(spans, nil, d(2026, 3, 31)).IsZero() {
		t.Error("no device: no duty start")
	}
}

func TestTierCheckinEveryDaysSetting(t *testing.T) {
	if k := TierSettingKey("checkin.every_days", TierHigh); k != "checkin.tier.high.every_days" {
		t.Fatalf("key %q", k)
	}
	s, ok := PolicySetting("checkin.tier.high.every_days")
	if !ok || !s.Default.Same() || s.Same != "checkin.every_days" {
		t.Fatalf("tier setting %+v %v", s, ok)
	}
}

// The rate's denominator by frequency: over 14 executing days with a
// device from the anchor, every 1, 2, 3 and 7 days owe 14, 7, 5 and 2
// check-ins; a day that is not a check-in day is never missed.
func TestCadenceRateDenominator(t *testing.T) {
	start := d(2026, 3, 1)
	spans := []StatusSpan{{From: start, Status: StatusExecuting}}
	apps := []AppSpan{{From: start}}
	for n, want := range map[int]int{1: 14, 2: 7, 3: 5, 7: 2} {
		cad := NewCadence(start, []EverySpan{{From: start, N: n}})
		var due []Date
		for _, day := range DutyDays(spans, start, start.AddDays(13)) {
			if CheckinDueOnCadence(true, apps, cad, day) {
				due = append(due, day)
			}
		}
		duty := ComputeDuty(due, map[Date]bool{start.AddDays(1): true})
		if duty.Due != want {
			t.Errorf("every %d days: due %d, want %d", n, duty.Due, want)
		}
		// The 2nd is a check-in day only when daily: a check-in on another
		// day does not count, and no non-check-in day is missed.
		if wantDone := map[int]int{1: 1}[n]; duty.Done != wantDone || len(duty.Missed) != want-wantDone {
			t.Errorf("every %d days: %+v", n, duty)
		}
	}
}
