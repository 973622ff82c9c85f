package dossier_test

// The yearly work summary's files (issue 12 §3) and the scheduled monthly
// exports (§5) on both engines, over a hand-built place: 吉阳区 (population
// 4,790, two specialists) with prevention events in February (one, 20
// reached) and March (two, 30 + 50 reached).

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/dossier"
	"kangfu/internal/reports"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

type sumWorld struct {
	county, street, comm *casework.Org
	office, lead         *casework.Actor
}

const sumHighlight = "厂区内无新增吸毒人员，所有在册人员已实现就业。"

func sumBuild(t testing.TB, db *store.DB, clock *storetest.Clock) sumWorld {
	t.Helper()
	sys := casework.SystemActor("test")
	mk := func(parent *casework.Org, kind casework.OrgKind, name, code string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name, AreaCode: code}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return storetest.Must(db.CreateOrg(ctx, sys, in))
	}
	staff := func(name string, role casework.Role, org *casework.Org) *casework.Actor {
		u := storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: name, OrgID: org.ID, Password: "long-enough-pw"}, "x", false))
		g := storetest.Must(db.GrantRole(ctx, sys, u.ID, role, org.ID))
		return &casework.Actor{UserID: u.ID, Username: name, Name: name, Grants: []casework.Grant{*g}}
	}
	var w sumWorld
	w.county = mk(mk(mk(nil, casework.KindProvince, "海南省", "460000000000"), casework.KindCity, "三亚市", "460200000000"), casework.KindCounty, "吉阳区", "460203000000")
	w.street = mk(w.county, casework.KindTownship, "椰林街道", "")
	w.comm = mk(w.street, casework.KindCommunity, "安椰厂区", "")
	w.office = staff("sum-office", casework.RoleOffice, w.county)
	w.lead = staff("sum-lead", casework.RoleLead, w.street)
	clock.T = time.Date(2026, 4, 1, 2, 0, 0, 0, time.UTC) // the events are entered afterwards
	storetest.Must(db.SetOrgYear(ctx, w.office, casework.OrgYearInput{OrgID: w.county.ID, Year: 2026, Population: 4790, Specialists: 2, Police: 1}))
	for _, e := range []struct {
		day      string
		audience int
	}{{"2026-02-10", 20}, {"2026-03-05", 30}, {"2026-03-26", 50}} {
		storetest.Must(db.AddEvent(ctx, w.lead, casework.EventInput{OrgID: w.comm.ID, HeldOn: casework.MustParseDate(e.day), Topic: "禁毒宣传进厂区",
			Kind: casework.EventLecture, Audience: e.audience, Place: "厂区广场"}))
	}
	return w
}

// sheetRows reads a workbook's sheet.
func sheetRows(t *testing.T, b []byte, sheet string) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatalf("sheet %s: %v (sheets %v)", sheet, err, f.GetSheetList())
	}
	return rows
}

// cellAfter returns the cell right of the first cell equal to label.
func cellAfter(rows [][]string, label string) string {
	for _, r := range rows {
		if i := slices.Index(r, label); i >= 0 && i+1 < len(r) {
			return r[i+1]
		}
	}
	return ""
}

func TestWorkSummaryWorkbookAndPDF(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := sumBuild(t, db, clock)
		storetest.Must(db.SaveSummaryTexts(ctx, w.office, w.county.ID, 2026, 0, casework.SummaryTexts{Highlights: sumHighlight,
			Problems: "外出务工人员较多，管控难度大。", NextSteps: "继续落实风险评估分类管理。"}))
		clock.T = time.Date(2026, 4, 10, 2, 0, 0, 0, time.UTC)
		s := storetest.Must(db.WorkSummary(ctx, w.office, w.county.ID, 2026))

		// The workbook: the text sheet reads the place, the population, the
		// counts and the office's highlights; the figures sheet the formulas.
		var buf bytes.Buffer
		if err := reports.WriteSummary(&buf, s, "zh"); err != nil {
			t.Fatal(err)
		}
		text := sheetRows(t, buf.Bytes(), "工作总结")
		if text[0][0] != "吉阳区2026年度禁毒工作总结" {
			t.Errorf("title %q", text[0][0])
		}
		if got := cellAfter(text, "地点"); got != "海南省 三亚市 吉阳区" {
			t.Errorf("place %q", got)
		}
		if got := cellAfter(text, "常住人口"); got != "4790人" {
			t.Errorf("population %q", got)
		}
		if got := cellAfter(text, reports.Name("prevention_events", "zh")); got != "3" {
			t.Errorf("events %q, want 3", got)
		}
		if got := cellAfter(text, reports.Name("prevention_reach", "zh")); got != "100" {
			t.Errorf("reach %q, want 100", got)
		}
		var all []string
		for _, r := range text {
			all = append(all, strings.Join(r, "|"))
		}
		joined := strings.Join(all, "\n")
		for _, want := range []string{"本期开展毒品预防教育宣传活动3次，覆盖100人次", "三、亮点\n" + sumHighlight, "四、问题", "五、下一步"} {
			if !strings.Contains(joined, want) {
				t.Errorf("the workbook lacks %q:\n%s", want, joined)
			}
		}
		figs := sheetRows(t, buf.Bytes(), "指标")
		if got := cellAfter(figs, reports.Name("prevention_reach", "zh")); got != "100" {
			t.Errorf("figures sheet reach %q", got)
		}
		if !strings.Contains(strings.Join(figs[len(figs)-1], "|"), "。") && len(figs) < 10 {
			t.Errorf("figures sheet has no formulas: %v", figs)
		}

		// The PDF: the text extracted holds the place, the counts and the highlights.
		pdf, err := dossier.SummaryPDF(reports.BuildSummary(s, "zh"), "zh", db.Now())
		if err != nil {
			t.Fatal(err)
		}
		if dir := os.Getenv("KANGFU_SCREENSHOT_DIR"); dir != "" && t.Name() == "TestWorkSummaryWorkbookAndPDF/sqlite" {
			_ = os.WriteFile(filepath.Join(dir, "summary-zh.pdf"), pdf, 0o600) // to look at
		}
		got := compact(pdfText(t, pdf))
		for _, want := range []string{"吉阳区2026年度禁毒工作总结", "海南省三亚市吉阳区", "4790人", "毒品预防教育宣传活动3次，覆盖100人次", sumHighlight,
			"外出务工人员较多，管控难度大。", "附：主要指标及计算方法", compact(reports.Formula("prevention_reach", "zh"))} {
			if !strings.Contains(got, want) {
				t.Errorf("the PDF lacks %q:\n%s", want, got)
			}
		}
		// English reads in English, page numbers too.
		pdf, err = dossier.SummaryPDF(reports.BuildSummary(s, "en"), "en", db.Now())
		if err != nil {
			t.Fatal(err)
		}
		got = pdfText(t, pdf)
		for _, want := range []string{"work summary 2026", "3 prevention events reaching 100 people", "Page 1", sumHighlight} {
			if !strings.Contains(strings.Join(strings.Fields(got), " "), want) && !strings.Contains(compact(got), compact(want)) {
				t.Errorf("the English PDF lacks %q:\n%s", want, got)
			}
		}
	})
}

