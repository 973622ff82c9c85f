package store_test

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// R18: the A/B samples of a positive test are kept at least 6 months; the
// record holds the first day they may be destroyed, and refuses an earlier
// day (6 months minus one day; 31 August → 28 February, or 29 in a leap
// year). Empty means exactly 6 months. Sealed with the result.
func TestR18SampleRetention(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2027, 9, 2, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-08-01"))
		positive := func(tested, retain string) (*store.DrugTest, error) {
			in := casework.DrugTestInput{TestedOn: pfD(tested), Place: "椰林派出所", Sample: "urine", Outcome: casework.OutcomePositive,
				Substances: []string{"吗啡"}, Positive: []string{"吗啡"}, SampleA: "A-" + tested + retain, SampleB: "B-" + tested + retain, SealNo: "S1",
				StaffIDs: []string{w.police.UserID, w.worker.UserID}}
			if retain != "" {
				in.RetainUntil = pfD(retain)
			}
			return db.RecordTest(ctx, w.police, w.person.ID, in)
		}
		tests := []struct {
			name, tested, retain, want string // want "" = refused on retain_until
		}{
			{"6 months minus a day", "2026-08-31", "2027-02-27", ""},
			{"31 Aug → 28 Feb", "2026-08-31", "2027-02-28", "2027-02-28"},
			{"empty gives exactly 6 months", "2026-08-31", "", "2027-02-28"},
			{"leap year: 31 Aug → 29 Feb", "2027-08-31", "", "2028-02-29"},
			{"leap year: 28 Feb refused", "2027-08-31", "2028-02-28", ""},
			{"mid-month", "2026-09-15", "2027-03-14", ""},
			{"longer is fine", "2026-09-15", "2027-09-15", "2027-09-15"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := positive(tt.tested, tt.retain)
				if tt.want == "" {
					pfField(t, "R18", err, "retain_until")
					return
				}
				if err != nil || got.RetainUntil != pfD(tt.want) {
					t.Fatalf("R18: %v, retain until %v; want %s", err, got, tt.want)
				}
			})
		}
		// Read back (sealed): the list shows it; a negative has none.
		ts := storetest.Must(db.ListTests(ctx, w.lead, w.person.ID))
		n := 0
		for _, x := range ts {
			if !x.RetainUntil.IsZero() {
				n++
			}
		}
		if n != 4 {
			t.Fatalf("R18: %d records with a retention date, want 4", n)
		}
	})
}
