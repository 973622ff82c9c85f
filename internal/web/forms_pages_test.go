package web_test

import (
	"context"
	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// refusedBoth posts a form with several bad fields in Chinese and in
// English and checks, for each, a 422 re-render with every message beside
// its field (by its error element and the input's aria-describedby), the
// summary, the typed values kept and each message only once on the page
// (a page of several forms shows them in the form that was sent).
func (s *site) refusedBoth(user, path string, f url.Values, zh, en map[string]string, kept ...string) {
	s.t.Helper()
	for _, c := range []struct {
		lang string
		want map[string]string
	}{{"zh", zh}, {"en", en}} {
		status, _, body := s.do(user, c.lang, "POST", path, f)
		if status != http.StatusUnprocessableEntity {
			s.t.Fatalf("POST %s (%s): %d, want 422\n%s", path, c.lang, status, excerpt(body))
		}
		checkAllErrors(s.t, body, c.want, kept...)
		for field := range c.want {
			if n := strings.Count(body, `id="err-`+field+`"`); n != 1 {
				s.t.Errorf("POST %s (%s): the message of %s shows %d times", path, c.lang, field, n)
			}
		}
		if m := missingKey.FindString(body); m != "" {
			s.t.Errorf("POST %s (%s) shows the catalog key %s", path, c.lang, m)
		}
	}
}

// TestPersonPageFormsReportEveryError (issue 18 item 9): each form of the
// person page — profile, R17 facts, status change, agreement date — answers
// a form with several bad fields with each message beside its field in that
// form only, and keeps what was typed.
func TestPersonPageFormsReportEveryError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("陈小红", idNumber("46020319881231002"), "13700000001", 10, true))
		path := "/persons/" + pid

		t.Run("profile", func(t *testing.T) {
			s.refusedBoth("worker", path, url.Values{"name": {"陈小红"}, "phone": {"12345"}, "ethnicity": {"黎族"},
				"health_notes": {strings.Repeat("病", 2001)}},
				map[string]string{"phone": "电话", "health_notes": "2000"},
				map[string]string{"phone": "phone", "health_notes": "2000"}, "12345", "黎族")
		})
		t.Run("special facts R17", func(t *testing.T) {
			s.refusedBoth("worker", path+"/special", url.Values{"pregnant": {"1"}, "infant_birth": {s.today.AddDays(3).String()}, "note": {"孕检记录在卫生院"}},
				map[string]string{"expected_delivery": "预产期", "infant_birth": "不能晚于今天"},
				map[string]string{"expected_delivery": "expected delivery", "infant_birth": "future"}, "孕检记录在卫生院", s.today.AddDays(3).String())
			_, _, body := s.do("worker", "zh", "POST", path+"/special", url.Values{"pregnant": {"1"}, "infant_birth": {"2026-13-40"}, "delivered_on": {"x"}})
			checkAllErrors(t, body, map[string]string{"infant_birth": "", "delivered_on": "YYYY-MM-DD"})
			if !regexp.MustCompile(`name="pregnant" value="1"[^>]* checked>`).MatchString(body) {
				t.Errorf("the ticked box is not kept: %s", excerpt(body))
			}
		})
		t.Run("status change", func(t *testing.T) {
			f := url.Values{"action": {"suspend"}, "effective_date": {s.today.AddDays(5).String()}, "reason": {""}}
			s.refusedBoth("worker", path+"/transitions", f,
				map[string]string{"effective_date": "不能晚于今天", "reason": "原因"},
				map[string]string{"effective_date": "future", "reason": "reason is required"}, s.today.AddDays(5).String())
		})
	})
}

// TestHelpPageFormsReportEveryError (issue 18 item 9): the 帮扶 forms —
// adding assistance, adding a job and editing it — answer every bad field
// at once beside it, keeping what was typed.
func TestHelpPageFormsReportEveryError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("林帮扶", idNumber("46020319900101123"), "13700000002", 10, true))
		path := "/persons/" + pid
		s.refusedBoth("worker", path+"/assistance", url.Values{"kind": {"dibao"}, "status": {"applied"}, "applied_on": {"2026-99-99"},
			"amount": {"五百"}, "provider": {"县民政局"}},
			map[string]string{"applied_on": "不存在", "amount": ""},
			map[string]string{"applied_on": "not a real", "amount": ""}, "县民政局", "五百")
		s.refusedBoth("worker", path+"/employment", url.Values{"work": {"employed"}, "employer": {""}, "from": {s.today.AddDays(9).String()},
			"to": {"x"}, "note": {"夜班保安"}},
			map[string]string{"to": "YYYY-MM-DD", "from": ""},
			map[string]string{"to": "YYYY-MM-DD", "from": ""}, "夜班保安")
	})
}

