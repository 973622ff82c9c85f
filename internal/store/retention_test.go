package store_test

// Retention and sealing (issue 15 "must add"; R38, R39) and the person's
// own data export (PIPL Art 45): the boundary of the sealing day in the
// place's zone, a sealed file gone from lists, search and the inbox but
// counted in a past year's figures, the statutory query with its legal
// basis, the six-month floor of the log purge, and an export that holds
// every kind of record of the person and nothing of anyone else.

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

type retWorld struct {
	ciWorld
	office, auditor *casework.Actor
	other           *casework.Person // still under a measure in the same community
	year            store.ReportPeriod
	idNumber        string
}

// retBuild: 王小明 reported on 2025-01-15, checks in on 2 March 2025, uses
// drugs on 1 March 2025 (a serious case the worker must report: a task that
// stays), released at the term's end on 2028-01-15. With the default three
// years the file is sealed on 2031-01-15 (Beijing).
func retBuild(t *testing.T, db *store.DB, clock *storetest.Clock, during ...func(retWorld)) retWorld {
	t.Helper()
	clock.T = at(pfD("2025-02-20"), 9, 0)
	w := retWorld{ciWorld: ciBuild(t, db, pfD("2025-01-15")), idNumber: pfID("19900101", 1, true)}
	w.office = ciStaff(t, db, "ret-office", casework.RoleOffice, w.county)
	w.auditor = ciStaff(t, db, "ret-auditor", casework.RoleAuditor, w.county)
	w.year = store.ReportPeriod{From: pfD("2025-01-01"), To: pfD("2025-12-31")}
	phone := ciActivate(t, db, w.worker, w.person.ID)
	clock.T = at(pfD("2025-03-02"), 10, 1)
	if c, _, _, err := phone.checkin(db, ciIn(at(pfD("2025-03-02"), 10, 0), 18.25, 109.5)); err != nil || !c.Counts {
		t.Fatalf("check-in: %+v %v", c, err)
	}
	storetest.Must(db.RecordDrugUse(ctx, w.worker, w.person.ID, store.DrugUseInput{Day: pfD("2025-03-01"), Detail: "本人承认吸食"}))
	for _, f := range during { // more records while the measure runs (sealing_test.go)
		f(w)
	}
	clock.T = at(pfD("2028-01-15"), 9, 0)
	if n, err := db.ReleaseExpired(ctx); err != nil || n != 1 {
		t.Fatalf("release: %d %v", n, err)
	}
	clock.T = at(pfD("2030-12-01"), 9, 0)
	w.other = storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, "李小红", pfID("19920202", 2, true)),
		pfReported(pfD("2030-11-25"), pfD("2030-11-28"))))
	return w
}

// retSeal moves to the sealing day and seals.
func retSeal(t *testing.T, db *store.DB, clock *storetest.Clock, w retWorld) {
	t.Helper()
	clock.T = at(pfD("2031-01-15"), 0, 30)
	if n, err := db.SealExpired(ctx); err != nil || n != 1 {
		t.Fatalf("seal: %d %v", n, err)
	}
}

func retListed(t *testing.T, db *store.DB, actor *casework.Actor, f store.PersonFilter) []string {
	t.Helper()
	ps, _ := ciMust2(db.ListPersons(ctx, actor, f))
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return names
}

func retTasks(t *testing.T, db *store.DB, actor *casework.Actor, personID string) int {
	t.Helper()
	n := 0
	for _, task := range storetest.Must(db.Inbox(ctx, actor)) {
		if task.PersonID == personID {
			n++
		}
	}
	return n
}

