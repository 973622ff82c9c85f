package store_test

import (
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// 2026-03-10 12:00 in Asia/Shanghai.
var helpStart = time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)

type helpWorld struct {
	pfWorld
	a, b *casework.Person // in community A (worker A's caseload)
}

func newHelpWorld(t *testing.T, db *store.DB) helpWorld {
	t.Helper()
	w := helpWorld{pfWorld: pfBuild(t, db)}
	w.a = storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "张甲", pfID("19900101", 1, true)), pfReported(pfD("2026-01-05"), pfD("2026-01-06"))))
	w.b = storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "李乙", pfID("19910101", 2, true)), pfReported(pfD("2026-01-05"), pfD("2026-01-06"))))
	return w
}

func job(employer, from, to string) casework.EmploymentInput {
	in := casework.EmploymentInput{EmploymentRecord: casework.EmploymentRecord{Kind: casework.WorkEmployed, Employer: employer, Job: "操作工",
		From: pfD(from), FoundBy: "office"}}
	if to != "" {
		in.To = pfD(to)
	}
	return in
}

// The status is derived from the records: a job whose last day is today
// still counts today and not tomorrow; overlapping jobs count once; a
// period of being unable to work takes over when no job covers the day.
func TestEmploymentStatusDerived(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		storetest.Must(db.AddEmployment(ctx, w.workerA, w.a.ID, job("安椰厂", "2026-01-10", "2026-03-10")))
		pe := storetest.Must(db.ListEmployment(ctx, w.workerA, w.a.ID))
		if pe.Status != casework.WorkEmployed || pe.Current == nil || pe.Current.Employer != "安椰厂" {
			t.Fatalf("job ending today: status %s, current %+v; want employed at 安椰厂", pe.Status, pe.Current)
		}
		clock.Add(24 * time.Hour) // 2026-03-11: the job ended yesterday
		if pe := storetest.Must(db.ListEmployment(ctx, w.workerA, w.a.ID)); pe.Status != casework.WorkUnemployed || pe.Current != nil {
			t.Fatalf("job ended yesterday: status %s, want unemployed", pe.Status)
		}
		// Overlapping jobs: one person, employed once.
		storetest.Must(db.AddEmployment(ctx, w.workerA, w.b.ID, job("甲公司", "2026-01-01", "2026-02-28")))
		storetest.Must(db.AddEmployment(ctx, w.workerA, w.b.ID, job("乙公司", "2026-02-15", "")))
		s := storetest.Must(db.EmploymentOverview(ctx, w.lead, "", pfD("2026-02-20")))
		if s.Under != 2 || s.Employed != 2 || s.Counts[casework.WorkEmployed] != 2 {
			t.Fatalf("2026-02-20: under %d employed %d counts %v, want 2 2", s.Under, s.Employed, s.Counts)
		}
		// Unable to work, with a short job inside the period.
		storetest.Must(db.AddEmployment(ctx, w.workerA, w.a.ID, casework.EmploymentInput{EmploymentRecord: casework.EmploymentRecord{
			Kind: casework.WorkUnable, From: pfD("2026-03-11")}}))
		pe = storetest.Must(db.ListEmployment(ctx, w.workerA, w.a.ID))
		if pe.Status != casework.WorkUnable {
			t.Fatalf("unable from today: %s", pe.Status)
		}
		// Unemployed is derived, never recorded; a job needs its employer.
		_, err := db.AddEmployment(ctx, w.workerA, w.a.ID, casework.EmploymentInput{EmploymentRecord: casework.EmploymentRecord{
			Kind: casework.WorkUnemployed, From: pfD("2026-03-01")}})
		pfField(t, "record unemployed", err, "kind")
		_, err = db.AddEmployment(ctx, w.workerA, w.a.ID, job("", "2026-03-01", ""))
		pfField(t, "job without employer", err, "employer")
		_, err = db.AddEmployment(ctx, w.workerA, w.a.ID, job("丙", "2026-03-01", "2026-02-01"))
		pfField(t, "ends before it starts", err, "to")
		// Timeline and audit carry the records.
		if kinds := timelineKinds(t, db, w.lead, w.a.ID); kinds[0] != "employment.recorded" {
			t.Errorf("timeline %v, want employment.recorded first", kinds)
		}
	})
}

