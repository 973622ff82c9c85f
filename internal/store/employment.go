package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// Employment (就业指导, issue 11 §4): jobs with employer, job, from/to and how
// found, and periods of being unable to work, in school or retired. A
// person's status on a day is derived from them (casework.EmploymentOn),
// never typed on its own.

// Employment is one stored period.
type Employment struct {
	ID       string
	PersonID string
	OrgID    string
	casework.EmploymentRecord
	Note          string
	CreatedBy     string
	CreatedByName string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// AddEmployment records a job or another work situation for a person.
func (db *DB) AddEmployment(ctx context.Context, actor *casework.Actor, personID string, in casework.EmploymentInput) (*Employment, error) {
	id := NewID()
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
		if _, err := tx.Exec(ctx, `INSERT INTO employment (id, person_id, org_id, kind, employer, job, from_on, to_on, found_by, note, created_by,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, personID, r.OrgID, string(in.Kind), in.Employer, in.Job, in.From, in.To, in.FoundBy, in.Note, actorID(actor), tx.now, tx.now); err != nil {
			return fmt.Errorf("insert employment: %w", err)
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "employment.recorded", employmentEventData(in.EmploymentRecord)); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "employment.record", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"employment_id": id, "kind": string(in.Kind)}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetEmployment(ctx, actor, id)
}

func employmentEventData(e casework.EmploymentRecord) map[string]any {
	d := map[string]any{"work": string(e.Kind), "from": e.From.String()}
	if e.Employer != "" {
		d["employer"], d["job"] = e.Employer, e.Job
	}
	if !e.To.IsZero() {
		d["to"] = e.To.String()
	}
	return d
}

// UpdateEmployment changes a period (typically: the job ended on To). Only
// its author or a lead may, giving a reason; the replaced version is kept
// as a revision.
func (db *DB) UpdateEmployment(ctx context.Context, actor *casework.Actor, id string, in casework.EmploymentInput, reason string) (*Employment, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		old, r, err := tx.employmentFor(ctx, actor, id, true)
		if err != nil {
			return err
		}
		if err := careEditable(actor, r, old.CreatedBy); err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		// The reason and the record are checked together (issue 18 item 9).
		var errs casework.FieldErrors
		if _, err := casework.CheckRevisionReason(reason); errs.Add(err) != nil {
			return err
		}
		if err := errs.Add(in.Validate(tx.today(org))); err != nil {
			return err
		}
		if err := errs.Err(); err != nil {
			return err
		}
		if _, err := tx.SaveRevision(ctx, actor, RevisionInput{Kind: "employment", RecordID: id, PersonID: old.PersonID, Previous: old, Reason: reason}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE employment SET kind = ?, employer = ?, job = ?, from_on = ?, to_on = ?, found_by = ?, note = ?, updated_at = ?
			WHERE id = ?`, string(in.Kind), in.Employer, in.Job, in.From, in.To, in.FoundBy, in.Note, tx.now, id); err != nil {
			return err
		}
		if err := tx.event(ctx, actor, old.PersonID, r.OrgID, "employment.changed", employmentEventData(in.EmploymentRecord)); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "employment.update", TargetType: "person", TargetID: old.PersonID, OrgID: r.OrgID,
			Detail: map[string]any{"employment_id": id, "before": employmentEventData(old.EmploymentRecord)}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetEmployment(ctx, actor, id)
}

// GetEmployment returns one employment record the actor may read.
func (db *DB) GetEmployment(ctx context.Context, actor *casework.Actor, id string) (*Employment, error) {
	var e *Employment
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		e, _, err = tx.employmentFor(ctx, actor, id, false)
		return err
	})
	return e, err
}

