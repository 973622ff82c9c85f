package exchange

// Fuzz targets for the Excel import (issue 15, "Fuzzing"); .ci/run runs
// each for a bounded time:
//
//	go test -run '^$' -fuzz '^FuzzReadImport$' -fuzztime 20s ./internal/exchange/
//
// The seeds are real small workbooks built with excelize: the import
// templates, a filled-in import and the other imports' shapes.

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// buildWorkbook writes rows into one sheet through the package's own
// guarded writer, as an export does.
func buildWorkbook(tb testing.TB, sheet string, rows [][]any) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		tb.Fatal(err)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := setSheetRow(f, sheet, cell, r); err != nil {
			tb.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func fuzzID(n int) string {
	body := fmt.Sprintf("4602031986%02d%02d%03d", 1+n%12, 1+n%28, n%1000)
	return body + string(casework.IDCheckChar(body))
}

// importFields are an ImportRow's cells in store.ImportColumns order.
func importFields(r *store.ImportRow) []*string {
	return []*string{&r.Name, &r.IDNumber, &r.Phone, &r.HouseholdAddr, &r.ResidenceAddr, &r.Ethnicity, &r.Education, &r.MaritalStatus,
		&r.Employment, &r.Org, &r.Kind, &r.DecisionNumber, &r.DecisionAuthority, &r.DecisionDate, &r.ReceivedDate, &r.ReportDate,
		&r.AgreementDate, &r.TermMonths, &r.Worker}
}

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// FuzzReadImport: ReadImport never panics on any bytes; a refusal is an
// EINVALID error with both messages; an accepted workbook gives 1 to
// MaxRows rows in sheet order, date cells as YYYY-MM-DD or a problem on
// that column, and — written back through the export's guarded writer and
// read again — the same cells (the apostrophe guard of issue 15 §8 does not
// stick to imported text).
func FuzzReadImport(f *testing.F) {
	for _, lang := range []string{i18n.ZH, i18n.EN} {
		b, err := Template(lang)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	header := []any{"姓名*", "身份证号*", "手机号", "执行地*", "措施类型*", "决定书文号*", "决定机关*", "决定日期*", "送达日期*", "报到日期", "期限（月）", "备注（不导入）"}
	dec := time.Date(2021, 5, 1, 0, 0, 0, 0, time.UTC)
	f.Add(buildWorkbook(f, "人员导入", [][]any{
		header,
		{"张三", fuzzID(1), "13800138000", "460203001001", "社区戒毒", "文号1", "分局", dec, "2021/5/3", "2021年5月10日", "", "x"},
		{},
		{" 李四 ", strings.ToLower(fuzzID(2)), 13900139000, "安椰社区", "社区康复", "=文号2", "-分局", "2021-05-01", 44319, nil, 24},
		{"王五", "4.60203198601011E+17", "+86 139", "@安椰", "社区康复", "'=x", "分局", "2021-02-30", "昨天", nil, 24},
	}))
	keys := make([]any, 10)
	for i := range keys {
		keys[i] = store.ImportColumns[i]
	}
	f.Add(buildWorkbook(f, "Persons", [][]any{keys}))
	f.Add(buildWorkbook(f, "Sheet", [][]any{{"姓名", "Name"}, {"a", "b"}}))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Add([]byte("姓名,身份证号\n张三,460203198601011234\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := ReadImport(bytes.NewReader(b))
		if err != nil {
			var e *casework.Error
			if !errors.As(err, &e) || e.Code != casework.EINVALID || e.ZH == "" || e.EN == "" ||
				strings.Contains(e.Message("zh")+e.Message("en"), "%!") {
				t.Fatalf("ReadImport refused with %v (%T), want an EINVALID error with both messages", err, err)
			}
			return
		}
		if len(rows) == 0 || len(rows) > MaxRows {
			t.Fatalf("%d rows", len(rows))
		}
		table := [][]any{make([]any, len(store.ImportColumns))}
		for i, k := range store.ImportColumns {
			table[0][i] = k
		}
		last := 1
		for _, r := range rows {
			if r.Row <= last {
				t.Fatalf("row %d after row %d", r.Row, last)
			}
			last = r.Row
			for _, p := range r.Problems {
				if p.Row != r.Row || p.ZH == "" || p.EN == "" || !slices.Contains(store.ImportColumns, p.Column) {
					t.Fatalf("problem %+v on row %d", p, r.Row)
				}
			}
			for k, v := range map[string]string{"decision_date": r.DecisionDate, "received_date": r.ReceivedDate, "report_date": r.ReportDate, "agreement_date": r.AgreementDate} {
				if v != "" && !isoDate.MatchString(v) {
					t.Fatalf("row %d %s = %q, want YYYY-MM-DD or a problem", r.Row, k, v)
				}
			}
			out := make([]any, 0, len(store.ImportColumns))
			for _, p := range importFields(&r) {
				if *p != strings.TrimSpace(*p) {
					t.Fatalf("row %d cell %q is not trimmed", r.Row, *p)
				}
				out = append(out, *p)
			}
			table = append(table, out)
		}
		// Round trip: only text an XML cell can hold as it is.
		for _, r := range rows {
			for _, p := range importFields(&r) {
				if casework.CheckText("x", *p, 0) != nil || strings.ContainsAny(*p, "\r\t") || len(*p) > 32767 {
					return
				}
			}
		}
		again, err := ReadImport(bytes.NewReader(buildWorkbook(t, "Persons", table)))
		if err != nil {
			t.Fatalf("rows written back do not import: %v", err)
		}
		if len(again) != len(rows) {
			t.Fatalf("%d rows written back read as %d", len(rows), len(again))
		}
		for i := range rows {
			a, b := importFields(&rows[i]), importFields(&again[i])
			for j := range a {
				if *a[j] != *b[j] {
					t.Fatalf("row %d column %s: %q written back reads as %q", rows[i].Row, store.ImportColumns[j], *a[j], *b[j])
				}
			}
		}
	})
}

// FuzzSafeText: the export's formula guard never leaves a text that starts
// a formula, and PlainText takes it off exactly (issue 15 §8).
func FuzzSafeText(f *testing.F) {
	for _, s := range []string{"", "=1", "'=1", "''=1", "'", "'abc", "+86", "-", "@x", "\t=1", "\r", "plain", "'\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g := SafeText(s)
		if startsFormula(g) {
			t.Fatalf("SafeText(%q) = %q starts a formula", s, g)
		}
		if back := PlainText(g); back != s {
			t.Fatalf("PlainText(SafeText(%q)) = %q", s, back)
		}
		if !startsFormula(strings.TrimLeft(s, "'")) && g != s {
			t.Fatalf("SafeText(%q) = %q changed a harmless text", s, g)
		}
	})
}
