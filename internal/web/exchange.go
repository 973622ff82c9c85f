package web

import (
	"bytes"
	"context"
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

// importData is what an import page shows: the form, and after an upload
// the report (counts, then every error as row / column / reason). Page says
// which import it is; the persons and the visits imports share the page.
type importData struct {
	Page    importPage
	Err     string
	DryRun  bool
	Report  *store.ImportReport
	Errors  []exchange.ErrorRow
	MaxRows int
}

// importPage names one import: its catalog keys and addresses.
type importPage struct {
	Title, Intro         string // catalog keys
	Back, BackLabel      string // the list it belongs to, and its key
	Template, TemplateTo string // the template's key and address
	Action               string // where the form posts
}

var personImportPage = importPage{Title: "import.title", Intro: "import.intro", Back: "/persons", BackLabel: "import.back",
	Template: "import.template", TemplateTo: "/persons/import/template.xlsx", Action: "/persons/import"}

// importer reads an uploaded file and imports it (or checks it only).
type importer func(ctx context.Context, file io.Reader, dry bool) (*store.ImportReport, error)

func (c *Console) importForm(w http.ResponseWriter, r *http.Request, q *req) error {
	c.render(w, r, q, http.StatusOK, "import", importData{Page: personImportPage, DryRun: true, MaxRows: exchange.MaxRows})
	return nil
}

func (c *Console) importUpload(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.runImport(w, r, q, personImportPage, func(ctx context.Context, f io.Reader, dry bool) (*store.ImportReport, error) {
		rows, err := exchange.ReadImport(f)
		if err != nil {
			return nil, err
		}
		return c.DB.ImportPersons(ctx, q.Actor, rows, dry)
	}, exchange.Errors)
}

// runImport takes an upload, imports it with imp and shows the report; a
// bad file is a field error, every bad row is listed by errs.
func (c *Console) runImport(w http.ResponseWriter, r *http.Request, q *req, page importPage, imp importer,
	errs func(*store.ImportReport, string) []exchange.ErrorRow) error {
	d := importData{Page: page, MaxRows: exchange.MaxRows}
	var err error
	d.Report, d.DryRun, err = readUpload(w, r, imp)
	var ce *casework.Error
	if errors.As(err, &ce) && ce.Code == casework.EINVALID {
		d.Err = ce.Message(q.Lang)
		c.render(w, r, q, http.StatusBadRequest, "import", d)
		return nil
	}
	if err != nil {
		return err
	}
	d.Errors = errs(d.Report, q.Lang)
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	c.render(w, r, q, status, "import", d)
	return nil
}

// readUpload opens the uploaded file of an import form and hands it to imp.
// openXLSXForm opens the Excel file of an import form (field "file", with
// "dry_run"): the size limit, the form and the file in one place for the
// import pages that read rows themselves (events, survey results). done
// releases the form's temporary files; the file is nil when err is set.
func openXLSXForm(w http.ResponseWriter, r *http.Request) (file io.Reader, dry bool, done func(), err error) {
	done = func() {}
	r.Body = http.MaxBytesReader(w, r.Body, exchange.MaxFileBytes+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return nil, false, done, casework.Invalid("file", "请选择不超过10 MiB的 Excel 文件（.xlsx）", "choose an Excel file (.xlsx) of at most 10 MiB")
	}
	dry = r.FormValue("dry_run") != ""
	f, _, ferr := r.FormFile("file")
	if ferr != nil {
		r.MultipartForm.RemoveAll()
		return nil, dry, done, casework.Invalid("file", "请选择要上传的 Excel 文件（.xlsx）", "choose an Excel file (.xlsx) to upload")
	}
	return f, dry, func() { f.Close(); r.MultipartForm.RemoveAll() }, nil
}

func readUpload(w http.ResponseWriter, r *http.Request, imp importer) (*store.ImportReport, bool, error) {
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
	rep, err := imp(r.Context(), file, dry)
	return rep, dry, err
}
