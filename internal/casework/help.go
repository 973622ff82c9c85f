package casework

import (
	"strings"
	"unicode/utf8"
)

// Assistance, employment and help plans (issue 11 §4, PRODUCT §4: 帮扶救助,
// 就业指导). Who may do what:
//   - workers and leads record for the files they may write (a worker its
//     caseload, a lead its subtree);
//   - office and police read; police see employment and which help a person
//     gets (a methadone enrolment must reach them, R41) but not the amounts
//     of money paid nor the outcome notes: a welfare payment says nothing
//     about compliance, and minimisation (R37, PIPL Art 6) keeps what police
//     do not need away from them;
//   - counsellors see none of it (their minimal profile, PRODUCT §1).
const (
	PermViewHelp    Perm = "help.view"    // help plan, assistance, employment
	PermWriteHelp   Perm = "help.write"   // record them (with write access to the file)
	PermHelpAmounts Perm = "help.amounts" // see amounts paid and outcome notes
	PermViewEvents  Perm = "events.view"  // prevention and education events
	PermWriteEvents Perm = "events.write" // record and import them
)

// CanSeeHelpAmounts reports whether the actor sees amounts and outcome
// notes of assistance for a file at orgPath.
func CanSeeHelpAmounts(a *Actor, orgPath string) bool { return a.Can(PermHelpAmounts, orgPath) }

// AssistanceKind is a kind of help (帮扶救助).
type AssistanceKind string

// The kinds of assistance.
const (
	AidDibao     AssistanceKind = "dibao"     // 最低生活保障
	AidRelief    AssistanceKind = "relief"    // 临时救助
	AidMedical   AssistanceKind = "medical"   // 医疗转介
	AidMethadone AssistanceKind = "methadone" // 美沙酮维持治疗 (R41)
	AidTraining  AssistanceKind = "training"  // 技能培训
	AidHousing   AssistanceKind = "housing"   // 住房帮扶
	AidFamily    AssistanceKind = "family"    // 家庭帮扶
)

// AssistanceKinds lists the kinds in the order forms show them.
var AssistanceKinds = []AssistanceKind{AidDibao, AidRelief, AidMedical, AidMethadone, AidTraining, AidHousing, AidFamily}

var aidKindLabels = map[AssistanceKind][2]string{
	AidDibao: {"低保", "minimum living allowance (dibao)"}, AidRelief: {"临时救助", "temporary relief"},
	AidMedical: {"医疗转介", "medical referral"}, AidMethadone: {"美沙酮维持治疗", "methadone maintenance"},
	AidTraining: {"技能培训", "skills training"}, AidHousing: {"住房帮扶", "housing help"}, AidFamily: {"家庭帮扶", "family help"},
}

// Valid reports whether k is a known kind.
func (k AssistanceKind) Valid() bool { _, ok := aidKindLabels[k]; return ok }

// Label names the kind in the language.
func (k AssistanceKind) Label(lang string) string { return label(aidKindLabels[k], string(k), lang) }

// Monthly reports whether the amount of the kind is paid each month (低保);
// a relief amount is paid once.
func (k AssistanceKind) Monthly() bool { return k == AidDibao }

// AssistanceStatus is where an application or referral stands.
type AssistanceStatus string

// The statuses: applied → approved | refused; approved → ended.
const (
	AidApplied  AssistanceStatus = "applied"
	AidApproved AssistanceStatus = "approved"
	AidRefused  AssistanceStatus = "refused"
	AidEnded    AssistanceStatus = "ended"
)

// AssistanceStatuses lists the statuses in order.
var AssistanceStatuses = []AssistanceStatus{AidApplied, AidApproved, AidRefused, AidEnded}

var aidStatusLabels = map[AssistanceStatus][2]string{
	AidApplied: {"已申请", "applied"}, AidApproved: {"已批准/在享", "approved"}, AidRefused: {"未批准", "refused"}, AidEnded: {"已终止", "ended"},
}

// Valid reports whether s is a known status.
func (s AssistanceStatus) Valid() bool { _, ok := aidStatusLabels[s]; return ok }

