package store

// dialect.go is the one place where SQLite and PostgreSQL differ in Go code.

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors that driver errors are normalised into at the store
// boundary, so no caller matches an engine's message text.
var (
	ErrUnique     = errors.New("unique constraint violated")
	ErrForeignKey = errors.New("foreign key constraint violated")
)

type driverError struct {
	kind  error
	cause error
}

func (e *driverError) Error() string { return e.kind.Error() + ": " + e.cause.Error() }
func (e *driverError) Unwrap() []error {
	return []error{e.kind, e.cause}
}

// normalize wraps constraint violations of either engine in a sentinel.
func normalize(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &driverError{ErrUnique, err}
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return &driverError{ErrForeignKey, err}
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return &driverError{ErrUnique, err}
		case "23503":
			return &driverError{ErrForeignKey, err}
		}
	}
	return err
}

// rebind turns ? placeholders into $1, $2 … for PostgreSQL. Queries are our
// own, so a ? never appears inside a string literal.
func (db *DB) rebind(q string) string {
	if db.engine != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// forUpdate is the row-locking suffix of a SELECT: PostgreSQL locks the row;
// SQLite's single writer with BEGIN IMMEDIATE already serialises writers.
func (tx *Tx) forUpdate() string {
	if tx.db.engine == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// likePrefix returns a LIKE pattern matching strings that start with s, with
// s's own wildcards escaped (use with ESCAPE '\').
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

// likeContains returns a LIKE pattern matching strings that contain s.
func likeContains(s string) string {
	return "%" + strings.TrimSuffix(likePrefix(s), "%") + "%"
}

// scanTime turns a scanned nullable timestamp into a time (zero for NULL).
func scanTime(nt sql.NullTime) time.Time {
	if !nt.Valid {
		return time.Time{}
	}
	return nt.Time.UTC()
}

// scopeClause returns "(col LIKE ? ESCAPE '\' OR …)" for the paths and the
// matching arguments; with no paths it returns a clause that matches nothing,
// so an actor without the permission sees nothing rather than everything.
func scopeClause(col string, paths []string) (string, []any) {
	if len(paths) == 0 {
		return "1 = 0", nil
	}
	parts := make([]string, len(paths))
	args := make([]any, len(paths))
	for i, p := range paths {
		parts[i] = col + ` LIKE ? ESCAPE '\'`
		args[i] = likePrefix(p)
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}
