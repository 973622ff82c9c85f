package casework

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"
)

func defaults(Date) *EffectivePolicy { return ResolvePolicy(nil, nil, Date{}) }

func ivString(ivs []TestInterval) string {
	var b strings.Builder
	for _, iv := range ivs {
		fmt.Fprintf(&b, "y%d %s..%s/%d\n", iv.Year, iv.From, iv.To, iv.Months)
	}
	return b.String()
}

func TestTestIntervalsTreatmentYears(t *testing.T) {
	// R22 defaults: year 1 monthly (12), year 2 every 2 months (6), year 3
	// every 3 months (4): 22 intervals, consecutive, each year's first
	// interval starting on the anniversary of the report date (R3).
	in := ScheduleInput{Kind: MeasureTreatment, Start: MustParseDate("2025-03-15"), End: MustParseDate("2028-03-15")}
	ivs, err := TestIntervals(in, defaults)
	if err != nil {
		t.Fatal(err)
	}
	if len(ivs) != 22 {
		t.Fatalf("got %d intervals, want 22:\n%s", len(ivs), ivString(ivs))
	}
	for i, iv := range ivs {
		if i > 0 && ivs[i-1].To.AddDays(1) != iv.From {
			t.Errorf("interval %d starts %s, previous ended %s", i, iv.From, ivs[i-1].To)
		}
	}
	checks := map[int]string{0: "y1 2025-03-15..2025-04-14/1", 11: "y1 2026-02-15..2026-03-14/1",
		12: "y2 2026-03-15..2026-05-14/2", 17: "y2 2027-01-15..2027-03-14/2", 18: "y3 2027-03-15..2027-06-14/3", 21: "y3 2027-12-15..2028-03-14/3"}
	for i, want := range checks {
		if got := strings.TrimSpace(ivString(ivs[i : i+1])); got != want {
			t.Errorf("interval %d = %s, want %s", i, got, want)
		}
	}
}

func TestTestIntervalsMonthEnds(t *testing.T) {
	// Counted from the year's start, a term begun on 31 January keeps its
	// intervals on month ends: 31 Jan, 28 Feb (2025), 31 Mar, 30 Apr …
	in := ScheduleInput{Kind: MeasureTreatment, Start: MustParseDate("2025-01-31"), End: MustParseDate("2028-01-31")}
	ivs, err := TestIntervals(in, defaults)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2025-01-31..2025-02-27", "2025-02-28..2025-03-30", "2025-03-31..2025-04-29", "2025-04-30..2025-05-30"}
	for i, w := range want {
		if got := ivs[i].From.String() + ".." + ivs[i].To.String(); got != w {
			t.Errorf("interval %d = %s, want %s", i, got, w)
		}
	}
	// The year boundary: 2026-01-31 starts year 2, whatever the months.
	if ivs[12].From != MustParseDate("2026-01-31") || ivs[12].Year != 2 || ivs[11].To != MustParseDate("2026-01-30") {
		t.Errorf("year boundary wrong:\n%s", ivString(ivs[10:13]))
	}
	// 29 February start: year 2 starts on 28 February (Date.AddYears).
	leap := ScheduleInput{Kind: MeasureTreatment, Start: MustParseDate("2024-02-29"), End: MustParseDate("2027-02-28")}
	ivs, _ = TestIntervals(leap, defaults)
	if ivs[12].From != MustParseDate("2025-02-28") || ivs[11].To != MustParseDate("2025-02-27") {
		t.Errorf("leap start:\n%s", ivString(ivs[10:13]))
	}
}

