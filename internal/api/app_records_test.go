package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 4 §3 "my records" over HTTP: the person's own check-ins of a month
// with verdict labels in the asked language and the month's duty. A fixed
// clock inside the window and a photo: only an ok check-in counts as done
// (issue 18 §2), whenever the test runs.
func TestAppRecordsHTTP(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newAppSite(t, db)
		p, r := s.activate("246813")
		if r.Status != 201 {
			t.Fatalf("activate: %d %s", r.Status, r.Raw)
		}
		now := db.Now()
		// The selfie is uploaded first: a made-up hash does not count (issue 15 §2).
		var img bytes.Buffer
		jpeg.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
		sum := sha256.Sum256(img.Bytes())
		photo := hex.EncodeToString(sum[:])
		if r := s.do("POST", "/api/v1/app/photos", img.Bytes(), map[string]string{"Authorization": "Bearer " + p.token, "X-Photo-SHA256": photo}); r.Status/100 != 2 {
			t.Fatalf("photo: %d %s", r.Status, r.Raw)
		}
		in := map[string]any{"id": uuid.NewString(), "taken_at": now.Add(-time.Minute).Format(time.RFC3339), "lat": 18.25, "lng": 109.5, "accuracy_m": 12,
			"photo_sha256": photo}
		body, _ := json.Marshal(in)
		if r := s.do("POST", "/api/v1/app/checkins", body, p.hdr(sign(p.key, body))); r.Status != 201 {
			t.Fatalf("check-in: %d %s", r.Status, r.Raw)
		}
		today := casework.DateOf(now, nil)
		month := today.String()[:7]
		h := p.hdr("")
		h["Accept-Language"] = "en"
		for _, path := range []string{"/api/v1/app/checkins", "/api/v1/app/checkins?month=" + month} {
			r := s.do("GET", path, nil, h)
			if r.Status != 200 || r.Body["month"] != month || r.Body["today"] != today.String() {
				t.Fatalf("%s: %d %s", path, r.Status, r.Raw)
			}
			cs, _ := r.Body["checkins"].([]any)
			if len(cs) != 1 || cs[0].(map[string]any)["id"] != in["id"] || cs[0].(map[string]any)["verdict_label"] == "" {
				t.Fatalf("%s check-ins: %s", path, r.Raw)
			}
			duty := r.Body["duty"].(map[string]any)
			if duty["done"] != 1.0 || duty["due"].(float64) < 1 || duty["missed"].(float64) != duty["due"].(float64)-1 {
				t.Fatalf("%s duty: %s", path, r.Raw)
			}
			if strings.Contains(r.Raw, "18.25") || !strings.Contains(r.Raw, `"leaves":[]`) || !strings.Contains(r.Raw, `"tests":[]`) {
				t.Fatalf("%s: no location, empty lists as []: %s", path, r.Raw)
			}
		}
		last := casework.NewDate(today.Year, today.Month-1, 1).String()[:7]
		if r := s.do("GET", "/api/v1/app/checkins?month="+last, nil, h); r.Status != 200 || !strings.Contains(r.Raw, `"checkins":[]`) {
			t.Fatalf("last month: %d %s", r.Status, r.Raw)
		}
		for _, bad := range []string{"2026-13", "2026-3", "26-03", "2026-03-01", "1999-12"} {
			if r := s.do("GET", "/api/v1/app/checkins?month="+bad, nil, h); r.Status != 400 || !strings.Contains(r.Raw, `"field":"month"`) {
				t.Fatalf("month %s: %d %s", bad, r.Status, r.Raw)
			}
		}
		if r := s.do("GET", "/api/v1/app/checkins", nil, nil); r.Status != 401 {
			t.Fatalf("no token: %d", r.Status)
		}
	})
}
