package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// personRoutes are the person file's pages: the list, the new-file form,
// the file itself with its forms, transfers and corrections.
func (c *Console) personRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermReadPersons}
	readP := httpx.Access{Perm: casework.PermReadPersons, Target: "person"}
	write := httpx.Access{Perm: casework.PermWritePersons}
	writeP := httpx.Access{Perm: casework.PermWritePersons, Target: "person"}
	return []httpx.Route{
		rt("GET", "/persons", read, c.personList, "person list"),
		rt("GET", "/persons/new", write, c.personNew, "new person form"),
		rt("POST", "/persons", write, c.personCreate, "open a person file"),
		rt("GET", "/persons/{id}", readP, c.personView, "a person file"),
		rt("POST", "/persons/{id}", writeP, c.personUpdate, "edit a person file"),
		rt("POST", "/persons/{id}/reveal", httpx.Access{Perm: casework.PermSensitive, Target: "person"}, c.personReveal, "reveal a masked value"),
		rt("POST", "/persons/{id}/measures", writeP, c.measureAdd, "start a new measure"),
		rt("POST", "/persons/{id}/measure", writeP, c.measureUpdate, "record the agreement or change the worker"),
		rt("POST", "/persons/{id}/transitions", writeP, c.personTransition, "change the status"),
		rt("POST", "/persons/{id}/group", writeP, c.groupAdd, "add a working-group member"),
		rt("POST", "/persons/{id}/special", writeP, c.specialSave, "record pregnancy, nursing (R17)"),
		rt("POST", "/persons/{id}/group/remove/{member}", httpx.Access{Perm: casework.PermWritePersons, Target: "group_member_form"},
			c.groupRemove, "remove a working-group member"),
		rt("POST", "/persons/{id}/transfers", httpx.Access{Perm: casework.PermTransfer, Target: "person"}, c.transferStart, "start a transfer"),
		rt("GET", "/transfers", read, c.transferList, "incoming and outgoing transfers"),
		rt("POST", "/transfers/{id}/decision", httpx.Access{Perm: casework.PermTransfer, Target: "incoming_transfer"}, c.transferDecide,
			"accept or refuse a transfer"),
		rt("POST", "/transfers/{id}/cancel", httpx.Access{Perm: casework.PermTransfer, Target: "outgoing_transfer"}, c.transferCancel,
			"withdraw a transfer"),
		rt("POST", "/persons/{id}/corrections", httpx.Access{Perm: casework.PermWritePersons, Target: "archived_person"}, c.correctionRequest,
			"request a correction of an archived file"),
		rt("POST", "/corrections/{id}/decision", httpx.Access{Perm: casework.PermApproveCorrect, Target: "correction"}, c.correctionDecide,
			"approve or reject a correction"),
	}
}

// today is the calendar date in the default zone (Asia/Shanghai), for
// overdue days and list filters; the store counts in each org's own zone.
func (c *Console) today() casework.Date {
	return casework.DateOf(c.DB.Now(), casework.LoadLocation(""))
}

// choice is one option of a select.
type choice struct {
	Value, Label string
	Selected     bool
}

func statusChoices(lang, selected string) []choice {
	var out []choice
	for _, s := range casework.Statuses {
		out = append(out, choice{Value: string(s), Label: s.Label(lang), Selected: string(s) == selected})
	}
	return out
}

func kindChoices(lang, selected string) []choice {
	var out []choice
	for _, k := range casework.MeasureKinds {
		out = append(out, choice{Value: string(k), Label: k.Label(lang), Selected: string(k) == selected})
	}
	return out
}

type personListRow struct {
	Special []string // R17 flags today
	P       *casework.Person
	Overdue int
}

type personListForm struct {
	Q, Status, Kind, OrgID, WorkerID, Sort, Tier string
	Mine, Deadline, IncludeEnded                 bool
}

type personListData struct {
	Rows      []personListRow
	Total     int
	F         personListForm
	Statuses  []choice
	Kinds     []choice
	Sorts     []choice
	Tiers     []tierCount // nil: the actor sees no tier (R31)
	Orgs      []choice
	PrevURL   string
	NextURL   string
	ExportURL string // the list as .xlsx, same filters
	CanImport bool
	CanCreate bool
	// SearchedFor is the masked ID number or phone searched for; the search
	// box is then left empty.
	SearchedFor string
}

// sensitiveQuery reports whether a search is by ID number or phone number,
// the values a page must not show unmasked.
func sensitiveQuery(q string, now time.Time) bool {
	if _, err := casework.ParseIDNumber(q, now); err == nil {
		return true
	}
	digits := casework.NormalizePhone(q)
	return len(digits) >= 7 && strings.Trim(digits, "+0123456789") == ""
}

