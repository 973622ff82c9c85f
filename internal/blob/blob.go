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
	"time"
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
//
// Opened with keys (OpenSealed), the store seals every new file exactly as
// the S3 store seals its objects (seal.go, format "KFB1", R36: check-in
// selfies are face data, issue 17 §6): the file is still named by the
// SHA-256 of its plaintext, and reads answer the plaintext. Files written
// before sealing (plaintext) still read; `kangfu blobs seal` seals them in
// place (SealPlain).
type Store struct {
	dir  string
	seal *sealer // nil: files are written as they are (tests, tools)
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
	removeStale(filepath.Join(abs, "tmp"), time.Now().Add(-staleTemp))
	return &Store{dir: abs}, nil
}

// staleTemp is the age past which a temporary file is a leftover of a
// crash (an upload or a seal takes seconds): Open removes it, as it may
// hold the plaintext of an upload being sealed.
const staleTemp = 6 * time.Hour

func removeStale(dir string, before time.Time) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && !e.IsDir() && fi.ModTime().Before(before) {
			os.Remove(filepath.Join(dir, e.Name())) // best effort
		}
	}
}

// OpenSealed opens the store in dir like Open; every file it writes is
// sealed under keys.Current() and files sealed under any key keys.Key
// gives open.
func OpenSealed(dir string, keys KeySource) (*Store, error) {
	s, err := Open(dir)
	if err != nil {
		return nil, err
	}
	if keys.Current == nil || keys.Key == nil {
		return nil, errors.New("blob: no keys to seal the folder with")
	}
	s.seal = &sealer{src: keys}
	return s, nil
}

// Sealed reports whether the store seals the files it writes.
func (s *Store) Sealed() bool { return s.seal != nil }

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
// content is intact) nothing is written. A sealing store seals the
// temporary file into a second one before the rename (the name, the hash
// of the plaintext, is known only at the end); the plaintext one is
// removed at once.
//
// A sealing store keeps an upload of at most putInMemory bytes (a check-in
// selfie) in memory, so its plaintext never touches the disk.
func (s *Store) Put(ctx context.Context, r io.Reader) (string, int64, error) {
	if s.seal != nil {
		head, err := io.ReadAll(io.LimitReader(ctxReader{ctx, r}, putInMemory+1))
		if err != nil {
			return "", 0, err
		}
		if len(head) <= putInMemory {
			return s.putSmall(ctx, head)
		}
		r = io.MultiReader(bytes.NewReader(head), r)
	}
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
	key := hex.EncodeToString(h.Sum(nil))
	final := s.path(key)
	if err := Check(ctx, s, key); err == nil {
		return key, n, nil
	}
	src := tmp
	if s.seal != nil {
		sealed, err := s.sealFile(ctx, tmp, key, n, s.seal.src.Current())
		if err != nil {
			return "", 0, err
		}
		tmp.Close()
		os.Remove(tmp.Name()) // the plaintext copy goes at once
		src = sealed
		defer func() {
			if !done {
				os.Remove(sealed.Name())
			}
		}()
	} else {
		if err := tmp.Sync(); err != nil {
			return "", 0, fmt.Errorf("blob: sync: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return "", 0, fmt.Errorf("blob: close: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return "", 0, fmt.Errorf("blob: shard dir: %w", err)
	}
	if err := os.Rename(src.Name(), final); err != nil {
		return "", 0, fmt.Errorf("blob: rename: %w", err)
	}
	done = true
	syncDir(filepath.Dir(final)) // make the rename itself durable
	return key, n, nil
}

// putInMemory is the largest upload a sealing store seals from memory.
const putInMemory = 256 << 10

// putSmall seals b and stores it under its hash (Put of a small upload).
func (s *Store) putSmall(ctx context.Context, b []byte) (string, int64, error) {
	sum := sha256.Sum256(b)
	key := hex.EncodeToString(sum[:])
	n := int64(len(b))
	if err := Check(ctx, s, key); err == nil {
		return key, n, nil
	}
	sealed, err := s.sealFile(ctx, bytes.NewReader(b), key, n, s.seal.src.Current())
	if err != nil {
		return "", 0, err
	}
	final := s.path(key)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		os.Remove(sealed.Name())
		return "", 0, fmt.Errorf("blob: shard dir: %w", err)
	}
	if err := os.Rename(sealed.Name(), final); err != nil {
		os.Remove(sealed.Name())
		return "", 0, fmt.Errorf("blob: rename: %w", err)
	}
	syncDir(filepath.Dir(final))
	return key, n, nil
}

// sealFile seals the n plaintext bytes of plain (from its start), the
// content of key, under field key id into a new temporary file, flushed
// and closed; the caller renames or removes it.
func (s *Store) sealFile(ctx context.Context, plain io.ReadSeeker, key string, n int64, id string) (*os.File, error) {
	if _, err := plain.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	sr, size, err := s.seal.sealAs(id, key, plain, n)
	if err != nil {
		return nil, err
	}
	out, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "seal-*")
	if err != nil {
		return nil, fmt.Errorf("blob: temp file: %w", err)
	}
	got, err := io.Copy(out, ctxReader{ctx, sr})
	if err == nil && got != size {
		err = fmt.Errorf("blob: sealed %s to %d bytes, expected %d", key, got, size)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return nil, err
	}
	return out, nil
}

