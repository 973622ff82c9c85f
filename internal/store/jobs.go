package store

// jobs.go is what the background-job queue (river, internal/jobs) needs
// from the store: its own tables, created by river's migrator beside ours,
// a connection pool for the queue, and the admin's view of the queue.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"kangfu/internal/casework"
)

// MigrateJobs creates or updates the job queue's own tables (river's
// migrations, versioned in river_migration) and returns the versions it
// applied. Call it after Migrate. Each version runs in a transaction of
// its own (on PostgreSQL a new enum value cannot be used in the transaction
// that adds it), so there a session advisory lock, held on a connection of
// its own, keeps servers that start together from applying one twice.
func (db *DB) MigrateJobs(ctx context.Context) ([]int, error) {
	var res *rivermigrate.MigrateResult
	if db.engine == Postgres {
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7271002)`); err != nil {
			return nil, fmt.Errorf("lock job queue migrations: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7271002)`)
		m, err := rivermigrate.New(riverdatabasesql.New(db.write), nil)
		if err != nil {
			return nil, err
		}
		if res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return nil, fmt.Errorf("job queue migrations: %w", err)
		}
	} else {
		// The write pool's single connection with BEGIN IMMEDIATE
		// serialises this with any other writer.
		m, err := rivermigrate.New(riversqlite.New(db.write), nil)
		if err != nil {
			return nil, err
		}
		if res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return nil, fmt.Errorf("job queue migrations: %w", err)
		}
	}
	var applied []int
	for _, v := range res.Versions {
		applied = append(applied, v.Version)
	}
	return applied, nil
}

// JobPool returns the connection pool the job queue runs on, and a function
// that releases it. On PostgreSQL that is the store's own pool. On SQLite it
// is a separate single connection to the same file: river's SQLite driver
// (early testing) wants one connection of its own, and its polling must not
// queue behind the store's single writer. BEGIN IMMEDIATE with a busy
// timeout makes the two writers wait for each other instead of failing.
func (db *DB) JobPool(ctx context.Context) (*sql.DB, func() error, error) {
	if db.engine == Postgres {
		return db.write, func() error { return nil }, nil
	}
	var seq int
	var name, file string
	if err := db.write.QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
		return nil, nil, fmt.Errorf("find the database file: %w", err)
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(30000)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	pool, err := sql.Open("sqlite", "file:"+file+"?"+q.Encode())
	if err != nil {
		return nil, nil, fmt.Errorf("open job queue connection: %w", err)
	}
	pool.SetMaxOpenConns(1)
	pool.SetConnMaxIdleTime(0)
	return pool, pool.Close, nil
}

// jobTablesExist reports whether MigrateJobs has run: a store opened by a
// test or a tool without the job queue lists no jobs rather than failing.
func (db *DB) jobTablesExist(ctx context.Context) (bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'river_job'`
	if db.engine == Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'river_job'`
	}
	n := 0
	err := db.read.QueryRowContext(ctx, q).Scan(&n)
	return n > 0, err
}

// jobClient is an insert-only river client over one of the store's pools,
// for listing and retrying: it runs no workers.
func (db *DB) jobClient(pool *sql.DB) (*river.Client[*sql.Tx], error) {
	if db.engine == Postgres {
		return river.NewClient(riverdatabasesql.New(pool), &river.Config{})
	}
	return river.NewClient(riversqlite.New(pool), &river.Config{})
}

// Job is one background job as the admin page shows it.
type Job struct {
	ID          int64
	Kind        string
	State       string // available, scheduled, running, retryable, completed, discarded, cancelled, pending
	Attempt     int
	MaxAttempts int
	Args        string
	Errors      []JobError
	CreatedAt   time.Time
	ScheduledAt time.Time
	AttemptedAt time.Time // zero: never attempted
	FinalizedAt time.Time // zero: not finished
}

// JobError is one failed attempt of a job.
type JobError struct {
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	Error   string    `json:"error"`
}

// Failed reports whether the job's last attempt failed (it waits to be
// retried, or gave up).
func (j *Job) Failed() bool { return j.State == "retryable" || j.State == "discarded" }

// Retriable reports whether "retry now" applies: a job that failed, or was
// cancelled, or waits for a later attempt.
func (j *Job) Retriable() bool {
	return j.State == "retryable" || j.State == "discarded" || j.State == "cancelled"
}

// LastError is the error of the latest failed attempt ("" when none).
func (j *Job) LastError() string {
	if len(j.Errors) == 0 {
		return ""
	}
	return j.Errors[len(j.Errors)-1].Error
}

// JobFilter narrows ListJobs.
type JobFilter struct {
	Kind  string
	State string
	Limit int // default 100, at most 500
}

