package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// detect-start: a bad date is refused naming the flag; a good one sets the
// persons under a measure (the demo already went live today, so a later
// day moves nobody and an earlier one moves nobody either: a person keeps
// the watermark of the current measure).
func TestDetectStartCommand(t *testing.T) {
	dir := t.TempDir()
	env := envFrom(map[string]string{"KANGFU_DATA_DIR": dir})
	if err := run(context.Background(), []string{"demo"}, env, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"detect-start", "--from", "2026-13-01"}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--from") {
		t.Fatalf("bad date: %v", err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"detect-start", "--from", "2026-01-01"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "judges 0 person(s) from 2026-01-01") {
		t.Fatalf("output %q", out.String())
	}
}
