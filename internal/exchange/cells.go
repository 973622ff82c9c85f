package exchange

import (
	"strings"

	"github.com/xuri/excelize/v2"
)

// Every cell this package writes goes through safeValue (issue 15 §8): a
// text that starts with =, +, -, @, a tab or a carriage return is written
// with a leading apostrophe, so no spreadsheet (Excel, WPS, LibreOffice,
// or a CSV saved from it) evaluates it as a formula. Numbers and dates are
// written as they are. The writers below are the only way cells are set.

// formulaStart is what a spreadsheet may take as the start of a formula.
const formulaStart = "=+-@\t\r"

// SafeText returns s so that no spreadsheet evaluates it. A text that
// already starts with apostrophes before a formula character gets one more,
// so PlainText can take exactly one off and an exported workbook imports
// back as it was written.
func SafeText(s string) string {
	if startsFormula(strings.TrimLeft(s, "'")) {
		return "'" + s
	}
	return s
}

// PlainText undoes SafeText: every import reads its cells through it, so a
// workbook exported by Kangfu (or one whose cells were guarded the same
// way) imports the text that was exported, not the guard.
// PlainText(SafeText(s)) == s for every s.
func PlainText(v string) string {
	if rest, ok := strings.CutPrefix(v, "'"); ok && startsFormula(strings.TrimLeft(rest, "'")) {
		return rest
	}
	return v
}

func startsFormula(s string) bool {
	return s != "" && strings.ContainsRune(formulaStart, rune(s[0]))
}

// safeValue applies SafeText to a text value, also inside an
// excelize.Cell (a styled cell).
func safeValue(v any) any {
	switch x := v.(type) {
	case string:
		return SafeText(x)
	case excelize.Cell:
		x.Value = safeValue(x.Value)
		return x
	case *excelize.Cell:
		c := *x
		c.Value = safeValue(c.Value)
		return c
	}
	return v
}

func safeRow(vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = safeValue(v)
	}
	return out
}

// setRow writes a row through a stream writer.
func setRow(sw *excelize.StreamWriter, cell string, vals []any, opts ...excelize.RowOpts) error {
	return sw.SetRow(cell, safeRow(vals), opts...)
}

// setSheetRow writes a row into a sheet.
func setSheetRow(f *excelize.File, sheet, cell string, vals []any) error {
	row := safeRow(vals)
	return f.SetSheetRow(sheet, cell, &row)
}

// setCell writes one cell.
func setCell(f *excelize.File, sheet, cell string, v any) error {
	return f.SetCellValue(sheet, cell, safeValue(v))
}

// WriteRow writes a row into a sheet for another package (the reports'
// workbooks), through the same guard as every cell written here.
func WriteRow(f *excelize.File, sheet, cell string, vals []any) error {
	return setSheetRow(f, sheet, cell, vals)
}

// cellText is an imported cell's text: trimmed, without the guard
// SafeText adds (issue 15 §8), so an exported workbook imports back.
func cellText(c string) string {
	return strings.TrimSpace(PlainText(strings.TrimSpace(c)))
}
