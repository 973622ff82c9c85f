package api

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

// exchangeRoutes are the Excel import and export routes (issue 3 §7, §8).
func (a *API) exchangeRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermReadPersons}
	imp := httpx.Access{Perm: casework.PermImport}
	return []httpx.Route{
		rt("GET", "/api/v1/persons/export.xlsx", read, a.exportPersons, "export the person list (same filters as GET /api/v1/persons) to .xlsx"),
		rt("GET", "/api/v1/persons/import/template.xlsx", imp, a.importTemplate, "the person import template (.xlsx)"),
		rt("POST", "/api/v1/persons/import", imp, a.importPersons, "import persons and first measures from .xlsx (multipart: file, dry_run)"),
	}
}

func (a *API) exportPersons(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := exchange.FilterFromQuery(r.URL.Query(), q.Actor, casework.DateOf(a.DB.Now(), nil))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := exchange.ExportPersons(r.Context(), a.DB, q.Actor, f, q.Lang, &buf); err != nil {
		return err
	}
	writeXLSX(w, fmt.Sprintf("persons-%s.xlsx", a.DB.Now().Format("20060102")), buf.Bytes())
	return nil
}

func (a *API) importTemplate(w http.ResponseWriter, r *http.Request, q *req) error {
	var buf bytes.Buffer
	if err := exchange.WriteTemplate(&buf, q.Lang); err != nil {
		return err
	}
	writeXLSX(w, "kangfu-import-template.xlsx", buf.Bytes())
	return nil
}

func writeXLSX(w http.ResponseWriter, name string, b []byte) {
	w.Header().Set("Content-Type", exchange.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

// importReportJSON is the import report: counts, what each good row does,
// and every error as row / column / reason in the request's language.
type importReportJSON struct {
	DryRun    bool                `json:"dry_run"`
	Written   bool                `json:"written"`
	Rows      int                 `json:"rows"`
	Created   int                 `json:"created"`
	Unchanged int                 `json:"unchanged"`
	Errors    []exchange.ErrorRow `json:"errors"`
	Results   []importResultJSON  `json:"results"`
}

type importResultJSON struct {
	Row      int    `json:"row"`
	Name     string `json:"name"`
	IDMasked string `json:"id_masked"`
	OrgName  string `json:"org_name,omitempty"`
	Outcome  string `json:"outcome,omitempty"`
	PersonID string `json:"person_id,omitempty"`
}

// importPersons takes a multipart upload (file, dry_run) and answers with
// the report: 200 when every row is good (written unless dry_run), 422
// with the errors when any row is bad (nothing written).
func (a *API) importPersons(w http.ResponseWriter, r *http.Request, q *req) error {
	rep, err := readImport(w, r, func(ctx context.Context, f io.Reader, dry bool) (*store.ImportReport, error) {
		rows, err := exchange.ReadImport(f)
		if err != nil {
			return nil, err
		}
		return a.DB.ImportPersons(ctx, q.Actor, rows, dry)
	})
	if err != nil {
		return err
	}
	writeJSON(w, importStatus(rep), reportJSON(rep, q.Lang))
	return nil
}

// readImport takes an import's multipart upload (file, dry_run) and hands
// the file to imp; the persons and the visits imports share it.
func readImport(w http.ResponseWriter, r *http.Request, imp func(ctx context.Context, f io.Reader, dry bool) (*store.ImportReport, error)) (*store.ImportReport, error) {
	r.Body = http.MaxBytesReader(w, r.Body, exchange.MaxFileBytes+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, casework.Errorf(casework.EINVALID, "文件超过%d MiB，请分成多个文件导入", "the file is larger than %d MiB: split it into several files", exchange.MaxFileBytes>>20)
		}
		return nil, casework.Invalid("file", "请以 multipart/form-data 上传 Excel 文件（字段 file）", "upload the Excel file as multipart/form-data (field file)")
	}
	defer r.MultipartForm.RemoveAll()
	var dry bool
	switch r.FormValue("dry_run") {
	case "", "0", "false", "off":
	case "1", "true", "on":
		dry = true
	default:
		return nil, casework.Invalid("dry_run", "dry_run 应为 true 或 false", "dry_run must be true or false")
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		return nil, casework.Invalid("file", "缺少上传的文件（字段 file）", "the upload has no file (field file)")
	}
	defer file.Close()
	return imp(r.Context(), file, dry)
}

func importStatus(rep *store.ImportReport) int {
	if len(rep.Errors) > 0 {
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}

func reportJSON(rep *store.ImportReport, lang string) importReportJSON {
	out := importReportJSON{DryRun: rep.DryRun, Written: rep.Written, Rows: rep.Rows, Created: rep.Created, Unchanged: rep.Unchanged,
		Errors: exchange.Errors(rep, lang), Results: []importResultJSON{}}
	if len(rep.Errors) == 0 {
		for _, r := range rep.Results {
			out.Results = append(out.Results, importResultJSON{Row: r.Row, Name: r.Name, IDMasked: r.IDMasked, OrgName: r.OrgName, Outcome: r.Outcome, PersonID: r.PersonID})
		}
	}
	return out
}
