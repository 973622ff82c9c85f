package store_test

// The figures that count through other parts' code (issue 12 §1): 检测完成率
// (R25) through the schedule's coverage, 满意率 and 知晓率 through the survey
// tables, the risk tiers and 定级率 (R31) through the risk rule. Each on a
// hand-built set with the expected numbers here, checked against the part's
// own count, with the list adding up to the figure.

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

func moreFigure(t *testing.T, db *store.DB, actor *casework.Actor, org *casework.Org, p store.ReportPeriod, key string) (*store.Figure, []store.FigureListRow) {
	t.Helper()
	f, rows, err := db.FigureList(ctx, actor, org.ID, p, key, "")
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	var n, d int64
	for _, r := range rows {
		n, d = n+r.Num, d+r.Den
	}
	if n != f.Num || d != f.Den || len(rows) != f.Rows {
		t.Fatalf("%s: the list sums %d/%d over %d rows, the figure %d/%d over %d", key, n, d, len(rows), f.Num, f.Den, f.Rows)
	}
	return f, rows
}

// R25 at the month's edge: 王五 reported on 1 January, so his monthly
// intervals (R22, year 1) are 1–31 January, 1–28 February, 1–31 March. His
// only test is on 1 February: January's interval, due on its last day, is
// not done (a test the next day does not reach back), February's is.
// 张三 and 李梅 (reported 6 January) owe 6 Jan–5 Feb and 6 Feb–5 Mar,
// both untested, so on 10 March:
//
//	January:   王五 0/1                         → street 0/1
//	February:  王五 1/1, 张三 0/1, 李梅 0/1      → street 1/3
//	Jan–Mar:   王五 1/2, 张三 0/2, 李梅 0/2      → street 1/6 (March's interval still open)
func TestReportTestCompletionR25(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newDTWorld(t, db)
		wang := storetest.Must(db.CreatePerson(ctx, w.workerA, pfPerson(w.commA, "王五", pfID("19880808", 5, true)),
			pfReported(pfD("2026-01-01"), pfD("2026-01-01"))))
		in := dtNegative(w)
		in.TestedOn = pfD("2026-02-01")
		storetest.Must(db.RecordTest(ctx, w.police, wang.ID, in))
		for _, c := range []struct {
			name           string
			from, to       string
			wangNum, wangD int64
			num, den       int64
		}{
			{"January", "2026-01-01", "2026-01-31", 0, 1, 0, 1},
			{"February", "2026-02-01", "2026-02-28", 1, 1, 1, 3},
			{"January to today", "2026-01-01", "2026-03-31", 1, 2, 1, 6},
		} {
			p := store.ReportPeriod{From: pfD(c.from), To: pfD(c.to)}
			f, rows := moreFigure(t, db, w.lead, w.street, p, "test_completion")
			if f.Num != c.num || f.Den != c.den {
				t.Errorf("%s: 检测完成率 %d/%d, want %d/%d", c.name, f.Num, f.Den, c.num, c.den)
			}
			var found bool
			for _, r := range rows {
				if r.PersonID == wang.ID {
					found = true
					if r.Num != c.wangNum || r.Den != c.wangD || r.Name != "王五" {
						t.Errorf("%s: 王五 %d/%d (%q), want %d/%d", c.name, r.Num, r.Den, r.Name, c.wangNum, c.wangD)
					}
				}
			}
			if !found {
				t.Errorf("%s: 王五 not in the list", c.name)
			}
			// The same count as the schedule's R25 coverage of the subtree.
			cov := storetest.Must(db.OrgTestCoverage(ctx, w.lead, w.street.ID, p.From, p.To))
			if int64(cov.Done) != f.Num || int64(cov.Should) != f.Den {
				t.Errorf("%s: figure %d/%d, OrgTestCoverage %d/%d", c.name, f.Num, f.Den, cov.Done, cov.Should)
			}
		}
		// The rollup of the months agrees with a recount.
		rpNoErr(t, db.RebuildRollups(ctx, []string{"2026-01", "2026-02"}))
		if diffs := storetest.Must(db.CheckRollups(ctx, []string{"2026-01", "2026-02"})); len(diffs) != 0 {
			t.Fatalf("rollups differ from a recount: %+v", diffs)
		}
	})
}

