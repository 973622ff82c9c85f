package store_test

import (
	"errors"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 15 §1: deleting the newest rows (or all of them) and rewriting the
// head to match used to pass verify-audit. The head is keyed now, and a
// head replayed from an earlier state is caught by a checkpoint kept
// outside the database.
func TestVerifyAuditTruncation(t *testing.T) {
	wantBreak := func(t *testing.T, err error, seq int64, reason string) {
		t.Helper()
		var brk *store.AuditBreak
		if !errors.As(err, &brk) {
			t.Fatalf("VerifyAudit = %v, want an *AuditBreak", err)
		}
		if brk.Seq != seq || !strings.Contains(brk.Reason, reason) {
			t.Fatalf("break at %d (%q), want at %d about %q", brk.Seq, brk.Reason, seq, reason)
		}
	}
	t.Run("newest rows deleted and the head rewritten to match", func(t *testing.T) {
		eachRaw(t, func(t *testing.T, db *store.DB, raw rawDB) {
			_, last := auditRows(t, db)
			keep := last - 3
			raw.exec(t, `DELETE FROM audit_log WHERE seq > ?`, keep)
			raw.exec(t, `UPDATE audit_head SET seq = ?, hash = (SELECT hash FROM audit_log WHERE seq = ?) WHERE id = 1`, keep, keep)
			_, err := db.VerifyAudit(ctx)
			wantBreak(t, err, keep+1, "not keyed")
		})
	})
	t.Run("every row deleted and the head reset", func(t *testing.T) {
		eachRaw(t, func(t *testing.T, db *store.DB, raw rawDB) {
			auditRows(t, db)
			raw.exec(t, `DELETE FROM audit_log`)
			raw.exec(t, `UPDATE audit_head SET seq = 0, hash = '', mac = '' WHERE id = 1`)
			_, err := db.VerifyAudit(ctx)
			wantBreak(t, err, 1, "not keyed")
		})
	})
	t.Run("head replayed from an earlier state: the checkpoint tells", func(t *testing.T) {
		eachRaw(t, func(t *testing.T, db *store.DB, raw rawDB) {
			tr, first := auditRows(t, db)
			var seq int64
			var hash, mac string
			if err := raw.QueryRowContext(ctx, `SELECT seq, hash, mac FROM audit_head WHERE id = 1`).Scan(&seq, &hash, &mac); err != nil {
				t.Fatal(err)
			}
			sys := casework.SystemActor("test")
			for _, name := range []string{"x1", "x2", "x3"} {
				storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: name, OrgID: tr.commA.ID, Password: "long-enough-pw"}, "x", false))
			}
			cp := storetest.Must(db.AuditCheckpoint(ctx))
			if cp.Seq != first+3 {
				t.Fatalf("checkpoint at row %d, want %d", cp.Seq, first+3)
			}
			// The checkpoint travels as a line and reads back the same.
			back, err := store.ParseAuditCheckpoint(cp.String())
			if err != nil {
				t.Fatal(err)
			}
			if n, err := db.VerifyAudit(ctx, back); err != nil || n != first+3 {
				t.Fatalf("VerifyAudit with the checkpoint = %d, %v; want %d, nil", n, err, first+3)
			}
			// A writer without the key deletes the three newest rows and
			// puts back the head as it was before them (validly keyed).
			raw.exec(t, `DELETE FROM audit_log WHERE seq > ?`, seq)
			if seq == 0 {
				t.Fatal("no head captured")
			}
			q := `UPDATE audit_head SET seq = ?, hash = ?, mac = ? WHERE id = 1`
			raw.exec(t, q, seq, hash, mac)
			if _, err := db.VerifyAudit(ctx); err != nil {
				t.Fatalf("without a checkpoint the replay cannot be seen, got %v", err)
			}
			_, err = db.VerifyAudit(ctx, back)
			wantBreak(t, err, first+1, "3 rows missing after checkpoint")
		})
	})
	t.Run("rewritten row under a checkpoint", func(t *testing.T) {
		eachRaw(t, func(t *testing.T, db *store.DB, raw rawDB) {
			_, last := auditRows(t, db)
			cp := storetest.Must(db.AuditCheckpoint(ctx))
			raw.exec(t, `UPDATE audit_log SET hash = 'x' WHERE seq = ?`, last)
			_, err := db.VerifyAudit(ctx, cp)
			wantBreak(t, err, last, "")
		})
	})
}

func TestAuditCheckpointSignature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		auditRows(t, db)
		cp := storetest.Must(db.AuditCheckpoint(ctx))
		line := cp.String()
		if !strings.HasPrefix(line, "kangfu-audit-checkpoint v1 seq=10 ") {
			t.Fatalf("line %q", line)
		}
		// A changed seq no longer matches the signature.
		forged, err := store.ParseAuditCheckpoint(strings.Replace(line, "seq=10 ", "seq=12 ", 1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.VerifyAudit(ctx, forged); err == nil || !strings.Contains(err.Error(), "signature does not match") {
			t.Fatalf("forged checkpoint: %v", err)
		}
		for _, bad := range []string{"", "hello", "kangfu-audit-checkpoint v1 seq=x", "kangfu-audit-checkpoint v1 seq=1 hash=zz at=2026-01-01T00:00:00Z sig=AA=="} {
			if _, err := store.ParseAuditCheckpoint(bad); err == nil {
				t.Errorf("ParseAuditCheckpoint(%q) = nil error", bad)
			}
		}
		cps, err := store.ParseAuditCheckpoints("# kept by the auditor\n" + line + "\n\n")
		if err != nil || len(cps) != 1 {
			t.Fatalf("ParseAuditCheckpoints = %v, %v", cps, err)
		}
	})
}
