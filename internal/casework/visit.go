package casework

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Visits and contacts (issue 11 §1, R27): the worker's home visits (走访/入户),
// phone visits (电访), office talks (谈话) and video calls. Face-to-face and
// other contacts are counted apart, and phone and home visits separately.

// VisitKind is how the contact was made.
type VisitKind string

// The kinds of visit (R27).
const (
	VisitHome   VisitKind = "home"   // 走访/入户
	VisitPhone  VisitKind = "phone"  // 电访
	VisitOffice VisitKind = "office" // 谈话 at the office
	VisitVideo  VisitKind = "video"  // 视频
)

// VisitKinds lists the kinds in display order.
var VisitKinds = []VisitKind{VisitHome, VisitPhone, VisitOffice, VisitVideo}

// VisitState says whether the contact happened.
type VisitState string

// The states of a visit record. A call that did not get through is an
// attempt, not a visit: it counts toward no cadence.
const (
	VisitDone    VisitState = "done"
	VisitAttempt VisitState = "attempt"
	VisitPlanned VisitState = "planned" // an appointment; shown in the person's app
)

// VisitStates lists the states.
var VisitStates = []VisitState{VisitDone, VisitAttempt, VisitPlanned}

// Conditions is the short fixed list of how the person was found.
var Conditions = []string{"stable", "improving", "concern", "unwell", "relapse_risk", "not_seen"}

// ParticipantRoles are who may take part in a visit besides the person.
var ParticipantRoles = []string{"staff", "family", "group", "other"}

// Participant is one person who took part in a visit.
type Participant struct {
	Role   string `json:"role"`              // staff, family, group (working-group member), other
	Name   string `json:"name"`              // as shown
	UserID string `json:"user_id,omitempty"` // a staff account, when known
}

// FollowUp is an action agreed at a visit, due by a date.
type FollowUp struct {
	ID     string `json:"id,omitempty"`
	Action string `json:"action"`
	Due    Date   `json:"due"`
	Done   bool   `json:"done,omitempty"`
}

// Geo is a location taken by the phone.
type Geo struct {
	Lat       float64 `json:"lat"`
	Lng       float64 `json:"lng"`
	AccuracyM float64 `json:"accuracy_m"`
}

// VisitInput is a visit as the worker records it.
type VisitInput struct {
	ID            string // the phone's UUIDv7; "" makes one
	Kind          VisitKind
	State         VisitState
	At            time.Time
	FaceToFace    *bool // nil: from the kind (home and office are face to face)
	Participants  []Participant
	Location      *Geo
	Address       string
	Notes         string
	Condition     string
	ConditionNote string
	FollowUps     []FollowUp
}

// Limits of a visit's free text.
const (
	MaxVisitNotes     = 4000
	MaxVisitShortText = 200
	MaxVisitFollowUps = 10
	MaxVisitPeople    = 20
	// VisitClockSkew is how far in the future a done visit's time may lie
	// (a phone's clock a little ahead).
	VisitClockSkew = 10 * time.Minute
	// VisitMaxAgeYears bounds how old a recorded visit may be (an office
	// entering its paper records).
	VisitMaxAgeYears = 5
)

