package store

// draws_read.go: a person's test schedule, the due-today and missed lists,
// a lead's forced and excused days, seed commitments, the R25 coverage,
// and what the app shows on a drawn day.

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// TestDay is a drawn or forced test day.
type TestDay struct {
	ID           string
	PersonID     string
	PersonName   string
	OrgID        string // place of execution
	OrgName      string
	MeasureID    string
	Kind         string // scheduled, surprise, forced
	Day          casework.Date
	Hidden       bool // a day still to come, not shown to this reader (the person learns on the day)
	IntervalFrom casework.Date
	IntervalTo   casework.Date
	SeedOrgID    string
	Period       string
	Reason       string // why a lead forced it
	CreatedBy    string
	CreatedAt    time.Time
	Excused      bool
	ExcusedBy    string
	ExcusedAt    time.Time
	ExcuseReason string
	// Remote: the day lies in approved leave that covers the whole interval:
	// a test at a police station or hospital at the destination, the
	// report uploaded (a remote test record).
	Remote   bool
	Status   casework.DrawStatus
	Deadline time.Time

	measureStatus casework.Status // the draw's measure's status now, since statusSince (whether the day was owed)
	statusSince   casework.Date
	tested        bool // a test of any outcome was recorded on the day
}

// ScheduleInterval is one scheduled-test interval with its state.
type ScheduleInterval struct {
	casework.TestInterval
	// Status: upcoming, open, due_today, done, missed, excused, lapsed
	// (ended with no test and no missed draw: wholly suspended, its drawn
	// day not owed, or before draws were made).
	Status string
	Tests  int
	Draw   *TestDay
}

// Schedule is a person's test schedule under the measure in force.
type Schedule struct {
	PersonID  string
	MeasureID string
	Kind      casework.MeasureKind
	Start     casework.Date
	End       casework.Date
	Today     casework.Date
	Intervals []ScheduleInterval
	Surprise  []TestDay
	Forced    []TestDay
	Coverage  casework.Coverage
	Place     string
	Hours     casework.Window
	CanAdjust bool
	Policy    []string // the policy sources the schedule used
	// The surprise tests per term in force today for the person's tier
	// (R24, R31): the tier ("" when none is confirmed), the count, and
	// whether it is the tier's own setting or the general one, with its
	// source.
	Tier           casework.Tier
	SurpriseMin    int
	SurpriseByTier bool
	SurpriseSource casework.PolicySource
}

const testDayColumns = `d.id, d.person_id, p.name, p.org_id, o.name, d.measure_id, d.kind, d.day, d.interval_from, d.interval_to, d.seed_org_id,
	d.period, d.reason, COALESCE(cu.display_name, d.created_by), d.created_at, d.excused_reason, COALESCE(eu.display_name, d.excused_by), d.excused_at,
	dm.status, dm.status_since, EXISTS (SELECT 1 FROM drug_tests t WHERE t.person_id = d.person_id AND t.tested_on = d.day), d.remote`

const testDayFrom = ` FROM test_draws d JOIN persons p ON p.id = d.person_id AND ` + notSealed + ` JOIN orgs o ON o.id = p.org_id JOIN measures dm ON dm.id = d.measure_id
	LEFT JOIN users cu ON cu.id = d.created_by LEFT JOIN users eu ON eu.id = d.excused_by`

func scanTestDay(sc interface{ Scan(...any) error }) (*TestDay, error) {
	var d TestDay
	var exAt sql.NullTime
	var status string
	if err := sc.Scan(&d.ID, &d.PersonID, &d.PersonName, &d.OrgID, &d.OrgName, &d.MeasureID, &d.Kind, &d.Day, &d.IntervalFrom, &d.IntervalTo,
		&d.SeedOrgID, &d.Period, &d.Reason, &d.CreatedBy, &d.CreatedAt, &d.ExcuseReason, &d.ExcusedBy, &exAt, &status, &d.statusSince, &d.tested, &d.Remote); err != nil {
		return nil, err
	}
	d.measureStatus = casework.Status(status)
	d.CreatedAt, d.ExcusedAt, d.Excused = d.CreatedAt.UTC(), scanTime(exAt), d.ExcuseReason != ""
	return &d, nil
}

