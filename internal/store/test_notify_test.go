package store_test

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// testNotices returns the bodies of the person's test-day app messages and
// how many SMS are queued for them.
func testNotices(t *testing.T, db *store.DB, actor *casework.Actor, personID string) (bodies []string, sms int) {
	t.Helper()
	ms, _, err := db.ListPersonMessages(ctx, personID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Kind == "test.today" {
			if !m.System() || m.SenderID != "" {
				t.Errorf("test notice %+v has a staff sender", m)
			}
			bodies = append(bodies, m.Body)
		}
	}
	for _, r := range storetest.Must(db.ListOutbox(ctx, actor, personID)) {
		if r.Kind == "test.today" && r.Channel == "sms" {
			sms++
		}
	}
	return bodies, sms
}

func mustNotify(t *testing.T, db *store.DB) store.TestNotifyRun {
	t.Helper()
	r, err := db.NotifyTestsToday(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The person learns on the day (issue 5 §2): at the start of test.hours
// (08:30 Beijing) and not a minute before, one app message and one SMS per
// test day however often the job runs; an excused day, a day already
// tested and a day whose deadline (18:00) passed get none; a day a lead
// forces for today is notified at once, and the job does not repeat it.
func TestNotifyTestsToday(t *testing.T) {
	// 10 March 2026, 08:00 in Beijing.
	storetest.EachWithClock(t, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		// Forced today before the test hours: the notice goes at once.
		storetest.Must(db.ForceTestDay(ctx, w.lead, w.person.ID, pfD("2026-03-10"), "专项行动"))
		bodies, sms := testNotices(t, db, w.workerA, w.person.ID)
		if len(bodies) != 1 || bodies[0] != "今天请到所属派出所检测，截止时间18:00" || sms != 1 {
			t.Fatalf("forced today: %q, %d sms", bodies, sms)
		}
		if n := countAuditAction(t, db, w, "test.notified"); n != 1 {
			t.Errorf("%d test.notified audit rows, want 1", n)
		}
		clock.T = time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC) // 09:00
		if r := mustNotify(t, db); r != (store.TestNotifyRun{}) {
			t.Errorf("the job after a forced day's notice: %+v", r)
		}
		if bodies, sms := testNotices(t, db, w.workerA, w.person.ID); len(bodies) != 1 || sms != 1 {
			t.Errorf("after the job: %d notices, %d sms", len(bodies), sms)
		}

		// Tomorrow: the man's day stands, the woman's is excused.
		storetest.Must(db.ForceTestDay(ctx, w.lead, w.person.ID, pfD("2026-03-11"), "专项行动"))
		wd := storetest.Must(db.ForceTestDay(ctx, w.lead, w.woman.ID, pfD("2026-03-11"), "专项行动"))
		if err := db.ExcuseTestDay(ctx, w.lead, w.woman.ID, wd.ID, "住院"); err != nil {
			t.Fatal(err)
		}
		clock.T = time.Date(2026, 3, 11, 0, 29, 0, 0, time.UTC) // 08:29
		if r := mustNotify(t, db); r.Notified != 0 || r.Waiting != 1 {
			t.Errorf("08:29: %+v, want one waiting", r)
		}
		clock.T = time.Date(2026, 3, 11, 0, 30, 0, 0, time.UTC) // 08:30
		if r := mustNotify(t, db); r.Notified != 1 {
			t.Errorf("08:30: %+v, want one notice", r)
		}
		if r := mustNotify(t, db); r.Notified != 0 {
			t.Errorf("run twice: %+v", r)
		}
		if bodies, sms := testNotices(t, db, w.workerA, w.person.ID); len(bodies) != 2 || sms != 2 {
			t.Errorf("the man after two days: %d notices, %d sms, want 2 and 2", len(bodies), sms)
		}
		if bodies, sms := testNotices(t, db, w.workerA, w.woman.ID); len(bodies) != 0 || sms != 0 {
			t.Errorf("the excused woman: %q, %d sms", bodies, sms)
		}

		// 12 March: tested at 08:00 before the notice time: no notice.
		storetest.Must(db.ForceTestDay(ctx, w.lead, w.woman.ID, pfD("2026-03-12"), "专项行动"))
		// 13 March: the server was down all day; at 18:00 it is too late.
		storetest.Must(db.ForceTestDay(ctx, w.lead, w.person.ID, pfD("2026-03-13"), "专项行动"))
		clock.T = time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
		in := dtNegative(w)
		in.TestedOn, in.StaffIDs = pfD("2026-03-12"), []string{w.police.UserID, w.femaleStaff}
		storetest.Must(db.RecordTest(ctx, w.police, w.woman.ID, in))
		clock.T = time.Date(2026, 3, 12, 2, 0, 0, 0, time.UTC)
		if r := mustNotify(t, db); r != (store.TestNotifyRun{}) {
			t.Errorf("12 March, tested: %+v", r)
		}
		clock.T = time.Date(2026, 3, 13, 10, 0, 0, 0, time.UTC) // 18:00
		if r := mustNotify(t, db); r.Notified != 0 || r.Late != 1 {
			t.Errorf("13 March at the deadline: %+v, want late", r)
		}
		clock.T = time.Date(2026, 3, 13, 9, 59, 0, 0, time.UTC) // 17:59: still in time
		if r := mustNotify(t, db); r.Notified != 1 {
			t.Errorf("13 March at 17:59: %+v", r)
		}
		if bodies, _ := testNotices(t, db, w.workerA, w.woman.ID); len(bodies) != 0 {
			t.Errorf("the tested woman: %q", bodies)
		}
	})
}

