package api

import (
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Violations and serious cases (issue 5 §4; R9, R10, R29). The same store
// calls as the console: scope and the finer permissions (excusing is a
// lead's, deciding a case the police's) are checked there.
func (a *API) violationRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewViolations}
	person := httpx.Access{Perm: casework.PermViewViolations, Target: "person"}
	record := httpx.Access{Perm: casework.PermReviewViolations, Target: "person"}
	one := httpx.Access{Perm: casework.PermViewViolations, Target: "violation"}
	kase := httpx.Access{Perm: casework.PermViewViolations, Target: "serious_case"}
	return []httpx.Route{
		rt("GET", "/api/v1/violations", view, a.listViolations, "violations in my area"),
		rt("GET", "/api/v1/persons/{id}/violations", person, a.personViolations, "a person's violations"),
		rt("POST", "/api/v1/persons/{id}/violations", record, a.recordDrugUse, "record drug use (R10)"),
		rt("GET", "/api/v1/violations/{id}", one, a.getViolation, "a violation with its ladder steps"),
		rt("POST", "/api/v1/violations/{id}/review", httpx.Access{Perm: casework.PermReviewViolations, Target: "violation"}, a.reviewViolation, "explain, excuse or confirm"),
		rt("POST", "/api/v1/violations/{id}/steps", httpx.Access{Perm: casework.PermDecideViolations, Target: "violation"}, a.ladderStep, "a ladder step (R29)"),
		rt("GET", "/api/v1/cases", view, a.listCases, "serious cases"),
		rt("GET", "/api/v1/cases/{id}", kase, a.getCase, "a serious case"),
		rt("POST", "/api/v1/cases/{id}/report", httpx.Access{Perm: casework.PermReportCase, Target: "serious_case"}, a.reportCase, "report a case to the police"),
		rt("POST", "/api/v1/cases/{id}/police", httpx.Access{Perm: casework.PermPoliceCase, Target: "serious_case"}, a.policeCase, "acknowledge or decide"),
		rt("POST", "/api/v1/cases/{id}/close", kase, a.closeCase, "close a case"),
	}
}

type ladderStepJSON struct {
	ID            string    `json:"id"`
	Step          string    `json:"step"`
	Reason        string    `json:"reason"`
	Recipient     string    `json:"recipient,omitempty"`
	DocumentID    string    `json:"document_id,omitempty"`
	CreatedByName string    `json:"created_by_name"`
	CreatedAt     time.Time `json:"created_at"`
}

type violationJSON struct {
	ID             string           `json:"id"`
	PersonID       string           `json:"person_id"`
	PersonName     string           `json:"person_name"`
	MeasureID      string           `json:"measure_id"`
	OrgID          string           `json:"org_id"`
	OrgName        string           `json:"org_name"`
	Kind           string           `json:"kind"`
	Day            casework.Date    `json:"day"`
	LastDay        casework.Date    `json:"last_day"`
	Days           int              `json:"days"`
	Detail         string           `json:"detail,omitempty"`
	PoliceRequired bool             `json:"police_required"`
	PoliceReported bool             `json:"police_reported"`
	State          string           `json:"state"`
	StateReason    string           `json:"state_reason,omitempty"`
	StateByName    string           `json:"state_by_name,omitempty"`
	PolicyRef      string           `json:"policy_ref,omitempty"`
	Detected       bool             `json:"detected"`
	CreatedAt      time.Time        `json:"created_at"`
	Steps          []ladderStepJSON `json:"steps,omitempty"`
	Actions        []string         `json:"actions,omitempty"`
	LadderSteps    []string         `json:"ladder_steps,omitempty"`
}

func toViolationJSON(v *store.Violation) violationJSON {
	j := violationJSON{ID: v.ID, PersonID: v.PersonID, PersonName: v.PersonName, MeasureID: v.MeasureID, OrgID: v.OrgID, OrgName: v.OrgName,
		Kind: string(v.Kind), Day: v.Day, LastDay: v.LastDay, Days: v.Days, Detail: v.Detail, PoliceRequired: v.PoliceRequired,
		PoliceReported: v.PoliceReported, State: string(v.State), StateReason: v.StateReason, StateByName: v.StateByName, PolicyRef: v.PolicyRef,
		Detected: v.CreatedBy == "", CreatedAt: v.CreatedAt}
	for _, s := range v.Steps {
		j.Steps = append(j.Steps, ladderStepJSON{ID: s.ID, Step: string(s.Step), Reason: s.Reason, Recipient: s.Recipient, DocumentID: s.DocumentID,
			CreatedByName: s.CreatedByName, CreatedAt: s.CreatedAt})
	}
	for _, x := range v.Actions {
		j.Actions = append(j.Actions, string(x))
	}
	for _, x := range v.LadderSteps {
		j.LadderSteps = append(j.LadderSteps, string(x))
	}
	return j
}

