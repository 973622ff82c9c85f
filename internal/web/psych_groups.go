package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

type groupsData struct {
	Rows     []store.GroupSession
	Total    int
	CanWrite bool
	Orgs     []choice
	Persons  []personChoice
	Form     map[string]string
	Errs     map[string]string
}

type personChoice struct {
	ID, Name, Org string
	Checked       bool
}

func (c *Console) psychGroups(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.renderGroups(w, r, q, nil, nil, nil, http.StatusOK)
}

func (c *Console) renderGroups(w http.ResponseWriter, r *http.Request, q *req, form, errs map[string]string, attendees []string, status int) error {
	ctx := r.Context()
	rows, total, err := c.DB.ListGroupSessions(ctx, q.Actor, store.GroupFilter{Limit: 100})
	if err != nil {
		return err
	}
	d := groupsData{Rows: rows, Total: total, CanWrite: q.Actor.CanAnywhere(casework.PermPsychWrite), Form: form, Errs: errs}
	if d.Form == nil {
		d.Form = map[string]string{"held_on": c.today().String(), "others_reached": "0"}
	}
	if d.CanWrite {
		orgs, err := c.DB.ListOrgs(ctx, q.Actor, store.OrgFilter{})
		if err != nil {
			return err
		}
		for _, o := range orgs {
			if q.Actor.Can(casework.PermPsychWrite, o.Path) {
				d.Orgs = append(d.Orgs, choice{Value: o.ID, Label: o.Name, Selected: o.ID == d.Form["org_id"]})
			}
		}
		ps, _, err := c.DB.ListPersons(ctx, q.Actor, store.PersonFilter{Limit: 500})
		if err != nil {
			return err
		}
		for _, p := range ps {
			d.Persons = append(d.Persons, personChoice{ID: p.ID, Name: p.Name, Org: p.OrgName, Checked: slices.Contains(attendees, p.ID)})
		}
	}
	c.render(w, r, q, status, "psych_groups", d)
	return nil
}

func (c *Console) psychGroupRecord(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := r.ParseForm(); err != nil {
		return casework.Invalid("form", "无法读取表单", "cannot read the form")
	}
	form := map[string]string{}
	for _, k := range []string{"org_id", "held_on", "topic", "facilitator", "place", "others_reached"} {
		form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	in := casework.GroupSessionInput{OrgID: form["org_id"], Topic: form["topic"], Facilitator: form["facilitator"], Place: form["place"],
		AttendeeIDs: r.PostForm["attendees"]}
	in.OthersReached, _ = strconv.Atoi(form["others_reached"])
	var err error
	if in.HeldOn, err = casework.ParseDateField("held_on", form["held_on"]); err == nil {
		_, err = c.DB.RecordGroupSession(r.Context(), q.Actor, in)
	}
	if err != nil {
		errs, ferr := formErrs(err, q.Lang)
		if ferr != nil {
			return ferr
		}
		return c.renderGroups(w, r, q, form, errs, in.AttendeeIDs, http.StatusBadRequest)
	}
	return redirect(w, r, "/psych/groups", "psych_group_recorded")
}
