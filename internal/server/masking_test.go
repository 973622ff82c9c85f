package server_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/demo"
	"kangfu/internal/server"
	"kangfu/internal/store/storetest"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoUnmaskedIDOrPhoneInPagesExportsAPIOrLogs drives one person's file
// through the API and the console — create, list, search by ID number and
// by phone, open, export, a failing request — and finds the full ID number
// and phone nowhere: not in a page, an export, an API answer or a log line
// (R36). Only the explicit, audited reveal returns the value.
func TestNoUnmaskedIDOrPhoneInPagesExportsAPIOrLogs(t *testing.T) {
	db := storetest.Open(t, storetest.Engines(t)[0], nil)
	res, err := demo.Load(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(server.RequestIDHandler{Handler: slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})})
	srv, err := server.New(db, auth.NewService(db, auth.DefaultPolicy()), log, server.Options{Blobs: storetest.Must(blob.Open(t.TempDir()))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	s := &secSite{url: ts.URL, tree: res.Tree, client: &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	const idNumber, phone = "46020319850315109X", "13907551234"
	if got := testIDCheck(idNumber); got != idNumber {
		t.Fatalf("test ID %s is not valid (want %s)", idNumber, got)
	}
	token := s.apiLogin(t, "lead")
	api := map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
	body := `{"org_id":"` + res.Tree.Factory.ID + `","name":"测试隐私","id_number":"` + strings.ToLower(idNumber) + `","phone":"` + phone + `",
		"contacts":[{"name":"母亲","relation":"母亲","phone":"13600001111"}],
		"measure":{"kind":"community_rehab","decision_number":"吉公(禁)决字〔2021〕99号","decision_authority":"三亚市公安局吉阳分局",
		"decision_date":"2021-03-01","received_date":"2021-03-02","report_date":"2021-03-05","term_months":36}}`
	resp, out := s.do(t, "POST", "/api/v1/persons", body, api)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, out)
	}
	var created struct {
		ID string `json:"id"`
	}
	json.Unmarshal([]byte(out), &created)
	seen := map[string]string{"create": out}

	web := s.consoleLogin(t, "lead")
	for name, path := range map[string]string{
		"api list":         "/api/v1/persons",
		"api search id":    "/api/v1/persons?q=" + idNumber,
		"api search phone": "/api/v1/persons?q=" + phone,
		"api get":          "/api/v1/persons/" + created.ID,
		"api timeline":     "/api/v1/persons/" + created.ID + "/timeline",
		"api export":       "/api/v1/persons/export.xlsx?q=" + url.QueryEscape("测试"),
		"api audit":        "/api/v1/audit",
		"api bad search":   "/api/v1/persons?q=" + idNumber[:17] + "0", // wrong check digit: a name search
	} {
		resp, out := s.do(t, "GET", path, "", api)
		if resp.StatusCode >= 500 {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, out)
		}
		seen[name] = out
	}
	for name, path := range map[string]string{
		"console list":         "/persons",
		"console search id":    "/persons?q=" + idNumber,
		"console search phone": "/persons?q=" + phone,
		"console file":         "/persons/" + created.ID,
		"console export":       "/persons/export.xlsx",
		"console dossier":      "/persons/" + created.ID + "/dossier",
	} {
		resp, out := s.do(t, "GET", path, "", web)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", name, resp.StatusCode)
		}
		seen[name] = out
	}
	// The xlsx is a zip: look inside it too (the sheet XML is compressed).
	for _, name := range []string{"api export", "console export"} {
		seen[name+" (sheet)"] = unzipText(t, []byte(seen[name]))
	}
	if !strings.Contains(seen["console list"], idNumber[:6]+"********"+idNumber[14:]) {
		t.Fatal("the list does not show the masked ID number; the test would prove nothing")
	}
	// The reveal is the one place the value appears, and it is audited.
	resp, out = s.do(t, "POST", "/api/v1/persons/"+created.ID+"/reveal", `{"field":"id_number","reason":"核对身份"}`, api)
	if resp.StatusCode != http.StatusOK || !strings.Contains(out, idNumber) {
		t.Fatalf("reveal: %d %s", resp.StatusCode, out)
	}
	for name, text := range seen {
		for _, secret := range []string{idNumber, strings.ToLower(idNumber), phone, "13600001111"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows the unmasked value %s", name, secret)
			}
		}
	}
	logText := logs.String()
	if !strings.Contains(logText, `"route":"GET /api/v1/persons"`) {
		t.Fatalf("no request was logged; the log check would prove nothing:\n%.500s", logText)
	}
	for _, secret := range []string{idNumber, strings.ToLower(idNumber), phone, "13600001111"} {
		if strings.Contains(logText, secret) {
			t.Errorf("the server log contains the unmasked value %s", secret)
		}
	}
}

// testIDCheck returns the number with its correct check character.
func testIDCheck(n string) string { return n[:17] + string(idCheck(n[:17])) }

func idCheck(body17 string) byte { return casework.IDCheckChar(body17) }

// consoleLogin signs in to the console and returns headers carrying the
// session cookie.
func (s *secSite) consoleLogin(t *testing.T, username string) map[string]string {
	t.Helper()
	resp, _ := s.do(t, "POST", "/login", "username="+username+"&password="+demo.Password, secFormHeader)
	for _, c := range resp.Cookies() {
		if c.Name == "kangfu_session" && c.Value != "" {
			return map[string]string{"Cookie": c.Name + "=" + c.Value}
		}
	}
	t.Fatalf("console login as %s: %d, no session cookie", username, resp.StatusCode)
	return nil
}

// unzipText returns the text of every file in a zip (an .xlsx).
func unzipText(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip/xlsx: %v", err)
	}
	var sb strings.Builder
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(&sb, rc)
		rc.Close()
	}
	return sb.String()
}
