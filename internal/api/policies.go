package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Policy as configuration (PRODUCT §5): the effective settings of an org on
// a date with where each comes from, and the versions attached to it.
func (a *API) policyRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewPolicy}
	viewOrg := httpx.Access{Perm: casework.PermViewPolicy, Target: "org"}
	editOrg := httpx.Access{Perm: casework.PermEditPolicy, Target: "org"}
	editVersion := httpx.Access{Perm: casework.PermEditPolicy, Target: "policy_version"}
	return []httpx.Route{
		rt("GET", "/api/v1/policy-settings", view, a.policySettings, "every configurable setting with its type, bounds, default and rule"),
		rt("GET", "/api/v1/orgs/{id}/policy", viewOrg, a.effectivePolicy, "the settings in force at an org on a date, each with its source"),
		rt("GET", "/api/v1/orgs/{id}/policy-versions", viewOrg, a.listPolicyVersions, "policy versions attached to an org"),
		rt("POST", "/api/v1/orgs/{id}/policy-versions", editOrg, a.createPolicyVersion, "create a policy version (or preview it)"),
		rt("PATCH", "/api/v1/policy-versions/{id}", editVersion, a.updatePolicyVersion, "edit a policy version not yet effective"),
		rt("DELETE", "/api/v1/policy-versions/{id}", editVersion, a.withdrawPolicyVersion, "withdraw a policy version not yet effective"),
	}
}

type policySettingJSON struct {
	Key        string          `json:"key"`
	Kind       string          `json:"kind"`
	Label      string          `json:"label"`
	Unit       string          `json:"unit,omitempty"`
	Hint       string          `json:"hint,omitempty"`
	Default    any             `json:"default"`
	Min        *int            `json:"min,omitempty"`
	Max        *int            `json:"max,omitempty"`
	LawMax     bool            `json:"law_max,omitempty"`
	Options    []policyOptJSON `json:"options,omitempty"`
	Rule       string          `json:"rule"`
	Confidence string          `json:"confidence"`
}

type policyOptJSON struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

func toSettingJSON(s *casework.Setting, lang string) policySettingJSON {
	out := policySettingJSON{Key: s.Key, Kind: string(s.Kind), Label: s.Label(lang), Unit: s.Unit(lang), Hint: s.Hint(lang),
		Default: s.Default.JSON(), LawMax: s.LawMax, Rule: s.Rule, Confidence: s.Confidence}
	if s.Kind == casework.SettingInt {
		out.Min, out.Max = &s.Min, &s.Max
	}
	for _, o := range s.Options {
		label := o.ZH
		if lang == "en" {
			label = o.EN
		}
		out.Options = append(out.Options, policyOptJSON{Value: o.Value, Label: label})
	}
	return out
}

func (a *API) policySettings(w http.ResponseWriter, r *http.Request, q *req) error {
	out := list[policySettingJSON]{Items: []policySettingJSON{}}
	for _, s := range casework.PolicySettings() {
		out.Items = append(out.Items, toSettingJSON(s, q.Lang))
	}
	out.Total = len(out.Items)
	writeJSON(w, http.StatusOK, out)
	return nil
}

type policySourceJSON struct {
	Kind          string        `json:"kind"` // national, template, version
	Ref           string        `json:"ref"`  // what a duty or verdict records
	TemplateID    string        `json:"template_id,omitempty"`
	VersionID     string        `json:"version_id,omitempty"`
	OrgID         string        `json:"org_id,omitempty"`
	OrgName       string        `json:"org_name,omitempty"`
	EffectiveFrom casework.Date `json:"effective_from,omitzero"`
}

type resolvedJSON struct {
	Key    string           `json:"key"`
	Label  string           `json:"label"`
	Unit   string           `json:"unit,omitempty"`
	Value  any              `json:"value"`
	Source policySourceJSON `json:"source"`
}

func toResolvedJSON(r casework.ResolvedSetting, lang string) resolvedJSON {
	s := r.Source
	return resolvedJSON{Key: r.Key, Label: r.Label(lang), Unit: r.Unit(lang), Value: r.Value.JSON(),
		Source: policySourceJSON{Kind: s.Kind, Ref: s.Ref(), TemplateID: s.TemplateID, VersionID: s.VersionID, OrgID: s.OrgID,
			OrgName: s.OrgName, EffectiveFrom: s.EffectiveFrom}}
}

type templateJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Note string `json:"note"`
}

type effectivePolicyJSON struct {
	OrgID    string         `json:"org_id"`
	Date     casework.Date  `json:"date"`
	Template *templateJSON  `json:"template,omitempty"`
	Settings []resolvedJSON `json:"settings"`
}

