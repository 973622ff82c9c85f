package server_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// A person target: a file in the community, executing a 社区戒毒 measure,
// in the caseload of the matrix's worker (so "worker" may write it) when
// the community is in the worker's street.
var _ = addTarget("person", personTarget)

func personTarget(m *matrix, community *casework.Org) string {
	ctx := context.Background()
	sys := casework.SystemActor("test")
	worker, err := m.db.UserIDByName(ctx, "u-worker")
	if err != nil {
		panic(err)
	}
	if !strings.HasPrefix(community.Path, m.streetA.Path) {
		worker = "" // the worker's grant covers street A only
	}
	m.n++
	day := casework.DateOf(m.db.Now(), nil).AddDays(-30)
	p := storetest.Must(m.db.CreatePerson(ctx, sys, casework.PersonInput{
		OrgID: community.ID, Name: fmt.Sprintf("测试人%d", m.n), IDNumber: testIDNumber(m.n), Phone: "13800138000",
	}, &casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: fmt.Sprintf("吉公决字〔2026〕%d号", m.n),
		DecisionAuthority: "三亚市公安局吉阳分局", DecisionDate: day.AddDays(-2), ReceivedDate: day, ReportDate: day.AddDays(3), WorkerID: worker}))
	return p.ID
}

// testIDNumber returns a valid ID number that differs for each n.
func testIDNumber(n int) string {
	body := fmt.Sprintf("46020319%02d%02d%02d%03d", 80+n%20, 1+n%12, 1+n%28, n%1000)
	return body + string(casework.IDCheckChar(body))
}

// A working-group member of a person target. The matrix puts the target id
// in place of {id} only, so the maker returns the rest of the path up to the
// member id and ends it with "?": the route's literal "{member}" that
// follows falls into the query string, which the handler ignores.
var _ = addTarget("group_member", func(m *matrix, community *casework.Org) string {
	pid, mid := groupMemberTarget(m, community)
	return pid + "/group/" + mid + "?rest="
})

// The console's form route has one more segment: /persons/{id}/group/remove/{member}.
var _ = addTarget("group_member_form", func(m *matrix, community *casework.Org) string {
	pid, mid := groupMemberTarget(m, community)
	return pid + "/group/remove/" + mid + "?rest="
})

func groupMemberTarget(m *matrix, community *casework.Org) (personID, memberID string) {
	ctx := context.Background()
	sys := casework.SystemActor("test")
	pid := personTarget(m, community)
	if err := m.db.AddGroupMember(ctx, sys, pid, store.GroupMember{Role: "family", Name: "家属"}); err != nil {
		panic(err)
	}
	ms := storetest.Must(m.db.ListMeasures(ctx, sys, pid))
	return pid, ms[0].Group[0].ID
}

// An archived person: terminated on imprisonment (R14, R30).
var _ = addTarget("archived_person", archivedPersonTarget)

func archivedPersonTarget(m *matrix, community *casework.Org) string {
	pid := personTarget(m, community)
	storetest.Must(m.db.Transition(context.Background(), casework.SystemActor("test"), pid,
		store.TransitionInput{Action: casework.ActTerminate, Reason: "收监执行"}))
	return pid
}

// A pending correction of an archived person, requested by someone other
// than the matrix's lead (two people, R30).
var _ = addTarget("correction", func(m *matrix, community *casework.Org) string {
	pid := archivedPersonTarget(m, community)
	name := "更正后"
	return storetest.Must(m.db.RequestCorrection(context.Background(), casework.SystemActor("test"), pid, store.PersonUpdate{Name: &name}, "姓名错字"))
})

// otherTownship makes a township of its own under the county, outside both
// streets of the matrix, with a community under it.
func otherTownship(m *matrix, community *casework.Org) *casework.Org {
	ctx := context.Background()
	sys := casework.SystemActor("test")
	street := storetest.Must(m.db.GetOrg(ctx, sys, community.ParentID))
	m.n++
	town := storetest.Must(m.db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: street.ParentID, Kind: casework.KindTownship, Name: fmt.Sprintf("外街道%d", m.n)}))
	return storetest.Must(m.db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: town.ID, Kind: casework.KindCommunity, Name: fmt.Sprintf("外社区%d", m.n)}))
}

// An incoming transfer: a file elsewhere being handed to the community.
var _ = addTarget("incoming_transfer", func(m *matrix, community *casework.Org) string {
	pid := personTarget(m, otherTownship(m, community))
	return storetest.Must(m.db.StartTransfer(context.Background(), casework.SystemActor("test"), pid, community.ID, "户籍迁移")).ID
})

