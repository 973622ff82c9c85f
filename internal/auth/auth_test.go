package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/time/rate"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// password is the password of every test account.
const password = "correct horse battery"

// start is the test clock's first reading: fixed, far from the wall clock,
// so any code that reads time.Now instead of the injected clock shows.
var start = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// passwordHash hashes password once for the whole package: argon2id is slow
// on purpose.
var passwordHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(context.Background(), password)
	if err != nil {
		panic(err)
	}
	return h
})

// fixture is a database with a small org tree, and a sign-in service that
// reads the same clock as the store.
type fixture struct {
	db    *store.DB
	clock *storetest.Clock
	svc   *auth.Service
	sys   *casework.Actor
	root  *casework.Org
	comm  *casework.Org
}

func newFixture(t *testing.T, db *store.DB, clock *storetest.Clock, p auth.Policy) *fixture {
	t.Helper()
	f := &fixture{db: db, clock: clock, sys: casework.SystemActor("test")}
	f.svc = auth.NewService(db, p)
	f.svc.Now = clock.Now
	var parent *casework.Org
	for _, o := range []struct {
		kind casework.OrgKind
		name string
	}{
		{casework.KindProvince, "海南省"}, {casework.KindCity, "三亚市"}, {casework.KindCounty, "吉阳区"},
		{casework.KindTownship, "椰林街道"}, {casework.KindCommunity, "六湾社区"},
	} {
		in := casework.OrgInput{Kind: o.kind, Name: o.name}
		if parent != nil {
			in.ParentID = parent.ID
		}
		parent = storetest.Must(db.CreateOrg(t.Context(), f.sys, in))
		if f.root == nil {
			f.root = parent
		}
	}
	f.comm = parent
	return f
}

// user creates an account at the community holding role there.
func (f *fixture) user(t *testing.T, username string, role casework.Role) (*casework.User, *casework.Grant) {
	t.Helper()
	u := storetest.Must(f.db.CreateUser(t.Context(), f.sys, casework.UserInput{Username: username, OrgID: f.comm.ID, Password: password}, passwordHash(), false))
	g := storetest.Must(f.db.GrantRole(t.Context(), f.sys, u.ID, role, f.comm.ID))
	return u, g
}

func (f *fixture) login(t *testing.T, username, pw, otp, ip string) (*auth.LoginResult, error) {
	t.Helper()
	return f.svc.Login(t.Context(), auth.LoginInput{Username: username, Password: pw, OTP: otp, Kind: "web", IP: ip, UserAgent: "auth_test"})
}

// mustLogin signs in and fails the test on any error.
func (f *fixture) mustLogin(t *testing.T, username, otp string) *auth.LoginResult {
	t.Helper()
	res, err := f.login(t, username, password, otp, "192.0.2.10")
	if err != nil {
		t.Fatalf("sign in as %s: %v", username, err)
	}
	return res
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := casework.ErrorCode(err); got != code {
		t.Fatalf("%s: code %q (%v), want %q", what, got, err, code)
	}
}

// checkPassword calls auth.CheckPassword and turns a panic into an error,
// so one malformed hash that crashes the hasher fails its own case only.
func checkPassword(encoded, pw string) (ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panicked: %v", p)
		}
	}()
	return auth.CheckPassword(context.Background(), encoded, pw)
}

