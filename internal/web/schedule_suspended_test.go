package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// relogin gives every user a fresh session after the test clock moved
// past the idle timeout.
func (s *site) relogin() {
	s.t.Helper()
	for name, uid := range s.users {
		tok, hash := auth.NewToken()
		if err := s.db.CreateSession(context.Background(), store.Session{TokenHash: hash, UserID: uid, Kind: "web", ExpiresAt: s.db.Now().Add(time.Hour)},
			"127.0.0.1", "test", "test"); err != nil {
			s.t.Fatal(err)
		}
		s.tokens[name] = tok
	}
}

// table returns the rows of the page's table with the data-testid.
func table(t *testing.T, body, testid string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(body, `data-testid="`+testid+`"`)
	if !ok {
		t.Fatalf("no table %s", testid)
	}
	rest, _, _ = strings.Cut(rest, "</table>")
	_, rest, _ = strings.Cut(rest, "<tbody>")
	return strings.Split(rest, "<tr>")[1:]
}

// rowWith returns the row holding s ("" when none).
func rowWith(rows []string, s string) string {
	for _, r := range rows {
		if strings.Contains(r, s) {
			return r
		}
	}
	return ""
}

// R13 with R9 in the console: a lead's forced day that fell in a
// suspension shows "not owed" — in the due list on the day and on the
// person's schedule afterwards, in Chinese and in English — and is not in
// the org's missed list; the day missed before the suspension shows missed
// (evaded) in both languages and stays in the missed list.
func TestScheduleShowsSuspendedDayNotOwed(t *testing.T) {
	// 10 March 2026, 08:00 in Beijing.
	storetest.EachWithClock(t, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newSite(t, db)
		id := s.createPerson("worker", s.newPersonForm("李四", idNumber("46020319900101123"), "13800138000", 60, true))
		for _, d := range []string{"2026-03-10", "2026-03-12"} {
			s.post("lead", "/persons/"+id+"/schedule/force", url.Values{"day": {d}, "reason": {"专项行动"}})
		}
		// 11 March 08:00: the 10th was missed; the person is detained.
		clock.T = time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
		s.relogin()
		s.post("worker", "/persons/"+id+"/transitions", url.Values{"action": {"suspend"}, "reason": {"刑事拘留"}})
		labels := map[string][2]string{"zh": {"未检测（逃避）", "不计（当日中止或待报到）"}, "en": {"missed (evaded)", "not owed (suspended or awaiting report-in that day)"}}
		// 12 March 09:00: today's forced day is not owed, not due.
		clock.T = time.Date(2026, 3, 12, 1, 0, 0, 0, time.UTC)
		s.relogin()
		for lang, want := range labels {
			body := s.get("lead", lang, "/orgs/"+s.streetA.ID+"/tests")
			if r := rowWith(table(t, body, "due-list"), "李四"); !strings.Contains(r, want[1]) {
				t.Errorf("%s: due list row %q lacks %q", lang, r, want[1])
			}
			missed := table(t, body, "missed-list")
			if rowWith(missed, "2026-03-10") == "" || rowWith(missed, "2026-03-12") != "" {
				t.Errorf("%s: missed list %q, want the 10th only", lang, missed)
			}
		}
		// 13 March 09:00: the schedule.
		clock.T = time.Date(2026, 3, 13, 1, 0, 0, 0, time.UTC)
		s.relogin()
		for lang, want := range labels {
			forced := table(t, s.get("lead", lang, "/persons/"+id+"/schedule"), "forced")
			if r := rowWith(forced, "2026-03-10"); !strings.Contains(r, want[0]) {
				t.Errorf("%s: forced 10th %q lacks %q", lang, r, want[0])
			}
			if r := rowWith(forced, "2026-03-12"); !strings.Contains(r, want[1]) || strings.Contains(r, want[0]) {
				t.Errorf("%s: forced 12th %q, want %q", lang, r, want[1])
			}
			missed := table(t, s.get("lead", lang, "/orgs/"+s.streetA.ID+"/tests"), "missed-list")
			if rowWith(missed, "2026-03-10") == "" || rowWith(missed, "2026-03-12") != "" {
				t.Errorf("%s: missed list %q, want the 10th only", lang, missed)
			}
		}
	})
}
