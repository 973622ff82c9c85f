package api

import (
	"bytes"
	"fmt"
	"net/http"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/httpx"
)

// Excel import and export of psychological sessions (issue 11 §8): the
// same store and exchange calls as the console.
func (a *API) psychExchangeRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermPsychRead}
	imp := httpx.Access{Perm: casework.PermImport}
	return []httpx.Route{
		rt("GET", "/api/v1/psych/groups/export.xlsx", read, a.psychExportGroups, "the group sessions as Excel"),
		rt("GET", "/api/v1/psych/sessions/export.xlsx", read, a.psychExportSessions, "the one-to-one sessions as Excel (no notes)"),
		rt("POST", "/api/v1/psych/import", imp, a.psychImport, "import group or one-to-one sessions from Excel"),
	}
}

func (a *API) psychExport(w http.ResponseWriter, r *http.Request, q *req, kind string) error {
	var buf bytes.Buffer
	if _, err := exchange.ExportSessions(r.Context(), a.DB, q.Actor, kind, q.Lang, &buf); err != nil {
		return err
	}
	writeXLSX(w, fmt.Sprintf("psych-%s-%s.xlsx", kind, a.DB.Now().Format("20060102")), buf.Bytes())
	return nil
}

func (a *API) psychExportGroups(w http.ResponseWriter, r *http.Request, q *req) error {
	return a.psychExport(w, r, q, "group")
}

func (a *API) psychExportSessions(w http.ResponseWriter, r *http.Request, q *req) error {
	return a.psychExport(w, r, q, "individual")
}

func (a *API) psychImport(w http.ResponseWriter, r *http.Request, q *req) error {
	r.Body = http.MaxBytesReader(w, r.Body, exchange.MaxFileBytes+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return casework.Invalid("file", "请以 multipart/form-data 上传 Excel 文件（字段 file）", "upload the Excel file as multipart/form-data (field file)")
	}
	defer r.MultipartForm.RemoveAll()
	kind := r.FormValue("kind")
	dry := r.FormValue("dry_run") == "true" || r.FormValue("dry_run") == "1"
	file, _, err := r.FormFile("file")
	if err != nil {
		return casework.Invalid("file", "缺少上传的文件（字段 file）", "the upload has no file (field file)")
	}
	defer file.Close()
	rows, err := exchange.ReadSessionImport(file, kind)
	if err != nil {
		return err
	}
	rep, err := a.DB.ImportSessions(r.Context(), q.Actor, kind, rows, dry)
	if err != nil {
		return err
	}
	out := reportJSON(rep, q.Lang)
	out.Errors = exchange.SessionErrors(rep, q.Lang)
	writeJSON(w, importStatus(rep), out)
	return nil
}