// Label names the status in the language; a methadone enrolment reads as enrolled.
func (s AssistanceStatus) Label(lang string) string {
	return label(aidStatusLabels[s], string(s), lang)
}

// NextAid reports whether an assistance record may move from one status to
// another: a decision follows an application, and only what was approved
// can end. Staying put is not a move.
func NextAid(from, to AssistanceStatus) bool {
	switch from {
	case AidApplied:
		return to == AidApproved || to == AidRefused
	case AidApproved:
		return to == AidEnded
	}
	return false
}

// AssistanceInput is a new assistance record. Amount is in fen (分), so no
// float ever holds money.
type AssistanceInput struct {
	Kind      AssistanceKind
	Status    AssistanceStatus
	AppliedOn Date   // the application or referral
	DecidedOn Date   // approval or refusal; for a methadone record, enrolment
	EndedOn   Date   // ended
	AmountFen int64  // 低保: monthly; relief: once; others: 0
	Provider  string // clinic, agency, school, employer of a training
	Outcome   string
	Note      string
}

// Validate checks the input against today in the org's zone.
func (in *AssistanceInput) Validate(today Date) error {
	var errs FieldErrors // every bad field at once (issue 18 item 9)
	in.Provider, in.Outcome, in.Note = strings.TrimSpace(in.Provider), strings.TrimSpace(in.Outcome), strings.TrimSpace(in.Note)
	if !in.Kind.Valid() {
		errs.once(Invalid("kind", "请选择帮扶类型", "choose the kind of assistance"))
	}
	if in.Status == "" {
		in.Status = AidApplied
	}
	if !in.Status.Valid() {
		errs.once(Invalid("status", "未知的状态", "unknown status"))
	}
	if in.AppliedOn.IsZero() {
		errs.once(Invalid("applied_on", "请填写申请（转介）日期", "the date applied or referred is required"))
	}
	if in.AppliedOn.After(today) {
		errs.once(Invalid("applied_on", "申请日期不能晚于今天", "the application date cannot be in the future"))
	}
	if in.Status != AidApplied && in.DecidedOn.IsZero() {
		errs.once(Invalid("decided_on", "请填写批准或不批准的日期", "the decision date is required"))
	}
	if !in.DecidedOn.IsZero() && (in.DecidedOn.Before(in.AppliedOn) || in.DecidedOn.After(today)) {
		errs.once(Invalid("decided_on", "决定日期须在申请日期与今天之间", "the decision date must be between the application and today"))
	}
	if in.Status == AidEnded && in.EndedOn.IsZero() {
		errs.once(Invalid("ended_on", "请填写终止日期", "the end date is required"))
	}
	if !in.EndedOn.IsZero() && (in.DecidedOn.IsZero() || in.EndedOn.Before(in.DecidedOn)) {
		errs.once(Invalid("ended_on", "终止日期不能早于批准日期", "the end date cannot be before the approval"))
	}
	if in.AmountFen < 0 || in.AmountFen > 100_000_00 {
		errs.once(Invalid("amount", "金额须在0至10万元之间", "the amount must be between 0 and 100,000 yuan"))
	}
	if in.Kind == AidDibao && (in.Status == AidApproved || in.Status == AidEnded) && in.AmountFen == 0 {
		errs.once(Invalid("amount", "低保批准后须填写每月金额", "an approved dibao needs its monthly amount"))
	}
	if in.Kind == AidMethadone && in.Provider == "" {
		// R41: the enrolment is reported with its clinic.
		errs.once(Invalid("provider", "美沙酮维持治疗须填写门诊名称（R41）", "a methadone enrolment needs the clinic (R41)"))
	}
	for _, f := range []struct{ name, v string }{{"provider", in.Provider}, {"outcome", in.Outcome}, {"note", in.Note}} {
		if utf8.RuneCountInString(f.v) > 500 {
			errs.once(Invalid(f.name, "内容不能超过500个字", "at most 500 characters"))
		}
	}
	return errs.Err()
}

// EmploymentStatus is a person's work situation on a day, derived from the
// employment records (never typed on its own).
type EmploymentStatus string

