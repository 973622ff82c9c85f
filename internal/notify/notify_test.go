package notify

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestMaskPhone(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"13812345678", "138****5678"},
		{" 13812345678 ", "138****5678"},
		{"1234567", "*******"},
		{"", ""},
	} {
		if got := MaskPhone(c.in); got != c.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLogSMSMasksAndSendsNothing(t *testing.T) {
	var buf bytes.Buffer
	s, err := NewSMS("log", slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), "13812345678", "今天请到派出所检测"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "13812345678") || !strings.Contains(out, "138****5678") || !strings.Contains(out, "今天请到派出所检测") {
		t.Fatalf("log line %q: want the masked number and the text", out)
	}
	if _, err := NewSMS("carrier-pigeon", nil); err == nil {
		t.Fatal("an unknown driver was accepted")
	}
}
