package casework

// special.go: persons the law does not send to compulsory isolation (R17,
// 禁毒法 Art 39, 戒毒条例 Art 26; DOMAIN §1.3 "Persons never sent to 强戒"):
//   - a pregnant woman, and a woman nursing her own infant under one year:
//     not subject to 强制隔离戒毒 (不适用);
//   - a minor under 16: may be exempted (可以不适用; discretionary).
// They stay in community treatment under strengthened supervision.
//
// What the code does with that, exactly as DOMAIN says: the file and lists
// show the flag and "strengthened supervision"; the police decision on a
// serious case refuses 决定强制隔离戒毒 for a pregnant or nursing woman (on
// the decision date) and, for a minor under 16, shows that exemption is
// possible without refusing. DOMAIN is silent on forced tests (R21) for
// these persons: policy test.no_forced_special (default false, the law's
// reading) makes the test form refuse a forced test of any of them.
//
// The facts are health data (R36): the store seals them. The minor flag is
// derived from the birth date (from the ID number) and stored nowhere.

import (
	"strings"
	"unicode/utf8"
)

// MinorAge is the age below which R17's discretionary exemption applies.
const MinorAge = 16

// SpecialFacts are the recorded facts of R17.
type SpecialFacts struct {
	Pregnant         bool   `json:"pregnant,omitempty"`
	ExpectedDelivery Date   `json:"expected_delivery,omitzero"` // 预产期
	DeliveredOn      Date   `json:"delivered_on,omitzero"`      // 分娩日期: the pregnancy ends
	InfantBirth      Date   `json:"infant_birth,omitzero"`      // her own infant, nursed: the flag ends at one year
	Note             string `json:"note,omitempty"`
}

// IsZero reports whether nothing is recorded.
func (f SpecialFacts) IsZero() bool { return f == SpecialFacts{} }

// Validate checks the facts for a person of the sex on today, every field
// at once (issue 18 item 9).
func (f *SpecialFacts) Validate(sex string, today Date) error {
	f.Note = strings.TrimSpace(f.Note)
	var errs FieldErrors
	if utf8.RuneCountInString(f.Note) > 200 {
		errs.Add(Invalid("note", "备注不能超过200字", "the note must be at most 200 characters"))
	}
	if (f.Pregnant || !f.InfantBirth.IsZero()) && sex != "F" {
		errs.Add(Invalid("pregnant", "怀孕、哺乳情形只适用于女性", "pregnancy and nursing apply to women only"))
	}
	if f.Pregnant && f.ExpectedDelivery.IsZero() && f.DeliveredOn.IsZero() {
		errs.Add(Invalid("expected_delivery", "请填写预产期", "give the expected delivery date"))
	}
	if !f.Pregnant && (!f.ExpectedDelivery.IsZero() || !f.DeliveredOn.IsZero()) {
		errs.once(Invalid("pregnant", "填写了预产期或分娩日期，请勾选“怀孕”", "a delivery date is given: tick pregnant"))
	}
	if f.DeliveredOn.After(today) {
		errs.Add(Invalid("delivered_on", "分娩日期不能晚于今天", "the delivery date cannot be in the future"))
	}
	if f.InfantBirth.After(today) {
		errs.Add(Invalid("infant_birth", "婴儿出生日期不能晚于今天", "the infant's birth date cannot be in the future"))
	}
	return errs.Err()
}

// SpecialStatus is what R17 says of a person on a day.
type SpecialStatus struct {
	Pregnant     bool
	Nursing      bool // own infant under one year
	NursingUntil Date // the infant's first birthday: the flag ends that day
	Minor        bool // under 16
}

// Any reports whether any R17 flag applies.
func (s SpecialStatus) Any() bool { return s.Pregnant || s.Nursing || s.Minor }

// NotSubjectToCompulsory reports whether the law excludes 强制隔离戒毒
// (pregnant; nursing her own infant under one), as opposed to the minor's
// discretionary exemption.
func (s SpecialStatus) NotSubjectToCompulsory() bool { return s.Pregnant || s.Nursing }

// SpecialOn works out R17 on day for a person born on birth with facts f.
// A pregnancy runs until the delivery date is recorded (past the expected
// date too: only the actual date ends it). Nursing runs from the infant's
// birth to the day before its first birthday. A minor is under 16 until
// the 16th birthday (29 February → 28 February, as Date.AddYears).
func SpecialOn(f SpecialFacts, birth, day Date) SpecialStatus {
	var s SpecialStatus
	s.Pregnant = f.Pregnant && (f.DeliveredOn.IsZero() || day.Before(f.DeliveredOn))
	if !f.InfantBirth.IsZero() {
		s.NursingUntil = f.InfantBirth.AddYears(1)
		s.Nursing = !day.Before(f.InfantBirth) && day.Before(s.NursingUntil)
	}
	s.Minor = !birth.IsZero() && day.Before(birth.AddYears(MinorAge))
	return s
}

// Labels names the flags that apply, in the language.
func (s SpecialStatus) Labels(lang string) []string {
	var out []string
	add := func(zh, en string) {
		if lang == "en" {
			out = append(out, en)
		} else {
			out = append(out, zh)
		}
	}
	if s.Pregnant {
		add("怀孕", "pregnant")
	}
	if s.Nursing {
		add("哺乳未满一周岁婴儿（至 "+s.NursingUntil.String()+"）", "nursing an infant under one (until "+s.NursingUntil.String()+")")
	}
	if s.Minor {
		add("未满16周岁", "under 16")
	}
	return out
}

// Effect says in the language what R17 means for the person.
func (s SpecialStatus) Effect(lang string) string {
	switch {
	case s.NotSubjectToCompulsory():
		if lang == "en" {
			return "Not subject to compulsory isolation (Anti-Drug Law Art 39): strengthened community supervision."
		}
		return "依法不适用强制隔离戒毒（《禁毒法》第三十九条），应加强社区监管。"
	case s.Minor:
		if lang == "en" {
			return "Under 16: compulsory isolation may be waived (Anti-Drug Law Art 39): strengthened community supervision."
		}
		return "未满16周岁，可以不适用强制隔离戒毒（《禁毒法》第三十九条），应加强社区监管。"
	}
	return ""
}

// CheckCompulsory refuses a police decision of 强制隔离戒毒 for a person
// the law excludes on the decision day (R17).
func (s SpecialStatus) CheckCompulsory(d PoliceDecision) error {
	if d == DecisionCompulsory && s.NotSubjectToCompulsory() {
		return Invalid("decision", "该人员怀孕或正在哺乳自己不满一周岁的婴儿，依法不适用强制隔离戒毒（《禁毒法》第三十九条）",
			"the person is pregnant or nursing her own infant under one: not subject to compulsory isolation (Anti-Drug Law Art 39)")
	}
	return nil
}

// CheckForcedTest refuses a forced test (R21) of a person R17 names when
// the policy test.no_forced_special is on.
func (s SpecialStatus) CheckForcedTest(forced, noForcedSpecial bool) error {
	if forced && noForcedSpecial && s.Any() {
		return Invalid("forced", "本地政策规定不对怀孕、哺乳期妇女或未满16周岁者强制检测",
			"local policy: no forced test of a pregnant or nursing woman or a person under 16")
	}
	return nil
}
