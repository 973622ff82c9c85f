package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/server"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// accessRule is the expected access to one route, written by hand: which
// roles may use it (in their own subtree), and a request body that makes
// sense for it. A route registered without a rule here fails the test.
type accessRule struct {
	roles string // "public", "*" for every signed-in user, or role names
	body  string // form or JSON; {in} and {out} are replaced by target ids, {parent} by an org the actor manages
}

// accessRules holds every route's rule. Each part of the product keeps its
// rules in its own test file and merges them with addRules, so parts do not
// edit one shared table.
var accessRules = map[string]accessRule{}

func addRules(rules map[string]accessRule) bool {
	for k, v := range rules {
		if _, dup := accessRules[k]; dup {
			panic("access rule defined twice: " + k)
		}
		accessRules[k] = v
	}
	return true
}

var _ = addRules(map[string]accessRule{
	"GET /healthz":                     {roles: "public"},
	"GET /readyz":                      {roles: "public"},
	"GET /metrics":                     {roles: "public"},
	"GET /static/{hash}/{file...}":     {roles: "public"},
	"GET /login":                       {roles: "public"},
	"POST /login":                      {roles: "public", body: "username=u-worker&password=long-enough-pw"},
	"POST /lang":                       {roles: "public", body: "lang=en&next=/"},
	"POST /logout":                     {roles: "*"},
	"GET /{$}":                         {roles: "*"},
	"GET /account":                     {roles: "*"},
	"POST /account/password":           {roles: "*", body: "current_password=x&new_password=y&confirm_password=y"},
	"POST /account/totp/start":         {roles: "*"},
	"POST /account/totp/confirm":       {roles: "*", body: "code=000000"},
	"GET /orgs":                        {roles: "*"},
	"GET /orgs/{id}":                   {roles: "*"},
	"POST /orgs/{id}/children":         {roles: "admin", body: "name=新单位&kind=community"},
	"POST /orgs/{id}":                  {roles: "admin", body: "name=改名&time_zone=Asia/Shanghai"},
	"POST /orgs/{id}/move":             {roles: "admin", body: "parent_id={parent}"},
	"POST /orgs/{id}/retire":           {roles: "admin", body: "reason=合并"},
	"POST /orgs/{id}/delete":           {roles: "admin", body: "reason=建错"},
	"GET /users":                       {roles: "admin"},
	"GET /users/new":                   {roles: "admin"},
	"POST /users":                      {roles: "admin", body: "username=newuser&org_id={parent}&password=long-enough-1"},
	"GET /users/{id}":                  {roles: "admin"},
	"POST /users/{id}/grants":          {roles: "admin", body: "role=worker&org_id={parent}"},
	"POST /grants/{id}/revoke":         {roles: "admin", body: "next=/users"},
	"POST /users/{id}/password":        {roles: "admin", body: "password=long-enough-2"},
	"POST /users/{id}/disable":         {roles: "admin", body: "reason=离职"},
	"POST /users/{id}/enable":          {roles: "admin", body: "reason=复职"},
	"POST /users/{id}/unlock":          {roles: "admin", body: "reason=本人来电"},
	"POST /users/{id}/totp/reset":      {roles: "admin", body: "reason=手机丢失"},
	"GET /audit":                       {roles: "auditor office"},
	"GET /api/openapi.json":            {roles: "public"},
	"POST /api/v1/auth/login":          {roles: "public", body: `{"username":"u-worker","password":"long-enough-pw"}`},
	"POST /api/v1/auth/logout":         {roles: "*"},
	"GET /api/v1/me":                   {roles: "*"},
	"GET /api/v1/orgs":                 {roles: "*"},
	"POST /api/v1/orgs":                {roles: "admin", body: `{"parent_id":"{parent}","kind":"community","name":"新单位"}`},
	"GET /api/v1/orgs/{id}":            {roles: "*"},
	"PATCH /api/v1/orgs/{id}":          {roles: "admin", body: `{"name":"改名"}`},
	"POST /api/v1/orgs/{id}/move":      {roles: "admin", body: `{"parent_id":"{parent}"}`},
	"POST /api/v1/orgs/{id}/retire":    {roles: "admin", body: `{"reason":"合并"}`},
	"DELETE /api/v1/orgs/{id}":         {roles: "admin"},
	"GET /api/v1/users":                {roles: "admin"},
	"POST /api/v1/users":               {roles: "admin", body: `{"username":"newuser","org_id":"{parent}","password":"long-enough-1"}`},
	"GET /api/v1/users/{id}":           {roles: "admin"},
	"POST /api/v1/users/{id}/grants":   {roles: "admin", body: `{"role":"worker","org_id":"{parent}"}`},
	"DELETE /api/v1/grants/{id}":       {roles: "admin"},
	"POST /api/v1/users/{id}/password": {roles: "admin", body: `{"password":"long-enough-2"}`},
	"POST /api/v1/users/{id}/disable":  {roles: "admin", body: `{"reason":"离职"}`},
	"POST /api/v1/users/{id}/enable":   {roles: "admin", body: `{"reason":"复职"}`},
	"GET /api/v1/audit":                {roles: "auditor office"},
})

