package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"kangfu/internal/facemodel"
)

// The face library loads its models and WebAssembly relative to its own
// URL (issue 17 item 4): every vendored file of it is served under one
// folder hash, and the layout hands that URL to face.js.
func TestFaceFilesServedUnderOneFolderHash(t *testing.T) {
	c, err := New(nil, nil, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	js := c.asset("vendor/human/human.js")
	base := strings.TrimSuffix(js, "human.js")
	want := map[string]string{
		"human.js":                         "text/javascript; charset=utf-8",
		"models/blazeface.json":            "application/json",
		"models/faceres.bin":               "",
		"models/antispoof.json":            "application/json",
		"models/liveness.bin":              "",
		"wasm/tfjs-backend-wasm-simd.wasm": "application/wasm",
		"wasm/tfjs-backend-wasm.wasm":      "application/wasm",
	}
	n := 0
	for name := range c.assets {
		if strings.HasPrefix(name, faceDir) {
			n++
			if got := c.asset(name); got != base+strings.TrimPrefix(name, faceDir) {
				t.Errorf("%s is served at %s, not under the library's folder %s", name, got, base)
			}
		}
	}
	if n < len(want) {
		t.Fatalf("%d face files vendored, want at least %d", n, len(want))
	}
	for file, ctype := range want {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", base+file, nil)
		parts := strings.SplitN(strings.TrimPrefix(base+file, "/static/"), "/", 2)
		r.SetPathValue("hash", parts[0])
		r.SetPathValue("file", parts[1])
		c.static(w, r)
		if w.Code != http.StatusOK || w.Body.Len() == 0 {
			t.Errorf("%s: status %d, %d bytes", base+file, w.Code, w.Body.Len())
			continue
		}
		if ctype != "" && !strings.HasPrefix(w.Header().Get("Content-Type"), strings.Split(ctype, ";")[0]) {
			t.Errorf("%s: Content-Type %q, want %q", file, w.Header().Get("Content-Type"), ctype)
		}
	}
	// Another file's hash does not open the library's files.
	r := httptest.NewRequest("GET", "/", nil)
	r.SetPathValue("hash", c.assets["app.js"])
	r.SetPathValue("file", "vendor/human/human.js")
	w := httptest.NewRecorder()
	c.static(w, r)
	if w.Code != http.StatusNotFound {
		t.Errorf("human.js under app.js's hash: %d, want 404", w.Code)
	}
}

// The console serves the same facecore.js as the app (package facemodel's
// one copy), under its own content hash, as JavaScript.
func TestFaceCoreServedFromFaceModel(t *testing.T) {
	c, err := New(nil, nil, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	u := c.asset("facecore.js")
	parts := strings.SplitN(strings.TrimPrefix(u, "/static/"), "/", 2)
	r := httptest.NewRequest("GET", u, nil)
	r.SetPathValue("hash", parts[0])
	r.SetPathValue("file", parts[1])
	w := httptest.NewRecorder()
	c.static(w, r)
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), facemodel.Core) || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
		t.Fatalf("%s: %d %q, %d bytes; want facemodel's facecore.js", u, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
	}
	r.SetPathValue("hash", "00000000")
	w = httptest.NewRecorder()
	c.static(w, r)
	if w.Code != http.StatusNotFound {
		t.Errorf("facecore.js under a wrong hash: %d, want 404", w.Code)
	}
}
