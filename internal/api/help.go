package api

import (
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Assistance, employment, help plans and prevention events (issue 11 §4–5,
// §10) for integrations and the person's app; the same store calls as the
// console.
func (a *API) helpRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewHelp, Target: "person"}
	write := httpx.Access{Perm: casework.PermWriteHelp, Target: "person"}
	aid := httpx.Access{Perm: casework.PermWriteHelp, Target: "assistance"}
	job := httpx.Access{Perm: casework.PermWriteHelp, Target: "employment"}
	lists := httpx.Access{Perm: casework.PermViewHelp}
	ev := httpx.Access{Perm: casework.PermViewEvents}
	return []httpx.Route{
		rt("GET", "/api/v1/persons/{id}/help", view, a.personHelp, "a person's employment (status derived today), help plan and assistance"),
		rt("PUT", "/api/v1/persons/{id}/help/plan", write, a.saveHelpPlan, "write the person's help plan"),
		rt("POST", "/api/v1/persons/{id}/help/reviews", write, a.reviewHelpPlan, "record a review of the help plan"),
		rt("POST", "/api/v1/persons/{id}/assistance", write, a.addAssistance, "record assistance (低保, relief, referral, methadone, training, housing, family)"),
		rt("PATCH", "/api/v1/assistance/{id}", aid, a.updateAssistance, "change an assistance record (author or lead)"),
		rt("POST", "/api/v1/assistance/{id}/police-report", aid, a.reportMethadone, "record that a methadone enrolment was reported to the police (R41)"),
		rt("POST", "/api/v1/persons/{id}/employment", write, a.addEmployment, "record a job or a work situation"),
		rt("PATCH", "/api/v1/employment/{id}", job, a.updateEmployment, "change an employment record (author or lead)"),
		rt("GET", "/api/v1/employment", lists, a.employmentOverview, "employment on a day in a subtree, with the employment rate"),
		rt("GET", "/api/v1/assistance", lists, a.listAssistance, "assistance in the caller's area"),
		rt("GET", "/api/v1/events", ev, a.listEvents, "prevention events with counts, per org subtree and period"),
		rt("POST", "/api/v1/events", httpx.Access{Perm: casework.PermWriteEvents}, a.addEvent, "record a prevention event"),
		rt("GET", "/api/v1/events/{id}", httpx.Access{Perm: casework.PermViewEvents, Target: "event"}, a.getEvent, "a prevention event"),
		a.appRoute("GET", "/api/v1/app/help-plan", AppDevice, a.appHelpPlan, "app: my help plan — goals and review dates"),
	}
}

type aidJSON struct {
	ID               string        `json:"id"`
	PersonID         string        `json:"person_id"`
	PersonName       string        `json:"person_name"`
	Kind             string        `json:"kind"`
	Status           string        `json:"status"`
	AppliedOn        casework.Date `json:"applied_on"`
	DecidedOn        casework.Date `json:"decided_on,omitzero"`
	EndedOn          casework.Date `json:"ended_on,omitzero"`
	Provider         string        `json:"provider"`
	AmountFen        *int64        `json:"amount_fen,omitempty"` // absent for readers who do not see amounts (police)
	Outcome          *string       `json:"outcome,omitempty"`
	Note             *string       `json:"note,omitempty"`
	PoliceReportedOn casework.Date `json:"police_reported_on,omitzero"`
	PoliceReportedTo string        `json:"police_reported_to,omitempty"`
	NeedsPolice      bool          `json:"needs_police_report"`
	CreatedByName    string        `json:"created_by_name"`
	CreatedAt        time.Time     `json:"created_at"`
}

func toAidJSON(x *store.Assistance) aidJSON {
	j := aidJSON{ID: x.ID, PersonID: x.PersonID, PersonName: x.PersonName, Kind: string(x.Kind), Status: string(x.Status), AppliedOn: x.AppliedOn,
		DecidedOn: x.DecidedOn, EndedOn: x.EndedOn, Provider: x.Provider, PoliceReportedOn: x.PoliceReportedOn, PoliceReportedTo: x.PoliceReportedTo,
		NeedsPolice: x.NeedsPoliceReport(), CreatedByName: x.CreatedByName, CreatedAt: x.CreatedAt}
	if !x.Hidden {
		j.AmountFen, j.Outcome, j.Note = &x.AmountFen, &x.Outcome, &x.Note
	}
	return j
}

