package casework

import "fmt"

// Incentives (积分; issue 14, CARE.md §1 and "What to build" A).
//
// What works in the trials behind contingency management (Higgins'
// vouchers, Petry's prizes) is a reward for *verified* abstinence that
// escalates with each consecutive negative test, is reset by a positive,
// refused or missed test, is given at once and is never taken back. The
// Guangdong practice (粤关爱) adds a flat point per self check-in. Both
// are here: a flat point per verified on-time check-in, and the
// escalating schedule for negative tests recorded by staff. Every number
// is policy (LOW or MEDIUM confidence in CARE.md A); the rules of the
// schedule (escalation, reset on a positive or missed test, return after
// five negatives, points never removed) are the HIGH ones.

// The incentive settings. Incentives are off until an office turns them
// on, and each person must consent besides (PIPL; issue 14 §1).
func incentiveSettings() []*Setting {
	n := func(key, zh, en string, def, min, max int, conf, hintZH, hintEN string) *Setting {
		return &Setting{Key: key, Kind: SettingInt, ZH: zh, EN: en, UnitZH: "分", UnitEN: "points",
			Default: IntValue(def), Min: min, Max: max, Rule: "CARE A", Confidence: conf, HintZH: hintZH, HintEN: hintEN}
	}
	return []*Setting{
		{Key: "incentive.enabled", Kind: SettingBool, ZH: "启用积分激励", EN: "Incentive points", Default: BoolValue(false),
			Rule: "CARE A", Confidence: "MED",
			HintZH: "开启后，本人书面同意的人员可按下列规则获得积分，在站点兑换实物（不兑现金）。",
			HintEN: "When on, persons who have consented earn points by the rules below, redeemed in kind at the station (never cash)."},
		n("incentive.checkin_points", "按时签到积分", "Points per on-time check-in", 1, 0, 10, "MED",
			"每天第一次核验通过（正常）的签到得分，不递增。", "The day's first check-in that passed every check earns this, without escalation."),
		n("incentive.test_base", "首次阴性检测积分", "Points for the first negative test", 10, 0, 1000, "LOW",
			"连续阴性的第一次，以及每次重置后的第一次。", "The first negative of a run, and the first after each reset."),
		n("incentive.test_increment", "连续阴性递增", "Increase per consecutive negative", 5, 0, 1000, "LOW",
			"每多一次连续阴性，奖励增加此数。", "Each further consecutive negative test earns this much more than the last."),
		n("incentive.run_bonus", "连续阴性奖励", "Run bonus", 40, 0, 1000, "LOW",
			"每连续若干次阴性另加的奖励。", "An extra award after every few consecutive negatives."),
		{Key: "incentive.run_bonus_every", Kind: SettingInt, ZH: "连续阴性奖励间隔", EN: "Run bonus every", UnitZH: "次阴性", UnitEN: "negatives",
			Default: IntValue(3), Min: 0, Max: 12, Rule: "CARE A", Confidence: "MED",
			HintZH: "0 表示不设连续奖励。", HintEN: "0 turns the run bonus off."},
		{Key: "incentive.return_after", Kind: SettingInt, ZH: "恢复原奖励所需连续阴性", EN: "Negatives to regain the earlier value", UnitZH: "次", UnitEN: "negatives",
			Default: IntValue(5), Min: 1, Max: 12, Rule: "CARE A", Confidence: "HIGH",
			HintZH: "重置后连续阴性达到此数，下一次奖励恢复到重置前的水平。", HintEN: "After this many consecutive negatives following a reset, the next award returns to its value before the reset."},
		n("incentive.session_points", "参加辅导积分", "Points per attended session", 0, 0, 10, "MED",
			"参加个别或团体辅导得分；0 表示不计。", "An attended counselling or group session earns this; 0 turns it off."),
		n("incentive.cap_12_weeks", "每人12周积分上限", "Cap per person per 12 weeks", 2000, 0, 100000, "LOW",
			"任意连续84天内获得的积分不超过此数；0 表示不设上限。", "No one earns more than this in any 84 days; 0 means no cap."),
		n("incentive.office_year_budget", "单位年度积分预算", "Office budget per year", 0, 0, 10000000, "LOW",
			"本单位一年内发放的积分总数上限；0 表示不设上限。达到后不再发放，并提示负责人。",
			"The most points an office issues in a calendar year; 0 means no limit. Beyond it nothing is awarded and the lead is told."),
		n("incentive.effective_min_12_weeks", "有效激励下限（12周）", "Least effective value per 12 weeks", 960, 0, 100000, "LOW",
			"按本规则12周内可得的最高积分低于此数时提示：试验中过低的激励（约80美元）无效，约240美元有效（1分≈0.25美元）。",
			"Warn when the most a person can earn in 12 weeks under this schedule is below this: in the trials about $80 did not work and about $240 did (1 point ≈ $0.25)."),
	}
}