// matrix is the world the access matrix runs in: every role granted at
// street A; targets made fresh for each request under street A (inside)
// or street B (outside).
type matrix struct {
	t       *testing.T
	db      *store.DB
	srv     *httptest.Server
	streetA *casework.Org
	streetB *casework.Org
	// streetC is outside every role's scope: after each route the
	// communities made inside street A move there, so street A does not
	// grow with the matrix (its pages and figures count everything in it,
	// and the matrix grew quadratic: GET /reports alone took minutes late
	// in the run).
	streetC *casework.Org
	inside  []string                            // communities made in street A for the current route
	tokens  map[casework.Role]map[string]string // role → kind ("web"/"api") → token
	n       int
	blobs   *blob.Store // the server's blob store, for targets with content (visit photos)
}

func newMatrix(t *testing.T) *matrix {
	return newMatrixOn(t, storetest.Engines(t)[0])
}

// newMatrixOn is newMatrix on the engine e. The blob store is the local
// folder sealed with the database's field keys, as the server opens it
// (R36).
func newMatrixOn(t *testing.T, e storetest.Engine) *matrix {
	ctx := context.Background()
	db := storetest.Open(t, e, nil)
	sys := casework.SystemActor("test")
	mk := func(parent *casework.Org, kind casework.OrgKind, name string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return storetest.Must(db.CreateOrg(ctx, sys, in))
	}
	county := mk(mk(mk(nil, casework.KindProvince, "省"), casework.KindCity, "市"), casework.KindCounty, "区")
	m := &matrix{t: t, db: db, streetA: mk(county, casework.KindTownship, "甲街道"), streetB: mk(county, casework.KindTownship, "乙街道"),
		streetC: mk(county, casework.KindTownship, "丙街道"), tokens: map[casework.Role]map[string]string{}}
	hash := storetest.Must(auth.HashPassword(ctx, "long-enough-pw"))
	for _, role := range casework.Roles {
		u := storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: "u-" + string(role), OrgID: m.streetA.ID, Password: "long-enough-pw"}, hash, false))
		storetest.Must(db.GrantRole(ctx, sys, u.ID, role, m.streetA.ID))
		if err := db.SetTOTPExempt(ctx, sys, u.ID, true); err != nil {
			t.Fatal(err)
		}
		m.tokens[role] = map[string]string{}
		for _, kind := range []string{"web", "api"} {
			tok, hash := auth.NewToken()
			if err := db.CreateSession(ctx, store.Session{TokenHash: hash, UserID: u.ID, Kind: kind, ExpiresAt: time.Now().Add(time.Hour)}, "127.0.0.1", "test", "test"); err != nil {
				t.Fatal(err)
			}
			m.tokens[role][kind] = tok
		}
	}
	m.blobs = storetest.Must(blob.OpenSealed(t.TempDir(), blob.KeySource{Current: db.Vault().Current, Key: db.Keys().FieldKey}))
	srv, err := server.New(db, auth.NewService(db, auth.DefaultPolicy()), slog.New(slog.NewTextHandler(io.Discard, nil)),
		server.Options{Blobs: m.blobs})
	if err != nil {
		t.Fatal(err)
	}
	m.srv = httptest.NewServer(srv.Handler())
	t.Cleanup(m.srv.Close)
	return m
}

