package web

import (
	"net/http"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

type orgListData struct {
	Orgs      []*casework.Org
	BaseDepth int
	Retired   bool
}

func (c *Console) orgList(w http.ResponseWriter, r *http.Request, q *req) error {
	retired := r.URL.Query().Get("retired") == "1"
	orgs, err := c.DB.ListOrgs(r.Context(), q.Actor, store.OrgFilter{IncludeRetired: retired})
	if err != nil {
		return err
	}
	d := orgListData{Orgs: orgs, Retired: retired, BaseDepth: 99}
	for _, o := range orgs {
		d.BaseDepth = min(d.BaseDepth, o.Depth())
	}
	c.render(w, r, q, http.StatusOK, "orgs", d)
	return nil
}

type orgViewData struct {
	Org       *casework.Org
	Children  []*casework.Org
	Parents   []*casework.Org // possible new parents, for the move form
	Form      casework.OrgInput
	ChildForm casework.OrgInput
	Err       *formError
	ChildErr  *formError
	MoveErr   *formError
	RetireErr *formError
	CanManage bool
	Map       *geoMap // the stored geofence drawn (geomap.go)
	FormMap   *geoMap // the geofence being edited, when it parses and differs or no stored one
}

func (c *Console) orgPage(w http.ResponseWriter, r *http.Request, q *req, d orgViewData, status int) error {
	org, err := c.DB.GetOrg(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	d.Org = org
	d.CanManage = q.Actor.Can(casework.PermManageOrgs, org.Path)
	all, err := c.DB.ListOrgs(r.Context(), q.Actor, store.OrgFilter{})
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.ParentID == org.ID {
			d.Children = append(d.Children, o)
		}
		if d.CanManage && o.Kind.Level() < org.Kind.Level() && !strings.HasPrefix(o.Path, org.Path) && o.ID != org.ParentID &&
			q.Actor.Can(casework.PermManageOrgs, o.Path) {
			d.Parents = append(d.Parents, o)
		}
	}
	if d.Err == nil {
		d.Form = casework.OrgInput{Name: org.Name, AreaCode: org.AreaCode, TimeZone: org.TimeZone, Geofence: org.Geofence.String()}
	}
	d.Map = c.newGeoMap(q.Lang, org.Geofence, nil)
	// The shape being entered, drawn when it parses (an edit refused for
	// another field keeps what was typed and shows it).
	if g, err := casework.ParseGeofence(d.Form.Geofence); err == nil && g.String() != org.Geofence.String() {
		d.FormMap = c.newGeoMap(q.Lang, g, nil)
	}
	c.render(w, r, q, status, "org", d)
	return nil
}

func (c *Console) orgView(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.orgPage(w, r, q, orgViewData{}, http.StatusOK)
}

func orgInput(r *http.Request) casework.OrgInput {
	return casework.OrgInput{Kind: casework.OrgKind(r.PostFormValue("kind")), Name: r.PostFormValue("name"),
		AreaCode: r.PostFormValue("area_code"), TimeZone: r.PostFormValue("time_zone"), Geofence: r.PostFormValue("geofence")}
}

func (c *Console) orgCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	in := orgInput(r)
	in.ParentID = r.PathValue("id")
	o, err := c.DB.CreateOrg(r.Context(), q.Actor, in)
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.orgPage(w, r, q, orgViewData{ChildForm: in, ChildErr: fe}, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/orgs/"+o.ID, "org_created")
}

func (c *Console) orgUpdate(w http.ResponseWriter, r *http.Request, q *req) error {
	in := orgInput(r)
	_, err := c.DB.UpdateOrg(r.Context(), q.Actor, r.PathValue("id"), store.OrgUpdate{
		Name: &in.Name, AreaCode: &in.AreaCode, TimeZone: &in.TimeZone, Geofence: &in.Geofence})
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.orgPage(w, r, q, orgViewData{Form: in, Err: fe}, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/orgs/"+r.PathValue("id"), "saved")
}

func (c *Console) orgMove(w http.ResponseWriter, r *http.Request, q *req) error {
	_, err := c.DB.MoveOrg(r.Context(), q.Actor, r.PathValue("id"), r.PostFormValue("parent_id"))
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.orgPage(w, r, q, orgViewData{MoveErr: fe.sent("move", r)}, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/orgs/"+r.PathValue("id"), "org_moved")
}

func (c *Console) orgRetire(w http.ResponseWriter, r *http.Request, q *req) error {
	err := c.DB.RetireOrg(r.Context(), q.Actor, r.PathValue("id"), r.PostFormValue("reason"))
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.orgPage(w, r, q, orgViewData{RetireErr: fe.sent("retire", r)}, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/orgs", "org_retired")
}

func (c *Console) orgDelete(w http.ResponseWriter, r *http.Request, q *req) error {
	err := c.DB.DeleteOrg(r.Context(), q.Actor, r.PathValue("id"), r.PostFormValue("reason"))
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.orgPage(w, r, q, orgViewData{RetireErr: fe.sent("delete", r)}, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/orgs", "org_deleted")
}
