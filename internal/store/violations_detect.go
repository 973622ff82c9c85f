package store

// violations_detect.go: the nightly detection of violations (issue 5 §4):
// missed check-in days, unauthorised departures and absence days (R8, R9),
// refused and positive tests (R9, R10), overdue report-in (R1, R2), and
// the serious cases their counts open (R9, R10).
//
// Incremental: a per-person watermark (violation_watch: the last local day
// judged and the trip under way, casework.Trip) means a night reads only
// the days after it — for everyone, normally one day — in chunks of
// persons; the cost grows with persons, not with persons × days of
// history. Tests are read by creation time since the last run, late
// check-ins by receipt time. Idempotent and safe with several servers at
// once: every violation and case has a unique source key and is inserted
// with ON CONFLICT DO NOTHING, and a watermark only moves forward.
//
// A check-in that syncs late for a day already judged missed explains that
// violation by itself (state explained, reason naming the check-in): the
// duty was done, only the upload was late. A late check-in does not
// re-judge a trip: days away are judged on what was known that night.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// DetectResult is what a detection run did.
type DetectResult struct {
	Persons    int                            // persons with a measure in force looked at
	Days       int                            // person-days judged
	Created    map[casework.ViolationKind]int // new violations by kind
	Cases      int                            // serious cases opened
	Explained  int                            // missed days explained by a late check-in
	TestsRead  int                            // test records read
	Duration   time.Duration
	Chunks     int
	Backfilled int // persons judged from their report date (no watermark yet)
	Mixed      int // new violations of a batch partly known already (a race with another server), kinds not told apart
}

// Total is the number of new violations.
func (r DetectResult) Total() int {
	n := r.Mixed
	for _, v := range r.Created {
		n += v
	}
	return n
}

// detectChunk is how many persons one transaction judges.
const detectChunk = 500

// detectOverlap re-reads tests and check-ins a little before the last run,
// so a record committed while that run was reading is not missed (its
// violation, if any, is then found twice and inserted once).
const detectOverlap = time.Hour

const detectSinceKey = "violations.detect.since"

// detectPerson is one person with a measure in force and its watermark.
type detectPerson struct {
	id, orgID, measureID string
	status               casework.Status
	statusSince          casework.Date
	reportDate           casework.Date
	reportDeadline       casework.Date
	reportedOn           casework.Date // the report-in for reportDeadline (zero: none yet)
	through              casework.Date // last day judged for this measure (zero: none)
	trip                 casework.Trip
	start, end           casework.Date // the days to judge tonight
	org                  *casework.Org
}

// violationRow is a violation to insert.
type violationRow struct {
	personID, measureID, orgID string
	kind                       casework.ViolationKind
	sourceKey                  string
	day, lastDay               casework.Date
	days                       int
	detail                     string
	police                     bool
	policyRef                  string
}

// detectRun carries one run's caches.
type detectRun struct {
	db       *DB
	today    casework.Date
	now      time.Time
	orgs     map[string]*casework.Org
	fences   map[string]*casework.Geofence // org id → its county's geofence
	policies map[string]*casework.EffectivePolicy
	res      *DetectResult
}

