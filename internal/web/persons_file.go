package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// timelinePage is how many timeline entries the file shows at a time.
const timelinePage = 20

type groupRow struct {
	ID, Role, Name, Note string
}

type kv struct{ K, V string }

type timelineRow struct {
	At    string
	Label string
	Data  []kv
}

type measureView struct {
	M       *store.Measure
	Kind    string
	Status  string
	Overdue int
	Events  []eventRow
}

type eventRow struct {
	Action, From, To, Effective, Reason, At string
}

type correctionRow struct {
	C         store.Correction
	State     string
	CanDecide bool
}

type revealed struct {
	Label, Value string
}

// fileData is everything the file page shows.
type fileData struct {
	rulesData
	P               *casework.Person
	Status          string
	Kind            string
	Overdue         int
	Current         *measureView
	History         []measureView
	Group           []groupRow
	GroupRoles      []choice
	Actions         []choice
	Timeline        []timelineRow
	TLTotal         int
	TLPrevURL       string
	TLNextURL       string
	Corrections     []correctionRow
	Pending         *store.Transfer // this file's transfer waiting for the receiving side
	TransferOrgs    []choice
	Kinds           []choice
	Revealed        *revealed
	Err             *formError
	ErrForm         string // which form Err belongs to
	Today           string
	CanWrite        bool // may edit: write access, not archived, not historical
	CanMeasure      bool // may start a new measure
	CanTransfer     bool
	CanReveal       bool
	CanCorrect      bool
	CanSetWorker    bool
	Archived        bool
	Historical      bool
	HistoricalUntil string
	Incoming        bool
	Workers         []choice           // for the change-of-worker picker
	ReleaseNotice   *releaseNoticeView // release_notice.go (R15)
	Psych           *filePsych
	BreakGlass      *fileBreakGlass // breakglass.go
}

func groupRoleLabel(lang, role string) string {
	key := "group.role." + role
	if _, ok := i18n.Keys(lang)[key]; ok {
		return i18n.T(lang, key)
	}
	return role
}

func groupRoleChoices(lang string) []choice {
	var out []choice
	for _, r := range append(slices.Clone(casework.WorkingGroupRoles), "other") {
		out = append(out, choice{Value: r, Label: groupRoleLabel(lang, r)})
	}
	return out
}

