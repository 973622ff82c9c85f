package store

import (
	"context"
	"strings"

	"kangfu/internal/casework"
)

// StaffRef names a staff member for a picker.
type StaffRef struct {
	ID      string
	Name    string
	Role    casework.Role
	OrgName string
}

// ListStaff returns the active staff holding one of the roles at a node
// that covers the org or lies under it — the people who can be made
// responsible there. The actor must read persons at the org, or handle
// transfers into it.
func (db *DB) ListStaff(ctx context.Context, actor *casework.Actor, orgID string, roles ...casework.Role) ([]StaffRef, error) {
	var out []StaffRef
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgByID(ctx, orgID)
		if err != nil {
			return err
		}
		if !actor.Can(casework.PermReadPersons, org.Path) && !actor.Can(casework.PermTransfer, org.Path) {
			return casework.NotFound("机构", "organisation")
		}
		if len(roles) == 0 {
			roles = []casework.Role{casework.RoleWorker}
		}
		ph := make([]string, len(roles))
		args := []any{org.Path, likePrefix(org.Path)}
		for i, r := range roles {
			ph[i], args = "?", append(args, string(r))
		}
		rows, err := tx.Query(ctx, `SELECT DISTINCT u.id, u.display_name, g.role, o.name FROM grants g JOIN users u ON u.id = g.user_id JOIN orgs o ON o.id = g.org_id
			WHERE NOT u.disabled AND (? LIKE o.path || '%' OR o.path LIKE ? ESCAPE '\') AND g.role IN (`+strings.Join(ph, ", ")+`)
			ORDER BY o.name, u.display_name`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s StaffRef
			var role string
			if err := rows.Scan(&s.ID, &s.Name, &role, &s.OrgName); err != nil {
				return err
			}
			s.Role = casework.Role(role)
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, err
}
