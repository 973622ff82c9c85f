package backup

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 15 "Must add" (PRODUCT §8): a restore that fails leaves nothing
// half-restored behind. On PostgreSQL (KANGFU_TEST_POSTGRES) into a
// scratch database, created and dropped here: a failure after pg_restore
// (the restored counts do not match the signed manifest) takes the
// restored tables out again, a failure of pg_restore (a broken archive,
// re-signed so only pg_restore can find it) drops the schema the restore
// made, and the same target then takes a good restore. On SQLite
// the data dir and database file are removed alike.
func TestFailedRestoreLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := storetest.Keys(t)
		src := Source{DB: db, Keys: keys}
		var pgRestore string
		if db.Engine() == store.Postgres {
			var err error
			if src.PGDump, err = store.FindPGTool("pg_dump", ""); err != nil {
				if os.Getenv("KANGFU_REQUIRE_POSTGRES") != "" {
					t.Fatal(err)
				}
				t.Skip(err)
			}
			pgRestore = storetest.Must(store.FindPGTool("pg_restore", ""))
		}
		sys := casework.SystemActor("test")
		storetest.Must(db.CreateOrg(ctx, sys, casework.OrgInput{Kind: casework.KindCounty, Name: "还原县"}))

		good := filepath.Join(t.TempDir(), "backup")
		m := storetest.Must(Create(ctx, src, good))

		// A copy whose signed manifest claims one more org than the copy
		// holds: every file checks, pg_restore succeeds, the count does not.
		badCount := filepath.Join(t.TempDir(), "badcount")
		copyDir(t, good, badCount)
		bm := storetest.Must(ReadManifest(badCount))
		bm.Tables["orgs"]++
		if err := writeManifest(badCount, bm, keys); err != nil {
			t.Fatal(err)
		}

		dsn, schema, tables := restoreTarget(t, db, m)
		dataDir := filepath.Join(t.TempDir(), "data")
		tg := Target{DSN: dsn, DataDir: dataDir, BlobDir: filepath.Join(dataDir, "blobs"), CheckpointFile: "off", Keys: keys, PGRestore: pgRestore}
		if db.Engine() != store.Postgres {
			tg.DSN = filepath.Join(dataDir, "kangfu.db")
		}
		left := func(when string) {
			t.Helper()
			if _, err := os.Stat(dataDir); err == nil {
				t.Errorf("%s: the data dir is left behind", when)
			}
			if tables != nil {
				if n, names := tables(); n > 0 {
					t.Errorf("%s: %d restored tables are left behind (%s)", when, n, names)
				}
			}
		}
		_, err := Restore(ctx, badCount, tg)
		if err == nil || !strings.Contains(err.Error(), "orgs") {
			t.Fatalf("restore of a copy with a wrong count: %v", err)
		}
		left("after a failed check of the counts")

		if db.Engine() == store.Postgres {
			// A broken archive (re-signed, so only pg_restore finds the
			// fault): pg_restore fails; the schema the restore made for it
			// is dropped again.
			broken := filepath.Join(t.TempDir(), "broken")
			copyDir(t, good, broken)
			km := storetest.Must(ReadManifest(broken))
			for i, f := range km.Files {
				if f.Kind != "database" {
					continue
				}
				path := filepath.Join(broken, f.Path)
				b, _ := os.ReadFile(path)
				for i := len(b) / 2; i < len(b)/2+256; i++ { // inside the data
					b[i] ^= 0x5a
				}
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
				km.Files[i] = storetest.Must(hashFile(path))
				km.Files[i].Path, km.Files[i].Kind = f.Path, f.Kind
			}
			if err := writeManifest(broken, km, keys); err != nil {
				t.Fatal(err)
			}
			if _, err := Restore(ctx, broken, tg); err == nil {
				t.Fatal("restore of a broken archive succeeded")
			} else {
				t.Log(err)
			}
			left("after pg_restore failed")
			if schemaExists(t, dsn, schema) {
				t.Errorf("the schema %s the restore made is left behind", schema)
			}
		}

		// The same target, now empty, takes the good backup.
		rep, err := Restore(ctx, good, tg)
		if err != nil {
			t.Fatalf("restore after the failures: %v", err)
		}
		if rep.Manifest.Tables["orgs"] != m.Tables["orgs"] {
			t.Errorf("restored %d orgs, want %d", rep.Manifest.Tables["orgs"], m.Tables["orgs"])
		}
	})
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// restoreTarget makes, on PostgreSQL, a scratch database (dropped after
// the test) whose search_path is the backup's schema, and returns its URL,
// the schema and a count of the tables in it.
func restoreTarget(t *testing.T, db *store.DB, m *Manifest) (string, string, func() (int, string)) {
	t.Helper()
	if db.Engine() != store.Postgres {
		return "", "", nil
	}
	base := os.Getenv("KANGFU_TEST_POSTGRES")
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
	u, _ := url.Parse(base)
	u.Path = "/" + name
	q := u.Query()
	q.Set("search_path", m.Schema)
	u.RawQuery = q.Encode()
	dsn := u.String()
	target, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		target.Close()
		admin.Exec("DROP DATABASE " + name + " WITH (FORCE)")
		admin.Close()
	})
	return dsn, m.Schema, func() (int, string) {
		rows, err := target.Query(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'S', 'v') UNION ALL
			SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1`, m.Schema)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			names = append(names, s)
		}
		return len(names), strings.Join(names, ", ")
	}
}

func schemaExists(t *testing.T, dsn, schema string) bool {
	t.Helper()
	c, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ok bool
	if err := c.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}
