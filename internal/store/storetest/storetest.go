// Package storetest opens real databases for tests: a SQLite file in a
// temporary folder always, and a fresh schema on the PostgreSQL server named
// by KANGFU_TEST_POSTGRES when it is set. KANGFU_REQUIRE_POSTGRES=1 turns a
// missing PostgreSQL into a failure, so CI cannot pass by skipping.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kangfu/internal/store"
)

// TestKey is the secret key of every test database.
var TestKey = []byte("kangfu-test-secret-key-32-bytes!")

// Keys returns the keys derived from TestKey.
func Keys(tb testing.TB) *store.Keys {
	k, err := store.DeriveKeys(TestKey)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// Engine is one database to run a test against.
type Engine struct {
	Name string
	DSN  string
}

// Engines returns SQLite, and PostgreSQL when configured, each with a DSN
// for an empty database of the test's own.
func Engines(tb testing.TB) []Engine {
	tb.Helper()
	es := []Engine{{Name: "sqlite", DSN: filepath.Join(tb.TempDir(), "kangfu.db")}}
	if pg := os.Getenv("KANGFU_TEST_POSTGRES"); pg != "" {
		es = append(es, Engine{Name: "postgres", DSN: NewPostgresSchema(tb, pg)})
	} else if os.Getenv("KANGFU_REQUIRE_POSTGRES") == "1" {
		tb.Fatal("KANGFU_REQUIRE_POSTGRES=1 but KANGFU_TEST_POSTGRES is not set")
	}
	return es
}

// NewPostgresSchema creates a schema of its own on the server at base and
// returns a URL whose connections use it; the schema is dropped after the test.
func NewPostgresSchema(tb testing.TB, base string) string {
	tb.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema on %s: %v", base, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens and migrates a database for the engine.
func Open(tb testing.TB, e Engine, now func() time.Time) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), e.DSN, store.Options{Keys: Keys(tb), Now: now})
	if err != nil {
		tb.Fatalf("open %s: %v", e.Name, err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate %s: %v", e.Name, err)
	}
	return db
}

// Each runs fn as a subtest on every engine with a fresh, migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			fn(t, Open(t, e, nil))
		})
	}
}

// Clock is a settable clock for tests.
type Clock struct{ T time.Time }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.T }

// Add moves the clock on.
func (c *Clock) Add(d time.Duration) { c.T = c.T.Add(d) }

// EachWithClock is Each with a settable clock shared by store and test.
func EachWithClock(t *testing.T, start time.Time, fn func(t *testing.T, db *store.DB, clock *Clock)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			c := &Clock{T: start}
			fn(t, Open(t, e, c.Now), c)
		})
	}
}

// Must returns v, and panics on err (the test then fails with the error);
// for setup steps that cannot fail unless the code under test is broken.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// EachPair runs fn on every engine with two separate handles on one fresh
// database, as two servers sharing it would have ("server A" migrated it,
// "server B" opened it after), sharing a settable clock (issue 16 §2).
func EachPair(t *testing.T, start time.Time, fn func(t *testing.T, a, b *store.DB, clock *Clock)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			c := &Clock{T: start}
			a := Open(t, e, c.Now)
			b, err := store.Open(context.Background(), e.DSN, store.Options{Keys: Keys(t), Now: c.Now})
			if err != nil {
				t.Fatalf("open %s again: %v", e.Name, err)
			}
			t.Cleanup(func() { b.Close() })
			fn(t, a, b, c)
		})
	}
}
