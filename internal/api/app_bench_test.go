package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"kangfu/internal/store/storetest"
)

// BenchmarkAppCheckinHTTP measures the server's ingest path of a check-in
// (issue 4 Performance) without the network: the handler with device
// token, signature verification, strict JSON decoding, verdict, sealing and
// the group-commit writer (SQLite, synchronous=FULL), 64 callers at once.
// Bodies are signed before the timer, as the load generator does. Run with
// -benchmem: allocs/op is the per-request allocation count of the path.
func BenchmarkAppCheckinHTTP(b *testing.B) {
	e := storetest.Engines(b)[0]
	db := storetest.Open(b, e, nil)
	s := newAppSite(b, db)
	p, r := s.activate("246813")
	if r.Status != 201 {
		b.Fatalf("activate: %d %s", r.Status, r.Raw)
	}
	type signed struct {
		body []byte
		sig  string
	}
	work := make([]signed, b.N)
	taken := time.Now().Add(-time.Minute).Format(time.RFC3339Nano)
	for i := range work {
		body, _ := json.Marshal(map[string]any{"id": uuid.NewString(), "taken_at": taken, "lat": 18.25 + float64(i%100)/10000, "lng": 109.5,
			"accuracy_m": 15, "photo_sha256": fmt.Sprintf("%064x", i)})
		work[i] = signed{body, sign(p.key, body)}
	}
	auth := "Bearer " + p.token
	var next atomic.Int64
	b.SetParallelism(32) // × GOMAXPROCS callers
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := work[next.Add(1)-1]
			req := httptest.NewRequest("POST", "/api/v1/app/checkins", bytes.NewReader(w.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", auth)
			req.Header.Set("X-Kangfu-Signature", w.sig)
			rec := httptest.NewRecorder()
			s.mux.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checkins/s")
}
