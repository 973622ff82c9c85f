package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// psychWorld is leaveWorld with a second person in community A (not
// assigned to the counsellor).
type psychWorld struct {
	leaveWorld
	other *casework.Person
}

func newPsychWorld(t *testing.T, db *store.DB) psychWorld {
	t.Helper()
	w := psychWorld{leaveWorld: newLeaveWorld(t, db)}
	w.other = storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "李四", pfID("19910303", 5, true)),
		pfReported(pfD("2026-01-05"), pfD("2026-01-06"))))
	return w
}

func phq9(total, item9 int) store.ScaleInput {
	a := make([]int, 9)
	a[8] = item9
	left := total - item9
	for i := 0; i < 8 && left > 0; i++ {
		a[i] = min(3, left)
		left -= a[i]
	}
	return store.ScaleInput{Scale: "phq9", Answers: casework.ScaleAnswers{Items: a}}
}

// Issue 18 item 11, PRODUCT §1: a counsellor reads the minimal profile of
// the persons a lead assigned to it, and no other person of its street;
// only a lead assigns; ending the assignment ends the access.
func TestPsychCounsellorAssignment(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newPsychWorld(t, db)
		_, err := db.GetPerson(ctx, w.counsellor, w.person.ID, "")
		pfCode(t, "unassigned counsellor reads", err, casework.ENOTFOUND)
		if ps, n, err := db.ListPersons(ctx, w.counsellor, store.PersonFilter{}); err != nil || n != 0 {
			t.Fatalf("unassigned counsellor lists %v %d %v", pfNames(ps), n, err)
		}
		pfCode(t, "worker assigns", db.AssignCounsellor(ctx, w.workerA, w.person.ID, w.counsellor.UserID), casework.EFORBIDDEN)
		pfField(t, "assign a worker as counsellor", db.AssignCounsellor(ctx, w.lead, w.person.ID, w.workerA.UserID), "user_id")
		if err := db.AssignCounsellor(ctx, w.lead, w.person.ID, w.counsellor.UserID); err != nil {
			t.Fatal(err)
		}
		pfCode(t, "assign twice", db.AssignCounsellor(ctx, w.lead, w.person.ID, w.counsellor.UserID), casework.ECONFLICT)
		p, err := db.GetPerson(ctx, w.counsellor, w.person.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if !p.Access.Minimal || p.Access.Sensitive || p.IDMasked != "" || p.ResidenceAddr != "" || p.PhoneMasked != "" {
			t.Fatalf("counsellor sees more than the minimal profile: %+v", p)
		}
		ps, n, err := db.ListPersons(ctx, w.counsellor, store.PersonFilter{})
		if err != nil || n != 1 || ps[0].ID != w.person.ID {
			t.Fatalf("assigned counsellor lists %v %d %v, want only 张三", pfNames(ps), n, err)
		}
		_, err = db.GetPerson(ctx, w.counsellor, w.other.ID, "")
		pfCode(t, "counsellor reads an unassigned person of its street", err, casework.ENOTFOUND)
		_, err = db.ListTests(ctx, w.counsellor, w.person.ID)
		pfCode(t, "counsellor reads test results (R36)", err, casework.EFORBIDDEN)
		f, err := db.GetPsychFile(ctx, w.counsellor, w.person.ID)
		if err != nil || !f.Access.Notes || len(f.Counsellors) != 1 {
			t.Fatalf("counsellor's psych file %+v %v", f, err)
		}
		_, err = db.GetPsychFile(ctx, w.police, w.person.ID)
		pfCode(t, "police read psychological records", err, casework.EFORBIDDEN)
		if err := db.EndCounsellor(ctx, w.lead, w.person.ID, w.counsellor.UserID); err != nil {
			t.Fatal(err)
		}
		_, err = db.GetPerson(ctx, w.counsellor, w.person.ID, "")
		pfCode(t, "counsellor after the assignment ended", err, casework.ENOTFOUND)
		kinds := strings.Join(timelineKinds(t, db, w.lead, w.person.ID), " ")
		if !strings.Contains(kinds, "psych.counsellor_assigned") || !strings.Contains(kinds, "psych.counsellor_ended") {
			t.Fatalf("timeline %s", kinds)
		}
	})
}

