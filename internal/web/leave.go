package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// Leave (请假, R8, R28), working away (外出务工) and messages to persons: the
// approval queue with overdue returns, one request with its steps, a
// person's requests with the paper-request form, and a person's messages.
func (c *Console) leaveRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewLeave}
	viewLeave := httpx.Access{Perm: casework.PermViewLeave, Target: "leave"}
	stepLeave := httpx.Access{Perm: casework.PermWritePersons, Target: "leave"}
	decide := httpx.Access{Perm: casework.PermApproveLeave, Target: "leave"}
	viewPerson := httpx.Access{Perm: casework.PermViewLeave, Target: "person"}
	writePerson := httpx.Access{Perm: casework.PermWritePersons, Target: "person"}
	message := httpx.Access{Perm: casework.PermMessage, Target: "person"}
	return []httpx.Route{
		rt("GET", "/leave", view, c.leaveQueue, "leave approval queue and overdue returns"),
		rt("GET", "/leave/{id}", viewLeave, c.leaveView, "one leave request"),
		rt("POST", "/leave/{id}/decision", decide, c.leaveDecide, "approve or reject a leave request"),
		rt("POST", "/leave/{id}/steps", stepLeave, c.leaveStep, "another step of a leave request"),
		rt("GET", "/persons/{id}/leave", viewPerson, c.personLeave, "a person's leave requests"),
		rt("POST", "/persons/{id}/leave", writePerson, c.personLeaveCreate, "record a paper leave request"),
		rt("GET", "/persons/{id}/messages", viewPerson, c.personMessages, "messages sent to a person"),
		rt("POST", "/persons/{id}/messages", message, c.personMessageSend, "send a message to a person"),
	}
}

// leaveRow is a request as the pages show it.
type leaveRow struct {
	L           *store.Leave
	Kind        string
	State       string
	Destination string
	Overdue     bool
}

func leaveRowOf(l *store.Leave, lang string) leaveRow {
	return leaveRow{L: l, Kind: l.Kind.Label(lang), State: l.Effective.Label(lang),
		Destination: casework.ProvinceName(l.Province, lang) + " " + l.City, Overdue: l.Effective == casework.LeaveOverdue}
}

func leaveRows(ls []*store.Leave, lang string) []leaveRow {
	out := make([]leaveRow, len(ls))
	for i, l := range ls {
		out[i] = leaveRowOf(l, lang)
	}
	return out
}

type leaveQueueData struct {
	Tab     string
	Tabs    []choice
	Rows    []leaveRow
	Overdue int
}

var leaveTabs = []string{"queue", "overdue", "away", ""}

func (c *Console) leaveQueue(w http.ResponseWriter, r *http.Request, q *req) error {
	tab := r.URL.Query().Get("state")
	d := leaveQueueData{Tab: "queue"}
	for _, t := range leaveTabs {
		if t == tab {
			d.Tab = t
		}
	}
	for _, t := range leaveTabs {
		key := "leave.tab_all"
		if t != "" {
			key = "leave.tab_" + t
		}
		d.Tabs = append(d.Tabs, choice{Value: t, Label: i18n.T(q.Lang, key), Selected: t == d.Tab})
	}
	ls, err := c.DB.ListLeaves(r.Context(), q.Actor, store.LeaveFilter{State: d.Tab, Limit: 500})
	if err != nil {
		return err
	}
	d.Rows = leaveRows(ls, q.Lang)
	if d.Tab != "overdue" {
		o, err := c.DB.OverdueLeaves(r.Context(), q.Actor)
		if err != nil {
			return err
		}
		d.Overdue = len(o)
	} else {
		d.Overdue = len(ls)
	}
	c.render(w, r, q, http.StatusOK, "leave", d)
	return nil
}

type leaveViewData struct {
	R         leaveRow
	CanDecide bool
	Steps     []choice // staff steps other than decisions
	CanExtend bool
	Extension bool // an extension request awaits the decision
	Err       *formError
}

