package web

import (
	"net/http"
	"net/url"
	"strconv"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// An org's population and staffing per year (issue 12 §3): read by anyone
// who sees the org, entered by an office; the yearly work summary reads
// them.
func (c *Console) orgYearRoutes(rt route) []httpx.Route {
	return []httpx.Route{
		rt("GET", "/orgs/{id}/years", httpx.Access{Perm: casework.PermViewOrgs, Target: "org"}, c.orgYears, "an org's population and staffing per year"),
		rt("POST", "/orgs/{id}/years", httpx.Access{Perm: casework.PermEditOrgYears, Target: "org"}, c.orgYearSave, "enter an org's population and staffing for a year"),
	}
}

type orgYearsData struct {
	Org     *casework.Org
	Years   []store.OrgYear
	CanEdit bool
	Form    map[string]string
	Err     *formError
}

var orgYearFields = []string{"year", "population", "specialists", "social_workers", "police", "counsellors", "others", "note"}

func (c *Console) orgYearsPage(w http.ResponseWriter, r *http.Request, q *req, form map[string]string, fe *formError, status int) error {
	org, err := c.DB.GetOrg(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := orgYearsData{Org: org, CanEdit: q.Actor.Can(casework.PermEditOrgYears, org.Path), Form: form, Err: fe}
	if d.Years, err = c.DB.ListOrgYears(r.Context(), q.Actor, org.ID); err != nil {
		return err
	}
	if d.Form == nil {
		d.Form = map[string]string{"year": strconv.Itoa(casework.DateOf(c.DB.Now(), org.Location()).Year)}
		for _, y := range d.Years {
			if strconv.Itoa(y.Year) == d.Form["year"] {
				d.Form = map[string]string{"year": d.Form["year"], "population": strconv.Itoa(y.Population), "specialists": strconv.Itoa(y.Specialists),
					"social_workers": strconv.Itoa(y.SocialWorkers), "police": strconv.Itoa(y.Police), "counsellors": strconv.Itoa(y.Counsellors),
					"others": strconv.Itoa(y.Others), "note": y.Note}
			}
		}
	}
	c.render(w, r, q, status, "org_years", d)
	return nil
}

func (c *Console) orgYears(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.orgYearsPage(w, r, q, nil, nil, http.StatusOK)
}

func (c *Console) orgYearSave(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, orgYearFields...)
	if err != nil {
		return err
	}
	in := casework.OrgYearInput{OrgID: r.PathValue("id"), Note: f["note"]}
	for _, x := range []struct {
		field string
		dst   *int
	}{{"year", &in.Year}, {"population", &in.Population}, {"specialists", &in.Specialists}, {"social_workers", &in.SocialWorkers},
		{"police", &in.Police}, {"counsellors", &in.Counsellors}, {"others", &in.Others}} {
		if err == nil {
			*x.dst, err = atoiField(x.field, f[x.field])
		}
	}
	if err == nil {
		_, err = c.DB.SetOrgYear(r.Context(), q.Actor, in)
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.orgYearsPage(w, r, q, f, fe, http.StatusBadRequest)
	}
	return redirect(w, r, "/orgs/"+url.PathEscape(in.OrgID)+"/years", "org_year_saved")
}
