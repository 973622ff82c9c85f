package exchange

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
)

// A risk instrument in and out of Excel (issue 13 §1; R31): an office
// downloads the instrument in force, edits weights, points, bands, labels
// or whole factors (for example from its province's 量化评估表) and
// uploads it again. The workbook has two sheets: the factors, one row per
// answer (the factor's code, names and weight on its first answer's row,
// blank on the rows after it), and the bands (one row per item: the
// instrument's names, whether it is uncalibrated, where the medium and
// high tiers start, the tier labels). Every problem is reported by sheet,
// row and column.

// FactorColumns are the factor sheet's columns, in order.
var FactorColumns = []string{"code", "factor_zh", "factor_en", "weight", "value", "answer_zh", "answer_en", "points"}

// BandItems are the band sheet's items, in order.
var BandItems = []string{"name", "name_en", "uncalibrated", "medium_from", "high_from",
	"label_high_zh", "label_high_en", "label_medium_zh", "label_medium_en", "label_low_zh", "label_low_en"}

// InstrumentFault is one problem of an uploaded instrument: the sheet,
// the row (1-based as Excel shows it; 0 for the whole sheet), the column's
// name in the language ("" for the whole row) and why.
type InstrumentFault struct {
	Sheet   string `json:"sheet"`
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Message string `json:"message"`
}

func factorCol(key, lang string) string { return i18n.T(lang, "exchange.risk.col."+key) }
func bandItem(key, lang string) string  { return i18n.T(lang, "exchange.risk.item."+key) }

func sheetFactors(lang string) string { return i18n.T(lang, "exchange.sheet.risk_factors") }
func sheetBands(lang string) string   { return i18n.T(lang, "exchange.sheet.risk_bands") }

