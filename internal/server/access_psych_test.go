package server_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Psychological services (issue 11 §3, §7; issue 18 item 11). A target
// "counselled_person" is a person of the community whose counsellor is
// u-counsellor (when the counsellor's grant covers it, i.e. in street A);
// a "scale" target is a PHQ-9 of such a person with item 9 positive and
// no follow-up yet. Police see none of it; office reads; a lead does all;
// a worker reads and gives scales to its caseload; the counsellor works
// with its assigned persons only.
var _ = addTarget("counselled_person", func(m *matrix, community *casework.Org) string {
	pid := personTarget(m, community)
	if strings.HasPrefix(community.Path, m.streetA.Path) {
		uid := storetest.Must(m.db.UserIDByName(context.Background(), "u-counsellor"))
		if err := m.db.AssignCounsellor(context.Background(), casework.SystemActor("test"), pid, uid); err != nil {
			panic(err)
		}
	}
	return pid
})

var _ = addTarget("scale", func(m *matrix, community *casework.Org) string {
	pid := targetMakers["counselled_person"](m, community)
	a := storetest.Must(m.db.RecordScale(context.Background(), casework.SystemActor("test"), pid,
		store.ScaleInput{Scale: "phq9", Answers: casework.ScaleAnswers{Items: []int{1, 1, 0, 0, 0, 0, 0, 0, 1}}}))
	return a.ID
})

// A "counselling" target is a session of a counselled person recorded by
// the system (so only a lead may edit it; its author is nobody's account).
var _ = addTarget("counselling", func(m *matrix, community *casework.Org) string {
	pid := targetMakers["counselled_person"](m, community)
	s := storetest.Must(m.db.RecordCounselling(context.Background(), casework.SystemActor("test"), pid,
		casework.CounsellingInput{CounsellorName: "赵老师", HeldAt: time.Now().Add(-2 * time.Hour), Minutes: 50, Mode: "phone", Notes: "电话咨询"}))
	return s.ID
})

var phq9JSON = `{"scale":"phq9","answers":{"items":[1,0,0,0,0,0,0,0,0]}}`

func sessionJSONBody(reason string) string {
	return `{"held_at":"` + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + `","minutes":40,"mode":"phone","notes":"电话随访","counsellor_name":"赵老师","reason":"` + reason + `"}`
}

var phq9Form = "scale=phq9&q1=1&q2=0&q3=0&q4=0&q5=0&q6=0&q7=0&q8=0&q9=0"

func sessionForm() string {
	at := time.Now().Add(-time.Hour).In(casework.LoadLocation("")).Format("2006-01-02T15:04")
	return "held_at=" + at + "&minutes=50&mode=in_person&notes=谈话记录&counsellor_name=赵老师"
}

var _ = addRules(map[string]accessRule{
	"GET /persons/{id}/psych":                        {roles: "office lead worker counsellor"},
	"GET /persons/{id}/psych/scale":                  {roles: "lead worker counsellor"},
	"POST /persons/{id}/psych/scales":                {roles: "lead worker counsellor", body: phq9Form},
	"POST /persons/{id}/psych/sessions":              {roles: "lead counsellor", body: sessionForm()},
	"POST /persons/{id}/counsellors":                 {roles: "lead", body: "user_id=nobody"},
	"POST /persons/{id}/counsellors/end":             {roles: "lead", body: "user_id=nobody"},
	"GET /psych/scales/{id}":                         {roles: "office lead worker counsellor"},
	"POST /psych/scales/{id}/followup":               {roles: "lead worker counsellor", body: "note=当面谈话并告知家属"},
	"GET /psych/groups":                              {roles: "office lead worker counsellor"},
	"GET /api/v1/scales":                             {roles: "office lead worker counsellor"},
	"GET /api/v1/persons/{id}/psych":                 {roles: "office lead worker counsellor"},
	"POST /api/v1/persons/{id}/psych/sessions":       {roles: "lead counsellor", body: sessionJSONBody("")},
	"POST /api/v1/persons/{id}/psych/scales":         {roles: "lead worker counsellor", body: phq9JSON},
	"POST /api/v1/persons/{id}/counsellors":          {roles: "lead", body: `{"user_id":"nobody"}`},
	"DELETE /api/v1/persons/{id}/counsellors/{user}": {roles: "lead"},
	"PATCH /api/v1/psych/sessions/{id}":              {roles: "lead", body: sessionJSONBody("补充记录")},
	"GET /api/v1/psych/sessions/{id}/revisions":      {roles: "lead counsellor"},
	"GET /api/v1/psych/scales/{id}":                  {roles: "office lead worker counsellor"},
	"PATCH /api/v1/psych/scales/{id}":                {roles: "lead", body: `{"answers":{"items":[1,1,0,0,0,0,0,0,1]},"reason":"录入错误"}`},
	"GET /api/v1/psych/scales/{id}/revisions":        {roles: "office lead worker counsellor"},
	"POST /api/v1/psych/scales/{id}/followup":        {roles: "lead worker counsellor", body: `{"note":"当面谈话"}`},
	"GET /api/v1/psych/groups":                       {roles: "office lead worker counsellor"},
	"POST /api/v1/psych/groups":                      {roles: "lead worker counsellor", body: `{"org_id":"{parent}","held_on":"` + todayText + `","topic":"情绪管理","facilitator":"赵老师","place":"活动室","others_reached":3}`},
	"GET /psych/sessions/{id}/edit":                  {roles: "lead"},
	"POST /psych/sessions/{id}/edit":                 {roles: "lead", body: "held_at=2026-01-05T10:00&minutes=45&mode=phone&notes=更正&reason=补充"},
	"GET /psych/groups/export.xlsx":                  {roles: "office lead worker counsellor"},
	"GET /psych/sessions/export.xlsx":                {roles: "office lead worker counsellor"},
	"GET /psych/import":                              {roles: "lead"},
	"POST /psych/import":                             {roles: "lead"},
	"GET /psych/import/template.xlsx":                {roles: "lead"},
	"GET /api/v1/psych/groups/export.xlsx":           {roles: "office lead worker counsellor"},
	"GET /api/v1/psych/sessions/export.xlsx":         {roles: "office lead worker counsellor"},
	"POST /api/v1/psych/import":                      {roles: "lead"},
	"POST /psych/groups":                             {roles: "lead worker counsellor", body: "org_id={parent}&held_on=" + todayText + "&topic=情绪管理&facilitator=赵老师&place=活动室&others_reached=3"},
})

