package web

import (
	"net/http"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// A person's help (issue 11 §4): employment with the status derived today,
// the help plan with its reviews, and assistance records. Counsellors see
// none of it; police see it without amounts.
func (c *Console) helpRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewHelp, Target: "person"}
	write := httpx.Access{Perm: casework.PermWriteHelp, Target: "person"}
	aid := httpx.Access{Perm: casework.PermWriteHelp, Target: "assistance"}
	job := httpx.Access{Perm: casework.PermWriteHelp, Target: "employment"}
	lists := httpx.Access{Perm: casework.PermViewHelp}
	return []httpx.Route{
		rt("GET", "/persons/{id}/help", view, c.personHelp, "a person's help plan, assistance and employment"),
		rt("POST", "/persons/{id}/help/plan", write, c.helpPlanSave, "write the help plan"),
		rt("POST", "/persons/{id}/help/review", write, c.helpPlanReview, "record a review of the help plan"),
		rt("POST", "/persons/{id}/help/document", write, c.helpPlanDocument, "generate the help plan document"),
		rt("POST", "/persons/{id}/assistance", write, c.assistanceAdd, "record assistance"),
		rt("POST", "/assistance/{id}", aid, c.assistanceUpdate, "change an assistance record"),
		rt("POST", "/assistance/{id}/police-report", aid, c.assistanceReport, "record the police report of a methadone enrolment (R41)"),
		rt("POST", "/persons/{id}/employment", write, c.employmentAdd, "record a job or work situation"),
		rt("POST", "/employment/{id}", job, c.employmentUpdate, "change an employment record"),
		rt("GET", "/employment", lists, c.employmentList, "is everyone in work: employment on a day"),
		rt("GET", "/employment/export.xlsx", lists, c.employmentExport, "export the employment overview"),
		rt("GET", "/assistance", lists, c.assistanceList, "assistance in my area"),
		rt("GET", "/assistance/export.xlsx", lists, c.assistanceExport, "export the assistance list"),
	}
}

type aidRow struct {
	A           *store.Assistance
	Kind        string
	Status      string
	Amount      string
	AmountInput string   // the amount in yuan for the edit form
	Statuses    []choice // the moves allowed from here, and staying
	CanEdit     bool
}

type jobRow struct {
	E       *store.Employment
	Kind    string
	FoundBy string
	CanEdit bool
}

// revList is the edits of one record, for the page's "revs" template.
type revList struct {
	Lang  string
	Items []store.HelpRevision
}

type helpData struct {
	PersonID   string
	PersonName string
	Plan       *store.HelpPlan
	GoalRows   []casework.HelpGoal // the plan form: the goals and blank rows
	Aids       []aidRow
	Jobs       []jobRow
	Status     string
	Current    *store.Employment
	Today      string
	CanWrite   bool
	CanPlan    bool // may change the plan: author or lead, or no plan yet
	AidKinds   []choice
	JobKinds   []choice
	JobSources []choice
	Revisions  map[string]revList // by record id
	Form       map[string]string
	Err        *formError
	ErrForm    string
}

