package web

import (
	"fmt"
	"net/http"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// Test schedules and verifiable draws (issue 5 §1–2, R22–R25): a person's
// schedule with the lead's force and excuse forms, an org's due-today and
// missed lists with its R25 rate, and the seed commitments.
func (c *Console) scheduleRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewSchedule, Target: "person"}
	adjust := httpx.Access{Perm: casework.PermAdjustSchedule, Target: "person"}
	org := httpx.Access{Perm: casework.PermViewSchedule, Target: "org"}
	return []httpx.Route{
		rt("GET", "/persons/{id}/schedule", view, c.personSchedule, "a person's test schedule"),
		rt("POST", "/persons/{id}/schedule/force", adjust, c.scheduleForce, "force a test day"),
		rt("POST", "/persons/{id}/schedule/excuse", adjust, c.scheduleExcuse, "excuse a test day"),
		rt("GET", "/tests", httpx.Access{Perm: casework.PermViewSchedule}, c.testsHome, "tests due and missed where the user works"),
		rt("GET", "/orgs/{id}/tests", org, c.orgTests, "tests due today and missed in an org"),
		rt("GET", "/orgs/{id}/draw-seeds", org, c.orgSeeds, "seed commitments and reveals"),
	}
}

type scheduleData struct {
	PersonID string
	P        *casework.Person
	S        *store.Schedule
	Kind     string
	Rate     string
	Hours    string
	Rows     []scheduleRow
	Surprise []dayRow
	Forced   []dayRow
	Form     map[string]string
	Err      *formError
	// SurpriseLine says how many surprise tests the term holds for the
	// person's tier and where that number comes from (R24, R31).
	SurpriseLine string
}

type scheduleRow struct {
	store.ScheduleInterval
	StatusLabel string
	Day         *dayRow
}

type dayRow struct {
	Lang        string
	D           *store.TestDay
	DayText     string
	KindLabel   string
	StatusLabel string
	CanExcuse   bool
	Err         *formError // this day's excuse form was sent with problems
}

func (c *Console) dayRow(q *req, d *store.TestDay, s *store.Schedule) dayRow {
	r := dayRow{Lang: q.Lang, D: d, KindLabel: i18n.T(q.Lang, schedKey("kind", d.Kind)), StatusLabel: i18n.T(q.Lang, schedKey("status", string(d.Status)))}
	if d.Hidden {
		r.DayText, r.StatusLabel = i18n.T(q.Lang, "sched.hidden"), i18n.T(q.Lang, "sched.status_hidden")
	} else {
		r.DayText = d.Day.String()
	}
	r.CanExcuse = s != nil && s.CanAdjust && !d.Excused && !d.Hidden && !d.Day.Before(s.Today) && d.Status != casework.DayDone
	return r
}

// schedKey names the catalog key of a kind or status: sched.kind_forced,
// sched.status_missed (every value has one; TestScheduleKeys checks).
func schedKey(what, v string) string { return "sched." + what + "_" + v }

func coveragePct(done, should int, rate float64) string {
	if should == 0 {
		return "—"
	}
	return fmt.Sprintf("%d/%d（%.0f%%）", done, should, rate*100)
}

func (c *Console) schedulePage(w http.ResponseWriter, r *http.Request, q *req, form map[string]string, fe *formError, status int) error {
	p, err := c.filePerson(r, q)
	if err != nil {
		return err
	}
	s, err := c.DB.PersonSchedule(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := scheduleData{PersonID: r.PathValue("id"), P: p, S: s, Kind: s.Kind.Label(q.Lang), Hours: s.Hours.From.String() + "–" + s.Hours.To.String(),
		Rate: coveragePct(s.Coverage.Done, s.Coverage.Should, s.Coverage.Rate()), Form: form, Err: fe}
	if d.Form == nil {
		d.Form = map[string]string{"day": s.Today.AddDays(1).String()}
	}
	d.SurpriseLine = surpriseLine(q.Lang, s)
	for _, iv := range s.Intervals {
		row := scheduleRow{ScheduleInterval: iv, StatusLabel: i18n.T(q.Lang, schedKey("status", iv.Status))}
		if iv.Draw != nil {
			dr := c.dayRow(q, iv.Draw, s)
			dr.Err = errFor(fe, "excuse", "draw_id", iv.Draw.ID)
			row.Day = &dr
		}
		d.Rows = append(d.Rows, row)
	}
	for i := range s.Surprise {
		dr := c.dayRow(q, &s.Surprise[i], s)
		dr.Err = errFor(fe, "excuse", "draw_id", dr.D.ID)
		d.Surprise = append(d.Surprise, dr)
	}
	for i := range s.Forced {
		dr := c.dayRow(q, &s.Forced[i], s)
		dr.Err = errFor(fe, "excuse", "draw_id", dr.D.ID)
		d.Forced = append(d.Forced, dr)
	}
	c.render(w, r, q, status, "schedule", d)
	return nil
}

func (c *Console) personSchedule(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.schedulePage(w, r, q, nil, nil, http.StatusOK)
}

func (c *Console) scheduleForce(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := r.ParseForm(); err != nil {
		return casework.Invalid("form", "无法读取表单", "cannot read the form")
	}
	form := map[string]string{"day": strings.TrimSpace(r.PostFormValue("day")), "reason": r.PostFormValue("reason")}
	day, err := casework.ParseDateField("day", form["day"])
	if err != nil { // a bad day with a missing reason (issue 18 item 9)
		var parse casework.FieldErrors
		parse.Add(err)
		_, rerr := casework.AdjustReason(form["reason"])
		err = withChecks(parse, func() error { return rerr })
	}
	if err == nil {
		_, err = c.DB.ForceTestDay(r.Context(), q.Actor, r.PathValue("id"), day, form["reason"])
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.schedulePage(w, r, q, form, fe.sent("force", r), http.StatusUnprocessableEntity)
	}
	return redirect(w, r, "/persons/"+r.PathValue("id")+"/schedule", "test_forced")
}

func (c *Console) scheduleExcuse(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := r.ParseForm(); err != nil {
		return casework.Invalid("form", "无法读取表单", "cannot read the form")
	}
	err := c.DB.ExcuseTestDay(r.Context(), q.Actor, r.PathValue("id"), r.PostFormValue("draw_id"), r.PostFormValue("reason"))
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.schedulePage(w, r, q, nil, fe.sent("excuse", r), http.StatusUnprocessableEntity)
	}
	return redirect(w, r, "/persons/"+r.PathValue("id")+"/schedule", "test_excused")
}

