package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kangfu/internal/api"
	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// apiSite is the API over a real database: two streets (A, B) of a county,
// a community in each, a worker and a lead at A and a lead at B.
type apiSite struct {
	t      *testing.T
	db     *store.DB
	srv    *httptest.Server
	commA  *casework.Org
	commB  *casework.Org
	tokens map[string]string
	users  map[string]string // username → user id
	today  casework.Date
}

func newAPISite(t *testing.T, db *store.DB) *apiSite {
	ctx := context.Background()
	sys := casework.SystemActor("test")
	s := &apiSite{t: t, db: db, tokens: map[string]string{}, users: map[string]string{}, today: casework.DateOf(db.Now(), nil)}
	mk := func(parent *casework.Org, kind casework.OrgKind, name string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return storetest.Must(db.CreateOrg(ctx, sys, in))
	}
	county := mk(mk(mk(nil, casework.KindProvince, "省"), casework.KindCity, "市"), casework.KindCounty, "区")
	streetA, streetB := mk(county, casework.KindTownship, "甲街道"), mk(county, casework.KindTownship, "乙街道")
	s.commA, s.commB = mk(streetA, casework.KindCommunity, "甲社区"), mk(streetB, casework.KindCommunity, "乙社区")
	for _, u := range []struct {
		name string
		role casework.Role
		org  *casework.Org
	}{{"worker", casework.RoleWorker, s.commA}, {"lead", casework.RoleLead, streetA}, {"leadb", casework.RoleLead, streetB}} {
		user := storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: u.name, OrgID: u.org.ID, Password: "long-enough-pw"}, "$argon2id$x", false))
		storetest.Must(db.GrantRole(ctx, sys, user.ID, u.role, u.org.ID))
		tok, hash := auth.NewToken()
		if err := db.CreateSession(ctx, store.Session{TokenHash: hash, UserID: user.ID, Kind: "api", ExpiresAt: time.Now().Add(time.Hour)}, "127.0.0.1", "test", "test"); err != nil {
			t.Fatal(err)
		}
		s.tokens[u.name], s.users[u.name] = tok, user.ID
	}
	a := &api.API{DB: db, Auth: auth.NewService(db, auth.DefaultPolicy()), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	mux := http.NewServeMux()
	for _, rt := range a.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
	}
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// call sends JSON as the user and decodes the answer into out (when not
// nil); it returns the status and the raw body.
func (s *apiSite) call(user, method, path, body string, out any) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.tokens[user])
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

func (s *apiSite) must(want int, user, method, path, body string, out any) string {
	s.t.Helper()
	status, raw := s.call(user, method, path, body, out)
	if status != want {
		s.t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, user, status, want, raw)
	}
	return raw
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

type personOut struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	IDMasked      string `json:"id_masked"`
	PhoneMasked   string `json:"phone_masked"`
	Status        string `json:"status"`
	OverdueDays   int    `json:"overdue_days"`
	DeemedRefusal bool   `json:"deemed_refusal"`
	TermEnd       string `json:"term_end"`
	Access        struct {
		Write           bool   `json:"write"`
		HistoricalUntil string `json:"historical_until"`
	} `json:"access"`
}

