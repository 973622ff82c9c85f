package casework

// violation_r9.go: counting unauthorised departures and absence days
// (R8, R9) one day at a time, so the nightly detection looks only at the
// days it has not seen (a per-person Trip carried from night to night),
// and the serious-violation thresholds.
//
// How days count (decisions, documented for the customer):
//   - An away day is a day whose check-ins all lie outside the county of
//     the place of execution and which no approved leave covers. A day
//     after an approved leave's end date, before the person reported back
//     (R28 overdue), is away too unless a check-in that day is inside the
//     county.
//   - A trip is a run of away days. It ends on a day with a check-in
//     inside the county, or on a day that owes no duty (suspended R13,
//     released, …). A day without any check-in neither ends a trip (no
//     evidence of return) nor adds an absence day (no evidence of
//     absence): it is its own violation (missed check-in). Approved leave
//     inside a trip does not end it either: the person never came back,
//     so it is one departure; leave days are not unauthorised days.
//   - A trip is an unauthorised departure once it has lasted the leave
//     threshold (R8, policy leave.threshold_days, 3 by law): a shorter
//     trip needed no written report. Its length runs from its first away
//     day to the day judged, measured on away days and leave days (a
//     day without check-in is bridged but proves nothing on its own). It is then counted once, however long it lasts (R9 "each
//     departure"), and all its away days count toward the cumulative
//     absence, including those before it reached the threshold.

// DayFacts is what is known about one local day of a person.
type DayFacts struct {
	Date    Date
	Duty    bool // the day owes a check-in (OwesDuty)
	Inside  bool // at least one check-in inside the county
	Outside bool // at least one check-in outside the county
	Leave   bool // an approved leave covers the day
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
	case !away && !(f.Leave && t.Away()):
		return TripNone // no check-in: the trip (if any) goes on, unmeasured
	case away:
		if !t.Away() {
			t.Start = f.Date
		}
		t.Days++
		if t.Qualified {
			return TripContinued
		}
	}
	// An away day, or approved leave inside a trip: the trip has lasted
	// from its start to today, away at both ends.
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

// Label returns the trigger's name in the language.
func (t CaseTrigger) Label(lang string) string { return label(triggerLabels[t], string(t), lang) }

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
