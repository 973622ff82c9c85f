// Package casework holds Kangfu's domain: organisations, staff, roles, the
// rules about who may see what, and the error codes every front door maps to
// a response. It does no I/O.
package casework

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. Front doors map them to HTTP statuses; the message of an
// *Error is safe to show to the user, its cause never is.
const (
	EINVALID      = "invalid"      // bad input; the message says which field and why
	ENOTFOUND     = "not_found"    // missing, or outside the actor's scope (never tell which)
	ECONFLICT     = "conflict"     // state does not allow it, or a duplicate
	EFORBIDDEN    = "forbidden"    // in scope but the role does not allow the action
	EUNAUTHORIZED = "unauthorized" // not signed in, or bad credentials
	ERATELIMIT    = "rate_limited" // too many attempts
	ELOCKED       = "locked"       // account locked or disabled
	EINTERNAL     = "internal"     // a bug or an outage; details only in the log
	EOTPREQUIRED  = "otp_required" // password right, second factor missing
	ETOOLARGE     = "too_large"    // the request body is over the limit (413)
)

// Error is a domain error with a machine code and a message, in Chinese and
// English, that is safe to show. Field names the offending input field.
type Error struct {
	Code  string
	Field string
	ZH    string
	EN    string
	Cause error
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.EN
	if e.Field != "" {
		s = e.Code + ": " + e.Field + ": " + e.EN
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Cause }

// Message returns the message in the language ("zh" or "en"); Chinese
// first. A rule number the message carries ("（R18）") is shown as the law
// a worker cites, 《吸毒检测程序规定》第八条 (issue 18 §8): the rule numbers
// are ours, the articles are what staff know.
func (e *Error) Message(lang string) string {
	if lang == "en" && e.EN != "" {
		return CiteRules(e.EN, "en")
	}
	if e.ZH != "" {
		return CiteRules(e.ZH, "zh")
	}
	return CiteRules(e.EN, "en")
}

// Errorf returns an *Error with the code and a message in both languages.
// zh and en are format strings that take the same arguments.
func Errorf(code, zh, en string, args ...any) *Error {
	return &Error{Code: code, ZH: fmt.Sprintf(zh, args...), EN: fmt.Sprintf(en, args...)}
}

// Invalid returns an EINVALID error about one field.
func Invalid(field, zh, en string, args ...any) *Error {
	e := Errorf(EINVALID, zh, en, args...)
	e.Field = field
	return e
}

// NotFound returns an ENOTFOUND error for a kind of record; what is given in
// both languages, e.g. NotFound("机构", "organisation").
func NotFound(zh, en string) *Error {
	return &Error{Code: ENOTFOUND, ZH: "未找到" + zh, EN: en + " not found"}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL for any other non-nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of err in the language, or a generic
// one for errors that are not *Error (their text may hold internals).
func ErrorMessage(err error, lang string) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message(lang)
	}
	if lang == "en" {
		return "Internal error. It has been logged; please try again or tell your administrator."
	}
	return "系统内部错误，已记录。请重试或联系管理员。"
}

// ErrorField returns the field of the first *Error in err's chain.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// IsCode reports whether err carries the code.
func IsCode(err error, code string) bool { return ErrorCode(err) == code }

// Msg returns an *Error with ready-made messages (no formatting), for
// messages whose two languages take different arguments.
func Msg(code, zh, en string) *Error { return &Error{Code: code, ZH: zh, EN: en} }

// FieldErrors are the problems of one input, one per field, so a form can
// show every one next to its field at once (issue 18 item 9) instead of
// the first one only.
type FieldErrors []*Error

func (fe FieldErrors) Error() string { return fmt.Sprintf("%d invalid fields", len(fe)) }

// Map returns field → message in the language (the first message of a
// field when it has several).
func (fe FieldErrors) Map(lang string) map[string]string {
	m := map[string]string{}
	for _, e := range fe {
		if _, dup := m[e.Field]; !dup {
			m[e.Field] = e.Message(lang)
		}
	}
	return m
}

// Add records err: an *Error is kept as one problem, a FieldErrors (or an
// *Error carrying one) as each of its problems. Any other error is not
// about the input; Add returns it for the caller to pass on.
func (fe *FieldErrors) Add(err error) error {
	if err == nil {
		return nil
	}
	var many FieldErrors
	if errors.As(err, &many) {
		*fe = append(*fe, many...)
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e.Code == EINVALID {
		*fe = append(*fe, e)
		return nil
	}
	return err
}

// once records e unless its field already has a problem: a check that
// runs on after a problem (a list of goals, a chain of date rules) reports
// the first problem of each field.
func (fe *FieldErrors) once(e *Error) {
	if !fe.Has(e.Field) {
		*fe = append(*fe, e)
	}
}

// Has reports whether a problem is already recorded for the field, so a
// check that depends on a field's value can be skipped when it is bad.
func (fe FieldErrors) Has(field string) bool {
	for _, e := range fe {
		if e.Field == field {
			return true
		}
	}
	return false
}

// Err returns nil when there is no problem, else an EINVALID *Error whose
// messages join every problem and whose cause is the FieldErrors, the first
// problem's field as its own (so callers that read one field still work).
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe.asError()
}

func (fe FieldErrors) asError() error {
	if len(fe) == 1 {
		e := *fe[0]
		e.Cause = fe
		return &e
	}
	zh, en := make([]string, len(fe)), make([]string, len(fe))
	for i, e := range fe {
		zh[i], en[i] = e.ZH, e.EN
	}
	return &Error{Code: EINVALID, Field: fe[0].Field, ZH: strings.Join(zh, "；"), EN: strings.Join(en, "; "), Cause: fe}
}
