package casework

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Policy as configuration (PRODUCT §5). Everything DOMAIN.md marks LOW or
// UNCONFIRMED is a setting here, not a constant in code: a policy version
// is attached to an org node and takes effect on a local calendar date; it
// names only the settings it overrides, and the nodes below inherit the
// rest. Resolution for a node and a date walks national default → template
// (by area code) → versions from the root down, and records for every
// setting which source produced it, so every duty and verdict computed from
// it can record that version.

// Permissions over policy. Viewing is open to every role that reads person
// files (they work under the policy) and to admin (who sets up orgs and
// sees their configuration, but no person data); editing is for the
// district office and the street lead, in their subtree.
const (
	PermViewPolicy Perm = "policy.view"
	PermEditPolicy Perm = "policy.edit"
)

// SettingKind is the type of a setting's value.
type SettingKind string

// The kinds of setting. A window is two times of day (minutes from local
// midnight) rather than two settings, so that "end after start" is checked
// on one value and no inheritance of half a window can break it.
const (
	SettingInt    SettingKind = "int"    // a whole number within [Min, Max]
	SettingWindow SettingKind = "window" // a local time-of-day range "HH:MM-HH:MM", start inclusive, end exclusive
	SettingEnum   SettingKind = "enum"   // one of Options
	SettingBool   SettingKind = "bool"   // true or false
	SettingText   SettingKind = "text"   // a short text, 1–100 characters on one line (e.g. a place)
	// A decimal with at most two places ("0.80"), kept in hundredths: Min
	// and Max are hundredths too (issue 17: identity.match_threshold).
	SettingDecimal SettingKind = "decimal"
)

// InheritValue, as the text of a setting in a version, restores
// inheritance from the parent from the version's date on.
const InheritValue = "inherit"

// TimeOfDay is a local time of day in minutes from midnight, 0–1440
// (1440 = 24:00, allowed only as the end of a window).
type TimeOfDay int

func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

func parseTimeOfDay(s string) (TimeOfDay, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(m) != 2 || len(h) < 1 || len(h) > 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return TimeOfDay(hh*60 + mm), true
}

// Window is a daily local time range [From, To).
type Window struct{ From, To TimeOfDay }

func (w Window) String() string { return w.From.String() + "-" + w.To.String() }

// Contains reports whether the instant falls inside the window on the local
// clock of loc (nil: Asia/Shanghai).
func (w Window) Contains(t time.Time, loc *time.Location) bool {
	if loc == nil {
		loc = LoadLocation(DefaultTimeZone)
	}
	lt := t.In(loc)
	m := TimeOfDay(lt.Hour()*60 + lt.Minute())
	return m >= w.From && m < w.To
}

// Value is a typed setting value. Values are comparable with ==.
type Value struct {
	kind SettingKind
	n    int // SettingInt; 1 or 0 for SettingBool
	w    Window
	s    string // SettingEnum
	// same marks a tier setting (Setting.Same) left to the general
	// setting: the text "same" (policy_tier.go).
	same bool
}

// IntValue, WindowValue, EnumValue and BoolValue make values (for the
// tables below and for tests); they do not validate.
func IntValue(n int) Value { return Value{kind: SettingInt, n: n} }
func WindowValue(from, to string) Value {
	f, _ := parseTimeOfDay(from)
	t, _ := parseTimeOfDay(to)
	return Value{kind: SettingWindow, w: Window{f, t}}
}
func EnumValue(s string) Value { return Value{kind: SettingEnum, s: s} }
func TextValue(s string) Value { return Value{kind: SettingText, s: s} }

// DecimalValue makes a decimal value from hundredths (80 is 0.80).
func DecimalValue(hundredths int) Value { return Value{kind: SettingDecimal, n: hundredths} }
func BoolValue(b bool) Value {
	v := Value{kind: SettingBool}
	if b {
		v.n = 1
	}
	return v
}

// Kind, Int, Bool, Enum and Window read the value.
func (v Value) Kind() SettingKind { return v.kind }
func (v Value) Int() int          { return v.n }
func (v Value) Bool() bool        { return v.n == 1 }
func (v Value) Enum() string      { return v.s }
func (v Value) Text() string      { return v.s }
func (v Value) Window() Window    { return v.w }

// Decimal reads a decimal value (0.80 for 80 hundredths). The division is
// correctly rounded, so DecimalValue(80).Decimal() == 0.80 exactly.
func (v Value) Decimal() float64 { return float64(v.n) / 100 }

// formatHundredths writes hundredths as a decimal with two places.
func formatHundredths(n int) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
}

// BoundsText is a decimal setting's bounds as shown beside its field
// ("0.50–0.99"); an int setting's "1–30".
func (s *Setting) BoundsText() string {
	if s.Kind == SettingDecimal {
		return formatHundredths(s.Min) + "–" + formatHundredths(s.Max)
	}
	return strconv.Itoa(s.Min) + "–" + strconv.Itoa(s.Max)
}

// String is the value's text form, the one versions are written and
// stored in: "3", "06:00-22:00", "county", "true".
func (v Value) String() string {
	if v.same {
		return SameValue
	}
	switch v.kind {
	case SettingInt:
		return strconv.Itoa(v.n)
	case SettingWindow:
		return v.w.String()
	case SettingEnum, SettingText:
		return v.s
	case SettingBool:
		return strconv.FormatBool(v.n == 1)
	case SettingDecimal:
		return formatHundredths(v.n)
	}
	return ""
}

