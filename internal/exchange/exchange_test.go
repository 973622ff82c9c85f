package exchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

var ctx = context.Background()

// start is the tests' clock: 2021-06-15 12:00 in Beijing.
var start = time.Date(2021, 6, 15, 4, 0, 0, 0, time.UTC)

func idNumber(n int) string {
	body := fmt.Sprintf("4602031986%02d%02d%03d", 1+n%12, 1+n%28, n%1000)
	return body + string(casework.IDCheckChar(body))
}

// world is a street with a community, a lead there (who imports) and a
// counsellor.
type world struct {
	street, comm     *casework.Org
	lead, counsellor *casework.Actor
}

func build(t *testing.T, db *store.DB) world {
	t.Helper()
	sys := casework.SystemActor("test")
	mk := func(parent *casework.Org, kind casework.OrgKind, name, code string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name, AreaCode: code}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return storetest.Must(db.CreateOrg(ctx, sys, in))
	}
	county := mk(mk(mk(nil, casework.KindProvince, "海南省", ""), casework.KindCity, "三亚市", ""), casework.KindCounty, "吉阳区", "")
	w := world{street: mk(county, casework.KindTownship, "椰林街道", "")}
	w.comm = mk(w.street, casework.KindCommunity, "安椰社区", "460203001001")
	actor := func(role casework.Role, org *casework.Org) *casework.Actor {
		return &casework.Actor{UserID: "u-" + string(role), Username: string(role), Grants: []casework.Grant{{Role: role, OrgID: org.ID, OrgPath: org.Path}}}
	}
	w.lead, w.counsellor = actor(casework.RoleLead, w.street), actor(casework.RoleCounsellor, w.street)
	return w
}