type listOut[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

func (s *apiSite) newPerson(name, body17, phone string, recvAgo int, reported bool) (map[string]any, string) {
	id := body17 + string(casework.IDCheckChar(body17))
	m := map[string]any{"kind": "community_treatment", "decision_number": "社戒决字1号", "decision_authority": "分局",
		"decision_date": s.today.AddDays(-recvAgo - 1).String(), "received_date": s.today.AddDays(-recvAgo).String()}
	if reported {
		m["report_date"] = s.today.AddDays(-recvAgo + 2).String()
	}
	return map[string]any{"org_id": s.commA.ID, "name": name, "id_number": id, "phone": phone,
		"contacts": []map[string]string{{"name": "父亲", "relation": "父子", "phone": "13900001111"}}, "measure": m}, id
}

// TestPersonAPIMasksAndFlows: create, list, search, read, reveal, status
// changes and the timeline; no list or read answer holds the full ID
// number or phone (R36).
func TestPersonAPIMasksAndFlows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newAPISite(t, db)
		in, idn := s.newPerson("周某", "46020319900315002", "13812340000", 20, false)
		var p personOut
		raws := []string{s.must(201, "worker", "POST", "/api/v1/persons", jsonString(in), &p)}
		if p.IDMasked != casework.MaskID(idn) || p.PhoneMasked != "138****0000" || !p.DeemedRefusal || p.OverdueDays != 5 {
			t.Fatalf("created person: %+v", p)
		}
		var l listOut[personOut]
		for _, q := range []string{"", "?q=" + idn, "?q=13812340000", "?q=%E5%91%A8", "?deadline_days=7&sort=deadline"} {
			raws = append(raws, s.must(200, "lead", "GET", "/api/v1/persons"+q, "", &l))
			if l.Total != 1 || l.Items[0].ID != p.ID {
				t.Errorf("list %s: %+v", q, l)
			}
		}
		raws = append(raws, s.must(200, "worker", "GET", "/api/v1/persons/"+p.ID+"?reason=走访前核对", "", nil))
		for _, raw := range raws {
			for _, secret := range []string{idn, "13812340000", "13900001111"} {
				if strings.Contains(raw, secret) {
					t.Errorf("an answer holds the unmasked %s: %s", secret, raw)
				}
			}
		}
		var rv struct{ Value string }
		s.must(200, "worker", "POST", "/api/v1/persons/"+p.ID+"/reveal", `{"field":"id_number","reason":"核对"}`, &rv)
		if rv.Value != idn {
			t.Errorf("reveal gave %q", rv.Value)
		}
		tests := []struct {
			name, method, path, body string
			status                   int
			contains                 string
		}{
			{"reveal without reason", "POST", "/reveal", `{"field":"phone"}`, 400, `"field":"reason"`},
			{"unknown field", "PATCH", "", `{"nickname":"x"}`, 400, "nickname"},
			{"bad date", "POST", "/transitions", `{"action":"report_in","effective_date":"2021-02-30"}`, 400, `"field":"effective_date"`},
			{"refused transition", "POST", "/transitions", `{"action":"resume","reason":"x"}`, 409, "待报到"},
			{"transfer by hand", "POST", "/transitions", `{"action":"transfer_out","reason":"x"}`, 400, "action"},
			{"report in", "POST", "/transitions", `{"action":"report_in"}`, 200, `"status":"executing"`},
			{"second measure", "POST", "/measures", `{"kind":"community_rehab","decision_number":"2","decision_authority":"局","decision_date":"2020-01-01","received_date":"2020-01-02","term_months":24}`, 409, "conflict"},
			{"agreement", "PATCH", "/measure", `{"agreement_date":"` + s.today.String() + `"}`, 200, `"agreement_date":"` + s.today.String() + `"`},
			{"worker may not change the worker", "PATCH", "/measure", `{"worker_id":""}`, 403, "forbidden"},
			{"group member", "POST", "/group", `{"role":"厂区保卫负责人","name":"王保卫"}`, 201, "王保卫"},
			{"edit", "PATCH", "", `{"ethnicity":"黎族"}`, 200, "黎族"},
			{"correction of a live file", "POST", "/corrections", `{"reason":"x","changes":{"name":"y"}}`, 409, "conflict"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, raw := s.call("worker", tt.method, "/api/v1/persons/"+p.ID+tt.path, tt.body, nil)
				if status != tt.status || !strings.Contains(raw, tt.contains) {
					t.Errorf("%d %s, want %d containing %s", status, raw, tt.status, tt.contains)
				}
			})
		}
		var tl listOut[struct {
			Kind string         `json:"kind"`
			Data map[string]any `json:"data"`
		}]
		s.must(200, "worker", "GET", "/api/v1/persons/"+p.ID+"/timeline?limit=2", "", &tl)
		if tl.Total < 5 || len(tl.Items) != 2 || tl.Items[0].Kind != "person.updated" {
			t.Errorf("timeline: %+v", tl)
		}
		var ms listOut[struct {
			TermEnd string `json:"term_end"`
			Group   []any  `json:"group"`
		}]
		s.must(200, "worker", "GET", "/api/v1/persons/"+p.ID+"/measures", "", &ms)
		if ms.Total != 1 || ms.Items[0].TermEnd != s.today.AddYears(3).String() || len(ms.Items[0].Group) != 1 {
			t.Errorf("measures: %+v", ms)
		}
		for _, bad := range []string{"?status=gone", "?kind=x", "?sort=age", "?deadline_days=-1", "?limit=0"} {
			if status, _ := s.call("lead", "GET", "/api/v1/persons"+bad, "", nil); status != 400 {
				t.Errorf("list %s: %d, want 400", bad, status)
			}
		}
	})
}

