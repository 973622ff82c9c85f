package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"kangfu/internal/backup"
	"kangfu/internal/store"
)

// cmdBackup writes an online, consistent backup (issue 15, PRODUCT §8), or
// with --verify checks one against its manifest.
func cmdBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var out, verify, pgDump string
	cfg, _, err := parse("backup", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "folder to write the backup to (must not exist or be empty)")
		fs.StringVar(&verify, "verify", "", "check the backup in this folder against its manifest instead of making one")
		fs.StringVar(&pgDump, "pg-dump", getenv("KANGFU_PG_DUMP"), "pg_dump program for a PostgreSQL database (KANGFU_PG_DUMP; default: pg_dump on PATH)")
	})
	if err != nil {
		return err
	}
	if (out == "") == (verify == "") {
		return usageError{"kangfu backup --out DIR, or kangfu backup --verify DIR"}
	}
	if verify != "" {
		return verifyBackup(ctx, cfg, verify, stdout)
	}
	e, err := open(ctx, cfg, stderr, false, false)
	if err != nil {
		return err
	}
	defer e.Close()
	if fresh, err := e.db.Fresh(ctx); err != nil {
		return err
	} else if fresh {
		return fmt.Errorf("the database %s holds no Kangfu data (never migrated): nothing to back up", redact(cfg.DB))
	}
	src := backup.Source{DB: e.db, Keys: e.db.Keys(), BlobDir: cfg.BlobDir}
	if cfg.Blobs != "" {
		src.BlobDir, src.BlobBucket = "", cfg.Blobs
	}
	if cfg.AuditCheckpointFile != "off" {
		src.CheckpointFile = cfg.AuditCheckpointFile
	}
	if e.db.Engine() == store.Postgres {
		if src.PGDump, err = store.FindPGTool("pg_dump", pgDump); err != nil {
			return err
		}
	}
	began := time.Now()
	m, err := backup.Create(ctx, src, out)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	took := time.Since(began)
	dbf, _ := m.DatabaseFile()
	fmt.Fprintf(stdout, "backup written to %s in %s (%s in all)\n", out, took.Round(time.Millisecond), mib(m.Size("")))
	fmt.Fprintf(stdout, "  database    %-14s %9s  %d tables, %d rows, schema %s\n", dbf.Path, mib(dbf.Size), len(m.Tables), m.Rows(), m.SchemaMigration)
	fmt.Fprintf(stdout, "  documents   %-14s %9s  %d files (%d referenced by the database)\n", backup.BlobsDir+"/", mib(m.Size("blob")), m.Blobs, m.BlobsReferenced)
	fmt.Fprintf(stdout, "  audit log   %d rows, %d signed checkpoint(s) copied\n", m.AuditLastRow, m.Checkpoints)
	fmt.Fprintf(stdout, "  manifest    %s: size and SHA-256 of every file, rows per table, signed\n", filepath.Join(out, backup.ManifestName))
	for _, w := range m.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	fmt.Fprintf(stdout, "KEY: the backup does NOT contain the secret key (KANGFU_SECRET_KEY). Restoring it needs the key with fingerprint %s "+
		"(field key %s); without it the encrypted fields cannot be read. Keep the key safe and apart from the backup.\n", m.Key.Fingerprint, m.Key.FieldKeyID)
	return nil
}

// verifyBackup checks a backup's files against its manifest; the signature
// too when the server key is at hand.
func verifyBackup(ctx context.Context, cfg *Config, dir string, stdout io.Writer) error {
	var keys *store.Keys
	if secret, _, err := cfg.loadSecret(false); err == nil {
		if keys, err = store.DeriveKeys(secret); err != nil {
			return err
		}
	}
	m, signed, err := backup.Verify(ctx, dir, keys)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup %s made %s (%s, schema %s): %d files, %s, match the manifest\n", dir, m.CreatedAt.Format(time.RFC3339),
		m.Engine, m.SchemaMigration, len(m.Files), mib(m.Size("")))
	if m.Engine == string(store.SQLite) {
		fmt.Fprintf(stdout, "  the database copy's %d tables hold the %d rows the manifest counts\n", len(m.Tables), m.Rows())
	} else {
		fmt.Fprintf(stdout, "  a PostgreSQL archive's rows are counted at restore\n")
	}
	if signed {
		fmt.Fprintln(stdout, "  the manifest's signature matches the server key")
	} else {
		fmt.Fprintf(stdout, "  the manifest's signature was not checked: no server key given (the backup needs the key with fingerprint %s)\n", m.Key.Fingerprint)
	}
	return nil
}

// cmdRestore restores a backup into an empty data dir and an empty
// database, then checks it as verify-audit does.
func cmdRestore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var from, pgRestore string
	cfg, _, err := parse("restore", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "backup folder to restore")
		fs.StringVar(&pgRestore, "pg-restore", getenv("KANGFU_PG_RESTORE"), "pg_restore program for a PostgreSQL database (KANGFU_PG_RESTORE; default: pg_restore on PATH)")
	})
	if err != nil {
		return err
	}
	if from == "" {
		return usageError{"kangfu restore --from DIR (into the empty --data-dir / --db, with the backup's secret key)"}
	}
	secret, _, err := cfg.loadSecret(false)
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			return usageError{"restore needs the secret key the backup was made with (the backup does not contain it): " + ue.msg}
		}
		return err
	}
	keys, err := store.DeriveKeys(secret)
	if err != nil {
		return err
	}
	t := backup.Target{DSN: cfg.DB, DataDir: cfg.DataDir, KeyFile: filepath.Join(cfg.DataDir, keyFileName), BlobDir: cfg.BlobDir,
		CheckpointFile: cfg.AuditCheckpointFile, Keys: keys}
	if cfg.SecretKeyFile != "" {
		t.KeyFile = cfg.SecretKeyFile
	}
	if strings.HasPrefix(cfg.DB, "postgres://") || strings.HasPrefix(cfg.DB, "postgresql://") {
		if t.PGRestore, err = store.FindPGTool("pg_restore", pgRestore); err != nil {
			return err
		}
	}
	began := time.Now()
	rep, err := backup.Restore(ctx, from, t)
	if err != nil {
		return fmt.Errorf("restore refused or failed: %w", err)
	}
	m := rep.Manifest
	fmt.Fprintf(stdout, "every file of %s matches its manifest (signed by this key)\n", from)
	fmt.Fprintf(stdout, "restored the backup of %s into %s in %s:\n", m.CreatedAt.Format(time.RFC3339), redact(cfg.DB), time.Since(began).Round(time.Millisecond))
	fmt.Fprintf(stdout, "  %d tables, %d rows: every count matches the manifest (schema %s)\n", len(m.Tables), m.Rows(), m.SchemaMigration)
	fmt.Fprintf(stdout, "  %d documents into %s\n", rep.Blobs, cfg.BlobDir)
	if rep.Checkpoints > 0 {
		fmt.Fprintf(stdout, "  audit chain intact: %d rows verified, %d checkpoint(s) from the backup hold\n", rep.AuditRows, rep.Checkpoints)
	} else {
		fmt.Fprintf(stdout, "  audit chain intact: %d rows verified (the backup held no checkpoints)\n", rep.AuditRows)
	}
	fmt.Fprintf(stdout, "Start the server with the same secret key. Everything written after %s is not in this restore: checkpoints the old server signed later will show those rows as missing.\n",
		m.CreatedAt.Format(time.RFC3339))
	return nil
}

// mib writes a size in MiB (KiB below one MiB).
func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
