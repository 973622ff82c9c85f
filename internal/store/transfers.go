package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// Transfer is a change of the place of execution (变更执行地, R11).
type Transfer struct {
	ID             string
	PersonID       string
	PersonName     string
	MeasureID      string
	FromOrgID      string
	FromOrgName    string
	ToOrgID        string
	ToOrgName      string
	State          string // pending, accepted, refused, cancelled
	Reason         string
	RequestedBy    string
	RequestedAt    time.Time
	DecidedBy      string
	DecidedAt      time.Time
	DecisionReason string
}

// StartTransfer hands a file to another place. The old office (office or
// lead over the current place) starts it; the measure must be in force and
// not already moving. During the hand-over both sides read the file.
func (db *DB) StartTransfer(ctx context.Context, actor *casework.Actor, personID, toOrgID, reason string) (*Transfer, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, casework.Invalid("reason", "请填写变更执行地的原因", "a reason is required")
	}
	if err := casework.CheckText("reason", reason, casework.MaxReason); err != nil {
		return nil, err
	}
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, func(a casework.PersonAccess) bool { return a.Transfer && !a.Incoming && a.Until.IsZero() })
		if err != nil {
			return err
		}
		m, err := tx.currentMeasure(ctx, personID)
		if err != nil {
			return err
		}
		if m.Status != casework.StatusExecuting { // the status machine moves only an executing measure (transfer_out)
			return casework.Msg(casework.ECONFLICT, fmt.Sprintf("当前状态（%s）不能变更执行地", m.Status.Label("zh")),
				fmt.Sprintf("a file in status %s cannot be transferred", m.Status.Label("en")))
		}
		to, err := tx.orgByID(ctx, toOrgID) // any subtree: the receiving office may be anywhere
		if err != nil {
			return casework.Invalid("to_org_id", "接收地不存在", "the receiving org does not exist")
		}
		if to.Retired || to.Kind.Level() < casework.KindTownship.Level() {
			return casework.Invalid("to_org_id", "接收地须为有效的乡镇/街道或社区", "the receiving org must be an active township, street or community")
		}
		if to.ID == r.OrgID {
			return casework.Invalid("to_org_id", "接收地与现执行地相同", "the receiving org is the current place")
		}
		id = NewID()
		_, err = tx.Exec(ctx, `INSERT INTO transfers (id, person_id, measure_id, from_org_id, to_org_id, state, reason, requested_by, requested_at)
			VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`, id, personID, m.ID, r.OrgID, to.ID, reason, actor.UserID, tx.now)
		if errors.Is(err, ErrUnique) {
			return casework.Errorf(casework.ECONFLICT, "该档案已有待接收的变更", "a transfer of this file is already pending")
		}
		if err != nil {
			return err
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "transfer.started", map[string]any{"to": to.Name, "reason": reason}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "transfer.start", TargetType: "person", TargetID: personID, OrgID: r.OrgID, Reason: reason,
			Detail: map[string]any{"transfer_id": id, "to_org_id": to.ID}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetTransfer(ctx, actor, id)
}

// TransferDecision is the receiving office's answer.
type TransferDecision struct {
	Accept        bool
	Reason        string        // required when refusing
	WorkerID      string        // new responsible worker (optional)
	AgreementDate casework.Date // new agreement signed (R11), optional at acceptance; without it the measure has none until signed
}

