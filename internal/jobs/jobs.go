// Package jobs runs Kangfu's background work on river, a persisted job
// queue with drivers for SQLite and PostgreSQL and leader election: the
// automatic release at term end (R15), the start of approved leaves (R28),
// the nightly detection of missed duties and violations, the daily test
// draws, and the delivery of notifications that leave the database (SMS).
//
// Every server runs a Runner. Periodic jobs are enqueued by the elected
// leader only, each with a unique key per period (the local date, or the
// interval's slot), so several servers enqueue and run each once. Jobs are
// rows in river_job: they survive a restart, and a failed one keeps its
// error and is retried with backoff. Every job is idempotent (running one
// twice changes nothing): the store's operations are guarded by the state
// they change.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"kangfu/internal/casework"
	"kangfu/internal/notify"
	"kangfu/internal/store"
)

// DailyFunc is a job done once per local day: today is the calendar date
// in the configured zone when the job was enqueued. H2's daily draws and
// H3's nightly detection plug in here.
type DailyFunc func(ctx context.Context, today casework.Date) error

// Config configures a Runner.
type Config struct {
	// Interval is how often the release and leave-start jobs run
	// (KANGFU_JOB_INTERVAL); default 10m.
	Interval time.Duration
	// DeliverEvery is how often the notification outbox is delivered;
	// default 1m.
	DeliverEvery time.Duration
	// NotifyEvery is how often test-day notices are looked for (each place
	// is notified from the start of its test.hours); default 5m.
	NotifyEvery time.Duration
	// Zone gives "today" for the daily jobs; default Asia/Shanghai. Each
	// store operation still judges a person by the zone of their org.
	Zone *time.Location
	// Draws makes the day's test draws (00:05 local); nil: no such job.
	Draws DailyFunc
	// Detect is the nightly detection of missed duties and violations
	// (00:30 local, after the day before has ended); nil: no such job.
	Detect DailyFunc
	// Exports writes each office's monthly summary into the export folder
	// (02:00 local, after the rollups; issue 12 §5); nil: no such job.
	Exports DailyFunc
	// SMS sends the outbox's text messages; default the log-only driver.
	SMS notify.SMS
	// Log receives river's and the jobs' logs.
	Log *slog.Logger
	// Workers is how many jobs one server runs at once; default 4.
	Workers int
	// PollInterval is how often idle servers look for new jobs; default 1s.
	PollInterval time.Duration
	// RetryPolicy overrides river's backoff (attempt⁴ seconds); tests use it.
	RetryPolicy river.ClientRetryPolicy
	// NoPeriodic leaves the periodic jobs out (tests that insert by hand).
	NoPeriodic bool
}

// Runner is one server's job client: it works jobs and, when elected
// leader, enqueues the periodic ones.
type Runner struct {
	db        *store.DB
	cfg       Config
	client    *river.Client[*sql.Tx]
	closePool func() error
}

// New makes a Runner over the store's database; the job tables must exist
// (store.MigrateJobs). Start it to work jobs; Stop it before closing db.
func New(ctx context.Context, db *store.DB, cfg Config) (*Runner, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Minute
	}
	if cfg.DeliverEvery <= 0 {
		cfg.DeliverEvery = time.Minute
	}
	if cfg.NotifyEvery <= 0 {
		cfg.NotifyEvery = 5 * time.Minute
	}
	if cfg.Zone == nil {
		cfg.Zone = casework.LoadLocation(casework.DefaultTimeZone)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.SMS == nil {
		cfg.SMS = notify.LogSMS{Log: cfg.Log}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	pool, closePool, err := db.JobPool(ctx)
	if err != nil {
		return nil, err
	}
	r := &Runner{db: db, cfg: cfg, closePool: closePool}
	workers := river.NewWorkers()
	r.addWorkers(workers)
	rc := &river.Config{
		Logger:      cfg.Log.With("component", "jobs"),
		Queues:      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:     workers,
		RetryPolicy: cfg.RetryPolicy,
		// The admin page shows a week of history.
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
		// Nightly detection over every person takes longer than river's
		// default minute.
		JobTimeout:        30 * time.Minute,
		FetchPollInterval: cfg.PollInterval,
		MaxAttempts:       10,
	}
	if !cfg.NoPeriodic {
		rc.PeriodicJobs = r.periodic()
	}
	if db.Engine() == store.Postgres {
		r.client, err = river.NewClient(riverdatabasesql.New(pool), rc)
	} else {
		r.client, err = river.NewClient(riversqlite.New(pool), rc)
	}
	if err != nil {
		closePool()
		return nil, fmt.Errorf("job client: %w", err)
	}
	return r, nil
}

// Start begins working jobs until Stop (or ctx ends).
func (r *Runner) Start(ctx context.Context) error { return r.client.Start(ctx) }

// Stop waits for running jobs to finish (or ctx to end) and releases the
// job queue's connection.
func (r *Runner) Stop(ctx context.Context) error {
	return errors.Join(r.client.Stop(ctx), r.closePool())
}

// Insert enqueues a job by hand (a test, or a command that wants a job
// run now). A duplicate of a unique job is skipped and reported.
func (r *Runner) Insert(ctx context.Context, args river.JobArgs) (id int64, duplicate bool, err error) {
	res, err := r.client.Insert(ctx, args, nil)
	if err != nil {
		return 0, false, err
	}
	return res.Job.ID, res.UniqueSkippedAsDuplicate, nil
}

// Subscribe returns river's events (job completed, failed …), for tests
// and metrics; call the function to stop.
func (r *Runner) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return r.client.Subscribe(kinds...)
}

// today is the local date now in the configured zone (the store's clock).
func (r *Runner) today() casework.Date { return casework.DateOf(r.db.Now(), r.cfg.Zone) }
