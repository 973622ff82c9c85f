package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

// Help plans (帮扶计划, issue 11 §4): one per person, with the needs found,
// goals and the next review date; reviews are recorded against it and due
// reviews feed the inbox (inbox_help.go). Needs, goals and review notes are
// sealed (R36). The plan is also generated as a document in the file
// (dossier: template help_plan).

// HelpPlan is a person's plan with its reviews, newest first.
type HelpPlan struct {
	ID            string
	PersonID      string
	OrgID         string
	Needs         string
	Goals         []casework.HelpGoal
	StartOn       casework.Date
	NextReview    casework.Date
	ReviewedOn    casework.Date
	DocumentID    string
	Reviews       []HelpReview
	CreatedBy     string
	CreatedByName string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// HelpReview is one review of a plan.
type HelpReview struct {
	ReviewedOn    casework.Date
	Note          string
	NextReview    casework.Date
	CreatedByName string
}

type planBody struct {
	Needs string              `json:"needs"`
	Goals []casework.HelpGoal `json:"goals"`
}

func sealPlanCtx(id string) string   { return "help_plan:" + id }
func sealReviewCtx(id string) string { return "help_review:" + id }

// ErrNoHelpPlan is the answer for a person without a plan.
var ErrNoHelpPlan = casework.NotFound("帮扶计划", "help plan")

// SaveHelpPlan writes the person's help plan: the first time it creates it;
// afterwards it replaces needs, goals and dates — its author or a lead
// only, with a reason; the replaced plan is kept as a revision.
func (db *DB) SaveHelpPlan(ctx context.Context, actor *casework.Actor, personID string, in casework.HelpPlanInput, reason string) (*HelpPlan, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.helpPerson(ctx, actor, personID, true)
		if err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		old, err := tx.helpPlan(ctx, personID)
		if err != nil && !errors.Is(err, ErrNoHelpPlan) {
			return err
		}
		if old != nil && in.StartOn.IsZero() {
			in.StartOn = old.StartOn // an edit keeps the plan's start
		}
		if err := in.Validate(tx.today(org)); err != nil {
			return err
		}
		id := NewID()
		if old != nil {
			if err := careEditable(actor, r, old.CreatedBy); err != nil {
				return err
			}
			if _, err := tx.SaveRevision(ctx, actor, RevisionInput{Kind: "help_plan", RecordID: old.ID, PersonID: personID, Previous: old, Reason: reason}); err != nil {
				return err
			}
			id = old.ID
		}
		b, err := json.Marshal(planBody{Needs: in.Needs, Goals: in.Goals})
		if err != nil {
			return err
		}
		sealed, err := db.vault.Seal(string(b), sealPlanCtx(id))
		if err != nil {
			return err
		}
		kind, detail := "help.plan_created", map[string]any{"plan_id": id, "goals": len(in.Goals)}
		if old == nil {
			_, err = tx.Exec(ctx, `INSERT INTO help_plans (id, person_id, org_id, plan_enc, start_on, next_review, created_by, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, personID, r.OrgID, sealed, in.StartOn, in.NextReview, actorID(actor), tx.now, tx.now)
		} else {
			kind = "help.plan_changed"
			_, err = tx.Exec(ctx, `UPDATE help_plans SET plan_enc = ?, start_on = ?, next_review = ?, updated_at = ? WHERE id = ?`,
				sealed, in.StartOn, in.NextReview, tx.now, id)
		}
		if err != nil {
			return fmt.Errorf("save help plan: %w", err)
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, kind, map[string]any{"goals": len(in.Goals), "next_review": in.NextReview.String()}); err != nil {
			return err
		}
		// The audit log is not sealed: it keeps that the plan changed; the
		// old text is in the sealed revisions.
		return tx.Audit(ctx, actor, AuditEntry{Action: "help.plan_save", TargetType: "person", TargetID: personID, OrgID: r.OrgID, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return db.GetHelpPlan(ctx, actor, personID)
}

// ReviewHelpPlan records a review of the plan and sets the next one.
func (db *DB) ReviewHelpPlan(ctx context.Context, actor *casework.Actor, personID string, on casework.Date, note string, next casework.Date) (*HelpPlan, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.helpPerson(ctx, actor, personID, true)
		if err != nil {
			return err
		}
		p, err := tx.helpPlan(ctx, personID)
		if errors.Is(err, ErrNoHelpPlan) {
			return casework.Errorf(casework.ECONFLICT, "还没有帮扶计划，请先制定计划", "there is no help plan yet: write one first")
		}
		if err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		today := tx.today(org)
		if on.IsZero() || on.After(today) || on.Before(p.StartOn) {
			return casework.Invalid("reviewed_on", "回顾日期须在计划开始与今天之间", "the review date must be between the plan's start and today")
		}
		if next.IsZero() || !next.After(on) || next.After(today.AddMonths(casework.HelpReviewMaxMonths)) {
			return casework.Invalid("next_review", "下次回顾日期须在本次之后、今天起6个月之内", "the next review must be after this one and within 6 months of today")
		}
		id := NewID()
		sealed, err := db.vault.Seal(note, sealReviewCtx(id))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO help_reviews (id, plan_id, person_id, reviewed_on, note_enc, next_review, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, p.ID, personID, on, sealed, next, actorID(actor), tx.now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE help_plans SET reviewed_on = ?, next_review = ?, updated_at = ? WHERE id = ?`, on, next, tx.now, p.ID); err != nil {
			return err
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "help.reviewed", map[string]any{"date": on.String(), "next_review": next.String()}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "help.plan_review", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"plan_id": p.ID, "reviewed_on": on.String(), "next_review": next.String()}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetHelpPlan(ctx, actor, personID)
}

// GetHelpPlan returns the person's plan with its reviews; ErrNoHelpPlan
// when there is none. The read is not audited on its own: it is shown on
// pages whose list reads are.
func (db *DB) GetHelpPlan(ctx context.Context, actor *casework.Actor, personID string) (*HelpPlan, error) {
	var p *HelpPlan
	err := db.Read(ctx, func(tx *Tx) error {
		if _, err := tx.helpPerson(ctx, actor, personID, false); err != nil {
			return err
		}
		var err error
		p, err = tx.helpPlan(ctx, personID)
		return err
	})
	return p, err
}

// AppHelpPlan returns the plan to the person (the app, issue 11 §10): their
// own goals and review dates. The device has already been checked.
func (db *DB) AppHelpPlan(ctx context.Context, personID string) (*HelpPlan, error) {
	var p *HelpPlan
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		p, err = tx.helpPlan(ctx, personID)
		return err
	})
	return p, err
}

