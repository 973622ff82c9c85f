package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
	"kangfu/internal/web"
)

// site is the console over a real database: a county with two streets (A
// and B), a community in each, and staff: a worker and a lead at A, a lead
// at B.
type site struct {
	t          *testing.T
	db         *store.DB
	srv        *httptest.Server
	commA      *casework.Org
	commB      *casework.Org
	streetA    *casework.Org
	users      map[string]string // username → user id
	tokens     map[string]string // username → console session token
	today      casework.Date
	sys        *casework.Actor
	noRedirect *http.Client
}

func newSite(t *testing.T, db *store.DB) *site {
	ctx := context.Background()
	s := &site{t: t, db: db, users: map[string]string{}, tokens: map[string]string{}, sys: casework.SystemActor("test"),
		today: casework.DateOf(db.Now(), nil)}
	mk := func(parent *casework.Org, kind casework.OrgKind, name string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return storetest.Must(db.CreateOrg(ctx, s.sys, in))
	}
	county := mk(mk(mk(nil, casework.KindProvince, "海南省"), casework.KindCity, "三亚市"), casework.KindCounty, "吉阳区")
	s.streetA = mk(county, casework.KindTownship, "椰林街道")
	streetB := mk(county, casework.KindTownship, "海湾街道")
	s.commA, s.commB = mk(s.streetA, casework.KindCommunity, "安椰社区"), mk(streetB, casework.KindCommunity, "海湾社区")
	for _, u := range []struct {
		name string
		role casework.Role
		org  *casework.Org
	}{{"worker", casework.RoleWorker, s.commA}, {"lead", casework.RoleLead, s.streetA}, {"leadb", casework.RoleLead, streetB},
		{"police", casework.RolePolice, s.streetA}} {
		user := storetest.Must(db.CreateUser(ctx, s.sys, casework.UserInput{Username: u.name, DisplayName: "用户" + u.name, OrgID: u.org.ID,
			Password: "long-enough-pw"}, "$argon2id$x", false))
		storetest.Must(db.GrantRole(ctx, s.sys, user.ID, u.role, u.org.ID))
		tok, hash := auth.NewToken()
		if err := db.CreateSession(ctx, store.Session{TokenHash: hash, UserID: user.ID, Kind: "web", ExpiresAt: time.Now().Add(time.Hour)}, "127.0.0.1", "test", "test"); err != nil {
			t.Fatal(err)
		}
		s.users[u.name], s.tokens[u.name] = user.ID, tok
	}
	c, err := web.New(db, auth.NewService(db, auth.DefaultPolicy()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, rt := range c.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
	}
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	s.noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return s
}

// do sends a request as the user ("" for nobody) in the language and
// returns status, Location and body.
func (s *site) do(user, lang, method, path string, form url.Values) (int, string, string) {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: s.tokens[user]})
	}
	if lang != "" {
		req.AddCookie(&http.Cookie{Name: "kangfu_lang", Value: lang})
	}
	resp, err := s.noRedirect.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// get fetches a page that must answer 200.
func (s *site) get(user, lang, path string) string {
	s.t.Helper()
	status, loc, body := s.do(user, lang, "GET", path, nil)
	if status != http.StatusOK {
		s.t.Fatalf("GET %s as %s: %d %s\n%s", path, user, status, loc, excerpt(body))
	}
	if m := missingKey.FindString(body); m != "" {
		s.t.Errorf("GET %s shows the missing catalog key %s", path, m)
	}
	return body
}

// post sends a form that must redirect (post/redirect/get) and returns where to.
func (s *site) post(user, path string, form url.Values) string {
	s.t.Helper()
	status, loc, body := s.do(user, "", "POST", path, form)
	if status != http.StatusSeeOther {
		s.t.Fatalf("POST %s as %s: %d, want 303\n%s", path, user, status, excerpt(body))
	}
	return loc
}

// missingKey is how i18n.T shows a key the catalogs lack.
var missingKey = regexp.MustCompile(`\[[a-z_]+\.[a-z0-9_.]+\]`)

