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

// 2026-03-10 12:00 in Asia/Shanghai.
var leaveStart = time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)

// leaveWorld is pfWorld with an executing person in community A (worker
// A's caseload) and a second street with its own lead.
type leaveWorld struct {
	pfWorld
	person    *casework.Person
	otherLead *casework.Actor
}

func newLeaveWorld(t *testing.T, db *store.DB) leaveWorld {
	t.Helper()
	w := leaveWorld{pfWorld: pfBuild(t, db)}
	w.person = storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "张三", pfID("19900101", 1, true)),
		pfReported(pfD("2026-01-05"), pfD("2026-01-06"))))
	street2 := storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{Kind: casework.KindTownship, Name: "另一街道", ParentID: w.county.ID}))
	w.otherLead = pfStaff(t, db, "lead-other", casework.RoleLead, street2)
	return w
}

func leaveIn(from, to string) store.LeaveCreate {
	return store.LeaveCreate{LeaveInput: casework.LeaveInput{Kind: casework.LeaveKindLeave, Province: "440000", City: "广州市",
		From: pfD(from), To: pfD(to), Reason: "探亲"}}
}

func timelineKinds(t *testing.T, db *store.DB, actor *casework.Actor, personID string) []string {
	t.Helper()
	es, _, err := db.ListTimeline(ctx, actor, personID, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Kind)
	}
	return out
}

// R8: absence of 3 days or more needs the report; 2 days is informational.
func TestLeaveThresholdR8(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		for _, c := range []struct {
			from, to string
			days     int
			required bool
		}{
			{"2026-03-20", "2026-03-21", 2, false},
			{"2026-04-01", "2026-04-03", 3, true},
			{"2026-04-10", "2026-04-13", 4, true},
		} {
			t.Run(c.from, func(t *testing.T) {
				l := storetest.Must(db.CreateLeave(ctx, w.workerA, w.person.ID, leaveIn(c.from, c.to)))
				if l.Days != c.days || l.Required != c.required || l.ThresholdDays != 3 || l.State != casework.LeavePending {
					t.Errorf("days %d required %v threshold %d state %s, want %d %v 3 pending", l.Days, l.Required, l.ThresholdDays, l.State, c.days, c.required)
				}
			})
		}
		// A stricter local policy (2 days) makes the 2-day absence required.
		storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.street.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-03-12"),
			Settings: map[string]string{"leave.threshold_days": "2"}, Note: "从严"}))
		l := storetest.Must(db.CreateLeave(ctx, w.workerA, w.person.ID, leaveIn("2026-05-01", "2026-05-02")))
		if !l.Required || l.ThresholdDays != 2 {
			t.Errorf("with a 2-day policy: required %v threshold %d", l.Required, l.ThresholdDays)
		}
		// Overlapping periods are refused; bad input names the field.
		_, err := db.CreateLeave(ctx, w.workerA, w.person.ID, leaveIn("2026-04-02", "2026-04-05"))
		pfCode(t, "overlap", err, casework.ECONFLICT)
		bad := leaveIn("2026-06-02", "2026-06-01")
		_, err = db.CreateLeave(ctx, w.workerA, w.person.ID, bad)
		pfField(t, "end before start", err, "to")
		bad = leaveIn("2026-06-01", "2026-06-02")
		bad.Province, bad.City = "460000", "广州市"
		_, err = db.CreateLeave(ctx, w.workerA, w.person.ID, bad)
		pfField(t, "not a Hainan city", err, "destination_city")
		bad = leaveIn("2026-06-01", "2026-06-02")
		bad.Kind = casework.LeaveKindWorkAway
		_, err = db.CreateLeave(ctx, w.workerA, w.person.ID, bad)
		pfField(t, "work away without employer", err, "employer")
	})
}

