package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"kangfu/internal/casework"
)

// Measure is a stored measure (措施) with its working group.
type Measure struct {
	ID                string
	PersonID          string
	Kind              casework.MeasureKind
	DecisionNumber    string
	DecisionAuthority string
	DecisionDate      casework.Date
	ReceivedDate      casework.Date
	ReportDeadline    casework.Date
	ReportDate        casework.Date
	AgreementDate     casework.Date
	TermMonths        int
	TermEnd           casework.Date
	SuspendedDays     int
	SuspendedSince    casework.Date
	PlaceOrgID        string
	PlaceOrgName      string
	WorkerID          string
	WorkerName        string
	Status            casework.Status
	StatusSince       casework.Date
	InForce           bool
	EndedOn           casework.Date
	NoRelapseOn       casework.Date // R16: 3 years from release or from the latest relapse after it
	NoRelapseMarkedOn casework.Date // R16: marked 戒断三年未复吸 (the date reached), by the periodic job
	LastRelapse       casework.Date // R16: the latest relapse after release
	GroupFamilyReason string        // R7: why the working group has no family member or guardian
	// ReportedOn is the date of the report-in for the current deadline (the
	// first, or at a new place after a transfer, R11); zero while awaited.
	ReportedOn casework.Date
	// PausedDays: days the term's clock stood still during suspensions
	// (R13, policy term.suspension_clock = pause); SuspensionPauses: the
	// suspension under way pauses it.
	PausedDays       int
	SuspensionPauses bool
	// The release notice (R15): due within 7 days of the release, recorded
	// with its date and recipient.
	ReleaseNoticeDue casework.Date
	ReleaseNoticeOn  casework.Date
	ReleaseNoticeTo  string
	CreatedAt        time.Time
	Group            []GroupMember
	Events           []StatusEvent
	Relapses         []Relapse // R16, for readers with sensitive access
}

// GroupMember is a member of a working group (R7).
type GroupMember struct {
	ID     string
	Role   string // worker, police, medical, family, volunteer, or a local role
	Name   string
	UserID string
	Note   string
}

// StatusEvent is one transition of a measure.
type StatusEvent struct {
	ID            string
	Action        casework.Action
	From, To      casework.Status
	EffectiveDate casework.Date
	Reason        string
	ActorID       string
	CreatedAt     time.Time
}

const measureColumns = `m.id, m.person_id, m.kind, m.decision_number, m.decision_authority, m.decision_date, m.received_date, m.report_deadline,
	m.report_date, m.agreement_date, m.term_months, m.term_end, m.suspended_days, m.suspended_since, m.place_org_id, o.name,
	COALESCE(m.worker_id, ''), COALESCE(w.display_name, ''), m.status, m.status_since, m.in_force, m.ended_on, m.no_relapse_on,
	m.no_relapse_marked_on, (SELECT MAX(rl.day) FROM relapses rl WHERE rl.measure_id = m.id), m.group_family_reason, m.created_at,
	m.reported_on, m.paused_days, m.suspension_pauses, m.release_notice_due, m.release_notice_on, m.release_notice_to`

func scanMeasure(sc interface{ Scan(...any) error }) (*Measure, error) {
	var m Measure
	var kind, status string
	var last sql.Null[casework.Date]
	err := sc.Scan(&m.ID, &m.PersonID, &kind, &m.DecisionNumber, &m.DecisionAuthority, &m.DecisionDate, &m.ReceivedDate, &m.ReportDeadline,
		&m.ReportDate, &m.AgreementDate, &m.TermMonths, &m.TermEnd, &m.SuspendedDays, &m.SuspendedSince, &m.PlaceOrgID, &m.PlaceOrgName,
		&m.WorkerID, &m.WorkerName, &status, &m.StatusSince, &m.InForce, &m.EndedOn, &m.NoRelapseOn,
		&m.NoRelapseMarkedOn, &last, &m.GroupFamilyReason, &m.CreatedAt,
		&m.ReportedOn, &m.PausedDays, &m.SuspensionPauses, &m.ReleaseNoticeDue, &m.ReleaseNoticeOn, &m.ReleaseNoticeTo)
	m.LastRelapse = last.V
	m.Kind, m.Status = casework.MeasureKind(kind), casework.Status(status)
	return &m, err
}