// JSON is the value as the API shows it: a number, a boolean or a string.
func (v Value) JSON() any {
	if v.same {
		return SameValue
	}
	switch v.kind {
	case SettingInt:
		return v.n
	case SettingBool:
		return v.n == 1
	case SettingDecimal:
		return v.Decimal()
	}
	return v.String()
}

// Option is one choice of an enum setting.
type Option struct{ Value, ZH, EN string }

// Setting describes one configurable rule.
type Setting struct {
	Key            string
	Kind           SettingKind
	ZH, EN         string // label
	UnitZH, UnitEN string
	Default        Value
	Min, Max       int // SettingInt bounds, inclusive
	Options        []Option
	Rule           string // the DOMAIN.md rule or open question it stems from
	Confidence     string // of the default: HIGH, MED, LOW, UNCONFIRMED
	// LawMax marks Max as set by law (a HIGH rule): a jurisdiction may be
	// stricter (a lower number) but never laxer, so a version asking for
	// more is refused with LawZH/LawEN, which cite the rule.
	LawMax         bool
	LawZH, LawEN   string
	HintZH, HintEN string
	// Same names the general setting a tier setting falls back to when its
	// value is "same" (policy_tier.go; R31).
	Same string
}

// policySettings is the one table of settings. A later rule is one more
// entry, and resolution, validation, the console form and the API pick it
// up. Planned (issue 5): "test.treatment.y1_months" … (R22, R23: int
// months per measure kind and year of the term), "test.surprise_min" (R24),
// "violation.refusals_max", "violation.departures_max",
// "violation.absence_days_max" (R9: HIGH, LawMax, so no jurisdiction can
// raise a threshold), and tier effects such as "checkin.tier.high.every_days"
// (R31, policy_tier.go).
var policySettings = append(append(append(append(append(generalSettings, incentiveSettings()...), tierSettings()...), breakGlassSettings...), identitySettings...), identitySignalSettings...)

