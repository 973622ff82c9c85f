package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kangfu/internal/browsertest"
)

// bgAPI calls the API with a bearer token and decodes the answer into out.
func bgAPI(t *testing.T, base, token, method, path, body string, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func bgToken(t *testing.T, base, user string) string {
	t.Helper()
	var login struct {
		Token string `json:"token"`
	}
	bgAPI(t, base, "", "POST", "/api/v1/auth/login", `{"username":"`+user+`","password":"kangfu-demo"}`, &login)
	return login.Token
}

// TestBrowserBreakGlass (issue 15, PRODUCT §1, R36): a police officer of
// another district opens a demo file: not found, with the offer of
// emergency access; asks with a reason; reads the file with the banner.
// The street lead holding the file sees the access on the file and in the
// review list. At phone width, in Chinese and in English.
func TestBrowserBreakGlass(t *testing.T) {
	ctx := browsertest.New(t)
	dir := t.TempDir()
	base := startServer(t, dir)

	// Another district with a police officer (the demo's staff are all in 吉阳区).
	admin := bgToken(t, base, "admin")
	var orgs struct {
		Items []struct{ ID, Name, Kind string } `json:"items"`
	}
	bgAPI(t, base, admin, "GET", "/api/v1/orgs", "", &orgs)
	city := ""
	for _, o := range orgs.Items {
		if o.Kind == "city" {
			city = o.ID
		}
	}
	var county, street struct{ ID string }
	bgAPI(t, base, admin, "POST", "/api/v1/orgs", `{"parent_id":"`+city+`","kind":"county","name":"天涯区（示例）"}`, &county)
	bgAPI(t, base, admin, "POST", "/api/v1/orgs", `{"parent_id":"`+county.ID+`","kind":"township","name":"海坡街道（示例）"}`, &street)
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"user", "add", "--data-dir", dir, "--username", "police_ty", "--name", "吴警官（天涯区）",
		"--org", street.ID, "--role", "police"}, envFrom(map[string]string{"KANGFU_NEW_PASSWORD": "kangfu-demo"}), &out, &errb); err != nil {
		t.Fatalf("user add: %v\n%s", err, errb.String())
	}
	var persons struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	bgAPI(t, base, bgToken(t, base, "lead"), "GET", "/api/v1/persons", "", &persons)
	if len(persons.Items) == 0 {
		t.Fatal("no demo persons")
	}
	pid, pname := persons.Items[0].ID, persons.Items[0].Name

	tctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	signIn := func(user string) error {
		return chromedp.Do(tctx,
			signIn(base, user, `[data-testid=dashboard-title]`),
		)
	}
	if err := signIn("police_ty"); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(base+"/persons/"+pid),
		chromedp.WaitVisible(`[data-testid=breakglass-offer]`),
	)
	if err != nil {
		t.Fatalf("the file from another district: %v", err)
	}
	saveScreenshot(t, tctx, "breakglass-offer-zh")
	err = chromedp.Do(tctx,
		chromedp.Click(`[data-testid=breakglass-offer] a`),
		chromedp.WaitVisible(`[data-testid=breakglass-form]`),
		chromedp.SendKeys(`textarea[name=reason]`, "辖区发生警情，当事人自称在吉阳区社区戒毒，需核实身份与紧急联系人"),
	)
	if err != nil {
		t.Fatalf("the form: %v", err)
	}
	saveScreenshot(t, tctx, "breakglass-form-zh")
	err = chromedp.Do(tctx,
		chromedp.Submit(`textarea[name=reason]`),
		chromedp.WaitVisible(`[data-testid=breakglass-mine] .bg-item a.button`),
		chromedp.Click(`[data-testid=breakglass-mine] .bg-item a.button`),
		chromedp.WaitVisible(`[data-testid=breakglass-banner]`),
	)
	if err != nil {
		t.Fatalf("request and open: %v", err)
	}
	name, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=person-name]`))
	banner, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=breakglass-banner]`))
	if !strings.Contains(name, pname) || !strings.Contains(banner, "紧急查阅") {
		t.Fatalf("the file under the grant: name %q, banner %q", name, banner)
	}
	saveScreenshot(t, tctx, "breakglass-person-requester-zh")
	err = chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.WaitVisible(`[data-testid=breakglass-banner]`))
	banner, _ = chromedp.Run(tctx, chromedp.Text(`[data-testid=breakglass-banner]`))
	if err != nil || !strings.Contains(banner, "emergency access") {
		t.Fatalf("English banner %q, %v", banner, err)
	}
	saveScreenshot(t, tctx, "breakglass-person-requester-en")

	// The street lead holding the file (the language stays English).
	if err := chromedp.Do(tctx, chromedp.Click(`form[action="/logout"] button`), chromedp.WaitVisible(`input[name=username]`)); err != nil {
		t.Fatal(err)
	}
	if err := signIn("lead"); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(tctx,
		chromedp.Navigate(base+"/persons/"+pid+"#break-glass"),
		chromedp.WaitVisible(`[data-testid=breakglass-section]`),
		chromedp.ScrollIntoView(`[data-testid=breakglass-section]`),
	)
	section, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=breakglass-section]`))
	if err != nil || !strings.Contains(section, "吴警官") || !strings.Contains(section, "海坡街道") || !strings.Contains(section, "active") {
		t.Fatalf("the lead's file section %q, %v", section, err)
	}
	saveScreenshot(t, tctx, "breakglass-person-holder-en")
	err = chromedp.Do(tctx, chromedp.Navigate(base+"/break-glass/reviews"), chromedp.WaitVisible(`[data-testid=breakglass-reviews]`))
	list, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=breakglass-reviews]`))
	if err != nil || !strings.Contains(list, pname) || !strings.Contains(list, "active") {
		t.Fatalf("review list %q, %v", list, err)
	}
	saveScreenshot(t, tctx, "breakglass-reviews-en")
	err = chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=zh-CN]`), chromedp.WaitVisible(`[data-testid=breakglass-reviews]`))
	list, _ = chromedp.Run(tctx, chromedp.Text(`[data-testid=breakglass-reviews]`))
	if err != nil || !strings.Contains(list, "有效") {
		t.Fatalf("Chinese review list %q, %v", list, err)
	}
	saveScreenshot(t, tctx, "breakglass-reviews-zh")
	err = chromedp.Do(tctx, chromedp.Navigate(base+"/persons/"+pid+"#break-glass"), chromedp.WaitVisible(`[data-testid=breakglass-section]`),
		chromedp.ScrollIntoView(`[data-testid=breakglass-section]`))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, tctx, "breakglass-person-holder-zh")
}
