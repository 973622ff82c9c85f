package store_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// impStart is the clock of the import tests: 2021-06-15 12:00 in Beijing.
var impStart = time.Date(2021, 6, 15, 4, 0, 0, 0, time.UTC)

// impWorld is a street with two communities where a lead imports, a worker
// at one of them, and a community in another street (outside the lead's
// scope).
type impWorld struct {
	tr      tree
	outside *casework.Org
	lead    *casework.Actor
	worker  *casework.Actor
	sys     *casework.Actor
}

func impBuild(t *testing.T, db *store.DB) impWorld {
	t.Helper()
	tr := buildTree(t, db)
	sys := casework.SystemActor("test")
	other := storetest.Must(db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: tr.county.ID, Kind: casework.KindTownship, Name: "外街道"}))
	outside := storetest.Must(db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: other.ID, Kind: casework.KindCommunity, Name: "外社区", AreaCode: "460204001001"}))
	mk := func(username string, role casework.Role, org *casework.Org) *casework.Actor {
		hash := storetest.Must(auth.HashPassword(ctx, "long-enough-pw"))
		u := storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: username, DisplayName: username, OrgID: org.ID, Password: "long-enough-pw"}, hash, false))
		storetest.Must(db.GrantRole(ctx, sys, u.ID, role, org.ID))
		u = storetest.Must(db.GetUser(ctx, sys, u.ID))
		return &casework.Actor{UserID: u.ID, Username: u.Username, Grants: u.Grants}
	}
	return impWorld{tr: tr, outside: outside, lead: mk("implead", casework.RoleLead, tr.street), worker: mk("impworker", casework.RoleWorker, tr.commA), sys: sys}
}

// impID returns a valid ID number that differs for each n.
func impID(n int) string {
	body := fmt.Sprintf("4602031985%02d%02d%03d", 1+n%12, 1+n%28, n%1000)
	return body + string(casework.IDCheckChar(body))
}

// impRow is a good row at the community, its ID number from n.
func impRow(row, n int, org string) store.ImportRow {
	return store.ImportRow{Row: row, Name: fmt.Sprintf("导入人%d", n), IDNumber: impID(n), Phone: "13800138000", Org: org,
		Kind: "社区戒毒", DecisionNumber: fmt.Sprintf("吉公社戒决字〔2021〕%d号", n), DecisionAuthority: "三亚市公安局吉阳分局",
		DecisionDate: "2021-05-01", ReceivedDate: "2021-05-03", ReportDate: "2021-05-10", AgreementDate: "2021-05-10"}
}

func impCount(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.Read(ctx, func(tx *store.Tx) error { return tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n) }); err != nil {
		t.Fatal(err)
	}
	return n
}

