package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// R13 with R9: a suspended measure owes no tests. A day a lead forced
// before the suspension (forced days survive a redraw) is not an evasion
// while the person is detained; a forced day missed before the suspension
// still is — whether the detection runs before or after the status changed.
func TestDetectSkipsTestDaysWhileSuspended(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		for _, d := range []string{"2026-03-11", "2026-03-12", "2026-03-14"} {
			storetest.Must(db.ForceTestDay(ctx, w.lead, w.woman.ID, pfD(d), "专项行动"))
		}
		// 12 March 08:00 local: the 11th was missed while executing; the
		// person is detained this morning.
		clock.T = time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
		if _, err := db.Transition(ctx, w.workerA, w.woman.ID, store.TransitionInput{Action: casework.ActSuspend, Reason: "刑事拘留"}); err != nil {
			t.Fatal(err)
		}
		clock.T = time.Date(2026, 3, 15, 1, 0, 0, 0, time.UTC)
		storetest.Must(db.DetectViolations(ctx, pfD("2026-03-15")))
		vs, _, err := db.ListViolations(ctx, w.lead, store.ViolationFilter{PersonID: w.woman.ID, Kind: casework.ViolationMissedTest})
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 1 || vs[0].Day != pfD("2026-03-11") {
			days := []string{}
			for _, v := range vs {
				days = append(days, v.Day.String())
			}
			t.Fatalf("evasions on %v, want only 2026-03-11 (the 12th and 14th were days of suspension)", days)
		}
	})
}

// R13 with R9 and R25, everywhere a test day is called missed: a forced day
// that falls in a suspension is "not owed" in the schedule and the due
// list, and is not in the missed list, MissedTests, MissedTestsBetween, the
// inbox or the detection — while the person is suspended (the current
// status decides) and after the resumption (the history decides). A day
// missed before the suspension stays missed everywhere, and stays in the
// inbox although the person is now detained; a day missed after the
// resumption is missed again. Forced days do not enter R25 (intervals
// with a test), so coverage is the same.
func TestSuspendedForcedDayNotOwedEverywhere(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		for _, d := range []string{"2026-03-11", "2026-03-12", "2026-03-14", "2026-03-16"} {
			storetest.Must(db.ForceTestDay(ctx, w.lead, w.woman.ID, pfD(d), "专项行动"))
		}
		cov := storetest.Must(db.PersonSchedule(ctx, w.lead, w.woman.ID)).Coverage
		orgCov := storetest.Must(db.OrgTestCoverage(ctx, w.lead, w.street.ID, casework.Date{}, casework.Date{}))
		dayStrings := func(days []casework.Date) string {
			out := make([]string, len(days))
			for i, d := range days {
				out[i] = d.String()
			}
			return strings.Join(out, " ")
		}
		// check compares every reader with the forced days' statuses and
		// the days that are missed (evaded).
		check := func(when string, status map[string]casework.DrawStatus, missed string) {
			t.Helper()
			s := storetest.Must(db.PersonSchedule(ctx, w.lead, w.woman.ID))
			for _, d := range s.Forced {
				if want := status[d.Day.String()]; d.Status != want {
					t.Errorf("%s: schedule, forced %s is %s, want %s", when, d.Day, d.Status, want)
				}
			}
			if s.Coverage.Should != cov.Should || s.Coverage.Done != cov.Done {
				t.Errorf("%s: person coverage %+v, was %+v", when, s.Coverage, cov)
			}
			if c := storetest.Must(db.OrgTestCoverage(ctx, w.lead, w.street.ID, casework.Date{}, casework.Date{})); c != orgCov {
				t.Errorf("%s: org coverage %+v, was %+v", when, c, orgCov)
			}
			var days []casework.Date
			for _, d := range storetest.Must(db.MissedList(ctx, w.lead, w.street.ID, pfD("2026-03-01"), pfD("2026-03-31"))) {
				if d.PersonID == w.woman.ID {
					if d.Status != casework.DayMissed {
						t.Errorf("%s: missed list, %s is %s", when, d.Day, d.Status)
					}
					days = append(days, d.Day)
				}
			}
			if got := dayStrings(days); got != missed {
				t.Errorf("%s: missed list %q, want %q", when, got, missed)
			}
			days = nil
			for _, m := range storetest.Must(db.MissedTests(ctx, casework.SystemActor("t"), w.woman.ID, s.Today)) {
				days = append(days, m.Day)
			}
			if got := dayStrings(days); got != missed {
				t.Errorf("%s: MissedTests %q, want %q", when, got, missed)
			}
			days = nil
			for _, m := range storetest.Must(db.MissedTestsBetween(ctx, pfD("2026-03-01"), pfD("2026-03-31"))) {
				if m.PersonID == w.woman.ID {
					days = append(days, m.Day)
				}
			}
			if got := dayStrings(days); got != missed {
				t.Errorf("%s: MissedTestsBetween %q, want %q", when, got, missed)
			}
			days = nil
			for _, tk := range storetest.Must(db.Inbox(ctx, w.workerA)) {
				if tk.PersonID == w.woman.ID && tk.Kind == "test_missed" {
					days = append(days, tk.Due)
				}
			}
			if got := dayStrings(days); got != missed {
				t.Errorf("%s: inbox, missed tests %q, want %q", when, got, missed)
			}
		}
		// 12 March 08:00 local: the 11th was missed while executing; the
		// person is detained this morning, so today's forced day is not due.
		clock.T = time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
		if _, err := db.Transition(ctx, w.workerA, w.woman.ID, store.TransitionInput{Action: casework.ActSuspend, Reason: "刑事拘留"}); err != nil {
			t.Fatal(err)
		}
		due, _, err := db.DueList(ctx, w.workerA, w.commA.ID)
		if err != nil || len(due) != 1 || due[0].PersonID != w.woman.ID || due[0].Status != casework.DayNotOwed {
			t.Fatalf("due list on the day of the suspension: %v %+v", err, due)
		}
		if k := personTaskKinds(t, db, w.workerA, w.woman.ID); k["test_due"] != 0 {
			t.Errorf("inbox on the day of the suspension: %v", k)
		}
		check("12 March, suspended today", map[string]casework.DrawStatus{
			"2026-03-11": casework.DayMissed, "2026-03-12": casework.DayNotOwed, "2026-03-14": casework.DayUpcoming, "2026-03-16": casework.DayUpcoming,
		}, "2026-03-11")
		// 15 March 09:00: still suspended (the current status decides).
		clock.T = time.Date(2026, 3, 15, 1, 0, 0, 0, time.UTC)
		check("15 March, suspended", map[string]casework.DrawStatus{
			"2026-03-11": casework.DayMissed, "2026-03-12": casework.DayNotOwed, "2026-03-14": casework.DayNotOwed, "2026-03-16": casework.DayUpcoming,
		}, "2026-03-11")
		// Released and resumed on the 15th; 17 March 09:00: the 12th and
		// 14th are judged from the history, the 16th was owed and missed.
		if _, err := db.Transition(ctx, w.workerA, w.woman.ID, store.TransitionInput{Action: casework.ActResume, Reason: "释放"}); err != nil {
			t.Fatal(err)
		}
		clock.T = time.Date(2026, 3, 17, 1, 0, 0, 0, time.UTC)
		check("17 March, resumed on the 15th", map[string]casework.DrawStatus{
			"2026-03-11": casework.DayMissed, "2026-03-12": casework.DayNotOwed, "2026-03-14": casework.DayNotOwed, "2026-03-16": casework.DayMissed,
		}, "2026-03-11 2026-03-16")
		storetest.Must(db.DetectViolations(ctx, pfD("2026-03-17")))
		vs, _, err := db.ListViolations(ctx, w.lead, store.ViolationFilter{PersonID: w.woman.ID, Kind: casework.ViolationMissedTest})
		if err != nil {
			t.Fatal(err)
		}
		var days []casework.Date
		for _, v := range vs {
			days = append(days, v.Day)
		}
		slices.SortFunc(days, casework.Date.Compare)
		if got := dayStrings(days); got != "2026-03-11 2026-03-16" {
			t.Errorf("evasions on %q, want the 11th and the 16th", got)
		}
	})
}