var errorRe = regexp.MustCompile(`(?s)<p class="error"[^>]*>.*?</p>|<span class="error"[^>]*>.*?</span>`)

// excerpt keeps the error messages of a page, or its start.
func excerpt(body string) string {
	if m := errorRe.FindAllString(body, -1); len(m) > 0 {
		return strings.Join(m, "\n")
	}
	return body[:min(len(body), 600)]
}

func idNumber(body string) string { return body + string(casework.IDCheckChar(body)) }

// newPersonForm is a valid new-file form: the person and a 社区戒毒 measure
// received recvAgo days ago, reported when reported is true.
func (s *site) newPersonForm(name, id, phone string, recvAgo int, reported bool) url.Values {
	f := url.Values{"org_id": {s.commA.ID}, "name": {name}, "id_number": {id}, "phone": {phone}, "ethnicity": {"汉族"},
		"kind": {string(casework.MeasureTreatment)}, "decision_number": {"吉公（禁）社戒决字〔2026〕1号"}, "decision_authority": {"三亚市公安局吉阳分局"},
		"decision_date": {s.today.AddDays(-recvAgo - 2).String()}, "received_date": {s.today.AddDays(-recvAgo).String()},
		"contact1_name": {"母亲"}, "contact1_relation": {"母子"}, "contact1_phone": {"13911112222"}, "substances": {"冰毒，海洛因"}}
	if reported {
		f.Set("report_date", s.today.AddDays(-recvAgo+3).String())
	}
	return f
}

func (s *site) createPerson(user string, f url.Values) string {
	s.t.Helper()
	loc := s.post(user, "/persons", f)
	id, ok := strings.CutPrefix(strings.Split(loc, "?")[0], "/persons/")
	if !ok || id == "" {
		s.t.Fatalf("create person redirected to %q", loc)
	}
	return id
}

// TestNoUnmaskedIDOrPhone renders the list (plain, searched by ID number and
// by phone, in both languages) and the file, and finds the person with
// masked values only (R36). A reveal with a reason shows the value once and
// is audited.
func TestNoUnmaskedIDOrPhone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		id, phone := idNumber("46020319850612003"), "13812345678"
		pid := s.createPerson("worker", s.newPersonForm("林小明", id, phone, 10, true))
		masked := casework.MaskID(id)
		pages := map[string]string{
			"list":            s.get("worker", "", "/persons"),
			"list en":         s.get("worker", "en", "/persons"),
			"search by id":    s.get("lead", "", "/persons?q="+id),
			"search by phone": s.get("lead", "", "/persons?q="+phone),
			"search by name":  s.get("police", "", "/persons?q="+url.QueryEscape("小明")),
			"file":            s.get("worker", "", "/persons/"+pid),
			"file en":         s.get("lead", "en", "/persons/"+pid),
		}
		for name, body := range pages {
			t.Run(name, func(t *testing.T) {
				for _, secret := range []string{id, phone, "13911112222"} {
					if strings.Contains(body, secret) {
						t.Errorf("page shows the unmasked value %s", secret)
					}
				}
				if !strings.Contains(body, "林小明") || !strings.Contains(body, masked) {
					t.Errorf("page lacks the person or the masked ID %s:\n%s", masked, excerpt(body))
				}
			})
		}
		if body := s.get("worker", "", "/persons?q=46020319850612000X"); strings.Contains(body, "林小明") {
			t.Error("a search by another ID number found the person")
		}

		status, _, body := s.do("worker", "", "POST", "/persons/"+pid+"/reveal", url.Values{"field": {"id_number"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "须填写原因") || strings.Contains(body, id) {
			t.Fatalf("reveal without a reason: %d %s", status, excerpt(body))
		}
		_, _, body = s.do("worker", "", "POST", "/persons/"+pid+"/reveal", url.Values{"field": {"id_number"}, "reason": {"核对身份"}})
		if !strings.Contains(body, id) {
			t.Fatal("a reveal with a reason did not show the ID number")
		}
		if body := s.get("worker", "", "/persons/"+pid); strings.Contains(body, id) {
			t.Error("the revealed ID number is shown again on the next view")
		}
		rows, _, err := db.ListAudit(context.Background(), s.sys, store.AuditFilter{Action: "person.reveal", TargetID: pid})
		if err != nil || len(rows) != 1 || rows[0].Reason != "核对身份" {
			t.Fatalf("reveal audit rows: %+v %v", rows, err)
		}
	})
}

