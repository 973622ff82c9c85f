package store

// visits_read.go: reading visits — one, a person's, an org subtree's list
// (screen and export), a photo, and the person's upcoming appointments for
// the app.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

const visitColumns = `v.id, v.person_id, p.name, v.org_id, o.name, v.kind, v.state, v.at, v.local_date, v.face_to_face, v.participants,
	v.condition, v.body_enc, v.accuracy_m, v.address, v.distance_m, v.source, v.created_by, COALESCE(u.display_name, ''), v.created_at,
	v.updated_at, v.rev`

// visitFrom joins the person's current place as o (the scope of every list);
// v.org_id keeps the place at recording.
const visitFrom = ` FROM visits v JOIN persons p ON p.id = v.person_id AND ` + notSealed + ` JOIN orgs o ON o.id = p.org_id LEFT JOIN users u ON u.id = v.created_by`

// scanVisits reads rows of visitColumns; sealed opens the notes and the
// location (false for lists, which show neither).
func (tx *Tx) scanVisits(rows *sql.Rows, sealed bool) ([]Visit, error) {
	defer rows.Close()
	var out []Visit
	for rows.Next() {
		var v Visit
		var kind, state, people, enc string
		var acc, dist sql.NullFloat64
		var upd sql.NullTime
		if err := rows.Scan(&v.ID, &v.PersonID, &v.PersonName, &v.OrgID, &v.OrgName, &kind, &state, &v.At, &v.LocalDate, &v.FaceToFace, &people,
			&v.Condition, &enc, &acc, &v.Address, &dist, &v.Source, &v.CreatedBy, &v.CreatedByName, &v.CreatedAt, &upd, &v.Rev); err != nil {
			return nil, err
		}
		v.Kind, v.State, v.At, v.CreatedAt, v.UpdatedAt = casework.VisitKind(kind), casework.VisitState(state), v.At.UTC(), v.CreatedAt.UTC(), scanTime(upd)
		if err := json.Unmarshal([]byte(people), &v.Participants); err != nil {
			return nil, fmt.Errorf("visit %s participants: %w", v.ID, err)
		}
		if dist.Valid {
			d := dist.Float64
			v.DistanceM = &d
		}
		if sealed {
			plain, err := tx.db.vault.Open(enc, sealVisitCtx(v.ID))
			if err != nil {
				return nil, err
			}
			var b visitBody
			if err := json.Unmarshal([]byte(plain), &b); err != nil {
				return nil, fmt.Errorf("visit %s body: %w", v.ID, err)
			}
			v.Notes, v.ConditionNote = b.Notes, b.ConditionNote
			if b.Lat != 0 || b.Lng != 0 {
				v.Location = &casework.Geo{Lat: b.Lat, Lng: b.Lng, AccuracyM: acc.Float64}
			}
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// visitDetails loads the follow-ups and photos of the visits.
func (tx *Tx) visitDetails(ctx context.Context, vs []Visit) error {
	for i := range vs {
		v := &vs[i]
		rows, err := tx.Query(ctx, `SELECT id, action, due, done_at FROM visit_followups WHERE visit_id = ? ORDER BY due, id`, v.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var f casework.FollowUp
			var done sql.NullTime
			if err := rows.Scan(&f.ID, &f.Action, &f.Due, &done); err != nil {
				rows.Close()
				return err
			}
			f.Done = done.Valid
			v.FollowUps = append(v.FollowUps, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT seq, sha256, mime, size FROM visit_photos WHERE visit_id = ? ORDER BY seq`, v.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var p VisitPhoto
			if err := rows.Scan(&p.Seq, &p.SHA256, &p.MIME, &p.Size); err != nil {
				rows.Close()
				return err
			}
			v.Photos = append(v.Photos, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// visitFor loads one visit, opened, with the reader's access to the
// person's file (sensitive read required); a past place of execution sees
// only visits before its hand-over.
func (tx *Tx) visitFor(ctx context.Context, actor *casework.Actor, visitID string) (*Visit, *personRow, error) {
	var personID string
	if err := tx.QueryRow(ctx, `SELECT person_id FROM visits WHERE id = ?`, visitID).Scan(&personID); err != nil {
		return nil, nil, notFound(err, "走访记录", "visit")
	}
	r, err := tx.personFor(ctx, actor, personID, canReadVisits)
	if err != nil {
		return nil, nil, err
	}
	rows, err := tx.Query(ctx, `SELECT `+visitColumns+visitFrom+` WHERE v.id = ?`, visitID)
	if err != nil {
		return nil, nil, err
	}
	vs, err := tx.scanVisits(rows, true)
	if err != nil {
		return nil, nil, err
	}
	if len(vs) != 1 || (!r.Access.Until.IsZero() && vs[0].CreatedAt.After(r.Access.Until)) {
		return nil, nil, casework.NotFound("走访记录", "visit")
	}
	if err := tx.visitDetails(ctx, vs); err != nil {
		return nil, nil, err
	}
	vs[0].CanEdit = casework.CanEditCareRecord(actor, vs[0].CreatedBy, r.OrgPath) && r.Access.Until.IsZero()
	return &vs[0], r, nil
}

// GetVisit returns one visit with its notes, for a reader of the person's
// sensitive file; the read is audited.
func (db *DB) GetVisit(ctx context.Context, actor *casework.Actor, visitID string) (*Visit, error) {
	var v *Visit
	err := db.Write(ctx, func(tx *Tx) error {
		var r *personRow
		var err error
		if v, r, err = tx.visitFor(ctx, actor, visitID); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "visit.read", TargetType: "person", TargetID: v.PersonID, OrgID: r.OrgID,
			Detail: map[string]any{"visit_id": v.ID}})
	})
	return v, err
}

// ListVisits returns the person's visits, newest first, with notes; the
// read is audited.
func (db *DB) ListVisits(ctx context.Context, actor *casework.Actor, personID string) ([]Visit, error) {
	var out []Visit
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canReadVisits)
		if err != nil {
			return err
		}
		where, args := `v.person_id = ?`, []any{personID}
		if !r.Access.Until.IsZero() {
			where, args = where+` AND v.created_at <= ?`, append(args, r.Access.Until)
		}
		rows, err := tx.Query(ctx, `SELECT `+visitColumns+visitFrom+` WHERE `+where+` ORDER BY v.at DESC, v.id DESC LIMIT 500`, args...)
		if err != nil {
			return err
		}
		if out, err = tx.scanVisits(rows, true); err != nil {
			return err
		}
		if err := tx.visitDetails(ctx, out); err != nil {
			return err
		}
		for i := range out {
			out[i].CanEdit = casework.CanEditCareRecord(actor, out[i].CreatedBy, r.OrgPath) && r.Access.Until.IsZero()
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "visit.list", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"count": len(out)}})
	})
	return out, err
}

// VisitFilter selects visits of an org subtree over local dates.
type VisitFilter struct {
	OrgID    string // "" : all the actor's scope
	From, To casework.Date
	Kind     casework.VisitKind // "" : all kinds
	State    casework.VisitState
	Limit    int
}

// VisitListMax caps a subtree list (and its export).
const VisitListMax = 5000

// ListOrgVisits lists the visits of persons in the actor's scope (a worker:
// its caseload) between two local dates, newest first, without notes or
// locations (the list shows neither); the list is audited with its filter.
func (db *DB) ListOrgVisits(ctx context.Context, actor *casework.Actor, f VisitFilter, action string) ([]Visit, error) {
	if f.Kind != "" && !validVisitKind(f.Kind) {
		return nil, casework.Invalid("kind", "走访方式 %q 无效", "unknown kind %q", f.Kind)
	}
	if f.State != "" && f.State != casework.VisitDone && f.State != casework.VisitAttempt && f.State != casework.VisitPlanned {
		return nil, casework.Invalid("state", "走访结果 %q 无效", "unknown state %q", f.State)
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return nil, casework.Invalid("to", "结束日期不能早于开始日期", "to must not be before from")
	}
	var out []Visit
	err := db.Write(ctx, func(tx *Tx) error {
		scope, args := personScope(actor, casework.PermSensitive)
		where := scope
		if f.OrgID != "" {
			org, err := tx.orgByID(ctx, f.OrgID)
			if err != nil || !actor.Can(casework.PermSensitive, org.Path) {
				return casework.NotFound("机构", "organisation")
			}
			where, args = where+` AND o.path LIKE ? ESCAPE '\'`, append(args, likePrefix(org.Path))
		}
		if !f.From.IsZero() {
			where, args = where+` AND v.local_date >= ?`, append(args, f.From)
		}
		if !f.To.IsZero() {
			where, args = where+` AND v.local_date <= ?`, append(args, f.To)
		}
		if f.Kind != "" {
			where, args = where+` AND v.kind = ?`, append(args, string(f.Kind))
		}
		if f.State != "" {
			where, args = where+` AND v.state = ?`, append(args, string(f.State))
		}
		limit := f.Limit
		if limit <= 0 || limit > VisitListMax {
			limit = VisitListMax
		}
		rows, err := tx.Query(ctx, `SELECT `+visitColumns+visitFrom+` WHERE `+where+fmt.Sprintf(` ORDER BY v.at DESC, v.id DESC LIMIT %d`, limit), args...)
		if err != nil {
			return err
		}
		if out, err = tx.scanVisits(rows, false); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: action, TargetType: "org", TargetID: f.OrgID,
			Detail: map[string]any{"from": f.From.String(), "to": f.To.String(), "kind": string(f.Kind), "count": len(out)}})
	})
	return out, err
}

func validVisitKind(k casework.VisitKind) bool {
	for _, x := range casework.VisitKinds {
		if x == k {
			return true
		}
	}
	return false
}

// VisitPhotoFor returns a visit photo's stored key and type, for a reader
// of the visit; fetch is called inside the audited read.
func (db *DB) VisitPhotoFor(ctx context.Context, actor *casework.Actor, visitID string, seq int) (*VisitPhoto, error) {
	var p VisitPhoto
	err := db.Write(ctx, func(tx *Tx) error {
		v, r, err := tx.visitFor(ctx, actor, visitID)
		if err != nil {
			return err
		}
		for _, ph := range v.Photos {
			if ph.Seq == seq {
				p = ph
				return tx.Audit(ctx, actor, AuditEntry{Action: "visit.photo", TargetType: "person", TargetID: v.PersonID, OrgID: r.OrgID,
					Detail: map[string]any{"visit_id": v.ID, "seq": seq}})
			}
		}
		return casework.NotFound("照片", "photo")
	})
	return &p, err
}

// AppAppointment is a planned visit as the person's app shows it.
type AppAppointment struct {
	ID      string
	Kind    casework.VisitKind
	At      time.Time
	Address string
	Worker  string
}

// AppUpcomingVisits returns the person's planned visits from now on (the
// next 30 days, soonest first), for the app's today screen (issue 11 §10).
func (db *DB) AppUpcomingVisits(ctx context.Context, personID string) ([]AppAppointment, error) {
	var out []AppAppointment
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT v.id, v.kind, v.at, v.address, COALESCE(u.display_name, '') FROM visits v LEFT JOIN users u ON u.id = v.created_by
			WHERE v.person_id = ? AND v.state = ? AND v.at >= ? AND v.at < ? ORDER BY v.at LIMIT 10`,
			personID, string(casework.VisitPlanned), tx.now.Add(-time.Hour), tx.now.AddDate(0, 0, 30))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a AppAppointment
			var kind string
			if err := rows.Scan(&a.ID, &kind, &a.At, &a.Address, &a.Worker); err != nil {
				return err
			}
			a.Kind, a.At = casework.VisitKind(kind), a.At.UTC()
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, err
}
