package demo

import (
	"context"
	"fmt"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// helpMarker makes the demo's help, jobs and events load once.
const helpMarker = "demo:help"

// Employers of the factory compound's year (fictional).
var demoEmployers = []struct{ employer, job string }{
	{"安椰厂（示例）包装车间", "包装工"}, {"安椰厂（示例）后勤部", "保洁员"}, {"三亚某物流公司（示例）", "分拣员"},
	{"吉阳区某酒店（示例）", "厨房帮工"}, {"某建材店（示例）", "送货员"}, {"安椰厂（示例）机修车间", "学徒"},
}

// Topics and places of the year's prevention events.
var demoTopics = []string{"珍爱生命 远离毒品", "6·26国际禁毒日宣传", "新型毒品识别", "青少年毒品预防教育", "禁毒法律知识讲座", "家庭防毒指南"}

// loadHelp gives the factory compound the shape of the story's year (seed
// story: every registered person in work, two families on 低保, 40
// prevention events): a job for every person under a measure there (most
// found by the office), two approved 低保 with their monthly amounts, skills
// training, one methadone enrolment not yet reported to the police (an R41
// task in the worker's inbox), help plans with reviews coming up, and 40
// events across the district's street and communities over the past year.
func loadHelp(ctx context.Context, db *store.DB) error {
	first, err := db.Mark(ctx, helpMarker)
	if err != nil || !first {
		return err
	}
	sys := casework.SystemActor("demo")
	orgs, err := db.ListOrgs(ctx, sys, store.OrgFilter{})
	if err != nil {
		return err
	}
	byName := map[string]*casework.Org{}
	for _, o := range orgs {
		byName[o.Name] = o
	}
	factory := byName[factoryName]
	if factory == nil {
		return fmt.Errorf("demo help: no org %q", factoryName)
	}
	today := casework.DateOf(db.Now(), factory.Location())
	s, err := db.EmploymentOverview(ctx, sys, factory.ID, today)
	if err != nil {
		return err
	}
	for i, r := range s.Rows {
		e := demoEmployers[i%len(demoEmployers)]
		found := "office"
		if i%3 == 2 {
			found = "self"
		}
		in := casework.EmploymentInput{EmploymentRecord: casework.EmploymentRecord{Kind: casework.WorkEmployed, Employer: e.employer, Job: e.job,
			From: today.AddDays(-330 + 7*i), FoundBy: found}}
		if _, err := db.AddEmployment(ctx, sys, r.PersonID, in); err != nil {
			return fmt.Errorf("demo job for %s: %w", r.PersonName, err)
		}
		if err := demoAid(ctx, db, sys, r.PersonID, i, today); err != nil {
			return fmt.Errorf("demo help for %s: %w", r.PersonName, err)
		}
	}
	return demoEvents(ctx, db, sys, byName, today)
}

// demoAid gives the i-th person of the factory its share of the year's help.
func demoAid(ctx context.Context, db *store.DB, sys *casework.Actor, pid string, i int, today casework.Date) error {
	var aids []casework.AssistanceInput
	switch i {
	case 0, 1: // the two families on 低保
		aids = append(aids, casework.AssistanceInput{Kind: casework.AidDibao, Status: casework.AidApproved, AppliedOn: today.AddDays(-300 + 20*i),
			DecidedOn: today.AddDays(-270 + 20*i), AmountFen: int64(68000 + 12000*i), Provider: "吉阳区民政局", Outcome: "已按月发放"})
	case 2, 3, 4:
		aids = append(aids, casework.AssistanceInput{Kind: casework.AidTraining, Status: casework.AidEnded, AppliedOn: today.AddDays(-200),
			DecidedOn: today.AddDays(-190), EndedOn: today.AddDays(-160), Provider: "三亚市职业技能培训中心（示例）", Outcome: "取得电工初级证书"})
	case 5:
		aids = append(aids, casework.AssistanceInput{Kind: casework.AidMethadone, Status: casework.AidApproved, AppliedOn: today.AddDays(-3),
			DecidedOn: today.AddDays(-2), Provider: "三亚市美沙酮维持治疗门诊（示例）"})
	case 6:
		aids = append(aids, casework.AssistanceInput{Kind: casework.AidRelief, Status: casework.AidApproved, AppliedOn: today.AddDays(-90),
			DecidedOn: today.AddDays(-85), AmountFen: 150000, Provider: "椰林街道（示例）", Outcome: "一次性救助，用于子女学费"})
	case 7:
		aids = append(aids, casework.AssistanceInput{Kind: casework.AidMedical, Status: casework.AidApproved, AppliedOn: today.AddDays(-60),
			DecidedOn: today.AddDays(-58), Provider: "三亚市人民医院（示例）", Outcome: "已转介就诊"})
	}
	for _, a := range aids {
		if _, err := db.AddAssistance(ctx, sys, pid, a); err != nil {
			return err
		}
	}
	if i > 5 {
		return nil
	}
	plan := casework.HelpPlanInput{Needs: "有吸毒记录，曾难以在厂内就业；家庭经济困难。", StartOn: today.AddDays(-120), NextReview: today.AddDays(3 + 10*i),
		Goals: []casework.HelpGoal{
			{Goal: "稳定就业", Actions: "推荐厂区岗位，跟进试用期表现", Due: today.AddDays(60), Owner: "陈专干"},
			{Goal: "保持操守", Actions: "按时签到和尿检，每月谈话一次", Due: today.AddDays(180), Owner: "陈专干"},
		}}
	if _, err := db.SaveHelpPlan(ctx, sys, pid, plan, ""); err != nil {
		return err
	}
	_, err := db.ReviewHelpPlan(ctx, sys, pid, today.AddDays(-30), "已上岗，表现稳定", today.AddDays(3+10*i))
	return err
}

// demoEvents records the year's 40 prevention events across the district.
func demoEvents(ctx context.Context, db *store.DB, sys *casework.Actor, byName map[string]*casework.Org, today casework.Date) error {
	var hosts []*casework.Org
	for _, n := range []string{factoryName, "椰林街道（示例）", "六湾社区（示例）", "海湾社区（示例）", "吉阳区"} {
		if o := byName[n]; o != nil {
			hosts = append(hosts, o)
		}
	}
	places := map[casework.EventKind]string{casework.EventLecture: "社区活动室", casework.EventExhibition: "街道文化广场",
		casework.EventSchool: "吉阳区某中学（示例）", casework.EventStreet: "厂区门口", casework.EventOnline: ""}
	for i := range 40 {
		kind := casework.EventKinds[i%len(casework.EventKinds)]
		in := casework.EventInput{OrgID: hosts[i%len(hosts)].ID, HeldOn: today.AddDays(-360 + 9*i), Place: places[kind],
			Topic: demoTopics[i%len(demoTopics)], Kind: kind, Audience: 40 + (i*37)%260, Materials: 50 + (i*53)%300}
		if kind == casework.EventOnline {
			in.Audience *= 5
		}
		if _, err := db.AddEvent(ctx, sys, in); err != nil {
			return fmt.Errorf("demo event %d: %w", i+1, err)
		}
	}
	return nil
}
