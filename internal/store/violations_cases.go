package store

// violations_cases.go: opening serious cases when R9's counts reach the
// thresholds in force, or at once on a positive test or drug use (R10).
// One case per trigger and measure (per test for a positive): the unique
// key makes a second crossing, a rerun or a second server insert nothing.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"kangfu/internal/casework"
)

// violationSettings are the policy settings a case's thresholds come from.
var violationSettings = []string{"violation.refusals_max", "violation.departures_max", "violation.absence_days_max"}

func thresholdsOf(p *casework.EffectivePolicy) casework.Thresholds {
	return casework.Thresholds{Refusals: p.Value("violation.refusals_max").Int(), Departures: p.Value("violation.departures_max").Int(),
		AbsenceDays: p.Value("violation.absence_days_max").Int()}
}

// r9Counts counts a measure's violations over its whole term, excused ones
// left out (R9).
func (tx *Tx) r9Counts(ctx context.Context, measureID string) (casework.R9Counts, error) {
	var c casework.R9Counts
	rows, err := tx.Query(ctx, `SELECT kind, COUNT(*), COALESCE(SUM(days), 0) FROM violations
		WHERE measure_id = ? AND state <> ? AND kind IN (?, ?, ?) GROUP BY kind`, measureID, string(casework.ViolationExcused),
		string(casework.ViolationRefusedTest), string(casework.ViolationMissedTest), string(casework.ViolationDeparture))
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var n, days int
		if err := rows.Scan(&kind, &n, &days); err != nil {
			return c, err
		}
		switch casework.ViolationKind(kind) {
		case casework.ViolationDeparture:
			c.Departures, c.AbsenceDays = n, days
		default:
			c.Refusals += n
		}
	}
	return c, rows.Err()
}

// checkThresholds opens the serious cases the measures' counts now reach.
func (r *detectRun) checkThresholds(ctx context.Context, tx *Tx, measures map[string]*detectPerson) error {
	for _, p := range measures {
		c, err := tx.r9Counts(ctx, p.measureID)
		if err != nil {
			return err
		}
		pol, err := r.policy(ctx, tx, p.orgID)
		if err != nil {
			return err
		}
		t := thresholdsOf(pol)
		for _, trig := range c.Serious(t) {
			statutory := c.Statutory(trig)
			detail := map[string]any{"refusals": c.Refusals, "departures": c.Departures, "absence_days": c.AbsenceDays,
				"refusals_max": t.Refusals, "departures_max": t.Departures, "absence_days_max": t.AbsenceDays, "statutory": statutory}
			if err := r.openCase(ctx, tx, p, trig, "", detail, statutory); err != nil {
				return err
			}
			if statutory {
				// A case opened on a lowered threshold becomes the law's
				// once the counts reach the law's threshold too (R9).
				if err := tx.upgradeCase(ctx, p, trig); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// openCase opens a serious case unless the trigger already has one.
func (r *detectRun) openCase(ctx context.Context, tx *Tx, p *detectPerson, trig casework.CaseTrigger, key string, detail map[string]any, statutory bool) error {
	if p == nil {
		return nil
	}
	pol, err := r.policy(ctx, tx, p.orgID)
	if err != nil {
		return err
	}
	n, err := tx.openCase(ctx, detectActor, p.id, p.measureID, p.orgID, trig, key, detail, strings.Join(pol.Refs(violationSettings...), ","),
		casework.DateOf(r.now, r.orgs[p.orgID].Location()), statutory)
	r.res.Cases += n
	return err
}

// openCase inserts a case (ON CONFLICT DO NOTHING) and audits a new one;
// it returns 1 when it opened one.
func (tx *Tx) openCase(ctx context.Context, actor *casework.Actor, personID, measureID, orgID string, trig casework.CaseTrigger, key string,
	detail map[string]any, policyRef string, today casework.Date, statutory bool) (int, error) {
	b, err := json.Marshal(detail)
	if err != nil {
		return 0, err
	}
	id := NewID()
	res, err := tx.Exec(ctx, `INSERT INTO serious_cases (id, person_id, measure_id, org_id, trigger_kind, trigger_key, counts, policy_ref, state,
		opened_on, created_at, updated_at, statutory) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (measure_id, trigger_kind, trigger_key) DO NOTHING`,
		id, personID, measureID, orgID, string(trig), key, string(b), policyRef, string(casework.CaseOpen), today, tx.now, tx.now, statutory)
	if err != nil {
		return 0, fmt.Errorf("open serious case: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, nil
	}
	if err := tx.event(ctx, actor, personID, orgID, "case.opened", map[string]any{"case_id": id, "trigger": string(trig)}); err != nil {
		return 0, err
	}
	// The worker and lead who must report it learn of it at once (R10).
	if _, err := tx.NotifyStaff(ctx, StaffNotice{PersonID: personID, Perm: casework.PermReportCase, Kind: "case.opened",
		TitleZH: "新的严重违规案件，须报告公安机关（" + trig.CaseLabel(statutory, "zh") + "）", TitleEN: "New serious case to report to the police (" + trig.CaseLabel(statutory, "en") + ")",
		Link: "/cases/" + id, Key: "case.opened:" + id}); err != nil {
		return 0, err
	}
	return 1, tx.Audit(ctx, actor, AuditEntry{Action: "case.open", TargetType: "serious_case", TargetID: id, OrgID: orgID,
		Detail: map[string]any{"person_id": personID, "trigger": string(trig), "key": key, "counts": detail, "policy": policyRef}})
}

// upgradeCase marks the measure's case for an R9 trigger statutory once the
// law's threshold is reached (it was opened on a policy's lower one).
func (tx *Tx) upgradeCase(ctx context.Context, p *detectPerson, trig casework.CaseTrigger) error {
	res, err := tx.Exec(ctx, `UPDATE serious_cases SET statutory = ?, updated_at = ? WHERE measure_id = ? AND trigger_kind = ? AND trigger_key = '' AND statutory = ?`,
		true, tx.now, p.measureID, string(trig), false)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return tx.event(ctx, detectActor, p.id, p.orgID, "case.statutory", map[string]any{"trigger": string(trig)})
}
