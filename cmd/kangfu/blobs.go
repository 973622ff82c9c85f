package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"kangfu/internal/blob"
	"kangfu/internal/store"
)

// s3FromEnv reads the S3 settings (KANGFU_BLOBS=s3://…) from the usual AWS
// variables, with KANGFU_S3_* taking precedence where both exist.
func s3FromEnv(getenv func(string) string) blob.S3Config {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	return blob.S3Config{
		Endpoint:        first("KANGFU_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
		Region:          first("KANGFU_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
		AccessKey:       getenv("AWS_ACCESS_KEY_ID"),
		SecretKey:       getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
		CredentialsFile: first("KANGFU_S3_CREDENTIALS_FILE", "AWS_SHARED_CREDENTIALS_FILE"),
		Profile:         getenv("AWS_PROFILE"),
		SSE:             getenv("KANGFU_S3_SSE"),
		TempDir:         getenv("KANGFU_S3_TEMP_DIR"),
	}
}

// openBlobs opens where documents and photos are kept: the local folder,
// or the bucket of KANGFU_BLOBS. Both seal what they store with the
// database's field keys (blob/seal.go, R36, issue 17 §6: check-in selfies
// are face data). A bucket is checked before the server starts, so a wrong
// endpoint or credentials fail at once.
func openBlobs(ctx context.Context, cfg *Config, db *store.DB) (blob.Storage, error) {
	if cfg.Blobs == "" {
		return openFolder(cfg.BlobDir, db)
	}
	s, err := openBucket(ctx, cfg, db)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// blobKeys are the keys blobs are sealed with: the vault's field keys.
func blobKeys(db *store.DB) blob.KeySource {
	return blob.KeySource{Current: db.Vault().Current, Key: db.Keys().FieldKey}
}

// openFolder opens the local document folder dir, sealing with the
// database's field keys.
func openFolder(dir string, db *store.DB) (*blob.Store, error) {
	s, err := blob.OpenSealed(dir, blobKeys(db))
	if err != nil {
		return nil, fmt.Errorf("document store %s: %w", dir, err)
	}
	return s, nil
}

func openBucket(ctx context.Context, cfg *Config, db *store.DB) (*blob.S3, error) {
	s, err := blob.NewS3(cfg.S3, blobKeys(db))
	if err != nil {
		return nil, fmt.Errorf("document store %s: %w", cfg.Blobs, err)
	}
	if err := s.Check(ctx); err != nil {
		return nil, fmt.Errorf("document store %s: %w", cfg.Blobs, err)
	}
	return s, nil
}

const blobsUsage = `usage:
  kangfu blobs migrate [--from DIR]  copy the local document folder into the bucket of KANGFU_BLOBS, verifying every copy
  kangfu blobs seal                  seal (encrypt) the documents and photos of the local folder written before it was sealed
  kangfu blobs verify                check that every document and photo the database refers to is stored and intact`

func cmdBlobs(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, blobsUsage)
		return usageError{"blobs: migrate, seal or verify?"}
	}
	switch args[0] {
	case "migrate":
		return cmdBlobsMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "seal":
		return cmdBlobsSeal(ctx, args[1:], getenv, stdout, stderr)
	case "verify":
		return cmdBlobsVerify(ctx, args[1:], getenv, stdout, stderr)
	}
	fmt.Fprintln(stderr, blobsUsage)
	return usageError{fmt.Sprintf("blobs: unknown command %q", args[0])}
}

func cmdBlobsMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var from string
	cfg, _, err := parse("blobs migrate", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "the local folder to copy (default --blob-dir)")
	})
	if err != nil {
		return err
	}
	if cfg.Blobs == "" {
		return usageError{"blobs migrate: set KANGFU_BLOBS=s3://bucket/prefix (and the S3 settings) to say where to copy to"}
	}
	if from == "" {
		from = cfg.BlobDir
	}
	e, err := open(ctx, cfg, stderr, false, false)
	if err != nil {
		return err
	}
	defer e.Close()
	src, err := openFolder(from, e.db)
	if err != nil {
		return err
	}
	dst, err := openBucket(ctx, cfg, e.db)
	if err != nil {
		return err
	}
	seen := 0
	res, err := blob.Migrate(ctx, src, dst, func(string) {
		if seen++; seen%1000 == 0 {
			fmt.Fprintf(stdout, "  %d files …\n", seen)
		}
	})
	for _, p := range res.Problems {
		fmt.Fprintf(stdout, "NOT COPIED %s: %v\n", p.Key, p.Err)
	}
	fmt.Fprintf(stdout, "%s → %s: %d copied and verified, %d already there and verified, %d not copied\n",
		src.Dir(), dst, res.Copied, res.Present, len(res.Problems))
	if err != nil {
		return fmt.Errorf("blobs migrate stopped (run it again to continue): %w", err)
	}
	if len(res.Problems) > 0 {
		return fmt.Errorf("%d file(s) could not be copied intact", len(res.Problems))
	}
	return nil
}

