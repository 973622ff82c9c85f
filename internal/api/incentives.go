package api

import (
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Incentives (积分; issue 14): a person's consent, balance and ledger for
// staff, and the person's own account in the app. The same store calls
// as the console.
func (a *API) incentiveRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewHelp, Target: "person"}
	write := httpx.Access{Perm: casework.PermWriteHelp, Target: "person"}
	approve := httpx.Access{Perm: casework.PermApproveCorrect, Target: "person"}
	return []httpx.Route{
		rt("GET", "/api/v1/persons/{id}/incentives", view, a.personIncentives, "a person's incentive consent, balance, escalation and ledger (audited)"),
		rt("POST", "/api/v1/persons/{id}/incentives/consent", write, a.giveIncentiveConsent, "record the person's consent to incentives"),
		rt("POST", "/api/v1/persons/{id}/incentives/consent/revoke", write, a.revokeIncentiveConsent, "record the withdrawal of the person's consent, with the reason"),
		rt("POST", "/api/v1/persons/{id}/incentives/reversals", approve, a.reverseIncentive, "reverse an award (a lead, with the reason); the original row stays"),
		a.appRoute("GET", "/api/v1/app/incentives", AppDevice, a.appIncentives, "app: my points — balance, history and the value of the next negative test"),
	}
}

type ledgerJSON struct {
	ID        string        `json:"id"`
	Rule      string        `json:"rule"`
	Points    int           `json:"points"`
	Source    string        `json:"source_kind"`
	Day       casework.Date `json:"day"`
	PolicyRef string        `json:"policy_ref,omitempty"`
	Note      string        `json:"note,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
}

type incentivesJSON struct {
	Enabled     bool         `json:"enabled"`
	Consent     bool         `json:"consent"`
	ConsentedAt *time.Time   `json:"consented_at,omitempty"`
	Balance     int          `json:"balance"`
	Earned      int          `json:"earned"`
	Redeemed    int          `json:"redeemed"`
	Streak      int          `json:"streak"`
	NextValue   int          `json:"next_negative_value"`
	ToReturn    int          `json:"negatives_to_return,omitempty"`
	ReturnValue int          `json:"return_value,omitempty"`
	Ledger      []ledgerJSON `json:"ledger"`
}

func toIncentivesJSON(acc *store.IncentiveAccount, staff bool) incentivesJSON {
	j := incentivesJSON{Enabled: acc.Schedule.Enabled, Consent: acc.Consent != nil, Balance: acc.Balance, Earned: acc.Earned, Redeemed: acc.Redeemed,
		Streak: acc.State.Streak, NextValue: acc.NextValue, ToReturn: acc.ToReturn, ReturnValue: acc.Return, Ledger: []ledgerJSON{}}
	if acc.Consent != nil {
		j.ConsentedAt = &acc.Consent.GivenAt
	}
	for _, l := range acc.Rows {
		lj := ledgerJSON{ID: l.ID, Rule: l.Rule, Points: l.Points, Source: l.SourceKind, Day: l.Day, CreatedAt: l.CreatedAt}
		if staff {
			lj.PolicyRef, lj.Note = l.PolicyRef, l.Note
		}
		j.Ledger = append(j.Ledger, lj)
	}
	return j
}

func (a *API) personIncentives(w http.ResponseWriter, r *http.Request, q *req) error {
	acc, err := a.DB.IncentiveAccountOf(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toIncentivesJSON(acc, true))
	return nil
}

func (a *API) giveIncentiveConsent(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		Note string `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if _, err := a.DB.GiveIncentiveConsent(r.Context(), q.Actor, r.PathValue("id"), in.Note); err != nil {
		return err
	}
	return a.personIncentivesStatus(w, r, q, http.StatusCreated)
}

func (a *API) revokeIncentiveConsent(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.DB.RevokeIncentiveConsent(r.Context(), q.Actor, r.PathValue("id"), in.Reason); err != nil {
		return err
	}
	return a.personIncentivesStatus(w, r, q, http.StatusOK)
}

func (a *API) reverseIncentive(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		RowID  string `json:"row_id"`
		Reason string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.DB.ReverseIncentive(r.Context(), q.Actor, r.PathValue("id"), in.RowID, in.Reason); err != nil {
		return err
	}
	return a.personIncentivesStatus(w, r, q, http.StatusCreated)
}

func (a *API) personIncentivesStatus(w http.ResponseWriter, r *http.Request, q *req, status int) error {
	acc, err := a.DB.IncentiveAccountOf(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, status, toIncentivesJSON(acc, true))
	return nil
}

func (a *API) appIncentives(w http.ResponseWriter, r *http.Request, q *appReq) error {
	acc, err := a.DB.AppIncentiveAccount(r.Context(), q.Device.PersonID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toIncentivesJSON(acc, false))
	return nil
}
