package api

// summary.go: the yearly work summary (issue 12 §3, §6) under
// /api/v1/reports/summary/{id}/{year}: its words and figures as JSON, the
// workbook and the PDF (audited as exports), a new version of the texts,
// and finalising.

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/dossier"
	"kangfu/internal/exchange"
	"kangfu/internal/httpx"
	"kangfu/internal/reports"
	"kangfu/internal/store"
)

func (a *API) summaryRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermReadPersons, Target: "org"}
	write := httpx.Access{Perm: casework.PermWriteSummary, Target: "org"}
	const p = "/api/v1/reports/summary/{id}/{year}"
	return []httpx.Route{
		rt("GET", p, read, a.summaryGet, "an org's yearly work summary: words, figures with formulas, texts"),
		rt("GET", p+"/xlsx", read, a.summaryXLSX, "the yearly work summary as an Excel workbook (audited)"),
		rt("GET", p+"/pdf", read, a.summaryPDF, "the yearly work summary as a PDF (audited)"),
		rt("PUT", p+"/texts", write, a.summaryPutTexts, "save a new version of the summary's texts (office or lead)"),
		rt("POST", p+"/finalise", write, a.summaryFinalise, "finalise the summary: freeze its figures and texts (office or lead)"),
	}
}

// summaryYear is the path's year; -1 when it is not a number, refused by
// the store after the org's scope is checked.
func summaryYear(r *http.Request) int {
	y, err := strconv.Atoi(r.PathValue("year"))
	if err != nil {
		return -1
	}
	return y
}

type summaryJSON struct {
	OrgID    string               `json:"org_id"`
	Year     int                  `json:"year"`
	From     casework.Date        `json:"from"`
	To       casework.Date        `json:"to"`
	Title    string               `json:"title"`
	Subtitle string               `json:"subtitle"`
	Place    string               `json:"place"`
	Source   string               `json:"source"`
	OrgYear  *orgYearJSON         `json:"org_year"`
	Sections []summarySectionJSON `json:"sections"`
	Figures  []*figureJSON        `json:"figures"`
	Texts    summaryTextsJSON     `json:"texts"`
	Final    *summaryFinalJSON    `json:"final"`
	Changed  []summaryChangeJSON  `json:"changed"`
	CanWrite bool                 `json:"can_write"`
}

type summarySectionJSON struct {
	Key       string   `json:"key"`
	Heading   string   `json:"heading"`
	Generated []string `json:"generated"`
	Text      string   `json:"text"`
}

type summaryTextsJSON struct {
	Version    int        `json:"version"`
	Overview   string     `json:"overview"`
	Services   string     `json:"services"`
	Highlights string     `json:"highlights"`
	Problems   string     `json:"problems"`
	NextSteps  string     `json:"next_steps"`
	UpdatedBy  string     `json:"updated_by,omitempty"`
	UpdatedAt  *time.Time `json:"updated_at,omitempty"`
}

type summaryFinalJSON struct {
	By   string        `json:"by"`
	At   time.Time     `json:"at"`
	AsOf casework.Date `json:"as_of"`
}

type summaryChangeJSON struct {
	Key  string      `json:"key"`
	Then *figureJSON `json:"then"`
	Now  *figureJSON `json:"now"`
}

func toSummaryJSON(s *store.WorkSummary, lang string) summaryJSON {
	d := reports.BuildSummary(s, lang)
	out := summaryJSON{OrgID: s.Org.ID, Year: s.Year, From: s.Period.From, To: s.Period.To, Title: d.Title, Subtitle: d.Subtitle, Place: d.Place,
		Source: s.Source, Sections: []summarySectionJSON{}, Figures: []*figureJSON{}, Changed: []summaryChangeJSON{}, CanWrite: s.CanWrite && s.Final == nil}
	if s.OrgYear != nil {
		j := toOrgYearJSON(s.OrgYear)
		out.OrgYear = &j
	}
	for _, sec := range d.Sections {
		out.Sections = append(out.Sections, summarySectionJSON{Key: sec.Key, Heading: sec.Heading, Generated: append([]string{}, sec.Generated...), Text: sec.Text})
	}
	for _, f := range s.Figures {
		out.Figures = append(out.Figures, toFigureJSON(f, lang))
	}
	t := s.Texts
	out.Texts = summaryTextsJSON{Version: t.Version, Overview: t.Overview, Services: t.Services, Highlights: t.Highlights, Problems: t.Problems,
		NextSteps: t.NextSteps, UpdatedBy: t.UpdatedByName}
	if !t.UpdatedAt.IsZero() {
		at := t.UpdatedAt
		out.Texts.UpdatedAt = &at
	}
	if s.Final != nil {
		out.Final = &summaryFinalJSON{By: s.Final.ByName, At: s.Final.At, AsOf: s.Final.Snapshot.AsOf}
	}
	for _, c := range s.Changed {
		out.Changed = append(out.Changed, summaryChangeJSON{Key: c.Key, Then: toFigureJSON(c.Then, lang), Now: toFigureJSON(c.Now, lang)})
	}
	return out
}

func (a *API) summaryGet(w http.ResponseWriter, r *http.Request, q *req) error {
	s, err := a.DB.WorkSummary(r.Context(), q.Actor, r.PathValue("id"), summaryYear(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSummaryJSON(s, apiLang(r)))
	return nil
}

func (a *API) summaryXLSX(w http.ResponseWriter, r *http.Request, q *req) error {
	s, err := a.DB.WorkSummary(r.Context(), q.Actor, r.PathValue("id"), summaryYear(r))
	if err != nil {
		return err
	}
	lang := apiLang(r)
	var buf bytes.Buffer
	if err := reports.WriteSummary(&buf, s, lang); err != nil {
		return err
	}
	if err := a.DB.AuditSummaryExport(r.Context(), q.Actor, s, "xlsx"); err != nil {
		return err
	}
	dossier.SendFile(w, exchange.ContentType, reports.SummaryFileName(s, lang, "xlsx"), buf.Bytes())
	return nil
}

func (a *API) summaryPDF(w http.ResponseWriter, r *http.Request, q *req) error {
	s, err := a.DB.WorkSummary(r.Context(), q.Actor, r.PathValue("id"), summaryYear(r))
	if err != nil {
		return err
	}
	lang := apiLang(r)
	b, err := dossier.SummaryPDF(reports.BuildSummary(s, lang), lang, a.DB.Now())
	if err != nil {
		return err
	}
	if err := a.DB.AuditSummaryExport(r.Context(), q.Actor, s, "pdf"); err != nil {
		return err
	}
	dossier.SendFile(w, "application/pdf", reports.SummaryFileName(s, lang, "pdf"), b)
	return nil
}

func (a *API) summaryPutTexts(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		Version    int    `json:"version"`
		Overview   string `json:"overview"`
		Services   string `json:"services"`
		Highlights string `json:"highlights"`
		Problems   string `json:"problems"`
		NextSteps  string `json:"next_steps"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if _, err := a.DB.SaveSummaryTexts(r.Context(), q.Actor, r.PathValue("id"), summaryYear(r), in.Version, casework.SummaryTexts{
		Overview: in.Overview, Services: in.Services, Highlights: in.Highlights, Problems: in.Problems, NextSteps: in.NextSteps}); err != nil {
		return err
	}
	return a.summaryGet(w, r, q)
}

func (a *API) summaryFinalise(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		Version int `json:"version"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.DB.FinaliseSummary(r.Context(), q.Actor, r.PathValue("id"), summaryYear(r), in.Version)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSummaryJSON(s, apiLang(r)))
	return nil
}
