package casework

import (
	"strings"
	"testing"
	"time"
)

func TestCheckNewPIN(t *testing.T) {
	tests := []struct {
		pin, again, field string // field "" = accepted
	}{
		{"246810", "246810", ""},
		{"135790", "135790", ""},
		{"123457", "123457", ""}, // a run broken at the end
		{"112233", "112233", ""},
		{"890123", "890123", ""}, // wraps around: not a plain run
		{"12345", "12345", "new_pin"},
		{"1234567", "1234567", "new_pin"},
		{"12a456", "12a456", "new_pin"},
		{"１２３４５６", "１２３４５６", "new_pin"}, // full-width digits are not digits here
		{"", "", "new_pin"},
		{"246810", "246801", "new_pin_again"},
		{"000000", "000000", "new_pin"},
		{"999999", "999999", "new_pin"},
		{"123456", "123456", "new_pin"},
		{"012345", "012345", "new_pin"},
		{"456789", "456789", "new_pin"},
		{"654321", "654321", "new_pin"},
		{"987654", "987654", "new_pin"},
		{"543210", "543210", "new_pin"},
	}
	for _, tc := range tests {
		t.Run(tc.pin, func(t *testing.T) {
			err := CheckNewPIN("new_pin", tc.pin, tc.again)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Field != tc.field || e.Code != EINVALID || e.ZH == "" || e.EN == "" {
				t.Fatalf("got %#v, want an invalid %s", err, tc.field)
			}
		})
	}
}

func TestErrPINLocked(t *testing.T) {
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		left time.Duration
		want string
	}{{15 * time.Minute, "15 minutes"}, {14*time.Minute + time.Second, "15 minutes"}, {30 * time.Second, "1 minute;"}, {0, "1 minute;"}} {
		e := ErrPINLocked(now.Add(tc.left), now)
		if e.Code != ELOCKED || !strings.Contains(e.EN, "in "+tc.want) {
			t.Fatalf("%v left: %s", tc.left, e.EN)
		}
	}
}
