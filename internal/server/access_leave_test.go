package server_test

import (
	"context"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// A leave target: a pending leave request (R28) of a person target (in the
// matrix worker's caseload when inside street A), recorded on paper.
var _ = addTarget("leave", func(m *matrix, community *casework.Org) string {
	pid := personTarget(m, community)
	today := casework.DateOf(m.db.Now(), nil)
	l := storetest.Must(m.db.CreateLeave(context.Background(), casework.SystemActor("test"), pid, store.LeaveCreate{LeaveInput: casework.LeaveInput{
		Kind: casework.LeaveKindLeave, Province: "440000", City: "广州市", From: today.AddDays(1), To: today.AddDays(4), Reason: "探亲"}}))
	return l.ID
})

var leaveBodyJSON = `{"kind":"leave","destination_province":"460000","destination_city":"海口市","from":"` + todayText + `","to":"` +
	casework.MustParseDate(todayText).AddDays(3).String() + `","reason":"就医"}`

var leaveBodyForm = "kind=work_away&destination_province=460000&destination_city=海口市&from=" + todayText + "&to=" +
	casework.MustParseDate(todayText).AddDays(60).String() + "&reason=务工&employer=海口某公司&address=海口市某路1号"

var _ = addRules(map[string]accessRule{
	// Console.
	"GET /leave":                  {roles: readers},
	"GET /leave/{id}":             {roles: readers},
	"POST /leave/{id}/decision":   {roles: "lead", body: "approve=1&reason=同意"},
	"POST /leave/{id}/steps":      {roles: writers, body: "action=withdraw&reason=不去了"},
	"GET /persons/{id}/leave":     {roles: readers},
	"POST /persons/{id}/leave":    {roles: writers, body: leaveBodyForm},
	"GET /persons/{id}/messages":  {roles: readers},
	"POST /persons/{id}/messages": {roles: writers, body: "body=请按时签到"},
	// API.
	"GET /api/v1/leave":                  {roles: readers},
	"GET /api/v1/leave/{id}":             {roles: readers},
	"POST /api/v1/leave/{id}/decision":   {roles: "lead", body: `{"approve":true,"reason":"同意"}`},
	"POST /api/v1/leave/{id}/steps":      {roles: writers, body: `{"action":"withdraw","reason":"不去了"}`},
	"GET /api/v1/persons/{id}/leave":     {roles: readers},
	"POST /api/v1/persons/{id}/leave":    {roles: writers, body: leaveBodyJSON},
	"GET /api/v1/persons/{id}/messages":  {roles: readers},
	"POST /api/v1/persons/{id}/messages": {roles: writers, body: `{"body":"明天上午请来社区尿检"}`},
	// The person's app: a device token, never a staff session (app.go).
	"POST /api/v1/app/leave":              {roles: "device", body: leaveBodyJSON},
	"GET /api/v1/app/leave":               {roles: "device"},
	"POST /api/v1/app/leave/{id}/return":  {roles: "device", body: `{}`},
	"GET /api/v1/app/messages":            {roles: "device"},
	"POST /api/v1/app/messages/{id}/read": {roles: "device", body: `{}`},
})
