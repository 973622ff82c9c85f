package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/demo"
	"kangfu/internal/server"
	"kangfu/internal/store/storetest"
	"kangfu/internal/web"
)

// secSite is a real server over a SQLite database with the demo data.
type secSite struct {
	url    string
	tree   demo.Tree
	client *http.Client // does not follow redirects
}

func newSecSite(t *testing.T) *secSite {
	t.Helper()
	db := storetest.Open(t, storetest.Engines(t)[0], nil)
	res, err := demo.Load(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(db, auth.DefaultPolicy())
	srv, err := server.New(db, svc, slog.New(slog.DiscardHandler), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &secSite{url: ts.URL, tree: res.Tree, client: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request and returns the response with its body read.
func (s *secSite) do(t *testing.T, method, path, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

var secFormHeader = map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}

// apiLogin signs in over the API and returns the bearer token.
func (s *secSite) apiLogin(t *testing.T, username string) string {
	t.Helper()
	resp, body := s.do(t, "POST", "/api/v1/auth/login", `{"username":"`+username+`","password":"`+demo.Password+`"}`,
		map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("API login as %s: %d %s", username, resp.StatusCode, body)
	}
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("login response %s: %v", body, err)
	}
	if out.Token == "" || !out.ExpiresAt.After(time.Now()) {
		t.Fatalf("login response %s: want a token and a future expires_at", body)
	}
	return out.Token
}

// secAPIError decodes {"error":{"code","message",…}}.
func secAPIError(t *testing.T, resp *http.Response, body string) (code, message string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type %q, want JSON; body %s", ct, body)
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error body %s: want {\"error\":{\"code\",\"message\"}} (%v)", body, err)
	}
	return e.Error.Code, e.Error.Message
}

func TestCrossOriginPostsRefused(t *testing.T) {
	s := newSecSite(t)
	const form = "username=nobody&password=wrong-password"
	tests := []struct {
		name   string
		path   string
		body   string
		header map[string]string
		want   int
	}{
		{"cross-site fetch", "/login", form, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site fetch (a sibling host)", "/login", form, map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"foreign Origin", "/login", form, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"foreign Origin on the API", "/api/v1/auth/login", `{"username":"nobody","password":"wrong-password"}`,
			map[string]string{"Origin": "https://evil.example", "Content-Type": "application/json"}, http.StatusForbidden},
		{"same-origin fetch", "/login", form, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusUnauthorized},
		{"own Origin", "/login", form, map[string]string{"Origin": s.url}, http.StatusUnauthorized},
		{"no browser headers", "/login", form, nil, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			for k, v := range tt.header {
				h[k] = v
			}
			resp, body := s.do(t, "POST", tt.path, tt.body, h)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d; body %.200s", resp.StatusCode, tt.want, body)
			}
			if strings.HasPrefix(tt.path, "/api/") && tt.want == http.StatusForbidden {
				if code, _ := secAPIError(t, resp, body); code != "forbidden" {
					t.Fatalf("API refusal code %q, want forbidden", code)
				}
			}
		})
	}
	// A refused cross-site sign-in with the right password opens no session.
	resp, _ := s.do(t, "POST", "/login", "username=worker&password="+demo.Password,
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Fatalf("cross-site sign-in: status %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
}

// secInlineCode finds inline scripts and style attributes, which the CSP
// would block (and which would tempt someone to loosen it).
var secInlineCode = regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]|<script>|\sstyle=|\son[a-z]+=`)

func checkSecurityHeaders(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	// 'wasm-unsafe-eval' (WebAssembly from this site, the face check) is
	// allowed; 'unsafe-eval' (JavaScript eval) and inline code are not.
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(strings.ReplaceAll(csp, "'wasm-unsafe-eval'", ""), "unsafe-eval") {
		t.Errorf("CSP %q allows inline code", csp)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
	switch got := resp.Header.Get("Referrer-Policy"); got {
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
	default:
		t.Errorf("Referrer-Policy = %q, want one that keeps paths on this site", got)
	}
	if m := secInlineCode.FindString(body); m != "" {
		t.Errorf("page holds inline code the CSP forbids: %q", m)
	}
}

func TestConsoleSecurityHeadersAndCookie(t *testing.T) {
	s := newSecSite(t)
	resp, body := s.do(t, "GET", "/login", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /login: %d", resp.StatusCode)
	}
	checkSecurityHeaders(t, resp, body)

	resp, _ = s.do(t, "POST", "/login", "username=worker&password="+url.QueryEscape(demo.Password), secFormHeader)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: status %d, want 303", resp.StatusCode)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == web.SessionCookie {
			session = c
		}
	}
	if session == nil || session.Value == "" {
		t.Fatalf("sign in set no %s cookie: %v", web.SessionCookie, resp.Header["Set-Cookie"])
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
		t.Fatalf("session cookie %q: want HttpOnly, SameSite=Lax, Path=/", resp.Header.Get("Set-Cookie"))
	}
	resp, body = s.do(t, "GET", "/", "", map[string]string{"Cookie": web.SessionCookie + "=" + session.Value})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dashboard with the cookie: %d", resp.StatusCode)
	}
	checkSecurityHeaders(t, resp, body)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("signed-in page Cache-Control %q, want no-store", cc)
	}
}

func TestAPITokenLifecycle(t *testing.T) {
	s := newSecSite(t)
	tok := s.apiLogin(t, "worker")
	bearer := map[string]string{"Authorization": "Bearer " + tok}
	resp, body := s.do(t, "GET", "/api/v1/me", "", bearer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"username":"worker"`) {
		t.Fatalf("GET /api/v1/me: %d %s", resp.StatusCode, body)
	}
	// An API token is no console session.
	resp, _ = s.do(t, "GET", "/", "", map[string]string{"Cookie": web.SessionCookie + "=" + tok})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("API token as console cookie: %d to %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = s.do(t, "POST", "/api/v1/auth/logout", "", bearer)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/api/v1/me", "/api/v1/orgs"} {
		resp, body = s.do(t, "GET", path, "", bearer)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET %s after logout: %d %s, want 401", path, resp.StatusCode, body)
		}
		if code, _ := secAPIError(t, resp, body); code != "unauthorized" {
			t.Fatalf("GET %s after logout: code %q, want unauthorized", path, code)
		}
	}
	resp, body = s.do(t, "GET", "/api/v1/me", "", nil)
	if code, _ := secAPIError(t, resp, body); resp.StatusCode != http.StatusUnauthorized || code != "unauthorized" {
		t.Fatalf("no token: %d %s", resp.StatusCode, body)
	}
}

