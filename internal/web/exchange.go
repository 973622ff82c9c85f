package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// exchangeRoutes are the Excel pages: export of the person list, the
// import template, the import form and its report (issue 3 §7, §8).
func (c *Console) exchangeRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermReadPersons}
	imp := httpx.Access{Perm: casework.PermImport}
	return []httpx.Route{
		rt("GET", "/persons/export.xlsx", read, c.exportPersons, "export the person list to Excel"),
		rt("GET", "/persons/import", imp, c.importForm, "import form"),
		rt("POST", "/persons/import", imp, c.importUpload, "import persons from Excel"),
		rt("GET", "/persons/import/template.xlsx", imp, c.importTemplate, "the import template"),
	}
}

// exportPersons sends the list /persons shows for the same query as .xlsx,
// only the columns the actor may see, masked (R36); the store audits it.
func (c *Console) exportPersons(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := exchange.FilterFromQuery(r.URL.Query(), q.Actor, casework.DateOf(c.DB.Now(), nil))
	if err != nil {
		return err
	}
	return sendWorkbook(w, fmt.Sprintf("persons-%s.xlsx", c.DB.Now().Format("20060102")), func(out io.Writer) error {
		_, err := exchange.ExportPersons(r.Context(), c.DB, q.Actor, f, q.Lang, out)
		return err
	})
}

func (c *Console) importTemplate(w http.ResponseWriter, r *http.Request, q *req) error {
	return sendWorkbook(w, "kangfu-import-template.xlsx", func(out io.Writer) error { return exchange.WriteTemplate(out, q.Lang) })
}

// sendWorkbook builds the workbook in memory first, so a failure is a clean
// error page rather than half a file.
func sendWorkbook(w http.ResponseWriter, name string, build func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := build(&buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", exchange.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err := w.Write(buf.Bytes())
	return err
}

// importData is what the import page shows: the form, and after an upload
// the report (counts, then every error as row / column / reason).
type importData struct {
	Err     string
	DryRun  bool
	Report  *store.ImportReport
	Errors  []exchange.ErrorRow
	MaxRows int
}

func (c *Console) importForm(w http.ResponseWriter, r *http.Request, q *req) error {
	c.render(w, r, q, http.StatusOK, "import", importData{DryRun: true, MaxRows: exchange.MaxRows})
	return nil
}

func (c *Console) importUpload(w http.ResponseWriter, r *http.Request, q *req) error {
	d := importData{MaxRows: exchange.MaxRows}
	rows, dry, err := readUpload(w, r)
	d.DryRun = dry
	if err == nil {
		d.Report, err = c.DB.ImportPersons(r.Context(), q.Actor, rows, dry)
	}
	var ce *casework.Error
	if errors.As(err, &ce) && ce.Code == casework.EINVALID {
		d.Err = ce.Message(q.Lang)
		c.render(w, r, q, http.StatusBadRequest, "import", d)
		return nil
	}
	if err != nil {
		return err
	}
	d.Errors = exchange.Errors(d.Report, q.Lang)
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	c.render(w, r, q, status, "import", d)
	return nil
}

// readUpload reads the multipart form: the file (at most
// exchange.MaxFileBytes) and the dry-run box.
func readUpload(w http.ResponseWriter, r *http.Request) ([]store.ImportRow, bool, error) {
	r.Body = http.MaxBytesReader(w, r.Body, exchange.MaxFileBytes+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, false, casework.Errorf(casework.EINVALID, "文件超过%d MiB，请分成多个文件导入", "the file is larger than %d MiB: split it into several files", exchange.MaxFileBytes>>20)
		}
		return nil, r.FormValue("dry_run") != "", casework.Invalid("file", "请选择要上传的 Excel 文件（.xlsx）", "choose an Excel file (.xlsx) to upload")
	}
	defer r.MultipartForm.RemoveAll()
	dry := r.FormValue("dry_run") != ""
	file, _, err := r.FormFile("file")
	if err != nil {
		return nil, dry, casework.Invalid("file", "请选择要上传的 Excel 文件（.xlsx）", "choose an Excel file (.xlsx) to upload")
	}
	defer file.Close()
	rows, err := exchange.ReadImport(file)
	return rows, dry, err
}
