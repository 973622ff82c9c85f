package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kangfu/internal/browsertest"
)

// lineWriter collects output and reports the server's URL once printed.
type lineWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	url chan string
}

var urlRE = regexp.MustCompile(`running at (http://\S+)`)

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := urlRE.FindStringSubmatch(w.buf.String()); m != nil && w.url != nil {
		w.url <- m[1]
		w.url = nil
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// startServer runs the real program (`kangfu serve --demo`) on :0 with a
// temporary data dir and returns its URL; the server stops with the test.
func startServer(t *testing.T, dataDir string) string {
	t.Helper()
	return startServerEnv(t, dataDir, map[string]string{})
}

// startServerEnv is startServer with KANGFU_* settings.
func startServerEnv(t *testing.T, dataDir string, env map[string]string) string {
	t.Helper()
	if _, ok := env["KANGFU_DRAIN"]; !ok { // no balancer to drain: stop at once
		env = maps.Clone(env)
		env["KANGFU_DRAIN"] = "0s"
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineWriter{url: make(chan string, 1)}
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"},
			envFrom(env), out, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	select {
	case u := <-out.url:
		return u
	case err := <-done:
		t.Fatalf("server exited: %v\n%s\n%s", err, out.String(), stderr.String())
	case <-time.After(5 * time.Minute):
		// A wait, not a timing assertion: loading the demo year under
		// -race on PostgreSQL, beside the other packages' tests on two
		// cores, took longer than a minute in a loaded CI run.
		t.Fatalf("server did not start:\n%s\n%s", out.String(), stderr.String())
	}
	return ""
}

func TestEndToEndAPIAndConsole(t *testing.T) {
	dir := t.TempDir()
	base := startServer(t, dir)

	// The API: sign in, then use the token.
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"office","password":"kangfu-demo"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if resp.StatusCode != 200 || login.Token == "" || login.ExpiresAt.Before(time.Now()) {
		t.Fatalf("API login: %d %+v", resp.StatusCode, login)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"username":"office"`) {
		t.Fatalf("GET /api/v1/me: %d %s", resp.StatusCode, body)
	}

	// The console, in a real browser.
	ctx := browsertest.New(t)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err = chromedp.Do(tctx,
		signIn(base, "worker", `[data-testid=dashboard-title]`),
	)
	if err != nil {
		t.Fatalf("console sign-in: %v", err)
	}
	title, err := chromedp.Run(tctx, chromedp.Text(`[data-testid=dashboard-title]`))
	if err != nil || strings.TrimSpace(title) != "工作台" {
		t.Fatalf("dashboard title %q, %v", title, err)
	}
	who, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=who]`))
	if !strings.Contains(who, "worker") {
		t.Fatalf("signed in as %q, want worker", who)
	}
	saveScreenshot(t, tctx, "dashboard-zh")
	// Switch to English: the same page in the second language.
	err = chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.WaitVisible(`[data-testid=dashboard-title]`))
	if err != nil {
		t.Fatal(err)
	}
	title, _ = chromedp.Run(tctx, chromedp.Text(`[data-testid=dashboard-title]`))
	if strings.TrimSpace(title) != "Dashboard" {
		t.Fatalf("after switching language the title is %q", title)
	}
	saveScreenshot(t, tctx, "dashboard-en")
	// The worker sees the org tree of its own compound only.
	if err := chromedp.Do(tctx, chromedp.Navigate(base+"/orgs"), chromedp.WaitVisible(`[data-testid=org-tree]`)); err != nil {
		t.Fatal(err)
	}
	tree, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=org-tree]`))
	if !strings.Contains(tree, "安椰厂区") || strings.Contains(tree, "海湾社区") {
		t.Fatalf("worker's org tree:\n%s", tree)
	}

	// The person list of the compound, and one file from it.
	if err := chromedp.Do(tctx, chromedp.Navigate(base+"/persons"), chromedp.WaitVisible(`[data-testid=person-list]`)); err != nil {
		t.Fatal(err)
	}
	list, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=person-list]`))
	if !strings.Contains(list, "安椰厂区") || strings.Contains(list, "海湾社区") || !regexp.MustCompile(`460203\*{8}\d{3}[\dX]`).MatchString(list) {
		t.Fatalf("worker's person list:\n%.600s", list)
	}
	saveScreenshot(t, tctx, "persons")
	err = chromedp.Do(tctx, chromedp.Click(`[data-testid=person-list] tbody tr:first-child a`), chromedp.WaitVisible(`[data-testid=person-name]`))
	if err != nil {
		t.Fatal(err)
	}
	masked, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=id-masked]`))
	if !regexp.MustCompile(`^460203\*{8}\d{3}[\dX]$`).MatchString(strings.TrimSpace(masked)) {
		t.Fatalf("the file shows the ID number as %q, want it masked", masked)
	}
	saveScreenshot(t, tctx, "person")

	// The other pages of a worker's day open and render in the browser.
	for _, page := range []struct{ path, name string }{{"/leave", "leave"}, {"/policies", "policies"}, {"/transfers", "transfers"}} {
		if err := chromedp.Do(tctx, chromedp.Navigate(base+page.path), chromedp.WaitVisible(`main h1`)); err != nil {
			t.Fatalf("%s: %v", page.path, err)
		}
		if h1, _ := chromedp.Run(tctx, chromedp.Text(`main h1`)); strings.TrimSpace(h1) == "" || strings.Contains(h1, "[") {
			t.Fatalf("%s: heading %q", page.path, h1)
		}
		saveScreenshot(t, tctx, page.name)
	}
}

// signIn signs a demo account in on the console's login page (every demo
// account has the password kangfu-demo) and waits for the element that
// shows the first page has come (e.g. [data-testid=dashboard-title]).
func signIn(base, user, landed string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, user),
		chromedp.SendKeys(`input[name=password]`, "kangfu-demo"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(landed),
	)
}

// consoleBrowser starts the demo server on a fresh data folder and a
// headless browser (browsertest.New: the test is skipped without one, or
// fails under KANGFU_REQUIRE_BROWSER=1), and returns the server's address
// and a browser context that ends after d.
func consoleBrowser(t *testing.T, d time.Duration) (string, context.Context) {
	t.Helper()
	ctx := browsertest.New(t)
	base := startServer(t, t.TempDir())
	tctx, cancel := context.WithTimeout(ctx, d)
	t.Cleanup(cancel)
	return base, tctx
}

// openFirstFile opens the file of the first person on the signed-in
// user's person list.
func openFirstFile(base string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/persons"),
		chromedp.WaitVisible(`[data-testid=person-list]`),
		chromedp.Click(`[data-testid=person-list] tbody tr:first-child a`),
		chromedp.WaitVisible(`[data-testid=person-name]`),
	)
}

// saveScreenshot writes a PNG when KANGFU_SCREENSHOT_DIR is set, so a
// person can look at what the test saw.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("KANGFU_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

func TestConfigErrorsSayWhatToFix(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad address", []string{"migrate", "--addr", "nonsense"}, nil, "KANGFU_ADDR"},
		{"bad duration in env", []string{"migrate"}, map[string]string{"KANGFU_SESSION_IDLE": "soon"}, "KANGFU_SESSION_IDLE"},
		{"unsupported database", []string{"migrate", "--db", "mysql://x"}, nil, "postgres://"},
		{"missing secret key", []string{"migrate"}, nil, "kangfu keygen"},
		{"bad secret key", []string{"migrate"}, map[string]string{"KANGFU_SECRET_KEY": "short"}, "at least 32"},
		{"unknown command", []string{"fly"}, nil, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"KANGFU_DATA_DIR": t.TempDir()}
			for k, v := range tt.env {
				env[k] = v
			}
			err := run(context.Background(), tt.args, envFrom(env), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestVerifyAuditCommand(t *testing.T) {
	dir := t.TempDir()
	env := envFrom(map[string]string{"KANGFU_DATA_DIR": dir})
	if err := run(context.Background(), []string{"demo"}, env, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"verify-audit"}, env, &out, io.Discard); err != nil {
		t.Fatalf("verify-audit on an intact log: %v", err)
	}
	if !strings.Contains(out.String(), "intact") {
		t.Fatalf("output %q", out.String())
	}
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kangfu.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE audit_log SET actor_name = 'someone-else' WHERE seq = 5`); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"verify-audit"}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "row 5") {
		t.Fatalf("verify-audit after tampering with row 5: %v", err)
	}
}

