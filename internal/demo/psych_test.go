package demo_test

import (
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/demo"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// The factory's year of psychological services (issue 11 §9): 3 group
// sessions, 30 one-to-one sessions held, scales, one open item-9 flag; the
// demo counsellor lists its ten assigned persons, not the whole street
// (issue 18 item 11).
func TestDemoPsych(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		if _, err := demo.Load(ctx, db); err != nil {
			t.Fatal(err)
		}
		sys := casework.SystemActor("test")
		if _, n, err := db.ListGroupSessions(ctx, sys, store.GroupFilter{}); err != nil || n != 3 {
			t.Fatalf("%d group sessions, want 3: %v", n, err)
		}
		uid := storetest.Must(db.UserIDByName(ctx, "counsellor"))
		u := storetest.Must(db.GetUser(ctx, sys, uid))
		c := &casework.Actor{UserID: u.ID, Username: u.Username, Grants: u.Grants}
		ps, n, err := db.ListPersons(ctx, c, store.PersonFilter{})
		if err != nil || n != 10 {
			t.Fatalf("the counsellor lists %d persons, want its 10 assigned: %v", n, err)
		}
		held, planned, scales, open := 0, 0, 0, 0
		for _, p := range ps {
			f := storetest.Must(db.GetPsychFile(ctx, c, p.ID))
			for _, s := range f.Sessions {
				if s.Planned {
					planned++
				} else {
					held++
				}
			}
			scales += len(f.Scales)
			open += len(f.OpenItem9)
		}
		if held != 30 || planned != 1 || scales < 40 || open != 1 {
			t.Fatalf("held %d planned %d scales %d open item 9 %d", held, planned, scales, open)
		}
		if _, err := demo.Load(ctx, db); err != nil {
			t.Fatal(err)
		}
		if _, n, _ := db.ListGroupSessions(ctx, sys, store.GroupFilter{}); n != 3 {
			t.Fatalf("a second load made %d group sessions", n)
		}
	})
}
