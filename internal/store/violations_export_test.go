package store

import (
	"context"
	"strconv"

	"kangfu/internal/casework"
)

// SeedCheckin stores a check-in row directly (no signature, no writer) for
// detection tests: the verdict as given, the point sealed as ingest seals it.
func SeedCheckin(ctx context.Context, db *DB, personID, deviceID, orgID string, day casework.Date, lat, lng float64, v casework.Verdict) error {
	id := NewID()
	point := strconv.FormatFloat(lat, 'f', -1, 64) + "," + strconv.FormatFloat(lng, 'f', -1, 64)
	sealed, err := db.vault.Seal(point, "checkin.loc:"+id)
	if err != nil {
		return err
	}
	return db.Write(ctx, func(tx *Tx) error {
		at := day.In(casework.LoadLocation("Asia/Shanghai")).Add(12 * 60 * 60 * 1e9)
		_, err := tx.Exec(ctx, `INSERT INTO checkins (id, person_id, device_id, org_id, taken_at, received_at, local_date, loc_enc, accuracy_m,
			photo_sha256, signature, body_sha256, verdict, policy_version_id, checks, counts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 10, '', 'x', 'x', ?, '', ?, ?)`,
			id, personID, deviceID, orgID, at.UTC(), tx.now, day, sealed, string(v), casework.FormatChecks(casework.ParseChecks("", v)),
			casework.Discharges(casework.CountsOKOrLate, casework.ParseChecks("", v)))
		return err
	})
}

// DeleteCheckinsOn removes a person's check-ins of a day (test set-up).
func DeleteCheckinsOn(ctx context.Context, db *DB, personID string, day casework.Date) error {
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM checkins WHERE person_id = ? AND local_date = ?`, personID, day)
		return err
	})
}

// ForceStatus sets the status of a person's measure in force without the
// status machine: the state a manual 请假 left before issue 18 (test set-up).
func ForceStatus(ctx context.Context, db *DB, personID string, s casework.Status) error {
	return db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE measures SET status = ? WHERE person_id = ? AND in_force = ?`, string(s), personID, true); err != nil {
			return err
		}
		return tx.syncPerson(ctx, personID)
	})
}
