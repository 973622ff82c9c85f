package casework

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Break-glass access (PRODUCT §1, issue 15 "Must add"; R36): someone who
// must see a file outside their subtree — police of another district in an
// emergency, a worker covering for a colleague — opens it at once for a
// few hours, with a stated reason. The grant is read-only, covers one
// person named by the id the requester already holds (a referral, a
// notice), ends by itself, is audited with every read made under it, and
// the office that holds the file sees it, reviews it afterwards and may
// revoke it. The request answers alike whether or not the id names a file,
// so it confirms nothing to someone outside the scope.

// PermReviewBreakGlass is reviewing and revoking break-glass grants on the
// files of one's subtree (the holding office and street lead).
const PermReviewBreakGlass Perm = "breakglass.review"

func init() {
	permRoles[PermReviewBreakGlass] = []Role{RoleOffice, RoleLead}
}

// The values of the policy setting "breakglass.roles": who may break glass.
const (
	BreakGlassPoliceLead       = "police_lead"
	BreakGlassPoliceLeadOffice = "police_lead_office"
	BreakGlassAllReaders       = "police_lead_office_worker"
	BreakGlassNobody           = "none"
)

// BreakGlassRoles returns the roles the "breakglass.roles" value allows.
// Only roles that read whole files in their own subtree can ever break
// glass: never admin, auditor or counsellor.
func BreakGlassRoles(v string) []Role {
	switch v {
	case BreakGlassPoliceLead:
		return []Role{RolePolice, RoleLead}
	case BreakGlassPoliceLeadOffice:
		return []Role{RolePolice, RoleLead, RoleOffice}
	case BreakGlassAllReaders:
		return []Role{RolePolice, RoleLead, RoleOffice, RoleWorker}
	}
	return nil
}

// breakGlassSettings are the policy settings of break-glass access; local
// practice (PRODUCT §1 names the mechanism, not its limits).
var breakGlassSettings = []*Setting{
	{Key: "breakglass.roles", Kind: SettingEnum, ZH: "可申请紧急查阅的角色", EN: "Roles that may use emergency access", Default: EnumValue(BreakGlassPoliceLead),
		Options: []Option{{BreakGlassPoliceLead, "社区民警和街道负责人", "community police and street leads"},
			{BreakGlassPoliceLeadOffice, "社区民警、街道负责人和禁毒办", "community police, street leads and offices"},
			{BreakGlassAllReaders, "社区民警、街道负责人、禁毒办和专干", "community police, street leads, offices and workers"},
			{BreakGlassNobody, "不允许", "nobody"}},
		Rule: "R36", Confidence: "UNCONFIRMED",
		HintZH: "紧急情况下查阅本辖区以外的一份档案：只读、限时、须说明原因，全程留痕，由档案所在机构事后审查。",
		HintEN: "Reading one file outside one's own area in an emergency: read-only, time-limited, with a stated reason, every read logged, reviewed afterwards by the office that holds the file."},
	{Key: "breakglass.hours", Kind: SettingInt, ZH: "紧急查阅默认时长", EN: "Emergency access default length", UnitZH: "小时", UnitEN: "hours",
		Default: IntValue(4), Min: 1, Max: 72, Rule: "R36", Confidence: "UNCONFIRMED",
		HintZH: "申请时未填时长即按此时长；不超过最长时长。", HintEN: "The length when the request names none; never above the maximum."},
	{Key: "breakglass.max_hours", Kind: SettingInt, ZH: "紧急查阅最长时长", EN: "Emergency access maximum length", UnitZH: "小时", UnitEN: "hours",
		Default: IntValue(24), Min: 1, Max: 72, Rule: "R36", Confidence: "UNCONFIRMED",
		HintZH: "一次紧急查阅最多持续的小时数，到时自动失效。", HintEN: "The longest one emergency access may last; it ends by itself."},
}

// BreakGlassInput is a request for break-glass access.
type BreakGlassInput struct {
	PersonID string // the file's id, a link to it (/persons/<id>), or an ID number
	// IDNumber is set by Validate when PersonID holds an 18-character ID
	// number (PersonID is then cleared): the store looks the file up by it
	// and answers a hit and a miss alike.
	IDNumber string
	Reason   string
	Hours    string // empty: the policy's default
}

// idNumberShape is the shape of an ID number typed where a file id is
// asked for; the store checks the number itself.
var idNumberShape = regexp.MustCompile(`^[0-9]{17}[0-9Xx]$`)

