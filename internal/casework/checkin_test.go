package casework

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"testing"
	"time"
)

// signP1363 signs body as WebCrypto does: r||s, 32 bytes each.
func signP1363(t *testing.T, k *ecdsa.PrivateKey, body []byte) string {
	t.Helper()
	h := sha256.Sum256(body)
	r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return base64.StdEncoding.EncodeToString(sig)
}

func spki(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// Issue 4 §2: a state-changing app request is signed with the device key;
// a tampered body or another key is refused as bad_signature.
func TestVerifySignature(t *testing.T) {
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, err := ParseDeviceKey(spki(t, k1))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"id":"x","lat":18.25}`)
	good := signP1363(t, k1, body)
	for _, tc := range []struct {
		name string
		body []byte
		sig  string
		ok   bool
	}{
		{"valid", body, good, true},
		{"tampered body", []byte(`{"id":"x","lat":18.26}`), good, false},
		{"wrong key", body, signP1363(t, k2, body), false},
		{"missing", body, "", false},
		{"not base64", body, "%%%", false},
		{"short", body, base64.StdEncoding.EncodeToString([]byte("short")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifySignature(pub, tc.body, tc.sig)
			if tc.ok != (err == nil) {
				t.Fatalf("ok=%v, err=%v", tc.ok, err)
			}
			if err != nil && (ErrorCode(err) != EUNAUTHORIZED || ErrorField(err) != "bad_signature") {
				t.Fatalf("got %s/%s, want unauthorized/bad_signature", ErrorCode(err), ErrorField(err))
			}
		})
	}
	t.Run("not P-256", func(t *testing.T) {
		k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if _, err := ParseDeviceKey(spki(t, k)); ErrorField(err) != "public_key" {
			t.Fatalf("got %v, want a public_key error", err)
		}
	})
}

func TestActivationCode(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c := NewActivationCode()
		n, ok := NormalizeActivationCode(" " + c[:4] + "-" + c[4:] + " ")
		if !ok || n != c {
			t.Fatalf("code %q does not normalise to itself: %q %v", c, n, ok)
		}
		seen[c] = true
	}
	if len(seen) < 195 {
		t.Fatalf("codes repeat: %d distinct of 200", len(seen))
	}
	for _, bad := range []string{"", "ABC", "ABCDEFG0", "ABCDEFGHI", "O1LIZS58"} {
		if _, ok := NormalizeActivationCode(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Issue 4 §4: verdicts against the area (circle, polygon, boundary), the
// accuracy threshold, the window and the local day (R8, R37).
func TestJudge(t *testing.T) {
	bj := LoadLocation("Asia/Shanghai")
	circle, err := ParseGeofence(`{"type":"circle","lat":18.25,"lng":109.5,"radius_m":1000}`)
	if err != nil {
		t.Fatal(err)
	}
	square, err := ParseGeofence(`{"type":"Polygon","coordinates":[[[109.4,18.2],[109.6,18.2],[109.6,18.3],[109.4,18.3],[109.4,18.2]]]}`)
	if err != nil {
		t.Fatal(err)
	}
	noon := time.Date(2026, 11, 28, 12, 0, 0, 0, bj)
	base := CheckinFacts{TakenAt: noon, ReceivedAt: noon, Loc: bj, Lat: 18.25, Lng: 109.5, AccuracyM: 20, PhotoSHA: "ab",
		Area: circle, Window: WindowValue("06:00", "22:00").Window(), AccuracyMx: 200, Selfie: true}
	// 1000 m north along the meridian is 1000/111195 degrees.
	edge := 18.25 + 1000/(6371008.8*3.141592653589793/180)
	for _, tc := range []struct {
		name string
		mod  func(f *CheckinFacts)
		want Verdict
	}{
		{"inside circle", func(f *CheckinFacts) {}, VerdictOK},
		{"outside circle", func(f *CheckinFacts) { f.Lat = 18.27 }, VerdictOutsideArea},
		{"on the circle", func(f *CheckinFacts) { f.Lat = edge - 1e-9 }, VerdictOK},
		{"just past the circle", func(f *CheckinFacts) { f.Lat = edge + 1e-6 }, VerdictOutsideArea},
		{"inside polygon", func(f *CheckinFacts) { f.Area = square; f.Lat, f.Lng = 18.21, 109.59 }, VerdictOK},
		{"outside polygon", func(f *CheckinFacts) { f.Area = square; f.Lat, f.Lng = 18.31, 109.5 }, VerdictOutsideArea},
		{"on the polygon edge", func(f *CheckinFacts) { f.Area = square; f.Lat, f.Lng = 18.2, 109.5 }, VerdictOK},
		{"on the polygon corner", func(f *CheckinFacts) { f.Area = square; f.Lat, f.Lng = 18.3, 109.6 }, VerdictOK},
		{"poor accuracy", func(f *CheckinFacts) { f.AccuracyM = 201 }, VerdictPoorAccuracy},
		{"accuracy at the threshold", func(f *CheckinFacts) { f.AccuracyM = 200 }, VerdictOK},
		{"no area", func(f *CheckinFacts) { f.Area = nil }, VerdictUnverifiable},
		{"no photo, selfie required", func(f *CheckinFacts) { f.PhotoSHA = "" }, VerdictUnverifiable},
		{"no photo, no selfie rule", func(f *CheckinFacts) { f.PhotoSHA = ""; f.Selfie = false }, VerdictOK},
		{"before the window", func(f *CheckinFacts) { f.TakenAt = time.Date(2026, 11, 28, 5, 59, 0, 0, bj) }, VerdictOutsideWin},
		{"at the window end", func(f *CheckinFacts) { f.TakenAt = time.Date(2026, 11, 28, 22, 0, 0, 0, bj) }, VerdictOutsideWin},
		{"synced the next day", func(f *CheckinFacts) { f.ReceivedAt = noon.Add(24 * time.Hour) }, VerdictSyncedLate},
		// 23:30 Beijing is 15:30 UTC: same local day when received at 23:45.
		{"late evening, same local day", func(f *CheckinFacts) {
			f.Window = WindowValue("06:00", "24:00").Window()
			f.TakenAt = time.Date(2026, 11, 28, 15, 30, 0, 0, time.UTC)
			f.ReceivedAt = time.Date(2026, 11, 28, 15, 45, 0, 0, time.UTC)
		}, VerdictOK},
		{"late evening, received after local midnight", func(f *CheckinFacts) {
			f.Window = WindowValue("06:00", "24:00").Window()
			f.TakenAt = time.Date(2026, 11, 28, 15, 30, 0, 0, time.UTC)
			f.ReceivedAt = time.Date(2026, 11, 28, 16, 5, 0, 0, time.UTC)
		}, VerdictSyncedLate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := base
			tc.mod(&f)
			if got := Judge(f); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// Issue 4 §5: duty days across suspension (R13), leave and a month end.
func TestDutyDays(t *testing.T) {
	d := MustParseDate
	spans := []StatusSpan{
		{d("2026-01-20"), StatusPendingReport},
		{d("2026-01-29"), StatusExecuting},
		{d("2026-02-02"), StatusSuspended},
		{d("2026-02-05"), StatusExecuting},
		{d("2026-02-06"), StatusOnLeave},
		{d("2026-02-08"), StatusReleased},
	}
	due := DutyDays(spans, d("2026-01-27"), d("2026-02-10"))
	want := []string{"2026-01-29", "2026-01-30", "2026-01-31", "2026-02-01", "2026-02-05", "2026-02-06", "2026-02-07"}
	if len(due) != len(want) {
		t.Fatalf("due %v, want %v", due, want)
	}
	for i := range want {
		if due[i].String() != want[i] {
			t.Fatalf("due %v, want %v", due, want)
		}
	}
	duty := ComputeDuty(due, map[Date]bool{d("2026-01-31"): true, d("2026-02-01"): true, d("2026-02-03"): true})
	if duty.Due != 7 || duty.Done != 2 || len(duty.Missed) != 5 || duty.Missed[0] != d("2026-01-29") {
		t.Fatalf("duty %+v", duty)
	}
	if r := duty.Rate(); r != 2.0/7 {
		t.Fatalf("rate %v", r)
	}
	if (Duty{}).Rate() != 0 {
		t.Fatal("rate of nothing due is not 0")
	}
}

func TestCheckinInputValidate(t *testing.T) {
	now := time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC)
	ok := CheckinInput{ID: "0190a6f4-5b7e-7c3d-9f00-123456789abc", TakenAt: "2026-11-28T11:59:00+08:00", Lat: 18.25, Lng: 109.5, AccuracyM: 10}
	for _, tc := range []struct {
		name  string
		mod   func(in *CheckinInput)
		field string
	}{
		{"ok", func(in *CheckinInput) {}, ""},
		{"bad id", func(in *CheckinInput) { in.ID = "1" }, "id"},
		{"no offset", func(in *CheckinInput) { in.TakenAt = "2026-11-28T11:59:00" }, "taken_at"},
		{"future", func(in *CheckinInput) { in.TakenAt = "2026-11-28T13:00:00+08:00" }, "taken_at"},
		{"bad lat", func(in *CheckinInput) { in.Lat = 91 }, "lat"},
		{"null island", func(in *CheckinInput) { in.Lat, in.Lng = 0, 0 }, "lat"},
		{"no accuracy", func(in *CheckinInput) { in.AccuracyM = 0 }, "accuracy_m"},
		{"bad photo", func(in *CheckinInput) { in.PhotoSHA256 = "xyz" }, "photo_sha256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.mod(&in)
			_, err := in.Validate(now)
			if tc.field == "" && err != nil || tc.field != "" && ErrorField(err) != tc.field {
				t.Fatalf("got %v, want field %q", err, tc.field)
			}
		})
	}
}
