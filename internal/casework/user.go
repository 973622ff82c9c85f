package casework

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// User is a staff account.
type User struct {
	ID                 string
	Username           string
	DisplayName        string
	OrgID              string // home node; admins of its subtree manage the account
	OrgPath            string
	OrgName            string
	Sex                string // "M", "F" or ""; a female subject needs a female collector (R18)
	Phone              string
	Lang               string // "zh" or "en"
	Disabled           bool
	TOTPEnabled        bool
	TOTPExempt         bool // demo accounts only
	MustChangePassword bool
	FailedLogins       int
	LockedUntil        time.Time
	LastLoginAt        time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
	Grants             []Grant
}

// Locked reports whether the account is locked at now.
func (u *User) Locked(now time.Time) bool { return now.Before(u.LockedUntil) }

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,39}$`)

// UserInput is what an admin supplies to create a user.
type UserInput struct {
	Username    string
	DisplayName string
	OrgID       string
	Sex         string
	Phone       string
	Password    string
}

// Validate checks the input.
func (in *UserInput) Validate() error {
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	var errs FieldErrors // every bad field at once (issue 18 item 9)
	if !usernameRE.MatchString(in.Username) {
		errs = append(errs, Invalid("username", "用户名须为2–40位小写字母、数字、点、下划线或连字符，且以字母或数字开头",
			"username must be 2–40 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"))
	}
	if in.DisplayName == "" {
		in.DisplayName = in.Username
	}
	if utf8.RuneCountInString(in.DisplayName) > 60 {
		errs = append(errs, Invalid("display_name", "姓名不能超过60个字", "display name must be at most 60 characters"))
	}
	if in.OrgID == "" {
		errs = append(errs, Invalid("org_id", "请选择所属机构", "choose the organisation the account belongs to"))
	}
	switch in.Sex {
	case "", "M", "F":
	default:
		errs = append(errs, Invalid("sex", "性别应为 M 或 F", "sex must be M or F"))
	}
	errs.Add(ValidatePassword(in.Password))
	return errs.Err()
}

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// ValidatePassword checks a new password's strength.
func ValidatePassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return Invalid("password", "密码至少需要%d个字符", "password must be at least %d characters", MinPasswordLen)
	}
	if utf8.RuneCountInString(pw) > 200 {
		return Invalid("password", "密码不能超过200个字符", "password must be at most 200 characters")
	}
	return nil
}
