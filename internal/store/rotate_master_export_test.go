package store

import "context"

// RekeyAuditFrom rebuilds the chain from row seq on with this DB's audit
// key, as a writer holding the key could: tests forge rows with it.
func RekeyAuditFrom(ctx context.Context, tx *Tx, seq int64) error {
	rows, err := tx.Query(ctx, `SELECT seq, id, at, actor_id, actor_name, ip, action, target_type, target_id, org_id, org_path, reason, detail, prev_hash, hash
		FROM audit_log WHERE seq >= ? ORDER BY seq`, seq)
	if err != nil {
		return err
	}
	var rs []AuditRecord
	for rows.Next() {
		var r AuditRecord
		if err := rows.Scan(&r.Seq, &r.ID, &r.At, &r.ActorID, &r.ActorName, &r.IP, &r.Action, &r.TargetType, &r.TargetID,
			&r.OrgID, &r.OrgPath, &r.Reason, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
			rows.Close()
			return err
		}
		rs = append(rs, r)
	}
	rows.Close()
	prev := ""
	if len(rs) > 0 {
		prev = rs[0].PrevHash
	}
	for _, r := range rs {
		r.PrevHash = prev
		r.Hash = chainHash(tx.db.keys.Audit, &r)
		if _, err := tx.Exec(ctx, `UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?`, r.PrevHash, r.Hash, r.Seq); err != nil {
			return err
		}
		prev = r.Hash
		seq = r.Seq
	}
	_, err = tx.Exec(ctx, `UPDATE audit_head SET seq = ?, hash = ?, mac = ? WHERE id = 1`, seq, prev, headMAC(tx.db.keys.Audit, seq, prev))
	return err
}
