package store

// psych.go holds psychological services (issue 11 §3, §7; issue 18 item
// 11): counsellor assignment and one-to-one counselling sessions. Scales
// are in psych_scales.go, group sessions in psych_groups.go. Notes are
// sealed at rest and opened only for counsellors and the person's lead
// (casework.PsychAccessFor); the timeline gets the fact of a session, never
// its notes, since police read the timeline too.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

func sealNotesCtx(id string) string { return "counselling.notes:" + id }

// assignedCounsellors returns the user ids of the person's counsellors.
func (tx *Tx) assignedCounsellors(ctx context.Context, personID string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT user_id FROM counsellor_assignments WHERE person_id = ? AND ended_at IS NULL`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// psychFor loads a person the actor may read and its psychological access,
// checked with need; a file the actor reads without the access needed is
// forbidden, one it cannot read is not found.
func (tx *Tx) psychFor(ctx context.Context, actor *casework.Actor, personID string, need func(casework.PsychAccess) bool) (*personRow, casework.PsychAccess, error) {
	r, err := tx.personFor(ctx, actor, personID, nil)
	if err != nil {
		return nil, casework.PsychAccess{}, err
	}
	var acc casework.PsychAccess
	if r.Access.Until.IsZero() {
		f, err := tx.personFacts(ctx, r)
		if err != nil {
			return nil, acc, err
		}
		acc = casework.PsychAccessFor(actor, f)
	}
	if need != nil && !need(acc) {
		return nil, acc, casework.Errorf(casework.EFORBIDDEN, "您没有权限查看或记录该人员的心理服务", "you may not see or record this person's psychological services")
	}
	return r, acc, nil
}

// Counsellor is a counsellor assigned to a person.
type Counsellor struct {
	UserID     string    `json:"user_id"`
	Name       string    `json:"name"`
	AssignedAt time.Time `json:"assigned_at"`
}

// AssignCounsellor assigns a counsellor to a person: a lead of the person's
// place, a counsellor whose grant covers that place. Assigning one already
// assigned is a conflict.
func (db *DB) AssignCounsellor(ctx context.Context, actor *casework.Actor, personID, userID string) error {
	return db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, nil)
		if err != nil {
			return err
		}
		if !actor.Can(casework.PermAssignCounsellor, r.OrgPath) || !r.Access.Until.IsZero() {
			return casework.Errorf(casework.EFORBIDDEN, "只有街道（乡镇）负责人可以指派心理咨询师", "only a street lead may assign counsellors")
		}
		var name string
		err = tx.QueryRow(ctx, `SELECT u.display_name FROM users u WHERE u.id = ? AND NOT u.disabled AND EXISTS (SELECT 1 FROM grants g JOIN orgs o ON o.id = g.org_id
			WHERE g.user_id = u.id AND g.role = 'counsellor' AND ? LIKE o.path || '%')`, userID, r.OrgPath).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return casework.Invalid("user_id", "所选人员不是该执行地的心理咨询师", "the user is not a counsellor of this place")
		}
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM counsellor_assignments WHERE person_id = ? AND user_id = ? AND ended_at IS NULL`, personID, userID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return casework.Errorf(casework.ECONFLICT, "%s 已是该人员的心理咨询师", "%s is already this person's counsellor", name)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO counsellor_assignments (id, person_id, user_id, assigned_by, assigned_at) VALUES (?, ?, ?, ?, ?)`,
			NewID(), personID, userID, actor.UserID, tx.now); err != nil {
			return fmt.Errorf("assign counsellor: %w", err)
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "psych.counsellor_assigned", map[string]any{"name": name}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "psych.counsellor.assign", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"user_id": userID}})
	})
}

// EndCounsellor ends a counsellor's assignment (a lead); the counsellor no
// longer reads the file.
func (db *DB) EndCounsellor(ctx context.Context, actor *casework.Actor, personID, userID string) error {
	return db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, nil)
		if err != nil {
			return err
		}
		if !actor.Can(casework.PermAssignCounsellor, r.OrgPath) || !r.Access.Until.IsZero() {
			return casework.Errorf(casework.EFORBIDDEN, "只有街道（乡镇）负责人可以调整心理咨询师", "only a street lead may change counsellors")
		}
		res, err := tx.Exec(ctx, `UPDATE counsellor_assignments SET ended_at = ?, ended_by = ? WHERE person_id = ? AND user_id = ? AND ended_at IS NULL`,
			tx.now, actor.UserID, personID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return casework.Invalid("user_id", "该咨询师未被指派给此人员", "this counsellor is not assigned to the person")
		}
		var name string
		_ = tx.QueryRow(ctx, `SELECT display_name FROM users WHERE id = ?`, userID).Scan(&name)
		if err := tx.event(ctx, actor, personID, r.OrgID, "psych.counsellor_ended", map[string]any{"name": name}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "psych.counsellor.end", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"user_id": userID}})
	})
}

// counsellors lists the person's assigned counsellors.
func (tx *Tx) counsellors(ctx context.Context, personID string) ([]Counsellor, error) {
	rows, err := tx.Query(ctx, `SELECT ca.user_id, u.display_name, ca.assigned_at FROM counsellor_assignments ca JOIN users u ON u.id = ca.user_id
		WHERE ca.person_id = ? AND ca.ended_at IS NULL ORDER BY ca.assigned_at, u.display_name`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Counsellor
	for rows.Next() {
		var c Counsellor
		if err := rows.Scan(&c.UserID, &c.Name, &c.AssignedAt); err != nil {
			return nil, err
		}
		c.AssignedAt = c.AssignedAt.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// CounsellorChoices lists the enabled counsellors whose grant covers the
// person's place (for a lead's assignment form).
func (db *DB) CounsellorChoices(ctx context.Context, actor *casework.Actor, personID string) ([]casework.Collector, error) {
	var out []casework.Collector
	err := db.Read(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, nil)
		if err != nil {
			return err
		}
		if !actor.Can(casework.PermAssignCounsellor, r.OrgPath) {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT DISTINCT u.id, u.display_name, u.sex FROM users u JOIN grants g ON g.user_id = u.id JOIN orgs o ON o.id = g.org_id
			WHERE NOT u.disabled AND g.role = 'counsellor' AND ? LIKE o.path || '%' ORDER BY u.display_name, u.id`, r.OrgPath)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c casework.Collector
			if err := rows.Scan(&c.ID, &c.Name, &c.Sex); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

