package store

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"kangfu/internal/vault"
)

// Keys are the secrets the store derives from the server's secret key
// (KANGFU_SECRET_KEY): one for each purpose, so no key serves two.
type Keys struct {
	Audit []byte // HMAC key of the audit hash chain: a row cannot be forged without it
	Index []byte // HMAC key of blind indexes (ID number lookup)
	Field []byte // AES-256-GCM key for sensitive fields, key id "k1"

	secret []byte // the server key, to derive the field keys k2, k3, … (FieldKey)
}

// FieldKey returns the AES-256-GCM key of field key id ("k1", "k2", …):
// HKDF-SHA256 of the secret key with info "kangfu field key <id>", so every
// server holding the secret key derives the same key for an id and a key
// rotation (kangfu rotate-key) needs no new secret to distribute. Rotating
// KANGFU_SECRET_KEY itself is a different operation (it also keys the audit
// chain and the blind indexes): RotateMaster, `kangfu rotate-master`.
func (k *Keys) FieldKey(id string) ([]byte, error) {
	if id == "k1" && len(k.Field) == 32 {
		return k.Field, nil
	}
	if !vault.ValidID(id) {
		return nil, fmt.Errorf("bad field key id %q", id)
	}
	if len(k.secret) == 0 {
		return nil, fmt.Errorf("field key %s: keys were not derived from a secret key", id)
	}
	return hkdf.Key(sha256.New, k.secret, nil, "kangfu field key "+id, 32)
}

// ParseSecretKey decodes a secret key given as 64 hex characters or as
// standard base64 of 32 bytes or more.
func ParseSecretKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("the secret key is empty")
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) >= 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) >= 32 {
		return b, nil
	}
	return nil, errors.New("the secret key must be at least 32 random bytes, written as 64+ hex characters or base64 (make one with `kangfu keygen`)")
}

// DeriveKeys derives the purpose keys from the secret key.
func DeriveKeys(secret []byte) (*Keys, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("secret key too short: %d bytes, need 32", len(secret))
	}
	derive := func(info string) []byte {
		k, err := hkdf.Key(sha256.New, secret, nil, "kangfu "+info, 32)
		if err != nil {
			panic(err) // only for a length hkdf cannot produce
		}
		return k
	}
	return &Keys{Audit: derive("audit chain v1"), Index: derive("blind index v1"), Field: derive("field key k1"),
		secret: append([]byte(nil), secret...)}, nil
}
