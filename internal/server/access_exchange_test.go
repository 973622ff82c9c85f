package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Excel import and export (issue 3 §7, §8): every reader of person files
// may export the list it sees (masked, R36); office and lead hold the
// import permission. An upload that is not multipart is a 400 for those
// allowed, which the matrix counts as access.
var _ = addRules(map[string]accessRule{
	"GET /persons/export.xlsx":                 {roles: "office lead worker police counsellor"},
	"GET /persons/import":                      {roles: "lead"},
	"POST /persons/import":                     {roles: "lead", body: "dry_run=1"},
	"GET /persons/import/template.xlsx":        {roles: "lead"},
	"GET /api/v1/persons/export.xlsx":          {roles: "office lead worker police counsellor"},
	"GET /api/v1/persons/import/template.xlsx": {roles: "lead"},
	"POST /api/v1/persons/import":              {roles: "lead", body: `{"dry_run":true}`},
})

// upload posts the workbook as multipart/form-data (file, dry_run) as the
// role, to the console or the API, and returns the status and body.
func (m *matrix) upload(t *testing.T, path, role, lang string, file []byte, dry bool) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "persons.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	if dry {
		mw.WriteField("dry_run", "true")
	}
	mw.Close()
	req, err := http.NewRequest("POST", m.srv.URL+path, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept-Language", lang)
	if strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+m.tokens[casework.Role(role)]["api"])
	} else {
		req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.Role(role)]["web"]})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// get fetches a path as the role.
func (m *matrix) get(t *testing.T, path, role string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", m.srv.URL+path, nil)
	if strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+m.tokens[casework.Role(role)]["api"])
	} else {
		req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.Role(role)]["web"]})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestExchangeOverHTTP drives import and export through both front doors:
// the template downloads, a bad file is refused with every error listed, a
// good file imports once (dry run first), and the export is masked.
func TestExchangeOverHTTP(t *testing.T) {
	m := newMatrix(t)
	ctx := context.Background()
	comm := storetest.Must(m.db.CreateOrg(ctx, casework.SystemActor("test"), casework.OrgInput{ParentID: m.streetA.ID, Kind: casework.KindCommunity,
		Name: "导入社区", AreaCode: "460203009001"}))
	resp, b := m.get(t, "/persons/import/template.xlsx", "lead")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != exchange.ContentType || !bytes.HasPrefix(b, []byte("PK")) {
		t.Fatalf("template: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sheet := func(rows [][]any) []byte {
		f := excelize.NewFile()
		defer f.Close()
		for i, r := range rows {
			f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &r)
		}
		var out bytes.Buffer
		f.Write(&out)
		return out.Bytes()
	}
	head := []any{"姓名", "身份证号", "手机号", "执行地", "措施类型", "决定书文号", "决定机关", "决定日期", "送达日期"}
	good := []any{"导入甲", testIDNumber(501), "13700137000", comm.AreaCode, "社区戒毒", "文号501", "分局", "2021-05-01", "2021-05-03"}
	bad := []any{"导入乙", testIDNumber(502)[:17] + "Y", "", comm.AreaCode, "社区戒毒", "文号502", "分局", "2021-05-01", "2021-05-03"}

	status, body := m.upload(t, "/api/v1/persons/import", "lead", "en", sheet([][]any{head, good, bad}), false)
	var rep struct {
		Written   bool `json:"written"`
		Created   int  `json:"created"`
		Unchanged int  `json:"unchanged"`
		Errors    []struct {
			Row       int    `json:"row"`
			Column    string `json:"column"`
			ColumnKey string `json:"column_key"`
			Message   string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil || status != http.StatusUnprocessableEntity || rep.Written || len(rep.Errors) != 1 ||
		rep.Errors[0].Row != 3 || rep.Errors[0].Column != "ID number" || rep.Errors[0].ColumnKey != "id_number" || rep.Errors[0].Message == "" {
		t.Fatalf("bad file over the API: %d %s", status, body)
	}
	status, body = m.upload(t, "/persons/import", "lead", "zh", sheet([][]any{head, good, bad}), false)
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "身份证号第18位") || !strings.Contains(body, "未导入任何数据") {
		t.Fatalf("bad file in the console: %d %s", status, body)
	}
	for _, step := range []struct {
		dry                bool
		written            bool
		created, unchanged int
	}{{true, false, 1, 0}, {false, true, 1, 0}, {false, true, 0, 1}} {
		status, body = m.upload(t, "/api/v1/persons/import", "lead", "zh", sheet([][]any{head, good}), step.dry)
		rep.Errors = nil
		if err := json.Unmarshal([]byte(body), &rep); err != nil || status != 200 || rep.Written != step.written || rep.Created != step.created || rep.Unchanged != step.unchanged {
			t.Fatalf("good file (dry=%v): %d %s", step.dry, status, body)
		}
	}
	status, body = m.upload(t, "/persons/import", "lead", "zh", sheet([][]any{head, good}), false)
	if status != 200 || !strings.Contains(body, "未变更") || strings.Contains(body, testIDNumber(501)) || !strings.Contains(body, casework.MaskID(testIDNumber(501))) {
		t.Fatalf("good file again in the console: %d %s", status, body)
	}
	if status, body = m.upload(t, "/api/v1/persons/import", "lead", "zh", []byte("a,b\n1,2\n"), false); status != 400 || !strings.Contains(body, "不是 Excel") {
		t.Fatalf("csv upload: %d %s", status, body)
	}

	for _, tt := range []struct {
		path, role string
		hasID      bool
	}{{"/persons/export.xlsx?q=导入甲", "lead", true}, {"/api/v1/persons/export.xlsx", "police", true}, {"/persons/export.xlsx", "counsellor", false}} {
		resp, b := m.get(t, tt.path, tt.role)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != exchange.ContentType {
			t.Fatalf("%s as %s: %d %s", tt.path, tt.role, resp.StatusCode, b)
		}
		f, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := f.GetRows(f.GetSheetList()[0])
		f.Close()
		all := fmt.Sprint(rows)
		if strings.Contains(all, testIDNumber(501)) || strings.Contains(all, "13700137000") {
			t.Fatalf("%s as %s holds a full ID number or phone: %s", tt.path, tt.role, all)
		}
		if strings.Contains(all, "身份证号") != tt.hasID || (tt.hasID && !strings.Contains(all, casework.MaskID(testIDNumber(501)))) {
			t.Fatalf("%s as %s: ID column wanted %v: %s", tt.path, tt.role, tt.hasID, all)
		}
	}
	recs, _, err := m.db.ListAudit(ctx, casework.SystemActor("test"), store.AuditFilter{Action: "person.export"})
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d export audit rows, want 3 (%v)", len(recs), err)
	}
}
