package demo

import (
	"context"
	"fmt"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// drawsMarker makes the demo's forced and excused test days load once.
const drawsMarker = "demo:draws"

// loadDraws runs the daily draw job (seed commitments for the coming months,
// each person's drawn test days; idempotent, so it runs on every load) and,
// once, has the street lead force a test today for one factory resident —
// so the app shows "今天请到…检测" and the due-today list has a row — and
// excuse another resident's next drawn day, with reasons (issue 5 §2).
func loadDraws(ctx context.Context, db *store.DB) error {
	if _, err := db.DailyDraws(ctx); err != nil {
		return fmt.Errorf("demo draws: %w", err)
	}
	first, err := db.Mark(ctx, drawsMarker)
	if err != nil || !first {
		return err
	}
	sys := casework.SystemActor("demo")
	id, err := db.UserIDByName(ctx, "lead")
	if err != nil {
		return err
	}
	u, err := db.GetUser(ctx, sys, id)
	if err != nil {
		return err
	}
	lead := &casework.Actor{UserID: u.ID, Username: u.Username, Name: u.DisplayName, Grants: u.Grants}
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
		return fmt.Errorf("demo draws: no org %q", factoryName)
	}
	persons, _, err := db.ListPersons(ctx, sys, store.PersonFilter{OrgID: factory.ID, Status: []casework.Status{casework.StatusExecuting}, Limit: 5})
	if err != nil {
		return err
	}
	if len(persons) < 2 {
		return fmt.Errorf("demo draws: %d executing persons, want 2", len(persons))
	}
	today := casework.DateOf(db.Now(), factory.Location())
	// Today, or tomorrow once today's test hours are over.
	if _, err := db.ForceTestDay(ctx, lead, persons[0].ID, today, "社区民警反映近期行为异常，安排加测（示例）"); casework.ErrorField(err) == "day" {
		_, err = db.ForceTestDay(ctx, lead, persons[0].ID, today.AddDays(1), "社区民警反映近期行为异常，安排加测（示例）")
		if err != nil {
			return fmt.Errorf("demo forced test: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("demo forced test: %w", err)
	}
	s, err := db.PersonSchedule(ctx, lead, persons[1].ID)
	if err != nil {
		return err
	}
	for _, iv := range s.Intervals {
		if iv.Draw != nil && iv.Draw.Day.After(today) {
			return db.ExcuseTestDay(ctx, lead, persons[1].ID, iv.Draw.ID, "当日住院治疗，已提交诊断证明（示例）")
		}
	}
	return nil
}
