package casework

// psych.go is the domain of psychological services (issue 11 §3, §7; issue
// 18 item 11; PRODUCT §1, §4): counsellor assignment, one-to-one and group
// sessions and who may see and write what. Scales are in scales.go.

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Permissions of psychological services. Police hold none: they see that a
// session or a scale happened on the timeline, never notes, answers or
// scores.
const (
	PermPsychRead        Perm = "psych.read"  // sessions (without notes) and scale results
	PermPsychWrite       Perm = "psych.write" // record sessions and scales
	PermAssignCounsellor Perm = "psych.assign"
)

// CounselledBy reports whether the user is one of the person's counsellors:
// assigned by a lead, or (as before assignments existed) a member of the
// working group of the measure in force.
func (f PersonFacts) CounselledBy(userID string) bool {
	return userID != "" && (slices.Contains(f.Counsellors, userID) || slices.Contains(f.GroupUserIDs, userID))
}

// PsychAccess is what one actor may do with one person's psychological
// records.
type PsychAccess struct {
	Read     bool `json:"read"`     // sessions without notes, scale results and answers
	Notes    bool `json:"notes"`    // counselling notes and follow-up notes: counsellors and the person's lead
	Sessions bool `json:"sessions"` // record one-to-one sessions: an assigned counsellor or a lead
	Scales   bool `json:"scales"`   // administer scales: an assigned counsellor, the person's worker, a lead
}

// PsychAccessFor works out the actor's access: the office reads; a lead of
// the place does everything; a worker of the community reads and the
// responsible worker administers scales; an assigned counsellor does
// everything for its persons; police, admin and auditor nothing. A past
// place of execution sees none of it.
func PsychAccessFor(a *Actor, f PersonFacts) PsychAccess {
	var acc PsychAccess
	if a == nil {
		return acc
	}
	if a.System {
		return PsychAccess{Read: true, Notes: true, Sessions: true, Scales: true}
	}
	for _, g := range a.Grants {
		if f.OrgPath == "" || !strings.HasPrefix(f.OrgPath, g.OrgPath) {
			continue
		}
		switch g.Role {
		case RoleOffice:
			acc.Read = true
		case RoleLead:
			acc = PsychAccess{Read: true, Notes: true, Sessions: true, Scales: true}
		case RoleWorker:
			acc.Read = true
			acc.Scales = acc.Scales || f.WorkerID == a.UserID
		case RoleCounsellor:
			if f.CounselledBy(a.UserID) {
				acc = PsychAccess{Read: true, Notes: true, Sessions: true, Scales: true}
			}
		}
	}
	return acc
}

// Session modes.
var SessionModes = []Option{
	{"in_person", "面谈", "in person"},
	{"phone", "电话", "phone"},
	{"video", "视频", "video"},
	{"home", "入户", "home visit"},
}

// SessionModeLabel names a mode in the language.
func SessionModeLabel(lang, mode string) string {
	for _, o := range SessionModes {
		if o.Value == mode {
			return pick(lang, o.ZH, o.EN)
		}
	}
	return mode
}

// CounsellingInput is a one-to-one counselling session.
type CounsellingInput struct {
	CounsellorID   string // a staff account; empty with a name for someone without one
	CounsellorName string
	HeldAt         time.Time
	Minutes        int
	Mode           string
	Notes          string
	Planned        bool // an appointment not yet held
	SourceKey      string
}

