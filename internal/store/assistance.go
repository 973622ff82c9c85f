package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

// Assistance records (帮扶救助, issue 11 §4): 低保 with its states and monthly
// amount, temporary relief, referrals, methadone enrolment (R41), training,
// housing and family help. Amount, outcome and note are sealed (R36) and
// shown only to readers with casework.PermHelpAmounts (not the police).

// Assistance is one stored record.
type Assistance struct {
	ID               string
	PersonID         string
	PersonName       string
	OrgID            string
	Kind             casework.AssistanceKind
	Status           casework.AssistanceStatus
	AppliedOn        casework.Date
	DecidedOn        casework.Date
	EndedOn          casework.Date
	Provider         string
	AmountFen        int64 // 0 and Hidden for readers without amounts
	Outcome          string
	Note             string
	Hidden           bool // amount, outcome and note withheld from this reader
	PoliceReportedOn casework.Date
	PoliceReportedTo string
	CreatedBy        string
	CreatedByName    string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// NeedsPoliceReport reports whether the record is a methadone enrolment
// not yet reported to the police (R41).
func (a *Assistance) NeedsPoliceReport() bool {
	return a.Kind == casework.AidMethadone && a.Status == casework.AidApproved && a.PoliceReportedOn.IsZero()
}

type aidDetail struct {
	AmountFen int64  `json:"amount_fen,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
	Note      string `json:"note,omitempty"`
}

func sealAidCtx(id string) string { return "assistance:" + id }

// helpPerson loads a person whose help the actor may read (write: also
// record): the help part of the file is for those holding PermViewHelp
// where the file is — not counsellors, whatever their working group — and
// for the two sides of a transfer as the file itself is (R11).
func (tx *Tx) helpPerson(ctx context.Context, actor *casework.Actor, personID string, write bool) (*personRow, error) {
	r, err := tx.personFor(ctx, actor, personID, nil)
	if err != nil {
		return nil, err
	}
	if !actor.Can(casework.PermViewHelp, r.OrgPath) && r.Access.Until.IsZero() && !r.Access.Incoming {
		return nil, errPersonNotFound
	}
	if write && (!canWrite(r.Access) || !actor.Can(casework.PermWriteHelp, r.OrgPath)) {
		return nil, casework.Errorf(casework.EFORBIDDEN, "您没有权限登记该人员的帮扶记录", "you may not record help for this person")
	}
	return r, nil
}

// careEditable checks that the actor may change a record written by
// createdBy: its author or a lead over the file (issue 11 §6; the shared
// rule casework.CanEditCareRecord).
func careEditable(actor *casework.Actor, r *personRow, createdBy string) error {
	if casework.CanEditCareRecord(actor, createdBy, r.OrgPath) {
		return nil
	}
	return casework.Errorf(casework.EFORBIDDEN, "只有登记人或街道负责人可以修改这条记录", "only its author or a lead may change this record")
}

// AddAssistance records assistance for a person, adds it to the timeline
// and audits. A methadone enrolment without a police report becomes an
// inbox task (R41).
func (db *DB) AddAssistance(ctx context.Context, actor *casework.Actor, personID string, in casework.AssistanceInput) (*Assistance, error) {
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.helpPerson(ctx, actor, personID, true)
		if err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		if err := in.Validate(tx.today(org)); err != nil {
			return err
		}
		id = NewID()
		sealed, err := db.sealAid(id, in)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO assistance (id, person_id, org_id, kind, status, applied_on, decided_on, ended_on, provider, detail_enc,
			created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, personID, r.OrgID, string(in.Kind), string(in.Status), in.AppliedOn, in.DecidedOn, in.EndedOn, in.Provider, sealed,
			actorID(actor), tx.now, tx.now); err != nil {
			return fmt.Errorf("insert assistance: %w", err)
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "assistance.recorded", map[string]any{"aid": string(in.Kind),
			"aid_status": string(in.Status), "date": in.AppliedOn.String()}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "assistance.record", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"assistance_id": id, "kind": string(in.Kind), "status": string(in.Status)}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetAssistance(ctx, actor, id)
}

func (db *DB) sealAid(id string, in casework.AssistanceInput) (string, error) {
	b, err := json.Marshal(aidDetail{AmountFen: in.AmountFen, Outcome: in.Outcome, Note: in.Note})
	if err != nil {
		return "", err
	}
	return db.vault.Seal(string(b), sealAidCtx(id))
}

// UpdateAssistance changes a record: its status along casework.NextAid
// (the same status keeps it, to correct dates, amount or notes), with the
// dates checked again. Only the author or a lead may change it
// (casework.CanEditCareRecord), giving a reason; the replaced version is
// kept as a revision.
func (db *DB) UpdateAssistance(ctx context.Context, actor *casework.Actor, id string, in casework.AssistanceInput, reason string) (*Assistance, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		old, r, err := tx.assistanceFor(ctx, actor, id, true)
		if err != nil {
			return err
		}
		if err := careEditable(actor, r, old.CreatedBy); err != nil {
			return err
		}
		// The replaced version, amounts and notes included, goes to the
		// sealed revisions (issue 11 §6).
		in.Kind = old.Kind
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		// The reason, the status step and the record are checked together
		// (issue 18 item 9).
		var errs casework.FieldErrors
		if _, err := casework.CheckRevisionReason(reason); errs.Add(err) != nil {
			return err
		}
		if in.Status != old.Status && !casework.NextAid(old.Status, in.Status) {
			errs.Add(casework.Invalid("status", "状态不能从“%s”改为“%s”", "the status cannot go from %q to %q",
				old.Status.Label("zh"), in.Status.Label("zh")))
		}
		if err := errs.Add(in.Validate(tx.today(org))); err != nil {
			return err
		}
		if err := errs.Err(); err != nil {
			return err
		}
		if _, err := tx.SaveRevision(ctx, actor, RevisionInput{Kind: "assistance", RecordID: id, PersonID: old.PersonID, Previous: old, Reason: reason}); err != nil {
			return err
		}
		sealed, err := db.sealAid(id, in)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE assistance SET status = ?, applied_on = ?, decided_on = ?, ended_on = ?, provider = ?, detail_enc = ?,
			updated_at = ? WHERE id = ?`, string(in.Status), in.AppliedOn, in.DecidedOn, in.EndedOn, in.Provider, sealed, tx.now, id); err != nil {
			return err
		}
		data := map[string]any{"aid": string(in.Kind), "aid_status": string(in.Status)}
		if in.Status != old.Status {
			data["aid_from"] = string(old.Status)
		}
		if err := tx.event(ctx, actor, old.PersonID, r.OrgID, "assistance.changed", data); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "assistance.update", TargetType: "person", TargetID: old.PersonID, OrgID: r.OrgID,
			Detail: map[string]any{"assistance_id": id, "from": string(old.Status), "to": string(in.Status),
				"before": map[string]any{"applied_on": old.AppliedOn.String(), "decided_on": old.DecidedOn.String(), "ended_on": old.EndedOn.String(),
					"provider": old.Provider}}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetAssistance(ctx, actor, id)
}

