package casework

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// checkChar computes the GB 11643-1999 check character of 17 digits from
// the ISO 7064 MOD 11-2 definition itself (weights 2^(17-i) mod 11, check
// value (12 - sum mod 11) mod 11, 10 written X), independently of the tables
// in idnumber.go, so the test numbers are real ones and not guesses.
func checkChar(t *testing.T, body string) string {
	t.Helper()
	if len(body) != 17 {
		t.Fatalf("test body %q is not 17 digits", body)
	}
	sum, w := 0, 1
	for i := 16; i >= 0; i-- {
		w = w * 2 % 11 // weight of position i is 2^(17-i) mod 11
		sum += int(body[i]-'0') * w
	}
	v := (12 - sum%11) % 11
	if v == 10 {
		return "X"
	}
	return fmt.Sprint(v)
}

// validID returns body plus its correct check character.
func validID(t *testing.T, body string) string { return body + checkChar(t, body) }

// wrongCheck returns body plus a check character that is not the right one.
func wrongCheck(t *testing.T, body string) string {
	right := checkChar(t, body)
	for _, c := range "0123456789X" {
		if string(c) != right {
			return body + string(c)
		}
	}
	panic("unreachable")
}

// bodyWithX finds a 17-digit body, birth 1990-03-07, whose check character
// is X.
func bodyWithX(t *testing.T) string {
	for seq := 0; seq < 1000; seq++ {
		b := fmt.Sprintf("11010519900307%03d", seq)
		if checkChar(t, b) == "X" {
			return b
		}
	}
	t.Fatal("no body with check X")
	return ""
}

func TestCheckCharAgainstStandardExamples(t *testing.T) {
	// The two worked examples printed in GB 11643-1999.
	tests := []struct{ name, id string }{
		{"GB 11643 example ending in X", "11010519491231002X"},
		{"GB 11643 example born 1880", "440524188001010014"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkChar(t, tt.id[:17]); got != tt.id[17:] {
				t.Fatalf("test helper check = %s; want %s", got, tt.id[17:])
			}
			if got := IDCheckChar(tt.id[:17]); string(got) != tt.id[17:] {
				t.Fatalf("IDCheckChar = %q; want %s", got, tt.id[17:])
			}
		})
	}
	if IDCheckChar("1234") != 0 || IDCheckChar("1101051990030712a") != 0 {
		t.Fatal("IDCheckChar accepted a malformed body")
	}
}

func TestParseIDNumberValid(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	today := time.Date(2024, 6, 1, 10, 0, 0, 0, shanghai)
	xBody := bodyWithX(t)
	tests := []struct {
		name   string
		in     string
		number string
		area   string
		birth  Date
		sex    string
	}{
		{"male, odd 17th digit", validID(t, "11010519900307123"), validID(t, "11010519900307123"), "110105", d(1990, 3, 7), "M"},
		{"female, even 17th digit", validID(t, "44030419851231002"), validID(t, "44030419851231002"), "440304", d(1985, 12, 31), "F"},
		{"female, 17th digit 0", validID(t, "46020020000101120"), validID(t, "46020020000101120"), "460200", d(2000, 1, 1), "F"},
		{"GB example ending in X", "11010519491231002X", "11010519491231002X", "110105", d(1949, 12, 31), "F"},
		{"born 1 January 1900 (issue 15 §7 boundary)", validID(t, "44052419000101001"), validID(t, "44052419000101001"), "440524", d(1900, 1, 1), "M"},
		{"area code 110000 (province level)", validID(t, "11000019900307123"), validID(t, "11000019900307123"), "110000", d(1990, 3, 7), "M"},
		{"lower-case x normalised to X", xBody + "x", xBody + "X", "110105", d(1990, 3, 7), checkSex(xBody)},
		{"GB example with lower-case x", "11010519491231002x", "11010519491231002X", "110105", d(1949, 12, 31), "F"},
		{"surrounding spaces trimmed", "  " + validID(t, "11010519900307123") + " \t\n", validID(t, "11010519900307123"), "110105", d(1990, 3, 7), "M"},
		{"ideographic space trimmed", "\u3000" + validID(t, "11010519900307123") + "\u3000", validID(t, "11010519900307123"), "110105", d(1990, 3, 7), "M"},
		{"29 February of a leap year", validID(t, "11010520000229123"), validID(t, "11010520000229123"), "110105", d(2000, 2, 29), "M"},
		{"born today", validID(t, "11010520240601123"), validID(t, "11010520240601123"), "110105", d(2024, 6, 1), "M"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := ParseIDNumber(tt.in, today)
			if err != nil {
				t.Fatalf("ParseIDNumber(%q) error: %v", tt.in, err)
			}
			want := IDNumber{Number: tt.number, AreaCode: tt.area, Birth: tt.birth, Sex: tt.sex}
			if id != want {
				t.Fatalf("ParseIDNumber(%q) = %s %s %v %s; want %s %s %v %s", tt.in,
					id.Number, id.AreaCode, id.Birth, id.Sex, want.Number, want.AreaCode, want.Birth, want.Sex)
			}
		})
	}
}

