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

// testInbox is inboxKinds limited to the test and check-in sources.
func testInbox(t *testing.T, db *store.DB, actor *casework.Actor) string {
	t.Helper()
	var out []string
	for _, k := range inboxKinds(t, db, actor) {
		if strings.HasPrefix(k, "test_") || strings.HasPrefix(k, "checkin_") {
			out = append(out, k)
		}
	}
	return strings.Join(out, " ")
}

// The inbox's test and check-in sources at their boundaries and scopes
// (issue 5 §5): a test day is due today until its deadline (18:00) and
// missed from then on; a missed day shows for 7 days back and not 8; a
// tested day is neither; a check-in is missed only once the window has
// ended (22:00) and only without a check-in that day. Workers see their
// own caseload, police the tests of their subtree and no check-ins, leads
// everything of their street; office, counsellor, admin and another
// worker of the community get none of it.
func TestInboxTestAndCheckinSources(t *testing.T) {
	// 2 March 2026, 08:00 in Beijing.
	storetest.EachWithClock(t, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		wang := storetest.Must(db.CreatePerson(ctx, w.workerB, pfPerson(w.commB, "王五", pfID("19850505", 5, true)),
			pfReported(pfD("2026-01-05"), pfD("2026-01-06"))))
		force := func(p *casework.Person, day string) {
			t.Helper()
			storetest.Must(db.ForceTestDay(ctx, w.lead, p.ID, pfD(day), "专项行动"))
		}
		// The world has no geofence: a check-in is unverifiable, which by
		// default does not count (issue 18 §2); this county counts any.
		storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.county.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-03-03"),
			Settings: map[string]string{"checkin.counts": casework.CountsAny}, Note: "无围栏"}))
		// Only persons with an app owe check-ins (issue 18 §4).
		ciActivate(t, db, w.workerA, w.person.ID)
		ciActivate(t, db, w.workerB, wang.ID)
		force(w.person, "2026-03-02") // 8 days before the 10th: out of the inbox by then
		force(w.person, "2026-03-03") // 7 days before: still shown
		force(w.woman, "2026-03-09")  // tested: never missed
		force(w.woman, "2026-03-11")  // tomorrow: not due yet
		clock.T = time.Date(2026, 3, 9, 1, 0, 0, 0, time.UTC)
		in := dtNegative(w)
		in.StaffIDs = []string{w.police.UserID, w.femaleStaff}
		storetest.Must(db.RecordTest(ctx, w.police, w.woman.ID, in))

		clock.T = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC) // 10 March, 08:00
		force(w.person, "2026-03-10")
		force(wang, "2026-03-10")
		cases := func(when string, want map[*casework.Actor]string) {
			t.Helper()
			for a, s := range want {
				if got := testInbox(t, db, a); got != s {
					t.Errorf("%s, %s: %q\nwant %q", when, a.Username, got, s)
				}
			}
		}
		none := map[*casework.Actor]string{w.office: "", w.counsellor: "", w.admin: "", w.auditor: "", w.workerA2: ""}
		with := func(m map[*casework.Actor]string) map[*casework.Actor]string {
			for a, s := range none {
				m[a] = s
			}
			return m
		}
		cases("08:00", with(map[*casework.Actor]string{
			w.workerA: "test_due:张三 test_missed:张三!",
			w.workerB: "test_due:王五",
			w.police:  "test_due:张三 test_due:王五 test_missed:张三!",
			w.lead:    "test_due:张三 test_due:王五 test_missed:张三!",
		}))
		if n := len(storetest.Must(db.Inbox(ctx, w.otherLead))); n != 0 {
			t.Errorf("another street's lead: %d tasks", n)
		}

		// 17:59 still due; 18:00 missed (test.hours ends 18:00).
		clock.T = time.Date(2026, 3, 10, 9, 59, 0, 0, time.UTC)
		cases("17:59", map[*casework.Actor]string{w.workerA: "test_due:张三 test_missed:张三!"})
		clock.T = time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
		cases("18:00", with(map[*casework.Actor]string{
			w.workerA: "test_missed:张三! test_missed:张三!",
			w.workerB: "test_missed:王五!",
			w.police:  "test_missed:张三! test_missed:张三! test_missed:王五!",
		}))

		// Check-ins: 李梅 checks in at noon; at 21:59 the window (06:00–22:00)
		// is open, at 22:00 the two others have missed today.
		phone := ciActivate(t, db, w.workerA, w.woman.ID)
		if _, _, _, err := phone.checkin(db, ciIn(time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC), 18.25, 109.5)); err != nil {
			t.Fatal(err)
		}
		clock.T = time.Date(2026, 3, 10, 13, 59, 0, 0, time.UTC)
		cases("21:59", map[*casework.Actor]string{w.workerA: "test_missed:张三! test_missed:张三!"})
		clock.T = time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
		cases("22:00", with(map[*casework.Actor]string{
			w.workerA: "checkin_missed:张三! test_missed:张三! test_missed:张三!",
			w.workerB: "checkin_missed:王五! test_missed:王五!",
			w.police:  "test_missed:张三! test_missed:张三! test_missed:王五!",
			w.lead:    "checkin_missed:张三! checkin_missed:王五! test_missed:张三! test_missed:张三! test_missed:王五!",
		}))
		ts := storetest.Must(db.Inbox(ctx, w.workerA))
		i := slices.IndexFunc(ts, func(x store.Task) bool { return x.Kind == "checkin_missed" })
		if i < 0 || ts[i].Link != "/persons/"+w.person.ID+"/checkins" || ts[i].Due != pfD("2026-03-10") {
			t.Errorf("the check-in task: %+v", ts)
		}

		// 11 March 08:00: yesterday's check-in task is gone (the night's
		// detection has it); 李梅's day is due, the 10th missed, and the 3rd,
		// now 8 days back, gone.
		clock.T = time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
		cases("11 March", map[*casework.Actor]string{
			w.workerA: "test_due:李梅 test_missed:张三!",
		})
		for _, x := range storetest.Must(db.Inbox(ctx, w.workerA)) {
			switch x.Kind {
			case "test_due":
				if x.Link != "/persons/"+w.woman.ID+"/tests" || x.Overdue || !strings.Contains(x.TitleZH, "18:00") {
					t.Errorf("due task %+v", x)
				}
			case "test_missed":
				if x.Link != "/persons/"+w.person.ID+"/schedule" || x.Due != pfD("2026-03-10") {
					t.Errorf("missed task %+v", x)
				}
			}
		}
	})
}
