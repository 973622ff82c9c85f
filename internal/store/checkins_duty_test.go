package store_test

// Issue 18 §2 and §4 on both engines: every failed check is kept and only
// a check-in the policy accepts discharges the day (the rate, the app's
// today, the board, the detection); duty starts with the phone.

import (
	"slices"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 18 §2 (R8, R37): a check-in from Guangzhou with 450 m accuracy at
// 03:23 Beijing keeps all three failed checks, does not count for the
// day's rate, and the app's today and the board say "check in again";
// 05:59 is outside the 06:00 window, 06:00 inside; a check-in sent a day
// late with a good position counts, one sent late from outside the area
// does not. A policy checkin.counts=any (from its effective date) counts
// the same bad check-in.
func TestCheckinFailedChecksDoNotCount(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 3, 9, 19, 23, 0, 0, time.UTC) // 10 March 03:23 Beijing
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		clock.T = time.Date(2026, 3, 9, 1, 0, 0, 0, time.UTC) // 9 March: the phone is activated
		phone := ciActivate(t, db, w.worker, w.person.ID)
		clock.T = start.Add(time.Minute)
		bad := ciIn(start, 23.13, 113.26) // 广州
		bad.AccuracyM = 450
		c, _, _, err := phone.checkin(db, bad)
		if err != nil {
			t.Fatal(err)
		}
		want := []casework.Verdict{casework.VerdictPoorAccuracy, casework.VerdictOutsideArea, casework.VerdictOutsideWin}
		if c.Verdict != casework.VerdictPoorAccuracy || !slices.Equal(c.Checks, want) || c.Counts {
			t.Fatalf("stored verdict %s checks %v counts %v, want %v and not counted", c.Verdict, c.Checks, c.Counts, want)
		}
		listed := storetest.Must(db.ListCheckins(ctx, w.worker, w.person.ID, pfD("2026-03-10"), pfD("2026-03-10")))
		if len(listed) != 1 || !slices.Equal(listed[0].Checks, want) || listed[0].Counts {
			t.Fatalf("read back: %+v", listed)
		}
		day := storetest.Must(db.CheckinToday(ctx, w.person.ID))
		if !day.Due || day.Done || day.Count != 1 || !slices.Equal(day.Checks, want) || day.Open {
			t.Fatalf("today at 03:23: %+v (due, not done, window not open yet)", day)
		}
		board, _ := ciMust2(db.TodayBoard(ctx, w.lead, w.street.ID))
		if len(board) != 1 || board[0].Checked || !board[0].Tried || board[0].NoApp {
			t.Fatalf("board: %+v", board)
		}
		// 05:59 is outside the window; 06:00 inside and counts.
		for _, at := range []struct {
			hm     [2]int
			counts bool
		}{{[2]int{5, 59}, false}, {[2]int{6, 0}, true}} {
			taken := time.Date(2026, 3, 10, at.hm[0], at.hm[1], 0, 0, bj)
			clock.T = taken.Add(time.Second)
			c, _, _, err := phone.checkin(db, ciIn(taken, 18.25, 109.5))
			if err != nil || c.Counts != at.counts {
				t.Fatalf("%02d:%02d: counts %v (checks %v), want %v; %v", at.hm[0], at.hm[1], c.Counts, c.Checks, at.counts, err)
			}
		}
		day = storetest.Must(db.CheckinToday(ctx, w.person.ID))
		if !day.Done || !day.Open || day.Count != 3 {
			t.Fatalf("today after 06:00: %+v", day)
		}
		// 11 March: a good check-in taken at 10:00 and one from Guangzhou,
		// both sent on the 12th (synced late).
		good11 := ciIn(time.Date(2026, 3, 11, 10, 0, 0, 0, bj), 18.25, 109.5)
		away12 := ciIn(time.Date(2026, 3, 12, 10, 0, 0, 0, bj), 23.13, 113.26)
		clock.T = time.Date(2026, 3, 13, 9, 0, 0, 0, bj)
		if c, _, _, err := phone.checkin(db, good11); err != nil || !c.Counts || !slices.Equal(c.Checks, []casework.Verdict{casework.VerdictSyncedLate}) {
			t.Fatalf("synced late, good position: %+v %v", c, err)
		}
		if c, _, _, err := phone.checkin(db, away12); err != nil || c.Counts || c.Verdict != casework.VerdictOutsideArea {
			t.Fatalf("synced late from outside the area: %+v %v", c, err)
		}
		d := storetest.Must(db.PersonDuty(ctx, w.worker, w.person.ID, pfD("2026-03-09"), pfD("2026-03-13")))
		// Due 9–13 (5 days); done 10 and 11; missed 9, 12 and 13 (today, so far).
		if d.Due != 5 || d.Done != 2 || !slices.Equal(d.Missed, []casework.Date{pfD("2026-03-09"), pfD("2026-03-12"), pfD("2026-03-13")}) {
			t.Fatalf("duty %+v", d)
		}
		// The nightly detection agrees (R9 counts missed days on it).
		clock.T = time.Date(2026, 3, 14, 2, 0, 0, 0, bj)
		storetest.Must(db.DetectViolations(ctx, pfD("2026-03-14")))
		vs, _, err := db.ListViolations(ctx, w.lead, store.ViolationFilter{PersonID: w.person.ID, Kind: casework.ViolationMissedCheckin})
		if err != nil {
			t.Fatal(err)
		}
		var days []casework.Date
		for _, v := range vs {
			days = append(days, v.Day)
		}
		slices.SortFunc(days, func(a, b casework.Date) int { return a.Compare(b) })
		if !slices.Equal(days, []casework.Date{pfD("2026-03-09"), pfD("2026-03-12"), pfD("2026-03-13")}) {
			t.Fatalf("missed days detected: %v", days)
		}
		// A county that counts any check-in (from the 15th): the same bad
		// check-in then discharges the day.
		storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.county.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-03-15"),
			Settings: map[string]string{"checkin.counts": casework.CountsAny}, Note: "试行"}))
		at := time.Date(2026, 3, 15, 3, 23, 0, 0, bj)
		clock.T = at.Add(time.Minute)
		bad = ciIn(at, 23.13, 113.26)
		bad.AccuracyM = 450
		if c, _, _, err := phone.checkin(db, bad); err != nil || !c.Counts || len(c.Checks) != 3 {
			t.Fatalf("under checkin.counts=any: %+v %v", c, err)
		}
	})
}

