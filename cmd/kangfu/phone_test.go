package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserConsoleFitsAPhone opens the worker's everyday pages at 360 px
// in both languages (issue 18 §12) and measures them: nothing is wider than
// the screen (no sideways scrolling), list rows are cards, and the brand
// stays on one line.
func TestBrowserConsoleFitsAPhone(t *testing.T) {
	base, tctx := consoleBrowser(t, 150*time.Second)
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 640),
		signIn(base, "worker", `[data-testid=dash-place]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	board, _ := chromedp.Run(tctx, chromedp.AttributeValue(`[data-testid=dash-not-checked]`, "href"))
	if err := chromedp.Do(tctx, chromedp.Navigate(base+"/persons"), chromedp.WaitVisible(`[data-testid=person-list]`)); err != nil {
		t.Fatal(err)
	}
	file, _ := chromedp.Run(tctx, chromedp.AttributeValue(`[data-testid=person-list] tbody tr:first-child a`, "href"))
	pages := []struct{ path, cards string }{
		{"/persons", "[data-testid=person-list]"},
		{"/inbox", "[data-testid=inbox]"},
		{board.Value, "[data-testid=board]"},
		{file.Value, ""},
		{file.Value + "/tests", ""},
		{"/", ""},
	}
	for _, lang := range []string{"zh", "en"} {
		if lang == "en" {
			if err := chromedp.Do(tctx, chromedp.Navigate(base+"/"), chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`)); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range pages {
			if err := chromedp.Do(tctx, chromedp.Navigate(base+p.path), chromedp.WaitVisible(`main h1`)); err != nil {
				t.Fatalf("%s: %v", p.path, err)
			}
			width, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if width > 360 {
				wide, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 361).slice(0, 3).map(e => e.outerHTML.slice(0, 160)).join(' | ')`))
				t.Errorf("%s (%s): the page is %d px wide on a 360 px screen; too wide: %s", p.path, lang, width, wide)
			}
			brand, _ := chromedp.Run(tctx, chromedp.Evaluate[float64](`document.querySelector('.brand').getBoundingClientRect().height`))
			if brand > 40 {
				t.Errorf("%s (%s): the brand wraps (%.0f px high)", p.path, lang, brand)
			}
			// Nor does anything else in the top bar wrap inside itself: the
			// language switch and "Sign out" stay on one line each.
			tall, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.top button, .top .who')].filter(e => e.getBoundingClientRect().height > 1.9 * parseFloat(getComputedStyle(e).lineHeight || 20)).map(e => e.textContent.trim())`))
			if err != nil {
				t.Fatal(err)
			}
			if len(tall) > 0 {
				t.Errorf("%s (%s): the top bar wraps inside %q", p.path, lang, tall)
			}
			if p.cards != "" {
				display, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('`+p.cards+` tbody tr')).display`))
				label, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`(document.querySelector('`+p.cards+` tbody td[data-label]') || {getAttribute: () => ''}).getAttribute('data-label')`))
				if display != "block" || strings.TrimSpace(label) == "" {
					t.Errorf("%s (%s): rows are not labelled cards (display %q, label %q)", p.path, lang, display, label)
				}
			}
			saveScreenshot(t, tctx, "phone-"+lang+strings.ReplaceAll(p.path, "/", "-"))
		}
	}
}
