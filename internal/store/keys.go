package store

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Keys are the secrets the store derives from the server's secret key
// (KANGFU_SECRET_KEY): one for each purpose, so no key serves two.
type Keys struct {
	Audit []byte // HMAC key of the audit hash chain: a row cannot be forged without it
	Index []byte // HMAC key of blind indexes (ID number lookup)
	Field []byte // AES-256-GCM key for sensitive fields, key id "k1"
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
	return &Keys{Audit: derive("audit chain v1"), Index: derive("blind index v1"), Field: derive("field key k1")}, nil
}
