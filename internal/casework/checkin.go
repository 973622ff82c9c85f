package casework

// checkin.go: the person's app devices and daily check-in (issue 4 §2, §4,
// §5) — activation codes, device keys and request signatures, the verdict
// of a check-in against the policy in force, and the daily duty and rate.
// Location is sensitive personal data, collected only at check-in (R36,
// R37): the store seals it; only the verdict is kept in clear.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"math"
	"math/big"
	"regexp"
	"strings"
	"time"
)

// ActivationTTL is how long an activation code stays valid (issue 4 §2).
const ActivationTTL = 72 * time.Hour

// activationAlphabet has no 0/O, 1/I/L, 2/Z, 5/S or 8/B: a code read aloud
// or copied from paper cannot be mistaken.
const activationAlphabet = "34679ACDEFGHJKMNPQRTUVWXY"

// NewActivationCode returns a random 8-character code from the
// unambiguous alphabet.
func NewActivationCode() string {
	b := make([]byte, 8)
	max := big.NewInt(int64(len(activationAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b[i] = activationAlphabet[n.Int64()]
	}
	return string(b)
}

// NormalizeActivationCode upper-cases a typed code and drops spaces and
// dashes; ok is false when it cannot be a code.
func NormalizeActivationCode(s string) (string, bool) {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s)))
	if len(s) != 8 {
		return "", false
	}
	for _, c := range s {
		if !strings.ContainsRune(activationAlphabet, c) {
			return "", false
		}
	}
	return s, true
}

// ActivationCodeHash is the stored form of a code.
func ActivationCodeHash(code string) string {
	s := sha256.Sum256([]byte("kangfu-activation\n" + code))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

var pinRE = regexp.MustCompile(`^[0-9]{6}$`)

// ValidPIN reports whether pin is 6 digits.
func ValidPIN(pin string) bool { return pinRE.MatchString(pin) }

// ParseDeviceKey parses the base64 of the SPKI DER of an ECDSA P-256 public
// key, as WebCrypto exportKey("spki") gives it.
func ParseDeviceKey(b64 string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		if der, err = base64.RawURLEncoding.DecodeString(strings.TrimSpace(b64)); err != nil {
			return nil, Invalid("public_key", "公钥不是有效的 base64", "public_key is not valid base64")
		}
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, Invalid("public_key", "公钥不是有效的 SPKI DER", "public_key is not a valid SPKI DER public key")
	}
	ec, ok := k.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, Invalid("public_key", "公钥须为 ECDSA P-256", "public_key must be an ECDSA P-256 key")
	}
	return ec, nil
}

// ErrBadSignature is the answer to a missing or wrong signature, a
// tampered body or a wrong key.
func ErrBadSignature() *Error {
	return &Error{Code: EUNAUTHORIZED, Field: "bad_signature",
		ZH: "请求签名无效：须用本设备密钥对请求体签名（X-Kangfu-Signature）", EN: "bad signature: the body must be signed with this device's key (X-Kangfu-Signature)"}
}

// ErrDeviceRetired is the answer to a request from a retired device.
func ErrDeviceRetired() *Error {
	return &Error{Code: EUNAUTHORIZED, Field: "device_retired",
		ZH: "此设备已停用，请向社工索取新的激活码", EN: "this device is retired: ask your worker for a new activation code"}
}

// VerifySignature checks a base64 IEEE P1363 (r||s, 64 bytes) ECDSA P-256
// SHA-256 signature of body, as WebCrypto sign() makes it.
func VerifySignature(pub *ecdsa.PublicKey, body []byte, sigB64 string) error {
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sigB64))
	if err != nil {
		if sig, err = base64.RawURLEncoding.DecodeString(strings.TrimSpace(sigB64)); err != nil {
			return ErrBadSignature()
		}
	}
	if pub == nil || len(sig) != 64 {
		return ErrBadSignature()
	}
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	h := sha256.Sum256(body)
	if !ecdsa.Verify(pub, h[:], r, s) {
		return ErrBadSignature()
	}
	return nil
}

// Verdict is the judgement of one check-in (issue 4 §4).
type Verdict string

// The verdicts, in the order they are tested: the first that applies wins.
const (
	VerdictUnverifiable Verdict = "unverifiable"   // no geofence to test, or no photo when one is required
	VerdictPoorAccuracy Verdict = "poor_accuracy"  // the fix is less accurate than the policy threshold
	VerdictOutsideArea  Verdict = "outside_area"   // outside the geofence of the area in force (R8)
	VerdictOutsideWin   Verdict = "outside_window" // taken outside the local check-in window
	VerdictSyncedLate   Verdict = "synced_late"    // taken on an earlier local day than received (offline)
	VerdictOK           Verdict = "ok"
)

