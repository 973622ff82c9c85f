package dossier_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"kangfu/internal/auth"
	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/dossier"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
	"kangfu/internal/web"
)

// rawKey is what a catalog key or event code looks like (drugtest.recorded,
// status.report_in): never to be seen in a dossier.
var rawKey = regexp.MustCompile(`[a-z]+\.[a-z_]+`)

// wholeFile is a person with every part of the file: a report-in, a
// working group, a device and check-ins over two months, a drug test, a
// violation with a ladder step, an approved leave taken and returned from,
// a leave the person asked for in the app, and a document.
type wholeFile struct {
	db                   *store.DB
	lead, worker, police *casework.Actor
	tokens, userIDs      map[string]string
	person               *casework.Person
	blobs                *blob.Store
}

func wfStaff(t *testing.T, w *wholeFile, db *store.DB, username, display string, role casework.Role, org *casework.Org) *casework.Actor {
	t.Helper()
	sys := casework.SystemActor("test")
	u := storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: username, DisplayName: display, OrgID: org.ID, Password: "long-enough-pw"}, "$argon2id$x", false))
	g := storetest.Must(db.GrantRole(ctx, sys, u.ID, role, org.ID))
	w.userIDs[username] = u.ID
	return &casework.Actor{UserID: u.ID, Username: username, Name: display, Grants: []casework.Grant{*g}}
}