// TestOrgFormsReportEveryError (issue 18 item 9): the org edit and the new
// child org forms answer every bad field at once beside it; the retire and
// delete forms, which share a field name, each show their own message.
func TestOrgFormsReportEveryError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		s.addAdmin()
		path := "/orgs/" + s.commA.ID
		s.refusedBoth("admin", path, url.Values{"name": {""}, "area_code": {"4601"}, "time_zone": {"Mars/Olympus"}},
			map[string]string{"name": "名称", "area_code": "12位", "time_zone": "时区"},
			map[string]string{"name": "name is required", "area_code": "12 digits", "time_zone": "time zone"}, "4601", "Mars/Olympus")
		s.refusedBoth("admin", "/orgs/"+s.streetA.ID+"/children", url.Values{"name": {""}, "kind": {"community"}, "area_code": {"abc"}, "time_zone": {"Asia/Shanghai"}},
			map[string]string{"name": "名称", "area_code": "12位"},
			map[string]string{"name": "name is required", "area_code": "12 digits"}, "abc")
		status, _, body := s.do("admin", "en", "POST", path+"/delete", url.Values{"reason": {""}})
		if status != http.StatusUnprocessableEntity || strings.Count(body, `id="err-reason"`) > 1 {
			t.Fatalf("delete without a reason: %d, %d messages\n%s", status, strings.Count(body, `id="err-reason"`), excerpt(body))
		}
	})
}

// addAdmin signs in "admin", an administrator of the county (no TOTP).
func (s *site) addAdmin() {
	s.t.Helper()
	ctx := context.Background()
	county := s.streetA.ParentID
	admin := storetest.Must(s.db.CreateUser(ctx, s.sys, casework.UserInput{Username: "admin", DisplayName: "管理员", OrgID: county, Password: "long-enough-pw"}, "$argon2id$x", false))
	storetest.Must(s.db.GrantRole(ctx, s.sys, admin.ID, casework.RoleAdmin, county))
	if err := s.db.SetTOTPExempt(ctx, s.sys, admin.ID, true); err != nil {
		s.t.Fatal(err)
	}
	tok, hash := auth.NewToken()
	if err := s.db.CreateSession(ctx, store.Session{TokenHash: hash, UserID: admin.ID, Kind: "web", ExpiresAt: time.Now().Add(time.Hour)}, "127.0.0.1", "test", "test"); err != nil {
		s.t.Fatal(err)
	}
	s.users["admin"], s.tokens["admin"] = admin.ID, tok
}

// TestViolationAndCaseFormsReportEveryError (issue 18 item 9): the ladder
// step (R29, R10) and the police decision on a serious case (R10) answer
// every bad field at once beside it, keeping what was typed.
func TestViolationAndCaseFormsReportEveryError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		ctx := context.Background()
		pid := s.createPerson("worker", s.newPersonForm("吴违规", idNumber("46020319900101123"), "13700000003", 10, true))
		v := storetest.Must(db.RecordDrugUse(ctx, s.sys, pid, store.DrugUseInput{Day: s.today.AddDays(-1), Detail: "尿检前承认吸毒"}))
		s.refusedBoth("lead", "/violations/"+v.ID+"/steps", url.Values{"step": {""}, "reason": {""}, "recipient": {"椰林派出所"}},
			map[string]string{"step": "处理步骤", "reason": "理由"},
			map[string]string{"step": "choose a step", "reason": "reason is required"}, "椰林派出所")
		s.refusedBoth("lead", "/violations/"+v.ID+"/steps", url.Values{"step": {"police"}, "reason": {strings.Repeat("拒", 1001)}},
			map[string]string{"reason": "1000", "recipient": "接收单位"},
			map[string]string{"reason": "1000", "recipient": "receiving unit"})

		cs, _, err := db.ListSeriousCases(ctx, s.sys, store.CaseFilter{PersonID: pid})
		if err != nil || len(cs) != 1 {
			t.Fatalf("serious case: %v %d", err, len(cs))
		}
		path := "/cases/" + cs[0].ID
		storetest.Must(db.StepSeriousCase(ctx, s.sys, cs[0].ID, casework.CaseStep{Action: casework.CaseReport, Recipient: "椰林派出所 王警官"}, nil))
		s.post("police", path+"/police", url.Values{"action": {"acknowledge"}, "text": {"已接收"}})
		s.refusedBoth("police", path+"/police", url.Values{"action": {"decide"}, "decision": {"compulsory"}, "decision_date": {s.today.AddDays(4).String()}, "text": {""}},
			map[string]string{"decision_date": "决定日期", "text": "决定内容"},
			map[string]string{"decision_date": "decision date", "text": "text or number"}, s.today.AddDays(4).String())
		s.refusedBoth("police", path+"/police", url.Values{"action": {"decide"}, "decision": {"compulsory"}, "decision_date": {"明天"}, "text": {""}},
			map[string]string{"decision_date": "YYYY-MM-DD", "text": "决定内容"},
			map[string]string{"decision_date": "YYYY-MM-DD", "text": "text or number"}, "明天")
	})
}

