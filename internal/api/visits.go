package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Visits and contacts (issue 11 §1, §6–§8, R27): the same store calls as
// the console. A record made offline carries its client id and is stored
// once (201 the first time, 200 after).
func (a *API) visitRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermSensitive, Target: "person"}
	write := httpx.Access{Perm: casework.PermWritePersons, Target: "person"}
	readVisit := httpx.Access{Perm: casework.PermSensitive, Target: "visit"}
	return []httpx.Route{
		rt("GET", "/api/v1/persons/{id}/visits", read, a.listVisits, "a person's visits and contacts (notes included)"),
		rt("POST", "/api/v1/persons/{id}/visits", write, a.recordVisit, "record a visit, an attempt or a planned visit (idempotent by id)"),
		rt("GET", "/api/v1/visits/{id}", readVisit, a.getVisit, "one visit"),
		rt("PATCH", "/api/v1/visits/{id}", readVisit, a.editVisit, "edit a visit (author or lead), keeping the replaced version"),
		rt("GET", "/api/v1/visits/{id}/revisions", readVisit, a.visitRevisions, "the earlier versions of a visit"),
		rt("GET", "/api/v1/visits", httpx.Access{Perm: casework.PermSensitive}, a.listOrgVisits, "visits in scope between two dates (no notes)"),
		rt("POST", "/api/v1/visits/import", httpx.Access{Perm: casework.PermWritePersons}, a.importVisits, "import visits from the Excel template"),
	}
}

type visitJSON struct {
	ID            string                 `json:"id"`
	PersonID      string                 `json:"person_id"`
	PersonName    string                 `json:"person_name"`
	Kind          casework.VisitKind     `json:"kind"`
	State         casework.VisitState    `json:"state"`
	At            time.Time              `json:"at"`
	LocalDate     casework.Date          `json:"local_date"`
	FaceToFace    bool                   `json:"face_to_face"`
	Participants  []casework.Participant `json:"participants"`
	Condition     string                 `json:"condition,omitempty"`
	ConditionNote string                 `json:"condition_note,omitempty"`
	Notes         string                 `json:"notes,omitempty"`
	Location      *casework.Geo          `json:"location,omitempty"`
	Address       string                 `json:"address,omitempty"`
	DistanceM     *float64               `json:"distance_m,omitempty"`
	FollowUps     []casework.FollowUp    `json:"follow_ups"`
	Photos        int                    `json:"photos"`
	Source        string                 `json:"source"`
	CreatedByName string                 `json:"created_by_name"`
	CreatedAt     time.Time              `json:"created_at"`
	Rev           int                    `json:"rev"`
	CanEdit       bool                   `json:"can_edit"`
}

func toVisitJSON(v *store.Visit) visitJSON {
	j := visitJSON{ID: v.ID, PersonID: v.PersonID, PersonName: v.PersonName, Kind: v.Kind, State: v.State, At: v.At, LocalDate: v.LocalDate,
		FaceToFace: v.FaceToFace, Participants: v.Participants, Condition: v.Condition, ConditionNote: v.ConditionNote, Notes: v.Notes,
		Location: v.Location, Address: v.Address, DistanceM: v.DistanceM, FollowUps: v.FollowUps, Photos: len(v.Photos), Source: v.Source,
		CreatedByName: v.CreatedByName, CreatedAt: v.CreatedAt, Rev: v.Rev, CanEdit: v.CanEdit}
	if j.Participants == nil {
		j.Participants = []casework.Participant{}
	}
	if j.FollowUps == nil {
		j.FollowUps = []casework.FollowUp{}
	}
	return j
}

type visitRequest struct {
	ID            string                 `json:"id"`
	Kind          casework.VisitKind     `json:"kind"`
	State         casework.VisitState    `json:"state"`
	At            time.Time              `json:"at"`
	FaceToFace    *bool                  `json:"face_to_face"`
	Participants  []casework.Participant `json:"participants"`
	Location      *casework.Geo          `json:"location"`
	Address       string                 `json:"address"`
	Notes         string                 `json:"notes"`
	Condition     string                 `json:"condition"`
	ConditionNote string                 `json:"condition_note"`
	FollowUps     []casework.FollowUp    `json:"follow_ups"`
	Reason        string                 `json:"reason"` // an edit's reason (PATCH)
}

func (v visitRequest) input() casework.VisitInput {
	return casework.VisitInput{ID: v.ID, Kind: v.Kind, State: v.State, At: v.At, FaceToFace: v.FaceToFace, Participants: v.Participants,
		Location: v.Location, Address: v.Address, Notes: v.Notes, Condition: v.Condition, ConditionNote: v.ConditionNote, FollowUps: v.FollowUps}
}

