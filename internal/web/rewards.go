package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// Incentives in the console (issue 14 §4–5): an office's rewards catalogue
// (in kind), its points issued and redeemed per month with the budget
// warning, its redemptions; a person's points ledger with the redemption
// form (the code the person's app shows).
func (c *Console) rewardRoutes(rt route) []httpx.Route {
	viewOrg := httpx.Access{Perm: casework.PermViewHelp, Target: "org"}
	writeOrg := httpx.Access{Perm: casework.PermWriteHelp, Target: "org"}
	reward := httpx.Access{Perm: casework.PermWriteHelp, Target: "reward"}
	return []httpx.Route{
		rt("GET", "/orgs/{id}/rewards", viewOrg, c.orgRewards, "an office's rewards catalogue, points per month and redemptions"),
		rt("POST", "/orgs/{id}/rewards", writeOrg, c.rewardAdd, "add a reward in kind to the catalogue"),
		rt("POST", "/rewards/{id}", reward, c.rewardUpdate, "change a reward's price or stock"),
		rt("POST", "/rewards/{id}/retire", reward, c.rewardRetire, "take a reward off the catalogue"),
		rt("GET", "/persons/{id}/incentives", httpx.Access{Perm: casework.PermViewHelp, Target: "person"}, c.personIncentives, "a person's points ledger and redemption"),
		rt("POST", "/persons/{id}/redemptions", httpx.Access{Perm: casework.PermWriteHelp, Target: "person"}, c.redeem, "redeem a reward with the code the person's app shows"),
		rt("POST", "/persons/{id}/incentives/consent", httpx.Access{Perm: casework.PermWriteHelp, Target: "person"}, c.incentiveConsent, "record the person's consent to incentives"),
		rt("POST", "/persons/{id}/incentives/consent/revoke", httpx.Access{Perm: casework.PermWriteHelp, Target: "person"}, c.incentiveRevoke, "record the withdrawal of the person's consent, with the reason"),
		rt("POST", "/persons/{id}/incentives/reversals", httpx.Access{Perm: casework.PermApproveCorrect, Target: "person"}, c.incentiveReverse, "reverse an award (a lead, with the reason); the original row stays"),
	}
}

type rewardsData struct {
	Org         *casework.Org
	Year        int
	Rewards     []store.Reward
	Months      []store.IncentiveMonth
	Issued      int
	Redeemed    int
	Schedule    casework.IncentiveSchedule
	Max12w      int
	Warning     string
	YearBudget  string // the office's budget use, "" when none
	Redemptions []store.Redemption
	CanEdit     bool
	Kinds       []choice
	Form        map[string]string
	Err         *formError
}

var rewardFields = []string{"name", "kind", "note", "points", "stock"}

func (c *Console) rewardsPage(w http.ResponseWriter, r *http.Request, q *req, d rewardsData, status int) error {
	ctx := r.Context()
	org, err := c.DB.GetOrg(ctx, q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	d.Year = casework.DateOf(c.DB.Now(), org.Location()).Year
	if y, err := strconv.Atoi(r.URL.Query().Get("year")); err == nil && y >= 2000 && y <= 2200 {
		d.Year = y
	}
	if d.Org, d.Rewards, err = c.DB.Rewards(ctx, q.Actor, org.ID); err != nil {
		return err
	}
	if _, d.Months, d.Schedule, err = c.DB.IncentiveMonths(ctx, q.Actor, org.ID, d.Year); err != nil {
		return err
	}
	for _, m := range d.Months {
		d.Issued += m.Issued
		d.Redeemed += m.Redeemed
	}
	tests, checkins := casework.IncentiveLawCadence()
	d.Max12w = d.Schedule.MaxIn12Weeks(tests, checkins)
	zh, en := d.Schedule.Warning(tests, checkins)
	d.Warning = zh
	if q.Lang == "en" {
		d.Warning = en
	}
	if d.Schedule.OfficeYearCap > 0 {
		d.YearBudget = i18n.T(q.Lang, "rewards.year_budget", d.Issued, d.Schedule.OfficeYearCap)
	}
	if _, d.Redemptions, err = c.DB.Redemptions(ctx, q.Actor, org.ID, 50); err != nil {
		return err
	}
	d.CanEdit = q.Actor.Can(casework.PermWriteHelp, org.Path)
	d.Kinds = []choice{{Value: store.RewardGoods, Label: i18n.T(q.Lang, "rewards.kind.goods")}, {Value: store.RewardService, Label: i18n.T(q.Lang, "rewards.kind.service")}}
	if d.Form == nil {
		d.Form = map[string]string{"kind": store.RewardGoods}
	}
	c.render(w, r, q, status, "rewards", d)
	return nil
}

func (c *Console) orgRewards(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.rewardsPage(w, r, q, rewardsData{}, http.StatusOK)
}

func rewardInput(f map[string]string) (store.RewardInput, error) {
	in := store.RewardInput{Name: f["name"], Kind: f["kind"], Note: f["note"]}
	var err error
	if f["points"] == "" {
		return in, casework.Invalid("points", "请填写所需积分", "give the price in points")
	}
	if in.Points, err = atoiField("points", f["points"]); err != nil {
		return in, err
	}
	if f["stock"] == "" {
		return in, casework.Invalid("stock", "请填写库存", "give the stock")
	}
	in.Stock, err = atoiField("stock", f["stock"])
	return in, err
}

func (c *Console) rewardAdd(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, rewardFields...)
	if err != nil {
		return err
	}
	in, err := rewardInput(f)
	if err == nil {
		_, err = c.DB.AddReward(r.Context(), q.Actor, r.PathValue("id"), in)
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.rewardsPage(w, r, q, rewardsData{Form: f, Err: fe.sent("add", r)}, http.StatusUnprocessableEntity)
	}
	return redirect(w, r, "/orgs/"+url.PathEscape(r.PathValue("id"))+"/rewards", "reward_added")
}

