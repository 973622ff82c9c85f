package reports

// summary.go: the yearly work summary (年度工作总结, issue 12 §3) in words,
// as the page, the workbook and the PDF show it: the place, its
// population and registered persons, what the office did (counts by
// kind), the figures with their formulas, and the sections 项目简述 /
// 服务开展情况 (generated from the figures, the office's text appended) /
// 亮点 / 问题 / 下一步. Every number comes from store.WorkSummary, which
// takes it from the figure engine.

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// SummaryDoc is a summary in one language, ready to show or print.
type SummaryDoc struct {
	Title    string
	Subtitle string      // the period counted and where the figures came from
	Place    string      // the place from the root down
	Facts    [][2]string // population, registered persons, staffing
	Notice   string      // finalised by whom, when
	Changed  []string    // figures a recount now counts differently
	Sections []DocSection
	Figures  [][]string // head row, then one row per figure
	Counts   [][]string // head row, then what the office did by kind
	ByChild  [][]string // head row, then each child org's counts (rollups only)
}

// DocSection is one numbered section.
type DocSection struct {
	Key       string // overview, services, highlights, problems, next_steps
	Heading   string
	Generated []string // paragraphs made from the figures
	Text      string   // the office's text
	Empty     string   // shown when neither
}

// countKeys are the figures of "what the office did", in the story's order.
var countKeys = []string{"prevention_events", "prevention_reach", "visits_home", "visits_phone", "visits_office",
	"group_sessions", "group_reach", "counselling", "scales"}

func num(s *store.WorkSummary, key string) int64 {
	if f := s.Figure(key); f != nil {
		return f.Num
	}
	return 0
}

func text(s *store.WorkSummary, key string) string { return Text(s.Figure(key)) }

// kindCounts sums the persons figure's classes by measure kind.
func kindCounts(s *store.WorkSummary) map[casework.MeasureKind]int64 {
	out := map[casework.MeasureKind]int64{}
	if f := s.Figure("persons"); f != nil {
		for cl, v := range f.Classes {
			k, _, _ := strings.Cut(cl, "/")
			out[casework.MeasureKind(k)] += v[0]
		}
	}
	return out
}

func assistanceCount(s *store.WorkSummary, kind casework.AssistanceKind) int64 {
	if f := s.Figure("assistance"); f != nil {
		return f.Classes[string(kind)][0]
	}
	return 0
}

// PlaceText is the place from the root down ("海南省 三亚市 吉阳区").
func PlaceText(s *store.WorkSummary) string {
	var names []string
	for _, o := range s.Place {
		names = append(names, o.Name)
	}
	return strings.Join(names, " ")
}

// PeriodLabel is "2026" or "2026-03".
func PeriodLabel(s *store.WorkSummary) string {
	if s.Month != "" {
		return s.Month
	}
	return strconv.Itoa(s.Year)
}

