package casework

// Fuzz targets (issue 15, "Fuzzing"). Each runs as an ordinary test over
// its seeds in `go test ./...`; .ci/run fuzzes each for a bounded time:
//
//	go test -run '^$' -fuzz '^FuzzParseIDNumber$' -fuzztime 20s ./internal/casework/
//
// Every target checks invariants, not just "no panic": a value accepted
// reads back the same, and a refusal is an EINVALID error naming the field
// of the contract with messages in both languages and no formatting verb
// left over.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// checkFieldError fails unless err is an EINVALID *Error on field (any
// field when field is "") whose messages are both set and fully formatted.
func checkFieldError(t *testing.T, err error, field string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *casework.Error", err, err)
	}
	if e.Code != EINVALID {
		t.Fatalf("error %v: code %q, want %q", err, e.Code, EINVALID)
	}
	if e.Field == "" || field != "" && e.Field != field {
		t.Fatalf("error %v: field %q, want %q", err, e.Field, field)
	}
	for _, lang := range []string{"zh", "en"} {
		m := e.Message(lang)
		if m == "" || strings.Contains(m, "%!") {
			t.Fatalf("error %v: %s message %q is empty or badly formatted", err, lang, m)
		}
	}
}

// FuzzParseIDNumber: ParseIDNumber never panics; what it accepts is a
// normalised 18-character number that parses again to the same value, with
// a matching check character, a real birth date from 1900 to today and a
// mask that hides the birth date and sequence; what it refuses is a field
// error on "id_number". MaskID never shows a whole value.
func FuzzParseIDNumber(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "11010519491231002x", " 110105194912310021 ", "110105491231002",
		"000000199001011234", "110105189912310025", "110105199002300023", "11010520991231002X",
		"1101051990010112３4", "１１０１０５１９９００１０１１２３４", "", "x", "11010519900101123",
		"\u202e11010519491231002X", "46020319860101001\x00",
	} {
		f.Add(s)
	}
	today := time.Date(2026, 12, 7, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))
	f.Fuzz(func(t *testing.T, s string) {
		// The mask keeps the length, shows only characters of the value
		// where they are, and hides at least one (all but 10 of 18).
		masked := []rune(MaskID(s))
		in := []rune(strings.TrimSpace(s))
		if len(masked) != len(in) {
			t.Fatalf("MaskID(%q) = %q: length changed", s, string(masked))
		}
		hidden := 0
		for i, r := range masked {
			if r == '*' {
				hidden++
			} else if r != in[i] {
				t.Fatalf("MaskID(%q) = %q: shows what is not there", s, string(masked))
			}
		}
		if len(in) > 0 && hidden == 0 || len(in) == 18 && hidden < 8 {
			t.Fatalf("MaskID(%q) = %q hides %d characters", s, string(masked), hidden)
		}
		id, err := ParseIDNumber(s, today)
		if err != nil {
			checkFieldError(t, err, "id_number")
			return
		}
		n := id.Number
		if len(n) != 18 || !allDigits(n[:17]) || IDCheckChar(n[:17]) != n[17] {
			t.Fatalf("ParseIDNumber(%q) accepted %q", s, n)
		}
		if want := strings.ToUpper(strings.TrimSpace(s)); n != want {
			t.Fatalf("ParseIDNumber(%q) = %q, want the input normalised (%q)", s, n, want)
		}
		if id.AreaCode != n[:6] || !id.Birth.Valid() || id.Birth.Year < MinBirthYear || id.Birth.After(dateOfTime(today)) ||
			(id.Sex != "M" && id.Sex != "F") {
			t.Fatalf("ParseIDNumber(%q) = %+v", s, id)
		}
		again, err := ParseIDNumber(n, today)
		if err != nil || again != id {
			t.Fatalf("ParseIDNumber(%q) = %+v, %v; want %+v again", n, again, err, id)
		}
		if id.String() != MaskID(n) || strings.Contains(id.String(), n[6:14]) || strings.Contains(id.GoString(), n) {
			t.Fatalf("%q masks as %q / %q", n, id.String(), id.GoString())
		}
	})
}

