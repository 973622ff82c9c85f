package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// Backups (issue 15, PRODUCT §8): a consistent copy of the database taken
// while the servers keep writing. SQLite copies itself with VACUUM INTO
// inside one read transaction; PostgreSQL is dumped by pg_dump from a
// snapshot exported by a repeatable-read transaction, in which the rows are
// counted too, so the counts are those of the copy exactly.

// DatabaseCopy describes a database (or a consistent copy of one): what
// the backup manifest records and what a restore is checked against.
type DatabaseCopy struct {
	Engine     Engine
	Schema     string           // PostgreSQL: the schema the tables live in
	Tables     map[string]int64 // rows per table
	Migration  string           // the last migration applied
	Migrations int              // how many were applied
	AuditSeq   int64            // the audit chain's last row
	FieldKeyID string           // the field key new values are sealed with (k1, k2, …)
	BlobRefs   []string         // SHA-256 keys of the blobs the rows refer to, sorted
}

// querier is what describe needs: *sql.DB, *sql.Conn and *sql.Tx all are.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// blobRefQuery lists every blob the rows refer to: documents, visit and
// event photos, and check-in photos the app uploaded.
const blobRefQuery = `SELECT sha256 FROM documents UNION SELECT sha256 FROM visit_photos
	UNION SELECT sha256 FROM event_photos UNION SELECT sha256 FROM app_photos`

// BlobRefs lists, sorted, every blob key the database refers to (kangfu
// blobs verify).
func (db *DB) BlobRefs(ctx context.Context) ([]string, error) {
	keys, err := queryStrings(ctx, db.read, blobRefQuery)
	if err != nil {
		return nil, fmt.Errorf("blob references: %w", err)
	}
	slices.Sort(keys)
	return keys, nil
}