// TestNewPersonFormErrors: a bad form is shown again with the error next
// to its field, and nothing is written.
func TestNewPersonFormErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		good := idNumber("46020319900101123")
		tests := []struct {
			name, field, value, wantField, wantMsg string
		}{
			{"wrong check digit", "id_number", good[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", good[17])+1)%11]), "id_number", "校验码"},
			{"old 15-digit number", "id_number", "460203900101123", "id_number", "15位"},
			{"no name", "name", "", "name", "姓名"},
			{"no decision number", "decision_number", "", "decision_number", "文号"},
			{"received in the future", "received_date", s.today.AddDays(3).String(), "received_date", "不能晚于今天"},
			{"bad phone", "phone", "12345", "phone", "电话"},
			{"rehab term over 3 years", "term_months", "40", "term_months", "36"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := s.newPersonForm("王五", good, "13800001111", 3, false)
				f.Set(tt.field, tt.value)
				if tt.field == "term_months" {
					f.Set("kind", string(casework.MeasureRehab))
				}
				status, _, body := s.do("worker", "", "POST", "/persons", f)
				if status != http.StatusBadRequest {
					t.Fatalf("status %d, want 400", status)
				}
				re := regexp.MustCompile(`data-field="` + regexp.QuoteMeta(tt.wantField) + `">([^<]*)<`)
				m := re.FindStringSubmatch(body)
				if m == nil || !strings.Contains(m[1], tt.wantMsg) {
					t.Fatalf("no error next to %s containing %q:\n%s", tt.wantField, tt.wantMsg, excerpt(body))
				}
				_, total, err := db.ListPersons(context.Background(), s.sys, store.PersonFilter{IncludeEnded: true})
				if err != nil || total != 0 {
					t.Fatalf("a bad form wrote %d persons (%v)", total, err)
				}
			})
		}
	})
}

// TestDeemedRefusalShown: a pending report past the 15-day deadline shows
// the days overdue (R1, R2); one on day 15 does not.
func TestDeemedRefusalShown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		late := s.createPerson("worker", s.newPersonForm("逾期甲", idNumber("46020319800101001"), "", 20, false))
		s.createPerson("worker", s.newPersonForm("准时乙", idNumber("46020319800101002"), "", 15, false))
		list := s.get("worker", "", "/persons")
		if !strings.Contains(list, "逾期未报到（视为拒绝，《戒毒条例》第十四条）5天") {
			t.Errorf("list lacks the 5 days overdue:\n%s", excerpt(list))
		}
		if n := strings.Count(list, `data-testid="deemed-refusal"`); n != 1 {
			t.Errorf("%d persons flagged, want 1 (day 15 is on time)", n)
		}
		if en := s.get("worker", "en", "/persons"); !strings.Contains(en, "deemed refusal, 5 days overdue") {
			t.Error("English list lacks the overdue flag")
		}
		if body := s.get("worker", "", "/persons/"+late); !strings.Contains(body, "逾期未报到（视为拒绝，《戒毒条例》第十四条）5天") {
			t.Error("file lacks the overdue flag")
		}
		if body := s.get("worker", "", "/persons?deadline=1"); !strings.Contains(body, "逾期甲") || !strings.Contains(body, "准时乙") {
			t.Error("the deadline filter lost a pending person due within 7 days")
		}
	})
}