func (tx *Tx) testDays(ctx context.Context, where string, args ...any) ([]*TestDay, error) {
	rows, err := tx.Query(ctx, `SELECT `+testDayColumns+testDayFrom+` WHERE `+where+` ORDER BY d.day, p.name, d.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*TestDay
	for rows.Next() {
		d, err := scanTestDay(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// placePolicies caches the org and its policy per place of execution
// within one read (the inbox, test-day lists, missed days, coverage,
// the morning notices).
type placePolicies struct {
	tx    *Tx
	orgs  map[string]*casework.Org
	rules map[string]casework.PolicyAt
}

func newPlacePolicies(tx *Tx) *placePolicies {
	return &placePolicies{tx: tx, orgs: map[string]*casework.Org{}, rules: map[string]casework.PolicyAt{}}
}

func (pp *placePolicies) get(ctx context.Context, orgID string) (*casework.Org, casework.PolicyAt, error) {
	if org, ok := pp.orgs[orgID]; ok {
		return org, pp.rules[orgID], nil
	}
	org, err := pp.tx.orgByID(ctx, orgID)
	if err != nil {
		return nil, nil, err
	}
	pol, err := pp.tx.policyFunc(ctx, org)
	if err != nil {
		return nil, nil, err
	}
	pp.orgs[orgID], pp.rules[orgID] = org, pol
	return org, pol, nil
}

// policyFunc returns the policy in force at org on any date.
func (tx *Tx) policyFunc(ctx context.Context, org *casework.Org) (casework.PolicyAt, error) {
	chain, err := tx.orgChain(ctx, org)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(chain))
	for i, o := range chain {
		ids[i] = o.ID
	}
	vs, err := tx.policyVersionsAt(ctx, ids, false)
	if err != nil {
		return nil, err
	}
	cache := map[casework.Date]*casework.EffectivePolicy{}
	return func(d casework.Date) *casework.EffectivePolicy {
		p, ok := cache[d]
		if !ok {
			p = casework.ResolvePolicy(chain, vs, d)
			cache[d] = p
		}
		return p
	}, nil
}

// testedDays returns the dates of the person's test records (any outcome;
// no result is read).
func (tx *Tx) testedDays(ctx context.Context, personID string) ([]casework.Date, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT tested_on FROM drug_tests WHERE person_id = ? ORDER BY tested_on`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []casework.Date
	for rows.Next() {
		var d casework.Date
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (tx *Tx) measureSpans(ctx context.Context, measureID string) ([]casework.StatusSpan, error) {
	rows, err := tx.Query(ctx, `SELECT effective_date, to_status FROM status_events WHERE measure_id = ? ORDER BY effective_date, created_at`, measureID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []casework.StatusSpan
	for rows.Next() {
		var s casework.StatusSpan
		var st string
		if err := rows.Scan(&s.From, &st); err != nil {
			return nil, err
		}
		s.Status = casework.Status(st)
		out = append(out, s)
	}
	return out, rows.Err()
}

// scheduleAccess loads a person whose schedule the actor may see: in the
// current place's scope with PermViewSchedule (a past place of execution
// sees the tests it recorded, not the schedule that continues elsewhere).
func (tx *Tx) scheduleAccess(ctx context.Context, actor *casework.Actor, personID string, perm casework.Perm) (*personRow, error) {
	r, err := tx.personFor(ctx, actor, personID, nil)
	if err != nil {
		return nil, err
	}
	if !r.Access.Until.IsZero() || !actor.Can(perm, r.OrgPath) {
		if perm == casework.PermAdjustSchedule {
			return nil, casework.Errorf(casework.EFORBIDDEN, "只有街道（乡镇）负责人可以加测或免测", "only the street (township) lead may force or excuse a test day")
		}
		return nil, casework.Errorf(casework.EFORBIDDEN, "您没有权限查看该人员的检测安排", "you may not see this person's test schedule")
	}
	return r, nil
}

// dayDeadline is the deadline of a test day: the end of test.hours in
// force on it.
func dayDeadline(policyAt casework.PolicyAt, day casework.Date, loc *time.Location) time.Time {
	return casework.Deadline(day, policyAt(day).Value("test.hours").Window(), loc)
}

// PersonSchedule returns the person's test schedule under the measure in
// force: the intervals with their drawn days and status, the surprise and
// forced days, excuses with reason and who, and the R25 coverage as of
// today. Days still to come are hidden from readers who may not adjust the
// schedule: the person learns on the day, so the people around them should
// not know earlier. ENOTFOUND out of scope; EFORBIDDEN without
// PermViewSchedule; ECONFLICT without a measure in force. Audited.
func (db *DB) PersonSchedule(ctx context.Context, actor *casework.Actor, personID string) (*Schedule, error) {
	var out *Schedule
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.scheduleAccess(ctx, actor, personID, casework.PermViewSchedule)
		if err != nil {
			return err
		}
		m, err := tx.currentMeasure(ctx, personID)
		if err != nil {
			return err
		}
		if m.ReportDate.IsZero() || m.TermEnd.IsZero() {
			return casework.Errorf(casework.ECONFLICT, "尚未报到，期限未开始，暂无检测安排", "the person has not reported yet: no term, no test schedule")
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		if out, err = tx.schedule(ctx, actor, r, m, org); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "schedule.read", TargetType: "person", TargetID: personID, OrgID: r.OrgID})
	})
	return out, err
}

func (tx *Tx) schedule(ctx context.Context, actor *casework.Actor, r *personRow, m *Measure, org *casework.Org) (*Schedule, error) {
	loc := org.Location()
	today := casework.DateOf(tx.now, loc)
	policyAt, err := tx.policyFunc(ctx, org)
	if err != nil {
		return nil, err
	}
	spans, err := tx.measureSpans(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	susp := casework.SuspensionSpans(spans, m.TermEnd)
	tiers, err := tx.tierChanges(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	in := casework.ScheduleInput{Kind: m.Kind, Start: m.ReportDate, End: m.TermEnd, TermMonths: m.TermMonths, Suspended: susp, Tiers: tiers}
	ivs, err := casework.TestIntervals(in, policyAt)
	if err != nil {
		return nil, err
	}
	tested, err := tx.testedDays(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	days, err := tx.testDays(ctx, `d.measure_id = ?`, m.ID)
	if err != nil {
		return nil, err
	}
	owed, err := tx.owedTestDays(ctx, days)
	if err != nil {
		return nil, err
	}
	pol := policyAt(today)
	s := &Schedule{PersonID: r.ID, MeasureID: m.ID, Kind: m.Kind, Start: m.ReportDate, End: m.TermEnd, Today: today,
		Place: pol.Value("test.place").Text(), Hours: pol.Value("test.hours").Window(),
		CanAdjust: actor.Can(casework.PermAdjustSchedule, r.OrgPath),
		Coverage:  casework.TestCoverage(ivs, tested, susp, today)}
	s.Tier = casework.TierOn(tiers, today)
	sur := pol.ForTier("test.surprise_min", s.Tier)
	s.SurpriseMin, s.SurpriseSource = sur.Value.Int(), sur.Source
	s.SurpriseByTier = s.Tier != "" && sur.Setting != nil && sur.Key == casework.TierSettingKey("test.surprise_min", s.Tier)
	// The sources of what was used: place and hours, every interval's
	// length (general or the tier's, R31) and today's surprise count.
	s.Policy = pol.Refs("test.place", "test.hours")
	for _, ref := range append([]string{sur.Source.Ref()}, intervalRefs(ivs)...) {
		if !slices.Contains(s.Policy, ref) {
			s.Policy = append(s.Policy, ref)
		}
	}
	slices.Sort(s.Policy)
	scheduled := map[casework.Date]*TestDay{}
	for i, d := range days {
		d.Deadline = dayDeadline(policyAt, d.Day, loc)
		d.Status = casework.DayState(d.Day, d.Excused, slices.Contains(tested, d.Day), owed[i], tx.now, d.Deadline, today)
		if d.Day.After(today) && !s.CanAdjust {
			d.Hidden, d.Day, d.Period, d.Deadline, d.Remote = true, casework.Date{}, "", time.Time{}, false
			if d.Kind == casework.DrawForced { // its "interval" is the day itself
				d.IntervalFrom, d.IntervalTo = casework.Date{}, casework.Date{}
			}
		}
		switch d.Kind {
		case casework.DrawScheduled:
			scheduled[d.IntervalFrom] = d
		case casework.DrawSurprise:
			s.Surprise = append(s.Surprise, *d)
		default:
			s.Forced = append(s.Forced, *d)
		}
	}
	for _, iv := range ivs {
		si := ScheduleInterval{TestInterval: iv, Draw: scheduled[iv.From]}
		for _, d := range tested {
			if iv.Span().Contains(d) && !d.After(today) {
				si.Tests++
			}
		}
		si.Status = intervalStatus(si, today)
		s.Intervals = append(s.Intervals, si)
	}
	return s, nil
}

func intervalRefs(ivs []casework.TestInterval) []string {
	var out []string
	for _, iv := range ivs {
		if iv.Source != "" && !slices.Contains(out, iv.Source) {
			out = append(out, iv.Source)
		}
	}
	return out
}

// intervalStatus: a drawn day not owed (suspended, R13) counts as no draw:
// the interval is open while it lasts, then lapsed, never missed; R25
// still counts the interval unless it was wholly suspended (a test on
// another day of it covers it).
func intervalStatus(si ScheduleInterval, today casework.Date) string {
	switch {
	case si.From.After(today):
		return "upcoming"
	case si.Tests > 0:
		return string(casework.DayDone)
	case si.Draw != nil && si.Draw.Status != casework.DayUpcoming && si.Draw.Status != casework.DayDone && si.Draw.Status != casework.DayNotOwed:
		if si.Draw.Status == casework.DayExcused && !si.To.Before(today) {
			return "open"
		}
		return string(si.Draw.Status)
	case si.To.Before(today):
		return "lapsed"
	}
	return "open"
}

// ForceTestDay adds a test day for the person (加测): a lead
// (PermAdjustSchedule) in the person's place, for today or a later day of
// the term, always with a reason (EINVALID on field "reason" without one).
// The day shows next to the draws and in the app on the day. Audited.
func (db *DB) ForceTestDay(ctx context.Context, actor *casework.Actor, personID string, day casework.Date, reason string) (*TestDay, error) {
	reason, rerr := casework.AdjustReason(reason)
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.scheduleAccess(ctx, actor, personID, casework.PermAdjustSchedule)
		if err != nil {
			return err
		}
		// The reason and the day are checked together (issue 18 item 9).
		var errs casework.FieldErrors
		if err := errs.Add(rerr); err != nil {
			return err
		}
		m, err := tx.currentMeasure(ctx, personID)
		if err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		today := tx.today(org)
		if m.Status != casework.StatusExecuting && m.Status != casework.StatusOnLeave {
			return casework.Errorf(casework.ECONFLICT, "措施当前状态不能安排检测", "no test can be set in the measure's current status")
		}
		switch {
		case day.IsZero():
			errs.Add(casework.Invalid("day", "请选择加测日期", "choose the day of the test"))
		case day.Before(today):
			errs.Add(casework.Invalid("day", "加测日期不能早于今天（%s）", "the day cannot be before today (%s)", today))
		case m.ReportDate.IsZero() || m.TermEnd.IsZero() || day.Before(m.ReportDate) || !day.Before(m.TermEnd):
			errs.Add(casework.Invalid("day", "加测日期须在期限内（%s 至 %s）", "the day must lie in the term (%s to %s)", m.ReportDate, m.TermEnd.AddDays(-1)))
		}
		if err := errs.Err(); err != nil {
			return err
		}
		if day == today {
			// A day whose reporting hours are over could only be missed.
			policyAt, err := tx.policyFunc(ctx, org)
			if err != nil {
				return err
			}
			if dl := dayDeadline(policyAt, day, org.Location()); !tx.now.Before(dl) {
				return casework.Invalid("day", "今天的检测时段已结束（截止 %s），请选择明天或以后", "today's test hours are over (deadline %s); choose tomorrow or later",
					dl.In(org.Location()).Format("15:04"))
			}
		}
		id = NewID()
		res, err := tx.Exec(ctx, `INSERT INTO test_draws (id, person_id, measure_id, kind, interval_from, interval_to, win_from, win_to, day, period,
			reason, created_by, created_at) VALUES (?, ?, ?, 'forced', ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (measure_id, kind, interval_from) DO NOTHING`,
			id, personID, m.ID, day, day, day, day, day, casework.PeriodOf(day), reason, actor.UserID, tx.now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return casework.Errorf(casework.ECONFLICT, "该日已安排加测", "a test is already forced on that day")
		}
		if err := tx.Audit(ctx, actor, AuditEntry{Action: "schedule.force", TargetType: "person", TargetID: personID, OrgID: r.OrgID, Reason: reason,
			Detail: map[string]any{"draw_id": id, "day": day.String()}}); err != nil {
			return err
		}
		if day == today { // the person learns at once (test_notify.go)
			return tx.notifyForcedToday(ctx, actor, id, personID, org, day)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var d *TestDay
	err = db.Read(ctx, func(tx *Tx) error {
		days, err := tx.testDays(ctx, `d.id = ?`, id)
		if err == nil && len(days) == 1 {
			d = days[0]
		}
		return err
	})
	return d, err
}

// ExcuseTestDay excuses a drawn or forced day (免测) that has not passed
// yet: a lead (PermAdjustSchedule), always with a reason (EINVALID on
// "reason"). A day already past is not excused here — an evasion that had
// a good reason is explained in the violation's own workflow — so a day
// cannot be excused after the fact to hide it. Audited; the reason and who
// show next to the draw.
func (db *DB) ExcuseTestDay(ctx context.Context, actor *casework.Actor, personID, drawID, reason string) error {
	reason, rerr := casework.AdjustReason(reason)
	return db.Write(ctx, func(tx *Tx) error {
		r, err := tx.scheduleAccess(ctx, actor, personID, casework.PermAdjustSchedule)
		if err != nil {
			return err
		}
		if rerr != nil {
			return rerr
		}
		days, err := tx.testDays(ctx, `d.id = ? AND d.person_id = ?`, drawID, personID)
		if err != nil {
			return err
		}
		if len(days) == 0 {
			return casework.Invalid("draw_id", "该人员没有这个检测日", "the person has no such test day")
		}
		d := days[0]
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		switch {
		case d.Excused:
			return casework.Errorf(casework.ECONFLICT, "该检测日已免测", "the day is already excused")
		case d.Day.Before(tx.today(org)):
			return casework.Errorf(casework.ECONFLICT, "检测日已过，不能再免测；如有正当理由，请在违规处理中说明",
				"the day has passed and cannot be excused; a good reason is stated on the violation instead")
		}
		if _, err := tx.Exec(ctx, `UPDATE test_draws SET excused_reason = ?, excused_by = ?, excused_at = ? WHERE id = ? AND excused_reason = ''`,
			reason, actor.UserID, tx.now, drawID); err != nil {
			return err
		}
		if err := tx.Audit(ctx, actor, AuditEntry{Action: "schedule.excuse", TargetType: "person", TargetID: personID, OrgID: r.OrgID, Reason: reason,
			Detail: map[string]any{"draw_id": drawID, "day": d.Day.String(), "kind": d.Kind}}); err != nil {
			return err
		}
		return tx.callOffTest(ctx, personID, d.Day)
	})
}

// callOffTest tells the person that today's test is off when the day was
// already announced (a test.today notice of any of the person's draws that
// day) and none of those draws stands any more: an app message and an
// SMS, once per person and day. The reason stays with the staff.
func (tx *Tx) callOffTest(ctx context.Context, personID string, day casework.Date) error {
	var told, standing int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM test_draws WHERE person_id = ? AND day = ? AND excused_reason = ''`,
		personID, day).Scan(&standing); err != nil {
		return err
	}
	if standing > 0 {
		return nil // another drawn or forced day still stands
	}
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM messages m JOIN test_draws d ON m.notice_key = 'test.today:' || d.id
		WHERE d.person_id = ? AND d.day = ?`, personID, day).Scan(&told); err != nil {
		return err
	}
	if told == 0 {
		return nil // not told yet: the morning notice skips an excused day
	}
	_, err := tx.NotifyPerson(ctx, PersonNotice{PersonID: personID, Kind: "test.cancelled", Words: TestCalledOffText, SMS: true,
		Key: "test.cancelled:" + personID + ":" + day.String()})
	return err
}

// DueList returns the test days of today (in the org's zone) of the
// persons placed in the org's subtree whom the actor may see, with their
// status (due, done, missed after the deadline, excused, or not owed:
// suspended or awaiting report-in today). Audited as one list read.
func (db *DB) DueList(ctx context.Context, actor *casework.Actor, orgID string) ([]*TestDay, casework.Date, error) {
	var out []*TestDay
	var today casework.Date
	err := db.Write(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermViewSchedule, orgID)
		if err != nil {
			return err
		}
		today = tx.today(org)
		if out, err = tx.daysInScope(ctx, actor, org.Path, today, today); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "schedule.due_list", TargetType: "org", TargetID: org.ID, OrgID: org.ID,
			Detail: map[string]any{"count": len(out), "day": today.String()}})
	})
	return out, today, err
}