// FuzzParseGeofence: every accepted geofence is a circle or polygons whose
// points are in range and whose rings are closed, and its JSON (String)
// parses back to the same fence; Contains and Nearest never panic and a
// point's distance is never negative. Every refusal names "geofence".
func FuzzParseGeofence(f *testing.F) {
	for _, s := range []string{
		`{"type":"circle","lat":18.25,"lng":109.5,"radius_m":500}`,
		`{"type":"Polygon","coordinates":[[[109.5,18.2],[109.6,18.2],[109.6,18.3],[109.5,18.2]]]}`,
		`{"type":"MultiPolygon","coordinates":[[[[109.5,18.2],[109.6,18.2],[109.6,18.3],[109.5,18.2]]],[[[110,19],[110.1,19],[110.1,19.1],[110,19]]]]}`,
		`{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[109.5,18.2],[109.6,18.2],[109.6,18.3],[109.5,18.2]]]}}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"circle","lat":1,"lng":2,"radius_m":3}}]}`,
		`{"type":"FeatureCollection","features":[]}`,
		`{"type":"Feature","geometry":null}`,
		`{"type":"Polygon","coordinates":[[[200,18.2],[109.6,18.2],[109.6,18.3],[200,18.2]]]}`,
		`{"type":"Polygon","coordinates":[]}`,
		`{"type":"Polygon","coordinates":[[]]}`,
		`{"type":"circle","lat":1e308,"lng":0,"radius_m":-1}`,
		`{"type":"LineString","coordinates":[[1,2],[3,4]]}`,
		`{"type":"Feature","geometry":{"type":"Feature","geometry":{"type":"circle","lat":1,"lng":1,"radius_m":1}}}`,
		`[]`, `null`, ``, `{`,
	} {
		f.Add(s, 18.25, 109.55)
	}
	f.Fuzz(func(t *testing.T, s string, lat, lng float64) {
		g, err := ParseGeofence(s)
		if err != nil {
			checkFieldError(t, err, "geofence")
			return
		}
		switch g.Type {
		case "circle":
			if !validLatLng(g.Lat, g.Lng) || !(g.RadiusM > 0 && g.RadiusM <= 500000) {
				t.Fatalf("accepted circle %+v", g)
			}
		case "Polygon", "MultiPolygon":
			for _, rings := range g.Polygons() {
				for _, ring := range rings {
					if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
						t.Fatalf("accepted ring %v of %s", ring, s)
					}
					for _, p := range ring {
						if !validLatLng(p[1], p[0]) {
							t.Fatalf("accepted point %v of %s", p, s)
						}
					}
				}
			}
		default:
			t.Fatalf("accepted type %q from %s", g.Type, s)
		}
		again, err := ParseGeofence(g.String())
		if err != nil || again.String() != g.String() {
			t.Fatalf("geofence %s read back from %s as %v, %v", g, s, again, err)
		}
		if validLatLng(lat, lng) {
			in := g.Contains(lat, lng)
			if d := g.DistanceToM(lat, lng); d < 0 || math.IsNaN(d) && !in {
				t.Fatalf("distance from (%g, %g) to %s is %g", lat, lng, g, d)
			}
		}
	})
}

