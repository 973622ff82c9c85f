package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/server"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// R38: opening a sealed file by its id answers exactly like an id that
// names no file (same status, same body) on every console and API route
// that takes a person id, for each role that reads the community's files;
// only the statutory query (GET /statutory-queries/{id}) opens it. The
// routes come from the router, so a new person route is covered as it is
// added.
func TestR38SealedFileAnswersLikeNone(t *testing.T) {
	m := newMatrix(t)
	ctx := context.Background()
	sys := casework.SystemActor("test")
	community := storetest.Must(m.db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: m.streetA.ID, Kind: casework.KindCommunity, Name: "封存社区"}))
	day := casework.DateOf(m.db.Now(), nil).AddYears(-5)
	p := storetest.Must(m.db.CreatePerson(ctx, sys, casework.PersonInput{OrgID: community.ID, Name: "封存人甲", IDNumber: testIDNumber(7)},
		&casework.MeasureInput{Kind: casework.MeasureRehab, TermMonths: 1, DecisionNumber: "吉公康字〔2021〕7号",
			DecisionAuthority: "三亚市公安局吉阳分局", DecisionDate: day.AddDays(-2), ReceivedDate: day, ReportDate: day}))
	if n, err := m.db.ReleaseExpired(ctx); err != nil || n != 1 {
		t.Fatalf("released %d, %v", n, err)
	}
	if n, err := m.db.SealExpired(ctx); err != nil || n != 1 {
		t.Fatalf("sealed %d, %v", n, err)
	}
	srv, err := server.New(m.db, auth.NewService(m.db, auth.DefaultPolicy()), slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A CSP nonce and the request id differ on every answer; the id
	// itself may be echoed.
	nonce := regexp.MustCompile(`nonce="[^"]*"|nonce-[A-Za-z0-9+/=_-]+|"request_id":"[0-9a-f]+"|[0-9a-f]{16}`)
	get := func(path, role string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, "GET", m.srv.URL+path, nil)
		if strings.HasPrefix(path, "/api/") {
			req.Header.Set("Authorization", "Bearer "+m.tokens[casework.Role(role)]["api"])
		} else {
			req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.Role(role)]["web"]})
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, nonce.ReplaceAllString(string(b), "nonce")
	}
	routes, fourOhFour := 0, 0
	for _, rt := range srv.Routes() {
		if rt.Method != "GET" || !strings.Contains(rt.Pattern, "/persons/{id}") || strings.Count(rt.Pattern, "{") != 1 {
			continue
		}
		routes++
		for _, role := range []string{"lead", "worker", "police", "office"} {
			missing := store.NewID()
			path := func(id string) string { return strings.Replace(rt.Pattern, "{id}", id, 1) }
			ms, mb := get(path(missing), role)
			ss, sb := get(path(p.ID), role)
			mb = strings.ReplaceAll(mb, missing, "ID")
			sb = strings.ReplaceAll(sb, p.ID, "ID")
			if ss != ms || sb != mb {
				t.Errorf("R38: %s as %s: sealed file %d %q, no file %d %q", rt.Pattern, role, ss, clip(sb), ms, clip(mb))
			}
			if strings.Contains(sb, "封存人甲") {
				t.Errorf("R38: %s as %s names the sealed person", rt.Pattern, role)
			}
			if role == "lead" && ss == http.StatusNotFound {
				fourOhFour++
			}
		}
	}
	if routes < 10 || fourOhFour < routes {
		t.Fatalf("checked %d person routes, %d answers 404: the file page and API should answer 404", routes, fourOhFour)
	}
	t.Logf("%d person routes × 4 roles: a sealed file answers like none", routes)
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("…(%d)", len(s))
	}
	return s
}
