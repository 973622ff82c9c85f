package store_test

// Test days and approved leave (issue 10 §5; R8, R9, R22): a draw avoids
// days covered by approved leave while its interval has others; where the
// whole interval lies in leave the day is a remote test; a missed remote
// test is an evasion only by policy. Every draw still recomputes
// (verify-draws): the leave days are written into the draw's excluded days.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

func intervalDraw(t *testing.T, db *store.DB, w leaveWorld, from string) *store.TestDay {
	t.Helper()
	s := storetest.Must(db.PersonSchedule(ctx, w.lead, w.person.ID))
	i := slices.IndexFunc(s.Intervals, func(iv store.ScheduleInterval) bool { return iv.From == pfD(from) })
	if i < 0 || s.Intervals[i].Draw == nil {
		t.Fatalf("interval from %s not drawn", from)
	}
	return s.Intervals[i].Draw
}

func approvedLeave(t *testing.T, db *store.DB, w leaveWorld, kind casework.LeaveKind, from, to casework.Date) *store.Leave {
	t.Helper()
	in := store.LeaveCreate{LeaveInput: casework.LeaveInput{Kind: kind, Province: "440000", City: "广州市", From: from, To: to, Reason: "探亲"}}
	if kind == casework.LeaveKindWorkAway {
		in.Reason, in.Employer, in.WorkAddress = "务工", "广州某电子厂", "广州市白云区某路1号"
	}
	l := storetest.Must(db.CreateLeave(ctx, w.workerA, w.person.ID, in))
	return storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意"}))
}

func TestDrawsR9AvoidApprovedLeaveOrTestRemotely(t *testing.T) {
	for _, evasion := range []bool{false, true} {
		name := "missed remote test is not an evasion (default)"
		if evasion {
			name = "missed remote test is an evasion by policy"
		}
		t.Run(name, func(t *testing.T) {
			storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
				w := newLeaveWorld(t, db)
				if evasion {
					storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.street.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-03-11"),
						Settings: map[string]string{"test.remote_missed_evasion": "true"}, Note: "本地规定"}))
				}
				mustRun(t, db)
				// Reported 2026-01-06, monthly in year 1 (R22): 03-06..04-05
				// is drawn from tomorrow on; 04-06..05-05 is in the horizon.
				drawn := intervalDraw(t, db, w, "2026-03-06")
				if !drawn.Day.After(pfD("2026-03-10")) {
					t.Fatalf("interval 03-06 drawn on %s, not ahead", drawn.Day)
				}
				// Approved leave over the drawn day (and a day each side,
				// kept inside the window): the day moves out of it.
				from, to := drawn.Day.AddDays(-1), drawn.Day.AddDays(1)
				if from.Before(pfD("2026-03-11")) {
					from = pfD("2026-03-11")
				}
				if to.After(pfD("2026-04-05")) {
					to = pfD("2026-04-05")
				}
				approvedLeave(t, db, w, casework.LeaveKindLeave, from, to)
				if r := mustRun(t, db); r.Moved == 0 {
					t.Fatalf("the approved leave moved no draw: %+v", r)
				}
				moved := intervalDraw(t, db, w, "2026-03-06")
				if moved.ID != drawn.ID || moved.Remote || !moved.Day.After(to) && !moved.Day.Before(from) {
					t.Fatalf("draw in leave %s..%s: was %s, now %s (remote %v)", from, to, drawn.Day, moved.Day, moved.Remote)
				}
				if !moved.Day.After(pfD("2026-03-05")) || moved.Day.After(pfD("2026-04-05")) {
					t.Fatalf("moved out of its interval: %s", moved.Day)
				}
				if again := mustRun(t, db); again != (store.DrawRun{}) {
					t.Fatalf("a second run changed something: %+v", again)
				}
				// Working away over the whole of 04-06..05-05: the day stays
				// in the interval and is a remote test.
				approvedLeave(t, db, w, casework.LeaveKindWorkAway, pfD("2026-04-06"), pfD("2026-05-10"))
				mustRun(t, db)
				remote := intervalDraw(t, db, w, "2026-04-06")
				if !remote.Remote || remote.Day.Before(pfD("2026-04-06")) || remote.Day.After(pfD("2026-05-05")) {
					t.Fatalf("interval wholly in leave: want a remote day inside it, got %s remote %v", remote.Day, remote.Remote)
				}
				// The app says so on the day.
				sh := casework.LoadLocation("Asia/Shanghai")
				clock.T = remote.Day.In(sh).Add(10 * time.Hour)
				today := storetest.Must(db.AppTestsToday(ctx, w.person.ID))
				if len(today) != 1 || !today[0].Remote || !strings.Contains(store.TestRemoteTodayText("zh", "18:00"), "异地检测") {
					t.Fatalf("the app's today on the remote day: %+v", today)
				}
				// Missed: listed as missed, an evasion only by policy.
				clock.T = remote.Day.AddDays(1).In(sh).Add(2 * time.Hour)
				storetest.Must(db.DetectViolations(ctx, remote.Day.AddDays(1)))
				missed := storetest.Must(db.MissedTestsBetween(ctx, remote.Day, remote.Day))
				if len(missed) != 1 || !missed[0].Remote {
					t.Fatalf("the remote day is not listed as missed: %+v", missed)
				}
				vs, _, err := db.ListViolations(ctx, w.lead, store.ViolationFilter{PersonID: w.person.ID, Kind: casework.ViolationMissedTest})
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, v := range vs {
					if v.Day == remote.Day {
						n++
					}
				}
				if want := map[bool]int{false: 0, true: 1}[evasion]; n != want {
					t.Fatalf("evasions for the missed remote day: %d, want %d", n, want)
				}
				// verify-draws recomputes every draw once the months are
				// revealed: the moved one from its recorded leave days.
				for range 3 {
					clock.Add(31 * 24 * time.Hour)
					mustRun(t, db)
				}
				_, exported, err := db.ExportDraws(ctx)
				if err != nil {
					t.Fatal(err)
				}
				i := slices.IndexFunc(exported, func(d casework.DrawRecord) bool { return d.ID == drawn.ID })
				if i < 0 || exported[i].Day != moved.Day || !strings.Contains(exported[i].Excluded, from.String()) {
					t.Fatalf("the moved draw's export does not record the leave: %+v", exported)
				}
				rep := storetest.Must(db.VerifyDraws(ctx))
				if !rep.OK() || rep.DrawsChecked < 3 {
					t.Fatalf("verify-draws: %+v", rep)
				}
			})
		})
	}
}