// today is the calendar date now in the org's time zone: the law counts
// days locally (a check-in at 23:30 Beijing time is that day).
func (tx *Tx) today(org *casework.Org) casework.Date {
	return casework.DateOf(tx.now, org.Location())
}

// AddMeasure starts a new measure for a person with none in force.
func (db *DB) AddMeasure(ctx context.Context, actor *casework.Actor, personID string, in casework.MeasureInput) (*Measure, error) {
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canWrite)
		if err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		in.PlaceOrgID = r.OrgID
		if in.WorkerID == "" {
			in.WorkerID = r.WorkerID
		}
		id, err = tx.addMeasure(ctx, actor, personID, org, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.GetMeasure(ctx, actor, personID, id)
}

func (tx *Tx) addMeasure(ctx context.Context, actor *casework.Actor, personID string, org *casework.Org, in casework.MeasureInput) (string, error) {
	today := tx.today(org)
	if err := in.Validate(today); err != nil {
		return "", err
	}
	if err := tx.checkWorker(ctx, in.WorkerID, org.Path); err != nil {
		return "", err
	}
	var inForce int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM measures WHERE person_id = ? AND in_force = ?`, personID, true).Scan(&inForce); err != nil {
		return "", err
	}
	if inForce > 0 {
		return "", casework.Errorf(casework.ECONFLICT, "该人员已有正在执行的措施，同一时间只能有一项", "the person already has a measure in force; only one at a time")
	}
	if in.Kind == casework.MeasureTreatment {
		in.TermMonths = casework.MaxRehabTermMonths // 3 years (R3)
	}
	status := casework.StatusPendingReport
	var termEnd casework.Date
	if !in.ReportDate.IsZero() {
		status = casework.StatusExecuting
		var err error
		if termEnd, err = casework.TermEnd(in.Kind, in.ReportDate, in.TermMonths, 0); err != nil {
			return "", err
		}
	}
	id := NewID()
	var worker any
	if in.WorkerID != "" {
		worker = in.WorkerID
	}
	since := in.ReportDate
	if since.IsZero() {
		since = in.ReceivedDate
	}
	_, err := tx.Exec(ctx, `INSERT INTO measures (id, person_id, kind, decision_number, decision_authority, decision_date, received_date, report_deadline,
		report_date, reported_on, agreement_date, term_months, term_end, place_org_id, worker_id, status, status_since, in_force, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, personID, string(in.Kind), in.DecisionNumber, in.DecisionAuthority, in.DecisionDate, in.ReceivedDate, in.ReportDeadline(),
		in.ReportDate, in.ReportDate, in.AgreementDate, in.TermMonths, termEnd, org.ID, worker, string(status), since, true, tx.now, tx.now)
	if errors.Is(err, ErrUnique) {
		return "", casework.Errorf(casework.ECONFLICT, "该人员已有正在执行的措施", "the person already has a measure in force")
	}
	if err != nil {
		return "", fmt.Errorf("insert measure: %w", err)
	}
	if err := tx.syncPerson(ctx, personID); err != nil {
		return "", err
	}
	if err := tx.event(ctx, actor, personID, org.ID, "measure.created", map[string]any{"kind": in.Kind, "decision_number": in.DecisionNumber,
		"received": in.ReceivedDate.String(), "report_deadline": in.ReportDeadline().String()}); err != nil {
		return "", err
	}
	return id, tx.Audit(ctx, actor, AuditEntry{Action: "measure.create", TargetType: "person", TargetID: personID, OrgID: org.ID,
		Detail: map[string]any{"measure_id": id, "kind": in.Kind}})
}

