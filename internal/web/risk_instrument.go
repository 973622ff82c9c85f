package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/httpx"
)

// An org's risk instrument (issue 13 §1; R31): the instrument in force
// there (its own or inherited) with its factors, weights — marked
// uncalibrated while no one has validated them — bands, hard overrides,
// version and effective date; its download as an Excel template; and, for
// an office or a lead, a new version from a future date, by the form
// (names, weights, points, bands, labels) or by uploading an edited
// workbook (checked first, every problem by sheet, row and column).
// Assessments already made keep the instrument they were scored with.
func (c *Console) riskInstrumentRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermRiskView, Target: "org"}
	load := httpx.Access{Perm: casework.PermRiskInstrument, Target: "org"}
	return []httpx.Route{
		rt("GET", "/orgs/{id}/risk/instrument", view, c.riskInstrumentView, "the risk instrument in force at an org, its versions and the forms to load a new one"),
		rt("GET", "/orgs/{id}/risk/instrument.xlsx", view, c.riskInstrumentXLSX, "the risk instrument in force as an Excel template"),
		rt("POST", "/orgs/{id}/risk/instrument", load, c.riskInstrumentSave, "load a new risk instrument version from the form"),
		rt("POST", "/orgs/{id}/risk/instrument/upload", load, c.riskInstrumentUpload, "check or load a risk instrument version from Excel"),
	}
}

type instrOption struct {
	Field, Label string
	Points       int
}

type instrFactor struct {
	Index       int
	Code, Label string
	Weight      int
	Options     []instrOption
}

type instrVersion struct {
	In      *casework.Instrument
	State   string // in_force, scheduled, past
	OrgName string
}

type riskInstrumentData struct {
	Org        *casework.Org
	In         *casework.Instrument
	Default    bool // the built-in default (no org of the chain loaded one)
	Inherited  bool // loaded at an org above
	Today      casework.Date
	Factors    []instrFactor
	Overrides  []string
	Versions   []instrVersion
	CanLoad    bool
	Form       map[string]string
	Err        *formError
	Upload     string // "form" or "upload": which form the errors belong to
	Faults     []exchange.InstrumentFault
	FileErr    string
	Checked    *casework.Instrument // a dry run that passed
	CheckedFor string
	LabelKeys  []string
}

