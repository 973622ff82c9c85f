package store

// psych_groups.go records group psychological sessions (团体心理辅导,
// issue 11 §3): held by an org, attended by persons of the caseload (each
// one the recorder may write psychological records for, placed under the
// org) and a count of others reached. Each attendee's timeline gets the
// session. It also gathers a person's psychological file in one read.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

// GroupSession is a group session; Attendees lists only the persons the
// reader may see (Hidden counts the others of the caseload).
type GroupSession struct {
	ID            string
	OrgID         string
	OrgName       string
	HeldOn        casework.Date
	Topic         string
	Facilitator   string
	Place         string
	OthersReached int
	Attendees     []Attendee
	Hidden        int
	CreatedBy     string
	CreatedAt     time.Time
}

// Attendee is a person at a group session.
type Attendee struct {
	PersonID string `json:"person_id"`
	Name     string `json:"name"`
}

// RecordGroupSession records a group session held by an org in the actor's
// scope; every attendee must be a person under that org whose records the
// actor may write (a counsellor: its assigned persons).
func (db *DB) RecordGroupSession(ctx context.Context, actor *casework.Actor, in casework.GroupSessionInput) (*GroupSession, error) {
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.recordGroupSession(ctx, actor, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.GetGroupSession(ctx, actor, id)
}

func (tx *Tx) recordGroupSession(ctx context.Context, actor *casework.Actor, in casework.GroupSessionInput) (string, error) {
	if in.OrgID == "" {
		return "", in.Validate(casework.Date{})
	}
	org, err := tx.orgFor(ctx, actor, casework.PermPsychWrite, in.OrgID)
	if err != nil {
		return "", err
	}
	if err := in.Validate(tx.today(org)); err != nil {
		return "", err
	}
	if in.SourceKey != "" {
		var existing string
		err := tx.QueryRow(ctx, `SELECT id FROM group_sessions WHERE source_key = ?`, in.SourceKey).Scan(&existing)
		if err == nil {
			return existing, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
	}
	var rows []*personRow
	for _, pid := range in.AttendeeIDs {
		r, _, err := tx.psychFor(ctx, actor, pid, func(a casework.PsychAccess) bool { return a.Sessions || a.Scales })
		if err != nil || len(r.OrgPath) < len(org.Path) || r.OrgPath[:len(org.Path)] != org.Path {
			return "", casework.Invalid("attendees", "参加人员须是本单位您可记录心理服务的人员", "each attendee must be a person of this unit whose psychological records you may write")
		}
		rows = append(rows, r)
	}
	id := NewID()
	var fid, source any
	if in.FacilitatorID != "" {
		fid = in.FacilitatorID
		if in.Facilitator == "" {
			if err := tx.QueryRow(ctx, `SELECT display_name FROM users WHERE id = ?`, in.FacilitatorID).Scan(&in.Facilitator); err != nil {
				return "", notFound(err, "主持人", "facilitator")
			}
		}
	}
	if in.SourceKey != "" {
		source = in.SourceKey
	}
	if _, err := tx.Exec(ctx, `INSERT INTO group_sessions (id, org_id, held_on, topic, facilitator, facilitator_id, place, others_reached, source_key,
		created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, org.ID, in.HeldOn, in.Topic, in.Facilitator, fid, in.Place, in.OthersReached, source, actor.UserID, tx.now, tx.now); err != nil {
		return "", fmt.Errorf("insert group session: %w", err)
	}
	for _, r := range rows {
		if _, err := tx.Exec(ctx, `INSERT INTO group_session_attendees (session_id, person_id) VALUES (?, ?)`, id, r.ID); err != nil {
			return "", err
		}
		if err := tx.event(ctx, actor, r.ID, r.OrgID, "psych.group", map[string]any{"held_on": in.HeldOn.String(), "topic": in.Topic}); err != nil {
			return "", err
		}
	}
	return id, tx.Audit(ctx, actor, AuditEntry{Action: "psych.group.record", TargetType: "org", TargetID: org.ID, OrgID: org.ID,
		Detail: map[string]any{"session_id": id, "attendees": len(rows), "others": in.OthersReached}})
}

// GroupFilter selects group sessions.
type GroupFilter struct {
	OrgID    string // held by this org's subtree; "" for the whole scope
	From, To casework.Date
	Offset   int
	Limit    int
}

// ListGroupSessions lists group sessions held in the actor's scope, newest
// first, with the attendees the actor may see.
func (db *DB) ListGroupSessions(ctx context.Context, actor *casework.Actor, f GroupFilter) ([]GroupSession, int, error) {
	var out []GroupSession
	var total int
	err := db.Read(ctx, func(tx *Tx) error {
		where, args := scopeClause("o.path", actor.Scope(casework.PermPsychRead))
		if f.OrgID != "" {
			org, err := tx.orgFor(ctx, actor, casework.PermPsychRead, f.OrgID)
			if err != nil {
				return err
			}
			where, args = where+` AND o.path LIKE ? ESCAPE '\'`, append(args, likePrefix(org.Path))
		}
		if !f.From.IsZero() {
			where, args = where+` AND g.held_on >= ?`, append(args, f.From)
		}
		if !f.To.IsZero() {
			where, args = where+` AND g.held_on <= ?`, append(args, f.To)
		}
		from := ` FROM group_sessions g JOIN orgs o ON o.id = g.org_id WHERE ` + where
		if err := tx.QueryRow(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
			return err
		}
		var err error
		out, err = tx.groupRows(ctx, actor, from+` ORDER BY g.held_on DESC, g.id DESC LIMIT ? OFFSET ?`, append(args, clampLimit(f.Limit), max(f.Offset, 0))...)
		return err
	})
	return out, total, err
}

