package store_test

import (
	"slices"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

func TestListStaffForAPlace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tr := buildTree(t, db)
		sys := casework.SystemActor("test")
		mk := func(name string, role casework.Role, org *casework.Org) string {
			u := storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: name, DisplayName: name, OrgID: org.ID, Password: "long-enough-pw"}, "x", false))
			storetest.Must(db.GrantRole(ctx, sys, u.ID, role, org.ID))
			return u.ID
		}
		wa := mk("wa", casework.RoleWorker, tr.commA)
		wb := mk("wb", casework.RoleWorker, tr.commB)
		lead := mk("lead", casework.RoleLead, tr.street)
		gone := mk("gone", casework.RoleWorker, tr.commA)
		mk("cop", casework.RolePolice, tr.commA)
		if err := db.SetDisabled(ctx, sys, gone, true, "left"); err != nil {
			t.Fatal(err)
		}
		names := func(actor *casework.Actor, org *casework.Org) []string {
			staff, err := db.ListStaff(ctx, actor, org.ID, casework.RoleWorker, casework.RoleLead)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, s := range staff {
				out = append(out, s.ID)
			}
			slices.Sort(out)
			return out
		}
		want := []string{wa, lead}
		slices.Sort(want)
		if got := names(actorWith(casework.RoleLead, tr.street), tr.commA); !slices.Equal(got, want) {
			t.Fatalf("staff at community A = %v, want worker A and the street lead %v (not B's worker %s, not the disabled one, not police)", got, want, wb)
		}
		// Someone who cannot read persons there gets not found.
		if _, err := db.ListStaff(ctx, actorWith(casework.RoleWorker, tr.commB), tr.commA.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("worker of B listing A's staff: %v", err)
		}
		if _, err := db.ListStaff(ctx, actorWith(casework.RoleAdmin, tr.county), tr.commA.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("admin listing staff for a place: %v", err)
		}
	})
}