func TestR38SealBoundaryHiddenButCountedInPastYear(t *testing.T) {
	storetest.EachWithClock(t, at(pfD("2025-02-20"), 9, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := retBuild(t, db, clock)
		all := store.PersonFilter{IncludeEnded: true}
		fig := func() *store.Figure {
			for _, f := range storetest.Must(db.ComputeFigures(ctx, w.lead, w.street.ID, w.year, []string{"checkin_rate"})) {
				if f.Key == "checkin_rate" {
					return f
				}
			}
			t.Fatal("no checkin_rate figure")
			return nil
		}
		before := fig()
		if before.Num < 1 {
			t.Fatalf("2025 check-ins counted before sealing: %d, want ≥ 1", before.Num)
		}
		// The day before the sealing day, late in the evening in Beijing
		// (release + 3 years − 1 day): not sealed.
		clock.T = at(pfD("2031-01-14"), 23, 30)
		if n, err := db.SealExpired(ctx); err != nil || n != 0 {
			t.Fatalf("R38: sealed %d the day before (%v)", n, err)
		}
		if sealed := storetest.Must(db.IsSealed(ctx, w.person.ID)); sealed {
			t.Fatal("R38: sealed the day before")
		}
		if got := retListed(t, db, w.lead, all); !slices.Contains(got, "王小明") {
			t.Fatalf("before sealing the released file is in the full list: %v", got)
		}
		if retTasks(t, db, w.lead, w.person.ID)+retTasks(t, db, w.worker, w.person.ID) == 0 {
			t.Fatal("before sealing the unreported serious case is a task")
		}
		// Half an hour later it is 15 January in Beijing (still the 14th in
		// UTC): release + 3 years, sealed.
		retSeal(t, db, clock, w)
		if n, _ := db.SealExpired(ctx); n != 0 {
			t.Fatalf("a second run sealed %d", n)
		}
		if !storetest.Must(db.IsSealed(ctx, w.person.ID)) {
			t.Fatal("R38: not sealed on the day")
		}
		// Gone from lists, name and ID search and the inbox, for every role.
		for _, a := range []*casework.Actor{w.lead, w.worker, w.police, w.office} {
			for _, f := range []store.PersonFilter{all, {Query: "王"}, {Query: "王小明", IncludeEnded: true}, {Query: w.idNumber, IncludeEnded: true}} {
				if got := retListed(t, db, a, f); slices.Contains(got, "王小明") {
					t.Errorf("R38: %s still lists the sealed file with %+v: %v", a.Username, f, got)
				}
			}
			if n := retTasks(t, db, a, w.person.ID); n != 0 {
				t.Errorf("R38: %s has %d tasks about the sealed file", a.Username, n)
			}
			if _, err := db.GetPerson(ctx, a, w.person.ID, ""); !casework.IsCode(err, casework.ENOTFOUND) {
				t.Errorf("R38: %s opens the sealed file: %v", a.Username, err)
			}
		}
		if got := retListed(t, db, w.lead, all); !slices.Contains(got, "李小红") {
			t.Fatalf("the other person left the list too: %v", got)
		}
		// The past year's figure still counts the sealed person's check-in;
		// its list shows a sealed row, not the name.
		after := fig()
		if after.Num != before.Num || after.Den != before.Den {
			t.Fatalf("R38: 2025 check-in rate %d/%d after sealing, was %d/%d", after.Num, after.Den, before.Num, before.Den)
		}
		_, rows := ciMust2(func() (*store.Figure, []store.FigureListRow, error) {
			return db.FigureList(ctx, w.lead, w.street.ID, w.year, "checkin_rate", "")
		}())
		sealedRows := 0
		for _, r := range rows {
			if r.Name == "王小明" || r.PersonID == w.person.ID {
				t.Fatalf("R38: the report list names the sealed person: %+v", r)
			}
			if r.Sealed {
				sealedRows++
			}
		}
		if sealedRows == 0 {
			t.Fatalf("R38: the report list has no sealed row for the counted check-ins: %+v", rows)
		}
		// Sealing is not deletion: the check-in rows are still there.
		if seals, _ := ciMust2(db.ListAudit(ctx, w.auditor, store.AuditFilter{Action: "person.seal", TargetID: w.person.ID})); len(seals) != 1 {
			t.Fatalf("seal audited %d times, want 1", len(seals))
		}
	})
}

func TestR38SealYearsFromPolicy(t *testing.T) {
	storetest.EachWithClock(t, at(pfD("2025-02-20"), 9, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := retBuild(t, db, clock)
		// A county keeps released files open for 5 years (retention.seal_years).
		clock.T = at(pfD("2030-12-02"), 9, 0)
		storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.county.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2030-12-10"),
			Settings: map[string]string{"retention.seal_years": "5"}, Note: "五年后封存"}))
		if _, err := db.CreatePolicyVersion(ctx, pfSys, w.county.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2030-12-11"),
			Settings: map[string]string{"retention.seal_years": "2"}, Note: "少于三年"}); !casework.IsCode(err, casework.EINVALID) {
			t.Fatalf("R38: a seal period under the 3-year floor: %v", err)
		}
		clock.T = at(pfD("2031-01-15"), 0, 30)
		if n, err := db.SealExpired(ctx); err != nil || n != 0 {
			t.Fatalf("R38: sealed %d after 3 years with a 5-year policy (%v)", n, err)
		}
		clock.T = at(pfD("2033-01-14"), 23, 30)
		if n, _ := db.SealExpired(ctx); n != 0 {
			t.Fatalf("R38: sealed %d the day before 5 years", n)
		}
		clock.T = at(pfD("2033-01-15"), 0, 30)
		if n, err := db.SealExpired(ctx); err != nil || n != 1 {
			t.Fatalf("R38: sealed %d after 5 years (%v)", n, err)
		}
	})
}

