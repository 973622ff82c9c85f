package store

// devices.go: activation codes and the person's app devices (issue 4 §2).
// A worker or lead with write access to the file makes a one-time code
// (72 h, stored hashed); the app redeems it with its public key and a PIN
// and receives a bearer token (only its SHA-256 is kept). One active device
// per person: a new activation retires the old one.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

// ActivationCode is a stored code (never the code itself).
type ActivationCode struct {
	ID        string
	PersonID  string
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
	RevokedAt time.Time
	DeviceID  string
}

// State is "active", "used", "revoked" or "expired" at now.
func (c *ActivationCode) State(now time.Time) string {
	switch {
	case !c.UsedAt.IsZero():
		return "used"
	case !c.RevokedAt.IsZero():
		return "revoked"
	case !now.Before(c.ExpiresAt):
		return "expired"
	}
	return "active"
}

// Device is a registered app installation.
type Device struct {
	ID           string
	PersonID     string
	PublicKey    string // base64 SPKI DER
	ActivatedAt  time.Time
	RetiredAt    time.Time
	RetireReason string
	Lang         string // the app's language: "zh" or "en" (issue 18 item 13)
}

// Active reports whether the device is not retired.
func (d *Device) Active() bool { return d.RetiredAt.IsZero() }

const activationColumns = `id, person_id, created_by, created_at, expires_at, used_at, revoked_at, device_id`

func scanActivation(sc interface{ Scan(...any) error }) (*ActivationCode, error) {
	var c ActivationCode
	var used, revoked sql.NullTime
	if err := sc.Scan(&c.ID, &c.PersonID, &c.CreatedBy, &c.CreatedAt, &c.ExpiresAt, &used, &revoked, &c.DeviceID); err != nil {
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt, c.UsedAt, c.RevokedAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC(), scanTime(used), scanTime(revoked)
	return &c, nil
}

const deviceColumns = `id, person_id, public_key, activated_at, retired_at, retire_reason, lang`

func scanDevice(sc interface{ Scan(...any) error }) (*Device, error) {
	var d Device
	var retired sql.NullTime
	if err := sc.Scan(&d.ID, &d.PersonID, &d.PublicKey, &d.ActivatedAt, &retired, &d.RetireReason, &d.Lang); err != nil {
		return nil, err
	}
	d.ActivatedAt, d.RetiredAt = d.ActivatedAt.UTC(), scanTime(retired)
	return &d, nil
}

// CreateActivationCode makes a one-time code for the person; the caller
// shows it once (and as a QR code). Needs write access to the file.
func (db *DB) CreateActivationCode(ctx context.Context, actor *casework.Actor, personID string) (string, *ActivationCode, error) {
	code := casework.NewActivationCode()
	var c *ActivationCode
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canWrite)
		if err != nil {
			return err
		}
		if !casework.OwesDuty(r.Status) {
			return casework.Errorf(casework.ECONFLICT, "只有执行中的人员需要激活签到应用（当前：%s）", "only a person executing a measure needs the app (now: %s)",
				string(r.Status))
		}
		c = &ActivationCode{ID: NewID(), PersonID: personID, CreatedBy: actor.Username, CreatedAt: tx.Now(), ExpiresAt: tx.Now().Add(casework.ActivationTTL)}
		if _, err := tx.Exec(ctx, `INSERT INTO activation_codes (id, person_id, code_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID, personID, casework.ActivationCodeHash(code), c.CreatedBy, c.CreatedAt, c.ExpiresAt); err != nil {
			return fmt.Errorf("insert activation code: %w", err)
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "device.code.create", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"code_id": c.ID, "expires_at": c.ExpiresAt}})
	})
	if err != nil {
		return "", nil, err
	}
	return code, c, nil
}

// ListActivationCodes returns the person's codes, newest first, and their
// devices, newest first. Needs read access to the file.
func (db *DB) ListActivationCodes(ctx context.Context, actor *casework.Actor, personID string) ([]*ActivationCode, []*Device, error) {
	var codes []*ActivationCode
	var devices []*Device
	err := db.Read(ctx, func(tx *Tx) error {
		if _, err := tx.personFor(ctx, actor, personID, nil); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+activationColumns+` FROM activation_codes WHERE person_id = ? ORDER BY created_at DESC, id DESC`, personID)
		if err != nil {
			return err
		}
		for rows.Next() {
			c, err := scanActivation(rows)
			if err != nil {
				rows.Close()
				return err
			}
			codes = append(codes, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT `+deviceColumns+` FROM devices WHERE person_id = ? ORDER BY activated_at DESC, id DESC`, personID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDevice(rows)
			if err != nil {
				return err
			}
			devices = append(devices, d)
		}
		return rows.Err()
	})
	return codes, devices, err
}