func (c *Console) filePage(w http.ResponseWriter, r *http.Request, q *req, personID string, d fileData, status int) error {
	ctx := r.Context()
	p, err := c.DB.GetPerson(ctx, q.Actor, personID, "")
	if err != nil {
		return err
	}
	if p.Access.Minimal { // a counsellor: the minimal profile, with no link that would be refused (psych.go)
		http.Redirect(w, r, "/persons/"+personID+"/psych", http.StatusSeeOther)
		return nil
	}
	d.Psych = c.filePsych(r, q, personID) // psych.go
	// Emergency accesses to the file (breakglass.go).
	if d.BreakGlass, err = c.fileBreakGlass(r, q, p); err != nil {
		return err
	}
	ms, err := c.DB.ListMeasures(ctx, q.Actor, personID)
	if err != nil {
		return err
	}
	tlOff, _ := strconv.Atoi(r.URL.Query().Get("tl"))
	tlOff = max(tlOff, 0)
	entries, tlTotal, err := c.DB.ListTimeline(ctx, q.Actor, personID, tlOff, timelinePage)
	if err != nil {
		return err
	}
	today := c.today()
	d.P, d.Today = p, today.String()
	d.Status, d.Kind = p.Status.Label(q.Lang), p.MeasureKind.Label(q.Lang)
	d.Overdue = casework.OverdueDays(p.Status, p.ReportDeadline, today)
	d.Archived = p.Status.Final()
	d.Historical = !p.Access.Until.IsZero()
	if d.Historical {
		d.HistoricalUntil = p.Access.Until.In(casework.LoadLocation("")).Format("2006-01-02 15:04")
	}
	d.Incoming = p.Access.Incoming
	d.CanWrite = p.Access.Write && !d.Historical && !d.Archived
	d.CanReveal = p.Access.Sensitive
	d.CanCorrect = d.Archived && (p.Access.Write || p.Access.Approve) && !d.Historical
	d.CanSetWorker = d.CanWrite && q.Actor.Can(casework.PermApproveCorrect, p.OrgPath)
	if d.CanSetWorker {
		d.Workers = c.staffChoices(r, q, p.OrgID, p.WorkerID)
	}
	d.GroupRoles = groupRoleChoices(q.Lang)
	d.Kinds = kindChoices(q.Lang, string(casework.MeasureTreatment))
	for _, m := range ms {
		mv := measureView{M: m, Kind: m.Kind.Label(q.Lang), Status: m.Status.Label(q.Lang)}
		if m.InForce {
			mv.Overdue = casework.OverdueDays(m.Status, m.ReportDeadline, today)
		}
		for _, e := range m.Events {
			mv.Events = append(mv.Events, eventRow{Action: e.Action.Label(q.Lang), From: e.From.Label(q.Lang), To: e.To.Label(q.Lang),
				Effective: e.EffectiveDate.String(), Reason: e.Reason, At: e.CreatedAt.In(casework.LoadLocation("")).Format("2006-01-02 15:04")})
		}
		d.History = append(d.History, mv)
		if m.InForce && d.Current == nil {
			cur := mv
			d.Current = &cur
			for _, g := range m.Group {
				d.Group = append(d.Group, groupRow{ID: g.ID, Role: groupRoleLabel(q.Lang, g.Role), Name: g.Name, Note: g.Note})
			}
		}
	}
	d.CanMeasure = p.Access.Write && !d.Historical && d.Current == nil
	d.ReleaseNotice = releaseNoticeFor(q, p, ms, today)
	if d.Current != nil && d.CanWrite {
		for _, a := range casework.AllowedActions(d.Current.M.Status) {
			// Release comes at the end of the term (R15; the daily job does it);
			// transfers go through their own form.
			early := a == casework.ActRelease && (d.Current.M.TermEnd.IsZero() || today.Before(d.Current.M.TermEnd))
			// 请假 and 销假 come from the leave workflow alone (R28).
			if a != casework.ActTransferIn && a != casework.ActTransferOut && !early && !a.LeaveOnly() {
				d.Actions = append(d.Actions, choice{Value: string(a), Label: a.Label(q.Lang)})
			}
		}
	}
	d.Timeline = timelineRows(q.Lang, entries)
	d.TLTotal = tlTotal
	if tlOff+timelinePage < tlTotal {
		d.TLNextURL = fmt.Sprintf("/persons/%s?tl=%d#timeline", personID, tlOff+timelinePage)
	}
	if tlOff > 0 {
		d.TLPrevURL = fmt.Sprintf("/persons/%s?tl=%d#timeline", personID, max(tlOff-timelinePage, 0))
	}
	if p.Access.Transfer && !d.Historical {
		if err := c.fileTransfers(r, q, p, &d); err != nil {
			return err
		}
	}
	if d.Archived {
		cs, err := c.DB.ListCorrections(ctx, q.Actor, personID)
		if err != nil {
			return err
		}
		for _, x := range cs {
			d.Corrections = append(d.Corrections, correctionRow{C: x, State: correctionState(q.Lang, x.State),
				CanDecide: x.State == "pending" && p.Access.Approve && x.RequestedBy != q.Actor.UserID})
		}
	}
	d.rulesData = fileRules(q.Lang, p, ms, today, d.CanWrite)
	c.render(w, r, q, status, "person", d)
	return nil
}

// correctionState names a correction's state.
func correctionState(lang, s string) string {
	switch s {
	case "approved":
		return i18n.T(lang, "correction.state_approved")
	case "rejected":
		return i18n.T(lang, "correction.state_rejected")
	}
	return i18n.T(lang, "correction.state_pending")
}