func checkSex(body string) string {
	if (body[16]-'0')%2 == 1 {
		return "M"
	}
	return "F"
}

// Every fault has its own message: the tests check a phrase of each message
// in both languages, and that no two faults share a message.
func TestParseIDNumberInvalid(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	today := time.Date(2024, 6, 1, 10, 0, 0, 0, shanghai)
	good := validID(t, "11010519900307123")
	tests := []struct {
		name   string
		in     string
		today  time.Time
		zh, en string // phrases the message must contain
	}{
		{"empty", "", today, "不能为空", "required"},
		{"only spaces", "   ", today, "不能为空", "required"},
		{"old 15-digit number", "110105900307123", today, "15位", "15-digit"},
		{"old 15-digit number with spaces", " 110105900307123 ", today, "18位", "18-digit"},
		{"17 digits", good[:17], today, "应为18位", "must be 18 characters"},
		{"19 digits", good + "1", today, "应为18位", "must be 18 characters"},
		{"15 characters, not all digits", "11010590030712X", today, "应为18位", "must be 18 characters"},
		{"letter in the body", "1101051990030A123" + "4", today, "第14位应为数字", "character 14"},
		{"full-width digit", "１" + good[1:], today, "第1位应为数字", "character 1 "},
		{"bad check character", good[:17] + "Y", today, "校验码）应为数字或X", "must be a digit or X"},
		{"wrong check digit", wrongCheck(t, "11010519900307123"), today, "校验码不符", "check character does not match"},
		{"wrong check X", wrongCheck(t, "11010519491231002"), today, "校验码不符", "check character does not match"},
		{"GB example born 1880: before 1900 (issue 15 §7)", "440524188001010014", today, "早于1900年", "before 1900"},
		{"born 31 December 1899", validID(t, "44052418991231001"), today, "早于1900年", "before 1900"},
		{"area code 000000", validID(t, "00000019900307123"), today, "地区码", "area code"},
		{"area code 100000", validID(t, "10000019900307123"), today, "地区码", "area code"},
		{"a digit mistyped in the body", good[:3] + string('0'+(good[3]-'0'+1)%10) + good[4:], today, "校验码不符", "check character does not match"},
		{"impossible birth date 19990230", validID(t, "11010519990230123"), today, "19990230 不存在", "19990230, is not a real date"},
		{"29 February of a common year", validID(t, "11010520230229123"), today, "不存在", "not a real date"},
		{"month 13", validID(t, "11010519901301123"), today, "不存在", "not a real date"},
		{"future birth date", validID(t, "11010520240602123"), today, "晚于今天", "in the future"},
		{"future birth date far ahead", validID(t, "11010530000101123"), today, "晚于今天", "in the future"},
		// today's date is taken in today's own zone: 2024-06-01 20:00 UTC
		// is 06-01 in UTC, so a birth on 06-02 is in the future; the same
		// instant in Shanghai is 06-02 (accepted below).
		{"future relative to today's own zone", validID(t, "11010520240602123"), time.Date(2024, 6, 1, 20, 0, 0, 0, time.UTC), "晚于今天", "in the future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := ParseIDNumber(tt.in, tt.today)
			if err == nil {
				t.Fatalf("ParseIDNumber(%q) = %v, nil; want an error", tt.in, id)
			}
			e, ok := err.(*Error)
			if !ok || e.Code != EINVALID || e.Field != "id_number" {
				t.Fatalf("error = %#v; want EINVALID on id_number", err)
			}
			if !strings.Contains(e.ZH, tt.zh) || !strings.Contains(e.EN, tt.en) {
				t.Fatalf("message = %q / %q; want it to contain %q / %q", e.ZH, e.EN, tt.zh, tt.en)
			}
			if strings.Contains(e.ZH+e.EN, "%!") {
				t.Fatalf("badly formatted message %q / %q", e.ZH, e.EN)
			}
			if strings.Contains(e.ZH+e.EN, tt.in) && len(strings.TrimSpace(tt.in)) >= 15 {
				t.Fatalf("message repeats the full ID number: %q / %q", e.ZH, e.EN)
			}
		})
	}
	// The same instant as a Shanghai time is 2024-06-02 04:00 there, so a
	// birth on 06-02 is today, and accepted.
	if _, err := ParseIDNumber(validID(t, "11010520240602123"), time.Date(2024, 6, 1, 20, 0, 0, 0, time.UTC).In(shanghai)); err != nil {
		t.Fatalf("birth on today's local date refused: %v", err)
	}
	// A zero today skips the future check.
	if _, err := ParseIDNumber(validID(t, "11010530000101123"), time.Time{}); err != nil {
		t.Fatalf("zero today: %v", err)
	}
}

