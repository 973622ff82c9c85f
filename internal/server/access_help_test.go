package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Assistance, employment, help plans and prevention events (issue 11 §4–7).
// Help is read by office, lead, worker and police (police without amounts)
// and recorded by the lead and the responsible worker; a record is changed
// by its author or a lead (the targets are made by the system, so only the
// lead); counsellors see none of it. Events are read by the same four and
// recorded by office, lead and worker, scoped by the organiser's subtree.
var helpNext = casework.MustParseDate(todayText).AddDays(7).String()

var _ = addRules(map[string]accessRule{
	"GET /persons/{id}/help":                     {roles: readers},
	"POST /persons/{id}/help/plan":               {roles: writers, body: "goal=找到稳定工作&next_review=" + helpNext},
	"POST /persons/{id}/help/review":             {roles: writers, body: "reviewed_on=" + todayText + "&next_review=" + helpNext},
	"POST /persons/{id}/help/document":           {roles: writers},
	"POST /persons/{id}/assistance":              {roles: writers, body: "kind=dibao&status=applied&applied_on=" + todayText},
	"POST /assistance/{id}":                      {roles: "lead", body: "status=applied&reason=核对&applied_on=" + todayText},
	"POST /assistance/{id}/police-report":        {roles: writers, body: "reported_on=" + todayText + "&reported_to=派出所"},
	"POST /persons/{id}/employment":              {roles: writers, body: "work=employed&employer=安椰厂&job=操作工&found_by=office&from=" + todayText},
	"POST /employment/{id}":                      {roles: "lead", body: "work=employed&employer=安椰厂&job=班长&found_by=office&reason=调岗&from=" + todayText},
	"GET /employment":                            {roles: readers},
	"GET /employment/export.xlsx":                {roles: readers},
	"GET /assistance":                            {roles: readers},
	"GET /assistance/export.xlsx":                {roles: readers},
	"GET /events":                                {roles: readers},
	"POST /events":                               {roles: "office lead worker", body: "org_id={parent}&held_on=" + todayText + "&kind=lecture&topic=禁毒讲座&place=会议室"},
	"GET /events/export.xlsx":                    {roles: readers},
	"GET /events/import":                         {roles: "office lead worker"},
	"POST /events/import":                        {roles: "office lead worker"},
	"GET /events/import/template.xlsx":           {roles: "office lead worker"},
	"GET /events/{id}":                           {roles: readers},
	"POST /events/{id}/photos":                   {roles: "office lead worker"},
	"GET /event-photos/{id}":                     {roles: readers},
	"GET /api/v1/persons/{id}/help":              {roles: readers},
	"PUT /api/v1/persons/{id}/help/plan":         {roles: writers, body: `{"goals":[{"goal":"找到稳定工作"}],"next_review":"` + helpNext + `"}`},
	"POST /api/v1/persons/{id}/help/reviews":     {roles: writers, body: `{"reviewed_on":"` + todayText + `","next_review":"` + helpNext + `"}`},
	"POST /api/v1/persons/{id}/assistance":       {roles: writers, body: `{"kind":"dibao","applied_on":"` + todayText + `"}`},
	"PATCH /api/v1/assistance/{id}":              {roles: "lead", body: `{"kind":"dibao","status":"applied","reason":"核对","applied_on":"` + todayText + `"}`},
	"POST /api/v1/assistance/{id}/police-report": {roles: writers, body: `{"reported_on":"` + todayText + `","reported_to":"派出所"}`},
	"POST /api/v1/persons/{id}/employment":       {roles: writers, body: `{"kind":"employed","employer":"安椰厂","job":"操作工","from":"` + todayText + `"}`},
	"PATCH /api/v1/employment/{id}":              {roles: "lead", body: `{"kind":"employed","employer":"安椰厂","job":"班长","reason":"调岗","from":"` + todayText + `"}`},
	"GET /api/v1/employment":                     {roles: readers},
	"GET /api/v1/assistance":                     {roles: readers},
	"GET /api/v1/events":                         {roles: readers},
	"POST /api/v1/events":                        {roles: "office lead worker", body: `{"org_id":"{parent}","held_on":"` + todayText + `","kind":"lecture","topic":"禁毒讲座","place":"会议室"}`},
	"GET /api/v1/events/{id}":                    {roles: readers},
	"GET /api/v1/app/help-plan":                  {roles: "device"},
})

