package web

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/url"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// Resident satisfaction and awareness surveys (issue 12 §4): the list with
// the figures of the reader's area and period, publishing, one survey's
// results with the formula in words and a breakdown by question, its link,
// QR code and printable poster, the export of its answers and the import of
// a third party's results. The residents' page is survey_public.go.
func (c *Console) surveyRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewSurveys}
	manage := httpx.Access{Perm: casework.PermManageSurveys}
	one := httpx.Access{Perm: casework.PermViewSurveys, Target: "survey"}
	oneManage := httpx.Access{Perm: casework.PermManageSurveys, Target: "survey"}
	return []httpx.Route{
		rt("GET", "/surveys", view, c.surveyList, "resident surveys with satisfaction and awareness figures"),
		rt("POST", "/surveys", manage, c.surveyPublish, "publish a resident survey"),
		rt("GET", "/surveys/import", manage, c.surveyImportForm, "survey results import form"),
		rt("POST", "/surveys/import", manage, c.surveyImport, "import a third party's survey results from Excel"),
		rt("GET", "/surveys/import/template.xlsx", manage, c.surveyTemplate, "the survey results import template"),
		rt("GET", "/surveys/{id}", one, c.surveyView, "a survey's results"),
		rt("POST", "/surveys/{id}/close", oneManage, c.surveyClose, "close a survey"),
		rt("GET", "/surveys/{id}/qr.png", one, c.surveyQR, "a survey's QR code"),
		rt("GET", "/surveys/{id}/print", one, c.surveyPrint, "a survey's printable poster"),
		rt("GET", "/surveys/{id}/export.xlsx", one, c.surveyExport, "export a survey's answers"),
	}
}

// rateView is a rate as the page shows it: the percentage, the fraction it
// came from and its flag against the 95% and 98% targets.
type rateView struct {
	Pct  string
	Num  int
	Den  int
	Flag string
}

func rateOf(n, d int) rateView {
	pct, ok := casework.SurveyCounts{Satisfied: n, Valid: d}.SatisfactionRate()
	v := rateView{Num: n, Den: d, Pct: "—", Flag: casework.SurveyFlag(pct, ok)}
	if ok {
		v.Pct = fmt.Sprintf("%.1f%%", pct)
	}
	return v
}

type surveyFigures struct {
	R            *store.SurveyResult
	Satisfaction rateView
	Awareness    rateView
	Items        []surveyItemRow
	Knowledge    []surveyKnowRow
	Scale        []string
}

type surveyItemRow struct {
	Text    string
	Answers []int
	Rate    rateView
}

type surveyKnowRow struct {
	Text string
	Rate rateView
}

func figuresView(r *store.SurveyResult, lang string) surveyFigures {
	f := surveyFigures{R: r, Satisfaction: rateOf(r.Total.Satisfied, r.Total.Valid), Awareness: rateOf(r.Total.Correct, r.Total.Asked)}
	for _, a := range casework.SatAnswers {
		f.Scale = append(f.Scale, a.Label(lang))
	}
	for _, it := range r.ByItem {
		row := surveyItemRow{Text: it.Item.Text(lang), Rate: rateOf(it.Counts.Satisfied, it.Counts.Valid)}
		for _, a := range casework.SatAnswers {
			row.Answers = append(row.Answers, it.Answers[a])
		}
		f.Items = append(f.Items, row)
	}
	for _, k := range r.ByKnow {
		f.Knowledge = append(f.Knowledge, surveyKnowRow{Text: k.Item.Text(lang), Rate: rateOf(k.Correct, k.Asked)})
	}
	return f
}

type surveysData struct {
	Surveys   []surveyRow
	Orgs      []choice
	FormOrgs  []choice
	From, To  string
	F         surveyFigures
	CanManage bool
	Form      map[string]string
	Err       *formError
}

type surveyRow struct {
	S     store.Survey
	State string
}

