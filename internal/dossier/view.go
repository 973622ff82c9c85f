// Package dossier makes the printable person file (一人一档) and the standard
// documents generated from templates, and files uploaded scans: the work
// both front doors share about documents (PRODUCT §2; DOMAIN §1.7).
//
// The PDFs are drawn in Go with gopdf (no browser on the server) in Noto
// Sans SC, a TrueType CJK font embedded in the binary (fonts/README.md).
package dossier

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// View is a dossier ready to show in one language: the HTML print view and
// the PDF render the same View, so they hold the same things.
type View struct {
	Lang        string
	PersonID    string
	Name        string
	Place       string // the org chain of the place of execution
	GeneratedAt string
	Historical  string // set for a past place's view, up to the hand-over
	Identity    []Pair
	Measures    []MeasureView
	Documents   []DocumentRow
	Timeline    []EventRow
	Tests       []TestRow
	Violations  []ViolationRow
	Leaves      []LeaveRow
	Checkins    []MonthRow
	// HideViolations, HideLeave: the reader's role does not cover the part;
	// the dossier says so rather than showing it empty.
	HideViolations, HideLeave bool
	// Sealed: a statutory query's read-only view of a sealed file (R38):
	// who asked, on what legal basis and document, and until when.
	Sealed []Pair
	// ReopenQueryID: the statutory query whose recorder may reopen the
	// file for a new measure (R38; the console's statutory view).
	ReopenQueryID string
}

// Pair is a labelled value.
type Pair struct{ Label, Value string }

// MeasureView is one measure with its working group and status history.
type MeasureView struct {
	Heading string
	Facts   []Pair
	Group   []GroupRow
	History []EventRow
}

// GroupRow is a working-group member (R7).
type GroupRow struct{ Role, Name, Note string }

// DocumentRow is a document of the file.
type DocumentRow struct {
	ID, Kind, Title, Source, Size, By, At string
}

// EventRow is an entry of the timeline or of a status history.
type EventRow struct{ At, What, Detail, By string }

// T translates a dossier key.
func T(lang, key string, args ...any) string { return i18n.T(lang, key, args...) }

// label translates prefix+code, falling back to the code itself (a local
// working-group role is free text; a later feature's timeline kind may have
// no label yet).
func label(lang, prefix, code string) string {
	if _, ok := i18n.Keys(lang)[prefix+code]; ok {
		return i18n.T(lang, prefix+code)
	}
	return code
}

// KindLabel names a document kind.
func KindLabel(lang, kind string) string { return label(lang, "doc.kind.", kind) }

// RoleLabel names a working-group role (R7), or returns a local role as is.
func RoleLabel(lang, role string) string {
	if w := tr(lang, "doc.role."+role); w != "" {
		return w
	}
	return casework.GroupRoleLabel(role, lang)
}

// EventLabel names a timeline entry from the catalogs: the dossier's own
// word, the person page's, the audit log's, the action's; a kind no
// catalog knows prints as "other record", never as its code.
func EventLabel(lang, kind string) string {
	if a, ok := strings.CutPrefix(kind, "status."); ok && casework.Action(a).Valid() {
		return T(lang, "dossier.event.status", casework.Action(a).Label(lang))
	}
	if w := tr(lang, "dossier.event."+kind, "event."+kind, "audit.action."+kind); w != "" {
		return w
	}
	if a, ok := strings.CutPrefix(kind, "violation."); ok && slices.Contains(casework.ViolationActions, casework.ViolationAction(a)) {
		return T(lang, "dossier.event.violation", casework.ViolationAction(a).Label(lang))
	}
	if a, ok := strings.CutPrefix(kind, "case."); ok && casework.CaseAction(a).Label(lang) != a {
		return T(lang, "dossier.event.case", casework.CaseAction(a).Label(lang))
	}
	return T(lang, "dossier.event.other")
}

