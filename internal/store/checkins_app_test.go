package store_test

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 4 §3 "my records": a month of the person's own check-ins, duty,
// leave and test outcomes. Month ends follow the place's zone: 23:30
// Beijing on 31 March (15:30 UTC) is March; 00:30 on 1 April (16:30 UTC on
// 31 March) is April. Another person's records never show.
func TestAppMonthRecords(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC) // 12:00 Beijing
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		phone := ciActivate(t, db, w.worker, w.person.ID)
		other := storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, "赵六", pfID("19850505", 2, true)), pfReported(pfD("2026-02-20"), pfD("2026-02-25"))))
		otherPhone := ciActivate(t, db, w.lead, other.ID)

		checkin := func(p ciPhone, at time.Time) *store.Checkin {
			t.Helper()
			c, _, _, err := p.checkin(db, ciIn(at, 18.25, 109.5))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		march10 := checkin(phone, time.Date(2026, 3, 10, 11, 0, 0, 0, bj))
		checkin(otherPhone, time.Date(2026, 3, 10, 11, 30, 0, 0, bj))
		lat, lng, radius := 23.13, 113.26, 5000
		l := storetest.Must(db.CreateLeave(ctx, w.worker, w.person.ID, store.LeaveCreate{LeaveInput: casework.LeaveInput{Kind: casework.LeaveKindLeave,
			Province: "440000", City: "广州市", Lat: &lat, Lng: &lng, RadiusM: &radius, From: pfD("2026-03-12"), To: pfD("2026-03-16"), Reason: "探亲"}}))
		storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意"}))
		storetest.Must(db.RecordTest(ctx, w.police, w.person.ID, casework.DrugTestInput{TestedOn: pfD("2026-03-10"), Place: "警务室", Sample: "urine",
			Substances: []string{"吗啡"}, Outcome: casework.OutcomeNegative, StaffIDs: []string{w.police.UserID, w.worker.UserID}}))

		clock.T = time.Date(2026, 4, 2, 10, 0, 0, 0, bj)
		lastOfMarch := checkin(phone, time.Date(2026, 3, 31, 23, 30, 0, 0, bj)) // after the 22:00 window, sent late
		firstOfApril := checkin(phone, time.Date(2026, 4, 1, 0, 30, 0, 0, bj))

		march := storetest.Must(db.AppMonthRecords(ctx, phone.dev, pfD("2026-03-01")))
		if march.From != pfD("2026-03-01") || march.To != pfD("2026-03-31") || march.Today != pfD("2026-04-02") {
			t.Fatalf("march bounds %v %v %v", march.From, march.To, march.Today)
		}
		if len(march.Checkins) != 2 || march.Checkins[0].ID != march10.ID || march.Checkins[1].ID != lastOfMarch.ID ||
			march.Checkins[1].Verdict != casework.VerdictOutsideWin {
			t.Fatalf("march check-ins %+v", march.Checkins)
		}
		// Executing all of March (leave keeps the duty), but the phone was
		// activated on 10 March: 22 due (issue 18 §4); 1 done, as the 23:30
		// check-in falls outside the window and does not count (§2).
		if march.Duty.Due != 22 || march.Duty.Done != 1 || len(march.Duty.Missed) != 21 || march.Duty.Missed[0] != pfD("2026-03-11") {
			t.Fatalf("march duty %+v", march.Duty)
		}
		if len(march.Leaves) != 1 || march.Leaves[0].ID != l.ID {
			t.Fatalf("march leave %+v", march.Leaves)
		}
		if len(march.Tests) != 1 || march.Tests[0].Outcome != casework.OutcomeNegative || march.Tests[0].Sample != "urine" {
			t.Fatalf("march tests %+v", march.Tests)
		}
		if n := len(pinAudit(t, db, "app.tests.read", w.person.ID)); n != 1 {
			t.Fatalf("%d app.tests.read rows, want 1", n)
		}

		// This month (zero): 1 and 2 April so far, the 00:30 check-in outside
		// the window (it does not count); nothing else.
		april := storetest.Must(db.AppMonthRecords(ctx, phone.dev, casework.Date{}))
		if april.From != pfD("2026-04-01") || len(april.Checkins) != 1 || april.Checkins[0].ID != firstOfApril.ID ||
			april.Duty.Due != 2 || april.Duty.Done != 0 || len(april.Leaves) != 0 || len(april.Tests) != 0 {
			t.Fatalf("april %+v", april)
		}
		if n := len(pinAudit(t, db, "app.tests.read", w.person.ID)); n != 1 {
			t.Fatalf("a month without tests is not audited as a test read: %d rows", n)
		}
		// A month not begun has no duty.
		if may := storetest.Must(db.AppMonthRecords(ctx, phone.dev, pfD("2026-05-01"))); may.Duty.Due != 0 || len(may.Checkins) != 0 {
			t.Fatalf("may %+v", may)
		}
		// The other person sees only their own check-in.
		if o := storetest.Must(db.AppMonthRecords(ctx, otherPhone.dev, pfD("2026-03-01"))); len(o.Checkins) != 1 || o.Checkins[0].PersonID != other.ID ||
			len(o.Leaves) != 0 || len(o.Tests) != 0 {
			t.Fatalf("other person %+v", o)
		}
		if _, err := db.AppMonthRecords(ctx, phone.dev, pfD("2026-03-02")); casework.ErrorField(err) != "month" {
			t.Fatalf("not a first day: %v", err)
		}
		retired := *phone.dev
		retired.RetiredAt = clock.T
		if _, err := db.AppMonthRecords(ctx, &retired, pfD("2026-03-01")); casework.ErrorField(err) != "device_retired" {
			t.Fatalf("retired: %v", err)
		}
	})
}