// cmdBlobsSeal seals in place every plaintext file of the local document
// folder (written before the folder was sealed, R36): each is checked
// against its name, sealed into a temporary file, that file read back and
// checked, then renamed over the plaintext one. Idempotent; an interrupted
// run resumes when run again. The server may keep running.
func cmdBlobsSeal(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := parse("blobs seal", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	if cfg.Blobs != "" {
		return usageError{"blobs seal: the documents are in the bucket " + cfg.Blobs + ", whose objects are always sealed; this seals the local folder (--blob-dir)"}
	}
	e, err := open(ctx, cfg, stderr, false, false)
	if err != nil {
		return err
	}
	defer e.Close()
	s, err := openFolder(cfg.BlobDir, e.db)
	if err != nil {
		return err
	}
	seen := 0
	res, err := s.SealPlain(ctx, func(string) {
		if seen++; seen%1000 == 0 {
			fmt.Fprintf(stdout, "  %d files …\n", seen)
		}
	})
	for _, p := range res.Problems {
		fmt.Fprintf(stdout, "NOT SEALED %s: %v\n", p.Key, p.Err)
	}
	fmt.Fprintf(stdout, "%s: %d sealed and read back intact, %d already sealed, %d not sealed\n",
		s.Dir(), res.Sealed, res.Already, len(res.Problems))
	if err != nil {
		return fmt.Errorf("blobs seal stopped (run it again to continue): %w", err)
	}
	if len(res.Problems) > 0 {
		return fmt.Errorf("%d file(s) do not match their name and were not sealed (see kangfu blobs verify)", len(res.Problems))
	}
	return nil
}

func cmdBlobsVerify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := parse("blobs verify", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	e, err := open(ctx, cfg, stderr, false, false)
	if err != nil {
		return err
	}
	defer e.Close()
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
	missing := 0
	for _, p := range probs {
		switch {
		case p.Missing():
			missing++
			fmt.Fprintf(stdout, "MISSING  %s\n", p.Key)
		case errors.Is(p.Err, blob.ErrCorrupt):
			fmt.Fprintf(stdout, "ALTERED  %s (content does not match its hash)\n", p.Key)
		default:
			fmt.Fprintf(stdout, "UNREADABLE %s: %v\n", p.Key, p.Err)
		}
	}
	fmt.Fprintf(stdout, "%d referenced blob(s) checked: %d intact, %d missing, %d altered or unreadable\n",
		len(keys), len(keys)-len(probs), missing, len(probs)-missing)
	if local, ok := s.(*blob.Store); ok {
		c, err := local.Count(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d file(s) sealed, %d still plaintext", local.Dir(), c.Already, c.Plain)
		if c.Plain > 0 {
			fmt.Fprint(stdout, " (seal them with kangfu blobs seal)")
		}
		fmt.Fprintln(stdout)
	}
	if len(probs) > 0 {
		return fmt.Errorf("%d referenced blob(s) missing or altered", len(probs))
	}
	return nil
}
