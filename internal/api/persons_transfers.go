package api

import (
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

type transferJSON struct {
	ID             string     `json:"id"`
	PersonID       string     `json:"person_id"`
	PersonName     string     `json:"person_name"`
	FromOrgID      string     `json:"from_org_id"`
	FromOrgName    string     `json:"from_org_name"`
	ToOrgID        string     `json:"to_org_id"`
	ToOrgName      string     `json:"to_org_name"`
	State          string     `json:"state"`
	Reason         string     `json:"reason"`
	RequestedAt    time.Time  `json:"requested_at"`
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
	DecisionReason string     `json:"decision_reason,omitempty"`
}

func toTransferJSON(t *store.Transfer) transferJSON {
	return transferJSON{ID: t.ID, PersonID: t.PersonID, PersonName: t.PersonName, FromOrgID: t.FromOrgID, FromOrgName: t.FromOrgName,
		ToOrgID: t.ToOrgID, ToOrgName: t.ToOrgName, State: t.State, Reason: t.Reason, RequestedAt: t.RequestedAt.UTC(),
		DecidedAt: timePtr(t.DecidedAt), DecisionReason: t.DecisionReason}
}

type transferRequest struct {
	ToOrgID string `json:"to_org_id"`
	Reason  string `json:"reason"`
}

func (a *API) startTransfer(w http.ResponseWriter, r *http.Request, q *req) error {
	var in transferRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := a.DB.StartTransfer(r.Context(), q.Actor, r.PathValue("id"), in.ToOrgID, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toTransferJSON(t))
	return nil
}

var transferStates = map[string]bool{"": true, "pending": true, "accepted": true, "refused": true, "cancelled": true}

func (a *API) listTransfers(w http.ResponseWriter, r *http.Request, q *req) error {
	qs := r.URL.Query()
	dir, state := qs.Get("direction"), qs.Get("state")
	if dir != "" && dir != "incoming" && dir != "outgoing" {
		return casework.Invalid("direction", "direction 应为 incoming 或 outgoing", "direction must be incoming or outgoing")
	}
	if !transferStates[state] {
		return casework.Invalid("state", "state 应为 pending、accepted、refused 或 cancelled", "state must be pending, accepted, refused or cancelled")
	}
	ts, err := a.DB.ListTransfers(r.Context(), q.Actor, state, dir != "outgoing")
	if err != nil {
		return err
	}
	out := list[transferJSON]{Items: []transferJSON{}, Total: len(ts)}
	for i := range ts {
		out.Items = append(out.Items, toTransferJSON(&ts[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type transferDecisionRequest struct {
	Accept        bool   `json:"accept"`
	Reason        string `json:"reason"`
	WorkerID      string `json:"worker_id"`
	AgreementDate string `json:"agreement_date"`
}

func (a *API) decideTransfer(w http.ResponseWriter, r *http.Request, q *req) error {
	var in transferDecisionRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	d, err := casework.ParseDateField("agreement_date", in.AgreementDate)
	if err != nil {
		return err
	}
	t, err := a.DB.DecideTransfer(r.Context(), q.Actor, r.PathValue("id"), store.TransferDecision{Accept: in.Accept, Reason: in.Reason,
		WorkerID: in.WorkerID, AgreementDate: d})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTransferJSON(t))
	return nil
}

func (a *API) cancelTransfer(w http.ResponseWriter, r *http.Request, q *req) error {
	var in reasonRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := a.DB.CancelTransfer(r.Context(), q.Actor, id, in.Reason); err != nil {
		return err
	}
	t, err := a.DB.GetTransfer(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTransferJSON(t))
	return nil
}

type correctionJSON struct {
	ID          string    `json:"id"`
	PersonID    string    `json:"person_id"`
	Reason      string    `json:"reason"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	State       string    `json:"state"`
	DecidedBy   string    `json:"decided_by,omitempty"`
}

func (a *API) listCorrections(w http.ResponseWriter, r *http.Request, q *req) error {
	cs, err := a.DB.ListCorrections(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := list[correctionJSON]{Items: []correctionJSON{}, Total: len(cs)}
	for _, c := range cs {
		out.Items = append(out.Items, correctionJSON{ID: c.ID, PersonID: c.PersonID, Reason: c.Reason, RequestedBy: c.RequestedBy,
			RequestedAt: c.RequestedAt.UTC(), State: c.State, DecidedBy: c.DecidedBy})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type correctionRequest struct {
	Reason  string      `json:"reason"`
	Changes personPatch `json:"changes"`
}

type idResponse struct {
	ID string `json:"id"`
}

func (a *API) requestCorrection(w http.ResponseWriter, r *http.Request, q *req) error {
	var in correctionRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	up, err := in.Changes.toUpdate()
	if err != nil {
		return err
	}
	if up == (store.PersonUpdate{}) {
		return casework.Invalid("changes", "请填写要更正的内容", "changes must name at least one field to correct")
	}
	id, err := a.DB.RequestCorrection(r.Context(), q.Actor, r.PathValue("id"), up, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, idResponse{ID: id})
	return nil
}

type correctionDecisionRequest struct {
	Approve bool   `json:"approve"`
	Reason  string `json:"reason"`
}

func (a *API) decideCorrection(w http.ResponseWriter, r *http.Request, q *req) error {
	var in correctionDecisionRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.DB.DecideCorrection(r.Context(), q.Actor, r.PathValue("id"), in.Approve, in.Reason); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
