package api

import (
	"bytes"
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/dossier"
	"kangfu/internal/exchange"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// retentionRoutes: statutory queries of sealed files (R38) and the
// person's own data export (PIPL Art 45; issue 15 "must add").
func (a *API) retentionRoutes(rt route) []httpx.Route {
	query := httpx.Access{Perm: casework.PermStatutoryQuery}
	return []httpx.Route{
		rt("GET", "/api/v1/statutory-queries", httpx.Access{Perm: casework.PermReadAudit}, a.listStatutoryQueries, "the log of statutory queries"),
		rt("POST", "/api/v1/statutory-queries", query, a.createStatutoryQuery, "record a statutory query of a sealed file (R38)"),
		rt("GET", "/api/v1/statutory-queries/{id}", httpx.Access{Perm: casework.PermStatutoryQuery, Target: "statutory_query"}, a.getStatutoryQuery,
			"the sealed file of a statutory query, read-only"),
		rt("POST", "/api/v1/statutory-queries/{id}/reopen", httpx.Access{Perm: casework.PermStatutoryQuery, Target: "statutory_query"}, a.reopenSealed,
			"reopen the sealed file of a statutory query for a new measure (R38)"),
		rt("POST", "/api/v1/persons/{id}/own-data-exports", httpx.Access{Perm: casework.PermOwnDataExport, Target: "person"}, a.createOwnDataExport,
			"record the person's request for their own data"),
		rt("GET", "/api/v1/own-data-exports/{id}", httpx.Access{Perm: casework.PermOwnDataExport, Target: "own_data_export"}, a.downloadOwnDataExport,
			"download the person's own data as a zip (once, within 15 minutes)"),
	}
}

type statutoryQueryJSON struct {
	ID         string    `json:"id"`
	PersonID   string    `json:"person_id"`
	PersonName string    `json:"person_name"`
	OrgID      string    `json:"org_id"`
	OrgName    string    `json:"org_name"`
	RecordedBy string    `json:"recorded_by"`
	Organ      string    `json:"organ"`
	LegalBasis string    `json:"legal_basis"`
	DocumentNo string    `json:"document_no"`
	Reason     string    `json:"reason"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func toStatutoryJSON(q *store.StatutoryQuery) statutoryQueryJSON {
	return statutoryQueryJSON{ID: q.ID, PersonID: q.PersonID, PersonName: q.PersonName, OrgID: q.OrgID, OrgName: q.OrgName, RecordedBy: q.ActorName,
		Organ: q.Organ, LegalBasis: q.LegalBasis, DocumentNo: q.DocumentNo, Reason: q.Reason, CreatedAt: q.CreatedAt, ExpiresAt: q.ExpiresAt}
}

func (a *API) listStatutoryQueries(w http.ResponseWriter, r *http.Request, q *req) error {
	rows, err := a.DB.ListStatutoryQueries(r.Context(), q.Actor, 500)
	if err != nil {
		return err
	}
	out := make([]statutoryQueryJSON, 0, len(rows))
	for _, s := range rows {
		out = append(out, toStatutoryJSON(s))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

type statutoryQueryRequest struct {
	IDNumber   string `json:"id_number"`
	Organ      string `json:"organ"`
	LegalBasis string `json:"legal_basis"`
	DocumentNo string `json:"document_no"`
	Reason     string `json:"reason"`
}

func (a *API) createStatutoryQuery(w http.ResponseWriter, r *http.Request, q *req) error {
	var in statutoryQueryRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.DB.RecordStatutoryQuery(r.Context(), q.Actor, casework.StatutoryQueryInput{IDNumber: in.IDNumber, Organ: in.Organ,
		LegalBasis: in.LegalBasis, DocumentNo: in.DocumentNo, Reason: in.Reason})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toStatutoryJSON(s))
	return nil
}

// getStatutoryQuery returns the query and the sealed file as the dossier
// holds it (masked, read-only), in the caller's language.
func (a *API) getStatutoryQuery(w http.ResponseWriter, r *http.Request, q *req) error {
	s, d, err := a.DB.OpenStatutoryQuery(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"query": toStatutoryJSON(s), "file": dossier.Build(d, q.Lang)})
	return nil
}

type reopenRequest struct {
	LegalBasis string `json:"legal_basis"`
	Reason     string `json:"reason"`
}

// reopenSealed reopens the sealed file of a statutory query for a new
// measure (R38; store.ReopenSealed).
func (a *API) reopenSealed(w http.ResponseWriter, r *http.Request, q *req) error {
	var in reopenRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.DB.ReopenSealed(r.Context(), q.Actor, r.PathValue("id"), casework.ReopenInput{LegalBasis: in.LegalBasis, Reason: in.Reason})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"person_id": s.PersonID, "statutory_query_id": s.ID})
	return nil
}

type ownDataRequest struct {
	Reason string `json:"reason"`
}

func (a *API) createOwnDataExport(w http.ResponseWriter, r *http.Request, q *req) error {
	var in ownDataRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := a.DB.RequestOwnDataExport(r.Context(), q.Actor, r.PathValue("id"), in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": e.ID, "person_id": e.PersonID, "expires_at": e.ExpiresAt,
		"download": "/api/v1/own-data-exports/" + e.ID})
	return nil
}

func (a *API) downloadOwnDataExport(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := a.DB.TakeOwnDataExport(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := exchange.WriteOwnData(&b, d, q.Lang); err != nil {
		return err
	}
	dossier.SendFile(w, "application/zip", exchange.OwnDataFileName(d), b.Bytes())
	return nil
}