// DecideTransfer accepts or refuses a pending transfer; the actor needs
// office or lead access over the receiving place. On acceptance the measure
// continues at the new place — the term clock is not reset (R11) —, the
// person must report there within 15 days, a new agreement is recorded when
// given, and the old place keeps read access to what happened until now.
func (db *DB) DecideTransfer(ctx context.Context, actor *casework.Actor, transferID string, d TransferDecision) (*Transfer, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		t, err := tx.transferByID(ctx, transferID, true)
		if err != nil {
			return err
		}
		to, err := tx.orgByID(ctx, t.ToOrgID)
		if err != nil {
			return err
		}
		if !actor.Can(casework.PermTransfer, to.Path) {
			if actor.Can(casework.PermReadPersons, t.fromPath) || actor.Can(casework.PermReadPersons, to.Path) {
				return casework.Errorf(casework.EFORBIDDEN, "只有接收地的禁毒办或街道负责人可以接收或退回", "only the receiving office or lead can decide")
			}
			return casework.NotFound("变更执行地申请", "transfer")
		}
		if t.State != "pending" {
			return casework.Errorf(casework.ECONFLICT, "该申请已处理", "the transfer was already decided")
		}
		reason := strings.TrimSpace(d.Reason)
		if err := casework.CheckText("reason", reason, casework.MaxReason); err != nil {
			return err
		}
		if !d.Accept {
			if reason == "" {
				return casework.Invalid("reason", "退回须填写原因", "a reason is required to refuse")
			}
			if _, err := tx.Exec(ctx, `UPDATE transfers SET state = 'refused', decided_by = ?, decided_at = ?, decision_reason = ? WHERE id = ?`,
				actor.UserID, tx.now, reason, t.ID); err != nil {
				return err
			}
			if err := tx.event(ctx, actor, t.PersonID, t.FromOrgID, "transfer.refused", map[string]any{"to": t.ToOrgName, "reason": reason}); err != nil {
				return err
			}
			return tx.Audit(ctx, actor, AuditEntry{Action: "transfer.refuse", TargetType: "person", TargetID: t.PersonID, OrgID: t.ToOrgID, Reason: reason,
				Detail: map[string]any{"transfer_id": t.ID}})
		}
		return tx.acceptTransfer(ctx, actor, t, to, d)
	})
	if err != nil {
		return nil, err
	}
	return db.GetTransfer(ctx, actor, transferID)
}

func (tx *Tx) acceptTransfer(ctx context.Context, actor *casework.Actor, t *transferRow, to *casework.Org, d TransferDecision) error {
	if err := tx.checkWorker(ctx, d.WorkerID, to.Path); err != nil {
		return err
	}
	m, err := tx.currentMeasure(ctx, t.PersonID)
	if err != nil {
		return err
	}
	if m.ID != t.MeasureID {
		return casework.Errorf(casework.ECONFLICT, "措施已变化，请退回后重新发起", "the measure changed since the transfer started; refuse it and start again")
	}
	today := tx.today(to)
	if !d.AgreementDate.IsZero() && (d.AgreementDate.After(today) || d.AgreementDate.Before(casework.DateOf(t.RequestedAt, to.Location()))) {
		return casework.Invalid("agreement_date", "新协议签订日期须在申请之后、不晚于今天", "the new agreement date must be after the request and not in the future")
	}
	// Hand-over: the old custody ends now, the new one starts.
	if _, err := tx.Exec(ctx, `UPDATE custody SET to_at = ? WHERE person_id = ? AND to_at IS NULL`, tx.now, t.PersonID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO custody (id, person_id, org_id, from_at) VALUES (?, ?, ?, ?)`, NewID(), t.PersonID, to.ID, tx.now); err != nil {
		return err
	}
	var worker any
	if d.WorkerID != "" {
		worker = d.WorkerID
	}
	// The status passes through transferred_out (the old place's last word)
	// to pending report at the new place, with a fresh 15-day deadline (R11)
	// and no report for it yet (reported_on: judged like the first, R2);
	// report_date and term_end stay: the clock continues. The old place's
	// agreement does not carry over: the new place signs its own (R11), and
	// until it does the measure counts as without agreement (the old date
	// stays on the timeline).
	deadline := casework.ReportDeadline(today)
	if _, err := tx.Exec(ctx, `UPDATE measures SET place_org_id = ?, worker_id = ?, status = ?, status_since = ?, report_deadline = ?, reported_on = NULL,
		agreement_date = ?, updated_at = ? WHERE id = ?`,
		to.ID, worker, string(casework.StatusPendingReport), today, deadline, d.AgreementDate, tx.now, m.ID); err != nil {
		return err
	}
	for _, ev := range []struct {
		a        casework.Action
		from, to casework.Status
	}{{casework.ActTransferOut, m.Status, casework.StatusTransferredOut}, {casework.ActTransferIn, casework.StatusTransferredOut, casework.StatusPendingReport}} {
		if _, err := tx.Exec(ctx, `INSERT INTO status_events (id, measure_id, person_id, action, from_status, to_status, effective_date, reason, actor_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, NewID(), m.ID, t.PersonID, string(ev.a), string(ev.from), string(ev.to), today, t.Reason, actor.UserID, tx.now); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE persons SET org_id = ?, updated_at = ? WHERE id = ?`, to.ID, tx.now, t.PersonID); err != nil {
		return err
	}
	if err := tx.syncGrams(ctx, t.PersonID); err != nil {
		return err
	}
	if err := tx.syncPerson(ctx, t.PersonID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE transfers SET state = 'accepted', decided_by = ?, decided_at = ?, decision_reason = ?, new_worker_id = ?, agreement_date = ? WHERE id = ?`,
		actor.UserID, tx.now, strings.TrimSpace(d.Reason), worker, d.AgreementDate, t.ID); err != nil {
		return err
	}
	if err := tx.event(ctx, actor, t.PersonID, to.ID, "transfer.accepted", map[string]any{"from": t.FromOrgName, "to": to.Name,
		"report_deadline": deadline.String(), "previous_agreement": m.AgreementDate.String(), "agreement": d.AgreementDate.String()}); err != nil {
		return err
	}
	return tx.Audit(ctx, actor, AuditEntry{Action: "transfer.accept", TargetType: "person", TargetID: t.PersonID, OrgID: to.ID,
		Detail: map[string]any{"transfer_id": t.ID, "from_org_id": t.FromOrgID}})
}