func TestPasswordHash(t *testing.T) {
	h := passwordHash()
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash %q is not an argon2id PHC string", h)
	}
	if h2 := storetest.Must(auth.HashPassword(t.Context(), password)); h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	if ok, err := checkPassword(h, password); !ok || err != nil {
		t.Fatalf("right password: ok=%v err=%v", ok, err)
	}
	if ok, err := checkPassword(h, password+"x"); ok || err != nil {
		t.Fatalf("wrong password: ok=%v err=%v", ok, err)
	}
	// A hash made with other parameters still verifies: CheckPassword must
	// read them from the hash, or raising the cost would lock everyone out.
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(password), salt, 1, 8*1024, 1, 32)
	other := fmt.Sprintf("$argon2id$v=19$m=8192,t=1,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	if ok, err := checkPassword(other, password); !ok || err != nil {
		t.Fatalf("hash with other parameters: ok=%v err=%v", ok, err)
	}

	parts := strings.Split(h, "$") // "", argon2id, v=19, m=…,t=…,p=…, salt, key
	join := func(p ...string) string { return strings.Join(p, "$") }
	tests := []struct {
		name, hash string
	}{
		{"empty", ""},
		{"plain text", "kangfu-demo"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", join("", "argon2i", parts[2], parts[3], parts[4], parts[5])},
		{"too few parts", join("", "argon2id", parts[2], parts[3], parts[4])},
		{"wrong version", join("", "argon2id", "v=16", parts[3], parts[4], parts[5])},
		{"garbled params", join("", "argon2id", parts[2], "m=x,t=2,p=1", parts[4], parts[5])},
		{"bad salt", join("", "argon2id", parts[2], parts[3], "!!!", parts[5])},
		{"bad key", join("", "argon2id", parts[2], parts[3], parts[4], "!!!")},
		// Fail closed: an empty key would compare equal to the empty output
		// of any password; zero rounds or threads make argon2 panic.
		{"empty key", join("", "argon2id", parts[2], parts[3], parts[4], "")},
		{"zero rounds", join("", "argon2id", parts[2], "m=19456,t=0,p=1", parts[4], parts[5])},
		{"zero threads", join("", "argon2id", parts[2], "m=19456,t=2,p=0", parts[4], parts[5])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := checkPassword(tt.hash, password)
			if ok || !errors.Is(err, auth.ErrBadHash) {
				t.Fatalf("CheckPassword(%q) = %v, %v; want false, ErrBadHash", tt.hash, ok, err)
			}
		})
	}
}

// Issue 15 §4: failures lock the account for the address they came from,
// not everywhere: nobody can lock an administrator out at will. Wrong
// passwords answer "wrong username or password" even once locked; only the
// right password learns of the lock.
func TestLockoutPerAccountAndAddress(t *testing.T) {
	p := auth.DefaultPolicy()
	p.LockAfter, p.LockFor = 3, 15*time.Minute
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		f := newFixture(t, db, clock, p)
		wang, _ := f.user(t, "wang", casework.RoleWorker)
		const ip = "192.0.2.1"
		for i := range 4 {
			_, err := f.login(t, "wang", "wrong password", "", ip)
			wantCode(t, fmt.Sprintf("wrong password #%d", i+1), err, casework.EUNAUTHORIZED)
		}
		_, err := f.login(t, "wang", password, "", ip)
		wantCode(t, "right password while locked", err, casework.ELOCKED)
		// Another address is not locked out.
		if _, err := f.login(t, "wang", password, "", "198.51.100.7"); err != nil {
			t.Fatalf("right password from another address: %v", err)
		}
		// The holder was told.
		ns := storetest.Must(db.ListNotifications(t.Context(), &casework.Actor{UserID: wang.ID, Username: "wang",
			Grants: []casework.Grant{{Role: casework.RoleWorker, OrgID: f.comm.ID, OrgPath: f.comm.Path}}}, false))
		if len(ns) == 0 || ns[0].Kind != "account.locked" || !strings.Contains(ns[0].TitleZH, ip) {
			t.Fatalf("notifications of the holder: %+v, want an account.locked notice naming %s", ns, ip)
		}
		clock.Add(p.LockFor - time.Second)
		_, err = f.login(t, "wang", password, "", ip)
		wantCode(t, "right password a second before the lock ends", err, casework.ELOCKED)
		clock.Add(time.Second)
		if _, err := f.login(t, "wang", password, "", ip); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		// The count really started again: two more failures do not lock.
		for i := range 2 {
			_, err := f.login(t, "wang", "wrong password", "", ip)
			wantCode(t, fmt.Sprintf("wrong password #%d after reset", i+1), err, casework.EUNAUTHORIZED)
		}
		if _, err := f.login(t, "wang", password, "", ip); err != nil {
			t.Fatalf("after two failures: %v", err)
		}
	})
}

