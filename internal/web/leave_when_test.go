package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// TestLeavePageOffersReturnAndExtensionOnlyWhenTheyMakeSense (issue 18
// §14, R28): before an approved leave begins the page offers 续假 but not
// 销假, and a posted 销假 is refused with the reason; once the leave is
// overdue it offers 销假 but not 续假, and a posted 续假 is refused.
func TestLeavePageOffersReturnAndExtensionOnlyWhenTheyMakeSense(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("李四", idNumber("46020319900101123"), "13800138000", 20, true))
		loc := s.post("worker", "/persons/"+pid+"/leave", url.Values{"kind": {"leave"}, "destination_province": {"440000"}, "destination_city": {"广州市"},
			"from": {s.today.AddDays(1).String()}, "to": {s.today.AddDays(3).String()}, "reason": {"探亲"}})
		id, _ := strings.CutPrefix(strings.Split(loc, "?")[0], "/leave/")
		s.post("lead", "/leave/"+id+"/decision", url.Values{"approve": {"1"}, "reason": {"同意"}})

		body := s.get("worker", "zh", "/leave/"+id)
		if strings.Contains(body, `data-testid="leave-step-report_return"`) || !strings.Contains(body, `data-testid="leave-extend"`) {
			t.Errorf("before the leave: 销假 offered or 续假 not")
		}
		status, _, body := s.do("worker", "zh", "POST", "/leave/"+id+"/steps", url.Values{"action": {"report_return"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "请假尚未开始") {
			t.Errorf("销假 before the leave: %d\n%s", status, excerpt(body))
		}

		clock.Add(4 * 24 * time.Hour) // the day after its last day: overdue
		tok, hash := auth.NewToken()  // a fresh session on the new day
		if err := db.CreateSession(context.Background(), store.Session{TokenHash: hash, UserID: s.users["worker"], Kind: "web", ExpiresAt: db.Now().Add(time.Hour)},
			"127.0.0.1", "test", "test"); err != nil {
			t.Fatal(err)
		}
		s.tokens["worker"] = tok
		body = s.get("worker", "en", "/leave/"+id)
		if !strings.Contains(body, `data-testid="leave-step-report_return"`) || strings.Contains(body, `data-testid="leave-extend"`) {
			t.Errorf("overdue: 销假 not offered or 续假 offered")
		}
		status, _, body = s.do("worker", "en", "POST", "/leave/"+id+"/steps", url.Values{"action": {"request_extension"}, "to": {s.today.AddDays(9).String()}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "is overdue: it can no longer be extended") {
			t.Errorf("续假 when overdue: %d\n%s", status, excerpt(body))
		}
	})
}
