package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"kangfu/internal/store"
)

// readCheckpoints reads the checkpoint lines verify-audit compares the
// chain with: the named file, or the configured checkpoint file if it is
// there. A named file that is missing is an error; so is a bad line.
func readCheckpoints(cfg *Config, name string) ([]store.AuditCheckpoint, string, error) {
	path := name
	if path == "" {
		if cfg.AuditCheckpointFile == "off" {
			return nil, "", nil
		}
		path = cfg.AuditCheckpointFile
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && name == "" {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("checkpoints: %w", err)
	}
	cps, err := store.ParseAuditCheckpoints(string(b))
	if err != nil {
		return nil, "", fmt.Errorf("checkpoints %s: %w", path, err)
	}
	return cps, path, nil
}

// appendCheckpoint signs the chain's head and appends the line to the
// checkpoint file (unless it is off), returning the checkpoint.
func appendCheckpoint(ctx context.Context, e *env) (store.AuditCheckpoint, error) {
	cp, err := e.db.AuditCheckpoint(ctx)
	if err != nil {
		return cp, err
	}
	if e.cfg.AuditCheckpointFile == "off" {
		return cp, nil
	}
	f, err := os.OpenFile(e.cfg.AuditCheckpointFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return cp, fmt.Errorf("audit checkpoint file: %w", err)
	}
	_, err = fmt.Fprintln(f, cp.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cp, fmt.Errorf("audit checkpoint file: %w", err)
	}
	return cp, nil
}

// checkpointLoop writes a checkpoint every interval while the log grows,
// and a last one when ctx ends.
func checkpointLoop(ctx context.Context, e *env, every time.Duration) {
	var last int64 = -1
	write := func(ctx context.Context) {
		cp, err := e.db.AuditCheckpoint(ctx)
		if err != nil || cp.Seq == last {
			if err != nil {
				e.log.Error("audit checkpoint", "err", err)
			}
			return
		}
		if cp, err = appendCheckpoint(ctx, e); err != nil {
			e.log.Error("audit checkpoint", "err", err)
			return
		}
		last = cp.Seq
		e.log.Info("audit checkpoint", "seq", cp.Seq, "file", e.cfg.AuditCheckpointFile)
	}
	write(ctx)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			write(c)
			cancel()
			return
		case <-t.C:
			write(ctx)
		}
	}
}

func cmdAuditCheckpoint(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var pub bool
	cfg, _, err := parse("audit-checkpoint", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&pub, "public-key", false, "print the public key that checks checkpoint lines, for auditors")
	})
	if err != nil {
		return err
	}
	e, err := open(ctx, cfg, stderr, false, false)
	if err != nil {
		return err
	}
	defer e.Close()
	if pub {
		k, err := e.db.CheckpointPublicKey()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "audit checkpoint public key (Ed25519, base64): %s\n", k)
		return nil
	}
	cp, err := appendCheckpoint(ctx, e)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, cp.String())
	return nil
}