// Issue 15 §4: to a caller without the password, an unknown name, a wrong
// password, a locked and a disabled account answer alike; the real reason
// comes only with the right password, and is audited.
func TestSignInAnswersAlike(t *testing.T) {
	p := auth.DefaultPolicy()
	p.LockAfter, p.LockFor = 2, 15*time.Minute
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		f := newFixture(t, db, clock, p)
		f.user(t, "wang", casework.RoleWorker)
		f.user(t, "locked", casework.RoleWorker)
		gone, _ := f.user(t, "gone", casework.RoleWorker)
		const ip = "192.0.2.1"
		for range 2 {
			f.login(t, "locked", "wrong password", "", ip)
		}
		if err := db.SetDisabled(t.Context(), f.sys, gone.ID, true, "left"); err != nil {
			t.Fatal(err)
		}
		var first string
		for _, name := range []string{"nobody", "wang", "locked", "gone"} {
			_, err := f.login(t, name, "wrong password", "", ip)
			wantCode(t, name+" with a wrong password", err, casework.EUNAUTHORIZED)
			msg := casework.ErrorMessage(err, "zh") + casework.ErrorMessage(err, "en")
			if first == "" {
				first = msg
			} else if msg != first {
				t.Errorf("%s: %q, want the same answer as for an unknown name (%q)", name, msg, first)
			}
		}
		_, err := f.login(t, "locked", password, "", ip)
		wantCode(t, "locked, right password", err, casework.ELOCKED)
		_, err = f.login(t, "gone", password, "", ip)
		wantCode(t, "disabled, right password", err, casework.ELOCKED)
		if !strings.Contains(casework.ErrorMessage(err, "en"), "disabled") {
			t.Errorf("disabled, right password: %q", casework.ErrorMessage(err, "en"))
		}
		rows, _, err := db.ListAudit(t.Context(), f.sys, store.AuditFilter{Action: "auth.login_failed", Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		var reasons []string
		for _, r := range rows {
			reasons = append(reasons, r.Detail)
		}
		if all := strings.Join(reasons, " "); !strings.Contains(all, `"why":"disabled"`) || !strings.Contains(all, `"why":"locked"`) {
			t.Errorf("audit reasons %v, want the real reasons logged", reasons)
		}
	})
}

// Issue 15 §4: a lock is lifted by a second administrator, not by the
// account itself; audited, and the holder is told.
func TestUnlockBySecondAdmin(t *testing.T) {
	p := auth.DefaultPolicy()
	p.LockAfter, p.LockFor = 1, time.Hour
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		f := newFixture(t, db, clock, p)
		a1, _ := f.user(t, "admin1", casework.RoleAdmin)
		f.user(t, "admin2", casework.RoleAdmin)
		actor := func(name string) *casework.Actor {
			res := f.mustLogin(t, name, "")
			a, _, err := f.svc.Authenticate(t.Context(), res.Token, "web", "192.0.2.10")
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		self, second := actor("admin1"), actor("admin2")
		const ip = "192.0.2.1"
		f.login(t, "admin1", "wrong password", "", ip)
		_, err := f.login(t, "admin1", password, "", ip)
		wantCode(t, "locked", err, casework.ELOCKED)
		wantCode(t, "unlock one's own account", db.UnlockLogin(t.Context(), self, a1.ID, "me"), casework.EFORBIDDEN)
		wantCode(t, "unlock without a reason", db.UnlockLogin(t.Context(), second, a1.ID, " "), casework.EINVALID)
		if err := db.UnlockLogin(t.Context(), second, a1.ID, "phoned me"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.login(t, "admin1", password, "", ip); err != nil {
			t.Fatalf("after the unlock: %v", err)
		}
		rows, _, err := db.ListAudit(t.Context(), f.sys, store.AuditFilter{Action: "auth.unlock"})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].ActorName != "admin2" || rows[0].Reason != "phoned me" {
			t.Fatalf("audit: %+v", rows)
		}
	})
}

func TestRateLimitPerAddress(t *testing.T) {
	p := auth.DefaultPolicy()
	p.IPRate, p.IPBurst = rate.Every(time.Hour), 2
	p.LockAfter = 100 // this test is about addresses, not the account lock
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		f := newFixture(t, db, clock, p)
		f.user(t, "wang", casework.RoleWorker)
		steps := []struct {
			name    string
			ip      string
			pw      string
			later   time.Duration // move the clock on first
			limited bool
		}{
			{name: "v4 first", ip: "192.0.2.1"},
			{name: "v4 second", ip: "192.0.2.1"},
			{name: "v4 beyond burst", ip: "192.0.2.1", limited: true},
			{name: "v4 beyond burst, right password", ip: "192.0.2.1", pw: password, limited: true},
			{name: "other v4 address", ip: "192.0.2.2"},
			{name: "v4-mapped v6 is the same address", ip: "::ffff:192.0.2.2"},
			{name: "v4 other address now spent", ip: "192.0.2.2", limited: true},
			{name: "v6 first", ip: "2001:db8:1:2::1"},
			{name: "v6 same /64", ip: "2001:db8:1:2:ffff:ffff:ffff:ffff"},
			{name: "v6 same /64 beyond burst", ip: "2001:db8:1:2:abcd::1", limited: true},
			{name: "v6 other /64", ip: "2001:db8:1:3::1"},
			{name: "v4 after the bucket refilled", ip: "192.0.2.1", pw: password, later: time.Hour},
		}
		for _, s := range steps {
			clock.Add(s.later)
			pw := s.pw
			if pw == "" {
				pw = "wrong password"
			}
			_, err := f.login(t, "wang", pw, "", s.ip)
			if limited := casework.IsCode(err, casework.ERATELIMIT); limited != s.limited {
				t.Fatalf("%s (%s): err %v, want rate limited %v", s.name, s.ip, err, s.limited)
			}
			if !s.limited && pw == password && err != nil {
				t.Fatalf("%s: right password refused: %v", s.name, err)
			}
		}
	})
}

