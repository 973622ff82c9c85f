package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// measureRequest is a measure from the police decision (决定书).
type measureRequest struct {
	Kind              string `json:"kind"`
	DecisionNumber    string `json:"decision_number"`
	DecisionAuthority string `json:"decision_authority"`
	DecisionDate      string `json:"decision_date"`
	ReceivedDate      string `json:"received_date"`
	ReportDate        string `json:"report_date"`
	AgreementDate     string `json:"agreement_date"`
	TermMonths        int    `json:"term_months"`
	WorkerID          string `json:"worker_id"`
}

func (m *measureRequest) toDomain() (casework.MeasureInput, error) {
	out := casework.MeasureInput{Kind: casework.MeasureKind(m.Kind), DecisionNumber: m.DecisionNumber, DecisionAuthority: m.DecisionAuthority,
		TermMonths: m.TermMonths, WorkerID: m.WorkerID}
	for _, d := range []struct {
		field, value string
		dst          *casework.Date
	}{{"decision_date", m.DecisionDate, &out.DecisionDate}, {"received_date", m.ReceivedDate, &out.ReceivedDate},
		{"report_date", m.ReportDate, &out.ReportDate}, {"agreement_date", m.AgreementDate, &out.AgreementDate}} {
		v, err := casework.ParseDateField(d.field, d.value)
		if err != nil {
			return out, err
		}
		*d.dst = v
	}
	return out, nil
}

type groupMemberJSON struct {
	ID     string `json:"id"`
	Role   string `json:"role"`
	Name   string `json:"name"`
	UserID string `json:"user_id,omitempty"`
	Note   string `json:"note,omitempty"`
}

