package server_test

import (
	"context"
	"fmt"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/store/storetest"
)

// Retention and sealing (issue 15; R38) and the own data export (PIPL
// Art 45): a statutory query of a file sealed in the community, recorded by
// the matrix office user inside street A (by an office user of the
// community outside it); an own-data export recorded by the matrix worker
// inside (by a lead of the community outside).

// matrixActor is the actor of a user with one grant.
func matrixActor(m *matrix, username string, role casework.Role, org *casework.Org) *casework.Actor {
	ctx := context.Background()
	id, err := m.db.UserIDByName(ctx, username)
	if err != nil {
		sys := casework.SystemActor("test")
		u := storetest.Must(m.db.CreateUser(ctx, sys, casework.UserInput{Username: username, OrgID: org.ID, Password: "long-enough-pw"}, "$argon2id$x", false))
		storetest.Must(m.db.GrantRole(ctx, sys, u.ID, role, org.ID))
		id = u.ID
	}
	return &casework.Actor{UserID: id, Username: username, Grants: []casework.Grant{{UserID: id, Role: role, OrgID: org.ID, OrgPath: org.Path}}}
}

var _ = addTarget("statutory_query", func(m *matrix, community *casework.Org) string {
	ctx := context.Background()
	sys := casework.SystemActor("test")
	m.n++
	// Reported five years ago for one month: released at once, sealed after three years.
	day := casework.DateOf(m.db.Now(), nil).AddYears(-5)
	id := testIDNumber(m.n)
	storetest.Must(m.db.CreatePerson(ctx, sys, casework.PersonInput{OrgID: community.ID, Name: fmt.Sprintf("封存人%d", m.n), IDNumber: id},
		&casework.MeasureInput{Kind: casework.MeasureRehab, TermMonths: 1, DecisionNumber: fmt.Sprintf("吉公康字〔2021〕%d号", m.n),
			DecisionAuthority: "三亚市公安局吉阳分局", DecisionDate: day.AddDays(-2), ReceivedDate: day, ReportDate: day}))
	if n, err := m.db.ReleaseExpired(ctx); err != nil || n != 1 {
		panic(fmt.Sprintf("statutory target: released %d, %v", n, err))
	}
	if n, err := m.db.SealExpired(ctx); err != nil || n != 1 {
		panic(fmt.Sprintf("statutory target: sealed %d, %v", n, err))
	}
	office := matrixActor(m, "u-office", casework.RoleOffice, m.streetA)
	if !strings.HasPrefix(community.Path, m.streetA.Path) {
		office = matrixActor(m, fmt.Sprintf("sq-office%d", m.n), casework.RoleOffice, community)
	}
	q := storetest.Must(m.db.RecordStatutoryQuery(ctx, office, casework.StatutoryQueryInput{IDNumber: id, Organ: "三亚市公安局吉阳分局",
		LegalBasis: "《治安管理处罚法》第一百三十六条", DocumentNo: fmt.Sprintf("吉公查字〔2031〕%d号", m.n), Reason: "办案需要"}))
	return q.ID
})

var _ = addTarget("own_data_export", func(m *matrix, community *casework.Org) string {
	pid := personTarget(m, community)
	maker := matrixActor(m, "u-worker", casework.RoleWorker, m.streetA)
	if !strings.HasPrefix(community.Path, m.streetA.Path) {
		maker = matrixActor(m, fmt.Sprintf("od-lead%d", m.n), casework.RoleLead, community)
	}
	e := storetest.Must(m.db.RequestOwnDataExport(context.Background(), maker, pid, "本人书面申请"))
	return e.ID
})

// The office records and reads statutory queries, auditors and the office
// see the log; the worker or lead of the file exports the person's own
// data, and only its maker downloads it.
var _ = addRules(map[string]accessRule{
	"GET /statutory-queries":                     {roles: "auditor office"},
	"GET /statutory-queries/new":                 {roles: "office"},
	"POST /statutory-queries":                    {roles: "office", body: "organ=市公安局"},
	"GET /statutory-queries/{id}":                {roles: "office"},
	"GET /statutory-queries/{id}/reopen":         {roles: "office"},
	"POST /statutory-queries/{id}/reopen":        {roles: "office", body: "legal_basis=吉公(禁)社戒决字〔2031〕7号&reason=新的社区戒毒决定"},
	"GET /persons/{id}/own-data":                 {roles: "lead worker"},
	"POST /persons/{id}/own-data":                {roles: "lead worker", body: "reason=本人书面申请"},
	"GET /own-data-exports/{id}":                 {roles: "worker"},
	"GET /api/v1/statutory-queries":              {roles: "auditor office"},
	"POST /api/v1/statutory-queries":             {roles: "office", body: `{"organ":"市公安局"}`},
	"GET /api/v1/statutory-queries/{id}":         {roles: "office"},
	"POST /api/v1/statutory-queries/{id}/reopen": {roles: "office", body: `{"legal_basis":"吉公(禁)社戒决字〔2031〕7号","reason":"新的社区戒毒决定"}`},
	"POST /api/v1/persons/{id}/own-data-exports": {roles: "lead worker", body: `{"reason":"本人书面申请"}`},
	"GET /api/v1/own-data-exports/{id}":          {roles: "worker"},
})