// Counselling notes are sealed at rest and shown only to counsellors and
// the person's lead; the worker sees that a session was held, police not
// even that beyond the timeline entry, which carries no notes.
func TestPsychCounsellingNotes(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newPsychWorld(t, db)
		in := casework.CounsellingInput{HeldAt: leaveStart.Add(-time.Hour), Minutes: 50, Mode: "in_person", Notes: "谈及与母亲的冲突，情绪低落"}
		_, err := db.RecordCounselling(ctx, w.counsellor, w.person.ID, in)
		pfCode(t, "unassigned counsellor records", err, casework.ENOTFOUND)
		_, err = db.RecordCounselling(ctx, w.workerA, w.person.ID, in)
		pfCode(t, "worker records a one-to-one session", err, casework.EFORBIDDEN)
		if err := db.AssignCounsellor(ctx, w.lead, w.person.ID, w.counsellor.UserID); err != nil {
			t.Fatal(err)
		}
		bad := in
		bad.Minutes, bad.Mode = 0, "carrier pigeon"
		_, err = db.RecordCounselling(ctx, w.counsellor, w.person.ID, bad)
		var fe casework.FieldErrors
		if !casework.IsCode(err, casework.EINVALID) || !errorsAs(err, &fe) || len(fe) != 2 {
			t.Fatalf("two bad fields: %v", err)
		}
		s, err := db.RecordCounselling(ctx, w.counsellor, w.person.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if s.CounsellorID != w.counsellor.UserID || s.Notes != in.Notes || s.HeldOn.String() != "2026-03-10" {
			t.Fatalf("stored %+v", s)
		}
		var enc string
		err = db.Read(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `SELECT notes_enc FROM counselling_sessions WHERE id = ?`, s.ID).Scan(&enc)
		})
		if err != nil || strings.Contains(enc, "母亲") || enc == "" {
			t.Fatalf("notes at rest %q %v", enc, err)
		}
		for _, c := range []struct {
			who   string
			actor *casework.Actor
			notes bool
		}{{"counsellor", w.counsellor, true}, {"lead", w.lead, true}, {"worker", w.workerA, false}, {"office", w.office, false}} {
			f, err := db.GetPsychFile(ctx, c.actor, w.person.ID)
			if err != nil || len(f.Sessions) != 1 {
				t.Fatalf("%s: %+v %v", c.who, f, err)
			}
			if got := f.Sessions[0].Notes != ""; got != c.notes || (!c.notes && !f.Sessions[0].NotesHidden) {
				t.Errorf("%s sees notes: %v, want %v", c.who, got, c.notes)
			}
		}
		es, _, _ := db.ListTimeline(ctx, w.police, w.person.ID, 0, 50)
		for _, e := range es {
			if strings.Contains(e.Data, "母亲") {
				t.Fatalf("timeline shows notes: %s", e.Data)
			}
		}
		if len(pfAudit(t, db, w.pfWorld, "psych.read", w.person.ID)) != 4 {
			t.Error("psych file reads not audited")
		}
	})
}

// The PHQ-9 item 9 rule: above zero, a task for the assigned counsellor and
// the person's worker due the day of the administration in the org's time
// zone (23:30 in Sanya is still that day; UTC is 15:30), overdue from the
// next local day, shown on the file, and cleared by a follow-up. Item 9 at
// zero makes no task, whatever the total.
func TestPsychItem9Followup(t *testing.T) {
	// 2026-03-10 15:30 UTC = 23:30 Asia/Shanghai.
	storetest.EachWithClock(t, time.Date(2026, 3, 10, 15, 30, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newPsychWorld(t, db)
		if err := db.AssignCounsellor(ctx, w.lead, w.person.ID, w.counsellor.UserID); err != nil {
			t.Fatal(err)
		}
		tasks := func(a *casework.Actor) []store.Task {
			t.Helper()
			var out []store.Task
			for _, tk := range storetest.Must(db.Inbox(ctx, a)) {
				if tk.Kind == "phq9_item9" {
					out = append(out, tk)
				}
			}
			return out
		}
		if _, err := db.RecordScale(ctx, w.workerA, w.other.ID, phq9(20, 0)); err != nil {
			t.Fatal(err)
		}
		if n := len(tasks(w.workerA)); n != 0 {
			t.Fatalf("item 9 = 0 (total 20) made %d tasks", n)
		}
		a, err := db.RecordScale(ctx, w.counsellor, w.person.ID, phq9(3, 1))
		if err != nil {
			t.Fatal(err)
		}
		if a.AdministeredOn.String() != "2026-03-10" || !a.NeedsFollowup() || a.Result.Band.Key != "minimal" {
			t.Fatalf("administration %+v", a)
		}
		for _, who := range []struct {
			name  string
			actor *casework.Actor
			n     int
		}{{"counsellor", w.counsellor, 1}, {"worker", w.workerA, 1}, {"another worker", w.workerA2, 0}, {"police", w.police, 0}} {
			ts := tasks(who.actor)
			if len(ts) != who.n {
				t.Fatalf("%s has %d item-9 tasks, want %d", who.name, len(ts), who.n)
			}
			if who.n == 1 && (ts[0].Due.String() != "2026-03-10" || ts[0].Overdue) {
				t.Fatalf("%s task %+v, want due 2026-03-10 and not overdue", who.name, ts[0])
			}
		}
		clock.Add(time.Hour) // 00:30 on the 11th in Sanya
		if ts := tasks(w.workerA); len(ts) != 1 || !ts[0].Overdue {
			t.Fatalf("next local day: %+v, want overdue", ts)
		}
		f := storetest.Must(db.GetPsychFile(ctx, w.lead, w.person.ID))
		if len(f.OpenItem9) != 1 {
			t.Fatalf("the file shows %d open flags", len(f.OpenItem9))
		}
		pfField(t, "empty follow-up", db.RecordFollowup(ctx, w.workerA, a.ID, ""), "note")
		if err := db.RecordFollowup(ctx, w.workerA, a.ID, "当面谈话，已告知家属并约定每日电话联系"); err != nil {
			t.Fatal(err)
		}
		pfCode(t, "second follow-up", db.RecordFollowup(ctx, w.workerA, a.ID, "再次"), casework.ECONFLICT)
		if n := len(tasks(w.counsellor)) + len(tasks(w.workerA)); n != 0 {
			t.Fatalf("%d tasks left after the follow-up", n)
		}
		f = storetest.Must(db.GetPsychFile(ctx, w.lead, w.person.ID))
		if len(f.OpenItem9) != 0 || f.Scales[0].FollowupNote == "" {
			t.Fatalf("after follow-up: open %d, note %q", len(f.OpenItem9), f.Scales[0].FollowupNote)
		}
	})
}