// Verdicts lists every verdict.
var Verdicts = []Verdict{VerdictOK, VerdictSyncedLate, VerdictOutsideWin, VerdictOutsideArea, VerdictPoorAccuracy, VerdictUnverifiable}

var verdictLabels = map[Verdict][2]string{
	VerdictOK:           {"正常", "ok"},
	VerdictSyncedLate:   {"补传", "synced late"},
	VerdictOutsideWin:   {"时段外", "outside window"},
	VerdictOutsideArea:  {"区域外", "outside area"},
	VerdictPoorAccuracy: {"定位精度不足", "poor accuracy"},
	VerdictUnverifiable: {"无法核验", "unverifiable"},
}

// Label returns the verdict's name in the language.
func (v Verdict) Label(lang string) string { return label(verdictLabels[v], string(v), lang) }

// CheckinFacts is what a verdict is computed from.
type CheckinFacts struct {
	TakenAt    time.Time
	ReceivedAt time.Time
	Loc        *time.Location // the zone of the place of execution
	Lat, Lng   float64
	AccuracyM  float64
	PhotoSHA   string
	Area       *Geofence // the area in force (policy checkin.area); nil: none known
	// Window, accuracy threshold and selfie rule from the policy in force
	// on the local date of TakenAt.
	Window     Window
	AccuracyMx int
	Selfie     bool
}

// Judge returns the verdict of a check-in (issue 4 §4; R8, R37): the
// first failed check (Checks), ok when none failed.
func Judge(f CheckinFacts) Verdict {
	if c := Checks(f); len(c) > 0 {
		return c[0]
	}
	return VerdictOK
}

// Checks returns every check the check-in failed, in the order of the
// verdicts (issue 18 §2: a fix from another province with 450 m accuracy
// fails accuracy, area and perhaps the window — all are kept, not only the
// first). Synced late is listed too: it is a fact about the record that
// the duty rule (Discharges) weighs. Empty: ok.
func Checks(f CheckinFacts) []Verdict {
	loc := f.Loc
	if loc == nil {
		loc = LoadLocation("")
	}
	var out []Verdict
	if f.Area == nil || (f.Selfie && f.PhotoSHA == "") {
		out = append(out, VerdictUnverifiable)
	}
	if f.AccuracyMx > 0 && f.AccuracyM > float64(f.AccuracyMx) {
		out = append(out, VerdictPoorAccuracy)
	}
	if f.Area != nil && !f.Area.Contains(f.Lat, f.Lng) {
		out = append(out, VerdictOutsideArea)
	}
	if !f.Window.Contains(f.TakenAt, loc) {
		out = append(out, VerdictOutsideWin)
	}
	if DateOf(f.TakenAt, loc).Before(DateOf(f.ReceivedAt, loc)) {
		out = append(out, VerdictSyncedLate)
	}
	return out
}

