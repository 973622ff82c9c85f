package server_test

import (
	"context"

	"kangfu/internal/casework"
	"kangfu/internal/store/storetest"
)

// Resident surveys (issue 12 §4): office, lead and worker read the results
// of their subtree; only an office publishes, closes and imports; the
// residents' page is public; police and counsellors see none of it.
var surveyEnd = casework.MustParseDate(todayText).AddDays(30).String()

var _ = addRules(map[string]accessRule{
	"GET /surveys":                      {roles: "office lead worker"},
	"POST /surveys":                     {roles: "office", body: "org_id={parent}&title=满意度调查&opens_on=" + todayText + "&closes_on=" + surveyEnd + "&max_responses=50"},
	"GET /surveys/import":               {roles: "office"},
	"POST /surveys/import":              {roles: "office"},
	"GET /surveys/import/template.xlsx": {roles: "office"},
	"GET /surveys/{id}":                 {roles: "office lead worker"},
	"POST /surveys/{id}/close":          {roles: "office"},
	"GET /surveys/{id}/qr.png":          {roles: "office lead worker"},
	"GET /surveys/{id}/print":           {roles: "office lead worker"},
	"GET /surveys/{id}/export.xlsx":     {roles: "office lead worker"},
	"GET /s/{token}":                    {roles: "public"},
	"POST /s/{token}":                   {roles: "public"},
	"GET /api/v1/surveys":               {roles: "office lead worker"},
	"POST /api/v1/surveys":              {roles: "office", body: `{"org_id":"{parent}","title":"满意度调查","opens_on":"` + todayText + `","closes_on":"` + surveyEnd + `","max_responses":50}`},
	"GET /api/v1/surveys/figures":       {roles: "office lead worker"},
	"GET /api/v1/surveys/{id}":          {roles: "office lead worker"},
	"POST /api/v1/surveys/{id}/close":   {roles: "office"},
})

// A survey target: published for the community by the system.
var _ = addTarget("survey", func(m *matrix, community *casework.Org) string {
	s := storetest.Must(m.db.PublishSurvey(context.Background(), casework.SystemActor("test"), casework.SurveyInput{OrgID: community.ID,
		Title: "满意度调查", OpensOn: casework.MustParseDate(todayText), ClosesOn: casework.MustParseDate(surveyEnd), MaxResponses: 10}))
	return s.ID
})

// An org's population and staffing per year (issue 12 §3): everyone who
// sees the org reads them; an office enters them.
var _ = addRules(map[string]accessRule{
	"GET /orgs/{id}/years":               {roles: "*"},
	"POST /orgs/{id}/years":              {roles: "office", body: "year=2026&population=12000&specialists=2"},
	"GET /api/v1/orgs/{id}/years":        {roles: "*"},
	"PUT /api/v1/orgs/{id}/years/{year}": {roles: "office", body: `{"population":12000,"specialists":2}`},
})
