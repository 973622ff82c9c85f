package store

import (
	"context"
	"crypto/hkdf"
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
	"kangfu/internal/vault"
)

// Master key rotation (issue 15, "the master key itself can be rotated").
// The secret key (KANGFU_SECRET_KEY) keys the field keys, the blind
// indexes, the audit chain and the checkpoint signatures. RotateMaster
// moves a database from one secret key to another while the servers are
// stopped:
//
//  1. it checks the audit chain under the old key and records its start in
//     a state row (masterRotationSetting);
//  2. it re-encrypts every sealed value under a new field key id derived
//     from the new secret, and recomputes the blind indexes of every
//     person, batch by batch, each batch one transaction that also advances
//     the state row, so an interrupted run resumes where it stopped;
//  3. in one last transaction it appends the link row "key.master_rotate":
//     its detail carries the new key's fingerprint, a digest of every row
//     before it, and a MAC under the OLD audit key over the last row's hash
//     and the new fingerprint; the link row and every later row are keyed
//     with the NEW audit key, and so is the head. The database then records
//     the new key's fingerprint, and a server started with the old key is
//     refused (CheckKey). Two-step recovery codes are keyed hashes of
//     codes not kept anywhere: they are dropped, and their holders make new
//     ones.
//
// VerifyAuditWith checks a chain across the link: with the old key given it
// checks the old rows row by row and the link's MAC; with the new key alone
// it checks the old rows against the digest the link recorded.

const (
	// keyFingerprintSetting holds the fingerprint of the secret key the
	// database is keyed with.
	keyFingerprintSetting = "vault.key_fingerprint"
	// masterRotationSetting holds the state of a master key rotation in
	// progress (JSON masterState); absent when none is.
	masterRotationSetting = "vault.master_rotation"
	// masterRotateAction is the audit action of the link row.
	masterRotateAction = "key.master_rotate"
)

// Fingerprint names the secret key without revealing it: 16 bytes of HKDF
// of the secret, in hex. Two servers with the same key agree on it.
func (k *Keys) Fingerprint() string {
	if len(k.secret) == 0 {
		sum := sha256.Sum256(append([]byte("kangfu key fingerprint v1\n"), k.Audit...))
		return hex.EncodeToString(sum[:16])
	}
	b, err := hkdf.Key(sha256.New, k.secret, nil, "kangfu key fingerprint v1", 16)
	if err != nil {
		panic(err) // only for a length hkdf cannot produce
	}
	return hex.EncodeToString(b)
}

// ErrKeyMismatch: the secret key is not the one the database is keyed with.
var ErrKeyMismatch = errors.New("secret key fingerprint mismatch")

// ErrMasterRotationPending: a master key rotation was started and not
// finished; the database is half under each key.
var ErrMasterRotationPending = errors.New("a master key rotation is in progress")

// CheckKey refuses a secret key other than the one the database is keyed
// with (after `kangfu rotate-master`, the old key) and a database whose
// master key rotation was interrupted. A database that has not recorded its
// key yet records this one when record is set, unless the audit head is
// keyed by another key.
func (db *DB) CheckKey(ctx context.Context, record bool) error {
	mine := db.keys.Fingerprint()
	var have, pending string
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		if have, err = tx.setting(ctx, keyFingerprintSetting); err != nil {
			return err
		}
		pending, err = tx.setting(ctx, masterRotationSetting)
		return err
	})
	if err != nil {
		return fmt.Errorf("check secret key: %w", err)
	}
	if pending != "" {
		var st masterState
		_ = json.Unmarshal([]byte(pending), &st)
		return fmt.Errorf("%w (from key %s to key %s): finish it with `kangfu rotate-master` before starting a server", ErrMasterRotationPending, st.From, st.To)
	}
	if have != "" && have != mine {
		return fmt.Errorf("%w: this secret key is %s, the database is keyed with %s (after `kangfu rotate-master` the old key no longer opens it: use the new one)",
			ErrKeyMismatch, mine, have)
	}
	if have != "" || !record {
		return nil
	}
	return db.Write(ctx, func(tx *Tx) error {
		var seq int64
		var hash, mac string
		if err := tx.QueryRow(ctx, `SELECT seq, hash, mac FROM audit_head WHERE id = 1`).Scan(&seq, &hash, &mac); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		if mac != "" && !hmac.Equal([]byte(mac), []byte(headMAC(db.keys.Audit, seq, hash))) {
			return fmt.Errorf("%w: this secret key (%s) did not key this database's audit log", ErrKeyMismatch, mine)
		}
		_, err := tx.Exec(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, keyFingerprintSetting, mine)
		return err
	})
}

