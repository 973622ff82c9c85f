package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kangfu/internal/browsertest"
)

// TestBrowserHelpPagesAtPhoneSize (issue 11 §4–5): the worker of the
// factory compound, in headless Chromium at 360 px, opens the employment
// overview (everyone in work in the demo year: 100%), a family on 低保,
// records a prevention event through the form, and sees the events with
// their counts — in Chinese, then in English. No page scrolls sideways
// (wide tables scroll inside their box) and no catalog key shows.
func TestBrowserHelpPagesAtPhoneSize(t *testing.T) {
	ctx := browsertest.New(t)
	base := startServer(t, t.TempDir())
	tctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(tctx,
		signIn(base, "worker", `[data-testid=who]`),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	rawKey := regexp.MustCompile(`\b(help|events|event|flash|inbox\.kind)\.[a-z_.]+\b`)
	check := func(name, path, ready string, want ...string) {
		t.Helper()
		if err := chromedp.Do(tctx, chromedp.Navigate(base+path), chromedp.WaitVisible(ready)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		text, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the page lacks %q:\n%.1500s", name, w, text)
			}
		}
		if k := rawKey.FindString(text); k != "" {
			t.Errorf("%s shows the catalog key %q", name, k)
		}
		wide, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if wide {
			w, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			culprit, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('main *')).filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(-3).map((e) => e.tagName + '.' + e.className + '[' + (e.name || '') + '] ' + Math.round(e.getBoundingClientRect().right)).join(' | ')`))
			t.Errorf("%s scrolls sideways at 360 px (%d px wide): %s", name, w, culprit)
		}
		saveScreenshot(t, tctx, name)
	}
	check("help-employment-zh", "/employment", `[data-testid=employment-rate]`, "就业率", "100.0%", "禁毒办/社区推荐")
	check("help-assistance-zh", "/assistance?kind=dibao", `[data-testid=assistance-list]`, "低保", "¥")
	href, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=assistance-list] tbody a').getAttribute('href')`))
	if err != nil || !strings.HasPrefix(href, "/persons/") {
		t.Fatalf("no person on 低保 listed: %q %v", href, err)
	}
	person := strings.TrimSuffix(href, "#assistance")
	check("help-person-zh", person, `[data-testid=work-status]`, "在业", "低保", "/月", "帮扶计划")

	// Record an event through the form; the list counts it.
	check("help-events-zh", "/events", `[data-testid=events-count]`, "活动场次", "受众人次")
	n0, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=events-count]`))
	err = chromedp.Do(tctx,
		chromedp.SendKeys(`[data-testid=event-form] input[name=topic]`, "厂区禁毒知识讲座（测试）"),
		chromedp.SendKeys(`[data-testid=event-form] input[name=place]`, "厂区会议室"),
		chromedp.SendKeys(`[data-testid=event-form] input[name=audience]`, "45"),
		chromedp.Submit(`[data-testid=event-form] input[name=topic]`),
		chromedp.WaitVisible(`dl.kv`),
	)
	if err != nil {
		t.Fatalf("record an event: %v", err)
	}
	saveScreenshot(t, tctx, "help-event-zh")
	check("help-events-after-zh", "/events", `[data-testid=events-count]`, "厂区禁毒知识讲座（测试）")
	n1, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=events-count]`))
	if fmt.Sprint(atoi(n0)+1) != n1 {
		t.Errorf("events counted %s before and %s after recording one", n0, n1)
	}

	// English.
	if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.WaitVisible(`[data-testid=who]`)); err != nil {
		t.Fatal(err)
	}
	check("help-employment-en", "/employment", `[data-testid=employment-rate]`, "Employment rate", "100.0%", "found by the office")
	check("help-person-en", person, `[data-testid=work-status]`, "employed", "minimum living allowance", "/month", "Help plan")
	check("help-events-en", "/events", `[data-testid=events-count]`, "People reached", "By kind")
}

// TestBrowserAppHelpPlan (issue 11 §10): the person's app at 360 px shows
// the person's own help plan read-only — goals, deadlines, the next review
// — in Chinese and in English.
func TestBrowserAppHelpPlan(t *testing.T) {
	ctx := browsertest.New(t)
	base := startServer(t, t.TempDir())
	var login struct {
		Token string `json:"token"`
	}
	if st := staffCall(t, base, "", "POST", "/api/v1/auth/login", `{"username":"worker","password":"kangfu-demo"}`, &login); st != 200 {
		t.Fatalf("worker login: %d", st)
	}
	var persons struct {
		Items []struct{ ID string } `json:"items"`
	}
	if st := staffCall(t, base, login.Token, "GET", "/api/v1/persons?status=executing&limit=50", "", &persons); st != 200 {
		t.Fatalf("list persons: %d", st)
	}
	var code, next string
	for _, p := range persons.Items {
		var h struct {
			Plan *struct {
				NextReview string `json:"next_review"`
			} `json:"plan"`
		}
		if staffCall(t, base, login.Token, "GET", "/api/v1/persons/"+p.ID+"/help", "", &h) != 200 || h.Plan == nil {
			continue
		}
		var ac struct {
			Code string `json:"code"`
		}
		if staffCall(t, base, login.Token, "POST", "/api/v1/persons/"+p.ID+"/activation-codes", "", &ac) == 201 {
			code, next = ac.Code, h.Plan.NextReview
			break
		}
	}
	if code == "" {
		t.Fatal("no executing person of the demo with a help plan")
	}
	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 640),
		chromedp.Navigate(base+"/app/#activate="+code),
		chromedp.WaitVisible(`[data-testid=pin]`),
		chromedp.SendKeys(`[data-testid=pin]`, "246810"),
		chromedp.SendKeys(`[data-testid=pin2]`, "246810"),
		chromedp.Click(`[data-testid=activate]`),
		chromedp.WaitVisible(`body[data-loaded=today] [data-testid=go-help]`),
		chromedp.Click(`[data-testid=go-help]`),
		chromedp.WaitVisible(`[data-testid=help-goals]`),
	)
	if err != nil {
		t.Fatalf("open the help plan: %v", err)
	}
	waitJS(t, tctx, "the plan", `document.querySelector('[data-testid=help-goals]').textContent.includes('稳定就业')`)
	if got, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=help-next]`)); !strings.Contains(got, "下次回顾："+next) {
		t.Errorf("next review line %q, want %s", got, next)
	}
	saveScreenshot(t, tctx, "app-help-zh")
	err = chromedp.Do(tctx,
		chromedp.Click(`.tabs button[data-go=settings]`),
		chromedp.WaitVisible(`body[data-loaded=settings] [data-testid=lang-switch]`),
		chromedp.Click(`[data-testid=lang-switch]`),
		chromedp.WaitVisible(`html[lang=en] body[data-loaded=settings]`),
		chromedp.Click(`.tabs button[data-go=today]`),
		// Today's messages and notices arrive after the screen shows and
		// move the buttons; aim once they have landed (the CI run that
		// clicked earlier hit whatever had moved under the pointer).
		chromedp.WaitVisible(`body[data-loaded=today] [data-testid=go-help]`),
		chromedp.Click(`[data-testid=go-help]`),
		chromedp.WaitVisible(`body[data-loaded=help] [data-testid=help-goals]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitJS(t, tctx, "the plan in English", `document.querySelector('[data-testid=help-next]').textContent.startsWith('Next review: ')`)
	saveScreenshot(t, tctx, "app-help-en")
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(strings.TrimSpace(s), &n)
	return n
}
