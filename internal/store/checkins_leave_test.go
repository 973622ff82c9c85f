package store_test

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 4 §5: approved leave keeps the duty, with the destination as the
// area: a check-in at the destination point is ok there and outside its
// radius is outside the area; at home it is outside the area too; a
// destination known only by city cannot be checked (unverifiable).
func TestCheckinDuringLeaveUsesTheDestination(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC) // 10:00 Beijing
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		phone := ciActivate(t, db, w.worker, w.person.ID)
		lat, lng, radius := 23.13, 113.26, 5000 // 广州
		in := store.LeaveCreate{LeaveInput: casework.LeaveInput{Kind: casework.LeaveKindLeave, Province: "440000", City: "广州市",
			Lat: &lat, Lng: &lng, RadiusM: &radius, From: pfD("2026-03-12"), To: pfD("2026-03-16"), Reason: "探亲"}}
		l := storetest.Must(db.CreateLeave(ctx, w.worker, w.person.ID, in))
		noon := func(day int) time.Time { return time.Date(2026, 3, day, 12, 0, 0, 0, bj) }
		clock.T = noon(11).Add(time.Minute) // the day before the leave: home rules
		if c, _, _, err := phone.checkin(db, ciIn(noon(11), 18.25, 109.5)); err != nil || c.Verdict != casework.VerdictOK {
			t.Fatalf("at home before the leave: %+v %v", c, err)
		}
		// Not yet approved, a leave day is judged at home (and cached so);
		// the approval must apply at once, not when the cache runs out.
		clock.T = noon(13).Add(-3 * time.Hour)
		if c, _, _, err := phone.checkin(db, ciIn(clock.T.Add(-time.Minute), 18.25, 109.5)); err != nil || c.Verdict != casework.VerdictOK {
			t.Fatalf("at home before the approval: %+v %v", c, err)
		}
		storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意"}))
		clock.T = noon(13).Add(time.Minute)
		for _, tc := range []struct {
			name     string
			lat, lng float64
			want     casework.Verdict
		}{
			{"at the destination", 23.14, 113.27, casework.VerdictOK},
			{"in the destination province, outside the radius", 23.5, 113.26, casework.VerdictOutsideArea},
			{"at home while on leave", 18.25, 109.5, casework.VerdictOutsideArea},
		} {
			c, _, _, err := phone.checkin(db, ciIn(noon(13), tc.lat, tc.lng))
			if err != nil || c.Verdict != tc.want {
				t.Fatalf("%s: %+v %v, want %s", tc.name, c, err, tc.want)
			}
		}

		// A destination named only by city cannot be checked.
		in2 := store.LeaveCreate{LeaveInput: casework.LeaveInput{Kind: casework.LeaveKindLeave, Province: "440000", City: "深圳市",
			From: pfD("2026-03-20"), To: pfD("2026-03-24"), Reason: "探亲"}}
		l2 := storetest.Must(db.CreateLeave(ctx, w.worker, w.person.ID, in2))
		storetest.Must(db.StepLeave(ctx, w.lead, l2.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意"}))
		clock.T = noon(21).Add(time.Minute)
		if c, _, _, err := phone.checkin(db, ciIn(noon(21), 22.54, 114.06)); err != nil || c.Verdict != casework.VerdictUnverifiable {
			t.Fatalf("city-only destination: %+v %v, want unverifiable", c, err)
		}
	})
}