// Validate checks the session; now is the current time (a held session
// cannot be in the future, a planned one cannot be in the past).
func (in *CounsellingInput) Validate(now time.Time) error {
	in.CounsellorName = strings.TrimSpace(in.CounsellorName)
	in.Notes = strings.TrimSpace(in.Notes)
	var errs FieldErrors
	if in.CounsellorID == "" && in.CounsellorName == "" {
		errs = append(errs, Invalid("counsellor", "请填写咨询师", "the counsellor is required"))
	}
	if utf8.RuneCountInString(in.CounsellorName) > 50 {
		errs = append(errs, Invalid("counsellor", "咨询师姓名不能超过50个字", "the counsellor's name must be at most 50 characters"))
	}
	switch {
	case in.HeldAt.IsZero():
		errs = append(errs, Invalid("held_at", "请填写咨询时间", "the time of the session is required"))
	case !in.Planned && in.HeldAt.After(now.Add(5*time.Minute)):
		errs = append(errs, Invalid("held_at", "已进行的咨询时间不能晚于现在", "a session held cannot be in the future"))
	case in.Planned && in.HeldAt.Before(now):
		errs = append(errs, Invalid("held_at", "预约的咨询时间须晚于现在", "a planned session must be in the future"))
	}
	if in.Minutes < 5 || in.Minutes > 480 {
		errs = append(errs, Invalid("minutes", "时长应为5–480分钟", "the duration must be 5–480 minutes"))
	}
	if !slices.ContainsFunc(SessionModes, func(o Option) bool { return o.Value == in.Mode }) {
		errs = append(errs, Invalid("mode", "请选择咨询方式", "choose how the session was held"))
	}
	if err := CheckText("notes", in.Notes, MaxNote); err != nil {
		errs = append(errs, err.(*Error))
	}
	return firstOf(errs)
}

// GroupSessionInput is a group psychological session (团体心理辅导).
type GroupSessionInput struct {
	OrgID         string
	HeldOn        Date
	Topic         string
	Facilitator   string
	FacilitatorID string
	Place         string
	AttendeeIDs   []string // persons of the caseload
	OthersReached int      // people reached who have no file (family, residents)
	SourceKey     string
}

// Validate checks the session; today is the local date at the org.
func (in *GroupSessionInput) Validate(today Date) error {
	in.Topic, in.Facilitator, in.Place = strings.TrimSpace(in.Topic), strings.TrimSpace(in.Facilitator), strings.TrimSpace(in.Place)
	var errs FieldErrors
	if in.OrgID == "" {
		errs = append(errs, Invalid("org_id", "请选择举办单位", "choose the organising unit"))
	}
	switch {
	case in.HeldOn.IsZero():
		errs = append(errs, Invalid("held_on", "请填写日期", "the date is required"))
	case in.HeldOn.After(today):
		errs = append(errs, Invalid("held_on", "日期不能晚于今天", "the date cannot be after today"))
	}
	if in.Topic == "" || utf8.RuneCountInString(in.Topic) > 100 {
		errs = append(errs, Invalid("topic", "请填写主题（不超过100字）", "the topic is required (at most 100 characters)"))
	}
	if in.Facilitator == "" && in.FacilitatorID == "" {
		errs = append(errs, Invalid("facilitator", "请填写主持人", "the facilitator is required"))
	}
	if utf8.RuneCountInString(in.Facilitator) > 50 {
		errs = append(errs, Invalid("facilitator", "主持人姓名不能超过50个字", "the facilitator's name must be at most 50 characters"))
	}
	if in.Place == "" || utf8.RuneCountInString(in.Place) > 100 {
		errs = append(errs, Invalid("place", "请填写地点（不超过100字）", "the place is required (at most 100 characters)"))
	}
	if in.OthersReached < 0 || in.OthersReached > 10000 {
		errs = append(errs, Invalid("others_reached", "其他参与人数应为0–10000", "others reached must be 0–10000"))
	}
	slices.Sort(in.AttendeeIDs)
	in.AttendeeIDs = slices.Compact(in.AttendeeIDs)
	if len(in.AttendeeIDs) == 0 && in.OthersReached == 0 {
		errs = append(errs, Invalid("attendees", "请选择参加人员或填写其他参与人数", "choose the attendees or give the number of others reached"))
	}
	return firstOf(errs)
}

// firstOf returns nil, or an EINVALID error carrying every problem
// (FieldErrors as its cause; policy.go), the first one's field as its own.
func firstOf(errs FieldErrors) error {
	if len(errs) == 0 {
		return nil
	}
	return errs.asError()
}
