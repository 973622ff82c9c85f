package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// Correction is a requested change to an archived file (R30): it needs a
// reason, and a lead other than the requester approves it.
type Correction struct {
	ID          string
	PersonID    string
	Fields      []string
	Reason      string
	RequestedBy string
	RequestedAt time.Time
	State       string
	DecidedBy   string
}

// RequestCorrection asks for a change to an archived file. Anyone who could
// write the file before it was archived (or a lead) may ask.
func (db *DB) RequestCorrection(ctx context.Context, actor *casework.Actor, personID string, up PersonUpdate, reason string) (string, error) {
	if strings.TrimSpace(reason) == "" {
		return "", casework.Invalid("reason", "更正须说明原因", "a correction needs a reason")
	}
	if err := casework.CheckText("reason", reason, casework.MaxReason); err != nil {
		return "", err
	}
	b, err := json.Marshal(up)
	if err != nil {
		return "", err
	}
	var id string
	err = db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, func(a casework.PersonAccess) bool { return (a.Write || a.Approve) && a.Until.IsZero() })
		if err != nil {
			return err
		}
		if !r.Status.Final() {
			return casework.Errorf(casework.ECONFLICT, "档案未归档，可直接修改", "the file is not archived; edit it directly")
		}
		id = NewID()
		sealed, err := tx.db.vault.Seal(string(b), "correction:"+id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO corrections (id, person_id, changes, reason, requested_by, requested_at, state) VALUES (?, ?, ?, ?, ?, ?, 'pending')`,
			id, personID, sealed, reason, actor.UserID, tx.now); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "correction.request", TargetType: "person", TargetID: personID, OrgID: r.OrgID, Reason: reason,
			Detail: map[string]any{"correction_id": id}})
	})
	return id, err
}

// DecideCorrection approves (and applies) or rejects a correction. The
// approver is a lead over the file and not the requester: two people.
func (db *DB) DecideCorrection(ctx context.Context, actor *casework.Actor, correctionID string, approve bool, reason string) error {
	// The reason is free text with a cap (issue 15 §7), approving or not.
	if err := casework.CheckText("reason", reason, casework.MaxReason); err != nil {
		return err
	}
	return db.Write(ctx, func(tx *Tx) error {
		var personID, sealed, requester, state string
		err := tx.QueryRow(ctx, `SELECT person_id, changes, requested_by, state FROM corrections WHERE id = ?`+tx.forUpdate(), correctionID).Scan(&personID, &sealed, &requester, &state)
		if err != nil {
			return notFound(err, "更正申请", "correction")
		}
		r, err := tx.personFor(ctx, actor, personID, func(a casework.PersonAccess) bool { return a.Approve })
		if err != nil {
			return err
		}
		if state != "pending" {
			return casework.Errorf(casework.ECONFLICT, "该更正已处理", "the correction was already decided")
		}
		if requester == actor.UserID {
			return casework.Errorf(casework.EFORBIDDEN, "申请人不能批准自己的更正（须两人）", "the requester cannot approve their own correction (two people are needed)")
		}
		newState := "rejected"
		if approve {
			newState = "approved"
			plain, err := tx.db.vault.Open(sealed, "correction:"+correctionID)
			if err != nil {
				return err
			}
			var up PersonUpdate
			if err := json.Unmarshal([]byte(plain), &up); err != nil {
				return err
			}
			if err := tx.applyUpdate(ctx, actor, r, up, "person.correct", reason); err != nil {
				return err
			}
		} else if strings.TrimSpace(reason) == "" {
			return casework.Invalid("reason", "驳回须说明原因", "a reason is required to reject")
		}
		if _, err := tx.Exec(ctx, `UPDATE corrections SET state = ?, decided_by = ?, decided_at = ?, decision_reason = ? WHERE id = ?`,
			newState, actor.UserID, tx.now, reason, correctionID); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "correction." + newState, TargetType: "person", TargetID: personID, OrgID: r.OrgID, Reason: reason})
	})
}

// ListCorrections returns a person's corrections (fields only, no values).
func (db *DB) ListCorrections(ctx context.Context, actor *casework.Actor, personID string) ([]Correction, error) {
	var out []Correction
	err := db.Read(ctx, func(tx *Tx) error {
		if _, err := tx.personFor(ctx, actor, personID, nil); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, person_id, reason, requested_by, requested_at, state, decided_by FROM corrections WHERE person_id = ? ORDER BY requested_at DESC`, personID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c Correction
			if err := rows.Scan(&c.ID, &c.PersonID, &c.Reason, &c.RequestedBy, &c.RequestedAt, &c.State, &c.DecidedBy); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}
