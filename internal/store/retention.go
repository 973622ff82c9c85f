package store

// retention.go: retention and sealing (issue 15 "must add"; R38, R39).
//
//   - SealExpired (the nightly job) seals a file whose measure ended
//     (released, terminated, died) once the policy's retention.seal_years
//     have passed since that end, on the local date
//     of the place. Sealing is not deletion (R38): the rows stay, past
//     figures still count them; the file leaves lists, search, the inbox and
//     the person lists behind report figures, and personFor answers "not
//     found" to every normal role.
//   - A statutory query (RecordStatutoryQuery) is the only disclosure: the
//     office records who asks, the legal basis, the document number and the
//     reason, and may then read the file, read-only, for a day
//     (OpenStatutoryQuery). Each query and each read is audited with the
//     query id; auditors and the office list the queries.
//   - PurgeLogs removes security logs older than six months (R39) and
//     refuses anything younger; the audit log is never purged (its hash chain
//     is verified from the first row).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"kangfu/internal/casework"
)

// notSealed is the one predicate every org-level list or count of persons
// carries (R38: a sealed file is disclosed only on a statutory query). A
// list over persons p adds it to its WHERE; a list over records of persons
// joins them with `JOIN persons p ON p.id = x.person_id AND `+notSealed.
// Figures of past periods (reports.go) keep sealed persons in their counts
// and show them as a sealed row without a name; nothing else shows them.
// TestR38SealedInNoList lists every such query: a new list goes there too.
const notSealed = `p.sealed_at IS NULL`

// StatutoryQueryTTL is how long the office may read a sealed file after
// recording the query.
const StatutoryQueryTTL = 24 * time.Hour

// sealableEnds are the ends of a measure after which the file is sealed
// once the retention period has passed (R38: the revised 治安管理处罚法 Art
// 136 seals the drug-use record itself, whatever became of the measure):
// released at the term's end (R15), terminated (R14: prison, compulsory
// education, 强制隔离戒毒) and death. A transfer is no end (the measure goes
// on at the new place, R11), nor is a suspension (R13).
var sealableEnds = []any{string(casework.StatusReleased), string(casework.StatusTerminated), string(casework.StatusDeceased)}

