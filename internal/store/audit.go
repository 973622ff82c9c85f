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
	"slices"
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
	// TargetName names the target for a reader: a person's name (masked to
	// its first character unless the reader may open the file), a user's
	// display name, an org's name; empty for other targets.
	TargetName string
	// TargetOpen says the reader may open the target's page (a person file
	// in the reader's read scope).
	TargetOpen bool
}

// Audit appends an entry to the hash chain inside the transaction, so the
// record and the change it describes commit together or not at all. The
// head row is locked first: appends are strictly serial on both engines.
func (tx *Tx) Audit(ctx context.Context, actor *casework.Actor, e AuditEntry) error {
	tx.breakGlassDetail(ctx, &e) // breakglass.go: a row of a read under a grant names it
	return tx.auditKeyed(ctx, tx.db.keys.Audit, actor, e)
}

// auditKeyed appends e keyed with key (the server's audit key, or the new
// one for the link row of a master key rotation).
func (tx *Tx) auditKeyed(ctx context.Context, key []byte, actor *casework.Actor, e AuditEntry) error {
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
	r.Hash = chainHash(key, &r)
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (seq, id, at, actor_id, actor_name, ip, action, target_type, target_id, org_id, org_path, reason, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Seq, r.ID, r.At, r.ActorID, r.ActorName, r.IP, r.Action, r.TargetType, r.TargetID, r.OrgID, r.OrgPath, r.Reason, r.Detail, r.PrevHash, r.Hash)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = ?, hash = ?, mac = ? WHERE id = 1`, r.Seq, r.Hash, headMAC(key, r.Seq, r.Hash)); err != nil {
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
//
// The head is keyed too (issue 15 §1): a head moved back over deleted rows
// fails its MAC. Checkpoints kept outside the database (AuditCheckpoint)
// catch a head replayed from an earlier state: each one's row must still be
// there with the hash it signed.
func (db *DB) VerifyAudit(ctx context.Context, checkpoints ...AuditCheckpoint) (int64, error) {
	rep, err := db.VerifyAuditWith(ctx, AuditVerifyOptions{Checkpoints: checkpoints})
	return rep.Rows, err
}

// AuditVerifyOptions are what VerifyAuditWith checks the chain with.
type AuditVerifyOptions struct {
	Checkpoints []AuditCheckpoint
	// OldKeys are keys the log was keyed with before master key rotations
	// (RotateMaster): the rows of their time are checked row by row, and
	// the rotation link's MAC under the old key. Without them those rows
	// are checked only against the digest the rotation link recorded.
	OldKeys []*Keys
}

// AuditVerifyReport says what VerifyAuditWith checked.
type AuditVerifyReport struct {
	Rows       int64
	Rotations  int   // master key rotation links crossed
	LinksKeyed int   // links whose MAC under the old key was checked
	Unkeyed    int64 // rows of an old key not given, checked only against a rotation link's digest
	// CheckpointKeys are the public keys accepted for checkpoint lines: this
	// server key's, the old keys', and those the rotation links recorded.
	CheckpointKeys []string
}

// VerifyAuditWith is VerifyAudit across master key rotations: the rows
// before each rotation are keyed with the key of their time, the link row
// and the rows after it with the next key (issue 15, master key rotation).
func (db *DB) VerifyAuditWith(ctx context.Context, opt AuditVerifyOptions) (AuditVerifyReport, error) {
	var rep AuditVerifyReport
	keys := map[string]*Keys{db.keys.Fingerprint(): db.keys}
	for _, k := range opt.OldKeys {
		keys[k.Fingerprint()] = k
	}
	checkpoints := opt.Checkpoints
	err := db.Read(ctx, func(tx *Tx) error {
		links, err := tx.masterLinks(ctx)
		if err != nil {
			return err
		}
		// epochs[i] is the key fingerprint of the rows from links[i-1] (the
		// link row itself is keyed with the new key) up to links[i].
		epochs := make([]string, len(links)+1)
		epochs[len(links)] = db.keys.Fingerprint()
		for i, l := range links {
			epochs[i] = l.From
			if i > 0 && links[i-1].To != l.From {
				return &AuditBreak{Seq: l.Seq, Reason: fmt.Sprintf("the master key rotation at this row starts from key %s, but the previous rotation went to key %s", l.From, links[i-1].To)}
			}
		}
		if n := len(links); n > 0 && links[n-1].To != db.keys.Fingerprint() {
			return fmt.Errorf("%w: the audit log was last re-keyed to key %s, this secret key is %s", ErrKeyMismatch, links[n-1].To, db.keys.Fingerprint())
		}
		pubs := map[string]bool{}
		for _, k := range keys {
			if p, err := k.checkpointPublicKey(); err == nil {
				pubs[p] = true
			}
		}
		for _, l := range links {
			if l.CheckpointKey != "" {
				pubs[l.CheckpointKey] = true
			}
		}
		for p := range pubs {
			rep.CheckpointKeys = append(rep.CheckpointKeys, p)
		}
		slices.Sort(rep.CheckpointKeys)
		for i := range checkpoints {
			if err := checkCheckpoint(&checkpoints[i], rep.CheckpointKeys); err != nil {
				return err
			}
		}
		want := map[int64]string{} // seq → the hash a checkpoint signed
		var last *AuditCheckpoint
		for i := range checkpoints {
			want[checkpoints[i].Seq] = checkpoints[i].Hash
			if last == nil || checkpoints[i].Seq > last.Seq {
				last = &checkpoints[i]
			}
		}

		rows, err := tx.Query(ctx, `SELECT seq, id, at, actor_id, actor_name, ip, action, target_type, target_id, org_id, org_path, reason, detail, prev_hash, hash
			FROM audit_log ORDER BY seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		var prevHash string
		var prevSeq int64
		var digest []byte
		epoch := 0
		for rows.Next() {
			var r AuditRecord
			if err := rows.Scan(&r.Seq, &r.ID, &r.At, &r.ActorID, &r.ActorName, &r.IP, &r.Action, &r.TargetType, &r.TargetID,
				&r.OrgID, &r.OrgPath, &r.Reason, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
				return err
			}
			rep.Rows++
			if epoch < len(links) && r.Seq == links[epoch].Seq {
				// The rotation link: everything before it is what the
				// rotation saw, and the old key vouches for the handover.
				l := links[epoch]
				if hex.EncodeToString(digest) != l.PriorDigest {
					return &AuditBreak{Seq: r.Seq, ID: r.ID, Reason: "the rows before this master key rotation differ from the ones the rotation recorded (a row before it was changed, added or removed)"}
				}
				if old := keys[l.From]; old != nil {
					if !hmac.Equal([]byte(l.LinkMAC), []byte(masterLinkMAC(old.Audit, prevSeq, r.PrevHash, l.To))) {
						return &AuditBreak{Seq: r.Seq, ID: r.ID, Reason: "the master key rotation link is not keyed by the old key (the link was forged)"}
					}
					rep.LinksKeyed++
				}
				rep.Rotations++
				epoch++
			}
			switch {
			case r.Seq != prevSeq+1:
				return &AuditBreak{Seq: prevSeq + 1, Reason: fmt.Sprintf("row missing: the sequence jumps from %d to %d", prevSeq, r.Seq)}
			case r.PrevHash != prevHash:
				return &AuditBreak{Seq: r.Seq, ID: r.ID, Reason: "its link to the previous row does not match (a row was inserted or removed before it)"}
			}
			if k := keys[epochs[epoch]]; k != nil {
				if !hmac.Equal([]byte(chainHash(k.Audit, &r)), []byte(r.Hash)) {
					return &AuditBreak{Seq: r.Seq, ID: r.ID, Reason: "its content does not match its hash (the row was changed)"}
				}
			} else {
				rep.Unkeyed++
			}
			if h, ok := want[r.Seq]; ok && h != r.Hash {
				return &AuditBreak{Seq: r.Seq, ID: r.ID, Reason: fmt.Sprintf("the row differs from checkpoint %d signed at %s (the log was rewritten after it)",
					r.Seq, checkpointAt(checkpoints, r.Seq))}
			}
			digest = auditDigest(digest, &r)
			prevHash, prevSeq = r.Hash, r.Seq
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if epoch < len(links) { // a link row not in the walk cannot happen: the pre-scan read it
			return &AuditBreak{Seq: links[epoch].Seq, Reason: "the master key rotation row is missing from the chain"}
		}
		if last != nil && last.Seq > prevSeq {
			return &AuditBreak{Seq: prevSeq + 1, Reason: fmt.Sprintf("%d rows missing after checkpoint %d: the checkpoint signed at %s vouches for rows up to %d, the chain ends at row %d",
				last.Seq-prevSeq, last.Seq, last.At.UTC().Format(time.RFC3339), last.Seq, prevSeq)}
		}
		var headSeq int64
		var headHash, mac string
		if err := tx.QueryRow(ctx, `SELECT seq, hash, mac FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash, &mac); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		if headSeq != prevSeq || headHash != prevHash {
			return &AuditBreak{Seq: prevSeq + 1, Reason: fmt.Sprintf("the chain ends at row %d but %d rows were written (rows removed from the end)", prevSeq, headSeq)}
		}
		if !hmac.Equal([]byte(mac), []byte(headMAC(db.keys.Audit, headSeq, headHash))) {
			return &AuditBreak{Seq: prevSeq + 1, Reason: fmt.Sprintf("the head (row %d) is not keyed by the server key: it was rewritten, rows may have been removed from the end", headSeq)}
		}
		return nil
	})
	if err != nil {
		rep.Rows = 0
	}
	return rep, err
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
		// The target's name comes with the row (issue 18 §8: names, not ids).
		rows, err := tx.Query(ctx, `SELECT a.seq, a.id, a.at, a.actor_id, a.actor_name, a.ip, a.action, a.target_type, a.target_id, a.org_id, COALESCE(o.name, ''), a.reason, a.detail,
			COALESCE(tp.name, tu.display_name, tor.name, ''), COALESCE(tpo.path, '')`+
			strings.Replace(from, ` WHERE `, ` LEFT JOIN persons tp ON a.target_type = 'person' AND tp.id = a.target_id AND tp.sealed_at IS NULL
			LEFT JOIN orgs tpo ON tpo.id = tp.org_id
			LEFT JOIN users tu ON a.target_type = 'user' AND tu.id = a.target_id
			LEFT JOIN orgs tor ON a.target_type = 'org' AND tor.id = a.target_id WHERE `, 1)+
			` ORDER BY a.seq DESC LIMIT ? OFFSET ?`, append(args, limit, max(f.Offset, 0))...)
		if err != nil {
			return fmt.Errorf("list audit: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r AuditRecord
			var personPath string
			if err := rows.Scan(&r.Seq, &r.ID, &r.At, &r.ActorID, &r.ActorName, &r.IP, &r.Action, &r.TargetType, &r.TargetID, &r.OrgID, &r.OrgName, &r.Reason, &r.Detail,
				&r.TargetName, &personPath); err != nil {
				return err
			}
			if r.TargetType == "person" && r.TargetName != "" {
				// An auditor reads who opened a file, not the file: the name
				// is masked unless the reader may open the file anyway (R36).
				if r.TargetOpen = actor.Can(casework.PermReadPersons, personPath); !r.TargetOpen {
					r.TargetName = casework.MaskName(r.TargetName)
				}
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
