package store_test

// Issue 10 items on report-in, transfer, suspension and release (R2, R3,
// R11, R13, R15), on SQLite and (with KANGFU_TEST_POSTGRES) PostgreSQL.

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// trNewPlace adds a second county, street and community with a lead, a
// worker and police: the place a file is transferred to.
type trNewPlace struct {
	county, street, comm *casework.Org
	lead, worker, police *casework.Actor
}

func trPlace(t *testing.T, db *store.DB, parent *casework.Org) trNewPlace {
	t.Helper()
	mk := func(parent *casework.Org, kind casework.OrgKind, name string) *casework.Org {
		return storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{ParentID: parent.ID, Kind: kind, Name: name}))
	}
	var p trNewPlace
	p.county = mk(parent, casework.KindCounty, "崖州区")
	p.street = mk(p.county, casework.KindTownship, "崖城镇")
	p.comm = mk(p.street, casework.KindCommunity, "城西村")
	p.lead = pfStaff(t, db, "new-lead", casework.RoleLead, p.street)
	p.worker = pfStaff(t, db, "new-worker", casework.RoleWorker, p.comm)
	p.police = pfStaff(t, db, "new-police", casework.RolePolice, p.street)
	return p
}

// trTransfer starts and accepts a transfer of the person to the new place
// (no agreement date unless given).
func trTransfer(t *testing.T, db *store.DB, from *casework.Actor, to trNewPlace, personID string, agreement casework.Date) {
	t.Helper()
	tf := storetest.Must(db.StartTransfer(ctx, from, personID, to.comm.ID, "本人迁居"))
	if _, err := db.DecideTransfer(ctx, to.lead, tf.ID, store.TransferDecision{Accept: true, WorkerID: to.worker.UserID, AgreementDate: agreement}); err != nil {
		t.Fatal(err)
	}
}

func trTasks(t *testing.T, db *store.DB, actor *casework.Actor, personID, kind string) []store.Task {
	t.Helper()
	ts, err := db.Inbox(ctx, actor)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Task
	for _, x := range ts {
		if x.PersonID == personID && x.Kind == kind {
			out = append(out, x)
		}
	}
	return out
}