func (c *Console) helpPage(w http.ResponseWriter, r *http.Request, q *req, d helpData, status int) error {
	ctx := r.Context()
	pid := r.PathValue("id")
	p, err := c.DB.GetPerson(ctx, q.Actor, pid, "")
	if err != nil {
		return err
	}
	pe, err := c.DB.ListEmployment(ctx, q.Actor, pid)
	if err != nil {
		return err
	}
	aids, err := c.DB.ListAssistance(ctx, q.Actor, pid)
	if err != nil {
		return err
	}
	revs, err := c.DB.ListHelpRevisions(ctx, q.Actor, pid)
	if err != nil {
		return err
	}
	d.Revisions = map[string]revList{}
	for _, rv := range revs {
		l := d.Revisions[rv.RecordID]
		l.Lang, l.Items = q.Lang, append(l.Items, rv)
		d.Revisions[rv.RecordID] = l
	}
	d.PersonID, d.PersonName, d.Today = pid, p.Name, pe.Today.String()
	d.Status, d.Current = pe.Status.Label(q.Lang), pe.Current
	d.CanWrite = p.Access.Write && p.Access.Until.IsZero() && q.Actor.Can(casework.PermWriteHelp, p.OrgPath)
	lead := p.Access.Approve
	if d.Plan, err = c.DB.GetHelpPlan(ctx, q.Actor, pid); err != nil && !casework.IsCode(err, casework.ENOTFOUND) {
		return err
	}
	d.CanPlan = d.CanWrite && (d.Plan == nil || lead || d.Plan.CreatedBy == q.Actor.UserID)
	if d.Plan != nil {
		d.GoalRows = append(d.GoalRows, d.Plan.Goals...)
	}
	for n := max(len(d.GoalRows)+1, 3); len(d.GoalRows) < n; {
		d.GoalRows = append(d.GoalRows, casework.HelpGoal{})
	}
	for i := range aids {
		a := &aids[i]
		row := aidRow{A: a, Kind: a.Kind.Label(q.Lang), Status: a.Status.Label(q.Lang), CanEdit: d.CanWrite && (lead || a.CreatedBy == q.Actor.UserID)}
		if a.Kind == casework.AidMethadone && a.Status == casework.AidApproved {
			row.Status = i18n.T(q.Lang, "help.enrolled")
		}
		switch {
		case a.Hidden:
			row.Amount = "—"
		case a.AmountFen > 0:
			row.Amount, row.AmountInput = "¥"+exchange.Yuan(a.AmountFen), exchange.Yuan(a.AmountFen)
			if a.Kind.Monthly() {
				row.Amount += i18n.T(q.Lang, "help.per_month")
			}
		}
		for _, s := range casework.AssistanceStatuses {
			if s == a.Status || casework.NextAid(a.Status, s) {
				row.Statuses = append(row.Statuses, choice{Value: string(s), Label: s.Label(q.Lang), Selected: s == a.Status})
			}
		}
		d.Aids = append(d.Aids, row)
	}
	for i := range pe.Records {
		e := &pe.Records[i]
		row := jobRow{E: e, Kind: e.Kind.Label(q.Lang), CanEdit: d.CanWrite && (lead || e.CreatedBy == q.Actor.UserID)}
		if e.FoundBy != "" {
			row.FoundBy = casework.JobSourceLabel(e.FoundBy, q.Lang)
		}
		d.Jobs = append(d.Jobs, row)
	}
	if d.Form == nil {
		d.Form = map[string]string{}
	}
	for _, k := range casework.AssistanceKinds {
		d.AidKinds = append(d.AidKinds, choice{Value: string(k), Label: k.Label(q.Lang), Selected: string(k) == d.Form["kind"]})
	}
	for _, k := range []casework.EmploymentStatus{casework.WorkEmployed, casework.WorkUnable, casework.WorkSchool, casework.WorkRetired} {
		label := k.Label(q.Lang)
		if k == casework.WorkEmployed {
			label = i18n.T(q.Lang, "help.a_job")
		}
		d.JobKinds = append(d.JobKinds, choice{Value: string(k), Label: label, Selected: string(k) == d.Form["work"]})
	}
	for _, s := range casework.JobSources {
		d.JobSources = append(d.JobSources, choice{Value: s, Label: casework.JobSourceLabel(s, q.Lang), Selected: s == d.Form["found_by"]})
	}
	c.render(w, r, q, status, "help", d)
	return nil
}

func (c *Console) personHelp(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.helpPage(w, r, q, helpData{}, http.StatusOK)
}

// helpFailed re-renders the page with a form's error, or returns err.
func (c *Console) helpFailed(w http.ResponseWriter, r *http.Request, q *req, form string, f map[string]string, err error) error {
	fe, ok := toFormError(err, q.Lang)
	if !ok {
		return err
	}
	return c.helpPage(w, r, q, helpData{Err: fe.sent(form, r), ErrForm: form, Form: f}, http.StatusUnprocessableEntity)
}

// formValues reads the named fields, trimmed.
func formValues(r *http.Request, names ...string) (map[string]string, error) {
	if err := r.ParseForm(); err != nil {
		return nil, casework.Invalid("form", "无法读取表单", "cannot read the form")
	}
	f := map[string]string{}
	for _, n := range names {
		f[n] = strings.TrimSpace(r.PostFormValue(n))
	}
	return f, nil
}