func TestTestIntervalsClippedAtYearAndTermEnd(t *testing.T) {
	// A 5-month interval in a 12-month year: 5, 5, then 2 clipped at the
	// year's end; the term end clips the last interval of a 30-month rehab
	// term (year 3 every 6 months, only 6 months long).
	five := func(Date) *EffectivePolicy {
		v := IntValue(5)
		return ResolvePolicy([]*Org{{ID: "o"}}, []*PolicyVersion{{OrgID: "o", EffectiveFrom: MustParseDate("2000-01-01"),
			Settings: map[string]*Value{"test.treatment.y1_months": &v}}}, MustParseDate("2025-01-01"))
	}
	ivs, _ := TestIntervals(ScheduleInput{Kind: MeasureTreatment, Start: MustParseDate("2025-01-01"), End: MustParseDate("2028-01-01")}, five)
	if got := ivString(ivs[:4]); got != "y1 2025-01-01..2025-05-31/5\ny1 2025-06-01..2025-10-31/5\ny1 2025-11-01..2025-12-31/5\ny2 2026-01-01..2026-02-28/2\n" {
		t.Errorf("clipped at year end:\n%s", got)
	}
	r30 := ScheduleInput{Kind: MeasureRehab, Start: MustParseDate("2025-01-10"), End: MustParseDate("2027-07-10"), TermMonths: 30}
	ivs, _ = TestIntervals(r30, defaults)
	// R23 3-yr order: every 2 (6), every 3 (4), every 6 (1 of the half year).
	if len(ivs) != 11 || ivs[10].From != MustParseDate("2027-01-10") || ivs[10].To != MustParseDate("2027-07-09") {
		t.Errorf("rehab 30 months:\n%s", ivString(ivs))
	}
	// Ending mid-interval: a 13-month rehab term, year 2 is one month.
	r13 := ScheduleInput{Kind: MeasureRehab, Start: MustParseDate("2025-01-10"), End: MustParseDate("2026-02-10"), TermMonths: 13}
	ivs, _ = TestIntervals(r13, defaults)
	if last := ivs[len(ivs)-1]; last.To != MustParseDate("2026-02-09") || last.From != MustParseDate("2026-01-10") {
		t.Errorf("clipped at term end:\n%s", ivString(ivs))
	}
}

func TestTestIntervalsRehabShort(t *testing.T) {
	// R23: a rehab order of 2 years or less is every 2 months throughout
	// (≥12 over 2 years); 25 months and more uses the 3-year table.
	for _, tc := range []struct {
		months int
		key    string
		n      int
	}{{24, "test.rehab_short.months", 12}, {12, "test.rehab_short.months", 6}, {25, "test.rehab.y1_months", 6 + 4 + 1}, {36, "test.rehab.y1_months", 12}} {
		if got := IntervalKey(MeasureRehab, tc.months, 1); got != tc.key {
			t.Errorf("%d months: key %s, want %s", tc.months, got, tc.key)
		}
		start := MustParseDate("2025-05-01")
		ivs, err := TestIntervals(ScheduleInput{Kind: MeasureRehab, Start: start, End: start.AddMonths(tc.months), TermMonths: tc.months}, defaults)
		if err != nil {
			t.Fatal(err)
		}
		if len(ivs) != tc.n {
			t.Errorf("%d months: %d intervals, want %d\n%s", tc.months, len(ivs), tc.n, ivString(ivs))
		}
	}
	if _, err := TestIntervals(ScheduleInput{Kind: MeasureRehab, Start: MustParseDate("2025-01-01"), End: MustParseDate("2025-01-01")}, defaults); err == nil {
		t.Error("an empty term was accepted")
	}
}

