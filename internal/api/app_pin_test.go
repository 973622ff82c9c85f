package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 4 §3 (settings: PIN) over HTTP: the change is signed; bad input
// gets a named field; a wrong old PIN is counted and the fifth locks (423);
// the new PIN is what the server checks afterwards.
func TestAppChangePINHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newAppSite(t, db)
		p, r := s.activate("246813")
		if r.Status != 201 {
			t.Fatalf("activate: %d %s", r.Status, r.Raw)
		}
		change := func(old, next, again string) appResp {
			body, _ := json.Marshal(map[string]string{"old_pin": old, "new_pin": next, "new_pin_again": again})
			h := p.hdr(sign(p.key, body))
			h["Accept-Language"] = "en"
			return s.do("POST", "/api/v1/app/pin", body, h)
		}
		body, _ := json.Marshal(map[string]string{"old_pin": "246813", "new_pin": "135792", "new_pin_again": "135792"})
		if r := s.do("POST", "/api/v1/app/pin", body, p.hdr("")); r.Status != 401 || !strings.Contains(r.Raw, `"field":"bad_signature"`) {
			t.Fatalf("unsigned: %d %s", r.Status, r.Raw)
		}
		for _, tc := range []struct {
			name, old, next, again, field, text string
		}{
			{"old not 6 digits", "24681", "135792", "135792", "old_pin", "current 6-digit PIN"},
			{"new not 6 digits", "246813", "13579", "13579", "new_pin", "must be 6 digits"},
			{"new has a letter", "246813", "13579a", "13579a", "new_pin", "must be 6 digits"},
			{"mismatch", "246813", "135792", "135793", "new_pin_again", "not the same"},
			{"too simple", "246813", "000000", "000000", "new_pin", "too simple"},
			{"a run", "246813", "123456", "123456", "new_pin", "too simple"},
			{"same as old", "246813", "246813", "246813", "new_pin", "must differ"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := change(tc.old, tc.next, tc.again)
				if r.Status != 400 || !strings.Contains(r.Raw, `"field":"`+tc.field+`"`) || !strings.Contains(r.Raw, tc.text) {
					t.Fatalf("got %d %s", r.Status, r.Raw)
				}
			})
		}
		if r := change("111111", "135792", "135792"); r.Status != 400 || !strings.Contains(r.Raw, `"field":"old_pin"`) || !strings.Contains(r.Raw, "4 tries left") {
			t.Fatalf("wrong old PIN: %d %s", r.Status, r.Raw)
		}
		if r := change("246813", "135792", "135792"); r.Status != 200 || r.Body["changed"] != true {
			t.Fatalf("change: %d %s", r.Status, r.Raw)
		}
		// The old PIN no longer works; five wrong tries lock, in Chinese by default.
		for i := range 4 {
			if r := change("246813", "864209", "864209"); r.Status != 400 {
				t.Fatalf("wrong try %d: %d %s", i+1, r.Status, r.Raw)
			}
		}
		body, _ = json.Marshal(map[string]string{"old_pin": "246813", "new_pin": "864209", "new_pin_again": "864209"})
		h := p.hdr(sign(p.key, body))
		h["Accept-Language"] = "zh-CN"
		if r := s.do("POST", "/api/v1/app/pin", body, h); r.Status != 423 || !strings.Contains(r.Raw, "15分钟后再试") {
			t.Fatalf("fifth wrong try: %d %s", r.Status, r.Raw)
		}
		if r := change("135792", "864209", "864209"); r.Status != 423 {
			t.Fatalf("right PIN while locked: %d %s", r.Status, r.Raw)
		}
	})
}

// Issue 18 §3: unlocking the app checks the PIN on the server, signed; a
// wrong PIN names the tries left; a right one clears the count; the fifth
// wrong in a row locks (423), and the right PIN is refused while locked.
// today carries the app's PIN policy (5 minutes, no PIN per check-in by
// default).
func TestAppVerifyPINHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newAppSite(t, db)
		p, r := s.activate("246813")
		if r.Status != 201 {
			t.Fatalf("activate: %d %s", r.Status, r.Raw)
		}
		verify := func(pin string) appResp {
			body, _ := json.Marshal(map[string]string{"pin": pin})
			h := p.hdr(sign(p.key, body))
			h["Accept-Language"] = "en"
			return s.do("POST", "/api/v1/app/pin/verify", body, h)
		}
		body, _ := json.Marshal(map[string]string{"pin": "246813"})
		if r := s.do("POST", "/api/v1/app/pin/verify", body, p.hdr("")); r.Status != 401 {
			t.Fatalf("unsigned: %d %s", r.Status, r.Raw)
		}
		if r := verify("2468"); r.Status != 400 || !strings.Contains(r.Raw, `"field":"pin"`) {
			t.Fatalf("not 6 digits: %d %s", r.Status, r.Raw)
		}
		if r := verify("111111"); r.Status != 400 || !strings.Contains(r.Raw, `"field":"pin"`) || !strings.Contains(r.Raw, "4 tries left") {
			t.Fatalf("wrong PIN: %d %s", r.Status, r.Raw)
		}
		if r := verify("246813"); r.Status != 200 || r.Body["ok"] != true {
			t.Fatalf("right PIN: %d %s", r.Status, r.Raw)
		}
		for i := range 4 {
			if r := verify("111111"); r.Status != 400 || !strings.Contains(r.Raw, " left") {
				t.Fatalf("wrong try %d after a right one (the count starts again): %d %s", i+1, r.Status, r.Raw)
			}
		}
		if r := verify("111111"); r.Status != 423 {
			t.Fatalf("fifth wrong try: %d %s", r.Status, r.Raw)
		}
		if r := verify("246813"); r.Status != 423 {
			t.Fatalf("right PIN while locked: %d %s", r.Status, r.Raw)
		}
		today := s.do("GET", "/api/v1/app/today", nil, p.hdr(""))
		app, _ := today.Body["app"].(map[string]any)
		if today.Status != 200 || app["pin_idle_minutes"] != 5.0 || app["pin_each_checkin"] != false {
			t.Fatalf("today's app policy: %d %s", today.Status, today.Raw)
		}
	})
}
