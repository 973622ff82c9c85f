package demo

import (
	"context"
	"fmt"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

const relapseMarker = "demo:relapse"

// loadRelapse shows issue 10's states on the factory's files: a released
// person who relapsed (a positive follow-up test 40 days ago restarts the
// three years without relapse, R16), the released persons whose three years
// have passed marked 戒断三年未复吸, and one executing person's working
// group left without a family member (an R7 task).
func loadRelapse(ctx context.Context, db *store.DB) error {
	first, err := db.Mark(ctx, relapseMarker)
	if err != nil || !first {
		return err
	}
	sys := casework.SystemActor("demo")
	factory, err := demoOrg(ctx, db, sys, factoryName)
	if err != nil {
		return err
	}
	released, _, err := db.ListPersons(ctx, sys, store.PersonFilter{OrgID: factory.ID, Status: []casework.Status{casework.StatusReleased}, IncludeEnded: true, Limit: 6})
	if err != nil {
		return err
	}
	today := casework.DateOf(db.Now(), factory.Location())
	if len(released) > 0 {
		p := released[0]
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
			in := casework.DrugTestInput{TestedOn: today.AddDays(-40), Place: "椰林派出所（示例）", Sample: "urine", Outcome: casework.OutcomePositive,
				Substances: []string{"甲基苯丙胺"}, Positive: []string{"甲基苯丙胺"}, SampleA: "SY-A-0409", SampleB: "SY-B-0409", SealNo: "FQ-0409", StaffIDs: ids}
			if _, err := db.RecordTest(ctx, sys, p.ID, in); err != nil {
				return fmt.Errorf("demo relapse test: %w", err)
			}
		}
	}
	// The periodic job would do this on its first run; the demo shows it at once.
	if _, err := db.MarkNoRelapse(ctx); err != nil {
		return fmt.Errorf("demo no-relapse mark: %w", err)
	}
	// R7: one executing person's group has the worker and the police but no
	// family member yet.
	executing, _, err := db.ListPersons(ctx, sys, store.PersonFilter{OrgID: factory.ID, Status: []casework.Status{casework.StatusExecuting}, Limit: 1})
	if err != nil || len(executing) == 0 {
		return err
	}
	for _, g := range []store.GroupMember{{Role: "worker", Name: "符专干（示例）"}, {Role: "police", Name: "黎警官（示例）"}} {
		if err := db.AddGroupMember(ctx, sys, executing[0].ID, g); err != nil {
			return fmt.Errorf("demo group: %w", err)
		}
	}
	return nil
}

// demoOrg finds a demo org by name.
func demoOrg(ctx context.Context, db *store.DB, sys *casework.Actor, name string) (*casework.Org, error) {
	orgs, err := db.ListOrgs(ctx, sys, store.OrgFilter{})
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
