package store_test

// Backups and restores (issue 15 "Must add", PRODUCT §8), on SQLite and
// (with KANGFU_TEST_POSTGRES) PostgreSQL: a backup taken while check-ins
// are being written restores into an empty target with every check-in
// acknowledged before it started, the manifest's counts, and an audit
// chain that verifies; a flipped byte is refused naming the file; a target
// that is not empty is refused.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kangfu/internal/backup"
	"kangfu/internal/blob"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// backupTarget is an empty place to restore into: a new data dir, and on
// PostgreSQL a new database (dropped after the test) whose search_path is
// the source's schema.
func backupTarget(t *testing.T, db *store.DB, src *store.DatabaseCopy) backup.Target {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	tg := backup.Target{DSN: filepath.Join(dir, "kangfu.db"), DataDir: dir, BlobDir: filepath.Join(dir, "blobs"),
		CheckpointFile: filepath.Join(dir, "audit-checkpoints.log"), Keys: storetest.Keys(t)}
	if db.Engine() != store.Postgres {
		return tg
	}
	tg.PGRestore = storetest.Must(store.FindPGTool("pg_restore", ""))
	base := os.Getenv("KANGFU_TEST_POSTGRES")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 5)
	rand.Read(b)
	name := "kf_restore_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)")
		admin.Close()
	})
	u := storetest.Must(url.Parse(base))
	u.Path = "/" + name
	q := u.Query()
	q.Set("search_path", src.Schema)
	u.RawQuery = q.Encode()
	tg.DSN = u.String()
	return tg
}