func TestLeaveWorkflowRolesAndStatus(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		in := leaveIn("2026-03-10", "2026-03-14")
		in.Kind, in.Employer, in.WorkAddress = casework.LeaveKindWorkAway, "椰林建筑公司", "广州市天河区某路1号"
		l := storetest.Must(db.CreateLeave(ctx, w.workerA, w.person.ID, in))

		// Who may decide (R28): only a lead over the person's place.
		for _, c := range []struct {
			name  string
			actor *casework.Actor
			code  string
		}{
			{"worker", w.workerA, casework.EFORBIDDEN},
			{"office", w.office, casework.EFORBIDDEN},
			{"police", w.police, casework.EFORBIDDEN},
			{"lead of another street", w.otherLead, casework.ENOTFOUND},
			{"worker of another community", w.workerB, casework.ENOTFOUND},
			{"admin", w.admin, casework.ENOTFOUND},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := db.StepLeave(ctx, c.actor, l.ID, store.LeaveStep{Action: casework.LeaveApprove})
				pfCode(t, c.name+" approves", err, c.code)
			})
		}
		if _, err := db.GetLeave(ctx, w.otherLead, l.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("another street's lead sees the request: %v", err)
		}
		if q := storetest.Must(db.ListLeaves(ctx, w.otherLead, store.LeaveFilter{State: "queue"})); len(q) != 0 {
			t.Errorf("another street's queue has %d", len(q))
		}
		q := storetest.Must(db.ListLeaves(ctx, w.lead, store.LeaveFilter{State: "queue"}))
		if len(q) != 1 || q[0].ID != l.ID {
			t.Fatalf("lead's queue = %v", q)
		}
		if g := storetest.Must(db.GetLeave(ctx, w.lead, l.ID)); !slices.Contains(g.Actions, casework.LeaveApprove) {
			t.Fatalf("lead's actions = %v", g.Actions)
		}
		// The office sees it with the work address (sensitive access) but may not decide; a counsellor does not see it.
		reads := len(auditByTarget(t, db, w, "leave.read", l.ID))
		if g := storetest.Must(db.GetLeave(ctx, w.office, l.ID)); g.WorkAddress != "广州市天河区某路1号" || slices.Contains(g.Actions, casework.LeaveApprove) {
			t.Errorf("office view: %q %v", g.WorkAddress, g.Actions)
		}
		if len(auditByTarget(t, db, w, "leave.read", l.ID)) != reads+1 {
			t.Errorf("the read of the work address is not audited once")
		}
		if _, err := db.GetLeave(ctx, w.counsellor, l.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("counsellor sees leave: %v", err)
		}

		// Approval of a period that has begun puts the measure on leave.
		l = storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意"}))
		if l.State != casework.LeaveApproved || !l.Started || l.DecidedByName == "" {
			t.Fatalf("approved: %+v", l)
		}
		if m := pfCurrent(t, db, w.lead, w.person.ID); m.Status != casework.StatusOnLeave {
			t.Fatalf("status after approval = %s", m.Status)
		}
		// Extension (续假): requested by the worker, refused, requested again, granted.
		_, err := db.StepLeave(ctx, w.workerA, l.ID, store.LeaveStep{Action: casework.LeaveRequestExtension, To: pfD("2026-03-12")})
		pfField(t, "extension shorter", err, "to")
		storetest.Must(db.StepLeave(ctx, w.workerA, l.ID, store.LeaveStep{Action: casework.LeaveRequestExtension, To: pfD("2026-03-20")}))
		_, err = db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveReject})
		pfField(t, "reject without reason", err, "reason")
		_, err = db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveReject, Reason: strings.Repeat("长", 100000)})
		pfField(t, "reject with a 100,000-character reason (issue 15 §7)", err, "reason")
		_, err = db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveReject, Reason: "时间\x00过长"})
		pfField(t, "reject with a control character in the reason", err, "reason")
		l = storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveReject, Reason: "时间过长"}))
		if l.State != casework.LeaveApproved || l.To != pfD("2026-03-14") || !l.ExtensionTo.IsZero() {
			t.Fatalf("extension refused: %s to %s ext %s", l.State, l.To, l.ExtensionTo)
		}
		storetest.Must(db.StepLeave(ctx, w.workerA, l.ID, store.LeaveStep{Action: casework.LeaveRequestExtension, To: pfD("2026-03-18")}))
		l = storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveApprove}))
		if l.State != casework.LeaveApproved || l.To != pfD("2026-03-18") || l.Days != 9 {
			t.Fatalf("extension granted: %s to %s days %d", l.State, l.To, l.Days)
		}
		// The person reports back in the app: the leave ends at once.
		clock.Add(5 * 24 * time.Hour)
		if _, err := db.StepPersonLeave(ctx, "someone-else", l.ID, store.LeaveStep{Action: casework.LeaveReportReturn}); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("another person reports back: %v", err)
		}
		_, err = db.StepPersonLeave(ctx, w.person.ID, l.ID, store.LeaveStep{Action: casework.LeaveApprove})
		pfCode(t, "person approves", err, casework.EFORBIDDEN)
		l = storetest.Must(db.StepPersonLeave(ctx, w.person.ID, l.ID, store.LeaveStep{Action: casework.LeaveReportReturn}))
		if l.State != casework.LeaveReturnPending || l.ReturnedOn != pfD("2026-03-15") {
			t.Fatalf("return reported: %s on %s", l.State, l.ReturnedOn)
		}
		if m := pfCurrent(t, db, w.lead, w.person.ID); m.Status != casework.StatusExecuting {
			t.Fatalf("status after the return report = %s", m.Status)
		}
		l = storetest.Must(db.StepLeave(ctx, w.workerA, l.ID, store.LeaveStep{Action: casework.LeaveConfirmReturn}))
		if l.State != casework.LeaveReturned {
			t.Fatalf("confirmed: %s", l.State)
		}
		kinds := timelineKinds(t, db, w.lead, w.person.ID)
		for _, k := range []string{"leave.requested", "leave.approved", "leave.extension_requested", "leave.extension_rejected",
			"leave.extension_approved", "leave.return_reported", "leave.returned", "status.start_leave", "status.end_leave"} {
			if !slices.Contains(kinds, k) {
				t.Errorf("timeline lacks %s: %v", k, kinds)
			}
		}
		if len(pfAudit(t, db, w.pfWorld, "leave.approved", l.ID)) == 0 && len(auditByTarget(t, db, w, "leave.approved", l.ID)) == 0 {
			t.Errorf("approval not audited")
		}
		// Worker A2 (not responsible) may not step it; a withdrawn draft stays withdrawn.
		d := leaveIn("2026-04-01", "2026-04-05")
		d.Draft = true
		dl := storetest.Must(db.CreateLeave(ctx, w.workerA, w.person.ID, d))
		_, err = db.StepLeave(ctx, w.workerA2, dl.ID, store.LeaveStep{Action: casework.LeaveSubmit})
		pfCode(t, "other worker submits", err, casework.EFORBIDDEN)
		dl = storetest.Must(db.StepLeave(ctx, w.workerA, dl.ID, store.LeaveStep{Action: casework.LeaveWithdraw}))
		_, err = db.StepLeave(ctx, w.workerA, dl.ID, store.LeaveStep{Action: casework.LeaveSubmit})
		pfCode(t, "submit withdrawn", err, casework.ECONFLICT)
	})
}