// FuzzPolicyVersion: a policy version as submitted (an effective date, one
// setting's text, a note) is accepted only when every setting parses, and
// each accepted value written back in its text form (Value.String, what is
// stored) reads back the same through ParseStoredSetting; every refusal is
// an EINVALID error whose problems each name a field.
func FuzzPolicyVersion(f *testing.F) {
	for _, s := range PolicySettings() {
		f.Add(s.Key, s.Default.String(), "依据文件第1号", 1)
	}
	f.Add("checkin_window", "06:00-22:00", "x", 30)
	f.Add("checkin_window", "22:00-06:00", "x", 30)
	f.Add("checkin_window", "24:00-24:00", "x", 30)
	f.Add("checkin_window", "-", "x", 1)
	f.Add("no_such_setting", "1", "", 0)
	f.Add("checkin_window", InheritValue, strings.Repeat("长", 501), -3)
	today := Date{Year: 2026, Month: 12, Day: 7}
	f.Fuzz(func(t *testing.T, key, text, note string, days int) {
		days %= 4000
		in := PolicyVersionInput{EffectiveFrom: today.AddDays(days), Settings: map[string]string{key: text}, Note: note}
		vals, err := in.Validate(today)
		if err != nil {
			checkFieldError(t, err, "")
			var fe FieldErrors
			if errors.As(err, &fe) {
				for _, e := range fe {
					checkFieldError(t, e, "")
				}
			}
			return
		}
		v, ok := vals[key]
		if !ok || len(vals) != 1 {
			t.Fatalf("accepted %q=%q as %v", key, text, vals)
		}
		if v == nil {
			if strings.TrimSpace(text) != InheritValue {
				t.Fatalf("%q=%q read as inherit", key, text)
			}
			return
		}
		back, known, err := ParseStoredSetting(key, v.String())
		if !known || err != nil || back == nil || *back != *v {
			t.Fatalf("%q=%q stored as %q reads back as %v, %v, %v", key, text, v.String(), back, known, err)
		}
		s, _ := PolicySetting(key)
		if s.Format(*v, "zh") == "" || s.Format(*v, "en") == "" {
			t.Fatalf("%q=%q formats as empty", key, text)
		}
	})
}

// FuzzSignatureEnvelope: the check-in signature (X-Kangfu-Signature, base64
// P1363 ECDSA P-256 over the body) verifies for the body it was made over
// and for no other; any signature text, and any device key text, is either
// accepted or refused with its own error (bad_signature, public_key) and
// never panics.
func FuzzSignatureEnvelope(f *testing.F) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	spki := base64.StdEncoding.EncodeToString(der)
	sign := func(body []byte) string {
		h := sha256.Sum256(body)
		r, s, err := ecdsa.Sign(rand.Reader, key, h[:])
		if err != nil {
			f.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return base64.StdEncoding.EncodeToString(sig)
	}
	body := []byte(`{"id":"0b8f7e3c-5d1a-4c6e-9f2b-3a4d5e6f7a8b","taken_at":"2026-12-07T08:00:00+08:00","lat":18.25,"lng":109.5,"accuracy_m":12}`)
	f.Add(body, sign(body), spki)
	f.Add([]byte{}, sign(nil), strings.TrimRight(base64.URLEncoding.EncodeToString(der), "="))
	f.Add(body, "", "")
	f.Add(body, strings.Repeat("A", 86), "MFkw")
	f.Add(body, "!!!!", "not base64")
	pub, err := ParseDeviceKey(spki)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, sig, keyText string) {
		if k, err := ParseDeviceKey(keyText); err != nil {
			checkFieldError(t, err, "public_key")
		} else if k.Curve != elliptic.P256() {
			t.Fatalf("accepted a key on %v", k.Curve.Params().Name)
		}
		if err := VerifySignature(pub, body, sig); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EUNAUTHORIZED || e.Field != "bad_signature" {
				t.Fatalf("VerifySignature: %v, want the bad_signature error", err)
			}
		}
		if err := VerifySignature(nil, body, sig); err == nil {
			t.Fatal("a signature verified with no key")
		}
		good := sign(body)
		if err := VerifySignature(pub, body, good); err != nil {
			t.Fatalf("a fresh signature over %q does not verify: %v", body, err)
		}
		other := append([]byte(nil), body...)
		if len(other) == 0 {
			other = []byte{0}
		} else {
			other[len(other)/2] ^= 0x01
		}
		if err := VerifySignature(pub, other, good); err == nil {
			t.Fatalf("a signature over %q verified the changed body %q", body, other)
		}
	})
}
