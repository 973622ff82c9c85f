package store

// violations.go: reading and handling violations (issue 5 §4; R29): lists
// per person and per org subtree, a violation's detail with its ladder
// steps, the review (explain / excuse / confirm), the ladder steps with
// their notices, and drug use recorded by staff (R10). Scope is the
// person's current place of execution (a transfer carries the violations
// with the measure, R11, R9); every read is audited.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"kangfu/internal/casework"
)

// Violation is a stored violation.
type Violation struct {
	ID             string
	PersonID       string
	PersonName     string
	MeasureID      string
	OrgID          string // the person's current place
	OrgName        string
	Kind           casework.ViolationKind
	Day, LastDay   casework.Date
	Days           int
	Detail         string
	PoliceRequired bool
	State          casework.ViolationState
	StateReason    string
	StateByName    string
	StateAt        time.Time
	PolicyRef      string
	CreatedBy      string // "" for the nightly detection
	CreatedAt      time.Time
	Steps          []ViolationStep            // filled by GetViolation
	Highest        casework.LadderStep        // the person's highest ladder step in this measure (GetViolation)
	Actions        []casework.ViolationAction // what the actor may do now (GetViolation)
	LadderSteps    []casework.LadderStep      // steps the actor may take now (GetViolation)
	PoliceReported bool                       // a 通报 step exists for it
}

// ViolationStep is a ladder step taken (R29).
type ViolationStep struct {
	ID            string
	ViolationID   string
	Step          casework.LadderStep
	Reason        string
	Recipient     string
	DocumentID    string
	CreatedByName string
	CreatedAt     time.Time
}

// ViolationFilter selects violations. Zero fields do not filter.
type ViolationFilter struct {
	PersonID string
	OrgID    string // an org in the actor's scope: its subtree
	Kind     casework.ViolationKind
	State    casework.ViolationState
	Pending  bool // open or explained: still to review
	From, To casework.Date
	Perm     casework.Perm // scope by this permission (default PermViewViolations)
	Limit    int
	Offset   int
}

const violationColumns = `v.id, v.person_id, p.name, v.measure_id, p.org_id, o.name, v.kind, v.day, v.last_day, v.days, v.detail, v.police_required,
	v.state, v.state_reason, v.state_by_name, v.state_at, v.policy_ref, v.created_by, v.created_at,
	EXISTS (SELECT 1 FROM violation_steps s WHERE s.violation_id = v.id AND s.step = 'police')`

const violationFrom = ` FROM violations v JOIN persons p ON p.id = v.person_id AND ` + notSealed + ` JOIN orgs o ON o.id = p.org_id`

func scanViolation(sc interface{ Scan(...any) error }) (*Violation, error) {
	var v Violation
	var kind, state string
	var at sql.NullTime
	if err := sc.Scan(&v.ID, &v.PersonID, &v.PersonName, &v.MeasureID, &v.OrgID, &v.OrgName, &kind, &v.Day, &v.LastDay, &v.Days, &v.Detail,
		&v.PoliceRequired, &state, &v.StateReason, &v.StateByName, &at, &v.PolicyRef, &v.CreatedBy, &v.CreatedAt, &v.PoliceReported); err != nil {
		return nil, err
	}
	v.Kind, v.State, v.StateAt, v.CreatedAt = casework.ViolationKind(kind), casework.ViolationState(state), scanTime(at), v.CreatedAt.UTC()
	return &v, nil
}

