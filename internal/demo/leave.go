package demo

import (
	"context"
	"fmt"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// leaveMarker makes the demo leave requests and messages load once.
const leaveMarker = "demo:leave"

// loadLeave gives the factory's lead something to approve and the worker
// something to follow: a pending leave request, an approved working-away
// period that starts next week (R8, R28), and messages to two persons.
func loadLeave(ctx context.Context, db *store.DB) error {
	first, err := db.Mark(ctx, leaveMarker)
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
		return fmt.Errorf("demo leave: no org %q", factoryName)
	}
	persons, _, err := db.ListPersons(ctx, sys, store.PersonFilter{OrgID: factory.ID, Status: []casework.Status{casework.StatusExecuting}, Limit: 3})
	if err != nil {
		return err
	}
	if len(persons) < 3 {
		return fmt.Errorf("demo leave: %d executing persons, want 3", len(persons))
	}
	today := casework.DateOf(db.Now(), factory.Location())
	requests := []struct {
		in      casework.LeaveInput
		approve bool
	}{
		{casework.LeaveInput{Kind: casework.LeaveKindLeave, Province: "440000", City: "广州市", From: today.AddDays(3), To: today.AddDays(7), Reason: "探望生病的母亲"}, false},
		{casework.LeaveInput{Kind: casework.LeaveKindWorkAway, Province: "440000", City: "深圳市", From: today.AddDays(7), To: today.AddDays(97),
			Reason: "外出务工", Employer: "深圳某电子厂（示例）", WorkAddress: "深圳市宝安区（示例地址）"}, true},
	}
	for i, r := range requests {
		l, err := db.CreateLeave(ctx, sys, persons[i].ID, store.LeaveCreate{LeaveInput: r.in})
		if err != nil {
			return fmt.Errorf("demo leave for %s: %w", persons[i].Name, err)
		}
		if r.approve {
			if _, err := db.StepLeave(ctx, sys, l.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意，按时打卡并按期销假"}); err != nil {
				return fmt.Errorf("demo leave approval: %w", err)
			}
		}
	}
	for _, p := range persons[1:] {
		if _, err := db.SendMessage(ctx, sys, p.ID, "本月尿检安排在下周二上午，请按时到派出所。如有困难请提前联系陈专干。"); err != nil {
			return fmt.Errorf("demo message: %w", err)
		}
	}
	return nil
}