// optDate parses a date field that may be blank.
func optDate(field, v string) (casework.Date, error) {
	if v == "" {
		return casework.Date{}, nil
	}
	return casework.ParseDateField(field, v)
}

func (c *Console) helpPlanSave(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, "needs", "next_review", "start_on", "reason")
	if err != nil {
		return err
	}
	in := casework.HelpPlanInput{Needs: f["needs"]}
	goals, actions, dues, owners := r.PostForm["goal"], r.PostForm["actions"], r.PostForm["due"], r.PostForm["owner"]
	for i := range goals {
		g := casework.HelpGoal{Goal: goals[i]}
		if i < len(actions) {
			g.Actions = actions[i]
		}
		if i < len(owners) {
			g.Owner = owners[i]
		}
		if i < len(dues) && strings.TrimSpace(dues[i]) != "" {
			if g.Due, err = casework.ParseDateField("goals", strings.TrimSpace(dues[i])); err != nil {
				return c.helpFailed(w, r, q, "plan", f, err)
			}
		}
		in.Goals = append(in.Goals, g)
	}
	if in.NextReview, err = optDate("next_review", f["next_review"]); err == nil {
		in.StartOn, err = optDate("start_on", f["start_on"])
	}
	if err == nil {
		_, err = c.DB.SaveHelpPlan(r.Context(), q.Actor, r.PathValue("id"), in, f["reason"])
	}
	if err != nil {
		return c.helpFailed(w, r, q, "plan", f, err)
	}
	return redirect(w, r, "/persons/"+r.PathValue("id")+"/help#plan", "help_plan_saved")
}

func (c *Console) helpPlanReview(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, "reviewed_on", "note", "next_review")
	if err != nil {
		return err
	}
	var parse casework.FieldErrors
	on, err := optDate("reviewed_on", f["reviewed_on"])
	parse.Add(err)
	next, err := optDate("next_review", f["next_review"])
	parse.Add(err)
	err = parse.Err()
	if err == nil {
		_, err = c.DB.ReviewHelpPlan(r.Context(), q.Actor, r.PathValue("id"), on, f["note"], next)
	}
	if err != nil {
		return c.helpFailed(w, r, q, "review", f, err)
	}
	return redirect(w, r, "/persons/"+r.PathValue("id")+"/help#plan", "help_reviewed")
}

// helpPlanDocument generates the plan as a document in the file.
func (c *Console) helpPlanDocument(w http.ResponseWriter, r *http.Request, q *req) error {
	pid := r.PathValue("id")
	doc, err := c.docs().Generate(r.Context(), q.Actor, pid, "help_plan")
	if err == nil {
		err = c.DB.SetHelpPlanDocument(r.Context(), q.Actor, pid, doc.ID)
	}
	if err != nil {
		return c.helpFailed(w, r, q, "plan", nil, err)
	}
	return redirect(w, r, "/persons/"+pid+"/documents", "help_document")
}

var aidFields = []string{"kind", "status", "applied_on", "decided_on", "ended_on", "amount", "provider", "outcome", "note", "reason"}

// aidInput reads the assistance form; a bad date or amount is reported
// with the rest of the form's problems (issue 18 item 9).
func aidInput(f map[string]string, today casework.Date) (casework.AssistanceInput, error) {
	in := casework.AssistanceInput{Kind: casework.AssistanceKind(f["kind"]), Status: casework.AssistanceStatus(f["status"]),
		Provider: f["provider"], Outcome: f["outcome"], Note: f["note"]}
	var parse casework.FieldErrors
	var err error
	in.AppliedOn, err = optDate("applied_on", f["applied_on"])
	parse.Add(err)
	in.DecidedOn, err = optDate("decided_on", f["decided_on"])
	parse.Add(err)
	in.EndedOn, err = optDate("ended_on", f["ended_on"])
	parse.Add(err)
	in.AmountFen, err = casework.ParseYuan("amount", f["amount"])
	parse.Add(err)
	return in, withChecks(parse, func() error { chk := in; return chk.Validate(today) })
}

