package exchange

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Issue 15 §8: a text starting with =, +, -, @, tab or CR is never written
// so that a spreadsheet evaluates it.
func TestExcelCellsNeverStartAFormula(t *testing.T) {
	bad := []string{"=HYPERLINK(\"http://x\",\"y\")", "+86 138", "-1+2", "@SUM(A1)", "\t=1", "\r=1"}
	var buf bytes.Buffer
	rows := [][]string{bad, {"plain", "1990-01-01", "'quoted"}}
	if err := WriteTable(&buf, "S", bad, rows); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := f.GetRows("S")
	if err != nil {
		t.Fatal(err)
	}
	for r, row := range got {
		for c, v := range row {
			if v != "" && strings.ContainsRune(formulaStart, rune(v[0])) {
				t.Errorf("row %d col %d = %q starts a formula", r+1, c+1, v)
			}
			if formula, _ := f.GetCellFormula("S", cellName(c+1, r+1)); formula != "" {
				t.Errorf("row %d col %d holds a formula %q", r+1, c+1, formula)
			}
		}
	}
	if got[0][0] != "'"+bad[0] || got[2][0] != "plain" || got[2][2] != "'quoted" {
		t.Errorf("rows %q", got)
	}
	// Styled cells too.
	if v := safeValue(excelize.Cell{StyleID: 1, Value: "=1"}).(excelize.Cell).Value; v != "'=1" {
		t.Errorf("styled cell = %q", v)
	}
	if v := safeValue(42); v != 42 {
		t.Errorf("a number changed: %v", v)
	}
}

// Every cell write of the repository goes through the helpers in cells.go:
// no other file calls excelize's setters directly.
func TestExcelWritesGoThroughOneHelper(t *testing.T) {
	direct := regexp.MustCompile(`\.(SetCellValue|SetCellStr|SetCellDefault|SetCellRichText|SetCellFormula|SetSheetRow|SetSheetCol)\(|\bsw\.SetRow\(|StreamWriter\)\.SetRow`)
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, filepath.Join("exchange", "cells.go")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if loc := direct.FindIndex(b); loc != nil {
			t.Errorf("%s writes a cell directly (%q): use setCell/setRow/setSheetRow of internal/exchange/cells.go (exchange.WriteRow from another package)", path, b[loc[0]:loc[1]])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func cellName(c, r int) string {
	n, _ := excelize.CoordinatesToCellName(c, r)
	return n
}

// Issue 15 §8: a workbook Kangfu exported imports back as the text that
// was exported — the apostrophe guard does not stick to imported cells.
func TestExportedCellsImportWithoutTheGuard(t *testing.T) {
	tricky := []string{"=HYPERLINK(\"x\")", "+86 138 0013 8000", "-分局", "@安椰", "'=already quoted", "'plain apostrophe"}
	header := []any{"name", "id_number", "phone", "org", "kind", "decision_number", "decision_authority", "decision_date", "received_date", "worker"}
	row := []any{"张三", fuzzID(1), tricky[1], tricky[3], "社区戒毒", tricky[0], tricky[2], "2021-05-01", "2021-05-03", tricky[4]}
	row2 := []any{"李四", fuzzID(2), "", "安椰社区", "社区康复", tricky[5], "分局", "2021-05-01", "2021-05-03", ""}
	b := buildWorkbook(t, "Persons", [][]any{header, row, row2})
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := f.GetCellValue("Persons", "F2")
	f.Close()
	if raw != "'"+tricky[0] {
		t.Fatalf("exported cell = %q, want the guard on it", raw)
	}
	rows, err := ReadImport(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	if r.DecisionNumber != tricky[0] || r.Phone != tricky[1] || r.DecisionAuthority != tricky[2] || r.Org != tricky[3] || r.Worker != tricky[4] ||
		rows[1].DecisionNumber != tricky[5] {
		t.Errorf("imported %+v / %q, want the exported texts %q", r, rows[1].DecisionNumber, tricky)
	}
	for _, s := range append(tricky, "", "'", "''=1", "\t=1") {
		if got := PlainText(SafeText(s)); got != s {
			t.Errorf("PlainText(SafeText(%q)) = %q", s, got)
		}
	}
}
