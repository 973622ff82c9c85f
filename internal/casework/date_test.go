package casework

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func d(y int, m time.Month, day int) Date { return Date{Year: y, Month: m, Day: day} }

func TestParseDate(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Date
		wantErr string // substring of the English message; "" for success
	}{
		{"plain", "2021-03-01", d(2021, 3, 1), ""},
		{"spaces trimmed", "  2021-03-01\t", d(2021, 3, 1), ""},
		{"leap day in a leap year", "2020-02-29", d(2020, 2, 29), ""},
		{"blank is the zero date", "", Date{}, ""},
		{"only spaces is the zero date", "   ", Date{}, ""},
		{"leap day in a common year", "2021-02-29", Date{}, "not a real calendar date"},
		{"30 February", "1999-02-30", Date{}, "not a real calendar date"},
		{"month 13", "2021-13-01", Date{}, "not a real calendar date"},
		{"month 0", "2021-00-10", Date{}, "not a real calendar date"},
		{"day 0", "2021-01-00", Date{}, "not a real calendar date"},
		{"31 April", "2021-04-31", Date{}, "not a real calendar date"},
		{"year 0", "0000-01-01", Date{}, "not a real calendar date"},
		{"single-digit month", "2021-3-01", Date{}, "YYYY-MM-DD"},
		{"slashes", "2021/03/01", Date{}, "YYYY-MM-DD"},
		{"no separators", "20210301", Date{}, "YYYY-MM-DD"},
		{"letters", "abcd-ef-gh", Date{}, "YYYY-MM-DD"},
		{"timestamp", "2021-03-01T00:00:00Z", Date{}, "YYYY-MM-DD"},
		{"sign", "+021-03-01", Date{}, "YYYY-MM-DD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDate(tt.in)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseDate(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseDate(%q) = %v, nil; want an error", tt.in, got)
			}
			e, ok := err.(*Error)
			if !ok || e.Code != EINVALID || !strings.Contains(e.EN, tt.wantErr) || e.ZH == "" {
				t.Fatalf("ParseDate(%q) error = %#v; want EINVALID mentioning %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestParseDateField(t *testing.T) {
	_, err := ParseDateField("report_date", "2021-02-30")
	if ErrorField(err) != "report_date" || ErrorCode(err) != EINVALID {
		t.Fatalf("error = %v; want EINVALID on report_date", err)
	}
}

func TestDateString(t *testing.T) {
	tests := []struct {
		name string
		in   Date
		want string
	}{
		{"zero is blank", Date{}, ""},
		{"padded", d(987, 3, 1), "0987-03-01"},
		{"ordinary", d(2021, 12, 31), "2021-12-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Fatalf("String() = %q; want %q", got, tt.want)
			}
			if tt.want != "" {
				if back, err := ParseDate(tt.want); err != nil || back != tt.in {
					t.Fatalf("round trip: %v, %v", back, err)
				}
			}
		})
	}
}

// The calendar date of an instant depends on the zone: the org's local
// date is the one the 15-day and 3-year rules count in (R1, R3).
func TestDateOfNearMidnight(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(h, m, s int) time.Time { return time.Date(2021, 3, 1, h, m, s, 0, time.UTC) }
	tests := []struct {
		name string
		t    time.Time
		loc  *time.Location
		want Date
	}{
		{"15:30 UTC is 23:30 the same day in Shanghai", utc(15, 30, 0), shanghai, d(2021, 3, 1)},
		{"15:59:59 UTC is the last second of the day in Shanghai", utc(15, 59, 59), shanghai, d(2021, 3, 1)},
		{"16:00 UTC is midnight, the next day, in Shanghai", utc(16, 0, 0), shanghai, d(2021, 3, 2)},
		{"16:30 UTC is already the next day in Shanghai", utc(16, 30, 0), shanghai, d(2021, 3, 2)},
		{"16:30 UTC is still the same day in UTC", utc(16, 30, 0), time.UTC, d(2021, 3, 1)},
		{"nil zone means Asia/Shanghai", utc(16, 30, 0), nil, d(2021, 3, 2)},
		{"03:00 UTC is the day before in New York", utc(3, 0, 0), newYork, d(2021, 2, 28)},
		{"the instant's own zone does not matter", utc(16, 30, 0).In(newYork), shanghai, d(2021, 3, 2)},
		{"zero time is the zero date", time.Time{}, shanghai, Date{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DateOf(tt.t, tt.loc); got != tt.want {
				t.Fatalf("DateOf(%v) = %v; want %v", tt.t, got, tt.want)
			}
		})
	}
}

func TestDateIn(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	got := d(2021, 3, 2).In(shanghai)
	if want := time.Date(2021, 3, 1, 16, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("In = %v; want %v", got, want)
	}
	if DateOf(got, shanghai) != d(2021, 3, 2) {
		t.Fatal("DateOf(In) does not round-trip")
	}
}