// MissedList returns the missed (evaded) test days in [from, to] of the
// persons in the org's subtree the actor may see; a day not owed (R13) is
// not missed. Audited.
func (db *DB) MissedList(ctx context.Context, actor *casework.Actor, orgID string, from, to casework.Date) ([]*TestDay, error) {
	var out []*TestDay
	err := db.Write(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermViewSchedule, orgID)
		if err != nil {
			return err
		}
		if from, to, err = clampPeriod(from, to, tx.today(org)); err != nil {
			return err
		}
		all, err := tx.daysInScope(ctx, actor, org.Path, from, to)
		if err != nil {
			return err
		}
		for _, d := range all {
			if d.Status == casework.DayMissed {
				out = append(out, d)
			}
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "schedule.missed_list", TargetType: "org", TargetID: org.ID, OrgID: org.ID,
			Detail: map[string]any{"count": len(out), "from": from.String(), "to": to.String()}})
	})
	return out, err
}

// daysInScope loads the test days in [from, to] of persons under path and
// in the actor's PermViewSchedule scope, with their status.
func (tx *Tx) daysInScope(ctx context.Context, actor *casework.Actor, path string, from, to casework.Date) ([]*TestDay, error) {
	scope, args := scopeClause("o.path", actor.Scope(casework.PermViewSchedule))
	all := append([]any{likePrefix(path), from, to}, args...)
	days, err := tx.testDays(ctx, `o.path LIKE ? ESCAPE '\' AND d.day >= ? AND d.day <= ? AND `+scope, all...)
	if err != nil {
		return nil, err
	}
	return days, tx.settle(ctx, days)
}

