package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// R15: a released file shows the release-notice card with its due date, a
// form for the worker and the police, a field error for a missing
// recipient, and the recorded notice afterwards — in Chinese and English.
func TestReleaseNoticeCard_R15(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		day := s.today.AddDays(-40)
		p := storetest.Must(db.CreatePerson(context.Background(), s.sys, casework.PersonInput{OrgID: s.commA.ID, Name: "钱解除",
			IDNumber: idNumber("46020319800101007"), WorkerID: s.users["worker"]}, &casework.MeasureInput{Kind: casework.MeasureRehab, TermMonths: 1,
			DecisionNumber: "吉公康字〔2026〕9号", DecisionAuthority: "三亚市公安局吉阳分局", DecisionDate: day, ReceivedDate: day, ReportDate: day}))
		if n, err := db.ReleaseExpired(context.Background()); err != nil || n != 1 {
			t.Fatalf("release: %d %v", n, err)
		}
		path := "/persons/" + p.ID
		m := storetest.Must(db.ListMeasures(context.Background(), s.sys, p.ID))[0]
		for _, c := range []struct{ user, lang, want string }{{"worker", "zh", "应于 " + m.ReleaseNoticeDue.String() + " 前通知"},
			{"police", "en", "Notice due by " + m.ReleaseNoticeDue.String()}} {
			body := s.get(c.user, c.lang, path)
			if !strings.Contains(body, `data-testid="release-notice"`) || !strings.Contains(body, c.want) || !strings.Contains(body, `action="`+path+`/release-notice"`) {
				t.Fatalf("%s (%s): no release-notice form with %q", c.user, c.lang, c.want)
			}
		}
		status, _, body := s.do("worker", "", "POST", path+"/release-notice", url.Values{"date": {s.today.String()}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "请填写通知对象") {
			t.Fatalf("no recipient: %d %s", status, excerpt(body))
		}
		s.post("police", path+"/release-notice", url.Values{"date": {s.today.String()}, "recipient": {"本人及家属"}})
		body = s.get("worker", "", path)
		if !strings.Contains(body, "已于 "+s.today.String()+" 通知：本人及家属") || strings.Contains(body, `action="`+path+`/release-notice"`) {
			t.Fatalf("recorded notice not shown, or the form still offered:\n%s", excerpt(body))
		}
	})
}
