package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"kangfu/internal/casework"
)

// Drug test records (R18–R21, R36). Reading results needs sensitive access
// (no counsellor); recording needs PermRecordTest (police, worker, lead) and,
// for a worker or lead, write access to the file. The body is a remote test
// report, which needs no staff accounts (staff ids differ per run).
var drugTestBodyJSON = `{"tested_on":"` + todayText + `","place":"广州市","sample":"urine","substances":["吗啡"],"outcome":"negative",` +
	`"remote":true,"remote_institution":"广州市天河区禁毒检测中心"}`

var drugTestBodyForm = "tested_on=" + todayText + "&place=广州市&sample=urine&substances=吗啡&outcome=negative&remote=1&remote_institution=广州市天河区禁毒检测中心"

var _ = addRules(map[string]accessRule{
	"GET /persons/{id}/tests":         {roles: readers},
	"POST /persons/{id}/tests":        {roles: "lead worker police", body: drugTestBodyForm},
	"GET /api/v1/persons/{id}/tests":  {roles: readers},
	"POST /api/v1/persons/{id}/tests": {roles: "lead worker police", body: drugTestBodyJSON},
})

// The routes do what they say: police record a remote report through the
// API and read it back; a counsellor may not read results (R36); police of
// another street do not find the file; the console form refuses a single
// collector citing R18 and keeps nothing.
func TestDrugTestRoutes(t *testing.T) {
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
	for _, c := range []struct {
		name, method, path, body, role string
		status                         int
		contains                       string
	}{
		{"police records a remote report", "POST", "/api/v1/persons/" + in + "/tests", drugTestBodyJSON, "police", http.StatusCreated, `"lab_request_by":"` + casework.MustParseDate(todayText).AddDays(3).String()},
		{"police reads it", "GET", "/api/v1/persons/" + in + "/tests", "", "police", http.StatusOK, `"outcome":"negative"`},
		{"lead reads it in the console", "GET", "/persons/" + in + "/tests", "", "lead", http.StatusOK, "广州市天河区禁毒检测中心"},
		{"counsellor may not read results (R36)", "GET", "/api/v1/persons/" + in + "/tests", "", "counsellor", http.StatusForbidden, ""},
		{"office may not record", "POST", "/api/v1/persons/" + in + "/tests", drugTestBodyJSON, "office", http.StatusForbidden, ""},
		{"police of street A, file in street B", "GET", "/api/v1/persons/" + out + "/tests", "", "police", http.StatusNotFound, ""},
		{"one collector refused (R18)", "POST", "/persons/" + in + "/tests",
			"tested_on=" + todayText + "&place=警务室&sample=urine&substances=吗啡&outcome=negative&staff_ids=x", "worker", http.StatusBadRequest, "《吸毒检测程序规定》第八条"},
		{"forced without approver (R21)", "POST", "/api/v1/persons/" + in + "/tests",
			strings.Replace(drugTestBodyJSON, `"remote":true`, `"forced":true,"remote":false,"staff_ids":["a","b"]`, 1), "police", http.StatusBadRequest, "《吸毒检测程序规定》第七条"},
		{"still one record", "GET", "/api/v1/persons/" + in + "/tests", "", "police", http.StatusOK, `"total":1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := call(c.method, c.path, c.body, c.role)
			if status != c.status || !strings.Contains(body, c.contains) {
				t.Fatalf("got %d, want %d containing %q:\n%.600s", status, c.status, c.contains, body)
			}
		})
	}
}