// settle fills status and deadline of days, each in its place's zone and
// policy, and whether it was owed (owedOn).
func (tx *Tx) settle(ctx context.Context, days []*TestDay) error {
	owed, err := tx.owedTestDays(ctx, days)
	if err != nil {
		return err
	}
	pp := newPlacePolicies(tx)
	for i, d := range days {
		org, pol, err := pp.get(ctx, d.OrgID)
		if err != nil {
			return err
		}
		d.Deadline = dayDeadline(pol, d.Day, org.Location())
		d.Status = casework.DayState(d.Day, d.Excused, d.tested, owed[i], tx.now, d.Deadline, casework.DateOf(tx.now, org.Location()))
	}
	return nil
}

// MissedTest is a drawn or forced test day whose deadline passed with no
// test recorded and no excuse, on a day the person owed the measure's
// duties (not suspended, R13; see owedOn): an evasion (逃避检测) for R9.
type MissedTest struct {
	DrawID    string // stable: use it as the violation's idempotency key
	PersonID  string
	MeasureID string
	OrgID     string
	Kind      string
	Day       casework.Date
	Deadline  time.Time
	Remote    bool // a remote test day (inside approved leave): an evasion only by policy
}

// MissedTests lists the person's missed test days up to and including
// upTo (a day counts once its deadline has passed), oldest first. For
// H3's violation detection; the actor must see the person's schedule (the
// nightly job passes casework.SystemActor).
func (db *DB) MissedTests(ctx context.Context, actor *casework.Actor, personID string, upTo casework.Date) ([]MissedTest, error) {
	var out []MissedTest
	err := db.Read(ctx, func(tx *Tx) error {
		if _, err := tx.scheduleAccess(ctx, actor, personID, casework.PermViewSchedule); err != nil {
			return err
		}
		var err error
		out, err = tx.missed(ctx, `d.person_id = ? AND d.day <= ?`, personID, upTo)
		return err
	})
	return out, err
}