func TestParseIDNumberDistinctMessages(t *testing.T) {
	today := time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)
	inputs := map[string]string{
		"empty":       "",
		"15-digit":    "110105900307123",
		"length":      "1234567890",
		"non-digit":   "1101051990030A1234",
		"check char":  "11010519900307123Y",
		"check digit": wrongCheck(t, "11010519900307123"),
		"bad date":    validID(t, "11010519990230123"),
		"future":      validID(t, "11010520990101123"),
	}
	byMsg := map[string]string{}
	for name, in := range inputs {
		_, err := ParseIDNumber(in, today)
		if err == nil {
			t.Fatalf("%s: accepted %q", name, in)
		}
		zh := ErrorMessage(err, "zh")
		// Drop the variable parts (numbers, quoted characters) to compare
		// the wording.
		stem := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return -1
			}
			return r
		}, zh)
		if other, ok := byMsg[stem]; ok {
			t.Fatalf("%s and %s have the same message %q", name, other, zh)
		}
		byMsg[stem] = name
	}
}

func TestCrossCheckID(t *testing.T) {
	id, err := ParseIDNumber(validID(t, "11010519900307123"), time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		birth Date
		sex   string
		field string // "" for no error
	}{
		{"both empty", Date{}, "", ""},
		{"both match", d(1990, 3, 7), "M", ""},
		{"lower-case sex matches", d(1990, 3, 7), " m ", ""},
		{"only birth given, matches", d(1990, 3, 7), "", ""},
		{"only sex given, matches", Date{}, "M", ""},
		{"birth date differs by a day", d(1990, 3, 8), "M", "birth_date"},
		{"birth date differs by a year", d(1991, 3, 7), "", "birth_date"},
		{"sex differs", d(1990, 3, 7), "F", "sex"},
		{"sex differs, no birth", Date{}, "f", "sex"},
		{"unknown sex", Date{}, "X", "sex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CrossCheckID(id, tt.birth, tt.sex)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("CrossCheckID = %v; want nil", err)
				}
				return
			}
			if ErrorCode(err) != EINVALID || ErrorField(err) != tt.field {
				t.Fatalf("CrossCheckID = %v; want EINVALID on %s", err, tt.field)
			}
			e := err.(*Error)
			if strings.Contains(e.ZH+e.EN, "%!") || strings.Contains(e.ZH+e.EN, id.Number) {
				t.Fatalf("bad message %q / %q", e.ZH, e.EN)
			}
		})
	}
	// The English sex message is in English.
	err = CrossCheckID(id, Date{}, "F")
	if en := ErrorMessage(err, "en"); !strings.Contains(en, "female") || !strings.Contains(en, "male") || strings.ContainsAny(en, "男女") {
		t.Fatalf("English sex message = %q", en)
	}
	if zh := ErrorMessage(err, "zh"); !strings.Contains(zh, "女") || !strings.Contains(zh, "男") {
		t.Fatalf("Chinese sex message = %q", zh)
	}
}

