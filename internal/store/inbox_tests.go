package store

// inbox_tests.go: the task inbox's sources from the test draws and the
// check-ins (issue 5 §5): who must be tested today (R22–R24), whose drawn
// or forced day passed without a test in the last week (an evasion, R9),
// and who has not checked in today although the check-in window has ended.
// Each is one query over an indexed date range; the day and the deadline
// are judged per row in the zone and policy of the place of execution.

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

// MissedTestDays is how far back the inbox shows missed test days: the
// days in [today − MissedTestDays, today] whose deadline has passed.
const MissedTestDays = 7

// testDayRow is one untested, unexcused test day of a measure in force.
type testDayRow struct {
	personID, name, orgName, orgID string
	day                            casework.Date
}

// untestedDays lists the test days in [from, to] (UTC dates; each row is
// judged in its own zone later) of persons in the actor's scope for
// PermRecordTest that are not excused and have no test recorded that day,
// of measures in force, on days the person owed the measure's duties —
// executing or on leave on the day (owedOn): a day forced before a
// suspension (R13) is neither due nor missed, a day missed before it
// stays missed. The query keeps only rows of an owing status now or of a
// status that began after the day; owedOn judges the latter.
func untestedDays(ctx context.Context, tx *Tx, actor *casework.Actor, from, to casework.Date) ([]testDayRow, error) {
	scope, args := personScope(actor, casework.PermRecordTest)
	q := `SELECT p.id, p.name, o.name, p.org_id, d.day, m.status, m.status_since FROM test_draws d JOIN persons p ON p.id = d.person_id JOIN orgs o ON o.id = p.org_id
		JOIN measures m ON m.id = d.measure_id
		WHERE d.day >= ? AND d.day <= ? AND d.excused_reason = '' AND m.in_force = ? AND (m.status IN (?, ?) OR m.status_since > d.day)
		AND NOT EXISTS (SELECT 1 FROM drug_tests t WHERE t.person_id = d.person_id AND t.tested_on = d.day)
		AND ` + scope + ` ORDER BY d.day, p.name, p.id LIMIT ` + fmt.Sprint(InboxLimit)
	rows, err := tx.Query(ctx, q, append([]any{from, to, true, string(casework.StatusExecuting), string(casework.StatusOnLeave)}, args...)...)
	if err != nil {
		return nil, err
	}
	var all []testDayRow
	var judge []dutyDay
	for rows.Next() {
		var r testDayRow
		var j dutyDay
		var status string
		if err := rows.Scan(&r.personID, &r.name, &r.orgName, &r.orgID, &r.day, &status, &j.since); err != nil {
			rows.Close()
			return nil, err
		}
		j.personID, j.status, j.day = r.personID, casework.Status(status), r.day
		all, judge = append(all, r), append(judge, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	owed, err := tx.owedOn(ctx, judge)
	if err != nil {
		return nil, err
	}
	var out []testDayRow
	for i, r := range all {
		if owed[i] {
			out = append(out, r)
		}
	}
	return out, nil
}

// testDueTasks: persons who must be tested today and have not been, while
// the test hours last (R22–R24): for the police, workers and leads who
// record tests. A forced day on a drawn day is one visit: one task.
func testDueTasks(ctx context.Context, tx *Tx, actor *casework.Actor, _ casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermRecordTest) {
		return nil, nil
	}
	u := casework.DateOf(tx.now, time.UTC)
	rows, err := untestedDays(ctx, tx, actor, u.AddDays(-1), u.AddDays(1))
	if err != nil {
		return nil, err
	}
	pp := newPlacePolicies(tx)
	seen := map[string]bool{}
	var out []Task
	for _, r := range rows {
		org, pol, err := pp.get(ctx, r.orgID)
		if err != nil {
			return nil, err
		}
		loc := org.Location()
		deadline := dayDeadline(pol, r.day, loc)
		if r.day != casework.DateOf(tx.now, loc) || !tx.now.Before(deadline) || seen[r.personID] {
			continue // not today there, or over (a missed day then), or already listed
		}
		seen[r.personID] = true
		by := deadline.In(loc).Format("15:04")
		out = append(out, Task{Kind: "test_due", PersonID: r.personID, PersonName: r.name, OrgName: r.orgName, Due: r.day, Rule: "R22",
			Link:    "/persons/" + r.personID + "/tests",
			TitleZH: fmt.Sprintf("%s 今天须检测，截止 %s（%s）", r.name, by, pol(r.day).Value("test.place").Text()),
			TitleEN: fmt.Sprintf("%s: drug test due today by %s (%s)", r.name, by, pol(r.day).Value("test.place").Text())})
	}
	return out, nil
}

// missedTestTasks: drawn or forced days of the last MissedTestDays days
// (today included once its deadline has passed) with no test recorded
// and no excuse — an evasion that counts toward R9; linked to the
// person's schedule, where the day and its state show.
func missedTestTasks(ctx context.Context, tx *Tx, actor *casework.Actor, _ casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermRecordTest) {
		return nil, nil
	}
	u := casework.DateOf(tx.now, time.UTC)
	rows, err := untestedDays(ctx, tx, actor, u.AddDays(-MissedTestDays-1), u.AddDays(1))
	if err != nil {
		return nil, err
	}
	pp := newPlacePolicies(tx)
	seen := map[string]bool{}
	var out []Task
	for _, r := range rows {
		org, pol, err := pp.get(ctx, r.orgID)
		if err != nil {
			return nil, err
		}
		loc := org.Location()
		today := casework.DateOf(tx.now, loc)
		key := r.personID + "|" + r.day.String()
		if r.day.Before(today.AddDays(-MissedTestDays)) || tx.now.Before(dayDeadline(pol, r.day, loc)) || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, Task{Kind: "test_missed", PersonID: r.personID, PersonName: r.name, OrgName: r.orgName, Due: r.day, Overdue: true,
			Rule: "R9", Link: "/persons/" + r.personID + "/schedule",
			TitleZH: fmt.Sprintf("%s %s 未按时检测（逃避检测计入 R9）", r.name, r.day),
			TitleEN: fmt.Sprintf("%s missed the drug test of %s (an evasion counts toward R9)", r.name, r.day)})
	}
	return out, nil
}