// ListViolations returns the violations in the actor's scope matching the
// filter, newest day first, and the total. The list is audited.
func (db *DB) ListViolations(ctx context.Context, actor *casework.Actor, f ViolationFilter) ([]*Violation, int, error) {
	perm := f.Perm
	if perm == "" {
		perm = casework.PermViewViolations
	}
	where, args := scopeClause("o.path", actor.Scope(perm))
	if f.PersonID != "" {
		where, args = where+` AND v.person_id = ?`, append(args, f.PersonID)
	}
	if f.Kind != "" {
		where, args = where+` AND v.kind = ?`, append(args, string(f.Kind))
	}
	if f.State != "" {
		where, args = where+` AND v.state = ?`, append(args, string(f.State))
	}
	if f.Pending {
		where += ` AND v.state IN ('open', 'explained')`
	}
	if !f.From.IsZero() {
		where, args = where+` AND v.last_day >= ?`, append(args, f.From)
	}
	if !f.To.IsZero() {
		where, args = where+` AND v.day <= ?`, append(args, f.To)
	}
	var out []*Violation
	var total int
	err := db.Write(ctx, func(tx *Tx) error {
		if f.OrgID != "" {
			org, err := tx.orgFor(ctx, actor, perm, f.OrgID)
			if err != nil {
				return err
			}
			where, args = where+` AND o.path LIKE ? ESCAPE '\'`, append(args, likePrefix(org.Path))
		}
		if f.PersonID != "" {
			// A file the actor cannot open is not found, not an empty list.
			if _, err := tx.personFor(ctx, actor, f.PersonID, nil); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*)`+violationFrom+` WHERE `+where, args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+violationColumns+violationFrom+` WHERE `+where+` ORDER BY v.day DESC, v.id LIMIT ? OFFSET ?`,
			append(args, clampLimit(f.Limit), max(f.Offset, 0))...)
		if err != nil {
			return err
		}
		for rows.Next() {
			v, err := scanViolation(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		detail := map[string]any{"count": len(out), "total": total}
		target, targetType := "", "violations"
		if f.PersonID != "" {
			target, targetType = f.PersonID, "person"
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "violation.list", TargetType: targetType, TargetID: target, OrgID: f.OrgID, Detail: detail})
	})
	return out, total, err
}

// GetViolation returns a violation with its ladder steps and what the actor
// may do now. The read is audited.
func (db *DB) GetViolation(ctx context.Context, actor *casework.Actor, id string) (*Violation, error) {
	var v *Violation
	err := db.Write(ctx, func(tx *Tx) error {
		var path string
		var err error
		if v, path, err = tx.violationForPath(ctx, actor, casework.PermViewViolations, id, false); err != nil {
			return err
		}
		if err := tx.loadSteps(ctx, v); err != nil {
			return err
		}
		if v.State == casework.ViolationOpen || v.State == casework.ViolationExplained {
			for _, a := range casework.ViolationActions {
				if _, err := casework.NextViolationState(v.State, a); err == nil && actor.Can(a.Perm(), path) {
					v.Actions = append(v.Actions, a)
				}
			}
		}
		if v.State == casework.ViolationConfirmed && actor.Can(casework.PermDecideViolations, path) {
			v.LadderSteps = casework.AllowedSteps(v.Highest)
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "violation.read", TargetType: "violation", TargetID: id, OrgID: v.OrgID,
			Detail: map[string]any{"person_id": v.PersonID}})
	})
	return v, err
}

// violationForPath loads a violation in the actor's scope for perm
// (ENOTFOUND outside it, EFORBIDDEN in it without perm) and its org path.
func (tx *Tx) violationForPath(ctx context.Context, actor *casework.Actor, perm casework.Perm, id string, lock bool) (*Violation, string, error) {
	q := `SELECT o.path` + violationFrom + ` WHERE v.id = ?`
	var path string
	if err := tx.QueryRow(ctx, q, id).Scan(&path); err != nil {
		return nil, "", notFound(err, "违规记录", "violation")
	}
	if !actor.Can(casework.PermViewViolations, path) {
		return nil, "", casework.NotFound("违规记录", "violation")
	}
	if perm != casework.PermViewViolations && !actor.Can(perm, path) {
		return nil, "", casework.Errorf(casework.EFORBIDDEN, "您没有权限处理该违规", "you may not do this with this violation")
	}
	q = `SELECT ` + violationColumns + violationFrom + ` WHERE v.id = ?`
	if lock {
		q += tx.forUpdate()
	}
	v, err := scanViolation(tx.QueryRow(ctx, q, id))
	if err != nil {
		return nil, "", notFound(err, "违规记录", "violation")
	}
	return v, path, nil
}

func (tx *Tx) loadSteps(ctx context.Context, v *Violation) error {
	rows, err := tx.Query(ctx, `SELECT id, violation_id, step, reason, recipient, COALESCE(document_id, ''), created_by_name, created_at
		FROM violation_steps WHERE measure_id = ? ORDER BY created_at, id`, v.MeasureID)
	if err != nil {
		return err
	}
	defer rows.Close()
	v.Highest = ""
	for rows.Next() {
		var s ViolationStep
		var step string
		if err := rows.Scan(&s.ID, &s.ViolationID, &step, &s.Reason, &s.Recipient, &s.DocumentID, &s.CreatedByName, &s.CreatedAt); err != nil {
			return err
		}
		s.Step, s.CreatedAt = casework.LadderStep(step), s.CreatedAt.UTC()
		if s.Step.Rank() > v.Highest.Rank() {
			v.Highest = s.Step
		}
		if s.ViolationID == v.ID {
			v.Steps = append(v.Steps, s)
		}
	}
	return rows.Err()
}

// ReviewViolation explains, excuses or confirms a violation (R29): a
// reason always; excusing needs a lead (PermDecideViolations). Excusing a
// refusal or a departure takes it out of the R9 count; a serious case
// already opened stays until a person closes it.
func (db *DB) ReviewViolation(ctx context.Context, actor *casework.Actor, id string, in casework.ViolationReview) (*Violation, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	err := db.Write(ctx, func(tx *Tx) error {
		v, _, err := tx.violationForPath(ctx, actor, in.Action.Perm(), id, true)
		if err != nil {
			return err
		}
		to, err := casework.NextViolationState(v.State, in.Action)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE violations SET state = ?, state_reason = ?, state_by = ?, state_by_name = ?, state_at = ? WHERE id = ?`,
			string(to), in.Reason, actor.UserID, actorName(actor), tx.now, id); err != nil {
			return err
		}
		if err := tx.event(ctx, actor, v.PersonID, v.OrgID, "violation."+string(in.Action), map[string]any{"violation_id": id, "kind": string(v.Kind)}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "violation." + string(in.Action), TargetType: "violation", TargetID: id, OrgID: v.OrgID,
			Reason: in.Reason, Detail: map[string]any{"person_id": v.PersonID, "from": string(v.State), "to": string(to)}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetViolation(ctx, actor, id)
}

// LadderCheck checks, before a notice is generated, that the actor may take
// the step on the violation now; it returns the violation (unaudited: the
// step that follows is audited).
func (db *DB) LadderCheck(ctx context.Context, actor *casework.Actor, id string, in casework.LadderInput) (*Violation, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var v *Violation
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		if v, err = tx.checkLadder(ctx, actor, id, in, false); err != nil {
			return err
		}
		return nil
	})
	return v, err
}