func TestAPIErrors(t *testing.T) {
	s := newSecSite(t)
	jsonCT := map[string]string{"Content-Type": "application/json"}
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		code                     string
		message                  string // part of the message; "" to skip
	}{
		{"unknown path, default Chinese", "GET", "/api/v1/no-such-thing", "", nil, 404, "not_found", "未找到"},
		{"unknown path, English", "GET", "/api/v1/no-such-thing", "", map[string]string{"Accept-Language": "en-GB,en;q=0.9"}, 404, "not_found", "not found"},
		{"unknown path, Chinese asked", "GET", "/api/v1/no-such-thing", "", map[string]string{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}, 404, "not_found", "未找到"},
		{"wrong method on a known path", "DELETE", "/api/v1/me", "", nil, 404, "not_found", ""},
		{"truncated JSON", "POST", "/api/v1/auth/login", `{"username":`, jsonCT, 400, "invalid", ""},
		{"malformed JSON", "POST", "/api/v1/auth/login", `{"username":,}`, jsonCT, 400, "invalid", "JSON 格式错误"},
		{"malformed JSON, English", "POST", "/api/v1/auth/login", `{"username": nope}`,
			map[string]string{"Content-Type": "application/json", "Accept-Language": "en"}, 400, "invalid", "malformed JSON"},
		{"empty body", "POST", "/api/v1/auth/login", "", jsonCT, 400, "invalid", ""},
		{"unknown field", "POST", "/api/v1/auth/login", `{"username":"a","password":"b","admin":true}`, jsonCT, 400, "invalid", "admin"},
		{"not JSON", "POST", "/api/v1/auth/login", "username=a&password=b", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400, "invalid", ""},
		{"wrong password", "POST", "/api/v1/auth/login", `{"username":"worker","password":"wrong-password"}`, jsonCT, 401, "unauthorized", "用户名或密码错误"},
		{"wrong password, English", "POST", "/api/v1/auth/login", `{"username":"worker","password":"wrong-password"}`,
			map[string]string{"Content-Type": "application/json", "Accept-Language": "en-US"}, 401, "unauthorized", "wrong username or password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := s.do(t, tt.method, tt.path, tt.body, tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			code, msg := secAPIError(t, resp, body)
			if code != tt.code || !strings.Contains(msg, tt.message) {
				t.Fatalf("error %q %q, want code %q and a message with %q", code, msg, tt.code, tt.message)
			}
		})
	}
}

func TestHealthAndMetrics(t *testing.T) {
	s := newSecSite(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if resp, body := s.do(t, "GET", path, "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	tok := s.apiLogin(t, "admin")
	orgID := s.tree.District.ID
	if resp, body := s.do(t, "GET", "/api/v1/orgs/"+orgID, "", map[string]string{"Authorization": "Bearer " + tok}); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/orgs/{id}: %d %s", resp.StatusCode, body)
	}
	resp, body := s.do(t, "GET", "/metrics", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	var requestLines []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "kangfu_http_requests_total{") {
			requestLines = append(requestLines, line)
		}
	}
	metrics := strings.Join(requestLines, "\n")
	for _, want := range []string{
		`route="GET /api/v1/orgs/{id}",status="200"`,
		`route="POST /api/v1/auth/login",status="200"`,
		`route="GET /healthz",status="200"`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("kangfu_http_requests_total has no series with %s:\n%s", want, metrics)
		}
	}
	if strings.Contains(body, orgID) {
		t.Errorf("metrics hold a raw id %s: routes must be labelled by pattern", orgID)
	}
	if !regexp.MustCompile(`(?m)^kangfu_db_open_connections\{pool="write"\} \d+`).MatchString(body) {
		t.Errorf("metrics lack kangfu_db_open_connections for the write pool")
	}
}