// ReportMethadone records that a methadone enrolment was reported to the
// police (R41): the day and to whom. It ends the inbox task.
func (db *DB) ReportMethadone(ctx context.Context, actor *casework.Actor, id string, on casework.Date, to string) (*Assistance, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		a, r, err := tx.assistanceFor(ctx, actor, id, true)
		if err != nil {
			return err
		}
		if a.Kind != casework.AidMethadone || a.Status == casework.AidApplied || a.Status == casework.AidRefused {
			return casework.Errorf(casework.ECONFLICT, "只有已入组的美沙酮维持治疗需要报告公安机关", "only a methadone enrolment is reported to the police")
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		if on.IsZero() || on.After(tx.today(org)) || on.Before(a.DecidedOn) {
			return casework.Invalid("reported_on", "报告日期须在入组日期与今天之间", "the report date must be between the enrolment and today")
		}
		if to == "" {
			return casework.Invalid("reported_to", "请填写接收报告的公安机关或民警", "name the police office or officer told")
		}
		if _, err := tx.Exec(ctx, `UPDATE assistance SET police_reported_on = ?, police_reported_to = ?, updated_at = ? WHERE id = ?`,
			on, to, tx.now, id); err != nil {
			return err
		}
		if err := tx.event(ctx, actor, a.PersonID, r.OrgID, "assistance.police_reported", map[string]any{"aid": string(a.Kind),
			"date": on.String(), "reported_to": to}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "assistance.police_report", TargetType: "person", TargetID: a.PersonID, OrgID: r.OrgID,
			Detail: map[string]any{"assistance_id": id, "reported_on": on.String()}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetAssistance(ctx, actor, id)
}

// GetAssistance returns one record the actor may read.
func (db *DB) GetAssistance(ctx context.Context, actor *casework.Actor, id string) (*Assistance, error) {
	var a *Assistance
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		a, _, err = tx.assistanceFor(ctx, actor, id, false)
		return err
	})
	return a, err
}

func (tx *Tx) assistanceFor(ctx context.Context, actor *casework.Actor, id string, write bool) (*Assistance, *personRow, error) {
	var pid string
	if err := tx.QueryRow(ctx, `SELECT person_id FROM assistance WHERE id = ?`, id).Scan(&pid); err != nil {
		return nil, nil, notFound(err, "帮扶记录", "assistance record")
	}
	r, err := tx.helpPerson(ctx, actor, pid, write)
	if casework.IsCode(err, casework.ENOTFOUND) {
		return nil, nil, casework.NotFound("帮扶记录", "assistance record")
	}
	if err != nil {
		return nil, nil, err
	}
	list, err := tx.assistance(ctx, actor, `a.id = ?`, id)
	if err != nil || len(list) == 0 {
		return nil, nil, notFound(err, "帮扶记录", "assistance record")
	}
	return &list[0], r, nil
}

