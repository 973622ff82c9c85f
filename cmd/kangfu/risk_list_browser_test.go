package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kangfu/internal/browsertest"
)

// TestBrowserPersonListByTier (issue 13 §5; R31): at 360 px the street
// lead's person list counts its persons by confirmed tier, each count a
// link to the list filtered by it; following "no tier yet" lists only
// those and keeps the select on it. Then in English. No page scrolls
// sideways and no catalog key shows.
func TestBrowserPersonListByTier(t *testing.T) {
	base := startServer(t, t.TempDir())
	rawKey := regexp.MustCompile(`\b(persons|risk)\.[a-z_.]+\b`)
	ctx := browsertest.New(t)
	tctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 740),
		signIn(base, "lead", `[data-testid=who]`),
	)
	if err != nil {
		t.Fatalf("lead signs in: %v", err)
	}
	look := func(name string, want ...string) string {
		t.Helper()
		text, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the page lacks %q:\n%.2000s", name, w, text)
			}
		}
		if k := rawKey.FindString(text); k != "" {
			t.Errorf("%s shows the catalog key %q", name, k)
		}
		if wide, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); wide {
			t.Errorf("%s scrolls sideways at 360 px", name)
		}
		saveScreenshot(t, tctx, name)
		return text
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(base+"/persons"), chromedp.WaitVisible(`[data-testid=tier-counts]`)); err != nil {
		t.Fatalf("person list: %v", err)
	}
	look("persons-tiers-zh", "风险等级", "高风险", "中风险", "低风险", "未定级")
	rows, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=person-list] tbody a').length`))
	none, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=tier-counts] a[data-tier=none]').textContent`))
	if rows == 0 || !strings.Contains(none, "未定级") {
		t.Fatalf("list rows %d, none count %q", rows, none)
	}
	if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=tier-counts] a[data-tier=none]`), chromedp.WaitVisible(`[data-testid=tier-counts] a[data-tier=none][aria-current]`)); err != nil {
		t.Fatalf("follow the none count: %v", err)
	}
	look("persons-tier-none-zh", "未定级")
	sel, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=tier-filter]').value`))
	if sel != "none" {
		t.Errorf("the select shows %q, want none", sel)
	}
	if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.Navigate(base+"/persons?tier=high"), chromedp.WaitVisible(`[data-testid=tier-counts]`)); err != nil {
		t.Fatal(err)
	}
	look("persons-tier-high-en", "Risk tier", "High risk", "Medium risk", "Low risk", "No tier yet")
	// Each count is the total of the list it links to.
	n := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(none), "未定级"))
	if _, err := strconv.Atoi(n); err != nil {
		t.Fatalf("none count %q", none)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(base+"/persons?tier=none"), chromedp.WaitVisible(`[data-testid=tier-counts]`)); err != nil {
		t.Fatal(err)
	}
	look("persons-tier-none-en", "Total: "+n, "No tier yet "+n)
}
