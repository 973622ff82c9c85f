package store_test

// Issue 12 §1 on both engines: each figure on a hand-built March 2026 with
// the expected numbers written here; the boundaries (a report on day 15
// and one on day 16, a check-in at 23:30 on the last day of the month, a
// transfer mid-month counted once at the new place, a released person, a
// suspended stretch not due); every figure's list returns exactly the
// records counted; the rollups agree with a recount, and the dashboard
// reads them.

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

type rpWorld struct {
	county, streetA, commA, streetB, commB *casework.Org
	lead, workerA, workerB                 *casework.Actor
	p1, p2, p3, p4, p5                     *casework.Person
	march                                  store.ReportPeriod
}

func rpBuild(t *testing.T, db *store.DB, clock *storetest.Clock) rpWorld {
	t.Helper()
	bj := casework.LoadLocation("Asia/Shanghai")
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, bj) }
	mk := func(parent *casework.Org, kind casework.OrgKind, name, fence string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name, Geofence: fence}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return storetest.Must(db.CreateOrg(ctx, pfSys, in))
	}
	var w rpWorld
	w.march = store.ReportPeriod{From: pfD("2026-03-01"), To: pfD("2026-03-31")}
	clock.T = at(2026, 1, 5, 10, 0)
	city := mk(mk(nil, casework.KindProvince, "海南省", ""), casework.KindCity, "三亚市", "")
	w.county = mk(city, casework.KindCounty, "吉阳区", `{"type":"circle","lat":18.25,"lng":109.5,"radius_m":20000}`)
	w.streetA = mk(w.county, casework.KindTownship, "椰林街道", "")
	w.commA = mk(w.streetA, casework.KindCommunity, "安椰社区", "")
	w.streetB = mk(w.county, casework.KindTownship, "河东街道", "")
	w.commB = mk(w.streetB, casework.KindCommunity, "红沙社区", "")
	w.lead = ciStaff(t, db, "rp-lead", casework.RoleLead, w.county)
	w.workerA = ciStaff(t, db, "rp-worker-a", casework.RoleWorker, w.commA)
	w.workerB = ciStaff(t, db, "rp-worker-b", casework.RoleWorker, w.commB)
	// Any check-in counts from February (so 23:30, outside the default
	// window, still discharges its day); one worker for one person (R33).
	storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.county.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-02-01"),
		Settings: map[string]string{"checkin.counts": casework.CountsAny, "report.caseload_max": "1"}, Note: "统计测试"}))

	// P3 and P5 reported in January; P4 too, released on 20 March.
	w.p3 = storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.commA, "丙三", pfID("19900101", 3, true)), rpWith(pfReported(pfD("2026-01-02"), pfD("2026-01-04")), w.workerA)))
	w.p4 = storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.commB, "丁四", pfID("19900101", 4, true)), rpWith(rpRehab(pfD("2023-03-02"), pfD("2023-03-04")), w.workerB)))
	w.p5 = storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.commB, "戊五", pfID("19900101", 5, true)), rpWith(pfReported(pfD("2026-01-02"), pfD("2026-01-04")), w.workerB)))
	clock.T = at(2026, 2, 20, 9, 0)
	phone3 := ciActivate(t, db, w.workerA, w.p3.ID)
	ciActivate(t, db, w.workerB, w.p5.ID)

	// P1 and P2: decisions received on 1 March, deadline the 16th (R1).
	clock.T = at(2026, 3, 1, 9, 0)
	w.p1 = storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.commA, "甲一", pfID("19900101", 1, true)), rpWith(pfTreatment(pfD("2026-03-01")), w.workerA)))
	w.p2 = storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.commA, "乙二", pfID("19900101", 2, true)), rpWith(pfTreatment(pfD("2026-03-01")), w.workerA)))
	ms := storetest.Must(db.ListMeasures(ctx, w.lead, w.p1.ID))
	deadline := ms[0].ReportDeadline
	if deadline != pfD("2026-03-16") {
		t.Fatalf("deadline %s, want 2026-03-16 (R1: 15 days)", deadline)
	}
	// A check-in of P3 at 10:00 on 2 March at commA.
	clock.T = at(2026, 3, 2, 10, 1)
	if c, _, _, err := phone3.checkin(db, ciIn(at(2026, 3, 2, 10, 0), 18.25, 109.5)); err != nil || !c.Counts {
		t.Fatalf("check-in: %+v %v", c, err)
	}
	// P5 suspended 10–19 March (R13): not due on those days.
	clock.T = at(2026, 3, 10, 9, 0)
	storetest.Must(db.Transition(ctx, w.workerB, w.p5.ID, store.TransitionInput{Action: casework.ActSuspend, EffectiveDate: pfD("2026-03-10"), Reason: "行政拘留"}))
	// P3 moves to commB on 15 March and reports there the same day.
	clock.T = at(2026, 3, 15, 11, 0)
	office := ciStaff(t, db, "rp-office", casework.RoleOffice, w.county)
	tf := storetest.Must(db.StartTransfer(ctx, office, w.p3.ID, w.commB.ID, "本人迁居红沙社区"))
	storetest.Must(db.DecideTransfer(ctx, office, tf.ID, store.TransferDecision{Accept: true, WorkerID: w.workerB.UserID}))
	storetest.Must(db.Transition(ctx, w.workerB, w.p3.ID, store.TransitionInput{Action: casework.ActReportIn, EffectiveDate: pfD("2026-03-15")}))
	// P1 reports on day 15 (the 16th) and signs the agreement; P2 on day 16.
	clock.T = at(2026, 3, 16, 15, 0)
	storetest.Must(db.Transition(ctx, w.workerA, w.p1.ID, store.TransitionInput{Action: casework.ActReportIn, EffectiveDate: deadline}))
	storetest.Must(db.UpdateMeasure(ctx, w.workerA, w.p1.ID, store.MeasureUpdate{AgreementDate: &deadline}))
	clock.T = at(2026, 3, 17, 15, 0)
	storetest.Must(db.Transition(ctx, w.workerA, w.p2.ID, store.TransitionInput{Action: casework.ActReportIn, EffectiveDate: deadline.AddDays(1)}))
	clock.T = at(2026, 3, 21, 12, 0)
	storetest.Must(db.Transition(ctx, w.workerB, w.p5.ID, store.TransitionInput{Action: casework.ActResume, EffectiveDate: pfD("2026-03-20"), Reason: "释放"}))
	storetest.Must(db.Transition(ctx, w.workerB, w.p4.ID, store.TransitionInput{Action: casework.ActRelease, EffectiveDate: pfD("2026-03-20"), Reason: "期满"}))
	// A home visit to P1, a phone call to P2 that did not get through.
	rpVisit(t, db, w.workerA, w.p1.ID, casework.VisitInput{Kind: casework.VisitHome, State: casework.VisitDone, At: at(2026, 3, 20, 10, 0),
		Participants: []casework.Participant{{Role: "staff", Name: "rp-worker-a"}}, Condition: "stable", Notes: "在家"})
	rpVisit(t, db, w.workerA, w.p2.ID, casework.VisitInput{Kind: casework.VisitPhone, State: casework.VisitAttempt, At: at(2026, 3, 20, 11, 0),
		Participants: []casework.Participant{{Role: "staff", Name: "rp-worker-a"}}})
	storetest.Must(db.AddEvent(ctx, w.lead, casework.EventInput{OrgID: w.commA.ID, HeldOn: pfD("2026-03-05"), Topic: "禁毒宣传进社区", Kind: casework.EventLecture, Audience: 40, Place: "社区广场"}))
	storetest.Must(db.RecordGroupSession(ctx, w.lead, casework.GroupSessionInput{OrgID: w.streetA.ID, HeldOn: pfD("2026-03-21"), Topic: "复吸预防",
		Facilitator: "李老师", Place: "街道活动室", AttendeeIDs: []string{w.p1.ID, w.p2.ID}, OthersReached: 3}))
	// P3's check-in at 23:30 on 31 March (15:30 UTC): a March day.
	clock.T = at(2026, 3, 31, 23, 31)
	if c, _, _, err := phone3.checkin(db, ciIn(at(2026, 3, 31, 23, 30), 18.25, 109.5)); err != nil || !c.Counts || c.LocalDate != pfD("2026-03-31") {
		t.Fatalf("23:30 check-in: %+v %v", c, err)
	}
	clock.T = at(2026, 4, 10, 9, 0)
	return w
}

