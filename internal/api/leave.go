package api

import (
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Leave (请假, R8, R28), working away (外出务工) and messages to persons:
// the staff side. The person's app uses /api/v1/app/… (app_leave.go).
func (a *API) leaveRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewLeave}
	viewLeave := httpx.Access{Perm: casework.PermViewLeave, Target: "leave"}
	stepLeave := httpx.Access{Perm: casework.PermWritePersons, Target: "leave"}
	decide := httpx.Access{Perm: casework.PermApproveLeave, Target: "leave"}
	viewPerson := httpx.Access{Perm: casework.PermViewLeave, Target: "person"}
	writePerson := httpx.Access{Perm: casework.PermWritePersons, Target: "person"}
	message := httpx.Access{Perm: casework.PermMessage, Target: "person"}
	return append([]httpx.Route{
		rt("GET", "/api/v1/leave", view, a.listLeaves, "leave requests in scope: the approval queue, overdue returns, or by state"),
		rt("GET", "/api/v1/leave/{id}", viewLeave, a.getLeave, "one leave request"),
		rt("POST", "/api/v1/leave/{id}/decision", decide, a.decideLeave, "approve or reject a leave request or an extension (a lead)"),
		rt("POST", "/api/v1/leave/{id}/steps", stepLeave, a.stepLeave, "submit, withdraw, request an extension, record or confirm the return"),
		rt("GET", "/api/v1/persons/{id}/leave", viewPerson, a.listPersonLeaves, "a person's leave requests"),
		rt("POST", "/api/v1/persons/{id}/leave", writePerson, a.createLeave, "record a leave request on the person's behalf (paper request)"),
		rt("GET", "/api/v1/persons/{id}/messages", viewPerson, a.listMessages, "messages sent to a person, with read receipts"),
		rt("POST", "/api/v1/persons/{id}/messages", message, a.sendMessage, "send a message to a person's app"),
	}, a.appLeaveRoutes()...)
}

type leaveJSON struct {
	ID                  string     `json:"id"`
	PersonID            string     `json:"person_id"`
	PersonName          string     `json:"person_name,omitempty"`
	OrgID               string     `json:"org_id,omitempty"`
	OrgName             string     `json:"org_name,omitempty"`
	Kind                string     `json:"kind"`
	State               string     `json:"state"`
	EffectiveState      string     `json:"effective_state"`
	OverdueDays         int        `json:"overdue_days"`
	DestinationProvince string     `json:"destination_province"`
	ProvinceName        string     `json:"province_name"`
	DestinationCity     string     `json:"destination_city"`
	Lat                 *float64   `json:"lat,omitempty"`
	Lng                 *float64   `json:"lng,omitempty"`
	RadiusM             *int       `json:"radius_m,omitempty"`
	From                string     `json:"from"`
	To                  string     `json:"to"`
	ExtensionTo         string     `json:"extension_to,omitempty"`
	Days                int        `json:"days"`
	Required            bool       `json:"required"`
	ThresholdDays       int        `json:"threshold_days"`
	Reason              string     `json:"reason"`
	Employer            string     `json:"employer,omitempty"`
	Address             string     `json:"address,omitempty"`
	Source              string     `json:"source"`
	CreatedAt           time.Time  `json:"created_at"`
	DecidedByName       string     `json:"decided_by_name,omitempty"`
	DecidedAt           *time.Time `json:"decided_at,omitempty"`
	DecisionReason      string     `json:"decision_reason,omitempty"`
	ReturnedAt          *time.Time `json:"returned_at,omitempty"`
	Actions             []string   `json:"actions"`
}

