package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// Credentials is what sign-in needs to know about an account.
type Credentials struct {
	UserID       string
	Username     string
	OrgID        string
	PasswordHash string
	TOTPSecret   string // decrypted; "" when none
	TOTPEnabled  bool
	TOTPExempt   bool
	TOTPLastStep int64
	Disabled     bool
	FailedLogins int
	LockedUntil  time.Time
}

// CredentialsByUsername loads an account for sign-in. No actor: the caller
// is the sign-in use case itself, before anyone is signed in.
func (db *DB) CredentialsByUsername(ctx context.Context, username string) (*Credentials, error) {
	return db.credentials(ctx, `u.username = ?`, strings.ToLower(strings.TrimSpace(username)))
}

// CredentialsByID loads an account's credentials (re-authentication).
func (db *DB) CredentialsByID(ctx context.Context, userID string) (*Credentials, error) {
	return db.credentials(ctx, `u.id = ?`, userID)
}

func (db *DB) credentials(ctx context.Context, where string, arg string) (*Credentials, error) {
	var c Credentials
	var locked sql.NullTime
	var sealed string
	err := db.Read(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `SELECT u.id, u.username, u.org_id, u.password_hash, u.totp_secret, u.totp_enabled, u.totp_exempt, u.totp_last_step,
			u.disabled, u.failed_logins, u.locked_until FROM users u WHERE `+where, arg).Scan(
			&c.UserID, &c.Username, &c.OrgID, &c.PasswordHash, &sealed, &c.TOTPEnabled, &c.TOTPExempt, &c.TOTPLastStep, &c.Disabled, &c.FailedLogins, &locked)
	})
	if err != nil {
		return nil, notFound(err, "用户", "user")
	}
	c.LockedUntil = scanTime(locked)
	if c.TOTPSecret, err = db.vault.Open(sealed, "user.totp:"+c.UserID); err != nil {
		return nil, fmt.Errorf("open totp secret of %s: %w", c.UserID, err)
	}
	return &c, nil
}

// RecordLoginFailure audits a failed sign-in and, for a known account with
// lockAfter > 0, counts it against the account *and* the client's address
// (issue 15 §4): after lockAfter failures in a row from one address the
// account is locked for lockFor from that address only, and the account
// holder gets a notice. It reports whether this failure locked it. A lock
// that has run out starts the count afresh.
func (db *DB) RecordLoginFailure(ctx context.Context, userID, username, ip, why string, lockAfter int, lockFor time.Duration) (bool, error) {
	locked := false
	err := db.Write(ctx, func(tx *Tx) error {
		orgID := ""
		if userID != "" {
			if err := tx.QueryRow(ctx, `SELECT org_id FROM users WHERE id = ?`, userID).Scan(&orgID); err != nil {
				return err
			}
		}
		addr := AddrKey(ip)
		if userID != "" && lockAfter > 0 {
			// Failures on several servers at once count one by one (issue
			// 16 §2): the row is made if absent, then held (PostgreSQL row
			// lock; SQLite's single writer) while it is counted.
			if _, err := tx.Exec(ctx, `INSERT INTO login_locks (user_id, addr, failed, locked_until, updated_at) VALUES (?, ?, 0, NULL, ?)
				ON CONFLICT (user_id, addr) DO NOTHING`, userID, addr, tx.now); err != nil {
				return err
			}
			var failed int
			var until sql.NullTime
			if err := tx.QueryRow(ctx, `SELECT failed, locked_until FROM login_locks WHERE user_id = ? AND addr = ?`+tx.forUpdate(), userID, addr).
				Scan(&failed, &until); err != nil {
				return err
			}
			if until.Valid && !until.Time.After(tx.now) {
				failed = 1 // the lock ran out
			} else {
				failed++
			}
			var newUntil any
			if failed >= lockAfter {
				newUntil, locked = tx.now.Add(lockFor), true
			}
			if _, err := tx.Exec(ctx, `UPDATE login_locks SET failed = ?, locked_until = ?, updated_at = ? WHERE user_id = ? AND addr = ?`,
				failed, newUntil, tx.now, userID, addr); err != nil {
				return err
			}
			if locked {
				// The holder hears of it (issue 15 §4).
				if _, err := tx.Exec(ctx, `INSERT INTO staff_notifications (id, user_id, org_id, person_id, kind, title_zh, title_en, link, notice_key, created_at)
					VALUES (?, ?, ?, NULL, 'account.locked', ?, ?, '/account', NULL, ?)`, NewID(), userID, orgID,
					fmt.Sprintf("您的账号因连续 %d 次登录失败，已对地址 %s 锁定至 %s（UTC）；若非本人操作，请告知管理员", failed, addr, tx.now.Add(lockFor).Format("2006-01-02 15:04")),
					fmt.Sprintf("Your account was locked for address %s until %s UTC after %d failed sign-ins; if this was not you, tell an administrator", addr, tx.now.Add(lockFor).Format("2006-01-02 15:04"), failed),
					tx.now); err != nil {
					return fmt.Errorf("lock notice: %w", err)
				}
			}
		}
		actor := &casework.Actor{UserID: userID, Username: username, IP: ip}
		detail := map[string]any{"why": why}
		if locked {
			detail["locked_until"] = tx.now.Add(lockFor).Format(time.RFC3339)
			detail["address"] = addr
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "auth.login_failed", TargetType: "user", TargetID: userID, OrgID: orgID, Detail: detail})
	})
	return locked, err
}

