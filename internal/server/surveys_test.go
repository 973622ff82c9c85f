package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/server"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
	"kangfu/internal/web"
)

// surveyForm is a whole answer; variant changes the knowledge answers so
// two answers differ.
func surveyForm(variant int) url.Values {
	v := url.Values{"age_band": {"30-44"}, "role": {"resident"}, "heard": {"yes"}, "channel": {"network"}}
	for _, it := range casework.SatItems {
		v.Set("sat_"+it.Code, "satisfied")
	}
	for i, it := range casework.KnowledgeItems {
		v.Set("k_"+it.Code, []string{"0", "1", "2"}[(i+variant)%3])
	}
	return v
}

type surveyClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

// newSurveyClient is a browser of its own (its own cookie jar) in the language.
func newSurveyClient(t *testing.T, base, lang string) *surveyClient {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(base)
	jar.SetCookies(u, []*http.Cookie{{Name: "kangfu_lang", Value: lang, Path: "/"}})
	return &surveyClient{t: t, base: base, c: &http.Client{Jar: jar}}
}

func (s *surveyClient) do(method, path string, form url.Values, xff string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(form.Encode()))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// answer opens the survey (getting the browser token) and sends the form.
func (s *surveyClient) answer(token string, form url.Values, xff string) (int, string) {
	s.t.Helper()
	if status, body := s.do("GET", "/s/"+token, nil, xff); status != http.StatusOK {
		s.t.Fatalf("open the survey: %d\n%.1500s", status, body)
	}
	return s.do("POST", "/s/"+token, form, xff)
}

// The residents' page over HTTP (issue 12 §4): the per-address rate limit
// (X-Forwarded-For honoured only behind a trusted proxy), the browser token
// (none: refused; the same browser twice: refused), refusal messages in
// Chinese and English, and the count the staff see.
func TestSurveyPublicPageLimits(t *testing.T) {
	m := newMatrix(t)
	ctx := context.Background()
	sys := casework.SystemActor("test")
	comm := storetest.Must(m.db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: m.streetA.ID, Kind: casework.KindCommunity, Name: "椰风社区"}))
	today := casework.MustParseDate(todayText)
	s := storetest.Must(m.db.PublishSurvey(ctx, sys, casework.SurveyInput{OrgID: comm.ID, Title: "椰风社区禁毒满意度调查",
		OpensOn: today.AddDays(-1), ClosesOn: today.AddDays(10), MaxResponses: 100}))
	start := func(trust bool) string {
		srv, err := server.New(m.db, auth.NewService(m.db, auth.DefaultPolicy()), slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{TrustProxy: trust})
		if err != nil {
			t.Fatal(err)
		}
		srv.Console.SurveyLimits = web.SurveyLimits{Burst: 3, Every: time.Hour}
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(hs.Close)
		return hs.URL
	}
	direct, proxied := start(false), start(true)
	accepted := 0
	ok := func(what string, status int, body string) {
		t.Helper()
		if status != http.StatusOK || !strings.Contains(body, `data-testid="survey-thanks"`) {
			t.Fatalf("%s: %d, want thanks\n%.2000s", what, status, body)
		}
		accepted++
	}
	refused := func(what string, status int, body string, wantStatus int, words string) {
		t.Helper()
		if status != wantStatus || !strings.Contains(body, words) {
			t.Fatalf("%s: %d, want %d with %q\n%.2000s", what, status, wantStatus, words, body)
		}
	}

	// Without a browser token (a script that never opened the page).
	bare := newSurveyClient(t, direct, "zh")
	st, body := bare.do("POST", "/s/"+s.Token, surveyForm(0), "")
	refused("no browser token", st, body, http.StatusConflict, "请重新打开调查链接")

	// The page in Chinese and in English.
	if st, body := newSurveyClient(t, direct, "en").do("GET", "/s/"+s.Token, nil, ""); st != http.StatusOK || !strings.Contains(body, "Overall, are you satisfied") {
		t.Fatalf("English page: %d", st)
	}
	first := newSurveyClient(t, direct, "zh")
	st, body = first.answer(s.Token, surveyForm(0), "")
	ok("first answer", st, body)
	st, body = first.do("POST", "/s/"+s.Token, surveyForm(1), "")
	refused("same browser again", st, body, http.StatusConflict, "您已经提交过本调查的答卷")
	// The bucket of 127.0.0.1 held 3: the bare refusal, the first answer and the
	// repeat each took one (every answer counts before anything else is checked).
	st, body = newSurveyClient(t, direct, "en").answer(s.Token, surveyForm(2), "")
	refused("third from one address", st, body, http.StatusTooManyRequests, "too many answers from your network")
	// Without a trusted proxy, a made-up X-Forwarded-For changes nothing.
	st, body = newSurveyClient(t, direct, "zh").answer(s.Token, surveyForm(2), "198.51.100.7")
	refused("spoofed X-Forwarded-For", st, body, http.StatusTooManyRequests, "提交过于频繁")

	// Behind a trusted proxy each forwarded address has its own bucket.
	for i := range 3 {
		st, body = newSurveyClient(t, proxied, "zh").answer(s.Token, surveyForm(i+3), "203.0.113.1")
		ok("proxied address 1", st, body)
	}
	st, body = newSurveyClient(t, proxied, "zh").answer(s.Token, surveyForm(2), "203.0.113.1")
	refused("proxied address 1, fourth", st, body, http.StatusTooManyRequests, "提交过于频繁")
	st, body = newSurveyClient(t, proxied, "en").answer(s.Token, surveyForm(0), "203.0.113.2")
	ok("proxied address 2", st, body)
	// The same answers from the same address within a day, from a new browser.
	st, body = newSurveyClient(t, proxied, "en").answer(s.Token, surveyForm(0), "203.0.113.2")
	refused("same answers, same address", st, body, http.StatusConflict, "the same answers just came from your network")
	// A missing answer is named.
	form := surveyForm(0)
	form.Del("sat_police")
	st, body = newSurveyClient(t, proxied, "zh").answer(s.Token, form, "203.0.113.3")
	refused("a question left out", st, body, http.StatusBadRequest, `data-field="sat_police"`)

	r := storetest.Must(m.db.SurveyFigures(ctx, sys, store.SurveyFilter{SurveyID: s.ID}))
	if r.Total.Respondents != accepted || accepted != 5 {
		t.Fatalf("stored %d answers, accepted %d (want 5)", r.Total.Respondents, accepted)
	}
	// The staff page shows the count; the export leaves masked and audited.
	if st, body := m.call(t, "GET", "/surveys/"+s.ID, "", "", "worker"); st != http.StatusOK || !strings.Contains(body, `data-testid="survey-respondents">5<`) {
		t.Fatalf("staff page: %d\n%.3000s", st, body)
	}
	st, body = m.call(t, "GET", "/surveys/"+s.ID+"/export.xlsx", "", "", "office")
	if st != http.StatusOK || !strings.HasPrefix(body, "PK") {
		t.Fatalf("export: %d", st)
	}
	if _, n, err := m.db.ListAudit(ctx, sys, store.AuditFilter{Action: "survey.export"}); err != nil || n != 1 {
		t.Fatalf("export audited %d times (%v)", n, err)
	}
	if st, body := m.call(t, "GET", "/surveys/"+s.ID+"/qr.png", "", "", "lead"); st != http.StatusOK || !strings.HasPrefix(body, "\x89PNG") {
		t.Fatalf("QR code: %d", st)
	}
	// The poster: the title, the community, the QR code and the link to type.
	st, body = m.call(t, "GET", "/surveys/"+s.ID+"/print", "", "", "worker")
	for _, want := range []string{"椰风社区禁毒满意度调查", `src="data:image/png;base64,`, "/s/" + s.Token + "</code>", "不收集姓名"} {
		if st != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("poster: %d, lacks %q", st, want)
		}
	}
}