// RevokeActivationCode revokes an unused code. Needs write access to the
// code's person.
func (db *DB) RevokeActivationCode(ctx context.Context, actor *casework.Actor, codeID string) (*ActivationCode, error) {
	var c *ActivationCode
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		c, err = scanActivation(tx.QueryRow(ctx, `SELECT `+activationColumns+` FROM activation_codes WHERE id = ?`+tx.forUpdate(), codeID))
		if err != nil {
			return notFound(err, "激活码", "activation code")
		}
		r, err := tx.personFor(ctx, actor, c.PersonID, canWrite)
		if err != nil {
			if casework.IsCode(err, casework.ENOTFOUND) {
				return casework.NotFound("激活码", "activation code")
			}
			return err
		}
		if st := c.State(tx.Now()); st != "active" {
			return casework.Errorf(casework.ECONFLICT, "该激活码已不可用（%s），无需撤销", "the code is no longer usable (%s): nothing to revoke", st)
		}
		c.RevokedAt = tx.Now()
		if _, err := tx.Exec(ctx, `UPDATE activation_codes SET revoked_at = ? WHERE id = ?`, c.RevokedAt, c.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "device.code.revoke", TargetType: "person", TargetID: c.PersonID, OrgID: r.OrgID,
			Detail: map[string]any{"code_id": c.ID}})
	})
	return c, err
}

// Activation is what the app sends to redeem a code, already checked: the
// key parses, the PIN is hashed, the token is fresh.
type Activation struct {
	Code      string // normalised
	PublicKey string // base64 SPKI DER
	PINHash   string
	TokenHash string
	Lang      string // the app's language at activation; "" is Chinese
}

var errBadCode = casework.Invalid("code", "激活码无效、已使用、已撤销或已过期，请向社工索取新的激活码",
	"the activation code is wrong, used, revoked or expired: ask your worker for a new one")

// Activate redeems a code: it registers the device, retires the person's
// previous device and marks the code used, all at once. It returns the
// device and the person's name.
func (db *DB) Activate(ctx context.Context, in Activation) (*Device, string, error) {
	var d *Device
	var name string
	err := db.Write(ctx, func(tx *Tx) error {
		c, err := scanActivation(tx.QueryRow(ctx, `SELECT `+activationColumns+` FROM activation_codes WHERE code_hash = ?`+tx.forUpdate(),
			casework.ActivationCodeHash(in.Code)))
		if errors.Is(err, sql.ErrNoRows) {
			return errBadCode
		}
		if err != nil {
			return err
		}
		if c.State(tx.Now()) != "active" {
			return errBadCode
		}
		var orgID string
		err = tx.QueryRow(ctx, `SELECT name, org_id FROM persons p WHERE id = ? AND `+notSealed, c.PersonID).Scan(&name, &orgID)
		if errors.Is(err, sql.ErrNoRows) {
			return errBadCode // R38: a sealed person's code answers like an unknown one
		}
		if err != nil {
			return err
		}
		var old []string
		rows, err := tx.Query(ctx, `SELECT id FROM devices WHERE person_id = ? AND retired_at IS NULL`, c.PersonID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			old = append(old, id)
		}
		rows.Close()
		if _, err := tx.Exec(ctx, `UPDATE devices SET retired_at = ?, retire_reason = ? WHERE person_id = ? AND retired_at IS NULL`,
			tx.Now(), "replaced", c.PersonID); err != nil {
			return err
		}
		d = &Device{ID: NewID(), PersonID: c.PersonID, PublicKey: in.PublicKey, ActivatedAt: tx.Now(), Lang: deviceLang(in.Lang)}
		if _, err := tx.Exec(ctx, `INSERT INTO devices (id, person_id, public_key, pin_hash, token_hash, activated_at, lang) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.PersonID, d.PublicKey, in.PINHash, in.TokenHash, d.ActivatedAt, d.Lang); err != nil {
			return fmt.Errorf("insert device: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE activation_codes SET used_at = ?, device_id = ? WHERE id = ?`, tx.Now(), d.ID, c.ID); err != nil {
			return err
		}
		app := &casework.Actor{Username: "app:" + d.ID}
		return tx.Audit(ctx, app, AuditEntry{Action: "device.activate", TargetType: "person", TargetID: c.PersonID, OrgID: orgID,
			Detail: map[string]any{"device_id": d.ID, "code_id": c.ID, "retired": old}})
	})
	if err == nil {
		db.app().forgetPerson(d.PersonID)
	}
	return d, name, err
}

