package store

import (
	"context"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

// OrgYear is an org's population and staffing for a year (issue 12 §3),
// entered by an office for the yearly work summary.
type OrgYear struct {
	casework.OrgYearInput
	OrgName       string
	UpdatedByName string
	UpdatedAt     time.Time
}

// SetOrgYear records (or replaces) an org's population and staffing for a
// year. The org must be in the actor's PermEditOrgYears scope (else not
// found if unseen, forbidden if only seen).
func (db *DB) SetOrgYear(ctx context.Context, actor *casework.Actor, in casework.OrgYearInput) (*OrgYear, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		org, err := tx.orgByID(ctx, in.OrgID)
		if err != nil || !actor.Can(casework.PermViewOrgs, org.Path) {
			return casework.NotFound("机构", "organisation")
		}
		if !actor.Can(casework.PermEditOrgYears, org.Path) {
			return casework.Errorf(casework.EFORBIDDEN, "只有禁毒办可以填写人口和人员配备", "only an office may enter population and staffing")
		}
		if err := in.Validate(tx.today(org)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO org_years (org_id, year, population, specialists, social_workers, police, counsellors, others, note,
			updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, year) DO UPDATE SET population = excluded.population, specialists = excluded.specialists,
			social_workers = excluded.social_workers, police = excluded.police, counsellors = excluded.counsellors, others = excluded.others,
			note = excluded.note, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			org.ID, in.Year, in.Population, in.Specialists, in.SocialWorkers, in.Police, in.Counsellors, in.Others, in.Note, actorID(actor), tx.now); err != nil {
			return fmt.Errorf("save org year: %w", err)
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "org.year", TargetType: "org", TargetID: org.ID, OrgID: org.ID,
			Detail: map[string]any{"year": in.Year, "population": in.Population, "workers": in.Workers()}})
	})
	if err != nil {
		return nil, err
	}
	list, err := db.ListOrgYears(ctx, actor, in.OrgID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Year == in.Year {
			return &list[i], nil
		}
	}
	return nil, casework.NotFound("年度数据", "year")
}

// ListOrgYears lists an org's years, newest first; an org outside the
// actor's PermViewOrgs scope is not found. The summary of year Y reads the
// row of Y (OrgYearFor).
func (db *DB) ListOrgYears(ctx context.Context, actor *casework.Actor, orgID string) ([]OrgYear, error) {
	var out []OrgYear
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgByID(ctx, orgID)
		if err != nil || !actor.Can(casework.PermViewOrgs, org.Path) {
			return casework.NotFound("机构", "organisation")
		}
		rows, err := tx.Query(ctx, `SELECT y.org_id, o.name, y.year, y.population, y.specialists, y.social_workers, y.police, y.counsellors, y.others,
			y.note, COALESCE(u.display_name, ''), y.updated_at FROM org_years y JOIN orgs o ON o.id = y.org_id LEFT JOIN users u ON u.id = y.updated_by
			WHERE y.org_id = ? ORDER BY y.year DESC`, orgID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var y OrgYear
			if err := rows.Scan(&y.OrgID, &y.OrgName, &y.Year, &y.Population, &y.Specialists, &y.SocialWorkers, &y.Police, &y.Counsellors, &y.Others,
				&y.Note, &y.UpdatedByName, &y.UpdatedAt); err != nil {
				return err
			}
			y.UpdatedAt = y.UpdatedAt.UTC()
			out = append(out, y)
		}
		return rows.Err()
	})
	return out, err
}

// OrgYearFor returns an org's population and staffing for a year, or
// ENOTFOUND when none was entered (the reports engine shows "not entered").
func (db *DB) OrgYearFor(ctx context.Context, actor *casework.Actor, orgID string, year int) (*OrgYear, error) {
	list, err := db.ListOrgYears(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Year == year {
			return &list[i], nil
		}
	}
	return nil, casework.NotFound("该年度的人口和人员配备", "population and staffing of that year")
}