// The statuses. Employed comes from a job covering the day; the three that
// say the person cannot be expected to work from a record of that kind;
// unemployed is what is left.
const (
	WorkEmployed   EmploymentStatus = "employed"
	WorkUnemployed EmploymentStatus = "unemployed"
	WorkUnable     EmploymentStatus = "unable"  // 丧失劳动能力
	WorkSchool     EmploymentStatus = "school"  // 在校
	WorkRetired    EmploymentStatus = "retired" // 退休
)

// EmploymentStatuses lists the statuses in order.
var EmploymentStatuses = []EmploymentStatus{WorkEmployed, WorkUnemployed, WorkUnable, WorkSchool, WorkRetired}

var workLabels = map[EmploymentStatus][2]string{
	WorkEmployed: {"在业", "employed"}, WorkUnemployed: {"待业", "unemployed"}, WorkUnable: {"无劳动能力", "unable to work"},
	WorkSchool: {"在校", "in school"}, WorkRetired: {"退休", "retired"},
}

// Valid reports whether s is a known status.
func (s EmploymentStatus) Valid() bool { _, ok := workLabels[s]; return ok }

// Label names the status in the language.
func (s EmploymentStatus) Label(lang string) string { return label(workLabels[s], string(s), lang) }

// CanWork reports whether a person in s counts in the employment rate's
// denominator.
func (s EmploymentStatus) CanWork() bool { return s == WorkEmployed || s == WorkUnemployed }

// How a job was found.
var JobSources = []string{"office", "self", "family", "agency", "other"}

var jobSourceLabels = map[string][2]string{
	"office": {"禁毒办/社区推荐", "found by the office"}, "self": {"自行求职", "found it themselves"},
	"family": {"亲友介绍", "through family or friends"}, "agency": {"职业介绍机构", "employment agency"}, "other": {"其他", "other"},
}

// JobSourceLabel names how a job was found.
func JobSourceLabel(s, lang string) string { return label(jobSourceLabels[s], s, lang) }

// EmploymentRecord is one period of a person's work life: a job, or a
// period of being unable to work, in school or retired. To is the last day
// (inclusive); zero means still so.
type EmploymentRecord struct {
	Kind     EmploymentStatus // employed (a job), unable, school, retired
	Employer string
	Job      string
	From     Date
	To       Date
	FoundBy  string // a job's source (JobSources)
}

// Covers reports whether the record covers day d: From ≤ d ≤ To.
func (r EmploymentRecord) Covers(d Date) bool {
	return !r.From.After(d) && (r.To.IsZero() || !r.To.Before(d))
}

// EmploymentOn derives the status on day d from a person's records: any job
// covering the day makes the person employed (overlapping jobs count once);
// else a period of being unable to work, in school or retired; else
// unemployed. A job whose last day is d still counts on d.
func EmploymentOn(recs []EmploymentRecord, d Date) EmploymentStatus {
	other := WorkUnemployed
	for _, r := range recs {
		if !r.Covers(d) {
			continue
		}
		if r.Kind == WorkEmployed {
			return WorkEmployed
		}
		other = r.Kind
	}
	return other
}

// EmploymentInput is a new or changed employment record.
type EmploymentInput struct {
	EmploymentRecord
	Note string
}

