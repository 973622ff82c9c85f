package store

import (
	"context"

	"kangfu/internal/casework"
)

// StartDetectionFrom makes the nightly detection judge the persons now
// under a measure from day on, instead of from their report dates: what a
// deployment does when it goes live with a caseload whose earlier days were
// kept on paper (no app, no check-ins to find), and what the demo does.
// Persons who already have a watermark for their current measure keep it;
// the days before day are never judged for the others, so no missed
// check-in or departure is recorded for them. Tests are not affected
// (refusals and positives come from the test records themselves). The
// change is audited. It returns how many persons were set.
func (db *DB) StartDetectionFrom(ctx context.Context, actor *casework.Actor, day casework.Date) (int, error) {
	var n int
	err := db.Write(ctx, func(tx *Tx) error {
		before := day.AddDays(-1)
		res, err := tx.Exec(ctx, `INSERT INTO violation_watch (person_id, measure_id, through, trip_start, trip_days, trip_qualified, updated_at)
			SELECT m.person_id, m.id, ?, NULL, 0, ?, ? FROM measures m
			WHERE m.in_force = ? AND m.report_date IS NOT NULL AND m.report_date <= ?
			ON CONFLICT (person_id) DO UPDATE SET measure_id = excluded.measure_id, through = excluded.through,
				trip_start = NULL, trip_days = 0, trip_qualified = excluded.trip_qualified, updated_at = excluded.updated_at
			WHERE violation_watch.measure_id <> excluded.measure_id`, before, false, tx.Now(), true, before)
		if err != nil {
			return err
		}
		c, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n = int(c)
		return tx.Audit(ctx, actor, AuditEntry{Action: "violation.detection_start", TargetType: "system", Detail: map[string]any{"from": day.String(), "persons": n}})
	})
	return n, err
}
