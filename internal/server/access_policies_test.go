package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// policyDate is a date a new policy version may take: two days ahead, so a
// test running across midnight in Shanghai still sees it in the future.
var policyDate = casework.DateOf(time.Now(), nil).AddDays(2).String()

// A policy version target: scheduled (not yet effective, so it may be
// withdrawn or edited) at a fresh community.
var _ = addTarget("policy_version", func(m *matrix, community *casework.Org) string {
	v := storetest.Must(m.db.CreatePolicyVersion(context.Background(), casework.SystemActor("test"), community.ID, casework.PolicyVersionInput{
		EffectiveFrom: casework.MustParseDate(policyDate), Note: "测试", Settings: map[string]string{"checkin.selfie": "false"}}))
	return v.ID
})

const (
	policyViewers = "admin office lead worker police counsellor"
	policyEditors = "office lead"
)

var _ = addRules(map[string]accessRule{
	// Console.
	"GET /policies":                       {roles: policyViewers},
	"GET /policies/{id}":                  {roles: policyViewers},
	"POST /policies/{id}/preview":         {roles: policyEditors, body: "effective_from=" + policyDate + "&note=测试&s.checkin.accuracy_m=100"},
	"POST /policies/{id}/versions":        {roles: policyEditors, body: "effective_from=" + policyDate + "&note=测试&s.checkin.accuracy_m=100"},
	"POST /policy-versions/{id}/withdraw": {roles: policyEditors, body: "reason=撤回"},
	// API.
	"GET /api/v1/policy-settings":           {roles: policyViewers},
	"GET /api/v1/orgs/{id}/policy":          {roles: policyViewers},
	"GET /api/v1/orgs/{id}/policy-versions": {roles: policyViewers},
	"POST /api/v1/orgs/{id}/policy-versions": {roles: policyEditors,
		body: `{"effective_from":"` + policyDate + `","note":"测试","settings":{"checkin.accuracy_m":100}}`},
	"PATCH /api/v1/policy-versions/{id}": {roles: policyEditors,
		body: `{"effective_from":"` + policyDate + `","note":"改","settings":{"checkin.window":"07:00-21:00"}}`},
	"DELETE /api/v1/policy-versions/{id}": {roles: policyEditors, body: `{"reason":"撤回"}`},
})