// Validate checks the input; today bounds the start.
func (in *EmploymentInput) Validate(today Date) error {
	var errs FieldErrors // every bad field at once (issue 18 item 9)
	in.Employer, in.Job, in.Note = strings.TrimSpace(in.Employer), strings.TrimSpace(in.Job), strings.TrimSpace(in.Note)
	if in.Kind == "" {
		in.Kind = WorkEmployed
	}
	if !in.Kind.Valid() || in.Kind == WorkUnemployed {
		errs.once(Invalid("kind", "请选择：工作、无劳动能力、在校或退休（待业无需登记，由记录推出）",
			"choose a job, unable to work, in school or retired (unemployed is derived, not recorded)"))
	}
	if in.Kind == WorkEmployed {
		if in.Employer == "" {
			errs.once(Invalid("employer", "请填写工作单位", "the employer is required"))
		}
		if in.Job == "" {
			errs.once(Invalid("job", "请填写岗位", "the job is required"))
		}
		if in.FoundBy == "" {
			in.FoundBy = "self"
		}
		if _, ok := jobSourceLabels[in.FoundBy]; !ok {
			errs.once(Invalid("found_by", "未知的求职途径", "unknown way the job was found"))
		}
	} else {
		in.Employer, in.Job, in.FoundBy = "", "", ""
	}
	if in.From.IsZero() {
		errs.once(Invalid("from", "请填写开始日期", "the start date is required"))
	}
	if in.From.After(today) {
		errs.once(Invalid("from", "开始日期不能晚于今天", "the start date cannot be in the future"))
	}
	if !in.To.IsZero() && in.To.Before(in.From) {
		errs.once(Invalid("to", "结束日期不能早于开始日期", "the end date cannot be before the start"))
	}
	for _, f := range []struct{ name, v string }{{"employer", in.Employer}, {"job", in.Job}, {"note", in.Note}} {
		if utf8.RuneCountInString(f.v) > 200 {
			errs.once(Invalid(f.name, "内容不能超过200个字", "at most 200 characters"))
		}
	}
	return errs.Err()
}

// HelpGoal is one goal of a help plan.
type HelpGoal struct {
	Goal    string `json:"goal"`            // 目标
	Actions string `json:"actions"`         // 措施
	Due     Date   `json:"due,omitzero"`    // 期限
	Done    bool   `json:"done,omitempty"`  // 已达成
	Owner   string `json:"owner,omitempty"` // 责任人
}

// HelpPlanInput is a person's help plan (帮扶计划): the needs found, the
// goals, and the next review date.
type HelpPlanInput struct {
	Needs      string
	Goals      []HelpGoal
	StartOn    Date
	NextReview Date
}

// HelpReviewMaxMonths bounds how far ahead a review may be set: a plan is
// looked at again at least twice a year (a working convention).
const HelpReviewMaxMonths = 6

// Validate checks the plan against today.
func (in *HelpPlanInput) Validate(today Date) error {
	var errs FieldErrors // every bad field at once (issue 18 item 9)
	in.Needs = strings.TrimSpace(in.Needs)
	var goals []HelpGoal
	for _, g := range in.Goals {
		g.Goal, g.Actions, g.Owner = strings.TrimSpace(g.Goal), strings.TrimSpace(g.Actions), strings.TrimSpace(g.Owner)
		if g.Goal == "" && g.Actions == "" {
			continue
		}
		if g.Goal == "" {
			errs.once(Invalid("goals", "每条措施须有目标", "each action needs its goal"))
		}
		if utf8.RuneCountInString(g.Goal) > 200 || utf8.RuneCountInString(g.Actions) > 500 {
			errs.once(Invalid("goals", "目标不能超过200字，措施不能超过500字", "a goal is at most 200 characters and its actions 500"))
		}
		goals = append(goals, g)
	}
	in.Goals = goals
	if len(in.Goals) == 0 {
		errs.once(Invalid("goals", "帮扶计划至少要有一个目标", "a help plan needs at least one goal"))
	}
	if utf8.RuneCountInString(in.Needs) > 1000 {
		errs.once(Invalid("needs", "需求评估不能超过1000字", "the needs are at most 1000 characters"))
	}
	if in.StartOn.IsZero() {
		in.StartOn = today
	}
	if in.NextReview.IsZero() {
		errs.once(Invalid("next_review", "请填写下次评估（回顾）日期", "the next review date is required"))
	}
	if in.NextReview.Before(in.StartOn) || in.NextReview.After(today.AddMonths(HelpReviewMaxMonths)) {
		errs.once(Invalid("next_review", "下次回顾日期须在计划开始之后、今天起6个月之内", "the next review must be after the start and within 6 months of today"))
	}
	return errs.Err()
}

// EventKind is a kind of prevention and education event (宣传教育).
type EventKind string

// The kinds of event.
const (
	EventLecture    EventKind = "lecture"
	EventExhibition EventKind = "exhibition"
	EventSchool     EventKind = "school"
	EventStreet     EventKind = "street"
	EventOnline     EventKind = "online"
)

