package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kangfu/internal/browsertest"
)

// TestBrowserPersonPageFieldErrorsAtPhoneSize (issue 18 item 9): on the
// person page at 360 px a worker saves the profile with a bad phone number
// and over-long health notes; the page comes back with both messages, each
// beside its field and named by the field's aria-describedby, the summary
// above, the phone typed kept, and nothing wider than the screen — in
// Chinese and in English.
func TestBrowserPersonPageFieldErrorsAtPhoneSize(t *testing.T) {
	base := startServer(t, t.TempDir())
	ctx := browsertest.New(t)
	tctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 640),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, "worker"),
		chromedp.SendKeys(`input[name=password]`, "kangfu-demo"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`[data-testid=dashboard-title]`),
		chromedp.Navigate(base+"/persons"),
		chromedp.WaitVisible(`[data-testid=person-list]`),
		chromedp.Click(`[data-testid=person-list] tbody tr:first-child a`),
		chromedp.WaitVisible(`[data-testid=person-name]`),
	)
	if err != nil {
		t.Fatalf("open a file: %v", err)
	}
	fileURL, _ := chromedp.Run(tctx, chromedp.Location())
	nameLine, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=person-name]`))
	name := strings.Fields(nameLine)[0]

	for _, c := range []struct{ lang, phone, notes string }{
		{"zh", "电话", "2000"},
		{"en", "phone", "2000"},
	} {
		if c.lang == "en" {
			if err := chromedp.Do(tctx, chromedp.Navigate(fileURL), chromedp.WaitVisible(`[data-testid=lang-switch]`),
				chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`), chromedp.WaitVisible(`[data-testid=person-name]`)); err != nil {
				t.Fatal(err)
			}
		}
		// The form is sent as typed (the browser's own checks would stop a
		// form with a required field left empty; these two pass them).
		if err := chromedp.Do(tctx, chromedp.Navigate(fileURL), chromedp.WaitVisible(`[data-testid=person-name]`)); err != nil {
			t.Fatal(err)
		}
		_, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`(() => {
				const f = document.querySelector('form[action="'+location.pathname+'"]');
				f.closest('details').open = true;
				f.querySelector('[name=phone]').value = '12345';
				f.querySelector('[name=health_notes]').value = '病'.repeat(2001);
				HTMLFormElement.prototype.submit.call(f);
				return true;
			})()`))
		if err == nil {
			err = chromedp.Do(tctx, chromedp.WaitVisible(`#err-health_notes`))
		}
		if err != nil {
			t.Fatalf("%s: send the profile: %v", c.lang, err)
		}
		for field, words := range map[string]string{"phone": c.phone, "health_notes": c.notes} {
			js := `(() => { const i = document.querySelector('[name=` + field + `][aria-describedby]');
				const m = i && document.getElementById(i.getAttribute('aria-describedby'));
				if (!m) return '';
				const a = i.getBoundingClientRect(), b = m.getBoundingClientRect();
				return (b.top >= a.top - 1 && b.top - a.bottom < 60 && b.right <= window.innerWidth + 1 ? 'beside:' : 'far:') + m.innerText; })()`
			got, err := chromedp.Run(tctx, chromedp.Evaluate[string](js))
			if err != nil || !strings.HasPrefix(got, "beside:") || !strings.Contains(got, words) {
				t.Errorf("%s: the %s message: %q (%v), want it beside the field with %q", c.lang, field, got, err, words)
			}
		}
		kept, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('[name=phone][aria-invalid]').value`))
		if kept != "12345" {
			t.Errorf("%s: the typed phone is lost: %q", c.lang, kept)
		}
		items, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=form-errors] li').length`))
		if items != 2 {
			t.Errorf("%s: the summary lists %d problems, want 2", c.lang, items)
		}
		if title, _ := chromedp.Run(tctx, chromedp.Title()); !strings.Contains(title, name) {
			t.Errorf("%s: the title %q does not name %s", c.lang, title, name)
		}
		wide, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if wide {
			t.Errorf("%s: the page scrolls sideways at 360 px", c.lang)
		}
		saveScreenshot(t, tctx, "person-field-errors-"+c.lang)
		if dir := os.Getenv("KANGFU_SCREENSHOT_DIR"); dir != "" {
			png, err := chromedp.Run(tctx, chromedp.Screenshot(`details[open]`))
			if err == nil {
				os.MkdirAll(dir, 0o755)
				os.WriteFile(filepath.Join(dir, "person-edit-errors-"+c.lang+".png"), png, 0o644)
			}
		}
	}
}
