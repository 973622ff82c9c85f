package casework

import (
	"strings"
	"testing"
)

// The default schedule of CARE.md A: base 10, +5 per consecutive
// negative, +40 every third, return after five.
func defaultSchedule() IncentiveSchedule {
	return IncentiveScheduleOf(ResolvePolicy(nil, nil, Date{}))
}

func TestIncentiveDefaultsFromPolicy(t *testing.T) {
	s := defaultSchedule()
	want := IncentiveSchedule{Enabled: false, CheckinPoints: 1, TestBase: 10, TestIncrement: 5, RunBonus: 40, RunBonusEvery: 3,
		ReturnAfter: 5, SessionPoints: 0, CapPer12Weeks: 2000, OfficeYearCap: 0, EffectiveMin12w: 960}
	if s != want {
		t.Fatalf("defaults %+v, want %+v", s, want)
	}
	for _, k := range IncentiveKeys {
		if _, ok := PolicySetting(k); !ok {
			t.Errorf("IncentiveKeys names %s, which is not a setting", k)
		}
	}
}

// run applies the events in order and returns each event's points (a
// negative with its bonus summed) as a compact table.
func run(s IncentiveSchedule, events string) []int {
	var st IncentiveState
	var out []int
	for _, c := range events {
		ev := map[rune]TestEvent{'n': TestEventNegative, 'p': TestEventPositive, 'r': TestEventRefused, 'm': TestEventMissed}[c]
		aw, next := s.Test(st, ev)
		st = next
		sum := 0
		for _, a := range aw {
			sum += a.Points
		}
		out = append(out, sum)
	}
	return out
}

func TestIncentiveEscalationResetReturn(t *testing.T) {
	s := defaultSchedule()
	cases := []struct {
		name   string
		events string // n negative, p positive, r refused, m missed drawn test day
		want   []int
	}{
		{"escalates by 5 from 10", "nn", []int{10, 15}},
		// The third consecutive negative earns 20 plus the 40 bonus; the
		// sixth 35 plus 40.
		{"bonus every third", "nnnnnn", []int{10, 15, 60, 25, 30, 75}},
		{"a positive resets to base, keeps nothing back", "nnpn", []int{10, 15, 0, 10}},
		{"a refusal resets like a positive", "nnrn", []int{10, 15, 0, 10}},
		{"a missed drawn test day resets like a positive", "nnmn", []int{10, 15, 0, 10}},
		// Eight negatives: before the lapse the next award stood at 50.
		// After it the run starts again at 10; after five negatives the
		// sixth earns 50 (not 35, where the new run has climbed to), plus
		// the bonus of the sixth in the run, and escalation goes on.
		{"five negatives after a reset regain the earlier value", "nnnnnnnnpnnnnnnn",
			[]int{10, 15, 60, 25, 30, 75, 40, 45, 0, 10, 15, 60, 25, 30, 50 + 40, 55}},
		// Four are not enough: the fifth after the reset earns 30.
		{"four negatives are not enough", "nnnnnnnnpnnnnn", []int{10, 15, 60, 25, 30, 75, 40, 45, 0, 10, 15, 60, 25, 30}},
		// A lapse during the return keeps the value to regain and starts
		// the count again: five more negatives, then 50.
		{"a lapse during the return starts the count again", "nnnnnnnnpnnmnnnnnn",
			[]int{10, 15, 60, 25, 30, 75, 40, 45, 0, 10, 15, 0, 10, 15, 60, 25, 30, 50 + 40}},
		// When the new run has already climbed past the old value, the
		// return changes nothing: 30 before the lapse, 35 after five.
		{"the return never lowers an award", "nnnnpnnnnnn", []int{10, 15, 60, 25, 0, 10, 15, 60, 25, 30, 35 + 40}},
		{"a reset before any negative keeps nothing to regain", "pnnnnnn", []int{0, 10, 15, 60, 25, 30, 75}},
	}
	for _, c := range cases {
		got := run(s, c.events)
		if len(got) != len(c.want) {
			t.Fatalf("%s: %d results, want %d", c.name, len(got), len(c.want))
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: event %d (%c) earned %d, want %d (all: %v)", c.name, i+1, c.events[i], got[i], c.want[i], got)
				break
			}
		}
	}
}

func TestIncentiveResetRowAndNextValue(t *testing.T) {
	s := defaultSchedule()
	var st IncentiveState
	for range 3 {
		_, st = s.Test(st, TestEventNegative)
	}
	aw, st := s.Test(st, TestEventPositive)
	if len(aw) != 1 || aw[0].Rule != AwardReset || aw[0].Points != 0 {
		t.Fatalf("a positive gave %+v, want one reset row of 0 points", aw)
	}
	// The next negative earns 10; 5 more bring back 25 (the value the
	// fourth negative would have earned).
	v, left, back := s.NextNegative(st)
	if v != 10 || left != 5 || back != 25 {
		t.Fatalf("after the reset: next %d, %d to go, back to %d; want 10, 5, 25", v, left, back)
	}
	_, st = s.Test(st, TestEventNegative)
	_, st = s.Test(st, TestEventNegative)
	if v, left, back = s.NextNegative(st); v != 20 || left != 3 || back != 25 {
		t.Fatalf("two negatives on: next %d, %d to go, back to %d; want 20, 3, 25", v, left, back)
	}
}

func TestIncentiveRunBonusOff(t *testing.T) {
	s := defaultSchedule()
	s.RunBonusEvery = 0
	if got := run(s, "nnn"); got[2] != 20 {
		t.Fatalf("with the bonus off the third negative earned %d, want 20", got[2])
	}
}

func TestIncentiveCap(t *testing.T) {
	for _, c := range []struct{ points, earned, cap, want int }{
		{10, 0, 0, 10},       // no cap
		{10, 1990, 2000, 10}, // exactly at the cap
		{10, 1995, 2000, 5},  // part fits
		{10, 2000, 2000, 0},  // nothing fits
		{10, 2100, 2000, 0},  // already over (a lowered cap)
		{0, 0, 2000, 0},
	} {
		if got := Capped(c.points, c.earned, c.cap); got != c.want {
			t.Errorf("Capped(%d, %d, %d) = %d, want %d", c.points, c.earned, c.cap, got, c.want)
		}
	}
}

func TestIncentiveBudgetWarning(t *testing.T) {
	s := defaultSchedule()
	s.Enabled = true
	// The law's first-year cadence gives about three tests in 12 weeks:
	// 10+15+60 = 85 points, plus 84 check-ins: 169, far below 960.
	if m := s.MaxIn12Weeks(3, 84); m != 169 {
		t.Fatalf("max in 12 weeks with 3 tests and 84 check-ins = %d, want 169", m)
	}
	zh, en := s.Warning(3, 84)
	if !strings.Contains(zh, "169") || !strings.Contains(en, "below the effective minimum of 960") {
		t.Fatalf("warning: %q / %q", zh, en)
	}
	// Three tests a week (the trials' cadence): 36 tests reach it.
	if zh, _ := s.Warning(36, 84); zh != "" {
		t.Fatalf("36 tests in 12 weeks: unexpected warning %q", zh)
	}
	s.Enabled = false
	if zh, _ := s.Warning(3, 84); zh != "" {
		t.Fatal("a warning while incentives are off")
	}
}