// TestFileForms walks a file through its forms: status changes, the
// working group, the agreement, and the timeline that records them.
func TestFileForms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("陈某", idNumber("46020319881231004"), "13700000000", 3, false))
		path := "/persons/" + pid

		if body := s.get("worker", "", path); !strings.Contains(body, `data-testid="transition-report_in"`) || strings.Contains(body, `data-testid="transition-start_leave"`) {
			t.Fatal("a pending file should offer report-in and not leave")
		}
		s.post("worker", path+"/transitions", url.Values{"action": {"report_in"}, "effective_date": {s.today.String()}})
		body := s.get("worker", "", path)
		if want := s.today.AddYears(3).String(); !strings.Contains(body, want) {
			t.Errorf("after report-in the term should end on %s (R3)", want)
		}
		status, _, body := s.do("worker", "", "POST", path+"/transitions", url.Values{"action": {"suspend"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "请填写原因") {
			t.Errorf("suspension without a reason: %d %s", status, excerpt(body))
		}
		// 请假 comes only from an approved leave (R28, issue 18 §1): no
		// button, and a hand-made request is refused with the reason.
		if strings.Contains(s.get("worker", "", path), `data-testid="transition-start_leave"`) {
			t.Error("an executing file offers 请假 by hand")
		}
		status, _, body = s.do("worker", "", "POST", path+"/transitions", url.Values{"action": {"start_leave"}, "reason": {"回老家探亲"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "已批准的请假") {
			t.Errorf("请假 by hand: %d %s", status, excerpt(body))
		}
		status, _, body = s.do("worker", "", "POST", path+"/transitions", url.Values{"action": {"resume"}, "reason": {"x"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "不能") {
			t.Errorf("a refused transition: %d %s", status, excerpt(body))
		}
		s.post("worker", path+"/transitions", url.Values{"action": {"suspend"}, "reason": {"因违法被行政拘留十日"}})
		s.post("worker", path+"/group", url.Values{"role": {"other"}, "role_other": {"厂区保卫负责人"}, "name": {"王保卫"}})
		s.post("worker", path+"/group", url.Values{"role": {"police"}, "name": {"李警官"}})
		s.post("worker", path+"/measure", url.Values{"agreement_date": {s.today.String()}})
		body = s.get("worker", "", path)
		for _, want := range []string{"中止", "厂区保卫负责人", "王保卫", "社区民警", "李警官", "因违法被行政拘留十日", "工作小组新增成员", "签订协议", "建档"} {
			if !strings.Contains(body, want) {
				t.Errorf("file lacks %q", want)
			}
		}
		member := regexp.MustCompile(`/group/remove/([^"]+)"`).FindStringSubmatch(body)
		if member == nil {
			t.Fatal("no remove form for a group member")
		}
		s.post("worker", path+"/group/remove/"+member[1], url.Values{})
		ms := storetest.Must(db.ListMeasures(context.Background(), s.sys, pid))
		if len(ms[0].Group) != 1 || ms[0].Status != casework.StatusSuspended || ms[0].AgreementDate != s.today {
			t.Errorf("measure after the forms: %d members, status %s, agreement %s", len(ms[0].Group), ms[0].Status, ms[0].AgreementDate)
		}
		if en := s.get("worker", "en", path); !strings.Contains(en, "Working-group member added") || !strings.Contains(en, "Reported in") {
			t.Error("English timeline lacks the event names")
		}
		// Police read the file but have no forms.
		if body := s.get("police", "", path); strings.Contains(body, `action="`+path+`/transitions"`) {
			t.Error("police see the status forms")
		}
	})
}

// TestTransferPages: street A hands a file to street B, which accepts it;
// A then sees the history up to the hand-over with a banner (R11).
func TestTransferPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("赵某", idNumber("46020319700707005"), "", 20, true))
		path := "/persons/" + pid
		if status, _, _ := s.do("leadb", "", "GET", path, nil); status != http.StatusNotFound {
			t.Fatalf("street B reads A's file before a transfer: %d", status)
		}
		s.post("lead", path+"/transfers", url.Values{"to_org_id": {s.commB.ID}, "reason": {"户籍迁移"}})
		in := s.get("leadb", "", "/transfers")
		if !strings.Contains(in, "赵某") || !strings.Contains(in, `data-testid="transfer-accept"`) {
			t.Fatalf("B's incoming list lacks the transfer:\n%s", excerpt(in))
		}
		if body := s.get("leadb", "", path); !strings.Contains(body, `data-testid="incoming-banner"`) {
			t.Error("B reads the incoming file without the incoming banner")
		}
		tid := regexp.MustCompile(`/transfers/([^/"]+)/decision`).FindStringSubmatch(in)[1]
		status, _, body := s.do("leadb", "", "POST", "/transfers/"+tid+"/decision", url.Values{"accept": {"0"}})
		if status != http.StatusBadRequest || !strings.Contains(body, "退回须填写原因") {
			t.Fatalf("refusal without a reason: %d %s", status, excerpt(body))
		}
		loc := s.post("leadb", "/transfers/"+tid+"/decision", url.Values{"accept": {"1"}, "agreement_date": {s.today.String()}})
		if !strings.HasPrefix(loc, path) {
			t.Errorf("accept redirected to %s", loc)
		}
		body = s.get("leadb", "", path)
		if !strings.Contains(body, "海湾社区") || !strings.Contains(body, "待报到") {
			t.Error("after acceptance the file is not pending report at B")
		}
		old := s.get("lead", "", path)
		if !strings.Contains(old, `data-testid="historical-banner"`) || !strings.Contains(old, "移交前的历史记录") {
			t.Error("A lacks the history banner after the hand-over")
		}
		if strings.Contains(old, `action="`+path+`/transitions"`) {
			t.Error("A can still change the status after the hand-over")
		}
		s.post("leadb", path+"/transitions", url.Values{"action": {"report_in"}, "reason": {"到海湾社区报到"}})
		if body := s.get("leadb", "", path); !strings.Contains(body, "到海湾社区报到") {
			t.Error("B does not see its own report-in")
		}
		if old := s.get("lead", "", path); strings.Contains(old, "到海湾社区报到") {
			t.Error("A sees what happened after its hand-over")
		}
	})
}

