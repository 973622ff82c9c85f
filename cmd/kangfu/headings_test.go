package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserPersonSubPagesSayWhoseFile opens every sub-page of a person's
// file as a worker on a phone (360 px), in Chinese and in English, and checks
// that each says whose file it is: the name in the title and the heading, the
// masked ID number and the status, and a link back to the file (issue 18 §6:
// a worker must never record a urine test on the wrong person).
func TestBrowserPersonSubPagesSayWhoseFile(t *testing.T) {
	base, tctx := consoleBrowser(t, 120*time.Second)
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 640),
		signIn(base, "worker", `[data-testid=dashboard-title]`),
		openFirstFile(base),
	)
	if err != nil {
		t.Fatalf("open a file: %v", err)
	}
	fileURL, _ := chromedp.Run(tctx, chromedp.Location())
	nameLine, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=person-name]`))
	status, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=person-status]`))
	name := strings.Fields(nameLine)[0]
	if name == "" || strings.TrimSpace(status) == "" {
		t.Fatalf("file heading %q, status %q", nameLine, status)
	}
	masked := regexp.MustCompile(`^460203\*{8}\d{3}[\dX]$`)
	subPages := []string{"tests", "schedule", "leave", "messages", "checkins", "violations", "documents", "app"}
	for _, lang := range []string{"zh", "en"} {
		if lang == "en" {
			if err := chromedp.Do(tctx, chromedp.Navigate(fileURL), chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`)); err != nil {
				t.Fatal(err)
			}
			status, _ = chromedp.Run(tctx, chromedp.Text(`[data-testid=person-status]`))
		}
		for _, sub := range subPages {
			if err := chromedp.Do(tctx, chromedp.Navigate(fileURL+"/"+sub), chromedp.WaitVisible(`[data-testid=person-head]`)); err != nil {
				t.Fatalf("%s (%s): no person heading: %v", sub, lang, err)
			}
			title, _ := chromedp.Run(tctx, chromedp.Title())
			h1, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=head-name]`))
			back, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=person-head-back]`))
			st, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=person-head-status]`))
			id, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=person-head] code`))
			href, _ := chromedp.Run(tctx, chromedp.AttributeValue(`[data-testid=person-head-back]`, "href"))
			switch {
			case !strings.Contains(title, name):
				t.Errorf("%s (%s): title %q lacks the name %q", sub, lang, title, name)
			case strings.TrimSpace(h1) != name:
				t.Errorf("%s (%s): heading names %q, want %q", sub, lang, h1, name)
			case !strings.Contains(back, name) || !strings.HasSuffix(fileURL, href.Value):
				t.Errorf("%s (%s): link back %q → %q, want the file %s", sub, lang, back, href.Value, fileURL)
			case strings.TrimSpace(st) != strings.TrimSpace(status):
				t.Errorf("%s (%s): status %q, the file says %q", sub, lang, st, status)
			case !masked.MatchString(strings.TrimSpace(id)):
				t.Errorf("%s (%s): ID number shown as %q, want it masked", sub, lang, id)
			}
			if sub == "tests" {
				checkStaffBoxesBesideNames(t, tctx, lang)
				saveScreenshot(t, tctx, "person-tests-"+lang)
			}
		}
	}
}

// checkStaffBoxesBesideNames (issue 18 item 10): on the test form each
// staff-present checkbox sits on the line of its name, just before it.
func checkStaffBoxesBesideNames(t *testing.T, tctx context.Context, lang string) {
	t.Helper()
	got, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input[name=staff_ids]')].map((i) => {
		const text = i.nextSibling, r = document.createRange();
		r.selectNodeContents(text);
		const n = r.getClientRects()[0], b = i.getBoundingClientRect();
		const ok = n && n.left >= b.right - 1 && n.left - b.right < 24 && n.top < b.bottom && n.bottom > b.top;
		return (ok ? 'beside:' : 'apart:') + text.textContent.trim();
	})`))
	if err != nil || len(got) < 2 {
		t.Fatalf("%s: the test form's staff boxes: %v %v", lang, got, err)
	}
	for _, g := range got {
		if !strings.HasPrefix(g, "beside:") || len(g) == len("beside:") {
			t.Errorf("%s: a staff box is not beside its name: %q", lang, g)
		}
	}
}
