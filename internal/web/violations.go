package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// Violations and serious cases (issue 5 §4; R9, R10, R29): lists per org
// and per person with filters, a violation's detail with its review and
// ladder steps, drug use recorded by staff, the serious cases and their
// steps (report with the generated 报告书, police acknowledgement and
// decision, closing). The store checks scope and the finer permissions.
func (c *Console) violationRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewViolations}
	person := httpx.Access{Perm: casework.PermViewViolations, Target: "person"}
	record := httpx.Access{Perm: casework.PermReviewViolations, Target: "person"}
	one := httpx.Access{Perm: casework.PermViewViolations, Target: "violation"}
	review := httpx.Access{Perm: casework.PermReviewViolations, Target: "violation"}
	decide := httpx.Access{Perm: casework.PermDecideViolations, Target: "violation"}
	kase := httpx.Access{Perm: casework.PermViewViolations, Target: "serious_case"}
	return []httpx.Route{
		rt("GET", "/violations", view, c.violationList, "violations in my area"),
		rt("GET", "/persons/{id}/violations", person, c.personViolations, "a person's violations"),
		rt("POST", "/persons/{id}/violations", record, c.violationRecord, "record drug use (R10)"),
		rt("GET", "/violations/{id}", one, c.violationView, "a violation"),
		rt("POST", "/violations/{id}/review", review, c.violationReview, "explain, excuse or confirm a violation"),
		rt("POST", "/violations/{id}/steps", decide, c.violationStep, "a step of the ladder (R29)"),
		rt("GET", "/cases", view, c.caseList, "serious cases"),
		rt("GET", "/cases/{id}", kase, c.caseView, "a serious case"),
		rt("POST", "/cases/{id}/report", httpx.Access{Perm: casework.PermReportCase, Target: "serious_case"}, c.caseReport, "report a case to the police"),
		rt("POST", "/cases/{id}/police", httpx.Access{Perm: casework.PermPoliceCase, Target: "serious_case"}, c.casePolice, "police acknowledgement or decision"),
		rt("POST", "/cases/{id}/close", kase, c.caseClose, "close a case"),
	}
}

type violationRow struct {
	V     *store.Violation
	Kind  string
	State string
}

type violationListData struct {
	PersonID  string
	P         *casework.Person // the person of a person's list; nil on the org-wide list
	Rows      []violationRow
	Total     int
	Kinds     []choice
	States    []choice
	From, To  string
	CanRecord bool
	Err       *formError
	Form      map[string]string
}

func violationRows(lang string, vs []*store.Violation) []violationRow {
	out := make([]violationRow, len(vs))
	for i, v := range vs {
		out[i] = violationRow{V: v, Kind: v.Kind.Label(lang), State: v.State.Label(lang)}
	}
	return out
}

func (c *Console) violationFilter(r *http.Request, lang string, d *violationListData) (store.ViolationFilter, error) {
	qv := r.URL.Query()
	f := store.ViolationFilter{Kind: casework.ViolationKind(qv.Get("kind")), State: casework.ViolationState(qv.Get("state")), OrgID: qv.Get("org_id"), Limit: 200}
	if f.Kind != "" && !f.Kind.Valid() {
		return f, casework.Invalid("kind", "未知的违规类别", "unknown violation kind")
	}
	if f.State != "" && !f.State.Valid() {
		return f, casework.Invalid("state", "未知的状态", "unknown state")
	}
	var err error
	if d.From = qv.Get("from"); d.From != "" {
		if f.From, err = casework.ParseDateField("from", d.From); err != nil {
			return f, err
		}
	}
	if d.To = qv.Get("to"); d.To != "" {
		if f.To, err = casework.ParseDateField("to", d.To); err != nil {
			return f, err
		}
	}
	d.Kinds = []choice{{Value: "", Label: "—"}}
	for _, k := range casework.ViolationKinds {
		d.Kinds = append(d.Kinds, choice{Value: string(k), Label: k.Label(lang), Selected: k == f.Kind})
	}
	d.States = []choice{{Value: "", Label: "—"}}
	for _, s := range casework.ViolationStates {
		d.States = append(d.States, choice{Value: string(s), Label: s.Label(lang), Selected: s == f.State})
	}
	return f, nil
}

