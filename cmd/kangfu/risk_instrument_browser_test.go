package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kangfu/internal/browsertest"
)

// TestBrowserRiskInstrument (issue 13 §1; R31): at 360 px the street lead
// opens the street's risk instrument from the org page: the default in
// force with its weights marked uncalibrated, the bands, the hard
// overrides, the download and the upload and edit forms; then in English.
// No page scrolls sideways and no catalog key, JSON or rule number shows.
func TestBrowserRiskInstrument(t *testing.T) {
	base := startServer(t, t.TempDir())
	raw := regexp.MustCompile(`\b(risk|exchange|org)\.[a-z_.]+\b|\bR\d{1,2}\b|\{"`)
	ctx := browsertest.New(t)
	tctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 740),
		signIn(base, "lead", `[data-testid=who]`),
		chromedp.Navigate(base+"/orgs"),
	)
	if err != nil {
		t.Fatalf("lead signs in: %v", err)
	}
	href, err := chromedp.Run(tctx, chromedp.Evaluate[string](`[...document.querySelectorAll('main a')].find(a => a.textContent.includes('椰林街道')).getAttribute('href')`))
	if err != nil || href == "" {
		t.Fatalf("the street's link: %q %v", href, err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(base+href), chromedp.Click(`[data-testid=org-risk-instrument]`), chromedp.WaitVisible(`[data-testid=instrument-in-force]`)); err != nil {
		t.Fatalf("open the instrument: %v", err)
	}
	look := func(name string, want ...string) {
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
		if k := raw.FindString(text); k != "" {
			t.Errorf("%s shows %q", name, k)
		}
		if wide, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); wide {
			t.Errorf("%s scrolls sideways at 360 px", name)
		}
		saveScreenshot(t, tctx, name)
	}
	look("risk-instrument-zh", "风险评估表", "椰林街道", "未校准", "染毒种类", "拒绝接受社区戒毒", "下载此评估表", "上传修改后的评估表")
	if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.WaitVisible(`[data-testid=instrument-in-force]`)); err != nil {
		t.Fatal(err)
	}
	look("risk-instrument-en", "Risk instrument", "uncalibrated", "Drug type", "refuses community treatment", "Download this instrument", "Upload an edited instrument")
}