// SealExpired seals the files whose measure ended (released, terminated or
// the person died) and whose retention period has passed since that end, in
// their place's zone (R38). Idempotent; returns how many it sealed.
func (db *DB) SealExpired(ctx context.Context) (int, error) {
	// Candidates: a file reopened for a new measure (ReopenSealed) waits
	// for it, or for ReopenGrace when none comes. The measure ended at least the least period before
	// tomorrow in UTC (no zone is more than a day ahead); each is judged in
	// its own zone.
	horizon := casework.DateOf(db.now().UTC().Add(24*time.Hour), time.UTC).AddYears(-casework.SealYearsDefault)
	var ids []string
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		ids, err = scanStrings(tx.Query(ctx, `SELECT p.id FROM persons p WHERE p.status IN (?, ?, ?) AND p.sealed_at IS NULL
			AND (SELECT m.ended_on FROM measures m WHERE m.person_id = p.id ORDER BY m.in_force DESC, m.created_at DESC LIMIT 1) <= ?
			AND (p.unsealed_at IS NULL OR p.unsealed_at <= ? OR EXISTS (SELECT 1 FROM measures m WHERE m.person_id = p.id AND m.created_at > p.unsealed_at))
			ORDER BY p.id`, append(slices.Clone(sealableEnds), horizon, db.now().Add(-ReopenGrace))...))
		return err
	})
	if err != nil {
		return 0, err
	}
	sys := casework.SystemActor("retention-job")
	n := 0
	var errs []error
	for _, id := range ids {
		sealedNow := false
		err := db.Write(ctx, func(tx *Tx) error {
			var orgID, status, mstatus string
			var ended casework.Date
			var sealed sql.NullTime
			// The current measure as syncPerson picks it: the one in force, else the latest.
			if err := tx.QueryRow(ctx, `SELECT p.org_id, p.sealed_at, p.status, m.status, m.ended_on FROM persons p
				JOIN measures m ON m.id = (SELECT m2.id FROM measures m2 WHERE m2.person_id = p.id ORDER BY m2.in_force DESC, m2.created_at DESC LIMIT 1)
				WHERE p.id = ?`, id).
				Scan(&orgID, &sealed, &status, &mstatus, &ended); err != nil {
				return err
			}
			if sealed.Valid || status != mstatus || !slices.Contains(sealableEnds, any(status)) || ended.IsZero() {
				return nil // sealed meanwhile, or a new measure
			}
			org, err := tx.orgByID(ctx, orgID)
			if err != nil {
				return err
			}
			today := tx.today(org)
			pol, err := tx.resolvePolicy(ctx, org, today)
			if err != nil {
				return err
			}
			years := max(pol.Value("retention.seal_years").Int(), casework.SealYearsDefault)
			on := SealDate(ended, years)
			if on.After(today) {
				return nil
			}
			res, err := tx.Exec(ctx, `UPDATE persons SET sealed_at = ?, updated_at = ? WHERE id = ? AND sealed_at IS NULL`, tx.now, tx.now, id)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return nil
			}
			// Name search goes through the gram index: a sealed file has none.
			if _, err := tx.Exec(ctx, `DELETE FROM person_name_grams WHERE person_id = ?`, id); err != nil {
				return err
			}
			// The person's app signs in no more (DeviceByToken refuses it too).
			if _, err := tx.Exec(ctx, `UPDATE devices SET retired_at = ?, retire_reason = ? WHERE person_id = ? AND retired_at IS NULL`,
				tx.now, "sealed", id); err != nil {
				return err
			}
			n++
			sealedNow = true
			return tx.Audit(ctx, sys, AuditEntry{Action: "person.seal", TargetType: "person", TargetID: id, OrgID: orgID,
				Detail: map[string]any{"ended_as": status, "ended_on": ended.String(), "sealed_on": on.String(), "years": years}})
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("seal %s: %w", id, err))
		}
		if sealedNow {
			db.app().forgetPerson(id)
		}
	}
	return n, errors.Join(errs...)
}

// SealDate is the local date a file released on released is sealed with a
// retention of years: the same calendar day years later (29 February → 28
// February), as the term of R3 is counted.
func SealDate(released casework.Date, years int) casework.Date { return released.AddYears(years) }

// IsSealed reports whether a person's file is sealed (tests, the CLI).
func (db *DB) IsSealed(ctx context.Context, personID string) (bool, error) {
	var sealed sql.NullTime
	err := db.Read(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `SELECT sealed_at FROM persons WHERE id = ?`, personID).Scan(&sealed)
	})
	return sealed.Valid, notFound(err, "人员档案", "person")
}

// dropSealedTasks removes the tasks of sealed persons (every inbox source).
func (tx *Tx) dropSealedTasks(ctx context.Context, ts []Task) ([]Task, error) {
	ids := map[string]bool{}
	var list []string
	for _, t := range ts {
		if t.PersonID != "" && !ids[t.PersonID] {
			ids[t.PersonID] = true
			list = append(list, t.PersonID)
		}
	}
	sealed := map[string]bool{}
	for len(list) > 0 {
		part := list[:min(len(list), spansChunk)]
		list = list[len(part):]
		got, err := scanStrings(tx.Query(ctx, `SELECT id FROM persons WHERE sealed_at IS NOT NULL AND id IN (`+qmarks(len(part))+`)`, anys(part)...))
		if err != nil {
			return nil, err
		}
		for _, id := range got {
			sealed[id] = true
		}
	}
	if len(sealed) == 0 {
		return ts, nil
	}
	out := ts[:0]
	for _, t := range ts {
		if !sealed[t.PersonID] {
			out = append(out, t)
		}
	}
	return out, nil
}