func toLeaveJSON(l *store.Leave, lang string, staff bool) leaveJSON {
	j := leaveJSON{ID: l.ID, PersonID: l.PersonID, Kind: string(l.Kind), State: string(l.State), EffectiveState: string(l.Effective),
		OverdueDays: l.OverdueDays, DestinationProvince: l.Province, ProvinceName: casework.ProvinceName(l.Province, lang), DestinationCity: l.City,
		Lat: l.Lat, Lng: l.Lng, RadiusM: l.RadiusM, From: l.From.String(), To: l.To.String(), Days: l.Days, Required: l.Required,
		ThresholdDays: l.ThresholdDays, Reason: l.Reason, Employer: l.Employer, Address: l.WorkAddress, Source: l.Source, CreatedAt: l.CreatedAt,
		DecidedByName: l.DecidedByName, DecidedAt: timePtr(l.DecidedAt), DecisionReason: l.DecisionReason, ReturnedAt: timePtr(l.ReturnedAt),
		Actions: []string{}}
	if !l.ExtensionTo.IsZero() {
		j.ExtensionTo = l.ExtensionTo.String()
	}
	if staff {
		j.PersonName, j.OrgID, j.OrgName = l.PersonName, l.OrgID, l.OrgName
	}
	for _, a := range l.Actions {
		j.Actions = append(j.Actions, string(a))
	}
	return j
}

func toLeaveList(ls []*store.Leave, lang string, staff bool) list[leaveJSON] {
	out := list[leaveJSON]{Items: []leaveJSON{}, Total: len(ls)}
	for _, l := range ls {
		out.Items = append(out.Items, toLeaveJSON(l, lang, staff))
	}
	return out
}

// leaveRequest is the body of a new request, staff or app (the contract's
// field names).
type leaveRequest struct {
	ID                  string   `json:"id,omitempty"` // the app's client UUID
	Kind                string   `json:"kind"`
	DestinationProvince string   `json:"destination_province"`
	DestinationCity     string   `json:"destination_city"`
	Lat                 *float64 `json:"lat,omitempty"`
	Lng                 *float64 `json:"lng,omitempty"`
	RadiusM             *int     `json:"radius_m,omitempty"`
	From                string   `json:"from"`
	To                  string   `json:"to"`
	Reason              string   `json:"reason"`
	Employer            string   `json:"employer,omitempty"`
	Address             string   `json:"address,omitempty"`
	Draft               bool     `json:"draft,omitempty"` // staff only: keep as a draft
}

func (in *leaveRequest) input() (casework.LeaveInput, error) {
	from, err := casework.ParseDateField("from", in.From)
	if err != nil {
		return casework.LeaveInput{}, err
	}
	to, err := casework.ParseDateField("to", in.To)
	if err != nil {
		return casework.LeaveInput{}, err
	}
	return casework.LeaveInput{Kind: casework.LeaveKind(in.Kind), Province: in.DestinationProvince, City: in.DestinationCity,
		Lat: in.Lat, Lng: in.Lng, RadiusM: in.RadiusM, From: from, To: to, Reason: in.Reason, Employer: in.Employer, WorkAddress: in.Address}, nil
}

func (a *API) listLeaves(w http.ResponseWriter, r *http.Request, q *req) error {
	offset, limit, err := paging(r)
	if err != nil {
		return err
	}
	qs := r.URL.Query()
	ls, err := a.DB.ListLeaves(r.Context(), q.Actor, store.LeaveFilter{State: qs.Get("state"), OrgID: qs.Get("org_id"), PersonID: qs.Get("person_id"),
		Offset: offset, Limit: limit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLeaveList(ls, q.Lang, true))
	return nil
}

func (a *API) getLeave(w http.ResponseWriter, r *http.Request, q *req) error {
	l, err := a.DB.GetLeave(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLeaveJSON(l, q.Lang, true))
	return nil
}

type leaveDecisionRequest struct {
	Approve bool   `json:"approve"`
	Reason  string `json:"reason"`
}

func (a *API) decideLeave(w http.ResponseWriter, r *http.Request, q *req) error {
	var in leaveDecisionRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	s := store.LeaveStep{Action: casework.LeaveReject, Reason: in.Reason}
	if in.Approve {
		s.Action = casework.LeaveApprove
	}
	l, err := a.DB.StepLeave(r.Context(), q.Actor, r.PathValue("id"), s)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLeaveJSON(l, q.Lang, true))
	return nil
}