// setting reads a settings row; "" when there is none.
func (tx *Tx) setting(ctx context.Context, name string) (string, error) {
	var v string
	err := tx.QueryRow(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func (tx *Tx) putSetting(ctx context.Context, name, value string) error {
	_, err := tx.Exec(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return err
}

// masterState is the progress of a master key rotation, kept in the
// settings table so an interrupted run resumes.
type masterState struct {
	From     string `json:"from"`      // fingerprint of the old key
	To       string `json:"to"`        // fingerprint of the new key
	FieldKey string `json:"field_key"` // the field key id (derived from the new secret) values are re-sealed under
	HeadSeq  int64  `json:"head_seq"`  // the audit head when the rotation began
	Table    int    `json:"table"`     // index in sealedTables of the table in progress
	After    string `json:"after"`     // the last row key done in that table
	Started  string `json:"started"`
}

// masterLink is the detail of a "key.master_rotate" audit row.
type masterLink struct {
	Seq           int64  `json:"-"`
	From          string `json:"from"`
	To            string `json:"to"`
	LinkMAC       string `json:"link_mac"`
	PriorDigest   string `json:"prior_digest"`
	CheckpointKey string `json:"old_checkpoint_key"`
	FieldKey      string `json:"field_key"`
}

// masterLinkMAC is the handover: HMAC-SHA256 under the OLD audit key over
// the last row before the link (its seq and hash) and the new key's
// fingerprint. Only a holder of the old key can make it.
func masterLinkMAC(oldAudit []byte, seq int64, lastHash, newFingerprint string) string {
	m := hmac.New(sha256.New, oldAudit)
	fmt.Fprintf(m, "kangfu master key link v1\n%d\n%s\n%s", seq, lastHash, newFingerprint)
	return hex.EncodeToString(m.Sum(nil))
}

// auditDigest extends a running SHA-256 digest of the chain by row r (its
// content, link and hash): a rotation link records the digest of every row
// before it, so the old rows can be checked without the old key.
func auditDigest(d []byte, r *AuditRecord) []byte {
	fields, _ := json.Marshal([]any{r.Seq, r.ID, r.At.UTC().Format(time.RFC3339Nano), r.ActorID, r.ActorName, r.IP,
		r.Action, r.TargetType, r.TargetID, r.OrgID, r.OrgPath, r.Reason, r.Detail, r.PrevHash, r.Hash})
	h := sha256.New()
	h.Write(d)
	h.Write(fields)
	return h.Sum(nil)
}

// masterLinks reads the rotation links of the chain, oldest first.
func (tx *Tx) masterLinks(ctx context.Context) ([]masterLink, error) {
	rows, err := tx.Query(ctx, `SELECT seq, detail FROM audit_log WHERE action = ? ORDER BY seq`, masterRotateAction)
	if err != nil {
		return nil, fmt.Errorf("read master key rotations: %w", err)
	}
	defer rows.Close()
	var out []masterLink
	for rows.Next() {
		var l masterLink
		var detail string
		if err := rows.Scan(&l.Seq, &detail); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(detail), &l); err != nil || l.From == "" || l.To == "" {
			return nil, &AuditBreak{Seq: l.Seq, Reason: "the master key rotation row does not name its keys"}
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// MasterRotateOptions tune RotateMaster.
type MasterRotateOptions struct {
	BatchSize int // rows per transaction (default 200)
	// Progress, when set, is called after each batch with the values
	// re-sealed so far.
	Progress func(table string, values int)
	// AfterBatch, when set, is called after each committed batch; an error
	// stops the rotation there (tests interrupt it so).
	AfterBatch func(table string) error
	// BeforeSwitch, when set, is called once every value is under the new
	// field key id fieldKey and before the last transaction switches the
	// database to the new key: what else is sealed with keys derived from
	// the secret (the objects of a bucket, blob/reseal.go) is re-sealed
	// then. An error stops the rotation before the switch; run again, it
	// resumes and calls BeforeSwitch again.
	BeforeSwitch func(ctx context.Context, fieldKey string) error
}

// MasterRotateReport says what RotateMaster did.
type MasterRotateReport struct {
	From, To    string // key fingerprints
	FieldKey    string // the field key id values are sealed under now
	Resumed     bool   // an interrupted rotation was finished
	AlreadyDone bool   // the database was already keyed with the new key
	Values      int    // values re-sealed by this run
	Persons     int    // persons whose blind indexes this run recomputed
	LinkSeq     int64  // the audit row linking the old key to the new
	// RecoveryUsers are the accounts whose unused two-step recovery codes
	// were dropped: they are keyed hashes of codes nobody stored, so they
	// cannot be carried over (the authenticator app keeps working).
	RecoveryUsers int
}

// RotateMaster re-keys the database from this DB's secret key to newKeys
// (see the package comment above). Run it with every server stopped: a
// server still writing under the old key is caught when the audit log grows
// during the run (the rotation stops, and resumes once they are stopped).
// After it returns without error this DB's keys are stale: close it and
// open the database with the new key.
func (db *DB) RotateMaster(ctx context.Context, newKeys *Keys, opt MasterRotateOptions) (*MasterRotateReport, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 200
	}
	rep := &MasterRotateReport{From: db.keys.Fingerprint(), To: newKeys.Fingerprint()}
	if rep.From == rep.To {
		return nil, errors.New("the new secret key is the current one")
	}
	var st masterState
	var have, pending string
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		if have, err = tx.setting(ctx, keyFingerprintSetting); err != nil {
			return err
		}
		pending, err = tx.setting(ctx, masterRotationSetting)
		return err
	})
	if err != nil {
		return nil, err
	}
	switch {
	case pending != "":
		if err := json.Unmarshal([]byte(pending), &st); err != nil {
			return nil, fmt.Errorf("master key rotation state: %w", err)
		}
		if st.To != rep.To {
			return nil, fmt.Errorf("an interrupted rotation to another key (%s) is in progress: finish it with that key", st.To)
		}
		if st.From != rep.From {
			return nil, fmt.Errorf("%w: the interrupted rotation started from key %s, this secret key is %s", ErrKeyMismatch, st.From, rep.From)
		}
		rep.Resumed = true
		if err := db.restartIfLogGrew(ctx, &st); err != nil {
			return nil, err
		}
	case have == rep.To:
		rep.AlreadyDone = true
		return rep, nil
	case have != "" && have != rep.From:
		return nil, fmt.Errorf("%w: this secret key is %s, the database is keyed with %s", ErrKeyMismatch, rep.From, have)
	default:
		// The link will vouch for the chain as it stands: it must hold.
		if _, err := db.VerifyAudit(ctx); err != nil {
			return nil, fmt.Errorf("the audit chain does not verify under the current key, so it is not carried over to a new one: %w", err)
		}
		err := db.Write(ctx, func(tx *Tx) error {
			cur, err := tx.setting(ctx, keySetting)
			if err != nil {
				return err
			}
			if cur == "" {
				cur = "k1"
			}
			if st.FieldKey, err = vault.NextID(cur); err != nil {
				return fmt.Errorf("current field key: %w", err)
			}
			if err := tx.QueryRow(ctx, `SELECT seq FROM audit_head WHERE id = 1`).Scan(&st.HeadSeq); err != nil {
				return fmt.Errorf("audit head: %w", err)
			}
			st.From, st.To, st.Started = rep.From, rep.To, db.Now().UTC().Format(time.RFC3339)
			return tx.putMasterState(ctx, &st)
		})
		if err != nil {
			return nil, fmt.Errorf("begin master key rotation: %w", err)
		}
	}
	rep.FieldKey = st.FieldKey
	newVault, err := vault.NewDerived(st.FieldKey, newKeys.FieldKey, newKeys.Index)
	if err != nil {
		return nil, err
	}
	for pass := 0; ; pass++ {
		if err := db.resealAll(ctx, &st, newVault, opt, rep); err != nil {
			return rep, err
		}
		left, err := db.sealedNotUnder(ctx, st.FieldKey)
		if err != nil {
			return rep, err
		}
		if left == 0 {
			break
		}
		if pass > 0 {
			return rep, fmt.Errorf("%d sealed values are still under the old key after a second pass: a server is still writing; stop every server and run rotate-master again", left)
		}
		// Written behind the cursor (by a server that is still running):
		// walk again from the start.
		err = db.Write(ctx, func(tx *Tx) error {
			st.Table, st.After = 0, ""
			return tx.putMasterState(ctx, &st)
		})
		if err != nil {
			return rep, err
		}
	}
	if opt.BeforeSwitch != nil {
		if err := opt.BeforeSwitch(ctx, st.FieldKey); err != nil {
			return rep, err
		}
	}
	err = db.Write(ctx, func(tx *Tx) error {
		var seq int64
		var hash string
		if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+tx.forUpdate()).Scan(&seq, &hash); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		if seq != st.HeadSeq {
			return serverRunning(st.HeadSeq, seq)
		}
		digest, err := tx.chainDigest(ctx)
		if err != nil {
			return err
		}
		pub, err := db.keys.checkpointPublicKey()
		if err != nil {
			return err
		}
		link := masterLink{From: rep.From, To: rep.To, LinkMAC: masterLinkMAC(db.keys.Audit, seq, hash, rep.To),
			PriorDigest: hex.EncodeToString(digest), CheckpointKey: pub, FieldKey: st.FieldKey}
		b, _ := json.Marshal(link)
		var detail map[string]any
		_ = json.Unmarshal(b, &detail)
		if err := tx.auditKeyed(ctx, newKeys.Audit, casework.SystemActor("rotate-master"), AuditEntry{Action: masterRotateAction,
			TargetType: "settings", TargetID: keyFingerprintSetting, Detail: detail}); err != nil {
			return err
		}
		rep.LinkSeq = seq + 1
		if err := tx.QueryRow(ctx, `SELECT COUNT(DISTINCT user_id) FROM recovery_codes WHERE used_at IS NULL`).Scan(&rep.RecoveryUsers); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes`); err != nil {
			return err
		}
		if err := tx.putSetting(ctx, keyFingerprintSetting, rep.To); err != nil {
			return err
		}
		if err := tx.putSetting(ctx, keySetting, st.FieldKey); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM settings WHERE name = ?`, masterRotationSetting)
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("link the audit chain to the new key: %w", err)
	}
	return rep, nil
}

// restartIfLogGrew handles a rotation stopped because a server was still
// writing: the rows it added are part of the old chain (they must verify
// under the old key), and values it sealed may sit behind the cursor, so
// the walk starts again from the first table (values already under the new
// key are only re-indexed).
func (db *DB) restartIfLogGrew(ctx context.Context, st *masterState) error {
	var seq int64
	if err := db.Read(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `SELECT seq FROM audit_head WHERE id = 1`).Scan(&seq)
	}); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	if seq == st.HeadSeq {
		return nil
	}
	if _, err := db.VerifyAudit(ctx); err != nil {
		return fmt.Errorf("the audit chain does not verify under the current key, so it is not carried over to a new one: %w", err)
	}
	return db.Write(ctx, func(tx *Tx) error {
		st.HeadSeq, st.Table, st.After = seq, 0, ""
		return tx.putMasterState(ctx, st)
	})
}

