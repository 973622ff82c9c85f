package api

import (
	"net/http"
	"strconv"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Rewards catalogue and redemption (issue 14 §4–5): an office's catalogue
// (in kind), a redemption with the code the person's app shows, the
// office's redemptions and points per month with the budget warning. The
// same store calls as the console.
func (a *API) rewardRoutes(rt route) []httpx.Route {
	viewOrg := httpx.Access{Perm: casework.PermViewHelp, Target: "org"}
	writeOrg := httpx.Access{Perm: casework.PermWriteHelp, Target: "org"}
	reward := httpx.Access{Perm: casework.PermWriteHelp, Target: "reward"}
	write := httpx.Access{Perm: casework.PermWriteHelp, Target: "person"}
	return []httpx.Route{
		rt("GET", "/api/v1/orgs/{id}/rewards", viewOrg, a.listRewards, "an office's rewards catalogue (in kind), retired items last"),
		rt("POST", "/api/v1/orgs/{id}/rewards", writeOrg, a.addReward, "add a reward in kind to an office's catalogue (audited)"),
		rt("PATCH", "/api/v1/rewards/{id}", reward, a.updateReward, "change a reward's name, kind, price or stock (audited)"),
		rt("POST", "/api/v1/rewards/{id}/retire", reward, a.retireReward, "take a reward off the catalogue (audited)"),
		rt("GET", "/api/v1/orgs/{id}/redemptions", viewOrg, a.listRedemptions, "redemptions in an office's subtree, newest first"),
		rt("GET", "/api/v1/orgs/{id}/incentive-months", viewOrg, a.incentiveMonths, "points issued and redeemed per month of a year in an office's subtree, with the budget warning"),
		rt("POST", "/api/v1/persons/{id}/redemptions", write, a.redeem, "redeem a reward with the code the person's app shows (the person present)"),
		a.appRoute("GET", "/api/v1/app/rewards", AppDevice, a.appRewards, "app: the rewards I can redeem at my office"),
		a.appRoute("POST", "/api/v1/app/incentives/code", AppDevice, a.appRedeemCode, "app: a one-time redemption code, valid 10 minutes, to show the worker"),
	}
}

type rewardJSON struct {
	ID        string     `json:"id"`
	OrgID     string     `json:"org_id"`
	OrgName   string     `json:"org_name"`
	Name      string     `json:"name"`
	Kind      string     `json:"kind"`
	Note      string     `json:"note,omitempty"`
	Points    int        `json:"points"`
	Stock     int        `json:"stock"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
}

func toRewardJSON(r store.Reward) rewardJSON {
	j := rewardJSON{ID: r.ID, OrgID: r.OrgID, OrgName: r.OrgName, Name: r.Name, Kind: r.Kind, Note: r.Note, Points: r.Points, Stock: r.Stock}
	if !r.RetiredAt.IsZero() {
		j.RetiredAt = &r.RetiredAt
	}
	return j
}

func rewardsJSON(rs []store.Reward) []rewardJSON {
	out := []rewardJSON{}
	for _, r := range rs {
		out = append(out, toRewardJSON(r))
	}
	return out
}

type rewardIn struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Note   string `json:"note"`
	Points int    `json:"points"`
	Stock  int    `json:"stock"`
}

func (in rewardIn) input() store.RewardInput {
	return store.RewardInput{Name: in.Name, Kind: in.Kind, Note: in.Note, Points: in.Points, Stock: in.Stock}
}

func (a *API) listRewards(w http.ResponseWriter, r *http.Request, q *req) error {
	_, rs, err := a.DB.Rewards(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"rewards": rewardsJSON(rs)})
	return nil
}

func (a *API) addReward(w http.ResponseWriter, r *http.Request, q *req) error {
	var in rewardIn
	if err := decode(r, &in); err != nil {
		return err
	}
	rw, err := a.DB.AddReward(r.Context(), q.Actor, r.PathValue("id"), in.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toRewardJSON(*rw))
	return nil
}

func (a *API) updateReward(w http.ResponseWriter, r *http.Request, q *req) error {
	var in rewardIn
	if err := decode(r, &in); err != nil {
		return err
	}
	rw, err := a.DB.UpdateReward(r.Context(), q.Actor, r.PathValue("id"), in.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRewardJSON(*rw))
	return nil
}

func (a *API) retireReward(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := a.DB.RetireReward(r.Context(), q.Actor, r.PathValue("id")); err != nil {
		return err
	}
	rw, err := a.DB.Reward(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRewardJSON(*rw))
	return nil
}

type redemptionJSON struct {
	ID         string    `json:"id"`
	PersonID   string    `json:"person_id"`
	PersonName string    `json:"person_name"`
	RewardID   string    `json:"reward_id"`
	RewardName string    `json:"reward_name"`
	Points     int       `json:"points"`
	ByName     string    `json:"by_name"`
	At         time.Time `json:"at"`
}

func toRedemptionJSON(x store.Redemption) redemptionJSON {
	return redemptionJSON{ID: x.ID, PersonID: x.PersonID, PersonName: x.PersonName, RewardID: x.RewardID, RewardName: x.RewardName,
		Points: x.Points, ByName: x.CreatedByName, At: x.CreatedAt}
}

func (a *API) listRedemptions(w http.ResponseWriter, r *http.Request, q *req) error {
	_, xs, err := a.DB.Redemptions(r.Context(), q.Actor, r.PathValue("id"), 500)
	if err != nil {
		return err
	}
	out := []redemptionJSON{}
	for _, x := range xs {
		out = append(out, toRedemptionJSON(x))
	}
	writeJSON(w, http.StatusOK, map[string]any{"redemptions": out})
	return nil
}

func (a *API) incentiveMonths(w http.ResponseWriter, r *http.Request, q *req) error {
	year := time.Now().Year()
	if s := r.URL.Query().Get("year"); s != "" {
		y, err := strconv.Atoi(s)
		if err != nil {
			y = -1 // refused by the store with a field error
		}
		year = y
	}
	_, months, s, err := a.DB.IncentiveMonths(r.Context(), q.Actor, r.PathValue("id"), year)
	if err != nil {
		return err
	}
	type monthJSON struct {
		Month    string `json:"month"`
		Issued   int    `json:"issued"`
		Redeemed int    `json:"redeemed"`
	}
	out := []monthJSON{}
	for _, m := range months {
		out = append(out, monthJSON{m.Month, m.Issued, m.Redeemed})
	}
	tests, checkins := casework.IncentiveLawCadence()
	zh, en := s.Warning(tests, checkins)
	writeJSON(w, http.StatusOK, map[string]any{"year": year, "enabled": s.Enabled, "months": out,
		"cap_12_weeks": s.CapPer12Weeks, "office_year_budget": s.OfficeYearCap, "max_12_weeks": s.MaxIn12Weeks(tests, checkins),
		"effective_min_12_weeks": s.EffectiveMin12w, "warning": map[string]string{"zh": zh, "en": en}})
	return nil
}

func (a *API) redeem(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		RewardID string `json:"reward_id"`
		Code     string `json:"code"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	x, err := a.DB.Redeem(r.Context(), q.Actor, r.PathValue("id"), in.RewardID, in.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toRedemptionJSON(*x))
	return nil
}

func (a *API) appRewards(w http.ResponseWriter, r *http.Request, q *appReq) error {
	rs, err := a.DB.AppCatalogue(r.Context(), q.Device.PersonID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"rewards": rewardsJSON(rs)})
	return nil
}

func (a *API) appRedeemCode(w http.ResponseWriter, r *http.Request, q *appReq) error {
	c, err := a.DB.AppRedeemCode(r.Context(), q.Device.PersonID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"code": c.Code, "expires_at": c.ExpiresAt})
	return nil
}