func (c *Console) riskInstrumentPage(w http.ResponseWriter, r *http.Request, q *req, d riskInstrumentData, status int) error {
	org, err := c.DB.GetOrg(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	in, err := c.DB.RiskInstrument(r.Context(), q.Actor, org.ID, casework.Date{})
	if err != nil {
		return err
	}
	versions, err := c.DB.RiskInstrumentVersions(r.Context(), q.Actor, org.ID)
	if err != nil {
		return err
	}
	d.Org, d.In, d.Today = org, in, casework.DateOf(c.DB.Now(), org.Location())
	d.Default, d.Inherited = in.ID == casework.DefaultInstrumentID, in.OrgID != "" && in.OrgID != org.ID
	d.CanLoad = q.Actor.Can(casework.PermRiskInstrument, org.Path)
	d.LabelKeys = []string{"high_zh", "high_en", "medium_zh", "medium_en", "low_zh", "low_en"}
	for _, o := range casework.Overrides {
		d.Overrides = append(d.Overrides, casework.OverrideLabel(o, q.Lang))
	}
	for i, f := range in.Factors {
		row := instrFactor{Index: i, Code: f.Code, Label: f.Label(q.Lang), Weight: f.Weight}
		for j, o := range f.Options {
			row.Options = append(row.Options, instrOption{Field: fmt.Sprintf("factors[%d].options[%d].points", i, j), Label: o.Label(q.Lang), Points: o.Points})
		}
		d.Factors = append(d.Factors, row)
	}
	for _, v := range versions {
		st := "past"
		switch {
		case v.EffectiveFrom.After(d.Today):
			st = "scheduled"
		case v.ID == in.ID:
			st = "in_force"
		}
		d.Versions = append(d.Versions, instrVersion{In: v, State: st, OrgName: v.OrgName})
	}
	if d.Form == nil {
		d.Form = instrumentForm(in)
		d.Form["effective_from"] = d.Today.AddDays(1).String()
	}
	c.render(w, r, q, status, "risk_instrument", d)
	return nil
}

// instrumentForm is the form's values for an instrument: the fields are
// named by the instrument's own field paths (factors[2].weight), so a
// problem from casework.Instrument.Validate lands beside its input.
func instrumentForm(in *casework.Instrument) map[string]string {
	m := map[string]string{"name": in.Name, "name_en": in.NameEN, "medium_from": strconv.Itoa(in.MediumFrom), "high_from": strconv.Itoa(in.HighFrom),
		"labels.high_zh": in.Labels.HighZH, "labels.high_en": in.Labels.HighEN, "labels.medium_zh": in.Labels.MediumZH,
		"labels.medium_en": in.Labels.MediumEN, "labels.low_zh": in.Labels.LowZH, "labels.low_en": in.Labels.LowEN}
	if in.Uncalibrated {
		m["uncalibrated"] = "yes"
	}
	for i, f := range in.Factors {
		m[fmt.Sprintf("factors[%d].weight", i)] = strconv.Itoa(f.Weight)
		for j, o := range f.Options {
			m[fmt.Sprintf("factors[%d].options[%d].points", i, j)] = strconv.Itoa(o.Points)
		}
	}
	return m
}

func (c *Console) riskInstrumentView(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.riskInstrumentPage(w, r, q, riskInstrumentData{}, http.StatusOK)
}

func (c *Console) riskInstrumentXLSX(w http.ResponseWriter, r *http.Request, q *req) error {
	in, err := c.DB.RiskInstrument(r.Context(), q.Actor, r.PathValue("id"), casework.Date{})
	if err != nil {
		return err
	}
	return sendWorkbook(w, "kangfu-risk-instrument.xlsx", func(out io.Writer) error { return exchange.WriteInstrument(out, in, q.Lang) })
}

// riskInstrumentSave makes a new version from the form: the factors of the
// instrument in force with the weights and points given, and the names,
// bands and labels given. Every problem at once, beside its input.
func (c *Console) riskInstrumentSave(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := r.ParseForm(); err != nil {
		return casework.Invalid("form", "无法读取表单", "cannot read the form")
	}
	base, err := c.DB.RiskInstrument(r.Context(), q.Actor, r.PathValue("id"), casework.Date{})
	if err != nil {
		return err
	}
	form := map[string]string{}
	for k, v := range r.PostForm {
		if len(v) > 0 {
			form[k] = strings.TrimSpace(v[0])
		}
	}
	var errs casework.FieldErrors // every problem at once (issue 18 item 9)
	num := func(field string) int {
		n, err := strconv.Atoi(form[field])
		if err != nil {
			errs = append(errs, casework.Invalid(field, "请填写整数", "give a whole number"))
		}
		return n
	}
	in := *base
	in.Factors = make([]casework.RiskFactor, len(base.Factors))
	for i, f := range base.Factors {
		f.Options = append([]casework.RiskOption(nil), f.Options...)
		f.Weight = num(fmt.Sprintf("factors[%d].weight", i))
		for j := range f.Options {
			f.Options[j].Points = num(fmt.Sprintf("factors[%d].options[%d].points", i, j))
		}
		in.Factors[i] = f
	}
	in.Name, in.NameEN, in.Uncalibrated = form["name"], form["name_en"], form["uncalibrated"] != ""
	in.MediumFrom, in.HighFrom = num("medium_from"), num("high_from")
	in.Labels = casework.TierLabels{HighZH: form["labels.high_zh"], HighEN: form["labels.high_en"], MediumZH: form["labels.medium_zh"],
		MediumEN: form["labels.medium_en"], LowZH: form["labels.low_zh"], LowEN: form["labels.low_en"]}
	from, derr := casework.ParseDateField("effective_from", form["effective_from"])
	if derr != nil {
		errs = append(errs, casework.Invalid("effective_from", "请填写生效日期（明天或以后）", "give the effective date (tomorrow or later)"))
	}
	for _, p := range in.Problems() {
		if !errs.Has(p.Field) {
			errs = append(errs, p)
		}
	}
	err = errs.Err()
	if err == nil {
		_, err = c.DB.CreateRiskInstrument(r.Context(), q.Actor, r.PathValue("id"), &in, from, form["note"])
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.riskInstrumentPage(w, r, q, riskInstrumentData{Form: form, Err: fe, Upload: "form"}, http.StatusBadRequest)
	}
	return redirect(w, r, "/orgs/"+r.PathValue("id")+"/risk/instrument", "risk_instrument_saved")
}

// riskInstrumentUpload reads an edited workbook: a file fault is shown at
// the file field; every problem of a cell or of the instrument by sheet,
// row and column (422), and nothing is written; a dry run that passes
// says what would be loaded; else the version is loaded.
func (c *Console) riskInstrumentUpload(w http.ResponseWriter, r *http.Request, q *req) error {
	d := riskInstrumentData{Upload: "upload"}
	file, dry, done, err := openXLSXForm(w, r)
	defer done()
	var in *casework.Instrument
	if err == nil {
		in, d.Faults, err = exchange.ReadInstrument(file, q.Lang)
	}
	if err != nil {
		var ce *casework.Error
		if errors.As(err, &ce) && ce.Code == casework.EINVALID {
			d.FileErr = ce.Message(q.Lang)
			return c.riskInstrumentPage(w, r, q, d, http.StatusBadRequest)
		}
		return err
	}
	if len(d.Faults) > 0 {
		return c.riskInstrumentPage(w, r, q, d, http.StatusUnprocessableEntity)
	}
	from, err := casework.ParseDateField("effective_from", strings.TrimSpace(r.FormValue("effective_from")))
	if err == nil {
		if dry {
			err = c.DB.CheckRiskInstrument(r.Context(), q.Actor, r.PathValue("id"), in, from)
		} else {
			_, err = c.DB.CreateRiskInstrument(r.Context(), q.Actor, r.PathValue("id"), in, from, strings.TrimSpace(r.FormValue("note")))
		}
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		d.FileErr = fe.Message
		return c.riskInstrumentPage(w, r, q, d, http.StatusBadRequest)
	}
	if dry {
		d.Checked, d.CheckedFor = in, from.String()
		return c.riskInstrumentPage(w, r, q, d, http.StatusOK)
	}
	return redirect(w, r, "/orgs/"+r.PathValue("id")+"/risk/instrument", "risk_instrument_saved")
}
