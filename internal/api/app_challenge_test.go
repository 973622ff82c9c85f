package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 17 §4 (人机分离) over HTTP: today carries spot_challenge from its
// drawn moment — open, worded for the person, with the deadline 15
// minutes on — and, once the deadline passed unanswered, a plain sentence
// that it is not a violation (R32). null on the other days.
func TestAppTodaySpotChallenge(t *testing.T) {
	bj := casework.LoadLocation("")
	storetest.EachWithClock(t, time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newAppSite(t, db)
		if _, err := db.DailyDraws(context.Background()); err != nil { // commits the street's seeds
			t.Fatal(err)
		}
		p, r := s.activate("246813")
		if r.Status != 201 {
			t.Fatalf("activate: %d %s", r.Status, r.Raw)
		}
		today := func() any {
			h := p.hdr("")
			h["Accept-Language"] = "zh-CN"
			r := s.do("GET", "/api/v1/app/today", nil, h)
			if r.Status != 200 {
				t.Fatalf("today: %d %s", r.Status, r.Raw)
			}
			v, ok := r.Body["spot_challenge"]
			if !ok {
				t.Fatalf("today has no spot_challenge: %s", r.Raw)
			}
			return v
		}
		var issued, deadline time.Time
		days := 0
		for d := 1; d <= 31; d++ {
			clock.T = time.Date(2026, 12, d, 23, 0, 0, 0, bj)
			if c, ok := today().(map[string]any); ok {
				days++
				if issued.IsZero() {
					issued, _ = time.Parse(time.RFC3339, c["issued_at"].(string))
					deadline, _ = time.Parse(time.RFC3339, c["deadline"].(string))
				}
			}
		}
		if days != 2 || deadline.Sub(issued) != 15*time.Minute {
			t.Fatalf("%d challenge days in December (want 2), issued %v deadline %v", days, issued, deadline)
		}
		clock.T = issued.Add(-time.Second)
		if c := today(); c != nil {
			t.Fatalf("before its moment: %v", c)
		}
		clock.T = issued
		c := today().(map[string]any)
		if c["open"] != true || c["answered"] != false || !strings.Contains(c["text"].(string), "请在 15 分钟内打卡") {
			t.Fatalf("at its moment: %v", c)
		}
		clock.T = deadline.Add(time.Second)
		c = today().(map[string]any)
		if c["open"] != false || !strings.Contains(c["text"].(string), "不算违规") {
			t.Fatalf("after its deadline: %v", c)
		}
	})
}
