package server_test

import (
	"context"
	"fmt"

	"kangfu/internal/casework"
	"kangfu/internal/store/storetest"
)

// A person target: a file in the community, in the caseload of the
// matrix's worker (so "worker" may write it), executing a 社区戒毒 measure.
var _ = addTarget("person", func(m *matrix, community *casework.Org) string {
	ctx := context.Background()
	sys := casework.SystemActor("test")
	worker, err := m.db.UserIDByName(ctx, "u-worker")
	if err != nil {
		panic(err)
	}
	m.n++
	day := casework.DateOf(m.db.Now(), nil).AddDays(-30)
	p := storetest.Must(m.db.CreatePerson(ctx, sys, casework.PersonInput{
		OrgID: community.ID, Name: fmt.Sprintf("测试人%d", m.n), IDNumber: testIDNumber(m.n), Phone: "13800138000",
	}, &casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: fmt.Sprintf("吉公决字〔2026〕%d号", m.n),
		DecisionAuthority: "三亚市公安局吉阳分局", DecisionDate: day.AddDays(-2), ReceivedDate: day, ReportDate: day.AddDays(3), WorkerID: worker}))
	return p.ID
})

// testIDNumber returns a valid ID number that differs for each n.
func testIDNumber(n int) string {
	body := fmt.Sprintf("46020319%02d%02d%02d%03d", 80+n%20, 1+n%12, 1+n%28, n%1000)
	return body + string(casework.IDCheckChar(body))
}