func maskQuery(q string) string {
	if len(strings.TrimSpace(q)) == 18 {
		return casework.MaskID(q)
	}
	return casework.MaskPhone(casework.NormalizePhone(q))
}

// tierCount is one tier's count on the person list, linking to the list
// filtered by it.
type tierCount struct {
	Tier, Label, URL, Colour string
	Count                    int
	Selected                 bool
}

func tierColour(t string) string {
	if t == "none" {
		return "grey"
	}
	return casework.Tier(t).Colour()
}

// personDeadlineDays is the "deadline soon" window of the list filter.
const personDeadlineDays = 7

func (c *Console) personList(w http.ResponseWriter, r *http.Request, q *req) error {
	qs := r.URL.Query()
	fm := personListForm{Q: strings.TrimSpace(qs.Get("q")), Status: qs.Get("status"), Kind: qs.Get("kind"), OrgID: qs.Get("org_id"),
		WorkerID: qs.Get("worker_id"), Sort: qs.Get("sort"), Mine: qs.Get("mine") == "1", Deadline: qs.Get("deadline") == "1",
		IncludeEnded: qs.Get("include_ended") == "1", Tier: qs.Get("tier")}
	off, _ := strconv.Atoi(qs.Get("offset"))
	today := c.today()
	if !store.ValidListTier(fm.Tier) || !q.Actor.CanAnywhere(casework.PermRiskView) {
		fm.Tier = ""
	}
	f := store.PersonFilter{Query: fm.Q, Kind: casework.MeasureKind(fm.Kind), OrgID: fm.OrgID, WorkerID: fm.WorkerID,
		IncludeEnded: fm.IncludeEnded, Today: today, Sort: fm.Sort, Tier: fm.Tier, Offset: max(off, 0), Limit: pageSize}
	if st := casework.Status(fm.Status); st.Valid() {
		f.Status = []casework.Status{st}
	}
	if f.Kind != "" && !f.Kind.Valid() {
		f.Kind = ""
	}
	if fm.Mine {
		f.WorkerID = q.Actor.UserID
	}
	if fm.Deadline {
		f.DeadlineDays = personDeadlineDays
	}
	persons, total, err := c.DB.ListPersons(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	orgs, err := c.DB.ListOrgs(r.Context(), q.Actor, store.OrgFilter{})
	if err != nil {
		return err
	}
	counts, err := c.DB.CountPersonsByTier(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	d := personListData{Total: total, F: fm, Statuses: statusChoices(q.Lang, fm.Status), Kinds: kindChoices(q.Lang, fm.Kind),
		CanCreate: q.Actor.CanAnywhere(casework.PermWritePersons)}
	d.Sorts = []choice{{Value: "name", Label: i18n.T(q.Lang, "persons.sort_name")}, {Value: "deadline", Label: i18n.T(q.Lang, "persons.sort_deadline")},
		{Value: "updated", Label: i18n.T(q.Lang, "persons.sort_updated")}}
	for i := range d.Sorts {
		d.Sorts[i].Selected = d.Sorts[i].Value == fm.Sort
	}
	for _, o := range orgs {
		d.Orgs = append(d.Orgs, choice{Value: o.ID, Label: o.Name, Selected: o.ID == fm.OrgID})
	}
	for _, p := range persons {
		d.Rows = append(d.Rows, personListRow{P: p, Overdue: casework.OverdueDays(p.Status, p.ReportDeadline, today),
			Special: p.SpecialOn(today).Labels(q.Lang)})
	}
	// A search by ID number or phone is not echoed into the page (R36): the
	// box stays empty, a note shows the masked value, and the few matches
	// need no pager links (which would carry the value).
	if sensitiveQuery(fm.Q, c.DB.Now()) {
		d.SearchedFor, d.F.Q = maskQuery(fm.Q), ""
	}
	if counts != nil && d.SearchedFor == "" {
		// R31: the list counted by confirmed tier; each count links to the
		// list filtered by it (the same other filters).
		for _, t := range []string{"high", "medium", "low", "none"} {
			v := url.Values{}
			for k, val := range qs {
				if k != "offset" && k != "tier" && len(val) > 0 && val[0] != "" {
					v.Set(k, val[0])
				}
			}
			v.Set("tier", t)
			d.Tiers = append(d.Tiers, tierCount{Tier: t, Label: i18n.T(q.Lang, "persons.tier."+t), Count: counts[t], Colour: tierColour(t),
				URL: "/persons?" + v.Encode(), Selected: t == fm.Tier})
		}
	}
	page := func(offset int) string {
		v := url.Values{}
		for k, val := range qs {
			if k != "offset" && len(val) > 0 && val[0] != "" {
				v.Set(k, val[0])
			}
		}
		v.Set("offset", strconv.Itoa(offset))
		return "/persons?" + v.Encode()
	}
	if d.SearchedFor == "" { // an ID or phone search is not carried into a link either
		d.ExportURL = strings.Replace(page(0), "/persons?", "/persons/export.xlsx?", 1)
	}
	d.CanImport = q.Actor.CanAnywhere(casework.PermImport)
	if f.Offset+pageSize < total && d.SearchedFor == "" {
		d.NextURL = page(f.Offset + pageSize)
	}
	if f.Offset > 0 && d.SearchedFor == "" {
		d.PrevURL = page(max(f.Offset-pageSize, 0))
	}
	c.render(w, r, q, http.StatusOK, "persons", d)
	return nil
}

// personForm is the new-file form as typed, for re-display.
type personForm struct {
	OrgID, Name, IDNumber, Sex, BirthDate, Phone, Ethnicity, Education, MaritalStatus, Employment string
	HouseholdAddr, ResidenceAddr, HealthNotes, WorkerID                                           string
	Contact1Name, Contact1Relation, Contact1Phone, Contact2Name, Contact2Relation, Contact2Phone  string
	Substances, FirstUseDate, FirstRegistered, PriorMeasures, DrugNotes                           string
	Kind, DecisionNumber, DecisionAuthority, DecisionDate, ReceivedDate, ReportDate               string
	AgreementDate, TermMonths                                                                     string
}

type personNewData struct {
	F       personForm
	Workers []choice
	Orgs    []choice
	Kinds   []choice
	Err     *formError // every problem, each beside its field
}

func (c *Console) personNewPage(w http.ResponseWriter, r *http.Request, q *req, d personNewData, status int) error {
	orgs, err := c.DB.ListOrgs(r.Context(), q.Actor, store.OrgFilter{})
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if q.Actor.Can(casework.PermWritePersons, o.Path) {
			d.Orgs = append(d.Orgs, choice{Value: o.ID, Label: o.Name + " (" + i18n.T(q.Lang, "kind."+string(o.Kind)) + ")", Selected: o.ID == d.F.OrgID})
		}
	}
	d.Kinds = kindChoices(q.Lang, d.F.Kind)
	seen := map[string]bool{}
	for _, g := range q.Actor.Grants {
		if casework.RoleHas(g.Role, casework.PermWritePersons) {
			for _, ch := range c.staffChoices(r, q, g.OrgID, d.F.WorkerID) {
				if !seen[ch.Value] {
					seen[ch.Value] = true
					d.Workers = append(d.Workers, ch)
				}
			}
		}
	}
	c.render(w, r, q, status, "person_new", d)
	return nil
}

func (c *Console) personNew(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.personNewPage(w, r, q, personNewData{F: personForm{OrgID: r.URL.Query().Get("org"), Kind: string(casework.MeasureTreatment)}}, http.StatusOK)
}

func readPersonForm(r *http.Request) personForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return personForm{OrgID: v("org_id"), Name: v("name"), IDNumber: v("id_number"), Sex: v("sex"), BirthDate: v("birth_date"), Phone: v("phone"),
		Ethnicity: v("ethnicity"), Education: v("education"), MaritalStatus: v("marital_status"), Employment: v("employment"),
		HouseholdAddr: v("household_addr"), ResidenceAddr: v("residence_addr"), HealthNotes: v("health_notes"), WorkerID: v("worker_id"),
		Contact1Name: v("contact1_name"), Contact1Relation: v("contact1_relation"), Contact1Phone: v("contact1_phone"),
		Contact2Name: v("contact2_name"), Contact2Relation: v("contact2_relation"), Contact2Phone: v("contact2_phone"),
		Substances: v("substances"), FirstUseDate: v("first_use_date"), FirstRegistered: v("first_registered"), PriorMeasures: v("prior_measures"),
		DrugNotes: v("drug_notes"), Kind: v("kind"), DecisionNumber: v("decision_number"), DecisionAuthority: v("decision_authority"),
		DecisionDate: v("decision_date"), ReceivedDate: v("received_date"), ReportDate: v("report_date"), AgreementDate: v("agreement_date"),
		TermMonths: v("term_months")}
}

