package server_test

// Incentives (issue 14): read by those who read help, consent recorded by
// those who record help, a reversal by a lead only (a reason and an
// existing row; the matrix's row id is unknown, which answers 422).
var _ = addRules(map[string]accessRule{
	"GET /api/v1/persons/{id}/incentives":                 {roles: readers},
	"POST /api/v1/persons/{id}/incentives/consent":        {roles: writers, body: `{"note":"本人书面同意"}`},
	"POST /api/v1/persons/{id}/incentives/consent/revoke": {roles: writers, body: `{"reason":"本人不再参加"}`},
	"POST /api/v1/persons/{id}/incentives/reversals":      {roles: "lead", body: `{"row_id":"00000000-0000-7000-8000-000000000001","reason":"录错"}`},
	"GET /api/v1/app/incentives":                          {roles: "device"},
	"POST /persons/{id}/incentives/consent":               {roles: writers, body: "note=本人书面同意"},
	"POST /persons/{id}/incentives/consent/revoke":        {roles: writers, body: "reason=本人不再参加"},
	"POST /persons/{id}/incentives/reversals":             {roles: "lead", body: "row_id=00000000-0000-7000-8000-000000000001&reason=录错"},
})