// generalSettings are the settings that are not tier effects.
var generalSettings = []*Setting{
	{Key: "checkin.every_days", Kind: SettingInt, ZH: "签到频次", EN: "Check-in frequency", UnitZH: "天一次", UnitEN: "days between check-ins",
		Default: IntValue(1), Min: 1, Max: 30, Rule: "Q1, R34", Confidence: "UNCONFIRMED",
		HintZH: "每N天签到一次，1 表示每天。从应签到的第一天起算；新频次从生效之日起重新起算。非签到日不算漏签，也不计入签到率。国家无规定，属地方做法（DOMAIN 待确认问题1）。",
		HintEN: "Check in once every N days; 1 means daily. Counted from the first day a check-in is owed; a new frequency counts from the day it takes effect. Other days are neither missed nor in the check-in rate. No national rule: local practice (DOMAIN open question 1)."},
	{Key: "checkin.window", Kind: SettingWindow, ZH: "签到时段", EN: "Check-in window", UnitZH: "当地时间", UnitEN: "local time",
		Default: WindowValue("06:00", "22:00"), Rule: "Q1", Confidence: "UNCONFIRMED",
		HintZH: "含开始时刻，不含结束时刻，不跨午夜（结束可为 24:00）。", HintEN: "Start included, end excluded; not across midnight (the end may be 24:00)."},
	{Key: "checkin.area", Kind: SettingEnum, ZH: "签到区域", EN: "Check-in area", Default: EnumValue("county"),
		Options: []Option{{"county", "执行地所在县（区）", "county (district) of the place of execution"},
			{"township", "执行地所在乡镇（街道）", "township (street) of the place of execution"},
			{"community", "执行地社区（单位）", "community (unit) of the place of execution"}},
		Rule: "R8, R37", Confidence: "HIGH",
		HintZH: "签到位置须落在该机构的地理围栏内；县（区）是法规中“离开”的单位（R8）。", HintEN: "The check-in must fall inside that org's geofence; the county is the unit of \"leaving\" in law (R8)."},
	{Key: "checkin.accuracy_m", Kind: SettingInt, ZH: "定位精度阈值", EN: "GPS accuracy threshold", UnitZH: "米", UnitEN: "metres",
		Default: IntValue(200), Min: 10, Max: 2000, Rule: "R37", Confidence: "UNCONFIRMED",
		HintZH: "定位误差大于此值的签到判为“定位精度不足”。只在签到时采集位置（R37）。", HintEN: "A check-in whose fix is less accurate than this is marked poor accuracy. Location is taken only at check-in (R37)."},
	{Key: "checkin.selfie", Kind: SettingBool, ZH: "签到须自拍", EN: "Selfie required", Default: BoolValue(true), Rule: "R26, R36", Confidence: "LOW",
		HintZH: "照片属敏感个人信息，加密保存（R36）。", HintEN: "The photo is sensitive personal information and is stored encrypted (R36)."},
	// Which check-ins discharge the day's duty (issue 18 §2): local
	// practice. By default a check-in must pass every check; one taken
	// offline and sent on a later day still counts when its position
	// passed. Every figure (rate, calendar, board, inbox, the missed days
	// R9 counts) reads the judgement made with this rule (Discharges).
	{Key: "checkin.counts", Kind: SettingEnum, ZH: "哪些签到算完成", EN: "Check-ins that count as done", Default: EnumValue(CountsOKOrLate),
		Options: []Option{{CountsOKOrLate, "正常，或位置合格的补传", "ok, or synced late with a good position"},
			{CountsOK, "仅正常", "only ok"},
			{CountsLocated, "位置合格即可（不论时段、补传）", "a good position (window and lateness not weighed)"},
			{CountsAny, "任何签到（不论核验结果）", "any check-in, whatever failed"}},
		Rule: "Q1, R9", Confidence: "UNCONFIRMED",
		HintZH: "未算完成的签到，应用会告诉本人哪里不合格、须在时段内重新签到；当天仍算漏签。", HintEN: "A check-in that does not count tells the person in the app what failed and to check in again within the window; the day stays missed until one counts."},
	// The app's PIN (issue 18 §3): asked when the app opens after being
	// closed or idle this long, and, when the policy says so, before every
	// check-in. Local practice.
	{Key: "app.pin_idle_minutes", Kind: SettingInt, ZH: "应用闲置多久须重输密码", EN: "App idle time before the PIN is asked", UnitZH: "分钟", UnitEN: "minutes",
		Default: IntValue(5), Min: 1, Max: 240, Rule: "R36", Confidence: "UNCONFIRMED",
		HintZH: "应用关闭或闲置超过此时间，再打开时须输入6位密码。", HintEN: "When the app has been closed or idle this long, it asks for the 6-digit PIN on opening."},
	{Key: "app.pin_each_checkin", Kind: SettingBool, ZH: "每次签到前须输密码", EN: "PIN before every check-in", Default: BoolValue(false), Rule: "R36", Confidence: "UNCONFIRMED",
		HintZH: "开启后，每次签到前都须输入密码。", HintEN: "When on, the app asks for the PIN before every check-in."},
	// R8 (《戒毒条例》第19条, HIGH): leaving the county for 3 days or more
	// needs a written report. A jurisdiction may ask for the report from
	// fewer days (stricter), but a higher threshold would let a person stay
	// away 3 days without the report the law requires, so it is refused.
	{Key: "leave.threshold_days", Kind: SettingInt, ZH: "须请假的离县天数", EN: "Leave threshold", UnitZH: "天", UnitEN: "days",
		Default: IntValue(3), Min: 1, Max: 3, Rule: "R8", Confidence: "HIGH", LawMax: true,
		LawZH:  "《戒毒条例》第十九条规定离开县（区）3日以上须书面报告（R8），各地可从严（更少天数），不得高于3天",
		LawEN:  "the regulation (Art 19, R8) requires a written report for 3 days or more outside the county; a jurisdiction may be stricter (fewer days) but not above 3",
		HintZH: "离开执行地所在县（区）达到此天数须事先书面报告并请假。", HintEN: "Absence outside the county of this many days or more needs a written report (leave) beforehand."},
	// R8 asks for a written report (书面报告) before leaving, not approval;
	// approval workflows are local practice (DOMAIN §1.5). By the law's
	// reading a request filed and not yet decided covers its days (R9 does
	// not count them; the lead still decides it); a jurisdiction that makes
	// approval the condition turns this on.
	{Key: "leave.approval_required", Kind: SettingBool, ZH: "请假须批准后方可离开", EN: "Leave must be approved before leaving",
		Default: BoolValue(false), Rule: "R8, R9", Confidence: "HIGH",
		HintZH: "否（法规本义）：已提交书面请假申请即视为已报告，未审批期间离开不计擅自离开，由负责人审查；是：仅批准的请假可抵扣。被驳回或撤回的申请均不抵扣。",
		HintEN: "No (the law's reading): a filed leave request is the written report, so days away while it awaits a decision are not unauthorised and the lead reviews it; yes: only approved leave covers. A rejected or withdrawn request never covers."},
	// Drug test schedules (issue 5). R22 (社区戒毒, LOW–MED) and R23 (社区康复,
	// LOW): the scheduled test interval in months for each year of the term.
	// A rehabilitation term of two years or less uses test.rehab_short.months
	// throughout (R23: "2-yr: every 2 months").
	testMonths("test.treatment.y1_months", "社区戒毒第一年检测间隔", "Treatment, year 1: test interval", 1, "R22", "LOW–MED"),
	testMonths("test.treatment.y2_months", "社区戒毒第二年检测间隔", "Treatment, year 2: test interval", 2, "R22", "LOW–MED"),
	testMonths("test.treatment.y3_months", "社区戒毒第三年检测间隔", "Treatment, year 3: test interval", 3, "R22", "LOW–MED"),
	testMonths("test.rehab.y1_months", "社区康复第一年检测间隔", "Rehabilitation, year 1: test interval", 2, "R23", "LOW"),
	testMonths("test.rehab.y2_months", "社区康复第二年检测间隔", "Rehabilitation, year 2: test interval", 3, "R23", "LOW"),
	testMonths("test.rehab.y3_months", "社区康复第三年检测间隔", "Rehabilitation, year 3: test interval", 6, "R23", "LOW"),
	testMonths("test.rehab_short.months", "两年及以下社区康复检测间隔", "Rehabilitation of 2 years or less: test interval", 2, "R23", "LOW"),
	{Key: "test.surprise_min", Kind: SettingInt, ZH: "每期最少突击检测次数", EN: "Minimum surprise tests per term", UnitZH: "次", UnitEN: "tests",
		Default: IntValue(3), Min: 0, Max: 36, Rule: "R24", Confidence: "LOW",
		HintZH: "整个期限内在随机日期安排的突击检测的最少次数（R24）。", HintEN: "At least this many surprise tests on random days over the whole term (R24)."},
	{Key: "test.hours", Kind: SettingWindow, ZH: "检测报到时段", EN: "Test reporting hours", UnitZH: "当地时间", UnitEN: "local time",
		Default: WindowValue("08:30", "18:00"), Rule: "R22", Confidence: "UNCONFIRMED",
		HintZH: "抽中当天，人员须在此时段内到检测点报到；结束时刻即当天的截止时间。", HintEN: "On a drawn day the person must report to the test place within these hours; the end is that day's deadline."},
	// Where a person drawn for a test reports (issue 5 §2: "今天请到…检测").
	// Local practice: the police station of the place of execution.
	{Key: "test.place", Kind: SettingText, ZH: "检测地点", EN: "Test place", Default: TextValue("所属派出所"),
		Rule: "R22", Confidence: "UNCONFIRMED",
		HintZH: "抽中当天在应用中告诉人员去哪里检测，如“椰林派出所（迎宾路12号）”。", HintEN: "Shown in the app on a drawn day: where to go for the test, e.g. the police station and its address."},
	// R13 (戒毒条例 Art 24): a detained person's measure is suspended (中止)
	// and resumes on release; whether the days detained count toward the
	// term is not stated (UNCONFIRMED). Default: the clock continues, as for
	// a change of place (R11, "连续计算"). The choice is read on the first
	// day of each suspension and kept with it, so a later change of policy
	// does not re-judge a suspension already under way.
	{Key: "term.suspension_clock", Kind: SettingEnum, ZH: "中止期间期限计算", EN: "Term clock during suspension", Default: EnumValue(SuspensionClockContinue),
		Options: []Option{{SuspensionClockContinue, "继续计算（中止期间计入期限）", "continues (suspended days count toward the term)"},
			{SuspensionClockPause, "暂停计算（期满日顺延中止天数）", "pauses (the end date moves later by the suspended days)"}},
		Rule: "R13", Confidence: "UNCONFIRMED",
		HintZH: "被拘留、逮捕期间（中止）期限是否计算，法规未明确。暂停时，尚未报到者的15日报到期限也顺延；继续时，期间届满的报到期限改为释放当日。",
		HintEN: "The law does not say whether detention (suspension) counts toward the term. When paused, a pending 15-day report deadline moves later too; when continuing, a report deadline that fell during detention becomes the day of release."},
	// A test day inside approved leave that could not be moved (the whole
	// interval is leave) is a remote test: at a police station or hospital
	// at the destination, the report uploaded. Whether missing it is an
	// evasion (R9) is local practice: the person may find no place to test.
	{Key: "test.remote_missed_evasion", Kind: SettingBool, ZH: "异地检测未完成计为逃避检测", EN: "A missed remote test is an evasion",
		Default: BoolValue(false), Rule: "R9, R22", Confidence: "UNCONFIRMED",
		HintZH: "请假期间的异地检测日未上传检测报告时，是否计入逃避检测次数（R9）。默认否：由工作人员跟进。",
		HintEN: "Whether a remote test day (inside approved leave) with no report uploaded counts as an evasion toward R9. Default no: the worker follows it up."},
	// R17 with R21: DOMAIN is silent on forced tests of pregnant or nursing
	// women and minors under 16 (the law excludes them from 强戒, not from
	// testing), so whether to refuse one is local policy; off by default.
	{Key: "test.no_forced_special", Kind: SettingBool, ZH: "不对孕妇、哺乳期妇女和未满16周岁者强制检测", EN: "No forced test of pregnant or nursing women or minors under 16",
		Default: BoolValue(false), Rule: "R17, R21", Confidence: "UNCONFIRMED",
		HintZH: "法律规定上述人员不适用强制隔离戒毒，未禁止强制检测；开启后登记强制检测时将拒绝。", HintEN: "The law exempts them from compulsory isolation, not from testing; when on, the test form refuses a forced test of them."},
	// R9 (《戒毒条例》第20条, HIGH): a serious violation is ≥3 refusals or
	// evasions of tests, ≥3 unauthorised departures from the county, or more
	// than 30 days of unauthorised absence in total, over the whole term. A
	// jurisdiction may act sooner (a lower number) but never later.
	{Key: "violation.refusals_max", Kind: SettingInt, ZH: "拒绝、逃避检测次数（严重违反）", EN: "Test refusals or evasions (serious)", UnitZH: "次", UnitEN: "times",
		Default: IntValue(3), Min: 1, Max: 3, Rule: "R9", Confidence: "HIGH", LawMax: true,
		LawZH:  "《戒毒条例》第二十条：逃避或者拒绝接受检测3次以上即为严重违反（R9），各地可从严，不得高于3次",
		LawEN:  "the regulation (Art 20, R9): evading or refusing tests 3 times or more is a serious violation; a jurisdiction may be stricter but not above 3",
		HintZH: "整个期限内累计达到此次数即立为严重违反案件，须报告公安机关（R9、R10）。", HintEN: "Reaching this count over the whole term opens a serious case to be reported to the police (R9, R10)."},
	{Key: "violation.departures_max", Kind: SettingInt, ZH: "擅自离开执行地县（区）次数（严重违反）", EN: "Unauthorised departures (serious)", UnitZH: "次", UnitEN: "times",
		Default: IntValue(3), Min: 1, Max: 3, Rule: "R9", Confidence: "HIGH", LawMax: true,
		LawZH:  "《戒毒条例》第二十条：擅自离开执行地所在县（市、区）3次以上即为严重违反（R9），各地可从严，不得高于3次",
		LawEN:  "the regulation (Art 20, R9): leaving the county without permission 3 times or more is a serious violation; a jurisdiction may be stricter but not above 3",
		HintZH: "每次离开计一次（一次外出无论几天只计一次）。", HintEN: "Each trip counts once, however many days it lasts."},
	{Key: "violation.absence_days_max", Kind: SettingInt, ZH: "擅自离开累计天数上限", EN: "Cumulative unauthorised absence allowed", UnitZH: "天", UnitEN: "days",
		Default: IntValue(30), Min: 1, Max: 30, Rule: "R9", Confidence: "HIGH", LawMax: true,
		LawZH:  "《戒毒条例》第二十条：擅自离开累计超过30日即为严重违反（R9），各地可从严，不得高于30日",
		LawEN:  "the regulation (Art 20, R9): more than 30 days of unauthorised absence in total is a serious violation; a jurisdiction may be stricter but not above 30",
		HintZH: "整个期限内擅自离开的天数累计超过此值即立为严重违反案件。", HintEN: "More than this many days away without permission over the whole term opens a serious case."},
	// Screening scale bands (issue 11 §3; CARE.md "What to build" C): the
	// tables are in scales/scales.json; each administration stores the one
	// it was scored with (scales.go).
	scaleBandSetting("phq9"),
	scaleBandSetting("gad7"),
	scaleBandSetting("sdep"),
	scaleBandSetting("sds"),
	// Visit cadence (issue 11 §1, R27): local practice, no national rule.
	// The risk tiers (R31, a later issue) override them through
	// "visit.tier.<tier>.<cadence>.period" (VisitPeriodKey).
	visitPeriod("visit.home.period", "入户走访频次", "Home visit cadence", PeriodMonth,
		"每个自然月（或周、季度）至少入户走访一次；按执行地时区计算。", "At least one home visit per calendar month (or week, quarter), in the place's time zone."),
	visitPeriod("visit.contact.period", "联系频次（电访等）", "Contact cadence (phone and others)", PeriodWeek,
		"每个自然周（周一至周日）至少联系一次：接通的电话、视频、谈话或入户均可；未接通不算。", "At least one contact per calendar week (Monday to Sunday): a call that got through, a video call, an office talk or a home visit; an attempt does not count."),
	// Reports (issue 12, R33, R34): DOMAIN marks the KPI formulas
	// UNCONFIRMED and the staffing ratio local (MED), so both limits are
	// settings.
	{Key: "report.lost_contact_days", Kind: SettingInt, ZH: "失联天数", EN: "Lost-contact threshold", UnitZH: "天", UnitEN: "days",
		Default: IntValue(30), Min: 1, Max: 365, Rule: "R9, R34", Confidence: "UNCONFIRMED",
		HintZH: "执行中或请假的人员超过此天数没有成功的联系、有效签到或检测，即计为失联（默认30天，对应累计脱离监管超过30天的严重违反情形）。",
		HintEN: "A person executing or on leave with no successful contact, counted check-in or test for more than this many days counts as lost contact (default 30, matching the serious-violation rule of more than 30 days away)."},
	{Key: "report.caseload_max", Kind: SettingInt, ZH: "每名专干管理人数上限", EN: "Persons per worker (limit)", UnitZH: "人", UnitEN: "persons",
		Default: IntValue(30), Min: 1, Max: 500, Rule: "R33", Confidence: "MED",
		HintZH: "统计中每名专干管理的人数超过此数即标红提示（默认30，各地可定为20等）。",
		HintEN: "Reports flag an area whose persons per worker exceed this number (default 30; some places use 20)."},
	// Retention and sealing (issue 15; R38, R39): DOMAIN names no period
	// after which a released file is sealed, so it is a setting. The
	// default and the floor are three years: the R16 tracking of 戒断三年未复吸
	// runs for three years after the release and needs the file open, and
	// PIPL Art 55–56 processing records are kept at least three years (R36).
	{Key: "retention.seal_years", Kind: SettingInt, ZH: "解除后封存年限", EN: "Years after release before a file is sealed", UnitZH: "年", UnitEN: "years",
		Default: IntValue(SealYearsDefault), Min: SealYearsDefault, Max: 30, Rule: "R38, R39", Confidence: "UNCONFIRMED",
		HintZH: "解除之日起满此年数（按执行地当地日期计算）的档案由夜间任务封存：不再出现在名单、搜索、待办和统计名单中，记录不删除，往期统计仍计入；仅凭法定查询调阅。不得少于3年（解除后3年未复吸的跟踪期）。",
		HintEN: "A file is sealed by the nightly job once this many years have passed since the release (local date of the place): it leaves lists, search, the inbox and report lists, its records are kept and past figures still count them; only a statutory query opens it. At least 3 years (the 3-year no-relapse tracking after release)."},
}

