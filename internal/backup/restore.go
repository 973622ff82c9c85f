package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"kangfu/internal/store"
)

// DamageError lists what does not match a backup's manifest: each problem
// names the file or table.
type DamageError struct {
	Dir      string
	Problems []string
}

func (e *DamageError) Error() string {
	return fmt.Sprintf("backup %s does not match its manifest:\n  - %s", e.Dir, strings.Join(e.Problems, "\n  - "))
}

// ReadManifest reads a backup folder's manifest.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has no %s: it is not a backup, or the backup did not finish", dir, ManifestName)
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestName), err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("%s: format %q, this Kangfu reads %q", filepath.Join(dir, ManifestName), m.Format, Format)
	}
	return &m, nil
}

// Verify checks a backup without restoring it: every file's size and
// SHA-256 against the manifest, no file left out of it, and (SQLite) the
// rows of every table in the database copy. With keys it also checks the
// manifest's signature and that the backup needs this key; signed reports
// whether the signature was checked.
func Verify(ctx context.Context, dir string, keys *store.Keys) (m *Manifest, signed bool, err error) {
	m, err = ReadManifest(dir)
	if err != nil {
		return nil, false, err
	}
	if keys != nil {
		fp, err := keys.KeyFingerprint()
		if err != nil {
			return m, false, err
		}
		if fp != m.Key.Fingerprint {
			return m, false, fmt.Errorf("this backup needs the server key with fingerprint %s; the key given has fingerprint %s (another installation's key, or a replaced one)",
				m.Key.Fingerprint, fp)
		}
		b, err := signedBytes(m)
		if err != nil {
			return m, false, err
		}
		if !keys.CheckManifest(b, m.Signature) {
			return m, false, &DamageError{Dir: dir, Problems: []string{ManifestName + ": its signature does not match (the manifest was altered)"}}
		}
		signed = true
	}
	var probs []string
	listed := map[string]bool{ManifestName: true}
	dbOK := false
	for _, f := range m.Files {
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) || listed[f.Path] {
			probs = append(probs, fmt.Sprintf("%s: not a file name inside the backup", f.Path))
			continue
		}
		listed[f.Path] = true
		got, err := hashFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			probs = append(probs, fmt.Sprintf("%s: missing", f.Path))
		case err != nil:
			probs = append(probs, fmt.Sprintf("%s: %v", f.Path, err))
		case got.Size != f.Size:
			probs = append(probs, fmt.Sprintf("%s: %d bytes, the manifest says %d", f.Path, got.Size, f.Size))
		case got.SHA256 != f.SHA256:
			probs = append(probs, fmt.Sprintf("%s: its SHA-256 is %s, the manifest says %s (the file was changed or damaged)", f.Path, got.SHA256, f.SHA256))
		default:
			if f.Kind == "database" {
				dbOK = true
			}
		}
	}
	if _, ok := m.DatabaseFile(); !ok {
		probs = append(probs, "the manifest lists no database file")
	}
	filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		if !listed[filepath.ToSlash(rel)] {
			probs = append(probs, fmt.Sprintf("%s: not in the manifest", filepath.ToSlash(rel)))
		}
		return nil
	})
	if dbOK && m.Engine == string(store.SQLite) {
		d, err := store.DescribeSQLiteFile(ctx, filepath.Join(dir, SQLiteName))
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s: %v", SQLiteName, err))
		} else {
			probs = append(probs, compareTables(m, d)...)
		}
	}
	if len(probs) > 0 {
		return m, signed, &DamageError{Dir: dir, Problems: probs}
	}
	return m, signed, nil
}

