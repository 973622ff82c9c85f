package app

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"kangfu/internal/facemodel"
)

func get(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	for _, rt := range Routes() {
		mux.Handle(rt.Key(), rt.Handler)
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w
}

func TestFilesServed(t *testing.T) {
	tests := []struct {
		path, ctype string
		status      int
	}{
		{"/app/", "text/html; charset=utf-8", 200},
		{"/app/index.html", "text/html; charset=utf-8", 200},
		{"/app/app.js", "text/javascript; charset=utf-8", 200},
		{"/app/i18n.js", "text/javascript; charset=utf-8", 200},
		{"/app/challenge.js", "text/javascript; charset=utf-8", 200},
		{"/app/sw.js", "text/javascript; charset=utf-8", 200},
		{"/app/app.css", "text/css; charset=utf-8", 200},
		{"/app/manifest.webmanifest", "application/manifest+json", 200},
		{"/app/icon-192.png", "image/png", 200},
		{"/app/icon-512.png", "image/png", 200},
		{"/app/provinces.json", "application/json", 200},
		{"/app/vendor/uuid/v7.js", "text/javascript; charset=utf-8", 200},
		{"/app/vendor/uuid/LICENSE.txt", "text/plain; charset=utf-8", 200},
		{"/app/facecore.js", "text/javascript; charset=utf-8", 200},
		{"/app/vendor/human/human.js", "text/javascript; charset=utf-8", 200},
		{"/app/vendor/human/models/faceres.json", "application/json", 200},
		{"/app/vendor/human/models/faceres.bin", "application/octet-stream", 200},
		{"/app/vendor/human/wasm/tfjs-backend-wasm-simd.wasm", "application/wasm", 200},
		{"/app/vendor/human/LICENSE.txt", "text/plain; charset=utf-8", 200},
		{"/app/nothing.js", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := get(t, tt.path)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if tt.status == 200 && w.Header().Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", w.Header().Get("Content-Type"), tt.ctype)
			}
		})
	}
}

// The CSP is strict (script-src 'self'; style-src 'self'): no inline
// script, no inline style, no style= attributes, no on…= handlers.
func TestNoInlineScriptOrStyle(t *testing.T) {
	html := string(files["index.html"].body)
	for _, re := range []string{`<style`, `\sstyle=`, `\son[a-z]+=`, `javascript:`} {
		if m := regexp.MustCompile(re).FindString(html); m != "" {
			t.Errorf("index.html has %q (the CSP forbids it)", m)
		}
	}
	tags := regexp.MustCompile(`<script[^>]*>([^<]*)</script>`).FindAllStringSubmatch(html, -1)
	if len(tags) != 4 {
		t.Fatalf("want 4 script tags (i18n.js, facecore.js, app.js, challenge.js), found %d", len(tags))
	}
	for _, tag := range tags {
		if !strings.Contains(tag[0], ` src="/app/`) || strings.TrimSpace(tag[1]) != "" {
			t.Errorf("inline or foreign script: %s", tag[0])
		}
	}
}

// Every word the app uses exists in both languages, and the two catalogs
// have the same keys.
func TestWordsComplete(t *testing.T) {
	src := string(files["i18n.js"].body)
	zhStart, enStart := strings.Index(src, "zh: {"), strings.Index(src, "en: {")
	if zhStart < 0 || enStart < 0 {
		t.Fatal("i18n.js has no zh or en catalog")
	}
	keyRE := regexp.MustCompile(`(?m)^\s+([a-z_]+): '`)
	keys := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, k := range keyRE.FindAllStringSubmatch(s, -1) {
			m[k[1]] = true
		}
		return m
	}
	zh, en := keys(src[zhStart:enStart]), keys(src[enStart:])
	if len(zh) < 50 {
		t.Fatalf("only %d zh keys found", len(zh))
	}
	for k := range zh {
		if !en[k] {
			t.Errorf("key %q has no English", k)
		}
	}
	for k := range en {
		if !zh[k] {
			t.Errorf("key %q has no Chinese", k)
		}
	}
	var used []string
	for _, m := range regexp.MustCompile(`data-i18n="([a-z_]+)"`).FindAllStringSubmatch(string(files["index.html"].body), -1) {
		used = append(used, m[1])
	}
	for _, m := range regexp.MustCompile(`\bt\('([a-z_]+)'`).FindAllStringSubmatch(string(files["app.js"].body), -1) {
		if !strings.HasSuffix(m[1], "_") { // a prefix: the full keys are listed below
			used = append(used, m[1])
		}
	}
	// Keys made from a prefix and a value: every record state and leave state.
	for _, s := range []string{"sent", "queued", "failed"} {
		used = append(used, "st_"+s)
	}
	for _, s := range []string{"draft", "pending", "approved", "rejected", "withdrawn", "extension_requested", "return_pending", "returned", "overdue"} {
		used = append(used, "ls_"+s)
	}
	sort.Strings(used)
	for _, k := range used {
		if !zh[k] || !en[k] {
			t.Errorf("key %q is used but missing from a catalog", k)
		}
	}
}

