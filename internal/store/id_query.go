package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"kangfu/internal/casework"
)

// An ID number already on file outside the actor's scope (issue 15 §3):
// one person, one file still holds, but the answer must not confirm to
// the actor that a file exists elsewhere. The attempt goes to the office
// that holds the file as a query it answers (a staff notice), is audited
// on both sides, and is limited per user.

// MaxIDQueriesPerDay is how many such attempts a user may make in 24 hours;
// past it the user may open no new file until the day has passed.
const MaxIDQueriesPerDay = 5

// errIDQueried is the answer to an attempt on a number filed elsewhere: it
// says the number cannot be filed here now and who will answer, not that a
// file exists or where.
var errIDQueried = casework.Errorf(casework.ECONFLICT,
	"该身份证号暂不能在此建档：已转请负责核查的机构处理，核实后会与您联系",
	"this ID number cannot be filed here for now: the office responsible has been asked to check it and will contact you")

// foreignDuplicate is what createPerson returns for a number on file
// outside the actor's read scope; the caller records the query.
type foreignDuplicate struct{ personID string }

func (foreignDuplicate) Error() string { return "id number on file outside the actor's scope" }

// idQueriesAllowed refuses a user who made MaxIDQueriesPerDay attempts on
// numbers filed elsewhere in the last 24 hours.
func (tx *Tx) idQueriesAllowed(ctx context.Context, actor *casework.Actor) error {
	if actor == nil || actor.UserID == "" {
		return nil
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE actor_id = ? AND action = 'person.id_query' AND target_type = 'org' AND at >= ?`,
		actor.UserID, tx.now.Add(-24*time.Hour)).Scan(&n); err != nil {
		return err
	}
	if n >= MaxIDQueriesPerDay {
		return casework.Errorf(casework.ERATELIMIT, "24小时内建档核查次数过多，请明天再试或联系上级机构",
			"too many ID checks in 24 hours: try again tomorrow or ask your supervising office")
	}
	return nil
}

// recordIDQuery audits the attempt (on the actor's side, without the
// person; on the holder's side, with it) and asks the holder's office.
// For a sealed file (R38) the actor's answer and audit row are the same;
// the holder's office — the users who may record statutory queries — is
// asked to record the statutory basis (the new decision) and reopen the
// file (ReopenSealed), with a notice that links to the statutory queries,
// not to the person page, which a sealed file does not have.
func (tx *Tx) recordIDQuery(ctx context.Context, actor *casework.Actor, personID, fromOrgID string) error {
	var holderOrg, idMasked string
	var sealedAt sql.NullTime
	if err := tx.QueryRow(ctx, `SELECT org_id, id_masked, sealed_at FROM persons WHERE id = ?`, personID).Scan(&holderOrg, &idMasked, &sealedAt); err != nil {
		return err
	}
	var fromName string
	if err := tx.QueryRow(ctx, `SELECT name FROM orgs WHERE id = ?`, fromOrgID).Scan(&fromName); err != nil {
		return notFound(err, "单位", "org")
	}
	if err := tx.Audit(ctx, actor, AuditEntry{Action: "person.id_query", TargetType: "org", TargetID: fromOrgID, OrgID: fromOrgID,
		Detail: map[string]any{"answer": "referred"}}); err != nil {
		return err
	}
	// The holder's row names the asking place: ReopenSealed tells it when
	// the file is reopened.
	if err := tx.Audit(ctx, actor, AuditEntry{Action: "person.id_query", TargetType: "person", TargetID: personID, OrgID: holderOrg,
		Detail: map[string]any{"from": fromName, "from_org_id": fromOrgID}}); err != nil {
		return err
	}
	if sealedAt.Valid {
		_, err := tx.NotifyStaff(ctx, StaffNotice{PersonID: personID, Perm: casework.PermStatutoryQuery, Kind: NoticeSealedIDQuery,
			TitleZH: "有人为封存档案的身份证号（" + idMasked + "）申请新建档案（" + fromName + " 的 " + actor.Username +
				"）：请登记法定依据（新的决定书）后解除封存",
			TitleEN: "a new file was requested for an ID number whose file is sealed (" + idMasked + ", by " + actor.Username + " at " + fromName +
				"): record the statutory basis (the new decision) to reopen it",
			Link: "/statutory-queries/new"})
		return err
	}
	_, err := tx.NotifyStaff(ctx, StaffNotice{PersonID: personID, Perm: casework.PermTransfer, Kind: "person.id_query",
		TitleZH: fromName + " 的 " + actor.Username + " 试图为本地在册人员新建档案（身份证号相同），请核实并与对方联系，必要时办理变更执行地",
		TitleEN: actor.Username + " at " + fromName + " tried to open a file for a person on your register (same ID number): check, contact them, and transfer if needed",
		Link:    "/persons/" + personID})
	return err
}

// asForeignDuplicate reports whether err is a foreignDuplicate.
func asForeignDuplicate(err error) (foreignDuplicate, bool) {
	var fd foreignDuplicate
	ok := errors.As(err, &fd)
	return fd, ok
}
