package dossier

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/signintech/gopdf"
)

// The CJK font (Noto Sans SC, OFL 1.1; see fonts/README.md). gopdf reads
// TrueType (glyf) fonts only, so this is the TrueType build.
//
//go:embed fonts/NotoSansSC-Regular.ttf
var fontCJK []byte

const fontName = "cjk"

// A4 in points, with 20 mm margins.
const (
	pageW   = 595.28
	pageH   = 841.89
	margin  = 56.7
	bottom  = pageH - margin
	textW   = pageW - 2*margin
	lineGap = 1.5
)

// writer draws flowing text on A4 pages: it wraps lines (Chinese breaks
// anywhere, Latin words at spaces) and starts a new page when one is full.
type writer struct {
	pdf    gopdf.GoPdf
	y      float64
	size   float64
	footer string
	pages  int
	widths map[rune]float64
	err    error
	// page numbers the pages in the footer ("第 3 页").
	page func(n int) string
}

func newWriter(title, footer string, at time.Time) (*writer, error) {
	return newWriterPages(title, footer, func(n int) string { return fmt.Sprintf("第 %d 页", n) }, at)
}

// newWriterPages is newWriter with the page number's words (English
// documents: "Page 3").
func newWriterPages(title, footer string, page func(n int) string, at time.Time) (*writer, error) {
	w := &writer{footer: footer, widths: map[rune]float64{}, page: page}
	w.pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	w.pdf.SetInfo(gopdf.PdfInfo{Title: title, Creator: "Kangfu 康复", Producer: "Kangfu", CreationDate: at})
	// A character the font lacks prints as □ rather than vanishing.
	opt := gopdf.TtfOption{OnGlyphNotFoundSubstitute: func(rune) rune { return '□' }}
	if err := w.pdf.AddTTFFontDataWithOption(fontName, fontCJK, opt); err != nil {
		return nil, fmt.Errorf("load CJK font: %w", err)
	}
	w.newPage()
	return w, w.err
}

func (w *writer) setErr(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}

func (w *writer) font(size float64) {
	if size != w.size {
		w.size = size
		w.widths = map[rune]float64{}
		w.setErr(w.pdf.SetFont(fontName, "", size))
	}
}

func (w *writer) newPage() {
	w.pdf.AddPage()
	w.pages++
	size := w.size
	if size == 0 {
		size = 11
	}
	w.size = 0
	w.font(9)
	w.pdf.SetTextColor(110, 110, 110)
	foot := w.footer + "    " + w.page(w.pages)
	fw := w.width(foot)
	w.pdf.SetXY((pageW-fw)/2, pageH-margin/2-4)
	w.setErr(w.pdf.Cell(nil, foot))
	w.pdf.SetTextColor(0, 0, 0)
	w.font(size)
	w.y = margin
}

// ensure starts a new page unless h points fit on this one.
func (w *writer) ensure(h float64) {
	if w.y+h > bottom {
		w.newPage()
	}
}

func (w *writer) runeWidth(r rune) float64 {
	if v, ok := w.widths[r]; ok {
		return v
	}
	v, err := w.pdf.MeasureTextWidth(string(r))
	if err != nil {
		v = w.size // a missing glyph prints as □, about one em
	}
	w.widths[r] = v
	return v
}

func (w *writer) width(s string) float64 {
	var n float64
	for _, r := range s {
		n += w.runeWidth(r)
	}
	return n
}

// wrap breaks s into lines no wider than max.
func (w *writer) wrap(s string, max float64) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		rs := []rune(para)
		if len(rs) == 0 {
			out = append(out, "")
			continue
		}
		start, lineW, lastSpace := 0, 0.0, -1
		for i := 0; i < len(rs); i++ {
			r := rs[i]
			if r == ' ' {
				lastSpace = i
			}
			cw := w.runeWidth(r)
			if lineW+cw > max && i > start {
				cut := i
				// Keep a Latin word whole when the line has a space to break at.
				if r < unicode.MaxLatin1 && !unicode.IsSpace(r) && lastSpace > start {
					cut = lastSpace + 1
				}
				// Closing punctuation does not start a line (避头点).
				if strings.ContainsRune("，。、；：！？）》〕」』”,.;:!?)", rs[cut]) && cut-1 > start {
					cut--
				}
				out = append(out, strings.TrimRight(string(rs[start:cut]), " "))
				start, lastSpace = cut, -1
				lineW = 0
				i = cut - 1
				continue
			}
			lineW += cw
		}
		out = append(out, string(rs[start:]))
	}
	return out
}

