package casework

import (
	"strings"
	"unicode/utf8"
)

// Care records (issue 11: visits, counselling sessions, screening scales,
// assistance, employment) share one edit rule: a record is editable only by
// its author or by a lead or office over the person's place, and every edit
// keeps the replaced version (store.SaveRevision).

// CanEditCareRecord reports whether the actor may edit a care record written
// by authorID about a person whose place of execution has the org path
// personOrg: the author itself, or a lead or office whose grant covers
// personOrg. The system actor (command line) may. Whether the actor still
// reads the file at all is the store's check (personFor) and comes first.
func CanEditCareRecord(a *Actor, authorID, personOrg string) bool {
	if a == nil {
		return false
	}
	if a.System {
		return true
	}
	if authorID != "" && a.UserID == authorID {
		return true
	}
	if personOrg == "" {
		return false
	}
	for _, g := range a.Grants {
		if (g.Role == RoleLead || g.Role == RoleOffice) && strings.HasPrefix(personOrg, g.OrgPath) {
			return true
		}
	}
	return false
}

// MaxRevisionReason is the longest edit reason accepted, in characters.
const MaxRevisionReason = 500

// CheckRevisionReason trims and checks the reason given for editing a care
// record: required, at most MaxRevisionReason characters. The error names
// the field "reason".
func CheckRevisionReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", Invalid("reason", "修改记录须填写原因", "a reason for the change is required")
	}
	if utf8.RuneCountInString(reason) > MaxRevisionReason {
		return "", Invalid("reason", "修改原因不能超过%d个字", "the reason must be at most %d characters", MaxRevisionReason)
	}
	if err := CheckText("reason", reason, MaxRevisionReason); err != nil {
		return "", err
	}
	return reason, nil
}
