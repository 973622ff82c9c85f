package exchange

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// Prevention events in and out of Excel (issue 11 §8): the import template,
// reading an import into store.EventImportRow, and WriteTable, which every
// help list (events, assistance, employment) exports through.

// EventColumnName is the header of an event import column in the language.
func EventColumnName(key, lang string) string {
	if key == "" {
		return ""
	}
	return i18n.T(lang, "exchange.event.col."+key)
}

// EventErrors returns the faults of an event import in the language.
func EventErrors(rep *store.EventImportReport, lang string) []ErrorRow {
	out := make([]ErrorRow, 0, len(rep.Errors))
	for _, e := range rep.Errors {
		out = append(out, ErrorRow{Row: e.Row, Column: EventColumnName(e.Column, lang), ColumnKey: e.Column, Message: e.Message(lang)})
	}
	return out
}

func eventHeaderKeys() map[string]string {
	m := map[string]string{}
	for _, k := range store.EventImportColumns {
		m[normHeader(k)] = k
		for _, lang := range []string{i18n.ZH, i18n.EN} {
			m[normHeader(EventColumnName(k, lang))] = k
		}
	}
	return m
}

// ReadEventImport reads an event import workbook: the template's sheet
// (宣传活动 or Events), else the first; row 1 the header; every later
// non-blank row an event. File faults are EINVALID errors; cell faults go
// on the row for the report.
func ReadEventImport(r io.Reader) ([]store.EventImportRow, error) {
	f, date1904, err := openUpload(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := f.GetSheetList()
	if len(names) == 0 {
		return nil, casework.Errorf(casework.EINVALID, "工作簿中没有工作表", "the workbook has no sheet")
	}
	sheet := names[0]
	for _, n := range names {
		if n == i18n.T(i18n.ZH, "exchange.sheet.events") || n == i18n.T(i18n.EN, "exchange.sheet.events") {
			sheet = n
		}
	}
	all, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, casework.Errorf(casework.EINVALID, "无法读取工作表“%s”", "cannot read the sheet %q", sheet)
	}
	if len(all) == 0 || blank(all[0]) {
		return nil, casework.Errorf(casework.EINVALID, "第1行应为表头（活动日期、主办单位……），请使用导入模板",
			"row 1 must be the header (活动日期, 主办单位, …): use the import template")
	}
	cols, err := eventHeader(all[0])
	if err != nil {
		return nil, err
	}
	var out []store.EventImportRow
	for i, cells := range all[1:] {
		if blank(cells) {
			continue
		}
		if len(out) == MaxRows {
			return nil, casework.Errorf(casework.EINVALID, "一次最多导入%d行，此文件更多，请分成多个文件", "at most %d rows can be imported at once; this file has more: split it", MaxRows)
		}
		out = append(out, eventRowOf(i+2, cols, cells, date1904))
	}
	if len(out) == 0 {
		return nil, casework.Errorf(casework.EINVALID, "表格中没有数据行（第1行为表头，数据从第2行开始）",
			"the workbook has no data rows (row 1 is the header; data starts on row 2)")
	}
	return out, nil
}

func eventHeader(cells []string) ([]string, error) {
	known := eventHeaderKeys()
	cols := make([]string, len(cells))
	at := map[string]bool{}
	for i, c := range cells {
		if k, ok := known[normHeader(c)]; ok {
			if at[k] {
				return nil, casework.Errorf(casework.EINVALID, "表头中“%s”出现两次", "the header has %q twice", EventColumnName(k, i18n.ZH))
			}
			at[k], cols[i] = true, k
		}
	}
	var zh, en []string
	for _, k := range store.EventImportColumns {
		if store.EventImportRequired[k] && !at[k] {
			zh, en = append(zh, EventColumnName(k, i18n.ZH)), append(en, EventColumnName(k, i18n.EN))
		}
	}
	if len(zh) > 0 {
		return nil, casework.Msg(casework.EINVALID, "表头缺少必填列："+strings.Join(zh, "、")+"；请使用导入模板",
			"the header lacks required columns: "+strings.Join(en, ", ")+"; use the import template")
	}
	return cols, nil
}