// IncentiveSchedule is the schedule in force for a person on a day.
type IncentiveSchedule struct {
	Enabled         bool
	CheckinPoints   int
	TestBase        int
	TestIncrement   int
	RunBonus        int
	RunBonusEvery   int // 0: no run bonus
	ReturnAfter     int
	SessionPoints   int
	CapPer12Weeks   int // 0: no cap
	OfficeYearCap   int // 0: no cap
	EffectiveMin12w int
}

// IncentiveScheduleOf reads the schedule from a resolved policy.
func IncentiveScheduleOf(p *EffectivePolicy) IncentiveSchedule {
	i := func(k string) int { return p.Value("incentive." + k).Int() }
	return IncentiveSchedule{Enabled: p.Value("incentive.enabled").Bool(), CheckinPoints: i("checkin_points"),
		TestBase: i("test_base"), TestIncrement: i("test_increment"), RunBonus: i("run_bonus"), RunBonusEvery: i("run_bonus_every"),
		ReturnAfter: i("return_after"), SessionPoints: i("session_points"), CapPer12Weeks: i("cap_12_weeks"),
		OfficeYearCap: i("office_year_budget"), EffectiveMin12w: i("effective_min_12_weeks")}
}

// IncentiveKeys are the settings an award records the policy version of.
var IncentiveKeys = []string{"incentive.enabled", "incentive.checkin_points", "incentive.test_base", "incentive.test_increment",
	"incentive.run_bonus", "incentive.run_bonus_every", "incentive.return_after", "incentive.session_points", "incentive.cap_12_weeks",
	"incentive.office_year_budget"}

// The rules an award row names.
const (
	AwardCheckin   = "checkin"    // a verified on-time check-in (flat)
	AwardNegative  = "test_neg"   // a negative test (escalating)
	AwardRunBonus  = "test_bonus" // every few consecutive negatives
	AwardReset     = "test_reset" // a positive, refused or missed test: 0 points, the next award back to base
	AwardSession   = "session"    // an attended counselling session (flat)
	AwardReversal  = "reversal"   // a correction approved by a lead: the negative of an earlier row
	AwardRedeemed  = "redeemed"   // points spent on a reward
	AwardCorrected = "corrected"  // a manual correction approved by a lead
)

// TestEvent is what a recorded test outcome or a missed drawn test day
// does to the schedule.
type TestEvent string

const (
	TestEventNegative TestEvent = "negative"
	TestEventPositive TestEvent = "positive"
	TestEventRefused  TestEvent = "refused"
	TestEventMissed   TestEvent = "missed" // a drawn test day with no test (R9 evasion)
)

// IncentiveState is where a person's escalation stands: it is stored
// with each award row, so the next award follows from the last row and
// a changed schedule never rewrites what was earned.
type IncentiveState struct {
	Run      int `json:"run"`       // consecutive negatives since the last reset
	Next     int `json:"next"`      // value of the next negative's award; 0 before the first
	Return   int `json:"return"`    // value to regain after ReturnAfter negatives; 0 when none is pending
	Streak   int `json:"streak"`    // consecutive negatives in all, for the app
	LastSeen int `json:"last_seen"` // value of the last negative's award
}

// Award is one row the schedule gives for an event.
type Award struct {
	Rule   string
	Points int
}

