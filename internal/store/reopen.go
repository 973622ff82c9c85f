package store

// reopen.go: reopening a sealed file for a new measure (R38; 解除封存).
//
// A person whose file was sealed (retention.go) may years later get a new
// measure (a relapse, a new 社区戒毒 decision). One person keeps one file
// (一人一档): a worker who tries to open a new file with the ID number gets
// the ordinary referral answer (id_query.go), and the holder's office is
// asked to record the statutory basis. With a statutory query in force
// (RecordStatutoryQuery) the office reopens the file, citing the new
// decision; the file is an ordinary file again (its devices stay retired),
// and the places that asked are told they may proceed — by a transfer to
// their place, then the new measure on the person's page. Nothing else
// unseals a file.

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"

	"kangfu/internal/casework"
)

// ReopenGrace is how long a reopened file waits for its new measure: the
// nightly sealing leaves it open until a measure is added after the
// reopening (then it is sealed when that one ends and its retention
// passes), or, when none comes, until ReopenGrace has passed — the old
// measure's end then seals it again (R38).
const ReopenGrace = 90 * 24 * time.Hour

// NoticeSealedIDQuery is the kind of the notice asking the holder's office
// to reopen a sealed file; the bell shows it although the file is sealed.
const NoticeSealedIDQuery = "person.sealed_id_query"

// NoticeUnsealed is the kind of the notice telling an asking place that the
// file was reopened.
const NoticeUnsealed = "person.unsealed"

// ReopenSealed reopens the sealed file of the statutory query queryID for
// a new measure (R38). Only the office user who recorded the query, while
// it is in force, may; the legal basis (the new decision's number) and the
// reason are required. The reopening is audited with the query id; every
// place that asked for a file with the ID number since it was sealed is
// notified. A file no longer sealed is refused (ECONFLICT).
func (db *DB) ReopenSealed(ctx context.Context, actor *casework.Actor, queryID string, in casework.ReopenInput) (*StatutoryQuery, error) {
	if !actor.CanAnywhere(casework.PermStatutoryQuery) {
		return nil, casework.Errorf(casework.EFORBIDDEN, "只有禁毒办可以解除封存", "only the anti-drug office reopens sealed files")
	}
	if err := in.Check(); err != nil {
		return nil, err
	}
	var q *StatutoryQuery
	err := db.Write(ctx, func(tx *Tx) error {
		var org *casework.Org
		var err error
		if q, org, err = tx.ownStatutoryQuery(ctx, actor, queryID); err != nil {
			return err
		}
		if !tx.now.Before(q.ExpiresAt) {
			return errReopenExpired
		}
		var sealedAt sql.NullTime
		var holderOrg, idMasked string
		if err := tx.QueryRow(ctx, `SELECT sealed_at, org_id, id_masked FROM persons WHERE id = ?`, q.PersonID).Scan(&sealedAt, &holderOrg, &idMasked); err != nil {
			return notFound(err, "人员档案", "person")
		}
		if !sealedAt.Valid {
			return errNotSealed
		}
		res, err := tx.Exec(ctx, `UPDATE persons SET sealed_at = NULL, unsealed_at = ?, updated_at = ? WHERE id = ? AND sealed_at IS NOT NULL`, tx.now, tx.now, q.PersonID)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return errNotSealed
		}
		// Back in name search (sealing removed its grams).
		if err := tx.writeGrams(ctx, q.PersonID, q.PersonName); err != nil {
			return err
		}
		if err := tx.Audit(ctx, actor, AuditEntry{Action: "person.unseal", TargetType: "person", TargetID: q.PersonID, OrgID: holderOrg,
			Reason: in.Reason, Detail: map[string]any{"statutory_query_id": q.ID, "legal_basis": in.LegalBasis,
				"sealed_at": sealedAt.Time.UTC().Format("2006-01-02T15:04:05Z")}}); err != nil {
			return err
		}
		return tx.notifyAskers(ctx, q.PersonID, holderOrg, org.Name, idMasked, sealedAt.Time)
	})
	if err != nil {
		return nil, err
	}
	db.app().forgetPerson(q.PersonID)
	return q, nil
}

