package exchange

// psych.go moves psychological sessions in and out of Excel (issue 11 §8):
// a template per kind (group or one-to-one), reading an import into
// store.SessionImportRow, and exports of the group and one-to-one lists —
// names only, never ID numbers or notes, and audited.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// SessionColumns are the import columns of a kind ("group", "individual").
func SessionColumns(kind string) []string {
	if kind == "group" {
		return store.GroupImportColumns
	}
	return store.IndividualImportColumns
}

// SessionColumnName is the header of a session import column.
func SessionColumnName(key, lang string) string {
	if key == "" {
		return ""
	}
	return i18n.T(lang, "psych.col."+key)
}

// SessionTemplate returns the import template of a kind: the header (both
// languages accepted when read) and one example row.
func SessionTemplate(kind, lang string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := i18n.T(lang, "psych.sheet."+kind)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return nil, err
	}
	cols := SessionColumns(kind)
	example := map[string]string{"held_on": "2021-06-18", "org": "安椰厂区", "topic": "情绪管理与压力应对", "facilitator": "赵老师", "place": "厂区职工活动室",
		"attendees": "460203198001011234、460203198502022345", "others_reached": "12", "id_number": "460203198001011234", "held_at": "2021-06-18 10:00",
		"minutes": "50", "mode": "面谈", "counsellor": "counsellor", "notes": "（示例）"}
	for i, c := range cols {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := setCell(f, sheet, cell, SessionColumnName(c, lang)); err != nil {
			return nil, err
		}
		cell2, _ := excelize.CoordinatesToCellName(i+1, 2)
		if err := setCell(f, sheet, cell2, example[c]); err != nil {
			return nil, err
		}
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColStyle(sheet, col, text); err != nil {
			return nil, err
		}
		if err := f.SetColWidth(sheet, col, col, 22); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ReadSessionImport reads an import workbook of a kind. A header names
// its columns in Chinese or English; a missing required column is an error.
func ReadSessionImport(r io.Reader, kind string) ([]store.SessionImportRow, error) {
	f, _, err := openUpload(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := f.GetSheetList()
	if len(names) == 0 {
		return nil, casework.Errorf(casework.EINVALID, "工作簿中没有工作表", "the workbook has no sheet")
	}
	rows, err := f.GetRows(names[0], excelize.Options{RawCellValue: true})
	if err != nil || len(rows) == 0 {
		return nil, casework.Errorf(casework.EINVALID, "工作表是空的；请使用导入模板", "the sheet is empty: use the import template")
	}
	known := map[string]string{}
	for _, k := range SessionColumns(kind) {
		for _, n := range []string{k, SessionColumnName(k, i18n.ZH), SessionColumnName(k, i18n.EN)} {
			known[normHeader(n)] = k
		}
	}
	cols := make([]string, len(rows[0]))
	seen := map[string]bool{}
	for i, h := range rows[0] {
		cols[i] = known[normHeader(h)]
		seen[cols[i]] = true
	}
	for _, k := range SessionColumns(kind) {
		if !seen[k] && k != "notes" && k != "attendees" && k != "others_reached" {
			return nil, casework.Msg(casework.EINVALID, "表头缺少“"+SessionColumnName(k, i18n.ZH)+"”列；请使用导入模板",
				"the header lacks the column "+SessionColumnName(k, i18n.EN)+": use the import template")
		}
	}
	var out []store.SessionImportRow
	for n, cells := range rows[1:] {
		if blank(cells) {
			continue
		}
		row := store.SessionImportRow{Row: n + 2, Cells: map[string]string{}}
		for i, c := range cells {
			if i >= len(cols) || cols[i] == "" {
				continue
			}
			v := cellText(c)
			switch cols[i] {
			case "held_on":
				if d, ok := cellDate(v, false); ok {
					v = d
				}
			case "held_at":
				if fl, err := strconv.ParseFloat(v, 64); err == nil {
					if t, err := excelize.ExcelDateToTime(fl, false); err == nil {
						v = t.Format("2006-01-02 15:04")
					}
				}
			}
			row.Cells[cols[i]] = v
		}
		out = append(out, row)
	}
	if len(out) == 0 {
		return nil, casework.Errorf(casework.EINVALID, "表格中没有数据行", "the workbook has no data rows")
	}
	return out, nil
}

// SessionErrors returns the faults of an import in the language.
func SessionErrors(rep *store.ImportReport, lang string) []ErrorRow {
	out := make([]ErrorRow, 0, len(rep.Errors))
	for _, e := range rep.Errors {
		out = append(out, ErrorRow{Row: e.Row, Column: SessionColumnName(e.Column, lang), ColumnKey: e.Column, Message: e.Message(lang)})
	}
	return out
}

// ExportSessions writes the group ("group") or one-to-one ("individual")
// session list the actor may read: person names only, no ID numbers and
// never notes. The export is audited.
func ExportSessions(ctx context.Context, db *store.DB, actor *casework.Actor, kind, lang string, w io.Writer) (int, error) {
	if !actor.CanAnywhere(casework.PermPsychRead) {
		return 0, casework.Errorf(casework.EFORBIDDEN, "您的角色不能导出心理服务记录", "your role may not export psychological services")
	}
	var head []string
	var rows [][]any
	if kind == "group" {
		gs, _, err := db.ListGroupSessions(ctx, actor, store.GroupFilter{Limit: store.MaxExportRows})
		if err != nil {
			return 0, err
		}
		head = []string{"held_on", "org", "topic", "facilitator", "place", "attendees", "others_reached"}
		for _, g := range gs {
			var names []string
			for _, a := range g.Attendees {
				names = append(names, a.Name)
			}
			rows = append(rows, []any{g.HeldOn.String(), g.OrgName, g.Topic, g.Facilitator, g.Place, strings.Join(names, "、"), g.OthersReached})
		}
	} else {
		ss, err := db.ListCounsellingSessions(ctx, actor, store.SessionFilter{Limit: store.MaxExportRows})
		if err != nil {
			return 0, err
		}
		head = []string{"person", "held_at", "minutes", "mode", "counsellor"}
		loc := casework.LoadLocation("")
		for _, s := range ss {
			rows = append(rows, []any{s.PersonName, s.HeldAt.In(loc).Format("2006-01-02 15:04"), s.Minutes, casework.SessionModeLabel(lang, s.Mode), s.CounsellorName})
		}
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := i18n.T(lang, "psych.sheet."+kind)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return 0, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return 0, err
	}
	hd := make([]any, len(head))
	for i, h := range head {
		hd[i] = SessionColumnName(h, lang)
	}
	if err := setRow(sw, "A1", hd); err != nil {
		return 0, err
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := setRow(sw, cell, r); err != nil {
			return 0, err
		}
	}
	if err := sw.Flush(); err != nil {
		return 0, err
	}
	if err := db.AuditPsychExport(ctx, actor, kind, len(rows)); err != nil {
		return 0, err
	}
	if _, err := f.WriteTo(w); err != nil {
		return len(rows), fmt.Errorf("write export: %w", err)
	}
	return len(rows), nil
}
