package exchange

// visits.go: the visit import template, reading a visit import and
// exporting the visit list (issue 11 §8). The list is the one on screen:
// no notes and no location; the person's name only (no ID number).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// VisitColumnName returns the header of a visit import column in the language.
func VisitColumnName(key, lang string) string {
	if key == "" {
		return ""
	}
	return i18n.T(lang, "visit.col."+key)
}

// VisitErrors returns the faults of a visit import report in the language.
func VisitErrors(rep *store.ImportReport, lang string) []ErrorRow {
	out := make([]ErrorRow, 0, len(rep.Errors))
	for _, e := range rep.Errors {
		out = append(out, ErrorRow{Row: e.Row, Column: VisitColumnName(e.Column, lang), ColumnKey: e.Column, Message: e.Message(lang)})
	}
	return out
}

var visitDateColumns = map[string]bool{"date": true, "follow_up_due": true}

// VisitTemplate returns the visit import workbook: the header (required
// columns marked *), text-formatted ID and time columns, and one example row.
func VisitTemplate(lang string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := i18n.T(lang, "visit.sheet.import")
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, NumFmt: 49})
	if err != nil {
		return nil, err
	}
	for i, k := range store.VisitImportColumns {
		col, _ := excelize.ColumnNumberToName(i + 1)
		h := VisitColumnName(k, lang)
		if store.VisitImportRequired[k] {
			h += "*"
		}
		if err := setCell(f, sheet, col+"1", h); err != nil {
			return nil, err
		}
		if err := f.SetColStyle(sheet, col, text); err != nil {
			return nil, err
		}
		if err := f.SetColWidth(sheet, col, col, 16); err != nil {
			return nil, err
		}
	}
	if err := f.SetCellStyle(sheet, "A1", fmt.Sprintf("%c1", 'A'+len(store.VisitImportColumns)-1), bold); err != nil {
		return nil, err
	}
	example := []string{"460203199001011234", "张三", "入户走访", "已完成", "2026-03-02", "09:30", "家属:母亲、工作人员:李专干",
		"本人住所", "稳定", "", "本人在家，情绪稳定，已找到工作。", "联系社区就业岗位", "2026-03-20"}
	if lang == i18n.EN {
		example = []string{"460203199001011234", "Zhang San", "home", "done", "2026-03-02", "09:30", "family:mother, staff:Li",
			"at home", "stable", "", "At home, calm, has found work.", "contact the job desk", "2026-03-20"}
	}
	for i, v := range example {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := setCell(f, sheet, col+"2", v); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ReadVisitImport reads a visit import workbook (first sheet; row 1 the
// header in Chinese, English or keys). A bad file is an EINVALID error
// that says what is wrong; a bad cell is a problem on its row.
func ReadVisitImport(r io.Reader) ([]store.VisitImportRow, error) {
	f, date1904, err := openUpload(r)
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
	keys := map[string]string{}
	for _, k := range store.VisitImportColumns {
		keys[normHeader(k)], keys[normHeader(VisitColumnName(k, i18n.ZH))], keys[normHeader(VisitColumnName(k, i18n.EN))] = k, k, k
	}
	cols := make([]string, len(rows[0]))
	have := map[string]bool{}
	for i, h := range rows[0] {
		cols[i] = keys[normHeader(h)]
		have[cols[i]] = true
	}
	for _, k := range store.VisitImportColumns {
		if store.VisitImportRequired[k] && !have[k] {
			return nil, casework.Errorf(casework.EINVALID, "缺少必填列“%s”；请使用导入模板", "the required column %q is missing: use the import template", VisitColumnName(k, i18n.ZH))
		}
	}
	var out []store.VisitImportRow
	for n, cells := range rows[1:] {
		if blank(cells) {
			continue
		}
		if len(out) == MaxRows {
			return nil, casework.Errorf(casework.EINVALID, "一次最多导入%d行，此文件更多，请分成多个文件", "at most %d rows can be imported at once; this file has more: split it", MaxRows)
		}
		out = append(out, visitRowOf(n+2, cols, cells, date1904))
	}
	if len(out) == 0 {
		return nil, casework.Errorf(casework.EINVALID, "表格中没有数据行（第1行为表头，数据从第2行开始）",
			"the workbook has no data rows (row 1 is the header; data starts on row 2)")
	}
	return out, nil
}

func visitRowOf(n int, cols, cells []string, date1904 bool) store.VisitImportRow {
	r := store.VisitImportRow{Row: n}
	field := map[string]*string{"id_number": &r.IDNumber, "name": &r.Name, "kind": &r.Kind, "state": &r.State, "date": &r.Date, "time": &r.Time,
		"participants": &r.Participants, "address": &r.Address, "condition": &r.Condition, "condition_note": &r.ConditionNote, "notes": &r.Notes,
		"follow_up": &r.FollowUp, "follow_up_due": &r.FollowUpDue}
	for i, c := range cells {
		if i >= len(cols) || cols[i] == "" {
			continue
		}
		k, v := cols[i], cellText(c)
		switch {
		case v == "":
		case visitDateColumns[k]:
			d, ok := cellDate(v, date1904)
			if !ok {
				r.Problems = append(r.Problems, store.ImportError{Row: n, Column: k,
					ZH: fmt.Sprintf("“%s”不是日期；请填写Excel日期或 YYYY-MM-DD（如 2026-03-01）", v),
					EN: fmt.Sprintf("%q is not a date: give an Excel date or YYYY-MM-DD (e.g. 2026-03-01)", v)})
				d = ""
			}
			v = d
		case k == "time":
			v = cellTime(v)
		case k == "id_number" && sciNumber.MatchString(v):
			r.Problems = append(r.Problems, store.ImportError{Row: n, Column: k,
				ZH: "身份证号被保存成了数字（科学计数法），末几位已丢失；请把该列设为文本格式后重新填写",
				EN: "the ID number was stored as a number (scientific notation) and lost its last digits: format the column as text and enter it again"})
			v = ""
		}
		*field[k] = v
	}
	return r
}

// cellTime reads a time: text HH:MM, or an Excel time (a fraction of a day).
func cellTime(v string) string {
	var f float64
	if _, err := fmt.Sscanf(v, "%g", &f); err == nil && !strings.Contains(v, ":") && f >= 0 && f < 1 {
		m := int(f*24*60 + 0.5)
		return fmt.Sprintf("%02d:%02d", m/60, m%60)
	}
	return v
}

// ExportVisits writes the visit list of the filter (as on screen: no
// notes, no location, no ID number) and audits it as "visit.export".
func ExportVisits(ctx context.Context, db *store.DB, actor *casework.Actor, filter store.VisitFilter, lang string, w io.Writer) (int, error) {
	vs, err := db.ListOrgVisits(ctx, actor, filter, "visit.export")
	if err != nil {
		return 0, err
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := i18n.T(lang, "visit.sheet.export")
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return 0, err
	}
	head := []string{"visit.out.at", "visit.out.person", "visit.out.org", "visit.out.kind", "visit.out.state", "visit.out.face",
		"visit.out.condition", "visit.out.people", "visit.out.by"}
	for i, h := range head {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := setCell(f, sheet, col+"1", i18n.T(lang, h)); err != nil {
			return 0, err
		}
	}
	loc := casework.LoadLocation("")
	for n, v := range vs {
		var people []string
		for _, p := range v.Participants {
			people = append(people, i18n.T(lang, "visit.role_"+p.Role)+" "+p.Name)
		}
		face := i18n.T(lang, "visit.face_no")
		if v.FaceToFace {
			face = i18n.T(lang, "visit.face_yes")
		}
		cond := ""
		if v.Condition != "" {
			cond = i18n.T(lang, "visit.cond_"+v.Condition)
		}
		row := []any{v.At.In(loc).Format("2006-01-02 15:04"), v.PersonName, v.OrgName, i18n.T(lang, "visit.kind_"+string(v.Kind)),
			i18n.T(lang, "visit.state_"+string(v.State)), face, cond, strings.Join(people, "、"), v.CreatedByName}
		if err := setSheetRow(f, sheet, fmt.Sprintf("A%d", n+2), row); err != nil {
			return 0, err
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return len(vs), fmt.Errorf("write export: %w", err)
	}
	return len(vs), nil
}
