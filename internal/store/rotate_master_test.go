package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// newSecret is the secret key the tests rotate to.
var newSecret = []byte("kangfu-test-NEW-secret-key-32-by")

func newKeys(t *testing.T) *store.Keys {
	t.Helper()
	return storetest.Must(store.DeriveKeys(newSecret))
}

// openWith opens the engine's (already migrated) database with keys.
func openWith(t *testing.T, e storetest.Engine, keys *store.Keys) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), e.DSN, store.Options{Keys: keys})
	if err != nil {
		t.Fatalf("open %s: %v", e.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// allSealed reads every non-empty value of every sealed column (by
// store.SealedColumns), keyed "table.column key".
func allSealed(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := db.Read(ctx, func(tx *store.Tx) error {
		for _, c := range store.SealedColumns() {
			rows, err := tx.Query(ctx, `SELECT `+c.Key+`, `+c.Column+` FROM `+c.Table+` WHERE `+c.Column+` <> ''`)
			if err != nil {
				return err
			}
			for rows.Next() {
				var k, v string
				if err := rows.Scan(&k, &v); err != nil {
					rows.Close()
					return err
				}
				out[c.Table+"."+c.Column+" "+k] = v
			}
			rows.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// openAll opens every sealed value with db's keys.
func openAll(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	ctxOf := map[string]func(string) string{}
	for _, c := range store.SealedColumns() {
		ctxOf[c.Table+"."+c.Column] = c.Context
	}
	out := map[string]string{}
	for k, v := range allSealed(t, db) {
		col, key, _ := strings.Cut(k, " ")
		p, err := db.Vault().Open(v, ctxOf[col](key))
		if err != nil {
			t.Fatalf("open %s: %v", k, err)
		}
		out[k] = p
	}
	return out
}

// masterFixture is the field-rotation fixture plus sealed values in tables
// keyed other than by id (a pinned residence, draw seeds).
func masterFixture(t *testing.T, db *store.DB) rotateFixture {
	t.Helper()
	f := newRotateFixture(t, db)
	for id := range f.persons {
		if err := db.SetResidenceGeo(ctx, f.lead, id, casework.Geo{Lat: 18.25, Lng: 109.51}); err != nil {
			t.Fatal(err)
		}
		break
	}
	if _, err := db.DailyDraws(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSealedColumnsCoverSchema: every column named *_enc in the schema is a
// sealed column a rotation re-encrypts (R36: a column left out would not
// open after a master key rotation).
func TestSealedColumnsCoverSchema(t *testing.T) {
	db := storetest.Open(t, storetest.Engines(t)[0], nil)
	listed := map[string]bool{}
	for _, c := range store.SealedColumns() {
		listed[c.Table+"."+c.Column] = true
	}
	err := db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name LIKE '%\_enc' ESCAPE '\'`)
		if err != nil {
			return err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var table, col string
			if err := rows.Scan(&table, &col); err != nil {
				return err
			}
			n++
			if !listed[table+"."+col] {
				t.Errorf("sealed column %s.%s is not in store.SealedColumns", table, col)
			}
		}
		if n < 15 {
			t.Errorf("found %d *_enc columns; the schema query is broken", n)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRotateMaster: issue 15 — after a master key rotation every sealed
// value opens under the new key (R36), search by ID number finds the person
// through the recomputed blind index, the audit chain verifies across the
// link (with the old key, and with the new key alone), and the old key is
// refused.
func TestRotateMaster(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			old := storetest.Open(t, e, nil)
			if err := old.CheckKey(ctx, true); err != nil {
				t.Fatal(err)
			}
			f := masterFixture(t, old)
			c := storetest.Must(old.CredentialsByUsername(ctx, "totpuser"))
			totpUser := &casework.Actor{UserID: c.UserID, Username: "totpuser"}
			if err := old.EnableTOTP(ctx, totpUser, 1, []string{"recovery-hash-1", "recovery-hash-2"}); err != nil {
				t.Fatal(err)
			}
			before := openAll(t, old)
			if len(before) < 5*7+3 {
				t.Fatalf("fixture has %d sealed values, want every column filled", len(before))
			}
			oldCP := storetest.Must(old.AuditCheckpoint(ctx))
			oldN := storetest.Must(old.VerifyAudit(ctx))

			rep, err := old.RotateMaster(ctx, newKeys(t), store.MasterRotateOptions{BatchSize: 3})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Values != len(before) || rep.Persons != len(f.persons) || rep.FieldKey != "k2" || rep.LinkSeq != oldN+1 || rep.RecoveryUsers != 1 {
				t.Fatalf("report %+v; want %d values, %d persons, field key k2, link row %d, 1 account's recovery codes dropped", rep, len(before), len(f.persons), oldN+1)
			}
			old.Close()

			db := openWith(t, e, newKeys(t))
			if err := db.CheckKey(ctx, true); err != nil {
				t.Fatalf("new key refused: %v", err)
			}
			after := openAll(t, db)
			for k, p := range before {
				if after[k] != p {
					t.Errorf("%s = %q after rotation, want %q", k, after[k], p)
				}
			}
			for k, v := range allSealed(t, db) {
				if !strings.HasPrefix(v, "k2:") {
					t.Errorf("%s is under %q, want the new secret's k2", k, strings.SplitN(v, ":", 2)[0])
				}
			}
			f.checkReads(t, db) // reveal, search by ID number (blind index), TOTP
			if n := storetest.Must(db.RecoveryCodesLeft(ctx, totpUser)); n != 0 {
				t.Fatalf("%d recovery codes left; the old ones are keyed with the old key and must go", n)
			}

			// The chain: with the old key row by row and the link's MAC;
			// with the new key alone against the link's digest; old
			// checkpoints still hold (their key is recorded in the link).
			oldKeys := storetest.Keys(t)
			vr, err := db.VerifyAuditWith(ctx, store.AuditVerifyOptions{OldKeys: []*store.Keys{oldKeys}, Checkpoints: []store.AuditCheckpoint{oldCP}})
			if err != nil {
				t.Fatalf("verify with both keys: %v", err)
			}
			if vr.Rotations != 1 || vr.LinksKeyed != 1 || vr.Unkeyed != 0 || vr.Rows < oldN+1 {
				t.Fatalf("verify with both keys: %+v", vr)
			}
			vr, err = db.VerifyAuditWith(ctx, store.AuditVerifyOptions{Checkpoints: []store.AuditCheckpoint{oldCP}})
			if err != nil {
				t.Fatalf("verify with the new key alone: %v", err)
			}
			if vr.LinksKeyed != 0 || vr.Unkeyed != oldN {
				t.Fatalf("verify with the new key alone: %+v; want the %d old rows checked by digest", vr, oldN)
			}
			// New rows go on under the new key; a new checkpoint holds.
			if _, err := db.GetPerson(ctx, f.lead, firstKey(f.persons), "核对"); err != nil {
				t.Fatal(err)
			}
			newCP := storetest.Must(db.AuditCheckpoint(ctx))
			if _, err := db.VerifyAudit(ctx, oldCP, newCP); err != nil {
				t.Fatalf("verify after new rows: %v", err)
			}

			// The old key is refused, with the reason.
			stale := openWith(t, e, oldKeys)
			if err := stale.CheckKey(ctx, true); !errors.Is(err, store.ErrKeyMismatch) || !strings.Contains(err.Error(), "fingerprint mismatch") {
				t.Fatalf("old key: %v; want a fingerprint mismatch", err)
			}
			if _, err := stale.VerifyAudit(ctx); !errors.Is(err, store.ErrKeyMismatch) {
				t.Fatalf("verify-audit with the old key: %v; want a fingerprint mismatch", err)
			}
			// Run again: nothing to do.
			rep, err = stale.RotateMaster(ctx, newKeys(t), store.MasterRotateOptions{})
			if err != nil || !rep.AlreadyDone {
				t.Fatalf("second run: %+v, %v; want already done", rep, err)
			}
		})
	}
}

func firstKey(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}

// TestRotateMasterForgedLink: a link row whose MAC is not made with the old
// key fails verification with the old key, even when its own hash is
// rebuilt under the new key (someone holding only the new key cannot
// pretend the old key handed over to it); a changed row before the link
// fails the digest check when only the new key is given.
func TestRotateMasterForgedLink(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			old := storetest.Open(t, e, nil)
			masterFixture(t, old)
			rep := storetest.Must(old.RotateMaster(ctx, newKeys(t), store.MasterRotateOptions{}))
			old.Close()
			db := openWith(t, e, newKeys(t))
			oldKeys := storetest.Keys(t)
			if _, err := db.VerifyAuditWith(ctx, store.AuditVerifyOptions{OldKeys: []*store.Keys{oldKeys}}); err != nil {
				t.Fatal(err)
			}

			// Forge: a wrong link MAC, the row's hash and the chain after
			// it rebuilt with the new key (store.RekeyAuditFrom).
			err := db.Write(ctx, func(tx *store.Tx) error {
				var detail string
				if err := tx.QueryRow(ctx, `SELECT detail FROM audit_log WHERE seq = ?`, rep.LinkSeq).Scan(&detail); err != nil {
					return err
				}
				var d map[string]any
				if err := json.Unmarshal([]byte(detail), &d); err != nil {
					return err
				}
				d["link_mac"] = strings.Repeat("0", 64)
				b, _ := json.Marshal(d)
				if _, err := tx.Exec(ctx, `UPDATE audit_log SET detail = ? WHERE seq = ?`, string(b), rep.LinkSeq); err != nil {
					return err
				}
				return store.RekeyAuditFrom(ctx, tx, rep.LinkSeq)
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.VerifyAuditWith(ctx, store.AuditVerifyOptions{OldKeys: []*store.Keys{oldKeys}})
			var br *store.AuditBreak
			if !errors.As(err, &br) || br.Seq != rep.LinkSeq || !strings.Contains(br.Reason, "not keyed by the old key") {
				t.Fatalf("forged link: %v; want a break at the link row %d", err, rep.LinkSeq)
			}

			// A row before the link changed: the new key alone catches it
			// through the digest the link recorded.
			err = db.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE audit_log SET reason = 'rewritten' WHERE seq = 2`)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.VerifyAuditWith(ctx, store.AuditVerifyOptions{})
			if !errors.As(err, &br) || br.Seq != rep.LinkSeq || !strings.Contains(br.Reason, "differ from the ones the rotation recorded") {
				t.Fatalf("changed old row, new key alone: %v; want a digest break at the link", err)
			}
			_, err = db.VerifyAuditWith(ctx, store.AuditVerifyOptions{OldKeys: []*store.Keys{oldKeys}})
			if !errors.As(err, &br) || br.Seq != 2 {
				t.Fatalf("changed old row, both keys: %v; want a break at row 2", err)
			}
		})
	}
}

// TestRotateMasterResumes: a rotation stopped after its first batch leaves
// a state row that refuses servers (both keys), and a second run finishes
// it to the same end state as an uninterrupted one.
func TestRotateMasterResumes(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			old := storetest.Open(t, e, nil)
			if err := old.CheckKey(ctx, true); err != nil {
				t.Fatal(err)
			}
			f := masterFixture(t, old)
			before := openAll(t, old)
			stop := errors.New("test: stop after the first batch")
			batches := 0
			_, err := old.RotateMaster(ctx, newKeys(t), store.MasterRotateOptions{BatchSize: 2, AfterBatch: func(string) error {
				batches++
				return stop
			}})
			if !errors.Is(err, stop) || batches != 1 {
				t.Fatalf("interrupted run: %v after %d batches", err, batches)
			}
			// Half done: no server may start, with either key.
			if err := old.CheckKey(ctx, true); !errors.Is(err, store.ErrMasterRotationPending) {
				t.Fatalf("old key mid-rotation: %v; want refused", err)
			}
			mid := openWith(t, e, newKeys(t))
			if err := mid.CheckKey(ctx, true); !errors.Is(err, store.ErrMasterRotationPending) {
				t.Fatalf("new key mid-rotation: %v; want refused", err)
			}
			mixed := 0
			for _, v := range allSealed(t, old) {
				if strings.HasPrefix(v, "k2:") {
					mixed++
				}
			}
			if mixed == 0 || mixed == len(before) {
				t.Fatalf("%d of %d values under the new key after one batch; want some", mixed, len(before))
			}
			// Another key cannot take over the half-done rotation.
			other := storetest.Must(store.DeriveKeys([]byte("kangfu-test-OTHER-secret-key-32b")))
			if _, err := old.RotateMaster(ctx, other, store.MasterRotateOptions{}); err == nil || !strings.Contains(err.Error(), "another key") {
				t.Fatalf("rotation to a third key mid-way: %v; want refused", err)
			}

			rep, err := old.RotateMaster(ctx, newKeys(t), store.MasterRotateOptions{BatchSize: 2})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Resumed || rep.Values+mixed != len(before) {
				t.Fatalf("resumed run: %+v; want resumed and the %d values left", rep, len(before)-mixed)
			}
			old.Close()
			db := openWith(t, e, newKeys(t))
			if err := db.CheckKey(ctx, true); err != nil {
				t.Fatal(err)
			}
			after := openAll(t, db)
			if len(after) != len(before) {
				t.Fatalf("%d values after, %d before", len(after), len(before))
			}
			for k, p := range before {
				if after[k] != p {
					t.Errorf("%s = %q after the resumed rotation, want %q", k, after[k], p)
				}
			}
			f.checkReads(t, db)
			vr, err := db.VerifyAuditWith(ctx, store.AuditVerifyOptions{OldKeys: []*store.Keys{storetest.Keys(t)}})
			if err != nil || vr.Rotations != 1 || vr.LinksKeyed != 1 {
				t.Fatalf("verify after resume: %+v, %v", vr, err)
			}
		})
	}
}

// TestRotateMasterStopsForRunningServer: a server still writing (the audit
// log grows during the rotation) stops it, and it resumes once they stop.
func TestRotateMasterStopsForRunningServer(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			old := storetest.Open(t, e, nil)
			f := masterFixture(t, old)
			server := storetest.Open(t, e, nil) // another process with the old key
			_, err := old.RotateMaster(ctx, newKeys(t), store.MasterRotateOptions{BatchSize: 2, AfterBatch: func(string) error {
				// (Its reads of re-sealed values already fail: it derives
				// the field keys from the old secret.)
				return server.Write(ctx, func(tx *store.Tx) error {
					return tx.Audit(ctx, casework.SystemActor("test"), store.AuditEntry{Action: "auth.login", TargetType: "user"})
				})
			}})
			if err == nil || !strings.Contains(err.Error(), "a server is still running") {
				t.Fatalf("rotation with a running server: %v; want stopped", err)
			}
			server.Close()
			// Stopped: the run resumes, walks the tables again and finishes.
			rep, err := old.RotateMaster(ctx, newKeys(t), store.MasterRotateOptions{})
			if err != nil || !rep.Resumed {
				t.Fatalf("resume after the server stopped: %+v, %v", rep, err)
			}
			old.Close()
			db := openWith(t, e, newKeys(t))
			f.checkReads(t, db)
			if _, err := db.VerifyAuditWith(ctx, store.AuditVerifyOptions{OldKeys: []*store.Keys{storetest.Keys(t)}}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