func (a *API) effectivePolicy(w http.ResponseWriter, r *http.Request, q *req) error {
	date, err := casework.ParseDateField("date", r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	p, err := a.DB.EffectivePolicy(r.Context(), q.Actor, r.PathValue("id"), date)
	if err != nil {
		return err
	}
	out := effectivePolicyJSON{OrgID: p.OrgID, Date: p.Date, Settings: []resolvedJSON{}}
	if t := p.Template; t != nil {
		out.Template = &templateJSON{ID: t.ID, Name: t.Name(q.Lang), Note: t.Note(q.Lang)}
	}
	for _, s := range p.Settings {
		out.Settings = append(out.Settings, toResolvedJSON(s, q.Lang))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type policyVersionJSON struct {
	ID             string         `json:"id"`
	OrgID          string         `json:"org_id"`
	OrgName        string         `json:"org_name"`
	EffectiveFrom  casework.Date  `json:"effective_from"`
	State          string         `json:"state"` // scheduled, effective, withdrawn
	Settings       map[string]any `json:"settings"`
	Note           string         `json:"note"`
	CreatedByName  string         `json:"created_by_name"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	WithdrawnAt    *time.Time     `json:"withdrawn_at,omitempty"`
	WithdrawnBy    string         `json:"withdrawn_by,omitempty"`
	WithdrawReason string         `json:"withdraw_reason,omitempty"`
}

func toVersionJSON(v *casework.PolicyVersion, today casework.Date) policyVersionJSON {
	out := policyVersionJSON{ID: v.ID, OrgID: v.OrgID, OrgName: v.OrgName, EffectiveFrom: v.EffectiveFrom, State: v.State(today),
		Settings: map[string]any{}, Note: v.Note, CreatedByName: v.CreatedByName, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		WithdrawnAt: timePtr(v.WithdrawnAt), WithdrawnBy: v.WithdrawnBy, WithdrawReason: v.WithdrawReason}
	for k, val := range v.Settings {
		if val == nil {
			out.Settings[k] = casework.InheritValue
		} else {
			out.Settings[k] = val.JSON()
		}
	}
	return out
}

func (a *API) listPolicyVersions(w http.ResponseWriter, r *http.Request, q *req) error {
	qs := r.URL.Query()
	vs, today, err := a.DB.ListPolicyVersions(r.Context(), q.Actor, r.PathValue("id"),
		store.PolicyVersionFilter{Inherited: qs.Get("inherited") == "1", Withdrawn: qs.Get("withdrawn") == "1"})
	if err != nil {
		return err
	}
	out := list[policyVersionJSON]{Items: []policyVersionJSON{}, Total: len(vs)}
	for _, v := range vs {
		out.Items = append(out.Items, toVersionJSON(v, today))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// policyVersionRequest holds typed JSON values: a number, a boolean, a
// string ("06:00-22:00", "county"), or null to restore inheritance.
type policyVersionRequest struct {
	EffectiveFrom casework.Date              `json:"effective_from"`
	Note          string                     `json:"note"`
	Settings      map[string]json.RawMessage `json:"settings"`
}

func (in policyVersionRequest) input() (casework.PolicyVersionInput, error) {
	out := casework.PolicyVersionInput{EffectiveFrom: in.EffectiveFrom, Note: in.Note, Settings: map[string]string{}}
	for k, raw := range in.Settings {
		raw = bytes.TrimSpace(raw)
		switch {
		case string(raw) == "null":
			out.Settings[k] = casework.InheritValue
		case len(raw) > 0 && raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return out, casework.Invalid(k, "设置 %s 的值无法读取", "cannot read the value of %s", k)
			}
			out.Settings[k] = s
		case string(raw) == "true" || string(raw) == "false":
			out.Settings[k] = string(raw)
		default:
			if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
				return out, casework.Invalid(k, "设置 %s 的值须为数字、true/false、字符串或 null", "%s must be a number, true/false, a string or null", k)
			}
			out.Settings[k] = string(raw)
		}
	}
	return out, nil
}

type policyChangeJSON struct {
	Key     string       `json:"key"`
	Label   string       `json:"label"`
	Changed bool         `json:"changed"`
	Before  resolvedJSON `json:"before"`
	After   resolvedJSON `json:"after"`
}

type policyPreviewJSON struct {
	Date    casework.Date      `json:"date"`
	Changes []policyChangeJSON `json:"changes"`
}

func (a *API) createPolicyVersion(w http.ResponseWriter, r *http.Request, q *req) error {
	var body policyVersionRequest
	if err := decode(r, &body); err != nil {
		return err
	}
	in, err := body.input()
	if err != nil {
		return err
	}
	if r.URL.Query().Get("preview") == "1" {
		pv, err := a.DB.PreviewPolicyVersion(r.Context(), q.Actor, r.PathValue("id"), in)
		if err != nil {
			return err
		}
		out := policyPreviewJSON{Date: pv.Date, Changes: []policyChangeJSON{}}
		for _, c := range pv.Changes {
			out.Changes = append(out.Changes, policyChangeJSON{Key: c.After.Key, Label: c.After.Label(q.Lang), Changed: c.Changed,
				Before: toResolvedJSON(c.Before, q.Lang), After: toResolvedJSON(c.After, q.Lang)})
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	v, err := a.DB.CreatePolicyVersion(r.Context(), q.Actor, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toVersionJSON(v, v.EffectiveFrom.AddDays(-1)))
	return nil
}

func (a *API) updatePolicyVersion(w http.ResponseWriter, r *http.Request, q *req) error {
	var body policyVersionRequest
	if err := decode(r, &body); err != nil {
		return err
	}
	in, err := body.input()
	if err != nil {
		return err
	}
	v, err := a.DB.UpdatePolicyVersion(r.Context(), q.Actor, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toVersionJSON(v, v.EffectiveFrom.AddDays(-1)))
	return nil
}

// withdrawPolicyVersion takes the reason from ?reason= or a JSON body
// {"reason": "…"}.
func (a *API) withdrawPolicyVersion(w http.ResponseWriter, r *http.Request, q *req) error {
	reason := r.URL.Query().Get("reason")
	if reason == "" && r.ContentLength != 0 {
		var body struct {
			Reason string `json:"reason"`
		}
		if err := decode(r, &body); err != nil {
			return err
		}
		reason = body.Reason
	}
	if err := a.DB.WithdrawPolicyVersion(r.Context(), q.Actor, r.PathValue("id"), reason); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