// DetectViolations runs the nightly detection for the night before today
// (each org's local today caps it: a day is judged only once it is over
// where the person lives). Call it from the nightly job; running it again
// the same night, or on two servers at once, creates nothing twice.
func (db *DB) DetectViolations(ctx context.Context, today casework.Date) (DetectResult, error) {
	started := time.Now()
	res := DetectResult{Created: map[casework.ViolationKind]int{}}
	run := &detectRun{db: db, today: today, now: db.Now(), fences: map[string]*casework.Geofence{},
		policies: map[string]*casework.EffectivePolicy{}, res: &res}
	var since time.Time
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		if run.orgs, err = tx.allOrgs(ctx); err != nil {
			return err
		}
		var s string
		err = tx.QueryRow(ctx, `SELECT value FROM settings WHERE name = ?`, detectSinceKey).Scan(&s)
		switch {
		case err == nil:
			since, _ = time.Parse(time.RFC3339Nano, s)
		case err != sql.ErrNoRows:
			return err
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	persons, err := run.loadPersons(ctx)
	if err != nil {
		return res, err
	}
	res.Persons = len(persons)
	byID := make(map[string]*detectPerson, len(persons))
	for _, p := range persons {
		byID[p.id] = p
	}
	// Late check-ins are judged against the watermarks as they were before
	// tonight's chunks move them.
	if !since.IsZero() {
		if err := run.explainLate(ctx, byID, since.Add(-detectOverlap)); err != nil {
			return res, err
		}
	}
	slices.SortFunc(persons, func(a, b *detectPerson) int { return a.start.Compare(b.start) })
	for i := 0; i < len(persons); i += detectChunk {
		chunk := persons[i:min(i+detectChunk, len(persons))]
		if err := run.judgeChunk(ctx, chunk); err != nil {
			return res, err
		}
		res.Chunks++
	}
	if err := run.detectSources(ctx, byID, since); err != nil {
		return res, err
	}
	err = db.Write(ctx, func(tx *Tx) error {
		v := run.now.Format(time.RFC3339Nano)
		if _, err := tx.Exec(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, detectSinceKey, v); err != nil {
			return err
		}
		if res.Total() == 0 && res.Cases == 0 && res.Explained == 0 {
			return nil
		}
		created := map[string]int{}
		for k, n := range res.Created {
			created[string(k)] = n
		}
		return tx.Audit(ctx, detectActor, AuditEntry{Action: "violation.detect", TargetType: "run", TargetID: today.String(),
			Detail: map[string]any{"created": created, "cases": res.Cases, "explained": res.Explained, "persons": res.Persons, "days": res.Days}})
	})
	res.Duration = time.Since(started)
	return res, err
}

var detectActor = casework.SystemActor("detect-violations")

// countyFence returns the geofence of the county the org lies in (R8: the
// county is the unit of leaving), or nil when none is drawn.
func (r *detectRun) countyFence(orgID string) *casework.Geofence {
	if g, ok := r.fences[orgID]; ok {
		return g
	}
	var g *casework.Geofence
	if o := r.orgs[orgID]; o != nil {
		for _, id := range strings.Split(strings.Trim(o.Path, "/"), "/") {
			if a := r.orgs[id]; a != nil && a.Kind == casework.KindCounty {
				g = a.Geofence
			}
		}
	}
	r.fences[orgID] = g
	return g
}

// policy is the policy in force today at the org (cached for the run).
func (r *detectRun) policy(ctx context.Context, tx *Tx, orgID string) (*casework.EffectivePolicy, error) {
	if p, ok := r.policies[orgID]; ok {
		return p, nil
	}
	org := r.orgs[orgID]
	if org == nil {
		return nil, fmt.Errorf("detect: org %s not found", orgID)
	}
	p, err := tx.resolvePolicy(ctx, org, r.today)
	if err != nil {
		return nil, err
	}
	r.policies[orgID] = p
	return p, nil
}

// loadPersons reads every measure in force with its person's place and the
// watermark, and works out the days to judge tonight.
func (r *detectRun) loadPersons(ctx context.Context) ([]*detectPerson, error) {
	var out []*detectPerson
	err := r.db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT m.person_id, p.org_id, m.id, m.status, m.status_since, m.report_date, m.report_deadline, m.reported_on,
			COALESCE(w.measure_id, ''), w.through, w.trip_start, COALESCE(w.trip_days, 0), COALESCE(w.trip_qualified, ?)
			FROM measures m JOIN persons p ON p.id = m.person_id LEFT JOIN violation_watch w ON w.person_id = m.person_id
			WHERE m.in_force = ?`, false, true)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p detectPerson
			var status, wm string
			var rep, through, tripStart sql.Null[casework.Date]
			if err := rows.Scan(&p.id, &p.orgID, &p.measureID, &status, &p.statusSince, &rep, &p.reportDeadline, &p.reportedOn,
				&wm, &through, &tripStart, &p.trip.Days, &p.trip.Qualified); err != nil {
				return err
			}
			p.status, p.reportDate = casework.Status(status), rep.V
			if wm == p.measureID && through.Valid {
				p.through, p.trip.Start = through.V, tripStart.V
			} else {
				p.trip = casework.Trip{} // a new measure: a new term, a new count (R9)
			}
			p.org = r.orgs[p.orgID]
			if p.org == nil {
				continue
			}
			local := casework.DateOf(r.now, p.org.Location())
			p.end = r.today.AddDays(-1)
			if local.Before(r.today) {
				p.end = local.AddDays(-1)
			}
			switch {
			case !p.through.IsZero():
				p.start = p.through.AddDays(1)
			case !p.reportDate.IsZero():
				p.start = p.reportDate
			default:
				p.start = p.end.AddDays(1) // not reported yet: no duty days
			}
			out = append(out, &p)
		}
		return rows.Err()
	})
	return out, err
}

// overdueReport is the deemed refusal (R1, R2, R5; after a transfer R11)
// when the day after the report deadline is among the days not yet judged:
// lateness is judged from the dates (casework.ReportLate), not from the
// status the night finds — a report recorded on day 16, or a measure
// entered with a report date after its deadline, is late all the same. A
// person held (中止, R13) by the deadline is not refusing (the deadline is
// set again on release); one detained after it had passed refused while
// free. The first report-in keeps the measure's id as its
// source key; a later deadline (a new place) adds its date.
func (p *detectPerson) overdueReport() (violationRow, bool) {
	late := p.reportDeadline.AddDays(1)
	if p.reportDeadline.IsZero() || late.After(p.end) || (!p.through.IsZero() && !p.through.Before(late)) ||
		!casework.ReportLate(p.reportDeadline, p.reportedOn, p.end) ||
		(p.reportedOn.IsZero() && !(p.status == casework.StatusPendingReport || (p.status == casework.StatusSuspended && p.statusSince.After(p.reportDeadline)))) {
		return violationRow{}, false
	}
	key := p.measureID
	if !p.reportDate.IsZero() && p.reportedOn != p.reportDate {
		key += "/" + p.reportDeadline.String()
	}
	return violationRow{personID: p.id, measureID: p.measureID, orgID: p.orgID, kind: casework.ViolationOverdueReport,
		sourceKey: key, day: late, lastDay: late, police: true}, true
}

// dayObs is what is known of one day: whether the check-in duty was done,
// and the evidence of being home or away (casework.DayFacts).
type dayObs struct {
	done       bool // a check-in that discharged the day (counts, issue 18 §2)
	home, away bool
	// held: a check-in that passed its checks but whose face did not match
	// or whose liveness failed (issue 17). It does not discharge the day,
	// yet the day is not recorded as missed either: a person reviews it,
	// and nothing adverse follows from the machine's judgement (R32).
	held bool
}

// leaveSpan is a leave as detection sees it.
type leaveSpan struct {
	from, to   casework.Date // covered days (approved, or extension asked)
	reportedOn casework.Date // zero while not reported back
	filed      bool          // filed, not decided: covers only where a written report suffices (R8)
}

func (l leaveSpan) covers(d casework.Date) bool { return !d.Before(l.from) && !d.After(l.to) }

func (l leaveSpan) overdue(d casework.Date) bool {
	if l.filed || !d.After(l.to) {
		return false // an undecided request has no return to report (R28)
	}
	return l.reportedOn.IsZero() || d.Before(l.reportedOn)
}

// judgeChunk judges the new days of a chunk of persons and writes the
// violations, departures and watermarks in one transaction.
func (r *detectRun) judgeChunk(ctx context.Context, chunk []*detectPerson) error {
	return r.db.Write(ctx, func(tx *Tx) error {
		var todo []*detectPerson
		from, to := casework.Date{}, casework.Date{}
		var rows []violationRow
		var marks []*detectPerson
		for _, p := range chunk {
			if v, ok := p.overdueReport(); ok {
				rows = append(rows, v)
			}
			if p.reportDate.IsZero() {
				// The watermark moves on while the person has not reported:
				// those days owe no check-in (no app before report-in), so a
				// report date entered later does not reopen them.
				if p.through.Before(p.end) {
					p.through = p.end
					marks = append(marks, p)
				}
				continue
			}
			if p.start.After(p.end) {
				continue
			}
			todo = append(todo, p)
			if from.IsZero() || p.start.Before(from) {
				from = p.start
			}
			if p.end.After(to) {
				to = p.end
			}
		}
		if len(todo) > 0 {
			dd, err := r.loadDays(ctx, tx, todo, from, to)
			if err != nil {
				return err
			}
			ids := make([]string, len(todo))
			for i, p := range todo {
				ids[i] = p.id
			}
			apps, err := tx.appSpansOf(ctx, ids)
			if err != nil {
				return err
			}
			// The check-in frequency (checkin.every_days, issue 13 §4):
			// only a check-in day can be missed.
			spans, err := tx.personSpansOf(ctx, ids)
			if err != nil {
				return err
			}
			cads, err := newCadenceSource(tx).cadencesOf(ctx, ids, spans, apps, to)
			if err != nil {
				return err
			}
			for _, p := range todo {
				if p.through.IsZero() {
					r.res.Backfilled++
				}
				vs, err := r.walk(ctx, tx, p, dd.obs[p.id], dd.leaves[p.id], apps[p.id], cads[p.id])
				if err != nil {
					return err
				}
				rows = append(rows, vs...)
				marks = append(marks, p)
			}
		}
		affected, err := r.insertViolations(ctx, tx, rows)
		if err != nil {
			return err
		}
		if err := r.saveWatermarks(ctx, tx, marks); err != nil {
			return err
		}
		return r.checkThresholds(ctx, tx, affected)
	})
}

// detectDays is what loadDays gives a chunk: per person, the evidence by
// day and the leaves.
type detectDays struct {
	ps     []*detectPerson
	byID   map[string]*detectPerson
	ids    []any
	in     string // "(?, ?, …)" over ids
	from   casework.Date
	to     casework.Date
	obs    map[string]map[casework.Date]*dayObs
	leaves map[string][]leaveSpan
}

func (dd *detectDays) day(pid string, d casework.Date) *dayObs {
	p := dd.byID[pid]
	if p == nil || d.Before(p.start) || d.After(p.end) {
		return nil
	}
	m := dd.obs[pid]
	if m == nil {
		m = map[casework.Date]*dayObs{}
		dd.obs[pid] = m
	}
	o := m[d]
	if o == nil {
		o = &dayObs{}
		m[d] = o
	}
	return o
}

// evidenceSource adds one kind of record's evidence of being home or away
// (R9: a trip runs from the first evidence of being away to the last day
// before the next evidence of being home) to the chunk's days.
type evidenceSource func(ctx context.Context, r *detectRun, tx *Tx, dd *detectDays) error

// dayEvidence lists the sources of evidence. Check-ins (inside or outside
// the county) and tests (at home, or remote) today; visits will be one more
// entry.
var dayEvidence = []evidenceSource{checkinEvidence, testEvidence}

// loadDays reads the chunk's leaves and evidence in [from, to].
func (r *detectRun) loadDays(ctx context.Context, tx *Tx, ps []*detectPerson, from, to casework.Date) (*detectDays, error) {
	dd := &detectDays{ps: ps, byID: make(map[string]*detectPerson, len(ps)), ids: make([]any, len(ps)), from: from, to: to,
		obs: map[string]map[casework.Date]*dayObs{}, leaves: map[string][]leaveSpan{}}
	for i, p := range ps {
		dd.ids[i] = p.id
		dd.byID[p.id] = p
	}
	dd.in = "(?" + strings.Repeat(", ?", len(ps)-1) + ")"
	lrows, err := tx.Query(ctx, `SELECT person_id, state, from_date, to_date, extension_to, returned_on, updated_at FROM leaves
		WHERE person_id IN `+dd.in+` AND state IN ('pending', 'approved', 'extension_requested', 'return_pending', 'returned') AND from_date <= ?`,
		append(slices.Clone(dd.ids), to)...)
	if err != nil {
		return nil, err
	}
	for lrows.Next() {
		var pid, state string
		var l leaveSpan
		var ext, ret sql.Null[casework.Date]
		var updated time.Time
		if err := lrows.Scan(&pid, &state, &l.from, &l.to, &ext, &ret, &updated); err != nil {
			lrows.Close()
			return nil, err
		}
		if l.filed = state == string(casework.LeavePending); l.filed {
			// R8: the report is made before leaving. A pending request
			// covers from the day it was filed (last changed) on, in the
			// place's zone, not the days already gone before it.
			if on := casework.DateOf(updated, dd.byID[pid].org.Location()); on.After(l.from) {
				l.from = on
			}
		}
		// An extension asked for and not yet decided covers its days:
		// the person asked in time (R28); a refusal ends it at to_date.
		if state == string(casework.LeaveExtensionRequested) && ext.Valid && ext.V.After(l.to) {
			l.to = ext.V
		}
		if ret.Valid {
			l.reportedOn = ret.V
			if l.reportedOn.Before(l.to) {
				l.to = l.reportedOn
			}
		}
		if (!l.reportedOn.IsZero() && l.reportedOn.Before(from)) || (l.filed && l.to.Before(from)) {
			continue
		}
		dd.leaves[pid] = append(dd.leaves[pid], l)
	}
	lrows.Close()
	if err := lrows.Err(); err != nil {
		return nil, err
	}
	for _, src := range dayEvidence {
		if err := src(ctx, r, tx, dd); err != nil {
			return nil, err
		}
	}
	return dd, nil
}

// checkinEvidence: a check-in does the day's duty and is evidence of being
// home (inside the county) or away (outside it).
func checkinEvidence(ctx context.Context, r *detectRun, tx *Tx, dd *detectDays) error {
	rows, err := tx.Query(ctx, `SELECT person_id, id, local_date, verdict, loc_enc, counts, checks_count, identity_outcome FROM checkins
		WHERE person_id IN `+dd.in+` AND local_date >= ? AND local_date <= ?`, append(slices.Clone(dd.ids), dd.from, dd.to)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pid, id, verdict, enc, identity string
		var d casework.Date
		var counts, checksCount bool
		if err := rows.Scan(&pid, &id, &d, &verdict, &enc, &counts, &checksCount, &identity); err != nil {
			return err
		}
		o := dd.day(pid, d)
		if o == nil {
			continue
		}
		o.done = o.done || counts
		o.held = o.held || (checksCount && casework.IdentityOutcome(identity).NeedsReview())
		inside, err := r.insideCounty(dd.byID[pid], d, id, casework.Verdict(verdict), enc, dd.leaves[pid])
		if err != nil {
			return err
		}
		if inside {
			o.home = true
		} else {
			o.away = true
		}
	}
	return rows.Err()
}

// testEvidence: a test recorded at home (by staff of the place of
// execution) is evidence of being home; a remote test report (done at a
// police station or hospital elsewhere) is evidence of being away.
func testEvidence(ctx context.Context, r *detectRun, tx *Tx, dd *detectDays) error {
	rows, err := tx.Query(ctx, `SELECT person_id, tested_on, remote FROM drug_tests
		WHERE person_id IN `+dd.in+` AND tested_on >= ? AND tested_on <= ?`, append(slices.Clone(dd.ids), dd.from, dd.to)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pid string
		var d casework.Date
		var remote bool
		if err := rows.Scan(&pid, &d, &remote); err != nil {
			return err
		}
		if o := dd.day(pid, d); o != nil {
			if remote {
				o.away = true
			} else {
				o.home = true
			}
		}
	}
	return rows.Err()
}

// insideCounty says whether a check-in lies in the county. Off leave, a
// verdict that tested the point inside the area in force (county,
// township or community, all inside the county) settles it without
// opening the sealed location; otherwise the point is opened and tested
// against the county's geofence. No geofence: it cannot be shown to be
// away, so it counts as inside.
func (r *detectRun) insideCounty(p *detectPerson, d casework.Date, id string, v casework.Verdict, enc string, leaves []leaveSpan) (bool, error) {
	onLeave := false
	for _, l := range leaves {
		if l.covers(d) {
			onLeave = true
		}
	}
	if !onLeave && (v == casework.VerdictOK || v == casework.VerdictOutsideWin || v == casework.VerdictSyncedLate) {
		return true, nil
	}
	fence := r.countyFence(p.orgID)
	if fence == nil {
		return true, nil
	}
	point, err := r.db.vault.Open(enc, "checkin.loc:"+id)
	if err != nil {
		return false, fmt.Errorf("check-in %s location: %w", id, err)
	}
	la, lo, ok := strings.Cut(point, ",")
	lat, err1 := strconv.ParseFloat(la, 64)
	lng, err2 := strconv.ParseFloat(lo, 64)
	if !ok || err1 != nil || err2 != nil {
		return false, fmt.Errorf("check-in %s location: bad point", id)
	}
	return fence.Contains(lat, lng), nil
}

// walk judges the person's new days, moving the trip and the watermark.
//
// A day is missed when a check-in was due (casework.CheckinDueOn: the
// measure owed duties and a device was active) and none that day counts
// (issue 18 §2, §4); the trip (R8, R9) weighs the measure's duty alone, as
// an overdue return needs no app to be away.
func (r *detectRun) walk(ctx context.Context, tx *Tx, p *detectPerson, obs map[casework.Date]*dayObs, leaves []leaveSpan, apps []casework.AppSpan, cad casework.Cadence) ([]violationRow, error) {
	pol, err := r.policy(ctx, tx, p.orgID)
	if err != nil {
		return nil, err
	}
	threshold := pol.Value("leave.threshold_days").Int()
	// R8 asks for a written report; approval is local practice (DOMAIN
	// §1.5): a filed request covers its days unless the policy wants it
	// approved. The lead sees it in the inbox as a request already begun.
	filedCovers := !pol.Value("leave.approval_required").Bool()
	var spans []casework.StatusSpan
	if p.statusSince.After(p.start) {
		// The status changed inside tonight's days: read its history.
		if spans, err = tx.personSpans(ctx, p.id); err != nil {
			return nil, err
		}
	}
	var out []violationRow
	moved := false
	for d := p.start; !d.After(p.end); d = d.AddDays(1) {
		r.res.Days++
		f := casework.DayFacts{Date: d, Duty: casework.OwesDutyOn(p.status, p.statusSince, spans, d)}
		if o := obs[d]; o != nil {
			f.Inside, f.Outside = o.home, o.away
		}
		for _, l := range leaves {
			if l.filed && !filedCovers {
				continue
			}
			f.Leave = f.Leave || l.covers(d)
			f.Overdue = f.Overdue || l.overdue(d)
		}
		if f.Leave {
			f.Overdue = false
		}
		if casework.CheckinDueOnCadence(f.Duty, apps, cad, d) && (obs[d] == nil || !(obs[d].done || obs[d].held)) {
			out = append(out, violationRow{personID: p.id, measureID: p.measureID, orgID: p.orgID, kind: casework.ViolationMissedCheckin,
				sourceKey: d.String(), day: d, lastDay: d, policyRef: cad.Ref(d)})
		}
		switch p.trip.Step(f, threshold) {
		case casework.TripDeparted, casework.TripContinued:
			moved = true
		}
		if moved && p.trip.Qualified {
			out = append(out, r.departure(p, d, pol))
			moved = false
		}
	}
	p.through = p.end
	return dedupeDepartures(out), nil
}

func (r *detectRun) departure(p *detectPerson, d casework.Date, pol *casework.EffectivePolicy) violationRow {
	return violationRow{personID: p.id, measureID: p.measureID, orgID: p.orgID, kind: casework.ViolationDeparture,
		sourceKey: p.trip.Start.String(), day: p.trip.Start, lastDay: d, days: p.trip.Days,
		policyRef: strings.Join(pol.Refs("leave.threshold_days"), ",")}
}

// dedupeDepartures keeps the last row of each trip (its days grow day by day).
func dedupeDepartures(rows []violationRow) []violationRow {
	last := map[string]int{}
	for i, v := range rows {
		if v.kind == casework.ViolationDeparture {
			last[v.sourceKey] = i
		}
	}
	out := rows[:0]
	for i, v := range rows {
		if v.kind == casework.ViolationDeparture && last[v.sourceKey] != i {
			continue
		}
		out = append(out, v)
	}
	return out
}

// insertViolations writes new violations (DO NOTHING on a known source)
// and grows departures (their days only ever grow); it returns the
// measures whose R9 counts may have changed.
func (r *detectRun) insertViolations(ctx context.Context, tx *Tx, rows []violationRow) (map[string]*detectPerson, error) {
	affected := map[string]*detectPerson{}
	const cols = 15
	var plain []violationRow
	for _, v := range rows {
		if v.kind == casework.ViolationDeparture || v.kind.CountsAsRefusal() {
			affected[v.measureID] = &detectPerson{id: v.personID, measureID: v.measureID, orgID: v.orgID}
		}
		if v.kind != casework.ViolationDeparture {
			plain = append(plain, v)
			continue
		}
		var days int
		err := tx.QueryRow(ctx, `SELECT days FROM violations WHERE person_id = ? AND kind = ? AND source_key = ?`, v.personID, string(v.kind), v.sourceKey).Scan(&days)
		switch {
		case err == sql.ErrNoRows:
			n, err := r.insertOne(ctx, tx, v)
			if err != nil {
				return nil, err
			}
			if n == 0 { // another server inserted it a moment ago
				continue
			}
		case err != nil:
			return nil, err
		case days < v.days:
			// A trip's days only grow: a slower second server cannot shrink it.
			if _, err := tx.Exec(ctx, `UPDATE violations SET days = ?, last_day = ? WHERE person_id = ? AND kind = ? AND source_key = ? AND days < ?`,
				v.days, v.lastDay, v.personID, string(v.kind), v.sourceKey, v.days); err != nil {
				return nil, err
			}
		}
	}
	for i := 0; i < len(plain); i += 200 {
		batch := plain[i:min(i+200, len(plain))]
		args := make([]any, 0, len(batch)*cols)
		for _, v := range batch {
			args = append(args, violationArgs(v, tx.now)...)
		}
		q := `INSERT INTO violations (id, person_id, measure_id, org_id, kind, source_key, day, last_day, days, detail,
			police_required, state, policy_ref, created_by, created_at) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(batch)), ", ") +
			` ON CONFLICT (person_id, kind, source_key) DO NOTHING`
		res, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("insert violations: %w", err)
		}
		if n, _ := res.RowsAffected(); n == int64(len(batch)) {
			for _, v := range batch {
				r.res.Created[v.kind]++
			}
		} else if n > 0 {
			// Some were known (a run racing another server): the new ones
			// are counted without their kinds.
			r.res.Mixed += int(n)
		}
	}
	return affected, nil
}