func (c *Console) leaveViewPage(w http.ResponseWriter, r *http.Request, q *req, fe *formError, status int) error {
	l, err := c.DB.GetLeave(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := leaveViewData{R: leaveRowOf(l, q.Lang), Err: fe, Extension: l.State == casework.LeaveExtensionRequested}
	for _, a := range l.Actions {
		switch a {
		case casework.LeaveApprove, casework.LeaveReject:
			d.CanDecide = true
		case casework.LeaveRequestExtension:
			d.CanExtend = true
		default:
			d.Steps = append(d.Steps, choice{Value: string(a), Label: a.Label(q.Lang)})
		}
	}
	c.render(w, r, q, status, "leave_view", d)
	return nil
}

func (c *Console) leaveView(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.leaveViewPage(w, r, q, nil, http.StatusOK)
}

// leaveFailed re-renders the leave (422) with the problems beside the
// fields of the form that was sent (issue 18 item 9).
func (c *Console) leaveFailed(w http.ResponseWriter, r *http.Request, q *req, form string, err error) error {
	fe, ok := toFormError(err, q.Lang)
	if !ok {
		return err
	}
	return c.leaveViewPage(w, r, q, fe.sent(form, r), http.StatusUnprocessableEntity)
}

func (c *Console) leaveDecide(w http.ResponseWriter, r *http.Request, q *req) error {
	s := store.LeaveStep{Action: casework.LeaveReject, Reason: r.PostFormValue("reason")}
	if r.PostFormValue("approve") == "1" {
		s.Action = casework.LeaveApprove
	}
	l, err := c.DB.StepLeave(r.Context(), q.Actor, r.PathValue("id"), s)
	if err != nil {
		return c.leaveFailed(w, r, q, "decision", err)
	}
	flash := "leave_rejected"
	if s.Action == casework.LeaveApprove {
		flash = "leave_approved"
	}
	return redirect(w, r, "/leave/"+l.ID, flash)
}

func (c *Console) leaveStep(w http.ResponseWriter, r *http.Request, q *req) error {
	s := store.LeaveStep{Action: casework.LeaveAction(r.PostFormValue("action")), Reason: r.PostFormValue("reason")}
	if s.Action == casework.LeaveApprove || s.Action == casework.LeaveReject {
		return c.leaveFailed(w, r, q, "step", casework.Invalid("action", "请使用审批表单", "use the decision form"))
	}
	var err error
	if v := strings.TrimSpace(r.PostFormValue("to")); v != "" {
		s.To, err = casework.ParseDateField("to", v)
	}
	var l *store.Leave
	if err == nil {
		l, err = c.DB.StepLeave(r.Context(), q.Actor, r.PathValue("id"), s)
	}
	if err != nil {
		return c.leaveFailed(w, r, q, "step", err)
	}
	return redirect(w, r, "/leave/"+l.ID, "leave_updated")
}

type personLeaveData struct {
	PersonID  string
	P         *casework.Person
	Rows      []leaveRow
	CanCreate bool
	Provinces []choice
	Hainan    []string
	Form      map[string]string
	Err       *formError
	Threshold int
}

func (c *Console) personLeavePage(w http.ResponseWriter, r *http.Request, q *req, form map[string]string, fe *formError, status int) error {
	pid := r.PathValue("id")
	p, err := c.filePerson(r, q)
	if err != nil {
		return err
	}
	ls, err := c.DB.ListLeaves(r.Context(), q.Actor, store.LeaveFilter{PersonID: pid, Limit: 500})
	if err != nil {
		return err
	}
	if form == nil {
		form = map[string]string{"kind": "leave", "destination_province": "460000"}
	}
	d := personLeaveData{PersonID: pid, P: p, Rows: leaveRows(ls, q.Lang), Form: form, Err: fe, Threshold: casework.DefaultLeaveThresholdDays,
		CanCreate: q.Actor.CanAnywhere(casework.PermWritePersons)}
	for _, p := range casework.Provinces {
		d.Provinces = append(d.Provinces, choice{Value: p.Code, Label: p.Name(q.Lang), Selected: p.Code == form["destination_province"]})
		for _, ct := range p.Cities {
			d.Hainan = append(d.Hainan, ct.Name)
		}
	}
	c.render(w, r, q, status, "leave_person", d)
	return nil
}

func (c *Console) personLeave(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.personLeavePage(w, r, q, nil, nil, http.StatusOK)
}

var leaveFormFields = []string{"kind", "destination_province", "destination_city", "lat", "lng", "radius_m", "from", "to", "reason", "employer", "address"}

func (c *Console) personLeaveCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	form := map[string]string{}
	for _, f := range leaveFormFields {
		form[f] = strings.TrimSpace(r.PostFormValue(f))
	}
	in, err := leaveFormInput(form)
	var l *store.Leave
	if err == nil {
		l, err = c.DB.CreateLeave(r.Context(), q.Actor, r.PathValue("id"), store.LeaveCreate{LeaveInput: in, Draft: r.PostFormValue("draft") == "1"})
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.personLeavePage(w, r, q, form, fe, http.StatusBadRequest)
	}
	return redirect(w, r, "/leave/"+l.ID, "leave_created")
}

