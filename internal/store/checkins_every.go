package store

// checkins_every.go: the check-in frequency (policy checkin.every_days and
// its tier variants, issue 13 §4, R31) of each person over time, as
// casework.Cadence: read by every figure that asks whether a check-in was
// owed on a day (personDuty, the board, the app's today, the inbox, the
// nightly detection, the reports, the file).

import (
	"context"
	"database/sql"
	"strings"

	"kangfu/internal/casework"
)

// cadenceSource builds cadences with each org's policy chain read once.
type cadenceSource struct {
	tx   *Tx
	orgs map[string]*everyPolicies
}

type everyPolicies struct {
	org      *casework.Org
	chain    []*casework.Org
	versions []*casework.PolicyVersion
	resolved map[casework.Date]*casework.EffectivePolicy
}

func newCadenceSource(tx *Tx) *cadenceSource {
	return &cadenceSource{tx: tx, orgs: map[string]*everyPolicies{}}
}

func (c *cadenceSource) org(ctx context.Context, orgID string) (*everyPolicies, error) {
	if o, ok := c.orgs[orgID]; ok {
		return o, nil
	}
	org, err := c.tx.orgByID(ctx, orgID)
	if err != nil {
		return nil, err
	}
	chain, err := c.tx.orgChain(ctx, org)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(chain))
	for i, o := range chain {
		ids[i] = o.ID
	}
	vs, err := c.tx.policyVersionsAt(ctx, ids, false)
	if err != nil {
		return nil, err
	}
	o := &everyPolicies{org: org, chain: chain, versions: vs, resolved: map[casework.Date]*casework.EffectivePolicy{}}
	c.orgs[orgID] = o
	return o, nil
}

func (o *everyPolicies) policy(d casework.Date) *casework.EffectivePolicy {
	p, ok := o.resolved[d]
	if !ok {
		p = casework.ResolvePolicy(o.chain, o.versions, d)
		o.resolved[d] = p
	}
	return p
}

// everyChanges are the effective dates of the versions that set a check-in
// frequency (checkin.every_days or a tier's).
func (o *everyPolicies) everyChanges() []casework.Date {
	var out []casework.Date
	for _, v := range o.versions {
		for k := range v.Settings {
			if k == "checkin.every_days" || strings.HasPrefix(k, "checkin.tier.") && strings.HasSuffix(k, ".every_days") {
				out = append(out, v.EffectiveFrom)
				break
			}
		}
	}
	return out
}

type datedOrg struct {
	from  casework.Date
	orgID string
}

type datedTier struct {
	from casework.Date
	tier casework.Tier
}