func (c *Console) violationList(w http.ResponseWriter, r *http.Request, q *req) error {
	var d violationListData
	f, err := c.violationFilter(r, q.Lang, &d)
	if err != nil {
		return err
	}
	vs, total, err := c.DB.ListViolations(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	d.Rows, d.Total = violationRows(q.Lang, vs), total
	c.render(w, r, q, http.StatusOK, "violations", d)
	return nil
}

func (c *Console) personViolationsPage(w http.ResponseWriter, r *http.Request, q *req, form map[string]string, fe *formError, status int) error {
	p, err := c.filePerson(r, q)
	if err != nil {
		return err
	}
	d := violationListData{PersonID: r.PathValue("id"), P: p, Form: form, Err: fe}
	f, err := c.violationFilter(r, q.Lang, &d)
	if err != nil {
		return err
	}
	f.PersonID = d.PersonID
	vs, total, err := c.DB.ListViolations(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	d.Rows, d.Total = violationRows(q.Lang, vs), total
	d.CanRecord = q.Actor.CanAnywhere(casework.PermReviewViolations)
	if d.Form == nil {
		d.Form = map[string]string{"day": casework.DateOf(c.DB.Now(), nil).String()}
	}
	c.render(w, r, q, status, "violations_person", d)
	return nil
}

func (c *Console) personViolations(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.personViolationsPage(w, r, q, nil, nil, http.StatusOK)
}

func (c *Console) violationRecord(w http.ResponseWriter, r *http.Request, q *req) error {
	form := map[string]string{"day": strings.TrimSpace(r.FormValue("day")), "detail": r.FormValue("detail")}
	var parse casework.FieldErrors // a day not read and a missing detail together (issue 18 item 9)
	day, err := casework.ParseDateField("day", form["day"])
	parse.Add(err)
	in := store.DrugUseInput{Day: day, Detail: form["detail"]}
	err = withChecks(parse, in.CheckDetail)
	var v *store.Violation
	if err == nil {
		v, err = c.DB.RecordDrugUse(r.Context(), q.Actor, r.PathValue("id"), in)
		if casework.IsCode(err, casework.ECONFLICT) {
			// No measure in force: for a released person in the three years
			// after release this is a relapse (R16), which restarts them.
			if _, rerr := c.DB.RecordRelapse(r.Context(), q.Actor, r.PathValue("id"), in); !casework.IsCode(rerr, casework.ECONFLICT) {
				if rerr == nil {
					return redirect(w, r, "/persons/"+r.PathValue("id"), "relapse_recorded")
				}
				err = rerr
			}
		}
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.personViolationsPage(w, r, q, form, fe, http.StatusUnprocessableEntity)
	}
	return redirect(w, r, "/violations/"+v.ID, "violation_recorded")
}

type violationViewData struct {
	V       *store.Violation
	Kind    string
	State   string
	Actions []choice
	Steps   []choice
	Done    []stepRow
	Err     *formError
}

type stepRow struct {
	S    store.ViolationStep
	Step string
}

func (c *Console) violationPage(w http.ResponseWriter, r *http.Request, q *req, fe *formError, status int) error {
	v, err := c.DB.GetViolation(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := violationViewData{V: v, Kind: v.Kind.Label(q.Lang), State: v.State.Label(q.Lang), Err: fe}
	for _, a := range v.Actions {
		d.Actions = append(d.Actions, choice{Value: string(a), Label: a.Label(q.Lang)})
	}
	for _, s := range v.LadderSteps {
		d.Steps = append(d.Steps, choice{Value: string(s), Label: s.Label(q.Lang)})
	}
	for _, s := range v.Steps {
		d.Done = append(d.Done, stepRow{S: s, Step: s.Step.Label(q.Lang)})
	}
	c.render(w, r, q, status, "violation", d)
	return nil
}

func (c *Console) violationView(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.violationPage(w, r, q, nil, http.StatusOK)
}

// formFail re-renders a page of several forms (422) with every problem of
// the form sent beside its fields and what was typed kept (issue 18 item 9).
func (c *Console) formFail(w http.ResponseWriter, r *http.Request, q *req, form string, err error, page func(http.ResponseWriter, *http.Request, *req, *formError, int) error) error {
	fe, ok := toFormError(err, q.Lang)
	if !ok {
		return err
	}
	return page(w, r, q, fe.sent(form, r), http.StatusUnprocessableEntity)
}

func (c *Console) violationReview(w http.ResponseWriter, r *http.Request, q *req) error {
	in := casework.ViolationReview{Action: casework.ViolationAction(r.FormValue("action")), Reason: r.FormValue("reason")}
	if _, err := c.DB.ReviewViolation(r.Context(), q.Actor, r.PathValue("id"), in); err != nil {
		return c.formFail(w, r, q, "review", err, c.violationPage)
	}
	return redirect(w, r, "/violations/"+r.PathValue("id"), "violation_reviewed")
}

func (c *Console) violationStep(w http.ResponseWriter, r *http.Request, q *req) error {
	in := casework.LadderInput{Step: casework.LadderStep(r.FormValue("step")), Reason: r.FormValue("reason"), Recipient: r.FormValue("recipient")}
	if _, err := c.docs().LadderStep(r.Context(), q.Actor, r.PathValue("id"), in); err != nil {
		return c.formFail(w, r, q, "step", err, c.violationPage)
	}
	return redirect(w, r, "/violations/"+r.PathValue("id"), "violation_step")
}

type caseRow struct {
	C       *store.SeriousCase
	Trigger string
	State   string
}

type caseListData struct {
	Rows   []caseRow
	Total  int
	States []choice
	All    bool
}

func (c *Console) caseList(w http.ResponseWriter, r *http.Request, q *req) error {
	st := casework.CaseState(r.URL.Query().Get("state"))
	f := store.CaseFilter{State: st, Open: st == "" && r.URL.Query().Get("all") == "", OrgID: r.URL.Query().Get("org_id"), Limit: 200}
	cs, total, err := c.DB.ListSeriousCases(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	d := caseListData{Total: total, All: !f.Open}
	d.States = []choice{{Value: "", Label: "—"}}
	for _, s := range casework.CaseStates {
		d.States = append(d.States, choice{Value: string(s), Label: s.Label(q.Lang), Selected: s == st})
	}
	for _, x := range cs {
		d.Rows = append(d.Rows, caseRow{C: x, Trigger: x.TriggerLabel(q.Lang), State: x.State.Label(q.Lang)})
	}
	c.render(w, r, q, http.StatusOK, "cases", d)
	return nil
}

type caseViewData struct {
	C         *store.SeriousCase
	Counts    string // the R9 counts and thresholds when opened, in words
	Trigger   string
	State     string
	Decision  string
	Can       map[string]bool
	Decisions []choice
	Err       *formError
}

func (c *Console) casePage(w http.ResponseWriter, r *http.Request, q *req, fe *formError, status int) error {
	x, err := c.DB.GetSeriousCase(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := caseViewData{C: x, Counts: caseCounts(q.Lang, x.Counts), Trigger: x.TriggerLabel(q.Lang), State: x.State.Label(q.Lang), Can: map[string]bool{}, Err: fe}
	if x.Decision != "" {
		d.Decision = x.Decision.Label(q.Lang)
	}
	for _, a := range x.Actions {
		d.Can[string(a)] = true
	}
	for _, p := range casework.PoliceDecisions {
		d.Decisions = append(d.Decisions, choice{Value: string(p), Label: p.Label(q.Lang)})
	}
	c.render(w, r, q, status, "case", d)
	return nil
}

func (c *Console) caseView(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.casePage(w, r, q, nil, http.StatusOK)
}

func (c *Console) caseReport(w http.ResponseWriter, r *http.Request, q *req) error {
	in := casework.CaseStep{Action: casework.CaseReport, Recipient: r.FormValue("recipient")}
	if _, err := c.docs().ReportCase(r.Context(), q.Actor, r.PathValue("id"), in); err != nil {
		return c.formFail(w, r, q, "report", err, c.casePage)
	}
	return redirect(w, r, "/cases/"+r.PathValue("id"), "case_reported")
}

func (c *Console) casePolice(w http.ResponseWriter, r *http.Request, q *req) error {
	in := casework.CaseStep{Action: casework.CaseAction(r.FormValue("action")), Decision: casework.PoliceDecision(r.FormValue("decision")),
		Text: r.FormValue("text")}
	if in.Action != casework.CaseAcknowledge && in.Action != casework.CaseDecide {
		return c.formFail(w, r, q, "decide", casework.Invalid("action", "请选择：确认接收或录入决定", "choose acknowledge or decide"), c.casePage)
	}
	dd, err := casework.ParseDateField("decision_date", r.FormValue("decision_date"))
	in.DecisionDate = dd
	if err != nil { // a bad date with the rest of the step's problems (issue 18 item 9)
		var parse casework.FieldErrors
		parse.Add(err)
		err = withChecks(parse, func() error { chk := in; return chk.Validate(c.today()) })
	}
	if err == nil {
		_, err = c.DB.StepSeriousCase(r.Context(), q.Actor, r.PathValue("id"), in, nil)
	}
	if err != nil {
		return c.formFail(w, r, q, string(in.Action), err, c.casePage)
	}
	return redirect(w, r, "/cases/"+r.PathValue("id"), "case_"+string(in.Action))
}

func (c *Console) caseClose(w http.ResponseWriter, r *http.Request, q *req) error {
	in := casework.CaseStep{Action: casework.CaseClose, Text: r.FormValue("text")}
	if _, err := c.DB.StepSeriousCase(r.Context(), q.Actor, r.PathValue("id"), in, nil); err != nil {
		return c.formFail(w, r, q, "close", err, c.casePage)
	}
	return redirect(w, r, "/cases/"+r.PathValue("id"), "case_closed")
}

// caseCounts words the counts an R9 case was opened on (stored as JSON with
// the thresholds in force): staff read sentences, not JSON (issue 18 §8). A
// case on a positive test or drug use has no counts: "".
func caseCounts(lang, raw string) string {
	var m map[string]any
	if json.Unmarshal([]byte(raw), &m) != nil {
		return ""
	}
	n := func(k string) int { f, _ := m[k].(float64); return int(f) }
	if _, ok := m["refusals"]; !ok {
		return ""
	}
	return i18n.T(lang, "case.counts_text", n("refusals"), n("refusals_max"), n("departures"), n("departures_max"), n("absence_days"), n("absence_days_max"))
}
