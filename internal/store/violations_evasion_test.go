package store_test

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// R9: evading a drawn or forced test day counts with refusals. Two missed
// days open no serious case; the third opens exactly one; running the
// detection again changes nothing; an excused day is never counted.
func TestDetectEvasionsCountTowardR9(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		for _, d := range []string{"2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13"} {
			storetest.Must(db.ForceTestDay(ctx, w.lead, w.woman.ID, pfD(d), "专项行动"))
		}
		// The lead excuses 03-13 before it comes: it must never count.
		sched := storetest.Must(db.PersonSchedule(ctx, w.lead, w.woman.ID))
		excused := false
		for _, d := range sched.Forced {
			if d.Day == pfD("2026-03-13") {
				if err := db.ExcuseTestDay(ctx, w.lead, w.woman.ID, d.ID, "住院治疗，有医院证明"); err != nil {
					t.Fatal(err)
				}
				excused = true
			}
		}
		if !excused {
			t.Fatalf("no forced day 03-13 in %+v", sched.Forced)
		}
		missed := func() int {
			vs, _, err := db.ListViolations(ctx, w.lead, store.ViolationFilter{PersonID: w.woman.ID, Kind: casework.ViolationMissedTest})
			if err != nil {
				t.Fatal(err)
			}
			return len(vs)
		}
		cases := func() []*store.SeriousCase {
			cs, _, err := db.ListSeriousCases(ctx, w.lead, store.CaseFilter{PersonID: w.woman.ID})
			if err != nil {
				t.Fatal(err)
			}
			return cs
		}
		// 03-12 01:00 UTC (09:00 local): the 10th and 11th have passed their
		// 18:00 deadlines, the 12th has not.
		clock.T = time.Date(2026, 3, 12, 1, 0, 0, 0, time.UTC)
		storetest.Must(db.DetectViolations(ctx, pfD("2026-03-12")))
		if n := missed(); n != 2 {
			t.Fatalf("after two missed days: %d evasions", n)
		}
		if cs := cases(); len(cs) != 0 {
			t.Fatalf("two evasions opened a case: %+v", cs)
		}
		clock.T = time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC)
		storetest.Must(db.DetectViolations(ctx, pfD("2026-03-14")))
		storetest.Must(db.DetectViolations(ctx, pfD("2026-03-14")))
		if n := missed(); n != 3 {
			t.Fatalf("after the third missed day (and an excused one): %d evasions", n)
		}
		cs := cases()
		if len(cs) != 1 || cs[0].Trigger != casework.TriggerRefusals {
			t.Fatalf("third evasion: cases %+v", cs)
		}
		// The inbox: the lead has the case to report (due the day it opened)
		// and the violations to review; another street's lead has neither;
		// the police have nothing until the case is reported to them.
		kinds := func(a *casework.Actor) map[string]int { return personTaskKinds(t, db, a, w.woman.ID) }
		if k := kinds(w.lead); k["case_report"] != 1 || k["violation_review"] < 3 || k["case_police"] != 0 {
			t.Errorf("lead's inbox: %v", k)
		}
		if k := kinds(w.otherLead); len(k) != 0 {
			t.Errorf("another street's lead sees %v", k)
		}
		if k := kinds(w.police); k["case_report"] != 0 || k["case_police"] != 0 {
			t.Errorf("police before the report: %v", k)
		}
	})
}

// Issue 5 §7: a confirmed violation's 劝诫 reaches the person (app message
// and SMS, once); a new serious case reaches the lead at once, and the
// police when it is reported to them.
func TestViolationNotices(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		for _, d := range []string{"2026-03-10", "2026-03-11", "2026-03-12"} {
			storetest.Must(db.ForceTestDay(ctx, w.lead, w.woman.ID, pfD(d), "专项行动"))
		}
		clock.T = time.Date(2026, 3, 13, 1, 0, 0, 0, time.UTC)
		storetest.Must(db.DetectViolations(ctx, pfD("2026-03-13")))
		kinds := func(a *casework.Actor) map[string]int {
			ns, err := db.ListNotifications(ctx, a, false)
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]int{}
			for _, n := range ns {
				m[n.Kind]++
			}
			return m
		}
		if k := kinds(w.lead); k["case.opened"] != 1 {
			t.Fatalf("lead's notifications after the case opened: %v", k)
		}
		if k := kinds(w.police); k["case.reported"] != 0 {
			t.Fatalf("police told before the report: %v", k)
		}
		cs, _, err := db.ListSeriousCases(ctx, w.lead, store.CaseFilter{PersonID: w.woman.ID})
		if err != nil || len(cs) != 1 {
			t.Fatalf("cases: %d %v", len(cs), err)
		}
		storetest.Must(db.StepSeriousCase(ctx, w.lead, cs[0].ID, casework.CaseStep{Action: casework.CaseReport, Recipient: "天涯派出所 张警官"}, nil))
		if k := kinds(w.police); k["case.reported"] != 1 {
			t.Fatalf("police after the report: %v", k)
		}
		// 劝诫 on a confirmed evasion: one system message for the person.
		vs, _, err := db.ListViolations(ctx, w.lead, store.ViolationFilter{PersonID: w.woman.ID, Kind: casework.ViolationMissedTest})
		if err != nil || len(vs) != 3 {
			t.Fatalf("evasions: %d %v", len(vs), err)
		}
		storetest.Must(db.ReviewViolation(ctx, w.lead, vs[0].ID, casework.ViolationReview{Action: casework.ActConfirm, Reason: "无正当理由未到检测点"}))
		before, _, err := db.ListPersonMessages(ctx, w.woman.ID)
		if err != nil {
			t.Fatal(err)
		}
		storetest.Must(db.AddLadderStep(ctx, w.lead, vs[0].ID, casework.LadderInput{Step: casework.StepExhort, Reason: "当面劝诫"}, nil))
		after, _, err := db.ListPersonMessages(ctx, w.woman.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before)+1 {
			t.Fatalf("messages: %d before, %d after the 劝诫", len(before), len(after))
		}
	})
}

// Going live with a caseload kept on paper: days before the start are never
// judged, so no missed check-in is recorded for them; days after are.
func TestStartDetectionFrom(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		ciActivate(t, db, w.workerA, w.woman.ID) // only a person with an app owes check-ins (issue 18 §4)
		n, err := db.StartDetectionFrom(ctx, casework.SystemActor("test"), pfD("2026-03-10"))
		if err != nil || n < 1 {
			t.Fatalf("start: %d %v", n, err)
		}
		clock.T = time.Date(2026, 3, 12, 1, 0, 0, 0, time.UTC)
		storetest.Must(db.DetectViolations(ctx, pfD("2026-03-12")))
		vs, _, err := db.ListViolations(ctx, w.lead, store.ViolationFilter{PersonID: w.woman.ID, Kind: casework.ViolationMissedCheckin})
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 2 || vs[0].Day.Before(pfD("2026-03-10")) || vs[1].Day.Before(pfD("2026-03-10")) {
			t.Fatalf("missed check-ins after the start on 03-10: %d", len(vs))
		}
	})
}
