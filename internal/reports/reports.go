// Package reports is the words and the files of the figure engine of
// issue 12 (store.FigureSpec, R34): periods (month, quarter, year, from–to),
// each figure's name and formula in zh-CN and English, breakdown labels,
// the policy a figure used, and the Excel workbooks of a dashboard and of
// a figure's list (masked as on screen: the store only ever returns the
// masked ID number).
package reports

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// Period is a report period with its label and, for a whole calendar
// year, the year (whose figures the rollups hold).
type Period struct {
	store.ReportPeriod
	Label string
	Year  int // a whole calendar year: the rollups answer it
	Param string
}

// ParsePeriod reads period=2026 | 2026-03 | 2026-Q1, or from and to
// (YYYY-MM-DD); with none, the current year to date.
func ParsePeriod(v url.Values, today casework.Date) (Period, error) {
	bad := casework.Invalid("period", "统计期间无效：请用 2026、2026-03、2026-Q1 或起止日期", "the period is not valid: use 2026, 2026-03, 2026-Q1 or from and to dates")
	p := strings.TrimSpace(v.Get("period"))
	if p == "" && (v.Get("from") != "" || v.Get("to") != "") {
		from, err := casework.ParseDateField("from", v.Get("from"))
		if err != nil {
			return Period{}, err
		}
		to, err := casework.ParseDateField("to", v.Get("to"))
		if err != nil {
			return Period{}, err
		}
		if to.Before(from) || from.DaysUntil(to) > store.MaxReportDays {
			return Period{}, casework.Invalid("to", "起止日期无效（起不晚于止，最长400天）", "from must be on or before to, at most 400 days apart")
		}
		return Period{ReportPeriod: store.ReportPeriod{From: from, To: to}, Label: from.String() + " – " + to.String()}, nil
	}
	if p == "" {
		p = strconv.Itoa(today.Year)
	}
	switch {
	case len(p) == 4:
		y, err := strconv.Atoi(p)
		if err != nil || y < 2000 || y > 2100 {
			return Period{}, bad
		}
		return Period{ReportPeriod: store.ReportPeriod{From: casework.NewDate(y, time.January, 1), To: casework.NewDate(y, time.December, 31)},
			Label: p, Year: y, Param: p}, nil
	case len(p) == 7 && (p[5] == 'Q' || p[5] == 'q') && p[4] == '-':
		y, err := strconv.Atoi(p[:4])
		q := int(p[6] - '0')
		if err != nil || q < 1 || q > 4 {
			return Period{}, bad
		}
		from := casework.NewDate(y, time.Month(3*q-2), 1)
		return Period{ReportPeriod: store.ReportPeriod{From: from, To: from.AddMonths(3).AddDays(-1)}, Label: p[:4] + "-Q" + p[6:], Param: p}, nil
	case len(p) == 7:
		rp, err := store.BucketPeriod(p)
		if err != nil {
			return Period{}, bad
		}
		return Period{ReportPeriod: rp, Label: p, Param: p}, nil
	}
	return Period{}, bad
}

// OrgParam is the org parameter, by default the actor's first org with
// read access to person files.
func OrgParam(v url.Values, actor *casework.Actor) string {
	if id := v.Get("org"); id != "" {
		return id
	}
	for _, g := range actor.Grants {
		if casework.RoleHas(g.Role, casework.PermReadPersons) {
			return g.OrgID
		}
	}
	return ""
}

// Query is the URL query of the period.
func (p Period) Query() string {
	if p.Param != "" {
		return "period=" + url.QueryEscape(p.Param)
	}
	return "from=" + p.From.String() + "&to=" + p.To.String()
}

// Name is a figure's name.
func Name(key, lang string) string { return word("report.fig."+key+".name", key, lang) }

// Formula is a figure's formula in words.
func Formula(key, lang string) string { return word("report.fig."+key+".formula", "", lang) }

func word(k, fallback, lang string) string {
	if _, ok := i18n.Keys(lang)[k]; ok {
		return i18n.T(lang, k)
	}
	return fallback
}

// ClassLabel names a breakdown class: "kind/status", an employment
// status, an assistance kind, or "worker".
func ClassLabel(class, lang string) string {
	if k, s, ok := strings.Cut(class, "/"); ok {
		return casework.MeasureKind(k).Label(lang) + " · " + casework.Status(s).Label(lang)
	}
	if t, ok := strings.CutPrefix(class, "tier:"); ok {
		return i18n.T(lang, "report.class.tier."+t)
	}
	if s, ok := strings.CutPrefix(class, "survey:"); ok {
		return i18n.T(lang, "report.class.survey."+s)
	}
	if class == "worker" {
		return i18n.T(lang, "report.worker")
	}
	for _, st := range casework.EmploymentStatuses {
		if string(st) == class {
			return st.Label(lang)
		}
	}
	for _, k := range casework.AssistanceKinds {
		if string(k) == class {
			return k.Label(lang)
		}
	}
	return class
}

