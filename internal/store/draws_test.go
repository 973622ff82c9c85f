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

// eachClockRaw is EachWithClock with a raw handle on the same database.
func eachClockRaw(t *testing.T, start time.Time, fn func(t *testing.T, db *store.DB, clock *storetest.Clock, raw rawDB)) {
	t.Helper()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			c := &storetest.Clock{T: start}
			fn(t, storetest.Open(t, e, c.Now), c, openRaw(t, e))
		})
	}
}

func mustRun(t *testing.T, db *store.DB) store.DrawRun {
	t.Helper()
	r, err := db.DailyDraws(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkOnePerInterval: every interval reaching today or later whose start
// is within the horizon has exactly one scheduled day, inside it and after
// the day it was drawn.
func checkOnePerInterval(t *testing.T, s *store.Schedule, horizon casework.Date) {
	t.Helper()
	for _, iv := range s.Intervals {
		if iv.To.Before(s.Today) || iv.From.After(horizon) {
			continue
		}
		if iv.Draw == nil {
			t.Errorf("interval %s..%s has no scheduled day", iv.From, iv.To)
			continue
		}
		if !iv.Span().Contains(iv.Draw.Day) {
			t.Errorf("interval %s..%s: day %s outside", iv.From, iv.To, iv.Draw.Day)
		}
	}
}

// The daily job: seeds committed ahead, exactly one scheduled day per
// interval, a surprise day, and a second run changing nothing (idempotent).
func TestDailyDrawsOnePerIntervalIdempotent(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		r := mustRun(t, db)
		// Two streets × (this month + 40): every commitment made before its month.
		if r.SeedsCommitted != 2*41 || r.Added < 2 || r.Measures != 1 {
			t.Fatalf("first run: %+v", r)
		}
		if again := mustRun(t, db); again != (store.DrawRun{}) {
			t.Fatalf("second run changed something: %+v", again)
		}
		seeds, seedOrg, err := db.ListSeeds(ctx, w.workerA, w.commA.ID)
		if err != nil || seedOrg.ID != w.street.ID || len(seeds) != 41 || seeds[0].Period != "2026-03" || seeds[0].Seed != "" || len(seeds[0].Hash) != 64 {
			t.Fatalf("seeds of the street: %d %v %+v", len(seeds), err, seeds[0])
		}
		// Thirty days of daily runs: each interval keeps exactly one day.
		seen := map[string]casework.Date{}
		for range 70 {
			clock.Add(24 * time.Hour)
			mustRun(t, db)
			s, err := db.PersonSchedule(ctx, w.lead, w.person.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkOnePerInterval(t, s, s.Today.AddDays(31))
			for _, iv := range s.Intervals {
				if iv.Draw == nil {
					continue
				}
				if prev, ok := seen[iv.From.String()]; ok && prev != iv.Draw.Day {
					t.Fatalf("the day of interval %s moved from %s to %s", iv.From, prev, iv.Draw.Day)
				}
				seen[iv.From.String()] = iv.Draw.Day
			}
			if len(s.Surprise) != 1 {
				t.Fatalf("surprise days: %d", len(s.Surprise))
			}
		}
		if len(seen) < 3 {
			t.Errorf("only %d intervals drawn over 70 days", len(seen))
		}
	})
}

// Future days are hidden from a worker (the person learns on the day), and
// shown to the lead who may excuse them; the counsellor sees no schedule.
func TestScheduleHidesFutureDays(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		mustRun(t, db)
		ws, err := db.PersonSchedule(ctx, w.workerA, w.person.ID)
		if err != nil {
			t.Fatal(err)
		}
		ls := storetest.Must(db.PersonSchedule(ctx, w.lead, w.person.ID))
		for i, iv := range ws.Intervals {
			if iv.Draw != nil && (!iv.Draw.Hidden || !iv.Draw.Day.IsZero()) {
				t.Errorf("worker sees future day %s", iv.Draw.Day)
			}
			if ld := ls.Intervals[i].Draw; ld != nil && (ld.Hidden || ld.Day.IsZero()) {
				t.Error("lead does not see the day")
			}
		}
		if ws.CanAdjust || !ls.CanAdjust {
			t.Error("CanAdjust wrong")
		}
		_, err = db.PersonSchedule(ctx, w.counsellor, w.person.ID)
		pfCode(t, "counsellor outside the working group", err, casework.ENOTFOUND)
		_, err = db.PersonSchedule(ctx, w.workerB, w.person.ID)
		pfCode(t, "other community", err, casework.ENOTFOUND)
	})
}