// 满意率 and 知晓率 as figures, on the answers of
// TestSurveyFormulaOnHandBuiltAnswers: community A's four online answers
// in April (11/14 satisfied, 8/12 right) and community B's import for
// March (450/480, 290/300); each equals SurveyFigures for the same
// subtree and period, one list row per answer and per import.
func TestReportSurveyFigures(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 4, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		s := svPublish(t, db, w.office, w.commA, "2026-04-01", "2026-04-30", 100)
		for i, a := range []casework.SurveyAnswers{
			svAnswers(svAllSatisfied, svRight),
			svAnswers([5]casework.SatAnswer{"satisfied", "fairly", "not_very", "dissatisfied", "unknown"}, [3]int{1, 1, 1}),
			svAnswers([5]casework.SatAnswer{"unknown", "unknown", "unknown", "unknown", "unknown"}, [3]int{2, 2, 2}),
			svAnswers([5]casework.SatAnswer{"fairly", "fairly", "fairly", "fairly", "dissatisfied"}, svRight),
		} {
			if err := db.SubmitSurveyResponse(ctx, s.Token, a, store.SurveyClient{BrowserToken: "b" + string(rune('1'+i)), Address: "10.0.0.1"}); err != nil {
				t.Fatalf("answer %d: %v", i+1, err)
			}
		}
		storetest.Must(db.ImportSurveyResults(ctx, w.office, []store.SurveyImportRow{{Row: 2, Org: w.commB.Name, From: "2026-03-01",
			To: "2026-03-31", Source: "某社会工作协会", Respondents: "100", Satisfied: "450", Valid: "480", KnowledgeItems: "3", Correct: "290"}}, false))
		march := store.ReportPeriod{From: pfD("2026-03-01"), To: pfD("2026-03-31")}
		april := store.ReportPeriod{From: pfD("2026-04-01"), To: pfD("2026-04-30")}
		both := store.ReportPeriod{From: march.From, To: april.To}
		for _, c := range []struct {
			name         string
			org          *casework.Org
			p            store.ReportPeriod
			sat, valid   int64
			right, asked int64
			rows         int
		}{
			{"community A, April", w.commA, april, 11, 14, 8, 12, 4},
			{"community A, March", w.commA, march, 0, 0, 0, 0, 0},
			{"street, March", w.street, march, 450, 480, 290, 300, 1},
			{"street, March–April", w.street, both, 461, 494, 298, 312, 5},
		} {
			sf, srows := moreFigure(t, db, w.lead, c.org, c.p, "satisfaction_rate")
			af, _ := moreFigure(t, db, w.lead, c.org, c.p, "awareness_rate")
			if sf.Num != c.sat || sf.Den != c.valid || af.Num != c.right || af.Den != c.asked || len(srows) != c.rows {
				t.Errorf("%s: 满意率 %d/%d, 知晓率 %d/%d over %d rows; want %d/%d, %d/%d over %d",
					c.name, sf.Num, sf.Den, af.Num, af.Den, len(srows), c.sat, c.valid, c.right, c.asked, c.rows)
			}
			res := storetest.Must(db.SurveyFigures(ctx, w.lead, store.SurveyFilter{OrgIDs: []string{c.org.ID}, From: c.p.From, To: c.p.To}))
			if int64(res.Total.Satisfied) != sf.Num || int64(res.Total.Valid) != sf.Den || int64(res.Total.Correct) != af.Num || int64(res.Total.Asked) != af.Den {
				t.Errorf("%s: figures %d/%d and %d/%d, SurveyFigures %+v", c.name, sf.Num, sf.Den, af.Num, af.Den, res.Total)
			}
		}
		// The third answer: five 不清楚 count nowhere, its three asked knowledge items do.
		_, rows := moreFigure(t, db, w.lead, w.commA, april, "satisfaction_rate")
		var empty int
		for _, r := range rows {
			if r.Den == 0 && r.Class == "survey:online" {
				empty++
			}
		}
		if empty != 1 {
			t.Errorf("answers with no valid satisfaction answer: %d, want 1", empty)
		}
	})
}

// 定级率 and the tiers (R31, R32): 张甲 assessed on 10 March and confirmed
// low by the lead, in force from the 11th; 李乙 never graded. On the 10th
// 0/2, on the 11th 1/2 (low 1, not graded 1), as GradingRate says.
func TestReportRiskTiersR31(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		form := storetest.Must(db.RiskAssessForm(ctx, w.workerA, w.a.ID))
		a := storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, lowRisk(form.Instrument), "", ""))
		storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierLow, ""))
		check := func(day casework.Date, graded int64, classes map[string][2]int64) {
			t.Helper()
			p := store.ReportPeriod{From: day.AddDays(-9), To: day}
			gf, _ := moreFigure(t, db, w.office, w.county, p, "grading_rate")
			g, u, err := db.GradingRate(ctx, w.office, w.county.ID, day)
			rpNoErr(t, err)
			if gf.Num != graded || gf.Den != 2 || gf.Num != int64(g) || gf.Den != int64(u) {
				t.Errorf("%s: 定级率 %d/%d, want %d/2 and GradingRate's %d/%d", day, gf.Num, gf.Den, graded, g, u)
			}
			tf, rows := moreFigure(t, db, w.office, w.county, p, "risk_tiers")
			if tf.Num != 2 || len(rows) != 2 {
				t.Errorf("%s: persons by tier %d over %d rows, want 2", day, tf.Num, len(rows))
			}
			for k, v := range classes {
				if tf.Classes[k] != v {
					t.Errorf("%s: tier %s = %v, want %v (all %v)", day, k, tf.Classes[k], v, tf.Classes)
				}
			}
		}
		check(pfD("2026-03-10"), 0, map[string][2]int64{"tier:none": {2, 0}})
		clock.Add(24 * time.Hour)
		check(pfD("2026-03-11"), 1, map[string][2]int64{"tier:none": {1, 0}, "tier:low": {1, 0}})
		// Outside the worker's scope: not found.
		if _, _, err := db.FigureList(ctx, w.workerB, w.commA.ID, store.ReportPeriod{From: pfD("2026-03-01"), To: pfD("2026-03-11")}, "grading_rate", ""); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("worker B on community A: %v", err)
		}
	})
}
