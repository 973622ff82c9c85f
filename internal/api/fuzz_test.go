package api

// Fuzz target for the app's records as the API decodes them (issue 15,
// "Fuzzing"); .ci/run runs it for a bounded time:
//
//	go test -run '^$' -fuzz '^FuzzAppRecords$' -fuzztime 20s ./internal/api/

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
)

// appRecord is one kind of body the app posts, with the check the handler
// runs on it after decoding (nil when the handler only reads fields).
type appRecord struct {
	new   func() any
	check func(v any, now time.Time) error
}

var appRecords = []appRecord{
	{func() any { return new(casework.CheckinInput) }, func(v any, now time.Time) error {
		_, err := v.(*casework.CheckinInput).Validate(now)
		return err
	}},
	{func() any { return new(leaveRequest) }, func(v any, now time.Time) error {
		in, err := v.(*leaveRequest).input()
		if err != nil {
			return err
		}
		_, err = in.Validate(casework.DateOf(now, time.UTC))
		return err
	}},
	{func() any { return new(activateJSON) }, func(v any, _ time.Time) error {
		in := v.(*activateJSON)
		if _, ok := casework.NormalizeActivationCode(in.Code); !ok {
			return casework.Invalid("code", "x", "x")
		}
		_, err := casework.ParseDeviceKey(in.PublicKey)
		return err
	}},
	{func() any { return new(pinJSON) }, nil},
	{func() any { return new(langJSON) }, nil},
}

// FuzzAppRecords: any body decoded as a record of the app (a check-in, a
// leave request, an activation, a PIN change, a language) is either refused
// with a *casework.Error — EINVALID, or ETOOLARGE for an oversize body —
// whose field, when it names one, is a JSON field of the record, or decoded
// into a record that encodes and decodes again to the same value. A decoded
// check-in or leave request that passes its checks still passes them after
// that round trip, and a check-in refused is refused on a named field.
func FuzzAppRecords(f *testing.F) {
	seeds := []string{
		`{"id":"0b8f7e3c-5d1a-4c6e-9f2b-3a4d5e6f7a8b","taken_at":"2026-12-07T08:00:00+08:00","lat":18.25,"lng":109.5,"accuracy_m":12,"photo_sha256":""}`,
		`{"id":"0B8F7E3C-5D1A-4C6E-9F2B-3A4D5E6F7A8B","taken_at":"2026-12-07T08:00:00.123456789+08:00","lat":-90,"lng":180,"accuracy_m":1e-300,"photo_sha256":"` + strings.Repeat("a", 64) + `"}`,
		`{"id":"00000000-0000-0000-0000-000000000000","taken_at":"1970-01-01T00:00:00Z","lat":0,"lng":0,"accuracy_m":0}`,
		`{"id":"x","taken_at":"2026-12-07","lat":1e308,"lng":-1e308,"accuracy_m":-1,"extra":1}`,
		`{"id":"0b8f7e3c-5d1a-4c6e-9f2b-3a4d5e6f7a8b","kind":"visit_family","destination_province":"海南省","destination_city":"海口市","from":"2026-12-10","to":"2026-12-12","reason":"探亲"}`,
		`{"kind":"work","lat":20.0,"lng":110.3,"radius_m":3000,"from":"2026-12-10","to":"2026-02-30","reason":"` + strings.Repeat("理", 200) + `","employer":"某公司","address":"某路1号"}`,
		`{"code":"ABCD-EFGH","public_key":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE","pin":"123456","lang":"en"}`,
		`{"old_pin":"123456","new_pin":"654321","new_pin_again":"654321"}`,
		`{"lang":"zh"}`,
		`{"lang":null}`, `[]`, `{}`, ``, `{"id":1}`, `{"lat":"18"}`, `{"from":123}`, `{"a":`, `{"id":"x"} {"id":"y"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	now := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		rec := appRecords[int(which)%len(appRecords)]
		v := rec.new()
		if err := decodeBody(body, v); err != nil {
			var e *casework.Error
			if !errors.As(err, &e) || (e.Code != casework.EINVALID && e.Code != casework.ETOOLARGE) || e.ZH == "" || e.EN == "" {
				t.Fatalf("decode %T: %v (%T), want an EINVALID *casework.Error", v, err, err)
			}
			if e.Field != "" && !jsonField(v, e.Field) && !strings.HasPrefix(e.EN, "unknown field") {
				t.Fatalf("decode %T: error on field %q, which the record does not have: %v", v, e.Field, err)
			}
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("decoded %T does not encode: %v", v, err)
		}
		w := rec.new()
		if err := decodeBody(b, w); err != nil || !reflect.DeepEqual(v, w) {
			t.Fatalf("%T %s encoded as %s decodes as %+v, %v", v, body, b, w, err)
		}
		if rec.check == nil {
			return
		}
		err = rec.check(v, now)
		if err2 := rec.check(w, now); (err == nil) != (err2 == nil) {
			t.Fatalf("%T: checks gave %v, after a round trip %v", v, err, err2)
		}
		if err != nil && casework.ErrorField(err) == "" {
			t.Fatalf("%T %s refused without a field: %v", v, body, err)
		}
	})
}

// decodeBody decodes as the app's handlers do (decodeApp).
func decodeBody(body []byte, v any) error {
	r := httptest.NewRequest("POST", "/api/v1/app/checkins", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return decodeApp(r, &appReq{Body: body}, v)
}

// jsonField reports whether the struct v points to has a JSON field name.
func jsonField(v any, name string) bool {
	t := reflect.TypeOf(v).Elem()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag == name {
			return true
		}
	}
	return false
}
