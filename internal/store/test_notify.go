package store

// test_notify.go: the person learns on the day (issue 5 §2, §7). On the
// morning of a drawn or forced test day the person gets an app message
// "今天请到{place}检测，截止时间{HH:MM}" and the same text by SMS through the
// outbox, once per test day: the notice key is the draw's id, so a job run
// twice, two servers, or a lead forcing a day for today (which notifies at
// once) never send it twice. The time is the start of test.hours in force
// on the day at the place of execution: the policy has no time-of-day
// setting, and the reporting hours' start is when the person can act on it.

import (
	"context"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

// TestNotifyRun counts what one NotifyTestsToday run did.
type TestNotifyRun struct {
	Notified int // notices written now
	Waiting  int // today's days whose test hours have not begun yet
	Late     int // today's days whose deadline passed before any notice: none is sent
}

// testNoticeKey is the notice key of a test day: one notice per draw.
func testNoticeKey(drawID string) string { return "test.today:" + drawID }

// TestTodayText is the notice of a test day in the language ("en" or
// Chinese): where to go and by when (local HH:MM).
func TestTodayText(lang, place, by string) string {
	if lang == "en" {
		return fmt.Sprintf("Today, please go to %s for a drug test, by %s.", place, by)
	}
	return fmt.Sprintf("今天请到%s检测，截止时间%s", place, by)
}

// TestRemoteTodayText is the notice of a remote test day (the day lies in
// approved leave covering its whole interval): the person tests where they
// are, at a police station or hospital, and sends the report to the worker,
// who records it as a remote test.
func TestRemoteTodayText(lang, by string) string {
	if lang == "en" {
		return fmt.Sprintf("Today is a remote test day: please get a drug test at a police station or hospital where you are, by %s, and send the report to your worker.", by)
	}
	return fmt.Sprintf("今天是异地检测日：请在%s前到所在地派出所或医院检测，并将检测报告交给工作人员上传", by)
}

// TestCalledOffText is the notice that today's test, already announced,
// is off (a lead excused the day).
func TestCalledOffText(lang string) string {
	if lang == "en" {
		return "Today's drug test is called off: you need not go."
	}
	return "今天的检测已取消，无需前往。"
}

// testNoticeBatch is how many notices one write transaction makes: the
// SQLite writer is not held for the whole run.
const testNoticeBatch = 200

// pendingNotice is one test day of today still to be notified.
type pendingNotice struct {
	drawID, personID, orgID string
	day                     casework.Date
	place, by               string
	remote                  bool
}

// NotifyTestsToday notifies every person with a test day today (in the
// zone of the place of execution) whose test hours have begun and whose
// deadline has not passed: the measure in force is executing or on leave,
// the day is not excused and no test is recorded that day. Idempotent:
// a day already notified is skipped (notice key per draw). Each notice is
// audited (test.notified) by the system. Run by the notify_tests_today job.
func (db *DB) NotifyTestsToday(ctx context.Context) (TestNotifyRun, error) {
	var run TestNotifyRun
	var todo []pendingNotice
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		todo, err = tx.pendingTestNotices(ctx, &run)
		return err
	})
	if err != nil {
		return run, err
	}
	sys := casework.SystemActor("notify")
	for len(todo) > 0 {
		batch := todo[:min(len(todo), testNoticeBatch)]
		todo = todo[len(batch):]
		n := 0
		err := db.Write(ctx, func(tx *Tx) error {
			n = 0
			for _, p := range batch {
				ok, err := tx.notifyTestDay(ctx, sys, p)
				if err != nil {
					return err
				}
				if ok {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return run, err
		}
		run.Notified += n
	}
	return run, nil
}

// pendingTestNotices lists today's test days not notified yet whose hours
// have begun; it counts the waiting and late ones in run.
func (tx *Tx) pendingTestNotices(ctx context.Context, run *TestNotifyRun) ([]pendingNotice, error) {
	// Zones differ by at most a day from UTC: take three UTC dates and keep
	// each day that is today in its own place's zone.
	u := casework.DateOf(tx.now, time.UTC)
	rows, err := tx.Query(ctx, `SELECT d.id, d.person_id, p.org_id, d.day, d.remote FROM test_draws d
		JOIN persons p ON p.id = d.person_id JOIN measures m ON m.id = d.measure_id
		WHERE d.day >= ? AND d.day <= ? AND d.excused_reason = '' AND m.in_force = ? AND m.status IN (?, ?)
		AND NOT EXISTS (SELECT 1 FROM messages n WHERE n.notice_key = 'test.today:' || d.id)
		AND NOT EXISTS (SELECT 1 FROM drug_tests t WHERE t.person_id = d.person_id AND t.tested_on = d.day)
		ORDER BY d.day, d.person_id, d.id`,
		u.AddDays(-1), u.AddDays(1), true, string(casework.StatusExecuting), string(casework.StatusOnLeave))
	if err != nil {
		return nil, err
	}
	var all []pendingNotice
	for rows.Next() {
		var p pendingNotice
		if err := rows.Scan(&p.drawID, &p.personID, &p.orgID, &p.day, &p.remote); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	pp := newPlacePolicies(tx)
	seen := map[string]bool{} // one notice per person and day (a forced day on a drawn day)
	var out []pendingNotice
	for _, p := range all {
		org, policyAt, err := pp.get(ctx, p.orgID)
		if err != nil {
			return nil, err
		}
		loc := org.Location()
		if casework.DateOf(tx.now, loc) != p.day {
			continue
		}
		pol := policyAt(p.day)
		hours := pol.Value("test.hours").Window()
		start := p.day.In(loc).Add(time.Duration(hours.From) * time.Minute) // the notice time
		deadline := dayDeadline(policyAt, p.day, loc)
		switch {
		case tx.now.Before(start):
			run.Waiting++
			continue
		case !tx.now.Before(deadline):
			run.Late++
			continue
		}
		if seen[p.personID] {
			continue
		}
		seen[p.personID] = true
		p.place, p.by = pol.Value("test.place").Text(), deadline.In(loc).Format("15:04")
		out = append(out, p)
	}
	return out, nil
}

// notifyTestDay writes the app message and queues the SMS of one test
// day, and audits it; false when the day was notified before.
func (tx *Tx) notifyTestDay(ctx context.Context, actor *casework.Actor, p pendingNotice) (bool, error) {
	// In the language of the person's app (issue 18 item 13).
	words := func(lang string) string {
		if p.remote {
			return TestRemoteTodayText(lang, p.by)
		}
		return TestTodayText(lang, p.place, p.by)
	}
	ok, err := tx.NotifyPerson(ctx, PersonNotice{PersonID: p.personID, Kind: "test.today", Words: words,
		SMS: true, Key: testNoticeKey(p.drawID)})
	if err != nil || !ok {
		return false, err
	}
	return true, tx.Audit(ctx, actor, AuditEntry{Action: "test.notified", TargetType: "person", TargetID: p.personID, OrgID: p.orgID,
		Detail: map[string]any{"draw_id": p.drawID, "day": p.day.String()}})
}

// notifyForcedToday notifies a test day a lead forced for today at once
// (the person must learn of it on the day, and the morning's notices are
// out). The same key as the job's, so the job skips it afterwards.
func (tx *Tx) notifyForcedToday(ctx context.Context, actor *casework.Actor, drawID, personID string, org *casework.Org, day casework.Date) error {
	pol, err := tx.policyFunc(ctx, org)
	if err != nil {
		return err
	}
	loc := org.Location()
	by := dayDeadline(pol, day, loc).In(loc).Format("15:04")
	_, err = tx.notifyTestDay(ctx, actor, pendingNotice{drawID: drawID, personID: personID, orgID: org.ID, day: day,
		place: pol(day).Value("test.place").Text(), by: by})
	return err
}
