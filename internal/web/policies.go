package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// Policy as configuration (PRODUCT §5): the tree of orgs with their policy
// versions, and per org the settings in force on a date with where each
// comes from, the versions, and a form to add one (preview, then confirm).
func (c *Console) policyRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewPolicy}
	viewOrg := httpx.Access{Perm: casework.PermViewPolicy, Target: "org"}
	editOrg := httpx.Access{Perm: casework.PermEditPolicy, Target: "org"}
	return []httpx.Route{
		rt("GET", "/policies", view, c.policyTree, "policy versions across the org tree"),
		rt("GET", "/policies/{id}", viewOrg, c.policyView, "the policy in force at an org, its versions and the new-version form"),
		rt("POST", "/policies/{id}/preview", editOrg, c.policyPreview, "preview a new policy version"),
		rt("POST", "/policies/{id}/versions", editOrg, c.policyCreate, "create a policy version"),
		rt("POST", "/policy-versions/{id}/withdraw", httpx.Access{Perm: casework.PermEditPolicy, Target: "policy_version"},
			c.policyWithdraw, "withdraw a policy version not yet effective"),
	}
}

type policyTreeRow struct {
	Org      *casework.Org
	Versions []versionRow
}

type policyTreeData struct {
	Rows      []policyTreeRow
	BaseDepth int
}

func (c *Console) policyTree(w http.ResponseWriter, r *http.Request, q *req) error {
	nodes, err := c.DB.PolicyTree(r.Context(), q.Actor)
	if err != nil {
		return err
	}
	d := policyTreeData{BaseDepth: 99}
	for _, n := range nodes {
		d.BaseDepth = min(d.BaseDepth, n.Org.Depth())
		row := policyTreeRow{Org: n.Org}
		for _, v := range n.Versions {
			if !v.Withdrawn {
				row.Versions = append(row.Versions, c.versionRow(q, v, n.Today))
			}
		}
		d.Rows = append(d.Rows, row)
	}
	c.render(w, r, q, http.StatusOK, "policies", d)
	return nil
}

// versionRow is one version as the pages list it.
type versionRow struct {
	V           *casework.PolicyVersion
	State       string // scheduled, effective, withdrawn
	Items       []string
	CanWithdraw bool
}

func (c *Console) versionRow(q *req, v *casework.PolicyVersion, today casework.Date) versionRow {
	row := versionRow{V: v, State: v.State(today)}
	row.CanWithdraw = row.State == "scheduled" && q.Actor.Can(casework.PermEditPolicy, v.OrgPath)
	for _, k := range v.Keys() {
		s, _ := casework.PolicySetting(k)
		val := i18n.T(q.Lang, "policy.inherit")
		if p := v.Settings[k]; p != nil {
			val = s.Format(*p, q.Lang) + " " + s.Unit(q.Lang)
		}
		row.Items = append(row.Items, s.Label(q.Lang)+"："+strings.TrimSpace(val))
	}
	return row
}

// settingRow is one setting on the org page: what is in force and the
// form's input for it.
type settingRow struct {
	S          *casework.Setting
	Label      string
	Unit       string
	Hint       string
	Value      string
	Source     string
	SourceOrg  string // org id of the version that produced it, for a link
	Input      string
	From, To   string // a window's parts
	Same       bool   // a tier setting set to the general one's value
	Inherit    bool
	Options    []choice
	Err        string
	Changed    bool // in a preview
	PreviewOld string
	PreviewNew string
}

// policyForm is the new-version form as submitted.
type policyForm struct {
	EffectiveFrom string
	Note          string
	Values        map[string]string // setting key → text
	Inherit       map[string]bool
}

func readPolicyForm(r *http.Request) policyForm {
	f := policyForm{EffectiveFrom: strings.TrimSpace(r.PostFormValue("effective_from")), Note: r.PostFormValue("note"),
		Values: map[string]string{}, Inherit: map[string]bool{}}
	for _, s := range casework.PolicySettings() {
		if r.PostFormValue("inherit."+s.Key) == "1" {
			f.Inherit[s.Key] = true
			continue
		}
		text := strings.TrimSpace(r.PostFormValue("s." + s.Key))
		if s.Kind == casework.SettingWindow {
			from, to := strings.TrimSpace(r.PostFormValue("s."+s.Key+".from")), strings.TrimSpace(r.PostFormValue("s."+s.Key+".to"))
			if from != "" || to != "" {
				text = from + "-" + to
			}
			if s.Same != "" && r.PostFormValue("s."+s.Key+".same") == "1" {
				text = casework.SameValue // a tier keeps the general window (R31)
			}
		}
		if text != "" {
			f.Values[s.Key] = text
		}
	}
	return f
}