func TestR38StatutoryQueryNeedsLegalBasisReadOnlyAudited(t *testing.T) {
	storetest.EachWithClock(t, at(pfD("2025-02-20"), 9, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := retBuild(t, db, clock)
		retSeal(t, db, clock, w)
		full := casework.StatutoryQueryInput{IDNumber: w.idNumber, Organ: "三亚市公安局吉阳分局", LegalBasis: "《治安管理处罚法》第一百三十六条",
			DocumentNo: "吉公查字〔2031〕5号", Reason: "办理案件需要"}
		// Only the office records a query.
		for _, a := range []*casework.Actor{w.lead, w.worker, w.police, w.auditor} {
			if _, err := db.RecordStatutoryQuery(ctx, a, full); !casework.IsCode(err, casework.EFORBIDDEN) {
				t.Errorf("R38: %s records a statutory query: %v", a.Username, err)
			}
		}
		// Every field is required and named.
		_, err := db.RecordStatutoryQuery(ctx, w.office, casework.StatutoryQueryInput{IDNumber: w.idNumber})
		var fe casework.FieldErrors
		if !errors.As(err, &fe) {
			t.Fatalf("R38: an empty query: %v", err)
		}
		for _, f := range []string{"organ", "legal_basis", "document_no", "reason"} {
			if !fe.Has(f) {
				t.Errorf("R38: no error for %s: %v", f, fe.Map("en"))
			}
		}
		noBasis := full
		noBasis.LegalBasis = "  "
		if _, err := db.RecordStatutoryQuery(ctx, w.office, noBasis); casework.ErrorField(err) != "legal_basis" {
			t.Fatalf("R38: no legal basis: %v (field %q)", err, casework.ErrorField(err))
		}
		// A file that is not sealed is not opened this way.
		notSealed := full
		notSealed.IDNumber = pfID("19920202", 2, true)
		if _, err := db.RecordStatutoryQuery(ctx, w.office, notSealed); casework.ErrorField(err) != "id_number" {
			t.Fatalf("a query of an open file: %v", err)
		}
		q := storetest.Must(db.RecordStatutoryQuery(ctx, w.office, full))
		gotQ, d, err := db.OpenStatutoryQuery(ctx, w.office, q.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Person.Name != "王小明" || gotQ.LegalBasis != full.LegalBasis {
			t.Fatalf("opened %q for %q", d.Person.Name, gotQ.LegalBasis)
		}
		if d.Person.Access.Write || d.Person.Access.Transfer || d.Person.Access.Approve {
			t.Fatalf("R38: the sealed file opened writable: %+v", d.Person.Access)
		}
		if strings.Contains(d.Person.IDMasked, w.idNumber) || d.Person.IDMasked == "" {
			t.Fatalf("the ID number is shown %q, want masked", d.Person.IDMasked)
		}
		// Still sealed for every other way in, and for another office user.
		if _, err := db.GetPerson(ctx, w.office, w.person.ID, ""); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("R38: after the query the file opens normally: %v", err)
		}
		office2 := ciStaff(t, db, "ret-office-2", casework.RoleOffice, w.county)
		if _, _, err := db.OpenStatutoryQuery(ctx, office2, q.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("R38: another office user opens the query: %v", err)
		}
		// Audited with the query id; the log is the auditor's to read.
		recs, _ := ciMust2(db.ListAudit(ctx, w.auditor, store.AuditFilter{Action: "person.statutory_query"}))
		if len(recs) != 1 || !strings.Contains(recs[0].Detail, q.ID) || !strings.Contains(recs[0].Detail, "第一百三十六条") {
			t.Fatalf("R38: the query's audit rows: %+v", recs)
		}
		reads, _ := ciMust2(db.ListAudit(ctx, w.auditor, store.AuditFilter{Action: "person.read", TargetID: w.person.ID}))
		if len(reads) == 0 || reads[0].ActorID != w.office.UserID || !strings.Contains(reads[0].Detail, q.ID) {
			t.Fatalf("R38: the sealed read's audit rows: %+v", reads)
		}
		qs := storetest.Must(db.ListStatutoryQueries(ctx, w.auditor, 50))
		if len(qs) != 1 || qs[0].Organ != full.Organ || qs[0].DocumentNo != full.DocumentNo || qs[0].PersonName != "王小明" {
			t.Fatalf("R38: the auditor's query log: %+v", qs)
		}
		if qs := storetest.Must(db.ListStatutoryQueries(ctx, w.worker, 50)); len(qs) != 0 {
			t.Fatalf("a worker reads the query log: %+v", qs)
		}
		// The query is good for a day.
		clock.Add(store.StatutoryQueryTTL)
		if _, _, err := db.OpenStatutoryQuery(ctx, w.office, q.ID); !casework.IsCode(err, casework.EFORBIDDEN) {
			t.Fatalf("R38: an expired query still opens the file: %v", err)
		}
	})
}

