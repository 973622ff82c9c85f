package store

// The read replica (issue 16 §3). An optional PostgreSQL streaming standby
// (KANGFU_DB_REPLICA) serves the reads that tolerate a stated staleness;
// everything else reads the primary.
//
// Read on the replica (ReadReport), and only these:
//   - ComputeFigures: the report figures of an org and period (reports.go),
//     and through it the live figures of MonthSummary (the scheduled monthly
//     .xlsx export) and of WorkSummary for a year without rollups;
//   - FigureList: the records behind a figure (the big report lists);
//   - Dashboard: the year's rollups, trend and child-org table, and through
//     it the figures of WorkSummary (the yearly summary and its exports).
//
// Within those, the permission check (orgFor: may this actor read this org)
// and, in FigureList, the names, masked ID numbers and seals (R36, R38) of
// the persons listed are read on the primary: a permission or a seal is
// never decided on stale data. The audit rows of reports (report.list,
// summary exports) are written to the primary as before.
//
// Read on the primary, always: whatever decides a duty, a verdict, a
// violation, a permission or an audit (check-ins, draws, drug tests,
// violations_detect, leave, sessions, users, audit), every read that
// follows a write of the same request (person pages, lists after an edit,
// summary texts and finalisation), and every other list.
//
// Staleness bound: a report may miss at most the commits of the last
// ReplicaMaxLag plus one check interval (ReplicaCheckEvery): the monitor
// measures the replica's lag every interval and skips it (reads go to the
// primary) while the lag is above ReplicaMaxLag, it is unreachable, or it is
// not a standby. Each change of state is logged once. The lag is 0 when the
// standby has replayed all the WAL the primary had; otherwise the smaller of
// now - pg_last_xact_replay_timestamp() and the time since it was last seen
// caught up (replicaDecision); kangfu_db_replica_lag_seconds and
// kangfu_db_replica_lag_bytes (the LSN difference) on /metrics.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"kangfu/internal/casework"
)

// Replica states.
const (
	ReplicaOK         = "ok"          // in use for report reads
	ReplicaBehind     = "behind"      // lag above the maximum: skipped
	ReplicaDown       = "down"        // unreachable or failing: skipped
	ReplicaNotStandby = "not-standby" // answers but is not in recovery: skipped
)

// DefaultReplicaMaxLag is the staleness a report tolerates by default.
const DefaultReplicaMaxLag = 30 * time.Second

// DefaultReplicaCheckEvery is how often the replica's lag is measured.
const DefaultReplicaCheckEvery = 2 * time.Second

// ReplicaStatus is the last measurement of the replica, for metrics.
type ReplicaStatus struct {
	Configured bool
	State      string        // one of the Replica* states
	Lag        time.Duration // how far the replica's data is behind (0 when caught up, -1 unknown)
	LagBytes   int64         // WAL not yet replayed, in bytes (-1 when unknown)
	CheckedAt  time.Time
	Err        string // the last error, when down
}

// Usable reports whether report reads go to the replica.
func (s ReplicaStatus) Usable() bool { return s.Configured && s.State == ReplicaOK }

// unknownAge is the age of a standby that replayed no commit since it
// started and has not caught up: too far behind whatever the bound.
const unknownAge = time.Duration(1<<63 - 1)

// replicaMeasure is one look at the standby and the primary.
type replicaMeasure struct {
	err        error // the replica did not answer (or the query failed)
	inRecovery bool
	caughtUp   bool          // replayed everything the primary had written when measured
	sinceXact  time.Duration // now() - pg_last_xact_replay_timestamp() on the standby (unknownAge: none since it started)
	// sinceCaughtUp is the time since the primary position of the last
	// measurement that found the standby caught up (unknownAge: never):
	// every commit before it is on the standby.
	sinceCaughtUp time.Duration
	lagBytes      int64 // primary's WAL position minus the standby's replay position
}

// replicaDecision turns a measurement into a state and a lag: the pure
// routing rule, tested without a cluster. A standby that replayed all the
// WAL the primary had is 0 behind however long ago its last commit was (an
// idle primary). Otherwise its data misses at most the commits since its
// last replayed commit, and at most those since it was last seen caught
// up: the smaller of the two ages is its lag, compared with maxLag. With
// neither known it counts as too far behind.
func replicaDecision(m replicaMeasure, maxLag time.Duration) (string, time.Duration) {
	lag := min(m.sinceXact, m.sinceCaughtUp)
	switch {
	case m.err != nil:
		return ReplicaDown, 0
	case !m.inRecovery:
		return ReplicaNotStandby, 0
	case m.caughtUp:
		return ReplicaOK, 0
	case lag > maxLag:
		return ReplicaBehind, lag
	default:
		return ReplicaOK, lag
	}
}

// replica is the standby's pool and its monitor.
type replica struct {
	pool   *sql.DB
	maxLag time.Duration
	every  time.Duration
	log    *slog.Logger

	mu           sync.RWMutex
	status       ReplicaStatus
	lastCaughtUp time.Time // the primary position time of the last caught-up measurement

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// openReplica opens the standby's pool and measures it once before
// returning, so a server starts with a known state; a standby that is down
// at start is skipped, not fatal.
func (db *DB) openReplica(ctx context.Context, opt Options) error {
	if db.engine != Postgres {
		return errors.New("a read replica (KANGFU_DB_REPLICA) needs a PostgreSQL primary (KANGFU_DB=postgres://...)")
	}
	pool, err := sql.Open("pgx", withCustomPlans(opt.Replica))
	if err != nil {
		return fmt.Errorf("open replica: %w", err)
	}
	pool.SetMaxOpenConns(10)
	pool.SetMaxIdleConns(5)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	r := &replica{pool: pool, maxLag: opt.ReplicaMaxLag, every: opt.ReplicaCheckEvery, log: opt.Logger,
		stop: make(chan struct{}), done: make(chan struct{})}
	if r.maxLag <= 0 {
		r.maxLag = DefaultReplicaMaxLag
	}
	if r.every <= 0 {
		r.every = DefaultReplicaCheckEvery
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.status = ReplicaStatus{Configured: true, State: "", LagBytes: -1}
	db.replica = r
	db.CheckReplica(ctx)
	go func() {
		defer close(r.done)
		t := time.NewTicker(r.every)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				cctx, cancel := context.WithTimeout(context.Background(), r.every+5*time.Second)
				db.CheckReplica(cctx)
				cancel()
			}
		}
	}()
	return nil
}

