package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

type scaleFormData struct {
	PersonID   string
	PersonName string
	S          *casework.Scale
	Items      []scaleItemRow
	Subs       []assistRow
	Injection  []choice
	Errs       map[string]string
}

type scaleItemRow struct {
	N       int
	Text    string
	Field   string
	Options []choice
	Reverse bool
}

type assistRow struct {
	Label string
	Qs    []assistCell
}

type assistCell struct {
	Field, Label string
	Options      []choice
	Skip         bool // Q5 is never asked about tobacco
}

func (c *Console) psychScaleForm(w http.ResponseWriter, r *http.Request, q *req) error {
	code := r.URL.Query().Get("scale")
	if code == "" {
		code = "phq9"
	}
	return c.renderScaleForm(w, r, q, code, nil, nil, http.StatusOK)
}

func (c *Console) renderScaleForm(w http.ResponseWriter, r *http.Request, q *req, code string, form map[string]string, errs map[string]string, status int) error {
	s, ok := casework.ScaleByCode(code)
	if !ok {
		return casework.NotFound("量表", "scale")
	}
	p, err := c.DB.GetPerson(r.Context(), q.Actor, r.PathValue("id"), "")
	if err != nil {
		return err
	}
	d := scaleFormData{PersonID: p.ID, PersonName: p.Name, S: s, Errs: errs}
	opts := func(field string, os []casework.ScaleOption, blank bool) []choice {
		var out []choice
		if blank {
			out = append(out, choice{Value: "", Label: "—"})
		}
		for _, o := range os {
			v := strconv.Itoa(o.Value)
			out = append(out, choice{Value: v, Label: o.Label(q.Lang), Selected: form != nil && form[field] == v})
		}
		return out
	}
	for i, it := range s.Items {
		f := fmt.Sprintf("q%d", i+1)
		d.Items = append(d.Items, scaleItemRow{N: i + 1, Text: it.Text(q.Lang), Field: f, Options: opts(f, s.ItemOptions(i), false)})
	}
	for _, sub := range s.Substances {
		row := assistRow{Label: sub.Label(q.Lang)}
		for _, qq := range s.Questions {
			f := sub.Code + "." + qq.Key
			row.Qs = append(row.Qs, assistCell{Field: f, Label: strings.ToUpper(qq.Key), Options: opts(f, qq.Options, true),
				Skip: sub.Code == "tobacco" && qq.Key == "q5"})
		}
		d.Subs = append(d.Subs, row)
	}
	if s.Injection != nil {
		d.Injection = opts("q8", s.Injection.Options, true)
	}
	c.render(w, r, q, status, "psych_scale", d)
	return nil
}

// scaleAnswers reads the form of a scale: items q1…qN (blank is "not
// answered"), for the ASSIST "<substance>.<question>" (blank is "not
// asked") and q8.
func scaleAnswers(r *http.Request, s *casework.Scale) (casework.ScaleAnswers, map[string]string) {
	form := map[string]string{}
	var a casework.ScaleAnswers
	num := func(f string) (int, bool) {
		v := strings.TrimSpace(r.PostFormValue(f))
		form[f] = v
		n, err := strconv.Atoi(v)
		return n, err == nil
	}
	for i := range s.Items {
		n, ok := num(fmt.Sprintf("q%d", i+1))
		if !ok {
			n = casework.NotAnswered
		}
		a.Items = append(a.Items, n)
	}
	if len(s.Substances) > 0 {
		a.Substances = map[string]map[string]int{}
		for _, sub := range s.Substances {
			m := map[string]int{}
			for _, qq := range s.Questions {
				if n, ok := num(sub.Code + "." + qq.Key); ok {
					m[qq.Key] = n
				}
			}
			a.Substances[sub.Code] = m
		}
		if n, ok := num("q8"); ok {
			a.Injection = &n
		}
	}
	return a, form
}

func (c *Console) psychScaleRecord(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := r.ParseForm(); err != nil {
		return casework.Invalid("form", "无法读取表单", "cannot read the form")
	}
	code := r.PostFormValue("scale")
	s, ok := casework.ScaleByCode(code)
	if !ok {
		return casework.Invalid("scale", "未知的量表", "unknown scale")
	}
	answers, form := scaleAnswers(r, s)
	a, err := c.DB.RecordScale(r.Context(), q.Actor, r.PathValue("id"), store.ScaleInput{Scale: code, Answers: answers})
	if err != nil {
		errs, ferr := formErrs(err, q.Lang)
		if ferr != nil {
			return ferr
		}
		return c.renderScaleForm(w, r, q, code, form, errs, http.StatusBadRequest)
	}
	return redirect(w, r, "/psych/scales/"+a.ID, "psych_scale_recorded")
}

type scaleViewData struct {
	A       *store.ScaleAdministration
	Row     scaleRow
	S       *casework.Scale
	Answers []kv
	Subs    []kv
	Bands   []casework.BandSet
	At      string
	Err     *formError
	CanFU   bool
}