func buildWhole(t *testing.T, db *store.DB, clock *storetest.Clock) *wholeFile {
	t.Helper()
	sys := casework.SystemActor("test")
	mk := func(parent *casework.Org, kind casework.OrgKind, name, fence string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name, Geofence: fence}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return storetest.Must(db.CreateOrg(ctx, sys, in))
	}
	county := mk(mk(mk(nil, casework.KindProvince, "海南省", ""), casework.KindCity, "三亚市", ""), casework.KindCounty, "吉阳区",
		`{"type":"circle","lat":18.25,"lng":109.5,"radius_m":20000}`)
	street := mk(county, casework.KindTownship, "椰林街道", "")
	comm := mk(street, casework.KindCommunity, "安椰社区", `{"type":"circle","lat":18.25,"lng":109.5,"radius_m":500}`)
	bs, err := blob.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	w := &wholeFile{db: db, tokens: map[string]string{}, userIDs: map[string]string{}, blobs: bs}
	w.lead = wfStaff(t, w, db, "lin", "林组长", casework.RoleLead, street)
	w.worker = wfStaff(t, w, db, "chen", "陈专干", casework.RoleWorker, comm)
	w.police = wfStaff(t, w, db, "fu", "符警官", casework.RolePolice, street)
	svc := &dossier.Service{DB: db, Blobs: bs}
	day := func(s string) casework.Date { return storetest.Must(casework.ParseDate(s)) }
	at := func(s string) { // 10:00 in Sanya on the day
		clock.T = time.Date(day(s).Year, day(s).Month, day(s).Day, 2, 0, 0, 0, time.UTC)
	}
	body := "46020319880808123"
	// Registered before the report-in: the report-in is a status event.
	w.person = storetest.Must(db.CreatePerson(ctx, w.worker, casework.PersonInput{OrgID: comm.ID, Name: "黎海燕", IDNumber: body + string(casework.IDCheckChar(body)),
		Phone: "13812345678"},
		&casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: "吉公（禁）社戒决字〔2026〕0815号", DecisionAuthority: "三亚市公安局吉阳分局",
			DecisionDate: day("2026-04-15"), ReceivedDate: day("2026-04-17")}))
	pid := w.person.ID
	storetest.Must(db.Transition(ctx, w.worker, pid, store.TransitionInput{Action: casework.ActReportIn, EffectiveDate: day("2026-04-20"), Reason: "本人到社区报到"}))
	for _, g := range []store.GroupMember{{Role: "police", Name: "符警官"}, {Role: "family", Name: "黎母"}, {Role: "厂区保卫科长", Name: "王保卫"}} {
		if err := db.AddGroupMember(ctx, w.worker, pid, g); err != nil {
			t.Fatal(err)
		}
	}
	// The phone, and check-ins on 20 and 22 April and 6 May (10:00, in the fence).
	code, _ := must2[string, *store.ActivationCode](t)(db.CreateActivationCode(ctx, w.worker, pid))
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	_, hash := auth.NewToken()
	if _, _, err := db.Activate(ctx, store.Activation{Code: code, PublicKey: base64.StdEncoding.EncodeToString(der), PINHash: "x", TokenHash: hash}); err != nil {
		t.Fatal(err)
	}
	checkin := func() {
		t.Helper()
		dev := storetest.Must(db.AppDeviceByToken(ctx, hash))
		// The selfie counts only if the person's device uploaded it (issue 15 §2).
		if err := db.RecordAppPhoto(ctx, dev, fmt.Sprintf("%064x", 7)); err != nil {
			t.Fatal(err)
		}
		in := casework.CheckinInput{ID: uuid.NewString(), TakenAt: db.Now().Add(-time.Minute).Format(time.RFC3339), Lat: 18.25, Lng: 109.5, AccuracyM: 10, PhotoSHA256: fmt.Sprintf("%064x", 7)}
		c, _, err := db.IngestCheckin(ctx, dev, in, []byte(in.ID), "sig")
		if err != nil || !c.Counts {
			t.Fatalf("check-in: %v (counts %v, verdict %s)", err, c != nil && c.Counts, func() string {
				if c == nil {
					return ""
				}
				return string(c.Verdict)
			}())
		}
	}
	checkin()
	storetest.Must(db.RecordTest(ctx, w.police, pid, casework.DrugTestInput{TestedOn: day("2026-04-20"), Place: "椰林派出所", Sample: "urine",
		Substances: []string{"吗啡"}, Outcome: casework.OutcomeNegative, StaffIDs: []string{w.police.UserID, w.worker.UserID}}))
	at("2026-04-22")
	checkin()
	v := storetest.Must(db.RecordDrugUse(ctx, w.lead, pid, store.DrugUseInput{Day: day("2026-04-22"), Detail: "本人承认吸食"}))
	storetest.Must(svc.LadderStep(ctx, w.lead, v.ID, casework.LadderInput{Step: casework.StepExhort, Reason: "首次违规，予以劝诫"}))
	at("2026-05-02")
	l := storetest.Must(db.CreateLeave(ctx, w.worker, pid, store.LeaveCreate{LeaveInput: casework.LeaveInput{Kind: casework.LeaveKindLeave,
		Province: "440000", City: "广州市", From: day("2026-05-03"), To: day("2026-05-05"), Reason: "探亲"}}))
	storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意"}))
	at("2026-05-03")
	if n, err := db.StartDueLeaves(ctx); n != 1 || err != nil {
		t.Fatalf("start leave: %d %v", n, err)
	}
	at("2026-05-06")
	storetest.Must(db.StepLeave(ctx, w.worker, l.ID, store.LeaveStep{Action: casework.LeaveReportReturn, Reason: "按时返回"}))
	checkin()
	// A request the person made in the app: the person acted, not the system.
	if _, _, err := db.CreatePersonLeave(ctx, pid, uuid.NewString(), "h1", casework.LeaveInput{Kind: casework.LeaveKindLeave,
		Province: "440000", City: "广州市", From: day("2026-05-20"), To: day("2026-05-22"), Reason: "看望子女"}); err != nil {
		t.Fatal(err)
	}
	storetest.Must(svc.Upload(ctx, w.worker, pid, dossier.Upload{Kind: "decision", Title: "责令社区戒毒决定书", Body: strings.NewReader(string(pdfFile))}))
	return w
}

