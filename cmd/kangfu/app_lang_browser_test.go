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

// zhPunct is Chinese punctuation in English text: a mark after a Latin
// letter, digit or space. Marks inside Chinese data (a staff name like
// 陈专干（厂区）, a city) follow a Han character and are the data's own.
var zhPunct = regexp.MustCompile(`(^|[^\p{Han}（）])[，：。（）；、]`)

// oneThings is a count of one with a plural noun ("1 days").
var oneThings = regexp.MustCompile(`\b1 (check-in )?(days|times|minutes|tries|check-ins|tests|messages)\b`)

// TestBrowserAppEnglishAtPhoneSize (issue 18 item 13): the person's app in
// headless Chromium at 360 px. The language is switched to English on the
// activation screen, before there is a device; the English screens carry
// no Chinese punctuation and no "1 days"; the tab bar's five buttons each
// lie within the screen, side by side without overlapping, their words not
// cut; switching the language in settings is reported to the server.
func TestBrowserAppEnglishAtPhoneSize(t *testing.T) {
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
	if st := staffCall(t, base, login.Token, "GET", "/api/v1/persons?status=executing&limit=50", "", &persons); st != 200 || len(persons.Items) == 0 {
		t.Fatalf("list persons: %d", st)
	}
	var code string
	for _, p := range persons.Items {
		var ac struct {
			Code string `json:"code"`
		}
		if staffCall(t, base, login.Token, "POST", "/api/v1/persons/"+p.ID+"/activation-codes", "", &ac) == 201 {
			code = ac.Code
			break
		}
	}
	if code == "" {
		t.Fatal("no activation code")
	}
	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	screenText := func() string {
		s, err := chromedp.Run(tctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('header, main > *:not([hidden]), nav.tabs:not([hidden])')).map((e) => e.innerText).join('\n')`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	checkEnglish := func(name string) {
		t.Helper()
		text := screenText()
		if m := zhPunct.FindString(text); m != "" {
			t.Errorf("%s: Chinese punctuation %q in the English screen:\n%s", name, m, text)
		}
		if m := oneThings.FindString(text); m != "" {
			t.Errorf("%s: %q in the English screen:\n%s", name, m, text)
		}
		saveScreenshot(t, tctx, "app-en-"+name)
	}

	// Before activation: the switch is on the activation screen.
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 640),
		chromedp.Navigate(base+"/app/#activate="+code),
		chromedp.WaitVisible(`body[data-loaded=activate] [data-testid=activate-lang]`),
		chromedp.Click(`[data-testid=activate-lang]`),
		chromedp.WaitVisible(`html[lang=en] [data-testid=activate]`),
	)
	if err != nil {
		t.Fatalf("switch to English before activation: %v", err)
	}
	if got, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=activate]`)); got != "Activate" {
		t.Errorf("activation button %q, want Activate", got)
	}
	checkEnglish("activate")

	err = chromedp.Do(tctx,
		chromedp.SendKeys(`[data-testid=pin]`, "246810"),
		chromedp.SendKeys(`[data-testid=pin2]`, "246810"),
		chromedp.Click(`[data-testid=activate]`),
		chromedp.WaitVisible(`body[data-loaded=today] [data-testid=go-help]`),
	)
	if err != nil {
		t.Fatalf("activate: %v", err)
	}
	checkEnglish("today")

	checkTabs(t, tctx, "today")

	// Records: the month's duty counts with plural words.
	err = chromedp.Do(tctx,
		chromedp.Click(`nav.tabs button[data-go=records]`),
		chromedp.WaitVisible(`body[data-loaded=records] [data-testid=records-duty]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	duty, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=records-duty]`))
	if !strings.HasPrefix(duty, "This month: ") || (strings.HasPrefix(duty, "This month: 1 ") && !strings.HasPrefix(duty, "This month: 1 check-in day due")) {
		t.Errorf("duty line %q", duty)
	}
	checkEnglish("records")
	checkTabs(t, tctx, "records")
	for _, s := range []string{"leave", "settings"} {
		if err := chromedp.Do(tctx, chromedp.Click(`nav.tabs button[data-go=`+s+`]`), chromedp.WaitVisible(`body[data-loaded=`+s+`]`)); err != nil {
			t.Fatal(err)
		}
		checkEnglish(s)
		checkTabs(t, tctx, s)
	}
	// The words of the app's counts choose one or other.
	got, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`window.KF_I18N.en.duty_line`))
	if !strings.Contains(got, "{due:day|days}") {
		t.Errorf("duty_line has no plural selector: %s", got)
	}

	// Switching in settings tells the server (the notices follow it).
	err = chromedp.Do(tctx,
		chromedp.Click(`[data-testid=lang-switch]`),
		chromedp.WaitVisible(`html[lang=zh-CN] body[data-loaded=settings]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitJS(t, tctx, "the language sent to the server", `localStorage.getItem('kf_lang_unsent') === null`)
	saveScreenshot(t, tctx, "app-zh-settings")
}

// checkTabs measures the tab bar on a screen (its tab in bold): five
// buttons inside the 360×640 screen, in one row, not overlapping, each
// showing its words whole on one line.
func checkTabs(t *testing.T, tctx context.Context, screen string) {
	t.Helper()
	tabs, err := chromedp.Run(tctx, chromedp.Evaluate[[]tabBox](`Array.from(document.querySelectorAll('nav.tabs button')).map((b) => {
		const r = b.getBoundingClientRect();
		const lines = new Set(Array.from((() => { const g = document.createRange(); g.selectNodeContents(b); return g.getClientRects(); })()).map((q) => Math.round(q.top))).size;
		return {Text: b.innerText, Left: r.left, Right: r.right, Top: r.top, Bottom: r.bottom,
			ScrollW: b.scrollWidth, ClientW: b.clientWidth, ScrollH: b.scrollHeight, ClientH: b.clientHeight, Lines: lines};
	})`))
	if err != nil || len(tabs) != 5 {
		t.Fatalf("%s: tab buttons: %d %v", screen, len(tabs), err)
	}
	for i, b := range tabs {
		if b.Left < 0 || b.Right > 360.5 || b.Bottom > 640.5 {
			t.Errorf("%s: tab %q lies outside the 360×640 screen: %+v", screen, b.Text, b)
		}
		if b.ScrollW > b.ClientW+0.5 || b.ScrollH > b.ClientH+0.5 || b.Lines != 1 {
			t.Errorf("%s: tab %q does not show its words whole on one line: %+v", screen, b.Text, b)
		}
		if i > 0 && b.Left < tabs[i-1].Right-0.5 {
			t.Errorf("%s: tab %q overlaps %q", screen, b.Text, tabs[i-1].Text)
		}
		if i > 0 && b.Top != tabs[0].Top {
			t.Errorf("%s: tab %q is not in the row", screen, b.Text)
		}
	}
	if tabs[1].Text != "Check in" || tabs[4].Text != "Settings" {
		t.Errorf("%s: tab words %q %q", screen, tabs[1].Text, tabs[4].Text)
	}
}

// tabBox is a tab button's box and whether its words fit it.
type tabBox struct {
	Text                     string
	Left, Right, Top, Bottom float64
	ScrollW, ClientW         float64
	ScrollH, ClientH         float64
	Lines                    int
}
