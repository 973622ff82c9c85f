// Package exchange moves person lists in and out of Excel workbooks (.xlsx):
// the import template, reading an import (streamed with excelize's Rows)
// into store.ImportRow, and exporting a person list (streamed with
// excelize's StreamWriter) with only the columns the actor may see, masked
// as on screen (R36). The rules live in the store and casework; this
// package only reads and writes cells.
package exchange

import (
	"strings"

	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// ContentType is the media type of an .xlsx workbook.
const ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Limits of an import file.
const (
	MaxFileBytes = 10 << 20            // 10 MiB
	MaxRows      = store.MaxImportRows // data rows
)

// dateColumns hold dates: a real Excel date or text YYYY-MM-DD.
var dateColumns = map[string]bool{"decision_date": true, "received_date": true, "report_date": true, "agreement_date": true}

// textColumns must stay text: a number format would lose digits of an ID
// number and the leading 0 of a landline.
var textColumns = map[string]bool{"id_number": true, "phone": true, "decision_number": true, "org": true, "worker": true}

// ColumnName returns the header of an import column (a key of
// store.ImportColumns) in the language; "" for the whole row.
func ColumnName(key, lang string) string {
	if key == "" {
		return ""
	}
	return i18n.T(lang, "exchange.col."+key)
}

// ErrorRows are the faults of an import report as the console and the API
// show them: row, column header, reason, in one language.
type ErrorRow struct {
	Row       int    `json:"row"`
	Column    string `json:"column"`
	ColumnKey string `json:"column_key"`
	Message   string `json:"message"`
}

// Errors returns the faults of a report in the language.
func Errors(rep *store.ImportReport, lang string) []ErrorRow {
	out := make([]ErrorRow, 0, len(rep.Errors))
	for _, e := range rep.Errors {
		out = append(out, ErrorRow{Row: e.Row, Column: ColumnName(e.Column, lang), ColumnKey: e.Column, Message: e.Message(lang)})
	}
	return out
}

// normHeader is how header cells are compared: no spaces, no "*" marking a
// required column, half-width brackets, lower case.
func normHeader(s string) string {
	s = strings.NewReplacer("（", "(", "）", ")", "*", "", "＊", "", " ", "", "\u3000", "", "\n", "", "\r", "").Replace(s)
	return strings.ToLower(strings.TrimSpace(s))
}

// headerKeys maps every accepted header (Chinese, English, or the key
// itself) to its column key.
func headerKeys() map[string]string {
	m := map[string]string{}
	for _, k := range store.ImportColumns {
		m[normHeader(k)] = k
		m[normHeader(ColumnName(k, i18n.ZH))] = k
		m[normHeader(ColumnName(k, i18n.EN))] = k
	}
	return m
}
