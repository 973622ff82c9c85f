package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// Leave is a leave request (请假, R8) or a working-away period (外出务工)
// with its workflow state (R28; casework/leave.go).
type Leave struct {
	ID             string
	PersonID       string
	PersonName     string
	OrgID          string // the person's current place of execution
	OrgName        string
	Kind           casework.LeaveKind
	State          casework.LeaveState // as stored
	Effective      casework.LeaveState // State, or overdue on Today
	OverdueDays    int
	Today          casework.Date // the org's local date the Effective state was judged on
	Province       string        // GB/T 2260 code
	City           string
	Lat, Lng       *float64
	RadiusM        *int
	From, To       casework.Date
	ExtensionTo    casework.Date // requested new end date while extension_requested
	Days           int
	Required       bool // days ≥ threshold (R8); false: informational only
	ThresholdDays  int
	Reason         string
	Employer       string
	WorkAddress    string // decrypted only for readers with sensitive access and for the person
	Source         string // app, staff
	CreatedBy      string
	CreatedByName  string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DecidedBy      string
	DecidedByName  string
	DecidedAt      time.Time
	DecisionReason string
	Started        bool // the measure went on leave for it
	ReturnedAt     time.Time
	ReturnedOn     casework.Date

	// Actions are the steps the reader may take now.
	Actions []casework.LeaveAction

	addressEnc, requestHash, orgPath, tz string
}

const leaveColumns = `l.id, l.person_id, p.name, p.org_id, o.name, o.path, o.time_zone, l.kind, l.state, l.province, l.city, l.lat, l.lng, l.radius_m,
	l.from_date, l.to_date, l.extension_to, l.days, l.required, l.threshold_days, l.reason, l.employer, l.address_enc, l.source, l.request_hash,
	l.created_by, l.created_by_name, l.created_at, l.updated_at, l.decided_by, l.decided_by_name, l.decided_at, l.decision_reason,
	l.started, l.returned_at, l.returned_on`

const leaveFrom = ` FROM leaves l JOIN persons p ON p.id = l.person_id AND ` + notSealed + ` JOIN orgs o ON o.id = p.org_id`

func scanLeave(sc interface{ Scan(...any) error }) (*Leave, error) {
	var l Leave
	var kind, state string
	var radius *int64
	var decided, returned *time.Time
	err := sc.Scan(&l.ID, &l.PersonID, &l.PersonName, &l.OrgID, &l.OrgName, &l.orgPath, &l.tz, &kind, &state, &l.Province, &l.City, &l.Lat, &l.Lng, &radius,
		&l.From, &l.To, &l.ExtensionTo, &l.Days, &l.Required, &l.ThresholdDays, &l.Reason, &l.Employer, &l.addressEnc, &l.Source, &l.requestHash,
		&l.CreatedBy, &l.CreatedByName, &l.CreatedAt, &l.UpdatedAt, &l.DecidedBy, &l.DecidedByName, &decided, &l.DecisionReason,
		&l.Started, &returned, &l.ReturnedOn)
	if err != nil {
		return nil, err
	}
	l.Kind, l.State = casework.LeaveKind(kind), casework.LeaveState(state)
	if radius != nil {
		r := int(*radius)
		l.RadiusM = &r
	}
	if decided != nil {
		l.DecidedAt = decided.UTC()
	}
	if returned != nil {
		l.ReturnedAt = returned.UTC()
	}
	l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC()
	return &l, nil
}

// judge sets the derived fields for the local date of now at the
// person's place (R28 overdue; the org's calendar, not UTC).
func (l *Leave) judge(now time.Time) {
	l.Today = casework.DateOf(now, casework.LoadLocation(l.tz))
	l.Effective = casework.EffectiveLeaveState(l.State, l.To, l.Today)
	l.OverdueDays = casework.LeaveOverdueDays(l.State, l.To, l.Today)
}

