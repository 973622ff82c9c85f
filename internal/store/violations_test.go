package store_test

// Violations and serious cases (issue 5 §4; R8, R9, R10, R29): the nightly
// detection at R9's boundaries, idempotent and incremental, on SQLite and
// (with KANGFU_TEST_POSTGRES) PostgreSQL.

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// vWorld: ciBuild's county (20 km circle around Sanya) with one person
// reported on 2026-01-01, a device, and a clock.
type vWorld struct {
	ciWorld
	dev   string
	clock *storetest.Clock
	db    *store.DB
	t     *testing.T
}

var (
	homeLat, homeLng = 18.25, 109.5
	awayLat, awayLng = 23.13, 113.26 // 广州
	vStart           = pfD("2026-01-01")
)

func vBuild(t *testing.T, db *store.DB, clock *storetest.Clock) *vWorld {
	t.Helper()
	w := &vWorld{ciWorld: ciBuild(t, db, vStart), clock: clock, db: db, t: t}
	w.dev = ciActivate(t, db, w.worker, w.person.ID).dev.ID
	return w
}

// days seeds check-ins on days [from, from+n) of the term (day 0 =
// 2026-01-01): away or at home.
func (w *vWorld) days(from, n int, away bool) {
	w.t.Helper()
	lat, lng, v := homeLat, homeLng, casework.VerdictOK
	if away {
		lat, lng, v = awayLat, awayLng, casework.VerdictOutsideArea
	}
	for i := from; i < from+n; i++ {
		if err := store.SeedCheckin(ctx, w.db, w.person.ID, w.dev, w.comm.ID, vStart.AddDays(i), lat, lng, v); err != nil {
			w.t.Fatal(err)
		}
	}
}

// night runs the detection on the morning of term day d.
func (w *vWorld) night(d int) store.DetectResult {
	w.t.Helper()
	today := vStart.AddDays(d)
	w.clock.T = today.In(casework.LoadLocation("Asia/Shanghai")).Add(2 * time.Hour)
	r, err := w.db.DetectViolations(ctx, today)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *vWorld) violations(kind casework.ViolationKind) []*store.Violation {
	w.t.Helper()
	vs, _, err := w.db.ListViolations(ctx, w.lead, store.ViolationFilter{PersonID: w.person.ID, Kind: kind})
	if err != nil {
		w.t.Fatal(err)
	}
	return vs
}

func (w *vWorld) cases() []*store.SeriousCase {
	w.t.Helper()
	cs, _, err := w.db.ListSeriousCases(ctx, w.lead, store.CaseFilter{PersonID: w.person.ID})
	if err != nil {
		w.t.Fatal(err)
	}
	return cs
}

func vClock() time.Time { return time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC) }

// R9: 30 days away is no serious case, the 31st day opens exactly one; a
// trip counts once however long; nights are incremental and a rerun adds
// nothing.
func TestDetectAbsenceBoundary(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		w.days(0, 5, false)
		w.days(5, 30, true) // days 5..34
		w.night(35)
		deps := w.violations(casework.ViolationDeparture)
		if len(deps) != 1 || deps[0].Days != 30 || deps[0].Day != vStart.AddDays(5) {
			t.Fatalf("after 30 days away: %+v", deps)
		}
		if cs := w.cases(); len(cs) != 0 {
			t.Fatalf("30 days is not more than 30: %+v", cs)
		}
		w.days(35, 1, true)
		r := w.night(36)
		if r.Days != 1 {
			t.Errorf("the second night judged %d days, want 1 (incremental)", r.Days)
		}
		deps = w.violations(casework.ViolationDeparture)
		if len(deps) != 1 || deps[0].Days != 31 {
			t.Fatalf("after 31 days: %+v", deps)
		}
		cs := w.cases()
		if len(cs) != 1 || cs[0].Trigger != casework.TriggerAbsence || cs[0].State != casework.CaseOpen || cs[0].PolicyRef == "" {
			t.Fatalf("31 days: want one absence case with its policy, got %+v", cs)
		}
		w.days(36, 2, true)
		w.night(38)
		if cs := w.cases(); len(cs) != 1 {
			t.Fatalf("the same crossing opened another case: %+v", cs)
		}
		again := w.night(38)
		if again.Total() != 0 || again.Cases != 0 || again.Days != 0 {
			t.Fatalf("a rerun did something: %+v", again)
		}
		if n := len(w.violations(casework.ViolationDeparture)); n != 1 {
			t.Fatalf("departures: %d, want one", n)
		}
		// A check-in outside the area does not discharge the day (issue 18
		// §2): each of the 33 away days is also a missed check-in.
		if n := len(w.violations(casework.ViolationMissedCheckin)); n != 33 {
			t.Fatalf("missed check-ins: %d, want the 33 away days", n)
		}
	})
}