// R36: an IDNumber printed by fmt or a logger shows only the mask.
func TestIDNumberPrintsMasked(t *testing.T) {
	full := validID(t, "11010519900307123")
	id, err := ParseIDNumber(full, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if out := fmt.Sprintf(verb, id); strings.Contains(out, full) {
			t.Fatalf("%s printed the full number: %s", verb, out)
		}
		if out := fmt.Sprintf(verb, &id); strings.Contains(out, full) {
			t.Fatalf("%s of a pointer printed the full number: %s", verb, out)
		}
	}
	if id.String() != "110105********"+full[14:] {
		t.Fatalf("String() = %q", id.String())
	}
}

func TestMaskID(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"R36 default: first 6 + last 4", "110105199003071234", "110105********1234"},
		{"check X kept in the tail", "11010519491231002X", "110105********002X"},
		{"spaces trimmed", " 110105199003071234 ", "110105********1234"},
		{"old 15-digit", "110105900307123", "110105*****7123"},
		{"empty", "", ""},
		{"short: 10 characters shows only the last 4", "1234567890", "******7890"},
		{"short: 4 characters shows only the last 2", "1234", "**34"},
		{"short: 1 character", "7", "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskID(tt.in); got != tt.want {
				t.Fatalf("MaskID(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"11-digit mobile: first 3 + last 4", "13812345678", "138****5678"},
		{"mobile with spaces around", " 13812345678 ", "138****5678"},
		{"landline: all but the last 4", "0898-88881234", "*********1234"},
		{"+86 mobile: all but the last 4", "+8613812345678", "**********5678"},
		{"11 digits not starting with 1", "23812345678", "*******5678"},
		{"exactly 4 characters still masked", "5678", "**78"},
		{"5 characters", "12345", "*2345"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskPhone(tt.in); got != tt.want {
				t.Fatalf("MaskPhone(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

// R36: masks never give back the full value, whatever its length and
// whatever pattern a deployment configures.
func TestMasksNeverLeakFullValue(t *testing.T) {
	patterns := []struct {
		name string
		p    MaskPattern
	}{
		{"default ID 6+4", MaskPattern{Head: 6, Tail: 4}},
		{"variant 3+3", MaskPattern{Head: 3, Tail: 3}},
		{"tail only", MaskPattern{Tail: 4}},
		{"head only", MaskPattern{Head: 6}},
		{"too wide", MaskPattern{Head: 20, Tail: 20}},
		{"negative", MaskPattern{Head: -1, Tail: -1}},
	}
	const src = "440524188001010014和字ABCDEFGHIJ"
	for _, pt := range patterns {
		t.Run(pt.name, func(t *testing.T) {
			for n := 1; n <= utf8.RuneCountInString(src); n++ {
				in := string([]rune(src)[:n])
				got := pt.p.Mask(in)
				if got == in {
					t.Fatalf("Mask(%q) leaked the full value", in)
				}
				if utf8.RuneCountInString(got) != n {
					t.Fatalf("Mask(%q) = %q changes the length", in, got)
				}
				if !strings.Contains(got, "*") {
					t.Fatalf("Mask(%q) = %q hides nothing", in, got)
				}
			}
		})
	}
	for n := 1; n <= 20; n++ {
		in := strings.Repeat("9", n-1) + "1"
		if MaskID(in) == in || MaskPhone(in) == in {
			t.Fatalf("a mask leaked %q", in)
		}
	}
}

// The ID mask is a variable (R36's pattern is LOW confidence).
func TestIDMaskConfigurable(t *testing.T) {
	saved := IDMask
	t.Cleanup(func() { IDMask = saved })
	IDMask = MaskPattern{Head: 3, Tail: 3}
	if got := MaskID("110105199003071234"); got != "110************234" {
		t.Fatalf("MaskID with 3+3 = %q", got)
	}
}
