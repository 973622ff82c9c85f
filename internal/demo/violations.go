package demo

import (
	"context"
	"fmt"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

const violationsMarker = "demo:violations"

// loadViolations gives the factory's worker, lead and police something to
// handle (issue 5 §4): drug use admitted by one person (a serious case
// reported to the police, R10), and for another two refused tests (two
// violations once the nightly detection runs; one more would be a serious
// case, R9).
func loadViolations(ctx context.Context, db *store.DB) error {
	first, err := db.Mark(ctx, violationsMarker)
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
		return fmt.Errorf("demo violations: no org %q", factoryName)
	}
	persons, _, err := db.ListPersons(ctx, sys, store.PersonFilter{OrgID: factory.ID, Status: []casework.Status{casework.StatusExecuting}, Limit: 6})
	if err != nil {
		return err
	}
	if len(persons) < 5 {
		return fmt.Errorf("demo violations: %d executing persons, want 5", len(persons))
	}
	today := casework.DateOf(db.Now(), factory.Location())
	v, err := db.RecordDrugUse(ctx, sys, persons[3].ID, store.DrugUseInput{Day: today.AddDays(-2),
		Detail: "走访时本人承认两天前在朋友家吸食冰毒（示例）"})
	if err != nil {
		return fmt.Errorf("demo drug use: %w", err)
	}
	cs, _, err := db.ListSeriousCases(ctx, sys, store.CaseFilter{PersonID: v.PersonID})
	if err != nil || len(cs) == 0 {
		return fmt.Errorf("demo case: %v", err)
	}
	if _, err := db.StepSeriousCase(ctx, sys, cs[0].ID, casework.CaseStep{Action: casework.CaseReport, Recipient: "吉阳分局椰林派出所 社区民警（示例）"}, nil); err != nil {
		return fmt.Errorf("demo case report: %w", err)
	}
	// Two refused tests for another person, recorded by two staff (R18).
	p := persons[4]
	staff, err := db.TestStaff(ctx, sys, p.ID)
	if err != nil {
		return err
	}
	var ids []string
	for _, s := range staff {
		if len(ids) < 2 && (p.Sex != "F" || s.Sex == "F" || len(ids) == 1) {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) == 2 {
		for _, back := range []int{40, 10} {
			in := casework.DrugTestInput{TestedOn: today.AddDays(-back), Place: "椰林派出所（示例）", Sample: "urine", Outcome: casework.OutcomeRefused, StaffIDs: ids}
			if _, err := db.RecordTest(ctx, sys, p.ID, in); err != nil {
				return fmt.Errorf("demo refused test: %w", err)
			}
		}
	}
	return nil
}