// Issue 18 §4: duty starts on the local date of activation. 23:59 Beijing
// on 15 March (15:59 UTC) owes the 15th; 00:01 on 16 March (16:01 UTC on
// the 15th) does not owe the 15th. A device retired on the 20th and a new
// one activated on the 25th: the 20th–24th owe nothing (no means to check
// in) and the person is on the no-device list meanwhile. The inbox's
// "missed today" and the board leave persons without an app out.
func TestCheckinDutyStartsWithThePhone(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	storetest.EachWithClock(t, time.Date(2026, 3, 15, 15, 59, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		mk := func(name string, n int) *casework.Person {
			m := pfReported(pfD("2026-02-25"), pfD("2026-03-01"))
			m.WorkerID = w.worker.UserID
			return storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, name, pfID("19900101", n, true)), m))
		}
		late, never := mk("晚激活", 41), mk("无手机", 43)
		phone := ciActivate(t, db, w.worker, w.person.ID) // 23:59 on the 15th
		clock.T = time.Date(2026, 3, 15, 16, 1, 0, 0, time.UTC)
		ciActivate(t, db, w.worker, late.ID) // 00:01 on the 16th
		clock.T = time.Date(2026, 3, 16, 12, 0, 0, 0, bj)
		duty := func(p *casework.Person, from, to string) casework.Duty {
			t.Helper()
			return storetest.Must(db.PersonDuty(ctx, w.worker, p.ID, pfD(from), pfD(to)))
		}
		if d := duty(w.person, "2026-03-01", "2026-03-16"); d.Due != 2 || d.Missed[0] != pfD("2026-03-15") {
			t.Fatalf("activated 23:59 on the 15th: %+v, want the 15th and 16th due", d)
		}
		if d := duty(late, "2026-03-01", "2026-03-16"); d.Due != 1 || d.Missed[0] != pfD("2026-03-16") {
			t.Fatalf("activated 00:01 on the 16th: %+v, want only the 16th due", d)
		}
		if d := duty(never, "2026-03-01", "2026-03-16"); d.Due != 0 {
			t.Fatalf("never activated: %+v, want nothing due", d)
		}
		if day := storetest.Must(db.CheckinToday(ctx, never.ID)); day.Due {
			t.Fatalf("today without an app: %+v", day)
		}
		board, _ := ciMust2(db.TodayBoard(ctx, w.lead, w.street.ID))
		for _, b := range board {
			if b.NoApp != (b.PersonID == never.ID) {
				t.Errorf("board %s: no app %v", b.Name, b.NoApp)
			}
		}
		if board[len(board)-1].PersonID != never.ID {
			t.Errorf("the person without an app is not last: %+v", board)
		}
		names := func() []string {
			var out []string
			for _, p := range storetest.Must(db.DevicelessPersons(ctx, w.worker, w.comm.ID)) {
				out = append(out, p.Name)
			}
			return out
		}
		if got := names(); !slices.Equal(got, []string{"无手机"}) {
			t.Fatalf("no-device list: %v", got)
		}
		// 22:00 on the 16th: the window has ended. Missed today: the two with
		// a phone, not the one without.
		clock.T = time.Date(2026, 3, 16, 22, 0, 0, 0, bj)
		var missed []string
		for _, x := range storetest.Must(db.Inbox(ctx, w.worker)) {
			if x.Kind == "checkin_missed" {
				missed = append(missed, x.PersonName)
			}
		}
		slices.Sort(missed)
		if want := []string{"晚激活", "王小明"}; !slices.Equal(missed, want) {
			t.Fatalf("inbox missed today: %v, want %v", missed, want)
		}
		// The gap: retired on the 20th, a new phone on the 25th.
		clock.T = time.Date(2026, 3, 20, 9, 0, 0, 0, bj)
		if err := db.RetireDevice(ctx, w.worker, phone.dev.ID, "手机丢失"); err != nil {
			t.Fatal(err)
		}
		if got := names(); !slices.Equal(got, []string{"王小明", "无手机"}) && !slices.Equal(got, []string{"无手机", "王小明"}) {
			t.Fatalf("no-device list after the retirement: %v", got)
		}
		clock.T = time.Date(2026, 3, 25, 9, 0, 0, 0, bj)
		ciActivate(t, db, w.worker, w.person.ID)
		clock.T = time.Date(2026, 3, 26, 12, 0, 0, 0, bj)
		d := duty(w.person, "2026-03-15", "2026-03-26")
		want := []casework.Date{pfD("2026-03-15"), pfD("2026-03-16"), pfD("2026-03-17"), pfD("2026-03-18"), pfD("2026-03-19"),
			pfD("2026-03-25"), pfD("2026-03-26")}
		if d.Due != 7 || !slices.Equal(d.Missed, want) {
			t.Fatalf("across the gap: %+v, want due %v", d, want)
		}
		// The detection judges the same days.
		clock.T = time.Date(2026, 3, 27, 2, 0, 0, 0, bj)
		storetest.Must(db.DetectViolations(ctx, pfD("2026-03-27")))
		vs, _, err := db.ListViolations(ctx, w.lead, store.ViolationFilter{PersonID: w.person.ID, Kind: casework.ViolationMissedCheckin})
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 7 {
			t.Fatalf("detected %d missed days, want 7 (none before the phone, none in the gap)", len(vs))
		}
	})
}
