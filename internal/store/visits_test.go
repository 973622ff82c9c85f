package store_test

import (
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// 2026-03-10 12:00 in Asia/Shanghai (a Tuesday).
var visitStart = time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)

func homeVisit(id string, at time.Time) casework.VisitInput {
	return casework.VisitInput{ID: id, Kind: casework.VisitHome, At: at, Condition: "stable", Notes: "母亲在家，情绪稳定",
		Participants: []casework.Participant{{Role: "family", Name: "母亲"}},
		FollowUps:    []casework.FollowUp{{Action: "联系社区就业岗位", Due: pfD("2026-03-20")}}}
}

// Issue 11 §1, §2, §6, §7 (R27): a worker records a visit for its
// caseload, once per client id; notes are sealed; the visit is on the
// timeline without its notes; police read it, a counsellor does not; only
// the author or a lead edits it, and the replaced version is kept.
func TestRecordVisitR27(t *testing.T) {
	storetest.EachWithClock(t, visitStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		p := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "张三", pfID("19900101", 1, true)),
			pfReported(pfD("2026-01-05"), pfD("2026-01-06"))))
		id := store.NewID()
		v, created, err := db.RecordVisit(ctx, w.workerA, p.ID, homeVisit(id, visitStart.Add(-time.Hour)), nil)
		if err != nil || !created || v.ID != id || !v.FaceToFace || v.Notes != "母亲在家，情绪稳定" || len(v.FollowUps) != 1 {
			t.Fatalf("record: %+v %v %v", v, created, err)
		}
		// The same form sent again (the phone's queue) is stored once.
		again, created, err := db.RecordVisit(ctx, w.workerA, p.ID, homeVisit(id, visitStart.Add(-time.Hour)), nil)
		if err != nil || created || again.ID != id {
			t.Fatalf("resend: %v %v", created, err)
		}
		if vs := storetest.Must(db.ListVisits(ctx, w.lead, p.ID)); len(vs) != 1 {
			t.Fatalf("stored %d visits, want 1", len(vs))
		}
		// A phone call that did not get through is an attempt, not a visit.
		att, _, err := db.RecordVisit(ctx, w.workerA, p.ID, casework.VisitInput{Kind: casework.VisitPhone, State: casework.VisitAttempt,
			At: visitStart.Add(-30 * time.Minute)}, nil)
		if err != nil || att.State != casework.VisitAttempt || att.FaceToFace {
			t.Fatalf("attempt: %+v %v", att, err)
		}
		_, _, err = db.RecordVisit(ctx, w.workerA, p.ID, casework.VisitInput{Kind: casework.VisitHome, State: casework.VisitAttempt, At: visitStart}, nil)
		pfField(t, "home attempt", err, "state")
		// A planned visit is an appointment in the person's app (§10).
		if _, _, err := db.RecordVisit(ctx, w.workerA, p.ID, casework.VisitInput{Kind: casework.VisitHome, State: casework.VisitPlanned,
			At: visitStart.Add(48 * time.Hour), Address: "本人住所"}, nil); err != nil {
			t.Fatal(err)
		}
		if as := storetest.Must(db.AppUpcomingVisits(ctx, p.ID)); len(as) != 1 || as[0].Address != "本人住所" || as[0].Worker == "" {
			t.Errorf("upcoming: %+v", as)
		}
		// Sealed at rest; the timeline has the event without the notes.
		_ = db.Read(ctx, func(tx *store.Tx) error {
			var enc string
			if err := tx.QueryRow(ctx, `SELECT body_enc FROM visits WHERE id = ?`, id).Scan(&enc); err != nil || strings.Contains(enc, "母亲在家") {
				t.Errorf("notes not sealed: %v", err)
			}
			return nil
		})
		es, _, err := db.ListTimeline(ctx, w.police, p.ID, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range es {
			if e.Kind == "visit.recorded" {
				found = true
				if strings.Contains(string(e.Data), "母亲在家") {
					t.Error("timeline carries the notes")
				}
			}
		}
		if !found {
			t.Error("no visit.recorded on the timeline")
		}
		// Access (§7): police read; workers of other files and counsellors don't.
		if _, err := db.GetVisit(ctx, w.police, id); err != nil {
			t.Errorf("police read: %v", err)
		}
		_, err = db.GetVisit(ctx, w.counsellor, id)
		pfCode(t, "counsellor", err, casework.ENOTFOUND)
		_, err = db.GetVisit(ctx, w.workerB, id)
		pfCode(t, "worker B", err, casework.ENOTFOUND)
		_, _, err = db.RecordVisit(ctx, w.police, p.ID, homeVisit(store.NewID(), visitStart), nil)
		pfCode(t, "police record", err, casework.EFORBIDDEN)
		_, _, err = db.RecordVisit(ctx, w.workerB, p.ID, homeVisit(store.NewID(), visitStart), nil)
		pfCode(t, "worker B record", err, casework.ENOTFOUND)
		// Edits (§6): author or lead, with a reason; the old version is kept.
		ed := homeVisit(id, visitStart.Add(-time.Hour))
		ed.Notes = "母亲在家；补充：父亲外出务工"
		_, err = db.EditVisit(ctx, w.police, id, ed, "补充")
		pfCode(t, "police edit", err, casework.EFORBIDDEN)
		_, err = db.EditVisit(ctx, w.workerA, id, ed, "")
		pfField(t, "edit without reason", err, "reason")
		got := storetest.Must(db.EditVisit(ctx, w.lead, id, ed, "补充家庭情况"))
		if got.Notes != ed.Notes || got.Rev != 1 {
			t.Errorf("edited: %q rev %d", got.Notes, got.Rev)
		}
		revs := storetest.Must(db.ListRevisions(ctx, w.workerA, p.ID, "visit", id))
		if len(revs) != 1 || !strings.Contains(string(revs[0].Previous), "母亲在家，情绪稳定") || revs[0].Reason != "补充家庭情况" {
			t.Errorf("revisions: %+v", revs)
		}
		// A client id used for another person is refused.
		q := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "李四", pfID("19910101", 2, true)), nil))
		_, _, err = db.RecordVisit(ctx, w.workerA, q.ID, homeVisit(id, visitStart), nil)
		pfCode(t, "reused id", err, casework.ECONFLICT)
		_, _, err = db.RecordVisit(ctx, w.workerA, p.ID, homeVisit("not-a-uuid", visitStart), nil)
		pfField(t, "bad id", err, "id")
	})
}