func TestDateArithmetic(t *testing.T) {
	tests := []struct {
		name string
		got  Date
		want Date
	}{
		{"AddDays across month end", d(2021, 1, 31).AddDays(1), d(2021, 2, 1)},
		{"AddDays across a common February", d(2021, 2, 28).AddDays(1), d(2021, 3, 1)},
		{"AddDays across a leap February", d(2020, 2, 28).AddDays(1), d(2020, 2, 29)},
		{"AddDays across year end", d(2021, 12, 25).AddDays(10), d(2022, 1, 4)},
		{"AddDays negative", d(2021, 3, 1).AddDays(-1), d(2021, 2, 28)},
		{"AddDays 15 (R1)", d(2021, 3, 1).AddDays(15), d(2021, 3, 16)},
		{"AddDays on zero stays zero", Date{}.AddDays(5), Date{}},
		{"AddMonths same day", d(2021, 3, 15).AddMonths(24), d(2023, 3, 15)},
		{"AddMonths clamps 31 Jan to 28 Feb", d(2021, 1, 31).AddMonths(1), d(2021, 2, 28)},
		{"AddMonths clamps 31 Jan to 29 Feb in a leap year", d(2020, 1, 31).AddMonths(1), d(2020, 2, 29)},
		{"AddMonths clamps 31 Mar back to 28 Feb", d(2021, 3, 31).AddMonths(-1), d(2021, 2, 28)},
		{"AddMonths across year end", d(2020, 12, 15).AddMonths(1), d(2021, 1, 15)},
		{"AddMonths back across year start", d(2021, 1, 15).AddMonths(-13), d(2019, 12, 15)},
		{"AddMonths on zero stays zero", Date{}.AddMonths(3), Date{}},
		{"AddYears 29 Feb to a common year gives 28 Feb", d(2020, 2, 29).AddYears(1), d(2021, 2, 28)},
		{"AddYears 29 Feb +3 (R3) gives 28 Feb", d(2020, 2, 29).AddYears(3), d(2023, 2, 28)},
		{"AddYears 29 Feb +4 keeps 29 Feb", d(2020, 2, 29).AddYears(4), d(2024, 2, 29)},
		{"AddYears 29 Feb -1 gives 28 Feb", d(2020, 2, 29).AddYears(-1), d(2019, 2, 28)},
		{"AddYears ordinary", d(2021, 3, 1).AddYears(3), d(2024, 3, 1)},
		{"NewDate normalises like time.Date", NewDate(2021, 2, 29), d(2021, 3, 1)},
		{"NewDate month 13", NewDate(2021, 13, 1), d(2022, 1, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %v; want %v", tt.got, tt.want)
			}
		})
	}
}

func TestDateCompareAndDaysUntil(t *testing.T) {
	tests := []struct {
		name       string
		a, b       Date
		cmp        int
		daysUntil  int
		skipDaysOf bool // zero dates: DaysUntil is undefined
	}{
		{"same day", d(2021, 3, 1), d(2021, 3, 1), 0, 0, false},
		{"next day", d(2021, 3, 1), d(2021, 3, 2), -1, 1, false},
		{"previous day", d(2021, 3, 2), d(2021, 3, 1), 1, -1, false},
		{"across a common February", d(2021, 2, 28), d(2021, 3, 1), -1, 1, false},
		{"across a leap February", d(2020, 2, 28), d(2020, 3, 1), -1, 2, false},
		{"leap year", d(2020, 1, 1), d(2021, 1, 1), -1, 366, false},
		{"common year", d(2021, 1, 1), d(2022, 1, 1), -1, 365, false},
		{"month decides before day", d(2021, 2, 28), d(2021, 3, 1), -1, 1, false},
		{"year decides before month", d(2020, 12, 31), d(2021, 1, 1), -1, 1, false},
		{"zero is before everything", Date{}, d(1, 1, 1), -1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Compare(tt.b); got != tt.cmp {
				t.Fatalf("Compare = %d; want %d", got, tt.cmp)
			}
			if tt.a.Before(tt.b) != (tt.cmp < 0) || tt.a.After(tt.b) != (tt.cmp > 0) || tt.a.Equal(tt.b) != (tt.cmp == 0) {
				t.Fatalf("Before/After/Equal disagree with Compare %d", tt.cmp)
			}
			if !tt.skipDaysOf {
				if got := tt.a.DaysUntil(tt.b); got != tt.daysUntil {
					t.Fatalf("DaysUntil = %d; want %d", got, tt.daysUntil)
				}
			}
		})
	}
}