// describe counts the rows of every table and reads the schema version,
// the audit head and the current field key id, all through q (one
// snapshot).
func describe(ctx context.Context, q querier, engine Engine) (*DatabaseCopy, error) {
	d := &DatabaseCopy{Engine: engine, Tables: map[string]int64{}}
	list := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if engine == Postgres {
		var schema sql.NullString // NULL when no schema of the search_path exists yet
		if err := q.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return nil, fmt.Errorf("current schema: %w", err)
		}
		d.Schema = schema.String
		list = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	names, err := queryStrings(ctx, q, list)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	for _, n := range names {
		var c int64
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteIdent(n)).Scan(&c); err != nil {
			return nil, fmt.Errorf("count %s: %w", n, err)
		}
		d.Tables[n] = c
	}
	if _, ok := d.Tables["schema_migrations"]; !ok {
		return d, nil // not a Kangfu database (or an empty one)
	}
	var last sql.NullString
	if err := q.QueryRowContext(ctx, `SELECT MAX(name), COUNT(*) FROM schema_migrations`).Scan(&last, &d.Migrations); err != nil {
		return nil, fmt.Errorf("schema version: %w", err)
	}
	d.Migration = last.String
	if _, ok := d.Tables["audit_head"]; ok {
		err := q.QueryRowContext(ctx, `SELECT seq FROM audit_head WHERE id = 1`).Scan(&d.AuditSeq)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("audit head: %w", err)
		}
	}
	d.FieldKeyID = "k1"
	err = q.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = '`+keySetting+`'`).Scan(&d.FieldKeyID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("current field key id: %w", err)
	}
	if d.BlobRefs, err = queryStrings(ctx, q, blobRefQuery); err != nil {
		return nil, fmt.Errorf("blob references: %w", err)
	}
	slices.Sort(d.BlobRefs)
	return d, nil
}

func queryStrings(ctx context.Context, q querier, query string) ([]string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// quoteIdent quotes a table name from the catalog (both engines accept "").
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Describe counts the rows of every table of the live database in one
// read transaction: a restore compares it with the backup's manifest.
func (db *DB) Describe(ctx context.Context) (*DatabaseCopy, error) {
	var d *DatabaseCopy
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		d, err = describe(ctx, tx.tx, db.engine)
		return err
	})
	return d, err
}

// ErrNoPGDump means pg_dump (or pg_restore) is not installed.
var ErrNoPGDump = errors.New("not found")

// FindPGTool returns the path of a PostgreSQL client program (pg_dump,
// pg_restore): the given path, or the name looked up on PATH.
func FindPGTool(name, given string) (string, error) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", fmt.Errorf("%s at %s: %w", name, given, err)
		}
		return given, nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s was %w on PATH: install the PostgreSQL client programs of the server's major version or newer "+
			"(Debian: apt install postgresql-client), or name it with --%s; a PostgreSQL base backup (pg_basebackup) is the alternative, see the README",
			name, ErrNoPGDump, strings.ReplaceAll(name, "_", "-"))
	}
	return p, nil
}

// CopyDatabase writes a consistent copy of the live database to path (a
// file that must not exist) while other connections keep writing, and
// describes the copy. On SQLite the copy is a database file (VACUUM INTO);
// on PostgreSQL a pg_dump archive in custom format of the store's schema,
// made by pgDump (a path from FindPGTool).
func (db *DB) CopyDatabase(ctx context.Context, path, pgDump string) (*DatabaseCopy, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("%s already exists", path)
	}
	if db.engine == SQLite {
		// VACUUM INTO reads the database in one read transaction: the copy is
		// the database as of that transaction's start, committed rows only.
		if _, err := db.read.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("copy the database (VACUUM INTO): %w", err)
		}
		return DescribeSQLiteFile(ctx, path)
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin snapshot: %w", err)
	}
	defer tx.Rollback()
	var snap string
	if err := tx.QueryRowContext(ctx, `SELECT pg_export_snapshot()`).Scan(&snap); err != nil {
		return nil, fmt.Errorf("export snapshot: %w", err)
	}
	d, err := describe(ctx, tx, Postgres)
	if err != nil {
		return nil, err
	}
	env, dbname, err := pgEnv(db.dsn)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, pgDump, "--format=custom", "--no-owner", "--no-privileges", "--snapshot="+snap,
		"--schema="+d.Schema, "--file="+path, "--dbname="+dbname)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("pg_dump: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return d, nil
}

// DescribeSQLiteFile describes a SQLite database file without changing it
// (opened read-only and immutable: no journal is made beside it).
func DescribeSQLiteFile(ctx context.Context, path string) (*DatabaseCopy, error) {
	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		return nil, err
	}
	defer ro.Close()
	conn, err := ro.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return describe(ctx, conn, SQLite)
}

// pgEnv turns a postgres:// URL into the PG* environment of libpq programs
// (a password on a command line would show in ps) and the database name.
// Settings only pgx knows (search_path, plan_cache_mode, pool sizes) are
// left out; the schema is passed to pg_dump by name.
func pgEnv(dsn string) ([]string, string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, "", fmt.Errorf("database URL: %w", err)
	}
	env := os.Environ()
	set := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	if u.User != nil {
		set("PGUSER", u.User.Username())
		if p, ok := u.User.Password(); ok {
			set("PGPASSWORD", p)
		}
	}
	var hosts, ports []string
	for h := range strings.SplitSeq(u.Host, ",") {
		if h == "" {
			continue
		}
		hu := &url.URL{Host: h}
		hosts = append(hosts, hu.Hostname())
		ports = append(ports, hu.Port())
	}
	set("PGHOST", strings.Join(hosts, ","))
	if slices.ContainsFunc(ports, func(p string) bool { return p != "" }) {
		for i, p := range ports {
			if p == "" {
				ports[i] = "5432"
			}
		}
		set("PGPORT", strings.Join(ports, ","))
	}
	dbname := strings.TrimPrefix(u.Path, "/")
	q := u.Query()
	for param, name := range map[string]string{"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
		"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
		"connect_timeout": "PGCONNECT_TIMEOUT", "target_session_attrs": "PGTARGETSESSIONATTRS", "passfile": "PGPASSFILE"} {
		set(name, q.Get(param))
	}
	if v := q.Get("dbname"); v != "" {
		dbname = v
	}
	if dbname == "" {
		dbname = "postgres"
		if u.User != nil && u.User.Username() != "" {
			dbname = u.User.Username()
		}
	}
	set("PGDATABASE", dbname)
	return env, dbname, nil
}

// RestorePostgres restores a pg_dump archive made by CopyDatabase into the
// database at dsn, whose schema must hold no table: the schema is made if
// missing and must be the one the connection uses. pg_restore runs in one
// transaction and stops at the first error, so a failed restore leaves the
// schema empty, and a schema the restore made is dropped again. The undo
// it returns removes what a successful pg_restore put there: the caller
// runs it when a later check of the restored data fails, so no
// half-restored schema is left behind.
func RestorePostgres(ctx context.Context, dsn, archive, schema, pgRestore string) (undo func(context.Context) error, err error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1`, schema).Scan(&n); err != nil {
		return nil, fmt.Errorf("connect to the target database: %w", err)
	}
	if n > 0 {
		return nil, fmt.Errorf("the target database is not empty: schema %q holds %d tables. Restore only into an empty database (or a new schema)", schema, n)
	}
	var existed bool
	if err := pool.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&existed); err != nil {
		return nil, err
	}
	before, err := pgSchemaObjects(ctx, pool, schema)
	if err != nil {
		return nil, err
	}
	drop := func(ctx context.Context) error { return undoPGRestore(ctx, dsn, schema, existed, before) }
	defer func() {
		if err != nil {
			if uerr := drop(context.WithoutCancel(ctx)); uerr != nil {
				err = fmt.Errorf("%w (and removing what the restore made failed: %v)", err, uerr)
			}
		}
	}()
	if _, err := pool.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+quoteIdent(schema)); err != nil {
		return nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	var cur sql.NullString
	if err := pool.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&cur); err != nil {
		return nil, err
	}
	if cur.String != schema {
		return nil, fmt.Errorf("the backup's tables belong to schema %q but the target connection's current schema is %q: "+
			"add search_path=%s to the database URL", schema, cur.String, schema)
	}
	env, dbname, err := pgEnv(dsn)
	if err != nil {
		return nil, err
	}
	// The archive creates its schema; here it exists already (an empty
	// public schema, or the one just made), so that entry is left out.
	var stderr bytes.Buffer
	list := exec.CommandContext(ctx, pgRestore, "--list", archive)
	list.Stderr = &stderr
	toc, err := list.Output()
	if err != nil {
		return nil, fmt.Errorf("pg_restore --list: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var keep []string
	for line := range strings.SplitSeq(string(toc), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && !strings.HasPrefix(line, ";") && (f[3] == "SCHEMA" || (f[3] == "COMMENT" && len(f) >= 6 && f[5] == "SCHEMA")) {
			continue
		}
		keep = append(keep, line)
	}
	listFile, err := os.CreateTemp("", "kangfu-restore-*.list")
	if err != nil {
		return nil, err
	}
	defer os.Remove(listFile.Name())
	if _, err := listFile.WriteString(strings.Join(keep, "\n")); err != nil {
		listFile.Close()
		return nil, err
	}
	listFile.Close()
	stderr.Reset()
	cmd := exec.CommandContext(ctx, pgRestore, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
		"--use-list="+listFile.Name(), "--dbname="+dbname, archive)
	cmd.Env = env
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("pg_restore: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return drop, nil
}

// pgSchemaObjects names the tables, sequences, views and functions of a
// schema, as DROP statements would name them.
func pgSchemaObjects(ctx context.Context, pool *sql.DB, schema string) (map[string]string, error) {
	rows, err := pool.QueryContext(ctx, `SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
			quote_ident(n.nspname) || '.' || quote_ident(c.relname)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'S', 'v', 'm', 'f')
		UNION ALL
		SELECT 'FUNCTION', quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')'
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1`, schema)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var kind, name string
		if err := rows.Scan(&kind, &name); err != nil {
			return nil, err
		}
		out[name] = kind
	}
	return out, rows.Err()
}

// undoPGRestore removes what a restore made in schema: the schema itself
// when the restore created it, else every table, sequence, view and
// function that was not there before (CASCADE takes their indexes,
// triggers and owned sequences with them). One transaction.
func undoPGRestore(ctx context.Context, dsn, schema string, existed bool, before map[string]string) error {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	if !existed {
		_, err := pool.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+quoteIdent(schema)+` CASCADE`)
		return err
	}
	after, err := pgSchemaObjects(ctx, pool, schema)
	if err != nil {
		return err
	}
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Tables first (their owned sequences and triggers go with them), then
	// what is left.
	for _, pass := range []func(string) bool{func(k string) bool { return strings.HasSuffix(k, "TABLE") }, func(string) bool { return true }} {
		for name, kind := range after {
			if _, ok := before[name]; ok || !pass(kind) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `DROP `+kind+` IF EXISTS `+name+` CASCADE`); err != nil {
				return fmt.Errorf("drop %s %s: %w", kind, name, err)
			}
			before[name] = kind // dropped
		}
	}
	return tx.Commit()
}