// insertOne inserts a violation unless its source is known, counting it.
func (r *detectRun) insertOne(ctx context.Context, tx *Tx, v violationRow) (int64, error) {
	res, err := tx.Exec(ctx, `INSERT INTO violations (id, person_id, measure_id, org_id, kind, source_key, day, last_day, days, detail,
		police_required, state, policy_ref, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (person_id, kind, source_key) DO NOTHING`, violationArgs(v, tx.now)...)
	if err != nil {
		return 0, fmt.Errorf("insert violation: %w", err)
	}
	n, err := res.RowsAffected()
	if n > 0 {
		r.res.Created[v.kind]++
	}
	return n, err
}

func violationArgs(v violationRow, now time.Time) []any {
	return []any{NewID(), v.personID, v.measureID, v.orgID, string(v.kind), v.sourceKey, v.day, v.lastDay, v.days, v.detail,
		v.police, string(casework.ViolationOpen), v.policyRef, "", now}
}

// saveWatermarks moves the watermarks forward (never back: a slower second
// server cannot undo a faster one's night).
func (r *detectRun) saveWatermarks(ctx context.Context, tx *Tx, ps []*detectPerson) error {
	const cols = 7
	for i := 0; i < len(ps); i += 500 {
		batch := ps[i:min(i+500, len(ps))]
		args := make([]any, 0, len(batch)*cols)
		for _, p := range batch {
			var start any
			if p.trip.Away() {
				start = p.trip.Start
			}
			args = append(args, p.id, p.measureID, p.through, start, p.trip.Days, p.trip.Qualified, tx.now)
		}
		q := `INSERT INTO violation_watch (person_id, measure_id, through, trip_start, trip_days, trip_qualified, updated_at) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", len(batch)), ", ") +
			` ON CONFLICT (person_id) DO UPDATE SET measure_id = excluded.measure_id, through = excluded.through,
			trip_start = excluded.trip_start, trip_days = excluded.trip_days, trip_qualified = excluded.trip_qualified, updated_at = excluded.updated_at
			WHERE violation_watch.measure_id <> excluded.measure_id OR violation_watch.through < excluded.through`
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("save watermarks: %w", err)
		}
	}
	return nil
}

// explainLate explains the missed-day violations of days that got a
// check-in after they were judged (synced late).
func (r *detectRun) explainLate(ctx context.Context, byID map[string]*detectPerson, since time.Time) error {
	type late struct {
		personID, checkinID string
		day                 casework.Date
	}
	var found []late
	err := r.db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT person_id, id, local_date FROM checkins WHERE received_at > ? AND counts = ?`, since, true)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l late
			if err := rows.Scan(&l.personID, &l.checkinID, &l.day); err != nil {
				return err
			}
			if p := byID[l.personID]; p != nil && !p.through.IsZero() && !l.day.After(p.through) {
				found = append(found, l)
			}
		}
		return rows.Err()
	})
	if err != nil || len(found) == 0 {
		return err
	}
	return r.db.Write(ctx, func(tx *Tx) error {
		for _, l := range found {
			res, err := tx.Exec(ctx, `UPDATE violations SET state = ?, state_reason = ?, state_by_name = ?, state_at = ?
				WHERE person_id = ? AND kind = ? AND source_key = ? AND state = ?`,
				string(casework.ViolationExplained), "补传签到 / check-in synced late: "+l.checkinID, "系统 / system", tx.now,
				l.personID, string(casework.ViolationMissedCheckin), l.day.String(), string(casework.ViolationOpen))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				r.res.Explained += int(n)
			}
		}
		return nil
	})
}