func TestDateZeroAndValid(t *testing.T) {
	tests := []struct {
		name        string
		in          Date
		zero, valid bool
	}{
		{"zero", Date{}, true, false},
		{"real", d(2021, 3, 1), false, true},
		{"30 February", d(2021, 2, 30), false, false},
		{"29 February common year", d(2021, 2, 29), false, false},
		{"29 February leap year", d(2024, 2, 29), false, true},
		{"month 13", d(2021, 13, 1), false, false},
		{"year 10000", d(10000, 1, 1), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.in.IsZero() != tt.zero || tt.in.Valid() != tt.valid {
				t.Fatalf("IsZero=%v Valid=%v; want %v %v", tt.in.IsZero(), tt.in.Valid(), tt.zero, tt.valid)
			}
		})
	}
}

func TestDateSQL(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	t.Run("Value", func(t *testing.T) {
		tests := []struct {
			name    string
			in      Date
			want    any
			wantErr bool
		}{
			{"zero is NULL", Date{}, nil, false},
			{"text", d(2021, 3, 1), "2021-03-01", false},
			{"invalid refused", d(2021, 2, 30), nil, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := tt.in.Value()
				if (err != nil) != tt.wantErr || got != tt.want {
					t.Fatalf("Value() = %#v, %v; want %#v, err %v", got, err, tt.want, tt.wantErr)
				}
			})
		}
	})
	t.Run("Scan", func(t *testing.T) {
		tests := []struct {
			name    string
			src     any
			want    Date
			wantErr bool
		}{
			{"NULL", nil, Date{}, false},
			{"string", "2021-03-01", d(2021, 3, 1), false},
			{"bytes", []byte("2021-03-01"), d(2021, 3, 1), false},
			{"empty string", "", Date{}, false},
			{"timestamp text with space", "2021-03-01 00:00:00+00:00", d(2021, 3, 1), false},
			{"timestamp text with T", "2021-03-01T00:00:00Z", d(2021, 3, 1), false},
			{"time.Time at UTC midnight", time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), d(2021, 3, 1), false},
			{"time.Time late in its own zone keeps its own date", time.Date(2021, 3, 1, 23, 30, 0, 0, shanghai), d(2021, 3, 1), false},
			{"zero time.Time", time.Time{}, Date{}, false},
			{"bad text", "2021-02-30", Date{}, true},
			{"garbage", "soon", Date{}, true},
			{"int", int64(20210301), Date{}, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := d(1999, 9, 9) // must be overwritten, even to zero
				err := got.Scan(tt.src)
				if tt.wantErr {
					if err == nil {
						t.Fatalf("Scan(%#v) = %v, nil; want an error", tt.src, got)
					}
					return
				}
				if err != nil || got != tt.want {
					t.Fatalf("Scan(%#v) = %v, %v; want %v", tt.src, got, err, tt.want)
				}
			})
		}
	})
	t.Run("round trip", func(t *testing.T) {
		in := d(2020, 2, 29)
		v, err := in.Value()
		if err != nil {
			t.Fatal(err)
		}
		var out Date
		if err := out.Scan(v); err != nil || out != in {
			t.Fatalf("round trip = %v, %v", out, err)
		}
	})
}

func TestDateJSON(t *testing.T) {
	type rec struct {
		A Date  `json:"a"`
		B Date  `json:"b"`
		C *Date `json:"c,omitempty"`
		D Date  `json:"d,omitzero"`
	}
	b, err := json.Marshal(rec{A: d(2021, 3, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":"2021-03-01","b":null}`; string(b) != want {
		t.Fatalf("Marshal = %s; want %s", b, want)
	}

	tests := []struct {
		name    string
		in      string
		want    Date
		wantErr bool
	}{
		{"date", `"2021-03-01"`, d(2021, 3, 1), false},
		{"null", `null`, Date{}, false},
		{"empty string", `""`, Date{}, false},
		{"impossible date", `"2021-02-30"`, Date{}, true},
		{"wrong format", `"01/03/2021"`, Date{}, true},
		{"number", `20210301`, Date{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d(1999, 9, 9)
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Unmarshal(%s) = %v; want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Unmarshal(%s) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}

	var r rec
	if err := json.Unmarshal([]byte(`{"a":"2020-02-29","b":"","c":"2021-01-02"}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.A != d(2020, 2, 29) || !r.B.IsZero() || r.C == nil || *r.C != d(2021, 1, 2) {
		t.Fatalf("Unmarshal struct = %+v", r)
	}
}

func TestDateText(t *testing.T) {
	b, _ := d(2021, 3, 1).MarshalText()
	if string(b) != "2021-03-01" {
		t.Fatalf("MarshalText = %q", b)
	}
	var got Date
	if err := got.UnmarshalText([]byte("2021-03-01")); err != nil || got != d(2021, 3, 1) {
		t.Fatalf("UnmarshalText = %v, %v", got, err)
	}
	if err := got.UnmarshalText([]byte("2021-02-30")); err == nil {
		t.Fatal("UnmarshalText accepted 2021-02-30")
	}
}