// syncPerson copies the state of the person's current measure (the one in
// force, else the latest) onto the persons row, which lists read.
func (tx *Tx) syncPerson(ctx context.Context, personID string) error {
	var status, kind string
	var worker sql.NullString
	var deadline, termEnd, ended casework.Date
	err := tx.QueryRow(ctx, `SELECT status, kind, worker_id, report_deadline, term_end, ended_on FROM measures WHERE person_id = ?
		ORDER BY in_force DESC, created_at DESC LIMIT 1`, personID).Scan(&status, &kind, &worker, &deadline, &termEnd, &ended)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if casework.Status(status) != casework.StatusPendingReport {
		deadline = casework.Date{}
	}
	var released casework.Date
	if casework.Status(status) == casework.StatusReleased {
		released = ended
	}
	var w any
	if worker.Valid {
		w = worker.String
	}
	_, err = tx.Exec(ctx, `UPDATE persons SET status = ?, measure_kind = ?, worker_id = ?, report_deadline = ?, term_end = ?, released_on = ?, updated_at = ? WHERE id = ?`,
		status, kind, w, deadline, termEnd, released, tx.now, personID)
	if err != nil {
		return err
	}
	return tx.syncGrams(ctx, personID)
}

// GetMeasure returns one measure of a person the actor may read.
func (db *DB) GetMeasure(ctx context.Context, actor *casework.Actor, personID, measureID string) (*Measure, error) {
	ms, err := db.ListMeasures(ctx, actor, personID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.ID == measureID {
			return m, nil
		}
	}
	return nil, casework.NotFound("措施", "measure")
}

// ListMeasures returns a person's measures, newest first, with working
// groups and status events. A past place of execution sees only what it
// was responsible for.
func (db *DB) ListMeasures(ctx context.Context, actor *casework.Actor, personID string) ([]*Measure, error) {
	var out []*Measure
	err := db.Read(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, nil)
		if err != nil {
			return err
		}
		out, err = tx.measuresOf(ctx, r)
		return err
	})
	return out, err
}

