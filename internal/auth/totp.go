package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP settings: RFC 6238 defaults that every authenticator app reads.
const (
	totpPeriod = 30
	totpSkew   = 1 // accept the previous and next step: phone clocks drift
)

// Enrolment is a new TOTP secret with what the user needs to add it.
type Enrolment struct {
	Secret    string // base32
	URL       string // otpauth:// URL
	QRDataURI string // PNG of the URL as a data: URI
}

// NewEnrolment generates a TOTP secret for the account.
func NewEnrolment(issuer, account string) (*Enrolment, error) {
	return enrolment(issuer, account, nil)
}

// enrolmentOf shows again a secret not yet confirmed (base32, as Enrolment
// has it), so a user who mistyped the first code can try again without a
// new QR code.
func enrolmentOf(issuer, account, secret string) (*Enrolment, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil {
		return nil, err
	}
	return enrolment(issuer, account, raw)
}

// enrolment makes the key (a new random secret when raw is nil) and its QR
// code.
func enrolment(issuer, account string, raw []byte) (*Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Secret: raw})
	if err != nil {
		return nil, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &Enrolment{Secret: key.Secret(), URL: key.URL(),
		QRDataURI: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// MatchTOTP checks a code against the secret at now, within the allowed
// skew, and returns the time step it matched (for replay protection: a step
// is accepted once).
func MatchTOTP(secret, code string, now time.Time) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	step := now.Unix() / totpPeriod
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		t := time.Unix((step+d)*totpPeriod, 0)
		want, err := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && hmac.Equal([]byte(want), []byte(code)) {
			return step + d, true
		}
	}
	return 0, false
}

// TOTPCode returns the code for secret at t (tests and the demo use it).
func TOTPCode(secret string, t time.Time) string {
	c, _ := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	return c
}

// recoveryAlphabet leaves out look-alikes (0/O, 1/I/L).
const recoveryAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// NewRecoveryCodes returns n one-time codes shaped XXXXX-XXXXX.
func NewRecoveryCodes(n int) []string {
	codes := make([]string, n)
	b := make([]byte, 10)
	for i := range codes {
		if _, err := rand.Read(b); err != nil {
			panic(err)
		}
		var s strings.Builder
		for j, c := range b {
			if j == 5 {
				s.WriteByte('-')
			}
			s.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
		}
		codes[i] = s.String()
	}
	return codes
}

// RecoveryHash is the stored form of a recovery code: keyed, normalised
// (case and dashes ignored).
func RecoveryHash(key []byte, code string) string {
	norm := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(code))
	m := hmac.New(sha256.New, key)
	m.Write([]byte("recovery\x00"))
	m.Write([]byte(norm))
	return hex.EncodeToString(m.Sum(nil))
}

// looksLikeRecovery tells a recovery code from a 6-digit TOTP code.
func looksLikeRecovery(code string) bool {
	return len(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code))) == 10
}
