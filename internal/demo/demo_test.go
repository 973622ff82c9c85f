package demo_test

import (
	"context"
	"testing"
	"time"

	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/demo"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// TestLoadCaseload: issue 3 §9 — the factory caseload in plausible states,
// loaded once, through the store (timelines and audit real).
func TestLoadCaseload(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		start := time.Now()
		res, err := demo.Load(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("demo loaded in %s (%d persons)", time.Since(start).Round(time.Millisecond), res.Persons)
		if !res.Loaded || res.Persons != 49 {
			t.Fatalf("loaded %v, %d persons; want 49", res.Loaded, res.Persons)
		}
		sys := casework.SystemActor("test")
		count := func(org *casework.Org, f store.PersonFilter) map[casework.Status]int {
			t.Helper()
			f.OrgID, f.IncludeEnded, f.Limit = org.ID, true, 200
			ps, _, err := db.ListPersons(ctx, sys, f)
			if err != nil {
				t.Fatal(err)
			}
			m := map[casework.Status]int{}
			for _, p := range ps {
				m[p.Status]++
			}
			return m
		}
		factory := count(res.Tree.Factory, store.PersonFilter{})
		tests := []struct {
			status   casework.Status
			min, max int
		}{
			{casework.StatusExecuting, 28, 34},
			{casework.StatusPendingReport, 4, 4},
			{casework.StatusReleased, 6, 6},
			{casework.StatusSuspended, 1, 1},
			{casework.StatusOnLeave, 1, 1},
			{casework.StatusTerminated, 1, 1},
		}
		total := 0
		for _, tt := range tests {
			t.Run(string(tt.status), func(t *testing.T) {
				if n := factory[tt.status]; n < tt.min || n > tt.max {
					t.Errorf("factory has %d %s, want %d–%d", n, tt.status, tt.min, tt.max)
				}
			})
			total += factory[tt.status]
		}
		if total != 44 {
			t.Errorf("factory has %d files, want 44 (45 with the one transferred out)", total)
		}

		// One overdue: received 20 days ago, deadline passed (R1, R2).
		today := casework.DateOf(db.Now(), casework.LoadLocation(casework.DefaultTimeZone))
		ps, _, err := db.ListPersons(ctx, sys, store.PersonFilter{OrgID: res.Tree.Factory.ID, Status: []casework.Status{casework.StatusPendingReport}, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		overdue := 0
		for _, p := range ps {
			if p.ReportDeadline.Before(today) {
				overdue++
			}
		}
		if overdue != 1 {
			t.Errorf("%d pending files past their deadline, want 1", overdue)
		}

		// worker2 has a caseload in 海湾社区 and sees nothing of the factory.
		w2id := storetest.Must(db.UserIDByName(ctx, "worker2"))
		w2 := storetest.Must(db.GetUser(ctx, sys, w2id))
		actor := &casework.Actor{UserID: w2.ID, Username: w2.Username, Grants: w2.Grants}
		_, n, err := db.ListPersons(ctx, actor, store.PersonFilter{IncludeEnded: true})
		if err != nil || n != 5 {
			t.Errorf("worker2 sees %d files (%v), want the 4 of 海湾社区 and the one transferred there", n, err)
		}
		// Transferred to 海湾社区 16 days ago and never reported there (R11,
		// R2): pending, one day past the new deadline, without a new agreement.
		moved, _, err := db.ListPersons(ctx, actor, store.PersonFilter{Query: "邓迁", Status: []casework.Status{casework.StatusPendingReport}})
		if err != nil || len(moved) != 1 || casework.OverdueDays(moved[0].Status, moved[0].ReportDeadline, today) != 1 {
			t.Fatalf("worker2's pending files: %v %+v, want one a day overdue", err, moved)
		}
		if m := storetest.Must(db.ListMeasures(ctx, actor, moved[0].ID))[0]; !m.AgreementDate.IsZero() || m.ReportDate.IsZero() {
			t.Errorf("the transferred person's measure: agreement %s report %s", m.AgreementDate, m.ReportDate)
		}

		// One transferred to 崖州区 (R11): the measure continues there, pending report.
		all := storetest.Must(db.ListOrgs(ctx, sys, store.OrgFilter{}))
		var nanshan *casework.Org
		for _, o := range all {
			if o.Name == "南山社区（示例）" {
				nanshan = o
			}
		}
		if nanshan == nil {
			t.Fatal("no 崖州区 community")
		}
		if m := count(nanshan, store.PersonFilter{}); m[casework.StatusPendingReport] != 1 {
			t.Errorf("崖州区 has %v, want one transferred file pending report", m)
		}

		// Every current term runs past today: the release job finds nothing.
		if n, err := db.ReleaseExpired(ctx); err != nil || n != 0 {
			t.Errorf("ReleaseExpired released %d (%v), want 0", n, err)
		}

		// Idempotent.
		again, err := demo.Load(ctx, db)
		if err != nil || again.Loaded || again.Persons != 0 {
			t.Fatalf("second load: %+v, %v", again, err)
		}
		if m := count(res.Tree.Factory, store.PersonFilter{}); m[casework.StatusExecuting] != factory[casework.StatusExecuting] {
			t.Error("second load changed the caseload")
		}
	})
}

func TestDemoDocuments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if _, err := demo.Load(t.Context(), db); err != nil {
			t.Fatal(err)
		}
		blobs := storetest.Must(blob.Open(t.TempDir()))
		n, err := demo.LoadDocuments(t.Context(), db, blobs)
		if err != nil || n < 8 {
			t.Fatalf("generated %d documents, %v; want agreements, registers, a report-in and release notices", n, err)
		}
		again, err := demo.LoadDocuments(t.Context(), db, blobs)
		if err != nil || again != 0 {
			t.Fatalf("second load generated %d, %v", again, err)
		}
	})
}

func TestDemoLeaveAndMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if _, err := demo.Load(t.Context(), db); err != nil {
			t.Fatal(err)
		}
		sys := casework.SystemActor("test")
		queue := storetest.Must(db.ListLeaves(t.Context(), sys, store.LeaveFilter{State: "queue"}))
		away := storetest.Must(db.ListLeaves(t.Context(), sys, store.LeaveFilter{State: "approved"}))
		// Approved: the working-away period and the leave of the person in
		// 请假 (R28: that status comes only from an approved leave, issue 18 §1).
		kinds := map[casework.LeaveKind]int{}
		for _, l := range away {
			kinds[l.Kind]++
		}
		if len(queue) != 1 || len(away) != 2 || kinds[casework.LeaveKindWorkAway] != 1 || kinds[casework.LeaveKindLeave] != 1 {
			t.Fatalf("demo leave: %d awaiting a decision, %d approved %v; want one awaiting, one working away and one leave approved", len(queue), len(away), kinds)
		}
		onLeave, _, err := db.ListPersons(t.Context(), sys, store.PersonFilter{Status: []casework.Status{casework.StatusOnLeave}})
		if err != nil || len(onLeave) != 1 {
			t.Fatalf("persons on leave: %d %v", len(onLeave), err)
		}
		if a := storetest.Must(db.ActiveLeaveOn(t.Context(), onLeave[0].ID, casework.DateOf(db.Now(), nil))); a == nil || a.City != "琼中黎族苗族自治县" {
			t.Fatalf("%s is on leave without an approved leave covering today: %+v", onLeave[0].Name, a)
		}
		if _, err := demo.Load(t.Context(), db); err != nil {
			t.Fatal(err)
		}
		if again := storetest.Must(db.ListLeaves(t.Context(), sys, store.LeaveFilter{})); len(again) != 3 {
			t.Fatalf("a second load made %d leave requests, want still 3", len(again))
		}
	})
}
