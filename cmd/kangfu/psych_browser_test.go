package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Issue 18 item 11 and issue 11 §3 in a browser at phone size: the demo
// counsellor lists its assigned persons; opening one lands on the minimal
// profile (no ID number) with the sessions, scales and the score chart;
// every link on it opens; the page works in Chinese and English.
func TestBrowserPsychCounsellor(t *testing.T) {
	base, tctx := consoleBrowser(t, 90*time.Second)
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 640),
		signIn(base, "counsellor", `[data-testid=dashboard-title]`),
		chromedp.Navigate(base+"/persons"),
		chromedp.WaitVisible(`[data-testid=person-list]`),
	)
	if err != nil {
		t.Fatalf("sign in and list: %v", err)
	}
	rows, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=person-list] tbody tr a').length`))
	if err != nil || rows != 10 {
		t.Fatalf("the counsellor's list has %d persons, want its 10 assigned (%v)", rows, err)
	}
	err = chromedp.Do(tctx, chromedp.Click(`[data-testid=person-list] tbody tr:first-child a`), chromedp.WaitVisible(`[data-testid=psych-profile]`))
	if err != nil {
		t.Fatalf("open a person: %v", err)
	}
	text, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	if strings.Contains(text, "460203") || !strings.Contains(text, "心理量表") || !strings.Contains(text, "个体心理咨询") {
		t.Fatalf("the minimal profile:\n%.800s", text)
	}
	charts, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=psych-charts] svg').length`))
	if charts < 2 {
		t.Fatalf("%d score charts, want PHQ-9 and GAD-7 at least", charts)
	}
	saveScreenshot(t, tctx, "psych-counsellor-zh")
	links, _ := chromedp.Run(tctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('main a')].map(a => a.getAttribute('href')).filter(h => h && h.startsWith('/'))`))
	for _, href := range links {
		status, err := chromedp.Run(tctx, chromedp.Evaluate[int](`fetch(`+"`"+`${location.origin}`+href+"`"+`, {redirect: 'follow'}).then(r => r.status)`, chromedp.EvalAwaitPromise))
		if err != nil || status == 403 || status == 404 {
			t.Errorf("link %s answers %d (%v)", href, status, err)
		}
	}
	width, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelector('[data-testid=psych-charts]').getBoundingClientRect().right`))
	if width > 360 {
		t.Errorf("the chart card is %d px wide at a 360 px viewport", width)
	}
	err = chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.WaitVisible(`[data-testid=psych-profile]`))
	if err != nil {
		t.Fatal(err)
	}
	text, _ = chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	if !strings.Contains(text, "Screening scales") || !strings.Contains(text, "One-to-one counselling") {
		t.Fatalf("English page:\n%.600s", text)
	}
	saveScreenshot(t, tctx, "psych-counsellor-en")
}
