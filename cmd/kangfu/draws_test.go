package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// verify-draws on the demo: intact; a changed commitment is named; the
// export verifies on its own, and a seed altered in it is named.
func TestVerifyDrawsCommand(t *testing.T) {
	dir := t.TempDir()
	env := envFrom(map[string]string{"KANGFU_DATA_DIR": dir})
	if err := run(context.Background(), []string{"demo"}, env, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	export := filepath.Join(dir, "draws.json")
	if err := run(context.Background(), []string{"verify-draws", "--export", export}, env, &out, io.Discard); err != nil {
		t.Fatalf("verify-draws on the demo: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "draws intact") {
		t.Fatalf("output %q", out.String())
	}
	// Anyone with the file can check it; a seed altered in it is named.
	b, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	var x drawExport
	if err := json.Unmarshal(b, &x); err != nil || len(x.Seeds) == 0 {
		t.Fatalf("export: %v, %d seeds", err, len(x.Seeds))
	}
	if err := run(context.Background(), []string{"verify-draws", "--file", export}, envFrom(nil), io.Discard, io.Discard); err != nil {
		t.Fatalf("verify the export: %v", err)
	}
	x.Seeds[0].Seed = strings.Repeat("00", 32)
	b, _ = json.Marshal(x)
	if err := os.WriteFile(export, b, 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"verify-draws", "--file", export}, envFrom(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), x.Seeds[0].OrgID+"/"+x.Seeds[0].Period) {
		t.Fatalf("altered seed in the export: %v", err)
	}
	// A commitment changed in the database no longer matches the sealed seed.
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kangfu.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var org, period string
	if err := raw.QueryRow(`SELECT org_id, period FROM draw_seeds ORDER BY period DESC LIMIT 1`).Scan(&org, &period); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE draw_seeds SET seed_hash = ? WHERE org_id = ? AND period = ?`, strings.Repeat("0", 64), org, period); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"verify-draws"}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), org+"/"+period) {
		t.Fatalf("verify-draws after changing a commitment: %v", err)
	}
}
