package api

import (
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Resident surveys (issue 12 §4): publishing, and the satisfaction and
// awareness figures of a subtree and period, with their numerators and
// denominators so a province can add up its districts.
func (a *API) surveyRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewSurveys}
	return []httpx.Route{
		rt("GET", "/api/v1/surveys", view, a.listSurveys, "resident surveys in the caller's area"),
		rt("POST", "/api/v1/surveys", httpx.Access{Perm: casework.PermManageSurveys}, a.publishSurvey, "publish a resident survey for a community"),
		rt("GET", "/api/v1/surveys/figures", view, a.surveyFigures, "satisfaction and awareness rates of org subtrees and a period, with their formulas"),
		rt("GET", "/api/v1/surveys/{id}", httpx.Access{Perm: casework.PermViewSurveys, Target: "survey"}, a.getSurvey, "one survey with its figures"),
		rt("POST", "/api/v1/surveys/{id}/close", httpx.Access{Perm: casework.PermManageSurveys, Target: "survey"}, a.closeSurvey, "close a survey before its last day"),
	}
}

type surveyJSON struct {
	ID           string        `json:"id"`
	OrgID        string        `json:"org_id"`
	OrgName      string        `json:"org_name"`
	Title        string        `json:"title"`
	Path         string        `json:"path"` // the residents' page, relative to the server
	OpensOn      casework.Date `json:"opens_on"`
	ClosesOn     casework.Date `json:"closes_on"`
	MaxResponses int           `json:"max_responses"`
	Responses    int           `json:"responses"`
	State        string        `json:"state"`
	CreatedAt    time.Time     `json:"created_at"`
}

func toSurveyJSON(s *store.Survey, today casework.Date) surveyJSON {
	return surveyJSON{ID: s.ID, OrgID: s.OrgID, OrgName: s.OrgName, Title: s.Title, Path: "/s/" + s.Token, OpensOn: s.OpensOn,
		ClosesOn: s.ClosesOn, MaxResponses: s.MaxResponses, Responses: s.Responses, State: s.State(today), CreatedAt: s.CreatedAt}
}

type rateJSON struct {
	Percent   *float64 `json:"percent"` // null when the denominator is 0
	Numerator int      `json:"numerator"`
	Denom     int      `json:"denominator"`
	Flag      string   `json:"flag,omitempty"` // below, above95, met98
	FormulaZH string   `json:"formula_zh"`
	FormulaEN string   `json:"formula_en"`
}

type surveyFiguresJSON struct {
	Satisfaction rateJSON              `json:"satisfaction"`
	Awareness    rateJSON              `json:"awareness"`
	Total        casework.SurveyCounts `json:"total"`
	Online       casework.SurveyCounts `json:"online"`
	Imported     casework.SurveyCounts `json:"imported"`
	Imports      int                   `json:"imports"`
}

const (
	satFormulaZH = "满意率 =（满意＋比较满意的回答数）÷（满意度回答总数 − 不清楚）× 100%"
	satFormulaEN = "satisfaction = (satisfied + fairly satisfied answers) ÷ (satisfaction answers − don't know) × 100%"
	awFormulaZH  = "知晓率 = 知识题答对数 ÷（受访人数 × 知识题数）× 100%"
	awFormulaEN  = "awareness = right knowledge answers ÷ (respondents × knowledge items) × 100%"
)

func toRate(n, d int, zh, en string) rateJSON {
	pct, ok := casework.SurveyCounts{Satisfied: n, Valid: d}.SatisfactionRate()
	r := rateJSON{Numerator: n, Denom: d, Flag: casework.SurveyFlag(pct, ok), FormulaZH: zh, FormulaEN: en}
	if ok {
		r.Percent = &pct
	}
	return r
}

func toFiguresJSON(r *store.SurveyResult) surveyFiguresJSON {
	return surveyFiguresJSON{Satisfaction: toRate(r.Total.Satisfied, r.Total.Valid, satFormulaZH, satFormulaEN),
		Awareness: toRate(r.Total.Correct, r.Total.Asked, awFormulaZH, awFormulaEN),
		Total:     r.Total, Online: r.Online, Imported: r.Imported, Imports: r.Imports}
}

func (a *API) listSurveys(w http.ResponseWriter, r *http.Request, q *req) error {
	list, err := a.DB.ListSurveys(r.Context(), q.Actor, r.URL.Query().Get("org"))
	if err != nil {
		return err
	}
	today := casework.DateOf(a.DB.Now(), nil)
	out := list0[surveyJSON](len(list))
	for i := range list {
		out.Items = append(out.Items, toSurveyJSON(&list[i], today))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) publishSurvey(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		OrgID        string        `json:"org_id"`
		Title        string        `json:"title"`
		OpensOn      casework.Date `json:"opens_on"`
		ClosesOn     casework.Date `json:"closes_on"`
		MaxResponses int           `json:"max_responses"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.DB.PublishSurvey(r.Context(), q.Actor, casework.SurveyInput{OrgID: in.OrgID, Title: in.Title, OpensOn: in.OpensOn,
		ClosesOn: in.ClosesOn, MaxResponses: in.MaxResponses})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toSurveyJSON(s, casework.DateOf(a.DB.Now(), nil)))
	return nil
}

func (a *API) getSurvey(w http.ResponseWriter, r *http.Request, q *req) error {
	s, err := a.DB.GetSurvey(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	res, err := a.DB.SurveyFigures(r.Context(), q.Actor, store.SurveyFilter{SurveyID: s.ID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"survey": toSurveyJSON(s, casework.DateOf(a.DB.Now(), nil)), "figures": toFiguresJSON(res)})
	return nil
}

func (a *API) closeSurvey(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := a.DB.CloseSurvey(r.Context(), q.Actor, r.PathValue("id")); err != nil {
		return err
	}
	return a.getSurvey(w, r, q)
}

// surveyFigures answers for the org subtrees given as repeated org=… (none:
// the caller's whole area) and the period from … to … (both included).
func (a *API) surveyFigures(w http.ResponseWriter, r *http.Request, q *req) error {
	f := store.SurveyFilter{OrgIDs: r.URL.Query()["org"]}
	var err error
	if f.From, err = queryDate(r, "from"); err != nil {
		return err
	}
	if f.To, err = queryDate(r, "to"); err != nil {
		return err
	}
	res, err := a.DB.SurveyFigures(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toFiguresJSON(res))
	return nil
}
