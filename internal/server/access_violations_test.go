package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Violations and serious cases (issue 5 §4; R9, R10, R29). Everyone who
// works the files reads them (no counsellor, no auditor, no admin);
// workers and leads review and record; a lead excuses and takes the
// ladder's steps; workers and leads report a case, the police acknowledge
// and decide it; any of them closes a decided case. Targets are a drug use
// recorded on a fresh person (a confirmed violation) and its case, so a
// review or a police step on them may answer 409/400 — access, not denial.
var _ = addRules(map[string]accessRule{
	"GET /violations":                      {roles: readers},
	"GET /persons/{id}/violations":         {roles: readers},
	"POST /persons/{id}/violations":        {roles: "lead worker", body: "day=" + todayText + "&detail=本人承认复吸"},
	"GET /violations/{id}":                 {roles: readers},
	"POST /violations/{id}/review":         {roles: "lead worker", body: "action=explain&reason=本人说明"},
	"POST /violations/{id}/steps":          {roles: "lead", body: "step=exhort&reason=复吸"},
	"GET /cases":                           {roles: readers},
	"GET /cases/{id}":                      {roles: readers},
	"POST /cases/{id}/report":              {roles: "lead worker", body: "recipient=椰林派出所"},
	"POST /cases/{id}/police":              {roles: "police", body: "action=acknowledge"},
	"POST /cases/{id}/close":               {roles: "lead worker police", body: "text=结案"},
	"GET /api/v1/violations":               {roles: readers},
	"GET /api/v1/persons/{id}/violations":  {roles: readers},
	"POST /api/v1/persons/{id}/violations": {roles: "lead worker", body: `{"day":"` + todayText + `","detail":"本人承认复吸"}`},
	"GET /api/v1/violations/{id}":          {roles: readers},
	"POST /api/v1/violations/{id}/review":  {roles: "lead worker", body: `{"action":"explain","reason":"本人说明"}`},
	"POST /api/v1/violations/{id}/steps":   {roles: "lead", body: `{"step":"exhort","reason":"复吸"}`},
	"GET /api/v1/cases":                    {roles: readers},
	"GET /api/v1/cases/{id}":               {roles: readers},
	"POST /api/v1/cases/{id}/report":       {roles: "lead worker", body: `{"recipient":"椰林派出所"}`},
	"POST /api/v1/cases/{id}/police":       {roles: "police", body: `{"action":"acknowledge"}`},
	"POST /api/v1/cases/{id}/close":        {roles: "lead worker police", body: `{"text":"结案"}`},
})

// drugUseTarget records drug use for a fresh person in the community: a
// confirmed violation and an open serious case (R10).
func drugUseTarget(m *matrix, community *casework.Org) *store.Violation {
	pid := personTarget(m, community)
	return storetest.Must(m.db.RecordDrugUse(context.Background(), casework.SystemActor("test"), pid,
		store.DrugUseInput{Day: casework.DateOf(m.db.Now(), nil).AddDays(-1), Detail: "尿检前承认吸毒"}))
}

var _ = addTarget("violation", func(m *matrix, community *casework.Org) string { return drugUseTarget(m, community).ID })

var _ = addTarget("serious_case", func(m *matrix, community *casework.Org) string {
	v := drugUseTarget(m, community)
	cs, _, err := m.db.ListSeriousCases(context.Background(), casework.SystemActor("test"), store.CaseFilter{PersonID: v.PersonID})
	if err != nil || len(cs) != 1 {
		panic("serious case target")
	}
	return cs[0].ID
})

// The flow end to end through the API: the worker reports (a 报告书 is
// generated and filed), the police acknowledge and decide, the worker
// closes; a worker may not excuse, a police officer of the street may not
// report, and a case of another street is not found.
func TestViolationRoutes(t *testing.T) {
	m := newMatrix(t)
	in := m.target("serious_case", m.streetA)
	out := m.target("serious_case", m.streetB)
	call := func(method, path, body, role string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, m.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+m.tokens[casework.Role(role)]["api"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	for _, c := range []struct {
		name, method, path, body, role string
		status                         int
		contains                       string
	}{
		{"police may not report", "POST", "/api/v1/cases/" + in + "/report", `{"recipient":"x"}`, "police", http.StatusForbidden, ""},
		{"no recipient (R10)", "POST", "/api/v1/cases/" + in + "/report", `{}`, "worker", http.StatusBadRequest, "recipient"},
		{"worker reports", "POST", "/api/v1/cases/" + in + "/report", `{"recipient":"椰林派出所 王警官"}`, "worker", http.StatusOK, `"report_document_id"`},
		{"police list shows it", "GET", "/api/v1/cases?open=true", "", "police", http.StatusOK, `"state":"reported"`},
		{"police acknowledge", "POST", "/api/v1/cases/" + in + "/police", `{"action":"acknowledge","text":"已接收"}`, "police", http.StatusOK, `"state":"acknowledged"`},
		{"police decide", "POST", "/api/v1/cases/" + in + "/police", `{"action":"decide","decision":"compulsory","decision_date":"` + todayText + `","text":"决定强制隔离戒毒"}`, "police", http.StatusOK, `"decision":"compulsory"`},
		{"worker closes", "POST", "/api/v1/cases/" + in + "/close", `{"text":"已移交"}`, "worker", http.StatusOK, `"state":"closed"`},
		{"closed twice", "POST", "/api/v1/cases/" + in + "/close", `{"text":"x"}`, "worker", http.StatusConflict, ""},
		{"other street", "GET", "/api/v1/cases/" + out, "", "police", http.StatusNotFound, ""},
		{"the console page renders", "GET", "/api/v1/violations?kind=drug_use", "", "lead", http.StatusOK, `"kind":"drug_use"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := call(c.method, c.path, c.body, c.role)
			if status != c.status || !strings.Contains(body, c.contains) {
				t.Fatalf("got %d, want %d containing %q:\n%.600s", status, c.status, c.contains, body)
			}
		})
	}
}
