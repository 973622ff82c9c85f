package api_test

import (
	"context"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 10 over the API: R17 facts (PUT special), R7 reason and gaps
// (PATCH measure), in scope only.
func TestAPIRulesIssue10(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newAPISite(t, db)
		ctx := context.Background()
		id := "46020319950202022"
		id += string(casework.IDCheckChar(id))
		report := s.today.AddDays(-10)
		p := storetest.Must(db.CreatePerson(ctx, casework.SystemActor("test"), casework.PersonInput{OrgID: s.commA.ID, Name: "李小红", IDNumber: id},
			&casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: "1", DecisionAuthority: "局", DecisionDate: report.AddDays(-3),
				ReceivedDate: report.AddDays(-2), ReportDate: report, WorkerID: s.users["worker"]}))
		path := "/api/v1/persons/" + p.ID
		// R17: a pregnancy needs its expected date; then the file says what applies.
		raw := s.must(400, "worker", "PUT", path+"/special", `{"pregnant":true}`, nil)
		if !strings.Contains(raw, "expected_delivery") {
			t.Fatalf("R17 field error: %s", raw)
		}
		var out struct {
			Special struct {
				PregnantNow            bool `json:"pregnant_now"`
				NotSubjectToCompulsory bool `json:"not_subject_to_compulsory"`
			} `json:"special"`
		}
		s.must(200, "worker", "PUT", path+"/special", `{"pregnant":true,"expected_delivery":"`+s.today.AddDays(90).String()+`"}`, &out)
		if !out.Special.PregnantNow || !out.Special.NotSubjectToCompulsory {
			t.Fatalf("R17 over the API: %+v", out)
		}
		s.must(404, "leadb", "PUT", path+"/special", `{"note":"x"}`, nil)
		// R7: the gaps, and a reason for no family member.
		var m struct {
			GroupGaps         []string `json:"group_gaps"`
			GroupFamilyReason string   `json:"group_family_reason"`
		}
		s.must(200, "worker", "PATCH", path+"/measure", `{"group_family_reason":"无近亲属"}`, &m)
		if m.GroupFamilyReason != "无近亲属" || strings.Join(m.GroupGaps, ",") != "worker,police" {
			t.Fatalf("R7 over the API: %+v", m)
		}
	})
}
