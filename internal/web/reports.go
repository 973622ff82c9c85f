package web

// reports.go: the reports dashboard of issue 12 §2 (统计, R34): for an org
// subtree of the actor's scope and a period, every figure with its formula
// and the policy it used and a link to the records behind it; for a whole
// year, the monthly trend (ECharts, vendored) and the comparison across
// the child orgs from the rollups; any other period computed live. Every
// report and every list exports to Excel (§5), masked as on screen and
// audited.

import (
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/reports"
	"kangfu/internal/store"
)

func (c *Console) reportRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermReadPersons}
	return []httpx.Route{
		rt("GET", "/reports", read, c.reportDashboard, "the reports dashboard of an org subtree and a period"),
		rt("GET", "/reports/export.xlsx", read, c.reportExport, "the reports dashboard as an Excel workbook (audited)"),
		rt("GET", "/reports/list", read, c.reportList, "the records behind one figure"),
		rt("GET", "/reports/list.xlsx", read, c.reportListExport, "the records behind one figure as an Excel workbook (audited)"),
	}
}

// figCard is one figure as the page shows it.
type figCard struct {
	Key, Name, Value, Detail, Formula, Policy, Rule string
	Href                                            string
	Flagged, Headline                               bool
	Classes                                         []kv
}

type compareRow struct {
	Name  string
	Href  string
	Cells []compareCell
}

type compareCell struct {
	Text string
	Sort string // the number sorted on
	Flag bool
}

type reportPage struct {
	Org        *casework.Org
	Orgs       []choice
	Period     reports.Period
	Years      []choice
	Quick      []kv
	Cards      []figCard
	Live       bool
	Missing    bool
	ComputedAt string
	Trend      template.JS // JSON for the chart (in a non-executed script element)
	TrendOpts  []choice
	Heads      []string
	HeadKeys   []string
	Rows       []compareRow
	Total      compareRow
	ExportURL  string
}

// reportOrg reads the org parameter, by default the actor's first org
// with read access.
func (c *Console) reportOrg(r *http.Request, q *req) (*casework.Org, error) {
	return c.DB.GetOrg(r.Context(), q.Actor, reports.OrgParam(r.URL.Query(), q.Actor))
}

// reportData computes the page's figures: the rollups for a whole year
// that has them, live otherwise.
func (c *Console) reportData(r *http.Request, q *req) (*store.Dashboard, reports.Period, bool, error) {
	org, err := c.reportOrg(r, q)
	if err != nil {
		return nil, reports.Period{}, false, err
	}
	p, err := reports.ParsePeriod(r.URL.Query(), casework.DateOf(c.DB.Now(), org.Location()))
	if err != nil {
		return nil, p, false, err
	}
	if p.Year != 0 {
		d, err := c.DB.Dashboard(r.Context(), q.Actor, org.ID, p.Year)
		if err != nil {
			return nil, p, false, err
		}
		if !d.Missing {
			return d, p, false, nil
		}
	}
	// Live: the period's figures, and each child org's.
	d := &store.Dashboard{Org: org, Year: p.Year, ByChild: map[string]map[string]*store.Figure{}, Trend: map[string][]*store.Figure{}}
	if d.Figures, err = c.DB.ComputeFigures(r.Context(), q.Actor, org.ID, p.ReportPeriod, nil); err != nil {
		return nil, p, true, err
	}
	kids, err := c.DB.ListOrgs(r.Context(), q.Actor, store.OrgFilter{})
	if err == nil {
		for _, k := range kids {
			if k.ParentID != org.ID || k.Retired {
				continue
			}
			figs, err := c.DB.ComputeFigures(r.Context(), q.Actor, k.ID, p.ReportPeriod, nil)
			if err != nil {
				continue // outside the scope: not compared
			}
			d.Children = append(d.Children, k)
			d.ByChild[k.ID] = map[string]*store.Figure{}
			for _, f := range figs {
				d.ByChild[k.ID][f.Key] = f
			}
		}
	}
	return d, p, true, nil
}