// StatutoryQuery is one recorded statutory query of a sealed file (R38).
type StatutoryQuery struct {
	ID         string
	PersonID   string
	PersonName string
	OrgID      string
	OrgName    string
	ActorID    string
	ActorName  string
	Organ      string
	LegalBasis string
	DocumentNo string
	Reason     string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// RecordStatutoryQuery records a statutory query (R38) by the office: the
// sealed file is found by its ID number among the sealed files of the
// actor's subtree; every field is required. The query is audited with its
// id, legal basis and document number.
func (db *DB) RecordStatutoryQuery(ctx context.Context, actor *casework.Actor, in casework.StatutoryQueryInput) (*StatutoryQuery, error) {
	if !actor.CanAnywhere(casework.PermStatutoryQuery) {
		return nil, casework.Errorf(casework.EFORBIDDEN, "只有禁毒办可以办理法定查询", "only the anti-drug office handles statutory queries")
	}
	if err := in.Check(); err != nil {
		return nil, err
	}
	id, err := casework.ParseIDNumber(in.IDNumber, db.now())
	if err != nil {
		return nil, casework.Invalid("id_number", "身份证号格式不正确", "the ID number is not valid")
	}
	q := &StatutoryQuery{ID: NewID(), Organ: in.Organ, LegalBasis: in.LegalBasis, DocumentNo: in.DocumentNo, Reason: in.Reason, ActorID: actor.UserID}
	err = db.Write(ctx, func(tx *Tx) error {
		scope, args := orgIDsIn(scopeClause("path", actor.Scope(casework.PermStatutoryQuery)))
		err := tx.QueryRow(ctx, `SELECT p.id, p.name, p.org_id FROM persons p WHERE p.id_number_idx = ? AND p.sealed_at IS NOT NULL AND `+scope,
			append([]any{db.vault.Index("id", id.Number)}, args...)...).Scan(&q.PersonID, &q.PersonName, &q.OrgID)
		if errors.Is(err, sql.ErrNoRows) {
			return casework.Invalid("id_number", "您的辖区内没有该身份证号的封存档案", "no sealed file with this ID number in your area")
		}
		if err != nil {
			return err
		}
		q.CreatedAt, q.ExpiresAt = tx.now, tx.now.Add(StatutoryQueryTTL)
		if _, err := tx.Exec(ctx, `INSERT INTO statutory_queries (id, person_id, org_id, actor_id, organ, legal_basis, document_no, reason, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, q.ID, q.PersonID, q.OrgID, actor.UserID, q.Organ, q.LegalBasis, q.DocumentNo, q.Reason, q.CreatedAt, q.ExpiresAt); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "person.statutory_query", TargetType: "person", TargetID: q.PersonID, OrgID: q.OrgID,
			Reason: q.Reason, Detail: map[string]any{"query_id": q.ID, "organ": q.Organ, "legal_basis": q.LegalBasis, "document_no": q.DocumentNo}})
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

const statutoryColumns = `sq.id, sq.person_id, p.name, sq.org_id, o.name, sq.actor_id, COALESCE(u.display_name, u.username), sq.organ, sq.legal_basis,
	sq.document_no, sq.reason, sq.created_at, sq.expires_at`

const statutoryFrom = ` FROM statutory_queries sq JOIN persons p ON p.id = sq.person_id JOIN orgs o ON o.id = sq.org_id JOIN users u ON u.id = sq.actor_id`

func scanStatutory(sc interface{ Scan(...any) error }) (*StatutoryQuery, error) {
	var q StatutoryQuery
	if err := sc.Scan(&q.ID, &q.PersonID, &q.PersonName, &q.OrgID, &q.OrgName, &q.ActorID, &q.ActorName, &q.Organ, &q.LegalBasis,
		&q.DocumentNo, &q.Reason, &q.CreatedAt, &q.ExpiresAt); err != nil {
		return nil, err
	}
	q.CreatedAt, q.ExpiresAt = q.CreatedAt.UTC(), q.ExpiresAt.UTC()
	return &q, nil
}

// ListStatutoryQueries lists the statutory queries of the actor's audit
// scope (auditor, office), newest first.
func (db *DB) ListStatutoryQueries(ctx context.Context, actor *casework.Actor, limit int) ([]*StatutoryQuery, error) {
	var out []*StatutoryQuery
	err := db.Read(ctx, func(tx *Tx) error {
		scope, args := scopeClause("o.path", actor.Scope(casework.PermReadAudit))
		rows, err := tx.Query(ctx, `SELECT `+statutoryColumns+statutoryFrom+` WHERE `+scope+` ORDER BY sq.created_at DESC, sq.id LIMIT ?`,
			append(args, clampLimit(limit))...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			q, err := scanStatutory(rows)
			if err != nil {
				return err
			}
			out = append(out, q)
		}
		return rows.Err()
	})
	return out, err
}

// OpenStatutoryQuery opens the sealed file of a statutory query for the
// office user who recorded it, read-only and masked as on screen, until
// the query expires. Each opening is audited as a read with the query id.
func (db *DB) OpenStatutoryQuery(ctx context.Context, actor *casework.Actor, queryID string) (*StatutoryQuery, *Dossier, error) {
	var q *StatutoryQuery
	d := &Dossier{Users: map[string]string{}}
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		if q, _, err = tx.ownStatutoryQuery(ctx, actor, queryID); err != nil {
			return err
		}
		if !tx.now.Before(q.ExpiresAt) {
			return casework.Errorf(casework.EFORBIDDEN, "该法定查询已过期，如需再次调阅请重新登记", "this statutory query has expired; record a new one to read the file again")
		}
		r, err := scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+personFrom+` WHERE p.id = ?`, q.PersonID))
		if err != nil {
			return notFound(err, "人员档案", "person")
		}
		// Read-only: no write, transfer or approval; sensitive fields as the
		// office sees them (masked; no reveal from this view).
		r.Access = casework.PersonAccess{Read: true, Sensitive: true}
		if err := tx.loadDossier(ctx, actor, d, r, DossierPrint); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "person.read", TargetType: "person", TargetID: q.PersonID, OrgID: q.OrgID,
			Reason: q.Reason, Detail: map[string]any{"statutory_query_id": q.ID, "sealed": true, "legal_basis": q.LegalBasis}})
	})
	if err != nil {
		return nil, nil, err
	}
	return q, d, nil
}

// LogRetentionMonths is the least time security logs are kept (R39: 网络安全法
// Art 21, at least six months).
const LogRetentionMonths = 6

// PurgeResult counts what PurgeLogs removed.
type PurgeResult struct {
	Sessions   int // ended sign-in sessions (who signed in, from where)
	LoginLocks int // per-address sign-in failure records no longer locking
}

// PurgeLogs removes security logs older than before: ended sessions and
// stale sign-in lock records. It refuses a date later than six months
// before now (R39): exactly six months ago is the latest allowed. The
// audit log is never purged: its rows are HMAC-chained from the first and
// verify-audit checks the whole chain, so it is kept whole. The purge
// itself is audited.
func (db *DB) PurgeLogs(ctx context.Context, actor *casework.Actor, before time.Time) (PurgeResult, error) {
	var res PurgeResult
	now := db.now().UTC()
	limit := now.AddDate(0, -LogRetentionMonths, 0)
	if before.After(limit) {
		return res, casework.Invalid("before", "安全日志至少保存六个月：只能清理 %s 之前的记录", "security logs are kept at least six months: only records before %s may be removed",
			limit.Format("2006-01-02 15:04"))
	}
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < ? AND last_seen_at < ? AND created_at < ?`, before, before, before)
		if err != nil {
			return err
		}
		k, _ := r.RowsAffected()
		res.Sessions = int(k)
		if r, err = tx.Exec(ctx, `DELETE FROM login_locks WHERE updated_at < ? AND (locked_until IS NULL OR locked_until < ?)`, before, before); err != nil {
			return err
		}
		k, _ = r.RowsAffected()
		res.LoginLocks = int(k)
		return tx.Audit(ctx, actor, AuditEntry{Action: "logs.purge", TargetType: "system",
			Detail: map[string]any{"before": before.UTC().Format(time.RFC3339), "sessions": res.Sessions, "login_locks": res.LoginLocks}})
	})
	return res, err
}
