package casework

import (
	"slices"
	"strings"
)

// Role is a staff role. A user holds grants, each a role bound to one org
// node; a grant covers that node's subtree (PRODUCT §1).
type Role string

// The staff roles.
const (
	RoleAdmin      Role = "admin"      // orgs, users, policies; no person data by itself
	RoleOffice     Role = "office"     // 禁毒办: all persons and reports in subtree
	RoleLead       Role = "lead"       // 乡镇/街道 lead
	RoleWorker     Role = "worker"     // 禁毒专干/社工
	RolePolice     Role = "police"     // 社区民警
	RoleCounsellor Role = "counsellor" // 心理/医务
	RoleAuditor    Role = "auditor"    // audit log only
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleOffice, RoleLead, RoleWorker, RolePolice, RoleCounsellor, RoleAuditor}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Perm is something an actor may do within the subtree of a grant.
type Perm string

// Permissions. Each names who holds it in permRoles; person permissions are
// added by the person-file work.
const (
	PermViewOrgs    Perm = "orgs.view"    // see the org tree
	PermManageOrgs  Perm = "orgs.manage"  // create, rename, move, retire nodes
	PermManageUsers Perm = "users.manage" // create users, grant roles, reset passwords
	PermReadAudit   Perm = "audit.read"   // browse the audit log
	PermReadPersons Perm = "persons.read" // open person files (never admin alone)
)

// permRoles is who holds what, in one table (PRODUCT §1). The permissions
// are declared beside the rules that use them; a grant's permission covers
// the subtree of the grant's org.
var permRoles = map[Perm][]Role{
	PermViewOrgs:    Roles,
	PermManageOrgs:  {RoleAdmin},
	PermManageUsers: {RoleAdmin},
	PermReadAudit:   {RoleAuditor, RoleOffice},
	// The person file (person.go). Counsellors read only the persons whose
	// working group they are in; see PersonAccessFor.
	PermReadPersons:    {RoleOffice, RoleLead, RoleWorker, RolePolice, RoleCounsellor},
	PermWritePersons:   {RoleLead, RoleWorker}, // a worker: its own caseload
	PermSensitive:      {RoleOffice, RoleLead, RoleWorker, RolePolice},
	PermTransfer:       {RoleOffice, RoleLead},
	PermApproveCorrect: {RoleLead},
	PermImport:         {RoleLead}, // a bulk import opens files: the street lead's job
	// Policy (policy.go): admins see what they administer; offices and leads set it.
	PermViewPolicy: {RoleAdmin, RoleOffice, RoleLead, RoleWorker, RolePolice, RoleCounsellor},
	PermEditPolicy: {RoleOffice, RoleLead},
	// Leave and messages (leave.go; R28: a lead decides).
	PermApproveLeave: {RoleLead},
	PermViewLeave:    {RoleOffice, RoleLead, RoleWorker, RolePolice},
	PermMessage:      {RoleLead, RoleWorker},
	// Drug tests (drugtest.go; R18–R21): police record them for anyone in
	// their subtree, workers and leads for the files they may write.
	PermRecordTest: {RolePolice, RoleWorker, RoleLead},
	// Test schedules and draws (issue 5, R22–R25): everyone who works the
	// files sees who is due and the committed seed hashes; only a street
	// lead forces or excuses a day, always with a reason.
	PermViewSchedule:   {RoleOffice, RoleLead, RoleWorker, RolePolice},
	PermAdjustSchedule: {RoleLead},
	// Violations and serious cases (issue 5, R9, R10, R29): workers and
	// leads review and explain, a lead excuses or confirms and takes the
	// ladder's steps; a serious case is reported by the worker or lead and
	// acknowledged and decided by the police.
	PermViewViolations:   {RoleOffice, RoleLead, RoleWorker, RolePolice},
	PermReviewViolations: {RoleLead, RoleWorker},
	PermDecideViolations: {RoleLead},
	PermReportCase:       {RoleLead, RoleWorker},
	PermPoliceCase:       {RolePolice},
	// Background jobs (issue 5): admins watch the queue (no person data in
	// job arguments beyond ids).
	PermViewJobs: {RoleAdmin},
	// Psychological services (psych.go; issue 11 §3, §7): police never.
	PermPsychRead:        {RoleOffice, RoleLead, RoleWorker, RoleCounsellor},
	PermPsychWrite:       {RoleLead, RoleWorker, RoleCounsellor},
	PermAssignCounsellor: {RoleLead},
	// Assistance, employment and prevention events (issue 11 §4–5, help.go):
	// counsellors see none of it; police read but not amounts.
	PermViewHelp:    {RoleOffice, RoleLead, RoleWorker, RolePolice},
	PermWriteHelp:   {RoleLead, RoleWorker},
	PermHelpAmounts: {RoleOffice, RoleLead, RoleWorker},
	PermViewEvents:  {RoleOffice, RoleLead, RoleWorker, RolePolice},
	PermWriteEvents: {RoleOffice, RoleLead, RoleWorker},
	// Resident surveys (survey.go; issue 12 §4): an office publishes and
	// imports; the street and community staff read the results.
	PermViewSurveys:   {RoleOffice, RoleLead, RoleWorker},
	PermManageSurveys: {RoleOffice},
	PermEditOrgYears:  {RoleOffice}, // population and staffing per year
	// Risk tiers (risk.go; issue 13, R31, R32): a worker assesses, only a
	// lead confirms or overrides; counsellors see none of it.
	PermRiskView:       {RoleOffice, RoleLead, RoleWorker, RolePolice},
	PermRiskAssess:     {RoleLead, RoleWorker},
	PermRiskConfirm:    {RoleLead},
	PermRiskInstrument: {RoleOffice, RoleLead},
	// Retention and sealing (retention.go; issue 15, R38): only the office
	// (禁毒办) records a statutory query and reads the sealed file for it;
	// the query log is read with the audit log (auditor, office). The
	// person's own data export (PIPL Art 45) is made by the worker or lead
	// who writes the file.
	PermStatutoryQuery: {RoleOffice},
	PermOwnDataExport:  {RoleLead, RoleWorker},
}

