package api

import (
	"errors"
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/dossier"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// documentRoutes are the routes of documents and the dossier (issue 3 §5).
// Reading needs sensitive access (a counsellor's minimal profile has no
// documents); filing needs write access.
func (a *API) documentRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermSensitive, Target: "person"}
	write := httpx.Access{Perm: casework.PermWritePersons, Target: "person"}
	return []httpx.Route{
		rt("GET", "/api/v1/persons/{id}/documents", read, a.listDocuments, "a person's documents, newest first"),
		rt("POST", "/api/v1/persons/{id}/documents", write, a.uploadDocument, "upload a scan (multipart: kind, title, file)"),
		rt("POST", "/api/v1/persons/{id}/documents/generate", write, a.generateDocument, "generate a standard document as PDF and file it"),
		rt("GET", "/api/v1/documents/{id}/content", httpx.Access{Perm: casework.PermSensitive, Target: "document"}, a.downloadDocument,
			"a document's content (audited as an export)"),
		rt("GET", "/api/v1/persons/{id}/dossier.pdf", read, a.dossierPDF, "the whole file as PDF (audited as an export)"),
	}
}

func (a *API) docs() *dossier.Service {
	return &dossier.Service{DB: a.DB, Blobs: a.Blobs, MaxUpload: a.MaxUpload}
}

type documentJSON struct {
	ID        string    `json:"id"`
	PersonID  string    `json:"person_id"`
	MeasureID string    `json:"measure_id,omitempty"`
	OrgID     string    `json:"org_id"`
	OrgName   string    `json:"org_name"`
	Kind      string    `json:"kind"`
	KindLabel string    `json:"kind_label"`
	Title     string    `json:"title"`
	Source    string    `json:"source"`
	SHA256    string    `json:"sha256"`
	MIME      string    `json:"mime"`
	Size      int64     `json:"size"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func toDocumentJSON(d *store.Document, lang string) documentJSON {
	return documentJSON{ID: d.ID, PersonID: d.PersonID, MeasureID: d.MeasureID, OrgID: d.OrgID, OrgName: d.OrgName, Kind: d.Kind,
		KindLabel: dossier.KindLabel(lang, d.Kind), Title: d.Title, Source: d.Source, SHA256: d.SHA256, MIME: d.MIME, Size: d.Size,
		CreatedBy: d.CreatedByName, CreatedAt: d.CreatedAt}
}

// docFail answers 503 when the server has no blob store, else as usual.
func (a *API) docFail(w http.ResponseWriter, r *http.Request, q *req, err error) error {
	if errors.Is(err, dossier.ErrNoBlobs) {
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: errorDetail{Code: "unavailable",
			Message: dossier.T(q.Lang, "doc.unavailable"), RequestID: httpx.RequestID(r.Context())}})
		return nil
	}
	return err
}

func (a *API) listDocuments(w http.ResponseWriter, r *http.Request, q *req) error {
	docs, err := a.DB.ListDocuments(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := list[documentJSON]{Items: []documentJSON{}, Total: len(docs)}
	for i := range docs {
		out.Items = append(out.Items, toDocumentJSON(&docs[i], q.Lang))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) uploadDocument(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	s := a.docs()
	// Access first: a file outside the caller's scope is 404 whatever the body.
	if err := s.CheckUpload(r.Context(), q.Actor, id); err != nil {
		return a.docFail(w, r, q, err)
	}
	up, err := s.ParseUpload(w, r)
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	if err != nil {
		return err
	}
	d, err := s.Upload(r.Context(), q.Actor, id, up)
	if err != nil {
		return a.docFail(w, r, q, err)
	}
	writeJSON(w, http.StatusCreated, toDocumentJSON(d, q.Lang))
	return nil
}

func (a *API) generateDocument(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		Template string `json:"template"`
	}
	id := r.PathValue("id")
	s := a.docs()
	if err := s.CheckUpload(r.Context(), q.Actor, id); err != nil {
		return a.docFail(w, r, q, err)
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	d, err := s.Generate(r.Context(), q.Actor, id, in.Template)
	if err != nil {
		return a.docFail(w, r, q, err)
	}
	writeJSON(w, http.StatusCreated, toDocumentJSON(d, q.Lang))
	return nil
}

func (a *API) downloadDocument(w http.ResponseWriter, r *http.Request, q *req) error {
	d, rc, size, err := a.docs().OpenDocument(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return a.docFail(w, r, q, err)
	}
	return dossier.SendStream(w, r, d.MIME, dossier.FileName(d), rc, size)
}

func (a *API) dossierPDF(w http.ResponseWriter, r *http.Request, q *req) error {
	d, b, err := a.docs().DossierPDF(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	dossier.SendFile(w, "application/pdf", dossier.T("zh", "dossier.title")+"-"+d.Person.Name+".pdf", b)
	return nil
}