// The employment rate at a date (R34): employed ÷ under a measure who can
// work. Persons not yet reported in on the day are not under a measure;
// those unable to work leave the denominator; the subtree and the caseload
// scope the count.
func TestEmploymentRateAtDate(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		c := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "王丙", pfID("19920101", 3, true)), pfReported(pfD("2026-01-05"), pfD("2026-01-06"))))
		late := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "赵丁", pfID("19930101", 4, true)), pfReported(pfD("2026-02-25"), pfD("2026-03-02"))))
		storetest.Must(db.CreatePerson(ctx, w.workerB, pfPerson(w.commB, "钱戊", pfID("19940101", 5, true)), pfReported(pfD("2026-01-05"), pfD("2026-01-06"))))
		storetest.Must(db.AddEmployment(ctx, w.workerA, w.a.ID, job("安椰厂", "2026-01-10", "")))
		storetest.Must(db.AddEmployment(ctx, w.workerA, c.ID, casework.EmploymentInput{EmploymentRecord: casework.EmploymentRecord{
			Kind: casework.WorkUnable, From: pfD("2026-01-06")}}))
		storetest.Must(db.AddEmployment(ctx, w.workerA, late.ID, job("乙公司", "2026-03-02", "")))
		for _, tc := range []struct {
			actor                            *casework.Actor
			org                              string
			on                               string
			under, canWork, employed, unable int
		}{
			// 3-01: late not reported yet. a employed, b unemployed, c unable; 钱戊 in B unemployed.
			{w.lead, "", "2026-03-01", 4, 3, 1, 1},
			// 3-02: late reported in and starts work the same day.
			{w.lead, "", "2026-03-02", 5, 4, 2, 1},
			{w.lead, w.commA.ID, "2026-03-02", 4, 3, 2, 1},
			{w.workerB, "", "2026-03-02", 1, 1, 0, 0},
			// Before anyone reported in: nobody is under a measure.
			{w.lead, "", "2026-01-05", 0, 0, 0, 0},
		} {
			s := storetest.Must(db.EmploymentOverview(ctx, tc.actor, tc.org, pfD(tc.on)))
			if s.Under != tc.under || s.CanWork != tc.canWork || s.Employed != tc.employed || s.Counts[casework.WorkUnable] != tc.unable {
				t.Errorf("%s %s: under %d can work %d employed %d unable %d; want %d %d %d %d", tc.actor.Username, tc.on,
					s.Under, s.CanWork, s.Employed, s.Counts[casework.WorkUnable], tc.under, tc.canWork, tc.employed, tc.unable)
			}
		}
		s := storetest.Must(db.EmploymentOverview(ctx, w.lead, w.commA.ID, pfD("2026-03-02")))
		if r, ok := s.Rate(); !ok || r < 0.666 || r > 0.667 {
			t.Errorf("rate %v %v, want 2/3", r, ok)
		}
		if _, err := db.EmploymentOverview(ctx, w.workerB, w.commA.ID, pfD("2026-03-02")); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("worker B over community A: %v, want not found", err)
		}
		if _, err := db.EmploymentOverview(ctx, w.counsellor, "", pfD("2026-03-02")); err != nil {
			t.Fatal(err)
		} else if s := storetest.Must(db.EmploymentOverview(ctx, w.counsellor, "", pfD("2026-03-02"))); s.Under != 0 {
			t.Errorf("a counsellor sees %d persons' employment, want none", s.Under)
		}
	})
}

