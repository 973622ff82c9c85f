package casework

import (
	"strings"
	"time"
	"unicode/utf8"
)

// IDNumber is a checked 18-character resident ID number (居民身份证号,
// GB 11643-1999) and what it encodes.
//
// The number is sensitive personal information (R36): String and GoString
// return it masked, so printing an IDNumber with fmt or a logger never shows
// it in full. Read Number explicitly when the full value is needed (to
// encrypt it, or for a logged reveal).
type IDNumber struct {
	Number   string // 18 characters, check character upper-case ("X")
	AreaCode string // first 6 digits: the 行政区划代码 where it was first issued
	Birth    Date   // digits 7–14
	Sex      string // "M" if the 17th digit is odd, "F" if even
}

// String returns the number masked (MaskID).
func (id IDNumber) String() string { return MaskID(id.Number) }

// GoString returns the number masked, so %#v does not leak it either.
func (id IDNumber) GoString() string { return "casework.IDNumber{" + MaskID(id.Number) + "}" }

// idWeights are the ISO 7064 MOD 11-2 weights of the first 17 digits
// (2^(18-i) mod 11), and idCheckChars the check character for each
// remainder of the weighted sum modulo 11.
var (
	idWeights    = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	idCheckChars = "10X98765432"
)

// IDCheckChar returns the check character of the first 17 digits of an ID
// number, or 0 when body is not 17 ASCII digits.
func IDCheckChar(body string) byte {
	if len(body) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := body[i]
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// MinBirthYear is the earliest birth year an ID number or a birth date may
// give: no one on file was born before 1900.
const MinBirthYear = 1900

// ParseIDNumber checks an 18-character resident ID number and returns it
// normalised (spaces around it trimmed, a lower-case check character x made
// upper-case), with its area code, birth date and sex. today is the current
// instant; its calendar date, in its own zone, is the latest birth date
// accepted (pass now in the org's zone; the zero time skips the check).
//
// Each fault has its own message, all on the field "id_number": empty, an
// old 15-digit number (no longer accepted: the 18-digit number is needed),
// wrong length, a character that is not a digit, an impossible birth date, a
// birth date in the future, and a wrong check character. The message never
// says which check character was expected: a mistyped digit elsewhere would
// otherwise be "fixed" by changing the last one.
func ParseIDNumber(s string, today time.Time) (IDNumber, error) {
	const f = "id_number"
	s = strings.TrimSpace(s)
	if s == "" {
		return IDNumber{}, Invalid(f, "身份证号不能为空", "ID number is required")
	}
	n := utf8.RuneCountInString(s)
	if n == 15 && allDigits(s) {
		return IDNumber{}, Invalid(f, "不再接受15位旧身份证号，请填写18位身份证号",
			"old 15-digit ID numbers are no longer accepted; enter the 18-digit ID number")
	}
	if n != 18 {
		return IDNumber{}, Invalid(f, "身份证号应为18位，当前为%d位", "ID number must be 18 characters long, this one has %d", n)
	}
	// 18 runes; any non-ASCII one is caught below as "not a digit".
	for i, r := range []rune(s)[:17] {
		if r < '0' || r > '9' {
			return IDNumber{}, Invalid(f, "身份证号第%d位应为数字，当前为“%c”", "character %d of the ID number must be a digit, not %q", i+1, r)
		}
	}
	last := []rune(s)[17]
	if last == 'x' {
		last = 'X'
	}
	if !(last >= '0' && last <= '9' || last == 'X') {
		return IDNumber{}, Invalid(f, "身份证号第18位（校验码）应为数字或X，当前为“%c”",
			"the 18th character of the ID number (check character) must be a digit or X, not %q", last)
	}
	s = s[:17] + string(last)

	// The area code's first two digits are a province (11 北京 … 82 澳门,
	// 83 for residents from Taiwan): none starts with 0, so 000000 and its
	// like are made up (issue 15 §7).
	if prov := atoi(s[0:2]); prov < 11 {
		return IDNumber{}, Invalid(f, "身份证号前6位（地区码）%s 不存在，请核对", "the area code of the ID number, %s, does not exist; check the first 6 characters", s[:6])
	}
	birth := Date{Year: atoi(s[6:10]), Month: time.Month(atoi(s[10:12])), Day: atoi(s[12:14])}
	if birth.Valid() && birth.Year < MinBirthYear {
		return IDNumber{}, Invalid(f, "身份证号中的出生日期 %s 早于%d年，请核对第7–14位",
			"the birth date in the ID number, %s, is before %d; check characters 7–14", birth, MinBirthYear)
	}
	if !birth.Valid() {
		return IDNumber{}, Invalid(f, "身份证号中的出生日期 %s 不存在，请核对第7–14位",
			"the birth date in the ID number, %s, is not a real date; check characters 7–14", s[6:14])
	}
	if !today.IsZero() {
		if t := dateOfTime(today); birth.After(t) {
			return IDNumber{}, Invalid(f, "身份证号中的出生日期 %s 晚于今天，请核对第7–14位",
				"the birth date in the ID number, %s, is in the future; check characters 7–14", birth)
		}
	}
	if IDCheckChar(s[:17]) != s[17] {
		return IDNumber{}, Invalid(f, "身份证号校验码不符，号码有误，请逐位核对",
			"the ID number's check character does not match: some character is wrong; check it character by character")
	}
	sex := "F"
	if (s[16]-'0')%2 == 1 {
		sex = "M"
	}
	return IDNumber{Number: s, AreaCode: s[:6], Birth: birth, Sex: sex}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// atoi parses a run of ASCII digits already checked by the caller.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// CrossCheckID checks an entered birth date and sex against what the ID
// number encodes (PRODUCT §2: "birth date and sex derived and
// cross-checked"). An empty entered value is not an error (the caller may
// fill it from the number). The errors are on the fields "birth_date" and
// "sex".
func CrossCheckID(id IDNumber, birth Date, sex string) error {
	if !birth.IsZero() && birth != id.Birth {
		return Invalid("birth_date", "出生日期 %s 与身份证号中的出生日期 %s 不一致",
			"birth date %s does not match the birth date in the ID number, %s", birth, id.Birth)
	}
	sex = strings.ToUpper(strings.TrimSpace(sex))
	switch sex {
	case "":
		return nil
	case "M", "F":
	default:
		return Invalid("sex", "性别应为 M（男）或 F（女）", "sex must be M or F")
	}
	if sex != id.Sex {
		return Invalid("sex", "性别“%[1]s”与身份证号（第17位）表示的“%[2]s”不一致",
			"sex %[3]s does not match the ID number, whose 17th digit says %[4]s",
			sexZH(sex), sexZH(id.Sex), sexEN(sex), sexEN(id.Sex))
	}
	return nil
}

func sexZH(s string) string {
	switch s {
	case "M":
		return "男"
	case "F":
		return "女"
	}
	return s
}

func sexEN(s string) string {
	switch s {
	case "M":
		return "male"
	case "F":
		return "female"
	}
	return s
}

// MaskPattern says how many characters a mask shows at the head and the
// tail of a value; the rest become '*'.
type MaskPattern struct {
	Head, Tail int
}

// The mask patterns. R36 asks that ID numbers be masked in the UI and in
// logs; the pattern itself is only common practice (DOMAIN §7, LOW
// confidence; a 3+3 variant is also seen), so it is a variable a deployment
// may change at start-up, before any request is served.
var (
	IDMask     = MaskPattern{Head: 6, Tail: 4} // 110105********1234
	MobileMask = MaskPattern{Head: 3, Tail: 4} // 138****5678, for 11-digit mobiles
	OtherMask  = MaskPattern{Head: 0, Tail: 4} // any other phone number
)

// Mask returns s (trimmed of surrounding spaces) with all but the pattern's
// head and tail characters replaced by '*', one '*' per hidden character.
// It never returns the whole of a non-empty value: when the pattern would
// show every character (a value no longer than Head+Tail), only the last
// len/2 characters are shown (rounded down; a 1-character value becomes
// "*"), or the first len/2 for a head-only pattern.
func (p MaskPattern) Mask(s string) string {
	s = strings.TrimSpace(s)
	r := []rune(s)
	n := len(r)
	if n == 0 {
		return ""
	}
	head, tail := max(p.Head, 0), max(p.Tail, 0)
	if head+tail >= n {
		if tail > 0 {
			head, tail = 0, min(tail, n/2)
		} else {
			head = min(head, n/2)
		}
	}
	return string(r[:head]) + strings.Repeat("*", n-head-tail) + string(r[n-tail:])
}

// MaskID masks an ID number with IDMask: 110105********1234 (R36).
func MaskID(s string) string { return IDMask.Mask(s) }

// MaskPhone masks a phone number: an 11-digit mainland mobile number
// (1xxxxxxxxxx) with MobileMask (138****5678), anything else with OtherMask
// (all but the last 4). Neither returns the whole value.
func MaskPhone(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 11 && s[0] == '1' && allDigits(s) {
		return MobileMask.Mask(s)
	}
	return OtherMask.Mask(s)
}

// MaskName keeps a name's first character (the family name of most Chinese
// names) and hides the rest: 陈** — for readers who may see that a file was
// touched but not whose (the auditor, R36).
func MaskName(s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) == 0 {
		return ""
	}
	return string(r[:1]) + strings.Repeat("*", max(len(r)-1, 1))
}
