package casework

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Resident satisfaction and awareness surveys (满意度 / 知晓率; issue 12 §4,
// CARE.md §4 and "What to build" D, DOMAIN R34). An office publishes a
// survey per community; residents answer without an account; results are
// counted with the formulas below, shown in words beside every figure. The
// formulas are CARE.md D's defaults — an inference, since no official 禁毒
// formula was found — and are written in one place here.
const (
	PermViewSurveys   Perm = "surveys.view"   // results of the surveys of a subtree
	PermManageSurveys Perm = "surveys.manage" // publish, close, import a third party's results
)

// SatAnswer is an answer on the satisfaction scale: four points plus 不清楚
// (the last is not read aloud on the phone and is left out of the rate).
type SatAnswer string

// The satisfaction scale.
const (
	SatSatisfied    SatAnswer = "satisfied"    // 满意
	SatFairly       SatAnswer = "fairly"       // 比较满意
	SatNotVery      SatAnswer = "not_very"     // 不太满意
	SatDissatisfied SatAnswer = "dissatisfied" // 不满意
	SatUnknown      SatAnswer = "unknown"      // 不清楚
)

// SatAnswers lists the scale in order.
var SatAnswers = []SatAnswer{SatSatisfied, SatFairly, SatNotVery, SatDissatisfied, SatUnknown}

var satLabels = map[SatAnswer][2]string{
	SatSatisfied: {"满意", "satisfied"}, SatFairly: {"比较满意", "fairly satisfied"}, SatNotVery: {"不太满意", "not very satisfied"},
	SatDissatisfied: {"不满意", "dissatisfied"}, SatUnknown: {"不清楚", "don't know"},
}

// Label is the answer in the language.
func (a SatAnswer) Label(lang string) string { return label(satLabels[a], string(a), lang) }

// Valid reports whether a is on the scale.
func (a SatAnswer) Valid() bool { _, ok := satLabels[a]; return ok }

// SurveyItem is one question of a survey with its words.
type SurveyItem struct {
	Code   string
	ZH, EN string
}

// Text is the item in the language.
func (i SurveyItem) Text(lang string) string { return label([2]string{i.ZH, i.EN}, i.Code, lang) }

// SatItems are the satisfaction items of CARE.md D, in order.
var SatItems = []SurveyItem{
	{"gov", "您对当地政府重视禁毒工作的程度是否满意？", "Are you satisfied with how seriously the local government takes drug control?"},
	{"control", "您对吸毒人员管控力度是否满意？", "Are you satisfied with the supervision of people who use drugs?"},
	{"police", "您对公安机关打击毒品违法犯罪的力度是否满意？", "Are you satisfied with how hard the police act against drug crime?"},
	{"prevention", "您对本地毒品预防宣传教育的效果是否满意？", "Are you satisfied with the effect of local drug-prevention education?"},
	{"overall", "总体而言，您对本地禁毒工作是否满意？", "Overall, are you satisfied with local drug-control work?"},
}

// KnowledgeItem is a knowledge question scored right or wrong.
type KnowledgeItem struct {
	SurveyItem
	Options [][2]string // zh, en
	Right   int         // index of the right option
}

// KnowledgeItems is the default bank (CARE.md D: drug types, 依托咪酯, the
// legal consequences of drug use). At most KnowledgeMax items.
var KnowledgeItems = []KnowledgeItem{
	{SurveyItem{"etomidate", "含“依托咪酯”的电子烟（俗称“上头电子烟”）属于：", "E-cigarettes containing etomidate are:"},
		[][2]string{{"毒品，已列入国家管制", "a drug under state control"}, {"普通电子烟", "ordinary e-cigarettes"}, {"不清楚", "don't know"}}, 0},
	{SurveyItem{"law", "在我国，吸食毒品是：", "In China, taking drugs is:"},
		[][2]string{{"个人自由，不违法", "a personal choice, not unlawful"}, {"违法行为，可被拘留、罚款，责令社区戒毒或强制隔离戒毒", "unlawful: detention, a fine, community treatment or compulsory isolation"}, {"不清楚", "don't know"}}, 1},
	{SurveyItem{"types", "下列哪一种是毒品？", "Which of these is a drug?"},
		[][2]string{{"咖啡", "coffee"}, {"冰毒（甲基苯丙胺）", "ice (methamphetamine)"}, {"不清楚", "don't know"}}, 1},
}

// KnowledgeMax is the most knowledge items a survey may ask (the table has
// a column for each).
const KnowledgeMax = 5

// Age bands of a respondent; 18–65 are eligible by default (CARE.md D).
var AgeBands = []string{"under18", "18-29", "30-44", "45-65", "over65"}

var ageBandLabels = map[string][2]string{"under18": {"18岁以下", "under 18"}, "18-29": {"18–29岁", "18–29"}, "30-44": {"30–44岁", "30–44"},
	"45-65": {"45–65岁", "45–65"}, "over65": {"65岁以上", "over 65"}}

// AgeBandLabel is the band in the language.
func AgeBandLabel(b, lang string) string { return label(ageBandLabels[b], b, lang) }

// AgeBandEligible reports whether the band may answer (18–65).
func AgeBandEligible(b string) bool { return b != "under18" && b != "over65" }

// Respondent roles (CARE.md D).
var RespondentRoles = []string{"resident", "student", "parent", "cadre"}

var roleLabels = map[string][2]string{"resident": {"居民", "resident"}, "student": {"学生", "student"},
	"parent": {"家长", "parent"}, "cadre": {"干部", "cadre"}}

// RespondentRoleLabel is the role in the language.
func RespondentRoleLabel(r, lang string) string { return label(roleLabels[r], r, lang) }

// Channels through which a respondent learned about drugs.
var Channels = []string{"network", "tv", "school", "community", "other"}

var channelLabels = map[string][2]string{"network": {"网络", "internet"}, "tv": {"电视", "TV"}, "school": {"学校", "school"},
	"community": {"社区宣传", "community events"}, "other": {"其他", "other"}}

// ChannelLabel is the channel in the language.
func ChannelLabel(c, lang string) string { return label(channelLabels[c], c, lang) }

// SurveyAnswers are one respondent's answers. Nothing else about the
// respondent is asked: no name, phone or address (PIPL minimisation).
type SurveyAnswers struct {
	AgeBand   string
	Role      string
	Sat       []SatAnswer // one per SatItems
	Knowledge []int       // chosen option per KnowledgeItems
	Heard     bool        // took part in or heard of prevention activities
	Channel   string      // how they learned about drugs ("" none given)
}

// Validate checks the answers; each fault names its field (sat_<code>,
// k_<code>, age_band, role, channel).
func (a *SurveyAnswers) Validate() error {
	if !contains(AgeBands, a.AgeBand) {
		return Invalid("age_band", "请选择年龄段", "choose your age band")
	}
	if !AgeBandEligible(a.AgeBand) {
		return Invalid("age_band", "本调查面向18至65岁的居民，谢谢您的关注", "this survey is for residents aged 18 to 65; thank you for your interest")
	}
	if !contains(RespondentRoles, a.Role) {
		return Invalid("role", "请选择您的身份", "choose who you are")
	}
	if len(a.Sat) != len(SatItems) {
		return Invalid("sat_"+SatItems[min(len(a.Sat), len(SatItems)-1)].Code, "请回答每一道满意度问题", "answer every satisfaction question")
	}
	for i, s := range a.Sat {
		if !s.Valid() {
			return Invalid("sat_"+SatItems[i].Code, "请回答第%d题", "answer question %d", i+1)
		}
	}
	if len(a.Knowledge) != len(KnowledgeItems) {
		return Invalid("k_"+KnowledgeItems[min(len(a.Knowledge), len(KnowledgeItems)-1)].Code, "请回答每一道知识题", "answer every knowledge question")
	}
	for i, k := range a.Knowledge {
		if k < 0 || k >= len(KnowledgeItems[i].Options) {
			return Invalid("k_"+KnowledgeItems[i].Code, "请回答第%d题", "answer question %d", len(SatItems)+i+1)
		}
	}
	if a.Channel != "" && !contains(Channels, a.Channel) {
		return Invalid("channel", "未知的渠道", "unknown channel")
	}
	return nil
}

// Canonical is the answers as one string: the same answers give the same
// string (the duplicate fingerprint hashes it with the address).
func (a *SurveyAnswers) Canonical() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%t|%s", a.AgeBand, a.Role, a.Heard, a.Channel)
	for _, s := range a.Sat {
		b.WriteString("|" + string(s))
	}
	for _, k := range a.Knowledge {
		fmt.Fprintf(&b, "|%d", k)
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SurveyCounts are the numerators and denominators of the two rates.
//
//	满意率 = (满意 + 比较满意) ÷ (satisfaction answers − 不清楚) × 100%
//	知晓率 = knowledge answers right ÷ (respondents × knowledge items) × 100%
//
// Every satisfaction item's answer counts (CARE.md D; the Huizhou decimals
// suggest averaging across items), 不清楚 is left out of the denominator, and
// a knowledge item answered 不清楚 counts as not known.
type SurveyCounts struct {
	Respondents int `json:"respondents"`
	Satisfied   int `json:"satisfied"`     // 满意 + 比较满意 answers
	Valid       int `json:"valid_answers"` // satisfaction answers other than 不清楚
	Unknown     int `json:"unknown_answers"`
	Correct     int `json:"correct"`         // knowledge answers right
	Asked       int `json:"knowledge_asked"` // respondents × knowledge items
}

// Add sums two counts.
func (c SurveyCounts) Add(o SurveyCounts) SurveyCounts {
	return SurveyCounts{c.Respondents + o.Respondents, c.Satisfied + o.Satisfied, c.Valid + o.Valid, c.Unknown + o.Unknown,
		c.Correct + o.Correct, c.Asked + o.Asked}
}

// SatisfactionRate is 满意率 in percent; ok is false with no valid answer.
func (c SurveyCounts) SatisfactionRate() (pct float64, ok bool) { return rate(c.Satisfied, c.Valid) }

// AwarenessRate is 知晓率 in percent; ok is false with nothing asked.
func (c SurveyCounts) AwarenessRate() (pct float64, ok bool) { return rate(c.Correct, c.Asked) }

func rate(n, d int) (float64, bool) {
	if d <= 0 {
		return 0, false
	}
	return float64(n) * 100 / float64(d), true
}

// SurveyTargets are the thresholds results are flagged against (Hangzhou's
// 示范创建 table: above 95% earns 3 points, 98% or more earns 5).
var SurveyTargets = [2]float64{95, 98}

// SurveyFlag says where a rate stands against SurveyTargets: "" (no rate),
// "below", "above95" (more than 95%) or "met98" (98% or more).
func SurveyFlag(pct float64, ok bool) string {
	switch {
	case !ok:
		return ""
	case pct >= SurveyTargets[1]:
		return "met98"
	case pct > SurveyTargets[0]:
		return "above95"
	}
	return "below"
}

// SurveyInput publishes a survey for a community.
type SurveyInput struct {
	OrgID        string
	Title        string
	OpensOn      Date
	ClosesOn     Date
	MaxResponses int
}

// SurveyResponseCap bounds a survey's cap (a street intercept collects
// hundreds; a city-wide CATI run a few thousand).
const SurveyResponseCap = 100_000

// Validate checks a survey; today is the org's local date.
func (in *SurveyInput) Validate(today Date) error {
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" || utf8.RuneCountInString(in.Title) > 100 {
		return Invalid("title", "请填写调查名称（100字以内）", "give the survey a title (at most 100 characters)")
	}
	if in.OpensOn.IsZero() {
		return Invalid("opens_on", "请填写开始日期", "give the first day")
	}
	if in.ClosesOn.IsZero() || in.ClosesOn.Before(in.OpensOn) {
		return Invalid("closes_on", "结束日期不能早于开始日期", "the last day cannot be before the first")
	}
	if in.ClosesOn.Before(today) {
		return Invalid("closes_on", "结束日期已过", "the last day has passed")
	}
	if in.ClosesOn.After(in.OpensOn.AddDays(366)) {
		return Invalid("closes_on", "调查期最长一年", "a survey runs for at most a year")
	}
	if in.MaxResponses < 1 || in.MaxResponses > SurveyResponseCap {
		return Invalid("max_responses", "答卷上限须在1到%d之间", "the cap must be between 1 and %d", SurveyResponseCap)
	}
	return nil
}

// SurveyImportInput is a third party's result for one community and
// period: totals counted the same way as our own responses.
type SurveyImportInput struct {
	OrgID          string
	From, To       Date
	Source         string
	Respondents    int
	Satisfied      int // 满意 + 比较满意 answers
	Valid          int // satisfaction answers other than 不清楚
	KnowledgeItems int // knowledge items per respondent
	Correct        int // knowledge answers right
}

// Validate checks the totals fit together; each fault names its field.
func (in *SurveyImportInput) Validate(today Date) error {
	in.Source = strings.TrimSpace(in.Source)
	switch {
	case in.From.IsZero():
		return Invalid("from", "请填写调查开始日期", "give the first day of the survey")
	case in.To.IsZero() || in.To.Before(in.From):
		return Invalid("to", "结束日期不能早于开始日期", "the last day cannot be before the first")
	case in.To.After(today):
		return Invalid("to", "结束日期不能晚于今天", "the last day cannot be in the future")
	case in.Source == "" || utf8.RuneCountInString(in.Source) > 100:
		return Invalid("source", "请填写调查机构（100字以内）", "name who ran the survey (at most 100 characters)")
	case in.Respondents < 1 || in.Respondents > 10_000_000:
		return Invalid("respondents", "受访人数须为正整数", "respondents must be a positive whole number")
	case in.Valid < 0 || in.Valid > in.Respondents*len(SatItems)*4:
		return Invalid("valid", "有效满意度回答数不合理（不能为负，也不能远超受访人数）", "valid satisfaction answers must be zero or more and fit the respondents")
	case in.Satisfied < 0 || in.Satisfied > in.Valid:
		return Invalid("satisfied", "满意回答数（%d）不能超过有效回答数（%d）", "satisfied answers (%d) cannot exceed valid answers (%d)", in.Satisfied, in.Valid)
	case in.KnowledgeItems < 0 || in.KnowledgeItems > 100:
		return Invalid("knowledge_items", "每人知识题数须在0到100之间", "knowledge items per respondent must be between 0 and 100")
	case in.Correct < 0 || in.Correct > in.Respondents*in.KnowledgeItems:
		return Invalid("correct", "答对数（%d）不能超过受访人数×题数（%d）", "right answers (%d) cannot exceed respondents × items (%d)",
			in.Correct, in.Respondents*in.KnowledgeItems)
	}
	return nil
}

// PermEditOrgYears lets an office enter the population and staffing of the
// orgs of its subtree for a year (org_years; issue 12 §3).
const PermEditOrgYears Perm = "orgs.years"

// OrgYearInput is what the yearly work summary needs of an org for a year
// that no record holds: the resident population and the staffing by kind.
type OrgYearInput struct {
	OrgID         string
	Year          int
	Population    int
	Specialists   int // 禁毒专干
	SocialWorkers int // 社工
	Police        int // 社区民警
	Counsellors   int // 心理/医务
	Others        int
	Note          string
}

// Workers is the staff of all kinds.
func (in OrgYearInput) Workers() int {
	return in.Specialists + in.SocialWorkers + in.Police + in.Counsellors + in.Others
}

// Validate checks the year (2000 to next year) and the counts; each fault
// names its field.
func (in *OrgYearInput) Validate(today Date) error {
	in.Note = strings.TrimSpace(in.Note)
	if in.Year < 2000 || in.Year > today.Year+1 {
		return Invalid("year", "年份须在2000年至%d年之间", "the year must be between 2000 and %d", today.Year+1)
	}
	if in.Population < 0 || in.Population > 200_000_000 {
		return Invalid("population", "常住人口须为0至2亿之间的整数", "the population must be a whole number between 0 and 200 million")
	}
	for _, f := range []struct {
		field string
		n     int
	}{{"specialists", in.Specialists}, {"social_workers", in.SocialWorkers}, {"police", in.Police}, {"counsellors", in.Counsellors}, {"others", in.Others}} {
		if f.n < 0 || f.n > 100_000 {
			return Invalid(f.field, "人数须为0至100000之间的整数", "give a whole number between 0 and 100000")
		}
	}
	if utf8.RuneCountInString(in.Note) > 500 {
		return Invalid("note", "备注不超过500字", "the note has at most 500 characters")
	}
	return nil
}