// 低保 moves applied → approved (with its monthly amount) → ended, or
// applied → refused; nothing else. Police see the record but not the
// amount; counsellors do not see it at all.
func TestDibaoStates(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		in := casework.AssistanceInput{Kind: casework.AidDibao, AppliedOn: pfD("2026-02-01"), Provider: "吉阳区民政局"}
		a := storetest.Must(db.AddAssistance(ctx, w.workerA, w.a.ID, in))
		if a.Status != casework.AidApplied {
			t.Fatalf("status %s, want applied", a.Status)
		}
		// Approved without an amount: refused, naming the field.
		up := in
		up.Status, up.DecidedOn = casework.AidApproved, pfD("2026-02-20")
		_, err := db.UpdateAssistance(ctx, w.workerA, a.ID, up, "核对材料")
		pfField(t, "approved without amount", err, "amount")
		up.AmountFen = 68000
		a = storetest.Must(db.UpdateAssistance(ctx, w.workerA, a.ID, up, "核对材料"))
		if a.Status != casework.AidApproved || a.AmountFen != 68000 {
			t.Fatalf("approved: %s %d", a.Status, a.AmountFen)
		}
		// approved → applied or refused is not a move.
		back := up
		back.Status = casework.AidRefused
		_, err = db.UpdateAssistance(ctx, w.workerA, a.ID, back, "核对材料")
		pfField(t, "approved → refused", err, "status")
		// Another worker of the community (not the author, not a lead) may not change it.
		_, err = db.UpdateAssistance(ctx, w.workerA2, a.ID, up, "核对材料")
		if err == nil {
			t.Fatal("a worker who is not the author changed the record")
		}
		// A lead may: end it, and the end must follow the approval.
		end := up
		end.Status, end.EndedOn = casework.AidEnded, pfD("2026-02-19")
		_, err = db.UpdateAssistance(ctx, w.lead, a.ID, end, "核对材料")
		pfField(t, "ends before approval", err, "ended_on")
		end.EndedOn = pfD("2026-03-10")
		a = storetest.Must(db.UpdateAssistance(ctx, w.lead, a.ID, end, "核对材料"))
		if a.Status != casework.AidEnded {
			t.Fatalf("ended: %s", a.Status)
		}
		// A second application refused.
		r := storetest.Must(db.AddAssistance(ctx, w.workerA, w.b.ID, in))
		ref := in
		ref.Status, ref.DecidedOn = casework.AidRefused, pfD("2026-02-15")
		if r = storetest.Must(db.UpdateAssistance(ctx, w.workerA, r.ID, ref, "核对材料")); r.Status != casework.AidRefused {
			t.Fatalf("refused: %s", r.Status)
		}
		ref.Status, ref.AmountFen = casework.AidApproved, 50000
		_, err = db.UpdateAssistance(ctx, w.workerA, r.ID, ref, "核对材料")
		pfField(t, "refused → approved", err, "status")
		// Every change kept its replaced version, with its reason; a change
		// without a reason is refused (issue 11 §6).
		_, err = db.UpdateAssistance(ctx, w.lead, a.ID, end, " ")
		pfField(t, "no reason", err, "reason")
		revs := storetest.Must(db.ListRevisions(ctx, w.lead, w.a.ID, "assistance", a.ID))
		if len(revs) != 2 || revs[0].Rev != 1 || !strings.Contains(string(revs[0].Previous), `"Status":"applied"`) || revs[1].Reason != "核对材料" {
			t.Fatalf("revisions %+v", revs)
		}
		if hr := storetest.Must(db.ListHelpRevisions(ctx, w.lead, w.a.ID)); len(hr) != 2 || hr[0].RecordID != a.ID {
			t.Fatalf("help revisions %+v", hr)
		}
		// Police: the record without the amount (R37 minimisation).
		list := storetest.Must(db.ListAssistance(ctx, w.police, w.a.ID))
		if len(list) != 1 || !list[0].Hidden || list[0].AmountFen != 0 || list[0].Kind != casework.AidDibao {
			t.Fatalf("police see %+v, want the dibao without amount", list)
		}
		if list := storetest.Must(db.ListAssistance(ctx, w.office, w.a.ID)); list[0].Hidden || list[0].AmountFen != 68000 {
			t.Fatalf("office sees %+v, want the amount", list[0])
		}
		_, err = db.ListAssistance(ctx, w.counsellor, w.a.ID)
		pfCode(t, "counsellor", err, casework.ENOTFOUND)
		_, err = db.AddAssistance(ctx, w.police, w.a.ID, in)
		pfCode(t, "police record", err, casework.EFORBIDDEN)
		kinds := timelineKinds(t, db, w.lead, w.a.ID)
		if kinds[0] != "assistance.changed" || kinds[2] != "assistance.recorded" {
			t.Errorf("timeline %v", kinds)
		}
	})
}

func hasTask(ts []store.Task, kind, personID string) *store.Task {
	for i := range ts {
		if ts[i].Kind == kind && ts[i].PersonID == personID {
			return &ts[i]
		}
	}
	return nil
}