func TestBackupRestoreUnderLoad(t *testing.T) {
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		var pgDump string
		if db.Engine() == store.Postgres {
			var err error
			if pgDump, err = store.FindPGTool("pg_dump", ""); err != nil {
				if os.Getenv("KANGFU_REQUIRE_POSTGRES") != "" {
					t.Fatal(err)
				}
				t.Skip(err)
			}
		}
		w := ciBuild(t, db, pfD("2026-03-01"))
		persons := []string{w.person.ID}
		for i := 1; i < 4; i++ {
			m := pfReported(pfD("2026-02-25"), pfD("2026-03-01"))
			m.WorkerID = w.worker.UserID
			persons = append(persons, storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, fmt.Sprintf("备份%d", i), pfID("19900101", 20+i, true)), m)).ID)
		}
		phones := make([]ciPhone, len(persons))
		for i := range persons {
			phones[i] = ciActivate(t, db, w.worker, persons[i])
		}
		// Documents: three blobs, one of them a check-in photo the rows cite;
		// two sealed with the field keys as the server writes them (R36), the
		// third a legacy plaintext file from before the folder was sealed.
		work := t.TempDir()
		sealKeys := blob.KeySource{Current: db.Vault().Current, Key: db.Keys().FieldKey}
		blobs := storetest.Must(blob.OpenSealed(filepath.Join(work, "blobs"), sealKeys))
		var keys []string
		for i := range 3 {
			put := blob.Storage(blobs)
			if i == 2 {
				put = storetest.Must(blob.Open(blobs.Dir()))
			}
			keys = append(keys, storetest.Must(blob.PutBytes(ctx, put, fmt.Appendf(nil, "document %d of %s", i, db.Engine()))))
		}
		if err := db.RecordAppPhoto(ctx, phones[0].dev, keys[0]); err != nil {
			t.Fatal(err)
		}
		cpFile := filepath.Join(work, "audit-checkpoints.log")
		cp := storetest.Must(db.AuditCheckpoint(ctx))
		if err := os.WriteFile(cpFile, []byte(cp.String()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}

		// Check-ins keep coming from four phones while the backup runs.
		var mu sync.Mutex
		var acked []string
		var stop atomic.Bool
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := range 8 {
			wg.Go(func() {
				phone := phones[g%len(phones)]
				for !stop.Load() {
					c, _, _, err := phone.checkin(db, ciIn(clock.T.Add(-time.Minute), 18.25, 109.5))
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					acked = append(acked, c.ID)
					mu.Unlock()
				}
			})
		}
		for { // let the load run before the backup starts
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= 200 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		before := append([]string(nil), acked...) // acknowledged, so committed, before the backup started
		mu.Unlock()
		out := filepath.Join(work, "backup")
		m, err := backup.Create(ctx, backup.Source{DB: db, Keys: storetest.Keys(t), BlobDir: blobs.Dir(), CheckpointFile: cpFile, PGDump: pgDump}, out)
		mu.Lock()
		during := len(acked) - len(before)
		mu.Unlock()
		stop.Store(true)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d check-ins before the backup, %d acknowledged while it ran, %d in the manifest, %d stored in the end",
			db.Engine(), len(before), during, m.Tables["checkins"], len(acked))
		if m.Tables["checkins"] < int64(len(before)) || m.Blobs != 3 || m.Checkpoints != 1 || m.AuditLastRow == 0 ||
			m.SchemaMigration == "" || m.Key.Included || m.Key.Fingerprint == "" || m.Key.FieldKeyID != "k1" {
			t.Fatalf("manifest: %+v", m)
		}
		if _, _, err := backup.Verify(ctx, out, storetest.Keys(t)); err != nil {
			t.Fatalf("verify: %v", err)
		}

		src := storetest.Must(db.Describe(ctx))
		tg := backupTarget(t, db, src)
		if db.Engine() == store.Postgres {
			tg.DataDir = filepath.Join(t.TempDir(), "data")
			tg.BlobDir, tg.CheckpointFile = filepath.Join(tg.DataDir, "blobs"), filepath.Join(tg.DataDir, "audit-checkpoints.log")
		}
		rep, err := backup.Restore(ctx, out, tg)
		if err != nil {
			t.Fatalf("restore: %v", err)
		}
		if rep.Blobs != 3 || rep.Checkpoints != 1 || rep.AuditRows != m.AuditLastRow {
			t.Fatalf("report %+v, manifest audit rows %d", rep, m.AuditLastRow)
		}
		rdb, err := store.Open(ctx, tg.DSN, store.Options{Keys: storetest.Keys(t), Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer rdb.Close()
		counts := storetest.Must(rdb.CountCheckins(ctx, before))
		for _, id := range before {
			if counts[id] != 1 {
				t.Fatalf("check-in %s acknowledged before the backup: %d rows after the restore", id, counts[id])
			}
		}
		got := storetest.Must(rdb.Describe(ctx))
		for name, n := range m.Tables {
			if got.Tables[name] != n {
				t.Fatalf("table %s: %d rows restored, manifest %d", name, got.Tables[name], n)
			}
		}
		if n := storetest.Must(rdb.VerifyAudit(ctx)); n != m.AuditLastRow {
			t.Fatalf("verify-audit on the restore: %d rows, want %d", n, m.AuditLastRow)
		}
		if _, err := blob.Open(tg.BlobDir); err != nil {
			t.Fatal(err)
		}
		rb := storetest.Must(blob.OpenSealed(tg.BlobDir, blob.KeySource{Current: rdb.Vault().Current, Key: rdb.Keys().FieldKey}))
		for i, k := range keys {
			if b, err := rb.Get(ctx, k); err != nil || string(b) != fmt.Sprintf("document %d of %s", i, db.Engine()) {
				t.Fatalf("restored blob %s: %q %v", k, b, err)
			}
			raw := storetest.Must(os.ReadFile(filepath.Join(tg.BlobDir, k[:2], k[2:4], k)))
			if sealed := strings.HasPrefix(string(raw), "KFB1"); sealed != (i < 2) {
				t.Fatalf("restored blob %d: sealed %v, want the backup to keep it as it was", i, sealed)
			}
		}
		// A restored SQLite store writes again (the file is a real database).
		if db.Engine() == store.SQLite {
			if _, _, _, err := phones[0].checkin(rdb, ciIn(clock.T.Add(-time.Minute), 18.25, 109.5)); err != nil {
				t.Fatalf("check-in on the restored database: %v", err)
			}
		}

		t.Run("target not empty", func(t *testing.T) {
			_, err := backup.Restore(ctx, out, tg)
			if err == nil || !strings.Contains(err.Error(), "not empty") {
				t.Fatalf("restore over a restored target: %v", err)
			}
			if db.Engine() == store.Postgres { // the database alone holds data: a new data dir
				tg2 := tg
				tg2.DataDir = filepath.Join(t.TempDir(), "data")
				tg2.BlobDir, tg2.CheckpointFile = filepath.Join(tg2.DataDir, "blobs"), filepath.Join(tg2.DataDir, "audit-checkpoints.log")
				if _, err := backup.Restore(ctx, out, tg2); err == nil || !strings.Contains(err.Error(), "not empty") {
					t.Fatalf("restore into a database that holds the tables: %v", err)
				}
			}
		})

		t.Run("a flipped byte is refused, naming the file", func(t *testing.T) {
			dbf, _ := m.DatabaseFile()
			for _, name := range []string{dbf.Path, "blobs/" + keys[1][:2] + "/" + keys[1][2:4] + "/" + keys[1]} {
				path := filepath.Join(out, filepath.FromSlash(name))
				orig := storetest.Must(os.ReadFile(path))
				bad := bytes.Clone(orig)
				bad[len(bad)/2] ^= 0x01
				if err := os.WriteFile(path, bad, 0o600); err != nil {
					t.Fatal(err)
				}
				fresh := backupTarget(t, db, src)
				fresh.DataDir = filepath.Join(t.TempDir(), "data")
				fresh.BlobDir, fresh.CheckpointFile = filepath.Join(fresh.DataDir, "blobs"), filepath.Join(fresh.DataDir, "audit-checkpoints.log")
				if db.Engine() == store.SQLite {
					fresh.DSN = filepath.Join(fresh.DataDir, "kangfu.db")
				}
				_, err := backup.Restore(ctx, out, fresh)
				if err == nil || !strings.Contains(err.Error(), name) {
					t.Fatalf("%s flipped: got %v, want an error naming it", name, err)
				}
				if _, _, err := backup.Verify(ctx, out, nil); err == nil || !strings.Contains(err.Error(), name) {
					t.Fatalf("%s flipped: verify got %v", name, err)
				}
				if _, err := os.Stat(fresh.DataDir); err == nil {
					t.Fatalf("%s flipped: the restore wrote %s", name, fresh.DataDir)
				}
				if db.Engine() == store.Postgres {
					if d := storetest.Must(storeDescribe(t, fresh)); len(d.Tables) != 0 {
						t.Fatalf("%s flipped: the restore wrote tables %v", name, d.Tables)
					}
				}
				if err := os.WriteFile(path, orig, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		})

		t.Run("an altered manifest is refused", func(t *testing.T) {
			path := filepath.Join(out, backup.ManifestName)
			orig := storetest.Must(os.ReadFile(path))
			bad := bytes.Replace(orig, fmt.Appendf(nil, `"checkins": %d`, m.Tables["checkins"]), fmt.Appendf(nil, `"checkins": %d`, m.Tables["checkins"]+1), 1)
			if bytes.Equal(bad, orig) {
				t.Fatal("no checkins count in the manifest")
			}
			os.WriteFile(path, bad, 0o600)
			defer os.WriteFile(path, orig, 0o600)
			if _, _, err := backup.Verify(ctx, out, storetest.Keys(t)); err == nil || !strings.Contains(err.Error(), "signature") {
				t.Fatalf("altered manifest, with the key: %v", err)
			}
			if db.Engine() == store.SQLite { // without the key, the recount still sees it
				if _, _, err := backup.Verify(ctx, out, nil); err == nil || !strings.Contains(err.Error(), "table checkins") {
					t.Fatalf("altered manifest, without the key: %v", err)
				}
			}
		})

		t.Run("another key is refused before writing", func(t *testing.T) {
			other := storetest.Must(store.DeriveKeys([]byte("another-installation-key-32bytes")))
			fresh := tg
			fresh.DataDir = filepath.Join(t.TempDir(), "data")
			fresh.Keys = other
			if _, err := backup.Restore(ctx, out, fresh); err == nil || !strings.Contains(err.Error(), "fingerprint") {
				t.Fatalf("restore with another key: %v", err)
			}
		})
	})
}

// storeDescribe counts the tables of a restore target's database.
func storeDescribe(t *testing.T, tg backup.Target) (*store.DatabaseCopy, error) {
	db, err := store.Open(ctx, tg.DSN, store.Options{Keys: tg.Keys})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Describe(ctx)
}