// Validate checks and normalises the input against now, naming the field
// at fault. A done visit or attempt is not in the future; a planned one is
// not in the past; an attempt is only a phone or video call.
func (in *VisitInput) Validate(now time.Time) error {
	var errs FieldErrors // every bad field at once (issue 18 item 9)
	kindOK := slices.Contains(VisitKinds, in.Kind)
	if !kindOK {
		errs = append(errs, Invalid("kind", "请选择走访方式", "choose the kind of visit (home, phone, office, video)"))
	}
	if in.State == "" {
		in.State = VisitDone
	}
	switch {
	case !slices.Contains(VisitStates, in.State):
		errs = append(errs, Invalid("state", "请选择走访结果", "state must be done, attempt or planned"))
	case kindOK && in.State == VisitAttempt && in.Kind != VisitPhone && in.Kind != VisitVideo:
		errs = append(errs, Invalid("state", "只有电话或视频可记为“未接通”", "only a phone or video call can be an attempt"))
	}
	if in.At.IsZero() {
		errs = append(errs, Invalid("at", "请填写走访时间", "the time of the visit is required"))
	}
	switch {
	case in.At.IsZero():
	case in.State != VisitPlanned && in.At.After(now.Add(VisitClockSkew)):
		errs = append(errs, Invalid("at", "走访时间不能晚于现在", "the time of a visit cannot be in the future"))
	case in.State == VisitPlanned && in.At.Before(now.Add(-VisitClockSkew)):
		errs = append(errs, Invalid("at", "预约时间不能早于现在", "a planned visit must be in the future"))
	case in.At.Before(now.AddDate(-VisitMaxAgeYears, 0, 0)):
		errs = append(errs, Invalid("at", "走访时间不能早于%d年前", "the time cannot be more than %d years ago", VisitMaxAgeYears))
	}
	if in.FaceToFace == nil {
		f := in.Kind == VisitHome || in.Kind == VisitOffice
		in.FaceToFace = &f
	}
	if in.Kind == VisitPhone && *in.FaceToFace {
		errs = append(errs, Invalid("face_to_face", "电话走访不是面对面", "a phone visit is not face to face"))
	}
	if err := errs.Add(in.checkPeople()); err != nil {
		return err
	}
	if in.Location != nil {
		g := in.Location
		if g.Lat < -90 || g.Lat > 90 || g.Lng < -180 || g.Lng > 180 || g.AccuracyM < 0 || (g.Lat == 0 && g.Lng == 0) {
			errs = append(errs, Invalid("location", "定位无效", "the location is not valid"))
		}
	}
	in.Address, in.Notes, in.ConditionNote = strings.TrimSpace(in.Address), strings.TrimSpace(in.Notes), strings.TrimSpace(in.ConditionNote)
	// Free text goes through CheckText: a cap, no bidi or control
	// characters (issue 15 §7).
	if err := CheckText("address", in.Address, MaxVisitShortText); err != nil {
		errs = append(errs, err.(*Error))
	}
	if err := CheckText("notes", in.Notes, MaxVisitNotes); err != nil {
		errs = append(errs, err.(*Error))
	}
	if in.Condition != "" && !slices.Contains(Conditions, in.Condition) {
		errs = append(errs, Invalid("condition", "请从列表中选择人员状况（%s 之一）", "condition must be one of %s", strings.Join(Conditions, ", ")))
	}
	if in.State == VisitDone && in.Condition == "" {
		errs = append(errs, Invalid("condition", "请选择人员状况", "the person's condition is required for a visit that took place"))
	}
	if err := CheckText("condition_note", in.ConditionNote, MaxVisitShortText); err != nil {
		errs = append(errs, err.(*Error))
	}
	if !in.At.IsZero() {
		if err := errs.Add(in.checkFollowUps(DateOf(in.At, nil))); err != nil {
			return err
		}
	}
	return errs.Err()
}

func (in *VisitInput) checkPeople() error {
	if len(in.Participants) > MaxVisitPeople {
		return Invalid("participants", "参与人员不能超过%d人", "at most %d participants", MaxVisitPeople)
	}
	for i := range in.Participants {
		p := &in.Participants[i]
		p.Name = strings.TrimSpace(p.Name)
		if !slices.Contains(ParticipantRoles, p.Role) {
			return Invalid("participants", "第%d位参与人员的身份无效", "participant %d: role must be staff, family, group or other", i+1)
		}
		if p.Name == "" || utf8.RuneCountInString(p.Name) > 50 {
			return Invalid("participants", "第%d位参与人员须填写姓名（不超过50字）", "participant %d: a name of at most 50 characters is required", i+1)
		}
	}
	return nil
}

func (in *VisitInput) checkFollowUps(day Date) error {
	if len(in.FollowUps) > MaxVisitFollowUps {
		return Invalid("follow_ups", "后续事项不能超过%d项", "at most %d follow-up actions", MaxVisitFollowUps)
	}
	for i := range in.FollowUps {
		f := &in.FollowUps[i]
		f.Action = strings.TrimSpace(f.Action)
		if f.Action == "" || utf8.RuneCountInString(f.Action) > MaxVisitShortText {
			return Invalid("follow_ups", "第%d项后续事项须填写内容（不超过%d字）", "follow-up %d: an action of at most %d characters is required", i+1, MaxVisitShortText)
		}
		if !f.Due.Valid() {
			return Invalid("follow_ups", "第%d项后续事项须填写完成期限", "follow-up %d: a due date is required", i+1)
		}
		if f.Due.Before(day.AddDays(-1)) {
			return Invalid("follow_ups", "第%d项后续事项的期限不能早于走访日", "follow-up %d: the due date cannot be before the visit", i+1)
		}
	}
	return nil
}

// VisitPeriod is the calendar period in which a cadence asks for one
// contact, in the org's time zone.
type VisitPeriod string

// The cadence periods: a calendar week (Monday to Sunday), month or
// quarter; off asks for nothing.
const (
	PeriodWeek    VisitPeriod = "week"
	PeriodMonth   VisitPeriod = "month"
	PeriodQuarter VisitPeriod = "quarter"
	PeriodOff     VisitPeriod = "off"
)

