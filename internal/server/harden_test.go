package server_test

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/demo"
	"kangfu/internal/server"
	"kangfu/internal/store/storetest"
	"kangfu/internal/web"
)

func hardenSite(t *testing.T, opt server.Options, useTLS bool) (*server.Server, *httptest.Server, *http.Client) {
	t.Helper()
	db := storetest.Open(t, storetest.Engines(t)[0], nil)
	if _, err := demo.Load(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(db, auth.NewService(db, auth.DefaultPolicy()), slog.New(slog.DiscardHandler), opt)
	if err != nil {
		t.Fatal(err)
	}
	var ts *httptest.Server
	if useTLS {
		ts = httptest.NewTLSServer(srv.Handler())
	} else {
		ts = httptest.NewServer(srv.Handler())
	}
	t.Cleanup(ts.Close)
	c := ts.Client()
	c.Timeout = 30 * time.Second
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if useTLS {
		c.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	return srv, ts, c
}

// signIn posts the console sign-in with extra headers and returns the
// response (session cookie and headers).
func signIn(t *testing.T, ts *httptest.Server, c *http.Client, extra map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", ts.URL+"/login", strings.NewReader("username=worker&password="+url.QueryEscape(demo.Password)))
	for k, v := range secFormHeader {
		req.Header.Set(k, v)
	}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	return resp
}

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == web.SessionCookie {
			return c
		}
	}
	return nil
}

// Issue 15 §5: behind a trusted TLS-terminating proxy the session cookie is
// Secure and HSTS is sent; an untrusted X-Forwarded-Proto changes nothing;
// the server's own TLS listener does the same.
func TestSecureCookieBehindTrustedProxyAndOnTLS(t *testing.T) {
	https := map[string]string{"X-Forwarded-Proto": "https"}
	t.Run("trusted proxy", func(t *testing.T) {
		_, ts, c := hardenSite(t, server.Options{TrustProxy: true}, false)
		resp := signIn(t, ts, c, https)
		if s := sessionCookie(resp); s == nil || !s.Secure {
			t.Errorf("cookie %q: want Secure", resp.Header.Get("Set-Cookie"))
		}
		if resp.Header.Get("Strict-Transport-Security") == "" {
			t.Error("no HSTS behind a trusted TLS proxy")
		}
	})
	t.Run("untrusted header", func(t *testing.T) {
		_, ts, c := hardenSite(t, server.Options{}, false)
		resp := signIn(t, ts, c, https)
		if s := sessionCookie(resp); s == nil || s.Secure {
			t.Errorf("cookie %q: an untrusted X-Forwarded-Proto must not count", resp.Header.Get("Set-Cookie"))
		}
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Error("HSTS over plain HTTP")
		}
	})
	t.Run("own TLS listener", func(t *testing.T) {
		_, ts, c := hardenSite(t, server.Options{}, true)
		resp := signIn(t, ts, c, nil)
		if s := sessionCookie(resp); s == nil || !s.Secure {
			t.Errorf("cookie %q: want Secure", resp.Header.Get("Set-Cookie"))
		}
		if resp.Header.Get("Strict-Transport-Security") == "" {
			t.Error("no HSTS on TLS")
		}
	})
}

// Issue 15 §9: /metrics behind a token, or only on its own address.
func TestMetricsTokenOrOwnAddress(t *testing.T) {
	const token = "metrics-token-0123456789"
	get := func(t *testing.T, c *http.Client, u, tok string) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", u, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	t.Run("token", func(t *testing.T) {
		_, ts, c := hardenSite(t, server.Options{MetricsToken: token}, false)
		for tok, want := range map[string]int{"": 401, "wrong-token-000000000": 401, token: 200} {
			if got := get(t, c, ts.URL+"/metrics", tok); got != want {
				t.Errorf("token %q: %d, want %d", tok, got, want)
			}
		}
	})
	t.Run("own address", func(t *testing.T) {
		srv, ts, c := hardenSite(t, server.Options{MetricsElsewhere: true}, false)
		if got := get(t, c, ts.URL+"/metrics", ""); got != 404 {
			t.Errorf("main listener /metrics: %d, want 404", got)
		}
		ms := httptest.NewServer(srv.MetricsHandler())
		defer ms.Close()
		if got := get(t, c, ms.URL+"/metrics", ""); got != 200 {
			t.Errorf("metrics address: %d, want 200", got)
		}
	})
}