func violationFilter(r *http.Request) (store.ViolationFilter, error) {
	qv := r.URL.Query()
	f := store.ViolationFilter{Kind: casework.ViolationKind(qv.Get("kind")), State: casework.ViolationState(qv.Get("state")), OrgID: qv.Get("org_id"),
		Pending: qv.Get("pending") == "true"}
	var err error
	if f.Offset, f.Limit, err = paging(r); err != nil {
		return f, err
	}
	if f.Kind != "" && !f.Kind.Valid() {
		return f, casework.Invalid("kind", "未知的违规类别", "unknown violation kind")
	}
	if f.State != "" && !f.State.Valid() {
		return f, casework.Invalid("state", "未知的状态", "unknown state")
	}
	if s := qv.Get("from"); s != "" {
		if f.From, err = casework.ParseDateField("from", s); err != nil {
			return f, err
		}
	}
	if s := qv.Get("to"); s != "" {
		if f.To, err = casework.ParseDateField("to", s); err != nil {
			return f, err
		}
	}
	return f, nil
}

func (a *API) writeViolations(w http.ResponseWriter, r *http.Request, q *req, f store.ViolationFilter) error {
	vs, total, err := a.DB.ListViolations(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	out := list[violationJSON]{Items: []violationJSON{}, Total: total}
	for _, v := range vs {
		out.Items = append(out.Items, toViolationJSON(v))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) listViolations(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := violationFilter(r)
	if err != nil {
		return err
	}
	return a.writeViolations(w, r, q, f)
}

func (a *API) personViolations(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := violationFilter(r)
	if err != nil {
		return err
	}
	f.PersonID = r.PathValue("id")
	return a.writeViolations(w, r, q, f)
}

func (a *API) recordDrugUse(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		Day    casework.Date `json:"day"`
		Detail string        `json:"detail"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	v, err := a.DB.RecordDrugUse(r.Context(), q.Actor, r.PathValue("id"), store.DrugUseInput{Day: in.Day, Detail: in.Detail})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toViolationJSON(v))
	return nil
}

func (a *API) getViolation(w http.ResponseWriter, r *http.Request, q *req) error {
	v, err := a.DB.GetViolation(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toViolationJSON(v))
	return nil
}

func (a *API) reviewViolation(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		Action string `json:"action"`
		Reason string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	v, err := a.DB.ReviewViolation(r.Context(), q.Actor, r.PathValue("id"), casework.ViolationReview{Action: casework.ViolationAction(in.Action), Reason: in.Reason})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toViolationJSON(v))
	return nil
}

func (a *API) ladderStep(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		Step      string `json:"step"`
		Reason    string `json:"reason"`
		Recipient string `json:"recipient"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	v, err := a.docs().LadderStep(r.Context(), q.Actor, r.PathValue("id"), casework.LadderInput{Step: casework.LadderStep(in.Step), Reason: in.Reason, Recipient: in.Recipient})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toViolationJSON(v))
	return nil
}

type caseJSON struct {
	ID               string         `json:"id"`
	PersonID         string         `json:"person_id"`
	PersonName       string         `json:"person_name"`
	MeasureID        string         `json:"measure_id"`
	OrgID            string         `json:"org_id"`
	OrgName          string         `json:"org_name"`
	Trigger          string         `json:"trigger"`
	TriggerKey       string         `json:"trigger_key,omitempty"`
	Statutory        bool           `json:"statutory"` // R9: false when opened below the law's threshold (local policy)
	Counts           string         `json:"counts,omitempty"`
	PolicyRef        string         `json:"policy_ref,omitempty"`
	State            string         `json:"state"`
	OpenedOn         casework.Date  `json:"opened_on"`
	ReportDocumentID string         `json:"report_document_id,omitempty"`
	Recipient        string         `json:"recipient,omitempty"`
	SentAt           *time.Time     `json:"sent_at,omitempty"`
	AckAt            *time.Time     `json:"ack_at,omitempty"`
	AckNote          string         `json:"ack_note,omitempty"`
	Decision         string         `json:"decision,omitempty"`
	DecisionDate     *casework.Date `json:"decision_date,omitempty"`
	DecisionText     string         `json:"decision_text,omitempty"`
	ClosedAt         *time.Time     `json:"closed_at,omitempty"`
	CloseNote        string         `json:"close_note,omitempty"`
	Actions          []string       `json:"actions,omitempty"`
}

func toCaseJSON(c *store.SeriousCase) caseJSON {
	j := caseJSON{ID: c.ID, PersonID: c.PersonID, PersonName: c.PersonName, MeasureID: c.MeasureID, OrgID: c.OrgID, OrgName: c.OrgName,
		Trigger: string(c.Trigger), TriggerKey: c.TriggerKey, Statutory: c.Statutory, Counts: c.Counts, PolicyRef: c.PolicyRef, State: string(c.State), OpenedOn: c.OpenedOn,
		ReportDocumentID: c.ReportDocumentID, Recipient: c.Recipient, SentAt: timePtr(c.SentAt), AckAt: timePtr(c.AckAt), AckNote: c.AckNote,
		Decision: string(c.Decision), DecisionText: c.DecisionText, ClosedAt: timePtr(c.ClosedAt), CloseNote: c.CloseNote}
	if !c.DecisionDate.IsZero() {
		d := c.DecisionDate
		j.DecisionDate = &d
	}
	for _, x := range c.Actions {
		j.Actions = append(j.Actions, string(x))
	}
	return j
}

func (a *API) listCases(w http.ResponseWriter, r *http.Request, q *req) error {
	qv := r.URL.Query()
	f := store.CaseFilter{State: casework.CaseState(qv.Get("state")), Open: qv.Get("open") == "true", OrgID: qv.Get("org_id"),
		PersonID: qv.Get("person_id")}
	var err error
	if f.Offset, f.Limit, err = paging(r); err != nil {
		return err
	}
	cs, total, err := a.DB.ListSeriousCases(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	out := list[caseJSON]{Items: []caseJSON{}, Total: total}
	for _, c := range cs {
		out.Items = append(out.Items, toCaseJSON(c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getCase(w http.ResponseWriter, r *http.Request, q *req) error {
	c, err := a.DB.GetSeriousCase(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCaseJSON(c))
	return nil
}

type caseStepRequest struct {
	Action       string        `json:"action"`
	Recipient    string        `json:"recipient"`
	SentAt       string        `json:"sent_at"`
	Decision     string        `json:"decision"`
	DecisionDate casework.Date `json:"decision_date"`
	Text         string        `json:"text"`
}

func (in caseStepRequest) step(a casework.CaseAction) casework.CaseStep {
	return casework.CaseStep{Action: a, Recipient: in.Recipient, SentAt: in.SentAt, Decision: casework.PoliceDecision(in.Decision),
		DecisionDate: in.DecisionDate, Text: in.Text}
}

func (a *API) reportCase(w http.ResponseWriter, r *http.Request, q *req) error {
	var in caseStepRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := a.docs().ReportCase(r.Context(), q.Actor, r.PathValue("id"), in.step(casework.CaseReport))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCaseJSON(c))
	return nil
}

func (a *API) policeCase(w http.ResponseWriter, r *http.Request, q *req) error {
	var in caseStepRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	act := casework.CaseAction(in.Action)
	if act != casework.CaseAcknowledge && act != casework.CaseDecide {
		return casework.Invalid("action", "action 须为 acknowledge 或 decide", "action must be acknowledge or decide")
	}
	c, err := a.DB.StepSeriousCase(r.Context(), q.Actor, r.PathValue("id"), in.step(act), nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCaseJSON(c))
	return nil
}

func (a *API) closeCase(w http.ResponseWriter, r *http.Request, q *req) error {
	var in caseStepRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := a.DB.StepSeriousCase(r.Context(), q.Actor, r.PathValue("id"), in.step(casework.CaseClose), nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCaseJSON(c))
	return nil
}
