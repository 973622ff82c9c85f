package casework

// checkin_duty.go: which check-ins discharge a day's duty, and from when a
// person owes check-ins at all (issue 18 §2, §4). One rule, read by every
// figure: the daily rate, the calendars, the today board, the inbox and the
// nightly detection of missed days (R9 counts on it).

import (
	"slices"
	"strings"
	"time"
)

// The options of the policy setting checkin.counts: which check-ins
// discharge the day's duty.
const (
	CountsOKOrLate = "ok_or_late" // ok, or synced late with every other check passed (the default)
	CountsOK       = "ok"         // only ok: a check-in sent late does not count
	CountsLocated  = "located"    // the position passed (area, accuracy, photo): the window and lateness are not weighed
	CountsAny      = "any"        // any check-in, whatever failed (the behaviour before issue 18)
)

// Discharges reports whether a check-in with these failed checks (Checks)
// discharges the day's duty under the rule (policy checkin.counts). An
// unknown rule is read as the default.
func Discharges(rule string, checks []Verdict) bool {
	allowed := map[Verdict]bool{}
	switch rule {
	case CountsAny:
		return true
	case CountsOK:
	case CountsLocated:
		allowed[VerdictOutsideWin], allowed[VerdictSyncedLate] = true, true
	default:
		allowed[VerdictSyncedLate] = true
	}
	for _, c := range checks {
		if !allowed[c] {
			return false
		}
	}
	return true
}

