package api_test

// The person's app over HTTP (issue 4 §2, §4): activation, signatures,
// check-ins stored once, photos, today; on SQLite and (with
// KANGFU_TEST_POSTGRES) PostgreSQL.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
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
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

type appSite struct {
	t      testing.TB
	mux    http.Handler
	db     *store.DB
	srv    *httptest.Server
	person string
	worker string // staff API token
	county string // the place's county (its policy)
}

func newAppSite(t testing.TB, db *store.DB) *appSite {
	ctx := context.Background()
	sys := casework.SystemActor("test")
	mk := func(parent *casework.Org, kind casework.OrgKind, name, fence string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name, Geofence: fence}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return storetest.Must(db.CreateOrg(ctx, sys, in))
	}
	county := mk(mk(mk(nil, casework.KindProvince, "省", ""), casework.KindCity, "市", ""), casework.KindCounty, "区",
		`{"type":"Polygon","coordinates":[[[109.4,18.2],[109.6,18.2],[109.6,18.3],[109.4,18.3],[109.4,18.2]]]}`)
	comm := mk(mk(county, casework.KindTownship, "街道", ""), casework.KindCommunity, "社区", "")
	user := storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: "worker", OrgID: comm.ID, Password: "long-enough-pw"}, "$argon2id$x", false))
	storetest.Must(db.GrantRole(ctx, sys, user.ID, casework.RoleWorker, comm.ID))
	tok, hash := auth.NewToken()
	if err := db.CreateSession(ctx, store.Session{TokenHash: hash, UserID: user.ID, Kind: "api", ExpiresAt: time.Now().Add(time.Hour)}, "127.0.0.1", "test", "test"); err != nil {
		t.Fatal(err)
	}
	day := casework.DateOf(db.Now(), nil).AddDays(-10)
	body := "46020319900101001"
	p := storetest.Must(db.CreatePerson(ctx, sys, casework.PersonInput{OrgID: comm.ID, Name: "李四", IDNumber: body + string(casework.IDCheckChar(body))},
		&casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: "决字1号", DecisionAuthority: "公安局", DecisionDate: day, ReceivedDate: day,
			ReportDate: day.AddDays(1), WorkerID: user.ID}))
	a := &api.API{DB: db, Auth: auth.NewService(db, auth.DefaultPolicy()), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Blobs: storetest.Must(blob.Open(t.TempDir()))}
	mux := http.NewServeMux()
	for _, rt := range a.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
	}
	s := &appSite{t: t, mux: mux, db: db, srv: httptest.NewServer(mux), person: p.ID, worker: tok, county: county.ID}
	t.Cleanup(s.srv.Close)
	return s
}

type appResp struct {
	Status int
	Body   map[string]any
	Raw    string
}

func (s *appSite) do(method, path string, body []byte, hdr map[string]string) appResp {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.srv.URL+path, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := appResp{Status: resp.StatusCode, Raw: string(b)}
	json.Unmarshal(b, &out.Body)
	return out
}

type phone struct {
	key   *ecdsa.PrivateKey
	token string
	id    string
}

func (s *appSite) activate(pin string) (phone, appResp) {
	s.t.Helper()
	r := s.do("POST", "/api/v1/persons/"+s.person+"/activation-codes", nil, map[string]string{"Authorization": "Bearer " + s.worker})
	if r.Status != 201 || !strings.HasPrefix(r.Body["activation_url"].(string), "/app/#activate=") {
		s.t.Fatalf("create code: %d %s", r.Status, r.Raw)
	}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	body, _ := json.Marshal(map[string]string{"code": r.Body["code"].(string), "public_key": base64.StdEncoding.EncodeToString(der), "pin": pin})
	r = s.do("POST", "/api/v1/app/activate", body, map[string]string{"Content-Type": "application/json"})
	if r.Status != 201 {
		return phone{}, r
	}
	return phone{key: k, token: r.Body["token"].(string), id: r.Body["device_id"].(string)}, r
}

func sign(k *ecdsa.PrivateKey, body []byte) string {
	h := sha256.Sum256(body)
	r, s, _ := ecdsa.Sign(rand.Reader, k, h[:])
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return base64.StdEncoding.EncodeToString(sig)
}

func (p phone) hdr(sig string) map[string]string {
	h := map[string]string{"Authorization": "Bearer " + p.token, "Content-Type": "application/json"}
	if sig != "" {
		h["X-Kangfu-Signature"] = sig
	}
	return h
}

