package server_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Visits and contacts (issue 11 §7): workers (their caseload) and leads
// record; office, lead, worker and police read; a counsellor does not;
// the author or a lead/office edits.
var visitAt = time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)

var visitBodyForm = "kind=phone&state=attempt&at=" + visitAt

var visitBodyJSON = `{"kind":"phone","state":"attempt","at":"` + visitAt + `"}`

var _ = addRules(map[string]accessRule{
	"GET /persons/{id}/visits":               {roles: readers},
	"GET /persons/{id}/visits/new":           {roles: "lead worker"},
	"POST /persons/{id}/visits":              {roles: "lead worker", body: visitBodyForm},
	"GET /visits/{id}":                       {roles: readers},
	"POST /visits/{id}":                      {roles: "lead office", body: visitBodyForm + "&reason=补充"},
	"GET /visits/{id}/photos/{seq}":          {roles: readers},
	"POST /visits/{id}/followups/{fid}/done": {roles: "lead worker"},
	"POST /visits/{id}/pin-residence":        {roles: "lead worker"},
	"GET /visits":                            {roles: readers},
	"GET /visits/export.xlsx":                {roles: readers},
	"GET /visits/import":                     {roles: "lead worker"},
	"POST /visits/import":                    {roles: "lead worker"},
	"GET /visits/template.xlsx":              {roles: "lead worker"},
	"GET /api/v1/persons/{id}/visits":        {roles: readers},
	"POST /api/v1/persons/{id}/visits":       {roles: "lead worker", body: visitBodyJSON},
	"GET /api/v1/visits/{id}":                {roles: readers},
	"PATCH /api/v1/visits/{id}":              {roles: "lead office", body: strings.Replace(visitBodyJSON, "}", `,"reason":"补充"}`, 1)},
	"GET /api/v1/visits/{id}/revisions":      {roles: readers},
	"GET /api/v1/visits":                     {roles: readers},
	"POST /api/v1/visits/import":             {roles: "lead worker"},
})

// visitTarget is a home visit with a photo and a follow-up, recorded by the
// system (so no role of the matrix is its author) for a person target.
func visitTarget(m *matrix, community *casework.Org) *store.Visit {
	ctx := context.Background()
	sys := casework.SystemActor("test")
	pid := personTarget(m, community)
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		panic(err)
	}
	key, _, err := m.blobs.Put(ctx, bytes.NewReader(buf.Bytes()))
	if err != nil {
		panic(err)
	}
	v, _, err := m.db.RecordVisit(ctx, sys, pid, casework.VisitInput{Kind: casework.VisitHome, At: time.Now().Add(-2 * time.Hour), Condition: "stable",
		Notes: "走访", FollowUps: []casework.FollowUp{{Action: "联系就业", Due: casework.DateOf(time.Now(), nil).AddDays(3)}}},
		[]store.VisitPhoto{{SHA256: key, MIME: "image/png", Size: int64(buf.Len())}})
	if err != nil {
		panic(err)
	}
	return v
}

var _ = addTarget("visit", func(m *matrix, community *casework.Org) string { return visitTarget(m, community).ID })

var _ = addTarget("visit_photo", func(m *matrix, community *casework.Org) string {
	return visitTarget(m, community).ID + "/photos/1?rest="
})

var _ = addTarget("visit_followup", func(m *matrix, community *casework.Org) string {
	v := visitTarget(m, community)
	return v.ID + "/followups/" + v.FollowUps[0].ID + "/done?rest="
})

// The routes do what they say: the field form's queued send (multipart,
// X-Kangfu-Queue) is stored once and answered in JSON; an expired session
// is a redirect to sign-in, which the phone takes as "keep the draft and
// ask to sign in"; police read the visit, a counsellor does not; a worker
// who is not the author may not edit.
func TestVisitRoutes(t *testing.T) {
	m := newMatrix(t)
	in := m.target("person", m.streetA)
	id := store.NewID()
	queued := func(cookie string) (int, string, string) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, v := range map[string]string{"id": id, "kind": "home", "at": visitAt, "condition": "stable", "notes": "本人在家"} {
			mw.WriteField(k, v)
		}
		mw.Close()
		req, _ := http.NewRequest("POST", m.srv.URL+"/persons/"+in+"/visits", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("X-Kangfu-Queue", "1")
		req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: cookie})
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	if st, loc, _ := queued("expired-session"); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Fatalf("expired session: %d %s, want a redirect to sign in", st, loc)
	}
	if st, _, body := queued(m.tokens[casework.RoleWorker]["web"]); st != http.StatusCreated || !strings.Contains(body, `"created":true`) {
		t.Fatalf("first send: %d %s", st, body)
	}
	if st, _, body := queued(m.tokens[casework.RoleWorker]["web"]); st != http.StatusOK || !strings.Contains(body, `"created":false`) {
		t.Fatalf("second send: %d %s", st, body)
	}
	for _, c := range []struct {
		name, method, path, body, role string
		status                         int
		contains                       string
	}{
		{"stored once", "GET", "/api/v1/persons/" + in + "/visits", "", "police", http.StatusOK, `"total":1`},
		{"police read the notes", "GET", "/api/v1/visits/" + id, "", "police", http.StatusOK, "本人在家"},
		{"counsellor may not", "GET", "/api/v1/visits/" + id, "", "counsellor", http.StatusForbidden, ""},
		{"worker, the author, edits", "PATCH", "/api/v1/visits/" + id, `{"kind":"home","at":"` + visitAt + `","condition":"concern","notes":"补记","reason":"补记情况"}`, "worker", http.StatusOK, `"rev":1`},
		{"history kept", "GET", "/api/v1/visits/" + id + "/revisions", "", "lead", http.StatusOK, "本人在家"},
		{"police may not edit", "PATCH", "/api/v1/visits/" + id, `{"kind":"home","at":"` + visitAt + `","condition":"stable","reason":"x"}`, "police", http.StatusForbidden, ""},
		{"a bad kind names the field", "POST", "/api/v1/persons/" + in + "/visits", `{"kind":"letter","at":"` + visitAt + `"}`, "worker", http.StatusBadRequest, `"field":"kind"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, m.srv.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+m.tokens[casework.Role(c.role)]["api"])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status || !strings.Contains(string(b), c.contains) {
				t.Fatalf("got %d, want %d containing %q:\n%.600s", resp.StatusCode, c.status, c.contains, b)
			}
		})
	}
	_ = storetest.Must[int]
}