func TestPolicyChangeTomorrowKeepsStartedIntervals(t *testing.T) {
	// A version effective tomorrow (the earliest allowed) changing year 1
	// to every 2 months: the interval that began before it keeps its
	// length and its drawn day; only intervals starting on or after the
	// effective date use the new length.
	today := MustParseDate("2025-03-20")
	two := IntValue(2)
	chain := []*Org{{ID: "o"}}
	before := func(d Date) *EffectivePolicy { return ResolvePolicy(chain, nil, d) }
	after := func(d Date) *EffectivePolicy {
		return ResolvePolicy(chain, []*PolicyVersion{{OrgID: "o", EffectiveFrom: today.AddDays(1), Settings: map[string]*Value{"test.treatment.y1_months": &two}}}, d)
	}
	in := ScheduleInput{Kind: MeasureTreatment, Start: MustParseDate("2025-01-15"), End: MustParseDate("2028-01-15")}
	a, _ := TestIntervals(in, before)
	b, _ := TestIntervals(in, after)
	// Interval 2025-03-15..04-14 contains today and began before the change.
	if a[2] != b[2] || !a[2].Span().Contains(today) {
		t.Fatalf("the current interval changed: %v vs %v", a[2], b[2])
	}
	if b[3].Months != 2 || b[3].From != MustParseDate("2025-04-15") || b[3].To != MustParseDate("2025-06-14") {
		t.Errorf("next interval under the new policy: %+v", b[3])
	}
	seed := bytes.Repeat([]byte{7}, SeedSize)
	src := func(string) ([]byte, bool) { return seed, true }
	spec := DrawSpec{PersonID: "p1", Purpose: DrawScheduled, IntervalFrom: a[2].From, Window: a[2].Span()}
	d1, _, _ := NewScorer(src).Draw(spec)
	spec.Window = b[2].Span()
	d2, _, _ := NewScorer(src).Draw(spec)
	if d1 != d2 {
		t.Errorf("today's interval draw moved from %s to %s", d1, d2)
	}
}

func seedOf(b byte) SeedSource {
	return func(p string) ([]byte, bool) {
		h := sha256.Sum256([]byte{b, p[5], p[6], p[2], p[3]})
		return h[:], true
	}
}

func TestDrawsSameSeedSameDaysChangedSeedChanges(t *testing.T) {
	in := ScheduleInput{Kind: MeasureTreatment, Start: MustParseDate("2025-01-15"), End: MustParseDate("2028-01-15")}
	ivs, _ := TestIntervals(in, defaults)
	days := func(src SeedSource) []Date {
		s := NewScorer(src)
		var out []Date
		for _, iv := range ivs {
			d, ok, err := s.Draw(DrawSpec{PersonID: "p-42", Purpose: DrawScheduled, IntervalFrom: iv.From, Window: iv.Span()})
			if err != nil || !ok {
				t.Fatalf("draw %v: ok=%v err=%v", iv, ok, err)
			}
			// Exactly one scheduled test per interval, inside it.
			if !iv.Span().Contains(d) {
				t.Fatalf("drawn %s outside %v", d, iv)
			}
			out = append(out, d)
		}
		return out
	}
	a, b, c := days(seedOf(1)), days(seedOf(1)), days(seedOf(2))
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("the same seed gave different days")
	}
	same := 0
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	if same > len(a)/3 {
		t.Errorf("a changed seed left %d of %d days unchanged", same, len(a))
	}
	// Another person with the same seed gets other days.
	s := NewScorer(seedOf(1))
	d, _, _ := s.Draw(DrawSpec{PersonID: "p-43", Purpose: DrawScheduled, IntervalFrom: ivs[12].From, Window: ivs[12].Span()})
	e, _, _ := s.Draw(DrawSpec{PersonID: "p-42", Purpose: DrawScheduled, IntervalFrom: ivs[12].From, Window: ivs[12].Span()})
	if d == e && a[13] == days(seedOf(9))[13] {
		t.Log("coincidence across persons is possible; not failing on one interval")
	}
}