func (c *Console) surveysPage(w http.ResponseWriter, r *http.Request, q *req, form map[string]string, fe *formError, status int) error {
	v := r.URL.Query()
	f := store.SurveyFilter{}
	if org := v.Get("org"); org != "" {
		f.OrgIDs = []string{org}
	}
	var err error
	if f.From, err = optDate("from", v.Get("from")); err != nil {
		return err
	}
	if f.To, err = optDate("to", v.Get("to")); err != nil {
		return err
	}
	res, err := c.DB.SurveyFigures(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	d := surveysData{From: f.From.String(), To: f.To.String(), F: figuresView(res, q.Lang), Form: form, Err: fe,
		CanManage: q.Actor.CanAnywhere(casework.PermManageSurveys)}
	list, err := c.DB.ListSurveys(r.Context(), q.Actor, v.Get("org"))
	if err != nil {
		return err
	}
	today := casework.DateOf(c.DB.Now(), nil)
	for _, s := range list {
		d.Surveys = append(d.Surveys, surveyRow{S: s, State: i18n.T(q.Lang, "survey.state."+s.State(today))})
	}
	if d.Orgs, err = c.orgChoices(r, q, v.Get("org")); err != nil {
		return err
	}
	if d.Form == nil {
		d.Form = map[string]string{"opens_on": today.String(), "closes_on": today.AddDays(30).String(), "max_responses": "500",
			"title": i18n.T(q.Lang, "survey.default_title")}
	}
	if d.CanManage {
		orgs, err := c.DB.ListOrgs(r.Context(), q.Actor, store.OrgFilter{})
		if err != nil {
			return err
		}
		for _, o := range orgs {
			if q.Actor.Can(casework.PermManageSurveys, o.Path) && o.Kind == casework.KindCommunity {
				d.FormOrgs = append(d.FormOrgs, choice{Value: o.ID, Label: o.Name, Selected: o.ID == d.Form["org_id"]})
			}
		}
	}
	c.render(w, r, q, status, "surveys", d)
	return nil
}

func (c *Console) surveyList(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.surveysPage(w, r, q, nil, nil, http.StatusOK)
}

func (c *Console) surveyPublish(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, "org_id", "title", "opens_on", "closes_on", "max_responses")
	if err != nil {
		return err
	}
	in := casework.SurveyInput{OrgID: f["org_id"], Title: f["title"]}
	if in.OpensOn, err = optDate("opens_on", f["opens_on"]); err == nil {
		if in.ClosesOn, err = optDate("closes_on", f["closes_on"]); err == nil {
			in.MaxResponses, err = atoiField("max_responses", f["max_responses"])
		}
	}
	var s *store.Survey
	if err == nil {
		s, err = c.DB.PublishSurvey(r.Context(), q.Actor, in)
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.surveysPage(w, r, q, f, fe, http.StatusBadRequest)
	}
	return redirect(w, r, "/surveys/"+s.ID, "survey_published")
}