// wrongTOTP returns a well-formed code that does not match secret at now.
func wrongTOTP(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	for i := 0; i < 1000; i++ {
		c := fmt.Sprintf("%06d", i*997%1000000)
		if _, ok := auth.MatchTOTP(secret, c, now); !ok {
			return c
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

func TestTOTP(t *testing.T) {
	p := auth.DefaultPolicy()
	p.IPBurst = 100 // many attempts from one address here
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		f := newFixture(t, db, clock, p)
		f.user(t, "lin", casework.RoleOffice)
		res := f.mustLogin(t, "lin", "")
		if !res.NeedsTOTPEnrolment {
			t.Fatal("an office account without TOTP is not sent to enrol")
		}
		actor, _ := must2(f.svc.Authenticate(t.Context(), res.Token, "web", "192.0.2.10"))

		_, err := f.svc.ConfirmTOTP(t.Context(), actor, "123456")
		wantCode(t, "confirm before start", err, casework.ECONFLICT)
		enr := storetest.Must(f.svc.StartTOTP(t.Context(), actor))
		if enr.Secret == "" || !strings.HasPrefix(enr.URL, "otpauth://totp/") || !strings.HasPrefix(enr.QRDataURI, "data:image/png;base64,") {
			t.Fatalf("enrolment = %+v", enr)
		}
		_, err = f.svc.ConfirmTOTP(t.Context(), actor, wrongTOTP(t, enr.Secret, clock.T))
		wantCode(t, "confirm with a wrong code", err, casework.EINVALID)
		if c := storetest.Must(db.CredentialsByID(t.Context(), actor.UserID)); c.TOTPEnabled {
			t.Fatal("a wrong confirmation code turned TOTP on")
		}
		codes := storetest.Must(f.svc.ConfirmTOTP(t.Context(), actor, auth.TOTPCode(enr.Secret, clock.T)))
		seen := map[string]bool{}
		for _, c := range codes {
			if len(c) != 11 || c[5] != '-' {
				t.Errorf("recovery code %q is not shaped XXXXX-XXXXX", c)
			}
			seen[c] = true
		}
		if len(codes) != 10 || len(seen) != 10 {
			t.Fatalf("got %d recovery codes, %d distinct; want 10 distinct", len(codes), len(seen))
		}
		_, err = f.svc.ConfirmTOTP(t.Context(), actor, auth.TOTPCode(enr.Secret, clock.T))
		wantCode(t, "confirm twice", err, casework.ECONFLICT)

		// The step used to confirm is spent; sign-in needs a later one.
		_, err = f.login(t, "lin", password, auth.TOTPCode(enr.Secret, clock.T), "192.0.2.10")
		wantCode(t, "the confirmation code again", err, casework.EUNAUTHORIZED)
		clock.Add(30 * time.Second)
		code := auth.TOTPCode(enr.Secret, clock.T)
		steps := []struct {
			name, pw, otp string
			want          string // error code; "" for success
		}{
			{"no code", password, "", casework.EOTPREQUIRED},
			{"wrong password with the right code", "wrong password", code, casework.EUNAUTHORIZED},
			{"wrong code", password, wrongTOTP(t, enr.Secret, clock.T), casework.EUNAUTHORIZED},
			{"malformed code", password, "12a456", casework.EUNAUTHORIZED},
			{"right code", password, code, ""},
			{"right code replayed", password, code, casework.EUNAUTHORIZED},
			{"recovery code", password, codes[0], ""},
			{"recovery code again", password, codes[0], casework.EUNAUTHORIZED},
			{"recovery code in lower case", password, strings.ToLower(codes[1]), ""},
			{"recovery code without the dash", password, strings.ReplaceAll(codes[2], "-", ""), ""},
			{"recovery code lower case, no dash, spaced", password, " " + strings.ToLower(strings.ReplaceAll(codes[3], "-", "")) + " ", ""},
			{"recovery code used in another spelling", password, strings.ToLower(strings.ReplaceAll(codes[1], "-", "")), casework.EUNAUTHORIZED},
			{"unknown recovery code", password, "ABCDE-FGHJK", casework.EUNAUTHORIZED},
		}
		for _, s := range steps {
			res, err := f.login(t, "lin", s.pw, s.otp, "192.0.2.10")
			if s.want == "" {
				if err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				if res.NeedsTOTPEnrolment {
					t.Fatalf("%s: enrolled account sent to enrol again", s.name)
				}
				continue
			}
			wantCode(t, s.name, err, s.want)
		}
		// A code of the next step is fresh again.
		clock.Add(30 * time.Second)
		if _, err := f.login(t, "lin", password, auth.TOTPCode(enr.Secret, clock.T), "192.0.2.10"); err != nil {
			t.Fatalf("code of a later step: %v", err)
		}
		if left := storetest.Must(db.RecoveryCodesLeft(t.Context(), actor)); left != 6 {
			t.Fatalf("recovery codes left = %d, want 6", left)
		}
	})
}

func TestNeedsTOTPEnrolment(t *testing.T) {
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		f := newFixture(t, db, clock, auth.DefaultPolicy())
		tests := []struct {
			username string
			role     casework.Role
			exempt   bool
			want     bool
		}{
			{"admin1", casework.RoleAdmin, false, true},
			{"office1", casework.RoleOffice, false, true},
			{"admin2", casework.RoleAdmin, true, false},
			{"worker1", casework.RoleWorker, false, false},
			{"auditor1", casework.RoleAuditor, false, false},
		}
		for _, tt := range tests {
			t.Run(tt.username, func(t *testing.T) {
				u, _ := f.user(t, tt.username, tt.role)
				if tt.exempt {
					if err := db.SetTOTPExempt(t.Context(), f.sys, u.ID, true); err != nil {
						t.Fatal(err)
					}
				}
				if got := f.mustLogin(t, tt.username, "").NeedsTOTPEnrolment; got != tt.want {
					t.Fatalf("%s (exempt %v): NeedsTOTPEnrolment = %v, want %v", tt.role, tt.exempt, got, tt.want)
				}
			})
		}
	})
}

