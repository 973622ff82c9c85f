package server_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/store/storetest"
)

// postInstrument posts an instrument workbook to the console's upload as
// the role, with the effective date and the dry-run box.
func (m *matrix) postInstrument(t *testing.T, orgID, role string, file []byte, from string, dry bool) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "instrument.xlsx")
	fw.Write(file)
	mw.WriteField("effective_from", from)
	mw.WriteField("note", "区禁毒办印发")
	if dry {
		mw.WriteField("dry_run", "1")
	}
	mw.Close()
	req, _ := http.NewRequest("POST", m.srv.URL+"/orgs/"+orgID+"/risk/instrument/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.Role(role)]["web"]})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (m *matrix) postForm(t *testing.T, path, role string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", m.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.Role(role)]["web"]})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRiskInstrumentConsoleR31 (issue 13 §1): the org's instrument page
// shows the default marked uncalibrated; its Excel download read back is
// the same instrument; an edited sheet with faults is refused with each
// fault by sheet, row and column and nothing stored; a dry run that
// passes stores nothing; the upload stores a version from the date given;
// the form refuses a bad weight beside its input and saves a good one.
func TestRiskInstrumentConsoleR31(t *testing.T) {
	m := newMatrix(t)
	ctx := context.Background()
	org := m.streetA.ID
	resp, b := m.get(t, "/orgs/"+org+"/risk/instrument", "lead")
	if resp.StatusCode != 200 || !strings.Contains(string(b), "未校准") || !strings.Contains(string(b), "染毒种类") || !strings.Contains(string(b), "instr-upload-form") {
		t.Fatalf("page: %d", resp.StatusCode)
	}
	if _, b := m.get(t, "/orgs/"+org+"/risk/instrument", "worker"); strings.Contains(string(b), "instr-upload-form") {
		t.Error("a worker is offered the upload")
	}
	resp, file := m.get(t, "/orgs/"+org+"/risk/instrument.xlsx", "worker")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != exchange.ContentType {
		t.Fatalf("download: %d", resp.StatusCode)
	}
	back, faults, err := exchange.ReadInstrument(bytes.NewReader(file), "zh")
	if err != nil || len(faults) > 0 || back.Body() != casework.DefaultInstrument().Body() {
		t.Fatalf("download read back: %v %v\n%s", err, faults, back.Body())
	}
	edit := func(cells map[string]any) []byte {
		f, err := excelize.OpenReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for ref, v := range cells {
			sheet, cell, _ := strings.Cut(ref, "!")
			f.SetCellValue(sheet, cell, v)
		}
		var out bytes.Buffer
		f.Write(&out)
		return out.Bytes()
	}
	tomorrow := casework.MustParseDate(todayText).AddDays(1).String()
	// Row 2 is drug type's first answer (weight in D); row 3 its second
	// answer (points in H); the bands sheet's row 6 is "high from".
	bad := edit(map[string]any{"评分项!D2": "重", "评分项!H3": 200, "分级!B6": 3})
	status, body := m.postInstrument(t, org, "lead", bad, tomorrow, false)
	if status != 422 {
		t.Fatalf("bad sheet: %d", status)
	}
	for _, want := range []string{"<td>评分项</td><td>2</td><td>权重</td><td>应为整数", "<td>评分项</td><td>3</td><td>分值</td>", "分值须在0到100之间，收到 200",
		"<td>分级</td><td>6</td><td>设置</td>", "“高”的起点分（3）须大于“中”的起点分（5）"} {
		if !strings.Contains(body, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if vs := storetest.Must(m.db.RiskInstrumentVersions(ctx, casework.SystemActor("test"), org)); len(vs) != 0 {
		t.Fatalf("a refused upload stored %d versions", len(vs))
	}
	good := edit(map[string]any{"评分项!D2": 3, "分级!B2": "甲街道风险量化评估表", "分级!B4": "否"})
	if status, body = m.postInstrument(t, org, "lead", good, tomorrow, true); status != 200 || !strings.Contains(body, "检查通过") {
		t.Fatalf("dry run: %d", status)
	}
	if vs := storetest.Must(m.db.RiskInstrumentVersions(ctx, casework.SystemActor("test"), org)); len(vs) != 0 {
		t.Fatal("a dry run stored a version")
	}
	if status, _ = m.postInstrument(t, org, "lead", good, todayText, false); status != 400 {
		t.Fatalf("effective today: %d", status)
	}
	if status, _ = m.postInstrument(t, org, "lead", good, tomorrow, false); status != 303 {
		t.Fatalf("upload: %d", status)
	}
	vs := storetest.Must(m.db.RiskInstrumentVersions(ctx, casework.SystemActor("test"), org))
	if len(vs) != 1 || vs[0].Name != "甲街道风险量化评估表" || vs[0].Uncalibrated || vs[0].Factors[0].Weight != 3 || vs[0].EffectiveFrom.String() != tomorrow {
		t.Fatalf("stored: %+v", vs)
	}
	// The form: a negative weight and a missing label, each beside its
	// input, nothing stored; then a good one.
	form := url.Values{"name": {"表二"}, "medium_from": {"5"}, "high_from": {"10"}, "effective_from": {casework.MustParseDate(tomorrow).AddDays(1).String()},
		"labels.high_zh": {"高"}, "labels.high_en": {"high"}, "labels.medium_zh": {"中"}, "labels.medium_en": {"medium"}, "labels.low_zh": {"低"}, "labels.low_en": {""}}
	for i, f := range casework.DefaultInstrument().Factors {
		form.Set("factors["+itoa(i)+"].weight", "1")
		for j, o := range f.Options {
			form.Set("factors["+itoa(i)+"].options["+itoa(j)+"].points", itoa(o.Points))
		}
	}
	form.Set("factors[2].weight", "-1")
	status, body = m.postForm(t, "/orgs/"+org+"/risk/instrument", "lead", form)
	if status != 400 || !strings.Contains(body, `id="err-factors[2].weight"`) || !strings.Contains(body, `id="err-labels.low_en"`) {
		t.Fatalf("bad form: %d", status)
	}
	form.Set("factors[2].weight", "2")
	form.Set("labels.low_en", "low")
	if status, _ = m.postForm(t, "/orgs/"+org+"/risk/instrument", "office", form); status != 303 {
		t.Fatalf("good form: %d", status)
	}
	if vs = storetest.Must(m.db.RiskInstrumentVersions(ctx, casework.SystemActor("test"), org)); len(vs) != 2 || vs[0].Factors[2].Weight != 2 || vs[0].Name != "表二" {
		t.Fatalf("after the form: %d versions", len(vs))
	}
	if status, _ = m.postForm(t, "/orgs/"+org+"/risk/instrument", "worker", form); status != 403 && status != 404 {
		t.Fatalf("a worker saved an instrument: %d", status)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
