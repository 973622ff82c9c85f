package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Issue 12 §3 in a browser at 360 px: the street lead opens the factory
// compound's yearly work summary from the reports page, writes its
// highlights, and sees the summary read like the story (the place, the
// counts by kind, the sections) in Chinese and in English, with no raw
// key; the PDF downloads.
func TestBrowserWorkSummary(t *testing.T) {
	base, tctx := consoleBrowser(t, 240*time.Second)
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 740),
		signIn(base, "lead", `[data-testid=dashboard-title]`),
		chromedp.Navigate(base+"/reports"), chromedp.WaitReady(`body[data-loaded=reports]`),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	href, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`(() => {
		const o = [...document.querySelectorAll('select[name=org] option')].find(o => o.textContent.includes('安椰厂区'));
		const y = document.querySelector('select[name=period] option[selected]') || document.querySelector('select[name=period] option');
		return o ? '/orgs/' + o.value + '/summary/' + y.value : '';
	})()`))
	if href == "" {
		t.Fatal("the factory compound is not among the lead's orgs")
	}
	const highlight = "厂区内无新增吸毒人员，所有在册人员已实现就业。"
	err = chromedp.Do(tctx, chromedp.Navigate(base+href), chromedp.WaitVisible(`[data-testid=summary-title]`),
		chromedp.SetValue(`textarea[name=highlights]`, highlight),
		chromedp.Submit(`[data-testid=summary-form] textarea[name=highlights]`),
		chromedp.WaitVisible(`.flash`))
	if err != nil {
		t.Fatalf("save the highlights: %v", err)
	}
	text, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	for _, want := range []string{"安椰厂区", "年度禁毒工作总结", "一、项目简述", "二、服务开展情况", "入户走访", "电访", "一对一辅导", "低保",
		"三、亮点", highlight, "四、问题", "五、下一步", "附：主要指标及计算方法", "第1版", "4790人"} {
		if !strings.Contains(text, want) {
			t.Errorf("the summary lacks %q:\n%.2500s", want, text)
		}
	}
	for _, raw := range []string{"summary.", "report.", "visits_home", "R34", "community_treatment", "%!"} {
		if strings.Contains(text, raw) {
			t.Errorf("raw %q visible on the page", raw)
		}
	}
	wide, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if wide > 360 {
		t.Errorf("the page is %d px wide at a 360 px viewport", wide)
	}
	saveScreenshot(t, tctx, "summary-zh")
	ctype, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`fetch(document.querySelector('[data-testid=summary-pdf]').href).then(r => r.status + ' ' + r.headers.get('content-type'))`, chromedp.EvalAwaitPromise))
	if ctype != "200 application/pdf" {
		t.Errorf("PDF: %q", ctype)
	}
	err = chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.WaitVisible(`[data-testid=summary-title]`))
	if err != nil {
		t.Fatal(err)
	}
	text, _ = chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	for _, want := range []string{"work summary", "1. Overview", "2. Services delivered", "Home visits", "3. Highlights", highlight, "Annex: the figures"} {
		if !strings.Contains(text, want) {
			t.Errorf("the English summary lacks %q:\n%.2500s", want, text)
		}
	}
	for _, raw := range []string{"summary.", "report.", "visits_home", "%!"} {
		if strings.Contains(text, raw) {
			t.Errorf("raw %q visible on the English page", raw)
		}
	}
	wide, _ = chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if wide > 360 {
		t.Errorf("the English page is %d px wide at 360 px", wide)
	}
	saveScreenshot(t, tctx, "summary-en")
}