// GetGroupSession returns one group session in the actor's scope.
func (db *DB) GetGroupSession(ctx context.Context, actor *casework.Actor, id string) (*GroupSession, error) {
	var out *GroupSession
	err := db.Read(ctx, func(tx *Tx) error {
		where, args := scopeClause("o.path", actor.Scope(casework.PermPsychRead))
		gs, err := tx.groupRows(ctx, actor, ` FROM group_sessions g JOIN orgs o ON o.id = g.org_id WHERE g.id = ? AND `+where, append([]any{id}, args...)...)
		if err != nil {
			return err
		}
		if len(gs) == 0 {
			return casework.NotFound("团体辅导记录", "group session")
		}
		out = &gs[0]
		return nil
	})
	return out, err
}

func (tx *Tx) groupRows(ctx context.Context, actor *casework.Actor, from string, args ...any) ([]GroupSession, error) {
	rows, err := tx.Query(ctx, `SELECT g.id, g.org_id, o.name, g.held_on, g.topic, g.facilitator, g.place, g.others_reached, g.created_by, g.created_at`+from, args...)
	if err != nil {
		return nil, err
	}
	var out []GroupSession
	for rows.Next() {
		var g GroupSession
		if err := rows.Scan(&g.ID, &g.OrgID, &g.OrgName, &g.HeldOn, &g.Topic, &g.Facilitator, &g.Place, &g.OthersReached, &g.CreatedBy, &g.CreatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		g.CreatedAt = g.CreatedAt.UTC()
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := tx.attendees(ctx, actor, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// attendees fills the attendees the actor may read (a counsellor sees its
// own persons by name and the rest as a count).
func (tx *Tx) attendees(ctx context.Context, actor *casework.Actor, g *GroupSession) error {
	rows, err := tx.Query(ctx, `SELECT p.id, p.name FROM group_session_attendees a JOIN persons p ON p.id = a.person_id WHERE a.session_id = ? AND `+notSealed+` ORDER BY p.name_key, p.id`, g.ID)
	if err != nil {
		return err
	}
	var all []Attendee
	for rows.Next() {
		var a Attendee
		if err := rows.Scan(&a.PersonID, &a.Name); err != nil {
			rows.Close()
			return err
		}
		all = append(all, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, a := range all {
		if _, acc, err := tx.psychFor(ctx, actor, a.PersonID, nil); err == nil && acc.Read {
			g.Attendees = append(g.Attendees, a)
		} else {
			g.Hidden++
		}
	}
	return nil
}

// PsychFile is a person's psychological records as one reader sees them.
type PsychFile struct {
	Access      casework.PsychAccess
	Counsellors []Counsellor
	Sessions    []CounsellingSession
	Scales      []ScaleAdministration // without answers; GetScale opens one
	Groups      []GroupSession
	OpenItem9   []ScaleAdministration // PHQ-9 item 9 flags awaiting a follow-up
}

// GetPsychFile reads a person's psychological records for a reader who may
// read them (never police); the read is audited (R36).
func (db *DB) GetPsychFile(ctx context.Context, actor *casework.Actor, personID string) (*PsychFile, error) {
	out := &PsychFile{}
	err := db.Write(ctx, func(tx *Tx) error {
		r, acc, err := tx.psychFor(ctx, actor, personID, func(a casework.PsychAccess) bool { return a.Read })
		if err != nil {
			return err
		}
		out.Access = acc
		if out.Counsellors, err = tx.counsellors(ctx, personID); err != nil {
			return err
		}
		if out.Sessions, err = tx.counsellingRows(ctx, acc.Notes, `s.person_id = ?`, personID); err != nil {
			return err
		}
		if out.Scales, err = tx.scaleRows(ctx, false, acc.Notes, `a.person_id = ?`, personID); err != nil {
			return err
		}
		for _, a := range out.Scales {
			if a.NeedsFollowup() {
				out.OpenItem9 = append(out.OpenItem9, a)
			}
		}
		if out.Groups, err = tx.groupRows(ctx, actor, ` FROM group_sessions g JOIN orgs o ON o.id = g.org_id
			WHERE g.id IN (SELECT session_id FROM group_session_attendees WHERE person_id = ?) ORDER BY g.held_on DESC, g.id DESC`, personID); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "psych.read", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"notes": acc.Notes}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