func TestAppCheckinHTTP(t *testing.T) {
	// A fixed clock inside the 06:00–22:00 window (10:00 Beijing time), so
	// the "ok" verdict does not depend on when the test runs.
	storetest.EachWithClock(t, time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newAppSite(t, db)
		if _, r := s.activate("12a456"); r.Status != 400 || !strings.Contains(r.Raw, `"field":"pin"`) {
			t.Fatalf("bad PIN: %d %s", r.Status, r.Raw)
		}
		if _, r := s.activate("123456"); r.Status != 400 || !strings.Contains(r.Raw, `"field":"pin"`) || !strings.Contains(r.Raw, "太简单") {
			t.Fatalf("weak PIN: %d %s", r.Status, r.Raw)
		}
		p, r := s.activate("246813")
		if r.Status != 201 || r.Body["person_name"] != "李四" {
			t.Fatalf("activate: %d %s", r.Status, r.Raw)
		}

		var img bytes.Buffer
		jpeg.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
		sum := sha256.Sum256(img.Bytes())
		sha := hex.EncodeToString(sum[:])
		t.Run("photo", func(t *testing.T) {
			h := map[string]string{"Authorization": "Bearer " + p.token, "X-Photo-SHA256": sha}
			if r := s.do("POST", "/api/v1/app/photos", img.Bytes(), h); r.Status != 201 || r.Body["sha256"] != sha {
				t.Fatalf("first: %d %s", r.Status, r.Raw)
			}
			if r := s.do("POST", "/api/v1/app/photos", img.Bytes(), h); r.Status != 200 {
				t.Fatalf("again: %d %s", r.Status, r.Raw)
			}
			if r := s.do("POST", "/api/v1/app/photos", []byte("%PDF-1.4 not a photo"), map[string]string{"Authorization": "Bearer " + p.token,
				"X-Photo-SHA256": hex.EncodeToString(func() []byte { s := sha256.Sum256([]byte("%PDF-1.4 not a photo")); return s[:] }())}); r.Status != 400 {
				t.Fatalf("not a JPEG: %d %s", r.Status, r.Raw)
			}
			big := make([]byte, 201<<10)
			if r := s.do("POST", "/api/v1/app/photos", big, h); r.Status != 400 {
				t.Fatalf("too big: %d %s", r.Status, r.Raw)
			}
		})

		in := map[string]any{"id": uuid.NewString(), "taken_at": db.Now().Add(-time.Minute).Format(time.RFC3339), "lat": 18.25, "lng": 109.5,
			"accuracy_m": 12, "photo_sha256": sha}
		body, _ := json.Marshal(in)
		good := sign(p.key, body)
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tampered := bytes.Replace(body, []byte("18.25"), []byte("18.26"), 1)
		for _, tc := range []struct {
			name  string
			body  []byte
			sig   string
			field string
		}{
			{"no signature", body, "", "bad_signature"},
			{"tampered body", tampered, good, "bad_signature"},
			{"wrong key", body, sign(other, body), "bad_signature"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := s.do("POST", "/api/v1/app/checkins", tc.body, p.hdr(tc.sig))
				if r.Status != 401 || !strings.Contains(r.Raw, `"field":"`+tc.field+`"`) {
					t.Fatalf("got %d %s", r.Status, r.Raw)
				}
			})
		}
		r = s.do("POST", "/api/v1/app/checkins", body, p.hdr(good))
		if r.Status != 201 || r.Body["verdict"] != "ok" || r.Body["policy_version_id"] != "national" || r.Body["id"] != in["id"] {
			t.Fatalf("check-in: %d %s", r.Status, r.Raw)
		}
		if again := s.do("POST", "/api/v1/app/checkins", body, p.hdr(good)); again.Status != 200 || again.Body["received_at"] != r.Body["received_at"] {
			t.Fatalf("replay: %d %s", again.Status, again.Raw)
		}
		in2 := map[string]any{}
		for k, v := range in {
			in2[k] = v
		}
		in2["lat"] = 18.35 // outside the county polygon
		body2, _ := json.Marshal(in2)
		if r := s.do("POST", "/api/v1/app/checkins", body2, p.hdr(sign(p.key, body2))); r.Status != 409 {
			t.Fatalf("same id, other body: %d %s", r.Status, r.Raw)
		}
		if n := storetest.Must(db.CountCheckins(context.Background(), []string{in["id"].(string)})); n[in["id"].(string)] != 1 {
			t.Fatalf("rows: %v", n)
		}
		in2["id"] = uuid.NewString()
		body2, _ = json.Marshal(in2)
		if r := s.do("POST", "/api/v1/app/checkins", body2, p.hdr(sign(p.key, body2))); r.Status != 201 || r.Body["verdict"] != "outside_area" {
			t.Fatalf("outside: %d %s", r.Status, r.Raw)
		}
		today := s.do("GET", "/api/v1/app/today", nil, p.hdr(""))
		ck, _ := today.Body["checkin"].(map[string]any)
		if today.Status != 200 || ck["due"] != true || ck["done"] != true || ck["count"] != 2.0 {
			t.Fatalf("today: %d %s", today.Status, today.Raw)
		}
		list := s.do("GET", "/api/v1/persons/"+s.person+"/checkins", nil, map[string]string{"Authorization": "Bearer " + s.worker})
		if list.Status != 200 || list.Body["total"] != 2.0 || strings.Contains(list.Raw, "18.25") {
			t.Fatalf("staff list (no location): %d %s", list.Status, list.Raw)
		}

		t.Run("new activation retires the old device", func(t *testing.T) {
			p2, r := s.activate("975318")
			if r.Status != 201 {
				t.Fatal(r.Raw)
			}
			in["id"] = uuid.NewString()
			body, _ := json.Marshal(in)
			if r := s.do("POST", "/api/v1/app/checkins", body, p.hdr(sign(p.key, body))); r.Status != 401 || !strings.Contains(r.Raw, `"field":"device_retired"`) {
				t.Fatalf("old device: %d %s", r.Status, r.Raw)
			}
			if r := s.do("POST", "/api/v1/app/checkins", body, p2.hdr(sign(p2.key, body))); r.Status != 201 {
				t.Fatalf("new device: %d %s", r.Status, r.Raw)
			}
			stats := s.do("GET", "/api/v1/persons/"+s.person+"/activation-codes", nil, map[string]string{"Authorization": "Bearer " + s.worker})
			if stats.Status != 200 || strings.Count(stats.Raw, `"active":true`) != 1 || strings.Count(stats.Raw, `"state":"used"`) != 2 {
				t.Fatalf("codes and devices: %s", stats.Raw)
			}
		})
		t.Run("unknown token", func(t *testing.T) {
			if r := s.do("GET", "/api/v1/app/today", nil, map[string]string{"Authorization": "Bearer nope"}); r.Status != 401 {
				t.Fatalf("got %d", r.Status)
			}
		})
	})
}