type workJSON struct {
	ID       string        `json:"id"`
	Kind     string        `json:"kind"`
	Employer string        `json:"employer,omitempty"`
	Job      string        `json:"job,omitempty"`
	From     casework.Date `json:"from"`
	To       casework.Date `json:"to,omitzero"`
	FoundBy  string        `json:"found_by,omitempty"`
	Note     string        `json:"note,omitempty"`
}

func toWorkJSON(e *store.Employment) workJSON {
	return workJSON{ID: e.ID, Kind: string(e.Kind), Employer: e.Employer, Job: e.Job, From: e.From, To: e.To, FoundBy: e.FoundBy, Note: e.Note}
}

type reviewJSON struct {
	ReviewedOn casework.Date `json:"reviewed_on"`
	Note       string        `json:"note"`
	NextReview casework.Date `json:"next_review"`
}

type planJSON struct {
	Needs      string              `json:"needs"`
	Goals      []casework.HelpGoal `json:"goals"`
	StartOn    casework.Date       `json:"start_on"`
	NextReview casework.Date       `json:"next_review"`
	ReviewedOn casework.Date       `json:"reviewed_on,omitzero"`
	DocumentID string              `json:"document_id,omitempty"`
	Reviews    []reviewJSON        `json:"reviews"`
}

func toPlanJSON(p *store.HelpPlan) *planJSON {
	if p == nil {
		return nil
	}
	j := &planJSON{Needs: p.Needs, Goals: p.Goals, StartOn: p.StartOn, NextReview: p.NextReview, ReviewedOn: p.ReviewedOn,
		DocumentID: p.DocumentID, Reviews: []reviewJSON{}}
	for _, r := range p.Reviews {
		j.Reviews = append(j.Reviews, reviewJSON{ReviewedOn: r.ReviewedOn, Note: r.Note, NextReview: r.NextReview})
	}
	return j
}

