package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserTransferOverdueAtNewPlace (issue 10, R11, R2): the demo's
// 邓迁, transferred to 海湾社区 16 days ago and never reported there, is
// in worker2's inbox as an overdue report-in (deemed refusal) and as an
// agreement to sign; the file says so, at phone width, in Chinese and in
// English.
func TestBrowserTransferOverdueAtNewPlace(t *testing.T) {
	base, tctx := consoleBrowser(t, 90*time.Second)
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 740),
		signIn(base, "worker2", `[data-testid=dashboard-title]`),
		chromedp.Navigate(base+"/inbox"),
		chromedp.WaitVisible(`[data-testid=inbox]`),
	)
	if err != nil {
		t.Fatalf("sign in and open the inbox: %v", err)
	}
	inbox, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=inbox]`))
	for _, want := range []string{"邓迁（示例） 逾期未报到", "视为拒绝接受", "邓迁（示例） 的社区戒毒（康复）协议待签订"} {
		if !strings.Contains(inbox, want) {
			t.Fatalf("worker2's inbox lacks %q:\n%.1500s", want, inbox)
		}
	}
	saveScreenshot(t, tctx, "transfer-overdue-inbox-zh")
	err = chromedp.Do(tctx,
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('[data-testid=inbox] tr')].find(r => r.innerText.includes('邓迁（示例） 逾期未报到')).querySelector('a').click()`),
		chromedp.WaitVisible(`[data-testid=deemed-refusal]`),
	)
	if err != nil {
		t.Fatalf("open the file from the inbox: %v", err)
	}
	status, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=person-status]`))
	measure, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=measure-in-force]`))
	if strings.TrimSpace(status) != "待报到" || !strings.Contains(measure, "海湾社区") || !strings.Contains(measure, "协议未签订") {
		t.Fatalf("the file: status %q, measure:\n%s", status, measure)
	}
	saveScreenshot(t, tctx, "transfer-overdue-person-zh")
	err = chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.WaitVisible(`[data-testid=deemed-refusal]`))
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=person-status]`)); strings.TrimSpace(status) != "pending report" {
		t.Fatalf("English status %q", status)
	}
	saveScreenshot(t, tctx, "transfer-overdue-person-en")
	if err := chromedp.Do(tctx, chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(`[data-testid=inbox]`)); err != nil {
		t.Fatal(err)
	}
	if inbox, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=inbox]`)); !strings.Contains(inbox, "did not report by") {
		t.Fatalf("English inbox:\n%.1500s", inbox)
	}
	saveScreenshot(t, tctx, "transfer-overdue-inbox-en")
}