// MissedTestsBetween lists every missed test day in [from, to] across all
// orgs (no actor: it acts for the system; the nightly detection reads the
// same through missedBetween inside its own transaction). Cost is linear in
// the draws of the period.
func (db *DB) MissedTestsBetween(ctx context.Context, from, to casework.Date) ([]MissedTest, error) {
	var out []MissedTest
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.missedBetween(ctx, from, to)
		return err
	})
	return out, err
}

func (tx *Tx) missedBetween(ctx context.Context, from, to casework.Date) ([]MissedTest, error) {
	return tx.missed(ctx, `d.day >= ? AND d.day <= ?`, from, to)
}

func (tx *Tx) missed(ctx context.Context, where string, args ...any) ([]MissedTest, error) {
	rows, err := tx.Query(ctx, `SELECT d.id, d.person_id, d.measure_id, p.org_id, d.kind, d.day, m.status, m.status_since, d.remote FROM test_draws d
		JOIN persons p ON p.id = d.person_id JOIN measures m ON m.id = d.measure_id
		WHERE `+where+` AND d.excused_reason = '' AND NOT EXISTS (SELECT 1 FROM drug_tests t WHERE t.person_id = d.person_id AND t.tested_on = d.day)
		ORDER BY d.day, d.person_id, d.id`, args...)
	if err != nil {
		return nil, err
	}
	type row struct {
		MissedTest
		status string
		since  casework.Date
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.DrawID, &r.PersonID, &r.MeasureID, &r.OrgID, &r.Kind, &r.Day, &r.status, &r.since, &r.Remote); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	pp := newPlacePolicies(tx)
	var past []row
	for _, r := range all {
		org, pol, err := pp.get(ctx, r.OrgID)
		if err != nil {
			return nil, err
		}
		r.Deadline = dayDeadline(pol, r.Day, org.Location())
		if !tx.now.Before(r.Deadline) {
			past = append(past, r)
		}
	}
	judge := make([]dutyDay, len(past))
	for i, r := range past {
		judge[i] = dutyDay{personID: r.PersonID, status: casework.Status(r.status), since: r.since, day: r.Day}
	}
	owed, err := tx.owedOn(ctx, judge)
	if err != nil {
		return nil, err
	}
	var out []MissedTest
	for i, r := range past {
		if owed[i] {
			out = append(out, r.MissedTest)
		}
	}
	return out, nil
}