// BuildSummary puts a summary into words.
func BuildSummary(s *store.WorkSummary, lang string) *SummaryDoc {
	t := func(k string, a ...any) string { return i18n.T(lang, k, a...) }
	d := &SummaryDoc{Place: PlaceText(s)}
	if s.Month != "" {
		d.Title = t("summary.title_month", s.Org.Name, s.Month)
	} else {
		d.Title = t("summary.title", s.Org.Name, s.Year)
	}
	src := t("summary.source." + s.Source)
	d.Subtitle = t("summary.subtitle", s.Period.From.String(), s.Period.To.String(), src)
	persons := num(s, "persons")
	kinds := kindCounts(s)
	// Facts.
	d.Facts = append(d.Facts, [2]string{t("summary.fact.place"), d.Place})
	if y := s.OrgYear; y != nil {
		d.Facts = append(d.Facts, [2]string{t("summary.fact.population"), t("summary.n_people", y.Population)},
			[2]string{t("summary.fact.staff"), t("summary.staff", y.Specialists, y.SocialWorkers, y.Police, y.Counsellors, y.Others)})
	} else {
		d.Facts = append(d.Facts, [2]string{t("summary.fact.population"), t("summary.not_entered")})
	}
	d.Facts = append(d.Facts, [2]string{t("summary.fact.persons"), t("summary.persons", persons,
		kinds[casework.MeasureTreatment], kinds[casework.MeasureRehab])})
	if s.Final != nil {
		d.Notice = t("summary.final_notice", s.Final.ByName, s.Final.At.In(s.Org.Location()).Format("2006-01-02 15:04"), s.Period.To.String())
		for _, c := range s.Changed {
			d.Changed = append(d.Changed, t("summary.changed", Name(c.Key, lang), Text(c.Then), Text(c.Now)))
		}
	}
	// 一、项目简述.
	var overview []string
	if y := s.OrgYear; y != nil {
		overview = append(overview, t("summary.gen.population", d.Place, s.Year, y.Population))
	} else {
		overview = append(overview, t("summary.gen.population_missing", d.Place))
	}
	overview = append(overview, t("summary.gen.persons", s.Period.To.String(), persons, kinds[casework.MeasureTreatment], kinds[casework.MeasureRehab], num(s, "new_persons")))
	if y := s.OrgYear; y != nil {
		overview = append(overview, t("summary.gen.staff", y.Specialists, y.SocialWorkers, y.Police, y.Counsellors, text(s, "caseload")))
	}
	// 二、服务开展情况.
	services := []string{
		t("summary.gen.outreach", num(s, "prevention_events"), num(s, "prevention_reach"), num(s, "visits_home"), num(s, "visits_phone"), num(s, "visits_office")),
		t("summary.gen.psych", num(s, "group_sessions"), num(s, "group_reach"), num(s, "counselling"), num(s, "scales")),
		t("summary.gen.help", text(s, "employment_rate"), assistanceCount(s, casework.AidDibao), num(s, "assistance")-assistanceCount(s, casework.AidDibao)),
		t("summary.gen.supervision", text(s, "registration_rate"), text(s, "checkin_rate"), text(s, "execution_rate"), text(s, "report_rate"),
			num(s, "new_persons"), text(s, "abstinence_12m"), num(s, "no_relapse_3y")),
	}
	if f := s.Figure("satisfaction_rate"); f != nil && f.Den > 0 {
		services = append(services, t("summary.gen.survey", text(s, "satisfaction_rate"), text(s, "awareness_rate")))
	}
	secs := []struct {
		key string
		gen []string
		txt string
	}{
		{"overview", overview, s.Texts.Overview}, {"services", services, s.Texts.Services},
		{"highlights", nil, s.Texts.Highlights}, {"problems", nil, s.Texts.Problems}, {"next_steps", nil, s.Texts.NextSteps},
	}
	for _, x := range secs {
		if s.Month != "" && x.gen == nil {
			continue // a monthly summary has no texts of the office
		}
		d.Sections = append(d.Sections, DocSection{Key: x.key, Heading: t("summary.section." + x.key), Generated: x.gen, Text: x.txt,
			Empty: t("summary.empty")})
	}
	// What the office did, by kind.
	d.Counts = [][]string{{t("summary.col.item"), t("summary.col.count")}}
	for _, k := range countKeys {
		d.Counts = append(d.Counts, []string{Name(k, lang), text(s, k)})
	}
	d.Counts = append(d.Counts, []string{casework.AidDibao.Label(lang), strconv.FormatInt(assistanceCount(s, casework.AidDibao), 10)})
	// The figures with their formulas.
	d.Figures = [][]string{{t("report.col.figure"), t("report.col.value"), t("summary.col.detail"), t("report.formula"), t("report.policy")}}
	for _, f := range s.Figures {
		d.Figures = append(d.Figures, []string{Name(f.Key, lang), Text(f), Detail(f, lang), Formula(f.Key, lang), PolicyText(f.PolicyRefs, lang)})
	}
	// Each child org's counts (the year's rollups).
	if dash := s.Dashboard; dash != nil && len(dash.Children) > 0 && s.Final == nil {
		head := []string{t("report.area")}
		keys := append([]string{"persons"}, countKeys...)
		for _, k := range keys {
			head = append(head, Name(k, lang))
		}
		d.ByChild = [][]string{head}
		for _, c := range dash.Children {
			row := []string{c.Name}
			for _, k := range keys {
				row = append(row, Text(dash.ByChild[c.ID][k]))
			}
			d.ByChild = append(d.ByChild, row)
		}
	}
	return d
}