func trViolations(t *testing.T, db *store.DB, actor *casework.Actor, personID string, kind casework.ViolationKind) []*store.Violation {
	t.Helper()
	vs, _, err := db.ListViolations(ctx, actor, store.ViolationFilter{PersonID: personID, Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// trNight runs the detection at 02:00 Beijing time on today.
func trNight(t *testing.T, db *store.DB, clock *storetest.Clock, today casework.Date) {
	t.Helper()
	clock.T = today.In(pfBJ).Add(2 * time.Hour)
	if _, err := db.DetectViolations(ctx, today); err != nil {
		t.Fatal(err)
	}
}

// R11, R2: a person transferred who never reports at the new place is a
// deemed refusal on the day after the new 15-day deadline, with a police
// report required, like a first report-in; day 15 is still on time.
func TestTransferNoReportAtNewPlaceIsDeemedRefusal_R11_R2(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		trNight(t, db, clock, vStart.AddDays(10))
		np := trPlace(t, db, storetest.Must(db.GetOrg(ctx, pfSys, w.county.ParentID)))
		clock.T = time.Date(2026, 1, 20, 4, 0, 0, 0, time.UTC) // accepted 20 January, Beijing
		trTransfer(t, db, w.lead, np, w.person.ID, casework.Date{})
		m := pfCurrent(t, db, np.lead, w.person.ID)
		if m.Status != casework.StatusPendingReport || m.ReportDeadline != pfD("2026-02-04") || !m.ReportedOn.IsZero() {
			t.Fatalf("after the transfer: %s deadline %s reported %s", m.Status, m.ReportDeadline, m.ReportedOn)
		}
		for d := pfD("2026-01-11"); !d.After(pfD("2026-02-05")); d = d.AddDays(1) {
			trNight(t, db, clock, d) // the last judges 4 February, day 15: on time
		}
		if vs := trViolations(t, db, np.lead, w.person.ID, casework.ViolationOverdueReport); len(vs) != 0 {
			t.Fatalf("day 15 at the new place counted late: %+v", vs)
		}
		trNight(t, db, clock, pfD("2026-02-06")) // judges 5 February, day 16
		vs := trViolations(t, db, np.lead, w.person.ID, casework.ViolationOverdueReport)
		if len(vs) != 1 || vs[0].Day != pfD("2026-02-05") || !vs[0].PoliceRequired {
			t.Fatalf("day 16 at the new place: want one deemed refusal on 2026-02-05 for the police, got %+v", vs)
		}
		trNight(t, db, clock, pfD("2026-02-07"))
		if vs := trViolations(t, db, np.lead, w.person.ID, casework.ViolationOverdueReport); len(vs) != 1 {
			t.Fatalf("a later night added another: %d", len(vs))
		}
		if ts := trTasks(t, db, np.police, w.person.ID, "report_in"); len(ts) != 1 || !ts[0].Overdue {
			t.Fatalf("police inbox: %+v", ts)
		}
	})
}

// R15, R3, R11: the term runs from the first report and ends on its date
// whatever the status: a person still pending report at the new place is
// released on the end date, and the release notice becomes a task, due on
// day 7 and overdue on day 8, until it is recorded.
func TestPendingAtNewPlaceReleasedOnTermEnd_R15(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2021, 6, 1, 4, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		np := trPlace(t, db, w.city)
		m := pfRehab(pfD("2021-05-29"), 1)
		m.ReportDate = pfD("2021-06-01")
		p := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "郑迁", pfID("19800101", 7, true)), m))
		clock.T = time.Date(2021, 6, 20, 4, 0, 0, 0, time.UTC)
		trTransfer(t, db, w.lead, np, p.ID, casework.Date{})
		// 23:30 on 30 June in Beijing: the day before the end.
		clock.T = time.Date(2021, 6, 30, 15, 30, 0, 0, time.UTC)
		if n, err := db.ReleaseExpired(ctx); err != nil || n != 0 {
			t.Fatalf("before the end: released %d, %v", n, err)
		}
		clock.T = time.Date(2021, 6, 30, 16, 30, 0, 0, time.UTC) // 00:30 on 1 July
		if n, err := db.ReleaseExpired(ctx); err != nil || n != 1 {
			t.Fatalf("on the end date: released %d, %v; want 1", n, err)
		}
		got := pfCurrent(t, db, np.lead, p.ID)
		if got.Status != casework.StatusReleased || got.EndedOn != pfD("2021-07-01") || got.InForce || got.ReleaseNoticeDue != pfD("2021-07-08") {
			t.Fatalf("released: %s ended %s notice due %s", got.Status, got.EndedOn, got.ReleaseNoticeDue)
		}
		// The notice: a task for the new place's worker and police, overdue after day 7.
		clock.T = time.Date(2021, 7, 8, 15, 30, 0, 0, time.UTC) // 23:30 on 8 July: day 7
		for _, a := range []*casework.Actor{np.worker, np.police} {
			if ts := trTasks(t, db, a, p.ID, "release_notice"); len(ts) != 1 || ts[0].Overdue || ts[0].Due != pfD("2021-07-08") {
				t.Fatalf("day 7, %s: %+v", a.Username, ts)
			}
		}
		if ts := trTasks(t, db, w.lead, p.ID, "release_notice"); len(ts) != 0 {
			t.Fatalf("the old place has the task: %+v", ts)
		}
		clock.T = time.Date(2021, 7, 8, 16, 30, 0, 0, time.UTC) // 00:30 on 9 July: day 8
		if ts := trTasks(t, db, np.worker, p.ID, "release_notice"); len(ts) != 1 || !ts[0].Overdue {
			t.Fatalf("day 8: %+v", ts)
		}
		_, err := db.RecordReleaseNotice(ctx, np.worker, p.ID, store.ReleaseNoticeInput{Date: pfD("2021-07-09")})
		pfField(t, "no recipient", err, "recipient")
		_, err = db.RecordReleaseNotice(ctx, np.worker, p.ID, store.ReleaseNoticeInput{Date: pfD("2021-06-30"), Recipient: "本人及家属"})
		pfField(t, "before the release", err, "date")
		_, err = db.RecordReleaseNotice(ctx, np.worker, p.ID, store.ReleaseNoticeInput{Date: pfD("2021-07-10"), Recipient: "本人及家属"})
		pfField(t, "in the future", err, "date")
		_, err = db.RecordReleaseNotice(ctx, w.lead, p.ID, store.ReleaseNoticeInput{Date: pfD("2021-07-09"), Recipient: "本人及家属"})
		if err == nil {
			t.Fatal("the old place recorded the notice")
		}
		got, err = db.RecordReleaseNotice(ctx, np.police, p.ID, store.ReleaseNoticeInput{Date: pfD("2021-07-09"), Recipient: "本人及家属"})
		if err != nil || got.ReleaseNoticeOn != pfD("2021-07-09") || got.ReleaseNoticeTo != "本人及家属" {
			t.Fatalf("record: %v %+v", err, got)
		}
		if ts := trTasks(t, db, np.worker, p.ID, "release_notice"); len(ts) != 0 {
			t.Fatalf("recorded, still a task: %+v", ts)
		}
		_, err = db.RecordReleaseNotice(ctx, np.worker, p.ID, store.ReleaseNoticeInput{Date: pfD("2021-07-09"), Recipient: "本人"})
		pfCode(t, "record twice", err, casework.ECONFLICT)
	})
}