// input turns the form into a version input; a malformed date is an error
// on its field.
func (f policyForm) input() (casework.PolicyVersionInput, error) {
	in := casework.PolicyVersionInput{Note: f.Note, Settings: map[string]string{}}
	for k, v := range f.Values {
		in.Settings[k] = v
	}
	for k := range f.Inherit {
		in.Settings[k] = casework.InheritValue
	}
	d, err := casework.ParseDateField("effective_from", f.EffectiveFrom)
	in.EffectiveFrom = d
	return in, err
}

type policyPageData struct {
	Org         *casework.Org
	Date        casework.Date
	Today       casework.Date
	Tomorrow    casework.Date
	Template    *casework.PolicyTemplate
	Rows        []settingRow
	Versions    []versionRow
	CanEdit     bool
	Form        policyForm
	Errs        map[string]string
	Preview     *casework.PolicyPreview
	WithdrawErr string
	// IncentiveWarning says when the incentive schedule in force cannot
	// reach the value that worked in the trials (issue 14 §3; CARE.md A).
	IncentiveWarning string
}

// policyPage renders the org page; d carries the form, its errors or a
// preview when re-rendered after a post.
func (c *Console) policyPage(w http.ResponseWriter, r *http.Request, q *req, d policyPageData, status int) error {
	ctx := r.Context()
	org, err := c.DB.GetOrg(ctx, q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	vs, today, err := c.DB.ListPolicyVersions(ctx, q.Actor, org.ID, store.PolicyVersionFilter{Inherited: true, Withdrawn: true})
	if err != nil {
		return err
	}
	if d.Date.IsZero() {
		if d.Date, err = casework.ParseDateField("date", r.URL.Query().Get("date")); err != nil {
			return err
		}
	}
	if d.Date.IsZero() {
		d.Date = today
	}
	p, err := c.DB.EffectivePolicy(ctx, q.Actor, org.ID, d.Date)
	if err != nil {
		return err
	}
	d.Org, d.Today, d.Tomorrow, d.Template = org, today, today.AddDays(1), p.Template
	d.CanEdit = q.Actor.Can(casework.PermEditPolicy, org.Path) && !org.Retired
	for _, v := range vs {
		d.Versions = append(d.Versions, c.versionRow(q, v, today))
	}
	changes := map[string]casework.PolicyChange{}
	if d.Preview != nil {
		for _, ch := range d.Preview.Changes {
			changes[ch.After.Key] = ch
		}
	}
	for _, rs := range p.Settings {
		d.Rows = append(d.Rows, c.settingRow(q, rs, d, changes))
	}
	tests, checkins := casework.IncentiveLawCadence()
	if zh, en := casework.IncentiveScheduleOf(p).Warning(tests, checkins); q.Lang == "en" {
		d.IncentiveWarning = en
	} else {
		d.IncentiveWarning = zh
	}
	c.render(w, r, q, status, "policy", d)
	return nil
}

func (c *Console) settingRow(q *req, rs casework.ResolvedSetting, d policyPageData, changes map[string]casework.PolicyChange) settingRow {
	s := rs.Setting
	row := settingRow{S: s, Label: s.Label(q.Lang), Unit: s.Unit(q.Lang), Hint: s.Hint(q.Lang), Value: s.Format(rs.Value, q.Lang),
		Source: c.sourceText(q, rs.Source), Input: d.Form.Values[s.Key], Inherit: d.Form.Inherit[s.Key], Err: d.Errs[s.Key]}
	if rs.Source.Kind == "version" {
		row.SourceOrg = rs.Source.OrgID
	}
	row.Same = s.Same != "" && row.Input == casework.SameValue
	if s.Kind == casework.SettingWindow && row.Input != "" && !row.Same {
		row.From, row.To, _ = strings.Cut(row.Input, "-")
	}
	switch s.Kind {
	case casework.SettingBool:
		row.Options = []choice{{Value: "true", Label: s.Format(casework.BoolValue(true), q.Lang), Selected: row.Input == "true"},
			{Value: "false", Label: s.Format(casework.BoolValue(false), q.Lang), Selected: row.Input == "false"}}
	case casework.SettingEnum:
		for _, o := range s.Options {
			row.Options = append(row.Options, choice{Value: o.Value, Label: s.Format(casework.EnumValue(o.Value), q.Lang), Selected: row.Input == o.Value})
		}
		if s.Same != "" { // a tier setting may keep the general one (R31)
			row.Options = append(row.Options, choice{Value: casework.SameValue, Label: i18n.T(q.Lang, "policy.same"), Selected: row.Same})
		}
	}
	if ch, ok := changes[s.Key]; ok {
		row.Changed = ch.Changed
		unit := strings.TrimRight(" "+s.Unit(q.Lang), " ")
		row.PreviewOld = s.Format(ch.Before.Value, q.Lang) + unit + " · " + c.sourceText(q, ch.Before.Source)
		row.PreviewNew = s.Format(ch.After.Value, q.Lang) + unit
		if ch.After.Source.Kind != "version" || ch.After.Source.VersionID != "preview" {
			row.PreviewNew += " · " + c.sourceText(q, ch.After.Source) // "inherit": the parent's value shows through
		}
	}
	return row
}

func (c *Console) sourceText(q *req, s casework.PolicySource) string {
	switch s.Kind {
	case "template":
		for _, t := range casework.PolicyTemplates() {
			if t.ID == s.TemplateID {
				return t.Name(q.Lang)
			}
		}
	case "version":
		if s.VersionID == "preview" {
			return i18n.T(q.Lang, "policy.source.new")
		}
		return i18n.T(q.Lang, "policy.source.version", s.OrgName, s.EffectiveFrom.String())
	}
	return i18n.T(q.Lang, "policy.source.national")
}

func (c *Console) policyView(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.policyPage(w, r, q, policyPageData{}, http.StatusOK)
}

// policyFormFailed re-renders the page with every field error next to its
// field, or returns err when it is not about the input.
func (c *Console) policyFormFailed(w http.ResponseWriter, r *http.Request, q *req, f policyForm, err error) error {
	var fe casework.FieldErrors
	var errs map[string]string
	switch {
	case errors.As(err, &fe):
		errs = fe.Map(q.Lang)
	default:
		e, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		field := e.Field
		if field == "" {
			field = "form"
		}
		errs = map[string]string{field: e.Message}
	}
	return c.policyPage(w, r, q, policyPageData{Form: f, Errs: errs}, http.StatusBadRequest)
}

func (c *Console) policyPreview(w http.ResponseWriter, r *http.Request, q *req) error {
	f := readPolicyForm(r)
	in, err := f.input()
	if err != nil {
		return c.policyFormFailed(w, r, q, f, err)
	}
	pv, err := c.DB.PreviewPolicyVersion(r.Context(), q.Actor, r.PathValue("id"), in)
	if err != nil {
		return c.policyFormFailed(w, r, q, f, err)
	}
	return c.policyPage(w, r, q, policyPageData{Form: f, Preview: pv, Date: pv.Date}, http.StatusOK)
}

func (c *Console) policyCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	f := readPolicyForm(r)
	in, err := f.input()
	if err != nil {
		return c.policyFormFailed(w, r, q, f, err)
	}
	v, err := c.DB.CreatePolicyVersion(r.Context(), q.Actor, r.PathValue("id"), in)
	if err != nil {
		return c.policyFormFailed(w, r, q, f, err)
	}
	return redirect(w, r, "/policies/"+v.OrgID+"?date="+v.EffectiveFrom.String(), "policy_created")
}

