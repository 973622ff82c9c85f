package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"kangfu/internal/store"
)

// cmdRotateMaster re-keys the database under a new secret key
// (store.RotateMaster): every sealed value, every blind index, and the audit
// chain continued by a link the old key signs. The new key comes from a
// file (--new-key-file) or KANGFU_NEW_SECRET_KEY, never from the command
// line. Every server must be stopped first. Interrupted, it resumes when run
// again with the same two keys.
func cmdRotateMaster(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var newFile string
	var opt store.MasterRotateOptions
	cfg, _, err := parse("rotate-master", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&newFile, "new-key-file", "", "file holding the new secret key (or set KANGFU_NEW_SECRET_KEY); make one with `kangfu keygen`")
		fs.IntVar(&opt.BatchSize, "batch", 200, "rows per transaction")
	})
	if err != nil {
		return err
	}
	if opt.BatchSize < 1 {
		return usageError{"--batch must be at least 1"}
	}
	if cfg.Blobs != "" {
		// The objects in the bucket are sealed with keys derived from the
		// secret key (blob/seal.go); re-sealing them is not written yet, and
		// rotating without it would leave every photo and document unreadable.
		return fmt.Errorf("rotate-master with documents in a bucket (KANGFU_BLOBS=%s) is not supported yet: the bucket's objects are encrypted with keys derived from the secret key and would no longer open", cfg.Blobs)
	}
	newSecret, err := secretFrom("new", newFile, getenv("KANGFU_NEW_SECRET_KEY"))
	if err != nil {
		return err
	}
	if newSecret == nil {
		return usageError{"give the new secret key with --new-key-file F or KANGFU_NEW_SECRET_KEY (make one with `kangfu keygen`)"}
	}
	oldSecret, _, err := cfg.loadSecret(false)
	if err != nil {
		return err
	}
	oldKeys, err := store.DeriveKeys(oldSecret)
	if err != nil {
		return err
	}
	newKeys, err := store.DeriveKeys(newSecret)
	if err != nil {
		return fmt.Errorf("new secret key: %w", err)
	}
	e, err := openKeyed(ctx, cfg, stderr, oldSecret, nil, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-keying %s from key %s to key %s; every server must be stopped\n", redact(cfg.DB), oldKeys.Fingerprint(), newKeys.Fingerprint())
	last := time.Now()
	opt.Progress = func(table string, n int) {
		if time.Since(last) > 5*time.Second {
			fmt.Fprintf(stdout, "… %d values re-encrypted (%s)\n", n, table)
			last = time.Now()
		}
	}
	rep, err := e.db.RotateMaster(ctx, newKeys, opt)
	e.Close()
	if err != nil {
		if rep != nil && rep.Values > 0 {
			fmt.Fprintf(stdout, "%d values re-encrypted before the stop; run the same command again to resume\n", rep.Values)
		}
		return err
	}
	switch {
	case rep.AlreadyDone:
		fmt.Fprintf(stdout, "the database is already keyed with key %s: nothing to do\n", rep.To)
	default:
		if rep.Resumed {
			fmt.Fprintln(stdout, "an interrupted rotation was resumed and finished")
		}
		fmt.Fprintf(stdout, "%d values re-encrypted under field key %s of the new secret, blind indexes of %d persons recomputed\n", rep.Values, rep.FieldKey, rep.Persons)
		fmt.Fprintf(stdout, "audit row %d links the chain from key %s to key %s\n", rep.LinkSeq, rep.From, rep.To)
		if rep.RecoveryUsers > 0 {
			fmt.Fprintf(stdout, "%d account(s) had unused two-step recovery codes, which cannot be carried over: they were removed; those users sign in with their authenticator app and make new codes\n", rep.RecoveryUsers)
		}
	}

	// Check the result with the new key, as a server will open it.
	e, err = openKeyed(ctx, cfg, stderr, newSecret, nil, false)
	if err != nil {
		return err
	}
	defer e.Close()
	if err := e.db.CheckKey(ctx, false); err != nil {
		return err
	}
	cps, from, err := readCheckpoints(cfg, "")
	if err != nil {
		return err
	}
	v, err := e.db.VerifyAuditWith(ctx, store.AuditVerifyOptions{Checkpoints: cps, OldKeys: []*store.Keys{oldKeys}})
	if err != nil {
		return fmt.Errorf("verify the audit chain under the new key: %w", err)
	}
	fmt.Fprintf(stdout, "audit chain intact under the new key: %d rows verified across %d key rotation(s)", v.Rows, v.Rotations)
	if len(cps) > 0 {
		fmt.Fprintf(stdout, ", %d checkpoint(s) from %s hold", len(cps), from)
	}
	fmt.Fprintln(stdout)
	cp, err := appendCheckpoint(ctx, e)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "new checkpoint:", cp.String())
	pub, err := e.db.CheckpointPublicKey()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "give auditors the new checkpoint public key (Ed25519, base64): %s\n", pub)
	fmt.Fprintln(stdout, "next: start the servers with the new key (KANGFU_SECRET_KEY_FILE, KANGFU_SECRET_KEY or <data-dir>/secret.key); "+
		"keep the old key offline until the backups made under it have expired, then destroy it")
	return nil
}

// secretFrom reads a secret key from a file or an environment value (not
// both); nil when neither is given. what names it in errors.
func secretFrom(what, file, env string) ([]byte, error) {
	if file != "" && env != "" {
		return nil, usageError{fmt.Sprintf("give the %s secret key as a file or in the environment, not both", what)}
	}
	if file == "" && env == "" {
		return nil, nil
	}
	s := env
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s secret key: %w", what, err)
		}
		s = string(b)
	}
	k, err := store.ParseSecretKey(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%s secret key: %w", what, err)
	}
	return k, nil
}
