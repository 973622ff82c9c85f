package store_test

import (
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
