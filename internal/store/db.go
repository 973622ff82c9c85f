// Package store is Kangfu's storage: one implementation for SQLite (the
// embedded default) and PostgreSQL. The engines differ only in dialect.go
// and in the migration files. Every read and list takes the acting user and
// scopes by the actor's org subtree.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver

	"kangfu/internal/casework"
	"kangfu/internal/vault"
)

// Engine names the database engine behind a DB.
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is the store. On SQLite it holds a single-connection writer pool beside
// a read pool (the simple cure for SQLITE_BUSY); on PostgreSQL both are the
// same pool.
type DB struct {
	engine Engine
	dsn    string // as given to Open: pg_dump connects with it (backup.go)
	write  *sql.DB
	read   *sql.DB
	keys   *Keys
	vault  *vault.Keyring
	now    func() time.Time

	appState *appState // device and policy caches, the check-in writer

	hotMu sync.Mutex
	hots  map[string]*sql.Stmt // reads prepared on the read pool (hot)

	replica    *replica     // the optional read replica for reports (replica.go)
	ratePruned atomic.Int64 // Unix ms of the last prune of rate_limits (ratelimit.go)
}

// Options configure Open.
type Options struct {
	Keys *Keys            // secrets derived from the server key; required
	Now  func() time.Time // clock; time.Now when nil

	// Replica is the DSN of a PostgreSQL streaming standby of the primary
	// for report reads (replica.go); empty for none. ReplicaMaxLag is the
	// staleness reports tolerate (DefaultReplicaMaxLag when 0) and
	// ReplicaCheckEvery how often the lag is measured. Logger gets the
	// replica's changes of state (slog.Default when nil).
	Replica           string
	ReplicaMaxLag     time.Duration
	ReplicaCheckEvery time.Duration
	Logger            *slog.Logger
}

// Open opens the database named by dsn: a postgres:// or postgresql:// URL
// selects PostgreSQL, anything else is a SQLite file path. It does not
// migrate; call Migrate.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	if opt.Keys == nil {
		return nil, errors.New("store.Open: no keys")
	}
	db := &DB{keys: opt.Keys, now: opt.Now, dsn: dsn}
	db.appState = newAppState(db)
	if db.now == nil {
		db.now = time.Now
	}
	var err error
	// Field keys are derived by id; the current id is kept in the settings
	// table and re-read before a seal at most every KeyRefreshEvery (rotate.go).
	db.vault, err = vault.NewDerived("k1", opt.Keys.FieldKey, opt.Keys.Index)
	if err != nil {
		return nil, err
	}
	db.vault.SetSource(db.currentKeyID, KeyRefreshEvery)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db.engine = Postgres
		db.write, err = sql.Open("pgx", withCustomPlans(dsn))
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		// As many idle connections as open ones: with fewer, a server under
		// more concurrent requests than the idle limit closed a connection
		// after nearly every burst and opened another (measured: one new
		// PostgreSQL backend per three check-ins at 32 clients on one
		// server, PostgreSQL's CPU per check-in tripled — issue 16
		// Performance). Idle ones still close after ConnMaxIdleTime.
		db.write.SetMaxOpenConns(20)
		db.write.SetMaxIdleConns(20)
		db.write.SetConnMaxIdleTime(5 * time.Minute)
		db.read = db.write
	} else {
		db.engine = SQLite
		if err := openSQLite(db, dsn); err != nil {
			return nil, err
		}
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.write.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", db.engine, err)
	}
	if opt.Replica != "" {
		if err := db.openReplica(ctx, opt); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

func openSQLite(db *DB, path string) error {
	path = strings.TrimPrefix(path, "sqlite://")
	path = strings.TrimPrefix(path, "file:")
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create database folder: %w", err)
		}
	}
	// WAL lets readers run beside the single writer; synchronous=FULL makes a
	// commit durable before it is acknowledged; busy_timeout covers the
	// moments when another process (a CLI command) holds the write lock.
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	wq := url.Values{}
	for k, v := range q {
		wq[k] = v
	}
	wq.Set("_txlock", "immediate") // take the write lock at BEGIN: no upgrade deadlocks
	var err error
	db.write, err = sql.Open("sqlite", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return fmt.Errorf("open sqlite: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetConnMaxIdleTime(0)
	db.read, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		db.write.Close()
		return fmt.Errorf("open sqlite: %w", err)
	}
	db.read.SetMaxOpenConns(8)
	db.read.SetMaxIdleConns(8)
	return nil
}

// Engine returns the engine behind db.
func (db *DB) Engine() Engine { return db.engine }

// Vault returns the keyring for sensitive fields.
func (db *DB) Vault() *vault.Keyring { return db.vault }

// Keys returns the keys the store was opened with.
func (db *DB) Keys() *Keys { return db.keys }