// Permissions of the supervision work (issue 5).
const (
	PermViewSchedule     Perm = "tests.schedule.view"
	PermAdjustSchedule   Perm = "tests.schedule.adjust" // force or excuse a test day
	PermViewViolations   Perm = "violations.view"
	PermReviewViolations Perm = "violations.review" // explain, add notes, propose
	PermDecideViolations Perm = "violations.decide" // excuse, confirm, ladder steps
	PermReportCase       Perm = "cases.report"      // send a serious case to the police
	PermPoliceCase       Perm = "cases.police"      // acknowledge and decide a serious case
	PermViewJobs         Perm = "jobs.view"
)

// RoleHas reports whether the role carries the permission.
func RoleHas(r Role, p Perm) bool { return slices.Contains(permRoles[p], r) }

// Grant is one role of a user at one org node.
type Grant struct {
	ID      string
	UserID  string
	Role    Role
	OrgID   string
	OrgPath string // path of the node, for subtree checks
	OrgName string
}

// Actor is the signed-in staff member on whose behalf a store call runs.
// Every read and list takes one and is scoped by its grants.
type Actor struct {
	UserID   string
	Username string
	Name     string
	Grants   []Grant
	IP       string // client address, for the audit log
	// System marks the command line acting on the operator's behalf (kangfu
	// user, kangfu demo): it holds every permission everywhere. No HTTP
	// request ever gets a System actor.
	System bool
}

// SystemActor returns the actor for command-line operations.
func SystemActor(what string) *Actor {
	return &Actor{UserID: "", Username: "system:" + what, Name: what, System: true}
}

// Scope returns the org paths under which the actor holds p, with nested
// paths removed (a grant at a node already covers its subtree).
func (a *Actor) Scope(p Perm) []string {
	if a == nil {
		return nil
	}
	if a.System {
		return []string{"/"}
	}
	var paths []string
	for _, g := range a.Grants {
		if RoleHas(g.Role, p) {
			paths = append(paths, g.OrgPath)
		}
	}
	slices.Sort(paths)
	out := paths[:0]
	for _, p := range paths {
		if len(out) > 0 && strings.HasPrefix(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// Can reports whether the actor holds p at the node with the given path.
func (a *Actor) Can(p Perm, orgPath string) bool {
	if orgPath == "" {
		return false
	}
	for _, s := range a.Scope(p) {
		if strings.HasPrefix(orgPath, s) {
			return true
		}
	}
	return false
}

// CanAnywhere reports whether the actor holds p at any node.
func (a *Actor) CanAnywhere(p Perm) bool { return len(a.Scope(p)) > 0 }

// HasRole reports whether the actor holds the role anywhere.
func (a *Actor) HasRole(r Role) bool {
	if a == nil {
		return false
	}
	for _, g := range a.Grants {
		if g.Role == r {
			return true
		}
	}
	return false
}

// RequiresTOTP reports whether policy requires a second factor for the
// actor: admin and office accounts (issue 2).
func (a *Actor) RequiresTOTP() bool { return a.HasRole(RoleAdmin) || a.HasRole(RoleOffice) }
