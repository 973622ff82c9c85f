package casework

import "strings"

// TimelineFilter says which timeline entries a reader may see, by the
// prefix of the entry's kind. The timeline follows the same field rules as
// the pages (issue 15 §6): a counsellor's minimal profile shows no drug
// history, so its timeline shows no "case.opened trigger: drug_use", no drug
// test, relapse, violation or measure entry; a reader without a section's
// permission does not see that section's entries either.
type TimelineFilter struct {
	Only []string // non-nil: only kinds with one of these prefixes
	Hide []string // kinds with one of these prefixes are left out
}

// minimalTimeline is what a counsellor's minimal profile shows on the
// timeline: the psychological work it does itself, that the file exists,
// and who is in the working group.
var minimalTimeline = []string{"psych.", "person.created", "group.added"}

// timelinePerms names the permission a section's entries need: the pages
// that show these sections ask for the same permission.
var timelinePerms = []struct {
	Prefix string
	Perm   Perm
}{
	{"psych.", PermPsychRead},
	{"assistance.", PermViewHelp},
	{"employment.", PermViewHelp},
	{"help.", PermViewHelp},
	{"violation.", PermViewViolations},
	{"case.", PermViewViolations},
	{"leave.", PermViewLeave},
}

// TimelineFilterFor works out the filter for an actor reading the file of
// a person placed at orgPath with access acc. A past place of execution
// (acc.Until set) is judged by the permissions it holds anywhere, since the
// person's current place is outside its subtree.
func TimelineFilterFor(a *Actor, orgPath string, acc PersonAccess) TimelineFilter {
	var f TimelineFilter
	if a == nil || a.System {
		return f
	}
	if acc.Minimal || !acc.Sensitive {
		f.Only = minimalTimeline
	}
	for _, tp := range timelinePerms {
		ok := a.Can(tp.Perm, orgPath)
		if !acc.Until.IsZero() {
			ok = a.CanAnywhere(tp.Perm)
		}
		if !ok {
			f.Hide = append(f.Hide, tp.Prefix)
		}
	}
	return f
}

// Shows reports whether an entry of the kind passes the filter.
func (f TimelineFilter) Shows(kind string) bool {
	if f.Only != nil && !hasAnyPrefix(kind, f.Only) {
		return false
	}
	return !hasAnyPrefix(kind, f.Hide)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
