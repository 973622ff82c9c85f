package casework

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Leave of absence (请假, R8) and working away (外出务工), with the local
// approval workflow (R28, LOW; DOMAIN §1.5).
//
// States: draft → pending → approved / rejected / withdrawn; approved →
// extension_requested → approved again (the extension granted or refused);
// approved → return_pending (the person reports back in the app, 销假) →
// returned (staff confirm); staff recording a return report on paper go
// straight to returned. "Overdue" is not stored: it is derived on every
// read from the org's local date (the end date has passed and no return
// report exists), so it needs no job and cannot go stale.
//
// The measure's status follows the approved period (R30 start_leave /
// end_leave): an approval whose first day has come moves 执行中 → 请假 at
// once, effective from the first day; an approval of a future period does
// so on its first day (store.StartDueLeaves, run by the periodic job, and
// also on every approval). The return report — not the end date — ends the
// leave (请假 → 执行中): a person who does not report back stays on leave
// and is flagged overdue, which is what the worker must follow up.

// LeaveKind is a leave of absence or working away.
type LeaveKind string

// The kinds.
const (
	LeaveKindLeave    LeaveKind = "leave"     // 请假
	LeaveKindWorkAway LeaveKind = "work_away" // 外出务工
)

// Valid reports whether k is known.
func (k LeaveKind) Valid() bool { return k == LeaveKindLeave || k == LeaveKindWorkAway }

// Label names the kind in the language.
func (k LeaveKind) Label(lang string) string {
	switch k {
	case LeaveKindLeave:
		return label([2]string{"请假", "leave"}, string(k), lang)
	case LeaveKindWorkAway:
		return label([2]string{"外出务工", "working away"}, string(k), lang)
	}
	return string(k)
}

// LeaveState is a state of a leave request (R28).
type LeaveState string

// The states.
const (
	LeaveDraft              LeaveState = "draft"
	LeavePending            LeaveState = "pending"
	LeaveApproved           LeaveState = "approved"
	LeaveRejected           LeaveState = "rejected"
	LeaveWithdrawn          LeaveState = "withdrawn"
	LeaveExtensionRequested LeaveState = "extension_requested"
	LeaveReturnPending      LeaveState = "return_pending"
	LeaveReturned           LeaveState = "returned"
	// LeaveOverdue is derived, never stored (see EffectiveLeaveState).
	LeaveOverdue LeaveState = "overdue"
)

var leaveStateLabels = map[LeaveState][2]string{
	LeaveDraft:              {"草稿", "draft"},
	LeavePending:            {"待审批", "pending approval"},
	LeaveApproved:           {"已批准", "approved"},
	LeaveRejected:           {"未批准", "rejected"},
	LeaveWithdrawn:          {"已撤回", "withdrawn"},
	LeaveExtensionRequested: {"续假待审批", "extension requested"},
	LeaveReturnPending:      {"销假待确认", "return report pending"},
	LeaveReturned:           {"已销假", "returned"},
	LeaveOverdue:            {"超期未销假", "overdue"},
}

// Valid reports whether s is a known state.
func (s LeaveState) Valid() bool { _, ok := leaveStateLabels[s]; return ok }

// Label names the state in the language.
func (s LeaveState) Label(lang string) string { return label(leaveStateLabels[s], string(s), lang) }

// Away reports whether the person is (or may be) away in s: the approved
// period runs until the return report.
func (s LeaveState) Away() bool { return s == LeaveApproved || s == LeaveExtensionRequested }

// LeaveAction is a step of the leave workflow.
type LeaveAction string

// The actions.
const (
	LeaveSubmit           LeaveAction = "submit"            // 提交
	LeaveApprove          LeaveAction = "approve"           // 批准 (a lead)
	LeaveReject           LeaveAction = "reject"            // 不批准 (a lead)
	LeaveWithdraw         LeaveAction = "withdraw"          // 撤回
	LeaveRequestExtension LeaveAction = "request_extension" // 续假
	LeaveReportReturn     LeaveAction = "report_return"     // 销假（本人报告）
	LeaveConfirmReturn    LeaveAction = "confirm_return"    // 确认销假 (staff)
)

var leaveActionLabels = map[LeaveAction][2]string{
	LeaveSubmit:           {"提交", "submit"},
	LeaveApprove:          {"批准", "approve"},
	LeaveReject:           {"不批准", "reject"},
	LeaveWithdraw:         {"撤回", "withdraw"},
	LeaveRequestExtension: {"申请续假", "request an extension"},
	LeaveReportReturn:     {"销假", "report back"},
	LeaveConfirmReturn:    {"确认销假", "confirm the return"},
}

