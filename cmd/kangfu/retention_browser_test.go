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

// TestBrowserRetentionPagesAtPhoneSize (issue 15; R38, PIPL Art 45): at
// 360 px the office's statutory query form refuses a query without its
// legal basis, naming each missing field beside it; the worker's own data
// export page names the person, refuses a missing reason and then offers
// the one-time download, whose zip arrives. In Chinese and in English; no
// page scrolls sideways and no catalog key shows.
func TestBrowserRetentionPagesAtPhoneSize(t *testing.T) {
	base := startServer(t, t.TempDir())
	rawKey := regexp.MustCompile(`\b(statutory|own_data|form)\.[a-z_.]+\b`)
	ctx := browsertest.New(t)
	tctx, cancel := context.WithTimeout(ctx, 300*time.Second)
	defer cancel()
	signIn := func(user string) {
		t.Helper()
		err := chromedp.Do(tctx,
			chromedp.EmulateViewport(360, 740),
			signIn(base, user, `[data-testid=who]`),
		)
		if err != nil {
			t.Fatalf("%s signs in: %v", user, err)
		}
	}
	look := func(name string, want ...string) string {
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
		if k := rawKey.FindString(text); k != "" {
			t.Errorf("%s shows the catalog key %q", name, k)
		}
		if wide, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); wide {
			t.Errorf("%s scrolls sideways at 360 px", name)
		}
		saveScreenshot(t, tctx, name)
		return text
	}
	submitForm := func(form string) {
		t.Helper()
		// form.submit() skips the browser's own checks: the server's are tested.
		if err := chromedp.Do(tctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid=`+form+`]').submit()`),
			chromedp.WaitVisible(`.field-error, [data-testid=own-data-ready]`)); err != nil {
			t.Fatalf("submit %s: %v", form, err)
		}
	}
	setLang := func(lang string) {
		t.Helper()
		cur, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.documentElement.lang`))
		if strings.HasPrefix(cur, lang) {
			return
		}
		if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang^=`+lang+`]`)); err != nil {
			t.Fatal(err)
		}
	}

	// The office: the statutory query form, sent with the ID number and organ only.
	signIn("office")
	for _, lang := range []string{"zh", "en"} {
		setLang(lang)
		if err := chromedp.Do(tctx, chromedp.Navigate(base+"/statutory-queries/new"), chromedp.WaitVisible(`[data-testid=statutory-form]`),
			chromedp.SendKeys(`input[name=id_number]`, "460203198001010011"), chromedp.SendKeys(`input[name=organ]`, "三亚市公安局吉阳分局")); err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{"zh": {"登记法定查询", "法律依据", "请填写法律依据", "请填写查询文书编号", "请填写查询事由"},
			"en": {"Record a statutory query", "Legal basis", "enter the legal basis", "enter the number of the query document", "enter the reason for the query"}}[lang]
		look("statutory-form-blank-" + lang)
		submitForm("statutory-form")
		look("statutory-form-errors-"+lang, want...)
		if v, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('input[name=organ]').value`)); v != "三亚市公安局吉阳分局" {
			t.Errorf("%s: the organ typed was lost: %q", lang, v)
		}
		if err := chromedp.Do(tctx, chromedp.Navigate(base+"/statutory-queries"), chromedp.WaitVisible(`[data-testid=statutory-list]`)); err != nil {
			t.Fatal(err)
		}
		look("statutory-log-"+lang, map[string]string{"zh": "封存档案法定查询", "en": "Statutory queries of sealed files"}[lang])
	}

	// The worker: the own data export of a person of the caseload.
	if err := chromedp.Do(tctx, chromedp.Click(`form[action="/logout"] button`), chromedp.WaitVisible(`input[name=username]`)); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	signIn("worker")
	if err := chromedp.Do(tctx, chromedp.Navigate(base+"/persons"), chromedp.WaitVisible(`[data-testid=person-list]`)); err != nil {
		t.Fatal(err)
	}
	href, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=person-list] tbody a[href^="/persons/"]').getAttribute('href')`))
	if err != nil || href == "" {
		t.Fatalf("a person of the caseload: %q %v", href, err)
	}
	name, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=person-list] tbody a[href^="/persons/"]').textContent.trim()`))
	for _, lang := range []string{"zh", "en"} {
		setLang(lang)
		if err := chromedp.Do(tctx, chromedp.Navigate(base+href), chromedp.WaitVisible(`[data-testid=own-data-link]`), chromedp.Click(`[data-testid=own-data-link]`),
			chromedp.WaitVisible(`[data-testid=own-data-form]`)); err != nil {
			t.Fatalf("%s: the export page from the file: %v", lang, err)
		}
		look("own-data-form-"+lang, name, map[string]string{"zh": "本人数据导出", "en": "Export own data"}[lang])
		submitForm("own-data-form")
		look("own-data-reason-"+lang, name, map[string]string{"zh": "请填写原因", "en": "enter the reason"}[lang])
		if err := chromedp.Do(tctx, chromedp.SendKeys(`textarea[name=reason]`, "本人2026年书面申请"), chromedp.Submit(`textarea[name=reason]`),
			chromedp.WaitVisible(`[data-testid=own-data-ready]`)); err != nil {
			t.Fatal(err)
		}
		look("own-data-ready-"+lang, name, map[string]string{"zh": "只能下载一次", "en": "once only"}[lang])
		dl, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=own-data-download]').getAttribute('href')`))
		js := `fetch('` + dl + `').then(r => r.status + ' ' + r.headers.get('content-type'))`
		got, err := chromedp.Run(tctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil || got != "200 application/zip" {
			t.Fatalf("%s: the download: %q %v", lang, got, err)
		}
		again, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`fetch('`+dl+`').then(r => String(r.status))`, chromedp.EvalAwaitPromise))
		if again == "200" {
			t.Errorf("%s: the export downloads twice", lang)
		}
	}
}