// SeedCommitment is one seed period of a seed org as the console shows it.
type SeedCommitment struct {
	OrgID       string
	OrgName     string
	Period      string
	Hash        string
	CommittedAt time.Time
	Seed        string // hex, once revealed
	RevealedAt  time.Time
}

// ListSeeds returns the seed commitments of the seed org of orgID (its
// township/street) from the earliest to the latest period, revealed ones
// with their seed. The actor must see schedules at orgID.
func (db *DB) ListSeeds(ctx context.Context, actor *casework.Actor, orgID string) ([]SeedCommitment, *casework.Org, error) {
	var out []SeedCommitment
	var seedOrg *casework.Org
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermViewSchedule, orgID)
		if err != nil {
			return err
		}
		chain, err := tx.orgChain(ctx, org)
		if err != nil {
			return err
		}
		m := map[string]*casework.Org{}
		for _, o := range chain {
			m[o.ID] = o
		}
		seedOrg = SeedOrg(m, org)
		rows, err := tx.Query(ctx, `SELECT period, seed_hash, committed_at, COALESCE(seed, ''), revealed_at FROM draw_seeds WHERE org_id = ? ORDER BY period`, seedOrg.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c := SeedCommitment{OrgID: seedOrg.ID, OrgName: seedOrg.Name}
			var rev sql.NullTime
			if err := rows.Scan(&c.Period, &c.Hash, &c.CommittedAt, &c.Seed, &rev); err != nil {
				return err
			}
			c.CommittedAt, c.RevealedAt = c.CommittedAt.UTC(), scanTime(rev)
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, seedOrg, err
}