// Each administration keeps the scale version and the band table it was
// scored with: a policy that switches the PHQ-9 to the Chinese 7/15/21
// table bands a later 7 as mild, and the earlier 7 stays mild under the
// table it was scored with (5–9). A bad answer is refused naming the item
// and writes nothing.
func TestPsychScaleBandsFromPolicy(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newPsychWorld(t, db)
		first := storetest.Must(db.RecordScale(ctx, w.workerA, w.person.ID, phq9(6, 0)))
		if first.Result.BandSet != "standard" || first.Result.Band.Key != "mild" {
			t.Fatalf("default table: %+v", first.Result)
		}
		storetest.Must(db.CreatePolicyVersion(ctx, w.lead, w.street.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-03-11"),
			Settings: map[string]string{"scale.phq9.bands": "cn_7_15_21"}, Note: "区卫健委通知"}))
		clock.Add(24 * time.Hour)
		second := storetest.Must(db.RecordScale(ctx, w.workerA, w.person.ID, phq9(6, 0)))
		if second.Result.BandSet != "cn_7_15_21" || second.Result.Band.Key != "minimal" {
			t.Fatalf("policy table: %+v", second.Result)
		}
		f := storetest.Must(db.GetPsychFile(ctx, w.lead, w.person.ID))
		if old := f.Scales[1]; old.ID != first.ID || old.Result.BandSet != "standard" || old.Result.Band.Key != "mild" || old.Result.Version == "" {
			t.Fatalf("old administration relabelled: %+v", old.Result)
		}
		bad := phq9(6, 0)
		bad.Answers.Items[2] = 7
		_, err := db.RecordScale(ctx, w.workerA, w.person.ID, bad)
		pfField(t, "answer 7", err, "q3")
		_, err = db.RecordScale(ctx, w.workerA2, w.person.ID, phq9(1, 0))
		pfCode(t, "a worker outside the caseload", err, casework.EFORBIDDEN)
		_, err = db.RecordScale(ctx, w.police, w.person.ID, phq9(1, 0))
		pfCode(t, "police", err, casework.EFORBIDDEN)
		if f := storetest.Must(db.GetPsychFile(ctx, w.lead, w.person.ID)); len(f.Scales) != 2 {
			t.Fatalf("%d administrations stored", len(f.Scales))
		}
		got := storetest.Must(db.GetScale(ctx, w.lead, second.ID))
		if got.Answers == nil || len(got.Answers.Items) != 9 {
			t.Fatalf("answers %+v", got.Answers)
		}
	})
}