func dateStr(d casework.Date) string {
	if d.IsZero() {
		return "—"
	}
	return d.String()
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// SizeLabel prints a byte size.
func SizeLabel(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// location is the time zone of the place of execution.
func location(d *store.Dossier) *time.Location {
	if len(d.Orgs) > 0 {
		return d.Orgs[len(d.Orgs)-1].Location()
	}
	return casework.LoadLocation("")
}

// builder holds what Build needs while it fills a View.
type builder struct {
	lang string
	d    *store.Dossier
	v    *View
	loc  *time.Location
}

func (b *builder) when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(b.loc).Format("2006-01-02 15:04")
}

// user names the actor of a record: "" is a system job (系统), a person
// actor (the app) is the person's name as the reader may see it, a staff
// user their name.
func (b *builder) user(id string) string {
	switch {
	case id == "":
		return T(b.lang, "dossier.system")
	case strings.HasPrefix(id, store.PersonActorPrefix):
		return b.v.Name
	}
	return orDash(b.d.Users[id])
}

// Build makes the View of a dossier in a language. The ID number and phone
// are masked (R36): the dossier is an export.
func Build(d *store.Dossier, lang string) *View {
	loc := location(d)
	p := d.Person
	v := &View{Lang: lang, PersonID: p.ID, Name: p.Name}
	b := &builder{lang: lang, d: d, v: v, loc: loc}
	when, user := b.when, b.user
	v.GeneratedAt = when(d.At)
	var chain []string
	for _, o := range d.Orgs {
		chain = append(chain, o.Name)
	}
	v.Place = strings.Join(chain, " / ")
	if !d.Until.IsZero() {
		v.Historical = T(lang, "dossier.historical", when(d.Until))
	}
	sex := map[string]string{"M": T(lang, "dossier.sex_m"), "F": T(lang, "dossier.sex_f")}[p.Sex]
	v.Identity = []Pair{
		{T(lang, "dossier.name"), p.Name},
		{T(lang, "dossier.sex"), orDash(sex)},
		{T(lang, "dossier.birth_date"), dateStr(p.BirthDate)},
		{T(lang, "dossier.id_number"), orDash(p.IDMasked)},
		{T(lang, "dossier.phone"), orDash(p.PhoneMasked)},
		{T(lang, "dossier.ethnicity"), orDash(p.Ethnicity)},
		{T(lang, "dossier.education"), orDash(p.Education)},
		{T(lang, "dossier.employment"), orDash(p.Employment)},
		{T(lang, "dossier.household_addr"), orDash(p.HouseholdAddr)},
		{T(lang, "dossier.residence_addr"), orDash(p.ResidenceAddr)},
		{T(lang, "dossier.place"), orDash(v.Place)},
		{T(lang, "dossier.worker"), orDash(p.WorkerName)},
		{T(lang, "dossier.status"), p.Status.Label(lang)},
	}
	for _, m := range d.Measures {
		mv := MeasureView{Heading: m.Kind.Label(lang) + " · " + m.DecisionNumber}
		if m.InForce {
			mv.Heading += " · " + T(lang, "dossier.in_force")
		}
		term := T(lang, "dossier.months", m.TermMonths)
		mv.Facts = []Pair{
			{T(lang, "dossier.measure_kind"), m.Kind.Label(lang)},
			{T(lang, "dossier.decision_number"), m.DecisionNumber},
			{T(lang, "dossier.decision_authority"), m.DecisionAuthority},
			{T(lang, "dossier.decision_date"), dateStr(m.DecisionDate)},
			{T(lang, "dossier.received_date"), dateStr(m.ReceivedDate)},
			{T(lang, "dossier.report_deadline"), dateStr(m.ReportDeadline)},
			{T(lang, "dossier.report_date"), dateStr(m.ReportDate)},
			{T(lang, "dossier.agreement_date"), dateStr(m.AgreementDate)},
			{T(lang, "dossier.term"), term},
			{T(lang, "dossier.term_end"), dateStr(m.TermEnd)},
			{T(lang, "dossier.place"), m.PlaceOrgName},
			{T(lang, "dossier.worker"), orDash(m.WorkerName)},
			{T(lang, "dossier.status"), m.Status.Label(lang) + paren(lang, T(lang, "dossier.since", dateStr(m.StatusSince)))},
		}
		if !m.EndedOn.IsZero() {
			mv.Facts = append(mv.Facts, Pair{T(lang, "dossier.ended_on"), dateStr(m.EndedOn)})
		}
		if !m.NoRelapseOn.IsZero() {
			mv.Facts = append(mv.Facts, Pair{T(lang, "dossier.no_relapse_on"), dateStr(m.NoRelapseOn)})
		}
		if !m.NoRelapseMarkedOn.IsZero() { // R16
			mv.Facts = append(mv.Facts, Pair{T(lang, "dossier.no_relapse_marked"), dateStr(m.NoRelapseMarkedOn)})
		}
		for _, r := range m.Relapses { // R16 (sensitive readers)
			mv.Facts = append(mv.Facts, Pair{T(lang, "dossier.relapse"), dateStr(r.Day) + " " + r.SourceLabel(lang)})
		}
		if m.InForce { // R7: the register shows the gap
			var roles, gaps []string
			for _, g := range m.Group {
				roles = append(roles, g.Role)
			}
			for _, g := range casework.GroupGaps(roles, m.GroupFamilyReason) {
				gaps = append(gaps, casework.GroupRoleLabel(g, lang))
			}
			if len(gaps) > 0 {
				mv.Facts = append(mv.Facts, Pair{T(lang, "dossier.group_gaps"), strings.Join(gaps, lang2sep(lang))})
			}
			if m.GroupFamilyReason != "" {
				mv.Facts = append(mv.Facts, Pair{T(lang, "group.family_reason"), m.GroupFamilyReason})
			}
		}
		for _, g := range m.Group {
			mv.Group = append(mv.Group, GroupRow{Role: RoleLabel(lang, g.Role), Name: g.Name, Note: g.Note})
		}
		if r, ok := b.reportInRow(d, m); ok { // issue 18 §7: the report-in is part of the history
			mv.History = append(mv.History, r)
		}
		for _, e := range m.Events {
			mv.History = append(mv.History, EventRow{At: dateStr(e.EffectiveDate),
				What:   e.Action.Label(lang) + colon(lang) + e.From.Label(lang) + " → " + e.To.Label(lang),
				Detail: e.Reason, By: user(e.ActorID)})
		}
		v.Measures = append(v.Measures, mv)
	}
	for _, doc := range d.Documents {
		v.Documents = append(v.Documents, DocumentRow{ID: doc.ID, Kind: KindLabel(lang, doc.Kind), Title: doc.Title,
			Source: T(lang, "doc.source."+doc.Source), Size: SizeLabel(doc.Size), By: orDash(doc.CreatedByName), At: when(doc.CreatedAt)})
	}
	for _, e := range d.Timeline {
		v.Timeline = append(v.Timeline, EventRow{At: when(e.At), What: EventLabel(lang, e.Kind), Detail: eventDetail(lang, e.Data), By: b.byOf(e)})
	}
	b.tests(d)
	b.violations(d)
	b.leaves(d)
	b.checkins(d)
	v.HideViolations = slices.Contains(d.Hidden, store.HiddenViolations)
	v.HideLeave = slices.Contains(d.Hidden, store.HiddenLeave)
	return v
}

// eventDetail prints a timeline entry's data (which holds no sensitive
// values) as short values, ids and codes left out.
func eventDetail(lang, data string) string {
	if data == "" {
		return ""
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		return ""
	}
	str := func(k string) string {
		if v, ok := m[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	add(str("title"))
	if k := str("kind"); k != "" {
		if mk := casework.MeasureKind(k); mk.Valid() {
			add(mk.Label(lang))
		} else if vk := casework.ViolationKind(k).Label(lang); vk != k {
			add(vk)
		}
	}
	if k := str("leave_kind"); k != "" {
		add(casework.LeaveKind(k).Label(lang))
	}
	if k := str("step"); k != "" {
		add(casework.LadderStep(k).Label(lang))
	}
	if k := str("trigger"); k != "" {
		add(casework.CaseTrigger(k).Label(lang))
	}
	if k := str("to_state"); k != "" {
		add(casework.LeaveState(k).Label(lang))
	}
	add(str("tested_on"))
	add(str("day"))
	add(str("decision_number"))
	switch from, to := str("from"), str("to"); {
	case from != "" && to != "":
		add(casework.Status(from).Label(lang) + " → " + casework.Status(to).Label(lang))
	case to != "":
		add("→ " + to) // a transfer names the receiving org
	}
	for _, k := range []string{"effective", "date", "org"} {
		add(str(k))
	}
	if r := str("role"); r != "" {
		add(RoleLabel(lang, r))
	}
	for _, k := range []string{"name", "reason"} {
		add(str(k))
	}
	return rNumber.ReplaceAllString(strings.Join(parts, " · "), "")
}

// rNumber is a DOMAIN rule number in a label: it belongs in a tooltip, not
// on paper.
var rNumber = regexp.MustCompile(`\s*[（(]R\d+[)）]`)

// paren puts s in the brackets of the language (full-width in Chinese).
func paren(lang, s string) string {
	if lang == "en" {
		return " (" + s + ")"
	}
	return "（" + s + "）"
}

// colon is the colon of the language (full-width in Chinese).
func colon(lang string) string {
	if lang == "en" {
		return ": "
	}
	return "："
}

func lang2sep(lang string) string {
	if lang == "en" {
		return ", "
	}
	return "、"
}