// Forcing or excusing a day needs a reason, a lead, and a day not past.
func TestForceExcuseNeedReason(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		mustRun(t, db)
		day := pfD("2026-03-12")
		_, err := db.ForceTestDay(ctx, w.lead, w.person.ID, day, "   ")
		pfField(t, "force without reason", err, "reason")
		_, err = db.ForceTestDay(ctx, w.workerA, w.person.ID, day, "线索")
		pfCode(t, "worker forcing", err, casework.EFORBIDDEN)
		_, err = db.ForceTestDay(ctx, w.otherLead, w.person.ID, day, "线索")
		pfCode(t, "lead elsewhere", err, casework.ENOTFOUND)
		_, err = db.ForceTestDay(ctx, w.lead, w.person.ID, pfD("2026-03-09"), "线索")
		pfField(t, "yesterday", err, "day")
		f, err := db.ForceTestDay(ctx, w.lead, w.person.ID, day, "群众举报近期复吸")
		if err != nil || f.Kind != casework.DrawForced || f.Reason != "群众举报近期复吸" || f.Day != day {
			t.Fatalf("force: %+v %v", f, err)
		}
		_, err = db.ForceTestDay(ctx, w.lead, w.person.ID, day, "again")
		pfCode(t, "twice", err, casework.ECONFLICT)

		s := storetest.Must(db.PersonSchedule(ctx, w.lead, w.person.ID))
		target := s.Intervals[slices.IndexFunc(s.Intervals, func(iv store.ScheduleInterval) bool { return iv.Draw != nil })].Draw
		pfField(t, "excuse without reason", db.ExcuseTestDay(ctx, w.lead, w.person.ID, target.ID, ""), "reason")
		pfCode(t, "worker excusing", db.ExcuseTestDay(ctx, w.workerA, w.person.ID, target.ID, "住院"), casework.EFORBIDDEN)
		if err := db.ExcuseTestDay(ctx, w.lead, w.person.ID, target.ID, "住院治疗，有诊断证明"); err != nil {
			t.Fatal(err)
		}
		pfCode(t, "excused twice", db.ExcuseTestDay(ctx, w.lead, w.person.ID, target.ID, "x"), casework.ECONFLICT)
		s = storetest.Must(db.PersonSchedule(ctx, w.workerA, w.person.ID))
		var shown bool
		for _, iv := range s.Intervals {
			if iv.Draw != nil && iv.Draw.ID == target.ID {
				shown = iv.Draw.Excused && iv.Draw.ExcuseReason == "住院治疗，有诊断证明" && iv.Draw.ExcusedBy != "" && iv.Draw.Status == casework.DayExcused
			}
		}
		if !shown || len(s.Forced) != 1 || s.Forced[0].Reason != "群众举报近期复吸" {
			t.Errorf("excuse or forced day not shown next to the draw: %+v", s.Forced)
		}
		if a := pfAudit(t, db, w.pfWorld, "schedule.excuse", w.person.ID); len(a) != 1 || a[0].Reason != "住院治疗，有诊断证明" {
			t.Errorf("excuse audit: %+v", a)
		}
		if a := pfAudit(t, db, w.pfWorld, "schedule.force", w.person.ID); len(a) != 1 {
			t.Errorf("force audit: %d", len(a))
		}
		// The excused day is kept by later runs and never missed.
		clock.Add(60 * 24 * time.Hour)
		mustRun(t, db)
		missed := storetest.Must(db.MissedTests(ctx, casework.SystemActor("t"), w.person.ID, pfD("2026-05-09")))
		for _, m := range missed {
			if m.DrawID == target.ID {
				t.Error("an excused day is counted as missed")
			}
		}
	})
}