// SealYearsDefault is the default and the least retention.seal_years.
const SealYearsDefault = 3

func visitPeriod(key, zh, en string, def VisitPeriod, hintZH, hintEN string) *Setting {
	return &Setting{Key: key, Kind: SettingEnum, ZH: zh, EN: en, Default: EnumValue(string(def)),
		Options: []Option{{string(PeriodWeek), "每周", "weekly"}, {string(PeriodMonth), "每月", "monthly"},
			{string(PeriodQuarter), "每季度", "quarterly"}, {string(PeriodOff), "不要求", "not required"}},
		Rule: "R27", Confidence: "LOW", HintZH: hintZH, HintEN: hintEN}
}

func testMonths(key, zh, en string, def int, rule, conf string) *Setting {
	return &Setting{Key: key, Kind: SettingInt, ZH: zh, EN: en, UnitZH: "个月一次", UnitEN: "months between scheduled tests",
		Default: IntValue(def), Min: 1, Max: 12, Rule: rule, Confidence: conf,
		HintZH: "在每个间隔内随机抽取一天安排例行检测。", HintEN: "One scheduled test falls on a random day inside each interval."}
}

// The values of term.suspension_clock (R13).
const (
	SuspensionClockContinue = "continue"
	SuspensionClockPause    = "pause"
)

