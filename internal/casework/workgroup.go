package casework

import "slices"

// workgroup.go: the working group's statutory members (R7, S1 Art 17).
// The regulation names the full-time worker, the community police officer,
// community medical staff, family members and volunteers; the register must
// at least hold the worker, the community police and one family member or
// guardian, or say why there is no family member (e.g. none living, none
// reachable). Medical staff and volunteers are recorded when there are
// some; their absence is not flagged (a township may have no clinic).

// GroupRoleGuardian is a guardian (监护人) standing in for family (R7).
const GroupRoleGuardian = "guardian"

// The members R7 requires, in the order the register lists them.
var RequiredGroupRoles = []string{"worker", "police", "family"}

// GroupGaps returns the required members a working group lacks (R7):
// "worker", "police", "family". A guardian counts as family; a recorded
// reason (familyReason) stands for the family member.
func GroupGaps(roles []string, familyReason string) []string {
	var out []string
	for _, need := range RequiredGroupRoles {
		ok := slices.Contains(roles, need)
		if need == "family" {
			ok = ok || slices.Contains(roles, GroupRoleGuardian) || familyReason != ""
		}
		if !ok {
			out = append(out, need)
		}
	}
	return out
}

var groupRoleLabels = map[string][2]string{
	"worker":          {"专职工作人员", "full-time worker"},
	"police":          {"社区民警", "community police"},
	"medical":         {"医务人员", "medical staff"},
	"family":          {"家庭成员", "family member"},
	GroupRoleGuardian: {"监护人", "guardian"},
	"volunteer":       {"志愿者", "volunteer"},
}

// GroupRoleLabel names a statutory role in the language; a local role is
// returned as written.
func GroupRoleLabel(role, lang string) string {
	if _, ok := groupRoleLabels[role]; !ok {
		return role
	}
	return label(groupRoleLabels[role], role, lang)
}
