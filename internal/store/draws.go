package store

// draws.go: the daily draw job (issue 5 §2) — seed commitments ahead,
// reveals of ended periods, and the materialisation of test days for
// measures new or changed. Reads and lead actions are in draws_read.go.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"kangfu/internal/casework"
)

const (
	// seedsAhead: seeds are committed for this many months after the
	// current one. A surprise segment can be as long as a whole 3-year term
	// (test.surprise_min = 1), and every day of a window needs its month's
	// seed before the draw is made, so the commitments run 40 months ahead;
	// each is made years before its month starts and never changes.
	seedsAhead = 40
	// drawHorizon: intervals and segments starting within this many days
	// are drawn. Drawing a month ahead keeps the job's work per day small
	// (only intervals entering the horizon) and lets a lead excuse a known
	// day in advance; the person still learns only on the day.
	drawHorizon = 31
	drawChunk   = 1000
)

// DrawRun counts what one DailyDraws run did.
type DrawRun struct {
	SeedsCommitted int
	SeedsRevealed  int
	Measures       int // measures whose draws were (re)materialised
	Added          int
	Moved          int // future draws recomputed after a term change (R11, R13)
	Removed        int // future draws no longer owed (released, suspended, term shortened)
}

// SeedOrg returns the org whose seeds draw the tests of persons placed at
// org: the nearest township/street at or above it (where the lead who may
// force or excuse a day sits), or org itself when it lies above that level.
func SeedOrg(orgs map[string]*casework.Org, org *casework.Org) *casework.Org {
	for o := org; o != nil; o = orgs[o.ParentID] {
		if o.Kind == casework.KindTownship {
			return o
		}
		if o.ParentID == "" {
			break
		}
	}
	return org
}

func (tx *Tx) allOrgs(ctx context.Context) (map[string]*casework.Org, error) {
	rows, err := tx.Query(ctx, `SELECT `+orgColumns+` FROM orgs o`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*casework.Org{}
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		out[o.ID] = o
	}
	return out, rows.Err()
}

func chainOf(orgs map[string]*casework.Org, org *casework.Org) []*casework.Org {
	var chain []*casework.Org
	for o := org; o != nil; o = orgs[o.ParentID] {
		chain = append(chain, o)
		if o.ParentID == "" {
			break
		}
	}
	slices.Reverse(chain)
	return chain
}

func seedCtx(orgID, period string) string { return "draw_seed:" + orgID + ":" + period }

// activeMeasure is a measure in force whose person owes tests.
type activeMeasure struct {
	id, personID, placeOrgID string
	kind                     casework.MeasureKind
	start, end               casework.Date
	termMonths               int
	spans                    []casework.StatusSpan
	leaves                   []casework.DateSpan   // days covered by approved leave (R8, R28)
	tiers                    []casework.TierChange // confirmed tiers, by effective day (R31)
}