func (c *Console) policyWithdraw(w http.ResponseWriter, r *http.Request, q *req) error {
	v, err := c.DB.GetPolicyVersion(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	err = c.DB.WithdrawPolicyVersion(r.Context(), q.Actor, v.ID, r.PostFormValue("reason"))
	if fe, ok := toFormError(err, q.Lang); ok {
		r.SetPathValue("id", v.OrgID)
		return c.policyPage(w, r, q, policyPageData{WithdrawErr: fe.Message}, http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/policies/"+v.OrgID, "policy_withdrawn")
}

// policyRefText words a policy reference (casework.PolicySource.Ref) or a
// comma-separated list of them for staff (issue 18 §8).
func policyRefText(lang, refs string) string {
	var out []string
	for _, ref := range strings.Split(refs, ",") {
		ref = strings.TrimSpace(ref)
		text := ""
		switch {
		case ref == "":
			continue
		case ref == "national":
			text = i18n.T(lang, "policy.source.national")
		case strings.HasPrefix(ref, "template:"):
			for _, t := range casework.PolicyTemplates() {
				if "template:"+t.ID == ref {
					text = t.Name(lang)
				}
			}
		}
		if text == "" {
			text = i18n.T(lang, "policy.ref.local")
		}
		if !slices.Contains(out, text) {
			out = append(out, text)
		}
	}
	if lang == "en" {
		return strings.Join(out, ", ")
	}
	return strings.Join(out, "、")
}
