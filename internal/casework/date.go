package casework

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Date is a calendar date: a year, a month and a day, with no time of day
// and no zone. Decision, receipt, report, agreement, term-end and birth dates
// are all Dates (R1–R5, R15, R16): the law counts them in calendar days, so
// comparing instants would make a deadline depend on the server's zone.
//
// The zero Date means "not given". Dates are comparable with ==.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date, normalised the way time.Date normalises
// (month 13 is January of the next year, day 0 is the last day of the
// previous month).
func NewDate(year int, month time.Month, day int) Date {
	return dateOfTime(time.Date(year, month, day, 0, 0, 0, 0, time.UTC))
}

// DateOf returns the calendar date of the instant t in the zone loc: the date
// a person standing in that zone would read off a calendar. For example
// 2021-03-01 15:30 UTC is 2021-03-01 23:30 in Asia/Shanghai, but 16:30 UTC
// is already 2021-03-02 there. A nil loc means Asia/Shanghai (the default
// zone of an org, DefaultTimeZone). The zero time gives the zero Date.
func DateOf(t time.Time, loc *time.Location) Date {
	if t.IsZero() {
		return Date{}
	}
	if loc == nil {
		loc = LoadLocation(DefaultTimeZone)
	}
	return dateOfTime(t.In(loc))
}

func dateOfTime(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// daysIn returns the number of days in the month.
func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ParseDate parses "YYYY-MM-DD" (surrounding spaces are ignored). A blank
// string gives the zero Date and no error: a date not given is not a
// malformed one, and whether it is required is for the caller to say. Other
// input that is not a real calendar date is refused with an EINVALID error
// (no field; see ParseDateField).
func ParseDate(s string) (Date, error) { return ParseDateField("", s) }

// ParseDateField is ParseDate with the name of the input field put on the
// error.
func ParseDateField(field, s string) (Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Date{}, nil
	}
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, Invalid(field, "日期格式应为 YYYY-MM-DD（如 2021-03-01），收到 %q",
			"date must be written YYYY-MM-DD (e.g. 2021-03-01), got %q", s)
	}
	num := func(part string) int {
		n := 0
		for _, c := range []byte(part) {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, m, d := num(s[0:4]), num(s[5:7]), num(s[8:10])
	if y < 0 || m < 0 || d < 0 {
		return Date{}, Invalid(field, "日期格式应为 YYYY-MM-DD（如 2021-03-01），收到 %q",
			"date must be written YYYY-MM-DD (e.g. 2021-03-01), got %q", s)
	}
	dt := Date{Year: y, Month: time.Month(m), Day: d}
	if !dt.Valid() {
		return Date{}, Invalid(field, "日期 %s 不存在", "%s is not a real calendar date", s)
	}
	return dt, nil
}

// MustParseDate is ParseDate that panics on error; for tests and constants.
func MustParseDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// IsZero reports whether d is the zero Date ("not given").
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d is a real calendar date in the years 1–9999.
func (d Date) Valid() bool {
	return d.Year >= 1 && d.Year <= 9999 && d.Month >= time.January && d.Month <= time.December &&
		d.Day >= 1 && d.Day <= daysIn(d.Year, d.Month)
}

// String returns "YYYY-MM-DD", or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// In returns the first instant of the day in the zone (nil means
// Asia/Shanghai), e.g. for "the deadline ends when this day ends":
// d.AddDays(1).In(loc).
func (d Date) In(loc *time.Location) time.Time {
	if loc == nil {
		loc = LoadLocation(DefaultTimeZone)
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

func (d Date) utc() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// AddDays returns the date n calendar days later (earlier for negative n).
// The zero Date stays zero.
func (d Date) AddDays(n int) Date {
	if d.IsZero() {
		return d
	}
	return dateOfTime(d.utc().AddDate(0, 0, n))
}

// AddMonths returns the same day n months later. When that month is
// shorter, the result is its last day: 31 January + 1 month is 28 (or 29)
// February, never 3 March — a term "of N months" must not end in month N+1.
// The zero Date stays zero.
func (d Date) AddMonths(n int) Date {
	if d.IsZero() {
		return d
	}
	total := d.Year*12 + int(d.Month-1) + n
	y, m := total/12, time.Month(total%12+1)
	if total%12 < 0 { // negative years; kept correct for completeness
		y, m = y-1, m+12
	}
	day := d.Day
	if last := daysIn(y, m); day > last {
		day = last
	}
	return Date{Year: y, Month: m, Day: day}
}

// AddYears returns the same day n years later. 29 February plus a number of
// years that lands in a non-leap year gives 28 February (not 1 March, which
// is what time.AddDate would give): a 3-year term reported on 2020-02-29
// ends on 2023-02-28 (R3). This is our reading; the regulation says only
// "3 years" (see TermEnd).
func (d Date) AddYears(n int) Date { return d.AddMonths(12 * n) }

// Compare returns -1, 0 or +1 as d is before, equal to or after e. The
// zero Date is before every other date.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// Equal reports whether d and e are the same date.
func (d Date) Equal(e Date) bool { return d == e }

// DaysUntil returns the number of calendar days from d to other: 1 if other
// is the next day, 0 if the same day, negative if other is earlier. Both
// dates should be non-zero.
func (d Date) DaysUntil(other Date) int {
	return int((other.utc().Unix() - d.utc().Unix()) / 86400)
}

// Value implements driver.Valuer: the date as "YYYY-MM-DD" text, or NULL
// for the zero Date. Text sorts and compares correctly in SQLite and casts
// to DATE in PostgreSQL.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	if !d.Valid() {
		return nil, fmt.Errorf("casework.Date: not a real date: %04d-%02d-%02d", d.Year, int(d.Month), d.Day)
	}
	return d.String(), nil
}

// Scan implements sql.Scanner. It accepts NULL (the zero Date), text or
// bytes "YYYY-MM-DD" (a longer timestamp text such as
// "2021-03-01 00:00:00+00:00" or "2021-03-01T00:00:00Z" is cut to its date
// part, as written, without zone conversion), and time.Time, taken as the
// calendar date in the time's own zone (drivers return a DATE column as
// midnight UTC; converting it to another zone would shift the day).
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
		return nil
	case time.Time:
		if v.IsZero() {
			*d = Date{}
			return nil
		}
		*d = dateOfTime(v)
		return nil
	case string:
		return d.scanText(v)
	case []byte:
		return d.scanText(string(v))
	}
	return fmt.Errorf("casework.Date: cannot scan a %T", src)
}

func (d *Date) scanText(s string) error {
	s = strings.TrimSpace(s)
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	v, err := ParseDate(s)
	if err != nil {
		return fmt.Errorf("casework.Date: cannot scan %q: %w", s, err)
	}
	*d = v
	return nil
}

// MarshalJSON writes "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	if !d.Valid() {
		return nil, fmt.Errorf("casework.Date: not a real date: %04d-%02d-%02d", d.Year, int(d.Month), d.Day)
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "YYYY-MM-DD"; null and "" give the zero Date. A bad
// date is refused with an EINVALID *Error.
func (d *Date) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[Date]()}
	}
	v, err := ParseDate(s)
	if err != nil {
		// An UnmarshalTypeError gets the JSON field's path from the
		// decoder, so the answer names the field (issue 15 §7).
		return &json.UnmarshalTypeError{Value: "date " + strconv.Quote(s), Type: reflect.TypeFor[Date]()}
	}
	*d = v
	return nil
}

// MarshalText writes "YYYY-MM-DD", or "" for the zero Date (for form values
// and map keys).
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "YYYY-MM-DD"; "" gives the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