func (tx *Tx) employmentFor(ctx context.Context, actor *casework.Actor, id string, write bool) (*Employment, *personRow, error) {
	var pid string
	if err := tx.QueryRow(ctx, `SELECT person_id FROM employment WHERE id = ?`, id).Scan(&pid); err != nil {
		return nil, nil, notFound(err, "就业记录", "employment record")
	}
	r, err := tx.helpPerson(ctx, actor, pid, write)
	if casework.IsCode(err, casework.ENOTFOUND) {
		return nil, nil, casework.NotFound("就业记录", "employment record")
	}
	if err != nil {
		return nil, nil, err
	}
	list, err := tx.employment(ctx, `e.id = ?`, id)
	if err != nil || len(list) == 0 {
		return nil, nil, notFound(err, "就业记录", "employment record")
	}
	return &list[0], r, nil
}

// PersonEmployment is a person's employment records and the status derived
// from them today (in the zone of the person's org).
type PersonEmployment struct {
	Records []Employment
	Today   casework.Date
	Status  casework.EmploymentStatus
	Current *Employment // the job (or period) that decides the status; nil when unemployed
}

// ListEmployment returns a person's employment, newest first, with the
// status today. The read is audited.
func (db *DB) ListEmployment(ctx context.Context, actor *casework.Actor, personID string) (*PersonEmployment, error) {
	out := &PersonEmployment{}
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.helpPerson(ctx, actor, personID, false)
		if err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		where, args := `e.person_id = ?`, []any{personID}
		if !r.Access.Until.IsZero() {
			where, args = where+` AND e.created_at <= ?`, append(args, r.Access.Until)
		}
		if out.Records, err = tx.employment(ctx, where, args...); err != nil {
			return err
		}
		out.Today = tx.today(org)
		out.Status, out.Current = statusOf(out.Records, out.Today)
		return tx.Audit(ctx, actor, AuditEntry{Action: "employment.list", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"count": len(out.Records)}})
	})
	return out, err
}

// statusOf derives the status on d and the record behind it.
func statusOf(recs []Employment, d casework.Date) (casework.EmploymentStatus, *Employment) {
	plain := make([]casework.EmploymentRecord, len(recs))
	for i := range recs {
		plain[i] = recs[i].EmploymentRecord
	}
	st := casework.EmploymentOn(plain, d)
	for i := range recs {
		if recs[i].Kind == st && recs[i].Covers(d) {
			return st, &recs[i]
		}
	}
	return st, nil
}