// SetHelpPlanDocument links the generated plan document to the plan.
func (db *DB) SetHelpPlanDocument(ctx context.Context, actor *casework.Actor, personID, documentID string) error {
	return db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.helpPerson(ctx, actor, personID, true); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE help_plans SET document_id = ? WHERE person_id = ? AND EXISTS (SELECT 1 FROM documents d WHERE d.id = ? AND d.person_id = ?)`,
			documentID, personID, documentID, personID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNoHelpPlan
		}
		return nil
	})
}

func (tx *Tx) helpPlan(ctx context.Context, personID string) (*HelpPlan, error) {
	var p HelpPlan
	var enc string
	var doc sql.NullString
	err := tx.QueryRow(ctx, `SELECT h.id, h.person_id, h.org_id, h.plan_enc, h.start_on, h.next_review, h.reviewed_on, h.document_id, h.created_by,
		COALESCE(u.display_name, ''), h.created_at, h.updated_at FROM help_plans h LEFT JOIN users u ON u.id = h.created_by WHERE h.person_id = ?`,
		personID).Scan(&p.ID, &p.PersonID, &p.OrgID, &enc, &p.StartOn, &p.NextReview, &p.ReviewedOn, &doc, &p.CreatedBy, &p.CreatedByName,
		&p.CreatedAt, &p.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoHelpPlan
	}
	if err != nil {
		return nil, err
	}
	p.DocumentID = doc.String
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	plain, err := tx.db.vault.Open(enc, sealPlanCtx(p.ID))
	if err != nil {
		return nil, err
	}
	var body planBody
	if err := json.Unmarshal([]byte(plain), &body); err != nil {
		return nil, fmt.Errorf("help plan %s: %w", p.ID, err)
	}
	p.Needs, p.Goals = body.Needs, body.Goals
	rows, err := tx.Query(ctx, `SELECT r.id, r.reviewed_on, r.note_enc, r.next_review, COALESCE(u.display_name, '') FROM help_reviews r
		LEFT JOIN users u ON u.id = r.created_by WHERE r.plan_id = ? ORDER BY r.reviewed_on DESC, r.id DESC`, p.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var rv HelpReview
		var id, note string
		if err := rows.Scan(&id, &rv.ReviewedOn, &note, &rv.NextReview, &rv.CreatedByName); err != nil {
			return nil, err
		}
		if rv.Note, err = tx.db.vault.Open(note, sealReviewCtx(id)); err != nil {
			return nil, err
		}
		p.Reviews = append(p.Reviews, rv)
	}
	return &p, rows.Err()
}

// dossierHelp is the help plan in a dossier, for a reader of help; a past
// place sees it only if it was written before the hand-over.
func (tx *Tx) dossierHelp(ctx context.Context, actor *casework.Actor, r *personRow) (*HelpPlan, error) {
	if !actor.Can(casework.PermViewHelp, r.OrgPath) {
		return nil, nil
	}
	p, err := tx.helpPlan(ctx, r.ID)
	if errors.Is(err, ErrNoHelpPlan) || (p != nil && !r.Access.Until.IsZero() && p.UpdatedAt.After(r.Access.Until)) {
		return nil, nil
	}
	return p, err
}

// HelpRevision is one earlier version of a help record, without its body.
type HelpRevision struct {
	Kind, RecordID string
	Rev            int
	EditedByName   string
	EditedAt       time.Time
	Reason         string
}

// ListHelpRevisions lists the edits of the person's help records (plan,
// assistance, employment), oldest first, for the help page; one query,
// audited once.
func (db *DB) ListHelpRevisions(ctx context.Context, actor *casework.Actor, personID string) ([]HelpRevision, error) {
	var out []HelpRevision
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.helpPerson(ctx, actor, personID, false)
		if err != nil {
			return err
		}
		where, args := `r.person_id = ? AND r.kind IN ('help_plan', 'assistance', 'employment')`, []any{personID}
		if !r.Access.Until.IsZero() {
			where, args = where+` AND r.edited_at <= ?`, append(args, r.Access.Until)
		}
		rows, err := tx.Query(ctx, `SELECT r.kind, r.record_id, r.rev, COALESCE(u.display_name, ''), r.edited_at, r.reason FROM record_revisions r
			LEFT JOIN users u ON u.id = r.edited_by WHERE `+where+` ORDER BY r.edited_at, r.rev`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h HelpRevision
			if err := rows.Scan(&h.Kind, &h.RecordID, &h.Rev, &h.EditedByName, &h.EditedAt, &h.Reason); err != nil {
				return err
			}
			h.EditedAt = h.EditedAt.UTC()
			out = append(out, h)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "help.revisions", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"count": len(out)}})
	})
	return out, err
}