// closeReplica stops the monitor and closes the pool.
func (db *DB) closeReplica() error {
	r := db.replica
	if r == nil {
		return nil
	}
	var err error
	r.closeOnce.Do(func() {
		close(r.stop)
		<-r.done
		err = r.pool.Close()
	})
	return err
}

// measure reads the primary's WAL position, then the standby's replay
// position and the age of its last replayed commit. The primary is read
// first: a standby whose replay position reached it had every commit
// acknowledged before the measurement began.
func (db *DB) measureReplica(ctx context.Context) replicaMeasure {
	m := replicaMeasure{sinceXact: unknownAge, sinceCaughtUp: unknownAge}
	var primaryLSN string
	primaryAt := time.Now()
	if err := db.write.QueryRowContext(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&primaryLSN); err != nil {
		// The primary is the problem, not the replica; without its position
		// the replica can only be judged by the age of its last commit.
		primaryLSN = ""
	}
	var replay sql.NullString
	var since sql.NullFloat64
	var lagBytes sql.NullInt64
	q := `SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,
		EXTRACT(EPOCH FROM (clock_timestamp() - pg_last_xact_replay_timestamp()))::float8,
		CASE WHEN $1 = '' OR pg_last_wal_replay_lsn() IS NULL THEN NULL
		     ELSE pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::bigint END`
	if err := db.replica.pool.QueryRowContext(ctx, q, primaryLSN).Scan(&m.inRecovery, &replay, &since, &lagBytes); err != nil {
		m.err = err
		return m
	}
	m.lagBytes = -1
	if lagBytes.Valid {
		m.lagBytes = max(lagBytes.Int64, 0)
		m.caughtUp = lagBytes.Int64 <= 0
	}
	if since.Valid {
		m.sinceXact = time.Duration(since.Float64 * float64(time.Second))
	}
	r := db.replica
	r.mu.Lock()
	if m.caughtUp {
		r.lastCaughtUp = primaryAt
	}
	if !r.lastCaughtUp.IsZero() {
		m.sinceCaughtUp = time.Since(r.lastCaughtUp)
	}
	r.mu.Unlock()
	return m
}

// CheckReplica measures the replica now and updates its state, logging a
// change of state once. The monitor calls it every ReplicaCheckEvery.
func (db *DB) CheckReplica(ctx context.Context) ReplicaStatus {
	r := db.replica
	if r == nil {
		return ReplicaStatus{}
	}
	m := db.measureReplica(ctx)
	state, lag := replicaDecision(m, r.maxLag)
	st := ReplicaStatus{Configured: true, State: state, Lag: lag, LagBytes: m.lagBytes, CheckedAt: time.Now()}
	if lag == unknownAge {
		st.Lag = -1
	}
	if m.err != nil {
		st.Err = m.err.Error()
		st.LagBytes = -1
	}
	r.mu.Lock()
	prev := r.status.State
	r.status = st
	r.mu.Unlock()
	if prev != state {
		attrs := []any{"from", prev, "to", state, "lag", lag.Round(time.Millisecond).String(), "max_lag", r.maxLag.String()}
		switch state {
		case ReplicaOK:
			r.log.Info("read replica in use for reports", attrs...)
		case ReplicaDown:
			r.log.Warn("read replica skipped: unreachable; reports read the primary", append(attrs, "err", st.Err)...)
		case ReplicaBehind:
			r.log.Warn("read replica skipped: too far behind; reports read the primary", attrs...)
		default:
			r.log.Warn("read replica skipped: not a standby; reports read the primary", attrs...)
		}
	}
	return st
}

// ReplicaStatus returns the last measurement (Configured false without a
// replica).
func (db *DB) ReplicaStatus() ReplicaStatus {
	r := db.replica
	if r == nil {
		return ReplicaStatus{}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.status
}

// reportPool is the pool report reads use: the replica while it is usable,
// else the primary's read pool.
func (db *DB) reportPool() *sql.DB {
	if db.replica != nil && db.ReplicaStatus().Usable() {
		return db.replica.pool
	}
	return db.read
}

// ReadReport runs fn in a read-only transaction on the replica when it is
// usable, else on the primary. Only for the reads listed at the top of this
// file: they tolerate ReplicaMaxLag of staleness and decide nothing.
//
// A report the replica could not answer — it went down mid-query, or
// cancelled the query to replay WAL that conflicts with it (a recovery
// conflict) — is run again on the primary; a refusal of the request itself
// (a casework error) is not.
func (db *DB) ReadReport(ctx context.Context, fn func(*Tx) error) error {
	pool := db.reportPool()
	err := db.readOn(ctx, pool, fn)
	if err == nil || pool == db.read || ctx.Err() != nil {
		return err
	}
	var ce *casework.Error
	if errors.As(err, &ce) {
		return err
	}
	db.replica.log.Warn("read replica failed a report; read again on the primary", "err", err)
	return db.readOn(ctx, db.read, fn)
}
