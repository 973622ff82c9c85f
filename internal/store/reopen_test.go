package store_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// R38 (一人一档, R11): a person whose file is sealed gets a new measure. A
// worker of another community who tries to open a new file with the ID
// number gets the ordinary referral answer, word for word; the county
// office is asked, in its bell, to record the statutory basis; with a
// statutory query in force it reopens the file for the new measure, and
// the asking place is told it may proceed. Nothing else unseals the file.
func TestR38SealedIDNumberReopenedForNewMeasure(t *testing.T) {
	storetest.EachWithClock(t, at(pfD("2025-02-20"), 9, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := retBuild(t, db, clock)
		street2 := storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{Kind: casework.KindTownship, Name: "河西街道", ParentID: w.county.ID}))
		comm2 := storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{Kind: casework.KindCommunity, Name: "河西社区", ParentID: street2.ID}))
		workerB := ciStaff(t, db, "ret-worker-b", casework.RoleWorker, comm2)
		leadB := ciStaff(t, db, "ret-lead-b", casework.RoleLead, street2)
		retSeal(t, db, clock, w)

		// The ordinary referral: a number on file (not sealed) elsewhere.
		_, plain := db.CreatePerson(ctx, workerB, pfPerson(comm2, "李小红", pfID("19920202", 2, true)), nil)
		pfCode(t, "ordinary referral", plain, casework.ECONFLICT)
		// The sealed person's number, outside the worker's scope and inside the lead's... both answered alike.
		_, sealedErr := db.CreatePerson(ctx, workerB, pfPerson(comm2, "王小明", w.idNumber), nil)
		pfCode(t, "sealed referral", sealedErr, casework.ECONFLICT)
		for _, lang := range []string{"zh", "en"} {
			if a, b := casework.ErrorMessage(plain, lang), casework.ErrorMessage(sealedErr, lang); a != b {
				t.Fatalf("R38: the sealed number's answer (%s) %q differs from a referral's %q", lang, b, a)
			}
		}
		// Audited the same way on the asking side (and counted for the limit).
		rows, _ := ciMust2(db.ListAudit(ctx, pfSys, store.AuditFilter{Action: "person.id_query", TargetType: "org"}))
		if len(rows) != 2 || rows[0].Detail != rows[1].Detail || rows[0].TargetID != comm2.ID {
			t.Fatalf("R38: the asking side's audit rows: %+v", rows)
		}

		// The office's bell shows the request, linking to the statutory query page.
		var notice *store.Notification
		for _, n := range storetest.Must(db.ListNotifications(ctx, w.office, true)) {
			if n.Kind == store.NoticeSealedIDQuery {
				notice = n
			}
		}
		if notice == nil || !strings.HasPrefix(notice.Link, "/statutory-queries") || strings.Contains(notice.Link, w.person.ID) {
			t.Fatalf("R38: the office's bell: %+v", notice)
		}
		if !strings.Contains(notice.TitleZH, "解除封存") || !strings.Contains(notice.TitleEN, "reopen") || strings.Contains(notice.TitleZH, "王小明") {
			t.Fatalf("R38: the notice's words: %q / %q", notice.TitleZH, notice.TitleEN)
		}
		if n := storetest.Must(db.UnreadNotifications(ctx, w.office)); n < 1 {
			t.Fatalf("R38: the office's unread count %d", n)
		}
		// Nobody else is asked about the sealed file.
		for _, a := range []*casework.Actor{w.lead, w.worker} {
			for _, n := range storetest.Must(db.ListNotifications(ctx, a, false)) {
				if n.PersonID == w.person.ID {
					t.Fatalf("R38: %s is told about the sealed file: %+v", a.Username, n)
				}
			}
		}

		full := casework.ReopenInput{LegalBasis: "吉公(禁)社戒决字〔2031〕7号", Reason: "再次吸毒，决定社区戒毒"}
		// Without a statutory query there is nothing to reopen.
		if _, err := db.ReopenSealed(ctx, w.office, "no-such-query", full); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("R38: reopened without a statutory query: %v", err)
		}
		q := storetest.Must(db.RecordStatutoryQuery(ctx, w.office, casework.StatutoryQueryInput{IDNumber: w.idNumber, Organ: "三亚市公安局吉阳分局",
			LegalBasis: "《社区戒毒社区康复工作规范》", DocumentNo: "吉公(禁)社戒决字〔2031〕7号", Reason: "新的社区戒毒决定"}))
		// Another role, or another office user, may not.
		for _, a := range []*casework.Actor{w.lead, w.worker, w.police, w.auditor, leadB} {
			if _, err := db.ReopenSealed(ctx, a, q.ID, full); !casework.IsCode(err, casework.EFORBIDDEN) {
				t.Errorf("R38: %s reopens: %v", a.Username, err)
			}
		}
		office2 := ciStaff(t, db, "ret-office-2", casework.RoleOffice, w.county)
		if _, err := db.ReopenSealed(ctx, office2, q.ID, full); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("R38: another office user reopens the query: %v", err)
		}
		// The legal basis and the reason are required, by field.
		var fe casework.FieldErrors
		if _, err := db.ReopenSealed(ctx, w.office, q.ID, casework.ReopenInput{LegalBasis: "  ", Reason: " "}); !errors.As(err, &fe) || !fe.Has("legal_basis") || !fe.Has("reason") {
			t.Fatalf("R38: an empty reopening: %v", err)
		}
		if sealed := storetest.Must(db.IsSealed(ctx, w.person.ID)); !sealed {
			t.Fatal("R38: a refused reopening unsealed the file")
		}
		// An expired query no longer reopens.
		saved := clock.T
		clock.Add(store.StatutoryQueryTTL)
		if _, err := db.ReopenSealed(ctx, w.office, q.ID, full); !casework.IsCode(err, casework.EFORBIDDEN) {
			t.Fatalf("R38: an expired query reopens: %v", err)
		}
		clock.T = saved

		storetest.Must(db.ReopenSealed(ctx, w.office, q.ID, full))
		if sealed := storetest.Must(db.IsSealed(ctx, w.person.ID)); sealed {
			t.Fatal("R38: still sealed after the reopening")
		}
		// An ordinary file again: the holder's staff find it, in lists and by name.
		if p, err := db.GetPerson(ctx, w.worker, w.person.ID, ""); err != nil || p.Name != "王小明" {
			t.Fatalf("R38: the worker after reopening: %v", err)
		}
		if names := retListed(t, db, w.lead, store.PersonFilter{IncludeEnded: true}); !slices.Contains(names, "王小明") {
			t.Fatalf("R38: not listed after reopening: %v", names)
		}
		if names := retListed(t, db, w.lead, store.PersonFilter{Query: "小明", IncludeEnded: true}); !slices.Contains(names, "王小明") {
			t.Fatalf("R38: not found by name after reopening: %v", names)
		}
		// The asking place is told it may proceed (a transfer, then the new measure).
		var told *store.Notification
		for _, n := range storetest.Must(db.ListNotifications(ctx, leadB, true)) {
			if n.Kind == store.NoticeUnsealed {
				told = n
			}
		}
		if told == nil || told.Link != "/transfers" || !strings.Contains(told.TitleZH, "新增措施") || !strings.Contains(told.TitleEN, "transfer") {
			t.Fatalf("R38: the asking place's notice: %+v", told)
		}
		// The reopening is in the audit chain with the query id.
		recs, _ := ciMust2(db.ListAudit(ctx, w.auditor, store.AuditFilter{Action: "person.unseal"}))
		if len(recs) != 1 || recs[0].ActorID != w.office.UserID || !strings.Contains(recs[0].Detail, q.ID) || !strings.Contains(recs[0].Detail, full.LegalBasis) {
			t.Fatalf("R38: the reopening's audit rows: %+v", recs)
		}
		if _, err := db.VerifyAudit(ctx); err != nil {
			t.Fatalf("the audit chain: %v", err)
		}
		// A second reopening is refused.
		if _, err := db.ReopenSealed(ctx, w.office, q.ID, full); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("R38: a second reopening: %v", err)
		}
		// The nightly sealing waits for the new measure: not sealed again
		// on the old measure's end, until the grace has passed with none.
		clock.Add(store.ReopenGrace - time.Hour)
		if n, err := db.SealExpired(ctx); err != nil || n != 0 {
			t.Fatalf("R38: the reopened file sealed again within the grace: %d %v", n, err)
		}
		clock.Add(time.Hour)
		if n, err := db.SealExpired(ctx); err != nil || n != 1 {
			t.Fatalf("R38: a reopened file with no new measure after the grace: sealed %d %v", n, err)
		}
		// Reopened again on a new query, the new measure is added to the
		// same file (一人一档), and the file stays open past the grace.
		q2 := storetest.Must(db.RecordStatutoryQuery(ctx, w.office, casework.StatutoryQueryInput{IDNumber: w.idNumber, Organ: "三亚市公安局吉阳分局",
			LegalBasis: "《社区戒毒社区康复工作规范》", DocumentNo: "吉公(禁)社戒决字〔2031〕9号", Reason: "新的社区戒毒决定"}))
		storetest.Must(db.ReopenSealed(ctx, w.office, q2.ID, casework.ReopenInput{LegalBasis: "吉公(禁)社戒决字〔2031〕9号", Reason: "再次吸毒"}))
		today := casework.DateOf(clock.T, nil)
		if _, err := db.AddMeasure(ctx, w.worker, w.person.ID, *pfReported(today.AddDays(-2), today)); err != nil {
			t.Fatalf("R38: the new measure on the reopened file: %v", err)
		}
		clock.Add(store.ReopenGrace + 24*time.Hour)
		if n, err := db.SealExpired(ctx); err != nil || n != 0 {
			t.Fatalf("R38: a file under its new measure sealed: %d %v", n, err)
		}
		if sealed := storetest.Must(db.IsSealed(ctx, w.person.ID)); sealed {
			t.Fatal("R38: the file under its new measure is sealed")
		}
	})
}