// EventKinds lists the kinds in order.
var EventKinds = []EventKind{EventLecture, EventExhibition, EventSchool, EventStreet, EventOnline}

var eventKindLabels = map[EventKind][2]string{
	EventLecture: {"讲座", "lecture"}, EventExhibition: {"展览", "exhibition"}, EventSchool: {"进校园课堂", "school class"},
	EventStreet: {"街头宣传摊位", "street stand"}, EventOnline: {"线上宣传", "online"},
}

// Valid reports whether k is a known kind.
func (k EventKind) Valid() bool { _, ok := eventKindLabels[k]; return ok }

// Label names the kind in the language.
func (k EventKind) Label(lang string) string { return label(eventKindLabels[k], string(k), lang) }

// ParseEventKind finds a kind by its code or its label in either language
// (the import template shows the Chinese label).
func ParseEventKind(s string) (EventKind, bool) {
	s = strings.TrimSpace(s)
	for _, k := range EventKinds {
		if s == string(k) || s == k.Label("zh") || strings.EqualFold(s, k.Label("en")) {
			return k, true
		}
	}
	return "", false
}

// EventInput is a prevention event.
type EventInput struct {
	OrgID     string // organiser
	HeldOn    Date
	Place     string
	Topic     string
	Kind      EventKind
	Audience  int // 人次 reached
	Materials int // materials handed out (份)
	Note      string
}

// EventAudienceMax bounds the audience of one event (a stadium, an online
// broadcast): beyond it a typo is likelier than the crowd.
const EventAudienceMax = 1_000_000

// Validate checks the input.
func (in *EventInput) Validate(today Date) error {
	var errs FieldErrors // every bad field at once (issue 18 item 9)
	in.Place, in.Topic, in.Note = strings.TrimSpace(in.Place), strings.TrimSpace(in.Topic), strings.TrimSpace(in.Note)
	if in.OrgID == "" {
		errs.once(Invalid("org_id", "请选择主办单位", "choose the organiser"))
	}
	if in.HeldOn.IsZero() {
		errs.once(Invalid("held_on", "请填写活动日期", "the date is required"))
	}
	if in.HeldOn.After(today) {
		errs.once(Invalid("held_on", "活动日期不能晚于今天（只登记已开展的活动）", "the date cannot be in the future (record events held)"))
	}
	if in.Topic == "" {
		errs.once(Invalid("topic", "请填写主题", "the topic is required"))
	}
	if !in.Kind.Valid() {
		errs.once(Invalid("kind", "请选择活动形式", "choose the kind of event"))
	}
	if in.Place == "" && in.Kind != EventOnline {
		errs.once(Invalid("place", "请填写地点", "the place is required"))
	}
	if in.Audience < 0 || in.Audience > EventAudienceMax {
		errs.once(Invalid("audience", "受众人次须在0至100万之间", "the audience must be between 0 and 1,000,000"))
	}
	if in.Materials < 0 || in.Materials > EventAudienceMax {
		errs.once(Invalid("materials", "发放资料份数须在0至100万之间", "materials handed out must be between 0 and 1,000,000"))
	}
	// Free text: capped, no bidi or control characters (issue 15 §7).
	for _, f := range []struct {
		name, v string
		max     int
	}{{"topic", in.Topic, 100}, {"place", in.Place, 100}, {"note", in.Note, 500}} {
		if err := CheckText(f.name, f.v, f.max); err != nil {
			errs.once(err.(*Error))
		}
	}
	return errs.Err()
}

// ParseYuan reads an amount typed in yuan ("680", "680.5", "680.50") as
// fen; field names the input for the error.
func ParseYuan(field, s string) (int64, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "¥"))
	if s == "" {
		return 0, nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" || len(whole) > 9 {
		return 0, Invalid(field, "金额须为元，最多两位小数（如 680 或 680.50）", "give the amount in yuan with at most two decimals (e.g. 680 or 680.50)")
	}
	var fen int64
	for _, c := range whole {
		fen = fen*10 + int64(c-'0')
	}
	frac = (frac + "00")[:2]
	return fen*100 + int64(frac[0]-'0')*10 + int64(frac[1]-'0'), nil
}