// Label names the action in the language.
func (a LeaveAction) Label(lang string) string {
	return label(leaveActionLabels[a], string(a), lang)
}

// leaveTransitions is the machine: every pair not listed is refused. Reject
// of an extension request returns to approved with the old end date.
var leaveTransitions = []struct {
	action LeaveAction
	from   LeaveState
	to     LeaveState
}{
	{LeaveSubmit, LeaveDraft, LeavePending},
	{LeaveApprove, LeavePending, LeaveApproved},
	{LeaveApprove, LeaveExtensionRequested, LeaveApproved},
	{LeaveReject, LeavePending, LeaveRejected},
	{LeaveReject, LeaveExtensionRequested, LeaveApproved},
	{LeaveWithdraw, LeaveDraft, LeaveWithdrawn},
	{LeaveWithdraw, LeavePending, LeaveWithdrawn},
	{LeaveRequestExtension, LeaveApproved, LeaveExtensionRequested},
	{LeaveReportReturn, LeaveApproved, LeaveReturnPending},
	{LeaveReportReturn, LeaveExtensionRequested, LeaveReturnPending},
	{LeaveConfirmReturn, LeaveReturnPending, LeaveReturned},
}

// LeaveActions lists every action.
var LeaveActions = []LeaveAction{LeaveSubmit, LeaveApprove, LeaveReject, LeaveWithdraw, LeaveRequestExtension, LeaveReportReturn, LeaveConfirmReturn}

// LeaveStates lists every stored state.
var LeaveStates = []LeaveState{LeaveDraft, LeavePending, LeaveApproved, LeaveRejected, LeaveWithdrawn, LeaveExtensionRequested, LeaveReturnPending, LeaveReturned}

// LeaveTransition returns the state action leads to from from; a pair the
// machine does not allow is ECONFLICT naming both, in both languages.
func LeaveTransition(from LeaveState, action LeaveAction) (LeaveState, error) {
	if _, ok := leaveActionLabels[action]; !ok {
		return "", Invalid("action", "未知操作：%q", "unknown action %q", string(action))
	}
	for _, t := range leaveTransitions {
		if t.action == action && t.from == from {
			return t.to, nil
		}
	}
	return "", &Error{Code: ECONFLICT,
		ZH: fmt.Sprintf("该请假申请当前为“%s”，不能“%s”", from.Label("zh"), action.Label("zh")),
		EN: fmt.Sprintf("cannot %s: the request is %s", action.Label("en"), from.Label("en"))}
}