// What each role sees: the counsellor's minimal profile of an assigned
// person has no ID number, no test results and no link that would be
// refused; notes reach counsellor and lead only; police get no
// psychological page and no link to one; a bad scale answer is reported
// naming the item and nothing is stored.
func TestPsychRoutes(t *testing.T) {
	m := newMatrix(t)
	in := m.target("counselled_person", m.streetA)
	other := m.target("person", m.streetA) // same street, not assigned
	get := func(path, role string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", m.srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.Role(role)]["web"]})
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, resp.Header.Get("Location"), b.String()
	}
	post := func(path, body, role string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", m.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.Role(role)]["web"]})
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := make([]byte, 64<<10)
		n, _ := resp.Body.Read(b)
		return resp.StatusCode, string(b[:n])
	}
	if st, _ := post("/persons/"+in+"/psych/sessions", strings.Replace(sessionForm(), "谈话记录", "母亲住院，情绪低落", 1), "counsellor"); st != http.StatusSeeOther {
		t.Fatalf("counsellor records a session: %d", st)
	}
	// The file of an assigned person opens as the minimal profile.
	st, loc, _ := get("/persons/"+in, "counsellor")
	if st != http.StatusSeeOther || loc != "/persons/"+in+"/psych" {
		t.Fatalf("counsellor opens the file: %d %s, want the psych page", st, loc)
	}
	st, _, body := get("/persons/"+in+"/psych", "counsellor")
	if st != 200 || !strings.Contains(body, "母亲住院") || strings.Contains(body, "460203") || strings.Contains(body, "13800138000") {
		t.Fatalf("counsellor's page: %d (notes shown %v, ID or phone shown)", st, strings.Contains(body, "母亲住院"))
	}
	// Every link on the counsellor's page opens (issue 18 item 11).
	for _, mm := range regexp.MustCompile(`href="(/[^"#]*)`).FindAllStringSubmatch(body, -1) {
		if strings.HasPrefix(mm[1], "/static/") {
			continue
		}
		if st, _, _ := get(strings.ReplaceAll(mm[1], "&amp;", "&"), "counsellor"); st == http.StatusForbidden || st == http.StatusNotFound {
			t.Errorf("counsellor's page links to %s, which answers %d", mm[1], st)
		}
	}
	if st, _, _ := get("/persons/"+other+"/psych", "counsellor"); st != http.StatusNotFound {
		t.Fatalf("counsellor opens an unassigned person of its street: %d", st)
	}
	if _, _, body := get("/persons", "counsellor"); strings.Contains(body, "/persons/"+other) || !strings.Contains(body, "/persons/"+in) {
		t.Fatal("the counsellor's list is not its assigned persons")
	}
	_, _, body = get("/persons/"+in+"/psych", "worker")
	if strings.Contains(body, "母亲住院") || !strings.Contains(body, "仅咨询师和街道负责人可见") {
		t.Fatal("worker sees the notes, or is not told they exist")
	}
	if _, _, body := get("/persons/"+in+"/psych", "lead"); !strings.Contains(body, "母亲住院") {
		t.Fatal("lead does not see the notes")
	}
	if st, _, _ := get("/persons/"+in+"/psych", "police"); st != http.StatusForbidden {
		t.Fatalf("police open the psych page: %d", st)
	}
	if _, _, body := get("/persons/"+in, "police"); strings.Contains(body, "/psych") {
		t.Fatal("police see a link to psychological services")
	}
	bad := strings.Replace(phq9Form, "q3=0", "q3=5", 1)
	bad = strings.Replace(bad, "&q7=0", "", 1)
	st, body = post("/persons/"+in+"/psych/scales", bad, "worker")
	if st != http.StatusBadRequest || !strings.Contains(body, `<li data-field="q3">`) || !strings.Contains(body, `<li data-field="q7">`) {
		t.Fatalf("bad answers: %d, want both items named", st)
	}
	if st, _ := post("/persons/"+in+"/psych/scales", strings.Replace(phq9Form, "q9=0", "q9=2", 1), "worker"); st != http.StatusSeeOther {
		t.Fatalf("worker gives a PHQ-9: %d", st)
	}
	if _, _, body := get("/persons/"+in, "worker"); !strings.Contains(body, `data-testid="item9-alert"`) || !strings.Contains(body, "<svg") {
		t.Fatal("the file shows no item-9 alert or no chart")
	}
}

