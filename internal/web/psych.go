package web

// psych.go is the console's psychological services (issue 11 §3, §7;
// issue 18 item 11): a person's page of sessions, scales and group
// sessions (a counsellor's minimal profile of an assigned person lives
// here, with no link to pages it may not open), the scale forms, the
// PHQ-9 item 9 follow-up, counsellor assignment by a lead, and the list of
// group sessions.

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

func (c *Console) psychRoutes(rt route) []httpx.Route {
	person := httpx.Access{Perm: casework.PermPsychRead, Target: "counselled_person"}
	write := httpx.Access{Perm: casework.PermPsychWrite, Target: "counselled_person"}
	assign := httpx.Access{Perm: casework.PermAssignCounsellor, Target: "counselled_person"}
	routes := []httpx.Route{
		rt("GET", "/persons/{id}/psych", person, c.psychPage, "a person's psychological services"),
		rt("GET", "/persons/{id}/psych/scale", write, c.psychScaleForm, "the form of a screening scale"),
		rt("POST", "/persons/{id}/psych/scales", write, c.psychScaleRecord, "record a screening scale"),
		rt("POST", "/persons/{id}/psych/sessions", write, c.psychSessionRecord, "record a one-to-one counselling session"),
		rt("POST", "/persons/{id}/counsellors", assign, c.psychAssign, "assign a counsellor"),
		rt("POST", "/persons/{id}/counsellors/end", assign, c.psychEndAssign, "end a counsellor's assignment"),
		rt("GET", "/psych/scales/{id}", httpx.Access{Perm: casework.PermPsychRead, Target: "scale"}, c.psychScaleView, "one administered scale"),
		rt("POST", "/psych/scales/{id}/followup", httpx.Access{Perm: casework.PermPsychWrite, Target: "scale"}, c.psychFollowup, "record the follow-up of PHQ-9 item 9"),
		rt("GET", "/psych/groups", httpx.Access{Perm: casework.PermPsychRead}, c.psychGroups, "group psychological sessions"),
		rt("POST", "/psych/groups", httpx.Access{Perm: casework.PermPsychWrite}, c.psychGroupRecord, "record a group session"),
	}
	routes = append(routes, c.psychEditRoutes(rt)...)   // psych_edit.go
	return append(routes, c.psychExchangeRoutes(rt)...) // psych_exchange.go
}

type psychData struct {
	P           *casework.Person
	Age         int
	Status      string
	Kind        string
	F           *store.PsychFile
	Sessions    []sessionRow
	Scales      []scaleRow
	Charts      []template.HTML
	Modes       []choice
	ScaleList   []choice
	Choices     []choice // counsellors a lead may assign
	Minimal     bool     // a counsellor's minimal profile: no link to the full file
	CanAssign   bool
	CanFollowup bool
	Form        map[string]string
	Errs        map[string]string
}

type sessionRow struct {
	S       store.CounsellingSession
	At      string
	Mode    string
	Planned bool
	CanEdit bool // its author or a lead (casework.CanEditCareRecord)
}

type scaleRow struct {
	A     store.ScaleAdministration
	Name  string
	Score string
	Band  string
	Level int
	Open  bool
}

func (c *Console) psychPage(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.renderPsych(w, r, q, nil, nil, http.StatusOK)
}

func (c *Console) renderPsych(w http.ResponseWriter, r *http.Request, q *req, form, errs map[string]string, status int) error {
	ctx := r.Context()
	pid := r.PathValue("id")
	f, err := c.DB.GetPsychFile(ctx, q.Actor, pid)
	if err != nil {
		return err
	}
	p, err := c.DB.GetPerson(ctx, q.Actor, pid, "")
	if err != nil {
		return err
	}
	d := psychData{P: p, F: f, Status: p.Status.Label(q.Lang), Kind: p.MeasureKind.Label(q.Lang), Minimal: p.Access.Minimal,
		CanAssign: q.Actor.Can(casework.PermAssignCounsellor, p.OrgPath), CanFollowup: f.Access.Scales || f.Access.Notes, Form: form, Errs: errs}
	if !p.BirthDate.IsZero() {
		d.Age = ageOn(p.BirthDate, c.today())
	}
	if d.Form == nil {
		d.Form = map[string]string{"held_at": time.Now().In(casework.LoadLocation("")).Format("2006-01-02T15:04"), "minutes": "50", "mode": "in_person"}
	}
	loc := casework.LoadLocation("")
	for _, s := range f.Sessions {
		d.Sessions = append(d.Sessions, sessionRow{S: s, At: s.HeldAt.In(loc).Format("2006-01-02 15:04"), Mode: casework.SessionModeLabel(q.Lang, s.Mode), Planned: s.Planned,
			CanEdit: f.Access.Sessions && f.Access.Notes && casework.CanEditCareRecord(q.Actor, s.CreatedBy, p.OrgPath)})
	}
	for _, a := range f.Scales {
		d.Scales = append(d.Scales, scaleRowOf(q.Lang, a))
	}
	d.Charts = psychCharts(q.Lang, f.Scales)
	for _, m := range casework.SessionModes {
		d.Modes = append(d.Modes, choice{Value: m.Value, Label: casework.SessionModeLabel(q.Lang, m.Value), Selected: m.Value == d.Form["mode"]})
	}
	for _, s := range casework.Scales() {
		d.ScaleList = append(d.ScaleList, choice{Value: s.Code, Label: s.Name(q.Lang)})
	}
	if d.CanAssign {
		cs, err := c.DB.CounsellorChoices(ctx, q.Actor, pid)
		if err != nil {
			return err
		}
		for _, x := range cs {
			d.Choices = append(d.Choices, choice{Value: x.ID, Label: x.Name})
		}
	}
	c.render(w, r, q, status, "psych", d)
	return nil
}

