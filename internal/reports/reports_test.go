package reports

import (
	"bytes"
	"net/url"
	"testing"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// Periods: year, quarter, month, from–to; bad ones refused with the field.
func TestParsePeriod(t *testing.T) {
	today := casework.MustParseDate("2026-05-20")
	for _, c := range []struct{ q, from, to string }{
		{"", "2026-01-01", "2026-12-31"},
		{"period=2025", "2025-01-01", "2025-12-31"},
		{"period=2026-Q2", "2026-04-01", "2026-06-30"},
		{"period=2026-02", "2026-02-01", "2026-02-28"},
		{"from=2026-03-05&to=2026-04-04", "2026-03-05", "2026-04-04"},
	} {
		v, _ := url.ParseQuery(c.q)
		p, err := ParsePeriod(v, today)
		if err != nil || p.From.String() != c.from || p.To.String() != c.to {
			t.Errorf("%q: %v…%v %v, want %s…%s", c.q, p.From, p.To, err, c.from, c.to)
		}
	}
	for _, q := range []string{"period=2026-13", "period=2026-Q5", "period=x", "from=2026-04-01&to=2026-03-01", "from=2025-01-01&to=2026-12-31"} {
		v, _ := url.ParseQuery(q)
		if _, err := ParsePeriod(v, today); err == nil {
			t.Errorf("%q accepted", q)
		}
	}
}

// Every registered figure has a name and a formula in both languages.
func TestEveryFigureHasWords(t *testing.T) {
	for _, s := range store.Figures() {
		for _, lang := range []string{"zh", "en"} {
			if Name(s.Key, lang) == s.Key || Formula(s.Key, lang) == "" {
				t.Errorf("figure %s has no %s words", s.Key, lang)
			}
		}
	}
}

// The dashboard workbook: the figures with formulas, the trend and the
// comparison with the total row.
func TestWriteDashboard(t *testing.T) {
	org := &casework.Org{ID: "d", Name: "吉阳区"}
	d := &store.Dashboard{Org: org, Year: 2026, Months: store.YearBuckets(2026)[1:], Trend: map[string][]*store.Figure{},
		ByChild: map[string]map[string]*store.Figure{"s": {}}, Children: []*casework.Org{{ID: "s", Name: "椰林街道"}}}
	for _, s := range store.Figures() {
		f := &store.Figure{Key: s.Key, Kind: s.Kind, Num: 3, Den: 4, Source: "rollup"}
		d.Figures = append(d.Figures, f)
		d.Trend[s.Key] = make([]*store.Figure, 12)
		d.Trend[s.Key][2] = f
		d.ByChild["s"][s.Key] = f
	}
	var buf bytes.Buffer
	if err := WriteDashboard(&buf, d, "zh"); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := x.GetSheetList(); len(got) != 3 || got[0] != "指标" {
		t.Fatalf("sheets %v", got)
	}
	rows, _ := x.GetRows("指标")
	if rows[2][0] != Name(store.Figures()[0].Key, "zh") || rows[2][4] == "" {
		t.Errorf("first figure row %v", rows[2])
	}
	cmp, _ := x.GetRows("下级对比")
	if len(cmp) != 3 || cmp[1][0] != "椰林街道" || cmp[2][0] != "合计（吉阳区）" {
		t.Errorf("comparison %v", cmp)
	}
	trend, _ := x.GetRows("月度趋势")
	if len(trend) != 13 || trend[3][0] != "2026-03" || trend[1][1] != "—" {
		t.Errorf("trend %v", trend[:4])
	}
}
