package store_test

import (
	"context"
	"slices"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

var ctx = context.Background()

func TestMigrationNamesMatch(t *testing.T) {
	lite, err := store.MigrationNames(store.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := store.MigrationNames(store.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || !slices.Equal(lite, pg) {
		t.Fatalf("migration files differ between engines:\nsqlite:   %v\npostgres: %v", lite, pg)
	}
}

func TestMigrateFromEmptyAndAgain(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db, err := store.Open(ctx, e.DSN, store.Options{Keys: storetest.Keys(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			pending, err := db.PendingMigrations(ctx)
			if err == nil && len(pending) == 0 {
				t.Fatal("an empty database reports no pending migrations")
			}
			applied, err := db.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			names, _ := store.MigrationNames(db.Engine())
			if !slices.Equal(applied, names) {
				t.Fatalf("applied %v, want %v", applied, names)
			}
			again, err := db.Migrate(ctx)
			if err != nil || len(again) != 0 {
				t.Fatalf("second migrate applied %v, err %v", again, err)
			}
			if pending, err := db.PendingMigrations(ctx); err != nil || len(pending) != 0 {
				t.Fatalf("pending after migrate: %v %v", pending, err)
			}
		})
	}
}

// tree builds province → city → county → township → two communities.
type tree struct {
	province, city, county, street, commA, commB *casework.Org
}

func buildTree(t *testing.T, db *store.DB) tree {
	t.Helper()
	sys := casework.SystemActor("test")
	mk := func(parent *casework.Org, kind casework.OrgKind, name string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return storetest.Must(db.CreateOrg(ctx, sys, in))
	}
	var tr tree
	tr.province = mk(nil, casework.KindProvince, "海南省")
	tr.city = mk(tr.province, casework.KindCity, "三亚市")
	tr.county = mk(tr.city, casework.KindCounty, "天涯区")
	tr.street = mk(tr.county, casework.KindTownship, "椰林街道")
	tr.commA = mk(tr.street, casework.KindCommunity, "椰风社区")
	tr.commB = mk(tr.street, casework.KindCommunity, "海湾社区")
	return tr
}

func actorWith(role casework.Role, org *casework.Org) *casework.Actor {
	return &casework.Actor{UserID: "u-" + string(role), Username: string(role),
		Grants: []casework.Grant{{Role: role, OrgID: org.ID, OrgPath: org.Path}}}
}

func TestOrgTreeScopedByActor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tr := buildTree(t, db)
		admin := actorWith(casework.RoleAdmin, tr.street)
		// In scope: can create under the street.
		if _, err := db.CreateOrg(ctx, admin, casework.OrgInput{ParentID: tr.commA.ID, Kind: casework.KindCommunity, Name: "x"}); !casework.IsCode(err, casework.EINVALID) {
			t.Fatalf("community under community: want invalid, got %v", err)
		}
		// Outside scope: the county is above the admin's grant → forbidden? no: it is not even visible.
		_, err := db.CreateOrg(ctx, admin, casework.OrgInput{ParentID: tr.county.ID, Kind: casework.KindTownship, Name: "x"})
		if !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("create outside subtree: want not_found, got %v", err)
		}
		if _, err := db.GetOrg(ctx, admin, tr.county.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("read outside subtree: want not_found, got %v", err)
		}
		orgs, err := db.ListOrgs(ctx, admin, store.OrgFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range orgs {
			names = append(names, o.Name)
		}
		if want := []string{"椰林街道", "椰风社区", "海湾社区"}; !slices.Equal(names, want) {
			t.Fatalf("list = %v, want %v", names, want)
		}
		worker := actorWith(casework.RoleWorker, tr.commA)
		if _, err := db.UpdateOrg(ctx, worker, tr.commA.ID, store.OrgUpdate{Name: ptr("改名")}); !casework.IsCode(err, casework.EFORBIDDEN) {
			t.Fatalf("worker renames own org: want forbidden, got %v", err)
		}
		if _, err := db.UpdateOrg(ctx, worker, tr.commB.ID, store.OrgUpdate{Name: ptr("改名")}); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("worker renames other community: want not_found, got %v", err)
		}
		got, err := db.UpdateOrg(ctx, admin, tr.commA.ID, store.OrgUpdate{Name: ptr("椰风新社区"), AreaCode: ptr("460203001001")})
		if err != nil || got.Name != "椰风新社区" || got.AreaCode != "460203001001" {
			t.Fatalf("rename: %+v %v", got, err)
		}
		if _, err := db.UpdateOrg(ctx, admin, tr.commA.ID, store.OrgUpdate{AreaCode: ptr("4602")}); casework.ErrorField(err) != "area_code" {
			t.Fatalf("short area code: %v", err)
		}
		if _, err := db.UpdateOrg(ctx, admin, tr.commA.ID, store.OrgUpdate{Name: ptr("海湾社区")}); casework.ErrorField(err) != "name" {
			t.Fatalf("duplicate sibling name: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestMoveOrgRewritesSubtree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tr := buildTree(t, db)
		sys := casework.SystemActor("test")
		street2 := storetest.Must(db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: tr.county.ID, Kind: casework.KindTownship, Name: "海棠街道"}))
		admin := actorWith(casework.RoleAdmin, tr.county)
		if _, err := db.MoveOrg(ctx, admin, tr.street.ID, tr.commA.ID); !casework.IsCode(err, casework.EINVALID) {
			t.Fatalf("move under own subtree: want invalid, got %v", err)
		}
		moved, err := db.MoveOrg(ctx, admin, tr.commA.ID, street2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if moved.ParentID != street2.ID || moved.Path != street2.Path+tr.commA.ID+"/" {
			t.Fatalf("moved = %+v", moved)
		}
		// The scope of a grant at the old street no longer covers the moved community.
		lead := actorWith(casework.RoleLead, tr.street)
		if _, err := db.GetOrg(ctx, lead, tr.commA.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("old street still sees moved community: %v", err)
		}
		lead2 := actorWith(casework.RoleLead, street2)
		list, err := db.ListOrgs(ctx, lead2, store.OrgFilter{})
		if err != nil || len(list) != 2 || list[1].ID != tr.commA.ID {
			t.Fatalf("new street sees %d orgs (%v), want itself and the moved community", len(list), err)
		}
		// An admin below the target may not move things into a tree it does not hold.
		streetAdmin := actorWith(casework.RoleAdmin, tr.street)
		if _, err := db.MoveOrg(ctx, streetAdmin, tr.commB.ID, street2.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("move into foreign subtree: want not_found, got %v", err)
		}
	})
}

