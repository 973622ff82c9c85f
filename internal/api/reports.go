package api

// reports.go: every figure of the report engine under /api/v1/reports/…
// (issue 12 §6), so a province can pull figures from its districts: the
// figures of an org subtree for a period (live), a year's dashboard from
// the rollups (figures, monthly trend, child orgs), and the records
// behind a figure (audited).

import (
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/reports"
	"kangfu/internal/store"
)

func (a *API) reportRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermReadPersons}
	return []httpx.Route{
		rt("GET", "/api/v1/reports/figures", read, a.reportFigures, "every figure of an org subtree for a period, computed live, with formula and policy"),
		rt("GET", "/api/v1/reports/dashboard", read, a.reportDashboard, "a year's figures, monthly trend and child orgs from the rollups"),
		rt("GET", "/api/v1/reports/figures/{key}/records", read, a.reportRecords, "the records behind one figure (audited)"),
	}
}

type figureJSON struct {
	Key        string              `json:"key"`
	Name       string              `json:"name"`
	Formula    string              `json:"formula"`
	Kind       string              `json:"kind"`
	Value      *float64            `json:"value"`
	Text       string              `json:"text"`
	Num        int64               `json:"num"`
	Den        int64               `json:"den"`
	Classes    map[string][2]int64 `json:"classes,omitempty"`
	Policy     []string            `json:"policy"`
	Flagged    bool                `json:"flagged"`
	Source     string              `json:"source"`
	ComputedAt *time.Time          `json:"computed_at,omitempty"`
}

func toFigureJSON(f *store.Figure, lang string) *figureJSON {
	if f == nil {
		return nil
	}
	j := &figureJSON{Key: f.Key, Name: reports.Name(f.Key, lang), Formula: reports.Formula(f.Key, lang), Kind: string(f.Kind), Text: reports.Text(f),
		Num: f.Num, Den: f.Den, Classes: f.Classes, Policy: f.PolicyRefs, Flagged: f.Flagged, Source: f.Source}
	if j.Policy == nil {
		j.Policy = []string{}
	}
	if v, ok := f.Value(); ok && f.Source != "none" {
		j.Value = &v
	}
	if !f.ComputedAt.IsZero() {
		t := f.ComputedAt
		j.ComputedAt = &t
	}
	return j
}

func apiLang(r *http.Request) string {
	if r.URL.Query().Get("lang") == "en" {
		return "en"
	}
	return "zh"
}

func (a *API) reportPeriod(r *http.Request, q *req) (*casework.Org, reports.Period, error) {
	org, err := a.DB.GetOrg(r.Context(), q.Actor, reports.OrgParam(r.URL.Query(), q.Actor))
	if err != nil {
		return nil, reports.Period{}, err
	}
	p, err := reports.ParsePeriod(r.URL.Query(), casework.DateOf(a.DB.Now(), org.Location()))
	return org, p, err
}

func (a *API) reportFigures(w http.ResponseWriter, r *http.Request, q *req) error {
	org, p, err := a.reportPeriod(r, q)
	if err != nil {
		return err
	}
	figs, err := a.DB.ComputeFigures(r.Context(), q.Actor, org.ID, p.ReportPeriod, nil)
	if err != nil {
		return err
	}
	lang := apiLang(r)
	out := struct {
		OrgID   string        `json:"org_id"`
		From    casework.Date `json:"from"`
		To      casework.Date `json:"to"`
		Figures []*figureJSON `json:"figures"`
	}{OrgID: org.ID, From: p.From, To: p.To, Figures: []*figureJSON{}}
	for _, f := range figs {
		out.Figures = append(out.Figures, toFigureJSON(f, lang))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) reportDashboard(w http.ResponseWriter, r *http.Request, q *req) error {
	org, p, err := a.reportPeriod(r, q)
	if err != nil {
		return err
	}
	if p.Year == 0 {
		return casework.Invalid("period", "看板按年度：period=2026", "the dashboard is per year: period=2026")
	}
	d, err := a.DB.Dashboard(r.Context(), q.Actor, org.ID, p.Year)
	if err != nil {
		return err
	}
	lang := apiLang(r)
	type child struct {
		OrgID   string        `json:"org_id"`
		Name    string        `json:"name"`
		Figures []*figureJSON `json:"figures"`
	}
	out := struct {
		OrgID    string                   `json:"org_id"`
		Year     int                      `json:"year"`
		Missing  bool                     `json:"missing"`
		Figures  []*figureJSON            `json:"figures"`
		Months   []string                 `json:"months"`
		Trend    map[string][]*figureJSON `json:"trend"`
		Children []child                  `json:"children"`
	}{OrgID: org.ID, Year: d.Year, Missing: d.Missing, Months: d.Months, Trend: map[string][]*figureJSON{}, Children: []child{}}
	for _, f := range d.Figures {
		out.Figures = append(out.Figures, toFigureJSON(f, lang))
		for _, m := range d.Trend[f.Key] {
			out.Trend[f.Key] = append(out.Trend[f.Key], toFigureJSON(m, lang))
		}
	}
	for _, c := range d.Children {
		ch := child{OrgID: c.ID, Name: c.Name}
		for _, spec := range store.Figures() {
			ch.Figures = append(ch.Figures, toFigureJSON(d.ByChild[c.ID][spec.Key], lang))
		}
		out.Children = append(out.Children, ch)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) reportRecords(w http.ResponseWriter, r *http.Request, q *req) error {
	org, p, err := a.reportPeriod(r, q)
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	f, rows, err := a.DB.FigureList(r.Context(), q.Actor, org.ID, p.ReportPeriod, key, r.URL.Query().Get("class"))
	if err != nil {
		return err
	}
	if err := a.DB.AuditReportList(r.Context(), q.Actor, org.ID, key, p.Label, len(rows)); err != nil {
		return err
	}
	type rec struct {
		PersonID   string        `json:"person_id,omitempty"`
		PersonName string        `json:"person_name,omitempty"`
		IDMasked   string        `json:"id_masked,omitempty"`
		RecordID   string        `json:"record_id"`
		OrgID      string        `json:"org_id"`
		OrgName    string        `json:"org_name"`
		Day        casework.Date `json:"day"`
		Class      string        `json:"class,omitempty"`
		Num        int64         `json:"num"`
		Den        int64         `json:"den"`
	}
	out := struct {
		Figure  *figureJSON `json:"figure"`
		Records []rec       `json:"records"`
	}{Figure: toFigureJSON(f, apiLang(r)), Records: []rec{}}
	for _, x := range rows {
		out.Records = append(out.Records, rec{PersonID: x.PersonID, PersonName: x.Name, IDMasked: x.IDMasked, RecordID: x.RecordID,
			OrgID: x.OrgID, OrgName: x.OrgName, Day: x.Day, Class: x.Class, Num: x.Num, Den: x.Den})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
