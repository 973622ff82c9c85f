package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"kangfu/internal/casework"
)

const orgColumns = `o.id, COALESCE(o.parent_id, ''), o.path, o.kind, o.name, o.area_code, o.time_zone, o.geofence, o.retired, o.created_at, o.updated_at`

func scanOrg(sc interface{ Scan(...any) error }) (*casework.Org, error) {
	var o casework.Org
	var kind, fence string
	if err := sc.Scan(&o.ID, &o.ParentID, &o.Path, &kind, &o.Name, &o.AreaCode, &o.TimeZone, &fence, &o.Retired, &o.CreatedAt, &o.UpdatedAt); err != nil {
		return nil, err
	}
	o.Kind = casework.OrgKind(kind)
	if fence != "" {
		g, err := casework.ParseGeofence(fence)
		if err != nil {
			return nil, fmt.Errorf("stored geofence of org %s: %w", o.ID, err)
		}
		o.Geofence = g
	}
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return &o, nil
}

// orgByID loads an org without any scope check; callers check.
func (tx *Tx) orgByID(ctx context.Context, id string) (*casework.Org, error) {
	o, err := scanOrg(tx.QueryRow(ctx, `SELECT `+orgColumns+` FROM orgs o WHERE o.id = ?`, id))
	if err != nil {
		return nil, notFound(err, "机构", "organisation")
	}
	return o, nil
}

// orgFor loads an org the actor holds perm at; anything else is not found.
func (tx *Tx) orgFor(ctx context.Context, actor *casework.Actor, perm casework.Perm, id string) (*casework.Org, error) {
	if id == "" {
		return nil, casework.NotFound("机构", "organisation")
	}
	o, err := tx.orgByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !actor.Can(perm, o.Path) {
		if actor.Can(casework.PermViewOrgs, o.Path) {
			return nil, casework.Errorf(casework.EFORBIDDEN, "您没有权限管理“%s”", "you may not manage %q", o.Name)
		}
		return nil, casework.NotFound("机构", "organisation")
	}
	return o, nil
}

// GetOrg returns an org in the actor's view scope. ENOTFOUND otherwise.
func (db *DB) GetOrg(ctx context.Context, actor *casework.Actor, id string) (*casework.Org, error) {
	var o *casework.Org
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		o, err = tx.orgFor(ctx, actor, casework.PermViewOrgs, id)
		return err
	})
	return o, err
}

// OrgFilter selects orgs.
type OrgFilter struct {
	UnderID        string // only this node's subtree (itself included)
	IncludeRetired bool
}

