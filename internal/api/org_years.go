package api

import (
	"net/http"
	"strconv"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// An org's population and staffing per year (issue 12 §3), for the yearly
// work summary.
func (a *API) orgYearRoutes(rt route) []httpx.Route {
	return []httpx.Route{
		rt("GET", "/api/v1/orgs/{id}/years", httpx.Access{Perm: casework.PermViewOrgs, Target: "org"}, a.listOrgYears, "an org's population and staffing per year"),
		rt("PUT", "/api/v1/orgs/{id}/years/{year}", httpx.Access{Perm: casework.PermEditOrgYears, Target: "org"}, a.putOrgYear, "enter an org's population and staffing for a year (office)"),
	}
}

type orgYearJSON struct {
	OrgID         string    `json:"org_id"`
	OrgName       string    `json:"org_name"`
	Year          int       `json:"year"`
	Population    int       `json:"population"`
	Specialists   int       `json:"specialists"`
	SocialWorkers int       `json:"social_workers"`
	Police        int       `json:"police"`
	Counsellors   int       `json:"counsellors"`
	Others        int       `json:"others"`
	Workers       int       `json:"workers"`
	Note          string    `json:"note"`
	UpdatedBy     string    `json:"updated_by_name"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func toOrgYearJSON(y *store.OrgYear) orgYearJSON {
	return orgYearJSON{OrgID: y.OrgID, OrgName: y.OrgName, Year: y.Year, Population: y.Population, Specialists: y.Specialists,
		SocialWorkers: y.SocialWorkers, Police: y.Police, Counsellors: y.Counsellors, Others: y.Others, Workers: y.Workers(), Note: y.Note,
		UpdatedBy: y.UpdatedByName, UpdatedAt: y.UpdatedAt}
}

func (a *API) listOrgYears(w http.ResponseWriter, r *http.Request, q *req) error {
	list, err := a.DB.ListOrgYears(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := list0[orgYearJSON](len(list))
	for i := range list {
		out.Items = append(out.Items, toOrgYearJSON(&list[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) putOrgYear(w http.ResponseWriter, r *http.Request, q *req) error {
	year, err := strconv.Atoi(r.PathValue("year"))
	if err != nil {
		year = -1 // refused by the year's check, after the org's scope is
	}
	var in struct {
		Population    int    `json:"population"`
		Specialists   int    `json:"specialists"`
		SocialWorkers int    `json:"social_workers"`
		Police        int    `json:"police"`
		Counsellors   int    `json:"counsellors"`
		Others        int    `json:"others"`
		Note          string `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	y, err := a.DB.SetOrgYear(r.Context(), q.Actor, casework.OrgYearInput{OrgID: r.PathValue("id"), Year: year, Population: in.Population,
		Specialists: in.Specialists, SocialWorkers: in.SocialWorkers, Police: in.Police, Counsellors: in.Counsellors, Others: in.Others, Note: in.Note})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOrgYearJSON(y))
	return nil
}