// DeviceByToken returns the device of a bearer token, retired or not (the
// caller answers device_retired); ENOTFOUND-free: a token that matches
// nothing is EUNAUTHORIZED.
func (db *DB) DeviceByToken(ctx context.Context, tokenHash string) (*Device, error) {
	st, err := db.hot(ctx, `SELECT `+deviceColumns+` FROM devices WHERE token_hash = ?
		AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.id = devices.person_id AND p.sealed_at IS NOT NULL)`)
	if err != nil {
		return nil, err
	}
	d, err := scanDevice(st.QueryRowContext(ctx, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, casework.Errorf(casework.EUNAUTHORIZED, "设备令牌无效，请重新激活", "unknown device token: activate the app again")
	}
	return d, err
}

// RetireDevice retires a device (lost phone). Needs write access to the
// device's person.
func (db *DB) RetireDevice(ctx context.Context, actor *casework.Actor, deviceID, reason string) error {
	var personID string
	err := db.Write(ctx, func(tx *Tx) error {
		d, err := scanDevice(tx.QueryRow(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = ?`+tx.forUpdate(), deviceID))
		if err != nil {
			return notFound(err, "设备", "device")
		}
		r, err := tx.personFor(ctx, actor, d.PersonID, canWrite)
		if err != nil {
			if casework.IsCode(err, casework.ENOTFOUND) {
				return casework.NotFound("设备", "device")
			}
			return err
		}
		if !d.Active() {
			return casework.Errorf(casework.ECONFLICT, "该设备已停用", "the device is already retired")
		}
		personID = d.PersonID
		if _, err := tx.Exec(ctx, `UPDATE devices SET retired_at = ?, retire_reason = ? WHERE id = ?`, tx.Now(), reason, d.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "device.retire", TargetType: "person", TargetID: d.PersonID, OrgID: r.OrgID, Reason: reason,
			Detail: map[string]any{"device_id": d.ID}})
	})
	if err == nil {
		db.app().forgetPerson(personID)
	}
	return err
}

// Registration is the app registration rate (注册率) of an org subtree:
// persons executing a measure with an active device ÷ persons executing.
type Registration struct {
	Executing  int
	Registered int
}

// Rate is Registered ÷ Executing; 0 when nobody is executing.
func (r Registration) Rate() float64 {
	if r.Executing == 0 {
		return 0
	}
	return float64(r.Registered) / float64(r.Executing)
}

// RegistrationRate counts the org subtree (the actor's read scope within
// it). "Executing" includes approved leave: the measure runs on.
func (db *DB) RegistrationRate(ctx context.Context, actor *casework.Actor, orgID string) (Registration, error) {
	var out Registration
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermReadPersons, orgID)
		if err != nil {
			return err
		}
		scope, args := scopeClause("o.path", actor.Scope(casework.PermReadPersons))
		args = append([]any{likePrefix(org.Path), string(casework.StatusExecuting), string(casework.StatusOnLeave)}, args...)
		return tx.QueryRow(ctx, `SELECT COUNT(*), COUNT(d.id) FROM persons p JOIN orgs o ON o.id = p.org_id
			LEFT JOIN devices d ON d.person_id = p.id AND d.retired_at IS NULL
			WHERE o.path LIKE ? ESCAPE '\' AND p.status IN (?, ?) AND `+notSealed+` AND `+scope, args...).Scan(&out.Executing, &out.Registered)
	})
	return out, err
}
