package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Excel import and export of psychological sessions (issue 11 §8).
func (c *Console) psychExchangeRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermPsychRead}
	imp := httpx.Access{Perm: casework.PermImport}
	return []httpx.Route{
		rt("GET", "/psych/groups/export.xlsx", read, c.psychExportGroups, "export the group sessions to Excel"),
		rt("GET", "/psych/sessions/export.xlsx", read, c.psychExportSessions, "export the one-to-one sessions to Excel"),
		rt("GET", "/psych/import", imp, c.psychImportForm, "import form for sessions"),
		rt("POST", "/psych/import", imp, c.psychImportUpload, "import sessions from Excel"),
		rt("GET", "/psych/import/template.xlsx", imp, c.psychImportTemplate, "the session import template"),
	}
}

func (c *Console) psychExport(w http.ResponseWriter, r *http.Request, q *req, kind string) error {
	return sendWorkbook(w, fmt.Sprintf("psych-%s-%s.xlsx", kind, c.DB.Now().Format("20060102")), func(out io.Writer) error {
		_, err := exchange.ExportSessions(r.Context(), c.DB, q.Actor, kind, q.Lang, out)
		return err
	})
}

func (c *Console) psychExportGroups(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.psychExport(w, r, q, "group")
}

func (c *Console) psychExportSessions(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.psychExport(w, r, q, "individual")
}

func importKind(s string) string {
	if s == "individual" {
		return s
	}
	return "group"
}

func (c *Console) psychImportTemplate(w http.ResponseWriter, r *http.Request, q *req) error {
	kind := importKind(r.URL.Query().Get("kind"))
	return sendWorkbook(w, "kangfu-psych-"+kind+"-template.xlsx", func(out io.Writer) error {
		b, err := exchange.SessionTemplate(kind, q.Lang)
		if err == nil {
			_, err = out.Write(b)
		}
		return err
	})
}

type psychImportData struct {
	Kind   string
	Err    string
	DryRun bool
	Report *store.ImportReport
	Errors []exchange.ErrorRow
}

func (c *Console) psychImportForm(w http.ResponseWriter, r *http.Request, q *req) error {
	c.render(w, r, q, http.StatusOK, "psych_import", psychImportData{Kind: "group", DryRun: true})
	return nil
}

func (c *Console) psychImportUpload(w http.ResponseWriter, r *http.Request, q *req) error {
	r.Body = http.MaxBytesReader(w, r.Body, exchange.MaxFileBytes+1<<20)
	d := psychImportData{Kind: "group"}
	var err error
	if err = r.ParseMultipartForm(1 << 20); err != nil {
		err = casework.Invalid("file", "请选择要上传的 Excel 文件（.xlsx）", "choose an Excel file (.xlsx) to upload")
	}
	d.Kind, d.DryRun = importKind(r.FormValue("kind")), r.FormValue("dry_run") != ""
	var rows []store.SessionImportRow
	if err == nil {
		file, _, ferr := r.FormFile("file")
		if ferr != nil {
			err = casework.Invalid("file", "请选择要上传的 Excel 文件（.xlsx）", "choose an Excel file (.xlsx) to upload")
		} else {
			defer file.Close()
			rows, err = exchange.ReadSessionImport(file, d.Kind)
		}
	}
	if err == nil {
		d.Report, err = c.DB.ImportSessions(r.Context(), q.Actor, d.Kind, rows, d.DryRun)
	}
	var ce *casework.Error
	if errors.As(err, &ce) && ce.Code == casework.EINVALID {
		d.Err = ce.Message(q.Lang)
		c.render(w, r, q, http.StatusBadRequest, "psych_import", d)
		return nil
	}
	if err != nil {
		return err
	}
	d.Errors = exchange.SessionErrors(d.Report, q.Lang)
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	c.render(w, r, q, status, "psych_import", d)
	return nil
}