// Paragraphs is a section's text as paragraphs: the generated ones, then
// the office's (split at blank lines), or the "not written" line.
func (s DocSection) Paragraphs() []string {
	out := append([]string(nil), s.Generated...)
	for _, p := range strings.Split(strings.ReplaceAll(s.Text, "\r\n", "\n"), "\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = append(out, s.Empty)
	}
	return out
}

// WriteSummary writes a summary as a workbook: the text (place, facts and
// every section) on the first sheet, then the figures with their formulas,
// then each child org's counts when the year's rollups have them. No
// person is named: the summary holds counts only.
func WriteSummary(w io.Writer, s *store.WorkSummary, lang string) error {
	d := BuildSummary(s, lang)
	t := func(k string) string { return i18n.T(lang, k) }
	f := excelize.NewFile()
	defer f.Close()
	sheets := []string{t("summary.sheet.text"), t("report.sheet.figures")}
	if len(d.ByChild) > 0 {
		sheets = append(sheets, t("report.sheet.compare"))
	}
	if err := f.SetSheetName("Sheet1", sheets[0]); err != nil {
		return err
	}
	for _, sh := range sheets[1:] {
		if _, err := f.NewSheet(sh); err != nil {
			return err
		}
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	row := 0
	put := func(sheet string, vals ...any) error {
		row++
		cell, _ := excelize.CoordinatesToCellName(1, row)
		return exchange.WriteRow(f, sheet, cell, vals)
	}
	sh := sheets[0]
	lines := [][]any{{d.Title}, {d.Subtitle}}
	if d.Notice != "" {
		lines = append(lines, []any{d.Notice})
	}
	for _, c := range d.Changed {
		lines = append(lines, []any{c})
	}
	lines = append(lines, []any{})
	for _, fact := range d.Facts {
		lines = append(lines, []any{fact[0], fact[1]})
	}
	for _, l := range lines {
		if err := put(sh, l...); err != nil {
			return err
		}
	}
	var heads []int
	for _, sec := range d.Sections {
		row++
		if err := put(sh, sec.Heading); err != nil {
			return err
		}
		heads = append(heads, row)
		for _, p := range sec.Paragraphs() {
			if err := put(sh, p); err != nil {
				return err
			}
		}
		if sec.Key == "services" {
			for _, c := range d.Counts {
				if err := put(sh, c[0], c[1]); err != nil {
					return err
				}
			}
		}
	}
	if err := f.SetColWidth(sh, "A", "A", 100); err != nil {
		return err
	}
	if err := f.SetColWidth(sh, "B", "B", 40); err != nil {
		return err
	}
	if err := f.SetColStyle(sh, "A:B", wrap); err != nil {
		return err
	}
	if err := f.SetCellStyle(sh, "A1", "A1", bold); err != nil {
		return err
	}
	for _, r := range heads {
		cell, _ := excelize.CoordinatesToCellName(1, r)
		if err := f.SetCellStyle(sh, cell, cell, bold); err != nil {
			return err
		}
	}
	table := func(sheet string, rows [][]string) error {
		for i, r := range rows {
			vals := make([]any, len(r))
			for j, v := range r {
				vals[j] = v
			}
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := exchange.WriteRow(f, sheet, cell, vals); err != nil {
				return err
			}
		}
		if err := f.SetRowStyle(sheet, 1, 1, bold); err != nil {
			return err
		}
		return f.SetColWidth(sheet, "A", "A", 24)
	}
	if err := table(sheets[1], d.Figures); err != nil {
		return err
	}
	if err := f.SetColWidth(sheets[1], "D", "D", 70); err != nil {
		return err
	}
	if len(d.ByChild) > 0 {
		if err := table(sheets[2], d.ByChild); err != nil {
			return err
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return nil
}

// SummaryFileName is the download's name: "吉阳区-2026-工作总结.xlsx".
func SummaryFileName(s *store.WorkSummary, lang, ext string) string {
	return s.Org.Name + "-" + PeriodLabel(s) + "-" + i18n.T(lang, "summary.file") + "." + ext
}
