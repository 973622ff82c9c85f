package demo

import (
	"context"
	"fmt"

	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/dossier"
	"kangfu/internal/store"
)

// documentsMarker makes the demo documents load once.
const documentsMarker = "demo:documents"

// LoadDocuments files generated documents for a few demo persons of the
// factory compound — agreements and working-group registers for executing
// files, a report-in notice for a pending one, a release notice for a
// released one — so the documents page and the dossier have content. It
// needs the blob store and runs once.
func LoadDocuments(ctx context.Context, db *store.DB, blobs blob.Storage) (int, error) {
	first, err := db.Mark(ctx, documentsMarker)
	if err != nil || !first {
		return 0, err
	}
	sys := casework.SystemActor("demo")
	orgs, err := db.ListOrgs(ctx, sys, store.OrgFilter{})
	if err != nil {
		return 0, err
	}
	var factory string
	for _, o := range orgs {
		if o.Name == factoryName {
			factory = o.ID
		}
	}
	if factory == "" {
		return 0, fmt.Errorf("demo documents: no org %q", factoryName)
	}
	persons, _, err := db.ListPersons(ctx, sys, store.PersonFilter{OrgID: factory, IncludeEnded: true, Limit: 500})
	if err != nil {
		return 0, err
	}
	svc := &dossier.Service{DB: db, Blobs: blobs}
	// A handful is enough to show every kind; each PDF takes ~80 ms to make.
	quota := map[casework.Status]int{casework.StatusExecuting: 4, casework.StatusPendingReport: 1, casework.StatusReleased: 2}
	templates := map[casework.Status][]string{
		casework.StatusExecuting:     {"agreement", "working_group"},
		casework.StatusPendingReport: {"report_notice"},
		casework.StatusReleased:      {"release_notice"},
	}
	n := 0
	for _, p := range persons {
		if quota[p.Status] == 0 {
			continue
		}
		quota[p.Status]--
		for _, tpl := range templates[p.Status] {
			if _, err := svc.Generate(ctx, sys, p.ID, tpl); err != nil {
				return n, fmt.Errorf("demo document %s for %s: %w", tpl, p.Name, err)
			}
			n++
		}
	}
	return n, nil
}
