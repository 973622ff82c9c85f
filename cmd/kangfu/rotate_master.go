package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"kangfu/internal/blob"
	"kangfu/internal/store"
)

// cmdRotateMaster re-keys the database under a new secret key
// (store.RotateMaster): every sealed value, every blind index, and the audit
// chain continued by a link the old key signs. The new key comes from a
// file (--new-key-file) or KANGFU_NEW_SECRET_KEY, never from the command
// line. Every server must be stopped first. Interrupted, it resumes when run
// again with the same two keys. Every document and photo (in the bucket of
// KANGFU_BLOBS or the local folder) is sealed again under the new key, and
// read back, before the database switches (resealBlobs).
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
	// The blobs (the bucket's objects or the local folder's files) are
	// sealed with keys derived from the secret key (blob/seal.go): each is
	// sealed again under the new field key, read back and checked, before
	// the database switches to the new key.
	reseal, err := resealBlobs(ctx, cfg, oldKeys, newKeys, stdout)
	if err != nil {
		e.Close()
		return err
	}
	opt.BeforeSwitch = reseal
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
	{
		// Every photo and document the database refers to opens with the new
		// key alone, as a server will read them.
		s, err := openBlobs(ctx, cfg, e.db)
		if err != nil {
			return err
		}
		keys, err := e.db.BlobRefs(ctx)
		if err != nil {
			return err
		}
		probs, err := blob.Verify(ctx, s, keys)
		if err != nil {
			return err
		}
		if len(probs) > 0 {
			for _, p := range probs {
				fmt.Fprintf(stdout, "DOES NOT OPEN %s: %v\n", p.Key, p.Err)
			}
			return fmt.Errorf("%d referenced document(s) or photo(s) in %s do not open with the new key", len(probs), blobsName(cfg))
		}
		fmt.Fprintf(stdout, "%d referenced document(s) and photo(s) in %s open with the new key\n", len(keys), blobsName(cfg))
	}
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

// resealBlobs opens the blobs (the bucket of KANGFU_BLOBS, or else the
// local folder) with both keys (blobs name the field key id they are
// sealed with: the new id under the new secret, every older id under the
// old one) and returns the step RotateMaster runs before it switches:
// every blob sealed again under the new field key and read back intact
// (blob.S3.Reseal, blob.Store.Reseal; plaintext files of the folder from
// before it was sealed are sealed too). A blob that does not open stops
// the rotation before the switch, named; run again, the blobs already
// re-sealed are skipped.
func resealBlobs(ctx context.Context, cfg *Config, oldKeys, newKeys *store.Keys, stdout io.Writer) (func(context.Context, string) error, error) {
	var to string
	keys := blob.KeySource{
		Current: func() string { return to },
		Key: func(id string) ([]byte, error) {
			if id == to {
				return newKeys.FieldKey(id)
			}
			return oldKeys.FieldKey(id)
		},
	}
	var s interface {
		Reseal(context.Context, string, func(string)) (blob.ResealResult, error)
	}
	where := blobsName(cfg)
	if cfg.Blobs != "" {
		b, err := blob.NewS3(cfg.S3, keys)
		if err != nil {
			return nil, fmt.Errorf("document store %s: %w", where, err)
		}
		if err := b.Check(ctx); err != nil {
			return nil, fmt.Errorf("document store %s: %w", where, err)
		}
		s = b
	} else {
		f, err := blob.OpenSealed(cfg.BlobDir, keys)
		if err != nil {
			return nil, fmt.Errorf("document store %s: %w", where, err)
		}
		s = f
	}
	return func(ctx context.Context, fieldKey string) error {
		to = fieldKey
		fmt.Fprintf(stdout, "re-sealing the documents and photos of %s under field key %s of the new secret\n", where, fieldKey)
		last, seen := time.Now(), 0
		res, err := s.Reseal(ctx, fieldKey, func(string) {
			if seen++; time.Since(last) > 5*time.Second {
				fmt.Fprintf(stdout, "… %d objects\n", seen)
				last = time.Now()
			}
		})
		for _, p := range res.Problems {
			fmt.Fprintf(stdout, "NOT RE-SEALED %s: %v\n", p.Key, p.Err)
		}
		fmt.Fprintf(stdout, "%d object(s) re-sealed and read back intact, %d already under the new key, %d not re-sealed\n",
			res.Resealed, res.Already, len(res.Problems))
		if err != nil {
			return fmt.Errorf("re-sealing %s stopped (run rotate-master again with the same keys to resume): %w", where, err)
		}
		if len(res.Problems) > 0 {
			return fmt.Errorf("%d object(s) in %s do not open and were not re-sealed, so the database stays on the old key: "+
				"put back intact copies (from a backup) or remove them, then run rotate-master again with the same keys", len(res.Problems), where)
		}
		return nil
	}, nil
}

// blobsName names where the blobs are: the bucket, or the local folder.
func blobsName(cfg *Config) string {
	if cfg.Blobs != "" {
		return cfg.Blobs
	}
	return cfg.BlobDir
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
