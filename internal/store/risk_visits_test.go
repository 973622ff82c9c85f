package store_test

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// R27, R31, R32 (issue 13 §4): a confirmed high tier sets the home-visit
// cadence through policy (default: weekly for the high tier against the
// general monthly) from the day after it is confirmed, never the same day;
// a proposal alone changes nothing.
func TestRiskTierSetsHomeVisitCadenceFromTomorrowR31(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		// March's home visit made on Monday 03-02 (Shanghai 10:00).
		if _, _, err := db.RecordVisit(ctx, w.workerA, w.a.ID, homeVisit(store.NewID(), time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)), nil); err != nil {
			t.Fatal(err)
		}
		if h, ok := visitTasks(t, db, w.workerA, w.a.ID)["visit_home"]; ok {
			t.Fatalf("monthly cadence, March visit made: %+v", h)
		}
		form := storetest.Must(db.RiskAssessForm(ctx, w.workerA, w.a.ID))
		x := lowRisk(form.Instrument)
		x.Overrides[casework.OverrideMental] = casework.RiskAnswer{Value: "yes"}
		a := storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, x, "first", ""))
		clock.Add(24 * time.Hour) // 03-11: an unconfirmed proposal changes no duty (R32)
		if h, ok := visitTasks(t, db, w.workerA, w.a.ID)["visit_home"]; ok {
			t.Fatalf("a proposal changed the cadence: %+v", h)
		}
		storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierHigh, "精神状况不稳定"))
		// Wednesday 03-11 23:59 local: still monthly on the day of the decision.
		clock.T = time.Date(2026, 3, 11, 15, 59, 0, 0, time.UTC)
		if h, ok := visitTasks(t, db, w.workerA, w.a.ID)["visit_home"]; ok {
			t.Fatalf("the tier applied on the day it was confirmed: %+v", h)
		}
		// Thursday 03-12 00:00 local: weekly; this week (03-09..03-15) has
		// no home visit yet, due by Sunday 03-15.
		clock.Add(time.Minute)
		if h := visitTasks(t, db, w.workerA, w.a.ID)["visit_home"]; h.Kind == "" || h.Overdue || h.Due != pfD("2026-03-15") {
			t.Fatalf("high tier from the next day: %+v, want due 2026-03-15", h)
		}
		// Person b, never tiered and never visited, keeps the monthly
		// cadence: overdue for February, not for a week.
		if h := visitTasks(t, db, w.workerA, w.b.ID)["visit_home"]; !h.Overdue || h.Due != pfD("2026-02-28") || h.TitleEN != "李乙: no home visit in the period that ended 2026-02-28 (overdue)" {
			t.Fatalf("b (no tier) not monthly: %+v", h)
		}
	})
}