// ListAssistance returns a person's assistance, newest first; the read is
// audited (R36).
func (db *DB) ListAssistance(ctx context.Context, actor *casework.Actor, personID string) ([]Assistance, error) {
	var out []Assistance
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.helpPerson(ctx, actor, personID, false)
		if err != nil {
			return err
		}
		where, args := `a.person_id = ?`, []any{personID}
		if !r.Access.Until.IsZero() {
			where, args = where+` AND a.created_at <= ?`, append(args, r.Access.Until)
		}
		if out, err = tx.assistance(ctx, actor, where, args...); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "assistance.list", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"count": len(out)}})
	})
	return out, err
}

// AssistanceFilter selects assistance across persons.
type AssistanceFilter struct {
	OrgID  string // subtree; "" for the actor's whole scope
	Kind   casework.AssistanceKind
	Status casework.AssistanceStatus
}

// ListAssistanceAll lists assistance records of the persons the actor sees
// (a worker: its caseload), newest first, for the list page and its export.
func (db *DB) ListAssistanceAll(ctx context.Context, actor *casework.Actor, f AssistanceFilter) ([]Assistance, error) {
	if f.Kind != "" && !f.Kind.Valid() {
		return nil, casework.Invalid("kind", "未知的帮扶类型", "unknown kind of assistance")
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, casework.Invalid("status", "未知的状态", "unknown status")
	}
	var out []Assistance
	err := db.Write(ctx, func(tx *Tx) error {
		where, args := personScope(actor, casework.PermViewHelp)
		if f.OrgID != "" {
			o, err := tx.orgByID(ctx, f.OrgID)
			if err != nil || !actor.Can(casework.PermViewHelp, o.Path) {
				return casework.NotFound("机构", "organisation")
			}
			where, args = where+` AND o.path LIKE ? ESCAPE '\'`, append(args, likePrefix(o.Path))
		}
		if f.Kind != "" {
			where, args = where+` AND a.kind = ?`, append(args, string(f.Kind))
		}
		if f.Status != "" {
			where, args = where+` AND a.status = ?`, append(args, string(f.Status))
		}
		var err error
		if out, err = tx.assistance(ctx, actor, where, args...); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "assistance.list", TargetType: "org", TargetID: f.OrgID,
			Detail: map[string]any{"count": len(out), "kind": string(f.Kind), "status": string(f.Status)}})
	})
	return out, err
}

func (tx *Tx) assistance(ctx context.Context, actor *casework.Actor, where string, args ...any) ([]Assistance, error) {
	rows, err := tx.Query(ctx, `SELECT a.id, a.person_id, p.name, a.org_id, o.path, a.kind, a.status, a.applied_on, a.decided_on, a.ended_on, a.provider,
		a.detail_enc, a.police_reported_on, a.police_reported_to, a.created_by, COALESCE(u.display_name, ''), a.created_at, a.updated_at
		FROM assistance a JOIN persons p ON p.id = a.person_id AND `+notSealed+` JOIN orgs o ON o.id = p.org_id LEFT JOIN users u ON u.id = a.created_by
		WHERE `+where+` ORDER BY a.applied_on DESC, a.id DESC LIMIT 5000`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Assistance
	for rows.Next() {
		var a Assistance
		var kind, status, enc, path string
		if err := rows.Scan(&a.ID, &a.PersonID, &a.PersonName, &a.OrgID, &path, &kind, &status, &a.AppliedOn, &a.DecidedOn, &a.EndedOn, &a.Provider,
			&enc, &a.PoliceReportedOn, &a.PoliceReportedTo, &a.CreatedBy, &a.CreatedByName, &a.CreatedAt, &a.UpdatedAt); err != nil {
			return nil, err
		}
		a.Kind, a.Status = casework.AssistanceKind(kind), casework.AssistanceStatus(status)
		a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
		if !casework.CanSeeHelpAmounts(actor, path) {
			a.Hidden = true
		} else {
			plain, err := tx.db.vault.Open(enc, sealAidCtx(a.ID))
			if err != nil {
				return nil, err
			}
			var d aidDetail
			if err := json.Unmarshal([]byte(plain), &d); err != nil {
				return nil, fmt.Errorf("assistance %s: %w", a.ID, err)
			}
			a.AmountFen, a.Outcome, a.Note = d.AmountFen, d.Outcome, d.Note
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
