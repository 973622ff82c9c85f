package store_test

import (
	"slices"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

type surpriseDraw struct {
	ID, Period               string
	Day, IntervalFrom, WinTo casework.Date
}

// surpriseDraws are the person's surprise draws as the lead sees them
// (future days included).
func surpriseDraws(t *testing.T, db *store.DB, lead *casework.Actor, personID string) map[string]surpriseDraw {
	t.Helper()
	s := storetest.Must(db.PersonSchedule(ctx, lead, personID))
	out := map[string]surpriseDraw{}
	for _, d := range s.Surprise {
		out[d.ID] = surpriseDraw{d.ID, d.Period, d.Day, d.IntervalFrom, d.IntervalTo}
	}
	return out
}

// R24, R31, R32: a confirmed high tier (6 surprise tests per term against
// the general 3) re-splits the surprise segments from the day it takes
// effect: tomorrow gets a segment of its own, about a sixth of the term
// long; draws of today and before stay exactly as they were; another
// person's draws do not move; a second run changes nothing; and every
// draw still recomputes from the revealed seeds (verify-draws).
func TestRiskTierRaisesSurpriseTestsFromTomorrowR31(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		today, tomorrow := pfD("2026-03-10"), pfD("2026-03-11")
		mustRun(t, db)
		beforeA, beforeB := surpriseDraws(t, db, w.lead, w.a.ID), surpriseDraws(t, db, w.lead, w.b.ID)
		if len(beforeA) == 0 {
			t.Fatal("no surprise draw before the tier")
		}
		form := storetest.Must(db.RiskAssessForm(ctx, w.workerA, w.a.ID))
		x := lowRisk(form.Instrument)
		x.Overrides[casework.OverrideMental] = casework.RiskAnswer{Value: "yes"}
		a := storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, x, "first", ""))
		// A proposal alone changes no draw (R32).
		if r := mustRun(t, db); r != (store.DrawRun{}) {
			t.Fatalf("an unconfirmed proposal redrew: %+v", r)
		}
		storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierHigh, "精神状况不稳定"))
		mustRun(t, db)
		afterA := surpriseDraws(t, db, w.lead, w.a.ID)
		for id, b := range beforeA {
			if b.Day.After(today) {
				continue
			}
			if afterA[id] != b {
				t.Errorf("a past or today's draw changed: %+v → %+v", b, afterA[id])
			}
		}
		var fresh *surpriseDraw
		for _, d := range afterA {
			if d.Day.After(today) && d.IntervalFrom.Before(tomorrow) {
				t.Errorf("a future draw kept the old segment: %+v", d)
			}
			if d.IntervalFrom == tomorrow {
				fresh = &d
			}
		}
		if fresh == nil {
			t.Fatalf("no surprise segment from tomorrow: %+v", afterA)
		}
		// 3 per three-year term: 365-day segments; 6: about 172 days.
		if fresh.WinTo.After(tomorrow.AddDays(200)) || fresh.WinTo.Before(tomorrow.AddDays(150)) || fresh.Day.Before(tomorrow) {
			t.Errorf("the new segment is not a sixth of the term: %+v", fresh)
		}
		if afterB := surpriseDraws(t, db, w.lead, w.b.ID); len(afterB) != len(beforeB) {
			t.Errorf("another person's draws moved: %v → %v", beforeB, afterB)
		} else {
			for id, b := range beforeB {
				if afterB[id] != b {
					t.Errorf("another person's draw moved: %+v → %+v", b, afterB[id])
				}
			}
		}
		if r := mustRun(t, db); r != (store.DrawRun{}) {
			t.Errorf("second run after the tier: %+v", r)
		}
		// Months later, with the seeds revealed, every draw verifies.
		clock.Add(200 * 24 * time.Hour)
		mustRun(t, db)
		rep := storetest.Must(db.VerifyDraws(ctx))
		if !rep.OK() || rep.DrawsChecked == 0 {
			t.Fatalf("verify after the tier change: %+v", rep)
		}
		if _, ok := surpriseDraws(t, db, w.lead, w.a.ID)[fresh.ID]; !ok {
			t.Errorf("the new segment's draw was dropped later")
		}
	})
}

