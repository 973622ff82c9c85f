package main

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"kangfu/internal/browsertest"
)

// TestBrowserVisitFormOffline (issue 11 §2): the worker of the factory
// compound opens the visit field form on a phone (360 px, a fake location,
// a photo), fills it, loses the network, submits (the record waits in
// IndexedDB), and meanwhile the console session ends (the cookie is gone).
// Back online, the queue's send is redirected to sign-in: the record stays
// on the phone and the page asks to sign in. After signing in (which
// returns to the form) the record is sent, and the server has it once,
// with its notes and photo.
func TestBrowserVisitFormOffline(t *testing.T) {
	ctx := browsertest.New(t)
	dataDir := t.TempDir()
	base := startServer(t, dataDir)

	var login struct {
		Token string `json:"token"`
	}
	if st := staffCall(t, base, "", "POST", "/api/v1/auth/login", `{"username":"worker","password":"kangfu-demo"}`, &login); st != 200 {
		t.Fatalf("worker login: %d", st)
	}
	var persons struct {
		Items []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	if st := staffCall(t, base, login.Token, "GET", "/api/v1/persons?status=executing&limit=5", "", &persons); st != 200 || len(persons.Items) == 0 {
		t.Fatalf("list persons: %d %d", st, len(persons.Items))
	}
	person := persons.Items[0]
	countVisits := func(notes string) int {
		var vs struct {
			Items []struct {
				Notes  string `json:"notes"`
				Photos int    `json:"photos"`
			} `json:"items"`
		}
		if st := staffCall(t, base, login.Token, "GET", "/api/v1/persons/"+person.ID+"/visits", "", &vs); st != 200 {
			t.Fatalf("list visits: %d", st)
		}
		n := 0
		for _, v := range vs.Items {
			if v.Notes == notes {
				n++
				if v.Photos != 1 {
					t.Errorf("the visit has %d photos, want 1", v.Photos)
				}
			}
		}
		return n
	}

	photo := filepath.Join(t.TempDir(), "door.png")
	f, err := os.Create(photo)
	if err != nil {
		t.Fatal(err)
	}
	png.Encode(f, image.NewRGBA(image.Rect(0, 0, 40, 30)))
	f.Close()

	tctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	if _, err := chromedp.CallBrowser(tctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: browser.PermissionSettingGranted, Origin: base}); err != nil {
		t.Fatalf("grant geolocation: %v", err)
	}
	lat, lng, acc := 18.2528, 109.5119, 15.0
	if _, err := chromedp.Call(tctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lng, Accuracy: &acc}); err != nil {
		t.Fatalf("geolocation override: %v", err)
	}
	if _, err := chromedp.Call(tctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Shanghai"}); err != nil {
		t.Fatalf("time zone: %v", err)
	}
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}
	offline := func(off bool) {
		t.Helper()
		conds := []*network.Conditions{}
		if off {
			conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
		}
		if _, err := chromedp.Call(tctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(tctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: conds, EmulateOfflineServiceWorker: &off}); err != nil {
			t.Fatalf("network conditions: %v", err)
		}
		if _, err := chromedp.Call(tctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
			t.Fatalf("network state: %v", err)
		}
	}
	signIn := func() {
		t.Helper()
		if err := chromedp.Do(tctx,
			chromedp.WaitVisible(`input[name=username]`),
			chromedp.SetValue(`input[name=username]`, "worker"),
			chromedp.SetValue(`input[name=password]`, "kangfu-demo"),
			chromedp.Submit(`input[name=password]`),
			chromedp.WaitVisible(`[data-testid=visit-form]`),
		); err != nil {
			t.Fatalf("sign in: %v", err)
		}
	}
	formPath := "/persons/" + person.ID + "/visits/new?kind=home"
	if err := chromedp.Do(tctx, chromedp.Navigate(base+"/login?next="+strings.ReplaceAll(formPath, "?", "%3F"))); err != nil {
		t.Fatal(err)
	}
	signIn()
	waitJS(t, tctx, "the page to show the person's name", fmt.Sprintf(`document.querySelector('[data-testid=visit-person]').textContent === %q`, person.Name))
	waitJS(t, tctx, "the phone's location", `document.body.dataset.located === '1' && document.querySelector('[name=lat]').value !== ''`)
	// Nothing wider than the phone: the form fits 360 px.
	if w, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 360 {
		t.Errorf("the form is %d px wide at a 360 px screen", w)
	}
	notes := fmt.Sprintf("母亲在家，本人在工厂上班，情绪稳定（浏览器测试 %d）", time.Now().UnixNano())
	if err := chromedp.Do(tctx,
		chromedp.SetValue(`[data-testid=visit-notes]`, notes),
		chromedp.SetValue(`[name=participant_name]`, "母亲"),
		chromedp.SetUploadFiles(`[data-testid=visit-photos]`, []string{photo}),
	); err != nil {
		t.Fatalf("fill the form: %v", err)
	}
	saveScreenshot(t, tctx, "visit-form-zh")

	// Offline: submitting keeps the record on the phone.
	offline(true)
	waitJS(t, tctx, "the page to see it is offline", `!navigator.onLine`)
	if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=visit-submit]`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tctx, "the record queued on the phone", `document.body.dataset.queue === '1' && document.body.dataset.visitStatus === 'queued'`)
	saveScreenshot(t, tctx, "visit-queued-zh")
	if n := countVisits(notes); n != 0 {
		t.Fatalf("the server has the record while the phone is offline: %d", n)
	}

	// The session ends while the phone is away (the cookie is gone); back
	// online, the send is refused with a redirect to sign-in: the record stays.
	if _, err := chromedp.Call(tctx, network.DeleteCookies, network.DeleteCookiesParams{Name: "kangfu_session", URL: base}); err != nil {
		t.Fatal(err)
	}
	offline(false)
	waitJS(t, tctx, "the page to ask to sign in", `document.body.dataset.visitStatus === 'signin' && document.body.dataset.queue === '1'`)
	saveScreenshot(t, tctx, "visit-signin-zh")
	if n := countVisits(notes); n != 0 {
		t.Fatalf("stored without a session: %d", n)
	}
	// Sign in from the prompt: back on the form, the queue is sent once.
	if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=visit-signin]`)); err != nil {
		t.Fatal(err)
	}
	signIn()
	waitJS(t, tctx, "the record sent", `document.body.dataset.queue === '0' && document.body.dataset.visitStatus === 'sent'`)
	saveScreenshot(t, tctx, "visit-sent-zh")
	if n := countVisits(notes); n != 1 {
		t.Fatalf("the server has the record %d times, want once", n)
	}
	// A reload flushes again: nothing left to send, still one record.
	if err := chromedp.Do(tctx, chromedp.Reload(), chromedp.WaitVisible(`[data-testid=visit-form]`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tctx, "the queue to be read", `document.body.dataset.visitQueueReady === '1' || document.body.dataset.queue === '0'`)
	if n := countVisits(notes); n != 1 {
		t.Fatalf("after a reload the server has the record %d times, want once", n)
	}
	// The same page in English at phone size.
	if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.WaitVisible(`[data-testid=visit-form]`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tctx, "the English page", `document.documentElement.lang === 'en'`)
	saveScreenshot(t, tctx, "visit-form-en")
}