func (w *writer) lineH() float64 { return w.size * lineGap }

// text writes wrapped text at x within width max.
func (w *writer) text(s string, size, x, max float64) {
	w.font(size)
	for _, line := range w.wrap(s, max) {
		w.ensure(w.lineH())
		w.pdf.SetXY(x, w.y)
		w.setErr(w.pdf.Cell(nil, line))
		w.y += w.lineH()
	}
}

// para writes a paragraph across the text width.
func (w *writer) para(s string, size float64) { w.text(s, size, margin, textW) }

// centered writes one centered line (a title).
func (w *writer) centered(s string, size float64) {
	w.font(size)
	w.ensure(w.lineH())
	w.pdf.SetXY(margin+(textW-w.width(s))/2, w.y)
	w.setErr(w.pdf.Cell(nil, s))
	w.y += w.lineH()
}

// right writes one right-aligned line (a signature or date).
func (w *writer) right(s string, size float64) {
	w.font(size)
	w.ensure(w.lineH())
	w.pdf.SetXY(margin+textW-w.width(s), w.y)
	w.setErr(w.pdf.Cell(nil, s))
	w.y += w.lineH()
}

func (w *writer) space(h float64) { w.y += h }

// heading writes a section heading with a rule under it; with newPage it
// starts on a fresh page (a dossier section).
func (w *writer) heading(s string, newPage bool) {
	if newPage && w.y > margin {
		w.newPage()
	}
	w.ensure(60) // keep a heading with what follows
	w.font(14)
	w.pdf.SetXY(margin, w.y)
	w.setErr(w.pdf.Cell(nil, s))
	w.y += w.lineH()
	w.pdf.SetLineWidth(0.6)
	w.pdf.Line(margin, w.y-3, margin+textW, w.y-3)
	w.y += 4
}

// table draws rows in columns of the given widths (fractions of the text
// width), the first row as a header; cells wrap and rows break across pages.
func (w *writer) table(cols []float64, rows [][]string, size float64) {
	w.font(size)
	pad := 3.0
	w.pdf.SetLineWidth(0.4)
	for ri, row := range rows {
		var lines [][]string
		n := 1
		for ci, cell := range row {
			l := w.wrap(cell, cols[ci]*textW-2*pad)
			lines = append(lines, l)
			n = max(n, len(l))
		}
		h := float64(n)*w.lineH() + 2*pad
		if w.y+h > bottom {
			w.newPage()
			w.font(size)
		}
		if ri == 0 {
			w.pdf.SetFillColor(235, 239, 243)
			w.pdf.RectFromUpperLeftWithStyle(margin, w.y, textW, h, "F")
		}
		x := margin
		for ci := range row {
			cw := cols[ci] * textW
			w.pdf.RectFromUpperLeftWithStyle(x, w.y, cw, h, "D")
			for li, line := range lines[ci] {
				w.pdf.SetXY(x+pad, w.y+pad+float64(li)*w.lineH())
				w.setErr(w.pdf.Cell(nil, line))
			}
			x += cw
		}
		w.y += h
	}
	w.y += 6
}

// pairs draws label/value rows as a two-column table without header.
func (w *writer) pairs(ps []Pair, size float64) {
	w.font(size)
	pad := 3.0
	w.pdf.SetLineWidth(0.4)
	lw := 0.28 * textW
	for _, p := range ps {
		vl := w.wrap(p.Value, textW-lw-2*pad)
		ll := w.wrap(p.Label, lw-2*pad)
		n := max(len(vl), len(ll))
		h := float64(n)*w.lineH() + 2*pad
		w.ensure(h)
		w.pdf.SetFillColor(245, 247, 249)
		w.pdf.RectFromUpperLeftWithStyle(margin, w.y, lw, h, "FD")
		w.pdf.RectFromUpperLeftWithStyle(margin+lw, w.y, textW-lw, h, "D")
		for i, l := range ll {
			w.pdf.SetXY(margin+pad, w.y+pad+float64(i)*w.lineH())
			w.setErr(w.pdf.Cell(nil, l))
		}
		for i, l := range vl {
			w.pdf.SetXY(margin+lw+pad, w.y+pad+float64(i)*w.lineH())
			w.setErr(w.pdf.Cell(nil, l))
		}
		w.y += h
	}
	w.y += 6
}

func (w *writer) bytes() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	var buf bytes.Buffer
	if _, err := w.pdf.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
