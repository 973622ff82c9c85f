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

// Resident surveys in and out of Excel (issue 12 §4): a survey's answers
// as rows (no browser token, no fingerprint: nothing about the respondent
// beyond age band and role), and the import of a third party's totals.

// SurveyColumnName is the header of a survey import column in the language.
func SurveyColumnName(key, lang string) string {
	if key == "" {
		return ""
	}
	return i18n.T(lang, "exchange.survey.col."+key)
}

// SurveyErrors returns the faults of a survey import in the language.
func SurveyErrors(rep *store.SurveyImportReport, lang string) []ErrorRow {
	out := make([]ErrorRow, 0, len(rep.Errors))
	for _, e := range rep.Errors {
		out = append(out, ErrorRow{Row: e.Row, Column: SurveyColumnName(e.Column, lang), ColumnKey: e.Column, Message: e.Message(lang)})
	}
	return out
}

// ReadSurveyImport reads a survey results workbook: the template's sheet
// (调查结果 or Survey results), else the first; row 1 the header.
func ReadSurveyImport(r io.Reader) ([]store.SurveyImportRow, error) {
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
		if n == i18n.T(i18n.ZH, "exchange.sheet.survey") || n == i18n.T(i18n.EN, "exchange.sheet.survey") {
			sheet = n
		}
	}
	all, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, casework.Errorf(casework.EINVALID, "无法读取工作表“%s”", "cannot read the sheet %q", sheet)
	}
	if len(all) == 0 || blank(all[0]) {
		return nil, casework.Errorf(casework.EINVALID, "第1行应为表头（社区、开始日期……），请使用导入模板",
			"row 1 must be the header (社区, 开始日期, …): use the import template")
	}
	cols, err := surveyHeader(all[0])
	if err != nil {
		return nil, err
	}
	var out []store.SurveyImportRow
	for i, cells := range all[1:] {
		if blank(cells) {
			continue
		}
		if len(out) == MaxRows {
			return nil, casework.Errorf(casework.EINVALID, "一次最多导入%d行，此文件更多，请分成多个文件", "at most %d rows can be imported at once; this file has more: split it", MaxRows)
		}
		out = append(out, surveyRowOf(i+2, cols, cells, date1904))
	}
	if len(out) == 0 {
		return nil, casework.Errorf(casework.EINVALID, "表格中没有数据行（第1行为表头，数据从第2行开始）",
			"the workbook has no data rows (row 1 is the header; data starts on row 2)")
	}
	return out, nil
}

func surveyHeader(cells []string) ([]string, error) {
	known := map[string]string{}
	for _, k := range store.SurveyImportColumns {
		known[normHeader(k)] = k
		for _, lang := range []string{i18n.ZH, i18n.EN} {
			known[normHeader(SurveyColumnName(k, lang))] = k
		}
	}
	cols := make([]string, len(cells))
	at := map[string]bool{}
	for i, c := range cells {
		if k, ok := known[normHeader(c)]; ok {
			if at[k] {
				return nil, casework.Errorf(casework.EINVALID, "表头中“%s”出现两次", "the header has %q twice", SurveyColumnName(k, i18n.ZH))
			}
			at[k], cols[i] = true, k
		}
	}
	var zh, en []string
	for _, k := range store.SurveyImportColumns {
		if store.SurveyImportRequired[k] && !at[k] {
			zh, en = append(zh, SurveyColumnName(k, i18n.ZH)), append(en, SurveyColumnName(k, i18n.EN))
		}
	}
	if len(zh) > 0 {
		return nil, casework.Msg(casework.EINVALID, "表头缺少必填列："+strings.Join(zh, "、")+"；请使用导入模板",
			"the header lacks required columns: "+strings.Join(en, ", ")+"; use the import template")
	}
	return cols, nil
}

func surveyRowOf(n int, cols, cells []string, date1904 bool) store.SurveyImportRow {
	r := store.SurveyImportRow{Row: n}
	field := map[string]*string{"org": &r.Org, "from": &r.From, "to": &r.To, "source": &r.Source, "respondents": &r.Respondents,
		"satisfied": &r.Satisfied, "valid": &r.Valid, "knowledge_items": &r.KnowledgeItems, "correct": &r.Correct}
	for i, c := range cells {
		if i >= len(cols) || cols[i] == "" {
			continue
		}
		k, v := cols[i], cellText(c)
		if (k == "from" || k == "to") && v != "" {
			d, ok := cellDate(v, date1904)
			if !ok {
				r.Problems = append(r.Problems, store.ImportError{Row: n, Column: k,
					ZH: fmt.Sprintf("“%s”不是日期；请填写Excel日期或 YYYY-MM-DD（如 2026-03-01）", v),
					EN: fmt.Sprintf("%q is not a date: give an Excel date or YYYY-MM-DD (e.g. 2026-03-01)", v)})
			}
			v = d
		}
		*field[k] = v
	}
	return r
}

// WriteSurveyTemplate writes the import template: the header, one example
// row and how each number is counted.
func WriteSurveyTemplate(w io.Writer, lang string) error {
	head := make([]string, len(store.SurveyImportColumns))
	for i, k := range store.SurveyImportColumns {
		head[i] = SurveyColumnName(k, lang) + "*"
	}
	example := []string{"460203001001", "2026-03-01", "2026-03-31", i18n.T(lang, "exchange.survey.example.source"), "100", "450", "480", "3", "290"}
	return WriteTable(w, i18n.T(lang, "exchange.sheet.survey"), head, [][]string{example, {}, {i18n.T(lang, "exchange.survey.note")}})
}

// SurveyResponseTable is a survey's answers for export: the day, age band,
// role, each satisfaction answer, knowledge right of asked, exposure.
func SurveyResponseTable(list []store.SurveyResponse, lang string) (head []string, rows [][]string) {
	head = []string{i18n.T(lang, "survey.col.day"), i18n.T(lang, "survey.age_band"), i18n.T(lang, "survey.role")}
	for _, it := range casework.SatItems {
		head = append(head, i18n.T(lang, "survey.item."+it.Code))
	}
	head = append(head, i18n.T(lang, "survey.col.knowledge"), i18n.T(lang, "survey.heard"), i18n.T(lang, "survey.channel"))
	for _, r := range list {
		row := []string{r.SubmittedOn.String(), casework.AgeBandLabel(r.AgeBand, lang), casework.RespondentRoleLabel(r.Role, lang)}
		for _, a := range r.Sat {
			row = append(row, a.Label(lang))
		}
		heard := i18n.T(lang, "survey.no")
		if r.Heard {
			heard = i18n.T(lang, "survey.yes")
		}
		ch := ""
		if r.Channel != "" {
			ch = casework.ChannelLabel(r.Channel, lang)
		}
		rows = append(rows, append(row, fmt.Sprintf("%d/%d", r.Correct, r.Items), heard, ch))
	}
	return head, rows
}