// PolicySettings returns every setting, in display order.
func PolicySettings() []*Setting { return policySettings }

// PolicySetting returns the setting with the key.
func PolicySetting(key string) (*Setting, bool) {
	for _, s := range policySettings {
		if s.Key == key {
			return s, true
		}
	}
	return nil, false
}

// Label, Unit and Hint return the texts in the language ("zh" or "en").
func (s *Setting) Label(lang string) string { return pick(lang, s.ZH, s.EN) }
func (s *Setting) Unit(lang string) string  { return pick(lang, s.UnitZH, s.UnitEN) }
func (s *Setting) Hint(lang string) string  { return pick(lang, s.HintZH, s.HintEN) }

func pick(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}

// Format shows a value in the language: option labels, 是/否.
func (s *Setting) Format(v Value, lang string) string {
	if v.same {
		return pick(lang, "同一般设置", "same as the general setting")
	}
	switch s.Kind {
	case SettingEnum:
		for _, o := range s.Options {
			if o.Value == v.s {
				return pick(lang, o.ZH, o.EN)
			}
		}
	case SettingBool:
		if v.Bool() {
			return pick(lang, "是", "yes")
		}
		return pick(lang, "否", "no")
	case SettingWindow:
		return v.w.From.String() + "–" + v.w.To.String()
	}
	return v.String()
}

