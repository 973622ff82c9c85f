package store

// devices_pin.go: changing the app's PIN (issue 4 §3 "settings: PIN").
// The server keeps the PIN's argon2id hash (set at activation) and checks
// the old PIN here; wrong old PINs are counted on the device row and lock
// the change for casework.PINLockFor after casework.PINMaxFailures in a
// row. The hash comparison runs outside any transaction (argon2id takes
// tens of milliseconds and SQLite has one writer, which check-ins share).

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"kangfu/internal/casework"
)

// PINChange is a change of a device's PIN. Check compares the old PIN the
// person typed with the stored hash; NewHash hashes the new PIN and is
// called only once the old one is right.
type PINChange struct {
	Check   func(ctx context.Context, hash string) (bool, error)
	NewHash func(ctx context.Context) (string, error)
}

type pinState struct {
	hash        string
	failures    int
	lockedUntil time.Time
	retired     bool
	personID    string
	orgID       string
}

// devicePIN reads the PIN state of a device; lock (in a write
// transaction) holds the row on PostgreSQL until the change is written.
func (tx *Tx) devicePIN(ctx context.Context, deviceID string, lock bool) (*pinState, error) {
	var s pinState
	forUpdate := ""
	if lock {
		forUpdate = tx.forUpdate()
	}
	var locked, retired sql.NullTime
	err := tx.QueryRow(ctx, `SELECT d.pin_hash, d.pin_failures, d.pin_locked_until, d.retired_at, d.person_id, p.org_id
		FROM devices d JOIN persons p ON p.id = d.person_id WHERE d.id = ?`+forUpdate, deviceID).
		Scan(&s.hash, &s.failures, &locked, &retired, &s.personID, &s.orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, casework.Errorf(casework.EUNAUTHORIZED, "设备令牌无效，请重新激活", "unknown device token: activate the app again")
	}
	if err != nil {
		return nil, err
	}
	s.lockedUntil, s.retired = scanTime(locked), retired.Valid
	return &s, nil
}

// ChangeDevicePIN sets a new PIN for an active device after checking the
// old one. Errors: device_retired (EUNAUTHORIZED) for a retired device;
// ELOCKED while the change is locked; EINVALID on field old_pin for a wrong
// old PIN, which is counted and audited (device.pin.failed) — the
// casework.PINMaxFailures-th in a row locks the change for
// casework.PINLockFor; ECONFLICT when the PIN changed meanwhile. A success
// clears the count and is audited (device.pin.change). The caller checks
// the new PIN (casework.CheckNewPIN) first.
func (db *DB) ChangeDevicePIN(ctx context.Context, deviceID string, pc PINChange) error {
	var st *pinState
	if err := db.Read(ctx, func(tx *Tx) error {
		var err error
		st, err = tx.devicePIN(ctx, deviceID, false)
		return err
	}); err != nil {
		return err
	}
	if st.retired {
		return casework.ErrDeviceRetired()
	}
	if now := db.Now(); now.Before(st.lockedUntil) {
		return casework.ErrPINLocked(st.lockedUntil, now)
	}
	ok, err := pc.Check(ctx, st.hash)
	if err != nil {
		return err
	}
	if !ok {
		return db.pinFailed(ctx, deviceID, casework.ErrWrongPIN, casework.ErrPINLocked)
	}
	newHash, err := pc.NewHash(ctx)
	if err != nil {
		return err
	}
	app := &casework.Actor{Username: "app:" + deviceID}
	return db.Write(ctx, func(tx *Tx) error {
		cur, err := tx.devicePIN(ctx, deviceID, true)
		switch {
		case err != nil:
			return err
		case cur.retired:
			return casework.ErrDeviceRetired()
		case tx.Now().Before(cur.lockedUntil):
			// Wrong tries from elsewhere locked it while this one was checked.
			return casework.ErrPINLocked(cur.lockedUntil, tx.Now())
		case cur.hash != st.hash:
			return casework.Errorf(casework.ECONFLICT, "密码刚刚已被修改，请重新输入", "the PIN was changed just now: enter it again")
		}
		if _, err := tx.Exec(ctx, `UPDATE devices SET pin_hash = ?, pin_failures = 0, pin_locked_until = NULL, pin_changed_at = ? WHERE id = ?`,
			newHash, tx.Now(), deviceID); err != nil {
			return err
		}
		return tx.Audit(ctx, app, AuditEntry{Action: "device.pin.change", TargetType: "person", TargetID: cur.personID, OrgID: cur.orgID,
			Detail: map[string]any{"device_id": deviceID, "failures_before": cur.failures}})
	})
}

// pinFailed counts a wrong old PIN (a lock that has run out starts the
// count afresh) and answers how many tries are left, or the lock.
func (db *DB) pinFailed(ctx context.Context, deviceID string, wrong func(left int) *casework.Error, locked func(until, now time.Time) *casework.Error) error {
	var answer error
	app := &casework.Actor{Username: "app:" + deviceID}
	err := db.Write(ctx, func(tx *Tx) error {
		cur, err := tx.devicePIN(ctx, deviceID, true)
		if err != nil {
			return err
		}
		now := tx.Now()
		if now.Before(cur.lockedUntil) {
			answer = locked(cur.lockedUntil, now)
			return nil
		}
		failures := cur.failures + 1
		if !cur.lockedUntil.IsZero() {
			failures = 1
		}
		detail := map[string]any{"device_id": deviceID, "failures": failures}
		var until any
		if failures >= casework.PINMaxFailures {
			u := now.Add(casework.PINLockFor)
			until, answer = u, locked(u, now)
			detail["locked_until"] = u.Format(time.RFC3339)
		} else {
			answer = wrong(casework.PINMaxFailures - failures)
		}
		if _, err := tx.Exec(ctx, `UPDATE devices SET pin_failures = ?, pin_locked_until = ? WHERE id = ?`, failures, until, deviceID); err != nil {
			return err
		}
		return tx.Audit(ctx, app, AuditEntry{Action: "device.pin.failed", TargetType: "person", TargetID: cur.personID, OrgID: cur.orgID, Detail: detail})
	})
	if err != nil {
		return err
	}
	return answer
}

// VerifyDevicePIN checks the PIN the person typed to unlock the app (issue
// 18 §3: asked on opening after the policy's idle time, and before every
// check-in where the policy says so). Wrong PINs count toward the same lock
// as a PIN change (casework.PINMaxFailures, then casework.PINLockFor) and
// are audited (device.pin.failed); a right one clears the count. Errors:
// device_retired, ELOCKED, EINVALID on field pin.
func (db *DB) VerifyDevicePIN(ctx context.Context, deviceID string, check func(ctx context.Context, hash string) (bool, error)) error {
	var st *pinState
	if err := db.Read(ctx, func(tx *Tx) error {
		var err error
		st, err = tx.devicePIN(ctx, deviceID, false)
		return err
	}); err != nil {
		return err
	}
	if st.retired {
		return casework.ErrDeviceRetired()
	}
	if now := db.Now(); now.Before(st.lockedUntil) {
		return casework.ErrAppPINLocked(st.lockedUntil, now)
	}
	ok, err := check(ctx, st.hash)
	if err != nil {
		return err
	}
	if !ok {
		return db.pinFailed(ctx, deviceID, casework.ErrWrongAppPIN, casework.ErrAppPINLocked)
	}
	if st.failures == 0 && st.lockedUntil.IsZero() {
		return nil
	}
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE devices SET pin_failures = 0, pin_locked_until = NULL WHERE id = ? AND pin_hash = ?`, deviceID, st.hash)
		return err
	})
}