// fileTransfers finds the file's pending transfer and, when the reader may
// start one, the places it may go to: any township or community of the
// reader's tree (another subtree by its org id).
func (c *Console) fileTransfers(r *http.Request, q *req, p *casework.Person, d *fileData) error {
	for _, incoming := range []bool{false, true} {
		ts, err := c.DB.ListTransfers(r.Context(), q.Actor, "pending", incoming)
		if err != nil {
			return err
		}
		for i := range ts {
			if ts[i].PersonID == p.ID {
				d.Pending = &ts[i]
			}
		}
	}
	if d.Pending != nil || p.Access.Incoming || d.Current == nil ||
		(d.Current.M.Status != casework.StatusExecuting && d.Current.M.Status != casework.StatusPendingReport) {
		return nil
	}
	orgs, err := c.DB.ListOrgs(r.Context(), q.Actor, store.OrgFilter{})
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if o.ID != p.OrgID && o.Kind.Level() >= casework.KindTownship.Level() {
			d.TransferOrgs = append(d.TransferOrgs, choice{Value: o.ID, Label: o.Name + " (" + i18n.T(q.Lang, "kind."+string(o.Kind)) + ")"})
		}
	}
	d.CanTransfer = true
	return nil
}

// eventDataOrder is the order in which an event's details are shown.
var eventDataOrder = []string{"kind", "decision_number", "received", "report_deadline", "date", "from", "to", "effective", "reason",
	"role", "name", "org", "fields"}

// timelineRows renders timeline entries through the catalog: the label is
// event.<kind>, each detail event.data.<key>; a kind or key the catalog
// does not know (a later feature's) shows as it is.
func timelineRows(lang string, entries []store.TimelineEntry) []timelineRow {
	keys := i18n.Keys(lang)
	loc := casework.LoadLocation("")
	var out []timelineRow
	for _, e := range entries {
		row := timelineRow{At: e.At.In(loc).Format("2006-01-02 15:04"), Label: e.Kind}
		if _, ok := keys["event."+e.Kind]; ok {
			row.Label = i18n.T(lang, "event."+e.Kind)
		}
		var data map[string]any
		if e.Data != "" && json.Unmarshal([]byte(e.Data), &data) == nil {
			order := slices.Clone(eventDataOrder)
			for k := range data {
				if !slices.Contains(order, k) {
					order = append(order, k)
				}
			}
			for _, k := range order {
				v, ok := data[k]
				if !ok {
					continue
				}
				label := k
				if _, ok := keys["event.data."+k]; ok {
					label = i18n.T(lang, "event.data."+k)
				}
				if s := eventValue(lang, k, v); s != "" {
					row.Data = append(row.Data, kv{K: label, V: s})
				}
			}
		}
		out = append(out, row)
	}
	return out
}