// Parse reads a value from its text form and checks it against the
// setting's type and bounds. The error names the setting's key as field.
func (s *Setting) Parse(text string) (Value, error) { return s.parse(text, true) }

// parse with bounds=false only checks the type: stored versions are read
// that way, so a bound tightened in a later release cannot stop every
// verdict (the bound was checked when the version was written).
func (s *Setting) parse(text string, bounds bool) (Value, error) {
	text = strings.TrimSpace(text)
	if s.Same != "" && text == SameValue {
		return Value{kind: s.Kind, same: true}, nil
	}
	// Each language is formatted on its own: the law's citation differs.
	bad := func(zh, en string) (Value, error) {
		return Value{}, &Error{Code: EINVALID, Field: s.Key, ZH: "“" + s.ZH + "”" + zh, EN: s.EN + ": " + en}
	}
	switch s.Kind {
	case SettingInt:
		n, err := strconv.Atoi(text)
		if err != nil {
			return bad(fmt.Sprintf("须为整数，收到 %q", text), fmt.Sprintf("must be a whole number, got %q", text))
		}
		if bounds && s.LawMax && n > s.Max {
			return bad(fmt.Sprintf("不能为%d：%s", n, s.LawZH), fmt.Sprintf("cannot be %d: %s", n, s.LawEN))
		}
		if bounds && (n < s.Min || n > s.Max) {
			return bad(fmt.Sprintf("须在 %d 到 %d 之间，收到 %d", s.Min, s.Max, n), fmt.Sprintf("must be between %d and %d, got %d", s.Min, s.Max, n))
		}
		return IntValue(n), nil
	case SettingDecimal:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return bad(fmt.Sprintf("须为小数（如 0.80），收到 %q", text), fmt.Sprintf("must be a decimal number (e.g. 0.80), got %q", text))
		}
		n := int(math.Round(f * 100))
		if math.Abs(f*100-float64(n)) > 1e-6 {
			return bad(fmt.Sprintf("最多两位小数，收到 %q", text), fmt.Sprintf("must have at most two decimal places, got %q", text))
		}
		if bounds && (n < s.Min || n > s.Max) {
			return bad(fmt.Sprintf("须在 %s 到 %s 之间，收到 %s", formatHundredths(s.Min), formatHundredths(s.Max), text),
				fmt.Sprintf("must be between %s and %s, got %s", formatHundredths(s.Min), formatHundredths(s.Max), text))
		}
		return DecimalValue(n), nil
	case SettingWindow:
		from, to, ok := strings.Cut(text, "-")
		f, ok1 := parseTimeOfDay(from)
		t, ok2 := parseTimeOfDay(to)
		if !ok || !ok1 || !ok2 {
			return bad(fmt.Sprintf("格式应为 HH:MM-HH:MM（如 06:00-22:00），收到 %q", text),
				fmt.Sprintf("must be written HH:MM-HH:MM (e.g. 06:00-22:00), got %q", text))
		}
		if f == 1440 || t <= f {
			return bad(fmt.Sprintf("结束时间（%s）须晚于开始时间（%s），时段不能跨午夜", t, f),
				fmt.Sprintf("the end (%s) must be after the start (%s); a window cannot cross midnight", t, f))
		}
		return Value{kind: SettingWindow, w: Window{f, t}}, nil
	case SettingEnum:
		var names []string
		for _, o := range s.Options {
			if o.Value == text {
				return EnumValue(text), nil
			}
			names = append(names, o.Value)
		}
		list := strings.Join(names, ", ")
		return bad(fmt.Sprintf("须为 %s 之一，收到 %q", list, text), fmt.Sprintf("must be one of %s, got %q", list, text))
	case SettingBool:
		switch strings.ToLower(text) {
		case "true", "1", "yes", "是":
			return BoolValue(true), nil
		case "false", "0", "no", "否":
			return BoolValue(false), nil
		}
		return bad(fmt.Sprintf("须为 true 或 false，收到 %q", text), fmt.Sprintf("must be true or false, got %q", text))
	case SettingText:
		if n := len([]rune(text)); n == 0 || n > 100 || strings.ContainsAny(text, "\r\n") {
			return bad("须为1到100字的一行文字", "must be one line of 1 to 100 characters")
		}
		return TextValue(text), nil
	}
	return Value{}, fmt.Errorf("setting %s: unknown kind %q", s.Key, s.Kind)
}