// JobCount is how many jobs of a kind are in a state.
type JobCount struct {
	Kind  string
	State string
	N     int
}

var errJobsForbidden = casework.Errorf(casework.EFORBIDDEN, "您的角色不能查看后台任务", "your role cannot see background jobs")

// jobStates are river's job states; a filter outside them is refused.
var jobStates = []string{"available", "scheduled", "pending", "running", "retryable", "completed", "discarded", "cancelled"}

// ListJobs lists background jobs, newest first, with their errors and
// attempts. Admins only (PermViewJobs): job arguments carry ids, never
// person data. EFORBIDDEN for anyone else; EINVALID for an unknown state.
func (db *DB) ListJobs(ctx context.Context, actor *casework.Actor, f JobFilter) ([]*Job, error) {
	if !actor.CanAnywhere(casework.PermViewJobs) {
		return nil, errJobsForbidden
	}
	if ok, err := db.jobTablesExist(ctx); err != nil || !ok {
		return nil, err
	}
	c, err := db.jobClient(db.read)
	if err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	p := river.NewJobListParams().First(min(limit, 500)).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if f.Kind != "" {
		p = p.Kinds(f.Kind)
	}
	if f.State != "" {
		if !slices.Contains(jobStates, f.State) {
			return nil, casework.Invalid("state", "未知的任务状态", "unknown job state")
		}
		p = p.States(rivertype.JobState(f.State))
	}
	res, err := c.JobList(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	out := make([]*Job, 0, len(res.Jobs))
	for _, r := range res.Jobs {
		out = append(out, jobFromRow(r))
	}
	return out, nil
}

func jobFromRow(r *rivertype.JobRow) *Job {
	j := &Job{ID: r.ID, Kind: r.Kind, State: string(r.State), Attempt: r.Attempt, MaxAttempts: r.MaxAttempts,
		Args: string(r.EncodedArgs), CreatedAt: r.CreatedAt.UTC(), ScheduledAt: r.ScheduledAt.UTC()}
	if r.AttemptedAt != nil {
		j.AttemptedAt = r.AttemptedAt.UTC()
	}
	if r.FinalizedAt != nil {
		j.FinalizedAt = r.FinalizedAt.UTC()
	}
	for _, e := range r.Errors {
		j.Errors = append(j.Errors, JobError{Attempt: e.Attempt, At: e.At.UTC(), Error: e.Error})
	}
	return j
}

// JobCounts counts the jobs per kind and state (the admin page's summary).
// PermViewJobs only.
func (db *DB) JobCounts(ctx context.Context, actor *casework.Actor) ([]JobCount, error) {
	if !actor.CanAnywhere(casework.PermViewJobs) {
		return nil, errJobsForbidden
	}
	if ok, err := db.jobTablesExist(ctx); err != nil || !ok {
		return nil, err
	}
	var out []JobCount
	err := db.Read(ctx, func(tx *Tx) error {
		// state is an enum on PostgreSQL and text on SQLite; CAST makes both text.
		rows, err := tx.Query(ctx, `SELECT kind, CAST(state AS TEXT), COUNT(*) FROM river_job GROUP BY kind, state ORDER BY kind, 2`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c JobCount
			if err := rows.Scan(&c.Kind, &c.State, &c.N); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

// RetryJob makes a failed, cancelled or waiting job available to run now
// (river's JobRetry: a job that used its last attempt gets one more).
// Audited. ENOTFOUND for an unknown id; ECONFLICT for a running or
// completed job; EFORBIDDEN without PermViewJobs.
func (db *DB) RetryJob(ctx context.Context, actor *casework.Actor, id int64) (*Job, error) {
	if !actor.CanAnywhere(casework.PermViewJobs) {
		return nil, errJobsForbidden
	}
	c, err := db.jobClient(db.write)
	if err != nil {
		return nil, err
	}
	row, err := c.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return nil, casework.NotFound("任务", "job")
	}
	if err != nil {
		return nil, err
	}
	if j := jobFromRow(row); !j.Retriable() && j.State != "scheduled" {
		return nil, casework.Errorf(casework.ECONFLICT, "只有失败、取消或等待中的任务可以立即重试", "only a failed, cancelled or waiting job can be retried now")
	}
	row, err = c.JobRetry(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("retry job %d: %w", id, err)
	}
	err = db.Write(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, actor, AuditEntry{Action: "job.retry", TargetType: "job", TargetID: fmt.Sprint(id),
			Detail: map[string]any{"kind": row.Kind, "attempt": row.Attempt}})
	})
	return jobFromRow(row), err
}