// actionsNow are the workflow's steps from the stored state that make
// sense on the leave's Today (casework.LeaveActionsOn; issue 18 §14).
func (l *Leave) actionsNow() []casework.LeaveAction {
	return casework.LeaveActionsOn(l.State, l.Kind, l.From, l.To, l.Today, l.Started)
}

// ActionsNow is actionsNow for other packages (the app's leave list).
func (l *Leave) ActionsNow() []casework.LeaveAction { return l.actionsNow() }

func leaveSealCtx(id string) string { return "leave.address:" + id }

// personActor is the actor recorded for what a person does in the app: not
// a staff user, never System; the audit log names it person:<id>.
func personActor(personID string) *casework.Actor {
	return &casework.Actor{Username: "person:" + personID}
}

var errLeaveNotFound = casework.NotFound("请假申请", "leave request")

// leaveByID loads a leave; lock locks its row (write transactions only).
func (tx *Tx) leaveByID(ctx context.Context, id string, lock bool) (*Leave, error) {
	if lock {
		var locked string
		if err := tx.QueryRow(ctx, `SELECT id FROM leaves WHERE id = ?`+tx.forUpdate(), id).Scan(&locked); err != nil {
			return nil, notFound(err, "请假申请", "leave request")
		}
	}
	l, err := scanLeave(tx.QueryRow(ctx, `SELECT `+leaveColumns+leaveFrom+` WHERE l.id = ?`, id))
	if err != nil {
		return nil, notFound(err, "请假申请", "leave request")
	}
	l.judge(tx.now)
	return l, nil
}

// open decrypts the work address when the reader may see it.
func (db *DB) openLeave(l *Leave, sensitive bool) error {
	if !sensitive || l.addressEnc == "" {
		return nil
	}
	s, err := db.vault.Open(l.addressEnc, leaveSealCtx(l.ID))
	if err != nil {
		return fmt.Errorf("open leave address: %w", err)
	}
	l.WorkAddress = s
	return nil
}

// staffLeaveActions are the steps a staff member with the access may take.
func staffLeaveActions(l *Leave, acc casework.PersonAccess, approve bool) []casework.LeaveAction {
	var out []casework.LeaveAction
	for _, a := range l.actionsNow() {
		switch a {
		case casework.LeaveApprove, casework.LeaveReject:
			if approve {
				out = append(out, a)
			}
		default:
			if canWrite(acc) {
				out = append(out, a)
			}
		}
	}
	return out
}

// personLeaveActions are the steps the person may take in the app.
var personLeaveActions = []casework.LeaveAction{casework.LeaveSubmit, casework.LeaveWithdraw, casework.LeaveRequestExtension, casework.LeaveReportReturn}

// leaveThreshold is the policy's leave threshold at the org on the date
// (policy setting leave.threshold_days; R8's 3 days by default).
func (tx *Tx) leaveThreshold(ctx context.Context, org *casework.Org, date casework.Date) (int, error) {
	p, err := tx.resolvePolicy(ctx, org, date)
	if err != nil {
		return 0, err
	}
	if n := p.Value("leave.threshold_days").Int(); n > 0 {
		return n, nil
	}
	return casework.DefaultLeaveThresholdDays, nil
}

