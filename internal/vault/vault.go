// Package vault encrypts sensitive values at rest with AES-256-GCM. Each
// sealed value names the key that sealed it ("k1:…"), so keys can rotate:
// new values use the current key, old ones open with the key they name.
//
// A keyring made by NewDerived derives the key of any id ("k1", "k2", …) on
// first use, so a value sealed by another server under a newer key opens
// here too, and switching the current key (SetCurrent, or a Source polled
// before a seal) needs no restart.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Keyring holds the field keys by id and which one seals new values.
type Keyring struct {
	mu      sync.RWMutex
	current string
	aeads   map[string]cipher.AEAD
	derive  func(id string) ([]byte, error) // nil: only the keys given to New
	index   []byte

	source   func() (string, error) // where the current id is kept; nil: fixed
	every    time.Duration
	checked  time.Time
	checking sync.Mutex
}

// New returns a keyring sealing with keys[current]. index is the HMAC key of
// blind indexes (it does not rotate with the field keys).
func New(current string, keys map[string][]byte, index []byte) (*Keyring, error) {
	k := &Keyring{current: current, aeads: map[string]cipher.AEAD{}, index: index}
	for id, key := range keys {
		if err := k.add(id, key); err != nil {
			return nil, err
		}
	}
	if _, ok := k.aeads[current]; !ok {
		return nil, fmt.Errorf("vault: no key %q", current)
	}
	return k, nil
}

// NewDerived returns a keyring whose keys come from derive(id) on first use;
// ids are "k" and a positive number. It seals with current.
func NewDerived(current string, derive func(id string) ([]byte, error), index []byte) (*Keyring, error) {
	k := &Keyring{current: current, aeads: map[string]cipher.AEAD{}, derive: derive, index: index}
	if _, err := k.aead(current); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Keyring) add(id string, key []byte) error {
	if strings.ContainsAny(id, ":") || id == "" {
		return fmt.Errorf("vault: bad key id %q", id)
	}
	if len(key) != 32 {
		return fmt.Errorf("vault: key %s is %d bytes, want 32", id, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	k.aeads[id] = a
	return nil
}

// aead returns the cipher of key id, deriving it when the keyring can.
func (k *Keyring) aead(id string) (cipher.AEAD, error) {
	k.mu.RLock()
	a, ok := k.aeads[id]
	k.mu.RUnlock()
	if ok {
		return a, nil
	}
	if k.derive == nil || !ValidID(id) {
		return nil, fmt.Errorf("vault: no key %q", id)
	}
	key, err := k.derive(id)
	if err != nil {
		return nil, fmt.Errorf("vault: derive key %s: %w", id, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.add(id, key); err != nil {
		return nil, err
	}
	return k.aeads[id], nil
}

// ValidID reports whether id is a derivable key id: "k" and a number ≥ 1.
func ValidID(id string) bool {
	_, err := IDNumber(id)
	return err == nil
}

// IDNumber returns n of the key id "kn".
func IDNumber(id string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "k"))
	if !strings.HasPrefix(id, "k") || err != nil || n < 1 || strconv.Itoa(n) != id[1:] {
		return 0, fmt.Errorf("vault: bad key id %q (want k1, k2, …)", id)
	}
	return n, nil
}

// NextID returns the id after id: k1 → k2.
func NextID(id string) (string, error) {
	n, err := IDNumber(id)
	if err != nil {
		return "", err
	}
	return "k" + strconv.Itoa(n+1), nil
}

// SetSource makes the keyring ask source for the current key id before a
// seal when it last asked more than every ago (a running server so picks up
// a rotation within every). A failing source keeps the id it had.
func (k *Keyring) SetSource(source func() (string, error), every time.Duration) {
	k.checking.Lock()
	defer k.checking.Unlock()
	k.source, k.every, k.checked = source, every, time.Time{}
}

// Refresh asks the source for the current key id now.
func (k *Keyring) Refresh() error {
	k.checking.Lock()
	defer k.checking.Unlock()
	return k.refreshLocked()
}

func (k *Keyring) refreshLocked() error {
	if k.source == nil {
		return nil
	}
	id, err := k.source()
	k.checked = time.Now()
	if err != nil {
		return err
	}
	if id == "" {
		return nil
	}
	return k.SetCurrent(id)
}

func (k *Keyring) maybeRefresh() {
	if !k.checking.TryLock() { // another seal is asking: use the id we have
		return
	}
	defer k.checking.Unlock()
	if k.source != nil && time.Since(k.checked) >= k.every {
		_ = k.refreshLocked() // a failure keeps the current id; the next seal retries after every
	}
}

// SetCurrent makes id the key that seals new values.
func (k *Keyring) SetCurrent(id string) error {
	if _, err := k.aead(id); err != nil {
		return err
	}
	k.mu.Lock()
	k.current = id
	k.mu.Unlock()
	return nil
}

// Current returns the id of the key that seals new values.
func (k *Keyring) Current() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current
}

// Seal encrypts plaintext under the current key; "" stays "" (an empty
// value has nothing to hide and stays distinguishable from a set one).
// context binds the ciphertext to its place (e.g. "user.totp:<id>"), so a
// value copied into another row or column does not open.
func (k *Keyring) Seal(plaintext, context string) (string, error) {
	k.maybeRefresh()
	return k.SealWith(k.Current(), plaintext, context)
}

// SealWith encrypts plaintext under key id (for re-encryption).
func (k *Keyring) SealWith(id, plaintext, context string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	a, err := k.aead(id)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := a.Seal(nonce, nonce, []byte(plaintext), []byte(context))
	return id + ":" + base64.RawStdEncoding.EncodeToString(ct), nil
}

// ErrUndecryptable is returned for a value that does not open.
var ErrUndecryptable = errors.New("vault: value does not decrypt (wrong key, wrong context or altered)")

// Open decrypts a sealed value with the key it names.
func (k *Keyring) Open(sealed, context string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	id, b64, ok := strings.Cut(sealed, ":")
	if !ok {
		return "", ErrUndecryptable
	}
	a, err := k.aead(id)
	if err != nil {
		return "", fmt.Errorf("vault: value sealed with unknown key %q", id)
	}
	ct, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(ct) < a.NonceSize() {
		return "", ErrUndecryptable
	}
	pt, err := a.Open(nil, ct[:a.NonceSize()], ct[a.NonceSize():], []byte(context))
	if err != nil {
		return "", ErrUndecryptable
	}
	return string(pt), nil
}

// KeyID returns the key id a sealed value names ("" for an empty value).
func KeyID(sealed string) string {
	id, _, _ := strings.Cut(sealed, ":")
	return id
}

// Index returns a keyed hash (HMAC-SHA256) of a normalised value, for exact
// lookups of encrypted values (blind index) without decrypting every row.
func (k *Keyring) Index(kind, value string) string {
	m := hmac.New(sha256.New, k.index)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}
