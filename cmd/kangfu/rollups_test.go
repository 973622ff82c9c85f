package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 12 (Performance): `kangfu rollups rebuild` writes this year's
// rollups of the demo data, `check` finds them equal to a recount, and a
// changed row is named.
func TestRollupsCommand(t *testing.T) {
	dir := t.TempDir()
	env := envFrom(map[string]string{"KANGFU_DATA_DIR": dir})
	ctx := context.Background()
	if err := run(ctx, []string{"demo"}, env, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"rollups", "rebuild"}, env, &out, io.Discard); err != nil || !strings.Contains(out.String(), "rollups rebuilt") {
		t.Fatalf("rebuild: %v %q", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"rollups", "check"}, env, &out, io.Discard); err != nil || !strings.Contains(out.String(), "agree") {
		t.Fatalf("check after rebuild: %v %q", err, out.String())
	}
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kangfu.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	res, err := raw.Exec(`UPDATE report_rollups SET num = num + 7 WHERE figure = 'persons' AND class = '' AND length(bucket) = 4`)
	if n, _ := res.RowsAffected(); err != nil || n == 0 {
		t.Fatalf("tamper: %v (%d rows)", err, n)
	}
	out.Reset()
	err = run(ctx, []string{"rollups", "check"}, env, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), " persons: stored ") {
		t.Fatalf("check after a change: %v %q", err, out.String())
	}
	if err := run(ctx, []string{"rollups", "check", "-bucket", "2026-13"}, env, io.Discard, io.Discard); err == nil {
		t.Fatalf("a bad bucket was accepted")
	}
}
