package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kangfu/internal/casework"
)

// call sends a request as the role and returns the status and the body.
func (m *matrix) sumCall(method, path, body, role string) (int, string) {
	m.t.Helper()
	req, err := http.NewRequest(method, m.srv.URL+path, strings.NewReader(body))
	if err != nil {
		m.t.Fatal(err)
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
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The summary's texts through the API and the console (issue 12 §3): bad
// sections come back named, a save from a stale version is a conflict on
// "version", the console keeps what was typed beside the error, a worker
// may not write, and a finalised summary shows its notice and no form.
func TestWorkSummaryFormsAndAPI(t *testing.T) {
	m := newMatrix(t)
	year := todayText[:4]
	api := "/api/v1/reports/summary/" + m.streetA.ID + "/" + year
	page := "/orgs/" + m.streetA.ID + "/summary/" + year

	status, body := m.sumCall("GET", api, "", "lead")
	var got struct {
		CanWrite bool `json:"can_write"`
		Texts    struct {
			Version    int    `json:"version"`
			Highlights string `json:"highlights"`
		} `json:"texts"`
		Sections []struct{ Key string } `json:"sections"`
		Final    *struct{ By string }   `json:"final"`
	}
	if err := json.Unmarshal([]byte(body), &got); status != 200 || err != nil || !got.CanWrite || len(got.Sections) != 5 {
		t.Fatalf("GET: %d %v %.300s", status, err, body)
	}
	status, body = m.sumCall("PUT", api+"/texts", `{"version":0,"highlights":"好\u202e坏"}`, "lead")
	if status != 400 || !strings.Contains(body, `"field":"highlights"`) {
		t.Fatalf("a reversed highlight: %d %s", status, body)
	}
	status, body = m.sumCall("PUT", api+"/texts", `{"version":0,"highlights":"无新增吸毒人员"}`, "lead")
	if err := json.Unmarshal([]byte(body), &got); status != 200 || err != nil || got.Texts.Version != 1 || got.Texts.Highlights != "无新增吸毒人员" {
		t.Fatalf("save: %d %s", status, body)
	}
	status, body = m.sumCall("PUT", api+"/texts", `{"version":0,"highlights":"晚到的修改"}`, "office")
	if status != 409 || !strings.Contains(body, `"field":"version"`) {
		t.Fatalf("a stale save: %d %s", status, body)
	}
	if status, _ = m.sumCall("PUT", api+"/texts", `{"version":1,"highlights":"x"}`, "worker"); status != 403 {
		t.Errorf("a worker writes: %d", status)
	}
	form := url.Values{"version": {"1"}, "highlights": {"亮点"}, "problems": {strings.Repeat("问", casework.MaxSummaryText+1)}, "next_steps": {"继续\u202e"}}
	status, body = m.sumCall("POST", page, form.Encode(), "lead")
	if status != 400 || !strings.Contains(body, `data-field="problems"`) || !strings.Contains(body, `data-field="next_steps"`) || !strings.Contains(body, ">亮点</textarea>") {
		t.Fatalf("console with two bad sections: %d %.2000s", status, body)
	}
	if status, _ = m.sumCall("POST", page+"/finalise", "version=1", "lead"); status != http.StatusSeeOther {
		t.Fatalf("finalise: %d", status)
	}
	status, body = m.sumCall("GET", page, "", "worker")
	if status != 200 || !strings.Contains(body, `data-testid="summary-final"`) || strings.Contains(body, `data-testid="summary-form"`) || !strings.Contains(body, "无新增吸毒人员") {
		t.Fatalf("the finalised page: %d %.2000s", status, body)
	}
	status, body = m.sumCall("GET", api+"/pdf", "", "police")
	if status != 200 || !strings.HasPrefix(body, "%PDF-") {
		t.Fatalf("pdf: %d %.100s", status, body)
	}
}
