package store

// psych_scales.go records screening scales (issue 11 §3; CARE.md §3): the
// system scores the answers with the band table policy names for the
// person's place on the day, and stores the scale's version and that table
// with the administration, so a later policy change never relabels it.
// Answers and follow-up notes are sealed. A PHQ-9 with item 9 above zero
// stays open (inbox_care.go, the file) until a follow-up is recorded.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

func scaleSealCtx(col, id string) string {
	if col == "followup_note_enc" {
		return "scale.followup:" + id
	}
	return "scale.answers:" + id
}

// ScaleAdministration is one administered scale.
type ScaleAdministration struct {
	ID               string
	PersonID         string
	PersonName       string
	OrgID            string
	Result           casework.ScaleResult
	Answers          *casework.ScaleAnswers // nil unless the reader may read them
	AdministeredAt   time.Time
	AdministeredOn   casework.Date
	AdministeredBy   string
	AdministeredName string
	FollowupAt       time.Time // zero: no follow-up yet
	FollowupBy       string
	FollowupNote     string // only for readers of notes
	CreatedAt        time.Time
}

// NeedsFollowup reports whether the administration is a PHQ-9 item 9 flag
// with no follow-up recorded.
func (a *ScaleAdministration) NeedsFollowup() bool {
	return a.Result.Item9Flag() && a.FollowupAt.IsZero()
}

// ScaleInput is one administration to record.
type ScaleInput struct {
	Scale          string
	Answers        casework.ScaleAnswers
	AdministeredAt time.Time // zero: now
}

// RecordScale scores and records a scale for a person: an assigned
// counsellor, the person's worker or a lead. Invalid answers are refused
// naming the item, and nothing is written.
func (db *DB) RecordScale(ctx context.Context, actor *casework.Actor, personID string, in ScaleInput) (*ScaleAdministration, error) {
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.recordScale(ctx, actor, personID, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out *ScaleAdministration
	err = db.Read(ctx, func(tx *Tx) error {
		as, err := tx.scaleRows(ctx, true, false, `a.id = ?`, id)
		if err == nil && len(as) == 1 {
			out = &as[0]
		}
		return err
	})
	return out, err
}

func (tx *Tx) recordScale(ctx context.Context, actor *casework.Actor, personID string, in ScaleInput) (string, error) {
	r, _, err := tx.psychFor(ctx, actor, personID, func(a casework.PsychAccess) bool { return a.Scales })
	if err != nil {
		return "", err
	}
	org, err := tx.orgByID(ctx, r.OrgID)
	if err != nil {
		return "", err
	}
	at := in.AdministeredAt
	if at.IsZero() {
		at = tx.now
	}
	if at.After(tx.now.Add(5 * time.Minute)) {
		return "", casework.Invalid("administered_at", "施测时间不能晚于现在", "the scale cannot be administered in the future")
	}
	on := casework.DateOf(at, casework.LoadLocation(org.TimeZone))
	bandSet := ""
	if s, ok := casework.ScaleByCode(in.Scale); ok && s.Scoring != "assist" {
		pol, err := tx.policyFunc(ctx, org)
		if err != nil {
			return "", err
		}
		bandSet = pol(on).Value(casework.ScaleBandsKey(in.Scale)).Enum()
	}
	res, err := casework.ScoreScale(in.Scale, bandSet, in.Answers)
	if err != nil {
		return "", err
	}
	id := NewID()
	answers, err := json.Marshal(in.Answers)
	if err != nil {
		return "", err
	}
	sealed, err := tx.db.vault.Seal(string(answers), scaleSealCtx("answers_enc", id))
	if err != nil {
		return "", err
	}
	bands, _ := json.Marshal(res.Bands)
	subs, _ := json.Marshal(res.Substances)
	if res.Substances == nil {
		subs = []byte("[]")
	}
	if _, err := tx.Exec(ctx, `INSERT INTO scale_administrations (id, person_id, org_id, scale, version, band_set, bands, answers_enc, total, score,
		band, band_level, substances, item9, administered_at, administered_on, administered_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, personID, r.OrgID, res.Scale, res.Version, res.BandSet, string(bands), sealed, res.Total, res.Score(),
		res.Band.Key, res.Band.Level, string(subs), res.Item9, at.UTC(), on, actor.UserID, tx.now); err != nil {
		return "", fmt.Errorf("insert scale: %w", err)
	}
	// The timeline (read by police too) names the scale, not the score.
	if err := tx.event(ctx, actor, personID, r.OrgID, "psych.scale", map[string]any{"scale": res.Scale, "on": on.String()}); err != nil {
		return "", err
	}
	return id, tx.Audit(ctx, actor, AuditEntry{Action: "psych.scale.record", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
		Detail: map[string]any{"administration_id": id, "scale": res.Scale, "item9_flag": res.Item9Flag()}})
}

// RecordFollowup records the follow-up of a PHQ-9 item 9 flag (a talk, a
// referral): it clears the flag on the file and the inbox task. Anyone who
// may administer scales to the person or who reads notes may record it.
func (db *DB) RecordFollowup(ctx context.Context, actor *casework.Actor, administrationID, note string) error {
	return db.Write(ctx, func(tx *Tx) error {
		var personID string
		var item9 int
		var done sql.NullTime
		if err := tx.QueryRow(ctx, `SELECT person_id, item9, followup_at FROM scale_administrations WHERE id = ? AND scale = 'phq9'`, administrationID).
			Scan(&personID, &item9, &done); err != nil {
			return notFound(err, "量表记录", "scale administration")
		}
		r, _, err := tx.psychFor(ctx, actor, personID, func(a casework.PsychAccess) bool { return a.Scales || a.Notes })
		if err != nil {
			return err
		}
		if item9 == 0 || done.Valid {
			return casework.Errorf(casework.ECONFLICT, "该量表无需或已完成随访", "this administration needs no follow-up or has one already")
		}
		if n := len([]rune(note)); n == 0 || n > 2000 {
			return casework.Invalid("note", "请填写随访情况（不超过2000字）", "describe the follow-up (at most 2000 characters)")
		}
		sealed, err := tx.db.vault.Seal(note, scaleSealCtx("followup_note_enc", administrationID))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE scale_administrations SET followup_at = ?, followup_by = ?, followup_note_enc = ? WHERE id = ?`,
			tx.now, actor.UserID, sealed, administrationID); err != nil {
			return err
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "psych.followup", map[string]any{"scale": "phq9"}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "psych.followup.record", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"administration_id": administrationID}})
	})
}