func impAudit(t *testing.T, db *store.DB) []store.AuditRecord {
	t.Helper()
	rows, _, err := db.ListAudit(ctx, casework.SystemActor("test"), store.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestImportRefusesABadFile: a workbook with good and bad rows imports
// nothing and lists every fault with its row, column and reason.
func TestImportRefusesABadFile(t *testing.T) {
	storetest.EachWithClock(t, impStart, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w := impBuild(t, db)
		badCheck := impRow(3, 3, "椰风社区")
		badCheck.IDNumber = impID(3)[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", impID(3)[17])+1)%11])
		impossible := impRow(4, 4, "椰风社区")
		impossible.DecisionDate = "2021-02-30"
		unknownOrg := impRow(5, 5, "不存在的社区")
		outsideOrg := impRow(6, 6, w.outside.AreaCode)
		noDecision := impRow(7, 7, "椰风社区")
		noDecision.DecisionNumber = " "
		dup := impRow(8, 2, "海湾社区") // same person as row 2
		dup.DecisionNumber = "另一文号"
		cellProblem := impRow(9, 9, "椰风社区")
		cellProblem.Problems = []store.ImportError{{Row: 9, Column: "report_date", ZH: "不是日期", EN: "not a date"}}
		rows := []store.ImportRow{impRow(2, 2, "椰风社区"), badCheck, impossible, unknownOrg, outsideOrg, noDecision, dup, cellProblem}

		for _, dry := range []bool{true, false} {
			rep, err := db.ImportPersons(ctx, w.lead, rows, dry)
			if err != nil {
				t.Fatal(err)
			}
			type cell struct {
				Row    int
				Column string
			}
			var got []cell
			for _, e := range rep.Errors {
				got = append(got, cell{e.Row, e.Column})
				if e.ZH == "" || e.EN == "" || e.ZH == e.EN {
					t.Errorf("row %d %s: want a reason in Chinese and English, got %q / %q", e.Row, e.Column, e.ZH, e.EN)
				}
			}
			want := []cell{{3, "id_number"}, {4, "decision_date"}, {5, "org"}, {6, "org"}, {7, "decision_number"}, {8, "id_number"}, {9, "report_date"}}
			if !slices.Equal(got, want) {
				t.Fatalf("dry=%v: errors at %v, want %v\n%+v", dry, got, want, rep.Errors)
			}
			for _, e := range rep.Errors {
				switch {
				case e.Row == 3 && !strings.Contains(e.ZH, "校验码"),
					e.Row == 4 && !strings.Contains(e.EN, "not a real calendar date"),
					e.Row == 5 && !strings.Contains(e.ZH, "找不到执行地"),
					e.Row == 6 && !strings.Contains(e.EN, "460204001001"),
					e.Row == 7 && !strings.Contains(e.ZH, "决定书文号"),
					e.Row == 8 && !strings.Contains(e.ZH, "第2行重复"):
					t.Errorf("row %d: unexpected reason %q / %q", e.Row, e.ZH, e.EN)
				}
			}
			if rep.Written || rep.Created != 0 || rep.Unchanged != 0 {
				t.Fatalf("a refused file reports written=%v created=%d unchanged=%d", rep.Written, rep.Created, rep.Unchanged)
			}
		}
		for _, table := range []string{"persons", "measures", "timeline"} {
			if n := impCount(t, db, table); n != 0 {
				t.Errorf("%s has %d rows after a refused import, want 0", table, n)
			}
		}
		// Both attempts are audited, with their counts.
		var imports int
		for _, a := range impAudit(t, db) {
			if a.Action == "person.create" || a.Action == "measure.create" {
				t.Errorf("refused import wrote %s", a.Action)
			}
			if a.Action == "person.import" {
				imports++
				var d map[string]any
				if err := json.Unmarshal([]byte(a.Detail), &d); err != nil || d["errors"] != float64(7) || d["written"] != false {
					t.Errorf("import audit detail = %s", a.Detail)
				}
			}
		}
		if imports != 2 {
			t.Errorf("%d person.import audit rows, want 2", imports)
		}
	})
}

// TestImportOnceThenUnchanged: a good file imports in one go; the same
// file again changes nothing; a dry run writes nothing.
func TestImportOnceThenUnchanged(t *testing.T) {
	storetest.EachWithClock(t, impStart, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w := impBuild(t, db)
		rehab := impRow(3, 3, w.tr.commB.ID) // by org id
		rehab.Kind, rehab.TermMonths, rehab.ReportDate, rehab.AgreementDate = "社区康复", "24", "", ""
		withWorker := impRow(4, 4, "椰风社区")
		withWorker.Worker = "ImpWorker"
		rows := []store.ImportRow{impRow(2, 2, "椰风社区"), rehab, withWorker}

		dry, err := db.ImportPersons(ctx, w.lead, rows, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(dry.Errors) > 0 || dry.Written || dry.Created != 3 || dry.Unchanged != 0 {
			t.Fatalf("dry run: %+v", dry)
		}
		if n := impCount(t, db, "persons"); n != 0 {
			t.Fatalf("dry run wrote %d persons", n)
		}

		first, err := db.ImportPersons(ctx, w.lead, rows, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(first.Errors) > 0 || !first.Written || first.Created != 3 || first.Unchanged != 0 {
			t.Fatalf("first import: %+v", first)
		}
		persons, total, err := db.ListPersons(ctx, w.lead, store.PersonFilter{})
		if err != nil || total != 3 {
			t.Fatalf("after import: %d persons, %v", total, err)
		}
		byName := map[string]*casework.Person{}
		for _, p := range persons {
			byName[p.Name] = p
		}
		if p := byName["导入人2"]; p == nil || p.Status != casework.StatusExecuting || p.TermEnd != casework.MustParseDate("2024-05-10") ||
			p.IDMasked != impID(2)[:6]+"********"+impID(2)[14:] || p.OrgID != w.tr.commA.ID {
			t.Errorf("导入人2 = %+v", p)
		}
		if p := byName["导入人3"]; p == nil || p.Status != casework.StatusPendingReport || p.MeasureKind != casework.MeasureRehab || p.OrgID != w.tr.commB.ID {
			t.Errorf("导入人3 = %+v", p)
		}
		if p := byName["导入人4"]; p == nil || p.WorkerID != w.worker.UserID {
			t.Errorf("导入人4 should be in impworker's caseload: %+v", p)
		}
		before := impAudit(t, db)
		counts := map[string]int{}
		for _, table := range []string{"persons", "measures", "timeline", "custody"} {
			counts[table] = impCount(t, db, table)
		}

		again, err := db.ImportPersons(ctx, w.lead, rows, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Errors) > 0 || again.Created != 0 || again.Unchanged != 3 {
			t.Fatalf("second import: %+v", again)
		}
		for _, r := range again.Results {
			if r.Outcome != "unchanged" || r.PersonID != byName[r.Name].ID {
				t.Errorf("second import row %d: %+v", r.Row, r)
			}
		}
		for table, n := range counts {
			if got := impCount(t, db, table); got != n {
				t.Errorf("%s: %d rows after the second import, %d before", table, got, n)
			}
		}
		after := impAudit(t, db)
		if len(after) != len(before)+1 || after[0].Action != "person.import" {
			t.Fatalf("second import added %d audit rows (newest %s), want only the import record", len(after)-len(before), after[0].Action)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(after[0].Detail), &d); err != nil || d["created"] != float64(0) || d["unchanged"] != float64(3) || d["written"] != true {
			t.Errorf("second import audit detail = %s", after[0].Detail)
		}

		// The same ID number with another decision is a fault, not a silent
		// second measure (one person, one file).
		other := impRow(2, 2, "椰风社区")
		other.DecisionNumber = "吉公社戒决字〔2021〕999号"
		rep, err := db.ImportPersons(ctx, w.lead, []store.ImportRow{other}, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Errors) != 1 || rep.Errors[0].Column != "decision_number" || !strings.Contains(rep.Errors[0].ZH, "已建档") {
			t.Fatalf("other decision: %+v", rep.Errors)
		}
	})
}

func TestImportScopeAndLimits(t *testing.T) {
	storetest.EachWithClock(t, impStart, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w := impBuild(t, db)
		tests := []struct {
			name   string
			actor  *casework.Actor
			rows   []store.ImportRow
			code   string
			column string // when the report has one error
		}{
			{"worker may not import", w.worker, []store.ImportRow{impRow(2, 2, "椰风社区")}, casework.EFORBIDDEN, ""},
			{"no rows", w.lead, nil, casework.EINVALID, ""},
			{"too many rows", w.lead, make([]store.ImportRow, store.MaxImportRows+1), casework.EINVALID, ""},
			{"office may not import (it does not open files)", actorWith(casework.RoleOffice, w.tr.county), []store.ImportRow{impRow(2, 2, "椰风社区")}, casework.EFORBIDDEN, ""},
			{"worker of another place", w.lead, []store.ImportRow{func() store.ImportRow {
				r := impRow(2, 2, "海湾社区")
				r.Worker = "impworker"
				return r
			}()}, "", "worker"},
			{"unknown worker", w.lead, []store.ImportRow{func() store.ImportRow { r := impRow(2, 2, "椰风社区"); r.Worker = "nobody"; return r }()}, "", "worker"},
			{"rehab needs a term", w.lead, []store.ImportRow{func() store.ImportRow { r := impRow(2, 2, "椰风社区"); r.Kind = "社区康复"; return r }()}, "", "term_months"},
			{"unknown kind", w.lead, []store.ImportRow{func() store.ImportRow { r := impRow(2, 2, "椰风社区"); r.Kind = "强制戒毒"; return r }()}, "", "kind"},
			{"15-digit ID", w.lead, []store.ImportRow{func() store.ImportRow { r := impRow(2, 2, "椰风社区"); r.IDNumber = "460203850101123"; return r }()}, "", "id_number"},
			{"bad phone", w.lead, []store.ImportRow{func() store.ImportRow { r := impRow(2, 2, "椰风社区"); r.Phone = "23800138000"; return r }()}, "", "phone"},
			{"agreement before report", w.lead, []store.ImportRow{func() store.ImportRow {
				r := impRow(2, 2, "椰风社区")
				r.AgreementDate = "2021-05-09"
				return r
			}()}, "", "agreement_date"},
			{"decision in the future", w.lead, []store.ImportRow{func() store.ImportRow {
				r := impRow(2, 2, "椰风社区")
				r.DecisionDate = "2021-06-16"
				return r
			}()}, "", "decision_date"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rep, err := db.ImportPersons(ctx, tt.actor, tt.rows, false)
				if tt.code != "" {
					if !casework.IsCode(err, tt.code) {
						t.Fatalf("got %v, want %s", err, tt.code)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Errors) != 1 || rep.Errors[0].Column != tt.column || rep.Errors[0].Row != 2 {
					t.Fatalf("errors %+v, want one on row 2 column %s", rep.Errors, tt.column)
				}
			})
		}
		if n := impCount(t, db, "persons"); n != 0 {
			t.Fatalf("%d persons written by refused imports", n)
		}
	})
}