// A drawn day passes its deadline without a test: missed (evasion, R9);
// a test that day, a refusal included, makes it done. The forced day
// shows in the app and in the due-today list.
func TestMissedAndDueToday(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		mustRun(t, db)
		storetest.Must(db.ForceTestDay(ctx, w.lead, w.person.ID, pfD("2026-03-10"), "专项行动"))
		storetest.Must(db.ForceTestDay(ctx, w.lead, w.woman.ID, pfD("2026-03-10"), "专项行动"))
		due, today, err := db.DueList(ctx, w.workerA, w.commA.ID)
		if err != nil || today != pfD("2026-03-10") || len(due) != 2 || due[0].Status != casework.DayDueToday {
			t.Fatalf("due list: %v %v %+v", today, err, due)
		}
		for _, p := range []string{w.person.ID, w.woman.ID} {
			if k := personTaskKinds(t, db, w.workerA, p); k["test_due"] != 1 {
				t.Errorf("worker A's inbox for %s: %v", p, k)
			}
			if k := personTaskKinds(t, db, w.workerB, p); k["test_due"] != 0 {
				t.Errorf("worker B sees %v", k)
			}
		}
		app := storetest.Must(db.AppTestsToday(ctx, w.person.ID))
		if len(app) != 1 || app[0].Place != "所属派出所" || app[0].Deadline.In(time.UTC).Format("15:04") != "10:00" || app[0].Done {
			t.Fatalf("app today: %+v", app)
		}
		// A refusal on the day is a test record: done, not evaded.
		in := dtNegative(w)
		in.TestedOn, in.Outcome, in.Substances = pfD("2026-03-10"), casework.OutcomeRefused, nil
		storetest.Must(db.RecordTest(ctx, w.police, w.person.ID, in))
		// 17:59 local: not missed yet; 18:00: missed (test.hours ends 18:00).
		clock.T = time.Date(2026, 3, 10, 9, 59, 0, 0, time.UTC)
		if m := storetest.Must(db.MissedTests(ctx, casework.SystemActor("t"), w.woman.ID, pfD("2026-03-10"))); len(m) != 0 {
			t.Errorf("missed before the deadline: %+v", m)
		}
		clock.T = time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
		m := storetest.Must(db.MissedTests(ctx, casework.SystemActor("t"), w.woman.ID, pfD("2026-03-10")))
		if len(m) != 1 || m[0].Kind != casework.DrawForced || m[0].Day != pfD("2026-03-10") {
			t.Errorf("missed at the deadline: %+v", m)
		}
		if m := storetest.Must(db.MissedTests(ctx, casework.SystemActor("t"), w.person.ID, pfD("2026-03-10"))); len(m) != 0 {
			t.Errorf("a refusal counted as evasion: %+v", m)
		}
		all := storetest.Must(db.MissedTestsBetween(ctx, pfD("2026-03-01"), pfD("2026-03-31")))
		if len(all) != 1 || all[0].PersonID != w.woman.ID {
			t.Errorf("missed between: %+v", all)
		}
		list := storetest.Must(db.MissedList(ctx, w.lead, w.street.ID, pfD("2026-03-01"), pfD("2026-03-31")))
		if len(list) != 1 || list[0].PersonName != "李梅" {
			t.Errorf("missed list: %+v", list)
		}
	})
}

// verify-draws: after the months end and the seeds are revealed, every
// draw recomputes; an altered day and an altered seed are named.
func TestVerifyDrawsCatchesAlteredDrawAndSeed(t *testing.T) {
	eachClockRaw(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock, raw rawDB) {
		w := newLeaveWorld(t, db)
		for range 100 {
			mustRun(t, db)
			clock.Add(24 * time.Hour)
		}
		r := mustRun(t, db)
		_ = r
		seeds, _, err := db.ListSeeds(ctx, w.lead, w.street.ID)
		if err != nil || seeds[0].Seed == "" || seeds[0].RevealedAt.IsZero() || seeds[len(seeds)-1].Seed != "" {
			t.Fatalf("reveal: %v %+v", err, seeds[0])
		}
		rep := storetest.Must(db.VerifyDraws(ctx))
		if !rep.OK() || rep.DrawsChecked < 2 || rep.SeedsChecked < 3 {
			t.Fatalf("clean verify: %+v", rep)
		}
		_, draws, _ := db.ExportDraws(ctx)
		victim := draws[0]
		other := victim.WinFrom
		if other == victim.Day {
			other = victim.WinTo
		}
		raw.exec(t, `UPDATE test_draws SET day = ? WHERE id = ?`, other.String(), victim.ID)
		rep = storetest.Must(db.VerifyDraws(ctx))
		if rep.OK() || !slices.Contains(rep.AlteredDraws, victim.ID) || len(rep.AlteredDraws) != 1 {
			t.Fatalf("altered draw not named: %+v", rep)
		}
		raw.exec(t, `UPDATE test_draws SET day = ? WHERE id = ?`, victim.Day.String(), victim.ID)
		raw.exec(t, `UPDATE draw_seeds SET seed = ? WHERE org_id = ? AND period = ?`, strings.Repeat("ab", 32), w.street.ID, "2026-04")
		rep = storetest.Must(db.VerifyDraws(ctx))
		want := w.street.ID + "/2026-04"
		if !slices.Contains(rep.AlteredSeeds, want) {
			t.Fatalf("altered seed not named: %+v", rep)
		}
		// The same from an export alone (what anyone outside can do).
		seedsX, drawsX, _ := db.ExportDraws(ctx)
		if x := casework.VerifyDrawSet(seedsX, drawsX); !slices.Contains(x.AlteredSeeds, want) {
			t.Errorf("export verify: %+v", x)
		}
	})
}