func TestR39PurgeLogsKeepsSixMonths(t *testing.T) {
	now := time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, now.AddDate(0, -8, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2025-11-01"))
		admin := ciStaff(t, db, "ret-admin", casework.RoleAdmin, w.county)
		// A session 8 months old (ended long ago) and one 5 months old.
		if err := db.CreateSession(ctx, store.Session{TokenHash: "old", UserID: w.worker.UserID, Kind: "web", ExpiresAt: clock.T.Add(time.Hour)}, "10.0.0.1", "t", "password"); err != nil {
			t.Fatal(err)
		}
		clock.T = now.AddDate(0, -5, 0)
		if err := db.CreateSession(ctx, store.Session{TokenHash: "young", UserID: w.worker.UserID, Kind: "web", ExpiresAt: clock.T.Add(time.Hour)}, "10.0.0.1", "t", "password"); err != nil {
			t.Fatal(err)
		}
		clock.T = now
		sixMonths := now.AddDate(0, -6, 0)
		rows0 := storetest.Must(db.VerifyAudit(ctx))
		// One second younger than six months: refused, nothing removed.
		_, err := db.PurgeLogs(ctx, admin, sixMonths.Add(time.Second))
		if casework.ErrorField(err) != "before" {
			t.Fatalf("R39: purge of logs younger than six months: %v", err)
		}
		if _, err := db.PurgeLogs(ctx, admin, now); casework.ErrorField(err) != "before" {
			t.Fatalf("R39: purge up to now: %v", err)
		}
		// Exactly six months: allowed; removes the old session only.
		res, err := db.PurgeLogs(ctx, admin, sixMonths)
		if err != nil || res.Sessions != 1 {
			t.Fatalf("R39: purge before six months: %+v %v", res, err)
		}
		if res, _ := db.PurgeLogs(ctx, admin, sixMonths); res.Sessions != 0 {
			t.Fatalf("a second purge removed %d", res.Sessions)
		}
		// The audit log is never purged and still verifies; the purge is in it.
		rows, err := db.VerifyAudit(ctx)
		if err != nil {
			t.Fatalf("R39: the audit chain after a purge: %v", err)
		}
		if rows != rows0+2 {
			t.Fatalf("R39: %d audit rows after two purges, was %d: the log lost rows or a purge was not audited", rows, rows0)
		}
	})
}