// R9: three trips are three departures and a serious case; two are not;
// a trip with approved leave in the middle counts once; two days away is
// below the R8 threshold.
func TestDetectDepartures(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		w.days(0, 60, false)
		// Trip 1: days 3–5. A two-day outing: days 10–11 (R8: no report needed).
		// Trip 2: days 20–21 away, 22–25 approved leave (away), 26 away.
		for _, d := range []int{3, 4, 5, 10, 11, 20, 21, 22, 23, 24, 25, 26} {
			w.reseed(d, true)
		}
		in := store.LeaveCreate{LeaveInput: casework.LeaveInput{Kind: casework.LeaveKindLeave, Province: "440000", City: "广州市",
			From: vStart.AddDays(22), To: vStart.AddDays(25), Reason: "探亲"}}
		clock.T = vStart.AddDays(21).In(casework.LoadLocation("Asia/Shanghai")).Add(10 * time.Hour)
		l := storetest.Must(db.CreateLeave(ctx, w.worker, w.person.ID, in))
		storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意"}))
		w.night(40)
		deps := w.violations(casework.ViolationDeparture)
		if len(deps) != 2 {
			t.Fatalf("want 2 departures (trip 1, trip 2 across the leave), got %d: %+v", len(deps), deps)
		}
		for _, d := range deps {
			if d.Day == vStart.AddDays(20) && d.Days != 3 {
				t.Errorf("trip 2: %d unauthorised days, want 3 (leave days not counted)", d.Days)
			}
		}
		if cs := w.cases(); len(cs) != 0 {
			t.Fatalf("two departures: no case, got %+v", cs)
		}
		w.reseed(45, true)
		w.reseed(46, true)
		w.reseed(47, true)
		w.night(50)
		if deps := w.violations(casework.ViolationDeparture); len(deps) != 3 {
			t.Fatalf("want 3 departures, got %d", len(deps))
		}
		cs := w.cases()
		if len(cs) != 1 || cs[0].Trigger != casework.TriggerDepartures {
			t.Fatalf("3 departures: one case, got %+v", cs)
		}
	})
}

// reseed replaces day d's home check-in by an away one (or the reverse).
func (w *vWorld) reseed(d int, away bool) {
	w.t.Helper()
	if err := store.DeleteCheckinsOn(ctx, w.db, w.person.ID, vStart.AddDays(d)); err != nil {
		w.t.Fatal(err)
	}
	w.days(d, 1, away)
}

// R9 refusals: 2 → none, 3 → one case; an excused refusal is not counted.
// R10: a positive test opens a case at once.
func TestDetectRefusalsAndPositive(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		w.days(0, 40, false)
		clock.T = vStart.AddDays(10).In(casework.LoadLocation("Asia/Shanghai")).Add(10 * time.Hour)
		test := func(day int, outcome string) {
			t.Helper()
			in := casework.DrugTestInput{TestedOn: vStart.AddDays(day), Place: "椰林派出所", Sample: "urine", Outcome: outcome,
				StaffIDs: []string{w.police.UserID, w.worker.UserID}}
			if outcome != casework.OutcomeRefused {
				in.Substances = []string{"吗啡"}
			}
			if outcome == casework.OutcomePositive {
				in.Positive, in.SampleA, in.SampleB, in.SealNo = []string{"吗啡"}, "A1", "B1", "S1"
			}
			storetest.Must(db.RecordTest(ctx, w.police, w.person.ID, in))
		}
		test(2, casework.OutcomeRefused)
		test(3, casework.OutcomeRefused)
		test(4, casework.OutcomeNegative)
		w.night(11)
		refs := w.violations(casework.ViolationRefusedTest)
		if len(refs) != 2 || !refs[0].PoliceRequired {
			t.Fatalf("two refusals, each to report (R10): %+v", refs)
		}
		if cs := w.cases(); len(cs) != 0 {
			t.Fatalf("2 refusals: no case, got %+v", cs)
		}
		// Excuse one (a lead, with a reason); the third refusal makes 2 counted.
		storetest.Must(db.ReviewViolation(ctx, w.lead, refs[0].ID, casework.ViolationReview{Action: casework.ActExcuse, Reason: "住院，有诊断证明"}))
		clock.T = clock.T.Add(24 * time.Hour)
		test(11, casework.OutcomeRefused)
		w.night(13)
		if cs := w.cases(); len(cs) != 0 {
			t.Fatalf("an excused refusal was counted: %+v", cs)
		}
		clock.T = clock.T.Add(24 * time.Hour)
		test(13, casework.OutcomeRefused)
		w.night(15)
		cs := w.cases()
		if len(cs) != 1 || cs[0].Trigger != casework.TriggerRefusals {
			t.Fatalf("3 counted refusals: one case, got %+v", cs)
		}
		clock.T = clock.T.Add(24 * time.Hour)
		test(15, casework.OutcomePositive)
		w.night(17)
		w.night(17)
		cs = w.cases()
		if len(cs) != 2 {
			t.Fatalf("R10: a positive opens a case at once (and once): %+v", cs)
		}
		if len(w.violations(casework.ViolationPositiveTest)) != 1 {
			t.Fatal("positive violation")
		}
	})
}

