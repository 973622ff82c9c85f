package store

import (
	"context"
	"time"

	"kangfu/internal/casework"
)

// BackdateRisk moves a decided assessment into the past: assessed at,
// decided at and in force from the given times (the demo's month of
// reviews, so its inbox holds the few reassessments a real office would
// have due, not one per person). Demo data only: no route calls it; the
// assessment must have been made and decided through AssessRisk and
// DecideRisk, which audit them.
func (db *DB) BackdateRisk(ctx context.Context, assessmentID string, assessedAt, decidedAt time.Time, effective casework.Date) error {
	return db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE risk_assessments SET assessed_at = ?, decided_at = ?, effective_from = ?
			WHERE id = ? AND state IN ('confirmed', 'overridden')`, assessedAt.UTC(), decidedAt.UTC(), effective, assessmentID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return casework.Errorf(casework.ECONFLICT, "该评估尚未确认", "the assessment is not decided")
		}
		return nil
	})
}

// DemoEventTimes dates the record times of the demo's events back to the
// days they happened: a violation's recording and decision, a job record's
// last change, a scale's recording. The demo loads a year of events at
// once, so without it every event would look as if it had been recorded
// at load time, after every review, and ask for a reassessment now (the
// risk triggers compare record times with the last review). Demo data
// only: no route calls it. Times never move later.
func (db *DB) DemoEventTimes(ctx context.Context) error {
	loc := casework.LoadLocation(casework.DefaultTimeZone)
	noon := func(d casework.Date) time.Time { return d.In(loc).Add(12 * time.Hour).UTC() }
	return db.Write(ctx, func(tx *Tx) error {
		type upd struct {
			q    string
			args []any
		}
		var ups []upd
		read := func(q string, fn func(id string, d casework.Date)) error {
			rows, err := tx.Query(ctx, q)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id string
				var d casework.Date
				if err := rows.Scan(&id, &d); err != nil {
					return err
				}
				fn(id, d)
			}
			return rows.Err()
		}
		if err := read(`SELECT id, day FROM violations`, func(id string, d casework.Date) {
			at := noon(d)
			ups = append(ups, upd{`UPDATE violations SET created_at = ? WHERE id = ? AND created_at > ?`, []any{at, id, at}},
				upd{`UPDATE violations SET state_at = ? WHERE id = ? AND state_at IS NOT NULL AND state_at > ?`, []any{at.Add(24 * time.Hour), id, at.Add(24 * time.Hour)}})
		}); err != nil {
			return err
		}
		if err := read(`SELECT id, COALESCE(to_on, from_on) FROM employment`, func(id string, d casework.Date) {
			at := noon(d)
			ups = append(ups, upd{`UPDATE employment SET updated_at = ? WHERE id = ? AND updated_at > ?`, []any{at, id, at}})
		}); err != nil {
			return err
		}
		if err := read(`SELECT id, administered_on FROM scale_administrations`, func(id string, d casework.Date) {
			at := noon(d)
			ups = append(ups, upd{`UPDATE scale_administrations SET created_at = ? WHERE id = ? AND created_at > ?`, []any{at, id, at}})
		}); err != nil {
			return err
		}
		for _, u := range ups {
			if _, err := tx.Exec(ctx, u.q, u.args...); err != nil {
				return err
			}
		}
		return nil
	})
}
