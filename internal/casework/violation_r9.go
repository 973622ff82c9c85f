package casework

// violation_r9.go: counting unauthorised departures and absence days
// (R8, R9) one day at a time, so the nightly detection looks only at the
// days it has not seen (a per-person Trip carried from night to night),
// and the serious-violation thresholds.
//
// How days count (the law's words, R8 and R9: "leaving the county without
// authorisation" and "cumulative absence of more than 30 days"; decisions
// documented for the customer):
//   - Evidence of being away is a check-in outside the county of the place
//     of execution or a remote test recorded there (a test done at a police
//     station or hospital elsewhere). Evidence of being home is a check-in
//     inside the county or a test recorded at home; later, a visit. The
//     detection reads these from a list of evidence sources, so a new kind
//     of record is one more entry there.
//   - A trip runs from the first day with evidence of being away to the
//     last day before the next evidence of being home. Every day inside it
//     is a day absent — a day without any check-in too: the person was
//     last seen away and has not been seen back (the missed check-in is
//     also its own violation). A day after an approved leave's end date,
//     before the person reported back (R28 overdue), is evidence of being
//     away unless there is evidence of home that day. A day that owes no
//     duty (suspended R13, released, …) ends the trip.
//   - Days covered by leave do not count: approved leave, and — where the
//     policy takes the law's reading (leave.approval_required off, the
//     default) — a request filed and not yet decided, from the day it was
//     filed: the written report before leaving is what R8 asks, approval
//     is local practice (DOMAIN §1.5). A rejected or withdrawn request
//     covers nothing. Leave inside a trip
//     does not end it: the person never came back, so it is one departure.
//   - A trip is an unauthorised departure once it has lasted the leave
//     threshold (R8, policy leave.threshold_days, 3 by law): a shorter
//     trip needed no written report. Its length runs from its first away
//     day to the day judged, leave days included. It is then counted once,
//     however long it lasts (R9 "each departure"), and all its uncovered
//     days count toward the cumulative absence, including those before it
//     reached the threshold. R9 is "more than 30": 30 days absent is not
//     serious, 31 is.
//   - Days are local calendar days of the place of execution's zone; a trip
//     runs across a month end and across a transfer (the measure, and so
//     the count, continues, R11).

// DayFacts is what is known about one local day of a person.
type DayFacts struct {
	Date    Date
	Duty    bool // the day owes a check-in (OwesDuty)
	Inside  bool // evidence of being home: a check-in inside the county, a test at home
	Outside bool // evidence of being away: a check-in outside the county, a remote test
	Leave   bool // leave covers the day (approved; or filed, where a report suffices)
	Overdue bool // after an approved leave's end, not yet reported back
}

// Trip is the state of a person's current trip away, carried from night
// to night. The zero value is "at home".
type Trip struct {
	Start     Date // first away day; zero when at home
	Days      int  // away days (unauthorised) so far
	Qualified bool // reached the threshold: a departure is recorded
}

// Away reports whether a trip is under way.
func (t Trip) Away() bool { return !t.Start.IsZero() }

// TripEvent is what one day changed.
type TripEvent int

// The events of Step.
const (
	TripNone      TripEvent = iota
	TripDeparted            // the trip reached the threshold today: one departure, Days absence days so far
	TripContinued           // a qualified trip added an away day
	TripEnded               // the trip ended (qualified or not)
)

// Step judges one day against the trip so far; threshold is the leave
// threshold in force (R8). Days must be given in order.
func (t *Trip) Step(f DayFacts, threshold int) TripEvent {
	if threshold < 1 {
		threshold = 1
	}
	away := !f.Leave && !f.Inside && (f.Outside || f.Overdue)
	switch {
	case !f.Duty || f.Inside:
		if t.Away() {
			*t = Trip{}
			return TripEnded
		}
		return TripNone
	case away:
		if !t.Away() {
			t.Start = f.Date
		}
	case !t.Away():
		return TripNone // no evidence of being away: at home
	case f.Leave:
		// Leave inside a trip: the trip goes on, the day is not counted.
	default:
		// No evidence either way inside a trip: last seen away, not seen
		// back, so absent (R9 counts days absent, not days checked in).
		away = true
	}
	if away {
		t.Days++
		if t.Qualified {
			return TripContinued
		}
	}
	// The trip has lasted from its start to today.
	if !t.Qualified && t.Start.DaysUntil(f.Date)+1 >= threshold {
		t.Qualified = true
		return TripDeparted
	}
	return TripNone
}

// Thresholds are the R9 limits in force (policy violation.*; LawMax 3, 3, 30).
type Thresholds struct {
	Refusals    int // refusals + evasions ≥ this: serious
	Departures  int // unauthorised departures ≥ this: serious
	AbsenceDays int // cumulative unauthorised absence days > this: serious
}