// detectSource finds violations from one kind of record since the last
// run (since is zero on the first run). Tests (refused, positive) are one
// source; evasions of drawn test days (the test schedule's missed draws)
// are one more entry in detectSources.
type detectSource func(ctx context.Context, r *detectRun, tx *Tx, byID map[string]*detectPerson, since time.Time) ([]violationRow, error)

var detectSources = []detectSource{testViolations, missedTestViolations}

func (r *detectRun) detectSources(ctx context.Context, byID map[string]*detectPerson, since time.Time) error {
	for _, src := range detectSources {
		err := r.db.Write(ctx, func(tx *Tx) error {
			rows, err := src(ctx, r, tx, byID, since)
			if err != nil {
				return err
			}
			affected, err := r.insertViolations(ctx, tx, rows)
			if err != nil {
				return err
			}
			for _, v := range rows {
				if v.kind == casework.ViolationPositiveTest {
					// R10: a positive test is a serious case at once.
					if err := r.openCase(ctx, tx, byID[v.personID], casework.TriggerPositive, v.sourceKey, map[string]any{"test_id": v.sourceKey}, true); err != nil {
						return err
					}
				}
			}
			return r.checkThresholds(ctx, tx, affected)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// testViolations reads the test records filed since the last run: a
// refusal (R9 count; R10 report) or a positive result (R10).
func testViolations(ctx context.Context, r *detectRun, tx *Tx, byID map[string]*detectPerson, since time.Time) ([]violationRow, error) {
	q, args := `SELECT id, person_id, tested_on, result_enc FROM drug_tests`, []any{}
	if !since.IsZero() {
		q, args = q+` WHERE created_at > ?`, append(args, since.Add(-detectOverlap))
	}
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []violationRow
	for rows.Next() {
		var id, pid, enc string
		var day casework.Date
		if err := rows.Scan(&id, &pid, &day, &enc); err != nil {
			return nil, err
		}
		r.res.TestsRead++
		p := byID[pid]
		if p == nil || (!p.reportDate.IsZero() && day.Before(p.reportDate)) {
			continue // no measure in force, or a test before this term
		}
		plain, err := r.db.vault.Open(enc, sealDrugCtx(id))
		if err != nil {
			return nil, err
		}
		var res drugResult
		if err := json.Unmarshal([]byte(plain), &res); err != nil {
			return nil, fmt.Errorf("drug test %s result: %w", id, err)
		}
		v := violationRow{personID: pid, measureID: p.measureID, orgID: p.orgID, sourceKey: id, day: day, lastDay: day}
		switch res.Outcome {
		case casework.OutcomeRefused:
			v.kind, v.police = casework.ViolationRefusedTest, true
		case casework.OutcomePositive:
			v.kind, v.police = casework.ViolationPositiveTest, true
		default:
			continue
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// missedTestOverlap is how far before the last run's date the evasion
// source looks again: a drawn day is missed only after its deadline, in the
// person's own time zone, so a day near the last run may not have been
// missed then. Re-reading a week costs little; the unique source key (the
// draw id) keeps each evasion recorded once.
const missedTestOverlap = 7

// missedTestViolations records evasions (逃避检测, R9): a drawn or forced
// test day whose deadline passed with no test of any kind recorded that
// day and no excuse, on a day the person owed duties (executing or on
// leave; not suspended, R13, nor awaiting report-in at a new place) — all
// decided by missedBetween (tx.missed, owedOn), as the schedule and the
// lists decide it. They count with refusals
// toward violation.refusals_max. A refusal is a test record and is counted
// by testViolations instead, so a day is never counted twice. An evasion is
// not flagged for a police report on its own (R10 names refusal, positive
// tests and drug use); reaching the R9 threshold opens a serious case.
func missedTestViolations(ctx context.Context, r *detectRun, tx *Tx, byID map[string]*detectPerson, since time.Time) ([]violationRow, error) {
	from := casework.Date{Year: 2000, Month: time.January, Day: 1} // the first run: every draw there is
	if !since.IsZero() {
		from = casework.DateOf(since, casework.LoadLocation(casework.DefaultTimeZone)).AddDays(-missedTestOverlap)
	}
	missed, err := tx.missedBetween(ctx, from, r.today)
	if err != nil {
		return nil, err
	}
	var out []violationRow
	for _, m := range missed {
		p := byID[m.PersonID]
		if p == nil || p.measureID != m.MeasureID {
			continue // no measure in force, or a draw of an earlier measure
		}
		if m.Remote {
			// A remote test day (inside approved leave, at the destination):
			// missing it is an evasion only where the policy says so; by
			// default the worker follows it up (the day stays missed).
			pol, err := r.policy(ctx, tx, p.orgID)
			if err != nil {
				return nil, err
			}
			if !pol.Value("test.remote_missed_evasion").Bool() {
				continue
			}
		}
		out = append(out, violationRow{personID: m.PersonID, measureID: m.MeasureID, orgID: p.orgID,
			kind: casework.ViolationMissedTest, sourceKey: m.DrawID, day: m.Day, lastDay: m.Day, detail: missedTestDetail[string(m.Kind)]})
	}
	return out, nil
}

// missedTestDetail says which kind of test day was missed (the detail is
// shown as written, Chinese first like the notices).
var missedTestDetail = map[string]string{
	casework.DrawScheduled: "定期检测（抽签日）/ scheduled test (drawn day)",
	casework.DrawSurprise:  "突击检测（抽签日）/ surprise test (drawn day)",
	casework.DrawForced:    "指定检测日 / test day set by the lead",
}
