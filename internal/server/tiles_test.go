package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTileOriginAndCSP (issue 18 §14): a tile server the operator sets is
// the only origin added to img-src; without one nothing outside is allowed.
func TestTileOriginAndCSP(t *testing.T) {
	for in, want := range map[string]string{
		"https://tiles.example.org/{z}/{x}/{y}.png":        "https://tiles.example.org",
		"https://{s}.tile.example.org/{z}/{x}/{y}.png":     "https://*.tile.example.org",
		"http://10.0.0.5:8081/osm/{z}/{x}/{y}.png?key=abc": "http://10.0.0.5:8081",
		"https://tiles.example.org/{z}/{x}/{y}{r}.png":     "https://tiles.example.org",
	} {
		if got, err := TileOrigin(in); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"https://tiles.example.org/tile.png", "ftp://tiles.example.org/{z}/{x}/{y}", "/{z}/{x}/{y}.png"} {
		if _, err := TileOrigin(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for tiles, want := range map[string]string{"": "img-src 'self' data: blob:;", "https://tiles.example.org": "img-src 'self' data: blob: https://tiles.example.org;"} {
		rec := httptest.NewRecorder()
		securityHeaders(tiles, ok, false).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, want) {
			t.Errorf("tiles %q: CSP %s", tiles, csp)
		}
	}
}
