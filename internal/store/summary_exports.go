package store

// summary_exports.go: the scheduled monthly exports (issue 12 §5): each
// office's monthly summary written as an .xlsx into a folder. The store
// says which orgs get one and which months are done; a row per org and
// month makes a re-run write nothing twice, and months missed while no
// server ran are caught up from the rows that are absent.

import (
	"context"
	"fmt"

	"kangfu/internal/casework"
)

// ExportOrgs returns the orgs an office works at (an active office
// grant), not retired: each gets its monthly summary.
func (db *DB) ExportOrgs(ctx context.Context) ([]*casework.Org, error) {
	var out []*casework.Org
	err := db.Read(ctx, func(tx *Tx) error {
		ids, err := scanStrings(tx.Query(ctx, `SELECT DISTINCT g.org_id FROM grants g JOIN users u ON u.id = g.user_id JOIN orgs o ON o.id = g.org_id
			WHERE g.role = ? AND u.disabled = ? AND o.retired = ? ORDER BY g.org_id`, string(casework.RoleOffice), false, false))
		if err != nil {
			return err
		}
		for _, id := range ids {
			o, err := tx.orgByID(ctx, id)
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	return out, err
}

// ScheduledExportDone reports whether an org's month was written.
func (db *DB) ScheduledExportDone(ctx context.Context, orgID, month string) (bool, error) {
	var n int
	err := db.Read(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM scheduled_exports WHERE org_id = ? AND month = ?`, orgID, month).Scan(&n)
	})
	return n > 0, err
}

// RecordScheduledExport records that an org's month was written to file
// and audits it as an export by the system actor. A second record of the
// same org and month changes nothing (false).
func (db *DB) RecordScheduledExport(ctx context.Context, actor *casework.Actor, orgID, month, file, sha string, size int) (bool, error) {
	done := false
	err := db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO scheduled_exports (org_id, month, file, sha256, bytes, written_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, month) DO NOTHING`, orgID, month, file, sha, size, tx.now)
		if err != nil {
			return fmt.Errorf("record export: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		done = true
		return tx.Audit(ctx, actor, AuditEntry{Action: "summary.scheduled_export", TargetType: "org", TargetID: orgID, OrgID: orgID,
			Detail: map[string]any{"period": month, "format": "xlsx", "file": file, "sha256": sha, "bytes": size}})
	})
	return done, err
}
