package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Documents and the dossier (issue 3 §5): reading needs sensitive access
// (office, lead, worker, police; a counsellor's minimal profile has no
// documents), filing needs write access (lead, worker with the caseload).
var _ = addRules(map[string]accessRule{
	"GET /persons/{id}/documents":                  {roles: "office lead worker police"},
	"POST /persons/{id}/documents":                 {roles: "lead worker", body: "kind=decision&title=决定书"},
	"POST /persons/{id}/documents/generate":        {roles: "lead worker", body: "template=agreement"},
	"GET /documents/{id}/content":                  {roles: "office lead worker police"},
	"GET /persons/{id}/dossier":                    {roles: "office lead worker police"},
	"GET /persons/{id}/dossier.pdf":                {roles: "office lead worker police"},
	"GET /api/v1/persons/{id}/documents":           {roles: "office lead worker police"},
	"POST /api/v1/persons/{id}/documents":          {roles: "lead worker", body: `{"kind":"decision"}`},
	"POST /api/v1/persons/{id}/documents/generate": {roles: "lead worker", body: `{"template":"agreement"}`},
	"GET /api/v1/documents/{id}/content":           {roles: "office lead worker police"},
	"GET /api/v1/persons/{id}/dossier.pdf":         {roles: "office lead worker police"},
})

// matrixScan is the content of every document target.
var matrixScan = []byte("%PDF-1.4\n% access matrix scan\n%%EOF\n")

// A document target: a scan filed in a person file in the community. Its
// content reaches the server's blob store through a real upload by the
// matrix's worker to a file in its own caseload; the store is
// content-addressed, so the target's row (filed directly, since no
// matrix user may write outside street A) points at the same bytes.
var _ = addTarget("document", func(m *matrix, community *casework.Org) string {
	ctx := context.Background()
	sys := casework.SystemActor("test")
	home := storetest.Must(m.db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: m.streetA.ID, Kind: casework.KindCommunity,
		Name: fmt.Sprintf("上传社区%d", m.n)}))
	m.uploadScan(targetMakers["person"](m, home))
	person := targetMakers["person"](m, community)
	sum := sha256.Sum256(matrixScan)
	d := storetest.Must(m.db.AddDocument(ctx, sys, person, store.DocumentInput{Kind: "decision", Title: "决定书", Source: store.SourceUpload,
		SHA256: hex.EncodeToString(sum[:]), MIME: "application/pdf", Size: int64(len(matrixScan))}))
	return d.ID
})

// uploadScan uploads matrixScan to the person's file as the worker. A
// failure shows later as a failed download in the matrix.
func (m *matrix) uploadScan(personID string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("kind", "decision")
	fw, _ := mw.CreateFormFile("file", "scan.pdf")
	fw.Write(matrixScan)
	mw.Close()
	req, err := http.NewRequest("POST", m.srv.URL+"/api/v1/persons/"+personID+"/documents", &body)
	if err != nil {
		m.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+m.tokens[casework.RoleWorker]["api"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		m.t.Logf("matrix scan upload: %d", resp.StatusCode)
	}
}

// The console's document pages and the dossier, end to end: the print view
// shows the file with the ID number masked and loads the print styles; the
// PDF is a PDF; without a blob store, filing answers 503 with a clear
// message (the server in these tests has none unless wired).
func TestDocumentPages(t *testing.T) {
	m := newMatrix(t)
	person := m.target("person", m.streetA)
	p := storetest.Must(m.db.GetPerson(context.Background(), casework.SystemActor("test"), person, ""))
	full := storetest.Must(m.db.Reveal(context.Background(), casework.SystemActor("test"), person, "id_number", "test"))
	get := func(path string) (int, string, http.Header) {
		req, _ := http.NewRequest("GET", m.srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.RoleWorker]["web"]})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	tests := []struct {
		path, contentType string
		want              []string
	}{
		{"/persons/" + person + "/dossier", "text/html", []string{p.Name, p.IDMasked, "print.css", "吉公决字", `data-testid="dossier"`}},
		{"/persons/" + person + "/documents", "text/html", []string{p.Name, `enctype="multipart/form-data"`, `name="template" value="agreement"`}},
		{"/persons/" + person + "/dossier.pdf", "application/pdf", []string{"%PDF-"}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/persons/"+person), func(t *testing.T) {
			status, body, h := get(tt.path)
			if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), tt.contentType) {
				t.Fatalf("%d %s", status, h.Get("Content-Type"))
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if strings.Contains(body, full) {
				t.Error("page shows the unmasked ID number")
			}
		})
	}
	req, _ := http.NewRequest("POST", m.srv.URL+"/api/v1/persons/"+person+"/documents/generate", strings.NewReader(`{"template":"agreement"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+m.tokens[casework.RoleWorker]["api"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusServiceUnavailable && !strings.Contains(string(b), "unavailable") {
		t.Fatalf("503 without a clear error: %s", b)
	}
	if resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusCreated {
		t.Fatalf("generate: %d %s", resp.StatusCode, b)
	}
}