// ParseStoredSetting reads a stored value of a known setting, checking the
// type only. ok is false for a key this release does not know (a setting
// since removed), which callers skip.
func ParseStoredSetting(key, text string) (v *Value, ok bool, err error) {
	s, ok := PolicySetting(key)
	if !ok {
		return nil, false, nil
	}
	if text == InheritValue {
		return nil, true, nil
	}
	val, err := s.parse(text, false)
	if err != nil {
		return nil, true, err
	}
	return &val, true, nil
}

// PolicyTemplate is a set of values shipped in code for a jurisdiction,
// applied between the national default and the versions to every org whose
// area code, or an ancestor's, starts with AreaPrefix.
type PolicyTemplate struct {
	ID             string
	ZH, EN         string
	AreaPrefix     string
	Values         map[string]Value
	NoteZH, NoteEN string
}

// Name returns the template's name in the language.
func (t *PolicyTemplate) Name(lang string) string { return pick(lang, t.ZH, t.EN) }

// Note returns the template's caveat in the language.
func (t *PolicyTemplate) Note(lang string) string { return pick(lang, t.NoteZH, t.NoteEN) }

func defaultValues() map[string]Value {
	m := map[string]Value{}
	for _, s := range policySettings {
		m[s.Key] = s.Default
	}
	return m
}

// policyTemplates ship with the server. The Hainan template holds the
// national values on purpose: R42 says the 海南自由贸易港禁毒条例 (in force
// 2026-03-01) may change R8/R22/R28 for Hainan in its chapter 4, which
// nobody has read yet. It makes every Hainan setting show where it would
// change once someone has.
var policyTemplates = []*PolicyTemplate{
	{ID: "hainan", ZH: "海南省模板", EN: "Hainan template", AreaPrefix: "46", Values: defaultValues(),
		NoteZH: "与国家默认值相同。《海南自由贸易港禁毒条例》（2026-03-01施行）第四章尚未核实，可能改变请假、检测与报告规则（R42，待确认）。",
		NoteEN: "Same values as the national default. Chapter 4 of the Hainan FTP anti-drug regulation (in force 2026-03-01) has not been checked and may change leave, testing and reporting rules (R42, unconfirmed)."},
}

// PolicyTemplates returns the templates shipped in code.
func PolicyTemplates() []*PolicyTemplate { return policyTemplates }

// templateFor returns the template of the first org of the chain (root
// first) whose area code has a template's prefix, or nil.
func templateFor(chain []*Org) *PolicyTemplate {
	for _, o := range chain {
		for _, t := range policyTemplates {
			if o.AreaCode != "" && strings.HasPrefix(o.AreaCode, t.AreaPrefix) {
				return t
			}
		}
	}
	return nil
}

// PolicyVersion is a set of overrides attached to an org node from a local
// calendar date on. Settings maps a setting key to its value, or to nil
// when the version restores inheritance for that setting. A version is
// immutable once effective; until then it may be edited or withdrawn.
type PolicyVersion struct {
	ID             string
	OrgID          string
	OrgName        string
	OrgPath        string
	EffectiveFrom  Date
	Settings       map[string]*Value
	Note           string
	CreatedByID    string
	CreatedByName  string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Withdrawn      bool
	WithdrawnAt    time.Time
	WithdrawnBy    string
	WithdrawReason string
}

// State of a version on a date: "withdrawn", "scheduled" (not yet
// effective, editable) or "effective".
func (v *PolicyVersion) State(today Date) string {
	switch {
	case v.Withdrawn:
		return "withdrawn"
	case v.EffectiveFrom.After(today):
		return "scheduled"
	}
	return "effective"
}

// Keys returns the setting keys the version names, in table order.
func (v *PolicyVersion) Keys() []string {
	var out []string
	for _, s := range policySettings {
		if _, ok := v.Settings[s.Key]; ok {
			out = append(out, s.Key)
		}
	}
	return out
}

// Source says where a resolved value comes from.
type PolicySource struct {
	Kind          string // "national", "template" or "version"
	TemplateID    string
	VersionID     string
	OrgID         string
	OrgName       string
	EffectiveFrom Date
}

// Ref is what a computed duty or verdict records: the version id, or
// "national", or "template:<id>". Versions are immutable once effective,
// so a ref and a date reproduce the value.
func (s PolicySource) Ref() string {
	switch s.Kind {
	case "version":
		return s.VersionID
	case "template":
		return "template:" + s.TemplateID
	}
	return "national"
}

// ResolvedSetting is one setting's value in force and its source.
type ResolvedSetting struct {
	*Setting
	Value  Value
	Source PolicySource
}

// EffectivePolicy is every setting's value for an org on a local date.
type EffectivePolicy struct {
	OrgID    string
	Date     Date
	Template *PolicyTemplate
	Settings []ResolvedSetting // in table order
}

// Get returns the resolved setting with the key; ok is false for an
// unknown key.
func (p *EffectivePolicy) Get(key string) (ResolvedSetting, bool) {
	for _, r := range p.Settings {
		if r.Key == key {
			return r, true
		}
	}
	return ResolvedSetting{}, false
}

// Value returns the value of a setting; the zero Value for an unknown key.
func (p *EffectivePolicy) Value(key string) Value {
	r, _ := p.Get(key)
	return r.Value
}