// compareTables names every table whose rows differ from the manifest.
func compareTables(m *Manifest, d *store.DatabaseCopy) []string {
	var probs []string
	names := make([]string, 0, len(m.Tables))
	for n := range m.Tables {
		names = append(names, n)
	}
	for n := range d.Tables {
		if _, ok := m.Tables[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		want, inM := m.Tables[n]
		got, inD := d.Tables[n]
		switch {
		case !inD:
			probs = append(probs, fmt.Sprintf("table %s: missing from the database (the manifest counts %d rows)", n, want))
		case !inM:
			probs = append(probs, fmt.Sprintf("table %s: not in the manifest (%d rows)", n, got))
		case got != want:
			probs = append(probs, fmt.Sprintf("table %s: %d rows, the manifest says %d", n, got, want))
		}
	}
	if d.Migration != m.SchemaMigration {
		probs = append(probs, fmt.Sprintf("schema version %s, the manifest says %s", d.Migration, m.SchemaMigration))
	}
	return probs
}

// Target is where Restore writes: an empty data dir and an empty database.
type Target struct {
	DSN            string // a SQLite file path or a postgres:// URL, as for store.Open
	DataDir        string // must hold nothing but the key file (KeyFile)
	KeyFile        string // the one file allowed in DataDir (its secret key), "" for none
	BlobDir        string
	CheckpointFile string // "" or "off": the checkpoints are checked but not written
	Keys           *store.Keys
	PGRestore      string // pg_restore's path, for PostgreSQL (store.FindPGTool)
}

// Report is what Restore did.
type Report struct {
	Manifest    *Manifest
	AuditRows   int64
	Checkpoints int
	Blobs       int
}

// Restore restores the backup in dir into t. It verifies every file and
// the manifest's signature before writing anything, refuses a target that
// is not empty, restores, counts every table against the manifest, and
// verifies the audit chain with the server key and the backup's
// checkpoints (as `kangfu verify-audit` does). On SQLite a restore that
// fails after writing removes what it wrote.
func Restore(ctx context.Context, dir string, t Target) (rep *Report, err error) {
	if t.Keys == nil {
		return nil, errors.New("restore: no server key")
	}
	m, _, err := Verify(ctx, dir, t.Keys)
	if err != nil {
		return nil, err
	}
	rep = &Report{Manifest: m}
	engine := store.SQLite
	if strings.HasPrefix(t.DSN, "postgres://") || strings.HasPrefix(t.DSN, "postgresql://") {
		engine = store.Postgres
	}
	if string(engine) != m.Engine {
		return nil, fmt.Errorf("this is a %s backup; the target database is %s: restore it into a %s database", m.Engine, engine, m.Engine)
	}
	known, err := store.MigrationNames(engine)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(known, m.SchemaMigration) {
		return nil, fmt.Errorf("the backup's schema is at migration %s, which this version of Kangfu does not know: restore it with the version that made it or a newer one", m.SchemaMigration)
	}

	// The target must be empty.
	if err := emptyTarget(t); err != nil {
		return nil, err
	}

	var created []string                       // what to remove if the restore fails
	var undoPG func(ctx context.Context) error // PostgreSQL: drops what pg_restore made
	defer func() {
		if err == nil {
			return
		}
		for _, p := range slices.Backward(created) {
			os.RemoveAll(p)
		}
		// No half-restored schema is left behind: a restore that fails
		// after pg_restore (a blob, the counts, the audit chain) takes its
		// tables out again, so the target is empty for the next try.
		if undoPG != nil {
			if uerr := undoPG(context.WithoutCancel(ctx)); uerr != nil {
				err = fmt.Errorf("%w\nRemoving the restored tables failed as well (%v): drop them by hand before trying again", err, uerr)
			}
		}
	}()
	mk := func(path string) error {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if err := os.MkdirAll(path, 0o700); err != nil {
			return err
		}
		created = append(created, path)
		return nil
	}
	if err := mk(t.DataDir); err != nil {
		return nil, err
	}

	// The database.
	dbf, _ := m.DatabaseFile()
	if engine == store.SQLite {
		path := sqlitePath(t.DSN)
		if err := mk(filepath.Dir(path)); err != nil {
			return nil, err
		}
		created = append(created, path, path+"-wal", path+"-shm")
		if _, err := copyFile(filepath.Join(dir, dbf.Path), path, dbf.SHA256); err != nil {
			return nil, fmt.Errorf("restore %s: %w", dbf.Path, err)
		}
	} else {
		if undoPG, err = store.RestorePostgres(ctx, t.DSN, filepath.Join(dir, dbf.Path), m.Schema, t.PGRestore); err != nil {
			return nil, err
		}
	}

	// The blobs and the checkpoint file.
	var checkpoints []byte
	for _, f := range m.Files {
		switch f.Kind {
		case "blob":
			rel := strings.TrimPrefix(f.Path, BlobsDir+"/")
			to := filepath.Join(t.BlobDir, filepath.FromSlash(rel))
			if err := mk(filepath.Dir(to)); err != nil {
				return nil, err
			}
			if _, err := copyFile(filepath.Join(dir, filepath.FromSlash(f.Path)), to, f.SHA256); err != nil {
				return nil, fmt.Errorf("restore %s: %w", f.Path, err)
			}
			created = append(created, to)
			rep.Blobs++
		case "checkpoints":
			if checkpoints, err = os.ReadFile(filepath.Join(dir, f.Path)); err != nil {
				return nil, err
			}
			if t.CheckpointFile != "" && t.CheckpointFile != "off" {
				if err := mk(filepath.Dir(t.CheckpointFile)); err != nil {
					return nil, err
				}
				if _, err := copyFile(filepath.Join(dir, f.Path), t.CheckpointFile, f.SHA256); err != nil {
					return nil, fmt.Errorf("restore %s: %w", f.Path, err)
				}
				created = append(created, t.CheckpointFile)
			}
		}
	}

	// Everything written on disk before it is checked and reported.
	dirs := []string{t.DataDir}
	for _, d := range []string{t.BlobDir, filepath.Dir(t.CheckpointFile), filepath.Dir(sqlitePath(t.DSN))} {
		if _, err := os.Stat(d); err == nil && d != "." {
			dirs = append(dirs, d)
		}
	}
	if err := flush(dirs); err != nil {
		return nil, fmt.Errorf("flush the restored files: %w", err)
	}

	// Check what was restored: the rows of every table, then the audit chain.
	db, err := store.Open(ctx, t.DSN, store.Options{Keys: t.Keys})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	d, err := db.Describe(ctx)
	if err != nil {
		return nil, err
	}
	if probs := compareTables(m, d); len(probs) > 0 {
		return nil, fmt.Errorf("the restored database does not match the backup's manifest:\n  - %s", strings.Join(probs, "\n  - "))
	}
	cps, err := store.ParseAuditCheckpoints(string(checkpoints))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CheckpointsName, err)
	}
	rep.Checkpoints = len(cps)
	if rep.AuditRows, err = db.VerifyAudit(ctx, cps...); err != nil {
		return nil, fmt.Errorf("the restored audit log does not verify: %w", err)
	}
	return rep, nil
}