// inputs turns the form into the domain inputs; the measure is nil when no
// kind is chosen.
func (f personForm) inputs() (casework.PersonInput, *casework.MeasureInput, error) {
	in := casework.PersonInput{OrgID: f.OrgID, Name: f.Name, IDNumber: f.IDNumber, Sex: f.Sex, Phone: f.Phone, Ethnicity: f.Ethnicity,
		Education: f.Education, MaritalStatus: f.MaritalStatus, Employment: f.Employment, HouseholdAddr: f.HouseholdAddr,
		ResidenceAddr: f.ResidenceAddr, HealthNotes: f.HealthNotes, WorkerID: f.WorkerID}
	// A bad date is reported with every other problem (issue 18 item 9).
	var errs casework.FieldErrors
	var err error
	in.BirthDate, err = casework.ParseDateField("birth_date", f.BirthDate)
	errs.Add(err)
	for _, ct := range [][3]string{{f.Contact1Name, f.Contact1Relation, f.Contact1Phone}, {f.Contact2Name, f.Contact2Relation, f.Contact2Phone}} {
		if ct[0] != "" || ct[1] != "" || ct[2] != "" {
			in.Contacts = append(in.Contacts, casework.Contact{Name: ct[0], Relation: ct[1], Phone: ct[2]})
		}
	}
	for _, s := range strings.FieldsFunc(f.Substances, func(r rune) bool { return r == ',' || r == '，' || r == '、' }) {
		if s = strings.TrimSpace(s); s != "" {
			in.DrugHistory.Substances = append(in.DrugHistory.Substances, s)
		}
	}
	in.DrugHistory.PriorMeasures, in.DrugHistory.Notes = f.PriorMeasures, f.DrugNotes
	in.DrugHistory.FirstUseDate, err = casework.ParseDateField("drug_history.first_use_date", f.FirstUseDate)
	errs.Add(err)
	in.DrugHistory.FirstRegistered, err = casework.ParseDateField("drug_history.first_registered", f.FirstRegistered)
	errs.Add(err)
	if f.Kind == "" {
		return in, nil, errs.Err()
	}
	m, err := measureForm(f.Kind, f.DecisionNumber, f.DecisionAuthority, f.DecisionDate, f.ReceivedDate, f.ReportDate, f.AgreementDate, f.TermMonths)
	errs.Add(err)
	if len(errs) > 0 {
		// Also check the rest of the form, so the page lists every
		// problem; the store checks it all again.
		p := in
		if _, err := p.Validate(time.Now()); err != nil {
			for _, e := range fieldErrors(err) {
				if !errs.Has(e.Field) {
					errs = append(errs, e)
				}
			}
		}
		return in, nil, errs.Err()
	}
	m.PlaceOrgID, m.WorkerID = f.OrgID, f.WorkerID
	return in, &m, nil
}

