package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 17 over HTTP: the app's reference endpoint (null before a reference
// exists, then the embedding, with the policy's challenge and the notice);
// a check-in from an old app is "identity not checked" and counts; a
// signed face result below the threshold is not matched and does not
// count; a bad face field is refused naming it.
func TestAppFaceHTTP(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		ctx := context.Background()
		s := newAppSite(t, db)
		p, r := s.activate("246813")
		if r.Status != 201 {
			t.Fatalf("activate: %d %s", r.Status, r.Raw)
		}
		auth := map[string]string{"Authorization": "Bearer " + p.token}
		r = s.do("GET", "/api/v1/app/face/reference", nil, auth)
		if r.Status != 200 || !strings.Contains(r.Raw, `"embedding":null`) || r.Body["challenge"] != "" || r.Body["threshold"] != 0.8 ||
			r.Body["require_liveness"] != true || !strings.Contains(r.Body["notice_zh"].(string), "0.80") {
			t.Fatalf("no reference: %d %s", r.Status, r.Raw)
		}
		if r := s.do("GET", "/api/v1/app/face/reference", nil, nil); r.Status != 401 {
			t.Fatalf("no token: %d", r.Status)
		}
		emb := casework.EncodeEmbedding([]float32{0.1, 0.2, 0.3})
		if _, err := db.SetFaceReference(ctx, casework.SystemActor("test"), s.person, store.FaceReferenceInput{Photo: []byte{0xFF, 0xD8, 0xFF, 0xE0, 1, 2},
			PhotoType: "image/jpeg", Embedding: emb, Models: "human 3.3.6"}, func(b []byte) (string, error) { return "k", nil }); err != nil {
			t.Fatal(err)
		}
		r = s.do("GET", "/api/v1/app/face/reference", nil, auth)
		if r.Status != 200 || r.Body["embedding"] != emb || r.Body["models"] != "human 3.3.6" {
			t.Fatalf("reference: %d %s", r.Status, r.Raw)
		}

		send := func(extra map[string]any) appResp {
			in := map[string]any{"id": uuid.NewString(), "taken_at": db.Now().Add(-time.Minute).Format(time.RFC3339), "lat": 18.25, "lng": 109.5,
				"accuracy_m": 12}
			for k, v := range extra {
				in[k] = v
			}
			body, _ := json.Marshal(in)
			return s.do("POST", "/api/v1/app/checkins", body, p.hdr(sign(p.key, body)))
		}
		// The national policy asks for a selfie: none here, so nothing
		// counts by its checks; the identity is what is looked at.
		r = send(nil)
		if r.Status != 201 || r.Body["identity"] != "not_checked" || r.Body["identity_label"] != "未核验身份" || r.Body["identity_reason"] == nil {
			t.Fatalf("old app: %d %s", r.Status, r.Raw)
		}
		r = send(map[string]any{"face": map[string]any{"outcome": "scored", "score": 0.7999, "liveness": "passed", "models": "human 3.3.6", "embedding": emb, "ms": 900},
			"mock_location": false})
		if r.Status != 201 || r.Body["identity"] != "not_matched" || r.Body["counts"] != false || r.Body["face_score"] != 0.7999 || r.Body["identity_review"] != "" {
			t.Fatalf("below the threshold: %d %s", r.Status, r.Raw)
		}
		r = s.do("GET", "/api/v1/app/today", nil, auth)
		if ck, _ := r.Body["checkin"].(map[string]any); r.Status != 200 || ck["identity"] != "not_matched" || ck["identity_review_pending"] != true {
			t.Fatalf("today after a mismatch: %d %s", r.Status, r.Raw)
		}
		r = send(map[string]any{"face": map[string]any{"outcome": "scored", "score": 1.5, "liveness": "passed"}})
		if r.Status != 400 || !strings.Contains(r.Raw, `"field":"face.score"`) {
			t.Fatalf("bad score: %d %s", r.Status, r.Raw)
		}
		r = send(map[string]any{"face": map[string]any{"outcome": "scored", "score": 0.9, "liveness": "maybe"}})
		if r.Status != 400 || !strings.Contains(r.Raw, `"field":"face.liveness"`) {
			t.Fatalf("bad liveness: %d %s", r.Status, r.Raw)
		}
		// The app's notice is in both languages and names no raw key.
		if bytes.Contains([]byte(r.Raw), []byte("identity.")) {
			t.Fatalf("raw key in an answer: %s", r.Raw)
		}
	})
}