// TestPolicyConsoleAndAPI walks the lead through the console (errors next
// to their fields, preview, confirm, withdraw) and reads the result through
// the API with its provenance.
func TestPolicyConsoleAndAPI(t *testing.T) {
	m := newMatrix(t)
	ctx := context.Background()
	community := storetest.Must(m.db.CreateOrg(ctx, casework.SystemActor("test"), casework.OrgInput{ParentID: m.streetA.ID, Kind: casework.KindCommunity, Name: "椰林社区"}))
	send := func(method, path, body, role string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, m.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(path, "/api/") {
			req.Header.Set("Authorization", "Bearer "+m.tokens[casework.Role(role)]["api"])
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept-Language", "en")
		} else {
			req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.Role(role)]["web"]})
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location") + string(b)
	}
	mustHave := func(what, page string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(page, w) {
				t.Errorf("%s lacks %q", what, w)
			}
		}
	}
	base := "/policies/" + community.ID
	bad := url.Values{"effective_from": {policyDate}, "note": {"街道会议纪要"},
		"s.checkin.window.from": {"22:00"}, "s.checkin.window.to": {"06:00"}, "s.leave.threshold_days": {"4"}}
	status, page := send("POST", base+"/preview", bad.Encode(), "lead")
	if status != http.StatusBadRequest {
		t.Fatalf("bad input: %d", status)
	}
	mustHave("the refused form", page, `data-field="checkin.window"`, "须晚于开始时间", `data-field="leave.threshold_days"`, "R8", `value="22:00"`)

	good := url.Values{"effective_from": {policyDate}, "note": {"街道会议纪要"}, "s.checkin.accuracy_m": {"80"}, "s.checkin.selfie": {"true"}}
	status, page = send("POST", base+"/preview", good.Encode(), "lead")
	if status != http.StatusOK {
		t.Fatalf("preview: %d", status)
	}
	mustHave("the preview", page, `data-testid="policy-preview"`, "有变化", "值不变", `name="s.checkin.accuracy_m" value="80"`)
	if vs, _, _ := m.db.ListPolicyVersions(ctx, casework.SystemActor("test"), community.ID, store.PolicyVersionFilter{Withdrawn: true}); len(vs) != 0 {
		t.Fatal("the preview wrote a version")
	}
	status, loc := send("POST", base+"/versions", good.Encode(), "lead")
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, base) {
		t.Fatalf("confirm: %d %s", status, loc)
	}
	status, page = send("GET", base+"?date="+policyDate, "", "worker")
	if status != http.StatusOK {
		t.Fatalf("worker views: %d", status)
	}
	mustHave("the worker's view", page, "椰林社区（"+policyDate+" 起）", "国家默认值", "待生效")

	// The API shows the same, with the ref a verdict would record.
	status, body := send("GET", "/api/v1/orgs/"+community.ID+"/policy?date="+policyDate, "", "police")
	var p struct {
		Settings []struct {
			Key    string
			Value  any
			Source struct {
				Kind, Ref string
				VersionID string `json:"version_id"`
			} `json:"source"`
		}
	}
	if err := json.Unmarshal([]byte(body), &p); status != http.StatusOK || err != nil {
		t.Fatalf("api policy: %d %v %s", status, err, body)
	}
	var vid string
	for _, s := range p.Settings {
		if s.Key == "checkin.accuracy_m" {
			if s.Value != float64(80) || s.Source.Kind != "version" || s.Source.Ref != s.Source.VersionID {
				t.Errorf("accuracy via the API: %+v", s)
			}
			vid = s.Source.VersionID
		}
	}
	// Today is untouched.
	status, body = send("GET", "/api/v1/orgs/"+community.ID+"/policy", "", "police")
	if status != http.StatusOK || !strings.Contains(body, `"key":"checkin.accuracy_m","label":"GPS accuracy threshold","unit":"metres","value":200`) {
		t.Errorf("today's policy changed: %s", body)
	}
	// Wrong JSON type and the R8 ceiling through the API.
	status, body = send("POST", "/api/v1/orgs/"+community.ID+"/policy-versions",
		`{"effective_from":"`+policyDate+`","note":"x","settings":{"leave.threshold_days":4,"checkin.selfie":{"a":1}}}`, "office")
	if status != http.StatusBadRequest || !strings.Contains(body, "checkin.selfie") {
		t.Errorf("object as a value: %d %s", status, body)
	}
	status, body = send("POST", "/api/v1/orgs/"+community.ID+"/policy-versions",
		`{"effective_from":"`+casework.MustParseDate(policyDate).AddDays(1).String()+`","note":"x","settings":{"leave.threshold_days":4}}`, "office")
	if status != http.StatusBadRequest || !strings.Contains(body, "R8") || !strings.Contains(body, `"field":"leave.threshold_days"`) {
		t.Errorf("leave 4 via the API: %d %s", status, body)
	}
	// Withdraw through the console; the community inherits again.
	status, loc = send("POST", "/policy-versions/"+vid+"/withdraw", "reason=重新研究", "lead")
	if status != http.StatusSeeOther {
		t.Fatalf("withdraw: %d %s", status, loc)
	}
	status, body = send("GET", "/api/v1/orgs/"+community.ID+"/policy?date="+policyDate, "", "lead")
	if status != http.StatusOK || strings.Contains(body, vid) {
		t.Errorf("the withdrawn version still applies: %s", body)
	}
	status, body = send("GET", "/api/v1/orgs/"+community.ID+"/policy-versions?withdrawn=1", "", "lead")
	if status != http.StatusOK || !strings.Contains(body, `"state":"withdrawn"`) || !strings.Contains(body, "重新研究") {
		t.Errorf("versions list: %d %s", status, body)
	}
	status, page = send("GET", "/policies", "", "lead")
	if status != http.StatusOK || !strings.Contains(page, "椰林社区") {
		t.Errorf("policy tree: %d", status)
	}
}
