package api

import (
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Risk tiers (issue 13; R31, R32): the same store calls as the console.
// An assessment is a proposal; only a lead's decision sets a tier, from
// the next day.
func (a *API) riskRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermRiskView, Target: "person"}
	assess := httpx.Access{Perm: casework.PermRiskAssess, Target: "person"}
	decide := httpx.Access{Perm: casework.PermRiskConfirm, Target: "risk_assessment"}
	org := httpx.Access{Perm: casework.PermRiskView, Target: "org"}
	load := httpx.Access{Perm: casework.PermRiskInstrument, Target: "org"}
	return []httpx.Route{
		rt("GET", "/api/v1/persons/{id}/risk", view, a.personRisk, "a person's risk tier in force, the one from tomorrow, the open proposal, history and the duties the tier sets"),
		rt("GET", "/api/v1/persons/{id}/risk/form", assess, a.riskForm, "the instrument in force and the answers the file already knows, with their sources"),
		rt("POST", "/api/v1/persons/{id}/risk/assessments", assess, a.assessRisk, "run a risk assessment: a proposal until a lead decides (R32)"),
		rt("POST", "/api/v1/risk/assessments/{id}/decision", decide, a.decideRisk, "confirm or override a proposed tier (R32); in force from the next day"),
		rt("GET", "/api/v1/orgs/{id}/risk/instrument", org, a.riskInstrument, "the risk instrument in force at an org on a date (inherited)"),
		rt("POST", "/api/v1/orgs/{id}/risk/instruments", load, a.createRiskInstrument, "load a risk instrument version for an org's subtree from a future date"),
		rt("GET", "/api/v1/orgs/{id}/risk/grading-rate", org, a.gradingRate, "定级率: persons under measure with a confirmed tier in force, over persons under measure"),
		a.appRoute("GET", "/api/v1/app/duties", AppDevice, a.appDuties, "app: what is asked of me today, from my last review, and when the next is"),
	}
}

type riskJSON struct {
	ID             string              `json:"id"`
	PersonID       string              `json:"person_id"`
	InstrumentID   string              `json:"instrument_id"`
	InstrumentName string              `json:"instrument_name"`
	Uncalibrated   bool                `json:"uncalibrated"`
	Input          casework.RiskInput  `json:"input"`
	Result         casework.RiskResult `json:"result"`
	ReasonKind     string              `json:"reason_kind"`
	State          string              `json:"state"`
	Tier           casework.Tier       `json:"tier,omitempty"`
	TierLabel      string              `json:"tier_label,omitempty"`
	Colour         string              `json:"colour,omitempty"`
	DecisionReason string              `json:"decision_reason,omitempty"`
	DecidedByName  string              `json:"decided_by_name,omitempty"`
	DecidedAt      time.Time           `json:"decided_at,omitzero"`
	EffectiveFrom  casework.Date       `json:"effective_from,omitzero"`
	PolicyRef      string              `json:"policy_ref,omitempty"`
	AssessedByName string              `json:"assessed_by_name"`
	AssessedAt     time.Time           `json:"assessed_at"`
}

func toRiskJSON(x *store.RiskAssessment, lang string) *riskJSON {
	if x == nil {
		return nil
	}
	j := &riskJSON{ID: x.ID, PersonID: x.PersonID, InstrumentID: x.Instrument.ID, InstrumentName: x.Instrument.DisplayName(lang), Uncalibrated: x.Instrument.Uncalibrated,
		Input: x.Input, Result: x.Result, ReasonKind: x.ReasonKind, State: x.State, Tier: x.Tier, DecisionReason: x.DecisionReason,
		DecidedByName: x.DecidedByName, DecidedAt: x.DecidedAt, EffectiveFrom: x.EffectiveFrom, PolicyRef: x.PolicyRef,
		AssessedByName: x.AssessedByName, AssessedAt: x.AssessedAt}
	if x.Tier != "" {
		j.TierLabel, j.Colour = x.Instrument.TierLabel(x.Tier, lang), x.Tier.Colour()
	}
	return j
}

type dutiesJSON struct {
	Date          casework.Date `json:"date"`
	Tier          casework.Tier `json:"tier,omitempty"`
	Window        string        `json:"checkin_window"`
	EveryDays     int           `json:"checkin_every_days"`
	HomePeriod    string        `json:"home_visit_period"`
	ContactPeriod string        `json:"contact_period"`
	SurpriseMin   int           `json:"surprise_tests_per_term"`
	Policy        []string      `json:"policy"`
}

func toDutiesJSON(d *store.RiskDuties) dutiesJSON {
	return dutiesJSON{Date: d.Date, Tier: d.Tier, Window: d.Window.String(), EveryDays: d.EveryDays, HomePeriod: string(d.HomePeriod), ContactPeriod: string(d.ContactPeriod),
		SurpriseMin: d.SurpriseMin, Policy: d.Policy}
}