// CancelTransfer withdraws a pending transfer (the sending side).
func (db *DB) CancelTransfer(ctx context.Context, actor *casework.Actor, transferID, reason string) error {
	return db.Write(ctx, func(tx *Tx) error {
		t, err := tx.transferByID(ctx, transferID, true)
		if err != nil {
			return err
		}
		if !actor.Can(casework.PermTransfer, t.fromPath) {
			return casework.NotFound("变更执行地申请", "transfer")
		}
		if t.State != "pending" {
			return casework.Errorf(casework.ECONFLICT, "该申请已处理", "the transfer was already decided")
		}
		if _, err := tx.Exec(ctx, `UPDATE transfers SET state = 'cancelled', decided_by = ?, decided_at = ?, decision_reason = ? WHERE id = ?`,
			actor.UserID, tx.now, reason, t.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "transfer.cancel", TargetType: "person", TargetID: t.PersonID, OrgID: t.FromOrgID, Reason: reason})
	})
}

type transferRow struct {
	Transfer
	fromPath string
}

// transferByID loads a transfer; lock (in a write transaction only: a
// read-only PostgreSQL transaction refuses FOR UPDATE) locks its row alone,
// not the joined person and org rows.
func (tx *Tx) transferByID(ctx context.Context, id string, lock bool) (*transferRow, error) {
	if lock {
		var locked string
		if err := tx.QueryRow(ctx, `SELECT id FROM transfers WHERE id = ?`+tx.forUpdate(), id).Scan(&locked); err != nil {
			return nil, notFound(err, "变更执行地申请", "transfer")
		}
	}
	var t transferRow
	var decided *time.Time
	err := tx.QueryRow(ctx, `SELECT t.id, t.person_id, p.name, t.measure_id, t.from_org_id, fo.name, fo.path, t.to_org_id, tro.name, t.state, t.reason,
		t.requested_by, t.requested_at, t.decided_by, t.decided_at, t.decision_reason
		FROM transfers t JOIN persons p ON p.id = t.person_id JOIN orgs fo ON fo.id = t.from_org_id JOIN orgs tro ON tro.id = t.to_org_id WHERE t.id = ?`, id).Scan(
		&t.ID, &t.PersonID, &t.PersonName, &t.MeasureID, &t.FromOrgID, &t.FromOrgName, &t.fromPath, &t.ToOrgID, &t.ToOrgName, &t.State, &t.Reason,
		&t.RequestedBy, &t.RequestedAt, &t.DecidedBy, &decided, &t.DecisionReason)
	if err != nil {
		return nil, notFound(err, "变更执行地申请", "transfer")
	}
	if decided != nil {
		t.DecidedAt = decided.UTC()
	}
	return &t, nil
}