// Refs returns the distinct sources (see PolicySource.Ref) of the named
// settings, sorted: what a verdict that used them records.
func (p *EffectivePolicy) Refs(keys ...string) []string {
	var out []string
	for _, k := range keys {
		if r, ok := p.Get(k); ok && !slices.Contains(out, r.Source.Ref()) {
			out = append(out, r.Source.Ref())
		}
	}
	slices.Sort(out)
	return out
}

// ResolvePolicy works out the policy for the last org of chain (the chain
// runs from the root down to that org) on a local date, from the versions
// attached to orgs of the chain. Withdrawn versions and versions effective
// after the date are ignored. For each setting, the deepest org with a
// version naming it wins, and at one org the latest effective date wins;
// a version naming a setting as "inherit" hands it back to the parent.
func ResolvePolicy(chain []*Org, versions []*PolicyVersion, date Date) *EffectivePolicy {
	p := &EffectivePolicy{Date: date, Template: templateFor(chain)}
	if len(chain) > 0 {
		p.OrgID = chain[len(chain)-1].ID
	}
	for _, s := range policySettings {
		r := ResolvedSetting{Setting: s, Value: s.Default, Source: PolicySource{Kind: "national"}}
		if t := p.Template; t != nil {
			if v, ok := t.Values[s.Key]; ok {
				r.Value, r.Source = v, PolicySource{Kind: "template", TemplateID: t.ID}
			}
		}
		for _, o := range chain {
			var best *PolicyVersion
			for _, v := range versions {
				if v.OrgID != o.ID || v.Withdrawn || v.EffectiveFrom.After(date) {
					continue
				}
				if _, named := v.Settings[s.Key]; named && (best == nil || v.EffectiveFrom.After(best.EffectiveFrom)) {
					best = v
				}
			}
			if best == nil || best.Settings[s.Key] == nil {
				continue
			}
			r.Value = *best.Settings[s.Key]
			r.Source = PolicySource{Kind: "version", VersionID: best.ID, OrgID: o.ID, OrgName: o.Name, EffectiveFrom: best.EffectiveFrom}
		}
		p.Settings = append(p.Settings, r)
	}
	return p
}

// PolicyVersionInput is what a lead or office submits: the date the
// version takes effect, the settings it overrides in their text form
// (InheritValue to restore inheritance), and the basis of the change.
type PolicyVersionInput struct {
	EffectiveFrom Date
	Settings      map[string]string
	Note          string
}

// Validate checks the input against the setting table and the date rule:
// a version takes effect tomorrow at the earliest in the org's zone, so a
// change never alters a day already begun. It returns the parsed settings;
// the error is an EINVALID *Error carrying every problem (FieldErrors as
// its cause), the first one's field as its own.
func (in *PolicyVersionInput) Validate(today Date) (map[string]*Value, error) {
	in.Note = strings.TrimSpace(in.Note)
	var errs FieldErrors
	if in.EffectiveFrom.IsZero() {
		errs = append(errs, Invalid("effective_from", "请填写生效日期", "the effective date is required"))
	} else if !in.EffectiveFrom.After(today) {
		errs = append(errs, Invalid("effective_from", "生效日期最早为明天（%s）：已开始的日子不能改变政策，收到 %s",
			"the effective date must be tomorrow (%s) or later: a day already begun keeps its policy; got %s", today.AddDays(1), in.EffectiveFrom))
	}
	if in.Note == "" {
		errs = append(errs, Invalid("note", "请填写依据或说明（如文件文号）", "state the basis of the change (e.g. the document number)"))
	} else if len([]rune(in.Note)) > 500 {
		errs = append(errs, Invalid("note", "说明不能超过500字", "the note must be at most 500 characters"))
	}
	out := map[string]*Value{}
	keys := make([]string, 0, len(in.Settings))
	for k := range in.Settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		text := strings.TrimSpace(in.Settings[k])
		s, ok := PolicySetting(k)
		if !ok {
			field := k
			if strings.TrimSpace(field) == "" {
				field = "settings" // an empty key still names where the problem is
			}
			// The key is not echoed: it is the field, and text typed by the
			// caller has no place in a catalogue message (FuzzPolicyVersion).
			errs = append(errs, Invalid(field, "未知的设置项", "unknown setting"))
			continue
		}
		if text == InheritValue {
			out[k] = nil
			continue
		}
		v, err := s.Parse(text)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				errs = append(errs, e)
			}
			continue
		}
		out[k] = &v
	}
	if len(in.Settings) == 0 {
		errs = append(errs, Invalid("settings", "请至少设置一项", "set at least one setting"))
	}
	if len(errs) > 0 {
		return nil, errs.asError()
	}
	return out, nil
}

// PolicyChange is one setting of a preview: what is in force on the date
// without the new version, and with it.
type PolicyChange struct {
	Before, After ResolvedSetting
	Changed       bool // the value differs (a named but equal value only changes its source)
}

// PolicyPreview is what a new version would change at its org on its date.
type PolicyPreview struct {
	Date    Date
	Changes []PolicyChange // the settings the version names, in table order
}

// DiffPolicy compares two resolutions for the keys a version names.
func DiffPolicy(before, after *EffectivePolicy, named map[string]*Value) *PolicyPreview {
	pv := &PolicyPreview{Date: after.Date}
	for i, b := range before.Settings {
		if _, ok := named[b.Key]; !ok {
			continue
		}
		a := after.Settings[i]
		pv.Changes = append(pv.Changes, PolicyChange{Before: b, After: a, Changed: a.Value != b.Value})
	}
	return pv
}