// targetMakers make a fresh record of a kind (the Target of a route) in a
// new community under the street and return its id. Parts register theirs
// with addTarget.
var targetMakers = map[string]func(m *matrix, community *casework.Org) string{}

func addTarget(kind string, fn func(m *matrix, community *casework.Org) string) bool {
	targetMakers[kind] = fn
	return true
}

// target makes a fresh record of the kind under the street and returns its id.
func (m *matrix) target(kind string, street *casework.Org) string {
	ctx := context.Background()
	sys := casework.SystemActor("test")
	m.n++
	org := storetest.Must(m.db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: street.ID, Kind: casework.KindCommunity, Name: fmt.Sprintf("社区%d", m.n)}))
	if street == m.streetA {
		m.inside = append(m.inside, org.ID)
	}
	if kind == "org" {
		return org.ID
	}
	if mk, ok := targetMakers[kind]; ok {
		return mk(m, org)
	}
	u := storetest.Must(m.db.CreateUser(ctx, sys, casework.UserInput{Username: fmt.Sprintf("t%d", m.n), OrgID: org.ID, Password: "long-enough-pw"}, "$argon2id$x", false))
	g := storetest.Must(m.db.GrantRole(ctx, sys, u.ID, casework.RoleWorker, org.ID))
	if kind == "grant" {
		return g.ID
	}
	return u.ID
}

