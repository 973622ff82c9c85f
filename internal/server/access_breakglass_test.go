package server_test

import (
	"context"
	"fmt"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/store/storetest"
)

// Break-glass access (issue 15, PRODUCT §1, R36). Requesting is for the
// roles the policy allows (by default police and street leads; the store
// refuses the other readers with 403); reviewing and revoking are for the
// office and lead of the file's subtree, and a grant on a file elsewhere
// is not found.
const bgAskBody = "person_id=0190f0e2-7c1a-7b3c-9d4e-5f6a7b8c9d0e&reason=紧急警情核实"

var _ = addRules(map[string]accessRule{
	"GET /break-glass":                     {roles: "police lead"},
	"POST /break-glass":                    {roles: "police lead", body: bgAskBody},
	"GET /break-glass/reviews":             {roles: "office lead"},
	"POST /break-glass/{id}/review":        {roles: "office lead", body: "verdict=justified"},
	"POST /break-glass/{id}/revoke":        {roles: "office lead", body: "note=已核实"},
	"POST /api/v1/break-glass":             {roles: "police lead", body: `{"person_id":"0190f0e2-7c1a-7b3c-9d4e-5f6a7b8c9d0e","reason":"紧急警情核实"}`},
	"GET /api/v1/break-glass":              {roles: "office lead worker police counsellor"},
	"GET /api/v1/break-glass/reviews":      {roles: "office lead"},
	"POST /api/v1/break-glass/{id}/review": {roles: "office lead", body: `{"verdict":"justified"}`},
	"POST /api/v1/break-glass/{id}/revoke": {roles: "office lead", body: `{}`},
	"GET /api/v1/persons/{id}/break-glass": {roles: readers},
})

// A break-glass target: a grant in force on a person of the community,
// held by a new police officer of a community under the other street.
var _ = addTarget("break_glass", func(m *matrix, community *casework.Org) string {
	ctx := context.Background()
	sys := casework.SystemActor("test")
	pid := personTarget(m, community)
	other := m.streetB
	if !strings.HasPrefix(community.Path, m.streetA.Path) {
		other = m.streetA
	}
	m.n++
	org := storetest.Must(m.db.CreateOrg(ctx, sys, casework.OrgInput{ParentID: other.ID, Kind: casework.KindCommunity, Name: fmt.Sprintf("外社区%d", m.n)}))
	u := storetest.Must(m.db.CreateUser(ctx, sys, casework.UserInput{Username: fmt.Sprintf("bg%d", m.n), OrgID: org.ID, Password: "long-enough-pw"}, "$argon2id$x", false))
	g := storetest.Must(m.db.GrantRole(ctx, sys, u.ID, casework.RolePolice, org.ID))
	actor := &casework.Actor{UserID: u.ID, Username: u.Username, Grants: []casework.Grant{*g}}
	bg := storetest.Must(m.db.RequestBreakGlass(ctx, actor, casework.BreakGlassInput{PersonID: pid, Reason: "紧急警情核实"}))
	return bg.ID
})