// The whole file in the print view and the PDF alike (issue 18 §7): each
// section with its values, the report-in (R1) in the status history, the
// ladder step (R29), the leave (R8, R28), the check-in months counted as
// PersonDuty counts them, the working group with role names, no raw keys,
// and the person — not 系统 — on what the person did.
func TestWholeDossierHTMLAndPDF(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 4, 20, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := buildWhole(t, db, clock)
		c, err := web.New(db, auth.NewService(db, auth.DefaultPolicy()), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		c.Blobs = w.blobs
		for name, id := range w.userIDs { // signed in now, at the end of the story
			tok, hash := auth.NewToken()
			if err := db.CreateSession(ctx, store.Session{TokenHash: hash, UserID: id, Kind: "web", ExpiresAt: db.Now().Add(time.Hour)}, "127.0.0.1", "test", "test"); err != nil {
				t.Fatal(err)
			}
			w.tokens[name] = tok
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		mux := http.NewServeMux()
		for _, rt := range c.Routes() {
			mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
		}
		srv := httptest.NewServer(mux)
		defer srv.Close()
		get := func(user, lang, path string) []byte {
			t.Helper()
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: w.tokens[user]})
			req.AddCookie(&http.Cookie{Name: "kangfu_lang", Value: lang})
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d\n%s", path, resp.StatusCode, b)
			}
			return b
		}
		pid := w.person.ID
		// The months as the check-in pages count them.
		april := storetest.Must(db.PersonDuty(ctx, w.lead, pid, casework.NewDate(2026, 4, 20), casework.NewDate(2026, 4, 30)))
		may := storetest.Must(db.PersonDuty(ctx, w.lead, pid, casework.NewDate(2026, 5, 1), casework.NewDate(2026, 5, 6)))
		if april.Done != 2 || may.Done != 1 || april.Due < 11 {
			t.Fatalf("duty: April %+v, May %+v", april, may)
		}
		months := map[string]string{
			"2026-04": fmt.Sprintf("%d|%d|%d|%d|%d", april.Due, april.Done, len(april.Missed), 0, len(april.NoApp)),
			"2026-05": fmt.Sprintf("%d|%d|%d|%d|%d", may.Due, may.Done, len(may.Missed), 3, len(may.NoApp)), // on leave 3–5 May
		}
		type want struct{ section, value string }
		wants := map[string][]want{
			"zh": {{"基本信息", "黎海燕"}, {"状态变更记录", "报到：待报到 → 执行中"}, {"状态变更记录", "本人到社区报到"}, {"状态变更记录", "请假：执行中 → 请假"},
				{"工作小组", "社区民警"}, {"工作小组", "家庭成员"}, {"工作小组", "厂区保卫科长"}, {"工作小组", "黎母"},
				{"检测记录", "2026-04-20"}, {"检测记录", "常规检测"}, {"检测记录", "尿液"}, {"检测记录", "阴性"}, {"检测记录", "符警官"},
				{"违规记录与处理阶梯", "2026-04-22"}, {"违规记录与处理阶梯", "劝诫"}, {"违规记录与处理阶梯", "首次违规，予以劝诫"}, {"违规记录与处理阶梯", "林组长"},
				{"请假记录", "2026-05-03"}, {"请假记录", "2026-05-05"}, {"请假记录", "探亲"}, {"请假记录", "看望子女"}, {"请假记录", "林组长"},
				{"签到情况（按月）", "2026-04"}, {"签到情况（按月）", "2026-05"}, {"签到情况（按月）", "尚未启用应用"},
				{"文书目录", "责令社区戒毒决定书"}, {"时间线", "登记检测记录"}},
			"en": {{"Identity", "黎海燕"}, {"Status history", "report in: pending report → executing"}, {"Working group", "community police"},
				{"Working group", "family member"}, {"Drug tests", "urine"}, {"Drug tests", "negative"}, {"Violations and handling ladder", "exhort"},
				{"Leave", "探亲"}, {"Check-ins by month", "No app yet"}, {"Documents", "责令社区戒毒决定书"}, {"Timeline", "Drug test recorded"}},
		}
		for _, lang := range []string{"zh", "en"} {
			page := string(get("lin", lang, "/persons/"+pid+"/dossier"))
			// Each section holds its values: cut the page at the next <h2>.
			for _, x := range wants[lang] {
				i := strings.Index(page, "<h2>"+x.section+"</h2>")
				if x.section == "工作小组" || x.section == "Working group" || x.section == "状态变更记录" || x.section == "Status history" {
					i = strings.Index(page, "<h4>"+x.section+"</h4>")
				}
				if i < 0 {
					t.Fatalf("%s print view lacks the section %q", lang, x.section)
				}
				sec := page[i+4:]
				if j := strings.Index(sec, "<h2>"); j >= 0 {
					sec = sec[:j]
				}
				if x.section == "工作小组" || x.section == "Working group" || x.section == "状态变更记录" || x.section == "Status history" {
					if j := strings.Index(sec, "<h4>"); j >= 0 {
						sec = sec[:j]
					}
				}
				if !strings.Contains(sec, x.value) {
					t.Errorf("%s print view: section %q lacks %q", lang, x.section, x.value)
				}
			}
			for m, counts := range months {
				re := regexp.MustCompile(`<tr data-month="` + m + `">` + strings.Repeat(`<td[^>]*>([0-9-]+)</td>`, 6))
				got := re.FindStringSubmatch(page)
				if got == nil || strings.Join(got[2:], "|") != counts {
					t.Errorf("%s print view, %s: got %v, want %s (PersonDuty)", lang, m, got, counts)
				}
			}
			text := visibleText(page)
			if k := rawKey.FindString(text); k != "" {
				t.Errorf("%s print view shows a raw key %q", lang, k)
			}
			personRows(t, lang+" print view", text, lang)
			if strings.Contains(page, "13812345678") {
				t.Errorf("%s print view shows the phone unmasked", lang)
			}
		}

		pdf := get("lin", "zh", "/persons/"+pid+"/dossier.pdf")
		raw := pdfText(t, pdf)
		text := compact(raw)
		for _, x := range wants["zh"] {
			if !strings.Contains(text, compact(x.section)) || !strings.Contains(text, compact(x.value)) {
				t.Errorf("the PDF lacks %q / %q", x.section, x.value)
			}
		}
		for m, counts := range months {
			if !strings.Contains(text, m+strings.ReplaceAll(counts, "|", "")) {
				t.Errorf("the PDF's %s row is not %s", m, counts)
			}
		}
		if k := rawKey.FindString(raw); k != "" {
			t.Errorf("the PDF shows a raw key %q", k)
		}
		if r := regexp.MustCompile(`R[0-9]+`).FindString(raw); r != "" {
			t.Errorf("the PDF shows a rule number %q", r)
		}
		personRows(t, "PDF", pdfLayout(t, pdf), "zh")
		if strings.Contains(text, "13812345678") {
			t.Error("the PDF shows the phone unmasked")
		}

		// Both were audited as exports of the file (R36).
		var n int
		db.Read(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'person.export' AND target_id = ?`, pid).Scan(&n)
		})
		if n != 3 {
			t.Errorf("dossier exports audited: %d, want 3 (two print views, one PDF)", n)
		}
	})
}

// personRows checks who each row says acted: the leave request the person
// made in the app (the one for 20 May) names the person, never the
// system; the start of the approved leave, a system job, says so.
func personRows(t *testing.T, where, text, lang string) {
	t.Helper()
	label := map[string]string{"zh": "请假申请", "en": "Leave requested"}[lang]
	system := map[string]string{"zh": "系统", "en": "system"}[lang]
	found := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, label) && strings.Contains(line, "2026-05-20") {
			found++
			if !strings.Contains(line, "黎海燕") || strings.Contains(line, system) {
				t.Errorf("%s: the person's own request does not name the person: %s", where, strings.Join(strings.Fields(line), " "))
			}
		}
	}
	if found == 0 {
		t.Errorf("%s: no timeline row for the person's leave request", where)
	}
}

func must2[A, B any](t *testing.T) func(A, B, error) (A, B) {
	return func(a A, b B, err error) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

var tagRe = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]+>`)

// visibleText is the page's text with a line per table row.
func visibleText(page string) string {
	page = strings.ReplaceAll(page, "</tr>", "\n")
	return tagRe.ReplaceAllString(page, " ")
}

// pdfLayout is the PDF's text with its layout kept, a table row's first
// line on one text line.
func pdfLayout(t *testing.T, pdf []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "layout.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not installed") // pdfText has already failed under KANGFU_REQUIRE_BROWSER=1
	}
	out, err := exec.Command(bin, "-layout", "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -layout: %v", err)
	}
	return string(out)
}