func (tx *Tx) employment(ctx context.Context, where string, args ...any) ([]Employment, error) {
	rows, err := tx.Query(ctx, `SELECT e.id, e.person_id, e.org_id, e.kind, e.employer, e.job, e.from_on, e.to_on, e.found_by, e.note, e.created_by,
		COALESCE(u.display_name, ''), e.created_at, e.updated_at FROM employment e LEFT JOIN users u ON u.id = e.created_by
		WHERE `+where+` ORDER BY e.from_on DESC, e.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Employment
	for rows.Next() {
		var e Employment
		var kind string
		if err := rows.Scan(&e.ID, &e.PersonID, &e.OrgID, &kind, &e.Employer, &e.Job, &e.From, &e.To, &e.FoundBy, &e.Note, &e.CreatedBy,
			&e.CreatedByName, &e.CreatedAt, &e.UpdatedAt); err != nil {
			return nil, err
		}
		e.Kind = casework.EmploymentStatus(kind)
		e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// EmploymentRow is one person in the employment overview on a day.
type EmploymentRow struct {
	PersonID   string
	PersonName string
	OrgName    string
	Status     casework.EmploymentStatus
	Employer   string
	Job        string
	Since      casework.Date
	FoundBy    string
}

// EmploymentSummary answers "is everyone in work?" for a subtree on a day.
type EmploymentSummary struct {
	On       casework.Date
	Rows     []EmploymentRow
	Under    int // persons under a measure on the day
	CanWork  int // of them, not unable to work, in school or retired
	Employed int
	Counts   map[casework.EmploymentStatus]int
}

// Rate is the employment rate (就业率, R34):
//
//	persons employed on the day ÷ persons under a measure on the day who can work
//
// where "under a measure" means reported in (report date on or before the
// day) and not yet ended (no end date, or an end date after the day), at a
// place of execution in the subtree; "can work" excludes those whose
// records say unable to work, in school or retired on that day. R34 gives
// no official formula (UNCONFIRMED); this is the stated default. With no
// one who can work the rate is 0 and Defined is false.
func (s *EmploymentSummary) Rate() (rate float64, defined bool) {
	if s.CanWork == 0 {
		return 0, false
	}
	return float64(s.Employed) / float64(s.CanWork), true
}

// EmploymentOverview lists every person under a measure on day on, at a
// place in the subtree of orgID ("" for the actor's whole scope; a worker
// sees its caseload), with the status derived on that day, and counts
// them. Reports use it for the employment rate.
func (db *DB) EmploymentOverview(ctx context.Context, actor *casework.Actor, orgID string, on casework.Date) (*EmploymentSummary, error) {
	if on.IsZero() || !on.Valid() {
		return nil, casework.Invalid("on", "请填写日期", "the date is required")
	}
	s := &EmploymentSummary{On: on, Counts: map[casework.EmploymentStatus]int{}}
	err := db.Write(ctx, func(tx *Tx) error {
		// The person scope, applied to the measure's place (mo) rather than
		// the person's current org: a day in the past counts where the
		// measure was executed.
		where, args := personScope(actor, casework.PermViewHelp)
		where = strings.ReplaceAll(where, "o.path", "mo.path")
		if orgID != "" {
			o, err := tx.orgByID(ctx, orgID)
			if err != nil || !actor.Can(casework.PermViewHelp, o.Path) {
				return casework.NotFound("机构", "organisation")
			}
			where, args = where+` AND mo.path LIKE ? ESCAPE '\'`, append(args, likePrefix(o.Path))
		}
		under := ` FROM measures m JOIN persons p ON p.id = m.person_id AND ` + notSealed + ` JOIN orgs mo ON mo.id = m.place_org_id
			WHERE m.report_date IS NOT NULL AND m.report_date <= ? AND (m.ended_on IS NULL OR m.ended_on > ?) AND ` + where
		uargs := append([]any{on, on}, args...)
		rows, err := tx.Query(ctx, `SELECT DISTINCT p.id, p.name, mo.name`+under+` ORDER BY mo.name, p.name`, uargs...)
		if err != nil {
			return err
		}
		idx := map[string]int{}
		for rows.Next() {
			var r EmploymentRow
			if err := rows.Scan(&r.PersonID, &r.PersonName, &r.OrgName); err != nil {
				rows.Close()
				return err
			}
			if _, dup := idx[r.PersonID]; !dup { // two measures on one day (a hand-over): one person
				idx[r.PersonID] = len(s.Rows)
				s.Rows = append(s.Rows, r)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		recs, err := tx.employment(ctx, `e.from_on <= ? AND (e.to_on IS NULL OR e.to_on >= ?) AND e.person_id IN (SELECT p.id`+under+`)`,
			append([]any{on, on}, uargs...)...)
		if err != nil {
			return err
		}
		byPerson := map[string][]Employment{}
		for _, e := range recs {
			byPerson[e.PersonID] = append(byPerson[e.PersonID], e)
		}
		for i := range s.Rows {
			r := &s.Rows[i]
			st, cur := statusOf(byPerson[r.PersonID], on)
			r.Status = st
			if cur != nil {
				r.Employer, r.Job, r.Since, r.FoundBy = cur.Employer, cur.Job, cur.From, cur.FoundBy
			}
			s.Counts[st]++
			if st.CanWork() {
				s.CanWork++
			}
			if st == casework.WorkEmployed {
				s.Employed++
			}
		}
		s.Under = len(s.Rows)
		return tx.Audit(ctx, actor, AuditEntry{Action: "employment.overview", TargetType: "org", TargetID: orgID,
			Detail: map[string]any{"on": on.String(), "count": s.Under}})
	})
	return s, err
}
