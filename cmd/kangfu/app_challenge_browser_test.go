package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kangfu/internal/browsertest"
)

// TestBrowserAppChallengeCard (issue 17 §4, 人机分离): challenge.js shows
// today's spot_challenge on the today screen at 360 px — the server's
// sentence, highlighted while open — and hides the card on a day without
// one. The server's side (when a challenge is issued, its words) is
// TestAppTodaySpotChallenge; here today's answer is the one app.js keeps
// (kf_today) with a challenge put in, since the real server's clock cannot
// be moved to a drawn moment.
func TestBrowserAppChallengeCard(t *testing.T) {
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
	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 640),
		chromedp.Navigate(base+"/app/#activate="+code),
		chromedp.WaitVisible(`body[data-loaded=activate] [data-testid=pin]`),
		chromedp.SendKeys(`[data-testid=pin]`, "246810"),
		chromedp.SendKeys(`[data-testid=pin2]`, "246810"),
		chromedp.Click(`[data-testid=activate]`),
		chromedp.WaitVisible(`body[data-loaded=today] [data-testid=go-help]`),
	); err != nil {
		t.Fatalf("activate: %v", err)
	}
	if hidden, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid=today-challenge]').hidden`)); !hidden {
		t.Error("a challenge card shown on a day without one")
	}
	show := func(lang, text string, open bool) {
		t.Helper()
		c, _ := json.Marshal(map[string]any{"open": open, "answered": !open, "text": text, "minutes": 15,
			"issued_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "deadline": time.Now().Add(14 * time.Minute).UTC().Format(time.RFC3339)})
		js := fmt.Sprintf(`(() => { const d = JSON.parse(localStorage.getItem('kf_today')); d.spot_challenge = %s; localStorage.setItem('kf_today', JSON.stringify(d)); return true; })()`, c)
		if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](js)); err != nil {
			t.Fatal(err)
		}
		q, _ := json.Marshal(text)
		waitJS(t, tctx, "the challenge card", fmt.Sprintf(`(() => { const b = document.querySelector('[data-testid=today-challenge]'); return !b.hidden && b.textContent === %s && b.classList.contains('notice') === %v; })()`, q, open))
		saveScreenshot(t, tctx, "app-challenge-"+lang+"-360")
	}
	show("zh", "限时签到：请在 15 分钟内打卡（11:06 前）", true)
	show("zh-answered", "今天的限时签到已完成，谢谢。", false)
	show("en", "Timed check-in: please check in within 15 minutes (by 11:06)", true)
}