// R31, R32: the person list filters and counts by the confirmed tier in
// force today — a decision counts from the next day, a proposal never —
// within the reader's scope; a counsellor, who sees no tiers, gets no
// counts and finds no one by tier.
func TestPersonListByTierR31(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		other := storetest.Must(db.CreatePerson(ctx, w.workerB, pfPerson(w.commB, "王丙", pfID("19920101", 3, true)), pfReported(pfD("2026-01-05"), pfD("2026-01-06"))))
		form := storetest.Must(db.RiskAssessForm(ctx, w.workerA, w.a.ID))
		x := lowRisk(form.Instrument)
		x.Overrides[casework.OverrideMental] = casework.RiskAnswer{Value: "yes"}
		a := storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, x, "first", ""))
		storetest.Must(db.AssessRisk(ctx, w.workerA, w.b.ID, lowRisk(form.Instrument), "first", "")) // proposed only
		storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierHigh, ""))
		names := func(who *casework.Actor, tier string) []string {
			ps, n, err := db.ListPersons(ctx, who, store.PersonFilter{Tier: tier})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, p := range ps {
				out = append(out, p.Name)
			}
			if n != len(out) {
				t.Fatalf("total %d for %d rows", n, len(out))
			}
			return out
		}
		// Today the decision is not yet in force.
		if got := names(w.lead, "high"); len(got) != 0 {
			t.Fatalf("high before the effective day: %v", got)
		}
		c := storetest.Must(db.CountPersonsByTier(ctx, w.lead, store.PersonFilter{}))
		if c["high"] != 0 || c["none"] != 3 {
			t.Fatalf("counts today: %v", c)
		}
		clock.Add(24 * time.Hour)
		if got := names(w.lead, "high"); len(got) != 1 || got[0] != "张甲" {
			t.Fatalf("high from tomorrow: %v", got)
		}
		if got := names(w.lead, "none"); len(got) != 2 {
			t.Fatalf("no tier (a proposal is none): %v", got)
		}
		c = storetest.Must(db.CountPersonsByTier(ctx, w.lead, store.PersonFilter{Tier: "low"})) // the tier filter is not applied to counts
		if c["high"] != 1 || c["none"] != 2 || c["medium"] != 0 || c["low"] != 0 {
			t.Fatalf("lead's counts: %v", c)
		}
		// Worker B's scope holds only 王丙.
		if c := storetest.Must(db.CountPersonsByTier(ctx, w.workerB, store.PersonFilter{})); c["high"] != 0 || c["none"] != 1 {
			t.Fatalf("worker B's counts: %v", c)
		}
		if got := names(w.workerB, "high"); len(got) != 0 {
			t.Fatalf("worker B sees a tier outside its scope: %v", got)
		}
		if got := names(w.workerB, "none"); len(got) != 1 || got[0] != other.Name {
			t.Fatalf("worker B none: %v", got)
		}
		if c := storetest.Must(db.CountPersonsByTier(ctx, w.counsellor, store.PersonFilter{})); c != nil {
			t.Fatalf("a counsellor counted tiers: %v", c)
		}
		if got := names(w.counsellor, "none"); len(got) != 0 {
			t.Fatalf("a counsellor filtered by tier: %v", got)
		}
	})
}

// R31: a positive test and a confirmed violation after the last decided
// assessment each ask for a reassessment at once (an inbox task naming the
// trigger); the next assessment clears it — an event before the
// assessment asks for nothing.
func TestRiskTriggersPositiveTestAndViolationR31(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		form := storetest.Must(db.RiskAssessForm(ctx, w.workerA, w.a.ID))
		for _, p := range []*casework.Person{w.a, w.b} {
			a := storetest.Must(db.AssessRisk(ctx, w.workerA, p.ID, lowRisk(form.Instrument), "first", ""))
			storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierLow, ""))
			if k := riskTaskKinds(t, db, w.workerA, p.ID); len(k) != 0 {
				t.Fatalf("%s after the decision: %v", p.Name, k)
			}
		}
		clock.Add(time.Hour)
		storetest.Must(db.RecordTest(ctx, w.police, w.a.ID, casework.DrugTestInput{TestedOn: pfD("2026-03-10"), Place: "椰林派出所",
			Sample: "urine", Outcome: casework.OutcomePositive, Substances: []string{"吗啡"}, Positive: []string{"吗啡"},
			SampleA: "A1", SampleB: "B1", SealNo: "S1", StaffIDs: []string{w.police.UserID, w.workerA.UserID}}))
		// The night's detection turns the positive test into its violation (R10).
		clock.Add(24 * time.Hour)
		storetest.Must(db.DetectViolations(ctx, pfD("2026-03-11")))
		if k := riskTaskKinds(t, db, w.workerA, w.a.ID); !slices.Equal(k, []string{"risk_trigger"}) {
			t.Fatalf("positive test: %v", k)
		}
		if f := storetest.Must(db.GetRiskFile(ctx, w.lead, w.a.ID)); !slices.Contains(f.Triggers, store.TriggerPositive) {
			t.Fatalf("positive test trigger: %v", f.Triggers)
		}
		if k := riskTaskKinds(t, db, w.workerA, w.b.ID); len(k) != 0 {
			t.Fatalf("b, nothing confirmed yet: %v", k)
		}
		storetest.Must(db.RecordDrugUse(ctx, w.lead, w.b.ID, store.DrugUseInput{Day: pfD("2026-03-11"), Detail: "本人承认复吸"}))
		if k := riskTaskKinds(t, db, w.workerA, w.b.ID); !slices.Equal(k, []string{"risk_trigger"}) {
			t.Fatalf("confirmed violation: %v", k)
		}
		f := storetest.Must(db.GetRiskFile(ctx, w.lead, w.b.ID))
		if !slices.Contains(f.Triggers, store.TriggerViolation) || slices.Contains(f.Triggers, store.TriggerPositive) {
			t.Fatalf("confirmed violation trigger: %v", f.Triggers)
		}
		// Reassessed after the events: they ask for nothing more.
		clock.Add(time.Hour)
		for _, p := range []*casework.Person{w.a, w.b} {
			a := storetest.Must(db.AssessRisk(ctx, w.workerA, p.ID, lowRisk(form.Instrument), "trigger", ""))
			storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierMedium, "复吸后上调"))
			if f := storetest.Must(db.GetRiskFile(ctx, w.lead, p.ID)); len(f.Triggers) != 0 {
				t.Fatalf("%s after reassessment: %v", p.Name, f.Triggers)
			}
			if k := riskTaskKinds(t, db, w.workerA, p.ID); len(k) != 0 {
				t.Fatalf("%s tasks after reassessment: %v", p.Name, k)
			}
		}
	})
}