// LoginLockedUntil returns until when the account is locked for the
// client's address (zero: not locked).
func (db *DB) LoginLockedUntil(ctx context.Context, userID, ip string) (time.Time, error) {
	var until sql.NullTime
	err := db.Read(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `SELECT locked_until FROM login_locks WHERE user_id = ? AND addr = ?`, userID, AddrKey(ip)).Scan(&until)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil || !until.Valid || !until.Time.After(db.Now()) {
		return time.Time{}, err
	}
	return until.Time.UTC(), nil
}

// UnlockLogin lifts every sign-in lock of an account (issue 15 §4). Only a
// second administrator may: one who manages the account's org and is not
// the account itself. Audited, and the holder is told.
func (db *DB) UnlockLogin(ctx context.Context, actor *casework.Actor, userID, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return casework.Invalid("reason", "请说明解锁原因", "state why the account is unlocked")
	}
	return db.Write(ctx, func(tx *Tx) error {
		u, err := tx.userFor(ctx, actor, userID, false)
		if err != nil {
			return err
		}
		if u.ID == actor.UserID {
			return casework.Errorf(casework.EFORBIDDEN, "不能为自己的账号解锁，请由另一位管理员操作", "you cannot unlock your own account; another administrator must")
		}
		res, err := tx.Exec(ctx, `UPDATE login_locks SET failed = 0, locked_until = NULL, updated_at = ? WHERE user_id = ? AND locked_until IS NOT NULL`, tx.now, u.ID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if _, err := tx.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?`, u.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO staff_notifications (id, user_id, org_id, person_id, kind, title_zh, title_en, link, notice_key, created_at)
			VALUES (?, ?, ?, NULL, 'account.unlocked', ?, ?, '/account', NULL, ?)`, NewID(), u.ID, u.OrgID,
			"管理员 "+actor.Username+" 已解除您账号的登录锁定", "Administrator "+actor.Username+" lifted the sign-in lock on your account", tx.now); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "auth.unlock", TargetType: "user", TargetID: u.ID, OrgID: u.OrgID, Reason: reason,
			Detail: map[string]any{"addresses": n}})
	})
}

// AddrKey is the part of a client address a sign-in lock is kept for: the
// /32 of IPv4, the /64 of IPv6 (one host usually holds a whole /64).
func AddrKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	addr = addr.Unmap()
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits)
	if bits == 32 {
		return p.Addr().String()
	}
	return p.String()
}

// Session is a signed-in session (console cookie or API bearer token).
type Session struct {
	TokenHash  string
	UserID     string
	Kind       string // "web" or "api"
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute timeout
}

