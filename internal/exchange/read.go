package exchange

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// ReadImport reads an import workbook: the sheet named like the template's
// (人员导入 or Persons), else the first sheet; row 1 is the header, each
// later non-blank row a person. Cells are read raw, so a real Excel date
// arrives as its serial number and becomes YYYY-MM-DD here, whatever
// format the cell shows. A cell that cannot be what its column needs (an
// ID number stored as a number, a date that is no date) is put on the row
// as a problem for the import report.
//
// The file itself must be an .xlsx workbook of at most MaxFileBytes with
// at most MaxRows data rows and every required column; anything else is an
// EINVALID error that says what is wrong.
func ReadImport(r io.Reader) ([]store.ImportRow, error) {
	f, date1904, err := openUpload(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sheet := importSheet(f)
	if sheet == "" {
		return nil, casework.Errorf(casework.EINVALID, "工作簿中没有工作表", "the workbook has no sheet")
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, casework.Errorf(casework.EINVALID, "无法读取工作表“%s”", "cannot read the sheet %q", sheet)
	}
	defer rows.Close()
	var cols []string // column index → key ("" for a column we do not read)
	var out []store.ImportRow
	for n := 1; rows.Next(); n++ {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, casework.Errorf(casework.EINVALID, "无法读取第%d行", "cannot read row %d", n)
		}
		if cols == nil {
			if blank(cells) {
				return nil, casework.Errorf(casework.EINVALID, "第1行应为表头（姓名、身份证号……），但它是空的；请使用导入模板",
					"row 1 must be the header (姓名, 身份证号, …) but it is empty: use the import template")
			}
			if cols, err = headerColumns(cells); err != nil {
				return nil, err
			}
			continue
		}
		if blank(cells) {
			continue
		}
		if len(out) == MaxRows {
			return nil, casework.Errorf(casework.EINVALID, "一次最多导入%d行，此文件更多，请分成多个文件", "at most %d rows can be imported at once; this file has more: split it", MaxRows)
		}
		out = append(out, rowOf(n, cols, cells, date1904))
	}
	if err := rows.Error(); err != nil {
		return nil, casework.Errorf(casework.EINVALID, "工作表已损坏，无法读完", "the sheet is damaged and cannot be read to the end")
	}
	if cols == nil {
		return nil, casework.Errorf(casework.EINVALID, "工作表是空的；请使用导入模板", "the sheet is empty: use the import template")
	}
	if len(out) == 0 {
		return nil, casework.Errorf(casework.EINVALID, "表格中没有数据行（第1行为表头，数据从第2行开始）",
			"the workbook has no data rows (row 1 is the header; data starts on row 2)")
	}
	return out, nil
}

