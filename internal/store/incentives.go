package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// Incentives (积分; issue 14). Consent per person, an append-only ledger
// (migration 0033: triggers refuse UPDATE and DELETE), and the award job
// that turns verified events into ledger rows by the schedule in force on
// the event's day (casework.IncentiveSchedule).

// IncentiveConsent is a person's consent to take part, as recorded by
// staff; revocable.
type IncentiveConsent struct {
	ID            string
	PersonID      string
	GivenAt       time.Time
	GivenByName   string
	Note          string
	RevokedAt     time.Time // zero while in force
	RevokedByName string
	RevokeReason  string
}

// LedgerRow is one row of a person's incentive ledger.
type LedgerRow struct {
	Seq        int64
	ID         string
	PersonID   string
	OrgID      string
	Rule       string
	Points     int
	SourceKind string
	SourceID   string
	Day        casework.Date
	PolicyRef  string
	Note       string
	CreatedBy  string
	ApprovedBy string
	CreatedAt  time.Time
}

// IncentiveAccount is what the file and the app show.
type IncentiveAccount struct {
	Consent   *IncentiveConsent // the one in force, or nil
	Consents  []IncentiveConsent
	Schedule  casework.IncentiveSchedule
	Balance   int
	Earned    int // all awards, reversals included
	Redeemed  int // all redemptions, as a positive number
	State     casework.IncentiveState
	NextValue int // the next negative test's award
	ToReturn  int // negatives still needed to regain ReturnValue; 0 when none pending
	Return    int
	Rows      []LedgerRow // newest first
}

var errConsentRequired = casework.Errorf(casework.ECONFLICT, "本人尚未同意参加积分激励", "the person has not consented to incentives")

// GiveIncentiveConsent records the person's consent (issue 14 §1). The
// office must have turned incentives on; one consent is in force at a
// time.
func (db *DB) GiveIncentiveConsent(ctx context.Context, actor *casework.Actor, personID, note string) (*IncentiveConsent, error) {
	note, err := casework.CleanText("note", note, casework.MaxReason)
	if err != nil {
		return nil, err
	}
	err = db.Write(ctx, func(tx *Tx) error {
		r, err := tx.helpPerson(ctx, actor, personID, true)
		if err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		p, err := tx.resolvePolicy(ctx, org, tx.today(org))
		if err != nil {
			return err
		}
		if !casework.IncentiveScheduleOf(p).Enabled {
			return casework.Errorf(casework.ECONFLICT, "本单位尚未启用积分激励（政策设置）", "incentives are not turned on for this office (policy)")
		}
		if c, err := tx.openConsent(ctx, personID); err != nil {
			return err
		} else if c != nil {
			return casework.Errorf(casework.ECONFLICT, "本人已同意参加积分激励", "the person has already consented")
		}
		id := NewID()
		if _, err := tx.Exec(ctx, `INSERT INTO incentive_consents (id, person_id, given_at, given_by, given_by_name, note) VALUES (?, ?, ?, ?, ?, ?)`,
			id, personID, tx.now, actorID(actor), actor.Name, note); err != nil {
			return fmt.Errorf("record consent: %w", err)
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "incentive.consent", nil); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "incentive.consent", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"consent_id": id}})
	})
	if err != nil {
		return nil, err
	}
	var c *IncentiveConsent
	err = db.Read(ctx, func(tx *Tx) error {
		var err error
		c, err = tx.openConsent(ctx, personID)
		return err
	})
	return c, err
}

// RevokeIncentiveConsent ends the consent in force, with the reason.
// Points earned stay; nothing more is credited.
func (db *DB) RevokeIncentiveConsent(ctx context.Context, actor *casework.Actor, personID, reason string) error {
	reason, err := casework.CleanText("reason", reason, casework.MaxReason)
	if err != nil {
		return err
	}
	if reason == "" {
		return casework.Invalid("reason", "请填写撤回原因", "give the reason for the withdrawal")
	}
	return db.Write(ctx, func(tx *Tx) error {
		r, err := tx.helpPerson(ctx, actor, personID, true)
		if err != nil {
			return err
		}
		c, err := tx.openConsent(ctx, personID)
		if err != nil {
			return err
		}
		if c == nil {
			return errConsentRequired
		}
		if _, err := tx.Exec(ctx, `UPDATE incentive_consents SET revoked_at = ?, revoked_by = ?, revoked_by_name = ?, revoke_reason = ? WHERE id = ?`,
			tx.now, actorID(actor), actor.Name, reason, c.ID); err != nil {
			return err
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "incentive.consent_revoked", nil); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "incentive.consent_revoke", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"consent_id": c.ID}})
	})
}