// TestScheduleFormsReportEveryError (issue 18 item 9): forcing a test day
// (R25) with a past day and no reason shows both problems beside their
// fields, keeping what was typed.
func TestScheduleFormsReportEveryError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("何加测", idNumber("46020319900101123"), "13700000004", 30, true))
		s.refusedBoth("lead", "/persons/"+pid+"/schedule/force", url.Values{"day": {s.today.AddDays(-3).String()}, "reason": {""}},
			map[string]string{"day": "不能早于今天", "reason": "理由"},
			map[string]string{"day": "before today", "reason": "reason"}, s.today.AddDays(-3).String())
		s.refusedBoth("lead", "/persons/"+pid+"/schedule/force", url.Values{"day": {"下周一"}, "reason": {""}},
			map[string]string{"day": "YYYY-MM-DD", "reason": "理由"},
			map[string]string{"day": "YYYY-MM-DD", "reason": "reason"}, "下周一")
	})
}

// TestLeaveDecisionFormReportsBesideItsField (issue 18 item 9, R28): a
// refusal without a reason shows the message beside the refusal's reason,
// not beside the approval's note on the same page; a bad extension date
// shows beside its field with the reason typed kept.
func TestLeaveDecisionFormReportsBesideItsField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("李请假", idNumber("46020319900101123"), "13800138000", 20, true))
		loc := s.post("worker", "/persons/"+pid+"/leave", url.Values{"kind": {"leave"}, "destination_province": {"440000"}, "destination_city": {"广州市"},
			"from": {s.today.AddDays(1).String()}, "to": {s.today.AddDays(3).String()}, "reason": {"探亲"}})
		id, _ := strings.CutPrefix(strings.Split(loc, "?")[0], "/leave/")
		s.refusedBoth("lead", "/leave/"+id+"/decision", url.Values{"approve": {"0"}, "reason": {" "}},
			map[string]string{"reason": "理由"}, map[string]string{"reason": "reason"})
		_, _, body := s.do("lead", "zh", "POST", "/leave/"+id+"/decision", url.Values{"approve": {"0"}, "reason": {""}})
		approve := body[strings.Index(body, `data-testid="leave-approve"`):strings.Index(body, `data-testid="leave-reject"`)]
		if strings.Contains(approve, "aria-invalid") || strings.Contains(approve, "field-error") {
			t.Errorf("the approval's note is marked for the refusal's problem:\n%s", approve)
		}
		s.post("lead", "/leave/"+id+"/decision", url.Values{"approve": {"1"}, "reason": {"同意"}})
		s.refusedBoth("worker", "/leave/"+id+"/steps", url.Values{"action": {"request_extension"}, "to": {"下周"}, "reason": {"工期延长"}},
			map[string]string{"to": "YYYY-MM-DD"}, map[string]string{"to": "YYYY-MM-DD"}, "工期延长", "下周")
	})
}

// TestVisitEditFormReportsEveryError (issue 18 item 9): editing a visit
// without a reason and with a time in the future shows both beside their
// fields, keeping what was typed.
func TestVisitEditFormReportsEveryError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("郑走访", idNumber("46020319900101123"), "13700000005", 20, true))
		at := time.Now().Add(-2 * time.Hour).In(casework.LoadLocation("")).Format("2006-01-02T15:04")
		s.post("worker", "/persons/"+pid+"/visits", url.Values{"kind": {"phone"}, "state": {"attempt"}, "at": {at}})
		vs, err := db.ListVisits(context.Background(), s.sys, pid)
		if err != nil || len(vs) != 1 {
			t.Fatalf("visits: %v %d", err, len(vs))
		}
		id := vs[0].ID
		future := time.Now().Add(72 * time.Hour).In(casework.LoadLocation("")).Format("2006-01-02T15:04")
		s.refusedBoth("worker", "/visits/"+id, url.Values{"kind": {"phone"}, "state": {"attempt"}, "at": {future}, "address": {"椰林路8号"}, "reason": {""}},
			map[string]string{"at": "", "reason": "原因"},
			map[string]string{"at": "", "reason": "reason"}, "椰林路8号", future)
	})
}

