package store

// dossier_file.go: the parts of the whole file (一人一档, issue 18 §7) that
// live outside the person, measure and document tables: drug tests,
// violations with their ladder steps, leave, and the check-in duty by
// month. LoadDossier reads them in its one audited transaction; a part the
// reader's role does not cover is left out and named in Dossier.Hidden.

import (
	"context"
	"time"

	"kangfu/internal/casework"
)

// MonthDuty is the check-in duty of one calendar month (local dates of the
// place of execution), counted as PersonDuty counts it: due, done and
// missed days; the days on approved leave (R28: they owe a check-in at the
// destination, so with an app they are among the due days); and the days
// the measure owed duties but no device was active yet (issue 18 §4).
type MonthDuty struct {
	Month                             string // YYYY-MM
	Due, Done, Missed, OnLeave, NoApp int
}

// dossierMonthsMax bounds the months of check-in summary in a dossier.
const dossierMonthsMax = 24

// Hidden parts of a dossier.
const (
	HiddenViolations = "violations"
	HiddenLeave      = "leave"
)

// dossierParts loads tests, violations, leave and the check-in months.
func (tx *Tx) dossierParts(ctx context.Context, actor *casework.Actor, d *Dossier, r *personRow) error {
	until := r.Access.Until
	var err error
	where, args := `t.person_id = ?`, []any{r.ID}
	if !until.IsZero() {
		where, args = where+` AND t.created_at <= ?`, append(args, until)
	}
	if d.Tests, err = tx.db.drugTests(ctx, tx, where, args...); err != nil { // readers of the dossier have sensitive access (R36)
		return err
	}
	if actor.Can(casework.PermViewViolations, r.OrgPath) {
		if err := tx.dossierViolations(ctx, d, r.ID, until); err != nil {
			return err
		}
	} else {
		d.Hidden = append(d.Hidden, HiddenViolations)
	}
	// A past place sees its leave up to the hand-over, as ListLeaves lets it;
	// violations go with the measure to the new place (ListViolations).
	if actor.Can(casework.PermViewLeave, r.OrgPath) || !until.IsZero() {
		if err := tx.dossierLeaves(ctx, d, r.ID, until); err != nil {
			return err
		}
	} else {
		d.Hidden = append(d.Hidden, HiddenLeave)
	}
	return tx.dossierCheckins(ctx, d, r, until)
}

func (tx *Tx) dossierViolations(ctx context.Context, d *Dossier, personID string, until time.Time) error {
	where, args := `v.person_id = ?`, []any{personID}
	if !until.IsZero() {
		where, args = where+` AND v.created_at <= ?`, append(args, until)
	}
	rows, err := tx.Query(ctx, `SELECT `+violationColumns+violationFrom+` WHERE `+where+` ORDER BY v.day DESC, v.id`, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		v, err := scanViolation(rows)
		if err != nil {
			rows.Close()
			return err
		}
		d.Violations = append(d.Violations, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, v := range d.Violations {
		if err := tx.loadSteps(ctx, v); err != nil {
			return err
		}
		if !until.IsZero() {
			kept := v.Steps[:0]
			for _, s := range v.Steps {
				if !s.CreatedAt.After(until) {
					kept = append(kept, s)
				}
			}
			v.Steps = kept
		}
	}
	return nil
}

func (tx *Tx) dossierLeaves(ctx context.Context, d *Dossier, personID string, until time.Time) error {
	where, args := `l.person_id = ?`, []any{personID}
	if !until.IsZero() {
		where, args = where+` AND l.created_at <= ?`, append(args, until)
	}
	rows, err := tx.Query(ctx, `SELECT `+leaveColumns+leaveFrom+` WHERE `+where+` ORDER BY l.from_date DESC, l.created_at DESC`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLeave(rows)
		if err != nil {
			return err
		}
		l.judge(tx.now) // the work address stays sealed: the dossier does not print it
		d.Leaves = append(d.Leaves, l)
	}
	return rows.Err()
}

// dossierCheckins sums the duty per month from the first report date to
// today (or the hand-over of a past place), the latest dossierMonthsMax
// months, newest first. The counts are PersonDuty's (personDuty), so they
// match the check-in pages and the rates.
func (tx *Tx) dossierCheckins(ctx context.Context, d *Dossier, r *personRow, until time.Time) error {
	var start casework.Date
	for _, m := range d.Measures {
		if !m.ReportDate.IsZero() && (start.IsZero() || m.ReportDate.Before(start)) {
			start = m.ReportDate
		}
	}
	if start.IsZero() {
		return nil
	}
	org, err := tx.orgByID(ctx, r.OrgID)
	if err != nil {
		return err
	}
	end := tx.today(org)
	if !until.IsZero() {
		end = casework.DateOf(until, org.Location())
	}
	if end.Before(start) {
		return nil
	}
	first := casework.NewDate(end.Year, end.Month-dossierMonthsMax+1, 1)
	if m := casework.NewDate(start.Year, start.Month, 1); m.After(first) {
		first = m
	}
	spans, err := tx.personSpans(ctx, r.ID)
	if err != nil {
		return err
	}
	for month := casework.NewDate(end.Year, end.Month, 1); !month.Before(first); month = month.AddMonths(-1) {
		from, to := month, casework.NewDate(month.Year, month.Month+1, 0)
		if from.Before(start) {
			from = start
		}
		if to.After(end) {
			to = end
		}
		duty, err := tx.personDuty(ctx, r.ID, from, to)
		if err != nil {
			return err
		}
		md := MonthDuty{Month: month.String()[:7], Due: duty.Due, Done: duty.Done, Missed: len(duty.Missed), NoApp: len(duty.NoApp)}
		for _, day := range casework.DutyDays(spans, from, to) {
			if statusOn(spans, day) == casework.StatusOnLeave {
				md.OnLeave++
			}
		}
		d.Checkins = append(d.Checkins, md)
	}
	return nil
}

// statusOn is the status of the spans on day ("" before the first).
func statusOn(spans []casework.StatusSpan, day casework.Date) casework.Status {
	var s casework.Status
	for _, sp := range spans {
		if sp.From.After(day) {
			break
		}
		s = sp.Status
	}
	return s
}
