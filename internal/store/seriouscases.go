package store

// seriouscases.go: serious cases (R9, R10) — lists for workers, leads and
// police until closed, the detail, and the steps: report (with the
// generated 报告书, the recipient and the time sent, R10), police
// acknowledgement, decision and closing. Everything audited.

import (
	"context"
	"database/sql"
	"time"

	"kangfu/internal/casework"
)

// SeriousCase is a stored serious case.
type SeriousCase struct {
	ID               string
	PersonID         string
	PersonName       string
	MeasureID        string
	OrgID            string // the person's current place
	OrgName          string
	Trigger          casework.CaseTrigger
	TriggerKey       string
	Statutory        bool   // R9: false when opened below the law's threshold (a policy lowered it)
	Counts           string // JSON: counts and thresholds when opened
	PolicyRef        string
	State            casework.CaseState
	ReportDocumentID string
	Recipient        string
	SentAt           time.Time
	AckAt            time.Time
	AckNote          string
	Decision         casework.PoliceDecision
	DecisionDate     casework.Date
	DecisionText     string
	ClosedAt         time.Time
	CloseNote        string
	OpenedOn         casework.Date
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Actions          []casework.CaseAction // what the actor may do now (GetSeriousCase)
}

// CaseFilter selects serious cases; zero fields do not filter.
type CaseFilter struct {
	PersonID string
	OrgID    string
	State    casework.CaseState
	States   []casework.CaseState
	Open     bool          // not closed
	Perm     casework.Perm // scope by this permission (default PermViewViolations)
	Limit    int
	Offset   int
}

const caseColumns = `c.id, c.person_id, p.name, c.measure_id, p.org_id, o.name, c.trigger_kind, c.trigger_key, c.counts, c.policy_ref, c.state,
	COALESCE(c.report_document_id, ''), c.recipient, c.sent_at, c.ack_at, c.ack_note, c.decision, c.decision_date, c.decision_text,
	c.closed_at, c.close_note, c.opened_on, c.created_at, c.updated_at, c.statutory`

const caseFrom = ` FROM serious_cases c JOIN persons p ON p.id = c.person_id AND ` + notSealed + ` JOIN orgs o ON o.id = p.org_id`

