package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

// Revisions keep the history of care records (issue 11 §6). A store method
// that edits a care record, inside its write transaction and after checking
// casework.CanEditCareRecord, calls tx.SaveRevision with the version it is
// about to replace, then updates the record, then audits its own action.
// The replaced version is sealed at rest, as sensitive fields are (R36).

// RevisionInput is a version of a care record about to be replaced.
type RevisionInput struct {
	Kind     string // the record's kind: "visit", "counselling", "scale", "assistance", …
	RecordID string
	PersonID string
	Previous any    // the replaced version; stored as its JSON encoding
	Reason   string // why it was edited; required (casework.CheckRevisionReason)
}

// Revision is one saved earlier version of a care record.
type Revision struct {
	ID           string
	Kind         string
	RecordID     string
	PersonID     string
	Rev          int             // 1 is the first version replaced, then 2, …
	Previous     json.RawMessage // the replaced version as saved (JSON); unmarshal into the record's type
	EditedBy     string          // user id; "" for the system
	EditedByName string
	EditedAt     time.Time
	Reason       string
}

func sealRevisionCtx(id string) string { return "record_revision:" + id }

// SaveRevision seals in.Previous and stores it as the record's next
// revision, edited by the actor now; it returns the revision number. It
// checks the reason (EINVALID on field "reason") but not the actor's right
// to edit, nor does it audit: the calling store method does both.
func (tx *Tx) SaveRevision(ctx context.Context, actor *casework.Actor, in RevisionInput) (int, error) {
	reason, err := casework.CheckRevisionReason(in.Reason)
	if err != nil {
		return 0, err
	}
	if in.Kind == "" || in.RecordID == "" || in.PersonID == "" {
		return 0, fmt.Errorf("save revision: kind, record and person are required")
	}
	body, err := json.Marshal(in.Previous)
	if err != nil {
		return 0, fmt.Errorf("save revision of %s %s: %w", in.Kind, in.RecordID, err)
	}
	var rev int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(rev), 0) + 1 FROM record_revisions WHERE kind = ? AND record_id = ?`,
		in.Kind, in.RecordID).Scan(&rev); err != nil {
		return 0, err
	}
	id := NewID()
	sealed, err := tx.db.vault.Seal(string(body), sealRevisionCtx(id))
	if err != nil {
		return 0, err
	}
	by := ""
	if actor != nil {
		by = actor.UserID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO record_revisions (id, kind, record_id, person_id, rev, body_enc, edited_by, edited_at, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, in.Kind, in.RecordID, in.PersonID, rev, sealed, by, tx.now, reason); err != nil {
		return 0, fmt.Errorf("insert revision: %w", err)
	}
	return rev, nil
}

// Revisions returns the saved versions of one record of the person, oldest
// first, opened. It does no access check: call it after the caller's own
// (for records with a stricter reader rule than the file's, such as
// counselling notes).
func (tx *Tx) Revisions(ctx context.Context, personID, kind, recordID string) ([]Revision, error) {
	rows, err := tx.Query(ctx, `SELECT r.id, r.kind, r.record_id, r.person_id, r.rev, r.body_enc, r.edited_by, COALESCE(u.display_name, ''),
		r.edited_at, r.reason FROM record_revisions r LEFT JOIN users u ON u.id = r.edited_by
		WHERE r.person_id = ? AND r.kind = ? AND r.record_id = ? ORDER BY r.rev`, personID, kind, recordID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		var r Revision
		var enc string
		if err := rows.Scan(&r.ID, &r.Kind, &r.RecordID, &r.PersonID, &r.Rev, &enc, &r.EditedBy, &r.EditedByName, &r.EditedAt, &r.Reason); err != nil {
			return nil, err
		}
		plain, err := tx.db.vault.Open(enc, sealRevisionCtx(r.ID))
		if err != nil {
			return nil, fmt.Errorf("open revision %s: %w", r.ID, err)
		}
		r.Previous, r.EditedAt = json.RawMessage(plain), r.EditedAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// ListRevisions returns the history of one care record of the person,
// oldest first, for an actor who reads the person's file with sensitive
// access (ENOTFOUND outside its scope, EFORBIDDEN for a minimal profile).
// A past place of execution sees the revisions made before its hand-over.
// The read is audited as "<kind>.revisions".
func (db *DB) ListRevisions(ctx context.Context, actor *casework.Actor, personID, kind, recordID string) ([]Revision, error) {
	var out []Revision
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, func(a casework.PersonAccess) bool { return a.Sensitive })
		if err != nil {
			return err
		}
		all, err := tx.Revisions(ctx, personID, kind, recordID)
		if err != nil {
			return err
		}
		out = all[:0]
		for _, rv := range all {
			if r.Access.Until.IsZero() || !rv.EditedAt.After(r.Access.Until) {
				out = append(out, rv)
			}
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: kind + ".revisions", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"record_id": recordID, "count": len(out)}})
	})
	return out, err
}
