package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// RecordAppPhoto notes that the device's person uploaded the photo with
// this SHA-256 (issue 15 §2). Uploading the same photo again is a no-op.
func (db *DB) RecordAppPhoto(ctx context.Context, dev *AppDevice, sha string) error {
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO app_photos (sha256, person_id, device_id, uploaded_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (sha256, person_id) DO NOTHING`, sha, dev.PersonID, dev.ID, tx.now)
		if err != nil {
			return fmt.Errorf("record photo: %w", err)
		}
		return nil
	})
}

// photoUploaded says whether the person (through any of their devices)
// uploaded the photo: a check-in may only cite such a photo (issue 15 §2).
func (db *DB) photoUploaded(ctx context.Context, personID, sha string) (bool, error) {
	q, err := db.hot(ctx, `SELECT 1 FROM app_photos WHERE sha256 = ? AND person_id = ?`)
	if err != nil {
		return false, err
	}
	var one int
	switch err := q.QueryRowContext(ctx, sha, personID).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("photo upload: %w", normalize(err))
	}
	return true, nil
}