// R41: an enrolment in methadone maintenance is reported to the police. An
// enrolment with no report is a task, due the day of enrolment and overdue
// the day after; the report ends it. The clinic is required.
func TestMethadoneReportR41(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		in := casework.AssistanceInput{Kind: casework.AidMethadone, Status: casework.AidApproved, AppliedOn: pfD("2026-03-09"), DecidedOn: pfD("2026-03-10")}
		_, err := db.AddAssistance(ctx, w.workerA, w.a.ID, in)
		pfField(t, "no clinic", err, "provider")
		in.Provider = "三亚市美沙酮维持治疗门诊"
		a := storetest.Must(db.AddAssistance(ctx, w.workerA, w.a.ID, in))
		task := hasTask(storetest.Must(db.Inbox(ctx, w.workerA)), "methadone_report", w.a.ID)
		if task == nil || task.Overdue || task.Due != pfD("2026-03-10") || task.Rule != "R41" {
			t.Fatalf("enrolment day: task %+v, want due today, not overdue", task)
		}
		if hasTask(storetest.Must(db.Inbox(ctx, w.workerB)), "methadone_report", w.a.ID) != nil {
			t.Error("worker B of another community has the task")
		}
		clock.Add(24 * time.Hour)
		task = hasTask(storetest.Must(db.Inbox(ctx, w.lead)), "methadone_report", w.a.ID)
		if task == nil || !task.Overdue {
			t.Fatalf("the day after: task %+v, want overdue", task)
		}
		_, err = db.ReportMethadone(ctx, w.workerA, a.ID, pfD("2026-03-12"), "吉阳派出所")
		pfField(t, "report in the future", err, "reported_on")
		a = storetest.Must(db.ReportMethadone(ctx, w.workerA, a.ID, pfD("2026-03-11"), "吉阳派出所 王警官"))
		if a.PoliceReportedOn != pfD("2026-03-11") || a.NeedsPoliceReport() {
			t.Fatalf("reported: %+v", a)
		}
		if hasTask(storetest.Must(db.Inbox(ctx, w.workerA)), "methadone_report", w.a.ID) != nil {
			t.Error("the task stays after the report")
		}
		// Police see the enrolment and its clinic.
		list := storetest.Must(db.ListAssistance(ctx, w.police, w.a.ID))
		if len(list) != 1 || list[0].Provider != in.Provider || list[0].PoliceReportedTo == "" {
			t.Errorf("police see %+v", list)
		}
	})
}

// A help plan's review feeds the inbox from 7 days before (not 8), and is
// overdue the day after; a review moves it on.
func TestHelpPlanReviewInbox(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		plan := casework.HelpPlanInput{Needs: "缺少稳定收入", Goals: []casework.HelpGoal{{Goal: "找到稳定工作", Actions: "推荐厂区岗位", Due: pfD("2026-06-30")}},
			NextReview: pfD("2026-03-18")}
		_, err := db.SaveHelpPlan(ctx, w.workerA, w.a.ID, casework.HelpPlanInput{NextReview: pfD("2026-03-18")}, "")
		pfField(t, "no goals", err, "goals")
		p := storetest.Must(db.SaveHelpPlan(ctx, w.workerA, w.a.ID, plan, ""))
		if len(p.Goals) != 1 || p.StartOn != pfD("2026-03-10") {
			t.Fatalf("plan %+v", p)
		}
		if hasTask(storetest.Must(db.Inbox(ctx, w.workerA)), "help_review", w.a.ID) != nil {
			t.Fatal("review 8 days ahead already in the inbox")
		}
		clock.Add(24 * time.Hour) // 03-11: 7 days ahead
		if task := hasTask(storetest.Must(db.Inbox(ctx, w.workerA)), "help_review", w.a.ID); task == nil || task.Overdue {
			t.Fatalf("7 days ahead: %+v", task)
		}
		clock.Add(7 * 24 * time.Hour) // 03-18: due today
		if task := hasTask(storetest.Must(db.Inbox(ctx, w.workerA)), "help_review", w.a.ID); task == nil || task.Overdue {
			t.Fatalf("due today: %+v", task)
		}
		clock.Add(24 * time.Hour) // 03-19: overdue
		if task := hasTask(storetest.Must(db.Inbox(ctx, w.workerA)), "help_review", w.a.ID); task == nil || !task.Overdue {
			t.Fatalf("the day after: %+v", task)
		}
		p = storetest.Must(db.ReviewHelpPlan(ctx, w.workerA, w.a.ID, pfD("2026-03-19"), "已就业，继续跟进", pfD("2026-06-19")))
		if len(p.Reviews) != 1 || p.NextReview != pfD("2026-06-19") || p.Reviews[0].Note != "已就业，继续跟进" {
			t.Fatalf("after review: %+v", p)
		}
		if hasTask(storetest.Must(db.Inbox(ctx, w.workerA)), "help_review", w.a.ID) != nil {
			t.Error("the review is still due")
		}
		// Only its author or a lead changes the plan.
		_, err = db.SaveHelpPlan(ctx, w.workerA2, w.a.ID, plan, "调整")
		if err == nil {
			t.Error("another worker changed the plan")
		}
		plan.NextReview = pfD("2026-04-19")
		if p := storetest.Must(db.SaveHelpPlan(ctx, w.lead, w.a.ID, plan, "已就业，调整目标")); p.StartOn != pfD("2026-03-10") {
			t.Errorf("an edit moved the start to %s", p.StartOn)
		}
		if kinds := timelineKinds(t, db, w.lead, w.a.ID); kinds[0] != "help.plan_changed" || kinds[1] != "help.reviewed" {
			t.Errorf("timeline %v", kinds)
		}
	})
}

