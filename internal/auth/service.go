package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// Policy holds the sign-in settings.
type Policy struct {
	LockAfter   int           // failed attempts before the account locks
	LockFor     time.Duration // how long it stays locked
	IPRate      rate.Limit    // sign-in attempts per second per client address
	IPBurst     int
	WebIdle     time.Duration // console session idle timeout
	WebAbsolute time.Duration // console session absolute timeout
	APITokenTTL time.Duration // API token lifetime
	APIIdle     time.Duration
	Issuer      string // shown in authenticator apps
}

// DefaultPolicy is what a server runs with unless configured otherwise.
func DefaultPolicy() Policy {
	return Policy{
		LockAfter: 5, LockFor: 15 * time.Minute,
		IPRate: rate.Every(6 * time.Second), IPBurst: 10,
		WebIdle: 30 * time.Minute, WebAbsolute: 12 * time.Hour,
		APITokenTTL: 12 * time.Hour, APIIdle: 2 * time.Hour,
		Issuer: "Kangfu 康复",
	}
}

// Service signs staff in and resolves sessions.
type Service struct {
	DB     *store.DB
	Policy Policy
	Now    func() time.Time
}

// NewService returns a sign-in service.
func NewService(db *store.DB, p Policy) *Service {
	return &Service{DB: db, Policy: p, Now: time.Now}
}

// LoginInput is a sign-in attempt.
type LoginInput struct {
	Username  string
	Password  string
	OTP       string // TOTP code or recovery code
	Kind      string // "web" or "api"
	IP        string
	UserAgent string
}

// LoginResult is a successful sign-in: the token to hand to the client.
type LoginResult struct {
	Token     string
	ExpiresAt time.Time
	UserID    string
	// NeedsTOTPEnrolment is set when policy requires a second factor the
	// account has not set up yet: the console sends the user to enrol
	// before anything else.
	NeedsTOTPEnrolment bool
}

var errBadCredentials = casework.Errorf(casework.EUNAUTHORIZED, "用户名或密码错误", "wrong username or password")