// fieldErrors lists the problems an EINVALID error carries.
func fieldErrors(err error) casework.FieldErrors {
	var errs casework.FieldErrors
	errs.Add(err)
	return errs
}

// measureForm reads a measure's form fields, naming the field of any bad
// date or number.
func measureForm(kind, number, authority, decision, received, report, agreement, term string) (casework.MeasureInput, error) {
	m := casework.MeasureInput{Kind: casework.MeasureKind(kind), DecisionNumber: number, DecisionAuthority: authority}
	var errs casework.FieldErrors
	for _, d := range []struct {
		field, value string
		dst          *casework.Date
	}{{"decision_date", decision, &m.DecisionDate}, {"received_date", received, &m.ReceivedDate}, {"report_date", report, &m.ReportDate},
		{"agreement_date", agreement, &m.AgreementDate}} {
		v, err := casework.ParseDateField(d.field, d.value)
		errs.Add(err)
		*d.dst = v
	}
	if term = strings.TrimSpace(term); term != "" {
		n, err := strconv.Atoi(term)
		if err != nil {
			errs = append(errs, casework.Invalid("term_months", "期限应为月数（整数），如 24", "the term must be a whole number of months, e.g. 24"))
		}
		m.TermMonths = n
	}
	return m, errs.Err()
}

func (c *Console) personCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	f := readPersonForm(r)
	in, m, err := f.inputs()
	var p *casework.Person
	if err == nil {
		p, err = c.DB.CreatePerson(r.Context(), q.Actor, in, m)
	}
	if fe, ok := toFormError(err, q.Lang); ok {
		fe.rename("place_org_id", "org_id")
		fe.rename("drug_history.first_use_date", "first_use_date")
		fe.rename("drug_history.first_registered", "first_registered")
		return c.personNewPage(w, r, q, personNewData{F: f, Err: fe}, http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/persons/"+p.ID, "person_created")
}

// staffChoices lists the workers (and leads) who can be made responsible at
// an org, for a picker; selected marks the current one.
func (c *Console) staffChoices(r *http.Request, q *req, orgID, selected string) []choice {
	staff, err := c.DB.ListStaff(r.Context(), q.Actor, orgID, casework.RoleWorker, casework.RoleLead)
	if err != nil {
		return nil
	}
	out := make([]choice, 0, len(staff))
	seen := map[string]bool{}
	for _, s := range staff {
		if seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		out = append(out, choice{Value: s.ID, Label: s.Name + " · " + s.OrgName, Selected: s.ID == selected})
	}
	return out
}
