package server_test

import (
	"context"

	"kangfu/internal/casework"
	"kangfu/internal/store/storetest"
)

// Risk tiers (issue 13; R31, R32): office, lead, worker and police see
// them; a worker or lead with the file assesses; only a lead decides;
// offices and leads load instruments; counsellors see none of it.
var _ = addRules(map[string]accessRule{
	"GET /persons/{id}/risk":                      {roles: readers},
	"POST /persons/{id}/risk":                     {roles: writers, body: riskFormBody},
	"POST /risk/{id}/decide":                      {roles: "lead", body: "tier=low&reason=核实"},
	"GET /api/v1/persons/{id}/risk":               {roles: readers},
	"GET /api/v1/persons/{id}/risk/form":          {roles: writers},
	"POST /api/v1/persons/{id}/risk/assessments":  {roles: writers, body: riskJSONBody},
	"POST /api/v1/risk/assessments/{id}/decision": {roles: "lead", body: `{"tier":"low","reason":"核实"}`},
	"GET /api/v1/orgs/{id}/risk/instrument":       {roles: readers},
	"POST /api/v1/orgs/{id}/risk/instruments":     {roles: "office lead", body: `{"effective_from":"` + tomorrowText + `","instrument":` + casework.DefaultInstrument().Body() + `}`},
	"GET /api/v1/orgs/{id}/risk/grading-rate":     {roles: readers},
	"GET /api/v1/app/duties":                      {roles: "device"},
	"GET /orgs/{id}/risk/instrument":              {roles: readers},
	"GET /orgs/{id}/risk/instrument.xlsx":         {roles: readers},
	"POST /orgs/{id}/risk/instrument":             {roles: "office lead", body: "name=本地评估表&effective_from=" + tomorrowText},
	"POST /orgs/{id}/risk/instrument/upload":      {roles: "office lead", body: "dry_run=1"},
})

var tomorrowText = casework.MustParseDate(todayText).AddDays(1).String()

const (
	riskFormBody = "f_drug_type=none&f_use_degree=low&f_missed_tests=0&f_episodes=0&f_abstinent=12%2B&f_family=supportive&f_employment=employed&f_criminal=no&f_mental_health=below"
	riskJSONBody = `{"answers":{"drug_type":"none","use_degree":"low","missed_tests":"0","episodes":"0","abstinent":"12+","family":"supportive","employment":"employed","criminal":"no","mental_health":"below"}}`
)

var _ = addTarget("risk_assessment", func(m *matrix, community *casework.Org) string {
	pid := personTarget(m, community)
	x := casework.RiskInput{Answers: map[string]casework.RiskAnswer{}}
	for _, f := range casework.DefaultInstrument().Factors {
		x.Answers[f.Code] = casework.RiskAnswer{Value: f.Options[0].Value}
	}
	a := storetest.Must(m.db.AssessRisk(context.Background(), casework.SystemActor("test"), pid, x, "", ""))
	return a.ID
})
