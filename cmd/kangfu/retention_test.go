package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
)

// purge-logs (R39): a day less than six months ago is refused naming the
// flag; seven months ago purges and says the audit log is kept.
func TestPurgeLogsCommandR39(t *testing.T) {
	dir := t.TempDir()
	env := envFrom(map[string]string{"KANGFU_DATA_DIR": dir, "KANGFU_SECRET_KEY": strings.Repeat("ab", 32)})
	if err := run(context.Background(), []string{"migrate"}, env, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	recent := casework.DateOf(time.Now().AddDate(0, -5, 0), nil).String()
	err := run(context.Background(), []string{"purge-logs", "--before", recent}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--before") || !strings.Contains(err.Error(), "six months") {
		t.Fatalf("R39: purge before %s: %v", recent, err)
	}
	var out bytes.Buffer
	old := casework.DateOf(time.Now().AddDate(0, -7, 0), nil).String()
	if err := run(context.Background(), []string{"purge-logs", "--before", old}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "audit log is kept whole") {
		t.Fatalf("output %q", out.String())
	}
	if err := run(context.Background(), []string{"verify-audit"}, env, io.Discard, io.Discard); err != nil {
		t.Fatalf("verify-audit after a purge: %v", err)
	}
}