func eventRowOf(n int, cols, cells []string, date1904 bool) store.EventImportRow {
	r := store.EventImportRow{Row: n}
	field := map[string]*string{"held_on": &r.HeldOn, "org": &r.Org, "kind": &r.Kind, "topic": &r.Topic, "place": &r.Place,
		"audience": &r.Audience, "materials": &r.Materials, "note": &r.Note}
	for i, c := range cells {
		if i >= len(cols) || cols[i] == "" {
			continue
		}
		k, v := cols[i], cellText(c)
		if k == "held_on" && v != "" {
			d, ok := cellDate(v, date1904)
			if !ok {
				r.Problems = append(r.Problems, store.ImportError{Row: n, Column: k,
					ZH: fmt.Sprintf("“%s”不是日期；请填写Excel日期或 YYYY-MM-DD（如 2021-03-01）", v),
					EN: fmt.Sprintf("%q is not a date: give an Excel date or YYYY-MM-DD (e.g. 2021-03-01)", v)})
			}
			v = d
		}
		*field[k] = v
	}
	return r
}

// WriteEventTemplate writes the event import template: the header (required
// columns marked *), one example row and the kinds allowed.
func WriteEventTemplate(w io.Writer, lang string) error {
	head := make([]string, len(store.EventImportColumns))
	for i, k := range store.EventImportColumns {
		head[i] = EventColumnName(k, lang)
		if store.EventImportRequired[k] {
			head[i] += "*"
		}
	}
	var kinds []string
	for _, k := range casework.EventKinds {
		kinds = append(kinds, k.Label(lang))
	}
	example := []string{"2021-06-26", "460203001001", casework.EventStreet.Label(lang), i18n.T(lang, "exchange.event.example.topic"),
		i18n.T(lang, "exchange.event.example.place"), "300", "500", ""}
	note := []string{i18n.T(lang, "exchange.event.note") + strings.Join(kinds, listSep(lang))}
	return WriteTable(w, i18n.T(lang, "exchange.sheet.events"), head, [][]string{example, {}, note})
}

func listSep(lang string) string {
	if lang == i18n.EN {
		return ", "
	}
	return "、"
}

// WriteTable writes one sheet with a bold header row and text cells.
func WriteTable(w io.Writer, sheet string, head []string, rows [][]string) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, max(len(head), 1), 16); err != nil {
		return err
	}
	cells := make([]any, len(head))
	for i, h := range head {
		cells[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := setRow(sw, "A1", cells); err != nil {
		return err
	}
	for i, row := range rows {
		vals := make([]any, len(row))
		for j, v := range row {
			vals[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := setRow(sw, cell, vals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

// EventTable is the event list as on screen, for export.
func EventTable(events []store.Event, lang string) (head []string, rows [][]string) {
	for _, k := range []string{"held_on", "org", "kind", "topic", "place", "audience", "materials", "note"} {
		head = append(head, EventColumnName(k, lang))
	}
	for _, e := range events {
		rows = append(rows, []string{e.HeldOn.String(), e.OrgName, e.Kind.Label(lang), e.Topic, e.Place,
			fmt.Sprint(e.Audience), fmt.Sprint(e.Materials), e.Note})
	}
	return head, rows
}

// Yuan shows an amount in fen as yuan with two decimals.
func Yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

// AssistanceTable is the assistance list as on screen: amounts and notes
// only where the reader sees them (not the police).
func AssistanceTable(list []store.Assistance, lang string) (head []string, rows [][]string) {
	for _, k := range []string{"person", "kind", "status", "applied_on", "decided_on", "ended_on", "provider", "amount", "police_reported_on", "outcome"} {
		head = append(head, i18n.T(lang, "help.col."+k))
	}
	for _, a := range list {
		amount, outcome := "—", "—"
		if !a.Hidden {
			amount, outcome = "", a.Outcome
			if a.AmountFen > 0 {
				amount = Yuan(a.AmountFen)
			}
		}
		rows = append(rows, []string{a.PersonName, a.Kind.Label(lang), a.Status.Label(lang), a.AppliedOn.String(), a.DecidedOn.String(),
			a.EndedOn.String(), a.Provider, amount, a.PoliceReportedOn.String(), outcome})
	}
	return head, rows
}

// EmploymentTable is the employment overview on a day as on screen.
func EmploymentTable(s *store.EmploymentSummary, lang string) (head []string, rows [][]string) {
	for _, k := range []string{"person", "org", "work_status", "employer", "job", "since", "found_by"} {
		head = append(head, i18n.T(lang, "help.col."+k))
	}
	for _, r := range s.Rows {
		found := ""
		if r.FoundBy != "" {
			found = casework.JobSourceLabel(r.FoundBy, lang)
		}
		rows = append(rows, []string{r.PersonName, r.OrgName, r.Status.Label(lang), r.Employer, r.Job, r.Since.String(), found})
	}
	return head, rows
}