var errReopenExpired = casework.Errorf(casework.EFORBIDDEN, "该法定查询已过期：请重新登记法定查询后再解除封存",
	"this statutory query has expired: record a new one to reopen the file")

// ownStatutoryQuery is the statutory query id as its recorder sees it: any
// other user, or one who no longer holds the permission over its place,
// does not find it.
func (tx *Tx) ownStatutoryQuery(ctx context.Context, actor *casework.Actor, id string) (*StatutoryQuery, *casework.Org, error) {
	q, err := scanStatutory(tx.QueryRow(ctx, `SELECT `+statutoryColumns+statutoryFrom+` WHERE sq.id = ?`, id))
	if err != nil {
		return nil, nil, notFound(err, "法定查询", "statutory query")
	}
	org, err := tx.orgByID(ctx, q.OrgID)
	if err != nil {
		return nil, nil, err
	}
	if q.ActorID != actor.UserID || !actor.Can(casework.PermStatutoryQuery, org.Path) {
		return nil, nil, casework.NotFound("法定查询", "statutory query")
	}
	return q, org, nil
}

// ReopenableQuery is the statutory query id for the reopening form: its
// recorder's, in force, of a file still sealed. Not a reading of the file
// (the form shows the name the query log already shows), so not audited.
func (db *DB) ReopenableQuery(ctx context.Context, actor *casework.Actor, id string) (*StatutoryQuery, error) {
	var q *StatutoryQuery
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		if q, _, err = tx.ownStatutoryQuery(ctx, actor, id); err != nil {
			return err
		}
		if !tx.now.Before(q.ExpiresAt) {
			return errReopenExpired
		}
		var sealed sql.NullTime
		if err := tx.QueryRow(ctx, `SELECT sealed_at FROM persons WHERE id = ?`, q.PersonID).Scan(&sealed); err != nil {
			return err
		}
		if !sealed.Valid {
			return errNotSealed
		}
		return nil
	})
	return q, err
}

var errNotSealed = casework.Errorf(casework.ECONFLICT, "该档案未封存（已解除封存）", "this file is not sealed (it was reopened already)")

// notifyAskers tells every place that asked for a file with the person's
// ID number since it was sealed (the holder's person.id_query audit rows)
// that it may now proceed: by a transfer from the holder's place, or, at
// the holder's own place, by the new measure on the person's page.
func (tx *Tx) notifyAskers(ctx context.Context, personID, holderOrg, holderName, idMasked string, since time.Time) error {
	details, err := scanStrings(tx.Query(ctx, `SELECT detail FROM audit_log WHERE action = 'person.id_query' AND target_type = 'person'
		AND target_id = ? AND at >= ? ORDER BY seq`, personID, since))
	if err != nil {
		return err
	}
	var orgs []string
	for _, d := range details {
		var v struct {
			FromOrgID string `json:"from_org_id"`
		}
		if json.Unmarshal([]byte(d), &v) == nil && v.FromOrgID != "" && !slices.Contains(orgs, v.FromOrgID) {
			orgs = append(orgs, v.FromOrgID)
		}
	}
	for _, from := range orgs {
		n := StaffNotice{OrgID: from, Perm: casework.PermWritePersons, Kind: NoticeUnsealed,
			TitleZH: "身份证号 " + idMasked + " 的档案已由禁毒办核实并恢复：请与" + holderName + "联系办理变更执行地，移交后在人员页面新增措施",
			TitleEN: "the file for ID number " + idMasked + " was checked and reopened by the office: contact " + holderName +
				" for a transfer, then add the new measure on the person's page",
			Link: "/transfers"}
		if from == holderOrg {
			n.TitleZH = "身份证号 " + idMasked + " 的档案已由禁毒办核实并恢复：请在人员页面新增措施（一人一档）"
			n.TitleEN = "the file for ID number " + idMasked + " was checked and reopened by the office: add the new measure on the person's page (one person, one file)"
			n.Link = "/persons/" + personID
		}
		if _, err := tx.NotifyStaff(ctx, n); err != nil {
			return err
		}
	}
	return nil
}
