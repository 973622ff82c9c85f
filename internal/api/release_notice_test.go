package api_test

import (
	"context"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// R15: the release notice through the API: a field error names the field
// (Chinese by default), the recorded notice comes back with the measure,
// and a second one is a conflict; the other street's lead does not see it.
func TestAPIReleaseNotice_R15(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newAPISite(t, db)
		day := s.today.AddDays(-40)
		p := storetest.Must(db.CreatePerson(context.Background(), casework.SystemActor("test"), casework.PersonInput{OrgID: s.commA.ID, Name: "钱解除",
			IDNumber: "46020319800101007" + string(casework.IDCheckChar("46020319800101007")), WorkerID: s.users["worker"]},
			&casework.MeasureInput{Kind: casework.MeasureRehab, TermMonths: 1, DecisionNumber: "康字9号", DecisionAuthority: "分局",
				DecisionDate: day, ReceivedDate: day, ReportDate: day}))
		if n, err := db.ReleaseExpired(context.Background()); err != nil || n != 1 {
			t.Fatalf("release: %d %v", n, err)
		}
		path := "/api/v1/persons/" + p.ID + "/release-notice"
		if st, raw := s.call("worker", "POST", path, `{"date":"`+s.today.String()+`"}`, nil); st != 400 || !strings.Contains(raw, `"field":"recipient"`) || !strings.Contains(raw, "通知对象") {
			t.Fatalf("no recipient: %d %s", st, raw)
		}
		if st, raw := s.call("worker", "POST", path, `{"date":"2020-13-01","recipient":"本人"}`, nil); st != 400 || !strings.Contains(raw, `"field":"date"`) {
			t.Fatalf("bad date: %d %s", st, raw)
		}
		if st, _ := s.call("leadb", "POST", path, `{"date":"`+s.today.String()+`","recipient":"本人"}`, nil); st != 404 {
			t.Fatalf("the other street's lead: %d, want 404", st)
		}
		var m struct {
			Status           string `json:"status"`
			ReleaseNoticeDue string `json:"release_notice_due"`
			ReleaseNoticeOn  string `json:"release_notice_on"`
			ReleaseNoticeTo  string `json:"release_notice_to"`
		}
		s.must(200, "worker", "POST", path, `{"date":"`+s.today.String()+`","recipient":"本人及家属"}`, &m)
		if m.Status != "released" || m.ReleaseNoticeOn != s.today.String() || m.ReleaseNoticeTo != "本人及家属" || m.ReleaseNoticeDue == "" {
			t.Fatalf("recorded: %+v", m)
		}
		s.must(409, "lead", "POST", path, `{"date":"`+s.today.String()+`","recipient":"本人"}`, nil)
	})
}