func TestDrawSpansPeriodsIndependently(t *testing.T) {
	// Changing the seed of a month that holds no candidate day changes no
	// score; changing the seed of the drawn day's month can.
	iv := DrawSpec{PersonID: "p", Purpose: DrawScheduled, IntervalFrom: MustParseDate("2025-01-20"),
		Window: DateSpan{MustParseDate("2025-01-20"), MustParseDate("2025-03-19")}}
	base := seedOf(1)
	d0, _, _ := NewScorer(base).Draw(iv)
	other := func(p string) ([]byte, bool) {
		if p == "2025-07" { // outside the window
			return []byte("x"), true
		}
		return base(p)
	}
	if d1, _, _ := NewScorer(other).Draw(iv); d1 != d0 {
		t.Errorf("a seed outside the window moved the draw %s → %s", d0, d1)
	}
	missing := func(p string) ([]byte, bool) {
		if p == "2025-03" {
			return nil, false
		}
		return base(p)
	}
	if _, _, err := NewScorer(missing).Draw(iv); err == nil {
		t.Error("a draw with an unknown seed was made")
	}
}

func TestDrawExclusionsAndVerify(t *testing.T) {
	spec := DrawSpec{PersonID: "p", Purpose: DrawSurprise, IntervalFrom: MustParseDate("2025-01-01"),
		Window: DateSpan{MustParseDate("2025-01-01"), MustParseDate("2025-01-10")}}
	s := NewScorer(seedOf(3))
	d, ok, _ := s.Draw(spec)
	if !ok {
		t.Fatal("no day")
	}
	spec.Excluded = MergeDays(nil, d)
	d2, ok, _ := s.Draw(spec)
	if !ok || d2 == d {
		t.Fatalf("excluding the drawn day gave %s again", d2)
	}
	if m, unv := s.VerifyDraw(spec, d2); !m || unv {
		t.Error("the true draw did not verify")
	}
	if m, _ := s.VerifyDraw(spec, d2.AddDays(1)); m {
		t.Error("an altered draw verified")
	}
	spec.Excluded = []DateSpan{spec.Window}
	if _, ok, _ := s.Draw(spec); ok {
		t.Error("a wholly excluded window gave a day")
	}
	txt := FormatSpans([]DateSpan{{MustParseDate("2025-01-01"), MustParseDate("2025-01-03")}, {MustParseDate("2025-02-01"), MustParseDate("2025-02-01")}})
	if txt != "2025-01-01..2025-01-03,2025-02-01" {
		t.Errorf("FormatSpans = %s", txt)
	}
	back, err := ParseSpans(txt)
	if err != nil || FormatSpans(back) != txt {
		t.Errorf("ParseSpans round trip: %v %v", back, err)
	}
	if _, err := ParseSpans("2025-01-05..2025-01-01"); err == nil {
		t.Error("a reversed span parsed")
	}
}

func TestSurpriseSegments(t *testing.T) {
	in := ScheduleInput{Kind: MeasureTreatment, Start: MustParseDate("2025-01-01"), End: MustParseDate("2028-01-01")}
	segs, _ := SurpriseSegments(in, 3)
	if len(segs) != 3 || segs[0].From != in.Start || segs[2].To != in.End.AddDays(-1) {
		t.Fatalf("segments %v", segs)
	}
	total := 0
	for i, s := range segs {
		total += s.Days()
		if i > 0 && segs[i-1].To.AddDays(1) != s.From {
			t.Errorf("gap before segment %d", i)
		}
	}
	if total != in.Start.DaysUntil(in.End) {
		t.Errorf("segments cover %d days", total)
	}
	if segs, _ := SurpriseSegments(in, 0); len(segs) != 0 {
		t.Error("0 surprise tests gave segments")
	}
}

