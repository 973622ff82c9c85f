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

// TestBrowserDossierWholeFileAtPhoneSize (issue 18 §7): the worker opens
// the printed dossier (一人一档) of a demo person on leave in headless
// Chromium at 360 px, in Chinese and in English: every part of the file is
// there — identity, measures with the working group and a status history
// that starts with the report-in (never "无" for a person who reported),
// tests, violations, leave, check-ins by month, documents, timeline — the
// person's name heads it, no catalog key shows, and nothing scrolls
// sideways.
func TestBrowserDossierWholeFileAtPhoneSize(t *testing.T) {
	ctx := browsertest.New(t)
	base := startServer(t, t.TempDir())
	var login struct {
		Token string `json:"token"`
	}
	if st := staffCall(t, base, "", "POST", "/api/v1/auth/login", `{"username":"worker","password":"kangfu-demo"}`, &login); st != 200 {
		t.Fatalf("worker login: %d", st)
	}
	var persons struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	if st := staffCall(t, base, login.Token, "GET", "/api/v1/persons?status=on_leave&limit=5", "", &persons); st != 200 || len(persons.Items) == 0 {
		t.Fatalf("no demo person on leave for the worker: %d %+v", st, persons)
	}
	person := persons.Items[0]

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
	rawKey := regexp.MustCompile(`\b(dossier|event|events|doc|audit|status|test|leave|violation|vio|case|drugtest|measure|group|person|message|transfer|relapse|psych|help)\.[a-z_.]+\b`)
	check := func(name string, cols []string, want ...string) {
		t.Helper()
		if err := chromedp.Do(tctx, chromedp.Navigate(base+"/persons/"+person.ID+"/dossier"), chromedp.WaitVisible(`[data-testid=dossier]`)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		text, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range append(want, person.Name) {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the dossier lacks %q:\n%.3000s", name, w, text)
			}
		}
		if k := rawKey.FindString(text); k != "" {
			t.Errorf("%s shows the catalog key %q", name, k)
		}
		if title, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.title`)); !strings.Contains(title, person.Name) {
			t.Errorf("%s: the title %q lacks the person's name", name, title)
		}
		// The status history of the measure in force starts with a row, not "none".
		first, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`(() => { const h = [...document.querySelectorAll('.dossier-measure h4')][1];
			const row = h && h.nextElementSibling.querySelector('tbody tr'); return row ? row.innerText : '' })()`))
		if len(strings.TrimSpace(first)) < 8 {
			t.Errorf("%s: the status history starts with %q", name, first)
		}
		for _, section := range []string{"tests", "violations", "leave", "checkins", "documents", "timeline"} {
			if ok, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`!!document.querySelector('[data-testid=dossier-`+section+`] h2')`)); !ok {
				t.Errorf("%s: no %s section", name, section)
			}
		}
		// At 360 px a month is a card, each count beside its column's name.
		labels, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`[...document.querySelectorAll('[data-testid=dossier-checkins] tr[data-month]')].slice(0, 1)
			.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.dataset.label + '=' + td.innerText).join('|')).join('')`))
		for _, c := range cols {
			if !strings.Contains(labels, c+"=") {
				t.Errorf("%s: the latest check-in month %q lacks the column %q", name, labels, c)
			}
		}
		wide, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if wide {
			w, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			culprit, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('main *')).filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(-3).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(' | ')`))
			t.Errorf("%s scrolls sideways at 360 px (%d px wide): %s", name, w, culprit)
		}
		saveScreenshot(t, tctx, name)
	}
	check("dossier-zh", []string{"月份", "应签", "已签", "漏签", "请假期间", "尚未启用应用"}, "人员档案", "基本信息", "措施与状态记录", "工作小组", "状态变更记录", "报到：待报到 → 执行中", "请假：执行中 → 请假",
		"检测记录", "违规记录与处理阶梯", "请假记录", "回琼中老家探亲七日", "签到情况（按月）", "文书目录", "时间线")
	if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.WaitVisible(`[data-testid=who]`)); err != nil {
		t.Fatal(err)
	}
	check("dossier-en", []string{"Month", "Due", "Done", "Missed", "On leave", "No app yet"}, "Person dossier", "Identity", "Measures and status history", "Working group", "Status history",
		"report in: pending report → executing", "Drug tests", "Violations and handling ladder", "Leave", "Check-ins by month",
		"Documents", "Timeline")
}