func TestOwnDataExportEveryKindOnlyThePerson(t *testing.T) {
	storetest.EachWithClock(t, at(pfD("2026-02-20"), 9, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-01-15"))
		other := storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, "李小红", pfID("19920202", 2, true)), func() *casework.MeasureInput {
			m := pfReported(pfD("2026-01-10"), pfD("2026-01-12"))
			m.WorkerID = w.worker.UserID
			return m
		}()))
		phone := ciActivate(t, db, w.worker, w.person.ID)
		clock.T = at(pfD("2026-03-02"), 10, 1)
		if _, _, _, err := phone.checkin(db, ciIn(at(pfD("2026-03-02"), 10, 0), 18.25, 109.5)); err != nil {
			t.Fatal(err)
		}
		clock.T = at(pfD("2026-03-02"), 12, 0)
		for _, p := range []*casework.Person{w.person, other} {
			in := casework.DrugTestInput{TestedOn: pfD("2026-03-02"), Place: "椰林派出所", Sample: "urine", Outcome: casework.OutcomeNegative,
				Substances: []string{"甲基苯丙胺"}, StaffIDs: []string{w.police.UserID, w.worker.UserID}}
			storetest.Must(db.RecordTest(ctx, w.worker, p.ID, in))
			rpVisit(t, db, w.worker, p.ID, casework.VisitInput{Kind: casework.VisitHome, State: casework.VisitDone, At: at(pfD("2026-03-02"), 11, 0),
				Participants: []casework.Participant{{Role: "staff", Name: "ci-worker"}}, Condition: "stable", Notes: "在家 " + p.Name})
			storetest.Must(db.SendMessage(ctx, w.worker, p.ID, "明天上午来社区一趟 "+p.Name))
			storetest.Must(db.AddAssistance(ctx, w.worker, p.ID, casework.AssistanceInput{Kind: casework.AidDibao, AppliedOn: pfD("2026-03-01"), Provider: "吉阳区民政局"}))
		}
		storetest.Must(db.CreateLeave(ctx, w.worker, w.person.ID, leaveIn("2026-03-10", "2026-03-14")))
		storetest.Must(db.RecordDrugUse(ctx, w.worker, w.person.ID, store.DrugUseInput{Day: pfD("2026-03-01"), Detail: "本人承认吸食"}))

		// A reason is required; police and counsellors may not export.
		if _, err := db.RequestOwnDataExport(ctx, w.worker, w.person.ID, " "); casework.ErrorField(err) != "reason" {
			t.Fatalf("no reason: %v", err)
		}
		for _, a := range []*casework.Actor{w.police, w.counsellor} {
			if _, err := db.RequestOwnDataExport(ctx, a, w.person.ID, "本人申请"); err == nil {
				t.Fatalf("%s exported", a.Username)
			}
		}
		e := storetest.Must(db.RequestOwnDataExport(ctx, w.worker, w.person.ID, "本人2026年3月3日书面申请"))
		if _, err := db.TakeOwnDataExport(ctx, w.lead, e.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("another user takes the export: %v", err)
		}
		d := storetest.Must(db.TakeOwnDataExport(ctx, w.worker, e.ID))
		if d.Identity.IDNumber != pfID("19900101", 1, true) || d.Identity.Name != "王小明" {
			t.Fatalf("the person's own ID number unmasked: %q %q", d.Identity.IDNumber, d.Identity.Name)
		}
		counts := map[string]int{"measures": len(d.Measures), "checkins": len(d.Checkins), "tests": len(d.DrugTests), "leave": len(d.Leaves),
			"violations": len(d.Violations), "visits": len(d.Visits), "assistance": len(d.Assistance), "messages": len(d.Messages),
			// The parts added so the export holds every table about the person.
			"timeline": len(d.Timeline), "devices": len(d.Devices),
			"own data requests": len(d.Records["data_exports"]), "custody": len(d.Records["custody"]), "file read log": len(d.FileReadLog)}
		for k, n := range counts {
			if n == 0 {
				t.Errorf("the export has no %s", k)
			}
		}
		for table, part := range store.OwnDataTables {
			if _, ok := d.Records[table]; part == "Records" && !ok {
				t.Errorf("the export's Records lack the table %s", table)
			}
		}
		b, _ := json.Marshal(d)
		for _, leak := range []string{other.ID, "李小红", pfID("19920202", 2, true)} {
			if strings.Contains(string(b), leak) {
				t.Errorf("the export holds another person's data: %q", leak)
			}
		}
		// Once only; audited with the reason.
		if _, err := db.TakeOwnDataExport(ctx, w.worker, e.ID); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("a second download: %v", err)
		}
		office := ciStaff(t, db, "ret-office", casework.RoleOffice, w.county)
		recs, _ := ciMust2(db.ListAudit(ctx, office, store.AuditFilter{Action: "person.export", TargetID: w.person.ID}))
		if len(recs) != 1 || recs[0].Reason != e.Reason || !strings.Contains(recs[0].Detail, "own_data") {
			t.Fatalf("the export's audit rows: %+v", recs)
		}
		// Short-lived: 15 minutes.
		e2 := storetest.Must(db.RequestOwnDataExport(ctx, w.worker, w.person.ID, "本人再次申请"))
		clock.Add(store.DataExportTTL)
		if _, err := db.TakeOwnDataExport(ctx, w.worker, e2.ID); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("an expired export: %v", err)
		}
	})
}