func rpFigures(t *testing.T, db *store.DB, actor *casework.Actor, org *casework.Org, p store.ReportPeriod) map[string]*store.Figure {
	t.Helper()
	out := map[string]*store.Figure{}
	for _, f := range storetest.Must(db.ComputeFigures(ctx, actor, org.ID, p, nil)) {
		out[f.Key] = f
	}
	return out
}

func TestReportFiguresR34(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := rpBuild(t, db, clock)
		figs := rpFigures(t, db, w.lead, w.county, w.march)
		type nd struct{ num, den int64 }
		want := map[string]nd{
			// P1, P2, P3, P5 under a measure on 31 March; P4 released.
			"persons":     {4, 0},
			"new_persons": {2, 0}, // P1, P2: first decisions received in March
			// R1/R2: day 15 counts, day 16 does not; only P1 signed the agreement.
			"report_rate":       {1, 2},
			"execution_rate":    {1, 2},
			"registration_rate": {2, 4}, // P3 and P5 have the app
			"visits_home":       {1, 0},
			"visits_phone":      {0, 0}, // an attempt is not a visit
			"prevention_events": {1, 0},
			"prevention_reach":  {40, 0},
			"group_sessions":    {1, 0},
			"group_reach":       {2, 0},
			"lost_contact":      {1, 0}, // P5: nothing since the report on 4 January
			"caseload":          {4, 2}, // 4 persons, 2 workers
		}
		for k, v := range want {
			f := figs[k]
			if f == nil || f.Num != v.num || f.Den != v.den {
				t.Errorf("%s = %+v, want %d/%d", k, f, v.num, v.den)
			}
		}
		if !figs["caseload"].Flagged {
			t.Errorf("caseload 2.0 above the limit 1 (R33) is not flagged")
		}
		if len(figs["lost_contact"].PolicyRefs) != 1 || figs["lost_contact"].PolicyRefs[0] != "national" {
			t.Errorf("lost contact policy refs %v, want the national default", figs["lost_contact"].PolicyRefs)
		}
		if figs["persons"].Classes["community_treatment/executing"] != [2]int64{4, 0} {
			t.Errorf("persons by kind and status: %v", figs["persons"].Classes)
		}
		// The check-in rate agrees with the duty code, person by person.
		var due, done int64
		for _, p := range []*casework.Person{w.p1, w.p2, w.p3, w.p5} {
			d := storetest.Must(db.PersonDuty(ctx, w.lead, p.ID, w.march.From, w.march.To))
			due, done = due+int64(d.Due), done+int64(d.Done)
		}
		if f := figs["checkin_rate"]; f.Num != done || f.Den != due || f.Num != 2 {
			t.Errorf("checkin rate %d/%d, want the duty code's %d/%d with 2 done", f.Num, f.Den, done, due)
		}
		// P5: suspended 10–19 March, so 21 days due, none done.
		_, rows := ciMust2(db.FigureList(ctx, w.lead, w.county.ID, w.march, "checkin_rate", ""))
		for _, r := range rows {
			if r.PersonID == w.p5.ID && (r.Den != 21 || r.Num != 0) {
				t.Errorf("P5 check-in duty %d/%d, want 0/21 (suspended days not due)", r.Num, r.Den)
			}
		}
		// The 23:30 check-in on 31 March counts on the 31st, not in April.
		last := store.ReportPeriod{From: pfD("2026-03-31"), To: pfD("2026-03-31")}
		if f := rpFigures(t, db, w.lead, w.commB, last)["checkin_rate"]; f.Num != 1 {
			t.Errorf("31 March at commB: %d/%d, want the 23:30 check-in done", f.Num, f.Den)
		}
		april := store.ReportPeriod{From: pfD("2026-04-01"), To: pfD("2026-04-01")}
		if f := rpFigures(t, db, w.lead, w.commB, april)["checkin_rate"]; f.Num != 0 {
			t.Errorf("1 April: %d done, want 0", f.Num)
		}
		// The transfer: P3 counted once, at the new place.
		a := rpFigures(t, db, w.lead, w.streetA, w.march)
		b := rpFigures(t, db, w.lead, w.streetB, w.march)
		if a["persons"].Num != 2 || b["persons"].Num != 2 {
			t.Errorf("persons at street A %d and B %d, want 2 and 2 (P3 at B only)", a["persons"].Num, b["persons"].Num)
		}
		if a["checkin_rate"].Den+b["checkin_rate"].Den != figs["checkin_rate"].Den {
			t.Errorf("check-in duty split A %d + B %d ≠ county %d", a["checkin_rate"].Den, b["checkin_rate"].Den, figs["checkin_rate"].Den)
		}
		// A worker of commA sees commA only; the county is outside its scope.
		if _, err := db.ComputeFigures(ctx, w.workerA, w.county.ID, w.march, nil); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("worker on the county: %v, want not found", err)
		}

		// Every figure's list holds exactly the records counted.
		for _, spec := range store.Figures() {
			f, rows := ciMust2(db.FigureList(ctx, w.lead, w.county.ID, w.march, spec.Key, ""))
			var n, d int64
			for _, r := range rows {
				n, d = n+r.Num, d+r.Den
				if r.PersonID != "" && r.Name == "" {
					t.Errorf("%s: a row without the person's name: %+v", spec.Key, r)
				}
			}
			if n != f.Num || d != f.Den || len(rows) != f.Rows {
				t.Errorf("%s list sums %d/%d over %d rows, figure %d/%d over %d", spec.Key, n, d, len(rows), f.Num, f.Den, f.Rows)
			}
		}

		// Rollups: rebuilt, they agree with a recount and the dashboard reads them.
		rpNoErr(t, db.RebuildRollups(ctx, store.YearBuckets(2026)))
		if diffs := storetest.Must(db.CheckRollups(ctx, store.YearBuckets(2026))); len(diffs) != 0 {
			t.Fatalf("rollups differ from a recount: %+v", diffs)
		}
		dash := storetest.Must(db.Dashboard(ctx, w.lead, w.county.ID, 2026))
		if dash.Missing || len(dash.Children) != 2 {
			t.Fatalf("dashboard missing %v, children %d", dash.Missing, len(dash.Children))
		}
		for i, spec := range store.Figures() {
			m := dash.Trend[spec.Key][2]
			if m == nil || m.Num != figs[spec.Key].Num || m.Den != figs[spec.Key].Den {
				t.Errorf("dashboard March %s = %+v, live %d/%d", spec.Key, m, figs[spec.Key].Num, figs[spec.Key].Den)
			}
			if dash.Figures[i].Key != spec.Key {
				t.Fatalf("dashboard order")
			}
		}
		if got := dash.ByChild[w.streetB.ID]["persons"]; got.Num != 2 {
			t.Errorf("street B's persons for the year: %d, want 2", got.Num)
		}
		// A visit recorded after the rollup: the check finds the drift.
		rpVisit(t, db, w.workerA, w.p1.ID, casework.VisitInput{Kind: casework.VisitOffice, State: casework.VisitDone,
			At:           time.Date(2026, 3, 25, 10, 0, 0, 0, casework.LoadLocation("Asia/Shanghai")),
			Participants: []casework.Participant{{Role: "staff", Name: "rp-worker-a"}}, Condition: "stable"})
		diffs := storetest.Must(db.CheckRollups(ctx, []string{"2026-03"}))
		if len(diffs) == 0 {
			t.Fatalf("a visit after the rollup: no difference found")
		}
		for _, d := range diffs {
			if d.Figure != "visits_office" || d.Recount[0] != 1 || d.Stored[0] != 0 {
				t.Errorf("unexpected difference %+v", d)
			}
		}
		rpNoErr(t, db.RebuildRollups(ctx, []string{"2026-03"}))
		if diffs := storetest.Must(db.CheckRollups(ctx, []string{"2026-03"})); len(diffs) != 0 {
			t.Fatalf("after rebuild: %+v", diffs)
		}
	})
}

func rpVisit(t *testing.T, db *store.DB, actor *casework.Actor, personID string, in casework.VisitInput) {
	t.Helper()
	if _, _, err := db.RecordVisit(ctx, actor, personID, in, nil); err != nil {
		t.Fatal(err)
	}
}

func rpNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func rpWith(m *casework.MeasureInput, worker *casework.Actor) *casework.MeasureInput {
	m.WorkerID = worker.UserID
	return m
}

func rpRehab(received, report casework.Date) *casework.MeasureInput {
	m := pfRehab(received, 36)
	m.ReportDate = report
	return m
}
