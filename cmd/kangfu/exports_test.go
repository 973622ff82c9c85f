package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// KANGFU_EXPORT_DIR (issue 12 §5) must be an absolute folder; a relative
// one is named with the variable to fix.
func TestExportDirConfig(t *testing.T) {
	env := map[string]string{"KANGFU_DATA_DIR": t.TempDir(), "KANGFU_EXPORT_DIR": "exports"}
	err := run(context.Background(), []string{"migrate"}, envFrom(env), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "KANGFU_EXPORT_DIR") {
		t.Fatalf("a relative export folder: %v", err)
	}
	env["KANGFU_EXPORT_DIR"] = t.TempDir()
	if err := run(context.Background(), []string{"migrate"}, envFrom(env), io.Discard, io.Discard); err != nil && strings.Contains(err.Error(), "KANGFU_EXPORT_DIR") {
		t.Fatalf("an absolute export folder: %v", err)
	}
}
