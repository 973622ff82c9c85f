package store_test

import (
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 15 §6 (R36): a search by an exact ID number or phone finds a file
// only for a user who may see its sensitive fields; a counsellor who lists
// the person by name cannot confirm a full number by searching for it.
func TestSearchByExactNumberNeedsRevealPermission(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := pfBuild(t, db)
		id := pfID("19900101", 1, true)
		in := pfPerson(w.commA, "王小明", id)
		in.Phone = "13800138000"
		p := storetest.Must(db.CreatePerson(ctx, w.workerA, in, nil))
		if err := db.AssignCounsellor(ctx, w.lead, p.ID, w.counsellor.UserID); err != nil {
			t.Skipf("cannot assign a counsellor here: %v", err)
		}
		count := func(a *casework.Actor, q string) int {
			_, total, err := db.ListPersons(ctx, a, store.PersonFilter{Query: q})
			if err != nil {
				t.Fatal(err)
			}
			return total
		}
		if n := count(w.counsellor, "王小明"); n != 1 {
			t.Fatalf("counsellor by name: %d, want 1 (the test needs a reader without the reveal permission)", n)
		}
		for _, q := range []string{id, "13800138000"} {
			if n := count(w.counsellor, q); n != 0 {
				t.Errorf("counsellor by exact number %s: %d, want 0", q, n)
			}
			if n := count(w.workerA, q); n != 1 {
				t.Errorf("worker by exact number %s: %d, want 1", q, n)
			}
		}
	})
}