// missedCheckinTasks: persons executing (or on leave, which keeps the
// duty) who have not checked in today although today's check-in window
// has ended (checkin.window of the place's policy); for the workers and
// leads who follow the files. The next night's detection records the day.
func missedCheckinTasks(ctx context.Context, tx *Tx, actor *casework.Actor, _ casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermWritePersons) {
		return nil, nil
	}
	scope, args := personScope(actor, casework.PermWritePersons)
	u := casework.DateOf(tx.now, time.UTC)
	// The latest check-in date from yesterday (UTC) on, through the
	// (person_id, local_date) index: today is checked against it per zone.
	// Only check-ins that count (issue 18 §2), and only persons with an
	// active device (§4: without one nothing is owed; they are on the
	// no-device list instead).
	q := `SELECT p.id, p.name, o.name, p.org_id, (SELECT MAX(c.local_date) FROM checkins c WHERE c.person_id = p.id AND c.local_date >= ? AND c.counts = ?)` + taskFrom +
		` WHERE p.status IN (?, ?) AND EXISTS (SELECT 1 FROM devices d WHERE d.person_id = p.id AND d.retired_at IS NULL) AND ` + scope +
		` ORDER BY p.name_key, p.id LIMIT ` + fmt.Sprint(InboxLimit)
	rows, err := tx.Query(ctx, q, append([]any{u.AddDays(-1), true, string(casework.StatusExecuting), string(casework.StatusOnLeave)}, args...)...)
	if err != nil {
		return nil, err
	}
	type row struct {
		testDayRow
		last sql.Null[casework.Date]
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.personID, &r.name, &r.orgName, &r.orgID, &r.last); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ids := make([]string, len(all))
	for i, r := range all {
		ids[i] = r.personID
	}
	apps, err := tx.appSpansOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	// Only a person whose today is a check-in day (checkin.every_days,
	// issue 13 §4) can have missed it.
	spans, err := tx.personSpansOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	cads, err := newCadenceSource(tx).cadencesOf(ctx, ids, spans, apps, casework.DateOf(tx.now, time.UTC).AddDays(1))
	if err != nil {
		return nil, err
	}
	pp := newPlacePolicies(tx)
	var out []Task
	for _, r := range all {
		org, pol, err := pp.get(ctx, r.orgID)
		if err != nil {
			return nil, err
		}
		loc := org.Location()
		today := casework.DateOf(tx.now, loc)
		win := pol(today).Value("checkin.window").Window()
		if !casework.CheckinDueOnCadence(true, apps[r.personID], cads[r.personID], today) || r.last.Valid && !r.last.V.Before(today) || tx.now.Before(today.In(loc).Add(time.Duration(win.To)*time.Minute)) {
			continue
		}
		out = append(out, Task{Kind: "checkin_missed", PersonID: r.personID, PersonName: r.name, OrgName: r.orgName, Due: today, Overdue: true,
			Rule: "R34", Link: "/persons/" + r.personID + "/checkins",
			TitleZH: fmt.Sprintf("%s 今天未签到（签到时段 %s 已结束）", r.name, win),
			TitleEN: fmt.Sprintf("%s did not check in today (the window %s has ended)", r.name, win)})
	}
	return out, nil
}
