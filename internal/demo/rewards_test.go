package demo_test

import (
	"context"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/demo"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// TestDemoRewards (issue 14): the demo street has a catalogue of things in
// kind, every demo person sees it, and incentives are on for the district
// from tomorrow (today's policy, and so today's figures, unchanged).
func TestDemoRewards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		res := storetest.Must(demo.Load(ctx, db))
		sys := casework.SystemActor("test")
		_, items, err := db.Rewards(ctx, sys, res.Tree.Street.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 3 {
			t.Fatalf("the street's catalogue has %d items, want 3", len(items))
		}
		for _, r := range items {
			if r.Points <= 0 || r.Stock <= 0 || strings.Contains(r.Name, "现金") || strings.Contains(r.Name, "充值") {
				t.Errorf("demo reward %+v", r)
			}
		}
		persons, _, err := db.ListPersons(ctx, sys, store.PersonFilter{OrgID: res.Tree.Factory.ID, Limit: 1})
		if err != nil || len(persons) == 0 {
			t.Fatal("no demo person in the factory")
		}
		acc := storetest.Must(db.IncentiveAccountOf(ctx, sys, persons[0].ID))
		if acc.Schedule.Enabled {
			t.Error("incentives are on today: a policy version must not change a day already begun")
		}
		if cat := storetest.Must(db.PersonCatalogue(ctx, sys, persons[0].ID)); len(cat) != 3 {
			t.Errorf("a factory person's catalogue has %d items, want the street's 3", len(cat))
		}
		// Loading again adds nothing.
		storetest.Must(demo.Load(ctx, db))
		if _, again, _ := db.Rewards(ctx, sys, res.Tree.Street.ID); len(again) != 3 {
			t.Errorf("a second load: %d items", len(again))
		}
	})
}
