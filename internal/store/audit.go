package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// AuditEntry is one thing to record in the audit log.
type AuditEntry struct {
	Action     string // e.g. "auth.login", "org.create", "person.read"
	TargetType string
	TargetID   string
	OrgID      string // the org the target belongs to; scopes who may read the row
	Reason     string
	Detail     map[string]any
}

// AuditRecord is a stored audit row.
type AuditRecord struct {
	Seq        int64
	ID         string
	At         time.Time
	ActorID    string
	ActorName  string
	IP         string
	Action     string
	TargetType string
	TargetID   string
	OrgID      string
	OrgPath    string // the org's path when the row was written
	OrgName    string
	Reason     string
	Detail     string
	PrevHash   string
	Hash       string
}

// Audit appends an entry to the hash chain inside the transaction, so the
// record and the change it describes commit together or not at all. The
// head row is locked first: appends are strictly serial on both engines.
func (tx *Tx) Audit(ctx context.Context, actor *casework.Actor, e AuditEntry) error {
	var seq int64
	var prev string
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+tx.forUpdate()).Scan(&seq, &prev)
	if err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	r := AuditRecord{Seq: seq + 1, ID: NewID(), At: tx.now, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, OrgID: e.OrgID, Reason: e.Reason, PrevHash: prev}
	if actor != nil {
		r.ActorID, r.ActorName, r.IP = actor.UserID, actor.Username, actor.IP
	}
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("audit detail: %w", err)
		}
		r.Detail = string(b)
	}
	if e.OrgID != "" {
		if err := tx.QueryRow(ctx, `SELECT path FROM orgs WHERE id = ?`, e.OrgID).Scan(&r.OrgPath); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("audit org path: %w", err)
		}
	}
	r.Hash = chainHash(tx.db.keys.Audit, &r)
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (seq, id, at, actor_id, actor_name, ip, action, target_type, target_id, org_id, org_path, reason, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Seq, r.ID, r.At, r.ActorID, r.ActorName, r.IP, r.Action, r.TargetType, r.TargetID, r.OrgID, r.OrgPath, r.Reason, r.Detail, r.PrevHash, r.Hash)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, r.Seq, r.Hash); err != nil {
		return fmt.Errorf("advance audit head: %w", err)
	}
	return nil
}

// chainHash is HMAC-SHA256 over the previous hash and every field of the
// row. Keyed, so someone who can write the database but lacks the server
// key cannot rebuild the chain after changing a row.
func chainHash(key []byte, r *AuditRecord) string {
	fields, _ := json.Marshal([]any{r.Seq, r.ID, r.At.UTC().Format(time.RFC3339Nano), r.ActorID, r.ActorName, r.IP,
		r.Action, r.TargetType, r.TargetID, r.OrgID, r.OrgPath, r.Reason, r.Detail})
	m := hmac.New(sha256.New, key)
	m.Write([]byte(r.PrevHash))
	m.Write([]byte{'\n'})
	m.Write(fields)
	return hex.EncodeToString(m.Sum(nil))
}

// AuditBreak describes the first place where the chain does not hold.
type AuditBreak struct {
	Seq    int64
	ID     string
	Reason string
}

func (b *AuditBreak) Error() string {
	if b.ID != "" {
		return fmt.Sprintf("audit chain broken at row %d (id %s): %s", b.Seq, b.ID, b.Reason)
	}
	return fmt.Sprintf("audit chain broken at row %d: %s", b.Seq, b.Reason)
}