// The monthly job writes each office's completed months, named
// predictably, with the month's figures; a re-run writes nothing; months
// missed are caught up; no temporary file is left behind.
func TestScheduledMonthlyExports(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := sumBuild(t, db, clock)
		dir := t.TempDir()
		clock.T = time.Date(2026, 4, 10, 2, 0, 0, 0, time.UTC)
		run, err := reports.MonthlyExports(ctx, db, dir, "zh")
		if err != nil {
			t.Fatal(err)
		}
		folder := filepath.Join(dir, "460203000000")
		var want []string
		for _, m := range []string{"2026-01", "2026-02", "2026-03"} {
			want = append(want, filepath.Join(folder, "kangfu-summary-460203000000-"+m+".xlsx"))
		}
		if !slices.Equal(run.Written, want) || run.Done != 0 {
			t.Fatalf("written %v (done %d), want %v", run.Written, run.Done, want)
		}
		for m, n := range map[string][2]string{"2026-01": {"0", "0"}, "2026-02": {"1", "20"}, "2026-03": {"2", "80"}} {
			b, err := os.ReadFile(filepath.Join(folder, "kangfu-summary-460203000000-"+m+".xlsx"))
			if err != nil {
				t.Fatal(err)
			}
			rows := sheetRows(t, b, "工作总结")
			if rows[0][0] != "吉阳区"+m+"月度工作汇总" {
				t.Errorf("%s: title %q", m, rows[0][0])
			}
			if e, r := cellAfter(rows, reports.Name("prevention_events", "zh")), cellAfter(rows, reports.Name("prevention_reach", "zh")); e != n[0] || r != n[1] {
				t.Errorf("%s: events %s reach %s, want %v", m, e, r, n)
			}
		}
		before, _ := os.Stat(want[2])
		run, err = reports.MonthlyExports(ctx, db, dir, "zh")
		if err != nil || len(run.Written) != 0 || run.Done != 3 {
			t.Fatalf("re-run: %+v %v", run, err)
		}
		if after, _ := os.Stat(want[2]); !after.ModTime().Equal(before.ModTime()) {
			t.Error("the re-run rewrote March")
		}
		// A month later (the server down over the 1st): April is caught up.
		clock.T = time.Date(2026, 5, 20, 2, 0, 0, 0, time.UTC)
		run = storetest.Must(reports.MonthlyExports(ctx, db, dir, "zh"))
		if len(run.Written) != 1 || !strings.HasSuffix(run.Written[0], "-2026-04.xlsx") {
			t.Fatalf("catch-up: %v", run.Written)
		}
		ents, _ := os.ReadDir(folder)
		if len(ents) != 4 {
			t.Errorf("the folder holds %d entries, want 4 files", len(ents))
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") {
				t.Errorf("temporary file left: %s", e.Name())
			}
		}
		if !storetest.Must(db.ScheduledExportDone(ctx, w.county.ID, "2026-04")) {
			t.Error("April not recorded")
		}
	})
}

// BenchmarkWorkSummary measures a summary page's work on the hand-built
// place (SQLite): assembling it (figures counted live), its workbook and its
// PDF.
func BenchmarkWorkSummary(b *testing.B) {
	clock := &storetest.Clock{T: time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)}
	db := storetest.Open(b, storetest.Engines(b)[0], clock.Now)
	w := sumBuild(b, db, clock)
	clock.T = time.Date(2026, 4, 10, 2, 0, 0, 0, time.UTC)
	s, err := db.WorkSummary(ctx, w.office, w.county.ID, 2026)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("assemble", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.WorkSummary(ctx, w.office, w.county.ID, 2026); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("xlsx", func(b *testing.B) {
		for b.Loop() {
			if err := reports.WriteSummary(io.Discard, s, "zh"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pdf", func(b *testing.B) {
		for b.Loop() {
			if _, err := dossier.SummaryPDF(reports.BuildSummary(s, "zh"), "zh", db.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