// An assistance target: a 低保 application in a fresh person's file.
var _ = addTarget("assistance", func(m *matrix, community *casework.Org) string {
	pid := personTarget(m, community)
	a := storetest.Must(m.db.AddAssistance(context.Background(), casework.SystemActor("test"), pid, casework.AssistanceInput{
		Kind: casework.AidDibao, AppliedOn: casework.MustParseDate(todayText).AddDays(-1)}))
	return a.ID
})

// An employment target: a job in a fresh person's file.
var _ = addTarget("employment", func(m *matrix, community *casework.Org) string {
	pid := personTarget(m, community)
	e := storetest.Must(m.db.AddEmployment(context.Background(), casework.SystemActor("test"), pid, casework.EmploymentInput{
		EmploymentRecord: casework.EmploymentRecord{Kind: casework.WorkEmployed, Employer: "安椰厂", Job: "操作工", From: casework.MustParseDate(todayText).AddDays(-30)}}))
	return e.ID
})

func eventTarget(m *matrix, community *casework.Org) string {
	e := storetest.Must(m.db.AddEvent(context.Background(), casework.SystemActor("test"), casework.EventInput{OrgID: community.ID,
		HeldOn: casework.MustParseDate(todayText), Place: "厂区广场", Topic: "禁毒宣传", Kind: casework.EventStreet, Audience: 100}))
	return e.ID
}

// An event target, organised by the community.
var _ = addTarget("event", eventTarget)

// matrixPhoto is the content of every event photo target (a 1×1 PNG).
var matrixPhoto, _ = hex.DecodeString("89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
	"1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")

// An event photo target: the bytes reach the blob store through a real
// upload by the lead to an event in street A; the target's row (content
// addressed) points at the same bytes.
var _ = addTarget("event_photo", func(m *matrix, community *casework.Org) string {
	ctx := context.Background()
	home := storetest.Must(m.db.CreateOrg(ctx, casework.SystemActor("test"), casework.OrgInput{ParentID: m.streetA.ID, Kind: casework.KindCommunity, Name: fmt.Sprintf("照片社区%d", m.n)}))
	m.uploadEventPhoto(eventTarget(m, home))
	sum := sha256.Sum256(matrixPhoto)
	p := storetest.Must(m.db.AddEventPhoto(ctx, casework.SystemActor("test"), eventTarget(m, community),
		store.EventPhoto{SHA256: hex.EncodeToString(sum[:]), MIME: "image/png", Size: int64(len(matrixPhoto))}))
	return p.ID
})

func (m *matrix) uploadEventPhoto(eventID string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("photo", "p.png")
	fw.Write(matrixPhoto)
	mw.Close()
	req, _ := http.NewRequest("POST", m.srv.URL+"/events/"+eventID+"/photos", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.RoleLead]["web"]})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		m.t.Logf("matrix event photo upload: %d", resp.StatusCode)
	}
}

// call sends a request as a role and returns status and body.
func (m *matrix) call(t *testing.T, method, path, body, contentType, role string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, m.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+m.tokens[casework.Role(role)]["api"])
	} else {
		req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens[casework.Role(role)]["web"]})
	}
	if contentType == "" {
		contentType = "application/json"
		if !strings.HasPrefix(path, "/api/") {
			contentType = "application/x-www-form-urlencoded"
		}
	}
	req.Header.Set("Content-Type", contentType)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The routes do what they say: the worker records a 低保 approval with its
