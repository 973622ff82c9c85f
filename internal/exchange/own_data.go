package exchange

// own_data.go: the person's own data export (issue 15; PIPL Art 45) as a
// zip: data.json (every record, as stored, with the identity unmasked) and
// data.xlsx (one sheet per kind of record, one row per record, nested
// values as JSON text), plus a short note in the reader's language.

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// OwnDataFileName is the zip's file name.
func OwnDataFileName(d *store.OwnData) string {
	return "own-data-" + d.GeneratedAt.In(time.FixedZone("CST", 8*3600)).Format("20060102-1504") + ".zip"
}

// WriteOwnData writes the zip of d.
func WriteOwnData(w io.Writer, d *store.OwnData, lang string) error {
	z := zip.NewWriter(w)
	js, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	parts := []struct {
		name string
		b    []byte
	}{{"data.json", js}}
	var x bytes.Buffer
	if err := ownDataWorkbook(&x, d, lang); err != nil {
		return err
	}
	parts = append(parts, struct {
		name string
		b    []byte
	}{"data.xlsx", x.Bytes()}, struct {
		name string
		b    []byte
	}{"README.txt", []byte(i18n.T(lang, "own_data.readme", d.Identity.Name, d.GeneratedAt.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04")) + "\n")})
	for _, p := range parts {
		f, err := z.CreateHeader(&zip.FileHeader{Name: p.name, Method: zip.Deflate, Modified: d.GeneratedAt})
		if err != nil {
			return err
		}
		if _, err := f.Write(p.b); err != nil {
			return err
		}
	}
	return z.Close()
}

// ownDataWorkbook writes one sheet per kind of record.
func ownDataWorkbook(w io.Writer, d *store.OwnData, lang string) error {
	f := excelize.NewFile()
	defer f.Close()
	kinds := []struct {
		key string
		v   any
	}{{"identity", []any{d.Identity}}, {"measures", d.Measures}, {"checkins", d.Checkins}, {"tests", d.DrugTests}, {"leave", d.Leaves},
		{"violations", d.Violations}, {"visits", d.Visits}, {"help", []any{d.HelpPlan}}, {"assistance", d.Assistance},
		{"employment", []any{d.Employment}}, {"messages", d.Messages},
		{"documents", d.Documents}, {"corrections", d.Corrections}, {"devices", d.Devices}, {"timeline", d.Timeline}}
	if p := d.Psych; p != nil {
		kinds = append(kinds, []struct {
			key string
			v   any
		}{{"counsellors", p.Counsellors}, {"counselling", p.Sessions}, {"scales", p.Scales}, {"groups", p.Groups}}...)
	}
	if d.Risk != nil {
		kinds = append(kinds, struct {
			key string
			v   any
		}{"risk", d.Risk.History})
	}
	if a := d.Incentives; a != nil {
		kinds = append(kinds, []struct {
			key string
			v   any
		}{{"incentive_consents", a.Consents}, {"incentive_ledger", a.Rows}}...)
	}
	kinds = append(kinds, []struct {
		key string
		v   any
	}{{"outbox", d.Outbox}, {"help_reviews", d.HelpReviews}, {"break_glass", d.BreakGlass}, {"file_log", d.FileReadLog}}...)
	for _, table := range slices.Sorted(maps.Keys(d.Records)) {
		kinds = append(kinds, struct {
			key string
			v   any
		}{table, d.Records[table]})
	}
	for i, k := range kinds {
		sheet := i18n.T(lang, "own_data.sheet."+k.key)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sheet); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(sheet); err != nil {
			return err
		}
		b, err := json.Marshal(k.v)
		if err != nil {
			return err
		}
		var rows []map[string]any
		if err := json.Unmarshal(b, &rows); err != nil {
			rows = nil // null entries (no help plan): an empty sheet
		}
		rows = slices.DeleteFunc(rows, func(m map[string]any) bool { return m == nil })
		var head []string
		for _, r := range rows {
			for col := range r {
				if !slices.Contains(head, col) {
					head = append(head, col)
				}
			}
		}
		slices.Sort(head)
		hv := make([]any, len(head))
		for j, h := range head {
			hv[j] = h
		}
		if err := setSheetRow(f, sheet, "A1", hv); err != nil {
			return err
		}
		for n, r := range rows {
			vals := make([]any, len(head))
			for j, h := range head {
				vals[j] = jsonCellText(r[h])
			}
			if err := setSheetRow(f, sheet, fmt.Sprintf("A%d", n+2), vals); err != nil {
				return err
			}
		}
	}
	return f.Write(w)
}

// jsonCellText is a JSON value as cell text: scalars as they are, the rest as JSON.
func jsonCellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool, float64:
		return fmt.Sprint(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