// insertLeave validates and stores a new request in state (draft or
// pending), audits it and puts it on the timeline.
func (tx *Tx) insertLeave(ctx context.Context, actor *casework.Actor, r *personRow, id string, in casework.LeaveInput, state casework.LeaveState, source, hash string) error {
	if !r.Status.Active() && r.Status != casework.StatusPendingReport {
		return casework.Errorf(casework.ECONFLICT, "该人员没有正在执行的措施，不能请假", "the person has no measure in force; no leave can be requested")
	}
	org, err := tx.orgByID(ctx, r.OrgID)
	if err != nil {
		return err
	}
	today := tx.today(org)
	days, err := in.Validate(today)
	if err != nil {
		return err
	}
	threshold, err := tx.leaveThreshold(ctx, org, in.From)
	if err != nil {
		return err
	}
	if err := tx.checkLeaveOverlap(ctx, r.ID, "", in.From, in.To); err != nil {
		return err
	}
	addr := ""
	if in.WorkAddress != "" {
		if addr, err = tx.db.vault.Seal(in.WorkAddress, leaveSealCtx(id)); err != nil {
			return err
		}
	}
	var radius any
	if in.RadiusM != nil {
		radius = *in.RadiusM
	}
	required := casework.LeaveRequired(days, threshold)
	_, err = tx.Exec(ctx, `INSERT INTO leaves (id, person_id, org_id, kind, state, province, city, lat, lng, radius_m, from_date, to_date, days, required,
		threshold_days, reason, employer, address_enc, source, request_hash, created_by, created_by_name, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, r.ID, r.OrgID, string(in.Kind), string(state), in.Province, in.City, in.Lat, in.Lng, radius, in.From, in.To, days, required,
		threshold, in.Reason, in.Employer, addr, source, hash, actor.UserID, actorName(actor), tx.now, tx.now)
	if err != nil {
		return fmt.Errorf("insert leave: %w", err)
	}
	data := map[string]any{"leave_id": id, "leave_kind": in.Kind, "state": state, "from": in.From.String(), "to": in.To.String(), "days": days,
		"required": required, "threshold_days": threshold, "province": in.Province, "city": in.City, "source": source}
	if err := tx.event(ctx, actor, r.ID, r.OrgID, "leave.requested", data); err != nil {
		return err
	}
	if err := tx.notifyLeaveRequested(ctx, r, id, state, in.Kind, in.From, in.To); err != nil { // notifications_leave.go
		return err
	}
	return tx.Audit(ctx, actor, AuditEntry{Action: "leave.create", TargetType: "leave", TargetID: id, OrgID: r.OrgID, Detail: data})
}

// checkLeaveOverlap refuses a period overlapping another live request of
// the person.
func (tx *Tx) checkLeaveOverlap(ctx context.Context, personID, except string, from, to casework.Date) error {
	var other string
	var of, ot casework.Date
	err := tx.QueryRow(ctx, `SELECT id, from_date, to_date FROM leaves WHERE person_id = ? AND id <> ? AND state IN ('draft', 'pending', 'approved', 'extension_requested', 'return_pending')
		AND from_date <= ? AND to_date >= ? LIMIT 1`, personID, except, to, from).Scan(&other, &of, &ot)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return casework.Errorf(casework.ECONFLICT, "与已有的请假（%s 至 %s）时间重叠", "overlaps an existing leave request (%s to %s)", of, ot)
}

// LeaveCreate is a staff member's request on the person's behalf (a paper
// request, 代为申请).
type LeaveCreate struct {
	casework.LeaveInput
	Draft bool // keep as a draft instead of submitting
}

// CreateLeave records a leave request for a person on a paper request. The
// actor needs write access to the file (a lead, or the responsible worker).
// A request shorter than the policy threshold (R8) is accepted and marked
// not required.
func (db *DB) CreateLeave(ctx context.Context, actor *casework.Actor, personID string, in LeaveCreate) (*Leave, error) {
	id := NewID()
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canWrite)
		if err != nil {
			return err
		}
		state := casework.LeavePending
		if in.Draft {
			state = casework.LeaveDraft
		}
		return tx.insertLeave(ctx, actor, r, id, in.LeaveInput, state, "staff", "")
	})
	if err != nil {
		return nil, err
	}
	return db.GetLeave(ctx, actor, id)
}

// CreatePersonLeave records a request the person sent from the app, under
// the app's client id. The same id with the same request hash again returns
// the stored request and created false; with a different hash, ECONFLICT.
func (db *DB) CreatePersonLeave(ctx context.Context, personID, id, requestHash string, in casework.LeaveInput) (*Leave, bool, error) {
	if _, err := parseClientID(id); err != nil {
		return nil, false, err
	}
	created := false
	err := db.Write(ctx, func(tx *Tx) error {
		var owner, hash string
		err := tx.QueryRow(ctx, `SELECT person_id, request_hash FROM leaves WHERE id = ?`, id).Scan(&owner, &hash)
		if err == nil {
			if owner != personID || hash != requestHash {
				return casework.Errorf(casework.ECONFLICT, "该编号已用于另一份请假申请", "this id is already used by a different leave request")
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		r, err := tx.personRow(ctx, personID)
		if err != nil {
			return err
		}
		created = true
		return tx.insertLeave(ctx, personActor(personID), r, id, in, casework.LeavePending, "app", requestHash)
	})
	if err != nil {
		return nil, false, err
	}
	l, err := db.GetPersonLeave(ctx, personID, id)
	return l, created, err
}

// parseClientID checks an app-supplied id is a UUID.
func parseClientID(id string) (string, error) {
	if len(id) != 36 || strings.Count(id, "-") != 4 || strings.Trim(strings.ToLower(id), "0123456789abcdef-") != "" {
		return "", casework.Invalid("id", "编号应为 UUID", "id must be a UUID")
	}
	return strings.ToLower(id), nil
}

// personRow loads a person by id without staff access checks: for the
// person's own app, already authenticated by its device.
func (tx *Tx) personRow(ctx context.Context, personID string) (*personRow, error) {
	r, err := scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+personFrom+` WHERE p.id = ?`, personID))
	if err != nil {
		return nil, notFound(err, "人员档案", "person")
	}
	return r, nil
}

// LeaveStep is one step of the workflow.
type LeaveStep struct {
	Action casework.LeaveAction
	Reason string        // required to reject; recorded for every step
	To     casework.Date // the new end date of an extension request
}

// StepLeave takes a step as a staff member. Approve and reject need the
// leave-approval permission at the person's place (a lead, R28); the
// other steps need write access to the file. A file outside the actor's
// scope is not found; a worker approving is forbidden.
func (db *DB) StepLeave(ctx context.Context, actor *casework.Actor, leaveID string, s LeaveStep) (*Leave, error) {
	var personID string
	err := db.Write(ctx, func(tx *Tx) error {
		l, err := tx.leaveByID(ctx, leaveID, true)
		if err != nil {
			return err
		}
		r, err := tx.personFor(ctx, actor, l.PersonID, nil)
		if err != nil {
			if casework.ErrorCode(err) == casework.ENOTFOUND {
				return errLeaveNotFound
			}
			return err
		}
		switch s.Action {
		case casework.LeaveApprove, casework.LeaveReject:
			if !actor.Can(casework.PermApproveLeave, r.OrgPath) {
				return casework.Errorf(casework.EFORBIDDEN, "只有街道（乡镇）负责人可以审批请假", "only a street (township) lead may approve or reject leave")
			}
		default:
			if !canWrite(r.Access) {
				return casework.Errorf(casework.EFORBIDDEN, "您没有权限对该档案执行此操作", "you may not do this with this file")
			}
		}
		personID = l.PersonID
		return tx.stepLeave(ctx, actor, r, l, s, false)
	})
	if err != nil {
		return nil, err
	}
	db.app().forgetPerson(personID) // the check-in area of the leave days changed
	return db.GetLeave(ctx, actor, leaveID)
}

// StepPersonLeave takes a step as the person in the app: submit, withdraw,
// request an extension or report back (销假).
func (db *DB) StepPersonLeave(ctx context.Context, personID, leaveID string, s LeaveStep) (*Leave, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		l, err := tx.leaveByID(ctx, leaveID, true)
		if err != nil || l.PersonID != personID {
			return errLeaveNotFound
		}
		ok := false
		for _, a := range personLeaveActions {
			ok = ok || a == s.Action
		}
		if !ok {
			return casework.Errorf(casework.EFORBIDDEN, "本人不能执行此操作", "the person cannot take this step")
		}
		r, err := tx.personRow(ctx, personID)
		if err != nil {
			return err
		}
		return tx.stepLeave(ctx, personActor(personID), r, l, s, true)
	})
	if err != nil {
		return nil, err
	}
	db.app().forgetPerson(personID) // the check-in area of the leave days changed
	return db.GetPersonLeave(ctx, personID, leaveID)
}

func (tx *Tx) stepLeave(ctx context.Context, actor *casework.Actor, r *personRow, l *Leave, s LeaveStep, byPerson bool) error {
	to, err := casework.LeaveTransition(l.State, s.Action)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(s.Reason)
	if len([]rune(reason)) > 500 {
		return casework.Invalid("reason", "理由不能超过500字", "the reason must be at most 500 characters")
	}
	if err := casework.CheckText("reason", reason, 500); err != nil {
		return err
	}
	org, err := tx.orgByID(ctx, r.OrgID)
	if err != nil {
		return err
	}
	today := tx.today(org)
	// 销假 before the leave begins, 续假 after it ended: refused here, not
	// only hidden on the pages (issue 18 §14, R28).
	if err := casework.LeaveActionWhen(s.Action, l.Kind, l.From, l.To, today, l.Started); err != nil {
		return err
	}
	set := []string{"state = ?", "updated_at = ?"}
	args := []any{string(to), tx.now}
	data := map[string]any{"leave_id": l.ID, "from_state": l.State, "to_state": to}
	if reason != "" {
		data["reason"] = reason
	}
	kind := "leave." + string(s.Action)
	switch s.Action {
	case casework.LeaveApprove:
		set, args = append(set, "decided_by = ?", "decided_by_name = ?", "decided_at = ?", "decision_reason = ?"),
			append(args, actor.UserID, actorName(actor), tx.now, reason)
		kind = "leave.approved"
		if l.State == casework.LeaveExtensionRequested {
			if err := tx.checkLeaveOverlap(ctx, l.PersonID, l.ID, l.From, l.ExtensionTo); err != nil {
				return err
			}
			days := casework.LeaveDays(l.From, l.ExtensionTo)
			set, args = append(set, "to_date = ?", "extension_to = NULL", "days = ?", "required = ?"),
				append(args, l.ExtensionTo, days, casework.LeaveRequired(days, l.ThresholdDays))
			data["to"], kind = l.ExtensionTo.String(), "leave.extension_approved"
		}
	case casework.LeaveReject:
		if reason == "" {
			return casework.Invalid("reason", "不批准须填写理由", "a reason is required to reject")
		}
		set, args = append(set, "decided_by = ?", "decided_by_name = ?", "decided_at = ?", "decision_reason = ?"),
			append(args, actor.UserID, actorName(actor), tx.now, reason)
		kind = "leave.rejected"
		if l.State == casework.LeaveExtensionRequested {
			set, kind = append(set, "extension_to = NULL"), "leave.extension_rejected"
		}
	case casework.LeaveWithdraw:
		kind = "leave.withdrawn"
	case casework.LeaveSubmit:
		kind = "leave.submitted"
	case casework.LeaveRequestExtension:
		if err := casework.ValidateExtension(l.Kind, l.From, l.To, s.To); err != nil {
			return err
		}
		set, args = append(set, "extension_to = ?"), append(args, s.To)
		data["to"], kind = s.To.String(), "leave.extension_requested"
	case casework.LeaveReportReturn, casework.LeaveConfirmReturn:
		if s.Action == casework.LeaveReportReturn {
			set, args = append(set, "returned_at = ?", "returned_on = ?", "extension_to = NULL"), append(args, tx.now, today)
			kind = "leave.return_reported"
			if !byPerson { // staff record a return they witnessed: it is confirmed
				set[0], args[0], to = "state = ?", string(casework.LeaveReturned), casework.LeaveReturned
				data["to_state"] = to
			}
			// The return report ends the leave (R28): 请假 → 执行中.
			if err := tx.endLeaveStatus(ctx, actor, r, l, today); err != nil {
				return err
			}
		} else {
			kind = "leave.returned"
		}
	}
	args = append(args, l.ID)
	if _, err := tx.Exec(ctx, `UPDATE leaves SET `+strings.Join(set, ", ")+` WHERE id = ?`, args...); err != nil {
		return fmt.Errorf("update leave: %w", err)
	}
	if err := tx.event(ctx, actor, r.ID, r.OrgID, kind, data); err != nil {
		return err
	}
	if err := tx.Audit(ctx, actor, AuditEntry{Action: kind, TargetType: "leave", TargetID: l.ID, OrgID: r.OrgID, Reason: reason, Detail: data}); err != nil {
		return err
	}
	if err := tx.notifyLeaveStep(ctx, r, l, kind, reason); err != nil { // notifications_leave.go
		return err
	}
	if s.Action == casework.LeaveApprove && l.State == casework.LeavePending {
		_, err := tx.startLeaveIfDue(ctx, actor, l.ID, today)
		return err
	}
	return nil
}

// startLeaveIfDue moves the measure 执行中 → 请假 for an approved leave
// whose first day has come (R30 start_leave), effective from its first day
// (or the day the current status began, if later). A measure not executing
// (suspended, not yet reported) is left as it is.
func (tx *Tx) startLeaveIfDue(ctx context.Context, actor *casework.Actor, leaveID string, today casework.Date) (bool, error) {
	l, err := tx.leaveByID(ctx, leaveID, false)
	if err != nil {
		return false, err
	}
	if l.Started || !l.State.Away() || today.Before(l.From) {
		return false, nil
	}
	m, err := tx.currentMeasure(ctx, l.PersonID)
	if casework.IsCode(err, casework.ECONFLICT) {
		return false, nil // no measure in force: nothing to move
	}
	if err != nil {
		return false, err
	}
	if m.Status != casework.StatusExecuting {
		return false, nil // suspended, not yet reported: the status stays
	}
	r, err := tx.personRow(ctx, l.PersonID)
	if err != nil {
		return false, err
	}
	eff := l.From
	if eff.Before(m.StatusSince) {
		eff = m.StatusSince
	}
	reason := fmt.Sprintf("请假 %s 至 %s（%s %s）", l.From, l.To, casework.ProvinceName(l.Province, "zh"), l.City)
	if err := tx.transition(ctx, actor, r, m, TransitionInput{Action: casework.ActStartLeave, EffectiveDate: eff, Reason: reason}); err != nil {
		return false, err
	}
	_, err = tx.Exec(ctx, `UPDATE leaves SET started = ? WHERE id = ?`, true, l.ID)
	return err == nil, err
}

// endLeaveStatus moves the measure back 请假 → 执行中 (R30 end_leave) when
// this leave put it on leave.
func (tx *Tx) endLeaveStatus(ctx context.Context, actor *casework.Actor, r *personRow, l *Leave, today casework.Date) error {
	if !l.Started {
		return nil
	}
	m, err := tx.currentMeasure(ctx, l.PersonID)
	if casework.IsCode(err, casework.ECONFLICT) {
		return nil // the measure ended meanwhile: nothing to end
	}
	if err != nil {
		return err
	}
	if m.Status != casework.StatusOnLeave {
		return nil // the measure moved on (suspended): nothing to end
	}
	return tx.transition(ctx, actor, r, m, TransitionInput{Action: casework.ActEndLeave, EffectiveDate: today, Reason: "销假"})
}

// StartDueLeaves puts on leave every person whose approved leave begins on
// or before today at their place (the periodic job runs it, like
// ReleaseExpired). It returns how many measures moved.
func (db *DB) StartDueLeaves(ctx context.Context) (int, error) {
	var ids []string
	err := db.Read(ctx, func(tx *Tx) error {
		// Candidates by the latest local date anywhere (UTC+14); each is
		// then judged on its org's own date.
		limit := casework.DateOf(tx.now, time.UTC).AddDays(1)
		rows, err := tx.Query(ctx, `SELECT l.id FROM leaves l WHERE l.state IN ('approved', 'extension_requested') AND NOT l.started AND l.from_date <= ?`, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	n := 0
	actor := casework.SystemActor("leave")
	for _, id := range ids {
		err := db.Write(ctx, func(tx *Tx) error {
			l, err := tx.leaveByID(ctx, id, true)
			if err != nil {
				return err
			}
			started, err := tx.startLeaveIfDue(ctx, actor, id, l.Today)
			if started {
				n++
			}
			return err
		})
		if err != nil {
			return n, fmt.Errorf("start leave %s: %w", id, err)
		}
	}
	return n, nil
}

// GetLeave returns a leave the actor may see (leave.view over the person's
// place, and read access to the file); the work address only with
// sensitive access, and then the read is audited.
func (db *DB) GetLeave(ctx context.Context, actor *casework.Actor, id string) (*Leave, error) {
	var out *Leave
	err := db.Read(ctx, func(tx *Tx) error {
		l, err := tx.leaveByID(ctx, id, false)
		if err != nil {
			return err
		}
		r, err := tx.personFor(ctx, actor, l.PersonID, nil)
		if err != nil || !actor.Can(casework.PermViewLeave, r.OrgPath) {
			return errLeaveNotFound
		}
		if err := tx.db.openLeave(l, r.Access.Sensitive); err != nil {
			return err
		}
		l.Actions = staffLeaveActions(l, r.Access, actor.Can(casework.PermApproveLeave, r.OrgPath))
		out = l
		return nil
	})
	if err != nil || out.WorkAddress == "" {
		return out, err
	}
	// The work address is a sensitive value of the file: its read is
	// audited like a file read (R36).
	err = db.Write(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, actor, AuditEntry{Action: "leave.read", TargetType: "leave", TargetID: out.ID, OrgID: out.OrgID,
			Detail: map[string]any{"person_id": out.PersonID, "fields": []string{"address"}}})
	})
	return out, err
}

// GetPersonLeave returns one of the person's own requests (the app).
func (db *DB) GetPersonLeave(ctx context.Context, personID, id string) (*Leave, error) {
	var out *Leave
	err := db.Read(ctx, func(tx *Tx) error {
		l, err := tx.leaveByID(ctx, id, false)
		if err != nil || l.PersonID != personID {
			return errLeaveNotFound
		}
		if err := tx.db.openLeave(l, true); err != nil {
			return err
		}
		for _, a := range l.actionsNow() {
			for _, p := range personLeaveActions {
				if a == p {
					l.Actions = append(l.Actions, a)
				}
			}
		}
		out = l
		return nil
	})
	return out, err
}

// LeaveFilter selects leaves for ListLeaves.
type LeaveFilter struct {
	PersonID string
	OrgID    string // within this org's subtree
	// State: "" all; a stored state; "queue" for what awaits a decision
	// (pending and extension requests); "overdue" for approved periods
	// whose end date has passed at the person's place without a return
	// report; "away" for approved periods not yet reported back.
	State  string
	Offset int
	Limit  int
}

// ListLeaves lists leaves of persons at places where the actor holds
// leave.view, newest first (the queue: oldest first). Overdue is judged on
// each org's local date.
func (db *DB) ListLeaves(ctx context.Context, actor *casework.Actor, f LeaveFilter) ([]*Leave, error) {
	scope, args := scopeClause("o.path", actor.Scope(casework.PermViewLeave))
	where := []string{scope}
	order := "l.created_at DESC"
	switch f.State {
	case "":
	case "queue":
		where, order = append(where, "l.state IN ('pending', 'extension_requested')"), "l.updated_at ASC"
	case "overdue", "away":
		where = append(where, "l.state IN ('approved', 'extension_requested')")
		order = "l.to_date ASC"
		if f.State == "overdue" {
			// Candidates: the date anywhere is at most one day after UTC's (UTC+14); the
			// org's own date decides below.
			where, args = append(where, "l.to_date < ?"), append(args, casework.DateOf(db.Now(), time.UTC).AddDays(1))
		}
	default:
		if !casework.LeaveState(f.State).Valid() || f.State == string(casework.LeaveOverdue) {
			return nil, casework.Invalid("state", "未知的请假状态：%q", "unknown leave state %q", f.State)
		}
		where, args = append(where, "l.state = ?"), append(args, f.State)
	}
	if f.PersonID != "" {
		where, args = append(where, "l.person_id = ?"), append(args, f.PersonID)
	}
	var out []*Leave
	err := db.Read(ctx, func(tx *Tx) error {
		if f.PersonID != "" {
			r, err := tx.personFor(ctx, actor, f.PersonID, nil)
			if err != nil {
				return err
			}
			if !actor.Can(casework.PermViewLeave, r.OrgPath) && r.Access.Until.IsZero() {
				return errPersonNotFound
			}
			if !r.Access.Until.IsZero() { // a past place sees only up to the hand-over (R11)
				where, args = append(where, "l.created_at <= ?"), append(args, r.Access.Until)
			}
		}
		if f.OrgID != "" {
			org, err := tx.orgFor(ctx, actor, casework.PermViewLeave, f.OrgID)
			if err != nil {
				return err
			}
			where, args = append(where, `o.path LIKE ? ESCAPE '\'`), append(args, likePrefix(org.Path))
		}
		limit := clampLimit(f.Limit)
		rows, err := tx.Query(ctx, `SELECT `+leaveColumns+leaveFrom+` WHERE `+strings.Join(where, " AND ")+` ORDER BY `+order+
			fmt.Sprintf(" LIMIT %d OFFSET %d", limit, max(f.Offset, 0)), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLeave(rows)
			if err != nil {
				return err
			}
			l.judge(tx.now)
			if f.State == "overdue" && l.Effective != casework.LeaveOverdue {
				continue
			}
			out = append(out, l)
		}
		return rows.Err()
	})
	return out, err
}

