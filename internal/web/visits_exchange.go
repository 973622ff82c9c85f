package web

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"kangfu/internal/exchange"
	"kangfu/internal/store"
)

// Visit export and import (issue 11 §8).

func (c *Console) visitExport(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := visitFilterFrom(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := exchange.ExportVisits(r.Context(), c.DB, q.Actor, f, q.Lang, &buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", exchange.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="visits.xlsx"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
	return nil
}

func (c *Console) visitTemplate(w http.ResponseWriter, r *http.Request, q *req) error {
	b, err := exchange.VisitTemplate(q.Lang)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", exchange.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="visit-import-template.xlsx"`)
	w.Write(b)
	return nil
}

var visitImportPage = importPage{Title: "visit.import_title", Intro: "visit.import_intro", Back: "/visits", BackLabel: "visit.list_title",
	Template: "visit.import_template", TemplateTo: "/visits/template.xlsx", Action: "/visits/import"}

func (c *Console) visitImportPage(w http.ResponseWriter, r *http.Request, q *req) error {
	c.render(w, r, q, http.StatusOK, "import", importData{Page: visitImportPage, DryRun: true, MaxRows: exchange.MaxRows})
	return nil
}

func (c *Console) visitImport(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.runImport(w, r, q, visitImportPage, func(ctx context.Context, f io.Reader, dry bool) (*store.ImportReport, error) {
		rows, err := exchange.ReadVisitImport(f)
		if err != nil {
			return nil, err
		}
		return c.DB.ImportVisits(ctx, q.Actor, rows, dry)
	}, exchange.VisitErrors)
}