// amount and a job; the lead's console shows the amount; police read the
// employment and the record without the amount (R37); a counsellor, even
// in the working group, does not find the help; the employment overview
// counts the person as employed.
func TestHelpRoutes(t *testing.T) {
	m := newMatrix(t)
	in := m.target("person", m.streetA)
	yesterday := casework.MustParseDate(todayText).AddDays(-1).String()
	counsellor, err := m.db.UserIDByName(context.Background(), "u-counsellor")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.db.AddGroupMember(context.Background(), casework.SystemActor("test"), in, store.GroupMember{Role: "counsellor", UserID: counsellor, Name: "心理咨询师"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, method, path, body, role string
		status                         int
		contains, absent               string
	}{
		{"worker records dibao approved", "POST", "/api/v1/persons/" + in + "/assistance",
			`{"kind":"dibao","status":"approved","applied_on":"` + yesterday + `","decided_on":"` + todayText + `","amount_fen":68000,"provider":"吉阳区民政局"}`,
			"worker", http.StatusCreated, `"amount_fen":68000`, ""},
		{"worker records a job", "POST", "/persons/" + in + "/employment", "work=employed&employer=安椰厂&job=操作工&found_by=office&from=" + yesterday,
			"worker", http.StatusSeeOther, "", ""},
		{"a job without employer names the field", "POST", "/persons/" + in + "/employment", "work=employed&job=操作工&from=" + yesterday,
			"worker", http.StatusUnprocessableEntity, `data-field="employer"`, ""},
		{"lead sees the amount", "GET", "/persons/" + in + "/help", "", "lead", http.StatusOK, "¥680.00", ""},
		{"police see employment, not the amount", "GET", "/api/v1/persons/" + in + "/help", "", "police", http.StatusOK, `"status":"employed"`, "amount_fen"},
		{"police console page without amount", "GET", "/persons/" + in + "/help", "", "police", http.StatusOK, "安椰厂", "680"},
		{"counsellor in the group finds nothing", "GET", "/api/v1/persons/" + in + "/help", "", "counsellor", http.StatusForbidden, "", ""},
		{"the overview counts the person employed", "GET", "/api/v1/employment", "", "lead", http.StatusOK, `"employed":1`, ""},
		{"the file links to the help page", "GET", "/persons/" + in, "", "worker", http.StatusOK, "/persons/" + in + "/help", ""},
		{"timeline shows the help", "GET", "/persons/" + in, "", "lead", http.StatusOK, "登记帮扶救助", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := m.call(t, c.method, c.path, c.body, "", c.role)
			if status != c.status || !strings.Contains(body, c.contains) || (c.absent != "" && strings.Contains(body, c.absent)) {
				t.Fatalf("got %d, want %d containing %q without %q:\n%.800s", status, c.status, c.contains, c.absent, body)
			}
		})
	}
}

// The assistance export is masked as on screen: the lead's has the
// amount, the police's a dash (R37); each export is audited.
func TestHelpExportsMasked(t *testing.T) {
	m := newMatrix(t)
	in := m.target("person", m.streetA)
	yesterday := casework.MustParseDate(todayText).AddDays(-1).String()
	if st, body := m.call(t, "POST", "/api/v1/persons/"+in+"/assistance", `{"kind":"dibao","status":"approved","applied_on":"`+yesterday+
		`","decided_on":"`+todayText+`","amount_fen":68000}`, "", "worker"); st != http.StatusCreated {
		t.Fatalf("record: %d %s", st, body)
	}
	cells := func(role string) string {
		t.Helper()
		st, body := m.call(t, "GET", "/assistance/export.xlsx", "", "", role)
		if st != http.StatusOK {
			t.Fatalf("%s export: %d", role, st)
		}
		f, err := excelize.OpenReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows(f.GetSheetList()[0])
		if err != nil || len(rows) != 2 {
			t.Fatalf("%s export rows %v %v", role, rows, err)
		}
		return strings.Join(rows[1], "|")
	}
	if got := cells("lead"); !strings.Contains(got, "680.00") {
		t.Errorf("lead's export row %q lacks the amount", got)
	}
	if got := cells("police"); strings.Contains(got, "680") || !strings.Contains(got, "—") {
		t.Errorf("police export row %q shows the amount", got)
	}
	recs, _, err := m.db.ListAudit(context.Background(), casework.SystemActor("test"), store.AuditFilter{Action: "assistance.export", Limit: 10})
	if err != nil || len(recs) != 2 {
		t.Errorf("audited exports: %d %v, want 2", len(recs), err)
	}
}