// LawThresholds are the limits of the regulation itself (R9).
var LawThresholds = Thresholds{Refusals: 3, Departures: 3, AbsenceDays: 30}

// R9Counts are a measure's counted violations over the whole term
// (excused ones left out; suspension does not restart the count and a
// transfer continues it, because both keep the measure).
type R9Counts struct {
	Refusals    int
	Departures  int
	AbsenceDays int
}

// CaseTrigger is why a serious case was opened.
type CaseTrigger string

// The triggers.
const (
	TriggerRefusals   CaseTrigger = "refusals"   // R9: ≥3 refusals or evasions
	TriggerDepartures CaseTrigger = "departures" // R9: ≥3 unauthorised departures
	TriggerAbsence    CaseTrigger = "absence"    // R9: >30 days away in total
	TriggerPositive   CaseTrigger = "positive"   // R10: a positive test
	TriggerDrugUse    CaseTrigger = "drug_use"   // R10: recorded drug use
)

// CaseTriggers lists every trigger.
var CaseTriggers = []CaseTrigger{TriggerRefusals, TriggerDepartures, TriggerAbsence, TriggerPositive, TriggerDrugUse}

var triggerLabels = map[CaseTrigger][2]string{
	TriggerRefusals:   {"逃避或拒绝检测达到次数（R9）", "refused or evaded tests (R9)"},
	TriggerDepartures: {"擅自离开执行地县（区）达到次数（R9）", "unauthorised departures (R9)"},
	TriggerAbsence:    {"擅自离开累计超过天数（R9）", "cumulative unauthorised absence (R9)"},
	TriggerPositive:   {"检测阳性（R10）", "positive test (R10)"},
	TriggerDrugUse:    {"吸食毒品（R10）", "drug use (R10)"},
}

// Label returns the trigger's name in the language, its rule cited as the
// regulation's article (CiteRules), never by its DOMAIN number (issue 18
// item 8).
func (t CaseTrigger) Label(lang string) string {
	return CiteRules(label(triggerLabels[t], string(t), lang), lang)
}

// Serious returns the R9 triggers the counts reach, in a fixed order.
func (c R9Counts) Serious(t Thresholds) []CaseTrigger {
	var out []CaseTrigger
	if t.Refusals > 0 && c.Refusals >= t.Refusals {
		out = append(out, TriggerRefusals)
	}
	if t.Departures > 0 && c.Departures >= t.Departures {
		out = append(out, TriggerDepartures)
	}
	if t.AbsenceDays > 0 && c.AbsenceDays > t.AbsenceDays {
		out = append(out, TriggerAbsence)
	}
	return out
}

// IsR9 reports whether the trigger is one of R9's thresholds (which a
// policy may lower), not an R10 event.
func (t CaseTrigger) IsR9() bool {
	return t == TriggerRefusals || t == TriggerDepartures || t == TriggerAbsence
}

// Statutory reports whether counts that reached trigger t under a policy
// also reach the law's own threshold (R9): only then is it a serious
// violation of the agreement in the regulation's sense (S1 Art 20). A
// policy may lower the thresholds; a case opened below the law's is the
// local policy's. R10 triggers are always the law's.
func (c R9Counts) Statutory(t CaseTrigger) bool {
	if !t.IsR9() {
		return true
	}
	for _, x := range c.Serious(LawThresholds) {
		if x == t {
			return true
		}
	}
	return false
}

var localTriggerLabels = map[CaseTrigger][2]string{
	TriggerRefusals:   {"逃避或拒绝检测达到本地政策规定的次数（低于法定标准，非法定严重违反协议）", "refused or evaded tests: local policy threshold (below the law's; not a statutory serious violation)"},
	TriggerDepartures: {"擅自离开执行地县（区）达到本地政策规定的次数（低于法定标准，非法定严重违反协议）", "unauthorised departures: local policy threshold (below the law's; not a statutory serious violation)"},
	TriggerAbsence:    {"擅自离开累计天数达到本地政策规定（低于法定标准，非法定严重违反协议）", "cumulative unauthorised absence: local policy threshold (below the law's; not a statutory serious violation)"},
}

// CaseLabel names a case's trigger as the case, its report and the lists
// show it: an R9 case opened below the law's threshold is labelled the
// local policy's, never a statutory serious violation.
func (t CaseTrigger) CaseLabel(statutory bool, lang string) string {
	if !statutory && t.IsR9() {
		return label(localTriggerLabels[t], string(t), lang)
	}
	return t.Label(lang)
}