func (a *API) personHelp(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx, pid := r.Context(), r.PathValue("id")
	pe, err := a.DB.ListEmployment(ctx, q.Actor, pid)
	if err != nil {
		return err
	}
	aids, err := a.DB.ListAssistance(ctx, q.Actor, pid)
	if err != nil {
		return err
	}
	plan, err := a.DB.GetHelpPlan(ctx, q.Actor, pid)
	if err != nil && !casework.IsCode(err, casework.ENOTFOUND) {
		return err
	}
	jobs := []workJSON{}
	for i := range pe.Records {
		jobs = append(jobs, toWorkJSON(&pe.Records[i]))
	}
	out := []aidJSON{}
	for i := range aids {
		out = append(out, toAidJSON(&aids[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"employment": map[string]any{"on": pe.Today, "status": pe.Status, "records": jobs},
		"plan":       toPlanJSON(plan), "assistance": out})
	return nil
}

type planRequest struct {
	Needs      string              `json:"needs"`
	Goals      []casework.HelpGoal `json:"goals"`
	StartOn    casework.Date       `json:"start_on"`
	NextReview casework.Date       `json:"next_review"`
	Reason     string              `json:"reason"` // required to change an existing plan
}

func (a *API) saveHelpPlan(w http.ResponseWriter, r *http.Request, q *req) error {
	var in planRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.DB.SaveHelpPlan(r.Context(), q.Actor, r.PathValue("id"), casework.HelpPlanInput{Needs: in.Needs, Goals: in.Goals,
		StartOn: in.StartOn, NextReview: in.NextReview}, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPlanJSON(p))
	return nil
}

func (a *API) reviewHelpPlan(w http.ResponseWriter, r *http.Request, q *req) error {
	var in reviewJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.DB.ReviewHelpPlan(r.Context(), q.Actor, r.PathValue("id"), in.ReviewedOn, in.Note, in.NextReview)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toPlanJSON(p))
	return nil
}

type aidRequest struct {
	Kind      string        `json:"kind"`
	Status    string        `json:"status"`
	AppliedOn casework.Date `json:"applied_on"`
	DecidedOn casework.Date `json:"decided_on"`
	EndedOn   casework.Date `json:"ended_on"`
	AmountFen int64         `json:"amount_fen"`
	Provider  string        `json:"provider"`
	Outcome   string        `json:"outcome"`
	Note      string        `json:"note"`
	Reason    string        `json:"reason"` // required for a change
}

func (in aidRequest) input() casework.AssistanceInput {
	return casework.AssistanceInput{Kind: casework.AssistanceKind(in.Kind), Status: casework.AssistanceStatus(in.Status), AppliedOn: in.AppliedOn,
		DecidedOn: in.DecidedOn, EndedOn: in.EndedOn, AmountFen: in.AmountFen, Provider: in.Provider, Outcome: in.Outcome, Note: in.Note}
}

func (a *API) addAssistance(w http.ResponseWriter, r *http.Request, q *req) error {
	var in aidRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	x, err := a.DB.AddAssistance(r.Context(), q.Actor, r.PathValue("id"), in.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toAidJSON(x))
	return nil
}

func (a *API) updateAssistance(w http.ResponseWriter, r *http.Request, q *req) error {
	var in aidRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	x, err := a.DB.UpdateAssistance(r.Context(), q.Actor, r.PathValue("id"), in.input(), in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAidJSON(x))
	return nil
}

func (a *API) reportMethadone(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		ReportedOn casework.Date `json:"reported_on"`
		ReportedTo string        `json:"reported_to"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	x, err := a.DB.ReportMethadone(r.Context(), q.Actor, r.PathValue("id"), in.ReportedOn, in.ReportedTo)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAidJSON(x))
	return nil
}

type workRequest struct {
	Kind     string        `json:"kind"`
	Employer string        `json:"employer"`
	Job      string        `json:"job"`
	From     casework.Date `json:"from"`
	To       casework.Date `json:"to"`
	FoundBy  string        `json:"found_by"`
	Note     string        `json:"note"`
	Reason   string        `json:"reason"` // required for a change
}

func (in workRequest) input() casework.EmploymentInput {
	return casework.EmploymentInput{EmploymentRecord: casework.EmploymentRecord{Kind: casework.EmploymentStatus(in.Kind), Employer: in.Employer,
		Job: in.Job, From: in.From, To: in.To, FoundBy: in.FoundBy}, Note: in.Note}
}

func (a *API) addEmployment(w http.ResponseWriter, r *http.Request, q *req) error {
	var in workRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := a.DB.AddEmployment(r.Context(), q.Actor, r.PathValue("id"), in.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toWorkJSON(e))
	return nil
}

func (a *API) updateEmployment(w http.ResponseWriter, r *http.Request, q *req) error {
	var in workRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := a.DB.UpdateEmployment(r.Context(), q.Actor, r.PathValue("id"), in.input(), in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toWorkJSON(e))
	return nil
}

// queryDate reads an optional date from the query string.
func queryDate(r *http.Request, name string) (casework.Date, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return casework.Date{}, nil
	}
	return casework.ParseDateField(name, s)
}

func (a *API) employmentOverview(w http.ResponseWriter, r *http.Request, q *req) error {
	on, err := queryDate(r, "on")
	if err != nil {
		return err
	}
	if on.IsZero() {
		on = casework.DateOf(a.DB.Now(), nil)
	}
	s, err := a.DB.EmploymentOverview(r.Context(), q.Actor, r.URL.Query().Get("org"), on)
	if err != nil {
		return err
	}
	type row struct {
		PersonID   string        `json:"person_id"`
		PersonName string        `json:"person_name"`
		OrgName    string        `json:"org_name"`
		Status     string        `json:"status"`
		Employer   string        `json:"employer,omitempty"`
		Job        string        `json:"job,omitempty"`
		Since      casework.Date `json:"since,omitzero"`
		FoundBy    string        `json:"found_by,omitempty"`
	}
	rows := []row{}
	for _, x := range s.Rows {
		rows = append(rows, row{x.PersonID, x.PersonName, x.OrgName, string(x.Status), x.Employer, x.Job, x.Since, x.FoundBy})
	}
	counts := map[string]int{}
	for _, st := range casework.EmploymentStatuses {
		counts[string(st)] = s.Counts[st]
	}
	out := map[string]any{"on": on, "under_measure": s.Under, "can_work": s.CanWork, "employed": s.Employed, "counts": counts, "items": rows,
		"rate": nil}
	if rate, ok := s.Rate(); ok {
		out["rate"] = rate
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) listAssistance(w http.ResponseWriter, r *http.Request, q *req) error {
	v := r.URL.Query()
	list, err := a.DB.ListAssistanceAll(r.Context(), q.Actor, store.AssistanceFilter{OrgID: v.Get("org"),
		Kind: casework.AssistanceKind(v.Get("kind")), Status: casework.AssistanceStatus(v.Get("status"))})
	if err != nil {
		return err
	}
	out := list0[aidJSON](len(list))
	for i := range list {
		out.Items = append(out.Items, toAidJSON(&list[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func list0[T any](n int) list[T] { return list[T]{Items: []T{}, Total: n} }

type eventJSON struct {
	ID        string        `json:"id"`
	OrgID     string        `json:"org_id"`
	OrgName   string        `json:"org_name"`
	HeldOn    casework.Date `json:"held_on"`
	Place     string        `json:"place"`
	Topic     string        `json:"topic"`
	Kind      string        `json:"kind"`
	Audience  int           `json:"audience"`
	Materials int           `json:"materials"`
	Note      string        `json:"note,omitempty"`
	Photos    []string      `json:"photo_ids,omitempty"`
}

func toEventJSON(e *store.Event) eventJSON {
	j := eventJSON{ID: e.ID, OrgID: e.OrgID, OrgName: e.OrgName, HeldOn: e.HeldOn, Place: e.Place, Topic: e.Topic, Kind: string(e.Kind),
		Audience: e.Audience, Materials: e.Materials, Note: e.Note}
	for _, p := range e.Photos {
		j.Photos = append(j.Photos, p.ID)
	}
	return j
}

func (a *API) listEvents(w http.ResponseWriter, r *http.Request, q *req) error {
	f := store.EventFilter{OrgID: r.URL.Query().Get("org"), Kind: casework.EventKind(r.URL.Query().Get("kind"))}
	var err error
	if f.From, err = queryDate(r, "from"); err != nil {
		return err
	}
	if f.To, err = queryDate(r, "to"); err != nil {
		return err
	}
	events, err := a.DB.ListEvents(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	c, err := a.DB.CountEvents(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	items := []eventJSON{}
	for i := range events {
		items = append(items, toEventJSON(&events[i]))
	}
	byKind := map[string]int{}
	for _, k := range casework.EventKinds {
		byKind[string(k)] = c.ByKind[k]
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "total": c.Events, "audience": c.Audience, "materials": c.Materials, "by_kind": byKind})
	return nil
}

func (a *API) addEvent(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		OrgID     string        `json:"org_id"`
		HeldOn    casework.Date `json:"held_on"`
		Place     string        `json:"place"`
		Topic     string        `json:"topic"`
		Kind      string        `json:"kind"`
		Audience  int           `json:"audience"`
		Materials int           `json:"materials"`
		Note      string        `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := a.DB.AddEvent(r.Context(), q.Actor, casework.EventInput{OrgID: in.OrgID, HeldOn: in.HeldOn, Place: in.Place, Topic: in.Topic,
		Kind: casework.EventKind(in.Kind), Audience: in.Audience, Materials: in.Materials, Note: in.Note})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toEventJSON(e))
	return nil
}

func (a *API) getEvent(w http.ResponseWriter, r *http.Request, q *req) error {
	e, err := a.DB.GetEvent(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEventJSON(e))
	return nil
}

// appHelpPlan: the person's own plan — goals and review dates, with the
// goals' text (their own words) but none of the staff's review notes.
func (a *API) appHelpPlan(w http.ResponseWriter, r *http.Request, q *appReq) error {
	p, err := a.DB.AppHelpPlan(r.Context(), q.Device.PersonID)
	if casework.IsCode(err, casework.ENOTFOUND) {
		writeJSON(w, http.StatusOK, map[string]any{"plan": nil})
		return nil
	}
	if err != nil {
		return err
	}
	var reviews []casework.Date
	for _, rv := range p.Reviews {
		reviews = append(reviews, rv.ReviewedOn)
	}
	goals := p.Goals
	if goals == nil {
		goals = []casework.HelpGoal{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"plan": map[string]any{"start_on": p.StartOn, "next_review": p.NextReview,
		"goals": goals, "reviewed_on": reviews}})
	return nil
}