// sniff refuses what is not an .xlsx (a zip) by its first bytes, naming
// what it looks like.
func sniff(b []byte) error {
	switch {
	case len(b) == 0:
		return casework.Errorf(casework.EINVALID, "上传的文件是空的", "the uploaded file is empty")
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return nil
	case bytes.HasPrefix(b, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return casework.Errorf(casework.EINVALID, "这是旧版 .xls 文件或加密的工作簿；请在 Excel/WPS 中“另存为”Excel 工作簿（.xlsx）且不设密码",
			"this is an old .xls file or an encrypted workbook: save it as an Excel workbook (.xlsx) without a password")
	case bytes.HasPrefix(b, []byte("%PDF")):
		return casework.Errorf(casework.EINVALID, "这是 PDF 文件，不是 Excel 工作簿（.xlsx）", "this is a PDF file, not an Excel workbook (.xlsx)")
	}
	return casework.Errorf(casework.EINVALID, "文件不是 Excel 工作簿（.xlsx）；CSV 或文本文件请先在 Excel/WPS 中另存为 .xlsx",
		"the file is not an Excel workbook (.xlsx); save a CSV or text file as .xlsx first")
}

// importSheet is the template's sheet when present, else the first one.
func importSheet(f *excelize.File) string {
	names := f.GetSheetList()
	for _, n := range names {
		if n == i18n.T(i18n.ZH, "exchange.sheet.import") || n == i18n.T(i18n.EN, "exchange.sheet.import") {
			return n
		}
	}
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// headerColumns maps the header row to column keys. Unknown headers are
// ignored (a user may keep notes in extra columns); a repeated or missing
// required column is an error naming it.
func headerColumns(cells []string) ([]string, error) {
	known := headerKeys()
	cols := make([]string, len(cells))
	at := map[string]int{}
	for i, c := range cells {
		k, ok := known[normHeader(c)]
		if !ok {
			continue
		}
		if j, dup := at[k]; dup {
			return nil, casework.Errorf(casework.EINVALID, "表头中“%s”出现两次（第%s列和第%s列）", "the header has %q twice (columns %s and %s)",
				ColumnName(k, i18n.ZH), colName(j), colName(i))
		}
		at[k], cols[i] = i, k
	}
	var missingZH, missingEN []string
	for _, k := range store.ImportColumns {
		if _, ok := at[k]; !ok && store.ImportRequired[k] {
			missingZH, missingEN = append(missingZH, ColumnName(k, i18n.ZH)), append(missingEN, ColumnName(k, i18n.EN))
		}
	}
	if len(missingZH) > 0 {
		return nil, casework.Msg(casework.EINVALID, "表头缺少必填列："+strings.Join(missingZH, "、")+"；请使用导入模板",
			"the header lacks required columns: "+strings.Join(missingEN, ", ")+"; use the import template")
	}
	return cols, nil
}

func colName(i int) string {
	s, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return strconv.Itoa(i + 1)
	}
	return s
}

// rowOf turns the cells of sheet row n into an ImportRow.
func rowOf(n int, cols, cells []string, date1904 bool) store.ImportRow {
	r := store.ImportRow{Row: n}
	field := map[string]*string{
		"name": &r.Name, "id_number": &r.IDNumber, "phone": &r.Phone, "household_addr": &r.HouseholdAddr, "residence_addr": &r.ResidenceAddr,
		"ethnicity": &r.Ethnicity, "education": &r.Education, "marital_status": &r.MaritalStatus, "employment": &r.Employment,
		"org": &r.Org, "kind": &r.Kind, "decision_number": &r.DecisionNumber, "decision_authority": &r.DecisionAuthority,
		"decision_date": &r.DecisionDate, "received_date": &r.ReceivedDate, "report_date": &r.ReportDate, "agreement_date": &r.AgreementDate,
		"term_months": &r.TermMonths, "worker": &r.Worker,
	}
	for i, c := range cells {
		if i >= len(cols) || cols[i] == "" {
			continue
		}
		k, v := cols[i], cellText(c)
		switch {
		case v == "":
		case dateColumns[k]:
			d, ok := cellDate(v, date1904)
			if !ok {
				r.Problems = append(r.Problems, store.ImportError{Row: n, Column: k,
					ZH: fmt.Sprintf("“%s”不是日期；请填写Excel日期或 YYYY-MM-DD（如 2021-03-01）", v),
					EN: fmt.Sprintf("%q is not a date: give an Excel date or YYYY-MM-DD (e.g. 2021-03-01)", v)})
				d = ""
			}
			v = d
		case k == "id_number" && sciNumber.MatchString(v):
			r.Problems = append(r.Problems, store.ImportError{Row: n, Column: k,
				ZH: "身份证号被保存成了数字（科学计数法），末几位已丢失；请把该列设为文本格式后重新填写",
				EN: "the ID number was stored as a number (scientific notation) and lost its last digits: format the column as text and enter it again"})
			v = ""
		case k == "phone" && sciNumber.MatchString(v):
			if f, err := strconv.ParseFloat(v, 64); err == nil && f < 1e15 {
				v = strconv.FormatFloat(f, 'f', 0, 64)
			}
		}
		*field[k] = v
	}
	return r
}

// sciNumber is a number as Excel stores a long one: 4.60203198001011E+17.
var sciNumber = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?[eE]\+?[0-9]+$`)

// textDate is a date typed as text: 2021-03-01, 2021/3/1, 2021.3.1 or
// 2021年3月1日.
var textDate = regexp.MustCompile(`^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$`)

// cellDate reads a date cell: an Excel serial number (a real date cell) or
// a date typed as text. ok is false for anything else; an impossible date
// such as 2021-02-30 is returned as typed, for the store to refuse with
// its own message.
func cellDate(v string, date1904 bool) (string, bool) {
	if m := textDate.FindStringSubmatch(v); m != nil {
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		return fmt.Sprintf("%s-%02d-%02d", m[1], mo, d), true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 1 || f > 2958465 || math.IsNaN(f) {
		return "", false
	}
	t, err := excelize.ExcelDateToTime(f, date1904)
	if err != nil {
		return "", false
	}
	return t.Format("2006-01-02"), true
}

// openUpload opens an uploaded workbook for an import: at most MaxFileBytes,
// an .xlsx by its content, readable. It says whether the workbook counts
// dates from 1904. Every import reads its file through it, so a bad file
// gets the same specific error whatever is imported.
func openUpload(r io.Reader) (f *excelize.File, date1904 bool, err error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, false, fmt.Errorf("read upload: %w", err)
	}
	if len(b) > MaxFileBytes {
		return nil, false, casework.Errorf(casework.EINVALID, "文件超过%d MiB，请分成多个文件导入", "the file is larger than %d MiB: split it into several files", MaxFileBytes>>20)
	}
	if err := sniff(b); err != nil {
		return nil, false, err
	}
	f, err = excelize.OpenReader(bytes.NewReader(b), excelize.Options{RawCellValue: true, UnzipSizeLimit: 256 << 20, UnzipXMLSizeLimit: 128 << 20})
	if err != nil {
		return nil, false, casework.Errorf(casework.EINVALID, "无法读取该 Excel 文件（文件损坏或不是 .xlsx 工作簿）", "cannot read this Excel file: it is damaged or not an .xlsx workbook")
	}
	if p, err := f.GetWorkbookProps(); err == nil && p.Date1904 != nil {
		date1904 = *p.Date1904
	}
	return f, date1904, nil
}
