// Package browsertest starts headless Chromium for browser tests. Without
// a Chromium binary a test is skipped, unless KANGFU_REQUIRE_BROWSER=1 (set
// by CI), which turns the skip into a failure.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ExecPath finds the Chromium binary: KANGFU_CHROMIUM, else the usual names.
func ExecPath() string {
	if p := os.Getenv("KANGFU_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New returns a chromedp context with a browser started (flags for running
// as root on a machine with no network), closed when the test ends. extra
// adds allocator options (fake camera, …).
func New(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := ExecPath()
	if path == "" {
		if os.Getenv("KANGFU_REQUIRE_BROWSER") == "1" {
			t.Fatal("KANGFU_REQUIRE_BROWSER=1 but no Chromium found (apt-get install -y chromium, or set KANGFU_CHROMIUM)")
		}
		t.Skip("no Chromium found; set KANGFU_REQUIRE_BROWSER=1 to make this a failure")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("lang", "zh-CN"),
	)
	opts = append(opts, extra...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser, bound to ctx (no timeout)
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return ctx
}

// Within runs fn with a deadline derived from the browser context.
func Within(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}