// CreateSession records a successful sign-in: it stores the session, resets
// the failure count and audits the sign-in.
func (db *DB) CreateSession(ctx context.Context, s Session, ip, userAgent, method string) error {
	return db.Write(ctx, func(tx *Tx) error {
		var orgID, username string
		if err := tx.QueryRow(ctx, `SELECT org_id, username FROM users WHERE id = ?`, s.UserID).Scan(&orgID, &username); err != nil {
			return notFound(err, "用户", "user")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, kind, created_at, last_seen_at, expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			s.TokenHash, s.UserID, s.Kind, tx.now, tx.now, s.ExpiresAt.UTC(), ip, truncate(userAgent, 300)); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?`, tx.now, s.UserID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM login_locks WHERE user_id = ? AND addr = ?`, s.UserID, AddrKey(ip)); err != nil {
			return err
		}
		actor := &casework.Actor{UserID: s.UserID, Username: username, IP: ip}
		return tx.Audit(ctx, actor, AuditEntry{Action: "auth.login", TargetType: "user", TargetID: s.UserID, OrgID: orgID,
			Detail: map[string]any{"kind": s.Kind, "method": method}})
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// ErrSessionExpired is returned for a session past its idle or absolute
// timeout, revoked, or of a disabled user.
var ErrSessionExpired = casework.Errorf(casework.EUNAUTHORIZED, "登录已过期，请重新登录", "your session has expired; please sign in again")

// SessionActor resolves a session token hash to the actor behind it. It
// refreshes last_seen_at at most once a minute, so a page view is not a
// write each time.
func (db *DB) SessionActor(ctx context.Context, tokenHash, kind string, idle time.Duration) (*casework.Actor, *casework.User, error) {
	var s Session
	var revoked sql.NullTime
	var u *casework.User
	err := db.Read(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, `SELECT user_id, kind, created_at, last_seen_at, expires_at, revoked_at FROM sessions WHERE token_hash = ?`, tokenHash).Scan(
			&s.UserID, &s.Kind, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrSessionExpired
		}
		if err != nil {
			return err
		}
		if revoked.Valid || s.Kind != kind || !tx.now.Before(s.ExpiresAt) || !tx.now.Before(s.LastSeenAt.Add(idle)) {
			return ErrSessionExpired
		}
		u, err = tx.userByID(ctx, s.UserID)
		if err != nil {
			return err
		}
		if u.Disabled {
			return ErrSessionExpired
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if db.now().Sub(s.LastSeenAt) > time.Minute {
		err := db.Write(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`, tx.now, tokenHash)
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("touch session: %w", err)
		}
	}
	actor := &casework.Actor{UserID: u.ID, Username: u.Username, Name: u.DisplayName, Grants: u.Grants}
	return actor, u, nil
}

// RevokeSession ends a session (sign-out, token revocation).
func (db *DB) RevokeSession(ctx context.Context, actor *casework.Actor, tokenHash string) error {
	return db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND user_id = ? AND revoked_at IS NULL`, tx.now, tokenHash, actor.UserID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "auth.logout", TargetType: "user", TargetID: actor.UserID, OrgID: tx.homeOrg(ctx, actor.UserID)})
	})
}

func (tx *Tx) homeOrg(ctx context.Context, userID string) string {
	var org string
	_ = tx.QueryRow(ctx, `SELECT org_id FROM users WHERE id = ?`, userID).Scan(&org)
	return org
}

// SetPendingTOTP stores a new, not yet confirmed TOTP secret for the
// actor's own account (encrypted); it takes effect in EnableTOTP.
func (db *DB) SetPendingTOTP(ctx context.Context, actor *casework.Actor, secret string) error {
	sealed, err := db.vault.Seal(secret, "user.totp:"+actor.UserID)
	if err != nil {
		return err
	}
	return db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET totp_secret = ?, updated_at = ? WHERE id = ? AND NOT totp_enabled`, sealed, tx.now, actor.UserID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return casework.Errorf(casework.ECONFLICT, "两步验证已启用；请先停用再重新绑定", "two-factor sign-in is already on; turn it off first to enrol again")
		}
		return nil
	})
}

// EnableTOTP switches the second factor on after the first code was
// confirmed at step, and stores the hashes of fresh recovery codes.
func (db *DB) EnableTOTP(ctx context.Context, actor *casework.Actor, step int64, recoveryHashes []string) error {
	return db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_enabled = ?, totp_last_step = ?, updated_at = ? WHERE id = ?`, true, step, tx.now, actor.UserID); err != nil {
			return err
		}
		if err := tx.replaceRecoveryCodes(ctx, actor.UserID, recoveryHashes); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "account.totp_enable", TargetType: "user", TargetID: actor.UserID, OrgID: tx.homeOrg(ctx, actor.UserID)})
	})
}

func (tx *Tx) replaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, h); err != nil {
			return err
		}
	}
	return nil
}

// DisableTOTP turns the second factor off for a user: the actor's own
// account, or one the actor manages (a lost phone).
func (db *DB) DisableTOTP(ctx context.Context, actor *casework.Actor, userID, reason string) error {
	return db.Write(ctx, func(tx *Tx) error {
		u, err := tx.userFor(ctx, actor, userID, true)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_enabled = ?, totp_secret = '', totp_last_step = 0, updated_at = ? WHERE id = ?`, false, tx.now, u.ID); err != nil {
			return err
		}
		if err := tx.replaceRecoveryCodes(ctx, u.ID, nil); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "user.totp_disable", TargetType: "user", TargetID: u.ID, OrgID: u.OrgID, Reason: reason})
	})
}

// UseTOTPStep records that the code of a time step was accepted; false if
// that step (or a later one) was used already — a replayed code.
func (db *DB) UseTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	ok := false
	err := db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, userID, step)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}

// UseRecoveryCode spends a recovery code; false if unknown or used.
func (db *DB) UseRecoveryCode(ctx context.Context, userID, codeHash string) (bool, error) {
	ok := false
	err := db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`, tx.now, userID, codeHash)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}

// RecoveryCodesLeft counts the unused recovery codes of the actor.
func (db *DB) RecoveryCodesLeft(ctx context.Context, actor *casework.Actor) (int, error) {
	var n int
	err := db.Read(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, actor.UserID).Scan(&n)
	})
	return n, err
}

// Mark sets a once-only marker; false if it was set already.
func (db *DB) Mark(ctx context.Context, name string) (bool, error) {
	ok := false
	err := db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO markers (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, tx.now)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}