func TestSessionEnds(t *testing.T) {
	p := auth.DefaultPolicy()
	p.WebIdle, p.WebAbsolute = 30*time.Minute, 12*time.Hour
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		f := newFixture(t, db, clock, p)
		f.user(t, "wang", casework.RoleWorker)
		auth1 := func(token string) error {
			_, _, err := f.svc.Authenticate(t.Context(), token, "web", "192.0.2.10")
			return err
		}
		expired := func(t *testing.T, what string, err error) {
			t.Helper()
			if !auth.IsUnauthorized(err) {
				t.Fatalf("%s: err %v, want the session refused", what, err)
			}
		}

		t.Run("idle", func(t *testing.T) {
			tok := f.mustLogin(t, "wang", "").Token
			clock.Add(29 * time.Minute)
			if err := auth1(tok); err != nil {
				t.Fatalf("used within the idle timeout: %v", err)
			}
			clock.Add(29 * time.Minute) // 58 minutes old, 29 idle
			if err := auth1(tok); err != nil {
				t.Fatalf("used again within the idle timeout: %v", err)
			}
			clock.Add(30 * time.Minute)
			expired(t, "30 minutes idle", auth1(tok))
		})
		t.Run("absolute", func(t *testing.T) {
			res := f.mustLogin(t, "wang", "")
			if want := clock.T.Add(p.WebAbsolute); !res.ExpiresAt.Equal(want) {
				t.Fatalf("ExpiresAt = %v, want %v", res.ExpiresAt, want)
			}
			for clock.T.Add(20 * time.Minute).Before(res.ExpiresAt) {
				clock.Add(20 * time.Minute)
				if err := auth1(res.Token); err != nil {
					t.Fatalf("used at %v, before the absolute timeout: %v", clock.T, err)
				}
			}
			clock.T = res.ExpiresAt
			expired(t, "at the absolute timeout though in use", auth1(res.Token))
		})
		t.Run("kind", func(t *testing.T) {
			tok := f.mustLogin(t, "wang", "").Token
			_, _, err := f.svc.Authenticate(t.Context(), tok, "api", "192.0.2.10")
			expired(t, "console token used as API token", err)
			expired(t, "empty token", auth1(""))
			expired(t, "unknown token", auth1("no-such-token"))
		})
		t.Run("logout", func(t *testing.T) {
			tok := f.mustLogin(t, "wang", "").Token
			other := f.mustLogin(t, "wang", "").Token
			actor, _ := must2(f.svc.Authenticate(t.Context(), tok, "web", "192.0.2.10"))
			if err := f.svc.Logout(t.Context(), actor, tok); err != nil {
				t.Fatal(err)
			}
			expired(t, "after logout", auth1(tok))
			if err := auth1(other); err != nil {
				t.Fatalf("logout ended another session of the same user: %v", err)
			}
		})
		t.Run("disabled user", func(t *testing.T) {
			u, _ := f.user(t, "zhao", casework.RoleWorker)
			tok := f.mustLogin(t, "zhao", "").Token
			if err := db.SetDisabled(t.Context(), f.sys, u.ID, true, "left"); err != nil {
				t.Fatal(err)
			}
			expired(t, "after the user was disabled", auth1(tok))
			_, err := f.login(t, "zhao", password, "", "192.0.2.10")
			wantCode(t, "sign-in of a disabled user", err, casework.ELOCKED)
		})
		t.Run("grant revoked", func(t *testing.T) {
			_, g := f.user(t, "li", casework.RoleWorker)
			tok := f.mustLogin(t, "li", "").Token
			if err := db.RevokeGrant(t.Context(), f.sys, g.ID); err != nil {
				t.Fatal(err)
			}
			expired(t, "after the grant was revoked", auth1(tok))
		})
	})
}

