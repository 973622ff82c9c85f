package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Migrations are plain SQL files, one folder per engine with the same file
// names (a test enforces it), applied in name order, each in a transaction.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// MigrationNames returns the migration file names for an engine, in order.
func MigrationNames(e Engine) ([]string, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations/"+string(e))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, en := range entries {
		if strings.HasSuffix(en.Name(), ".sql") {
			names = append(names, en.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	name TEXT PRIMARY KEY,
	applied_at TEXT NOT NULL
)`

// Migrate applies every migration not applied yet and returns their names.
// On PostgreSQL an advisory lock keeps two servers starting at once from
// applying the same file twice.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	names, err := MigrationNames(db.engine)
	if err != nil {
		return nil, err
	}
	var applied []string
	err = db.Write(ctx, func(tx *Tx) error {
		if db.engine == Postgres {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7271001)`); err != nil {
				return fmt.Errorf("lock migrations: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		done, err := appliedMigrations(ctx, tx)
		if err != nil {
			return err
		}
		for _, name := range names {
			if done[name] {
				continue
			}
			body, err := migrationFS.ReadFile("migrations/" + string(db.engine) + "/" + name)
			if err != nil {
				return err
			}
			if _, err := tx.tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`,
				name, tx.Now().Format("2006-01-02T15:04:05Z")); err != nil {
				return fmt.Errorf("record migration %s: %w", name, err)
			}
			if name == auditHeadMACMigration {
				if err := tx.keyAuditHead(ctx); err != nil {
					return err
				}
			}
			applied = append(applied, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}

func appliedMigrations(ctx context.Context, tx *Tx) (map[string]bool, error) {
	rows, err := tx.Query(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	done := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		done[n] = true
	}
	return done, rows.Err()
}

// PendingMigrations returns the names of migrations not yet applied; readyz
// reports not ready while there are any.
func (db *DB) PendingMigrations(ctx context.Context) ([]string, error) {
	names, err := MigrationNames(db.engine)
	if err != nil {
		return nil, err
	}
	var pending []string
	err = db.Read(ctx, func(tx *Tx) error {
		done, err := appliedMigrations(ctx, tx)
		if err != nil {
			return err
		}
		for _, n := range names {
			if !done[n] {
				pending = append(pending, n)
			}
		}
		return nil
	})
	return pending, err
}

// Fresh reports whether the database has never been migrated (no
// schema_migrations table): serve --demo may make a new secret key only
// for such a database (issue 15 §10).
func (db *DB) Fresh(ctx context.Context) (bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if db.engine == Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'schema_migrations' AND table_schema = current_schema()`
	}
	var n int
	err := db.Read(ctx, func(tx *Tx) error { return tx.QueryRow(ctx, q).Scan(&n) })
	return n == 0, err
}
