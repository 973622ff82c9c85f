package store_test

import (
	"slices"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// TestNameSearchFollowsStatusPlaceAndName: a short name search reads the
// gram index alone (migration 0005), so the index must follow every change
// of status, place and name, or a search would show released persons,
// persons moved away, or miss renamed ones.
func TestNameSearchFollowsStatusPlaceAndName(t *testing.T) {
	start := time.Date(2021, 3, 1, 2, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		sys := casework.SystemActor("test")
		street2 := storetest.Must(db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: w.county.ID, Kind: casework.KindTownship, Name: "海棠街道"}))
		comm2 := storetest.Must(db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: street2.ID, Kind: casework.KindCommunity, Name: "海棠社区"}))
		lead2 := pfStaff(t, db, "lead-b", casework.RoleLead, street2)
		office2 := pfStaff(t, db, "office-b", casework.RoleOffice, street2)
		p := storetest.Must(db.CreatePerson(ctx, w.lead, pfPerson(w.commA, "王小明", pfID("19850315", 11, true)),
			pfReported(casework.MustParseDate("2021-02-20"), casework.MustParseDate("2021-02-25"))))
		storetest.Must(db.CreatePerson(ctx, w.lead, pfPerson(w.commA, "李小红", pfID("19900101", 12, false)), nil))
		found := func(actor *casework.Actor, q string, f store.PersonFilter) bool {
			t.Helper()
			f.Query = q
			list, total, err := db.ListPersons(ctx, actor, f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, x := range list {
				ids = append(ids, x.ID)
			}
			if total != len(list) {
				t.Fatalf("%q: total %d but %d rows", q, total, len(list))
			}
			return slices.Contains(ids, p.ID)
		}
		for _, q := range []string{"小", "小明", "王小明", "王"} {
			if !found(w.lead, q, store.PersonFilter{}) {
				t.Fatalf("%q does not find 王小明", q)
			}
		}
		if found(w.lead, "小", store.PersonFilter{Status: []casework.Status{casework.StatusPendingReport}}) {
			t.Fatal("an executing person found among the pending")
		}
		// Status: suspension keeps the person in routine lists under its new status.
		storetest.Must(db.Transition(ctx, w.lead, p.ID, store.TransitionInput{Action: casework.ActSuspend, Reason: "拘留"}))
		if !found(w.lead, "小明", store.PersonFilter{Status: []casework.Status{casework.StatusSuspended}}) {
			t.Fatal("after suspension the search by status misses the person")
		}
		storetest.Must(db.Transition(ctx, w.lead, p.ID, store.TransitionInput{Action: casework.ActResume, Reason: "释放"}))
		// Name: a rename is found by its new grams only.
		storetest.Must(db.UpdatePerson(ctx, w.lead, p.ID, store.PersonUpdate{Name: ptr("王晓明")}))
		if found(w.lead, "小明", store.PersonFilter{}) || !found(w.lead, "晓明", store.PersonFilter{}) {
			t.Fatal("the search did not follow the rename")
		}
		// Place: after a transfer the new street finds the person and the old does not.
		tr := storetest.Must(db.StartTransfer(ctx, w.lead, p.ID, comm2.ID, "迁居"))
		storetest.Must(db.DecideTransfer(ctx, office2, tr.ID, store.TransferDecision{Accept: true}))
		if found(w.lead, "晓明", store.PersonFilter{}) || !found(lead2, "晓明", store.PersonFilter{}) {
			t.Fatal("the search did not follow the transfer")
		}
		if !found(w.office, "晓", store.PersonFilter{OrgID: street2.ID}) || found(w.office, "晓", store.PersonFilter{OrgID: w.street.ID}) {
			t.Fatal("the place filter of a short search did not follow the transfer")
		}
		// Release at term end: out of routine lists, found on purpose (R35).
		clock.T = time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
		storetest.Must(db.Transition(ctx, lead2, p.ID, store.TransitionInput{Action: casework.ActReportIn}))
		if n, err := db.ReleaseExpired(ctx); err != nil || n != 1 {
			t.Fatalf("release: %d %v", n, err)
		}
		if found(lead2, "晓明", store.PersonFilter{}) || !found(lead2, "晓明", store.PersonFilter{IncludeEnded: true}) {
			t.Fatal("the search did not follow the release (R35)")
		}
	})
}
