package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// internalsShown finds what staff must not read on a page (issue 18 item
// 8): raw JSON, a policy id, a DOMAIN rule number (only in a tooltip), a
// record id, an action code.
var internalsShown = regexp.MustCompile(`\{"|template:[a-z]|\bR\d{1,2}\b|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[a-z]+\.[a-z_]+_[a-z_]+\b`)

// TestBrowserNoInternalsShownToStaff (issue 18 item 8), at 360 px in
// Chinese and in English: a lead's serious case — the trigger, its counts
// and the rule cited as the regulation's article, the rule number only in
// a tooltip — and the auditor's audit log, in words and names, carry no raw
// JSON, policy ids, rule numbers, record ids or action codes, and neither
// page scrolls sideways.
func TestBrowserNoInternalsShownToStaff(t *testing.T) {
	base, tctx := consoleBrowser(t, 150*time.Second)
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(360, 640), signIn(base, "lead", `[data-testid=dashboard-title]`),
		chromedp.Navigate(base+"/cases"), chromedp.WaitVisible(`[data-testid=case-list]`)); err != nil {
		t.Fatalf("the lead's cases: %v", err)
	}
	href, err := chromedp.Run(tctx, chromedp.Evaluate[string](`(() => { const a = document.querySelector('[data-testid=case-list] a[href^="/cases/"]'); return a ? a.getAttribute('href') : '' })()`))
	if err != nil || href == "" {
		t.Fatalf("no serious case in the demo for the lead: %v", err)
	}
	check := func(lang, page, ready, shot string, must ...string) {
		t.Helper()
		if err := chromedp.Do(tctx, chromedp.Navigate(base+page), chromedp.WaitVisible(ready)); err != nil {
			t.Fatalf("%s %s: %v", lang, page, err)
		}
		text, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
		if err != nil {
			t.Fatal(err)
		}
		if m := internalsShown.FindString(text); m != "" {
			i := strings.Index(text, m)
			t.Errorf("%s %s shows %q: …%s…", lang, page, m, text[max(0, i-80):min(len(text), i+80)])
		}
		for _, w := range must {
			if !strings.Contains(text, w) {
				t.Errorf("%s %s lacks %q:\n%.1500s", lang, page, w, text)
			}
		}
		if wide, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); wide {
			t.Errorf("%s %s scrolls sideways at 360 px", lang, page)
		}
		saveScreenshot(t, tctx, shot+"-"+lang)
	}
	tooltips := func(lang string) {
		t.Helper()
		// A rule number, where the page cites one, is in a tooltip only.
		titles, _ := chromedp.Run(tctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('main [title]')].map((e) => e.getAttribute('title'))`))
		for _, s := range titles {
			if strings.Contains(s, "{") {
				t.Errorf("%s: a tooltip holds JSON: %q", lang, s)
			}
		}
	}
	check("zh", href, `[data-testid=case-facts]`, "case", "严重违规", "《")
	tooltips("zh")
	if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`)); err != nil {
		t.Fatal(err)
	}
	check("en", href, `[data-testid=case-facts]`, "case", "Serious")
	tooltips("en")

	// The auditor: actions in words, targets by name (masked), never ids.
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`(() => { document.querySelector('form[action="/logout"]').submit(); return true })()`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.WaitVisible(`input[name=username]`)); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if err := chromedp.Do(tctx, signIn(base, "auditor", `[data-testid=who]`)); err != nil {
		t.Fatalf("the auditor: %v", err)
	}
	for _, lang := range []string{"en", "zh"} {
		if lang == "zh" {
			if err := chromedp.Do(tctx, chromedp.Navigate(base+"/audit"), chromedp.WaitVisible(`[data-testid=lang-switch]`),
				chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=zh-CN]`)); err != nil {
				t.Fatal(err)
			}
		}
		check(lang, "/audit", `[data-testid=audit-list]`, "audit")
		rows, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=audit-action]').length`))
		if rows == 0 {
			t.Errorf("%s: the audit log is empty", lang)
		}
	}
}