// TestTransferAPI: A starts, B sees it incoming and accepts; the term
// clock stays (R11), B must report within 15 days, and A reads the history
// up to the hand-over only.
func TestTransferAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newAPISite(t, db)
		in, _ := s.newPerson("吴某", "46020319820808003", "", 40, true)
		var p personOut
		s.must(201, "worker", "POST", "/api/v1/persons", jsonString(in), &p)
		if status, _ := s.call("leadb", "GET", "/api/v1/persons/"+p.ID, "", nil); status != 404 {
			t.Fatalf("B reads A's file before a transfer: %d", status)
		}
		if status, _ := s.call("worker", "POST", "/api/v1/persons/"+p.ID+"/transfers", `{"to_org_id":"`+s.commB.ID+`","reason":"x"}`, nil); status != 403 {
			t.Errorf("a worker started a transfer: %d", status)
		}
		var tr struct {
			ID    string `json:"id"`
			State string `json:"state"`
		}
		s.must(201, "lead", "POST", "/api/v1/persons/"+p.ID+"/transfers", `{"to_org_id":"`+s.commB.ID+`","reason":"户籍迁移"}`, &tr)
		var l listOut[struct{ ID string }]
		s.must(200, "leadb", "GET", "/api/v1/transfers?direction=incoming", "", &l)
		if l.Total != 1 || l.Items[0].ID != tr.ID {
			t.Fatalf("B's incoming: %+v", l)
		}
		s.must(200, "lead", "GET", "/api/v1/transfers?direction=outgoing", "", &l)
		if l.Total != 1 {
			t.Errorf("A's outgoing: %+v", l)
		}
		s.must(200, "leadb", "GET", "/api/v1/persons/"+p.ID, "", nil) // during the hand-over B reads it
		if status, _ := s.call("lead", "POST", "/api/v1/transfers/"+tr.ID+"/decision", `{"accept":true}`, nil); status != 403 {
			t.Errorf("the sending side decided: %d", status)
		}
		s.must(200, "leadb", "POST", "/api/v1/transfers/"+tr.ID+"/decision", `{"accept":true,"agreement_date":"`+s.today.String()+`"}`, &tr)
		if tr.State != "accepted" {
			t.Errorf("state %s", tr.State)
		}
		var after personOut
		s.must(200, "leadb", "GET", "/api/v1/persons/"+p.ID, "", &after)
		if after.Status != "pending_report" || after.TermEnd != p.TermEnd || !after.Access.Write {
			t.Errorf("after acceptance: %+v (term end before %s)", after, p.TermEnd)
		}
		var old personOut
		s.must(200, "lead", "GET", "/api/v1/persons/"+p.ID, "", &old)
		if old.Access.HistoricalUntil == "" || old.Access.Write {
			t.Errorf("A after the hand-over: %+v", old.Access)
		}
		if status, _ := s.call("worker", "POST", "/api/v1/persons/"+p.ID+"/transitions", `{"action":"terminate","reason":"x"}`, nil); status != 403 {
			t.Errorf("A's worker changed the status after the hand-over: %d", status)
		}
	})
}