func (a *API) personRisk(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx, pid := r.Context(), r.PathValue("id")
	f, err := a.DB.GetRiskFile(ctx, q.Actor, pid)
	if err != nil {
		return err
	}
	today, err := a.DB.RiskDutiesOn(ctx, q.Actor, pid, f.Today)
	if err != nil {
		return err
	}
	tomorrow, err := a.DB.RiskDutiesOn(ctx, q.Actor, pid, f.Today.AddDays(1))
	if err != nil {
		return err
	}
	hist := []*riskJSON{}
	for _, x := range f.History {
		hist = append(hist, toRiskJSON(x, q.Lang))
	}
	triggers := []store.RiskTrigger{}
	triggers = append(triggers, f.Triggers...)
	writeJSON(w, http.StatusOK, map[string]any{"person_id": pid, "person_name": f.PersonName, "today": f.Today,
		"current": toRiskJSON(f.Current, q.Lang), "next": toRiskJSON(f.Next, q.Lang), "proposal": toRiskJSON(f.Proposal, q.Lang),
		"history": hist, "next_review": f.NextReview, "triggers": triggers, "step_down_proposed": f.StepDown,
		"duties": map[string]any{"today": toDutiesJSON(today), "tomorrow": toDutiesJSON(tomorrow)}})
	return nil
}

func (a *API) riskForm(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := a.DB.RiskAssessForm(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"person_id": f.PersonID, "person_name": f.PersonName, "today": f.Today,
		"instrument": instrumentJSON(f.Instrument), "known": f.Known, "overrides": casework.Overrides})
	return nil
}

func instrumentJSON(in *casework.Instrument) map[string]any {
	return map[string]any{"id": in.ID, "org_id": in.OrgID, "effective_from": in.EffectiveFrom, "note": in.Note, "body": in}
}

type assessRequest struct {
	Answers    map[string]string `json:"answers"`
	Overrides  map[string]string `json:"overrides"`
	ReasonKind string            `json:"reason_kind"`
}

func (a *API) assessRisk(w http.ResponseWriter, r *http.Request, q *req) error {
	var in assessRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	x := casework.RiskInput{Answers: map[string]casework.RiskAnswer{}, Overrides: map[string]casework.RiskAnswer{}}
	for k, v := range in.Answers {
		x.Answers[k] = casework.RiskAnswer{Value: v}
	}
	for k, v := range in.Overrides {
		x.Overrides[k] = casework.RiskAnswer{Value: v}
	}
	res, err := a.DB.AssessRisk(r.Context(), q.Actor, r.PathValue("id"), x, in.ReasonKind, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toRiskJSON(res, q.Lang))
	return nil
}

type decideRequest struct {
	Tier   casework.Tier `json:"tier"`
	Reason string        `json:"reason"`
}

func (a *API) decideRisk(w http.ResponseWriter, r *http.Request, q *req) error {
	var in decideRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	res, err := a.DB.DecideRisk(r.Context(), q.Actor, r.PathValue("id"), in.Tier, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRiskJSON(res, q.Lang))
	return nil
}

func optQueryDate(r *http.Request, name string) (casework.Date, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return casework.Date{}, nil
	}
	return casework.ParseDateField(name, v)
}

func (a *API) riskInstrument(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := optQueryDate(r, "on")
	if err != nil {
		return err
	}
	in, err := a.DB.RiskInstrument(r.Context(), q.Actor, r.PathValue("id"), d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, instrumentJSON(in))
	return nil
}

type instrumentRequest struct {
	EffectiveFrom casework.Date        `json:"effective_from"`
	Note          string               `json:"note"`
	Instrument    *casework.Instrument `json:"instrument"`
}

func (a *API) createRiskInstrument(w http.ResponseWriter, r *http.Request, q *req) error {
	var in instrumentRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Instrument == nil {
		return casework.Invalid("instrument", "缺少评估表", "the instrument is missing")
	}
	out, err := a.DB.CreateRiskInstrument(r.Context(), q.Actor, r.PathValue("id"), in.Instrument, in.EffectiveFrom, in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, instrumentJSON(out))
	return nil
}

func (a *API) gradingRate(w http.ResponseWriter, r *http.Request, q *req) error {
	d, err := optQueryDate(r, "on")
	if err != nil {
		return err
	}
	g, u, err := a.DB.GradingRate(r.Context(), q.Actor, r.PathValue("id"), d)
	if err != nil {
		return err
	}
	rate := 0.0
	if u > 0 {
		rate = float64(g) / float64(u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"org_id": r.PathValue("id"), "on": d, "graded": g, "under_measure": u, "rate": rate})
	return nil
}

// appDuties: the person's duties in plain terms, the last review and the
// next; never the score nor the tier (R32 explanation, issue 13 §6).
func (a *API) appDuties(w http.ResponseWriter, r *http.Request, q *appReq) error {
	d, err := a.DB.AppDuties(r.Context(), q.Device.PersonID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"today": d.Today, "checkin_window": d.Duties.Window.String(), "checkin_every_days": d.Duties.EveryDays,
		"home_visit_period": d.Duties.HomePeriod, "contact_period": d.Duties.ContactPeriod,
		"last_review": d.LastReview, "next_review": d.NextReview})
	return nil
}