// WriteInstrument writes the instrument as the upload template.
func WriteInstrument(w io.Writer, in *casework.Instrument, lang string) error {
	f := excelize.NewFile()
	defer f.Close()
	fs, bs := sheetFactors(lang), sheetBands(lang)
	if err := f.SetSheetName("Sheet1", fs); err != nil {
		return err
	}
	if _, err := f.NewSheet(bs); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	head := make([]any, len(FactorColumns))
	for i, k := range FactorColumns {
		head[i] = factorCol(k, lang)
	}
	if err := setSheetRow(f, fs, "A1", head); err != nil {
		return err
	}
	if err := f.SetCellStyle(fs, "A1", "H1", bold); err != nil {
		return err
	}
	row := 2
	for _, fc := range in.Factors {
		for j, o := range fc.Options {
			vals := []any{"", "", "", "", o.Value, o.ZH, o.EN, o.Points}
			if j == 0 {
				vals[0], vals[1], vals[2], vals[3] = fc.Code, fc.ZH, fc.EN, fc.Weight
			}
			cell, _ := excelize.CoordinatesToCellName(1, row)
			if err := setSheetRow(f, fs, cell, vals); err != nil {
				return err
			}
			row++
		}
	}
	note, _ := excelize.CoordinatesToCellName(1, row+1)
	if err := setCell(f, fs, note, i18n.T(lang, "exchange.risk.note")); err != nil {
		return err
	}
	if err := f.SetColWidth(fs, "A", "H", 18); err != nil {
		return err
	}
	if err := setSheetRow(f, bs, "A1", []any{i18n.T(lang, "exchange.risk.col.item"), i18n.T(lang, "exchange.risk.col.setting")}); err != nil {
		return err
	}
	if err := f.SetCellStyle(bs, "A1", "B1", bold); err != nil {
		return err
	}
	l := in.Labels
	yes := i18n.T(lang, "exchange.risk.no")
	if in.Uncalibrated {
		yes = i18n.T(lang, "exchange.risk.yes")
	}
	vals := map[string]any{"name": in.Name, "name_en": in.NameEN, "uncalibrated": yes, "medium_from": in.MediumFrom, "high_from": in.HighFrom,
		"label_high_zh": l.HighZH, "label_high_en": l.HighEN, "label_medium_zh": l.MediumZH, "label_medium_en": l.MediumEN,
		"label_low_zh": l.LowZH, "label_low_en": l.LowEN}
	for i, k := range BandItems {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := setSheetRow(f, bs, cell, []any{bandItem(k, lang), vals[k]}); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(bs, "A", "B", 28); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

// where is a place in the workbook a field of the instrument came from.
type where struct {
	sheet int // 0 factors, 1 bands
	row   int
	col   string
}

// ReadInstrument reads an uploaded instrument workbook. A file that is
// not a readable workbook, or lacks the sheets or their headers, is an
// EINVALID error; every problem of a cell or of the instrument itself
// (casework.Instrument.Problems) is a fault naming its sheet, row and
// column, in the language. The instrument is usable only when there is no
// fault.
func ReadInstrument(r io.Reader, lang string) (*casework.Instrument, []InstrumentFault, error) {
	f, _, err := openUpload(r)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fs, bs := findSheet(f, "exchange.sheet.risk_factors", 0), findSheet(f, "exchange.sheet.risk_bands", 1)
	if fs == "" || bs == "" {
		return nil, nil, casework.Msg(casework.EINVALID, fmt.Sprintf("工作簿须有“%s”和“%s”两个工作表，请使用下载的评估表模板", sheetFactors(i18n.ZH), sheetBands(i18n.ZH)),
			fmt.Sprintf("the workbook needs the sheets %q and %q: use the downloaded instrument template", sheetFactors(i18n.EN), sheetBands(i18n.EN)))
	}
	sheetName := []string{fs, bs}
	in := &casework.Instrument{}
	var faults []InstrumentFault
	fault := func(sheet, row int, col, zh, en string, args ...any) {
		msg := casework.Errorf(casework.EINVALID, zh, en, args...).Message(lang)
		name := ""
		if col != "" {
			name = factorCol(col, lang)
			if sheet == 1 {
				name = i18n.T(lang, "exchange.risk.col.setting")
			}
		}
		faults = append(faults, InstrumentFault{Sheet: sheetName[sheet], Row: row, Column: name, Message: msg})
	}
	places := map[string]where{}
	bad := map[string]bool{} // fields with a cell fault: not checked again

	rows, err := f.GetRows(fs, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, nil, casework.Errorf(casework.EINVALID, "无法读取工作表“%s”", "cannot read the sheet %q", fs)
	}
	if len(rows) == 0 || blank(rows[0]) {
		return nil, nil, casework.Errorf(casework.EINVALID, "工作表“%s”第1行应为表头，请使用评估表模板", "row 1 of the sheet %q must be the header: use the instrument template", fs)
	}
	cols, err := riskHeader(rows[0], fs)
	if err != nil {
		return nil, nil, err
	}
	get := func(cells []string, key string) string {
		for i, c := range cols {
			if c == key && i < len(cells) {
				return unquote(strings.TrimSpace(cells[i]))
			}
		}
		return ""
	}
	integer := func(row int, key, v, field string) int {
		n, err := strconv.Atoi(v)
		if err != nil {
			if fv, ferr := strconv.ParseFloat(v, 64); ferr == nil && fv == float64(int(fv)) {
				return int(fv)
			}
			fault(0, row, key, "应为整数，当前为“%s”", "must be a whole number, not %q", v)
			bad[field] = true
		}
		return n
	}
	note := regexp.MustCompile(`^(说明|Note)`)
	for i, cells := range rows[1:] {
		n := i + 2
		if blank(cells) || note.MatchString(strings.TrimSpace(cells[0])) {
			continue
		}
		code := get(cells, "code")
		if code != "" || len(in.Factors) == 0 {
			k := len(in.Factors)
			field := fmt.Sprintf("factors[%d]", k)
			fc := casework.RiskFactor{Code: code, ZH: get(cells, "factor_zh"), EN: get(cells, "factor_en")}
			for _, c := range []string{"code", "zh", "en", "weight", "options"} {
				col := map[string]string{"code": "code", "zh": "factor_zh", "en": "factor_en", "weight": "weight", "options": "value"}[c]
				places[field+"."+c] = where{0, n, col}
			}
			places[field] = where{0, n, ""}
			if w := get(cells, "weight"); w == "" {
				fault(0, n, "weight", "请填写权重（0到100的整数）", "give a weight (a whole number 0 to 100)")
				bad[field+".weight"] = true
			} else {
				fc.Weight = integer(n, "weight", w, field+".weight")
			}
			in.Factors = append(in.Factors, fc)
		}
		k := len(in.Factors) - 1
		fc := &in.Factors[k]
		j := len(fc.Options)
		of := fmt.Sprintf("factors[%d].options[%d]", k, j)
		o := casework.RiskOption{Value: get(cells, "value"), ZH: get(cells, "answer_zh"), EN: get(cells, "answer_en")}
		for c, col := range map[string]string{"value": "value", "zh": "answer_zh", "en": "answer_en", "points": "points"} {
			places[of+"."+c] = where{0, n, col}
		}
		if p := get(cells, "points"); p == "" {
			fault(0, n, "points", "请填写分值（0到100的整数）", "give the points (a whole number 0 to 100)")
			bad[of+".points"] = true
		} else {
			o.Points = integer(n, "points", p, of+".points")
		}
		fc.Options = append(fc.Options, o)
	}

	brows, err := f.GetRows(bs, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, nil, casework.Errorf(casework.EINVALID, "无法读取工作表“%s”", "cannot read the sheet %q", bs)
	}
	items := bandKeys()
	vals := map[string]string{}
	for i, cells := range brows {
		if i == 0 || blank(cells) {
			continue
		}
		key := items[normHeader(cells[0])]
		if key == "" {
			fault(1, i+1, "", "未知的项目“%s”", "unknown item %q", cells[0])
			continue
		}
		v := ""
		if len(cells) > 1 {
			v = unquote(strings.TrimSpace(cells[1]))
		}
		vals[key] = v
		places[bandField(key)] = where{1, i + 1, "value"}
	}
	for _, k := range BandItems {
		if _, ok := vals[k]; !ok && k != "name_en" {
			faults = append(faults, InstrumentFault{Sheet: bs, Message: casework.Msg(casework.EINVALID,
				fmt.Sprintf("缺少项目“%s”", bandItem(k, i18n.ZH)), fmt.Sprintf("the item %q is missing", bandItem(k, i18n.EN))).Message(lang)})
			bad[bandField(k)] = true
		}
	}
	in.Name, in.NameEN = vals["name"], vals["name_en"]
	switch strings.ToLower(vals["uncalibrated"]) {
	case "是", "yes", "y", "true", "1":
		in.Uncalibrated = true
	case "否", "no", "n", "false", "0", "":
	default:
		fault(1, places["uncalibrated"].row, "value", "“未校准”应填“是”或“否”，当前为“%s”", "“uncalibrated” must be yes or no, not “%s”", vals["uncalibrated"])
	}
	for _, k := range []string{"medium_from", "high_from"} {
		v, ok := vals[k]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			faults = append(faults, InstrumentFault{Sheet: bs, Row: places[k].row, Column: i18n.T(lang, "exchange.risk.col.setting"), Message: casework.Msg(casework.EINVALID,
				fmt.Sprintf("“%s”应为整数，当前为“%s”", bandItem(k, i18n.ZH), v), fmt.Sprintf("%q must be a whole number, not %q", bandItem(k, i18n.EN), v)).Message(lang)})
			bad[k] = true
		}
		if k == "medium_from" {
			in.MediumFrom = n
		} else {
			in.HighFrom = n
		}
	}
	in.Labels = casework.TierLabels{HighZH: vals["label_high_zh"], HighEN: vals["label_high_en"], MediumZH: vals["label_medium_zh"],
		MediumEN: vals["label_medium_en"], LowZH: vals["label_low_zh"], LowEN: vals["label_low_en"]}

	for _, p := range in.Problems() {
		if bad[p.Field] {
			continue
		}
		w, ok := places[p.Field]
		if !ok {
			w = where{0, 0, ""}
			if !strings.HasPrefix(p.Field, "factors") {
				w.sheet = 1
			}
		}
		faults = append(faults, InstrumentFault{Sheet: sheetName[w.sheet], Row: w.row, Column: colLabel(w, lang), Message: p.Message(lang)})
	}
	return in, faults, nil
}

func colLabel(w where, lang string) string {
	switch {
	case w.col == "":
		return ""
	case w.sheet == 1:
		return i18n.T(lang, "exchange.risk.col.setting")
	}
	return factorCol(w.col, lang)
}

// bandField is the instrument field of a band item: label_high_zh →
// labels.high_zh.
func bandField(item string) string {
	if strings.HasPrefix(item, "label_") {
		return "labels." + strings.TrimPrefix(item, "label_")
	}
	return item
}

// unquote drops the apostrophe SafeText puts before a formula-like text.
func unquote(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune(formulaStart, rune(s[1])) {
		return s[1:]
	}
	return s
}

func findSheet(f *excelize.File, key string, index int) string {
	names := f.GetSheetList()
	for _, n := range names {
		if n == i18n.T(i18n.ZH, key) || n == i18n.T(i18n.EN, key) {
			return n
		}
	}
	if index < len(names) {
		return names[index]
	}
	return ""
}

func bandKeys() map[string]string {
	m := map[string]string{}
	for _, k := range BandItems {
		m[normHeader(k)] = k
		for _, lang := range []string{i18n.ZH, i18n.EN} {
			m[normHeader(bandItem(k, lang))] = k
		}
	}
	return m
}

// riskHeader maps the factor sheet's header to column keys (either
// language, or the keys themselves); every column must be there once.
func riskHeader(cells []string, sheet string) ([]string, error) {
	known := map[string]string{}
	for _, k := range FactorColumns {
		known[normHeader(k)] = k
		for _, lang := range []string{i18n.ZH, i18n.EN} {
			known[normHeader(factorCol(k, lang))] = k
		}
	}
	cols := make([]string, len(cells))
	seen := map[string]bool{}
	for i, c := range cells {
		k := known[normHeader(c)]
		if k != "" && seen[k] {
			return nil, casework.Msg(casework.EINVALID, fmt.Sprintf("工作表“%s”的第%s列重复了“%s”", sheet, colName(i), factorCol(k, i18n.ZH)),
				fmt.Sprintf("the sheet %q repeats the column %q in column %s", sheet, factorCol(k, i18n.EN), colName(i)))
		}
		seen[k], cols[i] = true, k
	}
	for _, k := range FactorColumns {
		if !seen[k] {
			return nil, casework.Msg(casework.EINVALID, fmt.Sprintf("工作表“%s”缺少“%s”列，请使用评估表模板", sheet, factorCol(k, i18n.ZH)),
				fmt.Sprintf("the sheet %q has no column %q: use the instrument template", sheet, factorCol(k, i18n.EN)))
		}
	}
	return cols, nil
}
