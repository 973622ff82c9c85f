package web

import (
	"errors"
	"net/http"
	"net/url"

	"kangfu/internal/casework"
	"kangfu/internal/dossier"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// documentRoutes are the documents of a person file and the printable
// dossier (issue 3 §5). Reading needs sensitive access (a counsellor's
// minimal profile has no documents); filing needs write access.
func (c *Console) documentRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermSensitive, Target: "person"}
	write := httpx.Access{Perm: casework.PermWritePersons, Target: "person"}
	doc := httpx.Access{Perm: casework.PermSensitive, Target: "document"}
	return []httpx.Route{
		rt("GET", "/persons/{id}/documents", read, c.documentList, "a person's documents"),
		rt("POST", "/persons/{id}/documents", write, c.documentUpload, "upload a scan"),
		rt("POST", "/persons/{id}/documents/generate", write, c.documentGenerate, "generate a standard document"),
		rt("GET", "/documents/{id}/content", doc, c.documentDownload, "download a document"),
		rt("GET", "/persons/{id}/dossier", read, c.dossierPrint, "the dossier, print view"),
		rt("GET", "/persons/{id}/dossier.pdf", read, c.dossierPDF, "the dossier as PDF"),
	}
}

func (c *Console) docs() *dossier.Service {
	return &dossier.Service{DB: c.DB, Blobs: c.Blobs, MaxUpload: c.MaxUpload}
}

// documentsPage is the data of documents.html.
type documentsPage struct {
	P         *casework.Person
	Docs      []dossier.DocumentRow
	Kinds     []option
	Templates []option
	Limit     string
	Err       *formError
	Kind      string
	Title     string
}

type option struct{ Value, Label string }

func (c *Console) documentsPage(w http.ResponseWriter, r *http.Request, q *req, status int, fe *formError, kind, title string) error {
	id := r.PathValue("id")
	p, err := c.DB.GetPerson(r.Context(), q.Actor, id, "")
	if err != nil {
		return err
	}
	list, err := c.DB.ListDocuments(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	d := documentsPage{P: p, Limit: dossier.SizeLabel(c.docs().Limit()), Err: fe, Kind: kind, Title: title}
	loc := casework.LoadLocation("")
	for _, doc := range list {
		d.Docs = append(d.Docs, dossier.DocumentRow{ID: doc.ID, Kind: dossier.KindLabel(q.Lang, doc.Kind), Title: doc.Title,
			Source: dossier.T(q.Lang, "doc.source."+doc.Source), Size: dossier.SizeLabel(doc.Size), By: doc.CreatedByName,
			At: doc.CreatedAt.In(loc).Format("2006-01-02 15:04")})
	}
	for _, k := range store.DocumentKinds {
		d.Kinds = append(d.Kinds, option{k, dossier.KindLabel(q.Lang, k)})
	}
	for _, t := range dossier.Templates {
		d.Templates = append(d.Templates, option{t, dossier.T(q.Lang, "doc.template."+t)})
	}
	c.render(w, r, q, status, "documents", d)
	return nil
}

func (c *Console) documentList(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.documentsPage(w, r, q, http.StatusOK, nil, "", "")
}

// unavailable answers 503 when the server has no blob store.
func (c *Console) unavailable(w http.ResponseWriter, r *http.Request, q *req) {
	c.render(w, r, q, http.StatusServiceUnavailable, "error", map[string]any{
		"Status": http.StatusServiceUnavailable, "Message": dossier.T(q.Lang, "doc.unavailable"), "RequestID": httpx.RequestID(r.Context()),
	})
}

// documentError shows a bad upload or generation next to the form, and
// hands anything else to the error page.
func (c *Console) documentError(w http.ResponseWriter, r *http.Request, q *req, err error, kind, title string) error {
	if errors.Is(err, dossier.ErrNoBlobs) {
		c.unavailable(w, r, q)
		return nil
	}
	if fe, ok := toFormError(err, q.Lang); ok {
		status := http.StatusBadRequest
		if casework.ErrorCode(err) == casework.ECONFLICT {
			status = http.StatusConflict
		}
		return c.documentsPage(w, r, q, status, fe, kind, title)
	}
	return err
}

func (c *Console) documentUpload(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	s := c.docs()
	// Access first: a file outside the actor's scope is 404 whatever the body.
	if err := s.CheckUpload(r.Context(), q.Actor, id); err != nil {
		return c.documentError(w, r, q, err, "", "")
	}
	up, err := s.ParseUpload(w, r)
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	if err != nil {
		return c.documentError(w, r, q, err, up.Kind, up.Title)
	}
	if _, err := s.Upload(r.Context(), q.Actor, id, up); err != nil {
		return c.documentError(w, r, q, err, up.Kind, up.Title)
	}
	return redirect(w, r, "/persons/"+url.PathEscape(id)+"/documents", "doc_uploaded")
}

func (c *Console) documentGenerate(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	if _, err := c.docs().Generate(r.Context(), q.Actor, id, r.FormValue("template")); err != nil {
		return c.documentError(w, r, q, err, "", "")
	}
	return redirect(w, r, "/persons/"+url.PathEscape(id)+"/documents", "doc_generated")
}

func (c *Console) documentDownload(w http.ResponseWriter, r *http.Request, q *req) error {
	doc, rc, size, err := c.docs().OpenDocument(r.Context(), q.Actor, r.PathValue("id"))
	if errors.Is(err, dossier.ErrNoBlobs) {
		c.unavailable(w, r, q)
		return nil
	}
	if err != nil {
		return err
	}
	return dossier.SendStream(w, r, doc.MIME, dossier.FileName(doc), rc, size)
}

func (c *Console) dossierPrint(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := c.DB.LoadDossier(r.Context(), q.Actor, r.PathValue("id"), store.DossierPrint)
	if err != nil {
		return err
	}
	c.render(w, r, q, http.StatusOK, "dossier", dossier.Build(d, q.Lang))
	return nil
}

func (c *Console) dossierPDF(w http.ResponseWriter, r *http.Request, q *req) error {
	d, b, err := c.docs().DossierPDF(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	dossier.SendFile(w, "application/pdf", dossier.T("zh", "dossier.title")+"-"+d.Person.Name+".pdf", b)
	return nil
}
