package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/vault"
)

// Field-key rotation (issue 3 §1). The field keys are derived from the
// secret key by id (Keys.FieldKey); the id sealing new values is kept in the
// settings table under keySetting. Every server re-reads it before a seal at
// most every KeyRefreshEvery (the keyring's source, set in Open), so after
// `kangfu rotate-key` switches the id, running servers seal under the new
// key within that time without a restart. Values keep naming the key that
// sealed them, so old and new values open side by side while the rotation
// re-encrypts them in small batches (each its own transaction): no downtime.
// Blind indexes (HMAC) use their own key and do not change.

const keySetting = "vault.current_key"

// KeyRefreshEvery is how often a running server re-reads the current field
// key id (before a seal, never in the background).
const KeyRefreshEvery = 30 * time.Second

// currentKeyID reads the current field key id from the settings table;
// "k1" when none was ever set.
func (db *DB) currentKeyID() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var id string
	err := db.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = '`+keySetting+`'`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "k1", nil
	}
	if err != nil {
		return "", fmt.Errorf("read current field key id: %w", err)
	}
	return id, nil
}

// sealedTable lists the sealed columns of a table and the context each value
// is sealed with (it must match the code that seals them). key is the SQL
// expression naming a row ("" for the id column): the context is built from
// it, and rotations walk the table in its order.
type sealedTable struct {
	table   string
	columns []string
	context func(column, id string) string
	key     string
}

// keyExpr is the SQL expression naming a row of t.
func (t sealedTable) keyExpr() string {
	if t.key == "" {
		return "id"
	}
	return t.key
}

// SealedColumn is one sealed column: a rotation re-encrypts every value in
// it. Key is the SQL expression naming a row and Context the seal context
// of the row named k.
type SealedColumn struct {
	Table, Column, Key string
	Context            func(k string) string
}

// SealedColumns lists every sealed column of the schema (tests check the
// list against the schema, so a new sealed column cannot be left out of key
// rotations).
func SealedColumns() []SealedColumn {
	var out []SealedColumn
	for _, t := range sealedTables {
		for _, c := range t.columns {
			out = append(out, SealedColumn{Table: t.table, Column: c, Key: t.keyExpr(), Context: func(k string) string { return t.context(c, k) }})
		}
	}
	return out
}

var personSealCtx = map[string]string{"id_number_enc": "id", "phone_enc": "phone", "household_addr_enc": "household",
	"residence_addr_enc": "residence", "contacts_enc": "contacts", "health_enc": "health", "drug_history_enc": "drug",
	"special_enc": "special"}

// GroupPhoneContext is the seal context of working_group.phone_enc: code
// that stores a working-group member's phone must seal it with this.
func GroupPhoneContext(memberID string) string { return "group.phone:" + memberID }

var sealedTables = []sealedTable{
	{"persons", []string{"id_number_enc", "phone_enc", "household_addr_enc", "residence_addr_enc", "contacts_enc", "health_enc", "drug_history_enc", "special_enc"},
		func(col, id string) string { return sealCtx(personSealCtx[col], id) }, ""},
	{"users", []string{"totp_secret"}, func(_, id string) string { return "user.totp:" + id }, ""},
	{"working_group", []string{"phone_enc"}, func(_, id string) string { return GroupPhoneContext(id) }, ""},
	{"corrections", []string{"changes"}, func(_, id string) string { return "correction:" + id }, ""},
	// Psychological services (psych.go, psych_scales.go).
	{"counselling_sessions", []string{"notes_enc"}, func(_, id string) string { return sealNotesCtx(id) }, ""},
	{"scale_administrations", []string{"answers_enc", "followup_note_enc"}, func(col, id string) string { return scaleSealCtx(col, id) }, ""},
	{"help_plans", []string{"plan_enc"}, func(_, id string) string { return sealPlanCtx(id) }, ""},
	{"help_reviews", []string{"note_enc"}, func(_, id string) string { return sealReviewCtx(id) }, ""},
	{"assistance", []string{"detail_enc"}, func(_, id string) string { return sealAidCtx(id) }, ""},
	// Check-ins, tests, draws, visits, leave, risk and revisions.
	{"checkins", []string{"loc_enc"}, func(_, id string) string { return "checkin.loc:" + id }, ""},
	{"checkins", []string{"face_embedding"}, func(_, id string) string { return "checkin.face:" + id }, ""},
	{"face_references", []string{"embedding_enc"}, func(_, id string) string { return faceRefEmbCtx(id) }, ""},
	{"drug_tests", []string{"result_enc"}, func(_, id string) string { return sealDrugCtx(id) }, ""},
	{"draw_seeds", []string{"seed_enc"}, func(_, k string) string { return "draw_seed:" + k }, "org_id || ':' || period"},
	{"visits", []string{"body_enc"}, func(_, id string) string { return sealVisitCtx(id) }, ""},
	{"residence_geocodes", []string{"loc_enc"}, func(_, id string) string { return sealResidenceCtx(id) }, "person_id"},
	{"leaves", []string{"address_enc"}, func(_, id string) string { return leaveSealCtx(id) }, ""},
	{"risk_assessments", []string{"input_enc"}, func(_, id string) string { return riskSealCtx(id) }, ""},
	{"record_revisions", []string{"body_enc"}, func(_, id string) string { return sealRevisionCtx(id) }, ""},
}

// RotateOptions tune RotateKey.
type RotateOptions struct {
	// Resume re-encrypts under the current key without switching to a new
	// one (to finish a rotation that was interrupted).
	Resume bool
	// BatchSize is the number of rows per transaction (default 200).
	BatchSize int
	// Grace is how long to wait after the switch before a last sweep, so
	// values sealed by servers that had not yet re-read the id are caught
	// too (default KeyRefreshEvery + 5s; negative: no wait and no last sweep).
	Grace time.Duration
	// Progress, when set, is called after each batch.
	Progress func(table string, rotated int)
}

// ColumnCount is what a rotation did to one sealed column.
type ColumnCount struct {
	Table, Column string
	Rotated       int // re-encrypted by this run
	Current       int // values under the new key at the end (including Rotated)
	Old           int // values still under older keys at the end (should be only Failed)
}

// RotateReport says what RotateKey did.
type RotateReport struct {
	From, To string
	Columns  []ColumnCount
	Failed   []string // "table.column id": values that do not decrypt
}

// Rotated is the number of values re-encrypted.
func (r *RotateReport) Rotated() int {
	n := 0
	for _, c := range r.Columns {
		n += c.Rotated
	}
	return n
}

// RotateKey switches the field key to the next id (k1 → k2 …) and
// re-encrypts every sealed value under it, in batches of their own
// transactions, so the servers keep running. Values already under the new
// key are skipped: it is safe to run again. A value that does not decrypt
// is named in the report and in the error, and the rest still rotate.
func (db *DB) RotateKey(ctx context.Context, opt RotateOptions) (*RotateReport, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 200
	}
	if opt.Grace == 0 {
		opt.Grace = KeyRefreshEvery + 5*time.Second
	}
	rep := &RotateReport{}
	err := db.Write(ctx, func(tx *Tx) error {
		var cur string
		err := tx.QueryRow(ctx, `SELECT value FROM settings WHERE name = ?`+tx.forUpdate(), keySetting).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			cur = "k1"
		} else if err != nil {
			return err
		}
		rep.From, rep.To = cur, cur
		if opt.Resume {
			return nil
		}
		if rep.To, err = vault.NextID(cur); err != nil {
			return fmt.Errorf("current field key: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, keySetting, rep.To)
		if err != nil {
			return err
		}
		return tx.Audit(ctx, casework.SystemActor("rotate-key"), AuditEntry{Action: "key.rotate", TargetType: "settings", TargetID: keySetting,
			Detail: map[string]any{"from": rep.From, "to": rep.To}})
	})
	if err != nil {
		return nil, fmt.Errorf("switch field key: %w", err)
	}
	switched := time.Now()
	if err := db.vault.SetCurrent(rep.To); err != nil {
		return nil, err
	}
	failed := map[string]bool{}
	counts := map[string]*ColumnCount{}
	for _, t := range sealedTables {
		for _, c := range t.columns {
			cc := &ColumnCount{Table: t.table, Column: c}
			counts[t.table+"."+c] = cc
		}
	}
	sweep := func() error {
		for _, t := range sealedTables {
			if err := db.rotateTable(ctx, t, rep.To, opt, counts, failed); err != nil {
				return err
			}
		}
		return nil
	}
	if err := sweep(); err != nil {
		return rep, err
	}
	if opt.Grace > 0 {
		// Servers that sealed under the old id before re-reading it: wait
		// until all have re-read it, then catch what they wrote.
		select {
		case <-time.After(time.Until(switched.Add(opt.Grace))):
		case <-ctx.Done():
			return rep, ctx.Err()
		}
		if err := sweep(); err != nil {
			return rep, err
		}
	}
	err = db.Read(ctx, func(tx *Tx) error {
		for _, t := range sealedTables {
			for _, c := range t.columns {
				cc := counts[t.table+"."+c]
				err := tx.QueryRow(ctx, `SELECT COUNT(CASE WHEN `+c+` LIKE ? THEN 1 END), COUNT(CASE WHEN `+c+` <> '' AND `+c+` NOT LIKE ? THEN 1 END) FROM `+t.table,
					rep.To+":%", rep.To+":%").Scan(&cc.Current, &cc.Old)
				if err != nil {
					return err
				}
				rep.Columns = append(rep.Columns, *cc)
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	for k := range failed {
		rep.Failed = append(rep.Failed, k)
	}
	if len(rep.Failed) > 0 {
		return rep, fmt.Errorf("%d sealed values do not decrypt (altered, or sealed with another secret key) and were left as they are: %s",
			len(rep.Failed), strings.Join(first(rep.Failed, 5), "; "))
	}
	return rep, nil
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

// rotateTable re-seals, batch by batch in id order, the values of t not
// under key to. Each batch is one transaction; an update applies only if
// the value is still the one read (a concurrent edit wins and is caught by
// the next sweep when needed).
func (db *DB) rotateTable(ctx context.Context, t sealedTable, to string, opt RotateOptions, counts map[string]*ColumnCount, failed map[string]bool) error {
	var stale []string
	for _, c := range t.columns {
		stale = append(stale, `(`+c+` <> '' AND `+c+` NOT LIKE ?)`)
	}
	key := t.keyExpr()
	q := `SELECT ` + key + `, ` + strings.Join(t.columns, ", ") + ` FROM ` + t.table + ` WHERE ` + key + ` > ? AND (` + strings.Join(stale, " OR ") + `) ORDER BY ` + key + ` LIMIT ?`
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rotated := 0, 0
		err := db.Write(ctx, func(tx *Tx) error {
			args := []any{after}
			for range t.columns {
				args = append(args, to+":%")
			}
			rows, err := tx.Query(ctx, q, append(args, opt.BatchSize)...)
			if err != nil {
				return fmt.Errorf("read %s: %w", t.table, err)
			}
			type row struct {
				id   string
				vals []string
			}
			var batch []row
			for rows.Next() {
				r := row{vals: make([]string, len(t.columns))}
				dst := []any{&r.id}
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
			n = len(batch)
			for _, r := range batch {
				after = r.id
				var set, where []string
				var setArgs, whereArgs []any
				for i, c := range t.columns {
					old := r.vals[i]
					if old == "" || vault.KeyID(old) == to {
						continue
					}
					cx := t.context(c, r.id)
					plain, err := db.vault.Open(old, cx)
					if err != nil {
						failed[t.table+"."+c+" "+r.id] = true
						continue
					}
					sealed, err := db.vault.SealWith(to, plain, cx)
					if err != nil {
						return err
					}
					set, setArgs = append(set, c+" = ?"), append(setArgs, sealed)
					where, whereArgs = append(where, c+" = ?"), append(whereArgs, old)
				}
				if len(set) == 0 {
					continue
				}
				res, err := tx.Exec(ctx, `UPDATE `+t.table+` SET `+strings.Join(set, ", ")+` WHERE `+key+` = ? AND `+strings.Join(where, " AND "),
					append(append(setArgs, r.id), whereArgs...)...)
				if err != nil {
					return fmt.Errorf("update %s %s: %w", t.table, r.id, err)
				}
				if k, _ := res.RowsAffected(); k == 1 {
					for _, s := range set {
						counts[t.table+"."+strings.TrimSuffix(s, " = ?")].Rotated++
					}
					rotated += len(set)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if opt.Progress != nil && n > 0 {
			opt.Progress(t.table, rotated)
		}
		if n < opt.BatchSize {
			return nil
		}
	}
}
