package store

// leave_repair.go: the status 请假 belongs to a leave (R28, issue 18 §1).
// Before issue 18 a worker could move a person to 请假 by hand, with no
// destination, dates or approval. RepairLeaveStatus finds every measure in
// 请假 that no open leave put there and moves it back to 执行中, with a
// status-history entry that says why.
//
// A startup repair rather than a migration: the effective date is today in
// each org's own zone, the status event needs an id made in Go, and the
// change must be in the HMAC-chained audit log, which SQL cannot extend.
// It is idempotent (a repaired measure is no longer in 请假), so every
// server start runs it; the store refuses the manual path, so after the
// first run it finds nothing.

import (
	"context"

	"kangfu/internal/casework"
)

// leaveRepairReason is the reason recorded on the status event.
const leaveRepairReason = "无已批准的请假记录，恢复执行中（请假状态须由已批准的请假产生，R28） / " +
	"no approved leave behind this status: back to executing (leave status comes only from an approved leave, R28)"

// RepairLeaveStatus moves back to 执行中 every measure in 请假 without an
// open leave that began it: a leave marked started and still approved,
// with an extension asked for, or with its return report pending (an
// overdue return stays 请假: its leave is still open and flagged). It
// returns how many measures moved.
func (db *DB) RepairLeaveStatus(ctx context.Context) (int, error) {
	var ids []string
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT m.person_id FROM measures m WHERE m.in_force = ? AND m.status = ?
			AND NOT EXISTS (SELECT 1 FROM leaves l WHERE l.person_id = m.person_id AND l.started = ?
				AND l.state IN ('approved', 'extension_requested', 'return_pending'))`,
			true, string(casework.StatusOnLeave), true)
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
	sys := casework.SystemActor("leave-repair")
	n := 0
	for _, id := range ids {
		err := db.Write(ctx, func(tx *Tx) error {
			m, err := tx.currentMeasure(ctx, id) // locks the row: a second server waits, then sees 执行中
			if err != nil {
				return err
			}
			if m.Status != casework.StatusOnLeave {
				return nil
			}
			r, err := tx.personRow(ctx, id)
			if err != nil {
				return err
			}
			org, err := tx.orgByID(ctx, m.PlaceOrgID)
			if err != nil {
				return err
			}
			n++
			return tx.transition(ctx, sys, r, m, TransitionInput{Action: casework.ActEndLeave, EffectiveDate: tx.today(org), Reason: leaveRepairReason})
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