// GetTransfer returns a transfer either side may see.
func (db *DB) GetTransfer(ctx context.Context, actor *casework.Actor, id string) (*Transfer, error) {
	var out *Transfer
	err := db.Read(ctx, func(tx *Tx) error {
		t, err := tx.transferByID(ctx, id, false)
		if err != nil {
			return err
		}
		to, err := tx.orgByID(ctx, t.ToOrgID)
		if err != nil {
			return err
		}
		if !actor.Can(casework.PermReadPersons, t.fromPath) && !actor.Can(casework.PermReadPersons, to.Path) {
			return casework.NotFound("变更执行地申请", "transfer")
		}
		out = &t.Transfer
		return nil
	})
	return out, err
}

// ListTransfers returns transfers into or out of the actor's subtrees;
// state "" means pending.
func (db *DB) ListTransfers(ctx context.Context, actor *casework.Actor, state string, incoming bool) ([]Transfer, error) {
	if state == "" {
		state = "pending"
	}
	col := "fo.path"
	if incoming {
		col = "tro.path"
	}
	scope, args := scopeClause(col, actor.Scope(casework.PermReadPersons))
	var out []Transfer
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT t.id, t.person_id, p.name, t.from_org_id, fo.name, t.to_org_id, tro.name, t.state, t.reason, t.requested_at
			FROM transfers t JOIN persons p ON p.id = t.person_id JOIN orgs fo ON fo.id = t.from_org_id JOIN orgs tro ON tro.id = t.to_org_id
			WHERE `+scope+` AND `+notSealed+` AND t.state = ? ORDER BY t.requested_at DESC LIMIT 500`, append(args, state)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t Transfer
			if err := rows.Scan(&t.ID, &t.PersonID, &t.PersonName, &t.FromOrgID, &t.FromOrgName, &t.ToOrgID, &t.ToOrgName, &t.State, &t.Reason, &t.RequestedAt); err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}

// PersonUpdate changes a person's details; nil fields stay. Sensitive
// values given here replace the stored ones.
type PersonUpdate struct {
	Name, Ethnicity, Education, MaritalStatus, Employment *string
	Phone, HouseholdAddr, ResidenceAddr, HealthNotes      *string
	Contacts                                              *[]casework.Contact
	DrugHistory                                           *casework.DrugHistory
}

// UpdatePerson edits a file the actor may write. An archived file (released,
// terminated, deceased) is read-only: its corrections go through
// RequestCorrection and a lead's approval (R30).
func (db *DB) UpdatePerson(ctx context.Context, actor *casework.Actor, id string, up PersonUpdate) (*casework.Person, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, id, canWrite)
		if err != nil {
			return err
		}
		if r.Status.Final() {
			return casework.Msg(casework.ECONFLICT, fmt.Sprintf("档案已归档（%s），只读；更正须说明原因并经街道负责人批准", r.Status.Label("zh")),
				fmt.Sprintf("the file is archived (%s) and read-only; a correction needs a reason and a lead's approval", r.Status.Label("en")))
		}
		return tx.applyUpdate(ctx, actor, r, up, "person.update", "")
	})
	if err != nil {
		return nil, err
	}
	return db.GetPerson(ctx, actor, id, "")
}

func (tx *Tx) applyUpdate(ctx context.Context, actor *casework.Actor, r *personRow, up PersonUpdate, action, reason string) error {
	p, err := tx.db.open(&personRow{Person: func() casework.Person {
		x := r.Person
		x.Access = casework.PersonAccess{Read: true, Sensitive: true}
		return x
	}(),
		idEnc: r.idEnc, phoneEnc: r.phoneEnc, householdEnc: r.householdEnc, residenceEnc: r.residenceEnc, contactsEnc: r.contactsEnc, healthEnc: r.healthEnc, drugEnc: r.drugEnc})
	if err != nil {
		return err
	}
	idn, err := tx.db.vault.Open(r.idEnc, sealCtx("id", r.ID))
	if err != nil {
		return err
	}
	phone, err := tx.db.vault.Open(r.phoneEnc, sealCtx("phone", r.ID))
	if err != nil {
		return err
	}
	contacts := []casework.Contact{}
	if s, err := tx.db.vault.Open(r.contactsEnc, sealCtx("contacts", r.ID)); err == nil && s != "" {
		json.Unmarshal([]byte(s), &contacts)
	}
	in := casework.PersonInput{OrgID: r.OrgID, Name: p.Name, Sex: p.Sex, BirthDate: p.BirthDate, Ethnicity: p.Ethnicity, Education: p.Education,
		MaritalStatus: p.MaritalStatus, Employment: p.Employment, IDNumber: idn, Phone: phone, HouseholdAddr: p.HouseholdAddr,
		ResidenceAddr: p.ResidenceAddr, Contacts: contacts, HealthNotes: p.HealthNotes, DrugHistory: p.DrugHistory, WorkerID: r.WorkerID}
	var changed []string
	set := func(dst *string, src *string, name string) {
		if src != nil && *src != *dst {
			*dst = *src
			changed = append(changed, name)
		}
	}
	set(&in.Name, up.Name, "name")
	set(&in.Ethnicity, up.Ethnicity, "ethnicity")
	set(&in.Education, up.Education, "education")
	set(&in.MaritalStatus, up.MaritalStatus, "marital_status")
	set(&in.Employment, up.Employment, "employment")
	set(&in.Phone, up.Phone, "phone")
	set(&in.HouseholdAddr, up.HouseholdAddr, "household_addr")
	set(&in.ResidenceAddr, up.ResidenceAddr, "residence_addr")
	set(&in.HealthNotes, up.HealthNotes, "health_notes")
	if up.Contacts != nil {
		in.Contacts, changed = *up.Contacts, append(changed, "contacts")
	}
	if up.DrugHistory != nil {
		in.DrugHistory, changed = *up.DrugHistory, append(changed, "drug_history")
	}
	if len(changed) == 0 {
		return nil
	}
	if _, err := in.Validate(tx.now); err != nil {
		return err
	}
	sealed, err := tx.db.sealPerson(r.ID, &in)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE persons SET name = ?, name_key = ?, ethnicity = ?, education = ?, marital_status = ?, employment = ?,
		phone_enc = ?, phone_idx = ?, phone_masked = ?, household_addr_enc = ?, residence_addr_enc = ?, contacts_enc = ?, health_enc = ?,
		drug_history_enc = ?, updated_at = ? WHERE id = ?`,
		in.Name, nameKey(in.Name), in.Ethnicity, in.Education, in.MaritalStatus, in.Employment, sealed["phone_enc"], sealed["phone_idx"], sealed["phone_masked"],
		sealed["household_addr_enc"], sealed["residence_addr_enc"], sealed["contacts_enc"], sealed["health_enc"], sealed["drug_history_enc"], tx.now, r.ID)
	if err != nil {
		return fmt.Errorf("update person: %w", err)
	}
	if in.Name != r.Name {
		if err := tx.writeGrams(ctx, r.ID, in.Name); err != nil {
			return err
		}
	}
	if err := tx.event(ctx, actor, r.ID, r.OrgID, "person.updated", map[string]any{"fields": changed}); err != nil {
		return err
	}
	return tx.Audit(ctx, actor, AuditEntry{Action: action, TargetType: "person", TargetID: r.ID, OrgID: r.OrgID, Reason: reason, Detail: map[string]any{"fields": changed}})
}