// workbook builds an .xlsx with the rows on a sheet named sheet.
func workbook(t *testing.T, sheet string, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var header = []any{"姓名*", "身份证号*", "手机号", "执行地*", "措施类型*", "决定书文号*", "决定机关*", "决定日期*", "送达日期*", "报到日期", "期限（月）", "备注（不导入）"}

func TestReadImport(t *testing.T) {
	dec := time.Date(2021, 5, 1, 0, 0, 0, 0, time.UTC)
	b := workbook(t, "人员导入", [][]any{
		header,
		{"张三", idNumber(1), "13800138000", "460203001001", "社区戒毒", "文号1", "分局", dec, "2021/5/3", "2021年5月10日", "", "x"},
		{},
		{" 李四 ", strings.ToLower(idNumber(2)), 13900139000, "安椰社区", "社区康复", "文号2", "分局", "2021-05-01", 44319, nil, 24},
		{"王五", "set below", "", "安椰社区", "社区康复", "文号3", "分局", "2021-02-30", "昨天", nil, 24},
	})
	// An ID number typed into a number cell, as Excel stores it: 15
	// significant digits in scientific notation.
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellDefault("人员导入", "B5", "4.60203198601011E+17"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rows, err := exchange.ReadImport(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Row != 2 || rows[1].Row != 4 || rows[2].Row != 5 {
		t.Fatalf("rows %+v: want sheet rows 2, 4 and 5", rows)
	}
	r := rows[0]
	if r.Name != "张三" || r.IDNumber != idNumber(1) || r.Org != "460203001001" || r.DecisionDate != "2021-05-01" || r.ReceivedDate != "2021-05-03" ||
		r.ReportDate != "2021-05-10" || len(r.Problems) != 0 {
		t.Errorf("row 2 = %+v", r)
	}
	r = rows[1]
	if r.Name != "李四" || r.Phone != "13900139000" || r.ReceivedDate != "2021-05-03" || r.TermMonths != "24" || len(r.Problems) != 0 {
		t.Errorf("row 4 = %+v (a numeric phone and an Excel date serial should read as text)", r)
	}
	r = rows[2]
	var cols []string
	for _, p := range r.Problems {
		cols = append(cols, p.Column)
		if p.Row != 5 || p.ZH == "" || p.EN == "" {
			t.Errorf("problem %+v", p)
		}
	}
	// The impossible date is left for the store to refuse; a number-typed
	// ID and a non-date are the reader's.
	if !slices.Equal(cols, []string{"id_number", "received_date"}) || r.DecisionDate != "2021-02-30" {
		t.Errorf("row 5 problems at %v, decision date %q: %+v", cols, r.DecisionDate, r.Problems)
	}
}

func TestReadImportRefusesBadFiles(t *testing.T) {
	many := [][]any{header}
	for i := range exchange.MaxRows + 1 {
		many = append(many, []any{"某", idNumber(i)})
	}
	big := append([]byte("PK\x03\x04"), make([]byte, exchange.MaxFileBytes)...)
	tests := []struct {
		name string
		file []byte
		want string // in the English message
	}{
		{"empty", nil, "empty"},
		{"csv", []byte("姓名,身份证号\n张三,460203198601011234\n"), "not an Excel workbook"},
		{"old xls", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0}, "old .xls"},
		{"pdf", []byte("%PDF-1.7\n"), "PDF"},
		{"broken zip", []byte("PK\x03\x04garbage"), "cannot read this Excel file"},
		{"too big", big, "larger than 10 MiB"},
		{"missing columns", workbook(t, "人员导入", [][]any{{"姓名", "身份证号"}, {"张三", idNumber(1)}}), "lacks required columns: Place of execution, Measure, Decision number"},
		{"column twice", workbook(t, "Persons", [][]any{{"姓名", "Name"}, {"张三", "x"}}), "twice"},
		{"no data rows", workbook(t, "人员导入", [][]any{header}), "no data rows"},
		{"empty sheet", workbook(t, "人员导入", nil), "empty"},
		{"too many rows", workbook(t, "人员导入", many), "at most 5000 rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := exchange.ReadImport(bytes.NewReader(tt.file))
			if !casework.IsCode(err, casework.EINVALID) || !strings.Contains(casework.ErrorMessage(err, "en"), tt.want) || casework.ErrorMessage(err, "zh") == casework.ErrorMessage(err, "en") {
				t.Fatalf("got %v, want EINVALID mentioning %q (and a Chinese message)", err, tt.want)
			}
		})
	}
}

// TestTemplate: the template has the data sheet with every column (required
// ones marked, a note on each), an example row that imports, and notes.
func TestTemplate(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) {
			var b bytes.Buffer
			if err := exchange.WriteTemplate(&b, lang); err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenReader(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sheets := f.GetSheetList()
			want := map[string][]string{"zh": {"人员导入", "示例", "填写说明"}, "en": {"Persons", "Example", "How to fill in"}}[lang]
			if !slices.Equal(sheets, want) {
				t.Fatalf("sheets %v, want %v", sheets, want)
			}
			head, err := f.GetRows(sheets[0])
			if err != nil || len(head) != 1 || len(head[0]) != len(store.ImportColumns) {
				t.Fatalf("data sheet rows %v (%v): want the header only, %d columns", head, err, len(store.ImportColumns))
			}
			for i, k := range store.ImportColumns {
				name := exchange.ColumnName(k, lang)
				if store.ImportRequired[k] {
					name += "*"
				}
				if head[0][i] != name {
					t.Errorf("column %d: %q, want %q", i+1, head[0][i], name)
				}
			}
			if lang == "zh" && (head[0][0] != "姓名*" || head[0][1] != "身份证号*" || head[0][17] != "期限（月）") {
				t.Errorf("Chinese headers: %v", head[0])
			}
			comments, err := f.GetComments(sheets[0])
			if err != nil || len(comments) != len(store.ImportColumns) {
				t.Errorf("%d header notes (%v), want one per column", len(comments), err)
			}
			// The example sheet, saved alone as the first sheet, reads back.
			ex, err := f.GetRows(sheets[1])
			if err != nil || len(ex) != 2 {
				t.Fatalf("example sheet: %v %v", ex, err)
			}
			rows := make([][]any, 2)
			for i := range ex {
				for _, c := range ex[i] {
					rows[i] = append(rows[i], c)
				}
			}
			got, err := exchange.ReadImport(bytes.NewReader(workbook(t, "x", rows)))
			if err != nil || len(got) != 1 || got[0].IDNumber != exchange.ExampleIDNumber || got[0].Kind != "社区戒毒" || got[0].DecisionDate != "2021-03-01" {
				t.Fatalf("example row reads as %+v, %v", got, err)
			}
		})
	}
}