// TestArchivedFileAndCorrection: a terminated file is read-only with a
// banner; a correction asked by the worker is applied when the lead
// approves it (two people, R30).
func TestArchivedFileAndCorrection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("孙某", idNumber("46020319750505006"), "", 20, true))
		path := "/persons/" + pid
		s.post("worker", path+"/transitions", url.Values{"action": {"terminate"}, "reason": {"收监执行"}})
		body := s.get("worker", "", path)
		if !strings.Contains(body, `data-testid="archived-banner"`) || strings.Contains(body, `action="`+path+`/transitions"`) ||
			strings.Contains(body, `action="`+path+`/group"`) {
			t.Fatal("an archived file shows forms or lacks its banner")
		}
		if status, _, _ := s.do("worker", "", "POST", path, url.Values{"ethnicity": {"回族"}}); status != http.StatusUnprocessableEntity {
			t.Errorf("an edit of an archived file: %d, want 422", status)
		}
		status, _, body := s.do("worker", "", "POST", path+"/corrections", url.Values{"name": {"孙某某"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "更正须说明原因") {
			t.Errorf("a correction without a reason: %d %s", status, excerpt(body))
		}
		s.post("worker", path+"/corrections", url.Values{"name": {"孙某某"}, "reason": {"姓名录入错误"}})
		if body := s.get("worker", "", path); strings.Contains(body, "/decision") {
			t.Error("the requester is offered the approval")
		}
		lead := s.get("lead", "", path)
		cid := regexp.MustCompile(`/corrections/([^/"]+)/decision`).FindStringSubmatch(lead)
		if cid == nil {
			t.Fatal("the lead is not offered the approval")
		}
		s.post("lead", "/corrections/"+cid[1]+"/decision", url.Values{"approve": {"1"}, "person_id": {pid}})
		if body := s.get("lead", "", path); !strings.Contains(body, "孙某某") || !strings.Contains(body, "已批准") {
			t.Error("the approved correction is not applied")
		}
	})
}