// A group session: attendees from the caseload (on each one's timeline)
// plus others reached; a person outside the organising unit is refused; a
// counsellor sees by name only the attendees assigned to it.
func TestPsychGroupSession(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newPsychWorld(t, db)
		in := casework.GroupSessionInput{OrgID: w.commA.ID, HeldOn: pfD("2026-03-09"), Topic: "情绪管理与压力应对", Facilitator: "赵老师",
			Place: "社区活动室", AttendeeIDs: []string{w.person.ID, w.other.ID}, OthersReached: 6}
		g, err := db.RecordGroupSession(ctx, w.lead, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Attendees) != 2 || g.OthersReached != 6 {
			t.Fatalf("stored %+v", g)
		}
		for _, p := range []string{w.person.ID, w.other.ID} {
			if !strings.Contains(strings.Join(timelineKinds(t, db, w.lead, p), " "), "psych.group") {
				t.Fatalf("no group entry on %s's timeline", p)
			}
		}
		outside := storetest.Must(db.CreatePerson(ctx, w.workerB, pfPerson(w.commB, "王五", pfID("19890404", 7, true)), nil))
		bad := in
		bad.AttendeeIDs = []string{w.person.ID, outside.ID}
		_, err = db.RecordGroupSession(ctx, w.lead, bad)
		pfField(t, "attendee of another community", err, "attendees")
		bad = in
		bad.Topic, bad.Place = "", ""
		_, err = db.RecordGroupSession(ctx, w.lead, bad)
		var fe casework.FieldErrors
		if !errorsAs(err, &fe) || len(fe) != 2 {
			t.Fatalf("topic and place missing: %v", err)
		}
		if err := db.AssignCounsellor(ctx, w.lead, w.person.ID, w.counsellor.UserID); err != nil {
			t.Fatal(err)
		}
		gs, n, err := db.ListGroupSessions(ctx, w.counsellor, store.GroupFilter{})
		if err != nil || n != 1 || len(gs[0].Attendees) != 1 || gs[0].Hidden != 1 {
			t.Fatalf("counsellor's list %+v %d %v", gs, n, err)
		}
		if _, n, _ := db.ListGroupSessions(ctx, w.police, store.GroupFilter{}); n != 0 {
			t.Fatalf("police list %d group sessions", n)
		}
	})
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// Issue 11 §6: a session or a scale is edited only by its author or a lead
// over the place, with a reason; the replaced version is kept; a corrected
// scale is scored again with the table stored with it.
func TestPsychEditKeepsHistory(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newPsychWorld(t, db)
		if err := db.AssignCounsellor(ctx, w.lead, w.person.ID, w.counsellor.UserID); err != nil {
			t.Fatal(err)
		}
		in := casework.CounsellingInput{HeldAt: leaveStart.Add(-time.Hour), Minutes: 50, Mode: "in_person", Notes: "第一次记录"}
		s := storetest.Must(db.RecordCounselling(ctx, w.counsellor, w.person.ID, in))
		in.Notes, in.Minutes = "更正后的记录", 60
		_, err := db.UpdateCounselling(ctx, w.counsellor, s.ID, in, "")
		pfField(t, "no reason", err, "reason")
		got := storetest.Must(db.UpdateCounselling(ctx, w.lead, s.ID, in, "补充时长"))
		if got.Notes != "更正后的记录" || got.Minutes != 60 {
			t.Fatalf("edited %+v", got)
		}
		revs := storetest.Must(db.PsychRevisions(ctx, w.counsellor, store.RevCounselling, s.ID))
		if len(revs) != 1 || !strings.Contains(string(revs[0].Previous), "第一次记录") || revs[0].Reason != "补充时长" {
			t.Fatalf("revisions %+v", revs)
		}
		_, err = db.PsychRevisions(ctx, w.workerA, store.RevCounselling, s.ID)
		pfCode(t, "worker reads note history", err, casework.EFORBIDDEN)

		a := storetest.Must(db.RecordScale(ctx, w.workerA, w.person.ID, phq9(4, 0)))
		_, err = db.UpdateScale(ctx, w.counsellor, a.ID, phq9(5, 0).Answers, "录入错误")
		pfCode(t, "counsellor edits a worker's scale", err, casework.EFORBIDDEN)
		b := storetest.Must(db.UpdateScale(ctx, w.workerA, a.ID, phq9(5, 1).Answers, "录入错误"))
		if b.Result.Total != 5 || b.Result.Band.Key != "mild" || !b.NeedsFollowup() {
			t.Fatalf("rescored %+v", b.Result)
		}
		if revs := storetest.Must(db.PsychRevisions(ctx, w.lead, store.RevScale, a.ID)); len(revs) != 1 {
			t.Fatalf("scale revisions %d", len(revs))
		}
	})
}