func TestTestCoverageR25(t *testing.T) {
	in := ScheduleInput{Kind: MeasureTreatment, Start: MustParseDate("2025-01-01"), End: MustParseDate("2028-01-01")}
	ivs, _ := TestIntervals(in, defaults)
	tests := []Date{MustParseDate("2025-01-20"), MustParseDate("2025-01-25"), MustParseDate("2025-03-02"), MustParseDate("2025-04-30")}
	for _, tc := range []struct {
		asOf         string
		should, done int
	}{
		{"2025-01-31", 0, 0}, // January not over yet: nothing owed
		{"2025-02-01", 1, 1}, // ⌊1 month ÷ 1⌋ = 1; two tests in January count once
		{"2025-03-01", 2, 1}, // February missed
		{"2025-05-01", 4, 3}, // April covered on its last day
		{"2026-03-01", 13, 3},
	} {
		c := TestCoverage(ivs, tests, nil, MustParseDate(tc.asOf))
		if c.Should != tc.should || c.Done != tc.done {
			t.Errorf("as of %s: should %d done %d, want %d %d", tc.asOf, c.Should, c.Done, tc.should, tc.done)
		}
	}
	c := TestCoverage(ivs, tests, nil, MustParseDate("2026-03-01"))
	if len(c.Years) != 2 || c.Years[0].Should != 12 || c.Years[1].Should != 1 || c.Missing() != 10 {
		t.Errorf("per year: %+v missing %d", c.Years, c.Missing())
	}
	// A period: February and March 2025 only.
	if c := TestCoverageIn(ivs, tests, nil, MustParseDate("2025-02-01"), MustParseDate("2025-04-01")); c.Should != 2 || c.Done != 1 {
		t.Errorf("period Feb–Mar: %+v", c)
	}
	// A month spent wholly suspended (R13) is not owed.
	susp := []DateSpan{{MustParseDate("2025-02-01"), MustParseDate("2025-02-28")}}
	if c := TestCoverage(ivs, tests, susp, MustParseDate("2025-03-01")); c.Should != 1 || c.Rate() != 1 {
		t.Errorf("suspended month owed: %+v", c)
	}
}