// Missed days: one violation per due day without check-in; a check-in
// that syncs late explains it; rerunning creates nothing.
func TestDetectMissedAndLate(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		w.days(0, 5, false)
		w.days(6, 4, false) // day 5 missed
		first := w.night(10)
		miss := w.violations(casework.ViolationMissedCheckin)
		if len(miss) != 1 || miss[0].Day != vStart.AddDays(5) || first.Created[casework.ViolationMissedCheckin] != 1 {
			t.Fatalf("missed: %+v %+v", miss, first)
		}
		w.days(5, 1, false) // synced late
		w.days(10, 1, false)
		r := w.night(11)
		if r.Explained != 1 {
			t.Fatalf("late check-in explained %d", r.Explained)
		}
		miss = w.violations(casework.ViolationMissedCheckin)
		if len(miss) != 1 || miss[0].State != casework.ViolationExplained {
			t.Fatalf("after the late check-in: %+v", miss)
		}
	})
}

// The review state machine and the ladder in the store: a worker may not
// excuse; steps need a confirmed violation; warning after exhortation.
func TestViolationReviewAndLadder(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		w.days(0, 3, false)
		w.night(5) // days 3, 4 missed
		miss := w.violations(casework.ViolationMissedCheckin)
		if len(miss) != 2 {
			t.Fatalf("missed: %d", len(miss))
		}
		id := miss[0].ID
		_, err := db.ReviewViolation(ctx, w.worker, id, casework.ViolationReview{Action: casework.ActExcuse, Reason: "x"})
		pfCode(t, "worker excuses", err, casework.EFORBIDDEN)
		_, err = db.AddLadderStep(ctx, w.lead, id, casework.LadderInput{Step: casework.StepExhort, Reason: "未签到"}, nil)
		pfCode(t, "step on an open violation", err, casework.ECONFLICT)
		v := storetest.Must(db.ReviewViolation(ctx, w.worker, id, casework.ViolationReview{Action: casework.ActConfirm, Reason: "无正当理由"}))
		if v.State != casework.ViolationConfirmed {
			t.Fatalf("state %s", v.State)
		}
		_, err = db.ReviewViolation(ctx, w.lead, id, casework.ViolationReview{Action: casework.ActExcuse, Reason: "x"})
		pfCode(t, "excuse a confirmed one", err, casework.ECONFLICT)
		_, err = db.AddLadderStep(ctx, w.lead, id, casework.LadderInput{Step: casework.StepWarn, Reason: "未签到"}, nil)
		pfCode(t, "warning before exhortation", err, casework.ECONFLICT)
		v = storetest.Must(db.AddLadderStep(ctx, w.lead, id, casework.LadderInput{Step: casework.StepExhort, Reason: "未签到"}, nil))
		if len(v.Steps) != 1 || v.Highest != casework.StepExhort {
			t.Fatalf("steps %+v", v.Steps)
		}
		_, err = db.GetViolation(ctx, w.worker2(t), id)
		pfCode(t, "out of scope", err, casework.ENOTFOUND)
	})
}

func (w *vWorld) worker2(t *testing.T) *casework.Actor {
	other := storetest.Must(w.db.CreateOrg(ctx, pfSys, casework.OrgInput{Kind: casework.KindCommunity, Name: "别的社区", ParentID: w.street.ID}))
	return ciStaff(t, w.db, "v-worker2", casework.RoleWorker, other)
}

