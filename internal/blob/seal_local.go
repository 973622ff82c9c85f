package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Sealing the local folder in place: `kangfu blobs seal` seals the files
// written before the folder was sealed (SealPlain), and `kangfu
// rotate-master` seals every file again under the new secret's field key
// (Reseal), as blob.S3.Reseal does for a bucket. Each file is opened and its
// plaintext checked against its name, sealed into a temporary file, that
// file opened again and checked, then renamed over the old one (atomic):
// an interrupted run leaves every file whole, and a second run resumes.

// SealedWith returns the id of the field key key's file is sealed under,
// or "" when it is a plaintext file. It reads the header and the first
// chunk only (a plaintext file that starts with the seal's magic is hashed
// whole to tell it from a damaged sealed file).
func (s *Store) SealedWith(ctx context.Context, key string) (string, error) {
	if !ValidKey(key) {
		return "", ErrBadKey
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return "", fmt.Errorf("blob: open %s: %w", key, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	_, _, id, err := s.openFile(ctx, f, fi.Size(), key)
	return id, err
}

// SealResult counts what SealPlain or a count of the folder found.
type SealResult struct {
	Sealed   int       // sealed now, and read back intact
	Already  int       // already sealed (under the wanted key, for Reseal)
	Plain    int       // plaintext files (Count only)
	Problems []Problem // files that do not open or do not match their name: left as they were
}

// SealPlain seals every plaintext file of the store under the current
// field key (kangfu blobs seal). Files already sealed are counted and left.
func (s *Store) SealPlain(ctx context.Context, progress func(key string)) (SealResult, error) {
	if s.seal == nil {
		return SealResult{}, errors.New("blob: the store has no keys to seal with")
	}
	return s.resealAll(ctx, s.seal.src.Current(), false, progress)
}

// Reseal seals every file not yet sealed under the field key id to
// (plaintext ones too) again under it (kangfu rotate-master). The store's
// KeySource must give the old ids as well as to.
func (s *Store) Reseal(ctx context.Context, to string, progress func(key string)) (ResealResult, error) {
	r, err := s.resealAll(ctx, to, true, progress)
	return ResealResult{Resealed: r.Sealed, Already: r.Already, Problems: r.Problems}, err
}

// Count reports how many files are sealed and how many are plaintext
// (kangfu blobs verify); files that open neither way are Problems.
func (s *Store) Count(ctx context.Context) (SealResult, error) {
	var res SealResult
	err := s.Keys(func(key string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		id, err := s.SealedWith(ctx, key)
		switch {
		case err != nil:
			res.Problems = append(res.Problems, Problem{Key: key, Err: err})
		case id == "":
			res.Plain++
		default:
			res.Already++
		}
		return nil
	})
	return res, err
}

func (s *Store) resealAll(ctx context.Context, to string, all bool, progress func(key string)) (SealResult, error) {
	var res SealResult
	if s.seal == nil {
		return res, errors.New("blob: the store has no keys to seal with")
	}
	if _, err := s.seal.aead(to); err != nil {
		return res, fmt.Errorf("blob: the field key %s: %w", to, err)
	}
	err := s.Keys(func(key string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if progress != nil {
			progress(key)
		}
		id, err := s.SealedWith(ctx, key)
		if err != nil {
			res.Problems = append(res.Problems, Problem{Key: key, Err: err})
			return nil
		}
		if id == to || (id != "" && !all) {
			res.Already++
			return nil
		}
		if err := s.sealOne(ctx, key, to); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res.Problems = append(res.Problems, Problem{Key: key, Err: err})
			return nil
		}
		res.Sealed++
		return nil
	})
	return res, err
}

// sealOne seals the file of key under field key to, in place.
func (s *Store) sealOne(ctx context.Context, key, to string) error {
	f, err := os.Open(s.path(key))
	if err != nil {
		return fmt.Errorf("blob: open %s: %w", key, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	plain, n, _, err := s.openFile(ctx, f, fi.Size(), key)
	if err != nil {
		return err
	}
	h := sha256.New()
	sr, size, err := s.seal.sealAs(to, key, io.TeeReader(ctxReader{ctx, plain}, h), n)
	if err != nil {
		return err
	}
	out, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "seal-*")
	if err != nil {
		return fmt.Errorf("blob: temp file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	got, err := io.Copy(out, sr)
	if err != nil {
		return err
	}
	if got != size || hex.EncodeToString(h.Sum(nil)) != key {
		return fmt.Errorf("%w: %s", ErrCorrupt, key)
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("blob: sync: %w", err)
	}
	// Read the sealed copy back: it opens under to, to the same content.
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r, _, id, err := s.openFile(ctx, out, size, key)
	if err != nil {
		return fmt.Errorf("read back %s: %w", key, err)
	}
	h.Reset()
	if _, err := io.Copy(h, r); err != nil {
		return fmt.Errorf("read back %s: %w", key, err)
	}
	if id != to || hex.EncodeToString(h.Sum(nil)) != key {
		return fmt.Errorf("read back %s: sealed under %q, or not the same content", key, id)
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Rename(out.Name(), s.path(key)); err != nil {
		return fmt.Errorf("blob: rename: %w", err)
	}
	done = true
	syncDir(filepath.Dir(s.path(key)))
	return nil
}

// CheckFile checks that the file at path (a copy of key's file, e.g. in a
// backup) opens to content hashing to key, sealed under one of keys' field
// keys or in plaintext. Nothing is written.
func CheckFile(ctx context.Context, path, key string, keys KeySource) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	s := &Store{seal: &sealer{src: keys}}
	r, _, _, err := s.openFile(ctx, f, fi.Size(), key)
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return err
	}
	if hex.EncodeToString(h.Sum(nil)) != key {
		return fmt.Errorf("%w: %s", ErrCorrupt, key)
	}
	return nil
}
