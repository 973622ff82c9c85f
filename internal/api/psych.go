package api

import (
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Psychological services (issue 11 §3, §6, §7): the same store calls as
// the console. Notes and follow-up notes are present only for counsellors
// and the person's lead; police hold no permission here.
func (a *API) psychRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermPsychRead, Target: "counselled_person"}
	write := httpx.Access{Perm: casework.PermPsychWrite, Target: "counselled_person"}
	assign := httpx.Access{Perm: casework.PermAssignCounsellor, Target: "counselled_person"}
	scaleRead := httpx.Access{Perm: casework.PermPsychRead, Target: "scale"}
	scaleWrite := httpx.Access{Perm: casework.PermPsychWrite, Target: "scale"}
	session := httpx.Access{Perm: casework.PermPsychWrite, Target: "counselling"}
	routes := []httpx.Route{
		rt("GET", "/api/v1/scales", httpx.Access{Perm: casework.PermPsychRead}, a.listScales, "the screening scales: items, answers and band tables"),
		rt("GET", "/api/v1/persons/{id}/psych", read, a.getPsych, "a person's psychological services"),
		rt("POST", "/api/v1/persons/{id}/psych/sessions", write, a.recordSession, "record a one-to-one counselling session"),
		rt("POST", "/api/v1/persons/{id}/psych/scales", write, a.recordScale, "score and record a screening scale"),
		rt("POST", "/api/v1/persons/{id}/counsellors", assign, a.assignCounsellor, "assign a counsellor"),
		rt("DELETE", "/api/v1/persons/{id}/counsellors/{user}", assign, a.endCounsellor, "end a counsellor's assignment"),
		rt("PATCH", "/api/v1/psych/sessions/{id}", session, a.updateSession, "edit a counselling session (author or lead), keeping the old version"),
		rt("GET", "/api/v1/psych/sessions/{id}/revisions", httpx.Access{Perm: casework.PermPsychRead, Target: "counselling"}, a.sessionRevisions, "earlier versions of a session"),
		rt("GET", "/api/v1/psych/scales/{id}", scaleRead, a.getScale, "one administered scale with its answers"),
		rt("PATCH", "/api/v1/psych/scales/{id}", scaleWrite, a.updateScale, "correct a scale's answers (author or lead), keeping the old version"),
		rt("GET", "/api/v1/psych/scales/{id}/revisions", scaleRead, a.scaleRevisions, "earlier versions of a scale"),
		rt("POST", "/api/v1/psych/scales/{id}/followup", scaleWrite, a.scaleFollowup, "record the follow-up of a PHQ-9 item 9 flag"),
		rt("GET", "/api/v1/psych/groups", httpx.Access{Perm: casework.PermPsychRead}, a.listGroups, "group sessions in scope"),
		rt("POST", "/api/v1/psych/groups", httpx.Access{Perm: casework.PermPsychWrite}, a.recordGroup, "record a group session"),
	}
	return append(routes, a.psychExchangeRoutes(rt)...) // psych_exchange.go
}

type sessionJSON struct {
	ID             string        `json:"id"`
	PersonID       string        `json:"person_id"`
	CounsellorID   string        `json:"counsellor_id,omitempty"`
	CounsellorName string        `json:"counsellor_name"`
	HeldAt         time.Time     `json:"held_at"`
	HeldOn         casework.Date `json:"held_on"`
	Minutes        int           `json:"minutes"`
	Mode           string        `json:"mode"`
	Planned        bool          `json:"planned"`
	Notes          *string       `json:"notes,omitempty"` // absent for readers who may not see notes
	HasNotes       bool          `json:"has_notes"`
}

func toSessionJSON(s *store.CounsellingSession) sessionJSON {
	j := sessionJSON{ID: s.ID, PersonID: s.PersonID, CounsellorID: s.CounsellorID, CounsellorName: s.CounsellorName, HeldAt: s.HeldAt,
		HeldOn: s.HeldOn, Minutes: s.Minutes, Mode: s.Mode, Planned: s.Planned, HasNotes: s.Notes != "" || s.NotesHidden}
	if !s.NotesHidden {
		n := s.Notes
		j.Notes = &n
	}
	return j
}