// hot returns q (written with ? placeholders) prepared once on the read
// pool, for the few single-statement reads the check-in path runs for
// every device, person and day it has not seen in the last seconds: their
// parse cost more than their run. Use it outside transactions.
func (db *DB) hot(ctx context.Context, q string) (*sql.Stmt, error) {
	db.hotMu.Lock()
	defer db.hotMu.Unlock()
	if s, ok := db.hots[q]; ok {
		return s, nil
	}
	s, err := db.read.PrepareContext(ctx, db.rebind(q))
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", normalize(err))
	}
	if db.hots == nil {
		db.hots = map[string]*sql.Stmt{}
	}
	db.hots[q] = s
	return s, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	// Every check-in handed to the writer is written first (issue 16 §4).
	fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := db.FlushCheckins(fctx)
	cancel()
	db.hotMu.Lock()
	for _, s := range db.hots {
		s.Close()
	}
	db.hots = nil
	db.hotMu.Unlock()
	if db.replica != nil {
		err = db.closeReplica()
	}
	if db.read != nil && db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	if db.write != nil {
		err = errors.Join(err, db.write.Close())
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.read.PingContext(ctx)
}

// Stats returns the pools' statistics, for metrics.
func (db *DB) Stats() map[string]sql.DBStats {
	m := map[string]sql.DBStats{"write": db.write.Stats()}
	if db.read != db.write {
		m["read"] = db.read.Stats()
	}
	if db.replica != nil {
		m["replica"] = db.replica.pool.Stats()
	}
	return m
}

// Tx is a transaction with the time pinned at its start, the dialect, and
// audit appends. Store methods run one Tx each; helpers take *Tx.
type Tx struct {
	tx  *sql.Tx
	db  *DB
	now time.Time
	bg  []*bgRead // reads under a break-glass grant, audited at the end (breakglass.go)
}

// Now is the time pinned at the start of the transaction, in UTC.
func (tx *Tx) Now() time.Time { return tx.now }

func (db *DB) begin(ctx context.Context, write bool) (*Tx, error) {
	if write {
		return db.beginOn(ctx, db.write, true)
	}
	return db.beginOn(ctx, db.read, false)
}

func (db *DB) beginOn(ctx context.Context, pool *sql.DB, write bool) (*Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if write {
		opts = nil
	}
	if db.engine == SQLite && !write {
		opts = nil // modernc ignores ReadOnly; a plain deferred BEGIN is read-only in practice
	}
	t, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{tx: t, db: db, now: db.now().UTC().Truncate(time.Microsecond)}, nil
}

// Write runs fn in a read-write transaction and commits when fn returns nil.
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.tx.Rollback()
		return err
	}
	if err := tx.auditBreakGlassReads(ctx, tx.bg); err != nil {
		tx.tx.Rollback()
		return err
	}
	if err := tx.tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", normalize(err))
	}
	breakGlassScopeFrom(ctx).committed(tx.bg)
	return nil
}

// Read runs fn in a read-only transaction. Files read under a break-glass
// grant are audited afterwards in a write transaction (breakglass.go); the
// answer waits for that row.
func (db *DB) Read(ctx context.Context, fn func(*Tx) error) error {
	return db.readOn(ctx, db.read, fn)
}

// readOn is Read on a given pool: the primary's read pool, or the replica
// (ReadReport). A replica that fails to begin (it went down since the last
// check) is passed over for the primary at once.
func (db *DB) readOn(ctx context.Context, pool *sql.DB, fn func(*Tx) error) error {
	tx, err := db.beginOn(ctx, pool, false)
	if err != nil && pool != db.read && ctx.Err() == nil {
		tx, err = db.beginOn(ctx, db.read, false)
	}
	if err != nil {
		return err
	}
	err = func() error {
		defer tx.tx.Rollback()
		return fn(tx)
	}()
	if err != nil || len(tx.bg) == 0 {
		return err
	}
	scope := breakGlassScopeFrom(ctx)
	if !slices.ContainsFunc(tx.bg, func(b *bgRead) bool { return !scope.has(b) }) {
		return nil // this request's row names the grant already
	}
	if err := db.Write(ctx, func(w *Tx) error { return w.auditBreakGlassReads(ctx, tx.bg) }); err != nil {
		return err
	}
	scope.committed(tx.bg)
	return nil
}

// Exec runs a statement written with ? placeholders.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := tx.tx.ExecContext(ctx, tx.db.rebind(query), args...)
	return res, normalize(err)
}

// Query runs a query written with ? placeholders.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := tx.tx.QueryContext(ctx, tx.db.rebind(query), args...)
	return rows, normalize(err)
}

// QueryRow runs a query written with ? placeholders that returns one row.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.db.rebind(query), args...)
}

// NewID returns a new time-ordered id (UUIDv7 as text).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Engine returns the engine of the transaction's database.
func (tx *Tx) Engine() Engine { return tx.db.engine }

// notFound maps sql.ErrNoRows to a domain not-found error.
func notFound(err error, zh, en string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return casework.NotFound(zh, en)
	}
	return err
}

// Now is the store's clock (settable in tests), in UTC.
func (db *DB) Now() time.Time { return db.now().UTC() }

// withCustomPlans asks PostgreSQL to plan every statement for its actual
// parameters. pgx caches prepared statements, and after five runs
// PostgreSQL may switch to a generic plan that cannot see the searched name
// fragment or the org scope and scans the whole persons table (measured: a
// name search over 1M persons went from ~15 ms to ~2.5 s). A URL that sets
// plan_cache_mode itself keeps its choice.
func withCustomPlans(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Get("plan_cache_mode") == "" {
		q.Set("plan_cache_mode", "force_custom_plan")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
