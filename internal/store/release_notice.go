package store

// release_notice.go: the notice of release (R15). At the end of the term
// the measure is released automatically; the police issue the 解除通知书 to
// the person and family and the township is to be notified within 7 days
// (casework.ReleaseNoticeDeadline). The release sets the due date; the
// notice is recorded here (date, recipient) and until then the inbox shows
// a task, overdue from day 8.

import (
	"context"
	"fmt"
	"strings"

	"kangfu/internal/casework"
)

// ReleaseNoticeInput is a recorded release notice.
type ReleaseNoticeInput struct {
	Date      casework.Date // the day the notice was issued or received
	Recipient string        // to whom: the person and family, the township …
}

// RecordReleaseNotice records the release notice of the person's latest
// released measure (R15). The responsible worker, the lead and the police
// of the place may record it; the file is archived, but the notice is part
// of closing it, not a correction. EINVALID (fields date, recipient) for a
// missing or impossible value, ECONFLICT when no release awaits a notice.
func (db *DB) RecordReleaseNotice(ctx context.Context, actor *casework.Actor, personID string, in ReleaseNoticeInput) (*Measure, error) {
	in.Recipient = strings.TrimSpace(in.Recipient)
	if in.Date.IsZero() {
		return nil, casework.Invalid("date", "请填写通知日期", "the date of the notice is required")
	}
	if in.Recipient == "" || len([]rune(in.Recipient)) > 100 || strings.ContainsAny(in.Recipient, "\r\n") {
		return nil, casework.Invalid("recipient", "请填写通知对象（一行，最多100字）", "the recipient is required (one line, at most 100 characters)")
	}
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, nil)
		if err != nil {
			return err
		}
		if !r.Access.Until.IsZero() || !(r.Access.Write || actor.Can(casework.PermPoliceCase, r.OrgPath)) {
			return casework.Errorf(casework.EFORBIDDEN, "只有执行地的专干、街道负责人或社区民警可以登记解除通知", "only the place's worker, lead or police can record the release notice")
		}
		var ended casework.Date
		var tz string
		err = tx.QueryRow(ctx, `SELECT m.id, m.ended_on, o.time_zone FROM measures m JOIN orgs o ON o.id = m.place_org_id
			WHERE m.person_id = ? AND m.status = 'released' AND m.release_notice_due IS NOT NULL AND m.release_notice_on IS NULL
			ORDER BY m.ended_on DESC LIMIT 1`, personID).Scan(&id, &ended, &tz)
		if err != nil {
			if err = notFound(err, "", ""); casework.IsCode(err, casework.ENOTFOUND) {
				return casework.Errorf(casework.ECONFLICT, "该人员没有待登记解除通知的解除记录", "no release of this person awaits its notice")
			}
			return err
		}
		if in.Date.Before(ended) || in.Date.After(tx.zoneToday(tz)) {
			return casework.Invalid("date", "通知日期须在解除之日（%s）之后、不晚于今天", "the notice date must be on or after the release (%s) and not in the future", ended)
		}
		// Guarded by the state read above: a notice recorded meanwhile wins.
		res, err := tx.Exec(ctx, `UPDATE measures SET release_notice_on = ?, release_notice_to = ?, updated_at = ? WHERE id = ? AND release_notice_on IS NULL`,
			in.Date, in.Recipient, tx.now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return casework.Errorf(casework.ECONFLICT, "解除通知已登记", "the release notice was already recorded")
		}
		late := ended.AddDays(casework.ReleaseNoticeDays).DaysUntil(in.Date)
		if err := tx.event(ctx, actor, personID, r.OrgID, "measure.release_notice", map[string]any{"date": in.Date.String(), "recipient": in.Recipient,
			"days_late": max(late, 0)}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "measure.release_notice", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"measure_id": id, "date": in.Date.String()}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetMeasure(ctx, actor, personID, id)
}

// releaseNoticeTasks: releases whose notice is not recorded yet (R15),
// due 7 days after the release and overdue from the 8th; for the workers
// and leads of the place and its police, who issue the notice.
func releaseNoticeTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	perm := casework.PermWritePersons
	if !actor.CanAnywhere(perm) {
		if perm = casework.PermPoliceCase; !actor.CanAnywhere(perm) {
			return nil, nil
		}
	}
	scope, args := personScope(actor, perm)
	q := `SELECT p.id, p.name, o.name, o.time_zone, m.release_notice_due` + taskFrom + ` JOIN measures m ON m.person_id = p.id AND m.status = 'released'
		WHERE m.release_notice_due IS NOT NULL AND m.release_notice_on IS NULL AND ` + scope + ` ORDER BY m.release_notice_due`
	return personTasks(ctx, tx, q, args, func(t *Task, tz string, d casework.Date) bool {
		t.Kind, t.Due, t.Rule, t.Link = "release_notice", d, "R15", "/persons/"+t.PersonID+"#release-notice"
		t.Overdue = d.Before(tx.zoneToday(tz))
		if t.Overdue {
			t.TitleZH = fmt.Sprintf("%s 已解除，解除通知逾期未登记（期限 %s）", t.PersonName, d)
			t.TitleEN = fmt.Sprintf("%s was released: the release notice is overdue (due %s)", t.PersonName, d)
		} else {
			t.TitleZH = fmt.Sprintf("%s 已解除，请于 %s 前登记解除通知", t.PersonName, d)
			t.TitleEN = fmt.Sprintf("%s was released: record the release notice by %s", t.PersonName, d)
		}
		return true
	})
}