func (c *Console) rewardUpdate(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, rewardFields...)
	if err != nil {
		return err
	}
	old, err := c.DB.Reward(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	// A row's form sends price and stock; name, kind and note stay.
	f["name"], f["kind"], f["note"] = old.Name, old.Kind, old.Note
	in, err := rewardInput(f)
	if err == nil {
		_, err = c.DB.UpdateReward(r.Context(), q.Actor, old.ID, in)
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		r.SetPathValue("id", old.OrgID)
		return c.rewardsPage(w, r, q, rewardsData{Err: fe.sent("edit-"+old.ID, r)}, http.StatusUnprocessableEntity)
	}
	return redirect(w, r, "/orgs/"+url.PathEscape(old.OrgID)+"/rewards", "reward_saved")
}

func (c *Console) rewardRetire(w http.ResponseWriter, r *http.Request, q *req) error {
	old, err := c.DB.Reward(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := c.DB.RetireReward(r.Context(), q.Actor, old.ID); err != nil {
		return err
	}
	return redirect(w, r, "/orgs/"+url.PathEscape(old.OrgID)+"/rewards", "reward_retired")
}

type ledgerRow struct {
	ID     string
	Day    casework.Date
	What   string
	Points int
	Note   string
	// Reversible: an award not yet reversed (store.ReverseIncentive
	// refuses reversal and redemption rows and a second reversal).
	Reversible bool
}

type personIncentivesData struct {
	PersonID   string
	PersonName string
	OrgID      string
	Acc        *store.IncentiveAccount
	Next       string // the next negative test's value and the streak, in words
	Rows       []ledgerRow
	Catalogue  []store.Reward
	CanRedeem  bool
	Affordable bool                    // some reward in stock is within the balance
	CanConsent bool                    // records help for the person: consent and its withdrawal
	CanReverse bool                    // a lead: store.ReverseIncentive needs the approver to be the one who reverses
	Revoked    *store.IncentiveConsent // the latest withdrawn consent, when none is in force
	Form       map[string]string
	Err        *formError
}

func (c *Console) personIncentivesPage(w http.ResponseWriter, r *http.Request, q *req, d personIncentivesData, status int) error {
	ctx := r.Context()
	pid := r.PathValue("id")
	p, err := c.DB.GetPerson(ctx, q.Actor, pid, "")
	if err != nil {
		return err
	}
	d.PersonID, d.PersonName, d.OrgID = p.ID, p.Name, p.OrgID
	if d.Acc, err = c.DB.IncentiveAccountOf(ctx, q.Actor, pid); err != nil {
		return err
	}
	if d.Catalogue, err = c.DB.PersonCatalogue(ctx, q.Actor, pid); err != nil {
		return err
	}
	d.Next = incentiveNext(q.Lang, d.Acc.State.Streak, d.Acc.NextValue, d.Acc.ToReturn, d.Acc.Return)
	reversed := map[string]bool{}
	for _, l := range d.Acc.Rows {
		if l.Rule == casework.AwardReversal && l.SourceKind == "ledger" {
			reversed[l.SourceID] = true
		}
	}
	for _, l := range d.Acc.Rows {
		d.Rows = append(d.Rows, ledgerRow{ID: l.ID, Day: l.Day, What: i18n.T(q.Lang, "incentive.rule."+l.Rule), Points: l.Points, Note: ledgerNote(q.Lang, l.Note),
			Reversible: l.Points > 0 && l.Rule != casework.AwardReversal && l.Rule != casework.AwardRedeemed && !reversed[l.ID]})
	}
	if d.Acc.Consent == nil {
		for i := range d.Acc.Consents {
			if c := &d.Acc.Consents[i]; !c.RevokedAt.IsZero() && (d.Revoked == nil || c.RevokedAt.After(d.Revoked.RevokedAt)) {
				d.Revoked = c
			}
		}
	}
	for _, r := range d.Catalogue {
		d.Affordable = d.Affordable || (r.Stock > 0 && r.Points <= d.Acc.Balance)
	}
	d.CanRedeem = q.Actor.Can(casework.PermWriteHelp, p.OrgPath)
	d.CanConsent = d.CanRedeem
	d.CanReverse = q.Actor.Can(casework.PermApproveCorrect, p.OrgPath)
	if d.Form == nil {
		d.Form = map[string]string{}
	}
	c.render(w, r, q, status, "person_incentives", d)
	return nil
}

// incentiveNext is the person's streak and the next negative test's value
// in plain words, with the right plural ("再坚持2次检测阴性，奖励恢复到25分").
func incentiveNext(lang string, streak, next, toReturn, ret int) string {
	sep := "" // Chinese sentences end in 。 and run on
	if lang == "en" {
		sep = " "
	}
	s := i18n.T(lang, "incentive.next", next)
	if streak > 0 {
		s = i18n.T(lang, "incentive.streak", streak) + sep + s
	}
	if toReturn > 0 {
		s += sep + i18n.T(lang, "incentive.to_return", toReturn, ret)
	}
	return s
}

func (c *Console) personIncentives(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.personIncentivesPage(w, r, q, personIncentivesData{}, http.StatusOK)
}

func (c *Console) redeem(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, "reward_id", "code")
	if err != nil {
		return err
	}
	_, err = c.DB.Redeem(r.Context(), q.Actor, r.PathValue("id"), f["reward_id"], f["code"])
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.personIncentivesPage(w, r, q, personIncentivesData{Form: f, Err: fe.sent("redeem", r)}, http.StatusUnprocessableEntity)
	}
	return redirect(w, r, "/persons/"+url.PathEscape(r.PathValue("id"))+"/incentives", "redeemed")
}

