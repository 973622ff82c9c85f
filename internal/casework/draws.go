package casework

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"time"
)

// Verifiable random draws (issue 5 §2). Each seed org (the township or
// street of the place of execution, where the lead who may force or excuse
// a day sits) has one secret 32-byte seed per calendar month (a "period").
// The seed's SHA-256 is committed — stored and shown — months before the
// period starts, and the seed itself is revealed after the period ends.
// A day's score for a person and an interval is
//
//	HMAC-SHA256(seed of the day's period, person_id|purpose|interval_from|day)
//
// and the drawn day of an interval is the eligible day with the lowest
// score. Scoring each day under its own period's seed lets an interval span
// several months without the reveal of one month telling anything about a
// later month's days, and anyone holding the revealed seeds can recompute
// every draw (kangfu verify-draws). Nobody can steer a draw toward or away
// from a person: the seed is fixed by its commitment before the period
// starts, and the score depends only on the person id, the interval and the
// day.

// SeedSize is the length of a draw seed in bytes.
const SeedSize = 32

// Draw purposes, part of the scored message.
const (
	DrawScheduled = "scheduled" // 定期检测: one per interval (R22, R23)
	DrawSurprise  = "surprise"  // 突击检测: one per term segment (R24)
	DrawForced    = "forced"    // a day a lead added, with a reason (not drawn)
)

// SeedHash is the commitment of a seed: its SHA-256 in lower-case hex.
func SeedHash(seed []byte) string {
	h := sha256.Sum256(seed)
	return hex.EncodeToString(h[:])
}

// PeriodOf returns the seed period of a local date: its calendar month,
// "2026-03".
func PeriodOf(d Date) string { return fmt.Sprintf("%04d-%02d", d.Year, int(d.Month)) }

// PeriodBounds returns the first and last day of a period.
func PeriodBounds(period string) (Date, Date, error) {
	d, err := ParseDate(period + "-01")
	if err != nil || d.IsZero() {
		return Date{}, Date{}, fmt.Errorf("bad period %q", period)
	}
	return d, NewDate(d.Year, d.Month+1, 0), nil
}

// AddPeriods returns the period n months after p's month.
func AddPeriods(d Date, n int) string {
	return PeriodOf(NewDate(d.Year, d.Month+time.Month(n), 1))
}

// SeedSource gives the seed of an org's period; ok is false when the seed
// is not known (not generated yet, or not revealed to a verifier).
type SeedSource func(period string) (seed []byte, ok bool)

// DrawSpec is everything a draw depends on besides the seeds; a stored
// draw keeps all of it so that it can be recomputed.
type DrawSpec struct {
	PersonID     string
	Purpose      string // DrawScheduled or DrawSurprise
	IntervalFrom Date   // the interval's (segment's) first day: part of the message
	// Window is the eligible range: the interval, or its part from the
	// first day the draw could be made known (a draw is never placed on a
	// day already past when it is made).
	Window DateSpan
	// Excluded days are not eligible: suspension (R13) and, for a
	// surprise draw, days already drawn for a scheduled test.
	Excluded []DateSpan
}

// Scorer computes day scores, keeping one keyed HMAC per period.
type Scorer struct {
	seeds SeedSource
	macs  map[string]hash.Hash
	buf   []byte
	sum   []byte
}

// NewScorer returns a scorer over the seeds.
func NewScorer(seeds SeedSource) *Scorer {
	return &Scorer{seeds: seeds, macs: map[string]hash.Hash{}}
}

// Score returns the score of a day for the spec's person, purpose and
// interval (see the package comment on draws). ok is false when the seed of
// the day's period is not known. The returned slice is reused by the next
// call.
func (s *Scorer) Score(personID, purpose string, intervalFrom, day Date) ([]byte, bool) {
	s.buf = appendPrefix(s.buf[:0], personID, purpose, intervalFrom)
	return s.score(len(s.buf), day)
}

