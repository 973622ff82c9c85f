package store_test

// Sealing gaps (issue 15, R38): a sealed file leaves every org-level list
// and count that could show the person, whatever the list; the nightly job
// seals files whose measure ended by termination or death as well as by
// release, on the retention period's end day and not the day before; a
// sealed person's app no longer signs in.

import (
	"encoding/json"
	"strings"
	"testing"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// sealList is one org-level list or count that could name a person.
type sealList struct {
	name string
	// nameOnly: the list keeps the person's id (the audit log keeps its
	// target ids: the chain is not rewritten) and masks only the name.
	nameOnly bool
	// before: the list shows the person the day before sealing (the world
	// below gives it a record there), so the test proves the list leaks
	// without the predicate and hides with it.
	before bool
	get    func(w sealWorld) (any, error)
}

// sealLists lists every org-level list (R38: TestR38SealedInNoList). A new
// list over persons or their records goes here. Not here: prevention
// events (org records naming no person), the statutory query log (the one
// disclosure path) and the figures of past periods, which count a sealed
// person as a row without a name (the "figure list" entry checks that) and
// CountNoRelapse, a historic total (relapse.go).
func sealLists(db *store.DB) []sealList {
	year := store.ReportPeriod{From: pfD("2025-01-01"), To: pfD("2025-12-31")}
	return []sealList{
		{name: "persons (all)", before: true, get: func(w sealWorld) (any, error) {
			ps, _, err := db.ListPersons(ctx, w.lead, store.PersonFilter{IncludeEnded: true})
			return ps, err
		}},
		{name: "persons by name", before: true, get: func(w sealWorld) (any, error) {
			ps, _, err := db.ListPersons(ctx, w.lead, store.PersonFilter{Query: "王小明", IncludeEnded: true})
			return ps, err
		}},
		{name: "persons by ID number", before: true, get: func(w sealWorld) (any, error) {
			ps, _, err := db.ListPersons(ctx, w.office, store.PersonFilter{Query: w.idNumber, IncludeEnded: true})
			return ps, err
		}},
		{name: "inbox", before: true, get: func(w sealWorld) (any, error) { return db.Inbox(ctx, w.lead) }},
		{name: "today board", get: func(w sealWorld) (any, error) {
			rows, _, err := db.TodayBoard(ctx, w.lead, w.street.ID)
			return rows, err
		}},
		{name: "check-in duty", get: func(w sealWorld) (any, error) {
			return db.OrgCheckinDuty(ctx, w.lead, w.street.ID, pfD("2025-03-01"), pfD("2025-03-31"))
		}},
		{name: "deviceless persons", get: func(w sealWorld) (any, error) { return db.DevicelessPersons(ctx, w.lead, w.street.ID) }},
		{name: "dashboard", get: func(w sealWorld) (any, error) { return db.Dashboard(ctx, w.lead, w.street.ID, 2025) }},
		{name: "test days due", get: func(w sealWorld) (any, error) {
			d, _, err := db.DueList(ctx, w.lead, w.street.ID)
			return d, err
		}},
		{name: "test days missed", get: func(w sealWorld) (any, error) {
			return db.MissedList(ctx, w.lead, w.street.ID, pfD("2025-02-01"), pfD("2025-12-31"))
		}},
		{name: "violations", before: true, get: func(w sealWorld) (any, error) {
			v, _, err := db.ListViolations(ctx, w.lead, store.ViolationFilter{})
			return v, err
		}},
		{name: "serious cases", before: true, get: func(w sealWorld) (any, error) {
			c, _, err := db.ListSeriousCases(ctx, w.lead, store.CaseFilter{})
			return c, err
		}},
		{name: "leaves", before: true, get: func(w sealWorld) (any, error) { return db.ListLeaves(ctx, w.lead, store.LeaveFilter{}) }},
		{name: "transfers out", get: func(w sealWorld) (any, error) { return db.ListTransfers(ctx, w.lead, "pending", false) }},
		{name: "transfers in", get: func(w sealWorld) (any, error) { return db.ListTransfers(ctx, w.lead, "pending", true) }},
		{name: "group sessions", get: func(w sealWorld) (any, error) {
			g, _, err := db.ListGroupSessions(ctx, w.lead, store.GroupFilter{})
			return g, err
		}},
		{name: "counselling sessions", get: func(w sealWorld) (any, error) {
			return db.ListCounsellingSessions(ctx, w.lead, store.SessionFilter{From: pfD("2025-01-01"), To: pfD("2031-12-31")})
		}},
		{name: "assistance", before: true, get: func(w sealWorld) (any, error) {
			return db.ListAssistanceAll(ctx, w.lead, store.AssistanceFilter{})
		}},
		{name: "employment overview", before: true, get: func(w sealWorld) (any, error) {
			return db.EmploymentOverview(ctx, w.lead, w.street.ID, pfD("2025-06-01"))
		}},
		{name: "visits", before: true, get: func(w sealWorld) (any, error) {
			return db.ListOrgVisits(ctx, w.lead, store.VisitFilter{From: pfD("2025-01-01"), To: pfD("2025-12-31")}, "visit.list")
		}},
		{name: "break-glass reviews", get: func(w sealWorld) (any, error) {
			return db.ListBreakGlassReviews(ctx, w.office, store.BreakGlassFilter{})
		}},
		{name: "staff notifications", get: func(w sealWorld) (any, error) { return db.ListNotifications(ctx, w.worker, false) }},
		{name: "audit log", nameOnly: true, before: true, get: func(w sealWorld) (any, error) {
			a, _, err := db.ListAudit(ctx, w.auditor, store.AuditFilter{TargetID: w.person.ID})
			return a, err
		}},
		{name: "figure list (names)", nameOnly: true, before: true, get: func(w sealWorld) (any, error) {
			_, rows, err := db.FigureList(ctx, w.lead, w.street.ID, year, "checkin_rate", "")
			return rows, err
		}},
	}
}

type sealWorld struct{ retWorld }

// sealBuild is retBuild's world with a record of 王小明 in the lists that
// keep ended measures: a visit, an approved leave, an assistance record and
// a job, all in 2025 before the release.
func sealBuild(t *testing.T, db *store.DB, clock *storetest.Clock) sealWorld {
	t.Helper()
	w := sealWorld{retBuild(t, db, clock, func(w retWorld) {
		clock.T = at(pfD("2025-03-06"), 9, 0)
		rpVisit(t, db, w.worker, w.person.ID, casework.VisitInput{ID: store.NewID(), Kind: casework.VisitHome, State: casework.VisitDone,
			At: at(pfD("2025-03-05"), 10, 0), Condition: "stable", Notes: "母亲在家", Participants: []casework.Participant{{Role: "family", Name: "母亲"}}})
		storetest.Must(db.AddAssistance(ctx, w.worker, w.person.ID, casework.AssistanceInput{Kind: casework.AidDibao, AppliedOn: pfD("2025-03-01"), Provider: "吉阳区民政局"}))
		lat, lng, radius := 23.13, 113.26, 5000
		l := storetest.Must(db.CreateLeave(ctx, w.worker, w.person.ID, store.LeaveCreate{LeaveInput: casework.LeaveInput{Kind: casework.LeaveKindLeave,
			Province: "440000", City: "广州市", Lat: &lat, Lng: &lng, RadiusM: &radius, From: pfD("2025-03-10"), To: pfD("2025-03-14"), Reason: "探亲"}}))
		storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意"}))
	})}
	return w
}

// sealShows reports whether a list's JSON names the person (or, unless
// nameOnly, carries its id).
func sealShows(t *testing.T, l sealList, w sealWorld) bool {
	t.Helper()
	got, err := l.get(w)
	if err != nil {
		t.Fatalf("%s: %v", l.name, err)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: %v", l.name, err)
	}
	s := string(b)
	if l.nameOnly { // the name, or its masked form (the audit log masks it for who may not open the file)
		return strings.Contains(s, "王小明") || strings.Contains(s, casework.MaskName("王小明"))
	}
	return strings.Contains(s, "王小明") || strings.Contains(s, w.person.ID)
}

// R38: every org-level list shows the released file the day before its
// sealing day and none shows it on the day, for every role; the other
// person stays.
func TestR38SealedInNoList(t *testing.T) {
	storetest.EachWithClock(t, at(pfD("2025-02-20"), 9, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := sealBuild(t, db, clock)
		lists := sealLists(db)
		clock.T = at(pfD("2031-01-14"), 23, 30)
		for _, l := range lists {
			if l.before && !sealShows(t, l, w) {
				t.Errorf("%s: does not show the file before sealing (the test would prove nothing)", l.name)
			}
		}
		retSeal(t, db, clock, w.retWorld)
		for _, l := range lists {
			if sealShows(t, l, w) {
				t.Errorf("R38: %s shows the sealed file", l.name)
			}
		}
	})
}

// R38: the retention period runs from the end of the measure whatever
// ended it: a file terminated (强制隔离戒毒) or closed by death is sealed
// on the end date plus three years in the place's zone, not the evening
// before; a suspended measure has not ended and is never sealed. The
// sealed person's app signs in no more.
func TestR38SealAfterTerminationAndDeath(t *testing.T) {
	storetest.EachWithClock(t, at(pfD("2025-02-20"), 9, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2025-01-15"))
		mk := func(name string, seq int) *casework.Person {
			return storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, name, pfID("19900303", seq, true)),
				pfReported(pfD("2025-02-01"), pfD("2025-02-03"))))
		}
		terminated, died, suspended := mk("赵终", 1), mk("钱故", 2), mk("孙止", 3)
		phone := ciActivate(t, db, w.lead, terminated.ID)
		clock.T = at(pfD("2025-06-10"), 10, 0)
		for _, c := range []struct {
			p   *casework.Person
			act casework.Action
			why string
		}{{terminated, casework.ActTerminate, "强制隔离戒毒"}, {died, casework.ActDecease, "病故"}, {suspended, casework.ActSuspend, "被拘留"}} {
			if _, err := db.Transition(ctx, w.lead, c.p.ID, store.TransitionInput{Action: c.act, EffectiveDate: pfD("2025-06-10"), Reason: c.why}); err != nil {
				t.Fatalf("%s: %v", c.act, err)
			}
		}
		sealed := func() map[string]bool {
			out := map[string]bool{}
			for _, p := range []*casework.Person{terminated, died, suspended, w.person} {
				out[p.Name] = storetest.Must(db.IsSealed(ctx, p.ID))
			}
			return out
		}
		// The retention period's last day, late evening in Beijing.
		clock.T = at(pfD("2028-06-09"), 23, 30)
		if n, err := db.SealExpired(ctx); err != nil || n != 0 {
			t.Fatalf("R38: sealed %d the day before end + 3 years (%v)", n, err)
		}
		if _, err := db.AppDeviceByToken(ctx, auth.TokenHash(phone.token)); err != nil {
			t.Fatalf("the app before sealing: %v", err)
		}
		// Half an hour later it is the day end + 3 years in Beijing.
		clock.T = at(pfD("2028-06-10"), 0, 30)
		if n, err := db.SealExpired(ctx); err != nil || n != 2 {
			t.Fatalf("R38: sealed %d on end + 3 years, want 2 (terminated, died) (%v)", n, err)
		}
		if got := sealed(); !got["赵终"] || !got["钱故"] || got["孙止"] || got["王小明"] {
			t.Fatalf("R38: sealed %v; want the terminated and the deceased only", got)
		}
		recs, _ := ciMust2(db.ListAudit(ctx, pfSys, store.AuditFilter{Action: "person.seal", TargetID: terminated.ID}))
		if len(recs) != 1 || !strings.Contains(recs[0].Detail, `"ended_as":"terminated"`) || !strings.Contains(recs[0].Detail, `"ended_on":"2025-06-10"`) {
			t.Fatalf("seal audit: %+v", recs)
		}
		// The day after: nothing more (idempotent), the suspended file stays open.
		clock.T = at(pfD("2028-06-11"), 9, 0)
		if n, err := db.SealExpired(ctx); err != nil || n != 0 {
			t.Fatalf("second run sealed %d (%v)", n, err)
		}
		if _, err := db.AppDeviceByToken(ctx, auth.TokenHash(phone.token)); err == nil {
			t.Fatal("R38: a sealed person's app still signs in")
		}
	})
}