// BreakGlassLimits are the policy values that bound a request.
type BreakGlassLimits struct {
	DefaultHours, MaxHours int
}

// Validate checks the input, normalises the person id (a pasted link is
// cut to its id) and returns the length in hours. Every bad field is
// reported at once.
func (in *BreakGlassInput) Validate(lim BreakGlassLimits) (int, error) {
	var errs FieldErrors
	in.PersonID = strings.TrimSpace(in.PersonID)
	if i := strings.LastIndex(in.PersonID, "/persons/"); i >= 0 {
		in.PersonID = in.PersonID[i+len("/persons/"):]
		in.PersonID, _, _ = strings.Cut(in.PersonID, "/")
		in.PersonID, _, _ = strings.Cut(in.PersonID, "?")
		in.PersonID, _, _ = strings.Cut(in.PersonID, "#")
	}
	in.IDNumber = ""
	if idNumberShape.MatchString(in.PersonID) {
		in.IDNumber, in.PersonID = strings.ToUpper(in.PersonID), ""
	} else if in.PersonID == "" {
		errs = append(errs, Invalid("person_id", "请填写档案编号（或粘贴档案链接、身份证号）", "the file id (or a link to the file, or an ID number) is required"))
	} else if u, err := uuid.Parse(in.PersonID); err != nil || len(in.PersonID) != 36 || u == uuid.Nil {
		errs = append(errs, Invalid("person_id", "档案编号格式不对：应为36位编号、档案链接或18位身份证号", "the file id is not valid: use the 36-character id, a link to the file or an 18-character ID number"))
	} else {
		in.PersonID = u.String()
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" {
		errs = append(errs, Invalid("reason", "请说明紧急查阅的原因", "state the reason for emergency access"))
	} else if err := CheckText("reason", in.Reason, MaxReason); err != nil {
		errs.Add(err)
	}
	maxH := max(lim.MaxHours, 1)
	hours := min(max(lim.DefaultHours, 1), maxH)
	if s := strings.TrimSpace(in.Hours); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			errs = append(errs, Invalid("hours", "时长应为整数小时", "the length must be a whole number of hours"))
		case n < 1 || n > maxH:
			errs = append(errs, Invalid("hours", "时长应在1至%d小时之间", "the length must be between 1 and %d hours", maxH))
		default:
			hours = n
		}
	}
	if err := errs.Err(); err != nil {
		return 0, err
	}
	return hours, nil
}

// The review of a grant by the holding office.
const (
	BreakGlassJustified   = "justified"
	BreakGlassUnjustified = "unjustified"
)

// BreakGlassReviewInput is the holding office's review of a grant.
type BreakGlassReviewInput struct {
	Verdict string // justified | unjustified
	Note    string
}

// Validate checks the review: a verdict, and a note required when the
// access is found unjustified.
func (in *BreakGlassReviewInput) Validate() error {
	var errs FieldErrors
	if in.Verdict != BreakGlassJustified && in.Verdict != BreakGlassUnjustified {
		errs = append(errs, Invalid("verdict", "请选择审查结论：合理或不合理", "choose a verdict: justified or unjustified"))
	}
	in.Note = strings.TrimSpace(in.Note)
	if in.Note == "" && in.Verdict == BreakGlassUnjustified {
		errs = append(errs, Invalid("note", "认定不合理时须填写说明", "a note is required when the access is found unjustified"))
	} else if err := CheckText("note", in.Note, MaxReason); err != nil {
		errs.Add(err)
	}
	return errs.Err()
}

// BreakGlassState is where a grant stands at an instant.
func BreakGlassState(ends time.Time, revoked bool, now time.Time) string {
	switch {
	case revoked:
		return "revoked"
	case now.Before(ends):
		return "active"
	}
	return "expired"
}

// WithBreakGlass returns the access of a reader holding an active
// break-glass grant on the file: read only, with sensitive fields (masked,
// revealed with a reason) for a role that has them anywhere; no write,
// transfer or approval, and no psychological records (PsychAccessFor reads
// grants only). An access that already reads the whole file is unchanged.
func (acc PersonAccess) WithBreakGlass(a *Actor, grantID string) PersonAccess {
	if grantID == "" || (acc.Read && acc.Until.IsZero()) {
		return acc
	}
	sens := a.CanAnywhere(PermSensitive)
	return PersonAccess{Read: true, Sensitive: sens, Minimal: !sens, BreakGlass: grantID}
}