// Get reads the file of key and checks its hash.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	rc, size, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return readAll(rc, size)
}

// Open streams the plaintext of key's file (opening it chunk by chunk when
// it is sealed); the reader checks the hash at the end.
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
	r, size, _, err := s.openFile(ctx, f, fi.Size(), key)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return newVerifyingReader(ctxReader{ctx, r}, f, key), size, nil
}

// openFile returns the plaintext stream of f (size bytes on disk, the file
// of key) and its size, and the id of the field key it is sealed under
// ("" for a plaintext file). A file that starts with the seal's magic is
// opened as sealed when its header names a key we have and its first
// chunk opens; otherwise it may be a plaintext file that happens to start
// with the magic (a legacy file from before sealing): it is read as
// plaintext only if its raw bytes hash to key, and is corrupt if not.
func (s *Store) openFile(ctx context.Context, f *os.File, size int64, key string) (io.Reader, int64, string, error) {
	var magic [len(sealMagic)]byte
	k, _ := io.ReadFull(f, magic[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, "", fmt.Errorf("blob: read %s: %w", key, err)
	}
	if k < len(magic) || string(magic[:]) != sealMagic {
		return f, size, "", nil // a plaintext file
	}
	trySealed := func() (io.Reader, int64, string, error) {
		if s.seal == nil {
			return nil, 0, "", fmt.Errorf("%w: %s is sealed and this store has no keys", ErrCorrupt, key)
		}
		pr, hdr, err := s.seal.open(key, f)
		if err != nil {
			return nil, 0, "", err
		}
		n := plainSize(size - hdr)
		if n < 0 {
			return nil, 0, "", fmt.Errorf("%w: %s: %w (size)", ErrCorrupt, key, errSealed)
		}
		// Open the first chunk now (at most sealChunk bytes, kept for
		// the first Read): a file whose first chunk does not open is
		// not read as sealed.
		if _, err := pr.Read(nil); err != nil && err != io.EOF {
			return nil, 0, "", err
		}
		return pr, n, sealedID(f, key), nil
	}
	pr, n, id, err := trySealed()
	if err == nil {
		return pr, n, id, nil
	}
	// Not sealed after all? A plaintext file starting with the magic must
	// not be lost: check its raw bytes against key (constant memory).
	if _, serr := f.Seek(0, io.SeekStart); serr != nil {
		return nil, 0, "", serr
	}
	h := sha256.New()
	if _, herr := io.Copy(h, ctxReader{ctx, f}); herr == nil && hex.EncodeToString(h.Sum(nil)) == key {
		if _, serr := f.Seek(0, io.SeekStart); serr != nil {
			return nil, 0, "", serr
		}
		return f, size, "", nil
	}
	if errors.Is(err, ErrCorrupt) {
		return nil, 0, "", err
	}
	return nil, 0, "", fmt.Errorf("%w: %s: %w", ErrCorrupt, key, err)
}

// sealedID reads the key id from the header of the sealed file f; the
// file's offset is left as it was.
func sealedID(f *os.File, key string) string {
	var h [5 + 255]byte
	n, _ := f.ReadAt(h[:], 0)
	if n < 5 || int(h[4]) > n-5 {
		return ""
	}
	return string(h[5 : 5+h[4]])
}

// Stat reports the (plaintext) size of the file of key. For a sealed file
// it is computed from the file's size and the header, once the first chunk
// opened (at most sealChunk bytes read).
func (s *Store) Stat(ctx context.Context, key string) (int64, error) {
	if !ValidKey(key) {
		return 0, ErrBadKey
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return 0, fmt.Errorf("blob: stat %s: %w", key, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("blob: stat %s: %w", key, err)
	}
	if s.seal == nil {
		return fi.Size(), nil
	}
	// A sealed file: its header and first chunk are opened (a plaintext
	// file starting with the magic is told apart that way); content
	// checks are for reads, so a file that does not open reports its size
	// on disk.
	_, n, _, err := s.openFile(ctx, f, fi.Size(), key)
	if err != nil {
		return fi.Size(), nil
	}
	return n, nil
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