// measuresOf reads the person's measures, newest first, with working
// groups and status events, as the reader may see them: a past place of
// execution sees only measures begun before its hand-over, and its own as it
// handed it over (R11), not the new place's worker, group or status.
func (tx *Tx) measuresOf(ctx context.Context, r *personRow) ([]*Measure, error) {
	q := `SELECT ` + measureColumns + ` FROM measures m JOIN orgs o ON o.id = m.place_org_id LEFT JOIN users w ON w.id = m.worker_id WHERE m.person_id = ?`
	args := []any{r.ID}
	if !r.Access.Until.IsZero() {
		q, args = q+` AND m.created_at <= ?`, append(args, r.Access.Until)
	}
	rows, err := tx.Query(ctx, q+` ORDER BY m.created_at DESC`, args...)
	if err != nil {
		return nil, err
	}
	var out []*Measure
	for rows.Next() {
		m, err := scanMeasure(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, m := range out {
		if err := tx.loadMeasureDetail(ctx, m, r.Access); err != nil {
			return nil, err
		}
		if !r.Access.Until.IsZero() && m.PlaceOrgID == r.OrgID {
			m.Status, m.WorkerID, m.WorkerName, m.Group = casework.StatusTransferredOut, "", "", nil
			m.ReportDeadline, m.PlaceOrgName = casework.Date{}, ""
		}
	}
	return out, nil
}

func (tx *Tx) loadMeasureDetail(ctx context.Context, m *Measure, acc casework.PersonAccess) error {
	rows, err := tx.Query(ctx, `SELECT id, role, name, COALESCE(user_id, ''), note FROM working_group WHERE measure_id = ? ORDER BY created_at`, m.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var g GroupMember
		if err := rows.Scan(&g.ID, &g.Role, &g.Name, &g.UserID, &g.Note); err != nil {
			rows.Close()
			return err
		}
		m.Group = append(m.Group, g)
	}
	rows.Close()
	q := `SELECT id, action, from_status, to_status, effective_date, reason, actor_id, created_at FROM status_events WHERE measure_id = ?`
	args := []any{m.ID}
	if !acc.Until.IsZero() {
		q, args = q+` AND created_at <= ?`, append(args, acc.Until)
	}
	rows, err = tx.Query(ctx, q+` ORDER BY created_at`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e StatusEvent
		var action, from, to string
		if err := rows.Scan(&e.ID, &action, &from, &to, &e.EffectiveDate, &e.Reason, &e.ActorID, &e.CreatedAt); err != nil {
			return err
		}
		e.Action, e.From, e.To = casework.Action(action), casework.Status(from), casework.Status(to)
		m.Events = append(m.Events, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if acc.Sensitive && !m.InForce {
		m.Relapses, err = tx.relapsesOf(ctx, m.ID)
	}
	return err
}

// currentMeasure loads the measure in force, for update.
func (tx *Tx) currentMeasure(ctx context.Context, personID string) (*Measure, error) {
	// Lock the measure row alone: PostgreSQL refuses FOR UPDATE over the
	// nullable side of an outer join (the worker), and locking the joined
	// org and user rows would serialise unrelated writers.
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM measures WHERE person_id = ? AND in_force = ?`+tx.forUpdate(), personID, true).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, casework.Errorf(casework.ECONFLICT, "该人员没有正在执行的措施", "the person has no measure in force")
	}
	if err != nil {
		return nil, err
	}
	m, err := scanMeasure(tx.QueryRow(ctx, `SELECT `+measureColumns+` FROM measures m JOIN orgs o ON o.id = m.place_org_id
		LEFT JOIN users w ON w.id = m.worker_id WHERE m.id = ? AND m.in_force = ?`, id, true))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, casework.Errorf(casework.ECONFLICT, "该人员没有正在执行的措施", "the person has no measure in force")
	}
	return m, err
}

// TransitionInput is a change of a measure's status.
type TransitionInput struct {
	Action        casework.Action
	EffectiveDate casework.Date // zero: today at the place
	Reason        string
	DocumentIDs   []string
}

// Transition moves the measure in force through the status machine (R30):
// only the allowed transitions, each with effective date, reason, actor and
// documents, recorded as a status event, on the timeline and in the audit
// log. Report-in starts the term (R3, R4); resume adds the suspended days;
// release, termination and death close the measure; release starts the
// three-year no-relapse tracking (R16).
func (db *DB) Transition(ctx context.Context, actor *casework.Actor, personID string, in TransitionInput) (*Measure, error) {
	var measureID string
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canWrite)
		if err != nil {
			return err
		}
		if in.Action == casework.ActTransferOut || in.Action == casework.ActTransferIn {
			return casework.Invalid("action", "变更执行地请通过“转移”办理", "use a transfer to change the place of execution")
		}
		if in.Action.LeaveOnly() {
			return casework.ErrLeaveOnly(in.Action) // R28: only the leave workflow moves 请假 (issue 18 §1)
		}
		m, err := tx.currentMeasure(ctx, personID)
		if err != nil {
			return err
		}
		measureID = m.ID
		return tx.transition(ctx, actor, r, m, in)
	})
	if err != nil {
		return nil, err
	}
	return db.GetMeasure(ctx, actor, personID, measureID)
}

func (tx *Tx) transition(ctx context.Context, actor *casework.Actor, r *personRow, m *Measure, in TransitionInput) error {
	to, err := casework.Transition(m.Status, in.Action)
	if err != nil {
		return err
	}
	if in.Action == casework.ActResume {
		to = casework.ResumeStatus(!m.ReportedOn.IsZero())
	}
	org, err := tx.orgByID(ctx, m.PlaceOrgID)
	if err != nil {
		return err
	}
	today := tx.today(org)
	eff := in.EffectiveDate
	if eff.IsZero() {
		eff = today
	}
	// The date and the reason are checked together, so the form shows both
	// problems at once (issue 18 item 9).
	var errs casework.FieldErrors
	switch {
	case eff.After(today):
		errs.Add(casework.Invalid("effective_date", "生效日期不能晚于今天", "the effective date cannot be in the future"))
	case eff.Before(m.StatusSince):
		errs.Add(casework.Invalid("effective_date", "生效日期不能早于当前状态开始的日期（%s）", "the effective date cannot be before the current status began (%s)", m.StatusSince))
	case in.Action == casework.ActRelease && (m.TermEnd.IsZero() || eff.Before(m.TermEnd)):
		// Release is what happens at the end of the term (R15), not before;
		// a person who never reported has no term yet (R3).
		errs.Add(casework.Invalid("effective_date", "解除须在期满之日（%s）或之后", "release takes effect on or after the end of the term (%s)", m.TermEnd))
	}
	reason := strings.TrimSpace(in.Reason)
	needsReason := in.Action != casework.ActReportIn && in.Action != casework.ActEndLeave && in.Action != casework.ActRelease
	if needsReason && reason == "" {
		errs.Add(casework.Invalid("reason", "请填写原因", "a reason is required"))
	} else if err := errs.Add(casework.CheckText("reason", reason, casework.MaxReason)); err != nil {
		return err
	}
	if err := errs.Err(); err != nil {
		return err
	}
	set := []string{"status = ?", "status_since = ?", "updated_at = ?"}
	args := []any{string(to), eff, tx.now}
	switch in.Action {
	case casework.ActReportIn:
		// reported_on is the report for the current deadline: lateness (R2)
		// is judged from it against the deadline.
		set, args = append(set, "reported_on = ?"), append(args, eff)
		if m.ReportDate.IsZero() { // a report after a transfer keeps the original clock (R11)
			end, err := casework.TermEnd(m.Kind, eff, m.TermMonths, 0)
			if err != nil {
				return err
			}
			set, args = append(set, "report_date = ?", "term_end = ?"), append(args, eff, end)
		}
	case casework.ActSuspend:
		pause, err := tx.suspensionPauses(ctx, org, eff)
		if err != nil {
			return err
		}
		set, args = append(set, "suspended_since = ?", "suspension_pauses = ?"), append(args, eff, pause)
	case casework.ActResume:
		s, a, err := resumeSet(m, eff)
		if err != nil {
			return err
		}
		set, args = append(set, s...), append(args, a...)
	case casework.ActRelease, casework.ActTerminate, casework.ActDecease:
		set, args = append(set, "in_force = ?", "ended_on = ?"), append(args, false, eff)
		if in.Action == casework.ActRelease {
			// R16 tracking starts; R15: the township is notified within 7 days.
			set, args = append(set, "no_relapse_on = ?", "release_notice_due = ?"), append(args, casework.NoRelapseDate(eff), casework.ReleaseNoticeDeadline(eff))
		}
	}
	args = append(args, m.ID)
	if _, err := tx.Exec(ctx, `UPDATE measures SET `+strings.Join(set, ", ")+` WHERE id = ?`, args...); err != nil {
		return fmt.Errorf("update measure: %w", err)
	}
	actorID := ""
	if actor != nil {
		actorID = actor.UserID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO status_events (id, measure_id, person_id, action, from_status, to_status, effective_date, reason, document_ids, actor_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, NewID(), m.ID, r.ID, string(in.Action), string(m.Status), string(to), eff, reason,
		strings.Join(in.DocumentIDs, ","), actorID, tx.now); err != nil {
		return err
	}
	if err := tx.syncPerson(ctx, r.ID); err != nil {
		return err
	}
	if err := tx.event(ctx, actor, r.ID, m.PlaceOrgID, "status."+string(in.Action), map[string]any{"from": m.Status, "to": to, "effective": eff.String(), "reason": reason}); err != nil {
		return err
	}
	return tx.Audit(ctx, actor, AuditEntry{Action: "measure." + string(in.Action), TargetType: "person", TargetID: r.ID, OrgID: m.PlaceOrgID, Reason: reason,
		Detail: map[string]any{"measure_id": m.ID, "from": m.Status, "to": to, "effective": eff.String()}})
}

// suspensionPauses reads term.suspension_clock (R13) as in force at the
// place on the first day of a suspension: the choice stays with that
// suspension, so a later change of policy does not re-judge it.
func (tx *Tx) suspensionPauses(ctx context.Context, org *casework.Org, day casework.Date) (bool, error) {
	p, err := tx.resolvePolicy(ctx, org, day)
	if err != nil {
		return false, err
	}
	return p.Value("term.suspension_clock").Enum() == casework.SuspensionClockPause, nil
}

// resumeSet is what a resume (继续, R13) changes: the suspended days are
// added up; when the suspension paused the clock, the term ends that many
// days later; a person detained before reporting gets the report deadline
// casework.SuspendedReportDeadline gives (the same pause/continue choice).
func resumeSet(m *Measure, eff casework.Date) ([]string, []any, error) {
	held := m.SuspendedSince.DaysUntil(eff)
	set := []string{"suspended_days = ?", "suspended_since = NULL", "suspension_pauses = ?"}
	args := []any{m.SuspendedDays + held, false}
	paused := m.PausedDays
	if m.SuspensionPauses {
		paused += held
		set, args = append(set, "paused_days = ?"), append(args, paused)
	}
	if !m.ReportDate.IsZero() {
		end, err := casework.TermPolicy{PauseClockOnSuspension: true}.TermEnd(m.Kind, m.ReportDate, m.TermMonths, paused)
		if err != nil {
			return nil, nil, err
		}
		set, args = append(set, "term_end = ?"), append(args, end)
	}
	if m.ReportedOn.IsZero() {
		dl := casework.SuspendedReportDeadline(m.ReportDeadline, m.SuspendedSince, eff, m.SuspensionPauses)
		set, args = append(set, "report_deadline = ?"), append(args, dl)
	}
	return set, args, nil
}

// MeasureUpdate changes the editable fields of the measure in force.
type MeasureUpdate struct {
	AgreementDate *casework.Date // 协议签订 (R6)
	WorkerID      *string
	// GroupFamilyReason is why the working group has no family member or
	// guardian (R7), e.g. no family living; "" clears it.
	GroupFamilyReason *string
}

// UpdateMeasure records the agreement or changes the responsible worker.
func (db *DB) UpdateMeasure(ctx context.Context, actor *casework.Actor, personID string, up MeasureUpdate) (*Measure, error) {
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canWrite)
		if err != nil {
			return err
		}
		m, err := tx.currentMeasure(ctx, personID)
		if err != nil {
			return err
		}
		id = m.ID
		detail := map[string]any{}
		if up.AgreementDate != nil {
			org, err := tx.orgByID(ctx, m.PlaceOrgID)
			if err != nil {
				return err
			}
			d := *up.AgreementDate
			if d.After(tx.today(org)) || (!m.ReportDate.IsZero() && d.Before(m.ReportDate)) || d.Before(m.ReceivedDate) {
				return casework.Invalid("agreement_date", "协议签订日期须在收到决定书之后、不晚于今天", "the agreement date must be after the decision was received and not in the future")
			}
			// After a transfer the agreement is the new place's (R11): not
			// dated before the hand-over.
			var handover time.Time
			err = tx.QueryRow(ctx, `SELECT decided_at FROM transfers WHERE measure_id = ? AND state = 'accepted' ORDER BY decided_at DESC LIMIT 1`, m.ID).Scan(&handover)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if h := casework.DateOf(handover, org.Location()); err == nil && d.Before(h) {
				return casework.Invalid("agreement_date", "变更执行地后须与新执行地签订协议，日期不能早于接收之日（%s）",
					"after a transfer the agreement is signed with the new place: not before the hand-over (%s)", h)
			}
			if _, err := tx.Exec(ctx, `UPDATE measures SET agreement_date = ?, updated_at = ? WHERE id = ?`, d, tx.now, m.ID); err != nil {
				return err
			}
			detail["agreement_date"] = d.String()
			if err := tx.event(ctx, actor, personID, m.PlaceOrgID, "measure.agreement", map[string]any{"date": d.String()}); err != nil {
				return err
			}
		}
		if up.GroupFamilyReason != nil {
			reason := strings.TrimSpace(*up.GroupFamilyReason)
			if utf8.RuneCountInString(reason) > 200 {
				return casework.Invalid("group_family_reason", "原因不能超过200字", "the reason must be at most 200 characters")
			}
			if _, err := tx.Exec(ctx, `UPDATE measures SET group_family_reason = ?, updated_at = ? WHERE id = ?`, reason, tx.now, m.ID); err != nil {
				return err
			}
			detail["group_family_reason"] = reason
		}
		if up.WorkerID != nil {
			if !actor.Can(casework.PermApproveCorrect, r.OrgPath) && !actor.System {
				return casework.Errorf(casework.EFORBIDDEN, "只有街道负责人可以更换责任专干", "only a lead can change the responsible worker")
			}
			if err := tx.checkWorker(ctx, *up.WorkerID, r.OrgPath); err != nil {
				return err
			}
			var w any
			if *up.WorkerID != "" {
				w = *up.WorkerID
			}
			if _, err := tx.Exec(ctx, `UPDATE measures SET worker_id = ?, updated_at = ? WHERE id = ?`, w, tx.now, m.ID); err != nil {
				return err
			}
			detail["worker_id"] = *up.WorkerID
		}
		if err := tx.syncPerson(ctx, personID); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "measure.update", TargetType: "person", TargetID: personID, OrgID: m.PlaceOrgID, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return db.GetMeasure(ctx, actor, personID, id)
}

// AddGroupMember adds a member to the working group of the measure in
// force (R7). Role is a statutory role or a local one (free text).
func (db *DB) AddGroupMember(ctx context.Context, actor *casework.Actor, personID string, g GroupMember) error {
	g.Role, g.Name, g.Note = strings.TrimSpace(g.Role), strings.TrimSpace(g.Name), strings.TrimSpace(g.Note)
	if g.Role == "" || len([]rune(g.Role)) > 30 {
		return casework.Invalid("role", "请填写成员角色（最多30字）", "role is required (at most 30 characters)")
	}
	return db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canWrite)
		if err != nil {
			return err
		}
		m, err := tx.currentMeasure(ctx, personID)
		if err != nil {
			return err
		}
		var user any
		if g.UserID != "" {
			var name, path string
			err := tx.QueryRow(ctx, `SELECT u.display_name, o.path FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = ? AND NOT u.disabled`, g.UserID).Scan(&name, &path)
			if err != nil {
				return casework.Invalid("user_id", "工作人员账号不存在或已停用", "the staff account does not exist or is disabled")
			}
			if g.Name == "" {
				g.Name = name
			}
			user = g.UserID
		}
		if g.Name == "" {
			return casework.Invalid("name", "请填写成员姓名", "name is required")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO working_group (id, measure_id, role, name, user_id, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			NewID(), m.ID, g.Role, g.Name, user, g.Note, tx.now); err != nil {
			return err
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "group.added", map[string]any{"role": g.Role, "name": g.Name}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "group.add", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"role": g.Role, "name": g.Name}})
	})
}

// RemoveGroupMember removes a member from the working group in force.
func (db *DB) RemoveGroupMember(ctx context.Context, actor *casework.Actor, personID, memberID string) error {
	return db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canWrite)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM working_group WHERE id = ? AND measure_id IN (SELECT id FROM measures WHERE person_id = ? AND in_force = ?)`,
			memberID, personID, true)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return casework.NotFound("工作小组成员", "working group member")
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "group.remove", TargetType: "person", TargetID: personID, OrgID: r.OrgID, Detail: map[string]any{"member_id": memberID}})
	})
}

