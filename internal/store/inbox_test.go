package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// inboxKinds summarises tasks as "kind:name[!]" (! when overdue).
func inboxKinds(t *testing.T, db *store.DB, actor *casework.Actor) []string {
	t.Helper()
	ts, err := db.Inbox(ctx, actor)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range ts {
		if strings.HasPrefix(x.Kind, "visit_") || strings.HasPrefix(x.Kind, "risk_") {
			continue // the visit cadence and the risk tiers have their own tests (visits_test.go, risk_test.go)
		}
		s := x.Kind + ":" + x.PersonName
		if x.Overdue {
			s += "!"
		}
		if x.Link == "" || x.TitleZH == "" || x.TitleEN == "" || x.Rule == "" {
			t.Errorf("task %+v lacks a link, title or rule", x)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// The inbox at its boundaries: the report-in deadline (R1) is due on its
// last day and overdue (deemed refusal, R2) the day after; a term ending in
// 30 days is shown, in 31 not (R15); a leave request is the lead's, an
// overdue return everyone's who follows leave; a worker sees its own
// caseload and nobody else's; police see only the overdue report-in.
func TestInboxSourcesAndScope(t *testing.T) {
	// 10 March 2026, 10:00 in Beijing.
	storetest.EachWithClock(t, time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		today := pfD("2026-03-10")
		mk := func(name string, seq int, m *casework.MeasureInput, worker *casework.Actor, org *casework.Org) *casework.Person {
			return storetest.Must(db.CreatePerson(ctx, worker, pfPerson(org, name, pfID("19800101", seq, true)), m))
		}
		// Received 23 Feb: deadline 10 Mar (R1: day 15 after receipt) — due today.
		mk("甲到期", 1, pfTreatment(today.AddDays(-15)), w.workerA, w.commA)
		// Received 22 Feb: deadline 9 Mar — overdue.
		mk("乙逾期", 2, pfTreatment(today.AddDays(-16)), w.workerA, w.commA)
		// Reported 3 years − 30 days ago: term ends in 30 days; the agreement is unsigned.
		c := mk("丙期满", 3, pfReported(today.AddYears(-3).AddDays(27), today.AddYears(-3).AddDays(30)), w.workerA, w.commA)
		// Ends in 31 days: not yet; its agreement is signed.
		d := mk("丁未到", 4, pfReported(today.AddYears(-3).AddDays(28), today.AddYears(-3).AddDays(31)), w.workerA, w.commA)
		if _, err := db.UpdateMeasure(ctx, w.workerA, d.ID, store.MeasureUpdate{AgreementDate: ptr(today.AddYears(-3).AddDays(31))}); err != nil {
			t.Fatal(err)
		}
		// Another community's file.
		mk("戊别处", 5, pfTreatment(today.AddDays(-16)), w.workerB, w.commB)
		// A leave request waiting for the lead.
		leaver := mk("己请假", 6, pfReported(today.AddDays(-100), today.AddDays(-99)), w.workerA, w.commA)
		if _, err := db.UpdateMeasure(ctx, w.workerA, leaver.ID, store.MeasureUpdate{AgreementDate: ptr(today.AddDays(-99))}); err != nil {
			t.Fatal(err)
		}
		storetest.Must(db.CreateLeave(ctx, w.workerA, leaver.ID, leaveIn("2026-03-12", "2026-03-16")))
		// Complete working groups (R7), so that no group task shows here
		// (inbox_rules_test.go tests that source).
		for _, p := range []string{leaver.ID, d.ID, c.ID} {
			for _, role := range casework.RequiredGroupRoles {
				if err := db.AddGroupMember(ctx, w.workerA, p, store.GroupMember{Role: role, Name: "成员" + role}); err != nil {
					t.Fatal(err)
				}
			}
		}

		want := []string{"agreement:丙期满!", "release:丙期满", "report_in:乙逾期!", "report_in:甲到期"}
		if got := inboxKinds(t, db, w.workerA); strings.Join(got, " ") != strings.Join(slices.Sorted(slices.Values(want)), " ") {
			t.Errorf("worker A: %v\nwant %v", got, want)
		}
		if got := inboxKinds(t, db, w.workerA2); len(got) != 0 {
			t.Errorf("another worker of the community, not responsible: %v", got)
		}
		if got := inboxKinds(t, db, w.workerB); strings.Join(got, " ") != "report_in:戊别处!" {
			t.Errorf("worker B: %v", got)
		}
		lead := inboxKinds(t, db, w.lead)
		if !slices.Contains(lead, "leave_approval:己请假") || !slices.Contains(lead, "report_in:戊别处!") || len(lead) != 6 {
			t.Errorf("lead: %v", lead)
		}
		if got := inboxKinds(t, db, w.police); strings.Join(got, " ") != "report_in:乙逾期! report_in:戊别处!" {
			t.Errorf("police: %v", got)
		}
		for _, a := range []*casework.Actor{w.admin, w.auditor, w.counsellor} {
			if got := inboxKinds(t, db, a); len(got) != 0 {
				t.Errorf("%s: %v, want nothing", a.Username, got)
			}
		}
		total, overdue, err := db.InboxCounts(ctx, w.workerA)
		visits, visitsLate := 0, 0 // the visit cadence's and risk tiers' tasks (visits_test.go, risk_test.go)
		for _, x := range storetest.Must(db.Inbox(ctx, w.workerA)) {
			if strings.HasPrefix(x.Kind, "visit_") || strings.HasPrefix(x.Kind, "risk_") {
				visits++
				if x.Overdue {
					visitsLate++
				}
			}
		}
		if err != nil || total-visits != 4 || overdue-visitsLate != 2 {
			t.Errorf("counts %d/%d %v, want 4/2 besides %d/%d visit tasks", total, overdue, err, visits, visitsLate)
		}

		// The lead approves; the person's leave ends 16 March and no return
		// is reported: from the 17th it is overdue for those who follow leave.
		ls := storetest.Must(db.ListLeaves(ctx, w.lead, store.LeaveFilter{State: "queue"}))
		storetest.Must(db.StepLeave(ctx, w.lead, ls[0].ID, store.LeaveStep{Action: casework.LeaveApprove}))
		clock.Add(6 * 24 * time.Hour) // 16 March
		if got := inboxKinds(t, db, w.workerA); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "leave_return") }) {
			t.Errorf("16 March, the last day of leave: %v", got)
		}
		clock.Add(24 * time.Hour)
		if got := inboxKinds(t, db, w.workerA); !slices.Contains(got, "leave_return:己请假!") {
			t.Errorf("17 March: %v, want the overdue return", got)
		}
		if got := inboxKinds(t, db, w.police); !slices.Contains(got, "leave_return:己请假!") {
			t.Errorf("police 17 March: %v, want the overdue return", got)
		}
	})
}

