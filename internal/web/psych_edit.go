package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Editing a counselling session (issue 11 §6): its author or a lead, with
// a reason; the earlier versions are listed below the form.
func (c *Console) psychEditRoutes(rt route) []httpx.Route {
	acc := httpx.Access{Perm: casework.PermPsychWrite, Target: "counselling"}
	return []httpx.Route{
		rt("GET", "/psych/sessions/{id}/edit", acc, c.psychSessionEditForm, "edit a counselling session"),
		rt("POST", "/psych/sessions/{id}/edit", acc, c.psychSessionEdit, "save an edited counselling session"),
	}
}

type sessionEditData struct {
	S         *store.CounsellingSession
	Modes     []choice
	Form      map[string]string
	Errs      map[string]string
	Revisions []revisionRow
}

type revisionRow struct {
	Rev                  int
	At, By, Reason, Text string
}

func (c *Console) psychSessionEditForm(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.renderSessionEdit(w, r, q, nil, nil, http.StatusOK)
}

func (c *Console) renderSessionEdit(w http.ResponseWriter, r *http.Request, q *req, form, errs map[string]string, status int) error {
	id := r.PathValue("id")
	s, canEdit, err := c.DB.GetCounselling(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	if !canEdit {
		return casework.Errorf(casework.EFORBIDDEN, "只有记录人或街道（乡镇）负责人可以修改此记录", "only the author or a street lead may edit this record")
	}
	loc := casework.LoadLocation("")
	if form == nil {
		form = map[string]string{"held_at": s.HeldAt.In(loc).Format("2006-01-02T15:04"), "minutes": strconv.Itoa(s.Minutes), "mode": s.Mode, "notes": s.Notes}
		if s.Planned {
			form["planned"] = "1"
		}
	}
	d := sessionEditData{S: s, Form: form, Errs: errs}
	for _, m := range casework.SessionModes {
		d.Modes = append(d.Modes, choice{Value: m.Value, Label: casework.SessionModeLabel(q.Lang, m.Value), Selected: m.Value == form["mode"]})
	}
	revs, err := c.DB.PsychRevisions(r.Context(), q.Actor, store.RevCounselling, id)
	if err != nil {
		return err
	}
	for _, x := range revs {
		var prev store.CounsellingSession
		_ = json.Unmarshal(x.Previous, &prev)
		d.Revisions = append(d.Revisions, revisionRow{Rev: x.Rev, At: x.EditedAt.In(loc).Format("2006-01-02 15:04"), By: x.EditedByName, Reason: x.Reason,
			Text: prev.HeldAt.In(loc).Format("2006-01-02 15:04") + " · " + strconv.Itoa(prev.Minutes) + " · " + casework.SessionModeLabel(q.Lang, prev.Mode) + " · " + prev.Notes})
	}
	c.render(w, r, q, status, "psych_session_edit", d)
	return nil
}

func (c *Console) psychSessionEdit(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := r.ParseForm(); err != nil {
		return casework.Invalid("form", "无法读取表单", "cannot read the form")
	}
	form := map[string]string{}
	for _, k := range []string{"held_at", "minutes", "mode", "notes", "planned", "reason"} {
		form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	in := casework.CounsellingInput{Mode: form["mode"], Notes: form["notes"], Planned: form["planned"] == "1"}
	in.Minutes, _ = strconv.Atoi(form["minutes"])
	if t, err := time.ParseInLocation("2006-01-02T15:04", form["held_at"], casework.LoadLocation("")); err == nil {
		in.HeldAt = t
	}
	s, err := c.DB.UpdateCounselling(r.Context(), q.Actor, r.PathValue("id"), in, form["reason"])
	if err != nil {
		errs, ferr := formErrs(err, q.Lang)
		if ferr != nil {
			return ferr
		}
		return c.renderSessionEdit(w, r, q, form, errs, http.StatusBadRequest)
	}
	return redirect(w, r, "/persons/"+s.PersonID+"/psych#sessions", "psych_session_recorded")
}
