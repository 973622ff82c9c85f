package exchange

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/store"
)

// The workbook of the person's own data export has a sheet for every part
// of the export, the Records tables included, named in the reader's
// language (no raw message key).
func TestOwnDataWorkbookHasEveryPart(t *testing.T) {
	d := &store.OwnData{Psych: &store.PsychFile{}, Risk: &store.RiskFile{}, Incentives: &store.IncentiveAccount{},
		Records: map[string][]map[string]any{}}
	for table, part := range store.OwnDataTables {
		if part == "Records" {
			d.Records[table] = []map[string]any{{"id": "x-" + table}}
		}
	}
	for _, lang := range []string{"zh-CN", "en"} {
		var b bytes.Buffer
		if err := ownDataWorkbook(&b, d, lang); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&b)
		if err != nil {
			t.Fatal(err)
		}
		sheets := f.GetSheetList()
		// 11 original parts, 4 more, 4 psych, risk, 2 incentives, 4 more, and the Records tables.
		if want := 11 + 4 + 4 + 1 + 2 + 4 + len(d.Records); len(sheets) != want {
			t.Errorf("%s: %d sheets, want %d: %v", lang, len(sheets), want, sheets)
		}
		seen := map[string]bool{}
		for _, s := range sheets {
			if bytes.Contains([]byte(s), []byte("own_data.")) || seen[s] {
				t.Errorf("%s: sheet %q is a raw key or named twice", lang, s)
			}
			seen[s] = true
		}
		f.Close()
	}
}
