package server_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"kangfu/internal/auth"
	"kangfu/internal/server"
	"kangfu/internal/store/storetest"
)

// TestServerIDHeader: with a ServerID every response, an error page and a
// refused API call included, says which server answered (X-Kangfu-Server),
// so a balancer's routing can be seen (issue 16 §5); without one, no header.
func TestServerIDHeader(t *testing.T) {
	db := storetest.Open(t, storetest.Engines(t)[0], nil)
	for _, id := range []string{"kangfu-a", ""} {
		srv, err := server.New(db, auth.NewService(db, auth.DefaultPolicy()), slog.New(slog.DiscardHandler), server.Options{ServerID: id})
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/healthz", "/readyz", "/api/v1/me", "/no-such-page"} {
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if got := rec.Header().Get("X-Kangfu-Server"); got != id {
				t.Errorf("ServerID %q: GET %s (%d): X-Kangfu-Server %q", id, path, rec.Code, got)
			}
		}
	}
}