// TestImportLibreOfficeWorkbook: a workbook saved by LibreOffice (a CSV
// converted with soffice) imports, real date cells and all; again, it
// changes nothing.
func TestImportLibreOfficeWorkbook(t *testing.T) {
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		if os.Getenv("KANGFU_REQUIRE_BROWSER") == "1" {
			t.Fatal("soffice not found (apt-get install -y libreoffice-calc) and KANGFU_REQUIRE_BROWSER=1")
		}
		t.Skip("soffice not found: apt-get install -y libreoffice-calc")
	}
	dir := t.TempDir()
	csv := "姓名,身份证号,手机号,执行地,措施类型,决定书文号,决定机关,决定日期,送达日期,报到日期,协议签订日期,期限（月）\n" +
		fmt.Sprintf("陈一,%s,13800138001,460203001001,社区戒毒,吉公社戒决字〔2021〕1号,三亚市公安局吉阳分局,2021-05-01,2021-05-03,2021-05-10,2021-05-10,\n", idNumber(1)) +
		fmt.Sprintf("陈二,%s,13800138002,安椰社区,社区康复,吉公社康决字〔2021〕2号,三亚市公安局吉阳分局,2021-05-02,2021-05-04,,,24\n", idNumber(2)) +
		fmt.Sprintf("陈三,%s,,460203001001,社区戒毒,吉公社戒决字〔2021〕3号,三亚市公安局吉阳分局,2021-06-01,2021-06-02,,,\n", idNumber(3))
	if err := os.WriteFile(filepath.Join(dir, "persons.csv"), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	// Comma-separated, UTF-8 (76), from line 1; ID number and phone
	// (columns 2, 3) as text, the four date columns (8–11) as Y-M-D dates,
	// as a user would have them in Calc.
	filter := "CSV:44,34,76,1,2/2/3/2/8/5/9/5/10/5/11/5"
	cmd := exec.Command(soffice, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--headless",
		"--infilter="+filter, "--convert-to", "xlsx", "--outdir", dir, filepath.Join(dir, "persons.csv"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "persons.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := f.GetCellValue(f.GetSheetList()[0], "H2")
	f.Close()
	if strings.Contains(raw, "-") {
		t.Fatalf("LibreOffice kept the date as text %q; the test wants a real date cell", raw)
	}
	rows, err := exchange.ReadImport(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].IDNumber != idNumber(1) || rows[0].DecisionDate != "2021-05-01" || rows[1].TermMonths != "24" {
		t.Fatalf("read %+v", rows)
	}
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w := build(t, db)
		rep, err := db.ImportPersons(ctx, w.lead, rows, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Errors) > 0 || rep.Created != 3 || !rep.Written {
			t.Fatalf("import: %+v", rep)
		}
		rep, err = db.ImportPersons(ctx, w.lead, rows, false)
		if err != nil || rep.Created != 0 || rep.Unchanged != 3 {
			t.Fatalf("second import: %+v, %v", rep, err)
		}
		if _, total, err := db.ListPersons(ctx, w.lead, store.PersonFilter{}); err != nil || total != 3 {
			t.Fatalf("%d persons, %v", total, err)
		}
	})
}

// allCells returns every cell of every sheet.
func allCells(t *testing.T, b []byte) (header []string, cells []string) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, s := range f.GetSheetList() {
		rows, err := f.GetRows(s)
		if err != nil {
			t.Fatal(err)
		}
		for j, r := range rows {
			if i == 0 && j == 0 {
				header = r
			}
			cells = append(cells, r...)
		}
	}
	return header, cells
}