// cadencesOf returns the cadence of each person through to: anchored at
// the duty start (casework.DutyStart of spans and apps), changing where a
// policy version setting the frequency, a confirmed tier (tierAt) or a
// transfer (custody) takes effect. Persons owing nothing by then have a
// zero cadence.
func (c *cadenceSource) cadencesOf(ctx context.Context, ids []string, spans map[string][]casework.StatusSpan,
	apps map[string][]casework.AppSpan, to casework.Date) (map[string]casework.Cadence, error) {
	out := map[string]casework.Cadence{}
	starts := map[string]casework.Date{}
	var need []string
	for _, id := range ids {
		if s := casework.DutyStart(spans[id], apps[id], to); !s.IsZero() {
			starts[id] = s
			need = append(need, id)
		}
	}
	orgs := map[string][]datedOrg{}
	tiers := map[string][]datedTier{}
	for len(need) > 0 {
		part := need[:min(len(need), spansChunk)]
		need = need[len(part):]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		in := "(?" + strings.Repeat(", ?", len(part)-1) + ")"
		// The place of execution over time: custody (R11), and the
		// person's org for the days before the first custody.
		rows, err := c.tx.Query(ctx, `SELECT p.id, p.org_id, c.org_id, c.from_at, co.time_zone FROM persons p
			LEFT JOIN custody c ON c.person_id = p.id LEFT JOIN orgs co ON co.id = c.org_id
			WHERE p.id IN `+in+` ORDER BY p.id, c.from_at`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var pid, orgID string
			var cOrg, zone sql.NullString
			var at sql.NullTime
			if err := rows.Scan(&pid, &orgID, &cOrg, &at, &zone); err != nil {
				rows.Close()
				return nil, err
			}
			if len(orgs[pid]) == 0 {
				orgs[pid] = append(orgs[pid], datedOrg{orgID: orgID})
			}
			if cOrg.Valid && at.Valid {
				orgs[pid] = append(orgs[pid], datedOrg{from: casework.DateOf(at.Time, casework.LoadLocation(zone.String)), orgID: cOrg.String})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		rows, err = c.tx.Query(ctx, `SELECT person_id, tier, effective_from FROM risk_assessments WHERE person_id IN `+in+`
			AND state IN ('confirmed', 'overridden') ORDER BY person_id, effective_from, decided_at`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var pid, t string
			var d casework.Date
			if err := rows.Scan(&pid, &t, &d); err != nil {
				rows.Close()
				return nil, err
			}
			tiers[pid] = append(tiers[pid], datedTier{from: d, tier: casework.Tier(t)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for id, start := range starts {
		cad, err := c.cadence(ctx, start, to, orgs[id], tiers[id])
		if err != nil {
			return nil, err
		}
		out[id] = cad
	}
	return out, nil
}

func (c *cadenceSource) cadence(ctx context.Context, start, to casework.Date, orgs []datedOrg, tiers []datedTier) (casework.Cadence, error) {
	if len(orgs) == 0 {
		return casework.Cadence{}, nil
	}
	// The first custody row stands for every day before it (a file
	// registered after its measure began).
	orgAt := func(d casework.Date) string {
		id := orgs[0].orgID
		if len(orgs) > 1 {
			id = orgs[1].orgID
		}
		for _, o := range orgs[1:] {
			if !o.from.After(d) {
				id = o.orgID
			}
		}
		return id
	}
	tierAt := func(d casework.Date) casework.Tier {
		var t casework.Tier
		for _, x := range tiers {
			if !x.from.After(d) {
				t = x.tier
			}
		}
		return t
	}
	dates := []casework.Date{start}
	add := func(d casework.Date) {
		if d.After(start) && !d.After(to) {
			dates = append(dates, d)
		}
	}
	seen := map[string]bool{}
	for _, o := range orgs {
		add(o.from)
		if seen[o.orgID] {
			continue
		}
		seen[o.orgID] = true
		op, err := c.org(ctx, o.orgID)
		if err != nil {
			return casework.Cadence{}, err
		}
		for _, d := range op.everyChanges() {
			add(d)
		}
	}
	for _, t := range tiers {
		add(t.from)
	}
	changes := make([]casework.EverySpan, 0, len(dates))
	for _, d := range dates {
		op, err := c.org(ctx, orgAt(d))
		if err != nil {
			return casework.Cadence{}, err
		}
		pol, tier := op.policy(d), tierAt(d)
		keys := []string{"checkin.every_days"}
		if tier != "" {
			keys = append(keys, casework.TierSettingKey("checkin.every_days", tier))
		}
		changes = append(changes, casework.EverySpan{From: d, N: pol.ForTier("checkin.every_days", tier).Value.Int(),
			Ref: strings.Join(pol.Refs(keys...), ",")})
	}
	return casework.NewCadence(start, changes), nil
}

// cadenceOf is cadencesOf for one person.
func (c *cadenceSource) cadenceOf(ctx context.Context, personID string, spans []casework.StatusSpan, apps []casework.AppSpan, to casework.Date) (casework.Cadence, error) {
	m, err := c.cadencesOf(ctx, []string{personID}, map[string][]casework.StatusSpan{personID: spans}, map[string][]casework.AppSpan{personID: apps}, to)
	return m[personID], err
}