// eventWorkbook builds an event import file from rows of cells.
func eventWorkbook(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (m *matrix) importEvents(t *testing.T, file []byte, dry bool) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if dry {
		mw.WriteField("dry_run", "1")
	}
	fw, _ := mw.CreateFormFile("file", "events.xlsx")
	fw.Write(file)
	mw.Close()
	return m.call(t, "POST", "/events/import", body.String(), mw.FormDataContentType(), "lead")
}

// The event import (issue 11 §8): every bad row is reported by row, column
// and reason and nothing is written; a good file writes every row; the same
// file again changes nothing.
func TestEventImport(t *testing.T) {
	m := newMatrix(t)
	head := []any{"活动日期", "主办单位", "活动形式", "主题", "地点", "受众人次", "发放资料份数"}
	bad := eventWorkbook(t, [][]any{head,
		{todayText, m.streetA.Name, "讲座", "禁毒讲座", "会议室", "50", "20"},
		{"2021-02-30", m.streetA.Name, "讲座", "禁毒讲座", "会议室", "50", "20"},
		{todayText, "不存在的社区", "讲座", "禁毒讲座", "会议室", "50", "20"},
		{todayText, m.streetA.Name, "跳舞", "禁毒讲座", "会议室", "x", "20"},
	})
	status, body := m.importEvents(t, bad, false)
	for _, want := range []string{`<td>3</td><td>活动日期</td>`, `<td>4</td><td>主办单位</td>`, `<td>5</td><td>活动形式</td>`, `<td>5</td><td>受众人次</td>`} {
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, want) {
			t.Fatalf("bad file: %d, want 422 with %q:\n%.3000s", status, want, body)
		}
	}
	if c := storetest.Must(m.db.CountEvents(context.Background(), casework.SystemActor("test"), store.EventFilter{})); c.Events != 0 {
		t.Fatalf("a refused import wrote %d events", c.Events)
	}
	good := eventWorkbook(t, [][]any{head,
		{todayText, m.streetA.Name, "讲座", "禁毒讲座", "会议室", "50", "20"},
		{todayText, m.streetA.Name, "街头宣传摊位", "6·26宣传", "广场", "300", "500"},
	})
	if status, body := m.importEvents(t, good, false); status != http.StatusOK || !strings.Contains(body, `data-testid="import-created">2<`) {
		t.Fatalf("good file: %d\n%.2000s", status, body)
	}
	if status, body := m.importEvents(t, good, false); status != http.StatusOK || !strings.Contains(body, `data-testid="import-unchanged">2<`) {
		t.Fatalf("again: %d\n%.2000s", status, body)
	}
	c := storetest.Must(m.db.CountEvents(context.Background(), casework.SystemActor("test"), store.EventFilter{}))
	if c.Events != 2 || c.Audience != 350 {
		t.Fatalf("after two imports: %d events reaching %d, want 2 reaching 350", c.Events, c.Audience)
	}
	// The export is the list as on screen.
	status, body = m.call(t, "GET", "/events/export.xlsx", "", "", "police")
	if status != http.StatusOK || !strings.HasPrefix(body, "PK") {
		t.Fatalf("export: %d", status)
	}
}
