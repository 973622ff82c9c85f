package store

// checkins_due.go: from when a person owes check-ins (issue 18 §4: the
// activation of a device, casework.HasApp), which check-ins discharge a
// day (issue 18 §2: the counts column, casework.Discharges at ingest), and
// the list of persons who owe duties but have no active device.

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// appSpansOf returns the device spans of each person (casework.DeviceSpan)
// in the zone of the person's place of execution, oldest first. A person
// who never had a device has no entry.
func (tx *Tx) appSpansOf(ctx context.Context, ids []string) (map[string][]casework.AppSpan, error) {
	out := map[string][]casework.AppSpan{}
	for len(ids) > 0 {
		part := ids[:min(len(ids), spansChunk)]
		ids = ids[len(part):]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := tx.Query(ctx, `SELECT d.person_id, d.activated_at, d.retired_at, o.time_zone FROM devices d
			JOIN persons p ON p.id = d.person_id JOIN orgs o ON o.id = p.org_id
			WHERE d.person_id IN (?`+strings.Repeat(", ?", len(part)-1)+`) ORDER BY d.person_id, d.activated_at`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var pid, zone string
			var act time.Time
			var ret sql.NullTime
			if err := rows.Scan(&pid, &act, &ret, &zone); err != nil {
				rows.Close()
				return nil, err
			}
			out[pid] = append(out[pid], casework.DeviceSpan(act, scanTime(ret), casework.LoadLocation(zone)))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (tx *Tx) appSpans(ctx context.Context, personID string) ([]casework.AppSpan, error) {
	m, err := tx.appSpansOf(ctx, []string{personID})
	return m[personID], err
}

// countedDays returns the local dates in [from, to] with a check-in that
// discharged the day (counts: casework.Discharges under checkin.counts).
func (tx *Tx) countedDays(ctx context.Context, personID string, from, to casework.Date) (map[casework.Date]bool, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT local_date FROM checkins WHERE person_id = ? AND local_date >= ? AND local_date <= ? AND counts = ?`,
		personID, from, to, true)
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

// DevicelessPerson is a person who owes check-ins by status but has no
// active device (issue 18 §4): never activated, or the last device retired.
type DevicelessPerson struct {
	PersonID  string
	Name      string
	OrgName   string
	Status    casework.Status
	RetiredOn casework.Date // the local date the last device was retired; zero: never had one
}

// DevicelessPersons lists the persons executing or on leave in the org's
// subtree (the actor's read scope) with no active device, by name. Their
// days are "no app" rather than missed (casework.HasApp); this list is
// where the worker sees them, to hand out an activation code.
func (db *DB) DevicelessPersons(ctx context.Context, actor *casework.Actor, orgID string) ([]DevicelessPerson, error) {
	var out []DevicelessPerson
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermReadPersons, orgID)
		if err != nil {
			return err
		}
		scope, args := scopeClause("o.path", actor.Scope(casework.PermReadPersons))
		args = append([]any{likePrefix(org.Path), string(casework.StatusExecuting), string(casework.StatusOnLeave)}, args...)
		rows, err := tx.Query(ctx, `SELECT p.id, p.name, o.name, p.status FROM persons p JOIN orgs o ON o.id = p.org_id
			WHERE o.path LIKE ? ESCAPE '\' AND p.status IN (?, ?) AND `+notSealed+` AND `+scope+`
			AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.person_id = p.id AND d.retired_at IS NULL)
			ORDER BY p.name_key, p.id`, args...)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var p DevicelessPerson
			var st string
			if err := rows.Scan(&p.PersonID, &p.Name, &p.OrgName, &st); err != nil {
				rows.Close()
				return err
			}
			p.Status = casework.Status(st)
			out = append(out, p)
			ids = append(ids, p.PersonID)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		apps, err := tx.appSpansOf(ctx, ids)
		if err != nil {
			return err
		}
		for i, p := range out {
			if a := apps[p.PersonID]; len(a) > 0 {
				out[i].RetiredOn = a[len(a)-1].To
			}
		}
		return nil
	})
	return out, err
}

// AppPolicyToday is the policy in force today at the person's place of
// execution (the app's PIN settings, issue 18 §3). No access check: for
// the app, which is the person's own.
func (db *DB) AppPolicyToday(ctx context.Context, personID string) (*casework.EffectivePolicy, error) {
	pc, err := db.personContext(ctx, personID)
	if err != nil {
		return nil, err
	}
	return db.checkinPolicy(ctx, pc.org, casework.DateOf(db.Now(), pc.org.Location()))
}