// do sends the request as the role ("" for nobody) and returns the status
// and, for a redirect, where it points.
func (m *matrix) do(method, path, body, role string) (int, string) {
	req, err := http.NewRequest(method, m.srv.URL+path, strings.NewReader(body))
	if err != nil {
		m.t.Fatal(err)
	}
	api := strings.HasPrefix(path, "/api/")
	if body != "" {
		if api {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if role != "" {
		if api {
			req.Header.Set("Authorization", "Bearer "+m.tokens[casework.Role(role)]["api"])
		} else {
			req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.Role(role)]["web"]})
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

func TestAccessMatrix(t *testing.T) {
	m := newMatrix(t)
	srv, err := server.New(m.db, auth.NewService(m.db, auth.DefaultPolicy()), slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{}
	for i, rt := range srv.Routes() {
		registered[rt.Key()] = true
		rule, ok := accessRules[rt.Key()]
		if !ok {
			t.Errorf("route %s has no entry in accessRules: add who may use it", rt.Key())
			continue
		}
		// Under the race detector every route of the matrix is many times
		// slower; there it checks one route in five, spread over the list,
		// for races in the handlers. Every route is checked in full by the
		// runs without -race, on SQLite and on PostgreSQL (.ci/run).
		if raceEnabled && i%5 != 0 {
			continue
		}
		t.Run(rt.Key(), func(t *testing.T) { m.check(t, rt.Method, rt.Pattern, rt.Access.Target, rule) })
	}
	for key := range accessRules {
		if !registered[key] {
			t.Errorf("accessRules has %s, which is not a registered route", key)
		}
	}
}

func (m *matrix) check(t *testing.T, method, pattern, target string, rule accessRule) {
	defer m.retire()
	path := pattern
	switch {
	case strings.Contains(pattern, "{hash}"):
		path = "/static/0/app.css" // wrong hash: 404, and public
	case pattern == "/{$}":
		path = "/"
	}
	if rule.roles == "public" {
		if status, loc := m.do(method, path, rule.body, ""); status == http.StatusUnauthorized || strings.HasPrefix(loc, "/login?next=") {
			t.Errorf("public route refused an anonymous caller: %d %s", status, loc)
		}
		return
	}
	fill := func(body, in, street string) string {
		return strings.NewReplacer("{in}", in, "{parent}", street).Replace(body)
	}
	// Nobody signed in: the API says 401, the console sends to the sign-in page.
	anonPath := strings.Replace(path, "{id}", "x", 1)
	status, loc := m.do(method, anonPath, fill(rule.body, "x", m.streetA.ID), "")
	if strings.HasPrefix(path, "/api/") && status != http.StatusUnauthorized {
		t.Errorf("anonymous: got %d, want 401", status)
	}
	if !strings.HasPrefix(path, "/api/") && (status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=")) {
		t.Errorf("anonymous: got %d %q, want 303 to /login", status, loc)
	}
	// Targets are shared where no request can change them: every role
	// must get 404 outside its subtree, refused roles change nothing, and
	// reads change nothing. A role allowed to write gets a fresh target,
	// since its request may change or remove the one it was given. A
	// refused role that did change a shared target would fail on its own
	// status first. (Making 16 targets per route made the matrix the
	// longest test by far: over an hour with -race on PostgreSQL.)
	var outside, insideShared string
	targetFor := func(scope string, allowed bool) string {
		switch {
		case scope == "out":
			if outside == "" {
				outside = m.target(target, m.streetB)
			}
			return outside
		case !allowed || method == "GET":
			if insideShared == "" {
				insideShared = m.target(target, m.streetA)
			}
			return insideShared
		default:
			return m.target(target, m.streetA)
		}
	}
	for _, role := range casework.Roles {
		allowed := rule.roles == "*" || slices.Contains(strings.Fields(rule.roles), string(role))
		scopes := []string{"in"}
		if target != "" {
			scopes = append(scopes, "out")
		}
		for _, scope := range scopes {
			p := path
			if target != "" {
				p = strings.Replace(path, "{id}", targetFor(scope, allowed), 1)
			}
			status, loc := m.do(method, p, fill(rule.body, "", m.streetA.ID), string(role))
			denied := status == http.StatusForbidden || status == http.StatusNotFound || status == http.StatusUnauthorized ||
				strings.HasPrefix(loc, "/login?next=")
			switch {
			case scope == "out" && status != http.StatusNotFound && (allowed || status != http.StatusForbidden):
				t.Errorf("%s on a target outside its subtree: got %d %s, want 404", role, status, loc)
			case scope == "in" && allowed && (denied || status >= 500):
				t.Errorf("%s inside its subtree: got %d %s, want access", role, status, loc)
			case scope == "in" && !allowed && !denied:
				t.Errorf("%s inside its subtree: got %d %s, want 403 or 404", role, status, loc)
			}
		}
		if method == "POST" && (pattern == "/logout" || pattern == "/api/v1/auth/logout") {
			m.relogin(role)
		}
	}
}

// retire moves the communities made in street A for the route out of
// every role's scope (to street C). A route may have retired, deleted or
// moved its target already: those are left where they are.
func (m *matrix) retire() {
	sys := casework.SystemActor("test")
	for _, id := range m.inside {
		_, _ = m.db.MoveOrg(context.Background(), sys, id, m.streetC.ID)
	}
	m.inside = m.inside[:0]
}

// relogin gives the role fresh sessions after a sign-out route ended them.
func (m *matrix) relogin(role casework.Role) {
	ctx := context.Background()
	u, err := m.db.UserIDByName(ctx, "u-"+string(role))
	if err != nil {
		m.t.Fatal(err)
	}
	for _, kind := range []string{"web", "api"} {
		tok, hash := auth.NewToken()
		if err := m.db.CreateSession(ctx, store.Session{TokenHash: hash, UserID: u, Kind: kind, ExpiresAt: time.Now().Add(time.Hour)}, "127.0.0.1", "test", "test"); err != nil {
			m.t.Fatal(err)
		}
		m.tokens[role][kind] = tok
	}
}