// R2: lateness is judged from the dates. Received 1 March (deadline 16
// March): a report at 23:30 Beijing time on day 15 is on time; one at
// 00:30 on day 16, recorded before that night's detection, is a deemed
// refusal; so is a measure entered with a report date after the deadline.
func TestLateReportIsDeemedRefusal_R2(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		received := pfD("2026-03-01")
		mk := func(name string, seq int, m *casework.MeasureInput) *casework.Person {
			return storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, name, pfID("19800101", seq, true)), m))
		}
		onTime, late := mk("冯准", 1, pfTreatment(received)), mk("冯迟", 2, pfTreatment(received))
		for d := pfD("2026-03-02"); !d.After(pfD("2026-03-16")); d = d.AddDays(1) {
			trNight(t, db, clock, d)
		}
		clock.T = time.Date(2026, 3, 16, 15, 30, 0, 0, time.UTC) // 23:30 on the 16th, day 15
		storetest.Must(db.Transition(ctx, w.workerA, onTime.ID, store.TransitionInput{Action: casework.ActReportIn}))
		clock.T = time.Date(2026, 3, 16, 16, 30, 0, 0, time.UTC) // 00:30 on the 17th, day 16
		storetest.Must(db.Transition(ctx, w.workerA, late.ID, store.TransitionInput{Action: casework.ActReportIn}))
		entered := mk("冯补", 3, pfReported(received, pfD("2026-03-17")))
		trNight(t, db, clock, pfD("2026-03-17")) // judges day 15
		trNight(t, db, clock, pfD("2026-03-18")) // judges day 16
		for _, c := range []struct {
			p    *casework.Person
			want int
		}{{onTime, 0}, {late, 1}, {entered, 1}} {
			vs := trViolations(t, db, w.lead, c.p.ID, casework.ViolationOverdueReport)
			if len(vs) != c.want {
				t.Fatalf("%s: %d deemed refusals, want %d", c.p.Name, len(vs), c.want)
			}
			if c.want == 1 && (vs[0].Day != pfD("2026-03-17") || !vs[0].PoliceRequired) {
				t.Fatalf("%s: %+v", c.p.Name, vs[0])
			}
		}
		// The inbox keeps them: executing now, but the violation is to review.
		for _, p := range []*casework.Person{late, entered} {
			if ts := trTasks(t, db, w.lead, p.ID, "violation_review"); len(ts) == 0 {
				t.Fatalf("%s: no violation to review in the lead's inbox", p.Name)
			}
		}
		trNight(t, db, clock, pfD("2026-03-19"))
		if vs := trViolations(t, db, w.lead, "", casework.ViolationOverdueReport); len(vs) != 2 {
			t.Fatalf("a rerun: %d deemed refusals, want 2", len(vs))
		}
	})
}

// R11: accepting a transfer without a new agreement leaves the measure
// without one (the old place's does not carry over); the new place has
// the task until it records the new agreement.
func TestTransferNeedsNewAgreement_R11(t *testing.T) {
	storetest.EachWithClock(t, pfStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		np := trPlace(t, db, w.city)
		m := pfReported(pfD("2021-06-01"), pfD("2021-06-05"))
		m.AgreementDate = pfD("2021-06-05")
		p := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "褚约", pfID("19800101", 3, true)), m))
		clock.T = time.Date(2021, 6, 20, 4, 0, 0, 0, time.UTC)
		trTransfer(t, db, w.lead, np, p.ID, casework.Date{})
		got := pfCurrent(t, db, np.lead, p.ID)
		if !got.AgreementDate.IsZero() {
			t.Fatalf("the old place's agreement (%s) carried over to the new place", got.AgreementDate)
		}
		if ts := trTasks(t, db, np.worker, p.ID, "agreement"); len(ts) != 1 || ts[0].Due != pfD("2021-07-05") {
			t.Fatalf("pending at the new place: agreement tasks %+v", ts)
		}
		clock.T = time.Date(2021, 6, 22, 4, 0, 0, 0, time.UTC)
		storetest.Must(db.Transition(ctx, np.worker, p.ID, store.TransitionInput{Action: casework.ActReportIn}))
		if ts := trTasks(t, db, np.worker, p.ID, "agreement"); len(ts) != 1 || ts[0].Due != pfD("2021-06-22") {
			t.Fatalf("reported at the new place: agreement tasks %+v", ts)
		}
		old := pfD("2021-06-19")
		_, err := db.UpdateMeasure(ctx, np.worker, p.ID, store.MeasureUpdate{AgreementDate: &old})
		pfField(t, "an agreement dated before the hand-over", err, "agreement_date")
		d := pfD("2021-06-22")
		if _, err := db.UpdateMeasure(ctx, np.worker, p.ID, store.MeasureUpdate{AgreementDate: &d}); err != nil {
			t.Fatal(err)
		}
		if ts := trTasks(t, db, np.worker, p.ID, "agreement"); len(ts) != 0 {
			t.Fatalf("signed, still a task: %+v", ts)
		}
	})
}