// Bounds returns the first and last day of the period containing d.
func (p VisitPeriod) Bounds(d Date) (from, to Date) {
	switch p {
	case PeriodWeek:
		wd := int(d.In(time.UTC).Weekday()+6) % 7 // Monday 0
		from = d.AddDays(-wd)
		return from, from.AddDays(6)
	case PeriodQuarter:
		from = Date{Year: d.Year, Month: time.Month((int(d.Month)-1)/3*3 + 1), Day: 1}
		return from, from.AddMonths(3).AddDays(-1)
	default:
		from = Date{Year: d.Year, Month: d.Month, Day: 1}
		return from, from.AddMonths(1).AddDays(-1)
	}
}

// Cadences: the home-visit cadence is met only by a home visit that took
// place; the contact cadence by any contact that took place (a home visit,
// an office talk, a phone or video call that got through).
const (
	CadenceHome    = "home"
	CadenceContact = "contact"
)

// VisitPeriodKey returns the policy setting that gives a cadence, with the
// risk-tier hook (R31) as for the test schedule: when the person has a
// tier and the policy has "visit.tier.<tier>.<cadence>.period", that
// setting applies unless it is "same" (policy_tier.go).
func VisitPeriodKey(cadence, tier string) (tierKey, key string) {
	key = "visit." + cadence + ".period"
	if tier != "" {
		tierKey = fmt.Sprintf("visit.tier.%s.%s.period", tier, cadence)
	}
	return tierKey, key
}

// CadencePeriod reads a cadence's period from the policy, tier first.
func CadencePeriod(p *EffectivePolicy, cadence, tier string) VisitPeriod {
	tk, k := VisitPeriodKey(cadence, tier)
	if tk != "" {
		if r, ok := p.Get(tk); ok && !r.Value.Same() {
			return VisitPeriod(r.Value.Enum())
		}
	}
	if r, ok := p.Get(k); ok {
		return VisitPeriod(r.Value.Enum())
	}
	return PeriodOff
}

// DueSoonDays is how close to its period's end a contact not yet made
// shows as due in the inbox.
const DueSoonDays = 7

// CadenceStatus is where a person stands against one cadence today.
type CadenceStatus struct {
	State string // ok, due (not yet this period), overdue (the last period passed without one), none (not owed)
	Due   Date   // due: the current period's last day; overdue: the missed period's last day
}

// VisitCadence judges one cadence on the local date today: since is the
// first day the duty was owed (the report date); last is the local date
// of the latest qualifying contact, zero when there was none. A period
// that began before the duty does not count as missed.
func VisitCadence(p VisitPeriod, since, last, today Date) CadenceStatus {
	if p == PeriodOff || p == "" || since.IsZero() || today.Before(since) {
		return CadenceStatus{State: "none"}
	}
	from, to := p.Bounds(today)
	if !last.IsZero() && !last.Before(from) {
		return CadenceStatus{State: "ok", Due: to}
	}
	pf, pt := p.Bounds(from.AddDays(-1))
	if since.After(pt) || (!last.IsZero() && !last.Before(pf)) {
		return CadenceStatus{State: "due", Due: to}
	}
	return CadenceStatus{State: "overdue", Due: pt}
}

// ParseVisitKind reads a kind as an office writes it on paper or in a
// spreadsheet: the code, or 入户/走访/入户走访, 电话/电访, 谈话, 视频.
func ParseVisitKind(s string) (VisitKind, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "home", "入户", "走访", "入户走访", "家访":
		return VisitHome, true
	case "phone", "电话", "电访", "电话走访":
		return VisitPhone, true
	case "office", "谈话", "约谈", "面谈":
		return VisitOffice, true
	case "video", "视频", "视频通话":
		return VisitVideo, true
	}
	return "", false
}

// ParseVisitState reads a state: the code, 已完成/完成 (also blank: done),
// 未接通 (an attempt), 预约/计划 (planned).
func ParseVisitState(s string) (VisitState, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "done", "已完成", "完成", "已走访":
		return VisitDone, true
	case "attempt", "未接通", "未联系上":
		return VisitAttempt, true
	case "planned", "预约", "计划":
		return VisitPlanned, true
	}
	return "", false
}

// conditionNames are the Chinese names of the conditions, for imports.
var conditionNames = map[string]string{"稳定": "stable", "好转": "improving", "需关注": "concern", "身体不适": "unwell",
	"有复吸风险": "relapse_risk", "未见到本人": "not_seen"}

// ParseCondition reads a condition: the code or its Chinese name.
func ParseCondition(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || slices.Contains(Conditions, s) {
		return s, true
	}
	c, ok := conditionNames[s]
	return c, ok
}