func (tx *Tx) consents(ctx context.Context, personID string) ([]IncentiveConsent, error) {
	rows, err := tx.Query(ctx, `SELECT id, person_id, given_at, given_by_name, note, revoked_at, revoked_by_name, revoke_reason
		FROM incentive_consents WHERE person_id = ? ORDER BY given_at DESC, id DESC`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []IncentiveConsent
	for rows.Next() {
		var c IncentiveConsent
		var revoked sql.NullTime
		if err := rows.Scan(&c.ID, &c.PersonID, &c.GivenAt, &c.GivenByName, &c.Note, &revoked, &c.RevokedByName, &c.RevokeReason); err != nil {
			return nil, err
		}
		c.GivenAt = c.GivenAt.UTC()
		if revoked.Valid {
			c.RevokedAt = revoked.Time.UTC()
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (tx *Tx) openConsent(ctx context.Context, personID string) (*IncentiveConsent, error) {
	cs, err := tx.consents(ctx, personID)
	if err != nil {
		return nil, err
	}
	for i := range cs {
		if cs[i].RevokedAt.IsZero() {
			return &cs[i], nil
		}
	}
	return nil, nil
}

// consentCovers reports whether an event recorded at t falls inside one
// of the consents.
func consentCovers(cs []IncentiveConsent, t time.Time) bool {
	for _, c := range cs {
		if !t.Before(c.GivenAt) && (c.RevokedAt.IsZero() || t.Before(c.RevokedAt)) {
			return true
		}
	}
	return false
}

// AwardRun is what one run of the award job did.
type AwardRun struct {
	Persons int
	Rows    int
	Points  int
	Capped  int // awards cut by a cap
}

// incentiveEvent is a verified event waiting for its award.
type incentiveEvent struct {
	kind     string // checkin, drug_test, violation, session
	id       string // the source id (a check-in's local day for check-ins)
	orgID    string
	day      casework.Date
	recorded time.Time
	test     casework.TestEvent // for tests and missed test days
}

// AwardIncentives credits every consenting person for the verified events
// recorded since their consent that have no ledger row yet, in the order
// they were recorded (issue 14 §3). Run every job interval, so awards
// come the same day the event is recorded. Idempotent: a row per rule
// and source (unique index), so a second run, or a second server, adds
// nothing.
func (db *DB) AwardIncentives(ctx context.Context) (AwardRun, error) {
	var run AwardRun
	var persons []string
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT DISTINCT person_id FROM incentive_consents ORDER BY person_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			persons = append(persons, id)
		}
		return rows.Err()
	})
	if err != nil {
		return run, err
	}
	for _, pid := range persons {
		err := db.Write(ctx, func(tx *Tx) error {
			n, pts, capped, err := tx.awardPerson(ctx, pid)
			if n > 0 {
				run.Persons++
			}
			run.Rows += n
			run.Points += pts
			run.Capped += capped
			return err
		})
		if err != nil {
			return run, fmt.Errorf("award incentives for %s: %w", pid, err)
		}
	}
	return run, nil
}

func (tx *Tx) awardPerson(ctx context.Context, personID string) (rows, points, capped int, err error) {
	cs, err := tx.consents(ctx, personID)
	if err != nil || len(cs) == 0 {
		return 0, 0, 0, err
	}
	since := cs[len(cs)-1].GivenAt
	events, err := tx.incentiveEvents(ctx, personID, since)
	if err != nil || len(events) == 0 {
		return 0, 0, 0, err
	}
	st, err := tx.lastIncentiveState(ctx, personID)
	if err != nil {
		return 0, 0, 0, err
	}
	orgs := map[string]*casework.Org{}
	for _, ev := range events {
		if !consentCovers(cs, ev.recorded) {
			continue
		}
		org := orgs[ev.orgID]
		if org == nil {
			if org, err = tx.orgByID(ctx, ev.orgID); err != nil {
				return rows, points, capped, err
			}
			orgs[ev.orgID] = org
		}
		p, err := tx.resolvePolicy(ctx, org, ev.day)
		if err != nil {
			return rows, points, capped, err
		}
		s := casework.IncentiveScheduleOf(p)
		if !s.Enabled {
			continue // never credited: the policy on the event's day had incentives off
		}
		ref := strings.Join(p.Refs(casework.IncentiveKeys...), ",")
		var awards []casework.Award
		stateJSON := ""
		switch ev.kind {
		case "checkin":
			awards = []casework.Award{{Rule: casework.AwardCheckin, Points: s.CheckinPoints}}
		case "session":
			if s.SessionPoints <= 0 {
				continue
			}
			awards = []casework.Award{{Rule: casework.AwardSession, Points: s.SessionPoints}}
		default:
			awards, st = s.Test(st, ev.test)
			b, _ := json.Marshal(st)
			stateJSON = string(b)
		}
		for _, a := range awards {
			pts := a.Points
			note := ""
			if pts > 0 {
				earned, err := tx.earnedSince(ctx, "person_id = ?", []any{personID}, ev.day.AddDays(-83), ev.day)
				if err != nil {
					return rows, points, capped, err
				}
				if c := casework.Capped(pts, earned, s.CapPer12Weeks); c < pts {
					note = fmt.Sprintf("cap_12_weeks %d", s.CapPer12Weeks)
					pts = c
				}
				if src, ok := p.Get("incentive.office_year_budget"); ok && s.OfficeYearCap > 0 && src.Source.OrgID != "" {
					path, err := tx.orgPath(ctx, src.Source.OrgID)
					if err != nil {
						return rows, points, capped, err
					}
					y := ev.day.Year
					earned, err := tx.earnedSince(ctx, `org_id IN (SELECT id FROM orgs WHERE path LIKE ? ESCAPE '\')`, []any{likePrefix(path)},
						casework.NewDate(y, 1, 1), casework.NewDate(y, 12, 31))
					if err != nil {
						return rows, points, capped, err
					}
					if c := casework.Capped(pts, earned, s.OfficeYearCap); c < pts {
						note = fmt.Sprintf("office_year_budget %d", s.OfficeYearCap)
						pts = c
					}
				}
				if note != "" {
					capped++
				}
			}
			res, err := tx.Exec(ctx, `INSERT INTO incentive_ledger (id, person_id, org_id, rule, points, source_kind, source_id, day, state, policy_ref, note, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				NewID(), personID, ev.orgID, a.Rule, pts, ev.kind, ev.id, ev.day, stateJSON, ref, note, tx.now)
			if err != nil {
				return rows, points, capped, fmt.Errorf("ledger row: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				rows++
				points += pts
			}
		}
	}
	return rows, points, capped, nil
}

func (tx *Tx) orgPath(ctx context.Context, id string) (string, error) {
	o, err := tx.orgByID(ctx, id)
	if err != nil {
		return "", err
	}
	return o.Path, nil
}

// earnedSince sums the positive awards (not redemptions) in [from, to]
// for the rows matching where.
func (tx *Tx) earnedSince(ctx context.Context, where string, args []any, from, to casework.Date) (int, error) {
	var n sql.NullInt64
	err := tx.QueryRow(ctx, `SELECT SUM(points) FROM incentive_ledger WHERE `+where+` AND day >= ? AND day <= ? AND rule <> ?`,
		append(args, from, to, casework.AwardRedeemed)...).Scan(&n)
	return int(n.Int64), err
}

// lastIncentiveState is the escalation state after the person's last test
// row; the zero state when there is none.
func (tx *Tx) lastIncentiveState(ctx context.Context, personID string) (casework.IncentiveState, error) {
	var st casework.IncentiveState
	var s string
	err := tx.QueryRow(ctx, `SELECT state FROM incentive_ledger WHERE person_id = ? AND state <> '' ORDER BY seq DESC LIMIT 1`, personID).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal([]byte(s), &st)
}

// incentiveEvents gathers the person's verified events recorded since
// the first consent that have no ledger row yet, in the order recorded:
//   - the day's first check-in whose verdict is ok (a late-synced one
//     earns only if its verdict is ok);
//   - each test recorded by staff: negative, positive or refused (an
//     invalid sample earns and resets nothing);
//   - each missed drawn test day (the evasion the nightly detection
//     records, R9), unless excused;
//   - each counselling session held.
func (tx *Tx) incentiveEvents(ctx context.Context, personID string, since time.Time) ([]incentiveEvent, error) {
	var out []incentiveEvent
	q := func(query string, scan func(rowScanner) (incentiveEvent, bool, error), args ...any) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			ev, ok, err := scan(rows)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, ev)
			}
		}
		return rows.Err()
	}
	// Check-ins: one award per local day, for its first ok check-in.
	seenDay := map[string]bool{}
	if err := q(`SELECT c.local_date, c.org_id, c.received_at FROM checkins c
		WHERE c.person_id = ? AND c.verdict = ? AND c.received_at >= ?
		AND NOT EXISTS (SELECT 1 FROM incentive_ledger l WHERE l.person_id = c.person_id AND l.source_kind = 'checkin' AND l.source_id = c.local_date)
		ORDER BY c.received_at, c.id`, func(r rowScanner) (incentiveEvent, bool, error) {
		ev := incentiveEvent{kind: "checkin"}
		err := r.Scan(&ev.id, &ev.orgID, &ev.recorded)
		ev.recorded = ev.recorded.UTC()
		ev.day, _ = casework.ParseDate(ev.id)
		first := !seenDay[ev.id]
		seenDay[ev.id] = true
		return ev, err == nil && first, err
	}, personID, string(casework.VerdictOK), since); err != nil {
		return nil, err
	}
	// Tests recorded by staff: the outcome is sealed (R36).
	tests, err := tx.db.drugTests(ctx, tx, `t.person_id = ? AND t.created_at >= ?
		AND NOT EXISTS (SELECT 1 FROM incentive_ledger l WHERE l.person_id = t.person_id AND l.source_kind = 'drug_test' AND l.source_id = t.id)`, personID, since)
	if err != nil {
		return nil, err
	}
	for _, t := range tests {
		ev := incentiveEvent{kind: "drug_test", id: t.ID, orgID: t.OrgID, day: t.TestedOn, recorded: t.CreatedAt}
		switch t.Outcome {
		case casework.OutcomeNegative:
			ev.test = casework.TestEventNegative
		case casework.OutcomePositive:
			ev.test = casework.TestEventPositive
		case casework.OutcomeRefused:
			ev.test = casework.TestEventRefused
		default:
			continue
		}
		out = append(out, ev)
	}
	if err := q(`SELECT v.id, v.org_id, v.day, v.created_at FROM violations v
		WHERE v.person_id = ? AND v.kind = ? AND v.state <> ? AND v.created_at >= ?
		AND NOT EXISTS (SELECT 1 FROM incentive_ledger l WHERE l.person_id = v.person_id AND l.source_kind = 'violation' AND l.source_id = v.id)`,
		func(r rowScanner) (incentiveEvent, bool, error) {
			ev := incentiveEvent{kind: "violation", test: casework.TestEventMissed}
			var at time.Time
			err := r.Scan(&ev.id, &ev.orgID, &ev.day, &at)
			ev.recorded = at.UTC()
			return ev, err == nil, err
		}, personID, string(casework.ViolationMissedTest), string(casework.ViolationExcused), since); err != nil {
		return nil, err
	}
	if err := q(`SELECT s.id, s.org_id, s.held_on, s.created_at FROM counselling_sessions s
		WHERE s.person_id = ? AND s.created_at >= ?
		AND NOT EXISTS (SELECT 1 FROM incentive_ledger l WHERE l.person_id = s.person_id AND l.source_kind = 'session' AND l.source_id = s.id)`,
		func(r rowScanner) (incentiveEvent, bool, error) {
			ev := incentiveEvent{kind: "session"}
			var at time.Time
			err := r.Scan(&ev.id, &ev.orgID, &ev.day, &at)
			ev.recorded = at.UTC()
			return ev, err == nil, err
		}, personID, since); err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b incentiveEvent) int {
		if c := a.recorded.Compare(b.recorded); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return out, nil
}

// IncentiveAccountOf returns the person's account for staff; the read is
// audited like every read of the file (R36).
func (db *DB) IncentiveAccountOf(ctx context.Context, actor *casework.Actor, personID string) (*IncentiveAccount, error) {
	var acc *IncentiveAccount
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.helpPerson(ctx, actor, personID, false)
		if err != nil {
			return err
		}
		if acc, err = tx.incentiveAccount(ctx, personID, r.OrgID); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "incentive.read", TargetType: "person", TargetID: personID, OrgID: r.OrgID})
	})
	return acc, err
}

// AppIncentiveAccount returns the account to the person (the app); the
// device has already been checked.
func (db *DB) AppIncentiveAccount(ctx context.Context, personID string) (*IncentiveAccount, error) {
	var acc *IncentiveAccount
	err := db.Read(ctx, func(tx *Tx) error {
		var orgID string
		if err := tx.QueryRow(ctx, `SELECT org_id FROM persons WHERE id = ?`, personID).Scan(&orgID); err != nil {
			return err
		}
		var err error
		acc, err = tx.incentiveAccount(ctx, personID, orgID)
		return err
	})
	return acc, err
}

func (tx *Tx) incentiveAccount(ctx context.Context, personID, orgID string) (*IncentiveAccount, error) {
	acc := &IncentiveAccount{}
	var err error
	if acc.Consents, err = tx.consents(ctx, personID); err != nil {
		return nil, err
	}
	for i := range acc.Consents {
		if acc.Consents[i].RevokedAt.IsZero() {
			acc.Consent = &acc.Consents[i]
		}
	}
	org, err := tx.orgByID(ctx, orgID)
	if err != nil {
		return nil, err
	}
	p, err := tx.resolvePolicy(ctx, org, tx.today(org))
	if err != nil {
		return nil, err
	}
	acc.Schedule = casework.IncentiveScheduleOf(p)
	rows, err := tx.Query(ctx, `SELECT seq, id, person_id, org_id, rule, points, source_kind, source_id, day, policy_ref, note, created_by, approved_by, created_at
		FROM incentive_ledger WHERE person_id = ? ORDER BY seq DESC`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var l LedgerRow
		if err := rows.Scan(&l.Seq, &l.ID, &l.PersonID, &l.OrgID, &l.Rule, &l.Points, &l.SourceKind, &l.SourceID, &l.Day, &l.PolicyRef, &l.Note,
			&l.CreatedBy, &l.ApprovedBy, &l.CreatedAt); err != nil {
			return nil, err
		}
		l.CreatedAt = l.CreatedAt.UTC()
		acc.Balance += l.Points
		if l.Rule == casework.AwardRedeemed {
			acc.Redeemed -= l.Points
		} else {
			acc.Earned += l.Points
		}
		acc.Rows = append(acc.Rows, l)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if acc.State, err = tx.lastIncentiveState(ctx, personID); err != nil {
		return nil, err
	}
	acc.NextValue, acc.ToReturn, acc.Return = acc.Schedule.NextNegative(acc.State)
	return acc, nil
}

// ReverseIncentive corrects an award that should not have been made (a
// test recorded against the wrong person, say): a new row with the
// opposite points, the reason, and the lead who approved it (issue 14
// §2). The original row stays; a row is reversed at most once.
func (db *DB) ReverseIncentive(ctx context.Context, actor *casework.Actor, personID, rowID, reason string) error {
	reason, err := casework.CleanText("reason", reason, casework.MaxReason)
	if err != nil {
		return err
	}
	if reason == "" {
		return casework.Invalid("reason", "请填写冲正原因", "give the reason for the reversal")
	}
	return db.Write(ctx, func(tx *Tx) error {
		r, err := tx.helpPerson(ctx, actor, personID, true)
		if err != nil {
			return err
		}
		if !actor.Can(casework.PermApproveCorrect, r.OrgPath) {
			return casework.Errorf(casework.EFORBIDDEN, "冲正积分须由负责人批准", "a reversal needs a lead's approval")
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		var l LedgerRow
		err = tx.QueryRow(ctx, `SELECT id, org_id, rule, points, day FROM incentive_ledger WHERE id = ? AND person_id = ?`, rowID, personID).
			Scan(&l.ID, &l.OrgID, &l.Rule, &l.Points, &l.Day)
		if errors.Is(err, sql.ErrNoRows) {
			return casework.Invalid("row_id", "该人员的积分记录中没有这一条", "there is no such row in this person's ledger")
		}
		if err != nil {
			return err
		}
		if l.Points <= 0 || l.Rule == casework.AwardReversal || l.Rule == casework.AwardRedeemed {
			return casework.Errorf(casework.ECONFLICT, "只能冲正获得积分的记录", "only an award can be reversed")
		}
		res, err := tx.Exec(ctx, `INSERT INTO incentive_ledger (id, person_id, org_id, rule, points, source_kind, source_id, day, note, created_by, approved_by, created_at)
			VALUES (?, ?, ?, ?, ?, 'ledger', ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			NewID(), personID, r.OrgID, casework.AwardReversal, -l.Points, l.ID, tx.today(org), reason, actorID(actor), actorID(actor), tx.now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return casework.Errorf(casework.ECONFLICT, "这条记录已冲正", "this row has already been reversed")
		}
		if err := tx.event(ctx, actor, personID, r.OrgID, "incentive.reversed", map[string]any{"points": -l.Points}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "incentive.reverse", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"row_id": l.ID, "points": -l.Points}})
	})
}

type rowScanner interface{ Scan(...any) error }
