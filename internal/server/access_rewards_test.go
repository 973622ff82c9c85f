package server_test

import (
	"context"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Rewards catalogue and redemption (issue 14 §4): the catalogue, the
// redemptions and the monthly figures are read by those who read help and
// kept by those who record it, scoped by the office's subtree; a
// redemption is recorded by those who record help for the person (the
// matrix's reward and code are unknown, which answers 422); the app asks
// for its catalogue and a code with its device token.
var _ = addRules(map[string]accessRule{
	"GET /orgs/{id}/rewards":                 {roles: readers},
	"POST /orgs/{id}/rewards":                {roles: writers, body: "name=洗衣液&kind=goods&points=19&stock=5"},
	"POST /rewards/{id}":                     {roles: writers, body: "points=20&stock=4"},
	"POST /rewards/{id}/retire":              {roles: writers},
	"GET /persons/{id}/incentives":           {roles: readers},
	"POST /persons/{id}/redemptions":         {roles: writers, body: "reward_id=00000000-0000-7000-8000-000000000001&code=123456"},
	"GET /api/v1/orgs/{id}/rewards":          {roles: readers},
	"POST /api/v1/orgs/{id}/rewards":         {roles: writers, body: `{"name":"洗衣液","kind":"goods","points":19,"stock":5}`},
	"PATCH /api/v1/rewards/{id}":             {roles: writers, body: `{"name":"洗衣液","kind":"goods","points":20,"stock":4}`},
	"POST /api/v1/rewards/{id}/retire":       {roles: writers},
	"GET /api/v1/orgs/{id}/redemptions":      {roles: readers},
	"GET /api/v1/orgs/{id}/incentive-months": {roles: readers},
	"POST /api/v1/persons/{id}/redemptions":  {roles: writers, body: `{"reward_id":"00000000-0000-7000-8000-000000000001","code":"123456"}`},
	"GET /api/v1/app/rewards":                {roles: "device"},
	"POST /api/v1/app/incentives/code":       {roles: "device"},
})

// A reward target: soap in a fresh community's catalogue.
var _ = addTarget("reward", func(m *matrix, community *casework.Org) string {
	r := storetest.Must(m.db.AddReward(context.Background(), casework.SystemActor("test"), community.ID,
		store.RewardInput{Name: "洗衣液", Kind: store.RewardGoods, Points: 19, Stock: 5}))
	return r.ID
})