func visitTasks(t *testing.T, db *store.DB, actor *casework.Actor, personID string) map[string]store.Task {
	t.Helper()
	ts := storetest.Must(db.Inbox(ctx, actor))
	out := map[string]store.Task{}
	for _, x := range ts {
		if x.PersonID == personID && strings.HasPrefix(x.Kind, "visit_") {
			out[x.Kind] = x
		}
	}
	return out
}

// R27 cadence in the inbox, in the org's zone (Asia/Shanghai, UTC+8): a
// phone contact on Monday 00:30 local counts for the new week although it
// is still Sunday in UTC; one minute before local midnight on Sunday the
// week is still the old one; at a month's end the home visit turns from
// due to overdue at local midnight.
func TestVisitCadenceInboxR27(t *testing.T) {
	// Sunday 2026-03-01 23:59 in Shanghai.
	sunday := time.Date(2026, 3, 1, 15, 59, 0, 0, time.UTC)
	storetest.EachWithClock(t, sunday, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		p := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "张三", pfID("19900101", 1, true)),
			pfReported(pfD("2026-01-05"), pfD("2026-01-06"))))
		phone := func(at time.Time) {
			t.Helper()
			if _, _, err := db.RecordVisit(ctx, w.workerA, p.ID, casework.VisitInput{Kind: casework.VisitPhone, At: at, Condition: "stable"}, nil); err != nil {
				t.Fatal(err)
			}
		}
		// A call on Monday 2026-02-23 and a home visit on 2026-02-02 (February's).
		phone(time.Date(2026, 2, 23, 2, 0, 0, 0, time.UTC))
		if _, _, err := db.RecordVisit(ctx, w.workerA, p.ID, homeVisit(store.NewID(), time.Date(2026, 2, 2, 2, 0, 0, 0, time.UTC)), nil); err != nil {
			t.Fatal(err)
		}
		ts := visitTasks(t, db, w.workerA, p.ID)
		if _, ok := ts["visit_contact"]; ok {
			t.Errorf("Sunday 23:59: the week's contact was made, got %+v", ts["visit_contact"])
		}
		if len(ts) != 0 {
			t.Errorf("Sunday 23:59 (Feb home visit done): %+v", ts)
		}
		// Monday 00:00 local: a new week with no contact (due by Sunday
		// 03-08) and a new month with no home visit (due by 03-31, not soon).
		clock.Add(time.Minute)
		ts = visitTasks(t, db, w.workerA, p.ID)
		if c, ok := ts["visit_contact"]; !ok || c.Overdue || c.Due != pfD("2026-03-08") {
			t.Errorf("Monday 00:00: contact task %+v (ok %v), want due 2026-03-08", c, ok)
		}
		if _, ok := ts["visit_home"]; ok {
			t.Errorf("Monday 00:00: the home visit is not due soon yet: %+v", ts["visit_home"])
		}
		// A call at Monday 00:30 local (still Sunday in UTC) meets the week.
		clock.Add(30 * time.Minute)
		phone(clock.T)
		if _, ok := visitTasks(t, db, w.workerA, p.ID)["visit_contact"]; ok {
			t.Error("a call at Monday 00:30 local must count for the new week")
		}
		// An unanswered call does not count: the next week it is due again.
		clock.T = time.Date(2026, 3, 9, 1, 0, 0, 0, time.UTC) // Monday 03-09 09:00
		if _, _, err := db.RecordVisit(ctx, w.workerA, p.ID, casework.VisitInput{Kind: casework.VisitPhone, State: casework.VisitAttempt, At: clock.T}, nil); err != nil {
			t.Fatal(err)
		}
		if c := visitTasks(t, db, w.workerA, p.ID)["visit_contact"]; c.Due != pfD("2026-03-15") || c.Overdue {
			t.Errorf("after an attempt: %+v, want due 2026-03-15", c)
		}
		// Month end: Tuesday 2026-03-31 23:59 local the March home visit is
		// due (by 03-31); at 04-01 00:00 local it is overdue.
		clock.T = time.Date(2026, 3, 31, 15, 59, 0, 0, time.UTC)
		if h := visitTasks(t, db, w.workerA, p.ID)["visit_home"]; h.Kind == "" || h.Overdue || h.Due != pfD("2026-03-31") {
			t.Errorf("03-31 23:59: home task %+v, want due 2026-03-31", h)
		}
		clock.Add(time.Minute)
		if h := visitTasks(t, db, w.workerA, p.ID)["visit_home"]; !h.Overdue || h.Due != pfD("2026-03-31") {
			t.Errorf("04-01 00:00: home task %+v, want overdue since 2026-03-31", h)
		}
		// The worker of another community and the police see no such task.
		if len(visitTasks(t, db, w.workerB, p.ID)) != 0 || len(visitTasks(t, db, w.police, p.ID)) != 0 {
			t.Error("visit tasks outside the caseload")
		}
		// A weekly home cadence by policy (effective-dated) makes April's
		// first week's home visit due by Sunday 04-05.
		storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.street.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-04-02"),
			Settings: map[string]string{"visit.home.period": "week"}, Note: "从严"}))
		clock.T = time.Date(2026, 4, 2, 2, 0, 0, 0, time.UTC)
		if h := visitTasks(t, db, w.workerA, p.ID)["visit_home"]; h.Due != pfD("2026-03-29") || !h.Overdue {
			t.Errorf("weekly policy: %+v, want overdue for the week ending 03-29", h)
		}
	})
}