func (tx *Tx) checkLadder(ctx context.Context, actor *casework.Actor, id string, in casework.LadderInput, lock bool) (*Violation, error) {
	v, _, err := tx.violationForPath(ctx, actor, casework.PermDecideViolations, id, lock)
	if err != nil {
		return nil, err
	}
	if v.State != casework.ViolationConfirmed {
		return nil, casework.Errorf(casework.ECONFLICT, "须先确认违规，才能劝诫、告诫或通报（R29）", "confirm the violation before a step of the ladder (R29)")
	}
	if err := tx.loadSteps(ctx, v); err != nil {
		return nil, err
	}
	if err := casework.CheckLadderStep(v.Highest, in.Step); err != nil {
		return nil, err
	}
	return v, nil
}

// AddLadderStep records a ladder step with its generated notice (doc, its
// content already in the blob store; nil: no document), who, when and why.
func (db *DB) AddLadderStep(ctx context.Context, actor *casework.Actor, id string, in casework.LadderInput, doc *DocumentInput) (*Violation, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if doc != nil {
		if err := doc.Validate(); err != nil {
			return nil, err
		}
	}
	err := db.Write(ctx, func(tx *Tx) error {
		v, err := tx.checkLadder(ctx, actor, id, in, true)
		if err != nil {
			return err
		}
		var docID any
		if doc != nil {
			d, err := tx.insertDocument(ctx, actor, v.PersonID, v.MeasureID, v.OrgID, *doc)
			if err != nil {
				return err
			}
			docID = d
		}
		sid := NewID()
		if _, err := tx.Exec(ctx, `INSERT INTO violation_steps (id, violation_id, person_id, measure_id, step, reason, recipient, document_id,
			created_by, created_by_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, sid, id, v.PersonID, v.MeasureID, string(in.Step),
			in.Reason, in.Recipient, docID, actor.UserID, actorName(actor), tx.now); err != nil {
			return err
		}
		if err := tx.event(ctx, actor, v.PersonID, v.OrgID, "violation.step", map[string]any{"violation_id": id, "step": string(in.Step)}); err != nil {
			return err
		}
		// 劝诫 and 告诫 are told to the person in the app and by SMS (issue 5
		// §7: warnings); 通报公安 is a report to the police, not a notice.
		if in.Step == casework.StepExhort || in.Step == casework.StepWarn {
			words := func(lang string) string {
				if lang == "en" {
					return fmt.Sprintf("[%s] Your %s of %s is confirmed. %s Please keep to your community treatment (rehabilitation) agreement; if you have questions, contact your community worker.",
						in.Step.Label("en"), v.Kind.Label("en"), v.Day, in.Reason)
				}
				return fmt.Sprintf("【%s】您于%s的%s已被确认。%s 请遵守社区戒毒（康复）协议，如有疑问请联系您的社区工作人员。",
					in.Step.Label("zh"), v.Day, v.Kind.Label("zh"), in.Reason)
			}
			if _, err := tx.NotifyPerson(ctx, PersonNotice{PersonID: v.PersonID, Kind: "violation." + string(in.Step), Words: words, SMS: true,
				Key: "violation.step:" + sid}); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "violation.step", TargetType: "violation", TargetID: id, OrgID: v.OrgID, Reason: in.Reason,
			Detail: map[string]any{"person_id": v.PersonID, "step": string(in.Step), "recipient": in.Recipient, "document_id": docID}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetViolation(ctx, actor, id)
}

// insertDocument files a generated document in the transaction that uses
// it (a ladder notice, a case report), like AddDocument.
func (tx *Tx) insertDocument(ctx context.Context, actor *casework.Actor, personID, measureID, orgID string, in DocumentInput) (string, error) {
	id := NewID()
	if _, err := tx.Exec(ctx, `INSERT INTO documents (id, person_id, measure_id, org_id, kind, title, source, sha256, mime, size, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, personID, measureID, orgID, in.Kind, in.Title, in.Source, in.SHA256, in.MIME, in.Size,
		actor.UserID, tx.now); err != nil {
		return "", fmt.Errorf("insert document: %w", err)
	}
	if err := tx.event(ctx, actor, personID, orgID, "document.added", map[string]any{"document_id": id, "kind": in.Kind,
		"title": in.Title, "source": in.Source}); err != nil {
		return "", err
	}
	return id, tx.Audit(ctx, actor, AuditEntry{Action: "document.generate", TargetType: "person", TargetID: personID, OrgID: orgID,
		Detail: map[string]any{"document_id": id, "kind": in.Kind, "sha256": in.SHA256, "size": in.Size, "mime": in.MIME}})
}

// DrugUseInput is drug use recorded by staff (R10), e.g. admitted or seen.
type DrugUseInput struct {
	Day    casework.Date
	Detail string
}

// CheckDetail checks the account of what happened (trimmed, 1–1000
// characters); the console runs it with a day it could not read, so the
// form shows both problems at once (issue 18 item 9).
func (in DrugUseInput) CheckDetail() error {
	if d := strings.TrimSpace(in.Detail); d == "" || utf8.RuneCountInString(d) > 1000 {
		return casework.Invalid("detail", "请写明情况（1000字以内）", "describe what happened (up to 1000 characters)")
	}
	return nil
}

// check returns every problem of the input at once (issue 18 item 9): the
// detail, and the day, which must be known and not after today.
func (in DrugUseInput) check(today casework.Date) casework.FieldErrors {
	var errs casework.FieldErrors // in the form's order
	if in.Day.IsZero() || in.Day.After(today) {
		errs.Add(casework.Invalid("day", "请填写日期（不晚于今天）", "give the day (today or earlier)"))
	}
	errs.Add(in.CheckDetail())
	return errs
}

// RecordDrugUse records drug use for a person (R10): a confirmed violation
// and, at once, a serious case to report to the police. Needs
// PermReviewViolations and write access to the file.
func (db *DB) RecordDrugUse(ctx context.Context, actor *casework.Actor, personID string, in DrugUseInput) (*Violation, error) {
	in.Detail = strings.TrimSpace(in.Detail)
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canWrite)
		if err != nil {
			return err
		}
		if !actor.Can(casework.PermReviewViolations, r.OrgPath) {
			return casework.Errorf(casework.EFORBIDDEN, "您没有权限记录违规", "you may not record violations")
		}
		m, err := tx.currentMeasure(ctx, personID)
		if err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		today := tx.today(org)
		if err := in.check(today).Err(); err != nil {
			return err
		}
		id = NewID()
		if _, err := tx.Exec(ctx, `INSERT INTO violations (id, person_id, measure_id, org_id, kind, source_key, day, last_day, days, detail,
			police_required, state, state_reason, state_by, state_by_name, state_at, policy_ref, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)`, id, personID, m.ID, r.OrgID, string(casework.ViolationDrugUse), id,
			in.Day, in.Day, in.Detail, true, string(casework.ViolationConfirmed), in.Detail, actor.UserID, actorName(actor), tx.now,
			actor.UserID, tx.now); err != nil {
			return err
		}
		if err := tx.Audit(ctx, actor, AuditEntry{Action: "violation.record", TargetType: "violation", TargetID: id, OrgID: r.OrgID,
			Detail: map[string]any{"person_id": personID, "kind": string(casework.ViolationDrugUse)}}); err != nil {
			return err
		}
		pol, err := tx.resolvePolicy(ctx, org, today)
		if err != nil {
			return err
		}
		_, err = tx.openCase(ctx, actor, personID, m.ID, r.OrgID, casework.TriggerDrugUse, id, map[string]any{"violation_id": id},
			strings.Join(pol.Refs(violationSettings...), ","), today, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.GetViolation(ctx, actor, id)
}
