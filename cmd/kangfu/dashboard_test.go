package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kangfu/internal/browsertest"
)

// TestBrowserDashboardIsTheMorning signs in as the worker and the lead on a
// phone (360 px) and follows every figure of the dashboard to its list
// (issue 18 §5): the number not checked in today is the number the board
// marks missing, and each kind of task opens the inbox narrowed to that
// kind with as many rows as the dashboard counted.
func TestBrowserDashboardIsTheMorning(t *testing.T) {
	base := startServer(t, t.TempDir())
	for _, who := range []struct{ user, place string }{{"worker", "安椰厂区"}, {"lead", "椰林街道"}} {
		ctx := browsertest.New(t)
		tctx, cancel := context.WithTimeout(ctx, 120*time.Second)
		err := chromedp.Do(tctx,
			chromedp.EmulateViewport(360, 640),
			signIn(base, who.user, `[data-testid=dash-place]`),
		)
		if err != nil {
			cancel()
			t.Fatalf("%s: dashboard: %v", who.user, err)
		}
		saveScreenshot(t, tctx, "dashboard-"+who.user)
		place, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=dash-place] h2`))
		if !strings.Contains(place, who.place) {
			t.Errorf("%s: the dashboard's place is %q, want %s", who.user, place, who.place)
		}
		notChecked, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=dash-not-checked] .big`))
		// Each task kind, with its count, to follow after the board.
		kinds, err := chromedp.Run(tctx, chromedp.Evaluate[[]struct{ Href, Count string }](`[...document.querySelectorAll('[data-testid^=dash-task-]')].map(a => ({Href: a.getAttribute('href'), Count: a.querySelector('.badge').textContent}))`))
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=dash-not-checked]`), chromedp.WaitVisible(`[data-testid=board]`)); err != nil {
			t.Fatalf("%s: the not-checked-in figure does not open the board: %v", who.user, err)
		}
		missing, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=board] tbody tr.missed').length`))
		if strconv.Itoa(missing) != strings.TrimSpace(notChecked) {
			t.Errorf("%s: the dashboard says %s not checked in, the board marks %d", who.user, notChecked, missing)
		}
		if len(kinds) == 0 {
			t.Errorf("%s: the dashboard shows no tasks; the demo has some", who.user)
		}
		for _, k := range kinds {
			err := chromedp.Do(tctx, chromedp.Navigate(base+k.Href), chromedp.WaitVisible(`[data-testid=inbox-filter]`))
			rows, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=inbox] tbody tr:not(:has(td[colspan]))').length`))
			if err != nil {
				t.Fatalf("%s: %s: %v", who.user, k.Href, err)
			}
			if strconv.Itoa(rows) != strings.TrimSpace(k.Count) {
				t.Errorf("%s: %s lists %d tasks, the dashboard counted %s", who.user, k.Href, rows, k.Count)
			}
		}
		// The same page in English names its figures in English.
		err = chromedp.Do(tctx, chromedp.Navigate(base+"/"), chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`),
			chromedp.WaitVisible(`[data-testid=dash-place]`))
		if err != nil {
			t.Fatal(err)
		}
		figs, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=dash-place]`))
		if !strings.Contains(figs, "not checked in today") || strings.Contains(figs, "dashboard.") {
			t.Errorf("%s: English dashboard reads %q", who.user, figs)
		}
		saveScreenshot(t, tctx, "dashboard-"+who.user+"-en")
		cancel()
	}
}