// OrgCoverage is the R25 test-completion measure of an org subtree.
type OrgCoverage struct {
	Persons int
	Should  int
	Done    int
}

// Rate is Done ÷ Should; 1 when nothing is owed.
func (c OrgCoverage) Rate() float64 {
	if c.Should == 0 {
		return 1
	}
	return float64(c.Done) / float64(c.Should)
}

// OrgTestCoverage sums the R25 coverage of the measures in force of
// persons placed in the org's subtree whom the actor may see, over the
// intervals that ended in [from, to] (to at most yesterday: an interval
// ending today is not over). A zero from counts from the terms' starts; a
// zero to means up to yesterday.
func (db *DB) OrgTestCoverage(ctx context.Context, actor *casework.Actor, orgID string, from, to casework.Date) (OrgCoverage, error) {
	var out OrgCoverage
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermViewSchedule, orgID)
		if err != nil {
			return err
		}
		asOf := to.AddDays(1)
		if today := tx.today(org); to.IsZero() || asOf.After(today) {
			asOf = today
		}
		if !from.IsZero() && asOf.Before(from) {
			return casework.Invalid("from", "统计期间无效：起始日期晚于截止日期", "the period is empty: from is after to")
		}
		scope, args := scopeClause("o.path", actor.Scope(casework.PermViewSchedule))
		rows, err := tx.Query(ctx, `SELECT m.id, m.person_id, m.kind, m.report_date, m.term_end, m.term_months, m.place_org_id FROM measures m
			JOIN orgs o ON o.id = m.place_org_id WHERE m.in_force = ? AND m.report_date IS NOT NULL AND m.term_end IS NOT NULL
			AND o.path LIKE ? ESCAPE '\' AND `+scope, append([]any{true, likePrefix(org.Path)}, args...)...)
		if err != nil {
			return err
		}
		var ms []*activeMeasure
		for rows.Next() {
			m := &activeMeasure{}
			var kind string
			if err := rows.Scan(&m.id, &m.personID, &kind, &m.start, &m.end, &m.termMonths, &m.placeOrgID); err != nil {
				rows.Close()
				return err
			}
			m.kind = casework.MeasureKind(kind)
			ms = append(ms, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		pp := newPlacePolicies(tx)
		for _, m := range ms {
			c, ok, err := tx.measureCoverage(ctx, pp, m, from, asOf)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			out.Persons++
			out.Should += c.Should
			out.Done += c.Done
		}
		return nil
	})
	return out, err
}

// measureCoverage is the R25 coverage of one measure over the intervals
// that ended in [from, asOf): the schedule of its place's policy, its
// suspensions (R13) and the person's recorded tests. ok is false when the
// measure has no schedule (its term cannot be read). OrgTestCoverage and
// the test_completion figure both count through here.
func (tx *Tx) measureCoverage(ctx context.Context, pp *placePolicies, m *activeMeasure, from, asOf casework.Date) (casework.Coverage, bool, error) {
	_, p, err := pp.get(ctx, m.placeOrgID)
	if err != nil {
		return casework.Coverage{}, false, err
	}
	spans, err := tx.measureSpans(ctx, m.id)
	if err != nil {
		return casework.Coverage{}, false, err
	}
	tested, err := tx.testedDays(ctx, m.personID)
	if err != nil {
		return casework.Coverage{}, false, err
	}
	tiers, err := tx.tierChanges(ctx, m.personID)
	if err != nil {
		return casework.Coverage{}, false, err
	}
	susp := casework.SuspensionSpans(spans, m.end)
	ivs, err := casework.TestIntervals(casework.ScheduleInput{Kind: m.kind, Start: m.start, End: m.end, TermMonths: m.termMonths, Suspended: susp, Tiers: tiers}, p)
	if err != nil {
		return casework.Coverage{}, false, nil
	}
	return casework.TestCoverageIn(ivs, tested, susp, from, asOf), true, nil
}

// AppTestDay is a test day as the person's app shows it: where to go and by
// when (issue 5 §2: "今天请到…检测").
type AppTestDay struct {
	ID       string
	Kind     string
	Day      casework.Date
	Place    string
	Hours    casework.Window
	Deadline time.Time
	Done     bool
	Remote   bool // test at a police station or hospital where the person is (approved leave)
}

