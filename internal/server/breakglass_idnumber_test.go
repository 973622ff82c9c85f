package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 15 §3 (break-glass by ID number): a street lead asks for emergency
// access by an ID number outside its subtree. A number on file, a number
// on no file and the number of a sealed file (R38) get the same answer —
// status and body byte for byte, but for the grant's own id, its times and
// the request id — on the API and the console; each attempt is audited
// with the number masked; past the daily limit all three are refused
// alike.
func TestBreakGlassByIDNumberHitAndMissAlike(t *testing.T) {
	m := newMatrix(t)
	ctx := context.Background()
	sys := casework.SystemActor("test")
	outside := storetest.Must(m.db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: m.streetB.ID, Kind: casework.KindCommunity, Name: "外社区"}))
	// A file sealed five years after a one-month measure, then a live file.
	day := casework.DateOf(m.db.Now(), nil).AddYears(-5)
	sealedID := testIDNumber(41)
	storetest.Must(m.db.CreatePerson(ctx, sys, casework.PersonInput{OrgID: outside.ID, Name: "封存人乙", IDNumber: sealedID},
		&casework.MeasureInput{Kind: casework.MeasureRehab, TermMonths: 1, DecisionNumber: "吉公康字〔2021〕41号",
			DecisionAuthority: "三亚市公安局吉阳分局", DecisionDate: day.AddDays(-2), ReceivedDate: day, ReportDate: day}))
	if _, err := m.db.ReleaseExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := m.db.SealExpired(ctx); err != nil || n != 1 {
		t.Fatalf("sealed %d, %v", n, err)
	}
	hitID := testIDNumber(42)
	now := casework.DateOf(m.db.Now(), nil).AddDays(-30)
	storetest.Must(m.db.CreatePerson(ctx, sys, casework.PersonInput{OrgID: outside.ID, Name: "外地人丙", IDNumber: hitID},
		&casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: "吉公决字〔2026〕42号", DecisionAuthority: "三亚市公安局吉阳分局",
			DecisionDate: now.AddDays(-2), ReceivedDate: now, ReportDate: now.AddDays(3)}))
	missID := testIDNumber(43)

	volatile := regexp.MustCompile(`"(id|request_id|starts_at|ends_at)":"[^"]*"`)
	post := func(path, body string) (int, string, string) {
		req, _ := http.NewRequestWithContext(ctx, "POST", m.srv.URL+path, strings.NewReader(body))
		if strings.HasPrefix(path, "/api/") {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+m.tokens[casework.RoleLead]["api"])
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range secFormHeader {
				req.Header.Set(k, v)
			}
			req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.RoleLead]["web"]})
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, volatile.ReplaceAllString(string(b), `"$1":"-"`), resp.Header.Get("Location")
	}
	api := func(idn string) (int, string) {
		s, b, _ := post("/api/v1/break-glass", fmt.Sprintf(`{"person_id":%q,"reason":"紧急警情核实"}`, idn))
		return s, b
	}
	hs, hb := api(hitID)
	ms, mb := api(missID)
	ss, sb := api(sealedID)
	if hs != http.StatusCreated || ms != hs || ss != hs || mb != hb || sb != hb {
		t.Fatalf("API answers differ:\n hit    %d %s\n miss   %d %s\n sealed %d %s", hs, hb, ms, mb, ss, sb)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(hb), &got); err != nil || got["person_id"] != "" || strings.Contains(hb, "外地人丙") {
		t.Fatalf("the answer names the file: %s", hb)
	}
	// The console: the same redirect and no body to tell them apart.
	form := func(idn string) (int, string, string) {
		return post("/break-glass", url.Values{"person_id": {idn}, "reason": {"紧急警情核实"}}.Encode())
	}
	cs1, cb1, cl1 := form(hitID)
	cs2, cb2, cl2 := form(missID)
	if cs1 != http.StatusSeeOther || cs1 != cs2 || cb1 != cb2 || cl1 != cl2 {
		t.Fatalf("console answers differ: hit %d %q %q, miss %d %q %q", cs1, cl1, cb1, cs2, cl2, cb2)
	}
	// Audited, each attempt, the number masked.
	recs, _, err := m.db.ListAudit(ctx, sys, store.AuditFilter{Action: "breakglass.request", TargetType: "break_glass"})
	if err != nil || len(recs) != 5 {
		t.Fatalf("requester audit rows: %d (%v), want 5", len(recs), err)
	}
	for _, r := range recs {
		if strings.Contains(r.Detail, hitID) || strings.Contains(r.Detail, missID) || !strings.Contains(r.Detail, `"id_number"`) {
			t.Fatalf("audit detail: %s", r.Detail)
		}
	}
	// The holder is told of the hit only (twice: API and console), never of the sealed file.
	holder, _, err := m.db.ListAudit(ctx, sys, store.AuditFilter{Action: "breakglass.request", TargetType: "person"})
	if err != nil || len(holder) != 2 {
		t.Fatalf("holder audit rows: %d (%v), want 2", len(holder), err)
	}
	// Rate limit per user: 10 a day, then hit and miss are refused alike.
	for range store.MaxBreakGlassPerDay - 5 {
		if s, b := api(missID); s != http.StatusCreated {
			t.Fatalf("request under the limit: %d %s", s, b)
		}
	}
	hs, hb = api(hitID)
	ms, mb = api(missID)
	if hs != http.StatusTooManyRequests || ms != hs || mb != hb {
		t.Fatalf("past the limit: hit %d %s, miss %d %s", hs, hb, ms, mb)
	}
}
