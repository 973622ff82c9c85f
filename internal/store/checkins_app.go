package store

// checkins_app.go: the app's "my records" (issue 4 §3): one month of the
// person's own check-ins with their verdicts, the check-in duty of that
// month, the leave requests that touch it and the drug test results in it
// (outcome only: the person may see their own results, issue 5 §3). The
// device's person is the reader; reading test results is audited (R36).

import (
	"context"

	"kangfu/internal/casework"
)

// AppTest is a drug test as the person sees it in the app: the date, the
// sample type and the outcome — no substances, sample numbers or staff.
type AppTest struct {
	ID       string
	TestedOn casework.Date
	Sample   string
	Outcome  string
}

// AppMonth is one month of the person's records.
type AppMonth struct {
	From, To casework.Date // the month's first and last day
	Today    casework.Date // at the place of execution
	Checkins []*Checkin    // oldest first; no location
	Duty     casework.Duty // over From … min(To, Today); empty for a month not begun
	Leaves   []*Leave      // requests whose dates touch the month, newest first
	Tests    []AppTest     // tests in the month, newest first
}

// AppMonthRecords returns the month of first (its first day; zero: this
// month at the place of execution) for the device's person. Errors: EINVALID for a day other than the first;
// device_retired (EUNAUTHORIZED) for a retired device.
func (db *DB) AppMonthRecords(ctx context.Context, dev *AppDevice, first casework.Date) (*AppMonth, error) {
	if !dev.Active() {
		return nil, casework.ErrDeviceRetired()
	}
	if !first.IsZero() && (!first.Valid() || first.Day != 1) {
		return nil, casework.Invalid("month", "月份应为 YYYY-MM", "month must be YYYY-MM")
	}
	out := &AppMonth{}
	var orgID string
	err := db.Read(ctx, func(tx *Tx) error {
		if err := tx.QueryRow(ctx, `SELECT org_id FROM persons WHERE id = ?`, dev.PersonID).Scan(&orgID); err != nil {
			return notFound(err, "人员档案", "person")
		}
		org, err := tx.orgByID(ctx, orgID)
		if err != nil {
			return err
		}
		out.Today = tx.today(org)
		if first.IsZero() {
			first = casework.NewDate(out.Today.Year, out.Today.Month, 1)
		}
		out.From, out.To = first, first.AddMonths(1).AddDays(-1)
		if !out.From.After(out.Today) {
			end := out.To
			if end.After(out.Today) {
				end = out.Today
			}
			if out.Duty, err = tx.personDuty(ctx, dev.PersonID, out.From, end); err != nil {
				return err
			}
		}
		if out.Checkins, err = tx.personCheckins(ctx, dev.PersonID, out.From, out.To); err != nil {
			return err
		}
		if out.Leaves, err = tx.personLeavesIn(ctx, dev.PersonID, out.From, out.To); err != nil {
			return err
		}
		tests, err := db.drugTests(ctx, tx, `t.person_id = ? AND t.tested_on >= ? AND t.tested_on <= ?`, dev.PersonID, out.From, out.To)
		if err != nil {
			return err
		}
		for _, t := range tests {
			out.Tests = append(out.Tests, AppTest{ID: t.ID, TestedOn: t.TestedOn, Sample: t.Sample, Outcome: t.Outcome})
		}
		return nil
	})
	if err != nil || len(out.Tests) == 0 {
		return out, err
	}
	app := &casework.Actor{Username: "app:" + dev.ID}
	err = db.Write(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, app, AuditEntry{Action: "app.tests.read", TargetType: "person", TargetID: dev.PersonID, OrgID: orgID,
			Detail: map[string]any{"device_id": dev.ID, "month": first.String()[:7], "count": len(out.Tests)}})
	})
	return out, err
}

func (tx *Tx) personCheckins(ctx context.Context, personID string, from, to casework.Date) ([]*Checkin, error) {
	rows, err := tx.Query(ctx, `SELECT `+checkinColumns+` FROM checkins WHERE person_id = ? AND local_date >= ? AND local_date <= ?
		ORDER BY taken_at, id`, personID, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Checkin
	for rows.Next() {
		c, err := scanCheckin(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// personLeavesIn lists the person's requests whose dates (with an
// extension asked for) touch [from, to], newest first.
func (tx *Tx) personLeavesIn(ctx context.Context, personID string, from, to casework.Date) ([]*Leave, error) {
	rows, err := tx.Query(ctx, `SELECT `+leaveColumns+leaveFrom+` WHERE l.person_id = ? AND l.from_date <= ?
		AND (l.to_date >= ? OR l.extension_to >= ?) ORDER BY l.from_date DESC, l.created_at DESC`, personID, to, from, from)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Leave
	for rows.Next() {
		l, err := scanLeave(rows)
		if err != nil {
			return nil, err
		}
		l.judge(tx.now)
		if err := tx.db.openLeave(l, true); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