// Events count per organiser subtree and period, both ends of the period
// included: the last day of February is out of March, the first and the
// 31st in, April 1 out.
func TestEventCountsPerSubtreeAndPeriod(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 4, 2, 4, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		add := func(actor *casework.Actor, org *casework.Org, day string, aud int) {
			storetest.Must(db.AddEvent(ctx, actor, casework.EventInput{OrgID: org.ID, HeldOn: pfD(day), Place: "厂区广场", Topic: "珍爱生命 远离毒品",
				Kind: casework.EventStreet, Audience: aud, Materials: 10}))
		}
		add(w.workerA, w.commA, "2026-02-28", 100)
		add(w.workerA, w.commA, "2026-03-01", 200)
		add(w.workerB, w.commB, "2026-03-31", 300)
		add(w.lead, w.street, "2026-03-15", 50)
		add(w.workerA, w.commA, "2026-04-01", 400)
		march := store.EventFilter{From: pfD("2026-03-01"), To: pfD("2026-03-31")}
		for _, tc := range []struct {
			actor         *casework.Actor
			org           string
			f             store.EventFilter
			events, reach int
		}{
			{w.lead, "", march, 3, 550},
			{w.office, "", march, 3, 550},
			{w.lead, w.commA.ID, march, 1, 200},
			{w.workerA, "", march, 1, 200}, // a worker sees its community's events
			{w.workerB, "", march, 1, 300},
			{w.police, "", store.EventFilter{}, 5, 1050},
			{w.lead, "", store.EventFilter{From: pfD("2026-02-28"), To: pfD("2026-02-28")}, 1, 100},
			{w.lead, "", store.EventFilter{From: pfD("2026-04-01")}, 1, 400},
			{w.counsellor, "", store.EventFilter{}, 0, 0},
		} {
			tc.f.OrgID = tc.org
			c := storetest.Must(db.CountEvents(ctx, tc.actor, tc.f))
			list := storetest.Must(db.ListEvents(ctx, tc.actor, tc.f))
			if c.Events != tc.events || c.Audience != tc.reach || len(list) != tc.events {
				t.Errorf("%s %+v: %d events (%d listed) reaching %d; want %d reaching %d", tc.actor.Username, tc.f, c.Events, len(list), c.Audience, tc.events, tc.reach)
			}
		}
		_, err := db.AddEvent(ctx, w.workerB, casework.EventInput{OrgID: w.commA.ID, HeldOn: pfD("2026-03-01"), Place: "x", Topic: "y", Kind: casework.EventLecture})
		pfField(t, "worker B for community A", err, "org_id")
		_, err = db.AddEvent(ctx, w.workerA, casework.EventInput{OrgID: w.commA.ID, HeldOn: pfD("2026-04-03"), Place: "x", Topic: "y", Kind: casework.EventLecture})
		pfField(t, "tomorrow", err, "held_on")
		_, err = db.CountEvents(ctx, w.lead, store.EventFilter{From: pfD("2026-03-02"), To: pfD("2026-03-01")})
		pfField(t, "period backwards", err, "to")
	})
}