func TestSignInsAudited(t *testing.T) {
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		f := newFixture(t, db, clock, auth.DefaultPolicy())
		u, _ := f.user(t, "wang", casework.RoleWorker)
		f.mustLogin(t, "wang", "")
		if _, err := f.login(t, "wang", "wrong password", "", "192.0.2.7"); !casework.IsCode(err, casework.EUNAUTHORIZED) {
			t.Fatalf("wrong password: %v", err)
		}
		if _, err := f.login(t, "ghost", "wrong password", "", "192.0.2.8"); !casework.IsCode(err, casework.EUNAUTHORIZED) {
			t.Fatalf("unknown user: %v", err)
		}
		// The row of the unknown name is tied to no org; an auditor at the
		// root sees it, and so must the command line's system actor.
		rootAuditor := &casework.Actor{UserID: "auditor", Username: "auditor",
			Grants: []casework.Grant{{Role: casework.RoleAuditor, OrgID: f.root.ID, OrgPath: f.root.Path}}}
		if _, n := must2(db.ListAudit(t.Context(), rootAuditor, store.AuditFilter{ActorName: "ghost"})); n != 1 {
			t.Errorf("root auditor sees %d rows of the unknown name, want 1", n)
		}
		rows, total := must2(db.ListAudit(t.Context(), casework.SystemActor("test"), store.AuditFilter{Action: "auth."}))
		type row struct{ action, actor, target, ip, why string }
		var got []row
		for _, r := range rows {
			var d struct{ Why string }
			if r.Detail != "" {
				if err := json.Unmarshal([]byte(r.Detail), &d); err != nil {
					t.Fatalf("detail of row %d: %v", r.Seq, err)
				}
			}
			got = append(got, row{r.Action, r.ActorName, r.TargetID, r.IP, d.Why})
		}
		want := []row{ // newest first
			{"auth.login_failed", "ghost", "", "192.0.2.8", "unknown user"},
			{"auth.login_failed", "wang", u.ID, "192.0.2.7", "wrong password"},
			{"auth.login", "wang", u.ID, "192.0.2.10", ""},
		}
		if total != len(want) || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("sign-in audit rows seen by the system actor (total %d):\n got  %v\n want %v", total, got, want)
		}
		if n, err := db.VerifyAudit(t.Context()); err != nil {
			t.Fatalf("audit chain after sign-ins (%d rows): %v", n, err)
		}
	})
}

// must2 is storetest.Must for calls that return two values.
func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}