// Login checks the attempt against the per-address rate limit, the
// account's lock, the password and the second factor, and on success opens
// a session. Every failure past the rate limit is audited; attempts refused
// by the rate limit are not, so a flood cannot flood the audit log too.
func (s *Service) Login(ctx context.Context, in LoginInput) (*LoginResult, error) {
	if allowed, err := s.allow(ctx, in.IP); err != nil {
		return nil, err
	} else if !allowed {
		return nil, casework.Errorf(casework.ERATELIMIT, "尝试次数过多，请稍后再试", "too many sign-in attempts from your address; wait a minute and try again")
	}
	now := s.Now()
	c, err := s.DB.CredentialsByUsername(ctx, in.Username)
	if casework.IsCode(err, casework.ENOTFOUND) {
		_, _ = CheckPassword(ctx, dummyHash, in.Password) // same time as a wrong password
		if _, err := s.DB.RecordLoginFailure(ctx, "", truncateName(in.Username), in.IP, "unknown user", s.Policy.LockAfter, s.Policy.LockFor); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}
	// The password is checked first, whatever the account's state (issue 15
	// §4): to a caller who does not know it, an unknown name, a wrong
	// password, a locked and a disabled account all answer alike. The real
	// reason is told (and logged) only after the correct password.
	ok, err := CheckPassword(ctx, c.PasswordHash, in.Password)
	if err != nil {
		return nil, fmt.Errorf("check password of %s: %w", c.Username, err)
	}
	if !ok {
		if c.Disabled {
			if _, err := s.DB.RecordLoginFailure(ctx, c.UserID, c.Username, in.IP, "wrong password (account disabled)", 0, 0); err != nil {
				return nil, err
			}
			return nil, errBadCredentials
		}
		// The failure counts (and may lock this address); the answer stays
		// the same whatever it did.
		if _, err := s.DB.RecordLoginFailure(ctx, c.UserID, c.Username, in.IP, "wrong password", s.Policy.LockAfter, s.Policy.LockFor); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	if c.Disabled {
		if _, err := s.DB.RecordLoginFailure(ctx, c.UserID, c.Username, in.IP, "disabled", 0, 0); err != nil {
			return nil, err
		}
		return nil, casework.Errorf(casework.ELOCKED, "账号已停用，请联系管理员", "this account is disabled; ask your administrator")
	}
	until, err := s.DB.LoginLockedUntil(ctx, c.UserID, in.IP)
	if err != nil {
		return nil, err
	}
	if now.Before(until) {
		if _, err := s.DB.RecordLoginFailure(ctx, c.UserID, c.Username, in.IP, "locked", 0, 0); err != nil {
			return nil, err
		}
		return nil, lockedErr(until, now)
	}
	method := "password"
	if c.TOTPEnabled {
		if strings.TrimSpace(in.OTP) == "" {
			return nil, casework.Errorf(casework.EOTPREQUIRED, "请输入动态验证码", "enter the code from your authenticator app")
		}
		if method, err = s.checkSecondFactor(ctx, c, in.OTP, in.IP, now); err != nil {
			return nil, err
		}
	}
	token, hash := NewToken()
	sess := store.Session{TokenHash: hash, UserID: c.UserID, Kind: in.Kind}
	if in.Kind == "api" {
		sess.ExpiresAt = now.Add(s.Policy.APITokenTTL)
	} else {
		sess.Kind, sess.ExpiresAt = "web", now.Add(s.Policy.WebAbsolute)
	}
	if err := s.DB.CreateSession(ctx, sess, in.IP, in.UserAgent, method); err != nil {
		return nil, err
	}
	res := &LoginResult{Token: token, ExpiresAt: sess.ExpiresAt.UTC(), UserID: c.UserID}
	if !c.TOTPEnabled && !c.TOTPExempt {
		actor, _, err := s.DB.SessionActor(ctx, hash, sess.Kind, time.Hour)
		if err != nil {
			return nil, err
		}
		res.NeedsTOTPEnrolment = actor.RequiresTOTP()
	}
	return res, nil
}

func (s *Service) checkSecondFactor(ctx context.Context, c *store.Credentials, code, ip string, now time.Time) (string, error) {
	if looksLikeRecovery(code) {
		ok, err := s.DB.UseRecoveryCode(ctx, c.UserID, RecoveryHash(s.DB.Keys().Index, code))
		if err != nil {
			return "", err
		}
		if !ok {
			return "", s.fail(ctx, c, ip, "bad recovery code")
		}
		return "recovery_code", nil
	}
	step, ok := MatchTOTP(c.TOTPSecret, code, now)
	if !ok {
		return "", s.fail(ctx, c, ip, "wrong totp code")
	}
	fresh, err := s.DB.UseTOTPStep(ctx, c.UserID, step)
	if err != nil {
		return "", err
	}
	if !fresh {
		return "", s.fail(ctx, c, ip, "replayed totp code")
	}
	return "totp", nil
}

func (s *Service) fail(ctx context.Context, c *store.Credentials, ip, why string) error {
	locked, err := s.DB.RecordLoginFailure(ctx, c.UserID, c.Username, ip, why, s.Policy.LockAfter, s.Policy.LockFor)
	if err != nil {
		return err
	}
	if locked {
		return lockedErr(s.Now().Add(s.Policy.LockFor), s.Now())
	}
	if strings.Contains(why, "totp") || strings.Contains(why, "recovery") {
		return casework.Errorf(casework.EUNAUTHORIZED, "动态验证码错误或已使用", "the code is wrong or was already used")
	}
	return errBadCredentials
}

func lockedErr(until, now time.Time) error {
	mins := int((until.Sub(now) + time.Minute - 1) / time.Minute) // round up: never promise too early
	if mins < 1 {
		mins = 1
	}
	return casework.Errorf(casework.ELOCKED, "失败次数过多，账号已锁定，请%d分钟后再试", "too many failed attempts: the account is locked; try again in %d minutes", mins)
}

func truncateName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 60 {
		return s[:60]
	}
	return s
}

// allow applies the per-address token bucket, kept in the database so
// every server draws on the same one (issue 16 §2). IPv6 clients are
// limited per /64, since one host usually holds a whole /64.
func (s *Service) allow(ctx context.Context, ip string) (bool, error) {
	if s.Policy.IPRate == rate.Inf {
		return true, nil
	}
	if s.Policy.IPRate <= 0 {
		return false, nil
	}
	every := time.Duration(float64(time.Second) / float64(s.Policy.IPRate))
	return s.DB.AllowRate(ctx, "login:"+store.AddrKey(ip), s.Policy.IPBurst, every)
}

