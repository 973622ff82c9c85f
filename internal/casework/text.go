package casework

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Free text and names (issue 15 §7). Every free-text field has a length cap
// and refuses characters that change how text around it reads: bidi
// overrides and isolates (U+202A–U+202E, U+2066–U+2069), which can make a
// reason or a name display in an order other than the one stored, and
// control characters other than tab and line breaks. A name must hold at
// least one visible character and no invisible one (zero-width spaces and
// joiners, BOM, word joiner), else two files could look alike.

// MaxReason is the cap on a reason given for an action (reveal, transfer,
// correction, transition, refusal).
const MaxReason = 1000

// MaxNote is the cap on longer free text (notes, descriptions).
const MaxNote = 5000

// isBidiControl reports whether r reorders text around it.
func isBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// CleanText trims s and checks it as free text of at most max characters:
// no bidi controls, no control characters but tab and line breaks. The
// error names field.
func CleanText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if err := CheckText(field, s, max); err != nil {
		return "", err
	}
	return s, nil
}

// CheckText is CleanText without the trimming.
func CheckText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return Invalid(field, "内容含有无效字符（非 UTF-8）", "the text is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); max > 0 && n > max {
		return Invalid(field, "内容不能超过%d个字（当前%d个字）", "the text must be at most %d characters (it has %d)", max, n)
	}
	for _, r := range s {
		if isBidiControl(r) {
			return Invalid(field, "内容含有改变文字方向的控制字符（U+%04X），请删除", "the text holds a character that reverses its direction (U+%04X); remove it", r)
		}
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return Invalid(field, "内容含有控制字符（U+%04X），请删除", "the text holds a control character (U+%04X); remove it", r)
		}
	}
	return nil
}

// ValidName trims a person's or a contact's name and checks it: required,
// at most max characters, on one line, with no control, bidi or invisible
// (format) character, and at least one letter. The error names field.
func ValidName(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalid(field, "姓名不能为空", "name is required")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", Invalid(field, "姓名不能超过%d个字", "name must be at most %d characters", max)
	}
	if err := CheckText(field, s, max); err != nil {
		return "", err
	}
	letters := 0
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return "", Invalid(field, "姓名须写在一行内", "a name must be on one line")
		case unicode.Is(unicode.Cf, r) || r == 0x3164 || r == 0x115F || r == 0x1160 || r == 0xFFA0:
			// format characters (zero-width space, joiners, BOM) and the
			// Hangul fillers that render blank
			return "", Invalid(field, "姓名含有不可见字符（U+%04X），请删除", "the name holds an invisible character (U+%04X); remove it", r)
		case unicode.IsLetter(r):
			letters++
		}
	}
	if letters == 0 {
		return "", Invalid(field, "姓名须含有文字", "a name must contain letters")
	}
	return s, nil
}
