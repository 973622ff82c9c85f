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
	return tx.personDutyWith(ctx, newCadenceSource(tx), personID, from, to)
}

// personDutyWith is personDuty reading check-in frequencies through src
// (shared by a loop over many persons). A day that is not a check-in day
// of the person's cadence (checkin.every_days, issue 13 §4) is neither
// due nor missed, and not in the rate's denominator.
func (tx *Tx) personDutyWith(ctx context.Context, src *cadenceSource, personID string, from, to casework.Date) (casework.Duty, error) {
	spans, err := tx.personSpans(ctx, personID)
	if err != nil {
		return casework.Duty{}, err
	}
	apps, err := tx.appSpans(ctx, personID)
	if err != nil {
		return casework.Duty{}, err
	}
	cad, err := src.cadenceOf(ctx, personID, spans, apps, to)
	if err != nil {
		return casework.Duty{}, err
	}
	var due, noApp []casework.Date
	for _, d := range casework.DutyDays(spans, from, to) {
		switch {
		case !casework.CheckinDueOn(true, apps, d):
			noApp = append(noApp, d)
		case cad.Owes(d):
			due = append(due, d)
		}
	}
	if len(due) == 0 {
		return casework.Duty{NoApp: noApp}, nil
	}
	checked, err := tx.countedDays(ctx, personID, from, to)
	if err != nil {
		return casework.Duty{}, err
	}
	d := casework.ComputeDuty(due, checked)
	d.NoApp = noApp
	return d, nil
}

// PersonDuty returns the person's daily check-in duty over [from, to]
// (local dates of the place of execution; the period ends today at the
// latest): days due (executing and not suspended, approved leave keeps
// the duty, and a device active: casework.CheckinDutyDays), days done (a
// check-in that counts, casework.Discharges), and the missed days.
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
		rows, err := tx.Query(ctx, `SELECT p.id FROM persons p JOIN orgs o ON o.id = p.org_id WHERE o.path LIKE ? ESCAPE '\' AND `+notSealed+` AND `+scope,
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
		src := newCadenceSource(tx)
		for _, id := range ids {
			d, err := tx.personDutyWith(ctx, src, id, from, to)
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
	p, err := db.CheckinLocation(ctx, actor, checkinID)
	if err != nil {
		return 0, 0, err
	}
	return p.Lat, p.Lng, nil
}

// CheckinPlace is a check-in with its opened location and the area its
// verdict was judged against (the check-in location page, issue 18 §14).
type CheckinPlace struct {
	Checkin  *Checkin
	Lat, Lng float64
	// Area is the area in force on the check-in's local date: the geofence
	// of the org of the kind policy checkin.area names (R8: the county by
	// default), or on approved leave the destination circle; nil when
	// none is known (the verdict was unverifiable).
	Area     *casework.Geofence
	AreaOrg  string // the name of the org whose geofence Area is; "" on leave
	OnLeave  bool
	Distance float64 // metres from the point to Area (0 inside); NaN without an area
}

// CheckinLocation opens the location of a check-in for a reader with
// sensitive access to the file (R36, R37), with the area it was judged
// against and the distance to it; the read is audited.
func (db *DB) CheckinLocation(ctx context.Context, actor *casework.Actor, checkinID string) (*CheckinPlace, error) {
	out := &CheckinPlace{}
	err := db.Write(ctx, func(tx *Tx) error {
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
		if out.Checkin, err = scanCheckin(tx.QueryRow(ctx, `SELECT `+checkinColumns+` FROM checkins WHERE id = ?`, checkinID)); err != nil {
			return err
		}
		point, err := db.vault.Open(sealed, "checkin.loc:"+checkinID)
		if err != nil {
			return fmt.Errorf("open check-in location: %w", err)
		}
		a, b, _ := strings.Cut(point, ",")
		if out.Lat, err = strconv.ParseFloat(a, 64); err != nil {
			return err
		}
		if out.Lng, err = strconv.ParseFloat(b, 64); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "checkin.point.read", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"checkin_id": checkinID}})
	})
	if err != nil {
		return nil, err
	}
	// The area as the verdict saw it (pendingCheckin): the policy of the
	// check-in's org on its local date, or the approved leave's destination.
	c := out.Checkin
	oc, err := db.orgContext(ctx, c.OrgID)
	if err != nil {
		return nil, err
	}
	pol, err := db.checkinPolicy(ctx, oc.org, c.LocalDate)
	if err != nil {
		return nil, err
	}
	kind := pol.Value("checkin.area").Enum()
	for i := len(oc.chain) - 1; i >= 0; i-- {
		if string(oc.chain[i].Kind) == kind {
			out.Area, out.AreaOrg = oc.chain[i].Geofence, oc.chain[i].Name
			break
		}
	}
	la, err := db.leaveAreaOn(ctx, c.PersonID, c.LocalDate)
	if err != nil {
		return nil, err
	}
	if la.onLeave {
		out.Area, out.AreaOrg, out.OnLeave = la.area, "", true
	}
	if out.Area == nil {
		out.AreaOrg = ""
	}
	out.Distance = out.Area.DistanceToM(out.Lat, out.Lng)
	return out, nil
}