// emptyTarget refuses a target that holds anything: a file in the data dir
// other than the key file, the SQLite database, a stored document, or the
// checkpoint file. (An empty PostgreSQL schema is checked by the restore.)
func emptyTarget(t Target) error {
	refuse := func(what string) error {
		return fmt.Errorf("the target is not empty: %s exists. Restore only into an empty data dir and an empty database", what)
	}
	var found string
	walk := func(root string) error {
		return filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && path == root {
					return filepath.SkipAll
				}
				return err
			}
			if de.IsDir() {
				return nil
			}
			if t.KeyFile != "" && sameFile(path, t.KeyFile) {
				return nil
			}
			found = path
			return filepath.SkipAll
		})
	}
	if !strings.Contains(t.DSN, "://") || strings.HasPrefix(t.DSN, "sqlite://") || strings.HasPrefix(t.DSN, "file:") {
		path := sqlitePath(t.DSN)
		for _, p := range []string{path, path + "-wal"} {
			if _, err := os.Stat(p); err == nil {
				return refuse("the database file " + p)
			}
		}
	}
	if t.CheckpointFile != "" && t.CheckpointFile != "off" {
		if _, err := os.Stat(t.CheckpointFile); err == nil {
			return refuse("the audit checkpoint file " + t.CheckpointFile)
		}
	}
	for _, root := range []string{t.DataDir, t.BlobDir} {
		if root == "" {
			continue
		}
		if err := walk(root); err != nil {
			return err
		}
		if found != "" {
			return refuse(found)
		}
	}
	return nil
}

func sameFile(a, b string) bool {
	x, err1 := os.Stat(a)
	y, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(x, y)
}

// sqlitePath is the file of a SQLite DSN ("" for PostgreSQL).
func sqlitePath(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return ""
	}
	return strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "file:")
}