// KeyFingerprint names the secret key without revealing it: the public
// half of an Ed25519 key derived from it (the audit checkpoint key), in
// base64. A backup records it so a restore can tell the right key before
// writing anything.
func (k *Keys) KeyFingerprint() (string, error) {
	p, err := k.checkpointKey()
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(p.Public().(ed25519.PublicKey)), nil
}

// backupKey signs backup manifests: an Ed25519 key of its own derived from
// the secret key.
func (k *Keys) backupKey() (ed25519.PrivateKey, error) {
	if len(k.secret) == 0 {
		return nil, errors.New("backup manifest: keys were not derived from a secret key")
	}
	seed, err := hkdf.Key(sha256.New, k.secret, nil, "kangfu backup manifest v1", ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// SignManifest signs a backup manifest's bytes (base64 signature).
func (k *Keys) SignManifest(b []byte) (string, error) {
	p, err := k.backupKey()
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(ed25519.Sign(p, b)), nil
}

// CheckManifest reports whether sig is this key's signature of b.
func (k *Keys) CheckManifest(b []byte, sig string) bool {
	p, err := k.backupKey()
	if err != nil {
		return false
	}
	s, err := base64.StdEncoding.DecodeString(sig)
	return err == nil && ed25519.Verify(p.Public().(ed25519.PublicKey), b, s)
}
