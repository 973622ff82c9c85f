package store_test

import (
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 15 §3 (一人一档, R11): an ID number on file outside the actor's
// scope is still refused, but the answer does not confirm that a file
// exists; the holder's office is asked, both sides are audited, and the
// attempts are limited per user. Inside the scope the plain "already on
// file" answer stays.
func TestIDNumberOnFileElsewhereIsNotConfirmed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := pfBuild(t, db)
		id := pfID("19900101", 1, true)
		p := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "王小明", id), nil))

		_, err := db.CreatePerson(ctx, w.workerA2, pfPerson(w.commA, "王小明", id), nil)
		pfCode(t, "same ID inside the scope", err, casework.ECONFLICT)
		if !strings.Contains(casework.ErrorMessage(err, "zh"), "已建档") {
			t.Errorf("inside the scope: %q, want it to say the file exists", casework.ErrorMessage(err, "zh"))
		}

		_, err = db.CreatePerson(ctx, w.workerB, pfPerson(w.commB, "王小明", id), nil)
		pfCode(t, "same ID outside the scope", err, casework.ECONFLICT)
		for _, lang := range []string{"zh", "en"} {
			msg := casework.ErrorMessage(err, lang)
			for _, leak := range []string{"已建档", "建档（", "exists", "on file", w.commA.Name, "王"} {
				if strings.Contains(msg, leak) {
					t.Errorf("outside the scope (%s): %q confirms the file (%q)", lang, msg, leak)
				}
			}
		}
		// Audited on both sides; the holder's office is asked.
		rows, _, err := db.ListAudit(ctx, casework.SystemActor("test"), store.AuditFilter{Action: "person.id_query"})
		if err != nil || len(rows) != 2 {
			t.Fatalf("audit rows %d, %v; want 2 (the asking and the holding side)", len(rows), err)
		}
		ns := storetest.Must(db.ListNotifications(ctx, w.office, false))
		found := false
		for _, n := range ns {
			found = found || (n.Kind == "person.id_query" && n.PersonID == p.ID)
		}
		if !found {
			t.Errorf("the holding office got no query: %+v", ns)
		}
		// Limited per user: past the limit nothing more is filed that day.
		for i := 1; i < store.MaxIDQueriesPerDay; i++ {
			_, err = db.CreatePerson(ctx, w.workerB, pfPerson(w.commB, "王小明", id), nil)
			pfCode(t, "repeat", err, casework.ECONFLICT)
		}
		_, err = db.CreatePerson(ctx, w.workerB, pfPerson(w.commB, "李四", pfID("19920202", 3, true)), nil)
		pfCode(t, "a new number past the limit", err, casework.ERATELIMIT)
		// Another user is not held back.
		if _, err := db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "李四", pfID("19920202", 3, true)), nil); err != nil {
			t.Fatalf("another user: %v", err)
		}
	})
}
