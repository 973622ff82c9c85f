// Package vault encrypts sensitive values at rest with AES-256-GCM. Each
// sealed value names the key that sealed it ("k1:…"), so keys can rotate:
// new values use the current key, old ones open with the key they name.
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
	"strings"
)

// Keyring holds the field keys by id and which one seals new values.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	index   []byte
}

// New returns a keyring sealing with keys[current]. index is the HMAC key of
// blind indexes (it does not rotate with the field keys).
func New(current string, keys map[string][]byte, index []byte) (*Keyring, error) {
	k := &Keyring{current: current, aeads: map[string]cipher.AEAD{}, index: index}
	for id, key := range keys {
		if strings.ContainsAny(id, ":") || id == "" {
			return nil, fmt.Errorf("vault: bad key id %q", id)
		}
		if len(key) != 32 {
			return nil, fmt.Errorf("vault: key %s is %d bytes, want 32", id, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		a, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.aeads[id] = a
	}
	if _, ok := k.aeads[current]; !ok {
		return nil, fmt.Errorf("vault: no key %q", current)
	}
	return k, nil
}

// Current returns the id of the key that seals new values.
func (k *Keyring) Current() string { return k.current }

// Seal encrypts plaintext under the current key; "" stays "" (an empty
// value has nothing to hide and stays distinguishable from a set one).
// context binds the ciphertext to its place (e.g. "user.totp:<id>"), so a
// value copied into another row or column does not open.
func (k *Keyring) Seal(plaintext, context string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	a := k.aeads[k.current]
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := a.Seal(nonce, nonce, []byte(plaintext), []byte(context))
	return k.current + ":" + base64.RawStdEncoding.EncodeToString(ct), nil
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
	a, ok := k.aeads[id]
	if !ok {
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