func serverRunning(from, to int64) error {
	return fmt.Errorf("the audit log grew from row %d to row %d during the master key rotation: a server is still running. "+
		"Stop every server, then run rotate-master again with the same keys to resume", from, to)
}

func (tx *Tx) putMasterState(ctx context.Context, st *masterState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return tx.putSetting(ctx, masterRotationSetting, string(b))
}

// chainDigest is the running digest (auditDigest) of the whole chain.
func (tx *Tx) chainDigest(ctx context.Context) ([]byte, error) {
	rows, err := tx.Query(ctx, `SELECT seq, id, at, actor_id, actor_name, ip, action, target_type, target_id, org_id, org_path, reason, detail, prev_hash, hash
		FROM audit_log ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var d []byte
	for rows.Next() {
		var r AuditRecord
		if err := rows.Scan(&r.Seq, &r.ID, &r.At, &r.ActorID, &r.ActorName, &r.IP, &r.Action, &r.TargetType, &r.TargetID,
			&r.OrgID, &r.OrgPath, &r.Reason, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
			return nil, err
		}
		d = auditDigest(d, &r)
	}
	return d, rows.Err()
}

// sealedNotUnder counts the sealed values not under field key id.
func (db *DB) sealedNotUnder(ctx context.Context, id string) (int, error) {
	total := 0
	err := db.Read(ctx, func(tx *Tx) error {
		for _, t := range sealedTables {
			for _, c := range t.columns {
				var n int
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+t.table+` WHERE `+c+` <> '' AND `+c+` NOT LIKE ?`, id+":%").Scan(&n); err != nil {
					return err
				}
				total += n
			}
		}
		return nil
	})
	return total, err
}

// resealAll walks the sealed tables from the state's cursor, re-sealing
// every value under the new secret's field key and recomputing the persons'
// blind indexes; each batch commits with the cursor advanced.
func (db *DB) resealAll(ctx context.Context, st *masterState, newVault *vault.Keyring, opt MasterRotateOptions, rep *MasterRotateReport) error {
	open := func(v, cx string) (string, error) {
		if vault.KeyID(v) == st.FieldKey {
			return newVault.Open(v, cx)
		}
		return db.vault.Open(v, cx)
	}
	for st.Table < len(sealedTables) {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := sealedTables[st.Table]
		key := t.keyExpr()
		isPersons := t.table == "persons"
		q := `SELECT ` + key + `, ` + strings.Join(t.columns, ", ") + ` FROM ` + t.table + ` WHERE ` + key + ` > ? ORDER BY ` + key + ` LIMIT ?`
		var next masterState
		var values, persons int
		err := db.Write(ctx, func(tx *Tx) error {
			values, persons = 0, 0
			var seq int64
			if err := tx.QueryRow(ctx, `SELECT seq FROM audit_head WHERE id = 1`).Scan(&seq); err != nil {
				return fmt.Errorf("audit head: %w", err)
			}
			if seq != st.HeadSeq {
				return serverRunning(st.HeadSeq, seq)
			}
			rows, err := tx.Query(ctx, q, st.After, opt.BatchSize)
			if err != nil {
				return fmt.Errorf("read %s: %w", t.table, err)
			}
			type row struct {
				key  string
				vals []string
			}
			var batch []row
			for rows.Next() {
				r := row{vals: make([]string, len(t.columns))}
				dst := []any{&r.key}
				for i := range r.vals {
					dst = append(dst, &r.vals[i])
				}
				if err := rows.Scan(dst...); err != nil {
					rows.Close()
					return err
				}
				batch = append(batch, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			next = *st
			for _, r := range batch {
				next.After = r.key
				var set []string
				var args []any
				plain := map[string]string{}
				for i, c := range t.columns {
					old := r.vals[i]
					if old == "" {
						continue
					}
					cx := t.context(c, r.key)
					p, err := open(old, cx)
					if err != nil {
						return fmt.Errorf("%s.%s of %s does not decrypt under the current key (%v): restore it from a backup, or clear it, before rotating", t.table, c, r.key, err)
					}
					plain[c] = p
					if vault.KeyID(old) == st.FieldKey {
						continue
					}
					sealed, err := newVault.SealWith(st.FieldKey, p, cx)
					if err != nil {
						return err
					}
					set, args = append(set, c+" = ?"), append(args, sealed)
				}
				if isPersons {
					// The blind indexes, as persons.go computes them.
					phoneIdx := ""
					if plain["phone_enc"] != "" {
						phoneIdx = newVault.Index("phone", casework.NormalizePhone(plain["phone_enc"]))
					}
					set = append(set, "id_number_idx = ?", "phone_idx = ?")
					args = append(args, newVault.Index("id", plain["id_number_enc"]), phoneIdx)
					persons++
				}
				if len(set) == 0 {
					continue
				}
				if _, err := tx.Exec(ctx, `UPDATE `+t.table+` SET `+strings.Join(set, ", ")+` WHERE `+key+` = ?`, append(args, r.key)...); err != nil {
					return fmt.Errorf("update %s %s: %w", t.table, r.key, err)
				}
				values += len(set)
				if isPersons {
					values -= 2
				}
			}
			if len(batch) < opt.BatchSize {
				next.Table, next.After = next.Table+1, ""
			}
			return tx.putMasterState(ctx, &next)
		})
		if err != nil {
			return err
		}
		*st = next
		rep.Values += values
		rep.Persons += persons
		if opt.Progress != nil {
			opt.Progress(t.table, rep.Values)
		}
		if opt.AfterBatch != nil {
			if err := opt.AfterBatch(t.table); err != nil {
				return err
			}
		}
	}
	return nil
}