// TestAccountPasswordFormReportsEveryError (issue 18 item 9): a missing
// current password, a short new one and a confirmation that differs are
// shown together beside their fields; no password is put back.
func TestAccountPasswordFormReportsEveryError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		f := url.Values{"current_password": {""}, "new_password": {"short"}, "confirm_password": {"shorter"}}
		s.refusedBoth("worker", "/account/password", f,
			map[string]string{"current_password": "当前密码", "new_password": "密码至少", "confirm_password": "不一致"},
			map[string]string{"current_password": "current password", "new_password": "at least", "confirm_password": "differ"})
		_, _, body := s.do("worker", "en", "POST", "/account/password", f)
		if strings.Contains(body, `value="short`) {
			t.Error("a typed password is put back in the form")
		}
	})
}

// TestUserPageFormsReportEveryError (issue 18 item 9): granting without a
// role and an org shows both beside their fields; a short temporary
// password shows its message beside it.
func TestUserPageFormsReportEveryError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		s.addAdmin()
		path := "/users/" + s.users["worker"]
		s.refusedBoth("admin", path+"/grants", url.Values{"role": {"boss"}, "org_id": {""}},
			map[string]string{"role": "角色", "org_id": "机构"},
			map[string]string{"role": "role", "org_id": "organisation"})
		s.refusedBoth("admin", path+"/password", url.Values{"password": {"short"}},
			map[string]string{"password": "密码至少"}, map[string]string{"password": "at least"})
	})
}

// TestDrugUseFormReportsEveryError (issue 18 item 9, R10): recording drug
// use with a day that cannot be read, or one after today, and no account of
// what happened shows both problems beside their fields, keeps what was
// typed and records nothing.
func TestDrugUseFormReportsEveryError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("吴用药", idNumber("46020319900101123"), "13700000006", 10, true))
		path := "/persons/" + pid + "/violations"
		s.refusedBoth("lead", path, url.Values{"day": {"昨天"}, "detail": {" "}},
			map[string]string{"day": "YYYY-MM-DD", "detail": "写明情况"},
			map[string]string{"day": "YYYY-MM-DD", "detail": "describe what happened"}, "昨天")
		future := s.today.AddDays(2).String()
		long := strings.Repeat("吸", 1001)
		s.refusedBoth("lead", path, url.Values{"day": {future}, "detail": {long}},
			map[string]string{"day": "不晚于今天", "detail": "1000"},
			map[string]string{"day": "today or earlier", "detail": "1000"}, future, long)
		vs, _, err := db.ListViolations(context.Background(), s.sys, store.ViolationFilter{PersonID: pid})
		if err != nil || len(vs) != 0 {
			t.Fatalf("a refused form recorded %d violations (%v)", len(vs), err)
		}
	})
}