// A suspension (R13) removes the future days inside it; days already past
// stay as they were.
func TestSuspensionRedrawsFutureOnly(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		mustRun(t, db)
		before := storetest.Must(db.PersonSchedule(ctx, w.lead, w.person.ID))
		if _, err := db.Transition(ctx, w.workerA, w.person.ID, store.TransitionInput{Action: casework.ActSuspend, Reason: "刑事拘留"}); err != nil {
			t.Fatal(err)
		}
		r := mustRun(t, db)
		if r.Removed == 0 {
			t.Fatalf("suspension removed nothing: %+v", r)
		}
		after := storetest.Must(db.PersonSchedule(ctx, w.lead, w.person.ID))
		for i, iv := range after.Intervals {
			b := before.Intervals[i].Draw
			if b != nil && b.Day.After(after.Today) && iv.Draw != nil {
				t.Errorf("future day %s kept during suspension", b.Day)
			}
		}
		if again := mustRun(t, db); again != (store.DrawRun{}) {
			t.Errorf("second run after suspension: %+v", again)
		}
	})
}

// R25 over a person and an org: intervals ended, with a test in them.
func TestTestCoverageStore(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		// Reported 2026-01-06: by 2026-03-10, two monthly intervals ended.
		in := dtNegative(w)
		in.TestedOn = pfD("2026-01-20")
		storetest.Must(db.RecordTest(ctx, w.police, w.person.ID, in))
		s := storetest.Must(db.PersonSchedule(ctx, w.lead, w.person.ID))
		if s.Coverage.Should != 2 || s.Coverage.Done != 1 || s.Intervals[0].Status != "done" || s.Intervals[1].Status != "lapsed" || s.Intervals[2].Status != "open" {
			t.Fatalf("person coverage %+v; %s %s %s", s.Coverage, s.Intervals[0].Status, s.Intervals[1].Status, s.Intervals[2].Status)
		}
		c := storetest.Must(db.OrgTestCoverage(ctx, w.lead, w.street.ID, casework.Date{}, casework.Date{}))
		if c.Persons != 2 || c.Should != 4 || c.Done != 1 {
			t.Errorf("org coverage %+v", c)
		}
		// February only: the interval 2026-02-06..03-05 of each person, untested.
		c = storetest.Must(db.OrgTestCoverage(ctx, w.lead, w.street.ID, pfD("2026-02-10"), pfD("2026-03-31")))
		if c.Should != 2 || c.Done != 0 {
			t.Errorf("org coverage in a period %+v", c)
		}
		_, err := db.OrgTestCoverage(ctx, w.workerB, w.commA.ID, casework.Date{}, casework.Date{})
		pfCode(t, "other community", err, casework.ENOTFOUND)
	})
}

// A policy version effective tomorrow (the earliest allowed) changing the
// year-1 interval: today's interval and its drawn day stay; the intervals
// starting after it follow the new length (R22, policy as configuration).
func TestPolicyChangeKeepsDrawnDays(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		mustRun(t, db)
		before := storetest.Must(db.PersonSchedule(ctx, w.lead, w.person.ID))
		if _, err := db.CreatePolicyVersion(ctx, w.lead, w.street.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-03-11"),
			Settings: map[string]string{"test.treatment.y1_months": "2"}, Note: "街道通知〔2026〕3号"}); err != nil {
			t.Fatal(err)
		}
		clock.Add(24 * time.Hour)
		mustRun(t, db)
		after := storetest.Must(db.PersonSchedule(ctx, w.lead, w.person.ID))
		// Reported 2026-01-06: the interval 03-06..04-05 began before the change.
		cur := func(s *store.Schedule) store.ScheduleInterval {
			return s.Intervals[slices.IndexFunc(s.Intervals, func(iv store.ScheduleInterval) bool { return iv.From == pfD("2026-03-06") })]
		}
		b, a := cur(before), cur(after)
		if a.To != b.To || a.Draw == nil || b.Draw == nil || a.Draw.Day != b.Draw.Day || a.Draw.ID != b.Draw.ID {
			t.Fatalf("the current interval or its day changed: %+v → %+v", b.TestInterval, a.TestInterval)
		}
		next := after.Intervals[slices.IndexFunc(after.Intervals, func(iv store.ScheduleInterval) bool { return iv.From == pfD("2026-04-06") })]
		if next.Months != 2 || next.To != pfD("2026-06-05") {
			t.Errorf("the next interval ignores the new policy: %+v", next.TestInterval)
		}
	})
}
