package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// visitsMarker makes the demo visits load once.
const visitsMarker = "demo:visits"

// Per year at the factory compound, in the shape of the seed story's
// office (130 home visits and 420 phone visits a year): the demo's
// compound is that office's caseload.
const (
	demoHomeVisitsPerYear  = 130
	demoPhoneVisitsPerYear = 420
)

var demoNotes = []string{
	"本人在家，情绪稳定，按时签到，近期在厂里上班。",
	"与母亲交谈，家属反映本人作息规律，未发现异常。",
	"本人下夜班在宿舍休息，简单了解近况，提醒按时检测。",
	"本人反映工作压力较大，已讲解心理咨询预约方式。",
	"家中无异常，孩子上学情况良好，家属支持戒治。",
	"了解到本人近期想换工作，已告知社区就业服务信息。",
}

var demoCalls = []string{
	"电话联系，本人在上班，状态正常。",
	"电话询问近况，提醒本周按时签到。",
	"电话联系本人，告知下月检测安排。",
	"与家属通话，了解本人近期在家情况。",
}

// loadVisits gives the worker of the factory compound a lived-in year of
// visits and calls (issue 11 §9): home visits, phone visits and a few
// office talks spread over the year for each person executing a measure
// (from the report date on), calls that did not get through recorded as
// attempts, follow-ups from some home visits, and a few planned visits in
// the coming days, which the persons see in the app.
func loadVisits(ctx context.Context, db *store.DB) error {
	first, err := db.Mark(ctx, visitsMarker)
	if err != nil || !first {
		return err
	}
	sys := casework.SystemActor("demo")
	factory, err := orgNamed(ctx, db, factoryName)
	if err != nil {
		return err
	}
	uid, err := db.UserIDByName(ctx, "worker")
	if err != nil {
		return err
	}
	u, err := db.GetUser(ctx, sys, uid)
	if err != nil {
		return err
	}
	worker := &casework.Actor{UserID: u.ID, Username: u.Username, Name: u.DisplayName, Grants: u.Grants}
	persons, _, err := db.ListPersons(ctx, sys, store.PersonFilter{OrgID: factory.ID, Status: []casework.Status{casework.StatusExecuting}, Limit: 200})
	if err != nil {
		return err
	}
	if len(persons) == 0 {
		return fmt.Errorf("demo visits: no executing persons at %s", factoryName)
	}
	rnd := rand.New(rand.NewPCG(2021, 11))
	loc := factory.Location()
	now := db.Now()
	today := casework.DateOf(now, loc)
	at := func(day casework.Date) time.Time {
		t := day.In(loc).Add(time.Duration(9*60+rnd.IntN(8*60)) * time.Minute)
		if t.After(now) {
			t = now.Add(-time.Duration(1+rnd.IntN(60)) * time.Minute)
		}
		return t
	}
	var items []store.VisitBatchItem
	add := func(pid string, v casework.VisitInput) {
		items = append(items, store.VisitBatchItem{PersonID: pid, Visit: v})
	}
	mother := []casework.Participant{{Role: "family", Name: "母亲"}, {Role: "staff", Name: worker.Name}}
	// Each person's window is the year or the time since the report date;
	// the year's totals are shared in proportion to the windows.
	froms, days, total := make([]casework.Date, len(persons)), make([]int, len(persons)), 0
	for i, p := range persons {
		ms, err := db.ListMeasures(ctx, sys, p.ID)
		if err != nil {
			return err
		}
		froms[i] = today.AddDays(-364)
		for _, m := range ms {
			if m.InForce && m.ReportDate.After(froms[i]) {
				froms[i] = m.ReportDate
			}
		}
		days[i] = max(froms[i].DaysUntil(today)+1, 0)
		total += days[i]
	}
	for i, p := range persons {
		from, days := froms[i], days[i]
		if days <= 0 {
			continue
		}
		share := float64(days) / float64(total)
		day := func() casework.Date { return from.AddDays(rnd.IntN(days)) }
		for range int(demoHomeVisitsPerYear*share + 0.5) {
			d := day()
			v := casework.VisitInput{Kind: casework.VisitHome, At: at(d), Condition: pick(rnd, []string{"stable", "stable", "stable", "improving", "concern"}),
				Notes: pick(rnd, demoNotes), Address: "本人住所（厂区宿舍）", Participants: mother}
			if rnd.IntN(6) == 0 {
				due := d.AddDays(14)
				v.FollowUps = []casework.FollowUp{{Action: "联系社区就业服务，跟进换工作意向", Due: due, Done: due.Before(today)}}
			}
			add(p.ID, v)
		}
		for range int(demoPhoneVisitsPerYear*share + 0.5) {
			d := day()
			if rnd.IntN(8) == 0 { // did not get through first: an attempt, then the call
				add(p.ID, casework.VisitInput{Kind: casework.VisitPhone, State: casework.VisitAttempt, At: at(d).Add(-2 * time.Hour)})
			}
			add(p.ID, casework.VisitInput{Kind: casework.VisitPhone, At: at(d), Condition: "stable", Notes: pick(rnd, demoCalls)})
		}
		if i%4 == 0 {
			add(p.ID, casework.VisitInput{Kind: casework.VisitOffice, At: at(day()), Condition: "stable", Notes: "到社区办公室谈话，讲解社区戒毒协议的要求。"})
		}
		if i < 3 { // planned home visits in the coming days: shown in the person's app
			add(p.ID, casework.VisitInput{Kind: casework.VisitHome, State: casework.VisitPlanned, At: today.AddDays(2 + i).In(loc).Add(10 * time.Hour),
				Address: "本人住所（厂区宿舍）"})
		}
	}
	if _, err := db.RecordVisitBatch(ctx, worker, items); err != nil {
		return fmt.Errorf("demo visits: %w", err)
	}
	return nil
}

func pick[T any](rnd *rand.Rand, xs []T) T { return xs[rnd.IntN(len(xs))] }

func orgNamed(ctx context.Context, db *store.DB, name string) (*casework.Org, error) {
	orgs, err := db.ListOrgs(ctx, casework.SystemActor("demo"), store.OrgFilter{})
	if err != nil {
		return nil, err
	}
	for _, o := range orgs {
		if o.Name == name {
			return o, nil
		}
	}
	return nil, fmt.Errorf("demo: no org %q", name)
}