func (a *API) listVisits(w http.ResponseWriter, r *http.Request, q *req) error {
	vs, err := a.DB.ListVisits(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := list[visitJSON]{Items: []visitJSON{}, Total: len(vs)}
	for i := range vs {
		out.Items = append(out.Items, toVisitJSON(&vs[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) recordVisit(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := a.DB.CanRecordVisit(r.Context(), q.Actor, r.PathValue("id")); err != nil {
		return err
	}
	var in visitRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Reason != "" {
		return casework.Invalid("reason", "新建记录不需要修改原因", "a new record takes no reason")
	}
	v, created, err := a.DB.RecordVisit(r.Context(), q.Actor, r.PathValue("id"), in.input(), nil)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, toVisitJSON(v))
	return nil
}

func (a *API) getVisit(w http.ResponseWriter, r *http.Request, q *req) error {
	v, err := a.DB.GetVisit(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toVisitJSON(v))
	return nil
}

func (a *API) editVisit(w http.ResponseWriter, r *http.Request, q *req) error {
	var in visitRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	v, err := a.DB.EditVisit(r.Context(), q.Actor, r.PathValue("id"), in.input(), in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toVisitJSON(v))
	return nil
}

func (a *API) visitRevisions(w http.ResponseWriter, r *http.Request, q *req) error {
	v, err := a.DB.GetVisit(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	revs, err := a.DB.ListRevisions(r.Context(), q.Actor, v.PersonID, "visit", v.ID)
	if err != nil {
		return err
	}
	out := list[revisionJSON]{Items: []revisionJSON{}, Total: len(revs)}
	for _, rv := range revs {
		var prev store.Visit
		if err := json.Unmarshal(rv.Previous, &prev); err != nil {
			return err
		}
		out.Items = append(out.Items, revisionJSON{Rev: rv.Rev, EditedByName: rv.EditedByName, EditedAt: rv.EditedAt, Reason: rv.Reason,
			Previous: toVisitJSON(&prev)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) listOrgVisits(w http.ResponseWriter, r *http.Request, q *req) error {
	qv := r.URL.Query()
	f := store.VisitFilter{OrgID: qv.Get("org_id"), Kind: casework.VisitKind(qv.Get("kind")), State: casework.VisitState(qv.Get("state"))}
	var err error
	if s := qv.Get("from"); s != "" {
		if f.From, err = casework.ParseDateField("from", s); err != nil {
			return err
		}
	}
	if s := qv.Get("to"); s != "" {
		if f.To, err = casework.ParseDateField("to", s); err != nil {
			return err
		}
	}
	vs, err := a.DB.ListOrgVisits(r.Context(), q.Actor, f, "visit.list_org")
	if err != nil {
		return err
	}
	out := list[visitJSON]{Items: []visitJSON{}, Total: len(vs)}
	for i := range vs {
		out.Items = append(out.Items, toVisitJSON(&vs[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) importVisits(w http.ResponseWriter, r *http.Request, q *req) error {
	rep, err := readImport(w, r, func(ctx context.Context, f io.Reader, dry bool) (*store.ImportReport, error) {
		rows, err := exchange.ReadVisitImport(f)
		if err != nil {
			return nil, err
		}
		return a.DB.ImportVisits(ctx, q.Actor, rows, dry)
	})
	if err != nil {
		return err
	}
	out := reportJSON(rep, q.Lang)
	out.Errors = exchange.VisitErrors(rep, q.Lang)
	writeJSON(w, importStatus(rep), out)
	return nil
}

// todayAppointments is the app's "today" part of visits: the person's
// planned visits of the next 30 days (issue 11 §10).
func (a *API) todayAppointments(ctx context.Context, dev *store.AppDevice, lang string, out map[string]any) error {
	as, err := a.DB.AppUpcomingVisits(ctx, dev.PersonID)
	if err != nil {
		return err
	}
	items := []map[string]any{}
	loc := casework.LoadLocation("")
	for _, ap := range as {
		when := ap.At.In(loc).Format("01-02 15:04")
		kind := map[casework.VisitKind][2]string{casework.VisitHome: {"上门走访", "home visit"}, casework.VisitPhone: {"电话联系", "phone call"},
			casework.VisitOffice: {"到社区谈话", "talk at the office"}, casework.VisitVideo: {"视频通话", "video call"}}[ap.Kind]
		text := when + " " + kind[0]
		if ap.Worker != "" {
			text += "（" + ap.Worker + "）"
		}
		if lang == "en" {
			text = when + " " + kind[1]
			if ap.Worker != "" {
				text += " (" + ap.Worker + ")"
			}
		}
		items = append(items, map[string]any{"id": ap.ID, "kind": string(ap.Kind), "at": ap.At, "address": ap.Address, "worker": ap.Worker, "text": text})
	}
	addAppointments(out, items)
	return nil
}
