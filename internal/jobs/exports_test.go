package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/riverqueue/river"

	"kangfu/internal/casework"
	"kangfu/internal/jobs"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// The monthly exports (issue 12 §5) run as a daily job: the worker calls
// the configured function with the job's date, and the same date enqueued
// again is a duplicate (the function itself writes only what is owed).
func TestExportJobRunsOncePerDay(t *testing.T) {
	each(t, func(t *testing.T, e storetest.Engine, db *store.DB) {
		day := casework.MustParseDate("2026-04-01")
		var calls atomic.Int32
		var got atomic.Value
		r := runner(t, db, jobs.Config{NoPeriodic: true, Exports: func(_ context.Context, today casework.Date) error {
			calls.Add(1)
			got.Store(today)
			return nil
		}})
		ch, cancel := r.Subscribe(river.EventKindJobCompleted)
		defer cancel()
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Insert(ctx, jobs.ExportArgs{Date: day}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ch, 1, "the export job")
		if _, dup, err := r.Insert(ctx, jobs.ExportArgs{Date: day}); err != nil || !dup {
			t.Fatalf("the same date again: duplicate=%v err=%v", dup, err)
		}
		if d, _ := got.Load().(casework.Date); calls.Load() != 1 || d != day {
			t.Fatalf("exports ran %d times for %v", calls.Load(), got.Load())
		}
	})
}