// A lead excuses a day the person was already told of (issue 5 §2): the
// person is told it is off, once, by app message and SMS; not while
// another test day of theirs stands that day; never for a day not yet
// announced.
func TestExcusedAnnouncedDayCalledOff(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		calledOff := func(personID string) (bodies []string, sms int) {
			t.Helper()
			ms, _, err := db.ListPersonMessages(ctx, personID)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m.Kind == "test.cancelled" {
					bodies = append(bodies, m.Body)
				}
			}
			for _, r := range storetest.Must(db.ListOutbox(ctx, w.workerA, personID)) {
				if r.Kind == "test.cancelled" && r.Channel == "sms" {
					sms++
				}
			}
			return bodies, sms
		}
		// The man: his next drawn day, on which a lead also forces a test
		// in the morning; one notice announces the day.
		mustRun(t, db)
		var drawn *store.TestDay
		for _, iv := range storetest.Must(db.PersonSchedule(ctx, w.lead, w.person.ID)).Intervals {
			if d := iv.Draw; d != nil && d.Kind == casework.DrawScheduled && !d.Day.Before(pfD("2026-03-10")) && (drawn == nil || d.Day.Before(drawn.Day)) {
				drawn = d
			}
		}
		if drawn == nil {
			t.Fatal("no drawn day ahead")
		}
		clock.T = drawn.Day.In(time.UTC).Add(-time.Hour) // 07:00 in Beijing
		forced := storetest.Must(db.ForceTestDay(ctx, w.lead, w.person.ID, drawn.Day, "专项行动"))
		if b, _ := testNotices(t, db, w.workerA, w.person.ID); len(b) != 1 {
			t.Fatalf("the forced day's notice: %q", b)
		}
		if err := db.ExcuseTestDay(ctx, w.lead, w.person.ID, forced.ID, "重复安排"); err != nil {
			t.Fatal(err)
		}
		if b, n := calledOff(w.person.ID); len(b) != 0 || n != 0 {
			t.Fatalf("called off while the drawn day stands: %q, %d sms", b, n)
		}
		if err := db.ExcuseTestDay(ctx, w.lead, w.person.ID, drawn.ID, "住院治疗，有医院证明"); err != nil {
			t.Fatal(err)
		}
		if b, n := calledOff(w.person.ID); len(b) != 1 || b[0] != "今天的检测已取消，无需前往。" || n != 1 {
			t.Fatalf("the man after both days excused: %q, %d sms, want one notice and one SMS", b, n)
		}
		clock.T = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
		// The woman: a coming day, not one of her drawn days (the draw is
		// random), is forced and excused before its notice: nothing.
		ws := storetest.Must(db.PersonSchedule(ctx, w.lead, w.woman.ID))
		drawnDays := map[casework.Date]bool{}
		for _, iv := range ws.Intervals {
			if iv.Draw != nil {
				drawnDays[iv.Draw.Day] = true
			}
		}
		for _, d := range ws.Surprise {
			drawnDays[d.Day] = true
		}
		day := pfD("2026-03-11")
		for drawnDays[day] {
			day = day.AddDays(1)
		}
		wd := storetest.Must(db.ForceTestDay(ctx, w.lead, w.woman.ID, day, "专项行动"))
		if err := db.ExcuseTestDay(ctx, w.lead, w.woman.ID, wd.ID, "住院"); err != nil {
			t.Fatal(err)
		}
		clock.T = day.In(time.UTC).Add(time.Hour) // 09:00 in Beijing
		mustNotify(t, db)
		if b, n := calledOff(w.woman.ID); len(b) != 0 || n != 0 {
			t.Errorf("a day excused before it was announced: %q, %d sms", b, n)
		}
		if b, _ := testNotices(t, db, w.workerA, w.woman.ID); len(b) != 0 {
			t.Errorf("the excused woman was told to test: %q", b)
		}
	})
}

func countAuditAction(t *testing.T, db *store.DB, w dtWorld, action string) int {
	t.Helper()
	_, n, err := db.ListAudit(ctx, w.auditor, store.AuditFilter{Action: action, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