// OverdueLeaves lists approved leaves in the actor's scope whose end date
// has passed at the person's place without a return report (R28 超期未销假).
func (db *DB) OverdueLeaves(ctx context.Context, actor *casework.Actor) ([]*Leave, error) {
	return db.ListLeaves(ctx, actor, LeaveFilter{State: "overdue", Limit: 500})
}

// ListPersonLeaves lists the person's own requests, newest first (the app).
func (db *DB) ListPersonLeaves(ctx context.Context, personID string) ([]*Leave, error) {
	var out []*Leave
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+leaveColumns+leaveFrom+` WHERE l.person_id = ? ORDER BY l.from_date DESC, l.created_at DESC LIMIT 200`, personID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLeave(rows)
			if err != nil {
				return err
			}
			l.judge(tx.now)
			if err := tx.db.openLeave(l, true); err != nil {
				return err
			}
			out = append(out, l)
		}
		return rows.Err()
	})
	return out, err
}

// activeLeaveOn selects the approved leave l of a person (?) covering a
// date (?, ?), latest first; the check-in path reads the same leave.
const activeLeaveOn = `l.person_id = ? AND l.state IN ('approved', 'extension_requested') AND l.from_date <= ? AND l.to_date >= ?
	ORDER BY l.from_date DESC`

// ActiveLeaveOn returns the person's approved leave covering the local date
// (approved or extension requested, not yet reported back, from ≤ date ≤
// to), or nil: what the check-in duty uses to take the destination as the
// area on that day (issue 4 §5). No access check: for the app and jobs.
func (db *DB) ActiveLeaveOn(ctx context.Context, personID string, date casework.Date) (*Leave, error) {
	var out *Leave
	err := db.Read(ctx, func(tx *Tx) error {
		l, err := scanLeave(tx.QueryRow(ctx, `SELECT `+leaveColumns+leaveFrom+` WHERE `+activeLeaveOn+` LIMIT 1`, personID, date, date))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		l.judge(tx.now)
		out = l
		return nil
	})
	return out, err
}
