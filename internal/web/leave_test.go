package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// The console's leave pages (R8, R28) and messages: a worker records a
// paper request, the lead of the street approves it, the lead of another
// street cannot see it, a message shows unread and then read.
func TestLeaveAndMessagePages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("李四", idNumber("46020319900101123"), "13800138000", 20, true))
		for _, lang := range []string{"zh", "en"} {
			s.get("worker", lang, "/persons/"+pid+"/leave")
			s.get("lead", lang, "/leave")
		}
		form := url.Values{"kind": {"leave"}, "destination_province": {"440000"}, "destination_city": {"广州市"},
			"from": {s.today.String()}, "to": {s.today.AddDays(1).String()}, "reason": {"探亲"}}
		// A bad end date names the field and keeps the form.
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("to", s.today.AddDays(-1).String())
		status, _, body := s.do("worker", "zh", "POST", "/persons/"+pid+"/leave", bad)
		if status != http.StatusBadRequest || !strings.Contains(body, `data-field="to"`) || !strings.Contains(body, "探亲") {
			t.Fatalf("bad dates: %d\n%s", status, excerpt(body))
		}
		loc := s.post("worker", "/persons/"+pid+"/leave", form)
		id, ok := strings.CutPrefix(strings.Split(loc, "?")[0], "/leave/")
		if !ok {
			t.Fatalf("created: redirected to %s", loc)
		}
		body = s.get("worker", "zh", "/leave/"+id)
		if strings.Contains(body, `data-testid="leave-approve"`) || !strings.Contains(body, "仅作登记") {
			t.Errorf("the worker's view: a decision form, or the 2-day request is not marked informational (R8)")
		}
		if status, _, _ := s.do("leadb", "zh", "GET", "/leave/"+id, nil); status != http.StatusNotFound {
			t.Errorf("lead of another street: %d, want 404", status)
		}
		if body := s.get("leadb", "zh", "/leave"); strings.Contains(body, "李四") {
			t.Errorf("another street's queue shows the request")
		}
		if body := s.get("lead", "en", "/leave"); !strings.Contains(body, "/leave/"+id) {
			t.Errorf("the lead's queue lacks the request")
		}
		if status, _, _ := s.do("worker", "zh", "POST", "/leave/"+id+"/decision", url.Values{"approve": {"1"}}); status != http.StatusForbidden {
			t.Errorf("worker approves: %d, want 403", status)
		}
		s.post("lead", "/leave/"+id+"/decision", url.Values{"approve": {"1"}, "reason": {"同意"}})
		body = s.get("lead", "zh", "/leave/"+id)
		if !strings.Contains(body, "已批准") {
			t.Errorf("after approval:\n%s", excerpt(body))
		}
		s.post("worker", "/leave/"+id+"/steps", url.Values{"action": {"report_return"}})
		if body := s.get("worker", "en", "/leave/"+id); !strings.Contains(body, "returned") {
			t.Errorf("after the return report:\n%s", excerpt(body))
		}

		// The file's timeline names the steps (R28).
		if body := s.get("lead", "zh", "/persons/"+pid); !strings.Contains(body, "批准请假") || !strings.Contains(body, "请假申请") {
			t.Errorf("the file's timeline lacks the leave steps")
		}

		// Messages.
		s.post("worker", "/persons/"+pid+"/messages", url.Values{"body": {"明天上午请来社区尿检"}})
		body = s.get("police", "zh", "/persons/"+pid+"/messages")
		if !strings.Contains(body, "明天上午请来社区尿检") || !strings.Contains(body, `data-testid="message-unread"`) || strings.Contains(body, `data-testid="message-form"`) {
			t.Fatalf("police view of messages:\n%s", excerpt(body))
		}
		// The newest is the worker's; before it, the system's notice of the leave decision.
		ms, _, err := db.ListPersonMessages(context.Background(), pid)
		if err != nil || len(ms) != 2 || ms[0].System() || !ms[1].System() {
			t.Fatalf("messages %+v, %v", ms, err)
		}
		storetest.Must(db.MarkMessageRead(context.Background(), pid, ms[0].ID))
		if body := s.get("worker", "en", "/persons/"+pid+"/messages"); !strings.Contains(body, `data-testid="message-read"`) {
			t.Errorf("read receipt not shown")
		}
		if status, _, _ := s.do("leadb", "zh", "POST", "/persons/"+pid+"/messages", url.Values{"body": {"x"}}); status != http.StatusNotFound {
			t.Errorf("lead of another street sends: %d, want 404", status)
		}
	})
}