func (c *Console) reportDashboard(w http.ResponseWriter, r *http.Request, q *req) error {
	d, p, live, err := c.reportData(r, q)
	if err != nil {
		return err
	}
	lang := q.Lang
	base := "org=" + url.QueryEscape(d.Org.ID) + "&" + p.Query()
	pg := reportPage{Org: d.Org, Period: p, Live: live, Missing: live && p.Year != 0, ExportURL: "/reports/export.xlsx?" + base}
	if !live && !d.ComputedAt.IsZero() {
		pg.ComputedAt = i18n.T(lang, "report.computed_at", d.ComputedAt.In(d.Org.Location()).Format("2006-01-02 15:04"))
	}
	pg.Orgs = c.reportOrgChoices(r, q, d.Org.ID)
	today := casework.DateOf(c.DB.Now(), d.Org.Location())
	for y := today.Year; y >= today.Year-4; y-- {
		s := strconv.Itoa(y)
		pg.Years = append(pg.Years, choice{Value: s, Label: s, Selected: p.Param == s})
	}
	pg.Quick = []kv{
		{K: i18n.T(lang, "report.quick.month"), V: store.MonthBucket(today)},
		{K: i18n.T(lang, "report.quick.quarter"), V: strconv.Itoa(today.Year) + "-Q" + strconv.Itoa((int(today.Month)+2)/3)},
		{K: i18n.T(lang, "report.quick.year"), V: strconv.Itoa(today.Year)},
	}
	specs := store.Figures()
	byKey := map[string]*store.Figure{}
	for _, f := range d.Figures {
		byKey[f.Key] = f
	}
	for _, s := range specs {
		f := byKey[s.Key]
		if f == nil {
			continue
		}
		card := figCard{Key: s.Key, Name: reports.Name(s.Key, lang), Value: reports.Text(f), Detail: reports.Detail(f, lang),
			Formula: reports.Formula(s.Key, lang), Policy: reports.PolicyText(f.PolicyRefs, lang), Rule: s.Rule,
			Href: "/reports/list?" + base + "&key=" + s.Key, Flagged: f.Flagged, Headline: s.Headline}
		for cl, v := range f.Classes {
			if cl == "worker" {
				continue // the denominator's rows (R33), shown as "n / workers"
			}
			n := v[0]
			card.Classes = append(card.Classes, kv{K: reports.ClassLabel(cl, lang), V: strconv.FormatInt(n, 10)})
		}
		sortKV(card.Classes)
		pg.Cards = append(pg.Cards, card)
	}
	// Trend: for a year from the rollups.
	if !live && len(d.Months) > 0 {
		type series struct {
			Name   string     `json:"name"`
			Kind   string     `json:"kind"`
			Values []*float64 `json:"values"`
		}
		tr := struct {
			Months []string          `json:"months"`
			Series map[string]series `json:"series"`
		}{Months: d.Months, Series: map[string]series{}}
		for _, s := range specs {
			se := series{Name: reports.Name(s.Key, lang), Kind: string(s.Kind)}
			for _, f := range d.Trend[s.Key] {
				if f == nil {
					se.Values = append(se.Values, nil)
					continue
				}
				v, ok := f.Value()
				if !ok {
					se.Values = append(se.Values, nil)
					continue
				}
				if s.Kind == store.FigureRate {
					v = float64(int(v*1000+0.5)) / 10
				}
				se.Values = append(se.Values, &v)
			}
			tr.Series[s.Key] = se
			pg.TrendOpts = append(pg.TrendOpts, choice{Value: s.Key, Label: se.Name, Selected: s.Key == "persons"})
		}
		b, err := json.Marshal(tr)
		if err != nil {
			return err
		}
		pg.Trend = template.JS(b)
	}
	// Comparison across the child orgs: the headline figures.
	for _, s := range specs {
		if s.Headline {
			pg.Heads = append(pg.Heads, reports.Name(s.Key, lang))
			pg.HeadKeys = append(pg.HeadKeys, s.Key)
		}
	}
	cell := func(f *store.Figure) compareCell {
		v, _ := f.Value()
		return compareCell{Text: reports.Text(f), Sort: strconv.FormatFloat(v, 'f', 4, 64), Flag: f.Flagged}
	}
	for _, ch := range d.Children {
		row := compareRow{Name: ch.Name, Href: "/reports?org=" + url.QueryEscape(ch.ID) + "&" + p.Query()}
		for _, k := range pg.HeadKeys {
			f := d.ByChild[ch.ID][k]
			if f == nil {
				f = &store.Figure{Source: "none"}
			}
			row.Cells = append(row.Cells, cell(f))
		}
		pg.Rows = append(pg.Rows, row)
	}
	pg.Total = compareRow{Name: i18n.T(lang, "report.total") + "（" + d.Org.Name + "）"}
	for _, k := range pg.HeadKeys {
		pg.Total.Cells = append(pg.Total.Cells, cell(byKey[k]))
	}
	c.render(w, r, q, http.StatusOK, "reports", pg)
	return nil
}

