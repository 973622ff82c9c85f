package web

import (
	"net/http"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// A person's risk tier (issue 13; R31, R32): the tier in force with its
// history, who decided it and why; a worker runs an assessment (what the
// file knows filled in, with its source), a lead confirms or overrides the
// proposal with a reason. Counsellors see none of it.
func (c *Console) riskRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermRiskView, Target: "person"}
	assess := httpx.Access{Perm: casework.PermRiskAssess, Target: "person"}
	decide := httpx.Access{Perm: casework.PermRiskConfirm, Target: "risk_assessment"}
	return []httpx.Route{
		rt("GET", "/persons/{id}/risk", view, c.riskPage, "a person's risk tier, its history and the assessment form"),
		rt("POST", "/persons/{id}/risk", assess, c.riskAssess, "run a risk assessment (a proposal, R32)"),
		rt("POST", "/risk/{id}/decide", decide, c.riskDecide, "confirm or override a proposed risk tier (R32)"),
	}
}

type riskFactorRow struct {
	Code, Label, Source string
	Options             []choice
}

type riskOverrideRow struct {
	Code, Label, Source string
	Checked, Locked     bool
}

type riskRow struct {
	A                       *store.RiskAssessment
	Proposed, Tier, Colour  string
	State, Reason, Instr    string
	Items                   []string
	Overrides               []string
	Effective, Assessed     string
	Uncalibrated, Confirmed bool
}

type riskData struct {
	PersonID, PersonName string
	Current, Next        *riskRow
	Proposal             *riskRow
	History              []riskRow
	NextReview           string
	Triggers             []string
	StepDown, Never      bool
	Instrument           *casework.Instrument
	Factors              []riskFactorRow
	Overrides            []riskOverrideRow
	Tiers                []choice
	ReasonKind           string
	CanAssess, CanDecide bool
	Err                  *formError
	ErrForm              string
}