// Test applies one test event to the state and returns the awards it
// gives (CARE.md A):
//
//   - a negative earns the current value (the base for the first of a
//     run), plus the run bonus on every RunBonusEvery-th consecutive
//     negative; the next value rises by TestIncrement;
//   - a positive, refused or missed test earns nothing and sets the next
//     value back to the base; points already earned are never removed;
//     the value it stood at is kept to be regained;
//   - after ReturnAfter consecutive negatives following a reset, the next
//     award returns to the value kept (if that is higher than where the
//     escalation has climbed back to). A lapse during the return keeps
//     the value to regain and starts the count again.
func (s IncentiveSchedule) Test(st IncentiveState, ev TestEvent) ([]Award, IncentiveState) {
	switch ev {
	case TestEventNegative:
		v := st.Next
		if v <= 0 {
			v = s.TestBase
		}
		st.Run++
		st.Streak++
		awards := []Award{{AwardNegative, v}}
		if s.RunBonusEvery > 0 && s.RunBonus > 0 && st.Run%s.RunBonusEvery == 0 {
			awards = append(awards, Award{AwardRunBonus, s.RunBonus})
		}
		st.LastSeen = v
		st.Next = v + s.TestIncrement
		if st.Return > 0 && st.Run >= s.ReturnAfter {
			st.Next = max(st.Next, st.Return)
			st.Return = 0
		}
		return awards, st
	case TestEventPositive, TestEventRefused, TestEventMissed:
		next := st.Next
		if next <= 0 {
			next = s.TestBase
		}
		st.Return = max(st.Return, next)
		if st.Return <= s.TestBase {
			st.Return = 0 // nothing to regain
		}
		st.Run, st.Streak, st.Next = 0, 0, s.TestBase
		return []Award{{AwardReset, 0}}, st
	}
	return nil, st
}

// NextNegative is the value of the next negative test's award and how
// many more negatives bring back the earlier value (0 when none is
// pending): what the app tells the person ("再坚持2次检测阴性，奖励恢复到X分").
func (s IncentiveSchedule) NextNegative(st IncentiveState) (value, toReturn, returnValue int) {
	value = st.Next
	if value <= 0 {
		value = s.TestBase
	}
	if st.Return > 0 {
		toReturn = max(s.ReturnAfter-st.Run, 0)
		returnValue = st.Return
	}
	return value, toReturn, returnValue
}

// Capped is the part of an award that fits under a cap, given what has
// been earned in the cap's window (cap 0: no cap).
func Capped(points, earned, cap int) int {
	if cap <= 0 || points <= 0 {
		return points
	}
	return max(min(points, cap-earned), 0)
}

// MaxIn12Weeks is the most a person can earn in 12 weeks with the given
// number of tests and check-in days, all verified: what the budget
// warning compares with EffectiveMin12w.
func (s IncentiveSchedule) MaxIn12Weeks(tests, checkins int) int {
	st, total := IncentiveState{}, checkins*s.CheckinPoints
	for range tests {
		var aw []Award
		aw, st = s.Test(st, TestEventNegative)
		for _, a := range aw {
			total += a.Points
		}
	}
	if s.CapPer12Weeks > 0 {
		total = min(total, s.CapPer12Weeks)
	}
	return total
}

// Warning says, in both languages, when the schedule cannot reach the
// value that showed an effect in the trials; "" when it can.
func (s IncentiveSchedule) Warning(tests, checkins int) (zh, en string) {
	m := s.MaxIn12Weeks(tests, checkins)
	if !s.Enabled || s.EffectiveMin12w <= 0 || m >= s.EffectiveMin12w {
		return "", ""
	}
	return fmt.Sprintf("按现行规则，12周内（%d次检测、%d天签到全部合格）最多可得%d分，低于有效激励下限%d分：试验显示激励过低无效。", tests, checkins, m, s.EffectiveMin12w),
		fmt.Sprintf("Under this schedule the most a person can earn in 12 weeks (%d tests and %d check-in days, all good) is %d points, below the effective minimum of %d: in the trials, rewards this low did not work.", tests, checkins, m, s.EffectiveMin12w)
}