// BoardRow is one person on a community's "today" board.
type BoardRow struct {
	PersonID string
	Name     string
	Status   casework.Status
	Checked  bool               // a check-in today that counts (casework.Discharges)
	NoApp    bool               // no active device: nothing is owed yet (issue 18 §4)
	NotDue   bool               // today is not a check-in day of the person's frequency (checkin.every_days, issue 13 §4)
	NextDue  casework.Date      // when NotDue: the next check-in day
	Tried    bool               // checked in today, but none counts: must check in again
	Verdict  casework.Verdict   // of the day's last check-in
	Checks   []casework.Verdict // every failed check of the day's last check-in
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
		rows, err := tx.Query(ctx, `SELECT p.id, p.name, p.status, c.verdict, c.checks, c.taken_at,
			EXISTS (SELECT 1 FROM checkins c3 WHERE c3.person_id = p.id AND c3.local_date = ? AND c3.counts = ?)
			FROM persons p JOIN orgs o ON o.id = p.org_id
			LEFT JOIN checkins c ON c.id = (SELECT c2.id FROM checkins c2 WHERE c2.person_id = p.id AND c2.local_date = ? ORDER BY c2.taken_at DESC LIMIT 1)
			WHERE o.path LIKE ? ESCAPE '\' AND p.status IN (?, ?) AND `+notSealed+` AND `+scope+` ORDER BY p.name_key, p.id`, append([]any{today, true}, args...)...)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var b BoardRow
			var st string
			var verdict, checks sql.NullString
			var at sql.NullTime
			if err := rows.Scan(&b.PersonID, &b.Name, &st, &verdict, &checks, &at, &b.Checked); err != nil {
				rows.Close()
				return err
			}
			b.Status, b.Verdict, b.At = casework.Status(st), casework.Verdict(verdict.String), scanTime(at)
			if verdict.Valid {
				b.Checks = casework.ParseChecks(checks.String, b.Verdict)
				b.Tried = !b.Checked
			}
			out = append(out, b)
			ids = append(ids, b.PersonID)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		apps, err := tx.appSpansOf(ctx, ids)
		if err != nil {
			return err
		}
		spans, err := tx.personSpansOf(ctx, ids)
		if err != nil {
			return err
		}
		cads, err := newCadenceSource(tx).cadencesOf(ctx, ids, spans, apps, today)
		if err != nil {
			return err
		}
		for i := range out {
			out[i].NoApp = !casework.CheckinDueOn(true, apps[out[i].PersonID], today)
			if c := cads[out[i].PersonID]; !out[i].NoApp && !c.Owes(today) {
				// Nothing to check in again for on a day that owes none.
				out[i].NotDue, out[i].NextDue, out[i].Tried = true, c.NextOwed(today), false
			}
		}
		return nil
	})
	// Not yet checked in first, then those who must check in again, then
	// done; persons without an app, or whose today is not a check-in day,
	// last (they owe nothing today).
	rank := func(b BoardRow) int {
		switch {
		case (b.NoApp || b.NotDue) && !b.Checked:
			return 3
		case b.Checked:
			return 2
		case b.Tried:
			return 1
		}
		return 0
	}
	slices.SortStableFunc(out, func(a, b BoardRow) int { return rank(a) - rank(b) })
	return out, today, err
}