// ListOrgs returns the orgs in the actor's view scope, ordered as a tree.
func (db *DB) ListOrgs(ctx context.Context, actor *casework.Actor, f OrgFilter) ([]*casework.Org, error) {
	var out []*casework.Org
	err := db.Read(ctx, func(tx *Tx) error {
		scope, args := scopeClause("o.path", actor.Scope(casework.PermViewOrgs))
		q := `SELECT ` + orgColumns + ` FROM orgs o WHERE ` + scope
		if f.UnderID != "" {
			under, err := tx.orgFor(ctx, actor, casework.PermViewOrgs, f.UnderID)
			if err != nil {
				return err
			}
			q += ` AND o.path LIKE ? ESCAPE '\'`
			args = append(args, likePrefix(under.Path))
		}
		if !f.IncludeRetired {
			q += ` AND NOT o.retired`
		}
		rows, err := tx.Query(ctx, q+` ORDER BY o.path`, args...)
		if err != nil {
			return fmt.Errorf("list orgs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			o, err := scanOrg(rows)
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		return rows.Err()
	})
	sortTree(out)
	return out, err
}

// sortTree orders orgs depth-first with siblings by name. Paths are made of
// ids, so ordering by path alone would order siblings by creation.
func sortTree(orgs []*casework.Org) {
	byID := map[string]*casework.Org{}
	for _, o := range orgs {
		byID[o.ID] = o
	}
	key := map[string]string{}
	var k func(o *casework.Org) string
	k = func(o *casework.Org) string {
		if s, ok := key[o.ID]; ok {
			return s
		}
		s := o.Name + "\x00" + o.ID
		if p, ok := byID[o.ParentID]; ok {
			s = k(p) + "\x01" + s
		}
		key[o.ID] = s
		return s
	}
	for _, o := range orgs {
		k(o)
	}
	slices.SortStableFunc(orgs, func(a, b *casework.Org) int { return strings.Compare(key[a.ID], key[b.ID]) })
}

// CreateOrg adds a node under in.ParentID; a root (no parent) only from the
// command line. The actor needs PermManageOrgs at the parent.
func (db *DB) CreateOrg(ctx context.Context, actor *casework.Actor, in casework.OrgInput) (*casework.Org, error) {
	fence, err := in.Validate()
	if err != nil {
		return nil, err
	}
	var o *casework.Org
	err = db.Write(ctx, func(tx *Tx) error {
		id := NewID()
		path := "/" + id + "/"
		if in.ParentID != "" {
			parent, err := tx.orgFor(ctx, actor, casework.PermManageOrgs, in.ParentID)
			if err != nil {
				return err
			}
			if parent.Retired {
				return casework.Errorf(casework.ECONFLICT, "上级机构“%s”已撤销", "parent %q is retired", parent.Name)
			}
			if in.Kind.Level() <= parent.Kind.Level() {
				return casework.Invalid("kind", "下级机构的层级必须低于上级（%s）", "a child must be of a lower level than its parent (%s)", parent.Kind)
			}
			path = parent.Path + id + "/"
			if err := tx.checkSiblingName(ctx, parent.ID, "", in.Name); err != nil {
				return err
			}
		} else if !actor.System {
			return casework.Errorf(casework.EFORBIDDEN, "只能在命令行创建顶级机构", "a root org can only be created from the command line")
		}
		var parentID any
		if in.ParentID != "" {
			parentID = in.ParentID
		}
		_, err := tx.Exec(ctx, `INSERT INTO orgs (id, parent_id, path, kind, name, area_code, time_zone, geofence, retired, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, parentID, path, string(in.Kind), in.Name, in.AreaCode, in.TimeZone, fence.String(), false, tx.now, tx.now)
		if err != nil {
			return fmt.Errorf("insert org: %w", err)
		}
		if o, err = tx.orgByID(ctx, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "org.create", TargetType: "org", TargetID: id, OrgID: id,
			Detail: map[string]any{"name": in.Name, "kind": in.Kind, "parent_id": in.ParentID}})
	})
	return o, err
}

func (tx *Tx) checkSiblingName(ctx context.Context, parentID, selfID, name string) error {
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM orgs WHERE parent_id = ? AND name = ? AND id <> ? AND NOT retired`, parentID, name, selfID).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return casework.Invalid("name", "同一上级下已有名为“%s”的机构", "the parent already has a child named %q", name)
	}
	return nil
}

// OrgUpdate changes the named fields of an org; nil fields stay.
type OrgUpdate struct {
	Name     *string
	AreaCode *string
	TimeZone *string
	Geofence *string
}

// UpdateOrg renames or edits a node. PermManageOrgs at the node.
func (db *DB) UpdateOrg(ctx context.Context, actor *casework.Actor, id string, up OrgUpdate) (*casework.Org, error) {
	var o *casework.Org
	err := db.Write(ctx, func(tx *Tx) error {
		cur, err := tx.orgFor(ctx, actor, casework.PermManageOrgs, id)
		if err != nil {
			return err
		}
		in := casework.OrgInput{ParentID: cur.ParentID, Kind: cur.Kind, Name: cur.Name, AreaCode: cur.AreaCode, TimeZone: cur.TimeZone, Geofence: cur.Geofence.String()}
		changed := map[string]any{}
		set := func(dst *string, src *string, field string) {
			if src != nil && *src != *dst {
				changed[field] = map[string]string{"from": *dst, "to": *src}
				*dst = *src
			}
		}
		set(&in.Name, up.Name, "name")
		set(&in.AreaCode, up.AreaCode, "area_code")
		set(&in.TimeZone, up.TimeZone, "time_zone")
		set(&in.Geofence, up.Geofence, "geofence")
		fence, err := in.Validate()
		if err != nil {
			return err
		}
		if cur.ParentID != "" && in.Name != cur.Name {
			if err := tx.checkSiblingName(ctx, cur.ParentID, cur.ID, in.Name); err != nil {
				return err
			}
		}
		if len(changed) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE orgs SET name = ?, area_code = ?, time_zone = ?, geofence = ?, updated_at = ? WHERE id = ?`,
				in.Name, in.AreaCode, in.TimeZone, fence.String(), tx.now, id); err != nil {
				return fmt.Errorf("update org: %w", err)
			}
			if err := tx.Audit(ctx, actor, AuditEntry{Action: "org.update", TargetType: "org", TargetID: id, OrgID: id, Detail: changed}); err != nil {
				return err
			}
		}
		o, err = tx.orgByID(ctx, id)
		return err
	})
	return o, err
}

// MoveOrg moves a node and its subtree under a new parent. The actor needs
// PermManageOrgs at the node and at the new parent.
func (db *DB) MoveOrg(ctx context.Context, actor *casework.Actor, id, newParentID string) (*casework.Org, error) {
	var o *casework.Org
	err := db.Write(ctx, func(tx *Tx) error {
		cur, err := tx.orgFor(ctx, actor, casework.PermManageOrgs, id)
		if err != nil {
			return err
		}
		if cur.ParentID == "" {
			return casework.Errorf(casework.ECONFLICT, "顶级机构不能移动", "a root org cannot be moved")
		}
		parent, err := tx.orgFor(ctx, actor, casework.PermManageOrgs, newParentID)
		if err != nil {
			return err
		}
		if strings.HasPrefix(parent.Path, cur.Path) {
			return casework.Invalid("parent_id", "不能把机构移到它自己或它的下级之下", "an org cannot move under itself or its own subtree")
		}
		if parent.Retired {
			return casework.Errorf(casework.ECONFLICT, "上级机构“%s”已撤销", "parent %q is retired", parent.Name)
		}
		if cur.Kind.Level() <= parent.Kind.Level() {
			return casework.Invalid("parent_id", "新上级的层级必须高于本机构", "the new parent must be of a higher level than the org")
		}
		if err := tx.checkSiblingName(ctx, parent.ID, cur.ID, cur.Name); err != nil {
			return err
		}
		newPath := parent.Path + cur.ID + "/"
		// Rewrite the path prefix of the whole subtree in one statement.
		if _, err := tx.Exec(ctx, `UPDATE orgs SET path = ? || substr(path, ?), updated_at = ? WHERE path LIKE ? ESCAPE '\'`,
			newPath, len(cur.Path)+1, tx.now, likePrefix(cur.Path)); err != nil {
			return fmt.Errorf("move subtree: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE orgs SET parent_id = ? WHERE id = ?`, parent.ID, cur.ID); err != nil {
			return fmt.Errorf("move org: %w", err)
		}
		if o, err = tx.orgByID(ctx, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "org.move", TargetType: "org", TargetID: id, OrgID: id,
			Detail: map[string]any{"from_parent": cur.ParentID, "to_parent": parent.ID}})
	})
	return o, err
}

// peopleUnder counts staff accounts and grants, and persons once they
// exist, in the subtree at path: a node with people under it stays.
func (tx *Tx) peopleUnder(ctx context.Context, path string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM users u JOIN orgs o ON o.id = u.org_id WHERE o.path LIKE ? ESCAPE '\' AND NOT u.disabled) +
		(SELECT COUNT(*) FROM grants g JOIN orgs o ON o.id = g.org_id JOIN users u ON u.id = g.user_id WHERE o.path LIKE ? ESCAPE '\' AND NOT u.disabled)`,
		likePrefix(path), likePrefix(path)).Scan(&n)
	return n, err
}

// RetireOrg marks a node and its subtree retired (hidden from pickers, kept
// for history). Refused while people are under it.
func (db *DB) RetireOrg(ctx context.Context, actor *casework.Actor, id, reason string) error {
	return db.Write(ctx, func(tx *Tx) error {
		cur, err := tx.orgFor(ctx, actor, casework.PermManageOrgs, id)
		if err != nil {
			return err
		}
		if strings.TrimSpace(reason) == "" {
			return casework.Invalid("reason", "请填写撤销原因", "a reason is required")
		}
		if err := casework.CheckText("reason", reason, casework.MaxReason); err != nil {
			return err
		}
		n, err := tx.peopleUnder(ctx, cur.Path)
		if err != nil {
			return err
		}
		if n > 0 {
			return casework.Errorf(casework.ECONFLICT, "“%s”下仍有%d名人员或授权，不能撤销", "%q still has %d people or grants under it and cannot be retired", cur.Name, n)
		}
		if _, err := tx.Exec(ctx, `UPDATE orgs SET retired = ?, updated_at = ? WHERE path LIKE ? ESCAPE '\'`, true, tx.now, likePrefix(cur.Path)); err != nil {
			return fmt.Errorf("retire org: %w", err)
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "org.retire", TargetType: "org", TargetID: id, OrgID: id, Reason: reason})
	})
}

// DeleteOrg removes a leaf node with nobody under it and no history.
func (db *DB) DeleteOrg(ctx context.Context, actor *casework.Actor, id, reason string) error {
	return db.Write(ctx, func(tx *Tx) error {
		cur, err := tx.orgFor(ctx, actor, casework.PermManageOrgs, id)
		if err != nil {
			return err
		}
		if strings.TrimSpace(reason) == "" {
			return casework.Invalid("reason", "请填写删除原因", "a reason is required")
		}
		if err := casework.CheckText("reason", reason, casework.MaxReason); err != nil {
			return err
		}
		var children int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM orgs WHERE parent_id = ?`, id).Scan(&children); err != nil {
			return err
		}
		if children > 0 {
			return casework.Errorf(casework.ECONFLICT, "“%s”有下级机构，不能删除", "%q has child orgs and cannot be deleted", cur.Name)
		}
		n, err := tx.peopleUnder(ctx, cur.Path)
		if err != nil {
			return err
		}
		if n > 0 {
			return casework.Errorf(casework.ECONFLICT, "“%s”下仍有%d名人员或授权，不能删除", "%q still has %d people or grants under it and cannot be deleted", cur.Name, n)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM orgs WHERE id = ?`, id); err != nil {
			if errors.Is(err, ErrForeignKey) {
				return casework.Errorf(casework.ECONFLICT, "“%s”仍被其他记录引用，不能删除（可改为撤销）", "%q is still referenced by other records; retire it instead", cur.Name)
			}
			return fmt.Errorf("delete org: %w", err)
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "org.delete", TargetType: "org", TargetID: id, OrgID: cur.ParentID, Reason: reason,
			Detail: map[string]any{"name": cur.Name}})
	})
}