// AllowedLeaveActions returns the actions allowed from s.
func AllowedLeaveActions(s LeaveState) []LeaveAction {
	var out []LeaveAction
	for _, a := range LeaveActions {
		if _, err := LeaveTransition(s, a); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// LeaveActionWhen checks an action the state machine allows against the
// calendar of the leave (issue 18 §14, R28, R8), on today (the local date
// at the person's place):
//   - 销假 (report_return) only once the leave has begun (its first day has
//     come, or the measure already went on leave for it): before that
//     nobody has left, and there is nothing to report back from;
//   - 续假 (request_extension) only while the leave has not ended (today is
//     not after its last day — an overdue person reports back and is
//     dealt with as overdue, an extension cannot cover the days already
//     over) and while the period is under the longest allowed (90 days of
//     leave, a year working away). One extension at a time: the state
//     machine refuses a second request while one is pending. The law sets
//     no number of extensions (R8 asks for a report before leaving; the
//     length cap is what bounds a leave), so an approved extension may be
//     followed by another within the cap.
//
// Both the pages (which offer only what passes) and the store (which
// refuses the rest) use it.
func LeaveActionWhen(a LeaveAction, kind LeaveKind, from, to, today Date, started bool) error {
	switch a {
	case LeaveReportReturn:
		if today.Before(from) && !started {
			return Errorf(ECONFLICT, "请假尚未开始（%s起），不能销假", "the leave has not begun (it starts on %s): there is nothing to report back from", from)
		}
	case LeaveRequestExtension:
		if !to.IsZero() && today.After(to) {
			return Errorf(ECONFLICT, "请假已于%s结束，已超期，不能再续假；请先销假", "the leave ended on %s and is overdue: it can no longer be extended; report back instead", to)
		}
		max := MaxLeaveDays
		if kind == LeaveKindWorkAway {
			max = MaxWorkAwayDays
		}
		if LeaveDays(from, to) >= max {
			return Errorf(ECONFLICT, "请假已达上限%d天，不能再续假", "the period already has the most days allowed (%d): it cannot be extended", max)
		}
	}
	return nil
}

// LeaveActionsOn returns the actions allowed from s that also make sense
// on today (LeaveActionWhen).
func LeaveActionsOn(s LeaveState, kind LeaveKind, from, to, today Date, started bool) []LeaveAction {
	var out []LeaveAction
	for _, a := range AllowedLeaveActions(s) {
		if LeaveActionWhen(a, kind, from, to, today, started) == nil {
			out = append(out, a)
		}
	}
	return out
}

// EffectiveLeaveState is the state shown on today (the org's local date):
// an approved period whose end date has passed without a return report is
// overdue (超期未销假).
func EffectiveLeaveState(s LeaveState, to, today Date) LeaveState {
	if s.Away() && !to.IsZero() && today.After(to) {
		return LeaveOverdue
	}
	return s
}

// LeaveOverdueDays is how many days after the end date today is, for an
// away state; 0 when not overdue.
func LeaveOverdueDays(s LeaveState, to, today Date) int {
	if EffectiveLeaveState(s, to, today) != LeaveOverdue {
		return 0
	}
	return to.DaysUntil(today)
}

// DefaultLeaveThresholdDays is R8's threshold: absence from the county for
// 3 days or more needs a written report. Policy setting
// leave.threshold_days may change it per org.
const DefaultLeaveThresholdDays = 3

// Limits on a period.
const (
	MaxLeaveDays    = 90  // a leave longer than this is working away
	MaxWorkAwayDays = 366 // working away is renewed yearly
)

// LeaveDays counts the calendar days of an absence, both ends included.
func LeaveDays(from, to Date) int { return from.DaysUntil(to) + 1 }

// LeaveRequired reports whether an absence of days needs the report (R8):
// days ≥ threshold. A shorter request is accepted as informational.
func LeaveRequired(days, threshold int) bool {
	if threshold <= 0 {
		threshold = DefaultLeaveThresholdDays
	}
	return days >= threshold
}

// LeaveInput is a leave request as the person (app) or a worker (on the
// person's behalf, from a paper request) gives it.
type LeaveInput struct {
	Kind        LeaveKind
	Province    string // GB/T 2260 code or name
	City        string // code or name; within Hainan one of its cities
	Lat, Lng    *float64
	RadiusM     *int
	From, To    Date
	Reason      string
	Employer    string // working away
	WorkAddress string // working away
}

// Validate checks the input against today (the org's local date) and
// normalises the destination to codes and names. It returns the number of
// days.
func (in *LeaveInput) Validate(today Date) (int, error) {
	if in.Kind == "" {
		in.Kind = LeaveKindLeave
	}
	if !in.Kind.Valid() {
		return 0, Invalid("kind", "类型应为请假（leave）或外出务工（work_away）", "kind must be leave or work_away")
	}
	var errs FieldErrors // every bad field at once (issue 18 item 9)
	prov, ok := FindProvince(in.Province)
	in.City = strings.TrimSpace(in.City)
	switch {
	case !ok:
		errs = append(errs, Invalid("destination_province", "请从列表中选择目的地省份", "choose the destination province from the list"))
		if in.City == "" {
			errs = append(errs, Invalid("destination_city", "请填写目的地城市", "the destination city is required"))
		}
	case in.City == "":
		in.Province = prov.Code
		errs = append(errs, Invalid("destination_city", "请填写目的地城市", "the destination city is required"))
	case len(prov.Cities) > 0:
		in.Province = prov.Code
		c, ok := prov.FindCity(in.City)
		if !ok {
			errs = append(errs, Invalid("destination_city", "“%s”不是%s的市县，请从列表中选择", "%q is not a city of %s; choose one from the list", in.City, prov.ZH))
		} else {
			in.City = c.Name
		}
	case utf8.RuneCountInString(in.City) > 30:
		errs = append(errs, Invalid("destination_city", "目的地城市不能超过30个字", "the destination city must be at most 30 characters"))
	default:
		in.Province = prov.Code
	}
	if (in.Lat == nil) != (in.Lng == nil) {
		errs = append(errs, Invalid("lat", "坐标须同时填写纬度和经度", "give both latitude and longitude, or neither"))
	} else if in.Lat != nil {
		if math.IsNaN(*in.Lat) || *in.Lat < -90 || *in.Lat > 90 {
			errs = append(errs, Invalid("lat", "纬度 lat 须在 -90 到 90 之间", "lat must be between -90 and 90"))
		}
		if math.IsNaN(*in.Lng) || *in.Lng < -180 || *in.Lng > 180 {
			errs = append(errs, Invalid("lng", "经度 lng 须在 -180 到 180 之间", "lng must be between -180 and 180"))
		}
		if in.RadiusM == nil {
			r := 1000
			in.RadiusM = &r
		}
		if *in.RadiusM < 50 || *in.RadiusM > 100000 {
			errs = append(errs, Invalid("radius_m", "半径应在50米到100公里之间", "the radius must be between 50 m and 100 km"))
		}
	} else if in.RadiusM != nil {
		errs = append(errs, Invalid("radius_m", "设置半径须同时给出坐标", "a radius needs a point"))
	}
	days := 0
	switch {
	case in.From.IsZero():
		errs = append(errs, Invalid("from", "请填写开始日期", "the start date is required"))
	case in.From.Before(today.AddDays(-30)):
		errs = append(errs, Invalid("from", "开始日期不能早于30天前", "the start date cannot be more than 30 days ago"))
	}
	switch {
	case in.To.IsZero():
		errs = append(errs, Invalid("to", "请填写结束日期", "the end date is required"))
	case !in.From.IsZero() && in.To.Before(in.From):
		errs = append(errs, Invalid("to", "结束日期不能早于开始日期", "the end date cannot be before the start date"))
	case !in.From.IsZero():
		days = LeaveDays(in.From, in.To)
	}
	max := MaxLeaveDays
	if in.Kind == LeaveKindWorkAway {
		max = MaxWorkAwayDays
	}
	if days > max {
		errs = append(errs, &Error{Code: EINVALID, Field: "to",
			ZH: fmt.Sprintf("%s最长%d天（本次%d天）", in.Kind.Label("zh"), max, days),
			EN: fmt.Sprintf("%s may last at most %d days (this one: %d)", in.Kind.Label("en"), max, days)})
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" {
		errs = append(errs, Invalid("reason", "请填写事由", "a reason is required"))
	}
	if err := CheckText("reason", in.Reason, 500); err != nil {
		errs = append(errs, err.(*Error))
	}
	in.Employer, in.WorkAddress = strings.TrimSpace(in.Employer), strings.TrimSpace(in.WorkAddress)
	if in.Kind == LeaveKindWorkAway {
		if in.Employer == "" {
			errs = append(errs, Invalid("employer", "外出务工须填写用工单位", "working away needs the employer"))
		}
		if in.WorkAddress == "" {
			errs = append(errs, Invalid("address", "外出务工须填写务工地址", "working away needs the address"))
		}
	}
	if utf8.RuneCountInString(in.Employer) > 100 {
		errs = append(errs, Invalid("employer", "用工单位不能超过100字", "the employer must be at most 100 characters"))
	}
	if utf8.RuneCountInString(in.WorkAddress) > 200 {
		errs = append(errs, Invalid("address", "地址不能超过200字", "the address must be at most 200 characters"))
	}
	if err := errs.Err(); err != nil {
		return 0, err
	}
	return days, nil
}

// ValidateExtension checks a new end date for an extension (续假).
func ValidateExtension(kind LeaveKind, from, oldTo, newTo Date) error {
	if newTo.IsZero() {
		return Invalid("to", "请填写新的结束日期", "the new end date is required")
	}
	if !newTo.After(oldTo) {
		return Invalid("to", "续假的结束日期须晚于原结束日期（%s）", "the new end date must be after the current one (%s)", oldTo)
	}
	max := MaxLeaveDays
	if kind == LeaveKindWorkAway {
		max = MaxWorkAwayDays
	}
	if d := LeaveDays(from, newTo); d > max {
		return Invalid("to", "续假后共%d天，超过上限%d天", "with the extension the period is %d days, over the limit of %d", d, max)
	}
	return nil
}

// PermApproveLeave is approving or rejecting leave and extensions (a lead,
// R28: the approver is chosen by level).
const PermApproveLeave Perm = "leave.approve"

// PermViewLeave is seeing leave requests and the approval queue (office,
// lead, worker, police).
const PermViewLeave Perm = "leave.view"

// PermMessage is sending messages to persons (workers and leads).
const PermMessage Perm = "messages.send"

// Province is a provincial-level division (GB/T 2260).
type Province struct {
	Code   string
	ZH, EN string
	Cities []City // listed only where the destination must be picked (Hainan)
}

// City is a prefecture-level city or a county-level unit directly under
// the province.
type City struct{ Code, Name string }

// Name returns the province's name in the language.
func (p *Province) Name(lang string) string { return pick(lang, p.ZH, p.EN) }

// FindCity finds a city by code or name.
func (p *Province) FindCity(s string) (City, bool) {
	for _, c := range p.Cities {
		if c.Code == s || c.Name == s || strings.TrimSuffix(c.Name, "市") == s {
			return c, true
		}
	}
	return City{}, false
}

// FindProvince finds a province by code (2 or 6 digits) or name.
func FindProvince(s string) (*Province, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, false
	}
	for _, p := range Provinces {
		if p.Code == s || p.Code[:2] == s || p.ZH == s || strings.EqualFold(p.EN, s) {
			return p, true
		}
	}
	return nil, false
}

// ProvinceName names a province code in the language (the code itself if
// unknown).
func ProvinceName(code, lang string) string {
	if p, ok := FindProvince(code); ok {
		return p.Name(lang)
	}
	return code
}

// Provinces are the provincial-level divisions (GB/T 2260), with Hainan's
// cities and directly administered counties.
var Provinces = []*Province{
	{Code: "110000", ZH: "北京市", EN: "Beijing"},
	{Code: "120000", ZH: "天津市", EN: "Tianjin"},
	{Code: "130000", ZH: "河北省", EN: "Hebei"},
	{Code: "140000", ZH: "山西省", EN: "Shanxi"},
	{Code: "150000", ZH: "内蒙古自治区", EN: "Inner Mongolia"},
	{Code: "210000", ZH: "辽宁省", EN: "Liaoning"},
	{Code: "220000", ZH: "吉林省", EN: "Jilin"},
	{Code: "230000", ZH: "黑龙江省", EN: "Heilongjiang"},
	{Code: "310000", ZH: "上海市", EN: "Shanghai"},
	{Code: "320000", ZH: "江苏省", EN: "Jiangsu"},
	{Code: "330000", ZH: "浙江省", EN: "Zhejiang"},
	{Code: "340000", ZH: "安徽省", EN: "Anhui"},
	{Code: "350000", ZH: "福建省", EN: "Fujian"},
	{Code: "360000", ZH: "江西省", EN: "Jiangxi"},
	{Code: "370000", ZH: "山东省", EN: "Shandong"},
	{Code: "410000", ZH: "河南省", EN: "Henan"},
	{Code: "420000", ZH: "湖北省", EN: "Hubei"},
	{Code: "430000", ZH: "湖南省", EN: "Hunan"},
	{Code: "440000", ZH: "广东省", EN: "Guangdong"},
	{Code: "450000", ZH: "广西壮族自治区", EN: "Guangxi"},
	{Code: "460000", ZH: "海南省", EN: "Hainan", Cities: []City{
		{"460100", "海口市"}, {"460200", "三亚市"}, {"460300", "三沙市"}, {"460400", "儋州市"},
		{"469001", "五指山市"}, {"469002", "琼海市"}, {"469005", "文昌市"}, {"469006", "万宁市"}, {"469007", "东方市"},
		{"469021", "定安县"}, {"469022", "屯昌县"}, {"469023", "澄迈县"}, {"469024", "临高县"},
		{"469025", "白沙黎族自治县"}, {"469026", "昌江黎族自治县"}, {"469027", "乐东黎族自治县"},
		{"469028", "陵水黎族自治县"}, {"469029", "保亭黎族苗族自治县"}, {"469030", "琼中黎族苗族自治县"},
	}},
	{Code: "500000", ZH: "重庆市", EN: "Chongqing"},
	{Code: "510000", ZH: "四川省", EN: "Sichuan"},
	{Code: "520000", ZH: "贵州省", EN: "Guizhou"},
	{Code: "530000", ZH: "云南省", EN: "Yunnan"},
	{Code: "540000", ZH: "西藏自治区", EN: "Tibet"},
	{Code: "610000", ZH: "陕西省", EN: "Shaanxi"},
	{Code: "620000", ZH: "甘肃省", EN: "Gansu"},
	{Code: "630000", ZH: "青海省", EN: "Qinghai"},
	{Code: "640000", ZH: "宁夏回族自治区", EN: "Ningxia"},
	{Code: "650000", ZH: "新疆维吾尔自治区", EN: "Xinjiang"},
	{Code: "710000", ZH: "台湾省", EN: "Taiwan"},
	{Code: "810000", ZH: "香港特别行政区", EN: "Hong Kong"},
	{Code: "820000", ZH: "澳门特别行政区", EN: "Macao"},
}

// MessageMaxRunes is the longest message a worker may send.
const MessageMaxRunes = 1000

// ValidateMessage trims and checks a message body.
func ValidateMessage(body string) (string, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return "", Invalid("body", "消息内容不能为空", "the message is empty")
	}
	if utf8.RuneCountInString(body) > MessageMaxRunes {
		return "", Invalid("body", "消息不能超过%d字", "the message must be at most %d characters", MessageMaxRunes)
	}
	return body, nil
}