// FormatChecks is the stored form of a list of failed checks (comma-joined;
// "" for none).
func FormatChecks(checks []Verdict) string {
	s := make([]string, len(checks))
	for i, c := range checks {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

// ParseChecks reads the stored list. A row stored before the list existed
// has only its verdict: that one check (none when ok).
func ParseChecks(stored string, verdict Verdict) []Verdict {
	if stored == "" {
		if verdict == "" || verdict == VerdictOK {
			return nil
		}
		return []Verdict{verdict}
	}
	var out []Verdict
	for _, s := range strings.Split(stored, ",") {
		out = append(out, Verdict(s))
	}
	return out
}

// CheckLabels returns the labels of the checks in the language, joined
// with the language's list separator.
func CheckLabels(checks []Verdict, lang string) string {
	s := make([]string, len(checks))
	for i, c := range checks {
		s[i] = c.Label(lang)
	}
	if lang == "en" {
		return strings.Join(s, ", ")
	}
	return strings.Join(s, "、")
}

// AppSpan is a period a device was active: from the local date of its
// activation to the local date of its retirement (zero To: still active).
type AppSpan struct {
	From, To Date
}

// DeviceSpan makes the span of a device in the zone of the place of
// execution (issue 18 §4). The activation day owes a check-in: the worker
// activates the phone with the person, who can check in there and then; a
// device activated at 23:59 local owes that day, one at 00:01 the next day
// does not owe the day before (local dates, not UTC: 00:01 in Shanghai is
// the previous UTC day). The retirement day owes nothing more: a phone
// retired in the morning may not have checked in yet.
func DeviceSpan(activated, retired time.Time, loc *time.Location) AppSpan {
	s := AppSpan{From: DateOf(activated, loc)}
	if !retired.IsZero() {
		s.To = DateOf(retired, loc)
	}
	return s
}

// HasApp reports whether a device was active on day: some span began on or
// before it and had not been retired by then. Days before the first
// activation are "no app yet"; days between a retirement and the next
// activation (a lost phone, a new one issued later) owe no check-in either
// — the person had no means to check in — and the worker sees them on the
// list of persons without an active device instead (DevicelessPersons).
func HasApp(spans []AppSpan, day Date) bool {
	for _, s := range spans {
		if !s.From.After(day) && (s.To.IsZero() || day.Before(s.To)) {
			return true
		}
	}
	return false
}

// FirstApp is the first activation date of the spans (zero: never).
func FirstApp(spans []AppSpan) Date {
	var d Date
	for _, s := range spans {
		if d.IsZero() || s.From.Before(d) {
			d = s.From
		}
	}
	return d
}

// CheckinDueOn is the one judgement of whether a check-in was owed on day
// (issue 18 §2, §4): the measure owed duties that day (OwesDutyOn) and the
// person had an active device (HasApp). Every reader of check-in duty
// calls it — rates, calendars, the today board, the inbox, the detection.
func CheckinDueOn(owes bool, apps []AppSpan, day Date) bool {
	return owes && HasApp(apps, day)
}

// CheckinDutyDays returns the days of [from, to] that owe a check-in:
// DutyDays of the status spans, on days with an app.
func CheckinDutyDays(spans []StatusSpan, apps []AppSpan, from, to Date) []Date {
	return slices.DeleteFunc(DutyDays(spans, from, to), func(d Date) bool { return !CheckinDueOn(true, apps, d) })
}

// EverySpan is a check-in frequency in force from a local date: a
// check-in is owed every N days counted from From (issue 13 §4; policy
// checkin.every_days, or the tier's checkin.tier.<tier>.every_days, R31).
// Ref names the policy versions the frequency comes from.
type EverySpan struct {
	From Date
	N    int
	Ref  string
}

// Cadence is a person's check-in frequency over time: spans in date order,
// the first beginning on the duty start (the first day a check-in was owed
// at all: CheckinDueOn). A zero Cadence owes every day.
type Cadence struct {
	Spans []EverySpan
}

// NewCadence builds the cadence from the duty start and the frequency in
// force at each date it may have changed (a policy version, a confirmed
// tier or a transfer taking effect; any order). The frequency in force on
// start anchors there; a later change anchors at its own date, so a change
// applies from the day it takes effect and not before (a version or tier
// decided today takes effect tomorrow). A change that keeps the frequency
// does not move the anchor: every N days stays every N days.
func NewCadence(start Date, changes []EverySpan) Cadence {
	cs := slices.Clone(changes)
	slices.SortStableFunc(cs, func(a, b EverySpan) int { return a.From.Compare(b.From) })
	cur := EverySpan{From: start, N: 1}
	var later []EverySpan
	for _, c := range cs {
		if c.N < 1 {
			c.N = 1
		}
		if c.From.After(start) {
			later = append(later, c)
			continue
		}
		cur.N, cur.Ref = c.N, c.Ref
	}
	out := Cadence{Spans: []EverySpan{cur}}
	for _, c := range later {
		last := &out.Spans[len(out.Spans)-1]
		if c.From.Equal(last.From) {
			last.N, last.Ref = c.N, c.Ref
			continue
		}
		if c.N == last.N {
			continue
		}
		out.Spans = append(out.Spans, c)
	}
	// Two changes on the same day may have left neighbours equal.
	out.Spans = slices.CompactFunc(out.Spans, func(a, b EverySpan) bool { return a.N == b.N })
	return out
}

// span is the frequency in force on day (ok false: before the duty start).
func (c Cadence) span(day Date) (EverySpan, bool) {
	for i := len(c.Spans) - 1; i >= 0; i-- {
		if !c.Spans[i].From.After(day) {
			return c.Spans[i], true
		}
	}
	return EverySpan{}, false
}

// Every is the frequency in force on day: a check-in every N days (1 before
// the duty start and for a zero Cadence).
func (c Cadence) Every(day Date) int {
	if s, ok := c.span(day); ok {
		return s.N
	}
	return 1
}

// Ref is the policy reference of the frequency in force on day.
func (c Cadence) Ref(day Date) string {
	s, _ := c.span(day)
	return s.Ref
}

// Owes reports whether day is a check-in day of the cadence: every Nth
// day counted from the span's anchor (day 1 of the anchor owes, with N=2
// day 2 does not, day 3 does). The status and the device are weighed
// apart (CheckinDueOn): a suspended or deviceless day is not owed, but it
// does not shift the count, so the person's days stay the same dates.
func (c Cadence) Owes(day Date) bool {
	s, ok := c.span(day)
	if !ok || s.N <= 1 {
		return true
	}
	return s.From.DaysUntil(day)%s.N == 0
}

// NextOwed is the first check-in day of the cadence after day (the app's
// "next check-in": whether the status then still owes duties is not known
// in advance).
func (c Cadence) NextOwed(day Date) Date {
	d := day.AddDays(1)
	for !c.Owes(d) {
		d = d.AddDays(1)
	}
	return d
}

// CheckinDueOnCadence is CheckinDueOn with the check-in frequency: owed by
// the measure, a device active, and a check-in day of the cadence. Days
// that are not check-in days are neither missed nor in a rate's
// denominator.
func CheckinDueOnCadence(owes bool, apps []AppSpan, c Cadence, day Date) bool {
	return CheckinDueOn(owes, apps, day) && c.Owes(day)
}

// DutyStart is the first day of [from, to] a check-in was owed by status
// and device (the anchor of the first check-in frequency); zero when none.
func DutyStart(spans []StatusSpan, apps []AppSpan, to Date) Date {
	if len(spans) == 0 {
		return Date{}
	}
	first := FirstApp(apps)
	if first.IsZero() {
		return Date{}
	}
	from := spans[0].From
	if first.After(from) {
		from = first
	}
	i := -1
	for d := from; !d.After(to); d = d.AddDays(1) {
		for i+1 < len(spans) && !spans[i+1].From.After(d) {
			i++
		}
		if i >= 0 && OwesDuty(spans[i].Status) && HasApp(apps, d) {
			return d
		}
	}
	return Date{}
}
