package blob

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Encryption of blobs we hand to an object store (R36: photos and documents
// are personal data). The local folder does not encrypt (it lives on the
// server's own disk, like the database file); a bucket is someone else's
// disk, so every object the S3 store writes is sealed by us before upload,
// whatever server-side encryption the store adds. The keys are the vault's
// field keys (store.Keys.FieldKey, ids k1, k2, …): each object names the key
// id that sealed it, so `kangfu rotate-key` changes the key of new objects
// and old ones still open. From the field key of an id we derive a key for
// this purpose only (HKDF, "kangfu blob key"), so no key serves two uses.
//
// Content addressing is kept: the object is named by the SHA-256 of the
// plaintext, and a read checks the decrypted content against it.
//
// Format: "KFB1" | len(id) | id | 8-byte random nonce prefix | chunks.
// The plaintext is cut into sealChunk-byte chunks (the last one shorter,
// possibly empty), each sealed with AES-256-GCM under nonce = prefix |
// chunk number, and additional data = key | chunk number | last flag: a
// chunk moved, dropped, truncated or copied to another key does not open.

const (
	sealMagic = "KFB1"
	sealChunk = 64 << 10
	sealTag   = 16
)

// KeySource gives the keys blobs are sealed with.
type KeySource struct {
	Current func() string                   // id of the key sealing new objects
	Key     func(id string) ([]byte, error) // the field key of an id
}

type sealer struct {
	src   KeySource
	mu    sync.Mutex
	aeads map[string]cipher.AEAD
}

func (s *sealer) aead(id string) (cipher.AEAD, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.aeads[id]; ok {
		return a, nil
	}
	fk, err := s.src.Key(id)
	if err != nil {
		return nil, err
	}
	k, err := hkdf.Key(sha256.New, fk, nil, "kangfu blob key", 32)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	if s.aeads == nil {
		s.aeads = map[string]cipher.AEAD{}
	}
	s.aeads[id] = a
	return a, nil
}

// sealedSize is the size of the sealed object of n plaintext bytes under key id.
func sealedSize(id string, n int64) int64 {
	return int64(len(sealMagic)+1+len(id)+8) + n + (n/sealChunk+1)*sealTag
}

// plainSize is the plaintext size of a sealed object body of n bytes after
// its header, or -1 if no plaintext seals to that size.
func plainSize(n int64) int64 {
	full, rem := n/(sealChunk+sealTag), n%(sealChunk+sealTag)
	if rem < sealTag {
		return -1
	}
	return full*sealChunk + rem - sealTag
}

func chunkAD(key string, i uint32, last bool) []byte {
	ad := make([]byte, 0, len(key)+5)
	ad = append(ad, key...)
	ad = binary.BigEndian.AppendUint32(ad, i)
	if last {
		return append(ad, 1)
	}
	return append(ad, 0)
}

// sealReader yields the sealed form of the n bytes r holds.
type sealReader struct {
	a      cipher.AEAD
	key    string
	r      io.Reader
	left   int64 // plaintext bytes not yet sealed
	nonce  [12]byte
	i      uint32
	out    []byte // what Read yields next
	sealed []byte // the buffer of the sealed chunk
	done   bool
	plain  []byte
}

// sealAs seals the n bytes of r, the content of key, under the field key
// id: the current one for Put, the new one for Reseal.
func (s *sealer) sealAs(id, key string, r io.Reader, n int64) (io.Reader, int64, error) {
	a, err := s.aead(id)
	if err != nil {
		return nil, 0, err
	}
	if len(id) > 255 {
		return nil, 0, fmt.Errorf("blob: key id %q too long", id)
	}
	sr := &sealReader{a: a, key: key, r: r, left: n, plain: make([]byte, sealChunk), sealed: make([]byte, 0, sealChunk+sealTag)}
	if _, err := rand.Read(sr.nonce[:8]); err != nil {
		return nil, 0, err
	}
	sr.out = append(append(append([]byte(sealMagic), byte(len(id))), id...), sr.nonce[:8]...)
	return sr, sealedSize(id, n), nil
}

func (s *sealReader) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.done {
			return 0, io.EOF
		}
		k := min(s.left, sealChunk)
		if _, err := io.ReadFull(s.r, s.plain[:k]); err != nil {
			return 0, fmt.Errorf("blob: read for sealing: %w", err)
		}
		s.left -= k
		last := k < sealChunk
		binary.BigEndian.PutUint32(s.nonce[8:], s.i)
		s.sealed = s.a.Seal(s.sealed[:0], s.nonce[:], s.plain[:k], chunkAD(s.key, s.i, last))
		s.out = s.sealed
		s.i++
		s.done = last
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// errSealed is a sealed object that does not open: altered, truncated or
// sealed for another key. Reads report it as ErrCorrupt.
var errSealed = errors.New("sealed object does not open")

// openReader yields the plaintext of a sealed object read from r.
type openReader struct {
	a     cipher.AEAD
	key   string
	r     io.Reader
	nonce [12]byte
	i     uint32
	buf   []byte
	out   []byte
	done  bool
}

// open reads the header of the sealed object r and returns its plaintext
// stream and the header's length.
func (s *sealer) open(key string, r io.Reader) (io.Reader, int64, error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil || string(h[:4]) != sealMagic {
		return nil, 0, fmt.Errorf("%w: %s: %w (header)", ErrCorrupt, key, errSealed)
	}
	idb := make([]byte, int(h[4])+8)
	if _, err := io.ReadFull(r, idb); err != nil {
		return nil, 0, fmt.Errorf("%w: %s: %w (header)", ErrCorrupt, key, errSealed)
	}
	id := string(idb[:h[4]])
	a, err := s.aead(id)
	if err != nil {
		return nil, 0, fmt.Errorf("blob: %s sealed with key %q: %w", key, id, err)
	}
	o := &openReader{a: a, key: key, r: r, buf: make([]byte, sealChunk+sealTag)}
	copy(o.nonce[:8], idb[h[4]:])
	return o, int64(len(h) + len(idb)), nil
}

func (o *openReader) Read(p []byte) (int, error) {
	for len(o.out) == 0 {
		if o.done {
			return 0, io.EOF
		}
		n, err := io.ReadFull(o.r, o.buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return 0, err
		}
		last := n < len(o.buf)
		if last && n < sealTag {
			return 0, fmt.Errorf("%w: %s: %w (truncated)", ErrCorrupt, o.key, errSealed)
		}
		binary.BigEndian.PutUint32(o.nonce[8:], o.i)
		pt, err := o.a.Open(o.buf[:0], o.nonce[:], o.buf[:n], chunkAD(o.key, o.i, last))
		if err != nil {
			return 0, fmt.Errorf("%w: %s: %w", ErrCorrupt, o.key, errSealed)
		}
		o.i++
		o.out, o.done = pt, last
	}
	n := copy(p, o.out)
	o.out = o.out[n:]
	return n, nil
}
