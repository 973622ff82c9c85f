package dossier

import (
	"fmt"

	"kangfu/internal/store"
)

// PDF renders the dossier in Chinese: cover with identity, then one section
// per part (measures, documents, timeline), each starting on a new page.
func PDF(d *store.Dossier) ([]byte, error) {
	const lang = "zh"
	v := Build(d, lang)
	title := T(lang, "dossier.title") + " — " + v.Name
	w, err := newWriter(title, title, d.At)
	if err != nil {
		return nil, err
	}
	w.centered(T(lang, "dossier.title"), 20)
	w.centered(v.Name, 16)
	w.space(4)
	w.para(T(lang, "dossier.generated", v.GeneratedAt), 9)
	w.para(T(lang, "dossier.masked_note"), 9)
	if v.Historical != "" {
		w.para(v.Historical, 9)
	}
	w.space(6)
	w.heading(T(lang, "dossier.identity"), false)
	w.pairs(v.Identity, 10.5)

	w.heading(T(lang, "dossier.measures"), true)
	if len(v.Measures) == 0 {
		w.para(T(lang, "dossier.none"), 10.5)
	}
	for _, m := range v.Measures {
		w.font(12)
		w.ensure(80)
		w.para(m.Heading, 12)
		w.pairs(m.Facts, 10)
		w.para(T(lang, "dossier.group"), 11)
		rows := [][]string{{T(lang, "dossier.col.role"), T(lang, "dossier.col.name"), T(lang, "dossier.col.note")}}
		for _, g := range m.Group {
			rows = append(rows, []string{g.Role, g.Name, g.Note})
		}
		if len(m.Group) == 0 {
			rows = append(rows, []string{T(lang, "dossier.none"), "", ""})
		}
		w.table([]float64{0.25, 0.3, 0.45}, rows, 10)
		w.para(T(lang, "dossier.history"), 11)
		rows = [][]string{{T(lang, "dossier.col.date"), T(lang, "dossier.col.what"), T(lang, "dossier.col.reason"), T(lang, "dossier.col.by")}}
		for _, e := range m.History {
			rows = append(rows, []string{e.At, e.What, e.Detail, e.By})
		}
		if len(m.History) == 0 {
			rows = append(rows, []string{T(lang, "dossier.none"), "", "", ""})
		}
		w.table([]float64{0.17, 0.33, 0.33, 0.17}, rows, 9.5)
	}

	w.heading(T(lang, "dossier.tests"), true)
	rows := [][]string{{T(lang, "dossier.col.tested_on"), T(lang, "dossier.col.kind"), T(lang, "dossier.col.sample"), T(lang, "dossier.col.result"), T(lang, "dossier.col.by")}}
	for _, t := range v.Tests {
		rows = append(rows, []string{t.Date, t.Kind, t.Sample, t.Result, t.By})
	}
	if len(v.Tests) == 0 {
		rows = append(rows, []string{T(lang, "dossier.none"), "", "", "", ""})
	}
	w.table([]float64{0.18, 0.22, 0.14, 0.28, 0.18}, rows, 9.5)

	w.heading(T(lang, "dossier.violations"), false)
	if v.HideViolations {
		w.para(T(lang, "dossier.hidden"), 10)
	} else {
		rows = [][]string{{T(lang, "dossier.col.day"), T(lang, "dossier.col.kind"), T(lang, "dossier.col.state"), T(lang, "dossier.col.detail"), T(lang, "dossier.col.by")}}
		for _, x := range v.Violations {
			rows = append(rows, []string{x.Date, x.Kind, x.State, x.Detail, x.By})
			for _, s := range x.Steps {
				rows = append(rows, []string{"", "→ " + s.Step, s.At, s.Reason, s.By})
			}
		}
		if len(v.Violations) == 0 {
			rows = append(rows, []string{T(lang, "dossier.none"), "", "", "", ""})
		}
		w.table([]float64{0.17, 0.2, 0.17, 0.3, 0.16}, rows, 9.5)
	}

	w.heading(T(lang, "dossier.leave"), false)
	if v.HideLeave {
		w.para(T(lang, "dossier.hidden"), 10)
	} else {
		rows = [][]string{{T(lang, "dossier.col.kind"), T(lang, "dossier.col.from"), T(lang, "dossier.col.to"), T(lang, "dossier.col.days"),
			T(lang, "dossier.col.state"), T(lang, "dossier.col.reason"), T(lang, "dossier.col.requested"), T(lang, "dossier.col.decided")}}
		for _, l := range v.Leaves {
			rows = append(rows, []string{l.Kind, l.From, l.To, l.Days, l.State, l.Reason, l.Requested, l.Decided})
		}
		if len(v.Leaves) == 0 {
			rows = append(rows, []string{T(lang, "dossier.none"), "", "", "", "", "", "", ""})
		}
		w.table([]float64{0.09, 0.12, 0.12, 0.06, 0.13, 0.16, 0.16, 0.16}, rows, 9)
	}

	w.heading(T(lang, "dossier.checkins"), false)
	w.para(T(lang, "dossier.checkins_note"), 9)
	rows = [][]string{{T(lang, "dossier.col.month"), T(lang, "dossier.col.due"), T(lang, "dossier.col.done"), T(lang, "dossier.col.missed"),
		T(lang, "dossier.col.on_leave"), T(lang, "dossier.col.no_app")}}
	for _, m := range v.Checkins {
		rows = append(rows, []string{m.Month, fmt.Sprint(m.Due), fmt.Sprint(m.Done), fmt.Sprint(m.Missed), fmt.Sprint(m.OnLeave), fmt.Sprint(m.NoApp)})
	}
	if len(v.Checkins) == 0 {
		rows = append(rows, []string{T(lang, "dossier.none"), "", "", "", "", ""})
	}
	w.table([]float64{0.2, 0.16, 0.16, 0.16, 0.16, 0.16}, rows, 10)

	w.heading(T(lang, "dossier.documents"), true)
	rows = [][]string{{T(lang, "dossier.col.kind"), T(lang, "dossier.col.title"), T(lang, "dossier.col.source"), T(lang, "dossier.col.at"), T(lang, "dossier.col.by")}}
	for _, doc := range v.Documents {
		rows = append(rows, []string{doc.Kind, doc.Title, doc.Source, doc.At, doc.By})
	}
	if len(v.Documents) == 0 {
		rows = append(rows, []string{T(lang, "dossier.none"), "", "", "", ""})
	}
	w.table([]float64{0.18, 0.34, 0.12, 0.2, 0.16}, rows, 9.5)

	w.heading(T(lang, "dossier.timeline"), true)
	rows = [][]string{{T(lang, "dossier.col.at"), T(lang, "dossier.col.what"), T(lang, "dossier.col.detail"), T(lang, "dossier.col.by")}}
	for _, e := range v.Timeline {
		rows = append(rows, []string{e.At, e.What, e.Detail, e.By})
	}
	if len(v.Timeline) == 0 {
		rows = append(rows, []string{T(lang, "dossier.none"), "", "", ""})
	}
	w.table([]float64{0.2, 0.22, 0.42, 0.16}, rows, 9)
	return w.bytes()
}