// VerifyAudit walks the whole chain and returns the number of rows checked
// and, when the chain is broken, an *AuditBreak naming the first bad row: a
// changed row fails its hash, a removed row leaves a gap in the sequence or
// a head that points past the end, an inserted row fails the link or hash.
func (db *DB) VerifyAudit(ctx context.Context) (int64, error) {
	var n int64
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT seq, id, at, actor_id, actor_name, ip, action, target_type, target_id, org_id, org_path, reason, detail, prev_hash, hash
			FROM audit_log ORDER BY seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		var prevHash string
		var prevSeq int64
		for rows.Next() {
			var r AuditRecord
			if err := rows.Scan(&r.Seq, &r.ID, &r.At, &r.ActorID, &r.ActorName, &r.IP, &r.Action, &r.TargetType, &r.TargetID,
				&r.OrgID, &r.OrgPath, &r.Reason, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
				return err
			}
			n++
			switch {
			case r.Seq != prevSeq+1:
				return &AuditBreak{Seq: prevSeq + 1, Reason: fmt.Sprintf("row missing: the sequence jumps from %d to %d", prevSeq, r.Seq)}
			case r.PrevHash != prevHash:
				return &AuditBreak{Seq: r.Seq, ID: r.ID, Reason: "its link to the previous row does not match (a row was inserted or removed before it)"}
			case !hmac.Equal([]byte(chainHash(db.keys.Audit, &r)), []byte(r.Hash)):
				return &AuditBreak{Seq: r.Seq, ID: r.ID, Reason: "its content does not match its hash (the row was changed)"}
			}
			prevHash, prevSeq = r.Hash, r.Seq
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var headSeq int64
		var headHash string
		if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		if headSeq != prevSeq || headHash != prevHash {
			return &AuditBreak{Seq: prevSeq + 1, Reason: fmt.Sprintf("the chain ends at row %d but %d rows were written (rows removed from the end)", prevSeq, headSeq)}
		}
		return nil
	})
	return n, err
}

// AuditFilter selects audit rows; zero fields do not filter.
type AuditFilter struct {
	ActorName  string
	Action     string // prefix, e.g. "auth." or "person.read"
	TargetType string
	TargetID   string
	From, To   time.Time
	Offset     int
	Limit      int
}

// ListAudit returns audit rows, newest first, that the actor may read: rows
// about orgs in the subtrees where the actor holds PermReadAudit (by the
// org's current place in the tree, or where it stood when the row was
// written if the org is gone); rows tied to no org (a failed sign-in with
// an unknown name) only for a grant at a root.
func (db *DB) ListAudit(ctx context.Context, actor *casework.Actor, f AuditFilter) ([]AuditRecord, int, error) {
	paths := actor.Scope(casework.PermReadAudit)
	scope, args := scopeClause("COALESCE(o.path, a.org_path)", paths)
	for _, p := range paths {
		if strings.Count(p, "/") <= 2 { // "/" (the command line) or "/rootid/"
			scope = "(" + scope + " OR a.org_id = '')"
			break
		}
	}
	where := []string{scope}
	if f.ActorName != "" {
		where, args = append(where, "a.actor_name = ?"), append(args, f.ActorName)
	}
	if f.Action != "" {
		where, args = append(where, `a.action LIKE ? ESCAPE '\'`), append(args, likePrefix(f.Action))
	}
	if f.TargetType != "" {
		where, args = append(where, "a.target_type = ?"), append(args, f.TargetType)
	}
	if f.TargetID != "" {
		where, args = append(where, "a.target_id = ?"), append(args, f.TargetID)
	}
	if !f.From.IsZero() {
		where, args = append(where, "a.at >= ?"), append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		where, args = append(where, "a.at < ?"), append(args, f.To.UTC())
	}
	limit := clampLimit(f.Limit)
	from := ` FROM audit_log a LEFT JOIN orgs o ON o.id = a.org_id WHERE ` + strings.Join(where, " AND ")
	var out []AuditRecord
	var total int
	err := db.Read(ctx, func(tx *Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
			return fmt.Errorf("count audit: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT a.seq, a.id, a.at, a.actor_id, a.actor_name, a.ip, a.action, a.target_type, a.target_id, a.org_id, COALESCE(o.name, ''), a.reason, a.detail`+
			from+` ORDER BY a.seq DESC LIMIT ? OFFSET ?`, append(args, limit, max(f.Offset, 0))...)
		if err != nil {
			return fmt.Errorf("list audit: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r AuditRecord
			if err := rows.Scan(&r.Seq, &r.ID, &r.At, &r.ActorID, &r.ActorName, &r.IP, &r.Action, &r.TargetType, &r.TargetID, &r.OrgID, &r.OrgName, &r.Reason, &r.Detail); err != nil {
				return err
			}
			r.At = r.At.UTC()
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, total, err
}

// clampLimit bounds a page size to 1…500, 50 by default.
func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}
