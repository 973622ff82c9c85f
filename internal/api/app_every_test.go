package api_test

import (
	"context"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 13 §4: the app's today says the check-in frequency and the next
// check-in day. A county version of every 2 days taking effect tomorrow:
// today stays daily; tomorrow owes (the new frequency's first day), the day
// after does not and names the next.
func TestAppTodayEveryDays(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newAppSite(t, db)
		storetest.Must(db.CreatePolicyVersion(context.Background(), casework.SystemActor("test"), s.county, casework.PolicyVersionInput{
			EffectiveFrom: casework.MustParseDate("2026-11-11"), Settings: map[string]string{"checkin.every_days": "2"}, Note: "隔日签到"}))
		p, r := s.activate("246813")
		if r.Status != 201 {
			t.Fatalf("activate: %d %s", r.Status, r.Raw)
		}
		for _, c := range []struct {
			day   int
			due   bool
			every float64
			next  string
		}{{0, true, 1, "2026-11-11"}, {1, true, 2, "2026-11-13"}, {2, false, 2, "2026-11-13"}, {3, true, 2, "2026-11-15"}} {
			clock.T = time.Date(2026, 11, 10+c.day, 2, 0, 0, 0, time.UTC)
			today := s.do("GET", "/api/v1/app/today", nil, p.hdr(""))
			ck, _ := today.Body["checkin"].(map[string]any)
			if today.Status != 200 || ck["due"] != c.due || ck["every_days"] != c.every || ck["next_due"] != c.next {
				t.Fatalf("day %d: %d %s; want due %v, every %v, next %s", c.day, today.Status, today.Raw, c.due, c.every, c.next)
			}
		}
	})
}
