package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kangfu/internal/backup"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 15 "Must add": kangfu backup, backup --verify and restore from the
// command line on the demo data set, on SQLite and (with
// KANGFU_TEST_POSTGRES) PostgreSQL. The store test (TestBackupRestoreUnderLoad)
// backs up under check-in load; this one checks the commands, their
// messages and the refusals.
func TestBackupRestoreCommands(t *testing.T) {
	type engine struct{ name, src, dst string }
	engines := []engine{{name: "sqlite"}}
	if pg := os.Getenv("KANGFU_TEST_POSTGRES"); pg != "" {
		src := storetest.NewPostgresSchema(t, pg)
		engines = append(engines, engine{"postgres", src, newPostgresDatabase(t, pg, src)})
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			if e.name == "postgres" {
				if _, err := store.FindPGTool("pg_dump", ""); err != nil && os.Getenv("KANGFU_REQUIRE_POSTGRES") == "" {
					t.Skip(err)
				}
			}
			ctx := context.Background()
			dir := t.TempDir()
			src, dst, out := filepath.Join(dir, "src"), filepath.Join(dir, "dst"), filepath.Join(dir, "backup")
			cmd := func(env map[string]string, args ...string) (string, error) {
				var stdout, stderr bytes.Buffer
				err := run(ctx, append(args, "--log-level", "warn"), envFrom(env), &stdout, &stderr)
				return stdout.String() + stderr.String(), err
			}
			srcEnv := map[string]string{"KANGFU_DATA_DIR": src, "KANGFU_DB": e.src}
			if out, err := cmd(srcEnv, "demo"); err != nil {
				t.Fatalf("demo: %v\n%s", err, out)
			}
			key, err := os.ReadFile(filepath.Join(src, "secret.key"))
			if err != nil {
				t.Fatal(err)
			}
			// A checkpoint, so the restore checks the chain against one.
			if out, err := cmd(srcEnv, "audit-checkpoint"); err != nil {
				t.Fatalf("audit-checkpoint: %v\n%s", err, out)
			}

			res, err := cmd(srcEnv, "backup", "--out", out)
			if err != nil {
				t.Fatalf("backup: %v\n%s", err, res)
			}
			t.Log(res)
			for _, want := range []string{"backup written to", "does NOT contain the secret key", "fingerprint", "1 signed checkpoint"} {
				if !strings.Contains(res, want) {
					t.Errorf("backup output lacks %q:\n%s", want, res)
				}
			}
			if strings.Contains(res, strings.TrimSpace(string(key))) {
				t.Fatal("the backup output shows the key")
			}
			filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if b, _ := os.ReadFile(path); bytes.Contains(b, bytes.TrimSpace(key)) {
						t.Errorf("%s holds the secret key", path)
					}
				}
				return nil
			})
			if res, err := cmd(srcEnv, "backup", "--out", out); err == nil || !strings.Contains(res+err.Error(), "not empty") {
				t.Errorf("backup into a used folder: %v %s", err, res)
			}
			if res, err := cmd(map[string]string{"KANGFU_DATA_DIR": filepath.Join(dir, "nokey")}, "backup", "--verify", out); err != nil ||
				!strings.Contains(res, "match the manifest") || !strings.Contains(res, "not checked") {
				t.Fatalf("verify without the key: %v\n%s", err, res)
			}

			dstEnv := map[string]string{"KANGFU_DATA_DIR": dst, "KANGFU_DB": e.dst}
			if _, err := cmd(dstEnv, "restore", "--from", out); err == nil || !strings.Contains(err.Error(), "secret key") {
				t.Fatalf("restore without a key: %v", err)
			}
			dstEnv["KANGFU_SECRET_KEY"] = strings.TrimSpace(string(key))
			res, err = cmd(dstEnv, "restore", "--from", out)
			if err != nil {
				t.Fatalf("restore: %v\n%s", err, res)
			}
			t.Log(res)
			for _, want := range []string{"every count matches the manifest", "audit chain intact", "1 checkpoint(s) from the backup hold"} {
				if !strings.Contains(res, want) {
					t.Errorf("restore output lacks %q:\n%s", want, res)
				}
			}
			if res, err := cmd(dstEnv, "verify-audit"); err != nil || !strings.Contains(res, "1 checkpoint(s)") {
				t.Fatalf("verify-audit on the restore: %v\n%s", err, res)
			}
			if _, err := cmd(dstEnv, "restore", "--from", out); err == nil || !strings.Contains(err.Error(), "not empty") {
				t.Fatalf("restore into a non-empty target: %v", err)
			}

			// One byte flipped in the database copy: verify and restore name it.
			m, err := backup.ReadManifest(out)
			if err != nil {
				t.Fatal(err)
			}
			dbf, _ := m.DatabaseFile()
			path := filepath.Join(out, dbf.Path)
			b, _ := os.ReadFile(path)
			b[len(b)/3] ^= 0x80
			os.WriteFile(path, b, 0o600)
			if _, err := cmd(srcEnv, "backup", "--verify", out); err == nil || !strings.Contains(err.Error(), dbf.Path) {
				t.Fatalf("verify of a flipped database copy: %v", err)
			}
			fresh := map[string]string{"KANGFU_DATA_DIR": filepath.Join(dir, "fresh"), "KANGFU_SECRET_KEY": dstEnv["KANGFU_SECRET_KEY"]}
			if _, err := cmd(fresh, "restore", "--from", out); err == nil || !strings.Contains(err.Error(), dbf.Path) {
				t.Fatalf("restore of a flipped database copy: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "fresh")); err == nil {
				t.Fatal("a refused restore wrote the data dir")
			}
		})
	}
}

// newPostgresDatabase creates an empty database on the server at base
// (dropped after the test) and returns its URL with the search_path of
// like, so a backup of like's schema restores into it.
func newPostgresDatabase(t *testing.T, base, like string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 5)
	rand.Read(b)
	name := "kf_restore_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE " + name + " WITH (FORCE)")
		admin.Close()
	})
	u, _ := url.Parse(base)
	l, _ := url.Parse(like)
	u.Path = "/" + name
	q := u.Query()
	q.Set("search_path", l.Query().Get("search_path"))
	u.RawQuery = q.Encode()
	return u.String()
}