func TestDeleteAndRetireRefusedWithPeople(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tr := buildTree(t, db)
		sys := casework.SystemActor("test")
		u := storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: "w1", OrgID: tr.commB.ID, Password: "long-enough-pw"}, "x", false))
		admin := actorWith(casework.RoleAdmin, tr.county)
		if err := db.DeleteOrg(ctx, admin, tr.commB.ID, "test"); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("delete with a user under it: want conflict, got %v", err)
		}
		if err := db.RetireOrg(ctx, admin, tr.street.ID, "test"); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("retire with a user under it: want conflict, got %v", err)
		}
		if err := db.DeleteOrg(ctx, admin, tr.street.ID, "test"); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("delete with children: want conflict, got %v", err)
		}
		if err := db.DeleteOrg(ctx, admin, tr.commA.ID, ""); casework.ErrorField(err) != "reason" {
			t.Fatalf("delete without reason: %v", err)
		}
		if err := db.DeleteOrg(ctx, admin, tr.commA.ID, "建错了"); err != nil {
			t.Fatal(err)
		}
		if err := db.SetDisabled(ctx, admin, u.ID, true, "left"); err != nil {
			t.Fatal(err)
		}
		if err := db.RetireOrg(ctx, admin, tr.commB.ID, "合并"); err != nil {
			t.Fatal(err)
		}
		list, _ := db.ListOrgs(ctx, admin, store.OrgFilter{})
		for _, o := range list {
			if o.ID == tr.commB.ID || o.ID == tr.commA.ID {
				t.Fatalf("retired or deleted org %s still listed", o.Name)
			}
		}
	})
}

// TestPostgresPlansForActualParameters: without custom plans, PostgreSQL
// falls back to generic plans for pgx's cached statements and a name
// search over a million persons scans the table (see withCustomPlans).
func TestPostgresPlansForActualParameters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if db.Engine() != store.Postgres {
			return
		}
		var mode string
		if err := db.Read(ctx, func(tx *store.Tx) error { return tx.QueryRow(ctx, `SHOW plan_cache_mode`).Scan(&mode) }); err != nil {
			t.Fatal(err)
		}
		if mode != "force_custom_plan" {
			t.Fatalf("plan_cache_mode = %q, want force_custom_plan", mode)
		}
	})
}