// CounsellingSession is a one-to-one session. Notes is set only for readers
// who may see notes (NotesHidden tells the others that there are some).
type CounsellingSession struct {
	ID             string
	PersonID       string
	PersonName     string
	OrgID          string
	CounsellorID   string
	CounsellorName string
	HeldAt         time.Time
	HeldOn         casework.Date
	Minutes        int
	Mode           string
	Planned        bool
	Notes          string
	NotesHidden    bool
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// RecordCounselling records a one-to-one session for a person: an assigned
// counsellor (its own session) or a lead. A counsellor always records as
// itself. The notes are sealed; the timeline gets date and mode.
func (db *DB) RecordCounselling(ctx context.Context, actor *casework.Actor, personID string, in casework.CounsellingInput) (*CounsellingSession, error) {
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.recordCounselling(ctx, actor, personID, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.counsellingByID(ctx, actor, id)
}

func (tx *Tx) recordCounselling(ctx context.Context, actor *casework.Actor, personID string, in casework.CounsellingInput) (string, error) {
	r, _, err := tx.psychFor(ctx, actor, personID, func(a casework.PsychAccess) bool { return a.Sessions })
	if err != nil {
		return "", err
	}
	if actor.HasRole(casework.RoleCounsellor) && !actor.Can(casework.PermAssignCounsellor, r.OrgPath) && !actor.System {
		in.CounsellorID = actor.UserID // a counsellor writes its own sessions
	}
	if in.CounsellorID != "" {
		if err := tx.QueryRow(ctx, `SELECT display_name FROM users WHERE id = ?`, in.CounsellorID).Scan(&in.CounsellorName); err != nil {
			return "", notFound(err, "咨询师", "counsellor")
		}
	}
	if err := in.Validate(tx.now); err != nil {
		return "", err
	}
	if in.SourceKey != "" {
		var existing string
		err := tx.QueryRow(ctx, `SELECT id FROM counselling_sessions WHERE source_key = ?`, in.SourceKey).Scan(&existing)
		if err == nil {
			return existing, nil // imported before: stored once
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
	}
	org, err := tx.orgByID(ctx, r.OrgID)
	if err != nil {
		return "", err
	}
	id := NewID()
	sealed, err := tx.db.vault.Seal(in.Notes, sealNotesCtx(id))
	if err != nil {
		return "", err
	}
	var counsellorID, source any
	if in.CounsellorID != "" {
		counsellorID = in.CounsellorID
	}
	if in.SourceKey != "" {
		source = in.SourceKey
	}
	heldOn := casework.DateOf(in.HeldAt, casework.LoadLocation(org.TimeZone))
	if _, err := tx.Exec(ctx, `INSERT INTO counselling_sessions (id, person_id, org_id, counsellor_id, counsellor_name, held_at, held_on, minutes, mode,
		planned, notes_enc, source_key, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, personID, r.OrgID, counsellorID, in.CounsellorName, in.HeldAt.UTC(), heldOn, in.Minutes, in.Mode, in.Planned, sealed, source,
		actor.UserID, tx.now, tx.now); err != nil {
		return "", fmt.Errorf("insert counselling session: %w", err)
	}
	kind := "psych.session"
	if in.Planned {
		kind = "psych.session_planned"
	}
	if err := tx.event(ctx, actor, personID, r.OrgID, kind, map[string]any{"held_on": heldOn.String(), "mode": in.Mode,
		"counsellor": in.CounsellorName}); err != nil {
		return "", err
	}
	return id, tx.Audit(ctx, actor, AuditEntry{Action: "psych.session.record", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
		Detail: map[string]any{"session_id": id, "mode": in.Mode, "planned": in.Planned}})
}

const counsellingColumns = `s.id, s.person_id, p.name, s.org_id, COALESCE(s.counsellor_id, ''), s.counsellor_name, s.held_at, s.held_on, s.minutes,
	s.mode, s.planned, s.notes_enc, s.created_by, s.created_at, s.updated_at`

func (tx *Tx) counsellingRows(ctx context.Context, notes bool, where string, args ...any) ([]CounsellingSession, error) {
	return tx.counsellingPage(ctx, notes, where, 0, args...)
}

// counsellingPage reads sessions matching where, newest first; limit 0
// reads all.
func (tx *Tx) counsellingPage(ctx context.Context, notes bool, where string, limit int, args ...any) ([]CounsellingSession, error) {
	q := `SELECT ` + counsellingColumns + ` FROM counselling_sessions s JOIN persons p ON p.id = s.person_id AND ` + notSealed + ` WHERE ` + where +
		` ORDER BY s.held_at DESC, s.id DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CounsellingSession
	for rows.Next() {
		var s CounsellingSession
		var enc string
		if err := rows.Scan(&s.ID, &s.PersonID, &s.PersonName, &s.OrgID, &s.CounsellorID, &s.CounsellorName, &s.HeldAt, &s.HeldOn, &s.Minutes,
			&s.Mode, &s.Planned, &enc, &s.CreatedBy, &s.CreatedAt, &s.UpdatedAt); err != nil {
			return nil, err
		}
		s.HeldAt, s.CreatedAt, s.UpdatedAt = s.HeldAt.UTC(), s.CreatedAt.UTC(), s.UpdatedAt.UTC()
		if notes {
			if s.Notes, err = tx.db.vault.Open(enc, sealNotesCtx(s.ID)); err != nil {
				return nil, fmt.Errorf("open notes of %s: %w", s.ID, err)
			}
		} else {
			s.NotesHidden = enc != ""
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (db *DB) counsellingByID(ctx context.Context, actor *casework.Actor, id string) (*CounsellingSession, error) {
	var out *CounsellingSession
	err := db.Read(ctx, func(tx *Tx) error {
		var personID string
		if err := tx.QueryRow(ctx, `SELECT person_id FROM counselling_sessions WHERE id = ?`, id).Scan(&personID); err != nil {
			return notFound(err, "咨询记录", "session")
		}
		_, acc, err := tx.psychFor(ctx, actor, personID, func(a casework.PsychAccess) bool { return a.Read })
		if err != nil {
			return err
		}
		ss, err := tx.counsellingRows(ctx, acc.Notes, `s.id = ?`, id)
		if err == nil && len(ss) == 1 {
			out = &ss[0]
		}
		return err
	})
	return out, err
}

// AppAppointments returns the person's planned counselling sessions from
// now on, soonest first (at most 3), for the person's own app; the device
// authenticates the person, so no staff actor is involved. No notes.
func (db *DB) AppAppointments(ctx context.Context, personID string) ([]CounsellingSession, error) {
	var out []CounsellingSession
	err := db.Read(ctx, func(tx *Tx) error {
		ss, err := tx.counsellingRows(ctx, false, `s.person_id = ? AND s.planned = ? AND s.held_at >= ?`, personID, true, tx.now)
		if err != nil {
			return err
		}
		for i := len(ss) - 1; i >= 0 && len(out) < 3; i-- { // newest first → soonest first
			out = append(out, ss[i])
		}
		return nil
	})
	return out, err
}