func sortKV(s []kv) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].K < s[j-1].K; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func (c *Console) reportOrgChoices(r *http.Request, q *req, selected string) []choice {
	orgs, err := c.DB.ListOrgs(r.Context(), q.Actor, store.OrgFilter{})
	var out []choice
	if err == nil {
		for _, o := range orgs {
			if q.Actor.Can(casework.PermReadPersons, o.Path) {
				out = append(out, choice{Value: o.ID, Label: o.Name, Selected: o.ID == selected})
			}
		}
	}
	return out
}

func (c *Console) reportExport(w http.ResponseWriter, r *http.Request, q *req) error {
	d, p, _, err := c.reportData(r, q)
	if err != nil {
		return err
	}
	if err := c.DB.AuditListExport(r.Context(), q.Actor, "report", map[string]any{"org_id": d.Org.ID, "period": p.Label}, len(d.Figures)); err != nil {
		return err
	}
	return sendWorkbook(w, "report-"+p.Label+".xlsx", func(out io.Writer) error { return reports.WriteDashboard(out, d, q.Lang) })
}

type reportListPage struct {
	Org       *casework.Org
	Period    reports.Period
	Name      string
	Formula   string
	Value     string
	Detail    string
	Policy    string
	Class     string
	Rate      bool
	Rows      []store.FigureListRow
	ClassLbl  map[string]string
	BackURL   string
	ExportURL string
	Worker    string
}

func (c *Console) reportListData(r *http.Request, q *req) (*store.Figure, []store.FigureListRow, *casework.Org, reports.Period, *store.FigureSpec, error) {
	org, err := c.reportOrg(r, q)
	if err != nil {
		return nil, nil, nil, reports.Period{}, nil, err
	}
	p, err := reports.ParsePeriod(r.URL.Query(), casework.DateOf(c.DB.Now(), org.Location()))
	if err != nil {
		return nil, nil, org, p, nil, err
	}
	key := r.URL.Query().Get("key")
	spec := store.FigureByKey(key)
	if spec == nil {
		return nil, nil, org, p, nil, casework.Invalid("key", "没有这个统计指标", "no such figure")
	}
	f, rows, err := c.DB.FigureList(r.Context(), q.Actor, org.ID, p.ReportPeriod, key, r.URL.Query().Get("class"))
	return f, rows, org, p, spec, err
}

func (c *Console) reportList(w http.ResponseWriter, r *http.Request, q *req) error {
	f, rows, org, p, spec, err := c.reportListData(r, q)
	if err != nil {
		return err
	}
	if err := c.DB.AuditReportList(r.Context(), q.Actor, org.ID, spec.Key, p.Label, len(rows)); err != nil {
		return err
	}
	base := "org=" + url.QueryEscape(org.ID) + "&" + p.Query()
	pg := reportListPage{Org: org, Period: p, Name: reports.Name(spec.Key, q.Lang), Formula: reports.Formula(spec.Key, q.Lang),
		Value: f.Text(), Detail: reports.Detail(f, q.Lang), Policy: reports.PolicyText(f.PolicyRefs, q.Lang), Rate: spec.Kind != store.FigureCount,
		Rows: rows, ClassLbl: map[string]string{}, BackURL: "/reports?" + base,
		ExportURL: "/reports/list.xlsx?" + r.URL.RawQuery, Worker: i18n.T(q.Lang, "report.worker")}
	if cl := r.URL.Query().Get("class"); cl != "" {
		pg.Class = reports.ClassLabel(cl, q.Lang)
	}
	for _, row := range rows {
		pg.ClassLbl[row.Class] = reports.ClassLabel(row.Class, q.Lang)
	}
	c.render(w, r, q, http.StatusOK, "report_list", pg)
	return nil
}

func (c *Console) reportListExport(w http.ResponseWriter, r *http.Request, q *req) error {
	_, rows, org, p, spec, err := c.reportListData(r, q)
	if err != nil {
		return err
	}
	head, table := reports.ListTable(spec, rows, q.Lang)
	if err := c.DB.AuditListExport(r.Context(), q.Actor, "report_list", map[string]any{"org_id": org.ID, "period": p.Label, "figure": spec.Key}, len(table)); err != nil {
		return err
	}
	return sendWorkbook(w, spec.Key+"-"+p.Label+".xlsx", func(out io.Writer) error {
		return exchange.WriteTable(out, reports.Name(spec.Key, q.Lang), head, table)
	})
}