// TestVisitFormsReportEveryError (issue 18 item 9): a time the form cannot
// read no longer hides the other problems — the edit form shows the time,
// the kind and the missing reason together; the new-visit form shows the
// time, a follow-up's due date and the missing condition together and keeps
// the participant and follow-up rows typed.
func TestVisitFormsReportEveryError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("郑多错", idNumber("46020319900101123"), "13700000007", 20, true))
		at := time.Now().Add(-2 * time.Hour).In(casework.LoadLocation("")).Format("2006-01-02T15:04")
		s.post("worker", "/persons/"+pid+"/visits", url.Values{"kind": {"phone"}, "state": {"attempt"}, "at": {at}})
		vs, err := db.ListVisits(context.Background(), s.sys, pid)
		if err != nil || len(vs) != 1 {
			t.Fatalf("visits: %v %d", err, len(vs))
		}
		s.refusedBoth("worker", "/visits/"+vs[0].ID, url.Values{"kind": {"fax"}, "state": {"attempt"}, "at": {"昨天下午"}, "address": {"椰林路9号"}, "reason": {""}},
			map[string]string{"at": "格式", "kind": "走访方式", "reason": "原因"},
			map[string]string{"at": "2026-03-10T09:30", "kind": "kind of visit", "reason": "reason"}, "昨天下午", "椰林路9号")

		f := url.Values{"kind": {"home"}, "state": {"done"}, "at": {"下午三点"}, "condition": {""}, "address": {"椰林路10号"},
			"participant_role": {"family", "staff"}, "participant_name": {"郑母", ""},
			"followup_action": {"联系就业站", ""}, "followup_due": {"下周", ""}}
		for _, lang := range []string{"zh", "en"} {
			status, _, body := s.do("worker", lang, "POST", "/persons/"+pid+"/visits", f)
			if status != http.StatusBadRequest {
				t.Fatalf("%s: status %d, want 400\n%s", lang, status, excerpt(body))
			}
			for _, field := range []string{"at", "follow_ups", "condition"} {
				if fieldMsg(body, field) == "" {
					t.Errorf("%s: no message beside %s\n%s", lang, field, excerpt(body))
				}
			}
			for _, v := range []string{"下午三点", "椰林路10号", "郑母", "联系就业站", "下周"} {
				if !strings.Contains(body, `value="`+v+`"`) {
					t.Errorf("%s: the typed %q is lost", lang, v)
				}
			}
			if !regexp.MustCompile(`<option value="family" selected>`).MatchString(body) {
				t.Errorf("%s: the participant's role is lost", lang)
			}
		}
		if vs, _ := db.ListVisits(context.Background(), s.sys, pid); len(vs) != 1 {
			t.Fatalf("a refused visit was recorded: %d visits", len(vs))
		}
	})
}

// TestAccountActionFormsReportBesideTheirField (issue 18 item 9): enabling
// an account and turning off its TOTP without a reason show the message
// beside that form's reason; a mistyped first TOTP code shows the same QR
// code again with the message beside the code and what was typed; the
// right code then turns TOTP on.
func TestAccountActionFormsReportBesideTheirField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		s.addAdmin()
		ctx := context.Background()

		status, _, body := s.do("worker", "zh", "POST", "/account/totp/start", url.Values{})
		if status != http.StatusOK {
			t.Fatalf("start: %d", status)
		}
		secret := regexp.MustCompile(`data-testid="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(body)
		if secret == nil {
			t.Fatalf("no secret shown:\n%s", excerpt(body))
		}
		for _, c := range []struct{ lang, words string }{{"zh", "验证码不正确"}, {"en", "does not match"}} {
			status, _, body = s.do("worker", c.lang, "POST", "/account/totp/confirm", url.Values{"code": {"12345x"}})
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("%s: a wrong code: %d", c.lang, status)
			}
			checkAllErrors(t, body, map[string]string{"code": c.words}, "12345x")
			if !strings.Contains(body, `data-testid="totp-secret">`+secret[1]+`<`) || !strings.Contains(body, `data-testid="totp-qr"`) {
				t.Errorf("%s: the QR code of the enrolment is not shown again:\n%s", c.lang, excerpt(body))
			}
		}
		code, err := totp.GenerateCode(secret[1], time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if status, _, body = s.do("worker", "en", "POST", "/account/totp/confirm", url.Values{"code": {code}}); status != http.StatusOK ||
			!strings.Contains(body, `data-testid="recovery-codes"`) {
			t.Fatalf("the right code after a wrong one: %d\n%s", status, excerpt(body))
		}

		path := "/users/" + s.users["worker"]
		s.refusedBoth("admin", path+"/totp/reset", url.Values{"reason": {" "}},
			map[string]string{"reason": "原因"}, map[string]string{"reason": "reason is required"})
		if u := storetest.Must(db.GetUser(ctx, s.sys, s.users["worker"])); !u.TOTPEnabled {
			t.Fatal("TOTP was turned off without a reason")
		}
		s.post("admin", path+"/totp/reset", url.Values{"reason": {"手机丢失"}})

		if err := db.SetDisabled(ctx, s.sys, s.users["worker"], true, "离职"); err != nil {
			t.Fatal(err)
		}
		s.refusedBoth("admin", path+"/enable", url.Values{"reason": {""}},
			map[string]string{"reason": "原因"}, map[string]string{"reason": "reason is required"})
		if u := storetest.Must(db.GetUser(ctx, s.sys, s.users["worker"])); !u.Disabled {
			t.Fatal("the account was enabled without a reason")
		}
		s.post("admin", path+"/enable", url.Values{"reason": {"复职"}})
	})
}
