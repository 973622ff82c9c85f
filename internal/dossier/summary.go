package dossier

import (
	"time"

	"kangfu/internal/i18n"
	"kangfu/internal/reports"
)

// SummaryPDF draws a work summary (年度工作总结, issue 12 §3) on A4 with the
// dossier's embedded CJK font: the title, the place and its facts, each
// section (generated paragraphs, then the office's text), the work done by
// kind, and the figures with their formulas. It holds counts only.
func SummaryPDF(d *reports.SummaryDoc, lang string, at time.Time) ([]byte, error) {
	w, err := newWriterPages(d.Title, d.Title, func(n int) string { return i18n.T(lang, "summary.pdf_page", n) }, at)
	if err != nil {
		return nil, err
	}
	w.centered(d.Title, 18)
	w.space(2)
	w.para(d.Subtitle, 9.5)
	if d.Notice != "" {
		w.para(d.Notice, 9.5)
	}
	if len(d.Changed) > 0 {
		w.para(i18n.T(lang, "summary.changed_title"), 10)
		for _, c := range d.Changed {
			w.para("· "+c, 9.5)
		}
	}
	w.space(6)
	var facts []Pair
	for _, f := range d.Facts {
		facts = append(facts, Pair{f[0], f[1]})
	}
	w.pairs(facts, 10.5)
	for _, sec := range d.Sections {
		w.heading(sec.Heading, false)
		for _, p := range sec.Paragraphs() {
			w.para("    "+p, 11)
			w.space(2)
		}
		if sec.Key == "services" {
			w.space(4)
			w.table([]float64{0.7, 0.3}, d.Counts, 10)
		}
	}
	w.heading(i18n.T(lang, "summary.section.figures"), true)
	w.table([]float64{0.18, 0.1, 0.12, 0.42, 0.18}, d.Figures, 8.5)
	if len(d.ByChild) > 0 {
		w.heading(i18n.T(lang, "summary.section.by_child"), false)
		// The first columns only: the area, persons and the story's counts.
		cols := min(len(d.ByChild[0]), 6)
		rows := make([][]string, len(d.ByChild))
		widths := []float64{0.3}
		for i := 1; i < cols; i++ {
			widths = append(widths, 0.7/float64(cols-1))
		}
		for i, r := range d.ByChild {
			rows[i] = r[:cols]
		}
		w.table(widths, rows, 8.5)
	}
	return w.bytes()
}
