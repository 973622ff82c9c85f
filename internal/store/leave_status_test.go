package store_test

import (
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// R28 (issue 18 §1): 请假 comes only from an approved leave. The store
// refuses start_leave and end_leave by hand with a field error; a measure
// left in 请假 without a leave (the old manual path) goes back to 执行中 at
// startup with a status event that says why, dated today in the org's
// zone; one in 请假 for an approved leave, even overdue, stays; a second
// run changes nothing.
func TestLeaveStatusOnlyFromApprovedLeave(t *testing.T) {
	// 2026-03-10 12:00 Shanghai.
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		for _, a := range []casework.Action{casework.ActStartLeave, casework.ActEndLeave} {
			_, err := db.Transition(ctx, w.workerA, w.person.ID, store.TransitionInput{Action: a, Reason: "回老家"})
			if casework.ErrorField(err) != "action" || !strings.Contains(casework.ErrorMessage(err, "zh"), "请假") || strings.Contains(casework.ErrorMessage(err, "zh"), "R28") {
				t.Fatalf("%s by hand: %v, want a field error saying leave comes from an approved request (R28), without the rule number", a, err)
			}
		}
		if m := pfCurrent(t, db, w.lead, w.person.ID); m.Status != casework.StatusExecuting {
			t.Fatalf("status after the refusals: %s", m.Status)
		}
		// Another person on an approved leave from today; both then put in
		// 请假 as the old manual path left them, one without any leave.
		onLeave := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "李四", pfID("19910101", 3, true)),
			pfReported(pfD("2026-01-05"), pfD("2026-01-06"))))
		l := storetest.Must(db.CreateLeave(ctx, w.workerA, onLeave.ID, leaveIn("2026-03-10", "2026-03-12")))
		storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意"}))
		if m := pfCurrent(t, db, w.lead, onLeave.ID); m.Status != casework.StatusOnLeave {
			t.Fatalf("approved leave from today: %s", m.Status)
		}
		if err := store.ForceStatus(ctx, db, w.person.ID, casework.StatusOnLeave); err != nil {
			t.Fatal(err)
		}
		// 2026-03-13 00:30 Shanghai (16:30 UTC on the 12th): the leave is
		// overdue; the repair is dated the 13th.
		clock.T = time.Date(2026, 3, 12, 16, 30, 0, 0, time.UTC)
		if n := storetest.Must(db.RepairLeaveStatus(ctx)); n != 1 {
			t.Fatalf("repaired %d, want 1", n)
		}
		m := pfCurrent(t, db, w.lead, w.person.ID)
		if m.Status != casework.StatusExecuting || m.StatusSince != pfD("2026-03-13") {
			t.Fatalf("after the repair: %s since %s", m.Status, m.StatusSince)
		}
		full := storetest.Must(db.GetMeasure(ctx, w.lead, w.person.ID, m.ID))
		last := full.Events[len(full.Events)-1]
		if last.Action != casework.ActEndLeave || last.From != casework.StatusOnLeave || !strings.Contains(last.Reason, "R28") ||
			!strings.Contains(last.Reason, "无已批准的请假") {
			t.Fatalf("status event: %+v", last)
		}
		if m := pfCurrent(t, db, w.lead, onLeave.ID); m.Status != casework.StatusOnLeave {
			t.Fatalf("the person on an approved (overdue) leave was moved: %s", m.Status)
		}
		if n := storetest.Must(db.RepairLeaveStatus(ctx)); n != 0 {
			t.Fatalf("second run repaired %d", n)
		}
	})
}
