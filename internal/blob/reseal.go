package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/minio/minio-go/v7"
)

// Re-sealing the bucket under a new field key (kangfu rotate-master, issue
// 16): the secret key derives the keys objects are sealed with (seal.go), so
// a new secret key means every object must be sealed again before servers
// start with it. Objects keep their names (the SHA-256 of the plaintext);
// only the sealing changes.

// ResealResult counts what Reseal did.
type ResealResult struct {
	Resealed int       // sealed again under the new key now, and read back intact
	Already  int       // already under the new key (a resumed run)
	Problems []Problem // objects that do not open (altered, or sealed under an unknown key): left as they were
}

// Keys calls fn with the key of every object in the bucket under the
// store's prefix; names that are not keys are skipped.
func (s *S3) Keys(ctx context.Context, fn func(key string) error) error {
	prefix := ""
	if s.prefix != "" {
		prefix = s.prefix + "/"
	}
	for obj := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("blob: list %s: %w", s, obj.Err)
		}
		key := path.Base(obj.Key)
		if !ValidKey(key) || s.name(key) != obj.Key {
			continue
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	return nil
}

// SealedWith returns the id of the field key the object of key is sealed
// under, from its header (the first bytes only).
func (s *S3) SealedWith(ctx context.Context, key string) (string, error) {
	if !ValidKey(key) {
		return "", ErrBadKey
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.name(key), minio.GetObjectOptions{})
	if err != nil {
		return "", notFound(err, key)
	}
	defer obj.Close()
	var h [5]byte
	if _, err := io.ReadFull(obj, h[:]); err != nil {
		if _, serr := obj.Stat(); serr != nil {
			return "", notFound(serr, key)
		}
		return "", fmt.Errorf("%w: %s: %w (header)", ErrCorrupt, key, errSealed)
	}
	if string(h[:4]) != sealMagic {
		return "", fmt.Errorf("%w: %s: %w (header)", ErrCorrupt, key, errSealed)
	}
	id := make([]byte, h[4])
	if _, err := io.ReadFull(obj, id); err != nil {
		return "", fmt.Errorf("%w: %s: %w (header)", ErrCorrupt, key, errSealed)
	}
	return string(id), nil
}

// Reseal seals every object of the bucket again under the field key id to:
// each object is opened with the key it names (the store's KeySource must
// give the old ids as well as to), its plaintext checked against its name
// into a private temporary file, sealed under to and uploaded over the old
// object, confirmed by the store, then read back and checked again. An
// object already under to is counted and left. An interrupted run resumes
// where it stopped when run again. Objects that do not open are reported
// in Problems and left untouched.
func (s *S3) Reseal(ctx context.Context, to string, progress func(key string)) (ResealResult, error) {
	var res ResealResult
	if _, err := s.seal.aead(to); err != nil {
		return res, fmt.Errorf("blob: the new field key %s: %w", to, err)
	}
	err := s.Keys(ctx, func(key string) error {
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
		if id == to {
			res.Already++
			return nil
		}
		if err := s.resealOne(ctx, key, to); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res.Problems = append(res.Problems, Problem{Key: key, Err: err})
			return nil
		}
		res.Resealed++
		return nil
	})
	return res, err
}

func (s *S3) resealOne(ctx context.Context, key, to string) error {
	rc, n, err := s.Open(ctx, key)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.tmp, "kangfu-reseal-*")
	if err != nil {
		rc.Close()
		return fmt.Errorf("blob: temp file: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	h := sha256.New()
	got, err := io.Copy(io.MultiWriter(tmp, h), rc) // the reader checks the hash at its end
	rc.Close()
	if err != nil {
		return err
	}
	if got != n || hex.EncodeToString(h.Sum(nil)) != key {
		return fmt.Errorf("%w: %s", ErrCorrupt, key)
	}
	if err := s.upload(ctx, key, tmp, n, to, false); err != nil {
		return err
	}
	// Read it back: sealed under the new key, and the same content.
	id, err := s.SealedWith(ctx, key)
	if err != nil {
		return fmt.Errorf("read back %s: %w", key, err)
	}
	if id != to {
		return fmt.Errorf("read back %s: sealed under %s, not %s", key, id, to)
	}
	if err := Check(ctx, s, key); err != nil {
		return fmt.Errorf("read back %s: %w", key, err)
	}
	return nil
}
