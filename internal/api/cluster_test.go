package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"kangfu/internal/api"
	"kangfu/internal/auth"
	"kangfu/internal/blob"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 16 §2 over HTTP: two API servers ("A" and "B", each with its own
// store handle on one database, both engines), one client address.
//   - a device retired through A is refused by B at once for anything that
//     changes something: a check-in (the writer's re-check) and a photo
//     upload (a fresh read of the device), though B had it cached;
//   - activation attempts from one address count on A and B together.
func TestAppAcrossServers(t *testing.T) {
	storetest.EachPair(t, time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, a, b *store.DB, _ *storetest.Clock) {
		sa := newAppSite(t, a)
		apiB := &api.API{DB: b, Auth: auth.NewService(b, auth.DefaultPolicy()), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Blobs: storetest.Must(blob.Open(t.TempDir()))}
		mux := http.NewServeMux()
		for _, rt := range apiB.Routes() {
			mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
		}
		sb := *sa
		sb.db, sb.mux, sb.srv = b, mux, httptest.NewServer(mux)
		t.Cleanup(sb.srv.Close)

		p, r := sa.activate("246813") // activation attempt 1
		if r.Status != 201 {
			t.Fatalf("activate on A: %d %s", r.Status, r.Raw)
		}
		var img bytes.Buffer
		jpeg.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
		sum := sha256.Sum256(img.Bytes())
		photo := map[string]string{"Authorization": "Bearer " + p.token, "X-Photo-SHA256": hex.EncodeToString(sum[:])}
		checkin := func(s *appSite) appResp {
			body, _ := json.Marshal(map[string]any{"id": uuid.NewString(), "taken_at": s.db.Now().Add(-time.Minute).Format(time.RFC3339),
				"lat": 18.25, "lng": 109.5, "accuracy_m": 12})
			return s.do("POST", "/api/v1/app/checkins", body, p.hdr(sign(p.key, body)))
		}
		if r := sb.do("GET", "/api/v1/app/today", nil, p.hdr("")); r.Status != 200 {
			t.Fatalf("today on B: %d %s", r.Status, r.Raw)
		}
		if r := checkin(&sb); r.Status != 201 {
			t.Fatalf("check-in on B: %d %s", r.Status, r.Raw)
		}
		if _, r := sa.activate("975318"); r.Status != 201 { // attempt 2; retires p's device
			t.Fatalf("second activation on A: %d %s", r.Status, r.Raw)
		}
		if r := checkin(&sb); r.Status != 401 || !strings.Contains(r.Raw, `"field":"device_retired"`) {
			t.Fatalf("check-in on B from the device retired on A: %d %s, want 401 device_retired at once", r.Status, r.Raw)
		}
		if r := sb.do("POST", "/api/v1/app/photos", img.Bytes(), photo); r.Status != 401 || !strings.Contains(r.Raw, `"field":"device_retired"`) {
			t.Fatalf("photo on B from the device retired on A: %d %s, want 401 device_retired at once", r.Status, r.Raw)
		}

		// Attempts 3–10 alternate between B and A (wrong codes: 400), the
		// 11th is refused on either.
		bad := []byte(`{"code":"ABCDEFGH","public_key":"x","pin":"246813"}`)
		jsonHdr := map[string]string{"Content-Type": "application/json"}
		for i := 3; i <= 10; i++ {
			s := &sb
			if i%2 == 0 {
				s = sa
			}
			if r := s.do("POST", "/api/v1/app/activate", bad, jsonHdr); r.Status != 400 {
				t.Fatalf("activation attempt %d: %d %s", i, r.Status, r.Raw)
			}
		}
		for _, s := range []*appSite{sa, &sb} {
			if r := s.do("POST", "/api/v1/app/activate", bad, jsonHdr); r.Status != 429 || !strings.Contains(r.Raw, "尝试次数过多") {
				t.Fatalf("11th activation attempt from one address: %d %s, want 429", r.Status, r.Raw)
			}
		}
	})
}
