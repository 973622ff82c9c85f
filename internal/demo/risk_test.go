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

// Issue 13 (R31): the demo caseload has a month of confirmed risk reviews,
// so the lead's inbox holds a realistic handful of risk tasks — some due
// within the week, a few overdue, a few asked for by recent events — not
// one per person; every tier occurs; nearly everyone is graded (定级率).
func TestDemoRiskInboxSmallR31(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		res, err := demo.Load(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		uid := storetest.Must(db.UserIDByName(ctx, "lead"))
		u := storetest.Must(db.GetUser(ctx, casework.SystemActor("test"), uid))
		lead := &casework.Actor{UserID: u.ID, Username: u.Username, Grants: u.Grants}
		kinds := map[string]int{}
		overdue := 0
		for _, tk := range storetest.Must(db.Inbox(ctx, lead)) {
			if strings.HasPrefix(tk.Kind, "risk_") {
				kinds[tk.Kind]++
				if tk.Overdue {
					overdue++
				}
			}
		}
		total := 0
		for _, n := range kinds {
			total += n
		}
		graded, under, err := db.GradingRate(ctx, lead, res.Tree.Street.ID, casework.Date{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("risk tasks %v (overdue %d); graded %d of %d", kinds, overdue, graded, under)
		if under < 20 || graded*10 < under*8 {
			t.Errorf("定级率 %d/%d: want nearly everyone graded", graded, under)
		}
		if total > under/4 || kinds["risk_due"] == 0 || overdue == 0 {
			t.Errorf("lead's risk tasks %v (overdue %d) for %d persons: want a small realistic number with some overdue", kinds, overdue, under)
		}
		counts := storetest.Must(db.CountPersonsByTier(ctx, lead, store.PersonFilter{}))
		for _, tier := range []string{"high", "medium", "low"} {
			if counts[tier] == 0 {
				t.Errorf("no %s tier in the demo: %v", tier, counts)
			}
		}
	})
}