func scanCase(sc interface{ Scan(...any) error }) (*SeriousCase, error) {
	var c SeriousCase
	var trig, state, decision string
	var sent, ack, closed sql.NullTime
	var dd sql.Null[casework.Date]
	if err := sc.Scan(&c.ID, &c.PersonID, &c.PersonName, &c.MeasureID, &c.OrgID, &c.OrgName, &trig, &c.TriggerKey, &c.Counts, &c.PolicyRef, &state,
		&c.ReportDocumentID, &c.Recipient, &sent, &ack, &c.AckNote, &decision, &dd, &c.DecisionText, &closed, &c.CloseNote, &c.OpenedOn,
		&c.CreatedAt, &c.UpdatedAt, &c.Statutory); err != nil {
		return nil, err
	}
	c.Trigger, c.State, c.Decision, c.DecisionDate = casework.CaseTrigger(trig), casework.CaseState(state), casework.PoliceDecision(decision), dd.V
	c.SentAt, c.AckAt, c.ClosedAt = scanTime(sent), scanTime(ack), scanTime(closed)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

// TriggerLabel names the case's trigger in the language, as the local
// policy's when it was opened below the law's threshold (R9).
func (c *SeriousCase) TriggerLabel(lang string) string { return c.Trigger.CaseLabel(c.Statutory, lang) }

// ListSeriousCases returns the cases in the actor's scope, open ones first
// by the day opened. Audited.
func (db *DB) ListSeriousCases(ctx context.Context, actor *casework.Actor, f CaseFilter) ([]*SeriousCase, int, error) {
	perm := f.Perm
	if perm == "" {
		perm = casework.PermViewViolations
	}
	if f.State != "" && !f.State.Valid() {
		return nil, 0, casework.Invalid("state", "未知的案件状态", "unknown case state")
	}
	where, args := scopeClause("o.path", actor.Scope(perm))
	if f.PersonID != "" {
		where, args = where+` AND c.person_id = ?`, append(args, f.PersonID)
	}
	if f.State != "" {
		where, args = where+` AND c.state = ?`, append(args, string(f.State))
	}
	if len(f.States) > 0 {
		where += ` AND c.state IN (?` + repeatComma(len(f.States)-1) + `)`
		for _, s := range f.States {
			args = append(args, string(s))
		}
	}
	if f.Open {
		where += ` AND c.state <> 'closed'`
	}
	var out []*SeriousCase
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
			if _, err := tx.personFor(ctx, actor, f.PersonID, nil); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*)`+caseFrom+` WHERE `+where, args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+caseColumns+caseFrom+` WHERE `+where+
			` ORDER BY CASE WHEN c.state = 'closed' THEN 1 ELSE 0 END, c.opened_on DESC, c.id LIMIT ? OFFSET ?`,
			append(args, clampLimit(f.Limit), max(f.Offset, 0))...)
		if err != nil {
			return err
		}
		for rows.Next() {
			c, err := scanCase(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		target, targetType := "", "serious_cases"
		if f.PersonID != "" {
			target, targetType = f.PersonID, "person"
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "case.list", TargetType: targetType, TargetID: target, OrgID: f.OrgID,
			Detail: map[string]any{"count": len(out), "total": total}})
	})
	return out, total, err
}

func repeatComma(n int) string {
	s := ""
	for range n {
		s += ", ?"
	}
	return s
}

func (tx *Tx) caseFor(ctx context.Context, actor *casework.Actor, id string, lock bool) (*SeriousCase, string, error) {
	var path string
	if err := tx.QueryRow(ctx, `SELECT o.path`+caseFrom+` WHERE c.id = ?`, id).Scan(&path); err != nil {
		return nil, "", notFound(err, "严重违规案件", "serious case")
	}
	if !actor.Can(casework.PermViewViolations, path) {
		return nil, "", casework.NotFound("严重违规案件", "serious case")
	}
	q := `SELECT ` + caseColumns + caseFrom + ` WHERE c.id = ?`
	if lock {
		// Lock the case row alone (PostgreSQL: FOR UPDATE OF c).
		if tx.Engine() == Postgres {
			q += ` FOR UPDATE OF c`
		}
	}
	c, err := scanCase(tx.QueryRow(ctx, q, id))
	if err != nil {
		return nil, "", notFound(err, "严重违规案件", "serious case")
	}
	return c, path, nil
}

func caseActions(actor *casework.Actor, c *SeriousCase, path string) []casework.CaseAction {
	var out []casework.CaseAction
	for _, a := range casework.CaseActionsFrom(c.State) {
		for _, p := range a.Perms() {
			if actor.Can(p, path) {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// GetSeriousCase returns a case and what the actor may do with it. Audited.
func (db *DB) GetSeriousCase(ctx context.Context, actor *casework.Actor, id string) (*SeriousCase, error) {
	var c *SeriousCase
	err := db.Write(ctx, func(tx *Tx) error {
		var path string
		var err error
		if c, path, err = tx.caseFor(ctx, actor, id, false); err != nil {
			return err
		}
		c.Actions = caseActions(actor, c, path)
		return tx.Audit(ctx, actor, AuditEntry{Action: "case.read", TargetType: "serious_case", TargetID: id, OrgID: c.OrgID,
			Detail: map[string]any{"person_id": c.PersonID}})
	})
	return c, err
}

// CaseCheck checks, before a report is generated, that the actor may take
// the step now.
func (db *DB) CaseCheck(ctx context.Context, actor *casework.Actor, id string, in casework.CaseStep) (*SeriousCase, error) {
	var c *SeriousCase
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		c, _, err = tx.checkCaseStep(ctx, actor, id, &in, false)
		return err
	})
	return c, err
}

func (tx *Tx) checkCaseStep(ctx context.Context, actor *casework.Actor, id string, in *casework.CaseStep, lock bool) (*SeriousCase, string, error) {
	c, path, err := tx.caseFor(ctx, actor, id, lock)
	if err != nil {
		return nil, "", err
	}
	allowed := false
	for _, p := range in.Action.Perms() {
		allowed = allowed || actor.Can(p, path)
	}
	if !allowed {
		return nil, "", casework.Errorf(casework.EFORBIDDEN, "您没有权限对该案件执行此操作", "you may not do this with this case")
	}
	org, err := tx.orgByID(ctx, c.OrgID)
	if err != nil {
		return nil, "", err
	}
	if err := in.Validate(tx.today(org)); err != nil {
		return nil, "", err
	}
	if _, err := casework.NextCaseState(c.State, in.Action); err != nil {
		return nil, "", err
	}
	return c, path, nil
}

// StepSeriousCase takes a step of the case: report (doc is the generated
// report, already in the blob store; sent time and recipient recorded,
// R10), acknowledge, decide, close.
func (db *DB) StepSeriousCase(ctx context.Context, actor *casework.Actor, id string, in casework.CaseStep, doc *DocumentInput) (*SeriousCase, error) {
	if doc != nil {
		if err := doc.Validate(); err != nil {
			return nil, err
		}
	}
	err := db.Write(ctx, func(tx *Tx) error {
		c, _, err := tx.checkCaseStep(ctx, actor, id, &in, true)
		if err != nil {
			return err
		}
		to, _ := casework.NextCaseState(c.State, in.Action)
		switch in.Action {
		case casework.CaseReport:
			sent := tx.now
			if in.SentAt != "" {
				t, err := time.Parse(time.RFC3339, in.SentAt)
				if err != nil || t.After(tx.now) {
					return casework.Invalid("sent_at", "报送时间须为不晚于现在的时间（RFC 3339）", "sent_at must be an RFC 3339 time, not in the future")
				}
				sent = t.UTC()
			}
			var docID any
			if doc != nil {
				d, err := tx.insertDocument(ctx, actor, c.PersonID, c.MeasureID, c.OrgID, *doc)
				if err != nil {
					return err
				}
				docID = d
			}
			_, err = tx.Exec(ctx, `UPDATE serious_cases SET state = ?, recipient = ?, sent_at = ?, reported_by = ?, report_document_id = ?, updated_at = ? WHERE id = ?`,
				string(to), in.Recipient, sent, actor.UserID, docID, tx.now, id)
			if err == nil {
				// The police in the subtree learn of it in the console (R10).
				_, err = tx.NotifyStaff(ctx, StaffNotice{PersonID: c.PersonID, Perm: casework.PermPoliceCase, Kind: "case.reported",
					TitleZH: "严重违规案件已报送，请签收并作出决定", TitleEN: "A serious case was reported to you: acknowledge and decide",
					Link: "/cases/" + id, Key: "case.reported:" + id})
			}
		case casework.CaseAcknowledge:
			_, err = tx.Exec(ctx, `UPDATE serious_cases SET state = ?, ack_by = ?, ack_at = ?, ack_note = ?, updated_at = ? WHERE id = ?`,
				string(to), actor.UserID, tx.now, in.Text, tx.now, id)
		case casework.CaseDecide:
			// R17: the law excludes a pregnant or nursing woman from 强戒.
			sp, serr := tx.specialOn(ctx, c.PersonID, in.DecisionDate)
			if serr != nil {
				return serr
			}
			if serr := sp.CheckCompulsory(in.Decision); serr != nil {
				return serr
			}
			_, err = tx.Exec(ctx, `UPDATE serious_cases SET state = ?, decision = ?, decision_date = ?, decision_text = ?, decided_by = ?, updated_at = ? WHERE id = ?`,
				string(to), string(in.Decision), in.DecisionDate, in.Text, actor.UserID, tx.now, id)
		case casework.CaseClose:
			_, err = tx.Exec(ctx, `UPDATE serious_cases SET state = ?, closed_by = ?, closed_at = ?, close_note = ?, updated_at = ? WHERE id = ?`,
				string(to), actor.UserID, tx.now, in.Text, tx.now, id)
		}
		if err != nil {
			return err
		}
		if err := tx.event(ctx, actor, c.PersonID, c.OrgID, "case."+string(in.Action), map[string]any{"case_id": id}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "case." + string(in.Action), TargetType: "serious_case", TargetID: id, OrgID: c.OrgID,
			Reason: in.Text, Detail: map[string]any{"person_id": c.PersonID, "from": string(c.State), "to": string(to), "recipient": in.Recipient,
				"decision": string(in.Decision)}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetSeriousCase(ctx, actor, id)
}