func TestDayState(t *testing.T) {
	loc := LoadLocation(DefaultTimeZone)
	day := MustParseDate("2025-06-10")
	dl := Deadline(day, Window{From: 8*60 + 30, To: 18 * 60}, loc)
	at := func(s string) time.Time { t, _ := time.ParseInLocation("2006-01-02 15:04", s, loc); return t }
	for _, tc := range []struct {
		name                  string
		excused, tested, owed bool
		now                   string
		want                  DrawStatus
	}{
		{"before", false, false, true, "2025-06-09 12:00", DayUpcoming},
		{"today before deadline", false, false, true, "2025-06-10 17:59", DayDueToday},
		{"today at deadline", false, false, true, "2025-06-10 18:00", DayMissed},
		{"tested", false, true, true, "2025-06-11 09:00", DayDone},
		{"excused", true, false, true, "2025-06-12 09:00", DayExcused},
		{"next day", false, false, true, "2025-06-11 00:01", DayMissed},
		// R13: a day the person owed nothing (suspended) is never missed
		// nor due; a test recorded anyway is done, an excuse stays one.
		{"not owed, before", false, false, false, "2025-06-09 12:00", DayUpcoming},
		{"not owed, today before deadline", false, false, false, "2025-06-10 09:00", DayNotOwed},
		{"not owed, next day", false, false, false, "2025-06-11 00:01", DayNotOwed},
		{"not owed, tested", false, true, false, "2025-06-11 09:00", DayDone},
		{"not owed, excused", true, false, false, "2025-06-11 09:00", DayExcused},
	} {
		now := at(tc.now)
		if got := DayState(day, tc.excused, tc.tested, tc.owed, now, dl, DateOf(now, loc)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// R13 with R30: the status on a day decides whether it owed duties — the
// current status when it began by then, else the history.
func TestOwesDutyOn(t *testing.T) {
	d := MustParseDate
	spans := []StatusSpan{{d("2026-01-06"), StatusExecuting}, {d("2026-03-12"), StatusSuspended}, {d("2026-03-15"), StatusExecuting}}
	for _, tc := range []struct {
		current Status
		since   string
		day     string
		want    bool
	}{
		{StatusSuspended, "2026-03-12", "2026-03-12", false}, // the day it began: the current status
		{StatusSuspended, "2026-03-12", "2026-03-14", false},
		{StatusSuspended, "2026-03-12", "2026-03-11", true},  // before: the history (executing)
		{StatusExecuting, "2026-03-15", "2026-03-14", false}, // resumed since: the history (suspended)
		{StatusExecuting, "2026-03-15", "2026-03-16", true},
		{StatusOnLeave, "2026-03-15", "2026-03-15", true},
		{StatusPendingReport, "2026-03-15", "2026-03-15", false}, // awaiting report-in at a new place (R11)
	} {
		if got := OwesDutyOn(tc.current, d(tc.since), spans, d(tc.day)); got != tc.want {
			t.Errorf("%s since %s, day %s: owed %v, want %v", tc.current, tc.since, tc.day, got, tc.want)
		}
	}
}

func TestAdjustReasonRequired(t *testing.T) {
	for _, r := range []string{"", "   ", strings.Repeat("理", 501)} {
		if _, err := AdjustReason(r); !IsCode(err, EINVALID) || ErrorField(err) != "reason" {
			t.Errorf("reason %q: %v", r, err)
		}
	}
	if r, err := AdjustReason("  住院，凭诊断证明 "); err != nil || r != "住院，凭诊断证明" {
		t.Errorf("good reason: %q %v", r, err)
	}
}

func BenchmarkDrawPerson(b *testing.B) {
	// One person's materialisation: the current scheduled interval (a
	// month) and the current surprise segment (a year) — what the daily
	// job computes per person; 100k persons take 100k times this.
	s := NewScorer(seedOf(1))
	iv := DateSpan{MustParseDate("2025-01-01"), MustParseDate("2025-01-31")}
	seg := DateSpan{MustParseDate("2025-01-01"), MustParseDate("2025-12-31")}
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("person-%d", i)
		s.Draw(DrawSpec{PersonID: id, Purpose: DrawScheduled, IntervalFrom: iv.From, Window: iv})
		s.Draw(DrawSpec{PersonID: id, Purpose: DrawSurprise, IntervalFrom: seg.From, Window: seg})
	}
}

func TestTextSetting(t *testing.T) {
	s, ok := PolicySetting("test.place")
	if !ok || s.Kind != SettingText {
		t.Fatal("no text setting test.place")
	}
	if v, err := s.Parse(" 椰林派出所 "); err != nil || v.Text() != "椰林派出所" {
		t.Errorf("parse: %v %v", v, err)
	}
	for _, bad := range []string{"", "a\nb", strings.Repeat("字", 101)} {
		if _, err := s.Parse(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// R24, R31: surprise segments follow the confirmed tier from the day it
// takes effect; a change that keeps the count, or one on the term's first
// day, re-splits nothing after the start.
func TestSurpriseSegmentsTieredR31(t *testing.T) {
	d := func(s string) Date { x, _ := ParseDate(s); return x }
	in := ScheduleInput{Kind: MeasureTreatment, Start: d("2026-01-01"), End: d("2026-01-01").AddDays(300)}
	count := func(_ Date, t Tier) int {
		if t == TierHigh {
			return 6
		}
		return 3
	}
	base, _ := SurpriseSegments(in, 3)
	same, _ := SurpriseSegmentsTiered(in, []TierChange{{d("2026-02-01"), TierMedium}}, count)
	if len(same) != 3 || same[0] != base[0] || same[2] != base[2] {
		t.Fatalf("same count re-split: %v", same)
	}
	// High from day 151 (150 of 300 days left): 3 more segments of 50 days.
	from := in.Start.AddDays(150)
	got, _ := SurpriseSegmentsTiered(in, []TierChange{{from, TierHigh}}, count)
	want := []DateSpan{base[0], {base[1].From, from.AddDays(-1)}, {from, from.AddDays(49)}, {from.AddDays(50), from.AddDays(99)}, {from.AddDays(100), from.AddDays(149)}}
	if len(got) != len(want) {
		t.Fatalf("segments %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("segment %d: %v, want %v", i, got[i], want[i])
		}
	}
	// High from the first day: six segments over the term.
	if got, _ := SurpriseSegmentsTiered(in, []TierChange{{in.Start, TierHigh}}, count); len(got) != 6 || got[0].From != in.Start {
		t.Errorf("high from the start: %v", got)
	}
	// The last day of the term: one segment of one day (R24 is a minimum).
	last := in.End.AddDays(-1)
	if got, _ := SurpriseSegmentsTiered(in, []TierChange{{last, TierHigh}}, count); got[len(got)-1] != (DateSpan{last, last}) {
		t.Errorf("a change on the last day: %v", got)
	}
}

// TestTierIntervalsR22R31: with no tier setting (every default is "same")
// a confirmed tier leaves the law-based intervals exactly as they were;
// when the policy sets a tier's interval, the intervals that begin from the
// day the tier takes effect use it, and the one under way keeps its bounds.
func TestTierIntervalsR22R31(t *testing.T) {
	in := ScheduleInput{Kind: MeasureTreatment, Start: MustParseDate("2025-01-15"), End: MustParseDate("2028-01-15")}
	plain, _ := TestIntervals(in, defaults)
	tiered := in
	tiered.Tiers = []TierChange{{From: MustParseDate("2025-03-21"), Tier: TierHigh}, {From: MustParseDate("2026-06-02"), Tier: TierLow}}
	same, _ := TestIntervals(tiered, defaults)
	if ivString(plain) != ivString(same) {
		t.Fatalf("a tier with no setting of its own changed the law intervals:\n%s\nvs\n%s", ivString(plain), ivString(same))
	}
	// High: monthly in year 2 (general: every 2 months); low: every 4
	// months in year 2.
	one, four := IntValue(1), IntValue(4)
	chain := []*Org{{ID: "o"}}
	pol := func(d Date) *EffectivePolicy {
		return ResolvePolicy(chain, []*PolicyVersion{{OrgID: "o", EffectiveFrom: MustParseDate("2024-01-01"), Settings: map[string]*Value{
			"test.tier.high.treatment.y2_months": &one, "test.tier.low.treatment.y2_months": &four}}}, d)
	}
	high := in
	high.Tiers = []TierChange{{From: MustParseDate("2025-03-21"), Tier: TierHigh}}
	ivs, _ := TestIntervals(high, pol)
	var y2 []TestInterval
	for _, iv := range ivs {
		if iv.Year == 2 {
			y2 = append(y2, iv)
		}
	}
	if len(y2) != 12 || y2[0].Months != 1 || y2[0].Source == "national" {
		t.Fatalf("high tier, year 2: want 12 monthly intervals from the tier's setting, got:\n%s", ivString(y2))
	}
	// A change to low taking effect 2026-06-02, mid-interval (2026-05-15..06-14):
	// that interval keeps its month; those beginning after are 4 months.
	high.Tiers = append(high.Tiers, TierChange{From: MustParseDate("2026-06-02"), Tier: TierLow})
	ivs2, _ := TestIntervals(high, pol)
	for i := range ivs2 {
		iv := ivs2[i]
		switch {
		case iv.Span().Contains(MustParseDate("2026-06-01")):
			if iv.From != MustParseDate("2026-05-15") || iv.To != MustParseDate("2026-06-14") || iv.Months != 1 {
				t.Errorf("the interval under way changed: %+v", iv)
			}
		case iv.From == MustParseDate("2026-06-15"):
			if iv.Months != 4 || iv.To != MustParseDate("2026-10-14") {
				t.Errorf("the next interval should follow the low tier (4 months): %+v", iv)
			}
		case iv.Year == 3 && iv.Months != 3:
			t.Errorf("year 3 has no tier setting: want the general 3 months, got %+v", iv)
		}
	}
	if TierSettingKey("test.rehab_short.months", TierMedium) != "test.tier.medium.rehab_short.months" {
		t.Error("the short rehabilitation interval has no tier key")
	}
}
