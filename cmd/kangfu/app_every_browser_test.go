package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kangfu/internal/browsertest"
)

// TestBrowserAppEveryDays (issue 13 §4), the app at 360×640: when the
// check-in frequency is not daily, today says so and names the next
// check-in day, in zh-CN and English; on a daily frequency the line is
// hidden. The server's every_days and next_due are tested in the API
// (TestAppTodayEveryDays); here the answer is rewritten in the page to a
// day that owes nothing under "every 3 days".
func TestBrowserAppEveryDays(t *testing.T) {
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
	var code string
	for _, p := range persons.Items {
		var ac struct {
			Code string `json:"code"`
		}
		if st := staffCall(t, base, login.Token, "POST", "/api/v1/persons/"+p.ID+"/activation-codes", "", &ac); st == 201 {
			code = ac.Code
			break
		}
	}
	if code == "" {
		t.Fatal("no executing person could get an activation code")
	}
	tctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(360, 640)); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(tctx,
		chromedp.Navigate(base+"/app/#activate="+code),
		chromedp.WaitVisible(`[data-testid=pin]`),
		chromedp.SendKeys(`[data-testid=pin]`, "246810"),
		chromedp.SendKeys(`[data-testid=pin2]`, "246810"),
		chromedp.Click(`[data-testid=activate]`),
		chromedp.WaitVisible(`[data-testid=today-state]`),
	)
	if err != nil {
		t.Fatalf("activate: %v", err)
	}
	waitJS(t, tctx, "today's duty", `document.querySelector('[data-testid=today-date]').textContent !== ''`)
	// The demo's policy is daily: no frequency line.
	if hidden, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid=today-every]').hidden`)); !hidden {
		t.Error("a daily frequency shows the every-N-days line")
	}
	// Every 3 days, today not a check-in day, the next on 2026-12-10.
	err = chromedp.Do(tctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const f = window.fetch;
		window.fetch = async (u, o) => {
			const r = await f(u, o);
			if (!String(u).includes('/app/today')) return r;
			const j = await r.clone().json();
			Object.assign(j.checkin, { due: false, done: false, count: 0, every_days: 3, next_due: '2026-12-10' });
			return new Response(JSON.stringify(j), { status: 200, headers: { 'Content-Type': 'application/json' } });
		};
	})()`), chromedp.Click(`.tabs button[data-go=settings]`), chromedp.Click(`.tabs button[data-go=today]`))
	if err != nil {
		t.Fatal(err)
	}
	waitJS(t, tctx, "the frequency in Chinese", `(() => { const s = document.querySelector('[data-testid=today-state]').textContent,
		e = document.querySelector('[data-testid=today-every]'); return s.includes('今天不用签到') &&
		!e.hidden && e.textContent.includes('每 3 天签到一次') && e.textContent.includes('2026-12-10'); })()`)
	saveScreenshot(t, tctx, "app-today-every-days")
	if err := chromedp.Do(tctx, chromedp.Click(`.tabs button[data-go=settings]`), chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`),
		chromedp.Click(`.tabs button[data-go=today]`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tctx, "the frequency in English", `(() => { const s = document.querySelector('[data-testid=today-state]').textContent,
		e = document.querySelector('[data-testid=today-every]'); return s.includes('No check-in needed today') &&
		!e.hidden && e.textContent.includes('every 3 days') && e.textContent.includes('next check-in: 2026-12-10'); })()`)
	saveScreenshot(t, tctx, "app-today-every-days-en")
}