// TestExportMasksAndAudits: the export holds the masked ID number and
// phone, never the full ones; a counsellor's has no such columns; every
// export leaves an audit row (R36).
func TestExportMasksAndAudits(t *testing.T) {
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w := build(t, db)
		for i := 1; i <= 3; i++ {
			storetest.Must(db.CreatePerson(ctx, w.lead, casework.PersonInput{OrgID: w.comm.ID, Name: fmt.Sprintf("导出人%d", i), IDNumber: idNumber(i),
				Phone: fmt.Sprintf("1390013900%d", i)}, &casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: fmt.Sprintf("文号%d", i),
				DecisionAuthority: "分局", DecisionDate: casework.MustParseDate("2021-05-01"), ReceivedDate: casework.MustParseDate("2021-05-03")}))
		}
		tests := []struct {
			name    string
			actor   *casework.Actor
			lang    string
			query   string
			rows    int
			hasID   bool
			idTitle string
		}{
			{"lead, Chinese", w.lead, "zh", "", 3, true, "身份证号（脱敏）"},
			{"lead, English, filtered by name", w.lead, "en", "q=导出人2", 1, true, "ID number (masked)"},
			{"lead, by whole ID number", w.lead, "zh", "q=" + idNumber(3), 1, true, "身份证号（脱敏）"},
			{"counsellor", w.counsellor, "zh", "", 0, false, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v, _ := url.ParseQuery(tt.query)
				f, err := exchange.FilterFromQuery(v, tt.actor, casework.DateOf(start, nil))
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				n, err := exchange.ExportPersons(ctx, db, tt.actor, f, tt.lang, &b)
				if err != nil || n != tt.rows {
					t.Fatalf("exported %d rows (%v), want %d", n, err, tt.rows)
				}
				header, cells := allCells(t, b.Bytes())
				if !slices.Equal(header, exchange.ExportHeaders(tt.actor, tt.lang)) {
					t.Errorf("header %v", header)
				}
				if slices.Contains(header, tt.idTitle) != tt.hasID || (!tt.hasID && (slices.Contains(header, "身份证号（脱敏）") || slices.Contains(header, "手机号（脱敏）"))) {
					t.Errorf("header %v: ID column present = %v, want %v", header, !tt.hasID, tt.hasID)
				}
				joined := strings.Join(cells, "|")
				for i := 1; i <= 3; i++ {
					if strings.Contains(joined, idNumber(i)) || strings.Contains(joined, fmt.Sprintf("1390013900%d", i)) {
						t.Fatalf("the export holds a full ID number or phone: %s", joined)
					}
				}
				if tt.hasID && tt.rows > 0 {
					masked := casework.MaskID(idNumber(1))
					if tt.query != "" {
						masked = casework.MaskID(idNumber(map[bool]int{true: 2, false: 3}[strings.Contains(tt.query, "导出人2")]))
					}
					if !strings.Contains(joined, masked) || !strings.Contains(joined, "139****900") {
						t.Errorf("the export lacks the masked ID %s or phone: %s", masked, joined)
					}
				}
				recs, _, err := db.ListAudit(ctx, casework.SystemActor("test"), store.AuditFilter{Action: "person.export", Limit: 1})
				if err != nil || len(recs) == 0 || recs[0].ActorName != tt.actor.Username {
					t.Fatalf("no export audit row by %s: %v %v", tt.actor.Username, recs, err)
				}
				var d map[string]any
				if err := json.Unmarshal([]byte(recs[0].Detail), &d); err != nil || d["rows"] != float64(tt.rows) {
					t.Errorf("audit detail %s", recs[0].Detail)
				}
				if strings.Contains(recs[0].Detail, idNumber(3)) {
					t.Errorf("the audit row holds a full ID number: %s", recs[0].Detail)
				}
			})
		}
	})
}

func TestFilterFromQuery(t *testing.T) {
	today := casework.MustParseDate("2021-06-15")
	me := &casework.Actor{UserID: "me"}
	tests := []struct {
		query string
		want  store.PersonFilter
		bad   string
	}{
		{"", store.PersonFilter{Today: today}, ""},
		{"q=张&status=executing,on_leave&kind=community_rehab&org_id=o1&sort=deadline&offset=50",
			store.PersonFilter{Query: "张", Status: []casework.Status{casework.StatusExecuting, casework.StatusOnLeave}, Kind: casework.MeasureRehab,
				OrgID: "o1", Sort: "deadline", Today: today}, ""},
		{"mine=1&deadline=1&include_ended=1", store.PersonFilter{WorkerID: "me", DeadlineDays: exchange.ListDeadlineDays, IncludeEnded: true, Today: today}, ""},
		{"worker_id=w&deadline_days=30", store.PersonFilter{WorkerID: "w", DeadlineDays: 30, Today: today}, ""},
		{"status=gone", store.PersonFilter{}, "status"},
		{"kind=x", store.PersonFilter{}, "kind"},
		{"sort=id", store.PersonFilter{}, "sort"},
		{"deadline_days=-1", store.PersonFilter{}, "deadline_days"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			got, err := exchange.FilterFromQuery(v, me, today)
			if tt.bad != "" {
				if casework.ErrorField(err) != tt.bad {
					t.Fatalf("got %v, want an error on %s", err, tt.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
