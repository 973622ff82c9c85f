package casework

import (
	"fmt"
	"slices"
	"strings"
)

// Tier effects as policy (issue 13 §4, R31; CARE.md B.4): the check-in
// frequency and window, the home-visit and contact cadences and the surprise tests per
// term are settings keyed by tier. A tier setting may be "same", leaving
// the general setting in force, so an office that changes the general
// cadence changes it for every tier it has not set apart. Every default
// is LOW or UNCONFIRMED: no national rule gives tier frequencies.

// SameValue, as the text of a tier setting, leaves the general setting in
// force for that tier.
const SameValue = "same"

// Same reports whether the value defers to the general setting.
func (v Value) Same() bool { return v.same }

func sameOf(kind SettingKind) Value { return Value{kind: kind, same: true} }

var tierWords = map[Tier][2]string{TierHigh: {"高风险", "High risk"}, TierMedium: {"中风险", "Medium risk"}, TierLow: {"低风险", "Low risk"}}

// TierSettingKey is the tier setting for a general one: checkin.window →
// checkin.tier.high.window; visit.home.period → visit.tier.high.home.period
// (VisitPeriodKey); test.surprise_min → test.tier.high.surprise_min.
func TierSettingKey(general string, t Tier) string {
	switch general {
	case "checkin.window":
		return "checkin.tier." + string(t) + ".window"
	case "checkin.every_days":
		return "checkin.tier." + string(t) + ".every_days"
	case "test.surprise_min":
		return "test.tier." + string(t) + ".surprise_min"
	case "visit.home.period":
		k, _ := VisitPeriodKey(CadenceHome, string(t))
		return k
	case "visit.contact.period":
		k, _ := VisitPeriodKey(CadenceContact, string(t))
		return k
	}
	if slices.Contains(TestIntervalSettings, general) {
		// test.treatment.y1_months → test.tier.high.treatment.y1_months
		// (R22, R23, R31: the hook ScheduleInput reads).
		return "test.tier." + string(t) + "." + strings.TrimPrefix(general, "test.")
	}
	return ""
}

// TestIntervalSettings are the scheduled-test interval settings (R22, R23)
// a tier may set apart.
var TestIntervalSettings = []string{"test.treatment.y1_months", "test.treatment.y2_months", "test.treatment.y3_months",
	"test.rehab.y1_months", "test.rehab.y2_months", "test.rehab.y3_months", "test.rehab_short.months"}

// TieredSettings are the general settings a tier may set apart.
var TieredSettings = append([]string{"checkin.every_days", "checkin.window", "visit.home.period", "visit.contact.period", "test.surprise_min"}, TestIntervalSettings...)

func tierSettings() []*Setting {
	out := []*Setting{
		{Key: "risk.reassess_days", Kind: SettingInt, ZH: "风险评估复评周期", EN: "Risk reassessment interval", UnitZH: "天", UnitEN: "days",
			Default: IntValue(30), Min: 7, Max: 366, Rule: "R31", Confidence: "MED",
			HintZH: "距上次评估满此天数即须复评（默认每月）；阳性检测、确认违规、PHQ-9第9题阳性、就业变化、迁转会立即提示复评。",
			HintEN: "A reassessment is due this many days after the last (default monthly); a positive test, a confirmed violation, a PHQ-9 item 9 above zero, a job found or lost, or a transfer asks for one at once."},
		{Key: "risk.stepdown_days", Kind: SettingInt, ZH: "降级建议所需持续守规天数", EN: "Compliance before a step-down is proposed", UnitZH: "天", UnitEN: "days",
			Default: IntValue(90), Min: 30, Max: 1095, Rule: "R31, R32", Confidence: "UNCONFIRMED",
			HintZH: "在此天数内无违规且检测均为阴性，系统向负责人提出降级建议；不会自动降级。",
			HintEN: "After this many days with no violation and every test negative, the lead gets a step-down proposal; nothing steps down by itself."},
	}
	type def struct {
		general string
		vals    map[Tier]Value
	}
	defs := []def{
		{"checkin.every_days", map[Tier]Value{}},
		{"checkin.window", map[Tier]Value{}},
		{"visit.home.period", map[Tier]Value{TierHigh: EnumValue(string(PeriodWeek)), TierLow: EnumValue(string(PeriodQuarter))}},
		{"visit.contact.period", map[Tier]Value{TierLow: EnumValue(string(PeriodMonth))}},
		{"test.surprise_min", map[Tier]Value{TierHigh: IntValue(6)}},
	}
	// The test intervals of every tier default to the general (law-based)
	// ones: no source gives tier intervals, so nothing changes until an
	// office sets them (R22, R23 stay exact by default).
	for _, k := range TestIntervalSettings {
		defs = append(defs, def{k, map[Tier]Value{}})
	}
	for _, d := range defs {
		g, ok := PolicySettingIn(generalSettings, d.general)
		if !ok {
			panic("tier setting for unknown " + d.general)
		}
		for _, t := range Tiers {
			s := *g
			s.Key, s.Same = TierSettingKey(d.general, t), d.general
			s.ZH, s.EN = tierWords[t][0]+"："+g.ZH, tierWords[t][1]+": "+g.EN
			s.Rule, s.Confidence, s.LawMax = "R31", "LOW", g.LawMax
			s.Default = sameOf(g.Kind)
			if v, ok := d.vals[t]; ok {
				s.Default = v
			}
			s.HintZH = fmt.Sprintf("%s人员适用的“%s”；填 same 则与一般设置相同。", tierWords[t][0], g.ZH)
			s.HintEN = fmt.Sprintf("%q for persons of this tier; \"same\" keeps the general setting.", g.EN)
			out = append(out, &s)
		}
	}
	return out
}

// PolicySettingIn finds a setting by key in a list.
func PolicySettingIn(list []*Setting, key string) (*Setting, bool) {
	for _, s := range list {
		if s.Key == key {
			return s, true
		}
	}
	return nil, false
}

// ForTier returns the general setting's value for a person of the tier:
// the tier's setting unless it is "same" (or the person has no tier).
func (p *EffectivePolicy) ForTier(general string, t Tier) ResolvedSetting {
	if t != "" {
		if r, ok := p.Get(TierSettingKey(general, t)); ok && !r.Value.Same() {
			return r
		}
	}
	r, _ := p.Get(general)
	return r
}