func (c *Console) psychScaleView(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.renderScaleView(w, r, q, r.PathValue("id"), nil, http.StatusOK)
}

func (c *Console) renderScaleView(w http.ResponseWriter, r *http.Request, q *req, id string, ferr error, status int) error {
	a, err := c.DB.GetScale(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	s, _ := casework.ScaleByCode(a.Result.Scale)
	d := scaleViewData{A: a, Row: scaleRowOf(q.Lang, *a), S: s, Bands: a.Result.Bands,
		At: a.AdministeredAt.In(casework.LoadLocation("")).Format("2006-01-02 15:04"), CanFU: a.NeedsFollowup()}
	if ferr != nil {
		d.Err, _ = toFormError(ferr, q.Lang)
	}
	if a.Answers != nil {
		for i, v := range a.Answers.Items {
			if i < len(s.Items) {
				d.Answers = append(d.Answers, kv{K: fmt.Sprintf("%d. %s", i+1, s.Items[i].Text(q.Lang)), V: optionLabel(q.Lang, s.ItemOptions(i), v)})
			}
		}
	}
	for _, sub := range a.Result.Substances {
		d.Subs = append(d.Subs, kv{K: assistName(q.Lang, sub.Code), V: fmt.Sprintf("%d · %s", sub.Score, sub.Band.Label(q.Lang))})
	}
	c.render(w, r, q, status, "psych_scale_view", d)
	return nil
}

func optionLabel(lang string, os []casework.ScaleOption, v int) string {
	for _, o := range os {
		if o.Value == v {
			return fmt.Sprintf("%s（%d）", o.Label(lang), v)
		}
	}
	return strconv.Itoa(v)
}

// psychCharts draws each scale's scores over time as a small inline SVG
// rendered here: a few points per person need no chart library, the page
// stays script-free under the strict CSP, and it prints. The band table of
// the latest administration shades the background; a dot is coloured by
// the band it was scored in.
func psychCharts(lang string, as []store.ScaleAdministration) []template.HTML {
	var out []template.HTML
	for _, s := range casework.Scales() {
		if s.Code == "assist" {
			continue
		}
		var pts []store.ScaleAdministration
		for i := len(as) - 1; i >= 0; i-- { // oldest first
			if as[i].Result.Scale == s.Code {
				pts = append(pts, as[i])
			}
		}
		if len(pts) == 0 {
			continue
		}
		out = append(out, chartSVG(lang, s, pts))
	}
	return out
}

var levelColours = []string{"#2e7d32", "#9e9d24", "#ef6c00", "#d84315", "#b71c1c"}

func chartSVG(lang string, s *casework.Scale, pts []store.ScaleAdministration) template.HTML {
	const w, h, left, right, top, bottom = 320.0, 120.0, 28.0, 8.0, 16.0, 18.0
	last := pts[len(pts)-1].Result
	lo, hi := 0, 27
	if len(last.Bands) > 0 && len(last.Bands[0].Bands) > 0 {
		bs := last.Bands[0].Bands
		lo, hi = bs[0].Min, bs[len(bs)-1].Max
	}
	y := func(v int) float64 { return top + (h-top-bottom)*(1-float64(v-lo)/float64(max(hi-lo, 1))) }
	x := func(i int) float64 {
		if len(pts) == 1 {
			return left + (w-left-right)/2
		}
		return left + (w-left-right)*float64(i)/float64(len(pts)-1)
	}
	esc := template.HTMLEscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="psych-chart" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-label="%s" data-scale="%s">`, w, h, esc(s.Name(lang)), s.Code)
	fmt.Fprintf(&b, `<text x="%.0f" y="11" font-size="10">%s</text>`, left, esc(s.Name(lang)))
	if len(last.Bands) > 0 {
		for _, band := range last.Bands[0].Bands {
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.1f" width="%.0f" height="%.1f" fill="%s" opacity="0.08"><title>%s %d–%d</title></rect>`,
				left, y(band.Max+1), w-left-right, y(band.Min)-y(band.Max+1), levelColours[min(band.Level, 4)], esc(band.Label(lang)), band.Min, band.Max)
			fmt.Fprintf(&b, `<text x="2" y="%.1f" font-size="8" fill="#666">%d</text>`, y(band.Min)-1, band.Min)
		}
	}
	var path []string
	for i, p := range pts {
		path = append(path, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Result.Score())))
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#455a64" stroke-width="1.5"/>`, strings.Join(path, " "))
	for i, p := range pts {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s %d %s</title></circle>`, x(i), y(p.Result.Score()),
			levelColours[min(p.Result.Band.Level, 4)], p.AdministeredOn, p.Result.Score(), esc(p.Result.Band.Label(lang)))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="8" fill="#666">%s</text>`, left, h-4, pts[0].AdministeredOn)
	if len(pts) > 1 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="8" fill="#666" text-anchor="end">%s</text>`, w-right, h-4, pts[len(pts)-1].AdministeredOn)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
