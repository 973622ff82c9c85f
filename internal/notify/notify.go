// Package notify holds the channels that leave the database: SMS now (push
// later). Each is a small interface with a driver chosen by a setting; the
// default driver only logs, so nothing is sent until a real gateway is
// configured.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// SMS sends a text message to a phone number.
type SMS interface {
	Send(ctx context.Context, phone, text string) error
}

// LogSMS is the default SMS driver: it logs the masked number and the text
// and sends nothing.
type LogSMS struct{ Log *slog.Logger }

// Send logs the message with the phone number masked (3 + 4, as on screen).
func (s LogSMS) Send(ctx context.Context, phone, text string) error {
	if s.Log != nil {
		s.Log.InfoContext(ctx, "sms (log driver: not sent)", "to", MaskPhone(phone), "text", text)
	}
	return nil
}

// MaskPhone keeps the first 3 and last 4 digits of a phone number.
func MaskPhone(p string) string {
	p = strings.TrimSpace(p)
	r := []rune(p)
	if len(r) < 8 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// SMSDrivers names the drivers NewSMS accepts.
var SMSDrivers = []string{"log"}

// NewSMS returns the SMS driver named by the setting (KANGFU_SMS).
func NewSMS(name string, log *slog.Logger) (SMS, error) {
	switch name {
	case "", "log":
		return LogSMS{Log: log}, nil
	}
	return nil, fmt.Errorf("unknown SMS driver %q (known: %s)", name, strings.Join(SMSDrivers, ", "))
}