// R22, R31, R32: when the policy sets a tier's test interval (low: every 2
// months in year 1 against the general monthly), a confirmed low tier
// leaves today's interval, its drawn day and today's surprise count as
// they were, and shapes the intervals that begin from tomorrow on; a
// person with no confirmed tier keeps the law intervals exactly; the
// schedule says which setting gives the surprise count.
func TestRiskTierSetsTestIntervalsFromTomorrowR31(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		today := pfD("2026-03-10")
		storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.street.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-03-11"),
			Settings: map[string]string{"test.tier.low.treatment.y1_months": "2", "test.tier.low.surprise_min": "2"}, Note: "低风险减少检测"}))
		mustRun(t, db)
		before := storetest.Must(db.PersonSchedule(ctx, w.lead, w.a.ID))
		form := storetest.Must(db.RiskAssessForm(ctx, w.workerA, w.a.ID))
		a := storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, lowRisk(form.Instrument), "first", ""))
		storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierLow, ""))
		mustRun(t, db)
		after := storetest.Must(db.PersonSchedule(ctx, w.lead, w.a.ID))
		cur := func(s *store.Schedule) store.ScheduleInterval {
			for _, iv := range s.Intervals {
				if iv.Span().Contains(today) {
					return iv
				}
			}
			t.Fatal("no interval today")
			return store.ScheduleInterval{}
		}
		b, c := cur(before), cur(after)
		if b.From != c.From || b.To != c.To || b.Months != 1 || b.Draw == nil || c.Draw == nil || b.Draw.Day != c.Draw.Day {
			t.Fatalf("today's interval changed: %+v → %+v", b.TestInterval, c.TestInterval)
		}
		if after.Tier != "" || after.SurpriseMin != 3 || after.SurpriseByTier {
			t.Errorf("today's surprise count changed: tier %q, %d (by tier %v)", after.Tier, after.SurpriseMin, after.SurpriseByTier)
		}
		var next *store.ScheduleInterval
		for i, iv := range after.Intervals {
			if iv.From == c.To.AddDays(1) {
				next = &after.Intervals[i]
			}
		}
		if next == nil || next.Months != 2 || next.To != pfD("2026-06-05") || next.Source == "national" {
			t.Fatalf("the next interval should follow the low tier's 2 months: %+v", next)
		}
		if next.Draw != nil && next.Draw.Day.After(next.To) {
			t.Errorf("the next interval's draw lies outside it: %+v", next.Draw)
		}
		// Person b, never graded, keeps the monthly law intervals.
		bs := storetest.Must(db.PersonSchedule(ctx, w.lead, w.b.ID))
		for _, iv := range bs.Intervals {
			if iv.Year == 1 && iv.Months != 1 {
				t.Errorf("an ungraded person's interval changed: %+v", iv.TestInterval)
			}
		}
		// Tomorrow the low tier is in force: its own surprise count.
		clock.Add(24 * time.Hour)
		mustRun(t, db)
		tm := storetest.Must(db.PersonSchedule(ctx, w.lead, w.a.ID))
		if tm.Tier != casework.TierLow || tm.SurpriseMin != 2 || !tm.SurpriseByTier || tm.SurpriseSource.Kind != "version" {
			t.Errorf("tomorrow: tier %q, %d surprise tests (by tier %v, from %+v)", tm.Tier, tm.SurpriseMin, tm.SurpriseByTier, tm.SurpriseSource)
		}
		if r := mustRun(t, db); r != (store.DrawRun{}) {
			t.Errorf("a second run redrew: %+v", r)
		}
	})
}