// Notifications: a leave request tells the street's leads (not another
// street's), the decision tells the person in the app with no staff sender
// and queues one SMS; staff read their own notifications only.
func TestLeaveNotifications(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		l := storetest.Must(db.CreateLeave(ctx, w.workerA, w.person.ID, leaveIn("2026-03-12", "2026-03-14")))
		for _, c := range []struct {
			who  *casework.Actor
			want int
		}{{w.lead, 1}, {w.lead2, 1}, {w.otherLead, 0}, {w.workerA, 0}, {w.police, 0}} {
			if n := storetest.Must(db.UnreadNotifications(ctx, c.who)); n != c.want {
				t.Errorf("%s: %d unread, want %d", c.who.Username, n, c.want)
			}
		}
		ns := storetest.Must(db.ListNotifications(ctx, w.lead, true))
		if len(ns) != 1 || ns[0].Link != "/leave/"+l.ID || !strings.Contains(ns[0].TitleZH, "张三") {
			t.Fatalf("lead's notifications %+v", ns)
		}
		if _, err := db.MarkNotificationsRead(ctx, w.lead2, ns[0].ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("another lead marks it read: %v, want not found", err)
		}
		if n := storetest.Must(db.MarkNotificationsRead(ctx, w.lead, ns[0].ID)); n != 1 {
			t.Errorf("marked %d", n)
		}
		if n := storetest.Must(db.MarkNotificationsRead(ctx, w.lead, ns[0].ID)); n != 0 {
			t.Errorf("marked again: %d", n)
		}
		if n := storetest.Must(db.UnreadNotifications(ctx, w.lead)); n != 0 {
			t.Errorf("lead still has %d unread", n)
		}
		storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveReject, Reason: "期间有尿检安排"}))
		msgs, unread, err := db.ListPersonMessages(ctx, w.person.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 || unread != 1 || !msgs[0].System() || msgs[0].SenderID != "" || !strings.Contains(msgs[0].Body, "期间有尿检安排") {
			t.Fatalf("person's messages %+v", msgs)
		}
		out := storetest.Must(db.ListOutbox(ctx, w.workerA, w.person.ID))
		if len(out) != 1 || out[0].Channel != "sms" || out[0].State != "pending" {
			t.Fatalf("outbox %+v", out)
		}
		if _, err := db.ListOutbox(ctx, w.workerB, w.person.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("worker of another community reads the outbox: %v", err)
		}
	})
}

// personTaskKinds counts the actor's inbox tasks about one person by kind.
func personTaskKinds(t *testing.T, db *store.DB, a *casework.Actor, personID string) map[string]int {
	t.Helper()
	ts, err := db.Inbox(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, tk := range ts {
		if tk.PersonID == personID {
			m[tk.Kind]++
		}
	}
	return m
}
