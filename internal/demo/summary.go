package demo

import (
	"context"
	"fmt"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

const summaryMarker = "demo:summary"

// loadSummary enters the factory compound's population and staffing for
// this year, as the story tells them (全厂常住人口4790人, one 禁毒专干), so
// its yearly work summary reads like the story's paragraph (issue 12 §3).
func loadSummary(ctx context.Context, db *store.DB) error {
	first, err := db.Mark(ctx, summaryMarker)
	if err != nil || !first {
		return err
	}
	sys := casework.SystemActor("demo")
	orgs, err := db.ListOrgs(ctx, sys, store.OrgFilter{})
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if o.Name != factoryName {
			continue
		}
		year := casework.DateOf(db.Now(), o.Location()).Year
		_, err := db.SetOrgYear(ctx, sys, casework.OrgYearInput{OrgID: o.ID, Year: year, Population: 4790, Specialists: 1, Police: 1,
			Others: 3, Note: "示例：厂区治保主任、党员等工作小组成员计入其他"})
		return err
	}
	return fmt.Errorf("demo summary: no org %q", factoryName)
}