// Issue 11 §1: a home visit's location is checked against the residence
// when it is pinned (the distance is stored), else stored as given.
func TestVisitDistanceFromResidence(t *testing.T) {
	storetest.EachWithClock(t, visitStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		p := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "张三", pfID("19900101", 1, true)), nil))
		at := &casework.Geo{Lat: 18.2528, Lng: 109.5119, AccuracyM: 12}
		in := homeVisit("", visitStart.Add(-time.Hour))
		in.Location = at
		v, _, err := db.RecordVisit(ctx, w.workerA, p.ID, in, nil)
		if err != nil || v.DistanceM != nil || v.Location == nil || v.Location.Lat != at.Lat {
			t.Fatalf("no residence pinned: %+v %v", v, err)
		}
		pfCode(t, "police pin", db.SetResidenceGeo(ctx, w.police, p.ID, *at), casework.EFORBIDDEN)
		if err := db.SetResidenceGeo(ctx, w.workerA, p.ID, casework.Geo{Lat: 18.2528, Lng: 109.5219}); err != nil {
			t.Fatal(err)
		}
		in.ID = ""
		v = storetest.Must(db.GetVisit(ctx, w.lead, storetest.Must(func() (string, error) {
			v, _, err := db.RecordVisit(ctx, w.workerA, p.ID, in, nil)
			if err != nil {
				return "", err
			}
			return v.ID, nil
		}())))
		if v.DistanceM == nil || *v.DistanceM < 1000 || *v.DistanceM > 1100 {
			t.Errorf("distance %v, want about 1050 m (0.01° of longitude at 18°N)", v.DistanceM)
		}
	})
}