func (c *Console) assistanceAdd(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, aidFields...)
	if err != nil {
		return err
	}
	in, err := aidInput(f, c.today())
	if err == nil {
		_, err = c.DB.AddAssistance(r.Context(), q.Actor, r.PathValue("id"), in)
	}
	if err != nil {
		return c.helpFailed(w, r, q, "aid", f, err)
	}
	return redirect(w, r, "/persons/"+r.PathValue("id")+"/help#assistance", "help_aid_saved")
}

// aidPerson finds the person of an assistance record, for the redirect and
// for re-rendering the page with an error.
func (c *Console) aidPerson(r *http.Request, q *req) (string, error) {
	a, err := c.DB.GetAssistance(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	r.SetPathValue("id", a.PersonID)
	return a.PersonID, nil
}

func (c *Console) assistanceUpdate(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, aidFields...)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	pid, err := c.aidPerson(r, q)
	if err != nil {
		return err
	}
	in, err := aidInput(f, c.today())
	if err == nil {
		_, err = c.DB.UpdateAssistance(r.Context(), q.Actor, id, in, f["reason"])
	}
	if err != nil {
		return c.helpFailed(w, r, q, "aid-"+id, f, err)
	}
	return redirect(w, r, "/persons/"+pid+"/help#assistance", "help_aid_saved")
}

func (c *Console) assistanceReport(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, "reported_on", "reported_to")
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	pid, err := c.aidPerson(r, q)
	if err != nil {
		return err
	}
	on, err := optDate("reported_on", f["reported_on"])
	if err == nil {
		_, err = c.DB.ReportMethadone(r.Context(), q.Actor, id, on, f["reported_to"])
	}
	if err != nil {
		return c.helpFailed(w, r, q, "report-"+id, f, err)
	}
	return redirect(w, r, "/persons/"+pid+"/help#assistance", "help_reported")
}

var jobFields = []string{"work", "employer", "job", "from", "to", "found_by", "note", "reason"}

// jobInput reads the employment form; a bad date is reported with the
// rest of the form's problems (issue 18 item 9).
func jobInput(f map[string]string, today casework.Date) (casework.EmploymentInput, error) {
	in := casework.EmploymentInput{EmploymentRecord: casework.EmploymentRecord{Kind: casework.EmploymentStatus(f["work"]), Employer: f["employer"],
		Job: f["job"], FoundBy: f["found_by"]}, Note: f["note"]}
	var parse casework.FieldErrors
	var err error
	in.From, err = optDate("from", f["from"])
	parse.Add(err)
	in.To, err = optDate("to", f["to"])
	parse.Add(err)
	return in, withChecks(parse, func() error { chk := in; return chk.Validate(today) })
}

func (c *Console) employmentAdd(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, jobFields...)
	if err != nil {
		return err
	}
	in, err := jobInput(f, c.today())
	if err == nil {
		_, err = c.DB.AddEmployment(r.Context(), q.Actor, r.PathValue("id"), in)
	}
	if err != nil {
		return c.helpFailed(w, r, q, "job", f, err)
	}
	return redirect(w, r, "/persons/"+r.PathValue("id")+"/help#employment", "help_job_saved")
}

func (c *Console) employmentUpdate(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, jobFields...)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	e, err := c.DB.GetEmployment(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	r.SetPathValue("id", e.PersonID)
	in, err := jobInput(f, c.today())
	if err == nil {
		_, err = c.DB.UpdateEmployment(r.Context(), q.Actor, id, in, f["reason"])
	}
	if err != nil {
		return c.helpFailed(w, r, q, "job-"+id, f, err)
	}
	return redirect(w, r, "/persons/"+e.PersonID+"/help#employment", "help_job_saved")
}

// helpEventValue names the codes the help events put on the timeline.
func helpEventValue(lang, key, v string) (string, bool) {
	switch key {
	case "aid":
		return casework.AssistanceKind(v).Label(lang), true
	case "aid_status", "aid_from":
		return casework.AssistanceStatus(v).Label(lang), true
	case "work":
		return casework.EmploymentStatus(v).Label(lang), true
	}
	return "", false
}
