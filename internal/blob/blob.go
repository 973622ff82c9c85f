// Package blob keeps files (document scans, generated PDFs, check-in photos)
// by their content: each file is stored once under its SHA-256, so the same
// upload twice is one file, and a read checks the content still hashes to its
// key. The default store is a folder under the data dir (Store); an
// S3-compatible bucket (S3, s3.go) is the other. Storage is what the rest of
// the code needs.
package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Storage stores and returns files by content.
type Storage interface {
	// Put stores everything r yields and returns its key (the hex SHA-256)
	// and size. Storing content already there stores nothing new.
	Put(ctx context.Context, r io.Reader) (key string, size int64, err error)
	// Get returns the content of key, checked against the key.
	Get(ctx context.Context, key string) ([]byte, error)
	// Open streams the content of key and its size. The reader hashes what
	// it yields and, instead of io.EOF, returns ErrCorrupt when the content
	// did not match the key: a consumer must read to the end before it
	// trusts the content.
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
	// Stat reports whether key is stored (ErrNotFound if not) and its size,
	// without reading the content.
	Stat(ctx context.Context, key string) (int64, error)
}

// Errors Get returns.
var (
	ErrNotFound = errors.New("blob: not found")
	ErrCorrupt  = errors.New("blob: content does not match its key")
	ErrBadKey   = errors.New("blob: malformed key")
)

// Store is a Storage in a local folder: <dir>/ab/cd/<sha256 hex>, with
// temporary files under <dir>/tmp on the same file system, so the final
// rename is atomic.
type Store struct {
	dir string
}

var _ Storage = (*Store)(nil)

// Open opens (creating when needed) the store in dir. The folder is private
// to the server's user: it holds personal documents.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("blob: no folder given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(abs, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("blob: create %s: %w", abs, err)
	}
	return &Store{dir: abs}, nil
}

// Dir returns the store's folder.
func (s *Store) Dir() string { return s.dir }

// ValidKey reports whether key is a lower-case hex SHA-256.
func ValidKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	for _, c := range key {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (s *Store) path(key string) string {
	return filepath.Join(s.dir, key[:2], key[2:4], key)
}

// Put writes r to a temporary file while hashing it, flushes it to disk,
// then renames it to its key: a crash leaves either no file or the whole
// file, never part of one under a key. If the key already exists (and its
// content is intact) the temporary file is dropped.
func (s *Store) Put(ctx context.Context, r io.Reader) (string, int64, error) {
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "put-*")
	if err != nil {
		return "", 0, fmt.Errorf("blob: temp file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err != nil {
		return "", 0, err
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, fmt.Errorf("blob: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", 0, fmt.Errorf("blob: close: %w", err)
	}
	key := hex.EncodeToString(h.Sum(nil))
	final := s.path(key)
	if _, err := s.Get(ctx, key); err == nil {
		os.Remove(tmp.Name())
		done = true
		return key, n, nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return "", 0, fmt.Errorf("blob: shard dir: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", 0, fmt.Errorf("blob: rename: %w", err)
	}
	done = true
	syncDir(filepath.Dir(final)) // make the rename itself durable
	return key, n, nil
}

// Get reads the file of key and checks its hash.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if !ValidKey(key) {
		return nil, ErrBadKey
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: read %s: %w", key, err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != key {
		return nil, fmt.Errorf("%w: %s", ErrCorrupt, key)
	}
	return b, nil
}

// Open streams the file of key; the reader checks the hash at the end.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	if !ValidKey(key) {
		return nil, 0, ErrBadKey
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("blob: open %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("blob: stat %s: %w", key, err)
	}
	return newVerifyingReader(ctxReader{ctx, f}, f, key), fi.Size(), nil
}

// Stat reports the size of the file of key.
func (s *Store) Stat(ctx context.Context, key string) (int64, error) {
	if !ValidKey(key) {
		return 0, ErrBadKey
	}
	fi, err := os.Stat(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return 0, fmt.Errorf("blob: stat %s: %w", key, err)
	}
	return fi.Size(), nil
}

// Keys calls fn with the key of every stored file, in folder order
// (kangfu blobs migrate). Files whose name is not a key are skipped.
func (s *Store) Keys(fn func(key string) error) error {
	return filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == filepath.Join(s.dir, "tmp") {
				return filepath.SkipDir
			}
			return nil
		}
		if k := d.Name(); ValidKey(k) && p == s.path(k) {
			return fn(k)
		}
		return nil
	})
}

// verifyingReader hashes what it yields and turns the final io.EOF into
// ErrCorrupt when the content does not hash to key.
type verifyingReader struct {
	r   io.Reader
	c   io.Closer
	h   hash.Hash
	key string
}

func newVerifyingReader(r io.Reader, c io.Closer, key string) *verifyingReader {
	return &verifyingReader{r: r, c: c, h: sha256.New(), key: key}
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF && hex.EncodeToString(v.h.Sum(nil)) != v.key {
		return n, fmt.Errorf("%w: %s", ErrCorrupt, v.key)
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.c.Close() }

// readAll reads a stream from Open to its end (Get of the S3 store).
func readAll(rc io.ReadCloser, size int64) ([]byte, error) {
	defer rc.Close()
	buf := bytes.NewBuffer(make([]byte, 0, max(0, min(size, 64<<20))+bytes.MinRead))
	if _, err := buf.ReadFrom(rc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PutBytes stores b.
func PutBytes(ctx context.Context, s Storage, b []byte) (string, error) {
	key, _, err := s.Put(ctx, bytes.NewReader(b))
	return key, err
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: not every file system syncs directories
		d.Close()
	}
}

// ctxReader stops a long copy when the request is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