// An outgoing transfer: a file of the community being handed elsewhere.
var _ = addTarget("outgoing_transfer", func(m *matrix, community *casework.Org) string {
	pid := personTarget(m, community)
	return storetest.Must(m.db.StartTransfer(context.Background(), casework.SystemActor("test"), pid, otherTownship(m, community).ID, "现住址变更")).ID
})

// newPersonID is the ID number the create routes use (another area code
// than the targets', so it never clashes with one).
var newPersonID = func() string {
	body := "46020419900101123"
	return body + string(casework.IDCheckChar(body))
}()

// todayText is today's date at the default zone: an agreement date that is
// always valid for a target (reported 27 days ago).
var todayText = casework.DateOf(time.Now(), nil).String()

const (
	readers   = "office lead worker police"
	listers   = "office lead worker police counsellor"
	writers   = "lead worker"
	transfers = "office lead"
)

var _ = addRules(map[string]accessRule{
	// Console.
	"GET /persons":                             {roles: listers},
	"GET /persons/new":                         {roles: writers},
	"POST /persons":                            {roles: writers, body: "org_id={parent}&name=新人&id_number=" + newPersonID},
	"GET /persons/{id}":                        {roles: readers},
	"POST /persons/{id}":                       {roles: writers, body: "ethnicity=汉族"},
	"POST /persons/{id}/reveal":                {roles: readers, body: "field=id_number&reason=核对身份"},
	"POST /persons/{id}/measures":              {roles: writers, body: "kind=community_rehab&decision_number=1&decision_authority=局&decision_date=2020-01-01&received_date=2020-01-02&term_months=24"},
	"POST /persons/{id}/measure":               {roles: writers, body: "agreement_date=" + todayText},
	"POST /persons/{id}/transitions":           {roles: writers, body: "action=start_leave&reason=探亲"},
	"POST /persons/{id}/group":                 {roles: writers, body: "role=other&role_other=厂区保卫负责人&name=王保卫"},
	"POST /persons/{id}/group/remove/{member}": {roles: writers},
	"POST /persons/{id}/transfers":             {roles: transfers, body: "to_org_id={parent}&reason=户籍迁移"},
	"GET /transfers":                           {roles: listers},
	"POST /transfers/{id}/decision":            {roles: transfers, body: "accept=0&reason=材料不全"},
	"POST /transfers/{id}/cancel":              {roles: transfers, body: "reason=撤回"},
	"POST /persons/{id}/corrections":           {roles: writers, body: "name=更正名&reason=错字"},
	"POST /corrections/{id}/decision":          {roles: "lead", body: "approve=1&reason=核实"},
	// API.
	"GET /api/v1/persons":                        {roles: listers},
	"POST /api/v1/persons":                       {roles: writers, body: `{"org_id":"{parent}","name":"新人","id_number":"` + newPersonID + `"}`},
	"GET /api/v1/persons/{id}":                   {roles: readers},
	"PATCH /api/v1/persons/{id}":                 {roles: writers, body: `{"ethnicity":"汉族"}`},
	"POST /api/v1/persons/{id}/reveal":           {roles: readers, body: `{"field":"phone","reason":"联系本人"}`},
	"GET /api/v1/persons/{id}/measures":          {roles: readers},
	"POST /api/v1/persons/{id}/measures":         {roles: writers, body: `{"kind":"community_rehab","decision_number":"1","decision_authority":"局","decision_date":"2020-01-01","received_date":"2020-01-02","term_months":24}`},
	"PATCH /api/v1/persons/{id}/measure":         {roles: writers, body: `{"agreement_date":"` + todayText + `"}`},
	"POST /api/v1/persons/{id}/transitions":      {roles: writers, body: `{"action":"suspend","reason":"被拘留"}`},
	"POST /api/v1/persons/{id}/group":            {roles: writers, body: `{"role":"police","name":"李警官"}`},
	"DELETE /api/v1/persons/{id}/group/{member}": {roles: writers},
	"GET /api/v1/persons/{id}/timeline":          {roles: readers},
	"POST /api/v1/persons/{id}/transfers":        {roles: transfers, body: `{"to_org_id":"{parent}","reason":"户籍迁移"}`},
	"GET /api/v1/transfers":                      {roles: listers},
	"POST /api/v1/transfers/{id}/decision":       {roles: transfers, body: `{"accept":true}`},
	"POST /api/v1/transfers/{id}/cancel":         {roles: transfers, body: `{"reason":"撤回"}`},
	"GET /api/v1/persons/{id}/corrections":       {roles: readers},
	"POST /api/v1/persons/{id}/corrections":      {roles: writers, body: `{"reason":"错字","changes":{"name":"更正名"}}`},
	"POST /api/v1/corrections/{id}/decision":     {roles: "lead", body: `{"approve":true,"reason":"核实"}`},
})
