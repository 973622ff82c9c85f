package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"kangfu/internal/casework"
)

// Test schedules and draws (issue 5 §1–2, R22–R25): office, lead, worker and
// police see schedules, lists and seed commitments in their subtree; only
// the street lead forces or excuses a day, always with a reason; the
// counsellor, admin and auditor see none of it.
var scheduleViewers = "office lead worker police"

var _ = addRules(map[string]accessRule{
	"GET /persons/{id}/schedule":                {roles: scheduleViewers},
	"POST /persons/{id}/schedule/force":         {roles: "lead", body: "day=" + casework.MustParseDate(todayText).AddDays(1).String() + "&reason=群众举报"},
	"POST /persons/{id}/schedule/excuse":        {roles: "lead", body: "draw_id=x&reason=住院"},
	"GET /tests":                                {roles: scheduleViewers},
	"GET /orgs/{id}/tests":                      {roles: scheduleViewers},
	"GET /orgs/{id}/draw-seeds":                 {roles: scheduleViewers},
	"GET /api/v1/persons/{id}/schedule":         {roles: scheduleViewers},
	"POST /api/v1/persons/{id}/schedule/force":  {roles: "lead", body: `{"day":"` + todayText + `","reason":"群众举报"}`},
	"POST /api/v1/persons/{id}/schedule/excuse": {roles: "lead", body: `{"draw_id":"x","reason":"住院"}`},
	"GET /api/v1/orgs/{id}/tests/due":           {roles: scheduleViewers},
	"GET /api/v1/orgs/{id}/tests/missed":        {roles: scheduleViewers},
	"GET /api/v1/orgs/{id}/tests/coverage":      {roles: scheduleViewers},
	"GET /api/v1/orgs/{id}/draw-seeds":          {roles: scheduleViewers},
})

// The routes do what they say: the lead forces a day today with a reason
// and it is due in the street's list; without a reason it is refused; a
// worker may read the schedule but not force; police of another street do
// not find the file.
func TestScheduleRoutes(t *testing.T) {
	m := newMatrix(t)
	in := m.target("person", m.streetA)
	out := m.target("person", m.streetB)
	call := func(method, path, body, role string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, m.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(path, "/api/") {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+m.tokens[casework.Role(role)]["api"])
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.Role(role)]["web"]})
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tomorrow := casework.MustParseDate(todayText).AddDays(1).String()
	force := `{"day":"` + tomorrow + `","reason":"社区民警反映异常"}`
	for _, c := range []struct {
		name, method, path, body, role string
		status                         int
		contains                       string
	}{
		{"force without a reason", "POST", "/api/v1/persons/" + in + "/schedule/force", `{"day":"` + todayText + `","reason":" "}`, "lead", http.StatusBadRequest, `"field":"reason"`},
		{"worker may not force", "POST", "/api/v1/persons/" + in + "/schedule/force", force, "worker", http.StatusForbidden, ""},
		{"lead forces tomorrow", "POST", "/api/v1/persons/" + in + "/schedule/force", force, "lead", http.StatusCreated, `"kind":"forced"`},
		{"lead sees the day", "GET", "/api/v1/persons/" + in + "/schedule", "", "lead", http.StatusOK, `"day":"` + tomorrow + `"`},
		{"worker sees the reason, not the day", "GET", "/api/v1/persons/" + in + "/schedule", "", "worker", http.StatusOK, `"hidden":true,"interval_from":null`},
		{"due list of the street", "GET", "/api/v1/orgs/" + m.streetA.ID + "/tests/due", "", "police", http.StatusOK, `"items":[`},
		{"excuse without a reason", "POST", "/api/v1/persons/" + in + "/schedule/excuse", `{"draw_id":"x","reason":""}`, "lead", http.StatusBadRequest, `"field":"reason"`},
		{"police of street A, file in street B", "GET", "/api/v1/persons/" + out + "/schedule", "", "police", http.StatusNotFound, ""},
		{"counsellor sees no schedule", "GET", "/api/v1/persons/" + in + "/schedule", "", "counsellor", http.StatusForbidden, ""},
		{"console: the lead sees the forced day and its reason", "GET", "/persons/" + in + "/schedule", "", "lead", http.StatusOK, "社区民警反映异常"},
		{"console: force without a reason", "POST", "/persons/" + in + "/schedule/force", "day=" + tomorrow + "&reason=", "lead", http.StatusUnprocessableEntity, `data-field="reason"`},
		{"console: the street's lists", "GET", "/orgs/" + m.streetA.ID + "/tests", "", "worker", http.StatusOK, `data-testid="due-list"`},
		{"console: my tests", "GET", "/tests", "", "police", http.StatusOK, `data-testid="missed-list"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := call(c.method, c.path, c.body, c.role)
			if status != c.status || !strings.Contains(body, c.contains) {
				t.Fatalf("got %d, want %d containing %q:\n%.600s", status, c.status, c.contains, body)
			}
		})
	}
}