// Authenticate resolves a token of the kind ("web" or "api") to its actor.
func (s *Service) Authenticate(ctx context.Context, token, kind, ip string) (*casework.Actor, *casework.User, error) {
	if token == "" {
		return nil, nil, casework.Errorf(casework.EUNAUTHORIZED, "请先登录", "please sign in")
	}
	idle := s.Policy.WebIdle
	if kind == "api" {
		idle = s.Policy.APIIdle
	}
	actor, u, err := s.DB.SessionActor(ctx, TokenHash(token), kind, idle)
	if err != nil {
		return nil, nil, err
	}
	actor.IP = ip
	return actor, u, nil
}

// Logout ends the session of the token.
func (s *Service) Logout(ctx context.Context, actor *casework.Actor, token string) error {
	return s.DB.RevokeSession(ctx, actor, TokenHash(token))
}

// ErrWrongPassword is returned when re-authentication fails.
var ErrWrongPassword = casework.Invalid("current_password", "当前密码不正确", "the current password is wrong")

// ChangePassword checks the current password and sets a new one, ending the
// account's other sessions.
func (s *Service) ChangePassword(ctx context.Context, actor *casework.Actor, current, next, keepToken string) error {
	c, err := s.DB.CredentialsByID(ctx, actor.UserID)
	if err != nil {
		return err
	}
	ok, err := CheckPassword(ctx, c.PasswordHash, current)
	if err != nil {
		return err
	}
	if !ok {
		return ErrWrongPassword
	}
	if err := casework.ValidatePassword(next); err != nil {
		return err
	}
	if next == current {
		return casework.Invalid("new_password", "新密码不能与当前密码相同", "the new password must differ from the current one")
	}
	h, err := HashPassword(ctx, next)
	if err != nil {
		return err
	}
	return s.DB.SetPassword(ctx, actor, actor.UserID, h, false, TokenHash(keepToken))
}

// StartTOTP creates a pending secret for the actor and returns what to show.
func (s *Service) StartTOTP(ctx context.Context, actor *casework.Actor) (*Enrolment, error) {
	e, err := NewEnrolment(s.Policy.Issuer, actor.Username)
	if err != nil {
		return nil, err
	}
	if err := s.DB.SetPendingTOTP(ctx, actor, e.Secret); err != nil {
		return nil, err
	}
	return e, nil
}

// PendingTOTP returns the actor's enrolment not yet confirmed, to show it
// again beside a refused code; nil when there is none.
func (s *Service) PendingTOTP(ctx context.Context, actor *casework.Actor) (*Enrolment, error) {
	c, err := s.DB.CredentialsByID(ctx, actor.UserID)
	if err != nil || c.TOTPEnabled || c.TOTPSecret == "" {
		return nil, err
	}
	return enrolmentOf(s.Policy.Issuer, actor.Username, c.TOTPSecret)
}

// ConfirmTOTP checks the first code against the pending secret; on success
// the second factor is on and the ten recovery codes are returned, to be
// shown once.
func (s *Service) ConfirmTOTP(ctx context.Context, actor *casework.Actor, code string) ([]string, error) {
	c, err := s.DB.CredentialsByID(ctx, actor.UserID)
	if err != nil {
		return nil, err
	}
	if c.TOTPEnabled {
		return nil, casework.Errorf(casework.ECONFLICT, "两步验证已启用", "two-factor sign-in is already on")
	}
	if c.TOTPSecret == "" {
		return nil, casework.Errorf(casework.ECONFLICT, "请先生成二维码", "start enrolment first")
	}
	step, ok := MatchTOTP(c.TOTPSecret, code, s.Now())
	if !ok {
		return nil, casework.Invalid("code", "验证码不正确，请确认手机时间准确后重试", "the code does not match; check the phone's clock and try again")
	}
	codes := NewRecoveryCodes(10)
	hashes := make([]string, len(codes))
	for i, rc := range codes {
		hashes[i] = RecoveryHash(s.DB.Keys().Index, rc)
	}
	if err := s.DB.EnableTOTP(ctx, actor, step, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

// IsUnauthorized reports whether err means "sign in again".
func IsUnauthorized(err error) bool {
	return errors.Is(err, store.ErrSessionExpired) || casework.IsCode(err, casework.EUNAUTHORIZED)
}
