package store_test

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// An office enters population and staffing per org and year (issue 12 §3);
// a second entry for the year replaces the first; leads read but do not
// write; another street's office does not see the org; next year is the
// latest year allowed.
func TestOrgYearsEnteredByTheOffice(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 4, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		in := casework.OrgYearInput{OrgID: w.commA.ID, Year: 2026, Population: 12000, Specialists: 2, SocialWorkers: 3, Police: 1}
		storetest.Must(db.SetOrgYear(ctx, w.office, in))
		in.Population, in.Counsellors = 12500, 1
		y := storetest.Must(db.SetOrgYear(ctx, w.office, in))
		if y.Population != 12500 || y.Workers() != 7 || y.OrgName != w.commA.Name {
			t.Fatalf("after the second entry: %+v", y)
		}
		storetest.Must(db.SetOrgYear(ctx, w.office, casework.OrgYearInput{OrgID: w.commA.ID, Year: 2027, Population: 1}))
		_, err := db.SetOrgYear(ctx, w.office, casework.OrgYearInput{OrgID: w.commA.ID, Year: 2028, Population: 1})
		pfField(t, "the year after next", err, "year")
		_, err = db.SetOrgYear(ctx, w.office, casework.OrgYearInput{OrgID: w.commA.ID, Year: 2026, Population: 1, Police: -1})
		pfField(t, "negative police", err, "police")
		_, err = db.SetOrgYear(ctx, w.lead, in)
		pfCode(t, "a lead writes", err, casework.EFORBIDDEN)
		list := storetest.Must(db.ListOrgYears(ctx, w.lead, w.commA.ID))
		if len(list) != 2 || list[0].Year != 2027 || list[1].Population != 12500 {
			t.Fatalf("the lead reads %+v", list)
		}
		if _, err := db.ListOrgYears(ctx, w.workerB, w.commA.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("worker B reads community A's years: %v", err)
		}
		if _, err := db.OrgYearFor(ctx, w.office, w.commA.ID, 2025); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("a year not entered: %v", err)
		}
		if y := storetest.Must(db.OrgYearFor(ctx, w.office, w.commA.ID, 2026)); y.SocialWorkers != 3 {
			t.Errorf("2026: %+v", y)
		}
	})
}