func appendPrefix(b []byte, personID, purpose string, intervalFrom Date) []byte {
	b = append(b, personID...)
	b = append(b, '|')
	b = append(b, purpose...)
	b = append(b, '|')
	b = appendDate(b, intervalFrom)
	return append(b, '|')
}

// appendDate writes "YYYY-MM-DD" without fmt: scoring runs hundreds of
// times per person.
func appendDate(b []byte, d Date) []byte {
	y, m, dd := d.Year, int(d.Month), d.Day
	return append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+dd/10), byte('0'+dd%10))
}

// score scores day with s.buf[:prefix] as the message prefix.
func (s *Scorer) score(prefix int, day Date) ([]byte, bool) {
	var pk [7]byte
	p := string(appendDate(pk[:0], day)[:7])
	m, ok := s.macs[p]
	if !ok {
		seed, known := s.seeds(p)
		if !known {
			return nil, false
		}
		m = hmac.New(sha256.New, seed)
		s.macs[p] = m
	}
	m.Reset()
	s.buf = appendDate(s.buf[:prefix], day)
	m.Write(s.buf)
	s.sum = m.Sum(s.sum[:0])
	return s.sum, true
}

// ErrSeedUnknown is returned by Draw when a seed the window needs is not
// known.
var ErrSeedUnknown = fmt.Errorf("a seed the draw needs is not known")

// Draw returns the eligible day of the window with the lowest score;
// ok is false when no day is eligible (the window lies wholly in
// exclusions). Ties (equal 256-bit scores) go to the earlier day.
func (s *Scorer) Draw(spec DrawSpec) (day Date, ok bool, err error) {
	var best [sha256.Size]byte
	s.buf = appendPrefix(s.buf[:0], spec.PersonID, spec.Purpose, spec.IntervalFrom)
	prefix := len(s.buf)
	for d := spec.Window.From; !d.After(spec.Window.To); d = nextDay(d) {
		if len(spec.Excluded) > 0 && inSpans(d, spec.Excluded) {
			continue
		}
		sc, known := s.score(prefix, d)
		if !known {
			return Date{}, false, fmt.Errorf("%w: period %s", ErrSeedUnknown, PeriodOf(d))
		}
		if !ok || bytes.Compare(sc, best[:]) < 0 {
			copy(best[:], sc)
			day, ok = d, true
		}
	}
	return day, ok, nil
}

// VerifyDraw recomputes a stored draw from the seeds and reports whether
// the stored day is the one the seeds give. unverifiable is true when a
// seed of the window is not known (not revealed yet).
func (s *Scorer) VerifyDraw(spec DrawSpec, stored Date) (match, unverifiable bool) {
	day, ok, err := s.Draw(spec)
	if err != nil {
		return false, true
	}
	return ok && day == stored, false
}

// DrawStatus is the state of a drawn (or forced) test day for a person.
type DrawStatus string

// The statuses of a test day.
const (
	DayUpcoming DrawStatus = "upcoming"  // later than today
	DayDueToday DrawStatus = "due_today" // today, before the deadline, no test yet
	DayDone     DrawStatus = "done"      // a test was recorded on the day (any outcome, a refusal included)
	DayMissed   DrawStatus = "missed"    // the deadline passed with no test recorded: evaded
	DayExcused  DrawStatus = "excused"   // a lead excused the day, with a reason
	DayNotOwed  DrawStatus = "not_owed"  // the person owed no duties that day (suspended, R13; awaiting report-in at a new place, R11): never missed
)

