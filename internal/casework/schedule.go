package casework

import (
	"fmt"
	"slices"
	"strings"
)

// Drug test schedules (issue 5 §1; R22–R25). A measure's term is cut into
// scheduled-test intervals whose length comes from policy by measure kind
// and year of the term; one scheduled test falls on a drawn day inside each
// interval (see draws.go), and at least test.surprise_min surprise tests
// fall on drawn days over the term (R24). Everything here is a pure
// function of the term, the suspension spans and the policy in force.

// DateSpan is a range of local dates, both ends inclusive.
type DateSpan struct{ From, To Date }

// Contains reports whether d lies in the span.
func (s DateSpan) Contains(d Date) bool { return !d.Before(s.From) && !d.After(s.To) }

// Days is the number of days in the span (0 when To is before From).
func (s DateSpan) Days() int {
	if s.To.Before(s.From) {
		return 0
	}
	return s.From.DaysUntil(s.To) + 1
}

// ScheduleInput is what a test schedule is computed from.
type ScheduleInput struct {
	Kind MeasureKind
	// Start is the report date, where the term starts (R3, R4).
	Start Date
	// End is the term end (期满日): the day the measure is released (R15),
	// so the last day under the measure is End-1. A transfer does not move
	// it (the clock continues, R11); a suspension moves it only when the
	// jurisdiction pauses the clock (R13, TermPolicy).
	End        Date
	TermMonths int
	// Suspended are the spans the measure was or is suspended (中止, R13):
	// no test is drawn on those days, and an interval that lies wholly in
	// them is not owed (R25).
	Suspended []DateSpan
	// Tiers are the person's confirmed risk tiers by the day each takes
	// effect (R31, R32: the day after a lead's decision). An interval
	// takes the tier in force on its first day: when the policy sets the
	// tier's interval ("test.tier.<tier>.<kind>.y<K>_months", not "same"),
	// that replaces the general one for year K (see IntervalKey); so a
	// change shapes the intervals that begin from its day on, and the one
	// under way keeps its bounds and drawn day, as with a policy change.
	Tiers []TierChange
}

// PolicyAt returns the policy in force at the measure's place on a local
// date. Each interval's length comes from the policy in force on its first
// day: a version takes effect tomorrow at the earliest, so an interval that
// has begun (and its drawn day) never changes because of a policy change.
type PolicyAt func(Date) *EffectivePolicy

// TestInterval is one scheduled-test interval of a term.
type TestInterval struct {
	Year   int  // 1, 2 or 3: the year of the term it lies in
	From   Date // first day
	To     Date // last day (inclusive), clipped at the year's end and the term's end
	Months int  // the interval length the policy gave
	Source string
}

// Span returns the interval as a DateSpan.
func (iv TestInterval) Span() DateSpan { return DateSpan{iv.From, iv.To} }

// IntervalKey returns the policy setting that gives the scheduled-test
// interval for a measure kind, a term length and a year of the term (R22,
// R23): a rehabilitation term of 24 months or less uses
// test.rehab_short.months throughout ("2-yr: every 2 months").
func IntervalKey(kind MeasureKind, termMonths, year int) string {
	if kind == MeasureRehab {
		if termMonths > 0 && termMonths <= 24 {
			return "test.rehab_short.months"
		}
		return fmt.Sprintf("test.rehab.y%d_months", year)
	}
	return fmt.Sprintf("test.treatment.y%d_months", year)
}

// intervalMonths is the interval length for an interval beginning on
// from: the setting for the tier in force that day (R31) unless it is
// "same", else the general one (R22, R23).
func intervalMonths(p *EffectivePolicy, in ScheduleInput, year int, from Date) (int, string) {
	r := p.ForTier(IntervalKey(in.Kind, in.TermMonths, year), TierOn(in.Tiers, from))
	if r.Value.Same() || r.Value.Int() < 1 {
		return 1, "national"
	}
	return r.Value.Int(), r.Source.Ref()
}

func (in ScheduleInput) check() error {
	if !in.Kind.Valid() {
		return Invalid("kind", "措施类型无效：%q", "unknown measure kind %q", string(in.Kind))
	}
	if in.Start.IsZero() || in.End.IsZero() || !in.End.After(in.Start) {
		return Invalid("term", "期限无效：须有报到日期且期满日期晚于报到日期", "the term needs a report date and an end after it")
	}
	return nil
}

// TestIntervals cuts the term into scheduled-test intervals. Year K of the
// term runs from Start+(K-1) years to the day before Start+K years (see
// Date.AddYears for 29 February). Inside a year, intervals follow each
// other from the year's first day, each as long as the policy in force on
// its first day says, counted in calendar months from the year's start (a
// term begun on 31 January has intervals from 31 Jan, 28 Feb, 31 Mar …,
// never drifting to the 28th); the last interval of a year is clipped at
// the year's end and every interval at the term's end.
func TestIntervals(in ScheduleInput, policyAt PolicyAt) ([]TestInterval, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	last := in.End.AddDays(-1)
	var out []TestInterval
	for year := 1; ; year++ {
		yFrom := in.Start.AddYears(year - 1)
		if yFrom.After(last) {
			break
		}
		yTo := in.Start.AddYears(year).AddDays(-1)
		if yTo.After(last) {
			yTo = last
		}
		for off := 0; ; {
			from := yFrom.AddMonths(off)
			if from.After(yTo) {
				break
			}
			m, src := intervalMonths(policyAt(from), in, year, from)
			off += m
			to := yFrom.AddMonths(off).AddDays(-1)
			if to.After(yTo) {
				to = yTo
			}
			out = append(out, TestInterval{Year: year, From: from, To: to, Months: m, Source: src})
		}
	}
	return out, nil
}

