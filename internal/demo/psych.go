package demo

import (
	"context"
	"fmt"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

const psychMarker = "demo:psych"

// loadPsych gives the factory compound the psychological services of the
// story's year (issue 11 §9): the counsellor assigned to ten persons, 3
// group sessions, 30 one-to-one sessions and the scales given over the
// year, one recent PHQ-9 with item 9 positive waiting for its follow-up,
// and one appointment to come.
func loadPsych(ctx context.Context, db *store.DB) error {
	first, err := db.Mark(ctx, psychMarker)
	if err != nil || !first {
		return err
	}
	sys := casework.SystemActor("demo")
	orgs, err := db.ListOrgs(ctx, sys, store.OrgFilter{})
	if err != nil {
		return err
	}
	var factory *casework.Org
	for _, o := range orgs {
		if o.Name == factoryName {
			factory = o
		}
	}
	if factory == nil {
		return fmt.Errorf("demo psych: no org %q", factoryName)
	}
	counsellor, err := db.UserIDByName(ctx, "counsellor")
	if err != nil {
		return fmt.Errorf("demo psych: %w", err)
	}
	persons, _, err := db.ListPersons(ctx, sys, store.PersonFilter{OrgID: factory.ID, Status: []casework.Status{casework.StatusExecuting}, Limit: 40})
	if err != nil {
		return err
	}
	if len(persons) < 12 {
		return fmt.Errorf("demo psych: %d executing persons, want 12", len(persons))
	}
	// The counsellor records its own sessions and scales, so the file names
	// who did; the lead assigns (below, as the system on the lead's behalf).
	cu, err := db.GetUser(ctx, sys, counsellor)
	if err != nil {
		return err
	}
	me := &casework.Actor{UserID: cu.ID, Username: cu.Username, Name: cu.DisplayName, Grants: cu.Grants}
	loc := factory.Location()
	today := casework.DateOf(db.Now(), loc)
	at := func(daysAgo, hour int) time.Time {
		return today.AddDays(-daysAgo).In(loc).Add(time.Duration(hour) * time.Hour)
	}
	assigned := persons[:10]
	for _, p := range assigned {
		if err := db.AssignCounsellor(ctx, sys, p.ID, counsellor); err != nil {
			return fmt.Errorf("demo assign: %w", err)
		}
	}
	groups := []struct {
		daysAgo  int
		topic    string
		place    string
		from, to int
		others   int
	}{
		{320, "认识毒品危害与复吸预警", "厂区职工活动室", 0, 12, 14},
		{190, "情绪管理与压力应对", "厂区职工活动室", 4, 16, 9},
		{45, "家庭沟通与社会支持", "椰林街道社工站", 8, 20, 21},
	}
	for i, g := range groups {
		var ids []string
		for _, p := range persons[g.from:min(g.to, len(persons))] {
			ids = append(ids, p.ID)
		}
		if _, err := db.RecordGroupSession(ctx, sys, casework.GroupSessionInput{OrgID: factory.ID, HeldOn: today.AddDays(-g.daysAgo), Topic: g.topic,
			Facilitator: "赵老师（心理）", FacilitatorID: counsellor, Place: g.place, AttendeeIDs: ids, OthersReached: g.others,
			SourceKey: fmt.Sprintf("demo:group:%d", i)}); err != nil {
			return fmt.Errorf("demo group session: %w", err)
		}
	}
	notes := []string{
		"初次访谈：建立关系，了解戒毒经历与家庭情况，本人愿意配合。（示例）",
		"谈及工作压力与夜班作息，练习放松呼吸，约定下次继续。（示例）",
		"情绪较前稳定，讨论应对渴求的方法，家属反馈在家表现良好。（示例）",
	}
	modes := []string{"in_person", "in_person", "phone"}
	for i := range 30 {
		p := assigned[i%10]
		round := i / 10
		daysAgo := 340 - round*120 - (i%10)*7
		if _, err := db.RecordCounselling(ctx, me, p.ID, casework.CounsellingInput{CounsellorID: counsellor, HeldAt: at(daysAgo, 10),
			Minutes: 45 + (i%3)*15, Mode: modes[round], Notes: notes[round], SourceKey: fmt.Sprintf("demo:session:%d", i)}); err != nil {
			return fmt.Errorf("demo session %d: %w", i, err)
		}
	}
	if _, err := db.RecordCounselling(ctx, me, assigned[0].ID, casework.CounsellingInput{CounsellorID: counsellor, HeldAt: at(-3, 15),
		Minutes: 50, Mode: "in_person", Planned: true, SourceKey: "demo:session:planned"}); err != nil {
		return fmt.Errorf("demo planned session: %w", err)
	}
	return loadPsychScales(ctx, db, me, assigned, at)
}

// loadPsychScales gives each assigned person a PHQ-9 and a GAD-7 at intake
// and six months on, an SDS and an ASSIST to some, and one PHQ-9 last
// night with item 9 positive.
func loadPsychScales(ctx context.Context, db *store.DB, sys *casework.Actor, assigned []*casework.Person, at func(int, int) time.Time) error {
	items := func(n, total int) []int {
		a := make([]int, n)
		for i := 0; total > 0 && i < n; i++ {
			if n == 9 && i == 8 {
				break // item 9 stays 0 unless set
			}
			a[i] = min(3, total)
			total -= a[i]
		}
		return a
	}
	for i, p := range assigned {
		for _, s := range []struct {
			scale   string
			n       int
			daysAgo int
			total   int
		}{
			{"phq9", 9, 330 - i*7, 8 + i%7}, {"gad7", 7, 330 - i*7, 6 + i%6},
			{"phq9", 9, 150 - i*7, 4 + i%5}, {"gad7", 7, 150 - i*7, 3 + i%5},
		} {
			if _, err := db.RecordScale(ctx, sys, p.ID, store.ScaleInput{Scale: s.scale, Answers: casework.ScaleAnswers{Items: items(s.n, s.total)},
				AdministeredAt: at(s.daysAgo, 11)}); err != nil {
				return fmt.Errorf("demo %s: %w", s.scale, err)
			}
		}
		if i%3 == 0 {
			sds := make([]int, 20)
			for k := range sds {
				sds[k] = 1 + (k+i)%3
			}
			if _, err := db.RecordScale(ctx, sys, p.ID, store.ScaleInput{Scale: "sds", Answers: casework.ScaleAnswers{Items: sds}, AdministeredAt: at(200-i, 11)}); err != nil {
				return fmt.Errorf("demo sds: %w", err)
			}
		}
		if i%2 == 0 {
			subs := map[string]map[string]int{}
			s, _ := casework.ScaleByCode("assist")
			for _, sub := range s.Substances {
				subs[sub.Code] = map[string]int{"q1": 0}
			}
			subs["tobacco"] = map[string]int{"q1": 1, "q2": 6, "q3": 5, "q4": 0, "q6": 3, "q7": 3}
			subs["alcohol"] = map[string]int{"q1": 1, "q2": 3, "q3": 0, "q4": 0, "q5": 0, "q6": 0, "q7": 0}
			subs["ats"] = map[string]int{"q1": 1, "q2": 0, "q6": 3, "q7": 3 * (i % 4 / 2)}
			no := 0
			if _, err := db.RecordScale(ctx, sys, p.ID, store.ScaleInput{Scale: "assist", Answers: casework.ScaleAnswers{Substances: subs, Injection: &no},
				AdministeredAt: at(320-i, 14)}); err != nil {
				return fmt.Errorf("demo assist: %w", err)
			}
		}
	}
	flag := items(9, 11)
	flag[8] = 1
	if _, err := db.RecordScale(ctx, sys, assigned[2].ID, store.ScaleInput{Scale: "phq9", Answers: casework.ScaleAnswers{Items: flag}, AdministeredAt: at(0, -3)}); err != nil {
		return fmt.Errorf("demo item 9: %w", err)
	}
	return nil
}