// incentivePost runs one of the page's forms: on a problem with the input
// the page again with the message beside the field and what was typed,
// else back to the page with the flash.
func (c *Console) incentivePost(w http.ResponseWriter, r *http.Request, q *req, form, flash string, fields []string, do func(f map[string]string) error) error {
	f, err := formValues(r, fields...)
	if err != nil {
		return err
	}
	if err := do(f); err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.personIncentivesPage(w, r, q, personIncentivesData{Err: fe.sent(form, r)}, http.StatusUnprocessableEntity)
	}
	return redirect(w, r, "/persons/"+url.PathEscape(r.PathValue("id"))+"/incentives", flash)
}

// incentiveConsent records the person's consent (issue 14 §1; PIPL: a
// separate consent, recorded and revocable).
func (c *Console) incentiveConsent(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.incentivePost(w, r, q, "consent", "incentive_consent", []string{"note"}, func(f map[string]string) error {
		_, err := c.DB.GiveIncentiveConsent(r.Context(), q.Actor, r.PathValue("id"), f["note"])
		return err
	})
}

// incentiveRevoke records the withdrawal, with the reason; points earned stay.
func (c *Console) incentiveRevoke(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.incentivePost(w, r, q, "revoke", "incentive_revoked", []string{"reason"}, func(f map[string]string) error {
		return c.DB.RevokeIncentiveConsent(r.Context(), q.Actor, r.PathValue("id"), f["reason"])
	})
}

// incentiveReverse reverses an award: the lead who sends it is the one who
// approves it (issue 14 §2); the original row stays.
func (c *Console) incentiveReverse(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.incentivePost(w, r, q, "reverse", "incentive_reversed", []string{"row_id", "reason"}, func(f map[string]string) error {
		return c.DB.ReverseIncentive(r.Context(), q.Actor, r.PathValue("id"), f["row_id"], f["reason"])
	})
}

// ledgerNote words the award job's cap notes ("cap_12_weeks 2000") for
// staff; other notes (a reward's name, a reversal's reason) are as written.
func ledgerNote(lang, note string) string {
	for _, k := range []string{"cap_12_weeks", "office_year_budget"} {
		if n, ok := strings.CutPrefix(note, k+" "); ok {
			if v, err := strconv.Atoi(n); err == nil {
				return i18n.T(lang, "incentive.note."+k, v)
			}
		}
	}
	return note
}