// eventValue shows one detail: statuses, kinds and group roles by name,
// lists joined.
func eventValue(lang, key string, v any) string {
	switch x := v.(type) {
	case string:
		if v, ok := helpEventValue(lang, key, x); ok { // help.go
			return v
		}
		if st := casework.Status(x); (key == "from" || key == "to") && st.Valid() {
			return st.Label(lang)
		}
		if k := casework.MeasureKind(x); key == "kind" && k.Valid() {
			return k.Label(lang)
		}
		if key == "role" {
			return groupRoleLabel(lang, x)
		}
		if v, ok := psychEventValue(lang, key, x); ok { // psych.go
			return v
		}
		return x
	case []any:
		var parts []string
		for _, p := range x {
			parts = append(parts, eventValue(lang, key, p))
		}
		return strings.Join(parts, "、")
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func (c *Console) personView(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.filePage(w, r, q, r.PathValue("id"), fileData{}, http.StatusOK)
}

// formFailed re-renders the file (422) with every problem of the form that
// was sent beside its field and what was typed kept (issue 18 item 9), or
// returns err when it is not a form error.
func (c *Console) formFailed(w http.ResponseWriter, r *http.Request, q *req, personID, form string, err error) error {
	fe, ok := toFormError(err, q.Lang)
	if !ok {
		return err
	}
	return c.filePage(w, r, q, personID, fileData{Err: fe.sent(form, r), ErrForm: form}, http.StatusUnprocessableEntity)
}

// profileUpdate reads the profile fields of the edit and correction forms;
// only fields given (not blank) change. The phone is never shown in full,
// so a blank phone keeps the stored one.
func profileUpdate(r *http.Request) store.PersonUpdate {
	var up store.PersonUpdate
	for _, f := range []struct {
		name string
		dst  **string
	}{{"name", &up.Name}, {"ethnicity", &up.Ethnicity}, {"education", &up.Education}, {"marital_status", &up.MaritalStatus},
		{"employment", &up.Employment}, {"phone", &up.Phone}, {"household_addr", &up.HouseholdAddr}, {"residence_addr", &up.ResidenceAddr},
		{"health_notes", &up.HealthNotes}} {
		if v := strings.TrimSpace(r.PostFormValue(f.name)); v != "" {
			*f.dst = &v
		}
	}
	return up
}

func (c *Console) personUpdate(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	_, err := c.DB.UpdatePerson(r.Context(), q.Actor, id, profileUpdate(r))
	if err != nil {
		return c.formFailed(w, r, q, id, "edit", err)
	}
	return redirect(w, r, "/persons/"+id, "saved")
}

func (c *Console) personReveal(w http.ResponseWriter, r *http.Request, q *req) error {
	id, field := r.PathValue("id"), r.PostFormValue("field")
	v, err := c.DB.Reveal(r.Context(), q.Actor, id, field, r.PostFormValue("reason"))
	if err != nil {
		return c.formFailed(w, r, q, id, "reveal", err)
	}
	label := i18n.T(q.Lang, "person.id_number")
	if field == "phone" {
		label = i18n.T(q.Lang, "person.phone")
	}
	// Shown this once, on a page that is not cached (Cache-Control: no-store).
	return c.filePage(w, r, q, id, fileData{Revealed: &revealed{Label: label, Value: v}}, http.StatusOK)
}

func (c *Console) measureAdd(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	m, err := measureForm(v("kind"), v("decision_number"), v("decision_authority"), v("decision_date"), v("received_date"), v("report_date"),
		v("agreement_date"), v("term_months"))
	if err != nil { // a bad date or number is reported with the rest (issue 18 item 9)
		var parse casework.FieldErrors
		parse.Add(err)
		err = withChecks(parse, func() error {
			chk := m
			chk.PlaceOrgID = "-" // the store sets it from the file
			return chk.Validate(c.today())
		})
	}
	if err == nil {
		_, err = c.DB.AddMeasure(r.Context(), q.Actor, id, m)
	}
	if err != nil {
		return c.formFailed(w, r, q, id, "measure_new", err)
	}
	return redirect(w, r, "/persons/"+id, "measure_added")
}

func (c *Console) measureUpdate(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	var up store.MeasureUpdate
	d, err := casework.ParseDateField("agreement_date", r.PostFormValue("agreement_date"))
	if err == nil && !d.IsZero() {
		up.AgreementDate = &d
	}
	if r.PostFormValue("set_worker") == "1" {
		wid := strings.TrimSpace(r.PostFormValue("worker_id"))
		up.WorkerID = &wid
	}
	if r.PostFormValue("set_family_reason") == "1" { // R7
		reason := r.PostFormValue("group_family_reason")
		up.GroupFamilyReason = &reason
	}
	if err == nil && up.AgreementDate == nil && up.WorkerID == nil && up.GroupFamilyReason == nil {
		err = casework.Invalid("agreement_date", "请填写协议签订日期", "enter the agreement date")
	}
	if err == nil {
		_, err = c.DB.UpdateMeasure(r.Context(), q.Actor, id, up)
	}
	if err != nil {
		return c.formFailed(w, r, q, id, "measure", err)
	}
	return redirect(w, r, "/persons/"+id, "saved")
}

func (c *Console) personTransition(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	eff, err := casework.ParseDateField("effective_date", r.PostFormValue("effective_date"))
	if err != nil && strings.TrimSpace(r.PostFormValue("reason")) == "" && casework.Action(r.PostFormValue("action")) != casework.ActReportIn &&
		casework.Action(r.PostFormValue("action")) != casework.ActRelease {
		var parse casework.FieldErrors // a bad date and a missing reason together (issue 18 item 9)
		parse.Add(err)
		parse.Add(casework.Invalid("reason", "请填写原因", "a reason is required"))
		err = parse.Err()
	}
	if err == nil {
		_, err = c.DB.Transition(r.Context(), q.Actor, id, store.TransitionInput{Action: casework.Action(r.PostFormValue("action")),
			EffectiveDate: eff, Reason: r.PostFormValue("reason")})
	}
	if err != nil {
		return c.formFailed(w, r, q, id, "transition", err)
	}
	return redirect(w, r, "/persons/"+id, "status_changed")
}

func (c *Console) groupAdd(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	role := strings.TrimSpace(r.PostFormValue("role"))
	if role == "other" || role == "" {
		role = strings.TrimSpace(r.PostFormValue("role_other"))
	}
	err := c.DB.AddGroupMember(r.Context(), q.Actor, id, store.GroupMember{Role: role, Name: r.PostFormValue("name"), Note: r.PostFormValue("note")})
	if err != nil {
		return c.formFailed(w, r, q, id, "group", err)
	}
	return redirect(w, r, "/persons/"+id+"#group", "group_added")
}

func (c *Console) groupRemove(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	if err := c.DB.RemoveGroupMember(r.Context(), q.Actor, id, r.PathValue("member")); err != nil {
		return c.formFailed(w, r, q, id, "group", err)
	}
	return redirect(w, r, "/persons/"+id+"#group", "group_removed")
}

func (c *Console) transferStart(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	to := strings.TrimSpace(r.PostFormValue("to_org_other"))
	if to == "" {
		to = r.PostFormValue("to_org_id")
	}
	if _, err := c.DB.StartTransfer(r.Context(), q.Actor, id, to, r.PostFormValue("reason")); err != nil {
		return c.formFailed(w, r, q, id, "transfer", err)
	}
	return redirect(w, r, "/persons/"+id, "transfer_started")
}

func (c *Console) correctionRequest(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	up := profileUpdate(r)
	var err error
	if up == (store.PersonUpdate{}) {
		err = casework.Invalid("changes", "请填写要更正的内容", "fill in at least one field to correct")
	} else {
		_, err = c.DB.RequestCorrection(r.Context(), q.Actor, id, up, r.PostFormValue("reason"))
	}
	if err != nil {
		return c.formFailed(w, r, q, id, "correction", err)
	}
	return redirect(w, r, "/persons/"+id, "correction_requested")
}

func (c *Console) correctionDecide(w http.ResponseWriter, r *http.Request, q *req) error {
	personID := r.PostFormValue("person_id")
	err := c.DB.DecideCorrection(r.Context(), q.Actor, r.PathValue("id"), r.PostFormValue("approve") == "1", r.PostFormValue("reason"))
	if err != nil {
		if _, ok := toFormError(err, q.Lang); ok && personID != "" {
			r.PostForm.Set("correction_id", r.PathValue("id")) // the message goes beside that correction's reason
			return c.formFailed(w, r, q, personID, "correction_decide", err)
		}
		return err
	}
	if personID == "" {
		return redirect(w, r, "/persons", "correction_decided")
	}
	return redirect(w, r, "/persons/"+url.PathEscape(personID), "correction_decided")
}

// filePerson opens the person a sub-page of the file is about, so its heading
// and title say whose file it is (issue 18 §6: a worker must never record a
// test on the wrong person). It is a read of the file, audited like any other
// (R36); out of scope it answers not found before the page reads anything else.
func (c *Console) filePerson(r *http.Request, q *req) (*casework.Person, error) {
	return c.DB.GetPerson(r.Context(), q.Actor, r.PathValue("id"), "")
}
