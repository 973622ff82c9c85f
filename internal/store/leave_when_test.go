package store_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// TestLeaveReturnAndExtensionOnlyWhenTheyMakeSenseR28 (issue 18 §14, R28,
// R8): 销假 is offered and accepted only once an approved leave has begun;
// 续假 only while it has not ended, is not already waiting on an extension
// and is under the longest period. The store refuses the rest with a
// clear conflict — for staff and for the person in the app — not only the
// pages hiding the buttons.
func TestLeaveReturnAndExtensionOnlyWhenTheyMakeSenseR28(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		has := func(l *store.Leave, a casework.LeaveAction) bool { return slices.Contains(l.Actions, a) }
		conflict := func(name string, err error, zh, en string) {
			t.Helper()
			var e *casework.Error
			if !casework.IsCode(err, casework.ECONFLICT) || !errors.As(err, &e) || !strings.Contains(e.Message("zh"), zh) || !strings.Contains(e.Message("en"), en) {
				t.Errorf("%s: %v, want a conflict saying %q / %q", name, err, zh, en)
			}
		}

		// Approved, starting in five days (2026-03-15 – 03-18).
		l := storetest.Must(db.CreateLeave(ctx, w.workerA, w.person.ID, leaveIn("2026-03-15", "2026-03-18")))
		storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveApprove}))
		l = storetest.Must(db.GetLeave(ctx, w.workerA, l.ID))
		if has(l, casework.LeaveReportReturn) || !has(l, casework.LeaveRequestExtension) {
			t.Errorf("before it begins: actions %v, want an extension and no return", l.Actions)
		}
		_, err := db.StepLeave(ctx, w.workerA, l.ID, store.LeaveStep{Action: casework.LeaveReportReturn})
		conflict("staff report back before the leave", err, "尚未开始", "has not begun")
		_, err = db.StepPersonLeave(ctx, w.person.ID, l.ID, store.LeaveStep{Action: casework.LeaveReportReturn})
		conflict("person reports back before the leave", err, "尚未开始", "has not begun")

		// The day before it begins: still no return. Its first day: both.
		clock.Add(4 * 24 * time.Hour) // 03-14
		if l = storetest.Must(db.GetLeave(ctx, w.workerA, l.ID)); has(l, casework.LeaveReportReturn) {
			t.Errorf("the day before: actions %v", l.Actions)
		}
		clock.Add(24 * time.Hour) // 03-15
		if l = storetest.Must(db.GetLeave(ctx, w.workerA, l.ID)); !has(l, casework.LeaveReportReturn) || !has(l, casework.LeaveRequestExtension) {
			t.Errorf("first day: actions %v, want return and extension", l.Actions)
		}
		// While an extension waits, no second one.
		storetest.Must(db.StepLeave(ctx, w.workerA, l.ID, store.LeaveStep{Action: casework.LeaveRequestExtension, To: pfD("2026-03-19")}))
		if l = storetest.Must(db.GetLeave(ctx, w.workerA, l.ID)); has(l, casework.LeaveRequestExtension) || !has(l, casework.LeaveReportReturn) {
			t.Errorf("extension pending: actions %v", l.Actions)
		}
		_, err = db.StepPersonLeave(ctx, w.person.ID, l.ID, store.LeaveStep{Action: casework.LeaveRequestExtension, To: pfD("2026-03-20")})
		conflict("a second extension while one waits", err, "续假待审批", "extension requested")
		storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveReject, Reason: "不同意"}))

		// The last day (03-18) still allows an extension; the day after
		// (overdue) does not, but reporting back does.
		clock.Add(3 * 24 * time.Hour) // 03-18
		if l = storetest.Must(db.GetLeave(ctx, w.workerA, l.ID)); !has(l, casework.LeaveRequestExtension) {
			t.Errorf("last day: actions %v", l.Actions)
		}
		clock.Add(24 * time.Hour) // 03-19
		if l = storetest.Must(db.GetLeave(ctx, w.workerA, l.ID)); l.Effective != casework.LeaveOverdue || has(l, casework.LeaveRequestExtension) || !has(l, casework.LeaveReportReturn) {
			t.Errorf("overdue: %s, actions %v", l.Effective, l.Actions)
		}
		_, err = db.StepLeave(ctx, w.workerA, l.ID, store.LeaveStep{Action: casework.LeaveRequestExtension, To: pfD("2026-03-25")})
		conflict("staff extend an overdue leave", err, "已超期", "overdue")
		_, err = db.StepPersonLeave(ctx, w.person.ID, l.ID, store.LeaveStep{Action: casework.LeaveRequestExtension, To: pfD("2026-03-25")})
		conflict("person extends an overdue leave", err, "已超期", "overdue")
		if l = storetest.Must(db.GetPersonLeave(ctx, w.person.ID, l.ID)); slices.Contains(l.Actions, casework.LeaveRequestExtension) {
			t.Errorf("the app offers an extension of an overdue leave: %v", l.Actions)
		}
		l = storetest.Must(db.StepLeave(ctx, w.workerA, l.ID, store.LeaveStep{Action: casework.LeaveReportReturn}))
		if l.State != casework.LeaveReturned || len(l.Actions) != 0 {
			t.Fatalf("returned: %s, actions %v", l.State, l.Actions)
		}
		_, err = db.StepLeave(ctx, w.workerA, l.ID, store.LeaveStep{Action: casework.LeaveReportReturn})
		conflict("report back twice", err, "已销假", "returned")

		// A leave of the longest period (90 days) cannot be extended.
		long := storetest.Must(db.CreateLeave(ctx, w.workerA, w.person.ID, leaveIn("2026-04-01", "2026-06-29")))
		if long.Days != casework.MaxLeaveDays {
			t.Fatalf("long leave has %d days", long.Days)
		}
		storetest.Must(db.StepLeave(ctx, w.lead, long.ID, store.LeaveStep{Action: casework.LeaveApprove}))
		if long = storetest.Must(db.GetLeave(ctx, w.workerA, long.ID)); has(long, casework.LeaveRequestExtension) {
			t.Errorf("a 90-day leave offers an extension: %v", long.Actions)
		}
		_, err = db.StepLeave(ctx, w.workerA, long.ID, store.LeaveStep{Action: casework.LeaveRequestExtension, To: pfD("2026-06-30")})
		conflict("extend past the longest period", err, "上限90天", "most days allowed (90)")
	})
}