// ReleaseExpired releases every measure whose term has ended by its
// place's local date (R15) and returns how many it released. Each release
// is its own transaction guarded by the measure's state, so running it on
// several servers at once, or twice, releases each measure once.
func (db *DB) ReleaseExpired(ctx context.Context) (int, error) {
	type cand struct{ personID, measureID, orgID, tz string }
	var cands []cand
	horizon := casework.DateOf(db.now().UTC().Add(24*time.Hour), time.UTC) // no zone is more than a day ahead of UTC
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT m.person_id, m.id, o.id, o.time_zone FROM measures m JOIN orgs o ON o.id = m.place_org_id
			WHERE m.in_force = ? AND m.status IN ('executing', 'on_leave', 'suspended', 'pending_report') AND m.term_end IS NOT NULL AND m.term_end <= ?`, true, horizon)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c cand
			if err := rows.Scan(&c.personID, &c.measureID, &c.orgID, &c.tz); err != nil {
				return err
			}
			cands = append(cands, c)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	sys := casework.SystemActor("release-job")
	n := 0
	var errs []error
	for _, c := range cands {
		err := db.Write(ctx, func(tx *Tx) error {
			m, err := tx.currentMeasure(ctx, c.personID)
			if err != nil || m.ID != c.measureID {
				return nil // released or changed meanwhile
			}
			today := casework.DateOf(tx.now, casework.LoadLocation(c.tz))
			if !casework.ReleaseDue(m.Status, m.TermEnd, today) {
				return nil
			}
			if m.Status == casework.StatusSuspended && m.SuspensionPauses && !m.SuspendedSince.After(m.TermEnd) {
				return nil // the clock stands still while held (R13, pause): the end moves on resume
			}
			r, err := tx.personFor(ctx, sys, c.personID, nil)
			if err != nil {
				return err
			}
			eff := m.TermEnd
			if eff.Before(m.StatusSince) { // e.g. resumed after the term had already run out
				eff = m.StatusSince
			}
			if err := tx.transition(ctx, sys, r, m, TransitionInput{Action: casework.ActRelease, EffectiveDate: eff, Reason: "期满自动解除 (R15)"}); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			// One file that cannot be released must not hold up the rest.
			errs = append(errs, fmt.Errorf("release %s: %w", c.measureID, err))
		}
	}
	return n, errors.Join(errs...)
}

// TimelineEntry is one event on a person's timeline.
type TimelineEntry struct {
	ID      string
	At      time.Time
	Kind    string
	Data    string
	ActorID string
	OrgID   string
}

// ListTimeline returns a person's events, newest first, paged. A past
// place of execution sees events up to its hand-over only.
func (db *DB) ListTimeline(ctx context.Context, actor *casework.Actor, personID string, offset, limit int) ([]TimelineEntry, int, error) {
	var out []TimelineEntry
	var total int
	err := db.Read(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, nil)
		if err != nil {
			return err
		}
		where, args := `person_id = ?`, []any{personID}
		if !r.Access.Until.IsZero() {
			where, args = where+` AND at <= ?`, append(args, r.Access.Until)
		}
		// The same field rules as the pages (issue 15 §6): a counsellor
		// learns no drug facts from the timeline.
		where, args = timelineFilterClause(casework.TimelineFilterFor(actor, r.OrgPath, r.Access), where, args)
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM timeline WHERE `+where, args...).Scan(&total); err != nil {
			return err
		}
		out, err = tx.timeline(ctx, where, args, clampLimit(limit), max(offset, 0))
		return err
	})
	return out, total, err
}

// timelineFilterClause adds a TimelineFilter's rules to a WHERE clause,
// so the count and the pages agree. Prefixes are compared with substr, so
// no LIKE wildcard in a kind can widen them.
func timelineFilterClause(f casework.TimelineFilter, where string, args []any) (string, []any) {
	if f.Only != nil {
		var ors []string
		for _, p := range f.Only {
			ors = append(ors, fmt.Sprintf(`substr(kind, 1, %d) = ?`, len(p)))
			args = append(args, p)
		}
		where += ` AND (` + strings.Join(ors, ` OR `) + `)`
	}
	for _, p := range f.Hide {
		where += fmt.Sprintf(` AND substr(kind, 1, %d) <> ?`, len(p))
		args = append(args, p)
	}
	return where, args
}

// timeline reads timeline entries matching where, newest first.
func (tx *Tx) timeline(ctx context.Context, where string, args []any, limit, offset int) ([]TimelineEntry, error) {
	rows, err := tx.Query(ctx, `SELECT id, at, kind, data, actor_id, org_id FROM timeline WHERE `+where+` ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TimelineEntry
	for rows.Next() {
		var e TimelineEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Kind, &e.Data, &e.ActorID, &e.OrgID); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