// SurpriseSegments splits the term into n segments of (nearly) equal
// numbers of days; one surprise test is drawn in each (R24: at least n per
// term). n is test.surprise_min in force on the term's first day (for the
// tier then in force; SurpriseSegmentsTiered re-splits at tier changes). n = 0
// gives none.
func SurpriseSegments(in ScheduleInput, n int) ([]DateSpan, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	days := in.Start.DaysUntil(in.End)
	if n > days {
		n = days
	}
	var out []DateSpan
	for i := 0; i < n; i++ {
		a, b := i*days/n, (i+1)*days/n-1
		out = append(out, DateSpan{in.Start.AddDays(a), in.Start.AddDays(b)})
	}
	return out, nil
}

// SuspendedWhole reports whether every day of the span is suspended.
func SuspendedWhole(span DateSpan, suspended []DateSpan) bool {
	for d := span.From; !d.After(span.To); d = d.AddDays(1) {
		if !inSpans(d, suspended) {
			return false
		}
	}
	return true
}

func inSpans(d Date, spans []DateSpan) bool {
	for _, s := range spans {
		if s.Contains(d) {
			return true
		}
	}
	return false
}

// SuspensionSpans turns status spans (R30) into the spans of 中止 up to
// last (inclusive).
func SuspensionSpans(spans []StatusSpan, last Date) []DateSpan {
	var out []DateSpan
	for i, s := range spans {
		if s.Status != StatusSuspended {
			continue
		}
		to := last
		if i+1 < len(spans) {
			to = spans[i+1].From.AddDays(-1)
		}
		if !to.Before(s.From) {
			out = append(out, DateSpan{s.From, to})
		}
	}
	return out
}

// FormatSpans writes spans as "2026-01-01..2026-01-10,2026-02-03" (a
// one-day span as its date): the exclusions stored with a draw so that
// anyone can recompute it.
func FormatSpans(spans []DateSpan) string {
	parts := make([]string, 0, len(spans))
	for _, s := range spans {
		if s.From == s.To {
			parts = append(parts, s.From.String())
		} else {
			parts = append(parts, s.From.String()+".."+s.To.String())
		}
	}
	return strings.Join(parts, ",")
}

// ParseSpans reads FormatSpans's form.
func ParseSpans(s string) ([]DateSpan, error) {
	var out []DateSpan
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, p := range strings.Split(s, ",") {
		a, b, rng := strings.Cut(p, "..")
		from, err := ParseDate(a)
		if err != nil || from.IsZero() {
			return nil, fmt.Errorf("bad span %q", p)
		}
		to := from
		if rng {
			if to, err = ParseDate(b); err != nil || to.Before(from) {
				return nil, fmt.Errorf("bad span %q", p)
			}
		}
		out = append(out, DateSpan{from, to})
	}
	return out, nil
}

// MergeDays adds single days to spans, sorted by start.
func MergeDays(spans []DateSpan, days ...Date) []DateSpan {
	out := slices.Clone(spans)
	for _, d := range days {
		if !inSpans(d, out) {
			out = append(out, DateSpan{d, d})
		}
	}
	slices.SortFunc(out, func(a, b DateSpan) int { return a.From.Compare(b.From) })
	return out
}

// TierChange is a confirmed tier in force from a day on (R31, R32: only a
// lead's decision, from the day after it).
type TierChange struct {
	From Date
	Tier Tier
}

// TierOn is the tier in force on d: the last change from d or earlier
// ("" when none). changes are in the order they take effect.
func TierOn(changes []TierChange, d Date) Tier {
	var t Tier
	for _, c := range changes {
		if !c.From.After(d) {
			t = c.Tier
		}
	}
	return t
}

// SurpriseSegmentsTiered is SurpriseSegments when the number of surprise
// tests follows the person's tier (R24, R31): the term is split by the
// count in force on its first day; at each confirmed tier change that
// alters the count, the segments from that day on are split again — the
// segment running over the change day ends the day before, and the rest
// of the term gets the new tier's count in proportion to the days left
// (rounded up: R24 sets a minimum). Segments before a change keep their
// bounds, so their draws (past ones above all) stay as they were.
// count gives the count for a tier on a day (policy in force that day).
func SurpriseSegmentsTiered(in ScheduleInput, changes []TierChange, count func(Date, Tier) int) ([]DateSpan, error) {
	tierOn := func(d Date) Tier { return TierOn(changes, d) }
	segs, err := SurpriseSegments(in, count(in.Start, tierOn(in.Start)))
	if err != nil {
		return nil, err
	}
	days := in.Start.DaysUntil(in.End)
	for i, c := range changes {
		if !c.From.After(in.Start) || !c.From.Before(in.End) {
			continue
		}
		if i+1 < len(changes) && changes[i+1].From == c.From {
			continue // a later decision for the same day wins
		}
		n := count(c.From, c.Tier)
		if n == count(c.From, tierOn(c.From.AddDays(-1))) {
			continue
		}
		var kept []DateSpan
		for _, s := range segs {
			switch {
			case s.To.Before(c.From):
				kept = append(kept, s)
			case s.From.Before(c.From):
				kept = append(kept, DateSpan{s.From, c.From.AddDays(-1)})
			}
		}
		rest := c.From.DaysUntil(in.End)
		k := 0
		if n > 0 {
			k = (n*rest + days - 1) / days
			k = min(max(k, 1), rest)
		}
		for j := 0; j < k; j++ {
			a, b := j*rest/k, (j+1)*rest/k-1
			kept = append(kept, DateSpan{c.From.AddDays(a), c.From.AddDays(b)})
		}
		segs = kept
	}
	return segs, nil
}
