package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"kangfu/internal/auth"
	"kangfu/internal/browsertest"
	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// openStoreAt opens the server's database beside it with a clock of its
// own (the test writes what the demo lacks: a check-in, an overdue leave).
func openStoreAt(t *testing.T, dataDir string, now func() time.Time) *store.DB {
	t.Helper()
	cfg, _, err := parse("serve", []string{"--data-dir", dataDir}, envFrom(map[string]string{}), io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := cfg.loadSecret(false)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := store.DeriveKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), cfg.DB, store.Options{Keys: keys, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestBrowserMapsAndOverdueBadgeAtPhoneSize (issue 18 §8, §14) at 360 px,
// in Chinese and in English, with no tile server configured: the county's
// geofence is drawn (SVG with its polygon and a scale), the check-in
// location page draws the area, the point and its accuracy circle and
// says the point is 1.1 km outside; no raw GeoJSON is visible; nothing
// is wider than the phone; and on the leave pages the "overdue" badge
// does not cover the dates.
func TestBrowserMapsAndOverdueBadgeAtPhoneSize(t *testing.T) {
	ctx := browsertest.New(t)
	dataDir := t.TempDir()
	base := startServer(t, dataDir)
	bg := context.Background()

	// The demo's street lead; two executing persons of the street.
	ls := openLeadStore(t, dataDir)
	persons, _, err := ls.db.ListPersons(bg, ls.lead, store.PersonFilter{Status: []casework.Status{casework.StatusExecuting}, Limit: 20})
	if err != nil || len(persons) < 2 {
		t.Fatalf("executing persons: %d, %v", len(persons), err)
	}
	var district string
	if err := ls.db.Read(bg, func(tx *store.Tx) error {
		return tx.QueryRow(bg, `SELECT id FROM orgs WHERE kind = 'county' AND name = '吉阳区'`).Scan(&district)
	}); err != nil {
		t.Fatalf("the demo's district: %v", err)
	}

	// A check-in 0.01° south of 吉阳区's southern edge (≈ 1.1 km outside).
	now := time.Now()
	db := openStoreAt(t, dataDir, func() time.Time { return now })
	ci := persons[0]
	code, _, err := db.CreateActivationCode(bg, ls.lead, ci.ID)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	_, hash := auth.NewToken()
	if _, _, err := db.Activate(bg, store.Activation{Code: code, PublicKey: base64.StdEncoding.EncodeToString(der), PINHash: "x", TokenHash: hash}); err != nil {
		t.Fatal(err)
	}
	dev, err := db.AppDeviceByToken(bg, hash)
	if err != nil {
		t.Fatal(err)
	}
	in := casework.CheckinInput{ID: uuid.NewString(), TakenAt: now.Add(-time.Minute).Format(time.RFC3339), Lat: 18.21, Lng: 109.5, AccuracyM: 35}
	c, _, err := db.IngestCheckin(bg, dev, in, []byte(in.ID), "sig")
	if err != nil {
		t.Fatal(err)
	}

	// A leave approved ten days ago for days 1–4 after: overdue today.
	then := now.Add(-10 * 24 * time.Hour)
	past := openStoreAt(t, dataDir, func() time.Time { return then })
	day := casework.DateOf(then, nil)
	lv, err := past.CreateLeave(bg, ls.lead, persons[1].ID, store.LeaveCreate{LeaveInput: casework.LeaveInput{Kind: casework.LeaveKindLeave,
		Province: "440000", City: "广州市", From: day.AddDays(1), To: day.AddDays(4), Reason: "探亲"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := past.StepLeave(bg, ls.lead, lv.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意"}); err != nil {
		t.Fatal(err)
	}

	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	err = chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 740),
		signIn(base, "office", `[data-testid=dashboard-title]`),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	noRawJSON := func(page string) {
		t.Helper()
		text, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range []string{"coordinates", `"type"`, "radius_m", "Polygon"} {
			if strings.Contains(text, raw) {
				t.Errorf("%s shows raw GeoJSON (%s):\n%.800s", page, raw, text)
			}
		}
		if w, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 360 {
			t.Errorf("%s is %d px wide at 360", page, w)
		}
	}
	// mapDrawn checks the SVG map is on screen with a fence shape of some
	// size and a scale, and returns the kinds of shape drawn.
	mapDrawn := func(page, scope string) {
		t.Helper()
		got, err := chromedp.Run(tctx, chromedp.Evaluate[map[string]float64](`(() => {
			const svg = document.querySelector('`+scope+` [data-testid=geomap-svg]');
			if (!svg) return {};
			const box = svg.getBoundingClientRect();
			const fence = svg.querySelector('.map-fence');
			const fb = fence ? fence.getBoundingClientRect() : {width: 0, height: 0};
			return {w: box.width, h: box.height, fw: fb.width, fh: fb.height,
				point: svg.querySelectorAll('.map-point').length, acc: svg.querySelectorAll('.map-acc').length,
				scale: svg.querySelector('[data-testid=geomap-scale] text') ? svg.querySelector('[data-testid=geomap-scale] text').textContent.length : 0};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if got["w"] < 250 || got["w"] > 340 || got["fw"] < 100 || got["fh"] < 60 || got["scale"] == 0 {
			t.Errorf("%s: map not drawn to size: %v", page, got)
		}
		if scope == "" && (got["point"] != 1 || got["acc"] != 1) {
			t.Errorf("%s: point and accuracy circle: %v", page, got)
		}
	}
	type dd struct{ Dates, Badge, Overlap int }
	badgeClear := func(page string) {
		t.Helper()
		got, err := chromedp.Run(tctx, chromedp.Evaluate[dd](`(() => {
			const hit = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
			const rects = el => { const r = document.createRange(); r.selectNodeContents(el); return [...r.getClientRects()]; };
			const badges = [...document.querySelectorAll('main .overdue-badge')];
			const dates = [...document.querySelectorAll('main .leave-dates')];
			let overlap = 0;
			for (const b of badges) {
				const bb = b.getBoundingClientRect();
				for (const d of dates) for (const r of rects(d)) if (hit(bb, r)) overlap++;
				// Nor may the badge run over its cell's label or out of the card.
				const td = b.closest('td');
				if (td) { const tb = td.getBoundingClientRect(); if (bb.right > tb.right + 0.5 || bb.left < tb.left + 0.5 * parseFloat(getComputedStyle(td).paddingLeft)) overlap++; }
			}
			return {Dates: dates.length, Badge: badges.length, Overlap: overlap};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if got.Badge == 0 || got.Dates == 0 || got.Overlap != 0 {
			t.Errorf("%s: %d overdue badges, %d dates, %d overlaps", page, got.Badge, got.Dates, got.Overlap)
		}
	}

	// Any red badge beside text in the same cell (the deemed refusal beside
	// the report deadline on the person page and the person list).
	badgesBesideText := func(page string) int {
		t.Helper()
		got, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`(() => {
			const hit = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
			const out = [];
			for (const b of document.querySelectorAll('main dd span.error, main td span.error')) {
				const bb = b.getBoundingClientRect();
				for (const n of b.parentElement.childNodes) {
					if (n === b || !n.textContent.trim()) continue;
					const r = document.createRange(); r.selectNodeContents(n);
					for (const rr of r.getClientRects()) if (hit(bb, rr)) out.push(n.textContent.trim() + ' / ' + b.innerText);
				}
			}
			return out;
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 0 {
			t.Errorf("%s: badges cover text: %q", page, got)
		}
		// On a phone a list row is a card with each cell's label beside
		// it: a label that wraps must not run out of its cell into the
		// next one (English labels are longer).
		spill, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('main td[data-label]')].filter(td => td.offsetParent &&
			parseFloat(getComputedStyle(td, '::before').height) > td.getBoundingClientRect().height + 0.5).map(td => td.dataset.label)`))
		if err != nil {
			t.Fatal(err)
		}
		if len(spill) > 0 {
			t.Errorf("%s: labels run out of their cells: %q", page, spill)
		}
		n, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('main dd span.error, main td span.error').length`))
		return n
	}
	var deng string
	if err := ls.db.Read(bg, func(tx *store.Tx) error {
		return tx.QueryRow(bg, `SELECT id FROM persons WHERE name LIKE '邓迁%'`).Scan(&deng)
	}); err != nil {
		t.Fatalf("the demo's 邓迁: %v", err)
	}

	for _, lang := range []string{"zh", "en"} {
		if lang == "en" {
			if err := chromedp.Do(tctx, chromedp.Click(`[data-testid=lang-switch]`), chromedp.WaitReady(`html[lang=en]`)); err != nil {
				t.Fatal(err)
			}
		}
		// The district's geofence.
		if err := chromedp.Do(tctx, chromedp.Navigate(base+"/orgs/"+district), chromedp.WaitVisible(`main h1`)); err != nil {
			t.Fatalf("%s org page: %v", lang, err)
		}
		if ok, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`!!document.querySelector('[data-testid=geomap-svg]')`)); !ok {
			text, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s org page has no map:\n%.1500s", lang, text)
		}
		mapDrawn(lang+" org", "[data-testid=org-geofence]")
		noRawJSON(lang + " org")
		saveScreenshot(t, tctx, "maps-org-"+lang)

		// The check-in's location.
		if err := chromedp.Do(tctx, chromedp.Navigate(base+"/checkins/"+c.ID+"/point"), chromedp.WaitVisible(`main h1`)); err != nil {
			t.Fatalf("%s point page: %v", lang, err)
		}
		mapDrawn(lang+" check-in", "")
		// Around the point: the accuracy circle and the line to the
		// nearest edge at a scale where they show.
		near, _ := chromedp.Run(tctx, chromedp.Evaluate[map[string]float64](`(() => {
			const n = document.querySelector('[data-testid=geomap-near]');
			if (!n) return {};
			const l = n.querySelector('[data-testid=geomap-link]'), a = n.querySelector('.map-acc');
			return {link: l ? l.getBoundingClientRect().height : 0, acc: a ? a.getBoundingClientRect().width : 0};
		})()`))
		if near["link"] < 20 || near["acc"] < 5 {
			t.Errorf("%s: the map around the point: %v", lang, near)
		}
		noRawJSON(lang + " check-in")
		want := map[string]string{"zh": "在范围外 1.1 公里", "en": "outside by 1.1 km"}[lang]
		if d, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=checkin-distance]`)); !strings.Contains(d, want) {
			t.Errorf("%s distance %q, want %q", lang, d, want)
		}
		if h, _ := chromedp.Run(tctx, chromedp.Text(`[data-testid=head-name]`)); strings.TrimSpace(h) != ci.Name {
			t.Errorf("%s point page names %q, want %q", lang, h, ci.Name)
		}
		saveScreenshot(t, tctx, "maps-checkin-"+lang)

		// The overdue badge beside the dates: the queue, the person's
		// leave and the leave itself.
		for _, p := range []struct{ path, wait, name string }{
			{"/leave?state=overdue", "[data-testid=leave-list]", "queue"},
			{"/persons/" + persons[1].ID + "/leave", "[data-testid=person-leave-list]", "person"},
			{"/leave/" + lv.ID, "[data-testid=leave-detail]", "view"},
		} {
			if err := chromedp.Do(tctx, chromedp.Navigate(base+p.path), chromedp.WaitVisible(p.wait)); err != nil {
				t.Fatalf("%s %s: %v", lang, p.path, err)
			}
			badgeClear(lang + " " + p.path)
			badgesBesideText(lang + " " + p.path)
			saveElement(t, tctx, p.wait, "maps-overdue-"+p.name+"-"+lang)
		}
		// The deemed refusal (an overdue report-in) beside the report
		// deadline on the file and in the list.
		if err := chromedp.Do(tctx, chromedp.Navigate(base+"/persons/"+deng), chromedp.WaitVisible(`[data-testid=measure-in-force]`)); err != nil {
			t.Fatalf("%s 邓迁's file: %v", lang, err)
		}
		if n := badgesBesideText(lang + " 邓迁's file"); n == 0 {
			t.Errorf("%s: 邓迁's file shows no overdue badge", lang)
		}
		saveElement(t, tctx, `[data-testid=measure-in-force]`, "maps-overdue-file-"+lang)
		if err := chromedp.Do(tctx, chromedp.Navigate(base+"/persons?q=%E9%82%93%E8%BF%81"), chromedp.WaitVisible(`[data-testid=person-list]`)); err != nil {
			t.Fatalf("%s person list: %v", lang, err)
		}
		badgesBesideText(lang + " person list")
		saveElement(t, tctx, `[data-testid=person-list]`, "maps-overdue-list-"+lang)
	}
}

// saveElement writes a PNG of one element when KANGFU_SCREENSHOT_DIR is set.
func saveElement(t *testing.T, ctx context.Context, sel, name string) {
	dir := os.Getenv("KANGFU_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.Screenshot(sel))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// TestBrowserMapTilesFromTheOperatorsServer (issue 18 §14): with
// KANGFU_MAP_TILES set, the vendored Leaflet draws the geofence over the
// operator's tiles (allowed by the CSP's img-src), shows the attribution,
// and the SVG drawing steps aside; Leaflet's images resolve beside its
// stylesheet.
func TestBrowserMapTilesFromTheOperatorsServer(t *testing.T) {
	ctx := browsertest.New(t)
	var tiles atomic.Int64
	var tile bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	draw.Draw(img, img.Bounds(), &image.Uniform{color.RGBA{0xe8, 0xf0, 0xe0, 0xff}}, image.Point{}, draw.Src)
	png.Encode(&tile, img)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tiles.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write(tile.Bytes())
	}))
	defer ts.Close()
	dataDir := t.TempDir()
	base := startServerEnv(t, dataDir, map[string]string{"KANGFU_MAP_TILES": ts.URL + "/{z}/{x}/{y}.png", "KANGFU_MAP_ATTRIBUTION": "Test tiles © Kangfu"})
	ls := openLeadStore(t, dataDir)
	var district string
	if err := ls.db.Read(context.Background(), func(tx *store.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT id FROM orgs WHERE kind = 'county' AND name = '吉阳区'`).Scan(&district)
	}); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	err := chromedp.Do(tctx,
		chromedp.EmulateViewport(360, 740),
		signIn(base, "office", `[data-testid=dashboard-title]`),
		chromedp.Navigate(base+"/orgs/"+district),
		chromedp.WaitVisible(`main h1`),
	)
	if err != nil {
		t.Fatalf("the org page: %v", err)
	}
	waitJS(t, tctx, "Leaflet's tiles and the fence", `document.querySelectorAll('[data-testid=geomap-leaflet] img.leaflet-tile-loaded').length > 0 &&
		!!document.querySelector('[data-testid=geomap-leaflet] path.leaflet-interactive')`)
	got, err := chromedp.Run(tctx, chromedp.Evaluate[map[string]any](`(() => ({
		svgShown: getComputedStyle(document.querySelector('[data-testid=geomap-svg]')).display !== 'none',
		fence: document.querySelector('[data-testid=geomap-leaflet] path.leaflet-interactive').getBoundingClientRect().width,
		attribution: (document.querySelector('.leaflet-control-attribution') || {}).innerText || '',
		height: document.querySelector('[data-testid=geomap-leaflet]').getBoundingClientRect().height,
		css: document.querySelector('link[href*="vendor/leaflet/leaflet.css"]').getAttribute('href'),
	}))()`))
	if err != nil {
		t.Fatal(err)
	}
	if got["svgShown"] != false || !strings.Contains(got["attribution"].(string), "Test tiles © Kangfu") || got["height"].(float64) < 200 || got["fence"].(float64) < 100 || tiles.Load() == 0 {
		t.Fatalf("tiled map: %v, %d tiles fetched", got, tiles.Load())
	}
	saveScreenshot(t, tctx, "maps-org-tiles")
	css := got["css"].(string)
	resp, err := http.Get(base + strings.TrimSuffix(css, "leaflet.css") + "images/layers.png")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Leaflet's image beside its stylesheet: %d", resp.StatusCode)
	}
}