// DailyDraws is the daily draw job: it commits seeds for the coming
// months, reveals the seeds of months that have ended (in each seed org's
// zone), and materialises the test days of measures that are new, changed
// (suspension, transfer, a corrected term) or whose horizon moved. It is
// idempotent: a second run the same day changes nothing; several servers
// may run it at once (every insert is guarded by a unique key and a seed,
// once committed, is never replaced).
func (db *DB) DailyDraws(ctx context.Context) (DrawRun, error) {
	var run DrawRun
	var orgs map[string]*casework.Org
	var measures []*activeMeasure
	state := map[string][2]string{}
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		if orgs, err = tx.allOrgs(ctx); err != nil {
			return err
		}
		if measures, err = tx.activeMeasures(ctx); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT measure_id, input_key, through FROM draw_state`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, key string
			var through casework.Date
			if err := rows.Scan(&id, &key, &through); err != nil {
				return err
			}
			state[id] = [2]string{key, through.String()}
		}
		return rows.Err()
	})
	if err != nil {
		return run, err
	}
	seedOrgs := map[string]*casework.Org{}
	for _, o := range orgs {
		if o.Kind == casework.KindTownship && !o.Retired {
			seedOrgs[o.ID] = o
		}
	}
	for _, m := range measures {
		if o := orgs[m.placeOrgID]; o != nil {
			s := SeedOrg(orgs, o)
			seedOrgs[s.ID] = s
		}
	}
	if run.SeedsCommitted, run.SeedsRevealed, err = db.commitSeeds(ctx, seedOrgs); err != nil {
		return run, err
	}
	j := &drawJob{db: db, orgs: orgs, seeds: map[string]map[string][]byte{}, policies: map[string]*orgPolicies{}, state: state}
	var todo []*activeMeasure
	for _, m := range measures {
		org := orgs[m.placeOrgID]
		if org == nil {
			continue
		}
		today := casework.DateOf(db.Now(), org.Location())
		st, ok := state[m.id]
		if ok && st[0] == j.inputKey(m) && st[1] >= today.AddDays(drawHorizon).String() {
			continue
		}
		todo = append(todo, m)
	}
	for len(todo) > 0 {
		n := min(len(todo), drawChunk)
		chunk := todo[:n]
		todo = todo[n:]
		if err := db.Write(ctx, func(tx *Tx) error { return j.materialise(ctx, tx, chunk, &run) }); err != nil {
			return run, err
		}
	}
	removed, err := db.dropEndedDraws(ctx)
	run.Removed += removed
	return run, err
}

func (tx *Tx) activeMeasures(ctx context.Context) ([]*activeMeasure, error) {
	rows, err := tx.Query(ctx, `SELECT id, person_id, place_org_id, kind, report_date, term_end, term_months FROM measures
		WHERE in_force = ? AND status IN ('executing', 'on_leave', 'suspended') AND report_date IS NOT NULL AND term_end IS NOT NULL`, true)
	if err != nil {
		return nil, err
	}
	byPerson := map[string]*activeMeasure{}
	var out []*activeMeasure
	for rows.Next() {
		m := &activeMeasure{}
		var kind string
		if err := rows.Scan(&m.id, &m.personID, &m.placeOrgID, &kind, &m.start, &m.end, &m.termMonths); err != nil {
			rows.Close()
			return nil, err
		}
		m.kind = casework.MeasureKind(kind)
		byPerson[m.personID] = m
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT measure_id, person_id, effective_date, to_status FROM status_events ORDER BY effective_date, created_at`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var mid, pid, st string
		var d casework.Date
		if err := rows.Scan(&mid, &pid, &d, &st); err != nil {
			rows.Close()
			return nil, err
		}
		if m := byPerson[pid]; m != nil && m.id == mid {
			m.spans = append(m.spans, casework.StatusSpan{From: d, Status: casework.Status(st)})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := tx.confirmedTiers(ctx, byPerson); err != nil {
		return nil, err
	}
	return out, tx.approvedLeaveSpans(ctx, byPerson)
}

// confirmedTiers adds each person's confirmed tier decisions (R31, R32: a
// proposal never counts) in the order they take effect; a later decision
// for the same day comes after the earlier one.
func (tx *Tx) confirmedTiers(ctx context.Context, byPerson map[string]*activeMeasure) error {
	rows, err := tx.Query(ctx, `SELECT person_id, effective_from, tier FROM risk_assessments
		WHERE state IN ('confirmed', 'overridden') AND effective_from IS NOT NULL ORDER BY effective_from, decided_at`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pid, t string
		var d casework.Date
		if err := rows.Scan(&pid, &d, &t); err != nil {
			return err
		}
		if m := byPerson[pid]; m != nil {
			m.tiers = append(m.tiers, casework.TierChange{From: d, Tier: casework.Tier(t)})
		}
	}
	return rows.Err()
}

// tierChanges are the person's confirmed tiers in the order they take
// effect (R31, R32), as confirmedTiers gives them to the draw job.
func (tx *Tx) tierChanges(ctx context.Context, personID string) ([]casework.TierChange, error) {
	rows, err := tx.Query(ctx, `SELECT effective_from, tier FROM risk_assessments WHERE person_id = ?
		AND state IN ('confirmed', 'overridden') AND effective_from IS NOT NULL ORDER BY effective_from, decided_at`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []casework.TierChange
	for rows.Next() {
		var t string
		var d casework.Date
		if err := rows.Scan(&d, &t); err != nil {
			return nil, err
		}
		out = append(out, casework.TierChange{From: d, Tier: casework.Tier(t)})
	}
	return out, rows.Err()
}

// approvedLeaveSpans adds the days covered by approved leave to each
// measure (a test day is not drawn there while the interval has others).
// An extension asked for and not yet decided covers its days, as in the
// detection; a return reported early ends the cover on that day.
func (tx *Tx) approvedLeaveSpans(ctx context.Context, byPerson map[string]*activeMeasure) error {
	rows, err := tx.Query(ctx, `SELECT person_id, state, from_date, to_date, extension_to, returned_on FROM leaves
		WHERE state IN ('approved', 'extension_requested', 'return_pending', 'returned') ORDER BY from_date, id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pid, state string
		var s casework.DateSpan
		var ext, ret sql.Null[casework.Date]
		if err := rows.Scan(&pid, &state, &s.From, &s.To, &ext, &ret); err != nil {
			return err
		}
		m := byPerson[pid]
		if m == nil || s.To.Before(m.start) {
			continue
		}
		if state == string(casework.LeaveExtensionRequested) && ext.Valid && ext.V.After(s.To) {
			s.To = ext.V
		}
		if ret.Valid && ret.V.Before(s.To) {
			s.To = ret.V
		}
		if !s.To.Before(s.From) {
			m.leaves = append(m.leaves, s)
		}
	}
	return rows.Err()
}

// commitSeeds makes sure every seed org has a committed seed for this
// month and the next seedsAhead, and reveals the seeds of ended months.
func (db *DB) commitSeeds(ctx context.Context, seedOrgs map[string]*casework.Org) (committed, revealed int, err error) {
	have := map[string]bool{}
	type hidden struct{ org, period, enc, hash string }
	var toReveal []hidden
	err = db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT org_id, period, seed_hash, seed_enc, seed IS NOT NULL FROM draw_seeds`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h hidden
			var open bool
			if err := rows.Scan(&h.org, &h.period, &h.hash, &h.enc, &open); err != nil {
				return err
			}
			have[h.org+"|"+h.period] = true
			if o := seedOrgs[h.org]; !open && o != nil && h.period < casework.PeriodOf(casework.DateOf(db.Now(), o.Location())) {
				toReveal = append(toReveal, h)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return 0, 0, err
	}
	ids := make([]string, 0, len(seedOrgs))
	for id := range seedOrgs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	err = db.Write(ctx, func(tx *Tx) error {
		for _, id := range ids {
			today := casework.DateOf(tx.now, seedOrgs[id].Location())
			for i := 0; i <= seedsAhead; i++ {
				p := casework.AddPeriods(today, i)
				if have[id+"|"+p] {
					continue
				}
				seed := make([]byte, casework.SeedSize)
				if _, err := rand.Read(seed); err != nil {
					return err
				}
				enc, err := db.vault.Seal(hex.EncodeToString(seed), seedCtx(id, p))
				if err != nil {
					return err
				}
				res, err := tx.Exec(ctx, `INSERT INTO draw_seeds (org_id, period, seed_hash, seed_enc, committed_at) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT (org_id, period) DO NOTHING`, id, p, casework.SeedHash(seed), enc, tx.now)
				if err != nil {
					return fmt.Errorf("commit seed: %w", err)
				}
				if n, _ := res.RowsAffected(); n > 0 {
					committed++
				}
			}
		}
		for _, h := range toReveal {
			plain, err := db.vault.Open(h.enc, seedCtx(h.org, h.period))
			if err != nil {
				return fmt.Errorf("open seed %s/%s: %w", h.org, h.period, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE draw_seeds SET seed = ?, revealed_at = ? WHERE org_id = ? AND period = ? AND seed IS NULL`,
				plain, tx.now, h.org, h.period); err != nil {
				return err
			}
			revealed++
		}
		if committed+revealed == 0 {
			return nil
		}
		return tx.Audit(ctx, casework.SystemActor("draw-job"), AuditEntry{Action: "draws.seeds", TargetType: "draw_seeds",
			Detail: map[string]any{"committed": committed, "revealed": revealed}})
	})
	return committed, revealed, err
}

// drawJob holds what one run caches: orgs, opened seeds per seed org, and
// policy versions per place of execution.
type drawJob struct {
	db       *DB
	orgs     map[string]*casework.Org
	seeds    map[string]map[string][]byte // seed org → period → seed
	policies map[string]*orgPolicies
	state    map[string][2]string // measure → input key, through
	inserts  []any                // rows for one multi-row INSERT per chunk
	states   []any
}

type orgPolicies struct {
	chain    []*casework.Org
	versions []*casework.PolicyVersion
	// byCount caches resolutions by the number of versions in effect: a
	// resolution depends on the date only through which versions are
	// effective on it (withdrawn ones are not loaded).
	byCount map[int]*casework.EffectivePolicy
}

func (j *drawJob) policyAt(ctx context.Context, tx *Tx, org *casework.Org) (casework.PolicyAt, error) {
	op, ok := j.policies[org.ID]
	if !ok {
		chain := chainOf(j.orgs, org)
		ids := make([]string, len(chain))
		for i, o := range chain {
			ids[i] = o.ID
		}
		vs, err := tx.policyVersionsAt(ctx, ids, false)
		if err != nil {
			return nil, err
		}
		op = &orgPolicies{chain: chain, versions: vs, byCount: map[int]*casework.EffectivePolicy{}}
		j.policies[org.ID] = op
	}
	return func(d casework.Date) *casework.EffectivePolicy {
		n := 0
		for _, v := range op.versions {
			if !v.EffectiveFrom.After(d) {
				n++
			}
		}
		p, ok := op.byCount[n]
		if !ok {
			p = casework.ResolvePolicy(op.chain, op.versions, d)
			op.byCount[n] = p
		}
		return p
	}, nil
}

func (j *drawJob) seedSource(ctx context.Context, tx *Tx, orgID string) (casework.SeedSource, error) {
	m, ok := j.seeds[orgID]
	if !ok {
		m = map[string][]byte{}
		rows, err := tx.Query(ctx, `SELECT period, seed_enc FROM draw_seeds WHERE org_id = ?`, orgID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var p, enc string
			if err := rows.Scan(&p, &enc); err != nil {
				return nil, err
			}
			plain, err := j.db.vault.Open(enc, seedCtx(orgID, p))
			if err != nil {
				return nil, fmt.Errorf("open seed %s/%s: %w", orgID, p, err)
			}
			raw, err := hex.DecodeString(plain)
			if err != nil {
				return nil, err
			}
			m[p] = raw
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		j.seeds[orgID] = m
	}
	return func(p string) ([]byte, bool) { s, ok := m[p]; return s, ok }, nil
}

// inputKey is what a measure's draws depend on besides the policy: kind,
// term, place (its seed org), status history (suspensions, R13) and
// approved leave.
func (j *drawJob) inputKey(m *activeMeasure) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%d|", m.kind, m.start, m.end, m.termMonths)
	if o := j.orgs[m.placeOrgID]; o != nil {
		b.WriteString(SeedOrg(j.orgs, o).ID)
	}
	b.WriteString("|")
	b.WriteString(casework.FormatSpans(casework.SuspensionSpans(m.spans, m.end)))
	if len(m.leaves) > 0 {
		// Only when there is leave: the keys of measures without any stay
		// as they were, so no measure is redrawn for nothing.
		b.WriteString("|leave:")
		b.WriteString(casework.FormatSpans(m.leaves))
	}
	if len(m.tiers) > 0 {
		// Likewise only with a confirmed tier (R31): a change re-splits
		// the surprise segments from its day on.
		b.WriteString("|tier:")
		for _, t := range m.tiers {
			fmt.Fprintf(&b, "%s=%s,", t.From, t.Tier)
		}
	}
	h := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(h[:12])
}

type storedDraw struct {
	id, kind string
	from, to casework.Date
	day      casework.Date
	excused  bool
	seen     bool
}

// materialise draws the test days of the measures (one transaction).
func (j *drawJob) materialise(ctx context.Context, tx *Tx, ms []*activeMeasure, run *DrawRun) error {
	before := *run
	sys := casework.SystemActor("draw-job")
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.id
	}
	existing, err := tx.drawsOfMeasures(ctx, ids)
	if err != nil {
		return err
	}
	j.inserts, j.states = j.inserts[:0], j.states[:0]
	for _, m := range ms {
		org := j.orgs[m.placeOrgID]
		if existing[m.id] == nil {
			existing[m.id] = map[string]*storedDraw{}
		}
		if err := j.materialiseOne(ctx, tx, m, org, existing[m.id], run); err != nil {
			return fmt.Errorf("draws of measure %s: %w", m.id, err)
		}
		run.Measures++
	}
	if err := j.flush(ctx, tx, run); err != nil {
		return err
	}
	if run.Added == before.Added && run.Moved == before.Moved && run.Removed == before.Removed {
		return nil
	}
	return tx.Audit(ctx, sys, AuditEntry{Action: "draws.materialise", TargetType: "test_draws",
		Detail: map[string]any{"measures": run.Measures - before.Measures, "added": run.Added - before.Added,
			"moved": run.Moved - before.Moved, "removed": run.Removed - before.Removed}})
}

func (j *drawJob) materialiseOne(ctx context.Context, tx *Tx, m *activeMeasure, org *casework.Org, existing map[string]*storedDraw, run *DrawRun) error {
	today := casework.DateOf(tx.now, org.Location())
	horizon := today.AddDays(drawHorizon)
	seedOrg := SeedOrg(j.orgs, org)
	policyAt, err := j.policyAt(ctx, tx, org)
	if err != nil {
		return err
	}
	seeds, err := j.seedSource(ctx, tx, seedOrg.ID)
	if err != nil {
		return err
	}
	susp := casework.SuspensionSpans(m.spans, m.end)
	// R22, R23, R31: an interval's length follows the tier in force on
	// its first day when the policy sets the tier's interval.
	in := casework.ScheduleInput{Kind: m.kind, Start: m.start, End: m.end, TermMonths: m.termMonths, Suspended: susp, Tiers: m.tiers}
	ivs, err := casework.TestIntervals(in, policyAt)
	if err != nil {
		return nil // an impossible term draws nothing; the file shows the term problem
	}
	// R24, R31: the surprise tests per term follow the confirmed tier; a
	// change re-splits the segments from the day it takes effect (always
	// after today), so past and today's draws keep their windows.
	segs, _ := casework.SurpriseSegmentsTiered(in, m.tiers, func(d casework.Date, t casework.Tier) int {
		return policyAt(d).ForTier("test.surprise_min", t).Value.Int()
	})
	oldKey := j.state[m.id][0]
	key := j.inputKey(m)
	changed := oldKey != "" && oldKey != key
	// Days held by the measure's draws, counted: a forced day may share its
	// day with a drawn one, and moving the drawn one must still leave the
	// forced day out of the redraw.
	taken := map[casework.Date]int{}
	for _, d := range existing {
		taken[d.day]++
	}
	type span struct {
		kind string
		casework.DateSpan
	}
	var spans []span
	for _, iv := range ivs {
		spans = append(spans, span{casework.DrawScheduled, iv.Span()})
	}
	for _, s := range segs {
		spans = append(spans, span{casework.DrawSurprise, s})
	}
	scorer := casework.NewScorer(seeds)
	for _, s := range spans {
		if s.To.Before(today) || s.From.After(horizon) {
			continue
		}
		ex, has := existing[s.kind+"|"+s.From.String()]
		if has {
			ex.seen = true
			if !ex.day.After(today) || ex.excused || (!changed && ex.to == s.To) {
				continue
			}
		}
		win := casework.DateSpan{From: s.From, To: s.To}
		if !win.From.After(today) {
			win.From = today.AddDays(1) // never drawn for the day it is made
		}
		var others []casework.Date
		for d, n := range taken {
			if has && d == ex.day {
				n-- // the draw being moved does not hold its own day
			}
			if n > 0 && win.Contains(d) {
				others = append(others, d)
			}
		}
		// R9, R8: a day inside approved leave is not drawn while the window
		// has other days; the leave days go into excluded with the rest, so
		// the stored draw recomputes (verify-draws) as any other. When the
		// whole window lies in leave the draw is made without them and the
		// day is a remote test (at the destination, the report uploaded).
		base := casework.MergeDays(susp, others...)
		excl := clipSpans(mergeSpans(base, m.leaves), win)
		day, ok, err := scorer.Draw(casework.DrawSpec{PersonID: m.personID, Purpose: s.kind, IntervalFrom: s.From, Window: win, Excluded: excl})
		remote := false
		if err == nil && !ok && len(m.leaves) > 0 {
			excl = clipSpans(base, win)
			day, ok, err = scorer.Draw(casework.DrawSpec{PersonID: m.personID, Purpose: s.kind, IntervalFrom: s.From, Window: win, Excluded: excl})
			remote = ok
		}
		if errors.Is(err, casework.ErrSeedUnknown) {
			continue // drawn once the seeds exist
		}
		if err != nil {
			return err
		}
		if !ok {
			if has {
				ex.seen = false // nothing eligible any more: dropped below
			}
			continue
		}
		if has {
			if taken[ex.day]--; taken[ex.day] == 0 {
				delete(taken, ex.day)
			}
			if _, err := tx.Exec(ctx, `UPDATE test_draws SET interval_to = ?, win_from = ?, win_to = ?, excluded = ?, day = ?, period = ?, seed_org_id = ?, remote = ?
				WHERE id = ?`, s.To, win.From, win.To, casework.FormatSpans(excl), day, casework.PeriodOf(day), seedOrg.ID, remote, ex.id); err != nil {
				return err
			}
			run.Moved++
		} else {
			j.inserts = append(j.inserts, NewID(), m.personID, m.id, s.kind, seedOrg.ID, s.From, s.To, win.From, win.To,
				casework.FormatSpans(excl), day, casework.PeriodOf(day), remote, tx.now)
		}
		taken[day]++
	}
	for _, ex := range existing {
		if ex.seen || ex.kind == casework.DrawForced || ex.excused || !ex.day.After(today) {
			continue
		}
		if _, err := tx.Exec(ctx, `DELETE FROM test_draws WHERE id = ?`, ex.id); err != nil {
			return err
		}
		run.Removed++
	}
	j.states = append(j.states, m.id, key, horizon, tx.now)
	return nil
}

// flush writes the chunk's new draws and states in multi-row statements
// (a row at a time made inserting the draws of 100k persons the slowest
// part of the job). A draw another server inserted meanwhile is skipped
// by its unique key.
func (j *drawJob) flush(ctx context.Context, tx *Tx, run *DrawRun) error {
	const drawCols, stateCols, perStmt = 14, 4, 400
	for vals := j.inserts; len(vals) > 0; {
		k := min(perStmt, len(vals)/drawCols)
		res, err := tx.Exec(ctx, `INSERT INTO test_draws (id, person_id, measure_id, kind, seed_org_id, interval_from, interval_to, win_from, win_to,
			excluded, day, period, remote, created_at) VALUES `+placeholders(k, drawCols)+` ON CONFLICT (measure_id, kind, interval_from) DO NOTHING`, vals[:k*drawCols]...)
		if err != nil {
			return fmt.Errorf("insert draws: %w", err)
		}
		n, _ := res.RowsAffected()
		run.Added += int(n)
		vals = vals[k*drawCols:]
	}
	for vals := j.states; len(vals) > 0; {
		k := min(perStmt, len(vals)/stateCols)
		if _, err := tx.Exec(ctx, `INSERT INTO draw_state (measure_id, input_key, through, updated_at) VALUES `+placeholders(k, stateCols)+`
			ON CONFLICT (measure_id) DO UPDATE SET input_key = excluded.input_key, through = excluded.through, updated_at = excluded.updated_at`,
			vals[:k*stateCols]...); err != nil {
			return fmt.Errorf("draw state: %w", err)
		}
		vals = vals[k*stateCols:]
	}
	return nil
}

// placeholders returns "(?, …), (?, …)" for rows of cols values.
func placeholders(rows, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}

// mergeSpans returns the days of a and b as sorted spans, overlapping or
// touching spans joined (the stored excluded list stays short and plain).
func mergeSpans(a, b []casework.DateSpan) []casework.DateSpan {
	if len(b) == 0 {
		return a
	}
	all := append(slices.Clone(a), b...)
	slices.SortFunc(all, func(x, y casework.DateSpan) int { return x.From.Compare(y.From) })
	out := all[:1]
	for _, s := range all[1:] {
		last := &out[len(out)-1]
		if !s.From.After(last.To.AddDays(1)) {
			if s.To.After(last.To) {
				last.To = s.To
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// clipSpans keeps the parts of spans inside win.
func clipSpans(spans []casework.DateSpan, win casework.DateSpan) []casework.DateSpan {
	var out []casework.DateSpan
	for _, s := range spans {
		if s.To.Before(win.From) || s.From.After(win.To) {
			continue
		}
		if s.From.Before(win.From) {
			s.From = win.From
		}
		if s.To.After(win.To) {
			s.To = win.To
		}
		out = append(out, s)
	}
	return out
}

// drawsOfMeasures loads the stored days of the measures, by measure and
// kind|interval start.
func (tx *Tx) drawsOfMeasures(ctx context.Context, ids []string) (map[string]map[string]*storedDraw, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.Query(ctx, `SELECT measure_id, id, kind, interval_from, interval_to, day, excused_reason <> '' FROM test_draws
		WHERE measure_id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]*storedDraw{}
	for rows.Next() {
		var mid string
		d := &storedDraw{}
		if err := rows.Scan(&mid, &d.id, &d.kind, &d.from, &d.to, &d.day, &d.excused); err != nil {
			return nil, err
		}
		if out[mid] == nil {
			out[mid] = map[string]*storedDraw{}
		}
		out[mid][d.kind+"|"+d.from.String()] = d
	}
	return out, rows.Err()
}

// dropEndedDraws removes the future drawn days of measures no longer owing
// tests (released, terminated, transferred out, deceased): a day not yet
// come is no duty any more. Days past stay, as do forced and excused ones.
func (db *DB) dropEndedDraws(ctx context.Context) (int, error) {
	n := 0
	err := db.Write(ctx, func(tx *Tx) error {
		// No zone is more than a day ahead of UTC: a day after tomorrow UTC
		// is in the future everywhere.
		cut := casework.DateOf(tx.now.Add(24*time.Hour), time.UTC)
		res, err := tx.Exec(ctx, `DELETE FROM test_draws WHERE kind <> 'forced' AND excused_reason = '' AND day > ? AND measure_id IN
			(SELECT id FROM measures WHERE in_force = ? OR status NOT IN ('executing', 'on_leave', 'suspended'))`, cut, false)
		if err != nil {
			return err
		}
		k, _ := res.RowsAffected()
		if n = int(k); n == 0 {
			return nil
		}
		return tx.Audit(ctx, casework.SystemActor("draw-job"), AuditEntry{Action: "draws.drop_ended", TargetType: "test_draws",
			Detail: map[string]any{"removed": n}})
	})
	return n, err
}