// TestMapTilesConfig (issue 18 §14): a tile URL without {z}/{x}/{y} or an
// attribution without tiles is named with the variable to fix.
func TestMapTilesConfig(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"KANGFU_MAP_TILES": "https://tiles.example.org/tile.png"}, "KANGFU_MAP_TILES"},
		{map[string]string{"KANGFU_MAP_ATTRIBUTION": "© someone"}, "KANGFU_MAP_TILES is not"},
	} {
		env := map[string]string{"KANGFU_DATA_DIR": t.TempDir()}
		for k, v := range tt.env {
			env[k] = v
		}
		err := run(context.Background(), []string{"migrate"}, envFrom(env), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want an error mentioning %q", tt.env, err, tt.want)
		}
	}
}

// Issue 15 §1: audit-checkpoint writes a signed line to the checkpoint file;
// after the newest rows are deleted and the head replayed, verify-audit
// (which reads that file) says how many rows are missing.
func TestAuditCheckpointCommand(t *testing.T) {
	dir := t.TempDir()
	env := envFrom(map[string]string{"KANGFU_DATA_DIR": dir})
	if err := run(context.Background(), []string{"demo"}, env, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kangfu.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var seq int64
	var hash, mac string
	if err := raw.QueryRow(`SELECT seq, hash, mac FROM audit_head`).Scan(&seq, &hash, &mac); err != nil {
		t.Fatal(err)
	}
	// One more audited change after the head we keep.
	t.Setenv("KANGFU_NEW_PASSWORD", "long-enough-pw-1")
	if err := run(context.Background(), []string{"user", "disable", "--username", "worker", "--reason", "test"}, env, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"audit-checkpoint"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "kangfu-audit-checkpoint v1 seq=") {
		t.Fatalf("output %q", out.String())
	}
	file, err := os.ReadFile(filepath.Join(dir, "audit-checkpoints.log"))
	if err != nil || string(file) != out.String() {
		t.Fatalf("checkpoint file %q, %v; want the printed line", file, err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"verify-audit"}, env, &out, io.Discard); err != nil || !strings.Contains(out.String(), "1 checkpoint(s)") {
		t.Fatalf("verify-audit = %v, %q", err, out.String())
	}
	if _, err := raw.Exec(`DELETE FROM audit_log WHERE seq > ?`, seq); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE audit_head SET seq = ?, hash = ?, mac = ?`, seq, hash, mac); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"verify-audit"}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "rows missing after checkpoint") {
		t.Fatalf("verify-audit after truncation: %v", err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"audit-checkpoint", "--public-key"}, env, &out, io.Discard); err != nil || !strings.Contains(out.String(), "Ed25519") {
		t.Fatalf("--public-key: %v %q", err, out.String())
	}
}

// Issue 15 §10: `serve --demo` (and `demo`) on a database that holds data
// but whose key is gone refuses, like `serve`, instead of making a new key
// that cannot read it.
func TestDemoRefusesExistingDatabaseWithoutKey(t *testing.T) {
	dir := t.TempDir()
	env := envFrom(map[string]string{"KANGFU_DATA_DIR": dir})
	if err := run(context.Background(), []string{"demo"}, env, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "secret.key")
	if err := os.Rename(keyPath, keyPath+".away"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"serve", "--demo", "--addr", "127.0.0.1:0"}, {"demo"}} {
		err := run(context.Background(), args, env, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "secret key is missing") {
			t.Fatalf("%v without the key: %v, want a refusal", args, err)
		}
		if _, err := os.Stat(keyPath); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%v wrote a new key file (%v)", args, err)
		}
	}
}

// Issue 15 §9: API tokens follow the configured idle and absolute timeouts
// like console sessions (they had a fixed 2 h / 12 h before).
func TestAPITokensFollowSessionTimeouts(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	cfg := bindConfig(fs, envFrom(map[string]string{"KANGFU_SESSION_IDLE": "20m", "KANGFU_SESSION_MAX": "4h"}))
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	p := cfg.policy()
	if p.APIIdle != 20*time.Minute || p.APITokenTTL != 4*time.Hour || p.WebIdle != 20*time.Minute || p.WebAbsolute != 4*time.Hour {
		t.Fatalf("policy %+v: API and console want idle 20m, absolute 4h", p)
	}
}