type statusEventJSON struct {
	ID            string    `json:"id"`
	Action        string    `json:"action"`
	From          string    `json:"from"`
	To            string    `json:"to"`
	EffectiveDate string    `json:"effective_date"`
	Reason        string    `json:"reason,omitempty"`
	ActorID       string    `json:"actor_id,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

type measureJSON struct {
	ID                string            `json:"id"`
	Kind              string            `json:"kind"`
	DecisionNumber    string            `json:"decision_number"`
	DecisionAuthority string            `json:"decision_authority"`
	DecisionDate      string            `json:"decision_date"`
	ReceivedDate      string            `json:"received_date"`
	ReportDeadline    string            `json:"report_deadline"`
	OverdueDays       int               `json:"overdue_days"`
	ReportDate        string            `json:"report_date,omitempty"`
	AgreementDate     string            `json:"agreement_date,omitempty"`
	TermMonths        int               `json:"term_months"`
	TermEnd           string            `json:"term_end,omitempty"`
	SuspendedDays     int               `json:"suspended_days"`
	PlaceOrgID        string            `json:"place_org_id"`
	PlaceOrgName      string            `json:"place_org_name"`
	WorkerID          string            `json:"worker_id,omitempty"`
	WorkerName        string            `json:"worker_name,omitempty"`
	Status            string            `json:"status"`
	StatusSince       string            `json:"status_since"`
	InForce           bool              `json:"in_force"`
	EndedOn           string            `json:"ended_on,omitempty"`
	NoRelapseOn       string            `json:"no_relapse_on,omitempty"`
	ReportedOn        string            `json:"reported_on,omitempty"`
	PausedDays        int               `json:"paused_days"`
	ReleaseNoticeDue  string            `json:"release_notice_due,omitempty"`
	ReleaseNoticeOn   string            `json:"release_notice_on,omitempty"`
	ReleaseNoticeTo   string            `json:"release_notice_to,omitempty"`
	NoRelapseMarkedOn string            `json:"no_relapse_marked_on,omitempty"` // R16: marked 戒断三年未复吸
	LastRelapse       string            `json:"last_relapse,omitempty"`         // R16: latest relapse after release (sensitive readers)
	GroupFamilyReason string            `json:"group_family_reason,omitempty"`  // R7
	GroupGaps         []string          `json:"group_gaps,omitempty"`           // R7: worker, police, family
	CreatedAt         time.Time         `json:"created_at"`
	Group             []groupMemberJSON `json:"group"`
	Events            []statusEventJSON `json:"events"`
}

func toMeasureJSON(m *store.Measure, today casework.Date) measureJSON {
	j := measureJSON{ID: m.ID, Kind: string(m.Kind), DecisionNumber: m.DecisionNumber, DecisionAuthority: m.DecisionAuthority,
		DecisionDate: m.DecisionDate.String(), ReceivedDate: m.ReceivedDate.String(), ReportDeadline: m.ReportDeadline.String(),
		ReportDate: m.ReportDate.String(), AgreementDate: m.AgreementDate.String(), TermMonths: m.TermMonths, TermEnd: m.TermEnd.String(),
		SuspendedDays: m.SuspendedDays, PlaceOrgID: m.PlaceOrgID, PlaceOrgName: m.PlaceOrgName, WorkerID: m.WorkerID, WorkerName: m.WorkerName,
		Status: string(m.Status), StatusSince: m.StatusSince.String(), InForce: m.InForce, EndedOn: m.EndedOn.String(),
		NoRelapseOn: m.NoRelapseOn.String(), CreatedAt: m.CreatedAt.UTC(), Group: []groupMemberJSON{}, Events: []statusEventJSON{},
		ReportedOn: m.ReportedOn.String(), PausedDays: m.PausedDays, ReleaseNoticeDue: m.ReleaseNoticeDue.String(), ReleaseNoticeOn: m.ReleaseNoticeOn.String(),
		ReleaseNoticeTo:   m.ReleaseNoticeTo,
		NoRelapseMarkedOn: m.NoRelapseMarkedOn.String(), GroupFamilyReason: m.GroupFamilyReason}
	if len(m.Relapses) > 0 {
		j.LastRelapse = m.LastRelapse.String()
	}
	if m.InForce {
		j.OverdueDays = casework.OverdueDays(m.Status, m.ReportDeadline, today)
		var roles []string
		for _, g := range m.Group {
			roles = append(roles, g.Role)
		}
		j.GroupGaps = casework.GroupGaps(roles, m.GroupFamilyReason)
	}
	for _, g := range m.Group {
		j.Group = append(j.Group, groupMemberJSON{ID: g.ID, Role: g.Role, Name: g.Name, UserID: g.UserID, Note: g.Note})
	}
	for _, e := range m.Events {
		j.Events = append(j.Events, statusEventJSON{ID: e.ID, Action: string(e.Action), From: string(e.From), To: string(e.To),
			EffectiveDate: e.EffectiveDate.String(), Reason: e.Reason, ActorID: e.ActorID, CreatedAt: e.CreatedAt.UTC()})
	}
	return j
}

func (a *API) listMeasures(w http.ResponseWriter, r *http.Request, q *req) error {
	ms, err := a.DB.ListMeasures(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	today := a.today()
	out := list[measureJSON]{Items: []measureJSON{}, Total: len(ms)}
	for _, m := range ms {
		out.Items = append(out.Items, toMeasureJSON(m, today))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) addMeasure(w http.ResponseWriter, r *http.Request, q *req) error {
	var in measureRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	mi, err := in.toDomain()
	if err != nil {
		return err
	}
	m, err := a.DB.AddMeasure(r.Context(), q.Actor, r.PathValue("id"), mi)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toMeasureJSON(m, a.today()))
	return nil
}

// measurePatch changes the measure in force; absent fields stay.
type measurePatch struct {
	AgreementDate     *string `json:"agreement_date"`
	WorkerID          *string `json:"worker_id"`
	GroupFamilyReason *string `json:"group_family_reason"` // R7: why no family member or guardian
}

func (a *API) updateMeasure(w http.ResponseWriter, r *http.Request, q *req) error {
	var in measurePatch
	if err := decode(r, &in); err != nil {
		return err
	}
	up := store.MeasureUpdate{WorkerID: in.WorkerID, GroupFamilyReason: in.GroupFamilyReason}
	if in.AgreementDate != nil {
		d, err := casework.ParseDateField("agreement_date", *in.AgreementDate)
		if err != nil {
			return err
		}
		if d.IsZero() {
			return casework.Invalid("agreement_date", "请填写协议签订日期", "agreement_date is required when given")
		}
		up.AgreementDate = &d
	}
	m, err := a.DB.UpdateMeasure(r.Context(), q.Actor, r.PathValue("id"), up)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toMeasureJSON(m, a.today()))
	return nil
}

type transitionRequest struct {
	Action        string   `json:"action"`
	EffectiveDate string   `json:"effective_date"`
	Reason        string   `json:"reason"`
	DocumentIDs   []string `json:"document_ids"`
}

func (a *API) transition(w http.ResponseWriter, r *http.Request, q *req) error {
	var in transitionRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	eff, err := casework.ParseDateField("effective_date", in.EffectiveDate)
	if err != nil {
		return err
	}
	m, err := a.DB.Transition(r.Context(), q.Actor, r.PathValue("id"), store.TransitionInput{Action: casework.Action(in.Action),
		EffectiveDate: eff, Reason: in.Reason, DocumentIDs: in.DocumentIDs})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toMeasureJSON(m, a.today()))
	return nil
}

type groupMemberRequest struct {
	Role   string `json:"role"`
	Name   string `json:"name"`
	UserID string `json:"user_id"`
	Note   string `json:"note"`
}

// addGroupMember adds a member and answers with the whole working group.
func (a *API) addGroupMember(w http.ResponseWriter, r *http.Request, q *req) error {
	var in groupMemberRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := a.DB.AddGroupMember(r.Context(), q.Actor, id, store.GroupMember{Role: in.Role, Name: in.Name, UserID: in.UserID, Note: in.Note}); err != nil {
		return err
	}
	ms, err := a.DB.ListMeasures(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	out := list[groupMemberJSON]{Items: []groupMemberJSON{}}
	for _, m := range ms {
		if m.InForce {
			out.Items = toMeasureJSON(m, a.today()).Group
		}
	}
	out.Total = len(out.Items)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (a *API) removeGroupMember(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := a.DB.RemoveGroupMember(r.Context(), q.Actor, r.PathValue("id"), r.PathValue("member")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type timelineJSON struct {
	ID      string          `json:"id"`
	At      time.Time       `json:"at"`
	Kind    string          `json:"kind"`
	Data    json.RawMessage `json:"data"`
	ActorID string          `json:"actor_id,omitempty"`
	OrgID   string          `json:"org_id,omitempty"`
}

func (a *API) timeline(w http.ResponseWriter, r *http.Request, q *req) error {
	off, lim, err := paging(r)
	if err != nil {
		return err
	}
	if lim == 0 {
		lim = 50
	}
	entries, total, err := a.DB.ListTimeline(r.Context(), q.Actor, r.PathValue("id"), off, lim)
	if err != nil {
		return err
	}
	out := list[timelineJSON]{Items: []timelineJSON{}, Total: total}
	for _, e := range entries {
		data := json.RawMessage(`{}`)
		if s := strings.TrimSpace(e.Data); s != "" && json.Valid([]byte(s)) {
			data = json.RawMessage(s)
		}
		out.Items = append(out.Items, timelineJSON{ID: e.ID, At: e.At, Kind: e.Kind, Data: data, ActorID: e.ActorID, OrgID: e.OrgID})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
