package store

// psych_edit.go edits counselling sessions and scale administrations
// (issue 11 §6): only the author or a lead over the person's place
// (casework.CanEditCareRecord) who may still write the person's
// psychological records, with a reason; the replaced version is kept
// (SaveRevision, sealed) and the edit is on the timeline and audited.

import (
	"context"
	"encoding/json"
	"fmt"

	"kangfu/internal/casework"
)

// Revision kinds of psychological records.
const (
	RevCounselling = "counselling"
	RevScale       = "scale"
)

var errNotAuthor = casework.Errorf(casework.EFORBIDDEN, "只有记录人或街道（乡镇）负责人可以修改此记录", "only the author or a street lead may edit this record")

// UpdateCounselling replaces a session's details and notes, keeping the
// previous version.
func (db *DB) UpdateCounselling(ctx context.Context, actor *casework.Actor, id string, in casework.CounsellingInput, reason string) (*CounsellingSession, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		var personID string
		if err := tx.QueryRow(ctx, `SELECT person_id FROM counselling_sessions WHERE id = ?`, id).Scan(&personID); err != nil {
			return notFound(err, "咨询记录", "session")
		}
		r, _, err := tx.psychFor(ctx, actor, personID, func(a casework.PsychAccess) bool { return a.Sessions })
		if err != nil {
			return err
		}
		old, err := tx.counsellingRows(ctx, true, `s.id = ?`, id)
		if err != nil || len(old) != 1 {
			return notFound(err, "咨询记录", "session")
		}
		prev := old[0]
		if !casework.CanEditCareRecord(actor, prev.CreatedBy, r.OrgPath) {
			return errNotAuthor
		}
		in.CounsellorID, in.CounsellorName = prev.CounsellorID, prev.CounsellorName
		if err := in.Validate(tx.now); err != nil {
			return err
		}
		if _, err := tx.SaveRevision(ctx, actor, RevisionInput{Kind: RevCounselling, RecordID: id, PersonID: personID, Previous: prev, Reason: reason}); err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		sealed, err := tx.db.vault.Seal(in.Notes, sealNotesCtx(id))
		if err != nil {
			return err
		}
		heldOn := casework.DateOf(in.HeldAt, casework.LoadLocation(org.TimeZone))
		if _, err := tx.Exec(ctx, `UPDATE counselling_sessions SET held_at = ?, held_on = ?, minutes = ?, mode = ?, planned = ?, notes_enc = ?, updated_at = ? WHERE id = ?`,
			in.HeldAt.UTC(), heldOn, in.Minutes, in.Mode, in.Planned, sealed, tx.now, id); err != nil {
			return fmt.Errorf("update session: %w", err)
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "psych.session_edited", map[string]any{"held_on": heldOn.String()}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "psych.session.edit", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Reason: reason, Detail: map[string]any{"session_id": id}})
	})
	if err != nil {
		return nil, err
	}
	return db.counsellingByID(ctx, actor, id)
}

// UpdateScale corrects an administration's answers: they are scored again
// with the band table stored with it (not today's policy), and the
// previous answers and scores are kept.
func (db *DB) UpdateScale(ctx context.Context, actor *casework.Actor, id string, answers casework.ScaleAnswers, reason string) (*ScaleAdministration, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		var personID string
		if err := tx.QueryRow(ctx, `SELECT person_id FROM scale_administrations WHERE id = ?`, id).Scan(&personID); err != nil {
			return notFound(err, "量表记录", "scale administration")
		}
		r, _, err := tx.psychFor(ctx, actor, personID, func(a casework.PsychAccess) bool { return a.Scales })
		if err != nil {
			return err
		}
		old, err := tx.scaleRows(ctx, true, false, `a.id = ?`, id)
		if err != nil || len(old) != 1 {
			return notFound(err, "量表记录", "scale administration")
		}
		prev := old[0]
		if !casework.CanEditCareRecord(actor, prev.AdministeredBy, r.OrgPath) {
			return errNotAuthor
		}
		bandSet := prev.Result.BandSet
		if prev.Result.Scale == "assist" {
			bandSet = ""
		}
		res, err := casework.ScoreScale(prev.Result.Scale, bandSet, answers)
		if err != nil {
			return err
		}
		if _, err := tx.SaveRevision(ctx, actor, RevisionInput{Kind: RevScale, RecordID: id, PersonID: personID,
			Previous: map[string]any{"answers": prev.Answers, "result": prev.Result}, Reason: reason}); err != nil {
			return err
		}
		body, _ := json.Marshal(answers)
		sealed, err := tx.db.vault.Seal(string(body), scaleSealCtx("answers_enc", id))
		if err != nil {
			return err
		}
		subs, _ := json.Marshal(res.Substances)
		if res.Substances == nil {
			subs = []byte("[]")
		}
		if _, err := tx.Exec(ctx, `UPDATE scale_administrations SET answers_enc = ?, total = ?, score = ?, band = ?, band_level = ?, substances = ?, item9 = ? WHERE id = ?`,
			sealed, res.Total, res.Score(), res.Band.Key, res.Band.Level, string(subs), res.Item9, id); err != nil {
			return fmt.Errorf("update scale: %w", err)
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "psych.scale_edited", map[string]any{"scale": res.Scale}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "psych.scale.edit", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Reason: reason, Detail: map[string]any{"administration_id": id}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetScale(ctx, actor, id)
}

// PsychRevisions returns the kept versions of a session (for readers of
// notes) or a scale (for readers of psychological records), oldest first.
func (db *DB) PsychRevisions(ctx context.Context, actor *casework.Actor, kind, id string) ([]Revision, error) {
	var out []Revision
	err := db.Write(ctx, func(tx *Tx) error {
		table := map[string]string{RevCounselling: "counselling_sessions", RevScale: "scale_administrations"}[kind]
		if table == "" {
			return casework.NotFound("记录", "record")
		}
		var personID string
		if err := tx.QueryRow(ctx, `SELECT person_id FROM `+table+` WHERE id = ?`, id).Scan(&personID); err != nil {
			return notFound(err, "记录", "record")
		}
		r, _, err := tx.psychFor(ctx, actor, personID, func(a casework.PsychAccess) bool { return a.Notes || (kind == RevScale && a.Read) })
		if err != nil {
			return err
		}
		if out, err = tx.Revisions(ctx, personID, kind, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "psych." + kind + ".revisions", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"record_id": id}})
	})
	return out, err
}

// GetCounselling returns one session for a reader of the person's
// psychological records (notes only for readers of notes) and whether the
// actor may edit it (its author or a lead over the place, who may record
// sessions).
func (db *DB) GetCounselling(ctx context.Context, actor *casework.Actor, id string) (*CounsellingSession, bool, error) {
	var out *CounsellingSession
	var canEdit bool
	err := db.Read(ctx, func(tx *Tx) error {
		var personID string
		if err := tx.QueryRow(ctx, `SELECT person_id FROM counselling_sessions WHERE id = ?`, id).Scan(&personID); err != nil {
			return notFound(err, "咨询记录", "session")
		}
		r, acc, err := tx.psychFor(ctx, actor, personID, func(a casework.PsychAccess) bool { return a.Read })
		if err != nil {
			return err
		}
		ss, err := tx.counsellingRows(ctx, acc.Notes, `s.id = ?`, id)
		if err != nil || len(ss) != 1 {
			return notFound(err, "咨询记录", "session")
		}
		out = &ss[0]
		canEdit = acc.Sessions && acc.Notes && casework.CanEditCareRecord(actor, out.CreatedBy, r.OrgPath)
		return nil
	})
	return out, canEdit, err
}