type orgTestsData struct {
	Org      *casework.Org
	Today    casework.Date
	Due      []dayRow
	Missed   []dayRow
	From, To casework.Date
	Coverage store.OrgCoverage
	Rate     string
}

// testsHome shows the lists for the org of the user's first grant that
// carries the permission (a worker's community, a lead's street).
func (c *Console) testsHome(w http.ResponseWriter, r *http.Request, q *req) error {
	for _, g := range q.Actor.Grants {
		if casework.RoleHas(g.Role, casework.PermViewSchedule) {
			return c.orgTestsFor(w, r, q, g.OrgID)
		}
	}
	return casework.Errorf(casework.EFORBIDDEN, "您没有查看检测安排的权限", "you may not see test schedules")
}

func (c *Console) orgTests(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.orgTestsFor(w, r, q, r.PathValue("id"))
}

func (c *Console) orgTestsFor(w http.ResponseWriter, r *http.Request, q *req, orgID string) error {
	org, err := c.DB.GetOrg(r.Context(), q.Actor, orgID)
	if err != nil {
		return err
	}
	due, today, err := c.DB.DueList(r.Context(), q.Actor, orgID)
	if err != nil {
		return err
	}
	d := orgTestsData{Org: org, Today: today, From: today.AddDays(-30), To: today}
	missed, err := c.DB.MissedList(r.Context(), q.Actor, orgID, d.From, d.To)
	if err != nil {
		return err
	}
	if d.Coverage, err = c.DB.OrgTestCoverage(r.Context(), q.Actor, orgID, casework.Date{}, casework.Date{}); err != nil {
		return err
	}
	d.Rate = coveragePct(d.Coverage.Done, d.Coverage.Should, d.Coverage.Rate())
	for _, x := range due {
		d.Due = append(d.Due, c.dayRow(q, x, nil))
	}
	for _, x := range missed {
		d.Missed = append(d.Missed, c.dayRow(q, x, nil))
	}
	c.render(w, r, q, http.StatusOK, "tests_org", d)
	return nil
}

type seedsData struct {
	Org     *casework.Org
	SeedOrg *casework.Org
	Seeds   []store.SeedCommitment
}

func (c *Console) orgSeeds(w http.ResponseWriter, r *http.Request, q *req) error {
	seeds, seedOrg, err := c.DB.ListSeeds(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	org, err := c.DB.GetOrg(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	c.render(w, r, q, http.StatusOK, "draw_seeds", seedsData{Org: org, SeedOrg: seedOrg, Seeds: seeds})
	return nil
}

// surpriseLine: the surprise tests per term in force for the person, in
// words: the tier's own setting, or the general one the tier (or a person
// not yet graded) follows, and the policy it comes from (R24, R31).
func surpriseLine(lang string, s *store.Schedule) string {
	src := policyRefText(lang, s.SurpriseSource.Ref())
	switch {
	case s.Tier == "":
		return i18n.T(lang, "sched.surprise_general_untiered", s.SurpriseMin, src)
	case s.SurpriseByTier:
		return i18n.T(lang, "sched.surprise_tier", s.SurpriseMin, i18n.T(lang, "persons.tier."+string(s.Tier)), src)
	}
	return i18n.T(lang, "sched.surprise_general", s.SurpriseMin, i18n.T(lang, "persons.tier."+string(s.Tier)), src)
}
