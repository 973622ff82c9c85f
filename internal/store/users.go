package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"kangfu/internal/casework"
)

const userColumns = `u.id, u.username, u.display_name, u.org_id, o.path, o.name, u.sex, u.phone, u.lang, u.disabled, u.totp_enabled, u.totp_exempt,
	u.must_change_password, u.failed_logins, u.locked_until, u.last_login_at, u.created_at, u.updated_at`

func scanUser(sc interface{ Scan(...any) error }) (*casework.User, error) {
	var u casework.User
	var locked, last sql.NullTime
	if err := sc.Scan(&u.ID, &u.Username, &u.DisplayName, &u.OrgID, &u.OrgPath, &u.OrgName, &u.Sex, &u.Phone, &u.Lang, &u.Disabled,
		&u.TOTPEnabled, &u.TOTPExempt, &u.MustChangePassword, &u.FailedLogins, &locked, &last, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, err
	}
	u.LockedUntil, u.LastLoginAt = scanTime(locked), scanTime(last)
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

func (tx *Tx) userByID(ctx context.Context, id string) (*casework.User, error) {
	u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = ?`, id))
	if err != nil {
		return nil, notFound(err, "用户", "user")
	}
	u.Grants, err = tx.grantsOf(ctx, id)
	return u, err
}

func (tx *Tx) grantsOf(ctx context.Context, userID string) ([]casework.Grant, error) {
	rows, err := tx.Query(ctx, `SELECT g.id, g.user_id, g.role, g.org_id, o.path, o.name FROM grants g JOIN orgs o ON o.id = g.org_id
		WHERE g.user_id = ? ORDER BY o.path, g.role`, userID)
	if err != nil {
		return nil, fmt.Errorf("load grants: %w", err)
	}
	defer rows.Close()
	var gs []casework.Grant
	for rows.Next() {
		var g casework.Grant
		var role string
		if err := rows.Scan(&g.ID, &g.UserID, &role, &g.OrgID, &g.OrgPath, &g.OrgName); err != nil {
			return nil, err
		}
		g.Role = casework.Role(role)
		gs = append(gs, g)
	}
	return gs, rows.Err()
}

// userFor loads a user the actor may manage (PermManageUsers at the user's
// home org), or the actor's own account when self is allowed.
func (tx *Tx) userFor(ctx context.Context, actor *casework.Actor, id string, self bool) (*casework.User, error) {
	u, err := tx.userByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if self && id == actor.UserID {
		return u, nil
	}
	if !actor.Can(casework.PermManageUsers, u.OrgPath) {
		return nil, casework.NotFound("用户", "user")
	}
	return u, nil
}

// GetUser returns a user the actor manages, or the actor's own account.
func (db *DB) GetUser(ctx context.Context, actor *casework.Actor, id string) (*casework.User, error) {
	var u *casework.User
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		u, err = tx.userFor(ctx, actor, id, true)
		return err
	})
	return u, err
}

// UserFilter selects users.
type UserFilter struct {
	Query  string // part of the username or display name
	OrgID  string // home org in this subtree
	Role   casework.Role
	Offset int
	Limit  int
}

// ListUsers returns the users whose home org is in the actor's
// PermManageUsers scope.
func (db *DB) ListUsers(ctx context.Context, actor *casework.Actor, f UserFilter) ([]*casework.User, int, error) {
	var out []*casework.User
	var total int
	err := db.Read(ctx, func(tx *Tx) error {
		scope, args := scopeClause("o.path", actor.Scope(casework.PermManageUsers))
		where := []string{scope}
		if q := strings.TrimSpace(f.Query); q != "" {
			where = append(where, `(u.username LIKE ? ESCAPE '\' OR u.display_name LIKE ? ESCAPE '\')`)
			args = append(args, likeContains(strings.ToLower(q)), likeContains(q))
		}
		if f.OrgID != "" {
			org, err := tx.orgFor(ctx, actor, casework.PermManageUsers, f.OrgID)
			if err != nil {
				return err
			}
			where, args = append(where, `o.path LIKE ? ESCAPE '\'`), append(args, likePrefix(org.Path))
		}
		if f.Role != "" {
			where, args = append(where, `EXISTS (SELECT 1 FROM grants g WHERE g.user_id = u.id AND g.role = ?)`), append(args, string(f.Role))
		}
		from := ` FROM users u JOIN orgs o ON o.id = u.org_id WHERE ` + strings.Join(where, " AND ")
		if err := tx.QueryRow(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
			return fmt.Errorf("count users: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT `+userColumns+from+` ORDER BY u.username LIMIT ? OFFSET ?`, append(args, clampLimit(f.Limit), max(f.Offset, 0))...)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, u := range out {
			if u.Grants, err = tx.grantsOf(ctx, u.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, total, err
}

// CreateUser adds a staff account at in.OrgID with an already hashed
// password. PermManageUsers at that org.
func (db *DB) CreateUser(ctx context.Context, actor *casework.Actor, in casework.UserInput, passwordHash string, mustChange bool) (*casework.User, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var u *casework.User
	err := db.Write(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermManageUsers, in.OrgID)
		if err != nil {
			return err
		}
		if org.Retired {
			return casework.Errorf(casework.ECONFLICT, "机构“%s”已撤销", "org %q is retired", org.Name)
		}
		id := NewID()
		_, err = tx.Exec(ctx, `INSERT INTO users (id, username, display_name, org_id, sex, phone, password_hash, must_change_password, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, in.Username, in.DisplayName, in.OrgID, in.Sex, in.Phone, passwordHash, mustChange, tx.now, tx.now)
		if errors.Is(err, ErrUnique) {
			return casework.Invalid("username", "用户名“%s”已被使用", "username %q is taken", in.Username)
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		if u, err = tx.userByID(ctx, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "user.create", TargetType: "user", TargetID: id, OrgID: in.OrgID,
			Detail: map[string]any{"username": in.Username}})
	})
	return u, err
}

// GrantRole gives a user a role at an org. The actor needs PermManageUsers
// over the user's home org and over the granted org.
func (db *DB) GrantRole(ctx context.Context, actor *casework.Actor, userID string, role casework.Role, orgID string) (*casework.Grant, error) {
	if !role.Valid() {
		return nil, casework.Invalid("role", "未知角色 %q", "unknown role %q", string(role))
	}
	var g *casework.Grant
	err := db.Write(ctx, func(tx *Tx) error {
		u, err := tx.userFor(ctx, actor, userID, false)
		if err != nil {
			return err
		}
		org, err := tx.orgFor(ctx, actor, casework.PermManageUsers, orgID)
		if err != nil {
			return err
		}
		id := NewID()
		_, err = tx.Exec(ctx, `INSERT INTO grants (id, user_id, role, org_id, created_at) VALUES (?, ?, ?, ?, ?)`, id, u.ID, string(role), org.ID, tx.now)
		if errors.Is(err, ErrUnique) {
			return casework.Errorf(casework.ECONFLICT, "%s 已拥有“%s”的该角色", "%s already holds that role at %q", u.Username, org.Name)
		}
		if err != nil {
			return fmt.Errorf("insert grant: %w", err)
		}
		g = &casework.Grant{ID: id, UserID: u.ID, Role: role, OrgID: org.ID, OrgPath: org.Path, OrgName: org.Name}
		return tx.Audit(ctx, actor, AuditEntry{Action: "user.grant", TargetType: "user", TargetID: u.ID, OrgID: org.ID,
			Detail: map[string]any{"role": role, "org": org.Name, "username": u.Username}})
	})
	return g, err
}

// RevokeGrant removes a grant; the same checks as GrantRole.
func (db *DB) RevokeGrant(ctx context.Context, actor *casework.Actor, grantID string) error {
	return db.Write(ctx, func(tx *Tx) error {
		var userID, orgID, role string
		err := tx.QueryRow(ctx, `SELECT user_id, org_id, role FROM grants WHERE id = ?`, grantID).Scan(&userID, &orgID, &role)
		if err != nil {
			return notFound(err, "授权", "grant")
		}
		u, err := tx.userFor(ctx, actor, userID, false)
		if err != nil {
			return err
		}
		if _, err := tx.orgFor(ctx, actor, casework.PermManageUsers, orgID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM grants WHERE id = ?`, grantID); err != nil {
			return fmt.Errorf("delete grant: %w", err)
		}
		// A revoked role takes effect at once: end the user's sessions.
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, tx.now, u.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "user.revoke", TargetType: "user", TargetID: u.ID, OrgID: orgID,
			Detail: map[string]any{"role": role, "username": u.Username}})
	})
}