type scaleJSON struct {
	ID             string                 `json:"id"`
	PersonID       string                 `json:"person_id"`
	Result         casework.ScaleResult   `json:"result"`
	Answers        *casework.ScaleAnswers `json:"answers,omitempty"`
	AdministeredAt time.Time              `json:"administered_at"`
	AdministeredOn casework.Date          `json:"administered_on"`
	AdministeredBy string                 `json:"administered_by_name"`
	NeedsFollowup  bool                   `json:"needs_followup"`
	FollowupAt     *time.Time             `json:"followup_at,omitempty"`
	FollowupNote   string                 `json:"followup_note,omitempty"`
}

func toScaleJSON(s *store.ScaleAdministration) scaleJSON {
	j := scaleJSON{ID: s.ID, PersonID: s.PersonID, Result: s.Result, Answers: s.Answers, AdministeredAt: s.AdministeredAt,
		AdministeredOn: s.AdministeredOn, AdministeredBy: s.AdministeredName, NeedsFollowup: s.NeedsFollowup(), FollowupNote: s.FollowupNote}
	if !s.FollowupAt.IsZero() {
		t := s.FollowupAt
		j.FollowupAt = &t
	}
	return j
}

type groupJSON struct {
	ID            string           `json:"id"`
	OrgID         string           `json:"org_id"`
	OrgName       string           `json:"org_name"`
	HeldOn        casework.Date    `json:"held_on"`
	Topic         string           `json:"topic"`
	Facilitator   string           `json:"facilitator"`
	Place         string           `json:"place"`
	Attendees     []store.Attendee `json:"attendees"`
	OtherAttendee int              `json:"other_caseload_attendees"`
	OthersReached int              `json:"others_reached"`
}

func toGroupJSON(g *store.GroupSession) groupJSON {
	j := groupJSON{ID: g.ID, OrgID: g.OrgID, OrgName: g.OrgName, HeldOn: g.HeldOn, Topic: g.Topic, Facilitator: g.Facilitator, Place: g.Place,
		Attendees: g.Attendees, OtherAttendee: g.Hidden, OthersReached: g.OthersReached}
	if j.Attendees == nil {
		j.Attendees = []store.Attendee{}
	}
	return j
}

func (a *API) listScales(w http.ResponseWriter, r *http.Request, q *req) error {
	writeJSON(w, http.StatusOK, list[*casework.Scale]{Items: casework.Scales(), Total: len(casework.Scales())})
	return nil
}