// AppTestsToday returns the person's test days of today (in the place's
// zone), excused ones left out. For the app, which authenticates the
// person's device; no staff actor.
func (db *DB) AppTestsToday(ctx context.Context, personID string) ([]AppTestDay, error) {
	var out []AppTestDay
	err := db.Read(ctx, func(tx *Tx) error {
		var orgID string
		if err := tx.QueryRow(ctx, `SELECT org_id FROM persons WHERE id = ?`, personID).Scan(&orgID); err != nil {
			return notFound(err, "人员档案", "person")
		}
		org, err := tx.orgByID(ctx, orgID)
		if err != nil {
			return err
		}
		today := tx.today(org)
		days, err := tx.testDays(ctx, `d.person_id = ? AND d.day = ? AND d.excused_reason = ''`, personID, today)
		if err != nil || len(days) == 0 {
			return err
		}
		p, err := tx.policyFunc(ctx, org)
		if err != nil {
			return err
		}
		pol := p(today)
		for _, d := range days {
			out = append(out, AppTestDay{ID: d.ID, Kind: d.Kind, Day: d.Day, Place: pol.Value("test.place").Text(), Hours: pol.Value("test.hours").Window(),
				Deadline: dayDeadline(p, d.Day, org.Location()), Done: d.tested, Remote: d.Remote})
		}
		return nil
	})
	return out, err
}

// ExportDraws returns what verify-draws needs, as anyone may publish it
// once periods have ended: every commitment (with the seed when revealed)
// and every scheduled and surprise draw whose window lies wholly in
// revealed periods (later draws would tell future test days).
func (db *DB) ExportDraws(ctx context.Context) ([]casework.RevealedSeed, []casework.DrawRecord, error) {
	var seeds []casework.RevealedSeed
	var draws []casework.DrawRecord
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT org_id, period, seed_hash, COALESCE(seed, '') FROM draw_seeds ORDER BY org_id, period`)
		if err != nil {
			return err
		}
		revealed := map[string]bool{}
		for rows.Next() {
			var s casework.RevealedSeed
			if err := rows.Scan(&s.OrgID, &s.Period, &s.Hash, &s.Seed); err != nil {
				rows.Close()
				return err
			}
			revealed[s.OrgID+"|"+s.Period] = s.Seed != ""
			seeds = append(seeds, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT id, person_id, kind, seed_org_id, interval_from, win_from, win_to, excluded, day FROM test_draws
			WHERE kind IN ('scheduled', 'surprise') ORDER BY seed_org_id, day, id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d casework.DrawRecord
			if err := rows.Scan(&d.ID, &d.PersonID, &d.Kind, &d.SeedOrgID, &d.IntervalFrom, &d.WinFrom, &d.WinTo, &d.Excluded, &d.Day); err != nil {
				return err
			}
			if revealed[d.SeedOrgID+"|"+casework.PeriodOf(d.WinFrom)] && revealed[d.SeedOrgID+"|"+casework.PeriodOf(d.WinTo)] {
				draws = append(draws, d)
			}
		}
		return rows.Err()
	})
	return seeds, draws, err
}

// VerifyDraws recomputes every draw of revealed periods and checks every
// seed against its commitment — the revealed ones from their clear text,
// the sealed ones after opening them with the vault (only the operator
// can) — and names each altered seed and draw.
func (db *DB) VerifyDraws(ctx context.Context) (*casework.DrawReport, error) {
	seeds, draws, err := db.ExportDraws(ctx)
	if err != nil {
		return nil, err
	}
	rep := casework.VerifyDrawSet(seeds, draws)
	err = db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT org_id, period, seed_hash, seed_enc, COALESCE(seed, '') FROM draw_seeds ORDER BY org_id, period`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var org, period, hash, enc, clear string
			if err := rows.Scan(&org, &period, &hash, &enc, &clear); err != nil {
				return err
			}
			plain, err := db.vault.Open(enc, seedCtx(org, period))
			switch {
			case err != nil:
				rep.Problems = append(rep.Problems, fmt.Sprintf("sealed seed %s/%s cannot be opened: %v", org, period, err))
				rep.AlteredSeeds = append(rep.AlteredSeeds, org+"/"+period)
			case clear != "" && !strings.EqualFold(plain, clear):
				rep.Problems = append(rep.Problems, fmt.Sprintf("seed %s/%s: the revealed seed differs from the sealed one", org, period))
				rep.AlteredSeeds = append(rep.AlteredSeeds, org+"/"+period)
			case clear == "" && !seedMatches(plain, hash):
				rep.Problems = append(rep.Problems, fmt.Sprintf("seed %s/%s (sealed) does not match its commitment %s", org, period, hash))
				rep.AlteredSeeds = append(rep.AlteredSeeds, org+"/"+period)
			}
		}
		return rows.Err()
	})
	return rep, err
}

func seedMatches(hexSeed, hash string) bool {
	raw, err := hex.DecodeString(hexSeed)
	return err == nil && casework.SeedHash(raw) == hash
}
