package store_test

// R13: the suspension clock is a policy setting (term.suspension_clock),
// default continue; pause moves the term end, and the report deadline of
// a person detained before reporting in, by the days held. On SQLite and
// (with KANGFU_TEST_POSTGRES) PostgreSQL.

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Community A keeps the default (continue); community B pauses from 20
// January. Each has a reported person (社区康复, 2 months from 1 January:
// ends 1 March) and a person pending report (received 20 January:
// deadline 4 February), all held from 28 January to 10 February, across
// the month end: 13 days.
func TestSuspensionClockPolicy_R13(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 1, 5, 4, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		if _, err := db.CreatePolicyVersion(ctx, w.lead, w.commB.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-01-20"),
			Settings: map[string]string{"term.suspension_clock": "pause"}, Note: "中止期间暂停计算"}); err != nil {
			t.Fatal(err)
		}
		reported := func(org *casework.Org, name string, seq int) *casework.Person {
			m := pfRehab(pfD("2025-12-30"), 2)
			m.ReportDate = pfD("2026-01-01")
			return storetest.Must(db.CreatePerson(ctx, w.lead, pfPerson(org, name, pfID("19800101", seq, true)), m))
		}
		a, b := reported(w.commA, "蒋续", 1), reported(w.commB, "蒋停", 2)
		c := reported(w.commB, "蒋押", 3) // held from 20 February, still held at the end date
		clock.T = time.Date(2026, 1, 21, 4, 0, 0, 0, time.UTC)
		pending := func(org *casework.Org, name string, seq int) *casework.Person {
			return storetest.Must(db.CreatePerson(ctx, w.lead, pfPerson(org, name, pfID("19800101", seq, true)), pfTreatment(pfD("2026-01-20"))))
		}
		q, p := pending(w.commA, "韩续", 4), pending(w.commB, "韩停", 5)
		r := pending(w.commA, "韩迟", 6) // detained on 5 February, after its deadline had passed: refused while free
		held := []*casework.Person{a, b, q, p}
		for d := pfD("2026-01-21"); !d.After(pfD("2026-02-20")); d = d.AddDays(1) {
			trNight(t, db, clock, d)
			if d == pfD("2026-02-05") {
				storetest.Must(db.Transition(ctx, w.lead, r.ID, store.TransitionInput{Action: casework.ActSuspend, Reason: "被行政拘留"}))
			}
			for _, x := range held {
				switch d {
				case pfD("2026-01-28"):
					if _, err := db.Transition(ctx, w.lead, x.ID, store.TransitionInput{Action: casework.ActSuspend, Reason: "被行政拘留"}); err != nil {
						t.Fatalf("suspend %s: %v", x.Name, err)
					}
				case pfD("2026-02-10"):
					storetest.Must(db.Transition(ctx, w.lead, x.ID, store.TransitionInput{Action: casework.ActResume, Reason: "拘留期满释放"}))
				}
			}
			// Q's deadline (continue) fell while held: it becomes the day of
			// release, 10 February; P's (pause) moves 13 days to 17 February.
			for _, c := range []struct {
				x        *casework.Person
				lastDays casework.Date // the night that first judges the day after the deadline
			}{{q, pfD("2026-02-12")}, {p, pfD("2026-02-19")}, {r, pfD("2026-02-06")}} {
				vs := trViolations(t, db, w.lead, c.x.ID, casework.ViolationOverdueReport)
				want := 0
				if !d.Before(c.lastDays) {
					want = 1
				}
				if len(vs) != want {
					t.Fatalf("night of %s, %s: %d deemed refusals, want %d (%+v)", d, c.x.Name, len(vs), want, vs)
				}
			}
		}
		for _, c := range []struct {
			x              *casework.Person
			status         casework.Status
			end, deadline  string
			suspended, pau int
		}{
			{a, casework.StatusExecuting, "2026-03-01", "", 13, 0},
			{b, casework.StatusExecuting, "2026-03-14", "", 13, 13},
			{q, casework.StatusPendingReport, "", "2026-02-10", 13, 0},
			{p, casework.StatusPendingReport, "", "2026-02-17", 13, 13},
		} {
			m := pfCurrent(t, db, w.lead, c.x.ID)
			if m.Status != c.status || m.TermEnd.String() != c.end || m.SuspendedDays != c.suspended || m.PausedDays != c.pau ||
				(c.deadline != "" && m.ReportDeadline.String() != c.deadline) {
				t.Fatalf("%s: %s end %s deadline %s suspended %d paused %d; want %s end %q deadline %q %d/%d", c.x.Name, m.Status, m.TermEnd,
					m.ReportDeadline, m.SuspendedDays, m.PausedDays, c.status, c.end, c.deadline, c.suspended, c.pau)
			}
		}
		// C, under pause, is held from 20 February past its end date: its
		// clock stands still, so the release job leaves it; A's ends.
		storetest.Must(db.Transition(ctx, w.lead, c.ID, store.TransitionInput{Action: casework.ActSuspend, Reason: "被逮捕"}))
		clock.T = time.Date(2026, 3, 5, 4, 0, 0, 0, time.UTC)
		if n, err := db.ReleaseExpired(ctx); err != nil || n != 1 {
			t.Fatalf("released %d, %v; want A alone", n, err)
		}
		for _, c := range []struct {
			x    *casework.Person
			want casework.Status
		}{{a, casework.StatusReleased}, {b, casework.StatusExecuting}, {c, casework.StatusSuspended}} {
			if m := pfCurrent(t, db, w.lead, c.x.ID); m.Status != c.want {
				t.Fatalf("%s on 5 March: %s, want %s", c.x.Name, m.Status, c.want)
			}
		}
		// Resumed on 6 March after 14 days held (February has 28): 1 March + 14 = 15 March.
		clock.T = time.Date(2026, 3, 6, 4, 0, 0, 0, time.UTC)
		if m := storetest.Must(db.Transition(ctx, w.lead, c.ID, store.TransitionInput{Action: casework.ActResume, Reason: "取保候审"})); m.TermEnd != pfD("2026-03-15") {
			t.Fatalf("C resumed: end %s, want 2026-03-15", m.TermEnd)
		}
	})
}