func (a *API) getPsych(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := a.DB.GetPsychFile(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := struct {
		Access      casework.PsychAccess `json:"access"`
		Counsellors []store.Counsellor   `json:"counsellors"`
		Sessions    []sessionJSON        `json:"sessions"`
		Scales      []scaleJSON          `json:"scales"`
		Groups      []groupJSON          `json:"groups"`
		OpenItem9   []string             `json:"open_item9"`
	}{Access: f.Access, Counsellors: f.Counsellors, Sessions: []sessionJSON{}, Scales: []scaleJSON{}, Groups: []groupJSON{}, OpenItem9: []string{}}
	if out.Counsellors == nil {
		out.Counsellors = []store.Counsellor{}
	}
	for i := range f.Sessions {
		out.Sessions = append(out.Sessions, toSessionJSON(&f.Sessions[i]))
	}
	for i := range f.Scales {
		out.Scales = append(out.Scales, toScaleJSON(&f.Scales[i]))
	}
	for i := range f.Groups {
		out.Groups = append(out.Groups, toGroupJSON(&f.Groups[i]))
	}
	for _, s := range f.OpenItem9 {
		out.OpenItem9 = append(out.OpenItem9, s.ID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type sessionRequest struct {
	CounsellorID   string    `json:"counsellor_id"`
	CounsellorName string    `json:"counsellor_name"`
	HeldAt         time.Time `json:"held_at"`
	Minutes        int       `json:"minutes"`
	Mode           string    `json:"mode"`
	Notes          string    `json:"notes"`
	Planned        bool      `json:"planned"`
	Reason         string    `json:"reason"` // edits only
}

func (s sessionRequest) input() casework.CounsellingInput {
	return casework.CounsellingInput{CounsellorID: s.CounsellorID, CounsellorName: s.CounsellorName, HeldAt: s.HeldAt, Minutes: s.Minutes,
		Mode: s.Mode, Notes: s.Notes, Planned: s.Planned}
}

func (a *API) recordSession(w http.ResponseWriter, r *http.Request, q *req) error {
	var in sessionRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.DB.RecordCounselling(r.Context(), q.Actor, r.PathValue("id"), in.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toSessionJSON(s))
	return nil
}

func (a *API) updateSession(w http.ResponseWriter, r *http.Request, q *req) error {
	var in sessionRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.DB.UpdateCounselling(r.Context(), q.Actor, r.PathValue("id"), in.input(), in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSessionJSON(s))
	return nil
}

type scaleRequest struct {
	Scale          string                `json:"scale"`
	Answers        casework.ScaleAnswers `json:"answers"`
	AdministeredAt time.Time             `json:"administered_at"`
	Reason         string                `json:"reason"` // edits only
}

func (a *API) recordScale(w http.ResponseWriter, r *http.Request, q *req) error {
	var in scaleRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.DB.RecordScale(r.Context(), q.Actor, r.PathValue("id"), store.ScaleInput{Scale: in.Scale, Answers: in.Answers, AdministeredAt: in.AdministeredAt})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toScaleJSON(s))
	return nil
}

func (a *API) getScale(w http.ResponseWriter, r *http.Request, q *req) error {
	s, err := a.DB.GetScale(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toScaleJSON(s))
	return nil
}

func (a *API) updateScale(w http.ResponseWriter, r *http.Request, q *req) error {
	var in scaleRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.DB.UpdateScale(r.Context(), q.Actor, r.PathValue("id"), in.Answers, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toScaleJSON(s))
	return nil
}

// revisionJSON is one replaced version of a care record (visits, sessions,
// scales): the version as it was, who replaced it, when and why.
type revisionJSON struct {
	Rev          int       `json:"rev"`
	Previous     any       `json:"previous"`
	EditedByName string    `json:"edited_by_name"`
	EditedAt     time.Time `json:"edited_at"`
	Reason       string    `json:"reason"`
}

func (a *API) revisions(w http.ResponseWriter, r *http.Request, q *req, kind string) error {
	rs, err := a.DB.PsychRevisions(r.Context(), q.Actor, kind, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := list[revisionJSON]{Items: []revisionJSON{}, Total: len(rs)}
	for _, x := range rs {
		out.Items = append(out.Items, revisionJSON{Rev: x.Rev, Previous: x.Previous, EditedByName: x.EditedByName, EditedAt: x.EditedAt, Reason: x.Reason})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) sessionRevisions(w http.ResponseWriter, r *http.Request, q *req) error {
	return a.revisions(w, r, q, store.RevCounselling)
}

func (a *API) scaleRevisions(w http.ResponseWriter, r *http.Request, q *req) error {
	return a.revisions(w, r, q, store.RevScale)
}

func (a *API) scaleFollowup(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		Note string `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.DB.RecordFollowup(r.Context(), q.Actor, r.PathValue("id"), in.Note); err != nil {
		return err
	}
	return a.getScale(w, r, q)
}

func (a *API) assignCounsellor(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		UserID string `json:"user_id"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.DB.AssignCounsellor(r.Context(), q.Actor, r.PathValue("id"), in.UserID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) endCounsellor(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := a.DB.EndCounsellor(r.Context(), q.Actor, r.PathValue("id"), r.PathValue("user")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request, q *req) error {
	off, lim, err := paging(r)
	if err != nil {
		return err
	}
	f := store.GroupFilter{OrgID: r.URL.Query().Get("org_id"), Offset: off, Limit: lim}
	for k, d := range map[string]*casework.Date{"from": &f.From, "to": &f.To} {
		if v := r.URL.Query().Get(k); v != "" {
			if *d, err = casework.ParseDateField(k, v); err != nil {
				return err
			}
		}
	}
	gs, total, err := a.DB.ListGroupSessions(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	out := list[groupJSON]{Items: []groupJSON{}, Total: total}
	for i := range gs {
		out.Items = append(out.Items, toGroupJSON(&gs[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) recordGroup(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		OrgID         string        `json:"org_id"`
		HeldOn        casework.Date `json:"held_on"`
		Topic         string        `json:"topic"`
		Facilitator   string        `json:"facilitator"`
		FacilitatorID string        `json:"facilitator_id"`
		Place         string        `json:"place"`
		AttendeeIDs   []string      `json:"attendee_ids"`
		OthersReached int           `json:"others_reached"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	g, err := a.DB.RecordGroupSession(r.Context(), q.Actor, casework.GroupSessionInput{OrgID: in.OrgID, HeldOn: in.HeldOn, Topic: in.Topic,
		Facilitator: in.Facilitator, FacilitatorID: in.FacilitatorID, Place: in.Place, AttendeeIDs: in.AttendeeIDs, OthersReached: in.OthersReached})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toGroupJSON(g))
	return nil
}