const scaleColumns = `a.id, a.person_id, p.name, a.org_id, a.scale, a.version, a.band_set, a.bands, a.answers_enc, a.total, a.score, a.band,
	a.substances, a.item9, a.administered_at, a.administered_on, a.administered_by, COALESCE(u.display_name, ''), a.followup_at,
	COALESCE(a.followup_by, ''), a.followup_note_enc, a.created_at`

// scaleRows reads administrations, newest first; answers and follow-up
// notes are opened only when asked for.
func (tx *Tx) scaleRows(ctx context.Context, answers, notes bool, where string, args ...any) ([]ScaleAdministration, error) {
	rows, err := tx.Query(ctx, `SELECT `+scaleColumns+` FROM scale_administrations a JOIN persons p ON p.id = a.person_id AND `+notSealed+`
		LEFT JOIN users u ON u.id = a.administered_by WHERE `+where+` ORDER BY a.administered_at DESC, a.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ScaleAdministration
	for rows.Next() {
		var a ScaleAdministration
		var bands, enc, subs, band, noteEnc string
		var score int
		var fu sql.NullTime
		if err := rows.Scan(&a.ID, &a.PersonID, &a.PersonName, &a.OrgID, &a.Result.Scale, &a.Result.Version, &a.Result.BandSet, &bands, &enc,
			&a.Result.Total, &score, &band, &subs, &a.Result.Item9, &a.AdministeredAt, &a.AdministeredOn, &a.AdministeredBy,
			&a.AdministeredName, &fu, &a.FollowupBy, &noteEnc, &a.CreatedAt); err != nil {
			return nil, err
		}
		a.AdministeredAt, a.CreatedAt = a.AdministeredAt.UTC(), a.CreatedAt.UTC()
		a.FollowupAt = scanTime(fu)
		if a.Result.Scale == "sds" {
			a.Result.Index = score
		}
		if err := json.Unmarshal([]byte(bands), &a.Result.Bands); err != nil {
			return nil, fmt.Errorf("scale %s bands: %w", a.ID, err)
		}
		if err := json.Unmarshal([]byte(subs), &a.Result.Substances); err != nil {
			return nil, fmt.Errorf("scale %s substances: %w", a.ID, err)
		}
		// The band as stored, with its labels from the stored table.
		for _, set := range a.Result.Bands {
			for _, b := range set.Bands {
				if b.Key == band && score >= b.Min && score <= b.Max {
					a.Result.Band = b
				}
			}
		}
		if answers {
			plain, err := tx.db.vault.Open(enc, scaleSealCtx("answers_enc", a.ID))
			if err != nil {
				return nil, fmt.Errorf("open answers of %s: %w", a.ID, err)
			}
			a.Answers = &casework.ScaleAnswers{}
			if err := json.Unmarshal([]byte(plain), a.Answers); err != nil {
				return nil, err
			}
		}
		if notes {
			if a.FollowupNote, err = tx.db.vault.Open(noteEnc, scaleSealCtx("followup_note_enc", a.ID)); err != nil {
				return nil, err
			}
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// GetScale returns one administration with its answers, for a reader of
// the person's psychological records; the read is audited.
func (db *DB) GetScale(ctx context.Context, actor *casework.Actor, id string) (*ScaleAdministration, error) {
	var out *ScaleAdministration
	err := db.Write(ctx, func(tx *Tx) error {
		var personID string
		if err := tx.QueryRow(ctx, `SELECT person_id FROM scale_administrations WHERE id = ?`, id).Scan(&personID); err != nil {
			return notFound(err, "量表记录", "scale administration")
		}
		r, acc, err := tx.psychFor(ctx, actor, personID, func(a casework.PsychAccess) bool { return a.Read })
		if err != nil {
			return err
		}
		as, err := tx.scaleRows(ctx, true, acc.Notes, `a.id = ?`, id)
		if err != nil || len(as) != 1 {
			return err
		}
		out = &as[0]
		return tx.Audit(ctx, actor, AuditEntry{Action: "psych.scale.read", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"administration_id": id}})
	})
	return out, err
}