// SetPassword replaces a password hash. For the actor's own account or one
// it manages; ends the user's other sessions.
func (db *DB) SetPassword(ctx context.Context, actor *casework.Actor, userID, hash string, mustChange bool, keepSession string) error {
	return db.Write(ctx, func(tx *Tx) error {
		u, err := tx.userFor(ctx, actor, userID, true)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, must_change_password = ?, failed_logins = 0, locked_until = NULL, updated_at = ? WHERE id = ?`,
			hash, mustChange, tx.now, u.ID); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND token_hash <> ?`, tx.now, u.ID, keepSession); err != nil {
			return err
		}
		action := "user.reset_password"
		if userID == actor.UserID {
			action = "account.change_password"
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: action, TargetType: "user", TargetID: u.ID, OrgID: u.OrgID})
	})
}

// SetDisabled disables or re-enables an account; disabling ends its sessions.
func (db *DB) SetDisabled(ctx context.Context, actor *casework.Actor, userID string, disabled bool, reason string) error {
	return db.Write(ctx, func(tx *Tx) error {
		u, err := tx.userFor(ctx, actor, userID, false)
		if err != nil {
			return err
		}
		if userID == actor.UserID && disabled {
			return casework.Errorf(casework.ECONFLICT, "不能停用自己的账号", "you cannot disable your own account")
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET disabled = ?, failed_logins = 0, locked_until = NULL, updated_at = ? WHERE id = ?`, disabled, tx.now, u.ID); err != nil {
			return err
		}
		if disabled {
			if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, tx.now, u.ID); err != nil {
				return err
			}
		}
		action := "user.enable"
		if disabled {
			action = "user.disable"
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: action, TargetType: "user", TargetID: u.ID, OrgID: u.OrgID, Reason: reason})
	})
}

// SetLang records the account's preferred language.
func (db *DB) SetLang(ctx context.Context, actor *casework.Actor, lang string) error {
	if lang != "zh" && lang != "en" {
		return casework.Invalid("lang", "语言应为 zh 或 en", "lang must be zh or en")
	}
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE users SET lang = ?, updated_at = ? WHERE id = ?`, lang, tx.now, actor.UserID)
		return err
	})
}

// SetTOTPExempt marks an account as not needing a second factor. Only the
// demo loader calls it (demo accounts, issue 2 §9).
func (db *DB) SetTOTPExempt(ctx context.Context, actor *casework.Actor, userID string, exempt bool) error {
	if !actor.System {
		return casework.Errorf(casework.EFORBIDDEN, "仅限命令行", "command line only")
	}
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE users SET totp_exempt = ? WHERE id = ?`, exempt, userID)
		return err
	})
}

// UserIDByName finds an account id by username, for the command line.
func (db *DB) UserIDByName(ctx context.Context, username string) (string, error) {
	var id string
	err := db.Read(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `SELECT id FROM users WHERE username = ?`, strings.ToLower(strings.TrimSpace(username))).Scan(&id)
	})
	return id, notFound(err, "用户", "user")
}
