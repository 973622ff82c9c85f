package demo_test

import (
	"context"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/demo"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 11 §9: the factory compound's year holds visits and calls in the
// shape of the story's year (130 home visits and 420 phone visits), with
// attempts apart, and planned visits ahead; loading twice adds nothing.
func TestLoadVisits(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		start := time.Now()
		if _, err := demo.Load(ctx, db); err != nil {
			t.Fatal(err)
		}
		t.Logf("demo load with visits: %s", time.Since(start))
		uid := storetest.Must(db.UserIDByName(ctx, "worker"))
		u := storetest.Must(db.GetUser(ctx, casework.SystemActor("test"), uid))
		worker := &casework.Actor{UserID: u.ID, Username: u.Username, Grants: u.Grants}
		today := casework.DateOf(db.Now(), nil)
		count := func() map[string]int {
			vs := storetest.Must(db.ListOrgVisits(ctx, worker, store.VisitFilter{From: today.AddDays(-365), To: today.AddDays(30)}, "visit.list_org"))
			n := map[string]int{}
			for _, v := range vs {
				if v.State == casework.VisitDone {
					n[string(v.Kind)]++
				} else {
					n[string(v.State)]++
				}
			}
			return n
		}
		n := count()
		t.Logf("a year at the compound: %v", n)
		if n["home"] < 115 || n["home"] > 145 || n["phone"] < 390 || n["phone"] > 450 || n["attempt"] == 0 || n["planned"] != 3 {
			t.Errorf("visits %v, want about 130 home and 420 phone visits, some attempts and 3 planned", n)
		}
		if _, err := demo.Load(ctx, db); err != nil {
			t.Fatal(err)
		}
		if again := count(); again["home"] != n["home"] || again["phone"] != n["phone"] {
			t.Errorf("a second load changed the visits: %v → %v", n, again)
		}
	})
}