// DayState decides a test day's status. A day is missed when its deadline
// (the end of test.hours on the day, in the org's zone) has passed and no
// test of any kind — a refusal included, which is counted as a refusal of
// its own (R9) rather than as an evasion — was recorded with that date. An
// excused day is never missed, and neither is a day on which the person
// owed no duties (owed false: see OwesDutyOn) — a day a lead forced before
// a suspension (R13) or a transfer (R11) survives the redraw and falls in
// it; that day is not owed, whatever the hour. Missed days are evasions
// for R9 (逃避检测). A test recorded on another day of the interval covers
// the interval for R25 but does not undo an evaded drawn day. A day still
// to come is upcoming: the status it will have on the day is not known yet.
func DayState(day Date, excused, tested, owed bool, now time.Time, deadline time.Time, today Date) DrawStatus {
	switch {
	case excused:
		return DayExcused
	case tested:
		return DayDone
	case day.After(today):
		return DayUpcoming
	case !owed:
		return DayNotOwed
	case day == today && now.Before(deadline):
		return DayDueToday
	}
	return DayMissed
}

// Deadline is the instant a drawn day's test must be done by: the end of
// test.hours on that day in the zone.
func Deadline(day Date, hours Window, loc *time.Location) time.Time {
	return day.In(loc).Add(time.Duration(hours.To) * time.Minute)
}

// YearCoverage is the R25 test-completion measure for one year of a term.
type YearCoverage struct {
	Year   int
	Should int // intervals of the year ended by the as-of date (wholly suspended ones excepted)
	Done   int // of those, intervals with at least one test recorded in them (any outcome)
}

// Coverage is the R25 measure for a term as of a date.
type Coverage struct {
	Years  []YearCoverage
	Should int
	Done   int
}

// Rate is Done ÷ Should; 1 when nothing is owed yet.
func (c Coverage) Rate() float64 {
	if c.Should == 0 {
		return 1
	}
	return float64(c.Done) / float64(c.Should)
}

// Missing is Should − Done (never negative).
func (c Coverage) Missing() int { return max(c.Should-c.Done, 0) }

// TestCoverage computes R25 per year: should = the intervals that have
// ended before asOf — which is ⌊months elapsed in the year ÷ interval⌋
// whenever the interval divides the year, as every default does; a clipped
// last interval of a year counts as one — and done = those intervals with
// at least one test recorded in them. An interval wholly suspended (R13) is
// not owed.
func TestCoverage(intervals []TestInterval, testDays []Date, suspended []DateSpan, asOf Date) Coverage {
	return TestCoverageIn(intervals, testDays, suspended, Date{}, asOf)
}

// TestCoverageIn is TestCoverage over a period: only the intervals that
// ended on or after from (and before asOf) are counted, so a month's or a
// quarter's rate counts the intervals that fell due in it.
func TestCoverageIn(intervals []TestInterval, testDays []Date, suspended []DateSpan, from, asOf Date) Coverage {
	var c Coverage
	for _, iv := range intervals {
		if !iv.To.Before(asOf) || iv.To.Before(from) || SuspendedWhole(iv.Span(), suspended) {
			continue
		}
		if len(c.Years) == 0 || c.Years[len(c.Years)-1].Year != iv.Year {
			c.Years = append(c.Years, YearCoverage{Year: iv.Year})
		}
		y := &c.Years[len(c.Years)-1]
		y.Should++
		c.Should++
		for _, d := range testDays {
			if iv.Span().Contains(d) {
				y.Done++
				c.Done++
				break
			}
		}
	}
	return c
}

// AdjustReason checks and trims the reason a lead gives to force or
// excuse a test day: required (blank is refused), at most 500 characters.
func AdjustReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	n := len([]rune(reason))
	if n == 0 {
		return "", Invalid("reason", "请填写理由：加测或免测须说明理由，并记入审计日志", "a reason is required to force or excuse a test day; it is audited")
	}
	if n > 500 {
		return "", Invalid("reason", "理由不能超过500字", "the reason must be at most 500 characters")
	}
	return reason, nil
}

// nextDay is d.AddDays(1) without going through time.Time.
func nextDay(d Date) Date {
	if d.Day < 28 || d.Day < daysIn(d.Year, d.Month) {
		d.Day++
		return d
	}
	d.Day = 1
	if d.Month == time.December {
		d.Year, d.Month = d.Year+1, time.January
	} else {
		d.Month++
	}
	return d
}
