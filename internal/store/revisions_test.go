package store_test

import (
	"encoding/json"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

type revBody struct {
	Notes string `json:"notes"`
}

// Issue 11 §6: an edited care record keeps its earlier versions, sealed at
// rest, numbered per record, readable by the file's sensitive readers only.
func TestRecordRevisions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := pfBuild(t, db)
		p := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "张三", pfID("19900101", 1, true)), nil))
		save := func(rec, notes, reason string) (int, error) {
			var rev int
			err := db.Write(ctx, func(tx *store.Tx) error {
				var err error
				rev, err = tx.SaveRevision(ctx, w.workerA, store.RevisionInput{Kind: "visit", RecordID: rec, PersonID: p.ID,
					Previous: revBody{Notes: notes}, Reason: reason})
				return err
			})
			return rev, err
		}
		if _, err := save("rec1", "x", "  "); casework.ErrorField(err) != "reason" {
			t.Fatalf("blank reason: %v", err)
		}
		for i, notes := range []string{"第一版：家中无人", "第二版：母亲在家"} {
			if rev, err := save("rec1", notes, "补充"); err != nil || rev != i+1 {
				t.Fatalf("save %d: rev %d, %v", i, rev, err)
			}
		}
		if rev, err := save("rec2", "另一条", "笔误"); err != nil || rev != 1 {
			t.Fatalf("second record starts at 1: %d, %v", rev, err)
		}
		revs := storetest.Must(db.ListRevisions(ctx, w.lead, p.ID, "visit", "rec1"))
		if len(revs) != 2 || revs[0].Rev != 1 || revs[1].Rev != 2 {
			t.Fatalf("revisions: %+v", revs)
		}
		var b revBody
		if err := json.Unmarshal(revs[1].Previous, &b); err != nil || b.Notes != "第二版：母亲在家" {
			t.Errorf("previous: %s, %v", revs[1].Previous, err)
		}
		if revs[0].EditedBy != w.workerA.UserID || revs[0].EditedByName == "" || revs[0].Reason != "补充" || revs[0].EditedAt.IsZero() {
			t.Errorf("revision meta: %+v", revs[0])
		}
		// Sealed at rest: the plain notes are not in the table.
		_ = db.Read(ctx, func(tx *store.Tx) error {
			var enc string
			if err := tx.QueryRow(ctx, `SELECT body_enc FROM record_revisions WHERE record_id = 'rec1' AND rev = 1`).Scan(&enc); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(enc, "家中无人") {
				t.Error("revision body stored in the clear")
			}
			return nil
		})
		// Scope: police read the history; another community's worker does
		// not find the person; a counsellor (minimal profile) may not.
		if _, err := db.ListRevisions(ctx, w.police, p.ID, "visit", "rec1"); err != nil {
			t.Errorf("police: %v", err)
		}
		_, err := db.ListRevisions(ctx, w.workerB, p.ID, "visit", "rec1")
		pfCode(t, "worker B", err, casework.ENOTFOUND)
		_, err = db.ListRevisions(ctx, w.admin, p.ID, "visit", "rec1")
		pfCode(t, "admin", err, casework.ENOTFOUND)
	})
}
