package server_test

import (
	"context"
	"fmt"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/store/storetest"
)

// A released person whose release notice (R15) awaits recording: 社区康复
// of one month reported 40 days ago, released by the job at its end, in
// the matrix worker's caseload inside street A.
var _ = addTarget("released_person", func(m *matrix, community *casework.Org) string {
	ctx := context.Background()
	sys := casework.SystemActor("test")
	worker, err := m.db.UserIDByName(ctx, "u-worker")
	if err != nil {
		panic(err)
	}
	if !strings.HasPrefix(community.Path, m.streetA.Path) {
		worker = ""
	}
	m.n++
	day := casework.DateOf(m.db.Now(), nil).AddDays(-40)
	p := storetest.Must(m.db.CreatePerson(ctx, sys, casework.PersonInput{
		OrgID: community.ID, Name: fmt.Sprintf("解除人%d", m.n), IDNumber: testIDNumber(m.n),
	}, &casework.MeasureInput{Kind: casework.MeasureRehab, TermMonths: 1, DecisionNumber: fmt.Sprintf("吉公康字〔2026〕%d号", m.n),
		DecisionAuthority: "三亚市公安局吉阳分局", DecisionDate: day.AddDays(-2), ReceivedDate: day, ReportDate: day, WorkerID: worker}))
	if n, err := m.db.ReleaseExpired(ctx); err != nil || n != 1 {
		panic(fmt.Sprintf("release target: released %d, %v", n, err))
	}
	return p.ID
})

// The place's worker and lead and its police record the notice; the office
// reads the file but does not (403); the others do not see it (404).
var _ = addRules(map[string]accessRule{
	"POST /persons/{id}/release-notice":        {roles: "lead worker police", body: "date=" + todayText + "&recipient=本人及家属"},
	"POST /api/v1/persons/{id}/release-notice": {roles: "lead worker police", body: `{"date":"` + todayText + `","recipient":"本人及家属"}`},
})
