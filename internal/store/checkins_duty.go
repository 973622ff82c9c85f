package store

// checkins_duty.go: check-in duty and rates (每日签到率), the lists, the
// today board and the reads of a check-in's point and photo.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// personSpans returns the person's status history as spans in date order:
// pending from the decision's receipt, executing from the report date,
// then every status event (R30) from its effective date.
func (tx *Tx) personSpans(ctx context.Context, personID string) ([]casework.StatusSpan, error) {
	m, err := tx.personSpansOf(ctx, []string{personID})
	return m[personID], err
}

// spansChunk is how many persons one history query reads.
const spansChunk = 500

// personSpansOf is personSpans for many persons at once: two queries per
// spansChunk persons. Persons without a measure have no entry.
func (tx *Tx) personSpansOf(ctx context.Context, ids []string) (map[string][]casework.StatusSpan, error) {
	out := map[string][]casework.StatusSpan{}
	for len(ids) > 0 {
		part := ids[:min(len(ids), spansChunk)]
		ids = ids[len(part):]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		in := "(?" + strings.Repeat(", ?", len(part)-1) + ")"
		rows, err := tx.Query(ctx, `SELECT person_id, received_date, report_date FROM measures WHERE person_id IN `+in+`
			ORDER BY person_id, received_date, created_at`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var pid string
			var recv casework.Date
			var rep sql.Null[casework.Date]
			if err := rows.Scan(&pid, &recv, &rep); err != nil {
				rows.Close()
				return nil, err
			}
			out[pid] = append(out[pid], casework.StatusSpan{From: recv, Status: casework.StatusPendingReport})
			if rep.Valid && !rep.V.IsZero() {
				out[pid] = append(out[pid], casework.StatusSpan{From: rep.V, Status: casework.StatusExecuting})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		rows, err = tx.Query(ctx, `SELECT person_id, effective_date, to_status FROM status_events WHERE person_id IN `+in+`
			ORDER BY person_id, effective_date, created_at`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var pid, st string
			var s casework.StatusSpan
			if err := rows.Scan(&pid, &s.From, &st); err != nil {
				rows.Close()
				return nil, err
			}
			s.Status = casework.Status(st)
			out[pid] = append(out[pid], s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for _, spans := range out {
		slices.SortStableFunc(spans, func(a, b casework.StatusSpan) int { return a.From.Compare(b.From) })
	}
	return out, nil
}

// checkedDays returns the local dates in [from, to] with a check-in.
func (tx *Tx) checkedDays(ctx context.Context, personID string, from, to casework.Date) (map[casework.Date]bool, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT local_date FROM checkins WHERE person_id = ? AND local_date >= ? AND local_date <= ?`, personID, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[casework.Date]bool{}
	for rows.Next() {
		var d casework.Date
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out[d] = true
	}
	return out, rows.Err()
}

// clampPeriod checks the period and ends it today (org zone) at the latest.
func clampPeriod(from, to, today casework.Date) (casework.Date, casework.Date, error) {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return from, to, casework.Invalid("from", "请给出有效的起止日期（起不晚于止）", "give a valid period: from on or before to")
	}
	if from.DaysUntil(to) > 400 {
		return from, to, casework.Invalid("to", "统计期间最长400天", "the period may be at most 400 days")
	}
	if to.After(today) {
		to = today
	}
	return from, to, nil
}

func (tx *Tx) personDuty(ctx context.Context, personID string, from, to casework.Date) (casework.Duty, error) {
	spans, err := tx.personSpans(ctx, personID)
	if err != nil {
		return casework.Duty{}, err
	}
	due := casework.DutyDays(spans, from, to)
	if len(due) == 0 {
		return casework.Duty{}, nil
	}
	checked, err := tx.checkedDays(ctx, personID, from, to)
	if err != nil {
		return casework.Duty{}, err
	}
	return casework.ComputeDuty(due, checked), nil
}

// PersonDuty returns the person's daily check-in duty over [from, to]
// (local dates of the place of execution; the period ends today at the
// latest): days due (executing and not suspended; approved leave keeps
// the duty), days done, and the missed days.
func (db *DB) PersonDuty(ctx context.Context, actor *casework.Actor, personID string, from, to casework.Date) (casework.Duty, error) {
	var d casework.Duty
	err := db.Read(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, nil)
		if err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		if from, to, err = clampPeriod(from, to, tx.today(org)); err != nil {
			return err
		}
		d, err = tx.personDuty(ctx, personID, from, to)
		return err
	})
	return d, err
}

// OrgDuty is the check-in rate of an org subtree over a period.
type OrgDuty struct {
	Persons int // persons with any duty in the period
	Due     int
	Done    int
}

// Rate is Done ÷ Due (每日签到率); 0 when nothing is due.
func (o OrgDuty) Rate() float64 {
	if o.Due == 0 {
		return 0
	}
	return float64(o.Done) / float64(o.Due)
}

// OrgCheckinDuty sums the duty of the persons whose place of execution is
// in the org's subtree (within the actor's read scope).
func (db *DB) OrgCheckinDuty(ctx context.Context, actor *casework.Actor, orgID string, from, to casework.Date) (OrgDuty, error) {
	var out OrgDuty
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermReadPersons, orgID)
		if err != nil {
			return err
		}
		if from, to, err = clampPeriod(from, to, tx.today(org)); err != nil {
			return err
		}
		scope, args := scopeClause("o.path", actor.Scope(casework.PermReadPersons))
		rows, err := tx.Query(ctx, `SELECT p.id FROM persons p JOIN orgs o ON o.id = p.org_id WHERE o.path LIKE ? ESCAPE '\' AND `+scope,
			append([]any{likePrefix(org.Path)}, args...)...)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			d, err := tx.personDuty(ctx, id, from, to)
			if err != nil {
				return err
			}
			if d.Due > 0 {
				out.Persons++
				out.Due += d.Due
				out.Done += d.Done
			}
		}
		return nil
	})
	return out, err
}

// ListCheckins returns the person's check-ins with local dates in
// [from, to], oldest first (the console's month calendar). No location.
func (db *DB) ListCheckins(ctx context.Context, actor *casework.Actor, personID string, from, to casework.Date) ([]*Checkin, error) {
	var out []*Checkin
	err := db.Read(ctx, func(tx *Tx) error {
		if _, err := tx.personFor(ctx, actor, personID, nil); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+checkinColumns+` FROM checkins WHERE person_id = ? AND local_date >= ? AND local_date <= ?
			ORDER BY taken_at, id`, personID, from, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCheckin(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

// CheckinPoint opens the location of a check-in for a reader with
// sensitive access to the file (R36, R37); the read is audited.
func (db *DB) CheckinPoint(ctx context.Context, actor *casework.Actor, checkinID string) (lat, lng float64, err error) {
	err = db.Write(ctx, func(tx *Tx) error {
		var personID, sealed string
		if err := tx.QueryRow(ctx, `SELECT person_id, loc_enc FROM checkins WHERE id = ?`, checkinID).Scan(&personID, &sealed); err != nil {
			return notFound(err, "签到记录", "check-in")
		}
		r, err := tx.personFor(ctx, actor, personID, func(a casework.PersonAccess) bool { return a.Sensitive })
		if err != nil {
			if casework.IsCode(err, casework.ENOTFOUND) {
				return casework.NotFound("签到记录", "check-in")
			}
			return err
		}
		point, err := db.vault.Open(sealed, "checkin.loc:"+checkinID)
		if err != nil {
			return fmt.Errorf("open check-in location: %w", err)
		}
		a, b, _ := strings.Cut(point, ",")
		if lat, err = strconv.ParseFloat(a, 64); err != nil {
			return err
		}
		if lng, err = strconv.ParseFloat(b, 64); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "checkin.point.read", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"checkin_id": checkinID}})
	})
	return lat, lng, err
}

// BoardRow is one person on a community's "today" board.
type BoardRow struct {
	PersonID string
	Name     string
	Status   casework.Status
	Checked  bool
	Verdict  casework.Verdict // of the day's last check-in
	At       time.Time
}

// TodayBoard lists the persons executing in the org's subtree (read scope)
// and whether each has checked in today (org zone); not yet checked in
// first.
func (db *DB) TodayBoard(ctx context.Context, actor *casework.Actor, orgID string) ([]BoardRow, casework.Date, error) {
	var out []BoardRow
	var today casework.Date
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermReadPersons, orgID)
		if err != nil {
			return err
		}
		today = tx.today(org)
		scope, args := scopeClause("o.path", actor.Scope(casework.PermReadPersons))
		args = append([]any{today, likePrefix(org.Path), string(casework.StatusExecuting), string(casework.StatusOnLeave)}, args...)
		rows, err := tx.Query(ctx, `SELECT p.id, p.name, p.status, c.verdict, c.taken_at FROM persons p JOIN orgs o ON o.id = p.org_id
			LEFT JOIN checkins c ON c.id = (SELECT c2.id FROM checkins c2 WHERE c2.person_id = p.id AND c2.local_date = ? ORDER BY c2.taken_at DESC LIMIT 1)
			WHERE o.path LIKE ? ESCAPE '\' AND p.status IN (?, ?) AND `+scope+` ORDER BY p.name_key, p.id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b BoardRow
			var st string
			var verdict sql.NullString
			var at sql.NullTime
			if err := rows.Scan(&b.PersonID, &b.Name, &st, &verdict, &at); err != nil {
				return err
			}
			b.Status, b.Checked, b.Verdict, b.At = casework.Status(st), verdict.Valid, casework.Verdict(verdict.String), scanTime(at)
			out = append(out, b)
		}
		return rows.Err()
	})
	slices.SortStableFunc(out, func(a, b BoardRow) int {
		switch {
		case a.Checked == b.Checked:
			return 0
		case !a.Checked:
			return -1
		}
		return 1
	})
	return out, today, err
}

// CheckinDay is a person's check-in duty on one local date (the app's
// "today").
type CheckinDay struct {
	Date    casework.Date
	Due     bool
	Done    bool
	Verdict casework.Verdict // of the day's last check-in
	Count   int
}

// CheckinToday returns the device's person's duty today in the zone of the
// place of execution.
func (db *DB) CheckinToday(ctx context.Context, personID string) (CheckinDay, error) {
	var out CheckinDay
	err := db.Read(ctx, func(tx *Tx) error {
		var orgID string
		if err := tx.QueryRow(ctx, `SELECT org_id FROM persons WHERE id = ?`, personID).Scan(&orgID); err != nil {
			return notFound(err, "人员档案", "person")
		}
		org, err := tx.orgByID(ctx, orgID)
		if err != nil {
			return err
		}
		out.Date = tx.today(org)
		spans, err := tx.personSpans(ctx, personID)
		if err != nil {
			return err
		}
		out.Due = len(casework.DutyDays(spans, out.Date, out.Date)) == 1
		rows, err := tx.Query(ctx, `SELECT verdict FROM checkins WHERE person_id = ? AND local_date = ? ORDER BY taken_at`, personID, out.Date)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return err
			}
			out.Count++
			out.Done, out.Verdict = true, casework.Verdict(v)
		}
		return rows.Err()
	})
	return out, err
}

// CheckinPhoto returns the photo key (SHA-256) of a check-in for a reader
// with sensitive access to the file (the selfie is sensitive personal
// data, R36); the read is audited. ENOTFOUND when the check-in has none.
func (db *DB) CheckinPhoto(ctx context.Context, actor *casework.Actor, checkinID string) (string, error) {
	var sha string
	err := db.Write(ctx, func(tx *Tx) error {
		var personID string
		if err := tx.QueryRow(ctx, `SELECT person_id, photo_sha256 FROM checkins WHERE id = ?`, checkinID).Scan(&personID, &sha); err != nil {
			return notFound(err, "签到记录", "check-in")
		}
		r, err := tx.personFor(ctx, actor, personID, func(a casework.PersonAccess) bool { return a.Sensitive })
		if err != nil {
			if casework.IsCode(err, casework.ENOTFOUND) {
				return casework.NotFound("签到记录", "check-in")
			}
			return err
		}
		if sha == "" {
			return casework.NotFound("签到照片", "check-in photo")
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "checkin.photo.read", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"checkin_id": checkinID}})
	})
	return sha, err
}