func leaveFormInput(f map[string]string) (casework.LeaveInput, error) {
	in := casework.LeaveInput{Kind: casework.LeaveKind(f["kind"]), Province: f["destination_province"], City: f["destination_city"],
		Reason: f["reason"], Employer: f["employer"], WorkAddress: f["address"]}
	var errs casework.FieldErrors // every problem at once (issue 18 item 9)
	var err error
	in.From, err = casework.ParseDateField("from", f["from"])
	errs.Add(err)
	in.To, err = casework.ParseDateField("to", f["to"])
	errs.Add(err)
	num := func(field string) *float64 {
		if f[field] == "" {
			return nil
		}
		v, err := strconv.ParseFloat(f[field], 64)
		if err != nil {
			errs = append(errs, casework.Invalid(field, "坐标应为数字", "the coordinate must be a number"))
			return nil
		}
		return &v
	}
	in.Lat, in.Lng = num("lat"), num("lng")
	if f["radius_m"] != "" {
		n, err := strconv.Atoi(f["radius_m"])
		if err != nil {
			errs = append(errs, casework.Invalid("radius_m", "半径应为整数（米）", "the radius must be a whole number of metres"))
		} else {
			in.RadiusM = &n
		}
	}
	return in, withChecks(errs, func() error {
		p := in
		if (p.Lat == nil) != (p.Lng == nil) {
			p.Lat, p.Lng = nil, nil // already reported
		}
		_, err := p.Validate(casework.DateOf(time.Now(), nil))
		return err
	})
}

type messagesData struct {
	PersonID string
	P        *casework.Person
	Messages []*store.Message
	CanSend  bool
	Body     string
	Err      *formError
}

func (c *Console) messagesPage(w http.ResponseWriter, r *http.Request, q *req, body string, fe *formError, status int) error {
	pid := r.PathValue("id")
	p, err := c.filePerson(r, q)
	if err != nil {
		return err
	}
	ms, err := c.DB.ListMessages(r.Context(), q.Actor, pid)
	if err != nil {
		return err
	}
	d := messagesData{PersonID: pid, P: p, Messages: ms, Body: body, Err: fe, CanSend: q.Actor.CanAnywhere(casework.PermMessage)}
	c.render(w, r, q, status, "messages", d)
	return nil
}

func (c *Console) personMessages(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.messagesPage(w, r, q, "", nil, http.StatusOK)
}

func (c *Console) personMessageSend(w http.ResponseWriter, r *http.Request, q *req) error {
	body := r.PostFormValue("body")
	if _, err := c.DB.SendMessage(r.Context(), q.Actor, r.PathValue("id"), body); err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.messagesPage(w, r, q, body, fe, http.StatusBadRequest)
	}
	return redirect(w, r, "/persons/"+r.PathValue("id")+"/messages", "message_sent")
}
