package main

import (
	"context"
	"fmt"
	"kangfu/internal/casework"
	"log/slog"
	"time"

	"kangfu/internal/jobs"
	"kangfu/internal/notify"
	"kangfu/internal/reports"
	"kangfu/internal/store"
)

// migrateJobs creates the job queue's tables (river's migrations) after ours.
func migrateJobs(ctx context.Context, db *store.DB, log *slog.Logger) error {
	versions, err := db.MigrateJobs(ctx)
	if err != nil {
		return err
	}
	if len(versions) > 0 {
		log.Info("job queue migrations applied", "versions", versions)
	}
	return nil
}

// startJobs starts this server's job client (internal/jobs): releases at
// term end (R15) and leaves starting (R28) every KANGFU_JOB_INTERVAL, the
// notification outbox every minute, and the daily jobs at their local
// times. Several servers may run it against one database: the leader
// enqueues, each job runs once.
func startJobs(ctx context.Context, e *env) (*jobs.Runner, error) {
	sms, err := notify.NewSMS(e.cfg.SMS, e.log)
	if err != nil {
		return nil, usageError{"--sms/KANGFU_SMS: " + err.Error()}
	}
	r, err := jobs.New(ctx, e.db, jobs.Config{
		Interval: e.cfg.JobInterval,
		SMS:      sms,
		Log:      e.log,
		// The daily draws (issue 5 §2): commit seeds ahead, reveal ended
		// periods, draw the coming month's test days. Idempotent; "today" is
		// the store's clock per org zone, the job's date only keeps it unique.
		Draws: func(ctx context.Context, _ casework.Date) error {
			run, err := e.db.DailyDraws(ctx)
			if err == nil {
				e.log.Info("daily draws", "seeds_committed", run.SeedsCommitted, "seeds_revealed", run.SeedsRevealed,
					"measures", run.Measures, "added", run.Added, "moved", run.Moved, "removed", run.Removed)
			}
			return err
		},
		// The nightly detection of violations (issue 5 §4; R9, R10):
		// incremental and idempotent, safe on several servers.
		Detect: func(ctx context.Context, today casework.Date) error {
			res, err := e.db.DetectViolations(ctx, today)
			if err == nil {
				e.log.Info("nightly detection", "persons", res.Persons, "days", res.Days, "violations", res.Total(),
					"cases", res.Cases, "explained", res.Explained, "took", res.Duration)
			}
			return err
		},
		Exports: exportsJob(e),
	})
	if err != nil {
		return nil, err
	}
	if err := r.Start(ctx); err != nil {
		return nil, fmt.Errorf("start jobs: %w", err)
	}
	return r, nil
}

// catchUp runs, once and in order, the passes the periodic jobs run on
// start (draws, detection, release and 3 years without relapse, leaves
// begun, sealing), so a demo server serves its first page on the state
// those jobs leave: the jobs then find nothing to change. Every pass is
// idempotent and the jobs still run as usual.
func catchUp(ctx context.Context, e *env) error {
	draws, err := e.db.DailyDraws(ctx)
	if err != nil {
		return fmt.Errorf("draws: %w", err)
	}
	today := casework.DateOf(e.db.Now(), casework.LoadLocation(casework.DefaultTimeZone))
	det, err := e.db.DetectViolations(ctx, today)
	if err != nil {
		return fmt.Errorf("detection: %w", err)
	}
	released, err := e.db.ReleaseExpired(ctx)
	if err != nil {
		return fmt.Errorf("release at term end: %w", err)
	}
	clean, err := e.db.MarkNoRelapse(ctx)
	if err != nil {
		return fmt.Errorf("3 years without relapse: %w", err)
	}
	leaves, err := e.db.StartDueLeaves(ctx)
	if err != nil {
		return fmt.Errorf("leaves begun: %w", err)
	}
	sealed, err := e.db.SealExpired(ctx)
	if err != nil {
		return fmt.Errorf("sealing: %w", err)
	}
	e.log.Info("demo brought up to today", "draws_added", draws.Added, "violations", det.Total(), "released", released,
		"no_relapse", clean, "leaves_begun", leaves, "sealed", sealed)
	return nil
}

// stopJobs lets running jobs finish, for at most 30 seconds.
func stopJobs(e *env, r *jobs.Runner) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		e.log.Error("stop jobs", "err", err)
	}
}

// exportsJob writes each office's monthly summaries into KANGFU_EXPORT_DIR
// (issue 12 §5): the months owed and not yet written, so a re-run writes
// nothing twice and missed months are caught up. nil: no folder, no job.
func exportsJob(e *env) jobs.DailyFunc {
	if e.cfg.ExportDir == "" {
		return nil
	}
	return func(ctx context.Context, _ casework.Date) error {
		run, err := reports.MonthlyExports(ctx, e.db, e.cfg.ExportDir, "zh")
		if run != nil && (len(run.Written) > 0 || err != nil) {
			e.log.Info("monthly summaries exported", "written", len(run.Written), "already", run.Done, "dir", e.cfg.ExportDir)
		}
		return err
	}
}
