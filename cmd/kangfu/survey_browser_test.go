package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserSurveyAnsweredAtPhoneSize (issue 12 §4): the district office,
// in headless Chromium at 360 px, publishes a survey for a community and
// sees its link and QR code; a resident opens the link without an account,
// answers in Chinese; another resident (a new browser token) switches to
// English and answers; the office's page then counts two respondents with
// the formulas in words. No page scrolls sideways and no catalog key shows.
func TestBrowserSurveyAnsweredAtPhoneSize(t *testing.T) {
	base, tctx := consoleBrowser(t, 120*time.Second)
	rawKey := regexp.MustCompile(`\b(survey|flash|exchange)\.[a-z_.]+\b`)
	look := func(name string) string {
		t.Helper()
		text, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
		if err != nil {
			t.Fatal(err)
		}
		if k := rawKey.FindString(text); k != "" {
			t.Errorf("%s shows the catalog key %q", name, k)
		}
		if wide, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); wide {
			culprit, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('main *')).filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(-3).map((e) => e.tagName + '.' + e.className).join(' | ')`))
			t.Errorf("%s scrolls sideways at 360 px: %s", name, culprit)
		}
		saveScreenshot(t, tctx, name)
		return text
	}
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 740),
		signIn(base, "office", `[data-testid=who]`),
		chromedp.Navigate(base+"/surveys"),
		chromedp.WaitVisible(`[data-testid=survey-form]`),
	)
	if err != nil {
		t.Fatalf("office opens the surveys: %v", err)
	}
	look("survey-list")
	err = chromedp.Do(tctx,
		chromedp.Submit(`[data-testid=survey-form] input[name=title]`),
		chromedp.WaitVisible(`[data-testid=survey-qr]`),
	)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	staffURL, err := chromedp.Run(tctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		t.Fatal(err)
	}
	link, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=survey-url]').getAttribute('href')`))
	if err != nil || !strings.Contains(link, "/s/") {
		t.Fatalf("survey link %q: %v", link, err)
	}
	if n, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=survey-respondents]`)); n != "0" {
		t.Fatalf("a new survey counts %q respondents", n)
	}
	look("survey-published")

	answer := func(sat, k0 string) {
		t.Helper()
		actions := []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(`[data-testid=survey-answer-form]`),
			chromedp.SetValue(`select[name=age_band]`, "30-44"),
			chromedp.SetValue(`select[name=role]`, "resident"),
		}
		for _, q := range []string{"gov", "control", "police", "prevention", "overall"} {
			actions = append(actions, chromedp.Click(`input[name=sat_`+q+`][value=`+sat+`]`))
		}
		actions = append(actions,
			chromedp.Click(`input[name=k_etomidate][value="`+k0+`"]`),
			chromedp.Click(`input[name=k_law][value="1"]`),
			chromedp.Click(`input[name=k_types][value="1"]`),
			chromedp.Click(`input[name=heard][value=yes]`),
			chromedp.SetValue(`select[name=channel]`, "community"),
			chromedp.Click(`[data-testid=survey-submit]`),
			chromedp.WaitVisible(`[data-testid=survey-thanks]`),
		)
		if err := chromedp.Do(tctx, actions...); err != nil {
			t.Fatalf("answer: %v", err)
		}
	}
	// setLang switches the page's language with its button when it is not
	// already the one wanted (a public page follows the browser's language
	// until the resident chooses).
	setLang := func(want, ready string) {
		t.Helper()
		lang, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.documentElement.lang`))
		if err != nil {
			t.Fatal(err)
		}
		if lang != want {
			if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitVisible(`html[lang=`+want+`] `+ready)); err != nil {
				t.Fatalf("switch to %s: %v", want, err)
			}
		}
	}
	// A resident in Chinese.
	if err := chromedp.Do(tctx, chromedp.Navigate(link), chromedp.WaitVisible(`[data-testid=survey-answer-form]`)); err != nil {
		t.Fatalf("open the link: %v", err)
	}
	setLang("zh-CN", `[data-testid=survey-answer-form]`)
	if text := look("survey-public-zh"); !strings.Contains(text, "总体而言，您对本地禁毒工作是否满意？") || !strings.Contains(text, "不收集姓名") {
		t.Errorf("the Chinese page lacks its questions:\n%.1500s", text)
	}
	answer("satisfied", "0")
	if text := look("survey-thanks-zh"); !strings.Contains(text, "提交成功") {
		t.Errorf("thanks: %s", text)
	}
	// Another resident (a browser of its own: a new survey token), in English.
	if _, err := chromedp.Call(tctx, network.DeleteCookies, network.DeleteCookiesParams{Name: "kangfu_survey", URL: link}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(link), chromedp.WaitVisible(`[data-testid=survey-answer-form]`)); err != nil {
		t.Fatalf("open the link again: %v", err)
	}
	setLang("en", `[data-testid=survey-answer-form]`)
	if text := look("survey-public-en"); !strings.Contains(text, "Overall, are you satisfied with local drug-control work?") {
		t.Errorf("the English page lacks its questions:\n%.1500s", text)
	}
	answer("fairly", "2")
	if text := look("survey-thanks-en"); !strings.Contains(text, "Thank you for taking part") {
		t.Errorf("thanks: %s", text)
	}
	// The office sees the count rise, with the formulas in words.
	if err := chromedp.Do(tctx, chromedp.Navigate(base+staffURL), chromedp.WaitVisible(`[data-testid=survey-by-item]`)); err != nil {
		t.Fatalf("staff page: %v", err)
	}
	if n, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=survey-respondents]`)); n != "2" {
		t.Errorf("after two answers the page counts %q respondents", n)
	}
	text := look("survey-results-en")
	for _, w := range []string{"Satisfaction rate", "100.0%", "10 ÷ 10", "Awareness rate", "83.3%", "5 ÷ 6", "don't know"} {
		if !strings.Contains(text, w) {
			t.Errorf("results lack %q:\n%.2500s", w, text)
		}
	}
	setLang("zh-CN", `[data-testid=survey-by-item]`)
	text = look("survey-results-zh")
	for _, w := range []string{"满意率", "知晓率 = 知识题答对数", "受访人数"} {
		if !strings.Contains(text, w) {
			t.Errorf("results lack %q:\n%.2500s", w, text)
		}
	}
}