func (c *Console) riskRowOf(lang string, a *store.RiskAssessment) riskRow {
	in := a.Instrument
	r := riskRow{A: a, Proposed: in.TierLabel(a.Result.Proposed, lang), Colour: a.Result.Proposed.Colour(),
		State: i18n.T(lang, "risk.state."+a.State), Reason: a.DecisionReason, Instr: in.DisplayName(lang), Uncalibrated: in.Uncalibrated,
		Assessed: a.AssessedAt.In(casework.LoadLocation(casework.DefaultTimeZone)).Format("2006-01-02 15:04")}
	if a.Tier != "" {
		r.Tier, r.Colour, r.Confirmed = in.TierLabel(a.Tier, lang), a.Tier.Colour(), true
		r.Effective = a.EffectiveFrom.String()
	}
	for _, it := range a.Result.Items {
		f, ok := in.Factor(it.Code)
		if !ok {
			continue
		}
		s := f.Label(lang)
		if o, ok := f.Option(it.Value); ok {
			s += "：" + o.Label(lang)
		}
		r.Items = append(r.Items, s+" (+"+itoa(it.Points)+")")
	}
	for _, o := range a.Result.Overrides {
		r.Overrides = append(r.Overrides, casework.OverrideLabel(o, lang))
	}
	return r
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func (c *Console) riskRender(w http.ResponseWriter, r *http.Request, q *req, d riskData, status int) error {
	ctx := r.Context()
	pid := r.PathValue("id")
	f, err := c.DB.GetRiskFile(ctx, q.Actor, pid)
	if err != nil {
		return err
	}
	p, err := c.DB.GetPerson(ctx, q.Actor, pid, "")
	if err != nil {
		return err
	}
	d.PersonID, d.PersonName, d.Instrument = pid, f.PersonName, f.Instrument
	d.NextReview, d.StepDown, d.Never = f.NextReview.String(), f.StepDown, f.Never
	for _, t := range f.Triggers {
		d.Triggers = append(d.Triggers, t.Label(q.Lang))
	}
	if f.Current != nil {
		row := c.riskRowOf(q.Lang, f.Current)
		d.Current = &row
	}
	if f.Next != nil {
		row := c.riskRowOf(q.Lang, f.Next)
		d.Next = &row
	}
	if f.Proposal != nil {
		row := c.riskRowOf(q.Lang, f.Proposal)
		d.Proposal = &row
	}
	for _, a := range f.History {
		d.History = append(d.History, c.riskRowOf(q.Lang, a))
	}
	d.CanDecide = f.Proposal != nil && q.Actor.Can(casework.PermRiskConfirm, p.OrgPath)
	if d.CanDecide {
		for _, t := range casework.Tiers {
			d.Tiers = append(d.Tiers, choice{Value: string(t), Label: f.Proposal.Instrument.TierLabel(t, q.Lang), Selected: t == f.Proposal.Result.Proposed})
		}
	}
	d.CanAssess = p.Access.Write && p.Access.Until.IsZero() && q.Actor.Can(casework.PermRiskAssess, p.OrgPath)
	if d.CanAssess {
		form, err := c.DB.RiskAssessForm(ctx, q.Actor, pid)
		if err != nil {
			return err
		}
		d.Instrument = form.Instrument
		for _, fc := range form.Instrument.Factors {
			row := riskFactorRow{Code: fc.Code, Label: fc.Label(q.Lang)}
			known, has := form.Known.Answers[fc.Code]
			if has {
				row.Source = pickLang(q.Lang, known.SourceZH, known.SourceEN)
			}
			for _, o := range fc.Options {
				row.Options = append(row.Options, choice{Value: o.Value, Label: o.Label(q.Lang), Selected: has && o.Value == known.Value})
			}
			d.Factors = append(d.Factors, row)
		}
		for _, code := range casework.Overrides {
			row := riskOverrideRow{Code: code, Label: casework.OverrideLabel(code, q.Lang)}
			if k, ok := form.Known.Overrides[code]; ok && k.Value == "yes" {
				row.Checked, row.Locked, row.Source = true, true, pickLang(q.Lang, k.SourceZH, k.SourceEN)
			}
			d.Overrides = append(d.Overrides, row)
		}
	}
	d.ReasonKind = r.URL.Query().Get("reason")
	c.render(w, r, q, status, "risk", d)
	return nil
}

func pickLang(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}

func (c *Console) riskPage(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.riskRender(w, r, q, riskData{}, http.StatusOK)
}

func (c *Console) riskAssess(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := r.ParseForm(); err != nil {
		return casework.Invalid("form", "无法读取表单", "cannot read the form")
	}
	x := casework.RiskInput{Answers: map[string]casework.RiskAnswer{}, Overrides: map[string]casework.RiskAnswer{}}
	for k, v := range r.PostForm {
		switch {
		case strings.HasPrefix(k, "f_") && len(v) > 0 && v[0] != "":
			x.Answers[strings.TrimPrefix(k, "f_")] = casework.RiskAnswer{Value: v[0]}
		case strings.HasPrefix(k, "o_") && len(v) > 0:
			x.Overrides[strings.TrimPrefix(k, "o_")] = casework.RiskAnswer{Value: v[0]}
		}
	}
	pid := r.PathValue("id")
	_, err := c.DB.AssessRisk(r.Context(), q.Actor, pid, x, r.PostFormValue("reason_kind"), "")
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.riskRender(w, r, q, riskData{Err: fe, ErrForm: "assess"}, http.StatusBadRequest)
	}
	return redirect(w, r, "/persons/"+pid+"/risk", "risk_assessed")
}

func (c *Console) riskDecide(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, "tier", "reason", "person_id")
	if err != nil {
		return err
	}
	a, err := c.DB.DecideRisk(r.Context(), q.Actor, r.PathValue("id"), casework.Tier(f["tier"]), f["reason"])
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok || f["person_id"] == "" {
			return err
		}
		// The page is re-read with the reader's own access to the file.
		r.SetPathValue("id", f["person_id"])
		return c.riskRender(w, r, q, riskData{Err: fe, ErrForm: "decide"}, http.StatusBadRequest)
	}
	return redirect(w, r, "/persons/"+a.PersonID+"/risk", "risk_decided")
}