func auditByTarget(t *testing.T, db *store.DB, w leaveWorld, action, target string) []store.AuditRecord {
	t.Helper()
	recs, _, err := db.ListAudit(ctx, actorWith(casework.RoleAuditor, w.province), store.AuditFilter{Action: action, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditRecord
	for _, r := range recs {
		if r.Action == action && r.TargetID == target {
			out = append(out, r)
		}
	}
	return out
}

// A future approved period starts on its first day (StartDueLeaves), and
// overdue is judged on the org's local date: 23:30 Beijing time on the end
// date is not overdue, 00:30 the next day is, though UTC is still on the
// end date.
func TestLeaveStartAndOverdueAcrossTimeZone(t *testing.T) {
	// 2026-03-10 12:00 Shanghai.
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		l := storetest.Must(db.CreateLeave(ctx, w.workerA, w.person.ID, leaveIn("2026-03-12", "2026-03-14")))
		l = storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveApprove}))
		if l.Started || pfCurrent(t, db, w.lead, w.person.ID).Status != casework.StatusExecuting {
			t.Fatal("a future leave started on approval")
		}
		if n := storetest.Must(db.StartDueLeaves(ctx)); n != 0 {
			t.Fatalf("started %d before the first day", n)
		}
		// 2026-03-11 16:30 UTC = 2026-03-12 00:30 Shanghai: the first day.
		clock.T = time.Date(2026, 3, 11, 16, 30, 0, 0, time.UTC)
		if n := storetest.Must(db.StartDueLeaves(ctx)); n != 1 {
			t.Fatalf("started %d on the first day, want 1", n)
		}
		if n := storetest.Must(db.StartDueLeaves(ctx)); n != 0 {
			t.Fatalf("started again: %d", n)
		}
		if a := storetest.Must(db.ActiveLeaveOn(ctx, w.person.ID, pfD("2026-03-12"))); a == nil || a.ID != l.ID {
			t.Fatalf("active leave on the first day: %v", a)
		}
		if a := storetest.Must(db.ActiveLeaveOn(ctx, w.person.ID, pfD("2026-03-11"))); a != nil {
			t.Fatalf("active leave the day before: %v", a.ID)
		}
		m := pfCurrent(t, db, w.lead, w.person.ID)
		if m.Status != casework.StatusOnLeave || m.StatusSince != pfD("2026-03-12") {
			t.Fatalf("status %s since %s", m.Status, m.StatusSince)
		}
		// 2026-03-14 23:30 Shanghai (15:30 UTC): the last day, not overdue.
		clock.T = time.Date(2026, 3, 14, 15, 30, 0, 0, time.UTC)
		if o := storetest.Must(db.OverdueLeaves(ctx, w.lead)); len(o) != 0 {
			t.Fatalf("overdue on the last day: %d", len(o))
		}
		if g := storetest.Must(db.GetLeave(ctx, w.lead, l.ID)); g.Effective != casework.LeaveApproved {
			t.Fatalf("effective on the last day = %s", g.Effective)
		}
		// 2026-03-15 00:30 Shanghai (16:30 UTC on the 14th): overdue.
		clock.T = time.Date(2026, 3, 14, 16, 30, 0, 0, time.UTC)
		o := storetest.Must(db.OverdueLeaves(ctx, w.lead))
		if len(o) != 1 || o[0].ID != l.ID || o[0].OverdueDays != 1 || o[0].Effective != casework.LeaveOverdue {
			t.Fatalf("overdue after midnight: %+v", o)
		}
		if o := storetest.Must(db.OverdueLeaves(ctx, w.otherLead)); len(o) != 0 {
			t.Fatalf("another street sees %d overdue", len(o))
		}
		// A paper return report by the worker closes it and ends the leave.
		l = storetest.Must(db.StepLeave(ctx, w.workerA, l.ID, store.LeaveStep{Action: casework.LeaveReportReturn}))
		if l.State != casework.LeaveReturned || pfCurrent(t, db, w.lead, w.person.ID).Status != casework.StatusExecuting {
			t.Fatalf("paper return: %s", l.State)
		}
		if o := storetest.Must(db.OverdueLeaves(ctx, w.lead)); len(o) != 0 {
			t.Fatalf("overdue after the return: %d", len(o))
		}
	})
}

