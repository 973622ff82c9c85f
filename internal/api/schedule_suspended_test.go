package api_test

import (
	"context"
	"testing"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// relogin gives every user a fresh API session after the test clock moved
// past the idle timeout.
func (s *apiSite) relogin() {
	s.t.Helper()
	for name, uid := range s.users {
		tok, hash := auth.NewToken()
		if err := s.db.CreateSession(context.Background(), store.Session{TokenHash: hash, UserID: uid, Kind: "api", ExpiresAt: s.db.Now().Add(time.Hour)},
			"127.0.0.1", "test", "test"); err != nil {
			s.t.Fatal(err)
		}
		s.tokens[name] = tok
	}
}

type apiTestDay struct {
	Day    string `json:"day"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
}

// R13 with R9 over the API: a lead's forced day that fell in a suspension
// has status not_owed in the due list on the day and in the person's
// schedule, and is not in the missed list; the day missed before the
// suspension is missed in both.
func TestScheduleAPISuspendedDayNotOwed(t *testing.T) {
	// 10 March 2026, 08:00 in Beijing.
	storetest.EachWithClock(t, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newAPISite(t, db)
		in, _ := s.newPerson("周某", "46020319900315002", "13812340000", 60, true)
		var p personOut
		s.must(201, "worker", "POST", "/api/v1/persons", jsonString(in), &p)
		for _, d := range []string{"2026-03-10", "2026-03-12"} {
			s.must(201, "lead", "POST", "/api/v1/persons/"+p.ID+"/schedule/force", `{"day":"`+d+`","reason":"专项行动"}`, nil)
		}
		// 11 March 08:00: the 10th was missed; the person is detained.
		clock.T = time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
		s.relogin()
		s.must(200, "worker", "POST", "/api/v1/persons/"+p.ID+"/transitions", `{"action":"suspend","reason":"刑事拘留"}`, nil)
		missed := func(when string) {
			t.Helper()
			var l listOut[apiTestDay]
			s.must(200, "lead", "GET", "/api/v1/orgs/"+s.commA.ID+"/tests/missed?from=2026-03-01&to=2026-03-31", "", &l)
			if len(l.Items) != 1 || l.Items[0].Day != "2026-03-10" || l.Items[0].Status != "missed" {
				t.Errorf("%s: missed list %+v, want the 10th only", when, l.Items)
			}
		}
		// 12 March 09:00: today's forced day is not owed.
		clock.T = time.Date(2026, 3, 12, 1, 0, 0, 0, time.UTC)
		s.relogin()
		var due listOut[apiTestDay]
		s.must(200, "lead", "GET", "/api/v1/orgs/"+s.commA.ID+"/tests/due", "", &due)
		if len(due.Items) != 1 || due.Items[0].Day != "2026-03-12" || due.Items[0].Status != "not_owed" {
			t.Errorf("due list %+v, want the 12th not_owed", due.Items)
		}
		missed("12 March")
		// 13 March 09:00: the schedule.
		clock.T = time.Date(2026, 3, 13, 1, 0, 0, 0, time.UTC)
		s.relogin()
		var sched struct {
			Forced []apiTestDay `json:"forced"`
		}
		s.must(200, "lead", "GET", "/api/v1/persons/"+p.ID+"/schedule", "", &sched)
		got := map[string]string{}
		for _, d := range sched.Forced {
			got[d.Day] = d.Status
		}
		if got["2026-03-10"] != "missed" || got["2026-03-12"] != "not_owed" || len(got) != 2 {
			t.Errorf("schedule, forced days %v; want the 10th missed, the 12th not_owed", got)
		}
		missed("13 March")
	})
}