// The API says the same as the console: police 403; notes only for the
// counsellor and the lead; a bad ASSIST answer refused naming the
// substance and question.
func TestPsychAPI(t *testing.T) {
	m := newMatrix(t)
	in := m.target("counselled_person", m.streetA)
	call := func(method, path, body, role string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, m.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+m.tokens[casework.Role(role)]["api"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := make([]byte, 256<<10)
		n, _ := io.ReadFull(resp.Body, b)
		return resp.StatusCode, string(b[:n])
	}
	if st, body := call("POST", "/api/v1/persons/"+in+"/psych/sessions", strings.Replace(sessionJSONBody(""), "电话随访", "谈及失业的焦虑", 1), "counsellor"); st != http.StatusCreated {
		t.Fatalf("counsellor records: %d %s", st, body)
	}
	for _, c := range []struct {
		role      string
		status    int
		has, lack string
	}{
		{"counsellor", 200, "谈及失业的焦虑", ""},
		{"lead", 200, "谈及失业的焦虑", ""},
		{"worker", 200, `"has_notes":true`, "谈及失业的焦虑"},
		{"office", 200, `"has_notes":true`, "谈及失业的焦虑"},
		{"police", 403, "", "谈及失业的焦虑"},
	} {
		st, body := call("GET", "/api/v1/persons/"+in+"/psych", "", c.role)
		if st != c.status || !strings.Contains(body, c.has) || (c.lack != "" && strings.Contains(body, c.lack)) {
			t.Errorf("%s: %d %.300s", c.role, st, body)
		}
	}
	bad := `{"scale":"assist","answers":{"substances":{"tobacco":{"q1":1,"q2":4,"q3":3,"q4":4,"q5":5,"q6":0,"q7":0}}}}`
	if st, body := call("POST", "/api/v1/persons/"+in+"/psych/scales", bad, "worker"); st != 400 || !strings.Contains(body, "tobacco.q5") {
		t.Fatalf("bad ASSIST: %d %s", st, body)
	}
}

// The console edits a session with a reason and lists the earlier version;
// without a reason nothing changes.
func TestPsychSessionEditConsole(t *testing.T) {
	m := newMatrix(t)
	id := m.target("counselling", m.streetA)
	form := func(reason string) string {
		return "held_at=2026-01-05T10:00&minutes=45&mode=phone&notes=更正后的记录&reason=" + reason
	}
	if st, _ := m.do("POST", "/psych/sessions/"+id+"/edit", form(""), "lead"); st != http.StatusBadRequest {
		t.Fatalf("no reason: %d", st)
	}
	if st, loc := m.do("POST", "/psych/sessions/"+id+"/edit", form("补充时长"), "lead"); st != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", st, loc)
	}
	req, _ := http.NewRequest("GET", m.srv.URL+"/psych/sessions/"+id+"/edit", nil)
	req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.RoleLead]["web"]})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "电话咨询") || !strings.Contains(string(b), "补充时长") || !strings.Contains(string(b), "更正后的记录") {
		t.Fatalf("edit page %d:\n%.1500s", resp.StatusCode, b)
	}
}
