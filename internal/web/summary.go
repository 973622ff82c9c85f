package web

// summary.go: the yearly work summary (年度工作总结, issue 12 §3) of an org:
// the page reads like the story's paragraph (the place, its population and
// registered persons, what the office did, the figures with their
// formulas, the sections), an office or lead writes the texts (each save a
// new version) and finalises it; the .xlsx and the PDF hold the same words.
// Every download is audited as an export.

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"

	"kangfu/internal/casework"
	"kangfu/internal/dossier"
	"kangfu/internal/exchange"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/reports"
	"kangfu/internal/store"
)

func (c *Console) summaryRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermReadPersons, Target: "org"}
	write := httpx.Access{Perm: casework.PermWriteSummary, Target: "org"}
	return []httpx.Route{
		rt("GET", "/orgs/{id}/summary/{year}", read, c.summaryPage, "an org's yearly work summary"),
		rt("POST", "/orgs/{id}/summary/{year}", write, c.summarySave, "save a new version of the summary's texts"),
		rt("POST", "/orgs/{id}/summary/{year}/finalise", write, c.summaryFinalise, "finalise the summary (freeze its figures and texts)"),
		rt("GET", "/orgs/{id}/summary/{year}/xlsx", read, c.summaryXLSX, "the summary as an Excel workbook (audited)"),
		rt("GET", "/orgs/{id}/summary/{year}/pdf", read, c.summaryPDF, "the summary as a PDF (audited)"),
	}
}

type summaryPageData struct {
	S       *store.WorkSummary
	Doc     *reports.SummaryDoc
	Base    string
	Years   []choice
	Version string
	Form    map[string]string
	Fields  []kv // field → label
	Err     *formError
}

// summaryYear reads the {year} of the path after the org is known (so an
// org outside the subtree answers 404 whatever the year).
func summaryYearParam(r *http.Request) (int, error) {
	y, err := strconv.Atoi(r.PathValue("year"))
	if err != nil {
		return 0, casework.Invalid("year", "年份无效", "the year is not valid")
	}
	return y, nil
}

func (c *Console) loadSummary(r *http.Request, q *req) (*store.WorkSummary, error) {
	org, err := c.DB.GetOrg(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	y, err := summaryYearParam(r)
	if err != nil {
		return nil, err
	}
	return c.DB.WorkSummary(r.Context(), q.Actor, org.ID, y)
}

func (c *Console) summaryRender(w http.ResponseWriter, r *http.Request, q *req, s *store.WorkSummary, form map[string]string, fe *formError, status int) error {
	d := summaryPageData{S: s, Doc: reports.BuildSummary(s, q.Lang), Base: "/orgs/" + url.PathEscape(s.Org.ID) + "/summary/" + strconv.Itoa(s.Year), Form: form, Err: fe}
	today := casework.DateOf(c.DB.Now(), s.Org.Location())
	for y := today.Year; y >= today.Year-4; y-- {
		d.Years = append(d.Years, choice{Value: strconv.Itoa(y), Label: strconv.Itoa(y), Selected: y == s.Year})
	}
	if s.Texts.Version > 0 {
		d.Version = i18n.T(q.Lang, "summary.version", s.Texts.Version, s.Texts.UpdatedByName, s.Texts.UpdatedAt.In(s.Org.Location()).Format("2006-01-02 15:04"))
	} else {
		d.Version = i18n.T(q.Lang, "summary.no_version")
	}
	if d.Form == nil {
		d.Form = map[string]string{"version": strconv.Itoa(s.Texts.Version)}
		for _, f := range casework.SummarySections {
			d.Form[f] = *s.Texts.Field(f)
		}
	}
	for _, f := range casework.SummarySections {
		d.Fields = append(d.Fields, kv{K: f, V: i18n.T(q.Lang, "summary.field."+f)})
	}
	c.render(w, r, q, status, "summary", d)
	return nil
}

func (c *Console) summaryPage(w http.ResponseWriter, r *http.Request, q *req) error {
	s, err := c.loadSummary(r, q)
	if err != nil {
		return err
	}
	return c.summaryRender(w, r, q, s, nil, nil, http.StatusOK)
}

func (c *Console) summarySave(w http.ResponseWriter, r *http.Request, q *req) error {
	org, err := c.DB.GetOrg(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	y, err := summaryYearParam(r)
	if err != nil {
		return err
	}
	f, err := formValues(r, append([]string{"version"}, casework.SummarySections...)...)
	if err != nil {
		return err
	}
	var in casework.SummaryTexts
	for _, k := range casework.SummarySections {
		*in.Field(k) = f[k]
	}
	base, err := atoiField("version", f["version"])
	if err == nil {
		_, err = c.DB.SaveSummaryTexts(r.Context(), q.Actor, org.ID, y, base, in)
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		s, err2 := c.DB.WorkSummary(r.Context(), q.Actor, org.ID, y)
		if err2 != nil {
			return err2
		}
		return c.summaryRender(w, r, q, s, f, fe, http.StatusBadRequest)
	}
	return redirect(w, r, "/orgs/"+url.PathEscape(org.ID)+"/summary/"+strconv.Itoa(y), "summary_saved")
}

func (c *Console) summaryFinalise(w http.ResponseWriter, r *http.Request, q *req) error {
	org, err := c.DB.GetOrg(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	y, err := summaryYearParam(r)
	if err != nil {
		return err
	}
	f, err := formValues(r, "version")
	if err != nil {
		return err
	}
	v, err := atoiField("version", f["version"])
	if err == nil {
		_, err = c.DB.FinaliseSummary(r.Context(), q.Actor, org.ID, y, v)
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		s, err2 := c.DB.WorkSummary(r.Context(), q.Actor, org.ID, y)
		if err2 != nil {
			return err2
		}
		return c.summaryRender(w, r, q, s, nil, fe, http.StatusConflict)
	}
	return redirect(w, r, "/orgs/"+url.PathEscape(org.ID)+"/summary/"+strconv.Itoa(y), "summary_finalised")
}

func (c *Console) summaryXLSX(w http.ResponseWriter, r *http.Request, q *req) error {
	s, err := c.loadSummary(r, q)
	if err != nil {
		return err
	}
	if err := c.DB.AuditSummaryExport(r.Context(), q.Actor, s, "xlsx"); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := reports.WriteSummary(&buf, s, q.Lang); err != nil {
		return err
	}
	dossier.SendFile(w, exchange.ContentType, reports.SummaryFileName(s, q.Lang, "xlsx"), buf.Bytes())
	return nil
}

func (c *Console) summaryPDF(w http.ResponseWriter, r *http.Request, q *req) error {
	s, err := c.loadSummary(r, q)
	if err != nil {
		return err
	}
	b, err := dossier.SummaryPDF(reports.BuildSummary(s, q.Lang), q.Lang, c.DB.Now())
	if err != nil {
		return err
	}
	if err := c.DB.AuditSummaryExport(r.Context(), q.Actor, s, "pdf"); err != nil {
		return err
	}
	dossier.SendFile(w, "application/pdf", reports.SummaryFileName(s, q.Lang, "pdf"), b)
	return nil
}
