package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Problem is one blob that is missing or does not match its key.
type Problem struct {
	Key string
	Err error // wraps ErrNotFound, ErrCorrupt or the error reaching it
}

func (p Problem) Missing() bool { return errors.Is(p.Err, ErrNotFound) }

// Check reads key from s to its end and reports whether it is there and
// hashes to its key (the stream verifies; nothing is kept in memory).
func Check(ctx context.Context, s Storage, key string) error {
	rc, _, err := s.Open(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// Verify checks every key in s (kangfu blobs verify) and returns the keys
// that are missing or altered, each once, in the order given. It stops
// early only when ctx ends.
func Verify(ctx context.Context, s Storage, keys []string) ([]Problem, error) {
	var out []Problem
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if err := Check(ctx, s, k); err != nil {
			out = append(out, Problem{Key: k, Err: err})
		}
	}
	return out, nil
}

// MigrateResult counts what Migrate did.
type MigrateResult struct {
	Copied, Present int       // uploaded now; already in the target and intact
	Problems        []Problem // local files that are altered, or copies that did not verify
}

// Migrate copies every file of the local store src into dst (kangfu blobs
// migrate) and verifies every copy by reading it back from dst and
// hashing it. A file already in dst is read back too (and re-uploaded if it
// does not verify). Local files that do not match their key are reported,
// not copied. Running it again after a partial run copies what is missing.
func Migrate(ctx context.Context, src *Store, dst Storage, progress func(key string)) (MigrateResult, error) {
	var res MigrateResult
	err := src.Keys(func(key string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if progress != nil {
			progress(key)
		}
		if err := Check(ctx, dst, key); err == nil {
			res.Present++
			return nil
		} else if rm, ok := dst.(interface {
			Remove(context.Context, string) error
		}); ok && errors.Is(err, ErrCorrupt) {
			// An altered copy would make Put believe the key is there.
			if err := rm.Remove(ctx, key); err != nil {
				return fmt.Errorf("remove altered copy of %s: %w", key, err)
			}
		}
		rc, _, err := src.Open(ctx, key)
		if err != nil {
			res.Problems = append(res.Problems, Problem{Key: key, Err: err})
			return nil
		}
		got, _, err := dst.Put(ctx, rc)
		rc.Close()
		switch {
		case errors.Is(err, ErrCorrupt): // the local file is altered: Put read its verifying stream
			res.Problems = append(res.Problems, Problem{Key: key, Err: err})
			return nil
		case err != nil:
			return fmt.Errorf("copy %s: %w", key, err)
		case got != key:
			return fmt.Errorf("copy %s: stored as %s", key, got)
		}
		if err := Check(ctx, dst, key); err != nil {
			res.Problems = append(res.Problems, Problem{Key: key, Err: fmt.Errorf("copy does not verify: %w", err)})
			return nil
		}
		res.Copied++
		return nil
	})
	return res, err
}
