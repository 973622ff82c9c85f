package casework

import "testing"

// The status on a day comes from the records alone: a job's last day still
// counts; overlapping jobs are one employment; a job outranks a period of
// being unable to work; nothing covering the day is unemployed.
func TestEmploymentOn(t *testing.T) {
	d := MustParseDate
	jobTo := func(from, to string) EmploymentRecord {
		r := EmploymentRecord{Kind: WorkEmployed, Employer: "厂", Job: "工", From: d(from)}
		if to != "" {
			r.To = d(to)
		}
		return r
	}
	unable := EmploymentRecord{Kind: WorkUnable, From: d("2026-01-01")}
	for _, c := range []struct {
		name string
		recs []EmploymentRecord
		day  string
		want EmploymentStatus
	}{
		{"no records", nil, "2026-03-10", WorkUnemployed},
		{"job ends today", []EmploymentRecord{jobTo("2026-01-01", "2026-03-10")}, "2026-03-10", WorkEmployed},
		{"job ended yesterday", []EmploymentRecord{jobTo("2026-01-01", "2026-03-09")}, "2026-03-10", WorkUnemployed},
		{"job starts today", []EmploymentRecord{jobTo("2026-03-10", "")}, "2026-03-10", WorkEmployed},
		{"job starts tomorrow", []EmploymentRecord{jobTo("2026-03-11", "")}, "2026-03-10", WorkUnemployed},
		{"overlapping jobs", []EmploymentRecord{jobTo("2026-01-01", "2026-03-31"), jobTo("2026-03-01", "")}, "2026-03-10", WorkEmployed},
		{"unable, no job", []EmploymentRecord{unable}, "2026-03-10", WorkUnable},
		{"job inside unable", []EmploymentRecord{unable, jobTo("2026-03-01", "2026-03-10")}, "2026-03-10", WorkEmployed},
		{"job inside unable, over", []EmploymentRecord{unable, jobTo("2026-03-01", "2026-03-09")}, "2026-03-10", WorkUnable},
	} {
		if got := EmploymentOn(c.recs, d(c.day)); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// 低保 and every assistance record: applied → approved | refused, approved → ended.
func TestNextAid(t *testing.T) {
	for _, c := range []struct {
		from, to AssistanceStatus
		ok       bool
	}{
		{AidApplied, AidApproved, true}, {AidApplied, AidRefused, true}, {AidApplied, AidEnded, false},
		{AidApproved, AidEnded, true}, {AidApproved, AidRefused, false}, {AidApproved, AidApplied, false},
		{AidRefused, AidApproved, false}, {AidEnded, AidApproved, false},
	} {
		if NextAid(c.from, c.to) != c.ok {
			t.Errorf("%s → %s: want %v", c.from, c.to, c.ok)
		}
	}
}