// The app's request is stored once by its client id (contract).
func TestPersonLeaveIdempotent(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		id := "0b9e8a52-2f0e-4d1a-9a1c-5e2b3c4d5e6f"
		in := leaveIn("2026-03-20", "2026-03-25").LeaveInput
		l, created, err := db.CreatePersonLeave(ctx, w.person.ID, id, "hash-1", in)
		if err != nil || !created || l.Source != "app" || l.State != casework.LeavePending {
			t.Fatalf("first: %v %v %+v", created, err, l)
		}
		l, created, err = db.CreatePersonLeave(ctx, w.person.ID, id, "hash-1", in)
		if err != nil || created || l.ID != id {
			t.Fatalf("replay: %v %v", created, err)
		}
		_, _, err = db.CreatePersonLeave(ctx, w.person.ID, id, "hash-2", in)
		pfCode(t, "same id, other body", err, casework.ECONFLICT)
		_, _, err = db.CreatePersonLeave(ctx, w.person.ID, "not-a-uuid", "h", in)
		pfField(t, "bad id", err, "id")
		ls := storetest.Must(db.ListPersonLeaves(ctx, w.person.ID))
		if len(ls) != 1 {
			t.Fatalf("person's leaves: %d", len(ls))
		}
		if ls := storetest.Must(db.ListPersonLeaves(ctx, "other")); len(ls) != 0 {
			t.Fatalf("another person's leaves: %d", len(ls))
		}
		storetest.Must(db.StepPersonLeave(ctx, w.person.ID, id, store.LeaveStep{Action: casework.LeaveWithdraw}))
	})
}