type leaveStepRequest struct {
	Action string `json:"action"`
	Reason string `json:"reason,omitempty"`
	To     string `json:"to,omitempty"` // new end date of an extension
}

// step parses a step; decisions go through /decision.
func (in *leaveStepRequest) step(allowed []casework.LeaveAction) (store.LeaveStep, error) {
	s := store.LeaveStep{Action: casework.LeaveAction(in.Action), Reason: in.Reason}
	ok := false
	for _, a := range allowed {
		ok = ok || a == s.Action
	}
	if !ok {
		names := ""
		for i, a := range allowed {
			if i > 0 {
				names += ", "
			}
			names += string(a)
		}
		return s, casework.Invalid("action", "action 应为 %s 之一", "action must be one of %s", names)
	}
	if in.To != "" {
		to, err := casework.ParseDateField("to", in.To)
		if err != nil {
			return s, err
		}
		s.To = to
	}
	return s, nil
}

var staffSteps = []casework.LeaveAction{casework.LeaveSubmit, casework.LeaveWithdraw, casework.LeaveRequestExtension, casework.LeaveReportReturn, casework.LeaveConfirmReturn}

func (a *API) stepLeave(w http.ResponseWriter, r *http.Request, q *req) error {
	var in leaveStepRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := in.step(staffSteps)
	if err != nil {
		return err
	}
	l, err := a.DB.StepLeave(r.Context(), q.Actor, r.PathValue("id"), s)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLeaveJSON(l, q.Lang, true))
	return nil
}

func (a *API) listPersonLeaves(w http.ResponseWriter, r *http.Request, q *req) error {
	ls, err := a.DB.ListLeaves(r.Context(), q.Actor, store.LeaveFilter{PersonID: r.PathValue("id"), Limit: 500})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLeaveList(ls, q.Lang, true))
	return nil
}

func (a *API) createLeave(w http.ResponseWriter, r *http.Request, q *req) error {
	var in leaveRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.ID != "" {
		return casework.Invalid("id", "由工作人员登记的请假不接受 id", "a request recorded by staff takes no id")
	}
	li, err := in.input()
	if err != nil {
		return err
	}
	l, err := a.DB.CreateLeave(r.Context(), q.Actor, r.PathValue("id"), store.LeaveCreate{LeaveInput: li, Draft: in.Draft})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toLeaveJSON(l, q.Lang, true))
	return nil
}

type messageJSON struct {
	ID         string     `json:"id"`
	SenderName string     `json:"sender_name"`
	Body       string     `json:"body"`
	SentAt     time.Time  `json:"sent_at"`
	ReadAt     *time.Time `json:"read_at,omitempty"`
	Read       bool       `json:"read"`
	System     bool       `json:"system"` // from the system, not staff: the app names the sender in its language
}

func toMessageJSON(m *store.Message, lang string) messageJSON {
	return messageJSON{ID: m.ID, SenderName: m.SenderName, Body: m.Text(lang), SentAt: m.CreatedAt, ReadAt: timePtr(m.ReadAt), Read: m.Read(), System: m.System()}
}

type messageList struct {
	Items  []messageJSON `json:"items"`
	Total  int           `json:"total"`
	Unread int           `json:"unread"`
}

func toMessageList(ms []*store.Message, lang string) messageList {
	out := messageList{Items: []messageJSON{}, Total: len(ms)}
	for _, m := range ms {
		out.Items = append(out.Items, toMessageJSON(m, lang))
		if !m.Read() {
			out.Unread++
		}
	}
	return out
}

func (a *API) listMessages(w http.ResponseWriter, r *http.Request, q *req) error {
	ms, err := a.DB.ListMessages(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toMessageList(ms, q.Lang))
	return nil
}

type messageRequest struct {
	Body string `json:"body"`
}

func (a *API) sendMessage(w http.ResponseWriter, r *http.Request, q *req) error {
	var in messageRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := a.DB.SendMessage(r.Context(), q.Actor, r.PathValue("id"), in.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toMessageJSON(m, q.Lang))
	return nil
}