// CheckinInput is the body the app signs (the contract of issue 4).
type CheckinInput struct {
	ID          string  `json:"id"`
	TakenAt     string  `json:"taken_at"`
	Lat         float64 `json:"lat"`
	Lng         float64 `json:"lng"`
	AccuracyM   float64 `json:"accuracy_m"`
	PhotoSHA256 string  `json:"photo_sha256"`
	// Issue 17 (optional; an older app sends neither: identity not
	// checked): the face model's result on the phone, and whether the
	// browser reported a mock location (nil: it cannot tell).
	Face         *FaceInput `json:"face,omitempty"`
	MockLocation *bool      `json:"mock_location,omitempty"`
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidSHA256 reports whether s is a lower-case hex SHA-256.
func ValidSHA256(s string) bool { return sha256RE.MatchString(s) }

// CheckinClockSkew is how far a phone's clock may run ahead of the server's.
const CheckinClockSkew = 10 * time.Minute

// MaxCheckinAgeDays is how old a check-in may be when it reaches the server.
const MaxCheckinAgeDays = 90

// Validate checks the input and returns taken_at. A check-in taken more
// than CheckinClockSkew after received is refused (a wrong phone clock), as
// is one more than MaxCheckinAgeDays old (a clock reset to 1970); others
// older than the day are accepted as synced late.
func (in *CheckinInput) Validate(received time.Time) (time.Time, error) {
	in.ID = strings.ToLower(strings.TrimSpace(in.ID))
	if !uuidRE.MatchString(in.ID) {
		return time.Time{}, Invalid("id", "id 须为客户端生成的 UUID", "id must be a client-generated UUID")
	}
	t, err := time.Parse(time.RFC3339Nano, in.TakenAt)
	if err != nil {
		return time.Time{}, Invalid("taken_at", "taken_at 须为带时区偏移的 RFC 3339 时间", "taken_at must be an RFC 3339 time with an offset")
	}
	if t.After(received.Add(CheckinClockSkew)) {
		return time.Time{}, Invalid("taken_at", "taken_at 晚于服务器时间：请检查手机时间", "taken_at is later than the server time: check the phone's clock")
	}
	// A phone that lost its clock reports 1970; nothing is kept unsynced
	// that long (issue 15 §7).
	if t.Before(received.AddDate(0, 0, -MaxCheckinAgeDays)) {
		return time.Time{}, Invalid("taken_at", "taken_at 早于%d天前：请检查手机时间", "taken_at is more than %d days ago: check the phone's clock", MaxCheckinAgeDays)
	}
	if math.IsNaN(in.Lat) || in.Lat < -90 || in.Lat > 90 {
		return time.Time{}, Invalid("lat", "纬度 lat 须在 -90 到 90 之间", "lat must be between -90 and 90")
	}
	if math.IsNaN(in.Lng) || in.Lng < -180 || in.Lng > 180 {
		return time.Time{}, Invalid("lng", "经度 lng 须在 -180 到 180 之间", "lng must be between -180 and 180")
	}
	if in.Lat == 0 && in.Lng == 0 {
		return time.Time{}, Invalid("lat", "坐标 (0, 0) 不是有效定位", "(0, 0) is not a real position")
	}
	if math.IsNaN(in.AccuracyM) || in.AccuracyM <= 0 || in.AccuracyM > 100000 {
		return time.Time{}, Invalid("accuracy_m", "定位精度 accuracy_m 须大于 0 米且不超过 100000 米", "accuracy_m must be more than 0 and at most 100000 (metres)")
	}
	in.PhotoSHA256 = strings.ToLower(strings.TrimSpace(in.PhotoSHA256))
	if in.PhotoSHA256 != "" && !ValidSHA256(in.PhotoSHA256) {
		return time.Time{}, Invalid("photo_sha256", "photo_sha256 须为 64 位十六进制", "photo_sha256 must be 64 hex digits")
	}
	if in.Face != nil {
		if err := in.Face.Validate(); err != nil {
			return time.Time{}, err
		}
	}
	return t.UTC(), nil
}

// StatusSpan is a status from a local date (inclusive) until the next
// span's start.
type StatusSpan struct {
	From   Date
	Status Status
}

// OwesDuty reports whether a day in the status counts as a check-in duty:
// executing; approved leave keeps the duty (issue 4 §5 — the leave part
// adds its destination as the area: LeaveKeepsDuty is the hook); suspension
// (R13) and every other status owe nothing.
func OwesDuty(s Status) bool {
	return s == StatusExecuting || (s == StatusOnLeave && LeaveKeepsDuty)
}

// OwesDutyOn reports whether the person owed the measure's duties on day
// (OwesDuty of the status that day): current is the measure's status now,
// in force since since; when it began on or before the day it decides,
// else the status history does (spans, as DutyDays takes them). Callers
// read the history only when since is after the day (NeedsHistory): a
// status rarely changes, so most days need none.
func OwesDutyOn(current Status, since Date, spans []StatusSpan, day Date) bool {
	if !NeedsHistory(since, day) {
		return OwesDuty(current)
	}
	return len(DutyDays(spans, day, day)) == 1
}

// NeedsHistory reports whether the status of day must be read from the
// history: the current status began after it.
func NeedsHistory(since, day Date) bool { return since.After(day) }

// LeaveKeepsDuty: a person on approved leave still checks in, at the
// destination (issue 4 §5, §6).
const LeaveKeepsDuty = true

// DutyDays returns the local days in [from, to] the spans owe a check-in.
// spans are in date order; a later span on the same date replaces an
// earlier one.
func DutyDays(spans []StatusSpan, from, to Date) []Date {
	var out []Date
	if len(spans) == 0 || to.Before(from) {
		return nil
	}
	i := -1
	for d := from; !d.After(to); d = d.AddDays(1) {
		for i+1 < len(spans) && !spans[i+1].From.After(d) {
			i++
		}
		if i >= 0 && OwesDuty(spans[i].Status) {
			out = append(out, d)
		}
	}
	return out
}

// Duty is a person's check-in duty over a period: days due, days done,
// and the missed days (due without any check-in).
type Duty struct {
	Due    int
	Done   int
	Missed []Date
	NoApp  []Date // days the measure owed duties but no device was active (issue 18 §4): neither due nor missed
}

// Rate is done ÷ due (每日签到率); 0 when nothing is due.
func (d Duty) Rate() float64 {
	if d.Due == 0 {
		return 0
	}
	return float64(d.Done) / float64(d.Due)
}

// ComputeDuty counts a period's duty from the due days and the local
// dates that have at least one check-in (whatever the verdict).
func ComputeDuty(due []Date, checked map[Date]bool) Duty {
	d := Duty{Due: len(due)}
	for _, day := range due {
		if checked[day] {
			d.Done++
		} else {
			d.Missed = append(d.Missed, day)
		}
	}
	return d
}
