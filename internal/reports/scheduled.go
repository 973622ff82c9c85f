package reports

// scheduled.go: the scheduled monthly exports (issue 12 §5). Once a day
// the job looks at every org an office works at and writes each completed
// month not yet written (the last 12 at most, none before the org
// existed) as <dir>/<area code or org id>/kangfu-summary-<area code or org
// id>-<YYYY-MM>.xlsx: the month's summary from the figure engine, in the
// words of the summary page. A file is written to a temporary name in the
// same folder, synced and renamed, so a reader never sees half a file; the
// month is then recorded (store.RecordScheduledExport, audited as an
// export by the system actor), so a re-run writes nothing twice and months
// missed while no server ran are caught up. The workbook holds counts
// only: no person is named, nothing to mask.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// ExportRun is what one run of the monthly exports did.
type ExportRun struct {
	Written []string // files written, in order
	Done    int      // org-months already written before
}

// ExportCatchUp is how many completed months back the job looks.
const ExportCatchUp = 12

// ExportFolder is an org's folder (and file prefix): its area code, or its
// id when it has none.
func ExportFolder(o *casework.Org) string {
	if o.AreaCode != "" {
		return o.AreaCode
	}
	return o.ID
}

// ExportPath is where an org's month is written under dir.
func ExportPath(dir string, o *casework.Org, month string) string {
	f := ExportFolder(o)
	return filepath.Join(dir, f, "kangfu-summary-"+f+"-"+month+".xlsx")
}

// ExportMonths returns the completed months the job owes an org on the
// day: from the later of the org's first month and ExportCatchUp months
// back, to last month.
func ExportMonths(o *casework.Org, today casework.Date) []string {
	last := casework.NewDate(today.Year, today.Month, 1).AddMonths(-1)
	first := last.AddMonths(-(ExportCatchUp - 1))
	if !o.CreatedAt.IsZero() {
		c := casework.DateOf(o.CreatedAt, o.Location())
		if c := casework.NewDate(c.Year, c.Month, 1); c.After(first) {
			first = c
		}
	}
	var out []string
	for m := first; !m.After(last); m = m.AddMonths(1) {
		out = append(out, store.MonthBucket(m))
	}
	return out
}

// MonthlyExports writes every office's owed months into dir (lang: the
// workbook's language).
func MonthlyExports(ctx context.Context, db *store.DB, dir, lang string) (*ExportRun, error) {
	if dir == "" {
		return nil, fmt.Errorf("no export folder configured")
	}
	sys := casework.SystemActor("scheduled-export")
	orgs, err := db.ExportOrgs(ctx)
	if err != nil {
		return nil, err
	}
	run := &ExportRun{}
	for _, o := range orgs {
		today := casework.DateOf(db.Now(), o.Location())
		for _, m := range ExportMonths(o, today) {
			done, err := db.ScheduledExportDone(ctx, o.ID, m)
			if err != nil {
				return run, err
			}
			if done {
				run.Done++
				continue
			}
			s, err := db.MonthSummary(ctx, sys, o.ID, m)
			if err != nil {
				return run, fmt.Errorf("%s %s: %w", o.Name, m, err)
			}
			var buf bytes.Buffer
			if err := WriteSummary(&buf, s, lang); err != nil {
				return run, err
			}
			path := ExportPath(dir, o, m)
			if err := writeAtomic(path, buf.Bytes()); err != nil {
				return run, err
			}
			sum := sha256.Sum256(buf.Bytes())
			if _, err := db.RecordScheduledExport(ctx, sys, o.ID, m, path, hex.EncodeToString(sum[:]), buf.Len()); err != nil {
				return run, err
			}
			run.Written = append(run.Written, path)
		}
	}
	return run, nil
}

// writeAtomic writes b to path through a temporary file in the same
// folder, synced, then renamed over path.
func writeAtomic(path string, b []byte) error {
	d := filepath.Dir(path)
	if err := os.MkdirAll(d, 0o750); err != nil {
		return fmt.Errorf("export folder: %w", err)
	}
	tmp, err := os.CreateTemp(d, ".kangfu-export-*.tmp")
	if err != nil {
		return fmt.Errorf("export file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a rename: nothing there
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("export file: %w", err)
	}
	if f, err := os.Open(d); err == nil {
		_ = f.Sync()
		f.Close()
	}
	return nil
}
