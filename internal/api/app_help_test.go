package api_test

import (
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// The app shows the person its own help plan (issue 11 §10): no plan yet is
// a null plan; then the goals, the next review and the days reviewed — and
// never the staff's review notes.
func TestAppHelpPlan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newAppSite(t, db)
		p, r := s.activate("246810")
		if r.Status != 201 {
			t.Fatalf("activate: %d %s", r.Status, r.Raw)
		}
		if r := s.do("GET", "/api/v1/app/help-plan", nil, p.hdr("")); r.Status != 200 || !strings.Contains(r.Raw, `"plan":null`) {
			t.Fatalf("no plan: %d %s", r.Status, r.Raw)
		}
		worker := map[string]string{"Authorization": "Bearer " + s.worker, "Content-Type": "application/json"}
		today := casework.DateOf(db.Now(), nil)
		next := today.AddDays(14).String()
		if r := s.do("PUT", "/api/v1/persons/"+s.person+"/help/plan", []byte(`{"needs":"缺少收入","goals":[{"goal":"找到工作","actions":"推荐岗位","due":"`+
			next+`","owner":"王专干"}],"next_review":"`+next+`"}`), worker); r.Status != 200 {
			t.Fatalf("save plan: %d %s", r.Status, r.Raw)
		}
		if r := s.do("POST", "/api/v1/persons/"+s.person+"/help/reviews", []byte(`{"reviewed_on":"`+today.String()+`","note":"内部记录：家属反映情绪不稳","next_review":"`+
			next+`"}`), worker); r.Status != 201 {
			t.Fatalf("review: %d %s", r.Status, r.Raw)
		}
		r = s.do("GET", "/api/v1/app/help-plan", nil, p.hdr(""))
		if r.Status != 200 || !strings.Contains(r.Raw, `"goal":"找到工作"`) || !strings.Contains(r.Raw, `"next_review":"`+next+`"`) ||
			!strings.Contains(r.Raw, today.String()) || strings.Contains(r.Raw, "情绪") || strings.Contains(r.Raw, "缺少收入") {
			t.Fatalf("the app's plan: %d %s", r.Status, r.Raw)
		}
		if r := s.do("GET", "/api/v1/app/help-plan", nil, nil); r.Status != 401 {
			t.Errorf("without a device: %d", r.Status)
		}
	})
}
