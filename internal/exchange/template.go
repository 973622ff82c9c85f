package exchange

import (
	"bytes"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// WriteTemplate writes the import template in the language: a sheet for
// the data with the header row (required columns marked *, each with its
// note as a cell comment; ID number and phone columns formatted as text,
// date columns as dates; a drop-down for the measure kind), a sheet with an
// example row, and a sheet of notes.
func WriteTemplate(w io.Writer, lang string) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := i18n.T(lang, "exchange.sheet.import")
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"}})
	if err != nil {
		return err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return err
	}
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd")})
	if err != nil {
		return err
	}
	for _, name := range []string{sheet, i18n.T(lang, "exchange.sheet.example")} {
		if name != sheet {
			if _, err := f.NewSheet(name); err != nil {
				return err
			}
		}
		if err := writeHeader(f, name, lang, head, text, date); err != nil {
			return err
		}
	}
	if err := writeExample(f, i18n.T(lang, "exchange.sheet.example"), lang); err != nil {
		return err
	}
	if err := writeNotes(f, lang, head); err != nil {
		return err
	}
	dv := excelize.NewDataValidation(true)
	last, _ := excelize.ColumnNumberToName(columnIndex("kind") + 1)
	dv.Sqref = fmt.Sprintf("%s2:%s%d", last, last, MaxRows+1)
	if err := dv.SetDropList([]string{casework.MeasureTreatment.Label("zh"), casework.MeasureRehab.Label("zh")}); err != nil {
		return err
	}
	if err := f.AddDataValidation(sheet, dv); err != nil {
		return err
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}

func ptr[T any](v T) *T { return &v }

func columnIndex(key string) int {
	for i, k := range store.ImportColumns {
		if k == key {
			return i
		}
	}
	return -1
}

// writeHeader writes the header row of a data sheet with notes as comments
// and the column formats.
func writeHeader(f *excelize.File, sheet, lang string, head, text, date int) error {
	for i, k := range store.ImportColumns {
		col, _ := excelize.ColumnNumberToName(i + 1)
		name := ColumnName(k, lang)
		if store.ImportRequired[k] {
			name += "*"
		}
		if err := setCell(f, sheet, col+"1", name); err != nil {
			return err
		}
		if err := f.AddComment(sheet, excelize.Comment{Cell: col + "1", Author: "Kangfu", Text: i18n.T(lang, "exchange.note."+k)}); err != nil {
			return err
		}
		width := 14.0
		switch {
		case k == "id_number", k == "org", k == "decision_number", k == "decision_authority", k == "household_addr", k == "residence_addr":
			width = 24
		case dateColumns[k]:
			width = 13
		}
		if err := f.SetColWidth(sheet, col, col, width); err != nil {
			return err
		}
		style := 0
		switch {
		case textColumns[k]:
			style = text
		case dateColumns[k]:
			style = date
		}
		if style != 0 {
			if err := f.SetColStyle(sheet, col, style); err != nil {
				return err
			}
		}
		if err := f.SetCellStyle(sheet, col+"1", col+"1", head); err != nil {
			return err
		}
	}
	return f.SetRowHeight(sheet, 1, 30)
}

// ExampleIDNumber is the (valid, fictitious) ID number of the example row.
var ExampleIDNumber = "46020319850312001" + string(casework.IDCheckChar("46020319850312001"))

// writeExample writes one filled-in row.
func writeExample(f *excelize.File, sheet, lang string) error {
	addr := i18n.T(lang, "exchange.example.addr")
	vals := map[string]any{
		"name": i18n.T(lang, "exchange.example.name"), "id_number": ExampleIDNumber, "phone": "13800138000",
		"household_addr": addr, "residence_addr": addr, "ethnicity": i18n.T(lang, "exchange.example.ethnicity"),
		"education": i18n.T(lang, "exchange.example.education"), "marital_status": i18n.T(lang, "exchange.example.marital_status"),
		"employment": i18n.T(lang, "exchange.example.employment"), "org": "460203001001", "kind": casework.MeasureTreatment.Label("zh"),
		"decision_number": i18n.T(lang, "exchange.example.decision_number"), "decision_authority": i18n.T(lang, "exchange.example.decision_authority"),
		"decision_date": "2021-03-01", "received_date": "2021-03-02", "report_date": "2021-03-10", "agreement_date": "2021-03-10",
		"term_months": "", "worker": "worker",
	}
	for i, k := range store.ImportColumns {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := setCell(f, sheet, col+"2", vals[k]); err != nil {
			return err
		}
	}
	return nil
}

// writeNotes writes the notes sheet: one line per column.
func writeNotes(f *excelize.File, lang string, head int) error {
	sheet := i18n.T(lang, "exchange.sheet.notes")
	if _, err := f.NewSheet(sheet); err != nil {
		return err
	}
	if err := setCell(f, sheet, "A1", i18n.T(lang, "exchange.notes.intro")); err != nil {
		return err
	}
	row := []any{i18n.T(lang, "exchange.notes.column"), i18n.T(lang, "exchange.notes.required"), i18n.T(lang, "exchange.notes.note")}
	if err := setSheetRow(f, sheet, "A3", row); err != nil {
		return err
	}
	if err := f.SetCellStyle(sheet, "A3", "C3", head); err != nil {
		return err
	}
	for i, k := range store.ImportColumns {
		req := ""
		if store.ImportRequired[k] {
			req = i18n.T(lang, "yes")
		}
		row := []any{ColumnName(k, lang), req, i18n.T(lang, "exchange.note."+k)}
		if err := setSheetRow(f, sheet, fmt.Sprintf("A%d", i+4), row); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(sheet, "A", "A", 22); err != nil {
		return err
	}
	return f.SetColWidth(sheet, "C", "C", 90)
}

// Template returns the import template in the language.
func Template(lang string) ([]byte, error) {
	var b bytes.Buffer
	err := WriteTemplate(&b, lang)
	return b.Bytes(), err
}