// The serious case's steps: the worker reports with a recipient, police
// acknowledge and decide, closing; the police may not report, the worker
// may not decide.
func TestSeriousCaseSteps(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		clock.T = vStart.AddDays(3).In(casework.LoadLocation("Asia/Shanghai")).Add(10 * time.Hour)
		v := storetest.Must(db.RecordDrugUse(ctx, w.worker, w.person.ID, store.DrugUseInput{Day: vStart.AddDays(2), Detail: "本人承认复吸"}))
		if v.State != casework.ViolationConfirmed {
			t.Fatalf("drug use: %+v", v)
		}
		cs := w.cases()
		if len(cs) != 1 || cs[0].Trigger != casework.TriggerDrugUse {
			t.Fatalf("R10 drug use: %+v", cs)
		}
		id := cs[0].ID
		_, err := db.StepSeriousCase(ctx, w.police, id, casework.CaseStep{Action: casework.CaseReport, Recipient: "x"}, nil)
		pfCode(t, "police report", err, casework.EFORBIDDEN)
		_, err = db.StepSeriousCase(ctx, w.worker, id, casework.CaseStep{Action: casework.CaseReport}, nil)
		pfField(t, "no recipient", err, "recipient")
		c := storetest.Must(db.StepSeriousCase(ctx, w.worker, id, casework.CaseStep{Action: casework.CaseReport, Recipient: "吉阳派出所 张警官"}, nil))
		if c.State != casework.CaseReported || c.SentAt.IsZero() {
			t.Fatalf("reported: %+v", c)
		}
		// The task inbox: the police have the case to acknowledge, nobody
		// still has it to report.
		if k := personTaskKinds(t, db, w.police, c.PersonID); k["case_police"] != 1 || k["case_report"] != 0 {
			t.Fatalf("police inbox %v", k)
		}
		if k := personTaskKinds(t, db, w.worker, c.PersonID); k["case_report"] != 0 || k["case_police"] != 0 {
			t.Fatalf("worker inbox after reporting %v", k)
		}
		storetest.Must(db.StepSeriousCase(ctx, w.police, id, casework.CaseStep{Action: casework.CaseAcknowledge}, nil))
		_, err = db.StepSeriousCase(ctx, w.worker, id, casework.CaseStep{Action: casework.CaseDecide, Decision: casework.DecisionCompulsory,
			DecisionDate: vStart.AddDays(3), Text: "x"}, nil)
		pfCode(t, "worker decides", err, casework.EFORBIDDEN)
		storetest.Must(db.StepSeriousCase(ctx, w.police, id, casework.CaseStep{Action: casework.CaseDecide, Decision: casework.DecisionCompulsory,
			DecisionDate: vStart.AddDays(3), Text: "三公（禁）决字〔2026〕1号"}, nil))
		c = storetest.Must(db.StepSeriousCase(ctx, w.worker, id, casework.CaseStep{Action: casework.CaseClose, Text: "已送强制隔离戒毒所"}, nil))
		if c.State != casework.CaseClosed {
			t.Fatalf("closed: %+v", c)
		}
		if open, _ := ciMust2(db.ListSeriousCases(ctx, w.lead, store.CaseFilter{Open: true})); len(open) != 0 {
			t.Fatal("a closed case is still open")
		}
		if closed, _ := ciMust2(db.ListSeriousCases(ctx, w.lead, store.CaseFilter{State: casework.CaseClosed})); len(closed) != 1 {
			t.Fatalf("closed cases: %d, want 1", len(closed))
		}
		_, _, err = db.ListSeriousCases(ctx, w.lead, store.CaseFilter{State: "finished"})
		pfField(t, "an unknown case state", err, "state")
	})
}

// Two servers running the night at once create every violation and case
// once (unique source keys, ON CONFLICT DO NOTHING, forward-only
// watermarks). On PostgreSQL the two runs use separate connections.
func TestDetectTwiceAtOnce(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		w.days(0, 3, false)
		w.days(4, 33, true) // day 3 missed; 33 days away: one departure, an absence case
		today := vStart.AddDays(40)
		clock.T = today.In(casework.LoadLocation("Asia/Shanghai")).Add(2 * time.Hour)
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := db.DetectViolations(ctx, today)
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		all := w.violations("")
		counts := map[casework.ViolationKind]int{}
		for _, v := range all {
			counts[v.Kind]++
		}
		// Missed: day 3, days 37–39 (no check-ins after the trip) and the 33
		// away days, whose check-ins outside the area do not count (issue 18 §2).
		if counts[casework.ViolationDeparture] != 1 || counts[casework.ViolationMissedCheckin] != 37 || len(all) != 38 {
			t.Fatalf("violations %v", counts)
		}
		if cs := w.cases(); len(cs) != 1 || cs[0].Trigger != casework.TriggerAbsence {
			t.Fatalf("cases %+v", cs)
		}
	})
}