// CheckinDay is a person's check-in duty on one local date (the app's
// "today").
type CheckinDay struct {
	Date    casework.Date
	Due     bool               // a check-in is owed today (casework.CheckinDueOn)
	Done    bool               // a check-in today counts (casework.Discharges)
	Verdict casework.Verdict   // of the day's last check-in
	Checks  []casework.Verdict // every failed check of the day's last check-in
	Count   int
	Window  casework.Window // today's check-in window (policy checkin.window)
	Open    bool            // the window is open now
	Over    bool            // today's window has ended: no check-in can count today any more
	// EveryDays is the check-in frequency in force today (a check-in every
	// N days: checkin.every_days or the tier's, issue 13 §4); NextDue the
	// next check-in day after today (zero when the person owes none yet).
	EveryDays int
	NextDue   casework.Date
	// Identity of the day's last check-in (issue 17) and whether it waits
	// for a staff review (not matched or liveness failed, not reviewed).
	Identity     casework.IdentityOutcome
	IdentityHeld bool
}

// CheckinToday returns the device's person's duty today in the zone of the
// place of execution. A day with check-ins none of which counts is not
// done: the app tells the person what failed and, while the window is
// open, to check in again (issue 18 §2).
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
		pol, err := tx.resolvePolicy(ctx, org, out.Date)
		if err != nil {
			return err
		}
		tier, err := tx.tierAt(ctx, personID, out.Date) // R31: the tier's window
		if err != nil {
			return err
		}
		out.Window = pol.ForTier("checkin.window", tier).Value.Window()
		out.Open = out.Window.Contains(tx.now, org.Location())
		out.Over = !tx.now.Before(out.Date.In(org.Location()).Add(time.Duration(out.Window.To) * time.Minute))
		spans, err := tx.personSpans(ctx, personID)
		if err != nil {
			return err
		}
		apps, err := tx.appSpans(ctx, personID)
		if err != nil {
			return err
		}
		// Through a month ahead: a frequency decided today for tomorrow
		// already tells the next check-in day.
		cad, err := newCadenceSource(tx).cadenceOf(ctx, personID, spans, apps, out.Date.AddDays(31))
		if err != nil {
			return err
		}
		out.Due = casework.CheckinDueOnCadence(len(casework.DutyDays(spans, out.Date, out.Date)) == 1, apps, cad, out.Date)
		out.EveryDays = cad.Every(out.Date)
		if len(cad.Spans) > 0 {
			out.NextDue = cad.NextOwed(out.Date)
		}
		rows, err := tx.Query(ctx, `SELECT verdict, checks, counts, identity_outcome, identity_review FROM checkins WHERE person_id = ? AND local_date = ? ORDER BY taken_at`, personID, out.Date)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v, checks, identity, review string
			var counts bool
			if err := rows.Scan(&v, &checks, &counts, &identity, &review); err != nil {
				return err
			}
			out.Count++
			out.Done = out.Done || counts
			out.Verdict, out.Checks = casework.Verdict(v), casework.ParseChecks(checks, casework.Verdict(v))
			out.Identity = casework.IdentityOutcome(identity)
			out.IdentityHeld = out.Identity.NeedsReview() && review == ""
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
		// Only a photo this person uploaded is shown through their check-in
		// (issue 15 §2): citing another person's photo hash reads nothing.
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM app_photos WHERE sha256 = ? AND person_id = ?`, sha, personID).Scan(&one); err != nil {
			return notFound(err, "签到照片", "check-in photo")
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "checkin.photo.read", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"checkin_id": checkinID}})
	})
	return sha, err
}