func (m *matrix) importSurveys(t *testing.T, file []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "survey.xlsx")
	fw.Write(file)
	mw.Close()
	return m.call(t, "POST", "/surveys/import", body.String(), mw.FormDataContentType(), "office")
}

// A third party's results from a real Excel file (issue 12 §4): every bad
// cell by row and column, nothing written; then the good file counts, and
// the template the page offers reads back as a header.
func TestSurveyImportExcel(t *testing.T) {
	m := newMatrix(t)
	ctx := context.Background()
	sys := casework.SystemActor("test")
	comm := storetest.Must(m.db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: m.streetA.ID, Kind: casework.KindCommunity, Name: "海湾社区"}))
	head := []any{"社区", "开始日期", "结束日期", "调查机构", "受访人数", "满意回答数", "有效满意度回答数", "每人知识题数", "知识题答对数"}
	bad := eventWorkbook(t, [][]any{head,
		{comm.Name, "2026-03-01", "2026-03-31", "第三方", "100", "450", "480", "3", "290"},
		{comm.Name, "2026-02-30", "2026-03-31", "第三方乙", "100", "450", "480", "3", "290"},
		{comm.Name, "2026-03-01", "2026-03-31", "第三方丙", "100", "490", "480", "3", "290"},
	})
	status, body := m.importSurveys(t, bad)
	for _, want := range []string{`<td>3</td><td>开始日期</td>`, `<td>4</td><td>满意回答数</td>`} {
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, want) {
			t.Fatalf("bad file: %d, want 422 with %q\n%.3000s", status, want, body)
		}
	}
	if r := storetest.Must(m.db.SurveyFigures(ctx, sys, store.SurveyFilter{})); r.Imports != 0 {
		t.Fatalf("a refused file wrote %d results", r.Imports)
	}
	good := eventWorkbook(t, [][]any{head, {comm.Name, "2026-03-01", "2026-03-31", "第三方", "100", "450", "480", "3", "290"}})
	if status, body := m.importSurveys(t, good); status != http.StatusOK || !strings.Contains(body, `data-testid="import-created">1<`) {
		t.Fatalf("good file: %d\n%.2000s", status, body)
	}
	r := storetest.Must(m.db.SurveyFigures(ctx, sys, store.SurveyFilter{OrgIDs: []string{comm.ID}}))
	if r.Total.Satisfied != 450 || r.Total.Valid != 480 || r.Total.Correct != 290 || r.Total.Asked != 300 {
		t.Fatalf("imported figures %+v", r.Total)
	}
	if status, body := m.call(t, "GET", "/surveys/import/template.xlsx", "", "", "office"); status != http.StatusOK || !strings.HasPrefix(body, "PK") {
		t.Fatalf("template: %d", status)
	}
	// The API gives the same numbers with the formula.
	status, body = m.call(t, "GET", "/api/v1/surveys/figures?org="+comm.ID, "", "", "office")
	if status != http.StatusOK || !strings.Contains(body, `"numerator":450,"denominator":480`) || !strings.Contains(body, "满意率 =") {
		t.Fatalf("API figures: %d %s", status, body)
	}
}