// surveyURL is the absolute address residents open (the QR code's text).
func (c *Console) surveyURL(r *http.Request, token string) string {
	scheme := "http"
	if r.TLS != nil || (c.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/s/" + token
}

type surveyData struct {
	S         *store.Survey
	State     string
	URL       string
	QR        string
	F         surveyFigures
	CanManage bool
}

func (c *Console) surveyData(r *http.Request, q *req) (*surveyData, error) {
	s, err := c.DB.GetSurvey(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	res, err := c.DB.SurveyFigures(r.Context(), q.Actor, store.SurveyFilter{SurveyID: s.ID})
	if err != nil {
		return nil, err
	}
	d := &surveyData{S: s, URL: c.surveyURL(r, s.Token), F: figuresView(res, q.Lang),
		State:     i18n.T(q.Lang, "survey.state."+s.State(casework.DateOf(c.DB.Now(), nil))),
		CanManage: q.Actor.CanAnywhere(casework.PermManageSurveys)}
	if d.QR, err = qrDataURI(d.URL); err != nil {
		return nil, err
	}
	return d, nil
}

func (c *Console) surveyView(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := c.surveyData(r, q)
	if err != nil {
		return err
	}
	c.render(w, r, q, http.StatusOK, "survey", d)
	return nil
}

func (c *Console) surveyPrint(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := c.surveyData(r, q)
	if err != nil {
		return err
	}
	c.render(w, r, q, http.StatusOK, "survey_print", d)
	return nil
}

func (c *Console) surveyClose(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	if err := c.DB.CloseSurvey(r.Context(), q.Actor, id); err != nil {
		return err
	}
	return redirect(w, r, "/surveys/"+url.PathEscape(id), "survey_closed")
}

// surveyQR is the survey's QR code as a PNG to download and print large.
func (c *Console) surveyQR(w http.ResponseWriter, r *http.Request, q *req) error {
	s, err := c.DB.GetSurvey(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	code, err := qr.Encode(c.surveyURL(r, s.Token), qr.M, qr.Auto)
	if err != nil {
		return err
	}
	if code, err = barcode.Scale(code, 600, 600); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, code); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Disposition", `attachment; filename="survey-qr.png"`)
	w.Header().Set("Cache-Control", "private, no-store")
	_, err = w.Write(buf.Bytes())
	return err
}

// surveyExport sends the survey's answers: nothing about a respondent but
// the age band and role (the browser token and fingerprint never leave the
// store); the export is audited before the file leaves.
func (c *Console) surveyExport(w http.ResponseWriter, r *http.Request, q *req) error {
	s, err := c.DB.GetSurvey(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	list, err := c.DB.ListSurveyResponses(r.Context(), q.Actor, s.ID)
	if err != nil {
		return err
	}
	head, rows := exchange.SurveyResponseTable(list, q.Lang)
	if err := c.DB.AuditSurveyExport(r.Context(), q.Actor, s, len(rows)); err != nil {
		return err
	}
	return sendWorkbook(w, "survey-answers.xlsx", func(out io.Writer) error {
		return exchange.WriteTable(out, i18n.T(q.Lang, "exchange.sheet.survey_answers"), head, rows)
	})
}

type surveyImportData struct {
	Err     string
	DryRun  bool
	Report  *store.SurveyImportReport
	Errors  []exchange.ErrorRow
	MaxRows int
}

func (c *Console) surveyImportForm(w http.ResponseWriter, r *http.Request, q *req) error {
	c.render(w, r, q, http.StatusOK, "survey_import", surveyImportData{DryRun: true, MaxRows: exchange.MaxRows})
	return nil
}

func (c *Console) surveyTemplate(w http.ResponseWriter, r *http.Request, q *req) error {
	return sendWorkbook(w, "kangfu-survey-results-template.xlsx", func(out io.Writer) error { return exchange.WriteSurveyTemplate(out, q.Lang) })
}

func (c *Console) surveyImport(w http.ResponseWriter, r *http.Request, q *req) error {
	d := surveyImportData{MaxRows: exchange.MaxRows}
	var rows []store.SurveyImportRow
	file, dry, done, err := openXLSXForm(w, r)
	defer done()
	d.DryRun = dry
	if err == nil {
		rows, err = exchange.ReadSurveyImport(file)
	}
	if err == nil {
		d.Report, err = c.DB.ImportSurveyResults(r.Context(), q.Actor, rows, d.DryRun)
	}
	var ce *casework.Error
	if errors.As(err, &ce) && ce.Code == casework.EINVALID {
		d.Err = ce.Message(q.Lang)
		c.render(w, r, q, http.StatusBadRequest, "survey_import", d)
		return nil
	}
	if err != nil {
		return err
	}
	d.Errors = exchange.SurveyErrors(d.Report, q.Lang)
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	c.render(w, r, q, status, "survey_import", d)
	return nil
}
