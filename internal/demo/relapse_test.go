package demo_test

import (
	"context"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/demo"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 10's demo states: a released person who relapsed (R16), released
// persons whose three years passed marked, an R7 working-group task.
func TestDemoRelapse(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if _, err := demo.Load(ctx, db); err != nil {
			t.Fatal(err)
		}
		sys := casework.SystemActor("test")
		orgs, err := db.ListOrgs(ctx, sys, store.OrgFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var city *casework.Org
		for _, o := range orgs {
			if o.Kind == casework.KindCity {
				city = o
			}
		}
		c, err := db.CountNoRelapse(ctx, sys, city.ID)
		if err != nil || c.Relapsed < 1 || c.Marked+c.Tracking < 6 {
			t.Fatalf("demo R16: %+v %v", c, err)
		}
		t.Logf("R16 in the demo: %+v", c)
	})
}