// R13 with R25: a drawn (scheduled) day that falls in a suspension is not
// owed; its interval is open while it lasts and then lapsed — not missed —
// and R25 still counts the interval (it was not wholly suspended: a test
// on another day of it would have covered it). No evasion is recorded.
func TestSuspendedDrawnDayIntervalLapses(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		mustRun(t, db)
		interval := func() store.ScheduleInterval {
			t.Helper()
			s := storetest.Must(db.PersonSchedule(ctx, w.lead, w.woman.ID))
			for _, iv := range s.Intervals {
				if iv.Span().Contains(pfD("2026-03-10")) && iv.Draw != nil {
					return iv
				}
			}
			t.Fatalf("no drawn interval on 10 March: %+v", s.Intervals)
			return store.ScheduleInterval{}
		}
		drawn := interval().Draw.Day // after the 10th, in 6 March..5 April
		// Detained at 08:00 on the drawn day.
		clock.T = drawn.In(time.UTC) // 08:00 in Beijing
		if _, err := db.Transition(ctx, w.workerA, w.woman.ID, store.TransitionInput{Action: casework.ActSuspend, Reason: "刑事拘留"}); err != nil {
			t.Fatal(err)
		}
		clock.T = clock.T.Add(25 * time.Hour) // 09:00 the next day
		// The interval is still open the next day, unless the draw fell on
		// its last day (the draw is random).
		want := "open"
		if iv := interval(); drawn.AddDays(1).After(iv.Span().To) {
			want = "lapsed"
		}
		if iv := interval(); iv.Draw.Status != casework.DayNotOwed || iv.Status != want {
			t.Errorf("the day after: drawn day %s, interval %s; want not_owed, %s", iv.Draw.Status, iv.Status, want)
		}
		if _, err := db.Transition(ctx, w.workerA, w.woman.ID, store.TransitionInput{Action: casework.ActResume, Reason: "释放"}); err != nil {
			t.Fatal(err)
		}
		// 7 April 09:00: the interval has ended, with no test.
		clock.T = time.Date(2026, 4, 7, 1, 0, 0, 0, time.UTC)
		s := storetest.Must(db.PersonSchedule(ctx, w.lead, w.woman.ID))
		if iv := interval(); iv.Draw.Status != casework.DayNotOwed || iv.Status != "lapsed" {
			t.Errorf("after the interval: drawn day %s, interval %s; want not_owed, lapsed", iv.Draw.Status, iv.Status)
		}
		if s.Coverage.Should != 3 || s.Coverage.Done != 0 {
			t.Errorf("coverage %+v, want 3 intervals owed, none done", s.Coverage)
		}
		for _, d := range storetest.Must(db.MissedList(ctx, w.lead, w.street.ID, pfD("2026-03-01"), pfD("2026-04-06"))) {
			if d.PersonID == w.woman.ID && d.Day == drawn {
				t.Errorf("drawn day %s in the missed list", drawn)
			}
		}
		storetest.Must(db.DetectViolations(ctx, pfD("2026-04-07")))
		vs, _, err := db.ListViolations(ctx, w.lead, store.ViolationFilter{PersonID: w.woman.ID, Kind: casework.ViolationMissedTest})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.Day == drawn {
				t.Errorf("drawn day %s recorded as an evasion", drawn)
			}
		}
	})
}