// PolicyText says where a figure's settings came from.
func PolicyText(refs []string, lang string) string {
	if len(refs) == 0 {
		return ""
	}
	var out []string
	for _, r := range refs {
		switch {
		case r == "national":
			out = append(out, i18n.T(lang, "report.policy.national"))
		case strings.HasPrefix(r, "template:"):
			name := strings.TrimPrefix(r, "template:")
			for _, t := range casework.PolicyTemplates() {
				if t.ID == name {
					name = t.ZH
					if lang == "en" {
						name = t.EN
					}
				}
			}
			out = append(out, i18n.T(lang, "report.policy.template")+"（"+name+"）")
		default:
			out = append(out, i18n.T(lang, "report.policy.version")+" "+r[:min(8, len(r))])
		}
	}
	return strings.Join(out, "；")
}

// Detail is "num / den" for a rate or ratio, "" for a count.
func Detail(f *store.Figure, lang string) string {
	if f == nil || f.Kind == store.FigureCount {
		return ""
	}
	return i18n.T(lang, "report.of", strconv.FormatInt(f.Num, 10), strconv.FormatInt(f.Den, 10))
}

// Text is the figure's value as shown, "—" when none.
func Text(f *store.Figure) string {
	if f == nil || f.Source == "none" {
		return "—"
	}
	return f.Text()
}

// ListTable is a figure's list as a table (the Excel export).
func ListTable(spec *store.FigureSpec, rows []store.FigureListRow, lang string) ([]string, [][]string) {
	t := func(k string) string { return i18n.T(lang, k) }
	head := []string{t("report.col.name"), t("report.col.id"), t("report.col.org"), t("report.col.date"), t("report.col.class"), t("report.col.num")}
	rate := spec.Kind != store.FigureCount
	if rate {
		head = append(head, t("report.col.den"))
	}
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		name := r.Name
		if r.PersonID == "" && r.Class == "worker" {
			name = t("report.worker")
		}
		row := []string{name, r.IDMasked, r.OrgName, r.Day.String(), ClassLabel(r.Class, lang), strconv.FormatInt(r.Num, 10)}
		if rate {
			row = append(row, strconv.FormatInt(r.Den, 10))
		}
		out = append(out, row)
	}
	return head, out
}

// WriteDashboard writes a dashboard as a workbook: the figures with their
// formulas, the monthly trend, and the comparison across child orgs.
func WriteDashboard(w io.Writer, d *store.Dashboard, lang string) error {
	t := func(k string) string { return i18n.T(lang, k) }
	f := excelize.NewFile()
	defer f.Close()
	sheets := []string{t("report.sheet.figures"), t("report.sheet.trend"), t("report.sheet.compare")}
	if err := f.SetSheetName("Sheet1", sheets[0]); err != nil {
		return err
	}
	for _, s := range sheets[1:] {
		if _, err := f.NewSheet(s); err != nil {
			return err
		}
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	put := func(sheet string, row int, vals ...any) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		return exchange.WriteRow(f, sheet, cell, vals)
	}
	specs := store.Figures()
	// Figures.
	if err := put(sheets[0], 1, d.Org.Name+" · "+strconv.Itoa(d.Year)); err != nil {
		return err
	}
	if err := put(sheets[0], 2, t("report.col.figure"), t("report.col.value"), t("report.col.num"), t("report.col.den"), t("report.formula"), t("report.policy")); err != nil {
		return err
	}
	for i, fig := range d.Figures {
		if err := put(sheets[0], 3+i, Name(fig.Key, lang), Text(fig), fig.Num, fig.Den, Formula(fig.Key, lang), PolicyText(fig.PolicyRefs, lang)); err != nil {
			return err
		}
	}
	// Trend: a row per month, a column per figure.
	head := []any{t("report.col.month")}
	for _, s := range specs {
		head = append(head, Name(s.Key, lang))
	}
	if err := exchange.WriteRow(f, sheets[1], "A1", head); err != nil {
		return err
	}
	for i, m := range d.Months {
		row := []any{m}
		for _, s := range specs {
			row = append(row, Text(d.Trend[s.Key][i]))
		}
		if err := put(sheets[1], 2+i, row...); err != nil {
			return err
		}
	}
	// Comparison: a row per child org and the total.
	head[0] = t("report.area")
	if err := exchange.WriteRow(f, sheets[2], "A1", head); err != nil {
		return err
	}
	for i, c := range d.Children {
		row := []any{c.Name}
		for _, s := range specs {
			row = append(row, Text(d.ByChild[c.ID][s.Key]))
		}
		if err := put(sheets[2], 2+i, row...); err != nil {
			return err
		}
	}
	total := []any{t("report.total") + "（" + d.Org.Name + "）"}
	for _, fig := range d.Figures {
		total = append(total, Text(fig))
	}
	if err := put(sheets[2], 2+len(d.Children), total...); err != nil {
		return err
	}
	for _, s := range sheets {
		if err := f.SetRowStyle(s, 1, 1, bold); err != nil {
			return err
		}
		if err := f.SetColWidth(s, "A", "A", 22); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(sheets[0], "E", "E", 60); err != nil {
		return err
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return nil
}