// The manifest makes the app installable: its icons are served PNGs of
// the stated size; the service worker's shell lists only served files.
func TestManifestAndShell(t *testing.T) {
	var m struct {
		StartURL string `json:"start_url"`
		Scope    string `json:"scope"`
		Display  string `json:"display"`
		Icons    []struct{ Src, Sizes string }
	}
	if err := json.Unmarshal(files["manifest.webmanifest"].body, &m); err != nil {
		t.Fatal(err)
	}
	if m.StartURL != "/app/" || m.Scope != "/app/" || m.Display != "standalone" || len(m.Icons) < 2 {
		t.Fatalf("manifest %+v", m)
	}
	for _, ic := range m.Icons {
		w := get(t, ic.Src)
		img, err := png.Decode(bytes.NewReader(w.Body.Bytes()))
		if err != nil {
			t.Fatalf("%s: %v", ic.Src, err)
		}
		if b := img.Bounds(); ic.Sizes != strconv.Itoa(b.Dx())+"x"+strconv.Itoa(b.Dy()) {
			t.Errorf("%s is %v, manifest says %s", ic.Src, b, ic.Sizes)
		}
	}
	sw := string(files["sw.js"].body)
	for _, p := range regexp.MustCompile(`'(/app/[^']*)'`).FindAllStringSubmatch(sw, -1) {
		if p[1] == "/app/index.html" || (p[1] != "/app/" && strings.HasSuffix(p[1], "/")) {
			continue // index.html is keyed as /app/; a folder is a prefix, not a file
		}
		if w := get(t, p[1]); w.Code != 200 {
			t.Errorf("the service worker caches %s, which answers %d", p[1], w.Code)
		}
	}
}

// The face check works offline (issue 17 item 2): the service worker's
// face cache lists every vendored library, model and WebAssembly file the
// face check loads, and nothing that is not served.
func TestServiceWorkerCachesTheFaceModels(t *testing.T) {
	sw := string(files["sw.js"].body)
	start, end := strings.Index(sw, "const FACE = ["), strings.Index(sw, "];\n\nself.addEventListener('install'")
	if start < 0 || end < start {
		t.Fatal("sw.js has no FACE list")
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`'(/app/vendor/human/[^']+)'`).FindAllStringSubmatch(sw[start:end], -1) {
		listed[m[1]] = true
	}
	var want []string
	lib, err := facemodel.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range lib.Names {
		if !strings.HasSuffix(name, ".txt") {
			want = append(want, "/app/"+facemodel.Dir+name)
		}
	}
	if len(want) < 13 {
		t.Fatalf("only %d vendored face files: %v", len(want), want)
	}
	for _, p := range want {
		if !listed[p] {
			t.Errorf("sw.js does not cache %s", p)
		}
		delete(listed, p)
	}
	for p := range listed {
		t.Errorf("sw.js caches %s, which is not vendored", p)
	}
	for _, m := range []string{"blazeface", "facemesh", "faceres", "antispoof", "liveness"} {
		if !strings.Contains(string(files["facecore.js"].body), "'"+m+".json'") {
			t.Errorf("facecore.js does not name the %s model", m)
		}
	}
}

// The app and the console run the same face code, so the console's
// recomputation of a phone's score uses the same settings (issue 17 item 4):
// the app serves the one copy kept in package facemodel.
func TestFaceCoreSameInAppAndConsole(t *testing.T) {
	if !bytes.Equal(facemodel.Core, files["facecore.js"].body) || len(facemodel.Core) == 0 {
		t.Fatal("the app does not serve facemodel's facecore.js")
	}
}
