package server_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// R38 (一人一档): a worker asks for a new file with a sealed person's ID
// number; the office's bell (the API the console's bell reads) shows the
// request linking to the statutory query form, not to the person page; the
// office reopens the file through the API with a statutory query in force —
// refused to other roles, without a legal basis, and a second time — and
// the file then opens for the community's lead.
func TestR38ReopenSealedThroughAPI(t *testing.T) {
	m := newMatrix(t)
	ctx := context.Background()
	sys := casework.SystemActor("test")
	community := storetest.Must(m.db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: m.streetA.ID, Kind: casework.KindCommunity, Name: "复启社区"}))
	day := casework.DateOf(m.db.Now(), nil).AddYears(-5)
	idNumber := testIDNumber(71)
	p := storetest.Must(m.db.CreatePerson(ctx, sys, casework.PersonInput{OrgID: community.ID, Name: "封存人乙", IDNumber: idNumber},
		&casework.MeasureInput{Kind: casework.MeasureRehab, TermMonths: 1, DecisionNumber: "吉公康字〔2021〕71号",
			DecisionAuthority: "三亚市公安局吉阳分局", DecisionDate: day.AddDays(-2), ReceivedDate: day, ReportDate: day}))
	if n, err := m.db.ReleaseExpired(ctx); err != nil || n != 1 {
		t.Fatalf("released %d, %v", n, err)
	}
	if n, err := m.db.SealExpired(ctx); err != nil || n != 1 {
		t.Fatalf("sealed %d, %v", n, err)
	}
	call := func(method, path, role, body string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, method, m.srv.URL+path, strings.NewReader(body))
		if strings.HasPrefix(path, "/api/") {
			req.Header.Set("Authorization", "Bearer "+m.tokens[casework.Role(role)]["api"])
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.Role(role)]["web"]})
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", m.srv.URL)
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
	worker := matrixActor(m, "u-worker", casework.RoleWorker, m.streetA)
	if _, err := m.db.CreatePerson(ctx, worker, casework.PersonInput{OrgID: community.ID, Name: "封存人乙", IDNumber: idNumber}, nil); !casework.IsCode(err, casework.ECONFLICT) {
		t.Fatalf("R38: a new file for the sealed number: %v", err)
	}
	// The office's bell.
	code, body := call("GET", "/api/v1/notifications", "office", "")
	if code != 200 || !strings.Contains(body, store.NoticeSealedIDQuery) || !strings.Contains(body, `"/statutory-queries/new"`) ||
		strings.Contains(body, "/persons/"+p.ID) || strings.Contains(body, "封存人乙") {
		t.Fatalf("R38: the office's bell %d %s", code, clip(body))
	}
	office := matrixActor(m, "u-office", casework.RoleOffice, m.streetA)
	q := storetest.Must(m.db.RecordStatutoryQuery(ctx, office, casework.StatutoryQueryInput{IDNumber: idNumber, Organ: "三亚市公安局吉阳分局",
		LegalBasis: "《社区戒毒社区康复工作规范》", DocumentNo: "吉公(禁)社戒决字〔2031〕71号", Reason: "新的社区戒毒决定"}))
	// The console: the statutory view links to the form, which names the
	// person and refuses an empty legal basis by field.
	if code, body := call("GET", "/statutory-queries/"+q.ID, "office", ""); code != 200 || !strings.Contains(body, "/statutory-queries/"+q.ID+"/reopen") {
		t.Fatalf("R38: the statutory view: %d %s", code, clip(body))
	}
	if code, body := call("GET", "/statutory-queries/"+q.ID+"/reopen", "office", ""); code != 200 || !strings.Contains(body, "封存人乙") {
		t.Fatalf("R38: the reopening form: %d %s", code, clip(body))
	}
	if code, body := call("POST", "/statutory-queries/"+q.ID+"/reopen", "office", "legal_basis=&reason=x"); code != http.StatusBadRequest || !strings.Contains(body, "新的决定书文号") {
		t.Fatalf("R38: the console reopening without a legal basis: %d %s", code, clip(body))
	}
	// In English too, with no catalog key left showing.
	if err := m.db.SetLang(ctx, office, "en"); err != nil {
		t.Fatal(err)
	}
	code, body = call("POST", "/statutory-queries/"+q.ID+"/reopen", "office", "legal_basis=x&reason=")
	if code != http.StatusBadRequest || !strings.Contains(body, "Reopen the sealed file of 封存人乙") || !strings.Contains(body, "enter the reason for reopening") ||
		regexp.MustCompile(`\bstatutory\.[a-z_]+`).MatchString(body) {
		t.Fatalf("R38: the English reopening form: %d %s", code, clip(body))
	}
	path := "/api/v1/statutory-queries/" + q.ID + "/reopen"
	full := `{"legal_basis":"吉公(禁)社戒决字〔2031〕71号","reason":"再次吸毒，决定社区戒毒"}`
	for _, role := range []string{"lead", "worker", "police", "auditor"} {
		if code, body := call("POST", path, role, full); code != http.StatusForbidden && code != http.StatusNotFound {
			t.Errorf("R38: %s reopens: %d %s", role, code, clip(body))
		}
	}
	code, body = call("POST", path, "office", `{"legal_basis":" ","reason":"再次吸毒"}`)
	if code != http.StatusBadRequest || !strings.Contains(body, `"field":"legal_basis"`) {
		t.Fatalf("R38: reopened without a legal basis: %d %s", code, clip(body))
	}
	if code, body := call("GET", "/api/v1/persons/"+p.ID, "lead", ""); code != http.StatusNotFound {
		t.Fatalf("R38: the sealed file before reopening: %d %s", code, clip(body))
	}
	if code, body := call("POST", path, "office", full); code != http.StatusOK || !strings.Contains(body, p.ID) {
		t.Fatalf("R38: reopening: %d %s", code, clip(body))
	}
	if code, body := call("GET", "/api/v1/persons/"+p.ID, "lead", ""); code != http.StatusOK || !strings.Contains(body, "封存人乙") {
		t.Fatalf("R38: the reopened file for the lead: %d %s", code, clip(body))
	}
	if code, body := call("POST", path, "office", full); code != http.StatusConflict {
		t.Fatalf("R38: a second reopening: %d %s", code, clip(body))
	}
}
