package web

import (
	"bytes"
	"net/http"

	"kangfu/internal/casework"
	"kangfu/internal/dossier"
	"kangfu/internal/exchange"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// retentionRoutes: statutory queries of sealed files (R38) and the
// person's own data export (PIPL Art 45; issue 15 "must add").
func (c *Console) retentionRoutes(rt route) []httpx.Route {
	query := httpx.Access{Perm: casework.PermStatutoryQuery}
	own := httpx.Access{Perm: casework.PermOwnDataExport, Target: "person"}
	return []httpx.Route{
		rt("GET", "/statutory-queries", httpx.Access{Perm: casework.PermReadAudit}, c.statutoryList, "the log of statutory queries of sealed files"),
		rt("GET", "/statutory-queries/new", query, c.statutoryNew, "record a statutory query (form)"),
		rt("POST", "/statutory-queries", query, c.statutoryCreate, "record a statutory query"),
		rt("GET", "/statutory-queries/{id}", httpx.Access{Perm: casework.PermStatutoryQuery, Target: "statutory_query"}, c.statutoryView,
			"the sealed file of a statutory query, read-only"),
		rt("GET", "/statutory-queries/{id}/reopen", httpx.Access{Perm: casework.PermStatutoryQuery, Target: "statutory_query"}, c.reopenForm,
			"reopen the sealed file for a new measure (form)"),
		rt("POST", "/statutory-queries/{id}/reopen", httpx.Access{Perm: casework.PermStatutoryQuery, Target: "statutory_query"}, c.reopenSubmit,
			"reopen the sealed file for a new measure (R38)"),
		rt("GET", "/persons/{id}/own-data", own, c.ownDataForm, "the person's own data export (form)"),
		rt("POST", "/persons/{id}/own-data", own, c.ownDataCreate, "record the person's request for their own data"),
		rt("GET", "/own-data-exports/{id}", httpx.Access{Perm: casework.PermOwnDataExport, Target: "own_data_export"}, c.ownDataDownload,
			"download the person's own data (once, within 15 minutes)"),
	}
}

type statutoryListData struct {
	Rows     []*store.StatutoryQuery
	CanQuery bool
}

func (c *Console) statutoryList(w http.ResponseWriter, r *http.Request, q *req) error {
	rows, err := c.DB.ListStatutoryQueries(r.Context(), q.Actor, 200)
	if err != nil {
		return err
	}
	c.render(w, r, q, http.StatusOK, "statutory_queries", statutoryListData{Rows: rows, CanQuery: q.Actor.CanAnywhere(casework.PermStatutoryQuery)})
	return nil
}

type statutoryFormData struct {
	Form casework.StatutoryQueryInput
	Err  *formError
}

func (c *Console) statutoryNew(w http.ResponseWriter, r *http.Request, q *req) error {
	c.render(w, r, q, http.StatusOK, "statutory_query_new", statutoryFormData{})
	return nil
}

func (c *Console) statutoryCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	in := casework.StatutoryQueryInput{IDNumber: r.PostFormValue("id_number"), Organ: r.PostFormValue("organ"),
		LegalBasis: r.PostFormValue("legal_basis"), DocumentNo: r.PostFormValue("document_no"), Reason: r.PostFormValue("reason")}
	sq, err := c.DB.RecordStatutoryQuery(r.Context(), q.Actor, in)
	if fe, ok := toFormError(err, q.Lang); ok {
		c.render(w, r, q, http.StatusBadRequest, "statutory_query_new", statutoryFormData{Form: in, Err: fe})
		return nil
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/statutory-queries/"+sq.ID, "statutory_query_recorded")
}

// statutoryView shows the sealed file through the dossier's print view,
// read-only, with who asked and on what basis above it.
func (c *Console) statutoryView(w http.ResponseWriter, r *http.Request, q *req) error {
	sq, d, err := c.DB.OpenStatutoryQuery(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := dossier.Build(d, q.Lang)
	loc := casework.LoadLocation("")
	v.Sealed = []dossier.Pair{
		{Label: i18n.T(q.Lang, "statutory.organ"), Value: sq.Organ},
		{Label: i18n.T(q.Lang, "statutory.legal_basis"), Value: sq.LegalBasis},
		{Label: i18n.T(q.Lang, "statutory.document_no"), Value: sq.DocumentNo},
		{Label: i18n.T(q.Lang, "statutory.reason"), Value: sq.Reason},
		{Label: i18n.T(q.Lang, "statutory.recorded_by"), Value: sq.ActorName + " · " + sq.CreatedAt.In(loc).Format("2006-01-02 15:04")},
		{Label: i18n.T(q.Lang, "statutory.until"), Value: sq.ExpiresAt.In(loc).Format("2006-01-02 15:04")},
	}
	if sealed, err := c.DB.IsSealed(r.Context(), sq.PersonID); err != nil {
		return err
	} else if sealed {
		v.ReopenQueryID = sq.ID // reopening for a new measure (R38)
	}
	c.render(w, r, q, http.StatusOK, "dossier", v)
	return nil
}

type reopenData struct {
	Q    *store.StatutoryQuery
	Form casework.ReopenInput
	Err  *formError
}

// reopenForm asks for the new decision to reopen a sealed file (R38).
func (c *Console) reopenForm(w http.ResponseWriter, r *http.Request, q *req) error {
	sq, err := c.DB.ReopenableQuery(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	c.render(w, r, q, http.StatusOK, "statutory_reopen", reopenData{Q: sq, Form: casework.ReopenInput{LegalBasis: sq.DocumentNo}})
	return nil
}

func (c *Console) reopenSubmit(w http.ResponseWriter, r *http.Request, q *req) error {
	in := casework.ReopenInput{LegalBasis: r.PostFormValue("legal_basis"), Reason: r.PostFormValue("reason")}
	sq, err := c.DB.ReopenSealed(r.Context(), q.Actor, r.PathValue("id"), in)
	if fe, ok := toFormError(err, q.Lang); ok {
		got, gerr := c.DB.ReopenableQuery(r.Context(), q.Actor, r.PathValue("id"))
		if gerr != nil {
			return gerr
		}
		c.render(w, r, q, http.StatusBadRequest, "statutory_reopen", reopenData{Q: got, Form: in, Err: fe})
		return nil
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/persons/"+sq.PersonID, "file_reopened")
}

type ownDataData struct {
	P      *casework.Person
	Reason string
	Err    *formError
	Export *store.DataExport
	Until  string
}

func (c *Console) ownDataPage(w http.ResponseWriter, r *http.Request, q *req, d ownDataData, status int) error {
	p, err := c.DB.GetPerson(r.Context(), q.Actor, r.PathValue("id"), "own data export")
	if err != nil {
		return err
	}
	d.P = p
	c.render(w, r, q, status, "own_data", d)
	return nil
}

func (c *Console) ownDataForm(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.ownDataPage(w, r, q, ownDataData{}, http.StatusOK)
}

func (c *Console) ownDataCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	reason := r.PostFormValue("reason")
	e, err := c.DB.RequestOwnDataExport(r.Context(), q.Actor, r.PathValue("id"), reason)
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.ownDataPage(w, r, q, ownDataData{Reason: reason, Err: fe}, http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	return c.ownDataPage(w, r, q, ownDataData{Export: e, Until: e.ExpiresAt.In(casework.LoadLocation("")).Format("15:04")}, http.StatusOK)
}

// ownDataDownload sends the zip once to the user who recorded the request.
func (c *Console) ownDataDownload(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := c.DB.TakeOwnDataExport(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := exchange.WriteOwnData(&b, d, q.Lang); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	dossier.SendFile(w, "application/zip", exchange.OwnDataFileName(d), b.Bytes())
	return nil
}