func ageOn(birth, today casework.Date) int {
	age := today.Year - birth.Year
	if today.Month < birth.Month || (today.Month == birth.Month && today.Day < birth.Day) {
		age--
	}
	return age
}

func scaleRowOf(lang string, a store.ScaleAdministration) scaleRow {
	row := scaleRow{A: a, Band: a.Result.Band.Label(lang), Level: a.Result.Band.Level, Open: a.NeedsFollowup(), Score: strconv.Itoa(a.Result.Total)}
	if s, ok := casework.ScaleByCode(a.Result.Scale); ok {
		row.Name = s.Name(lang)
	}
	if a.Result.Scale == "sds" {
		row.Score = fmt.Sprintf("%d（%s %d）", a.Result.Total, i18n.T(lang, "psych.sds_index"), a.Result.Index)
	}
	if a.Result.Scale == "assist" {
		var parts []string
		for _, s := range a.Result.Substances {
			if s.Score > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", assistName(lang, s.Code), s.Score))
			}
		}
		row.Score = strings.Join(parts, "，")
		if row.Score == "" {
			row.Score = "0"
		}
	}
	return row
}

func assistName(lang, code string) string {
	s, _ := casework.ScaleByCode("assist")
	for _, x := range s.Substances {
		if x.Code == code {
			name := x.Label(lang)
			if i := strings.IndexAny(name, "（("); i > 0 {
				name = name[:i]
			}
			return strings.TrimSpace(name)
		}
	}
	return code
}

func (c *Console) psychSessionRecord(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := r.ParseForm(); err != nil {
		return casework.Invalid("form", "无法读取表单", "cannot read the form")
	}
	form := map[string]string{}
	for _, k := range []string{"held_at", "minutes", "mode", "notes", "planned", "counsellor_id", "counsellor_name"} {
		form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	in := casework.CounsellingInput{Mode: form["mode"], Notes: form["notes"], Planned: form["planned"] == "1",
		CounsellorID: form["counsellor_id"], CounsellorName: form["counsellor_name"]}
	in.Minutes, _ = strconv.Atoi(form["minutes"])
	if t, err := time.ParseInLocation("2006-01-02T15:04", form["held_at"], casework.LoadLocation("")); err == nil {
		in.HeldAt = t
	}
	_, err := c.DB.RecordCounselling(r.Context(), q.Actor, r.PathValue("id"), in)
	if err != nil {
		errs, ferr := formErrs(err, q.Lang)
		if ferr != nil {
			return ferr
		}
		return c.renderPsych(w, r, q, form, errs, http.StatusBadRequest)
	}
	return redirect(w, r, "/persons/"+r.PathValue("id")+"/psych#sessions", "psych_session_recorded")
}

func (c *Console) psychAssign(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := c.DB.AssignCounsellor(r.Context(), q.Actor, r.PathValue("id"), r.PostFormValue("user_id")); err != nil {
		errs, ferr := formErrs(err, q.Lang)
		if ferr != nil {
			return ferr
		}
		return c.renderPsych(w, r, q, nil, map[string]string{"user_id": errs[casework.ErrorField(err)] + errs["form"]}, http.StatusBadRequest)
	}
	return redirect(w, r, "/persons/"+r.PathValue("id")+"/psych", "psych_assigned")
}

func (c *Console) psychEndAssign(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := c.DB.EndCounsellor(r.Context(), q.Actor, r.PathValue("id"), r.PostFormValue("user_id")); err != nil {
		return err
	}
	return redirect(w, r, "/persons/"+r.PathValue("id")+"/psych", "psych_unassigned")
}

func (c *Console) psychFollowup(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	err := c.DB.RecordFollowup(r.Context(), q.Actor, id, strings.TrimSpace(r.PostFormValue("note")))
	if err != nil {
		if _, ok := toFormError(err, q.Lang); !ok {
			return err
		}
		return c.renderScaleView(w, r, q, id, err, http.StatusBadRequest)
	}
	a, err := c.DB.GetScale(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	return redirect(w, r, "/persons/"+a.PersonID+"/psych", "psych_followup")
}

// filePsych is what the person's file shows of psychological services: the
// open PHQ-9 item 9 flags and the score charts, for readers of them.
type filePsych struct {
	Open   []store.ScaleAdministration
	Charts []template.HTML
}

func (c *Console) filePsych(r *http.Request, q *req, personID string) *filePsych {
	if !q.Actor.CanAnywhere(casework.PermPsychRead) {
		return nil
	}
	f, err := c.DB.GetPsychFile(r.Context(), q.Actor, personID)
	if err != nil {
		return nil // police, a past place: nothing to show
	}
	return &filePsych{Open: f.OpenItem9, Charts: psychCharts(q.Lang, f.Scales)}
}

// psychEventValue names a scale or a session mode on the timeline.
func psychEventValue(lang, key, v string) (string, bool) {
	switch key {
	case "scale":
		if s, ok := casework.ScaleByCode(v); ok {
			return s.Name(lang), true
		}
	case "mode":
		return casework.SessionModeLabel(lang, v), true
	}
	return "", false
}
