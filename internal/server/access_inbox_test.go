package server_test

// The task inbox and notifications are every signed-in user's own (an
// admin's inbox is empty); the background jobs are the admin's (jobs.view).
var _ = addRules(map[string]accessRule{
	"GET /inbox":                      {roles: "*"},
	"GET /notifications":              {roles: "*"},
	"POST /notifications/read":        {roles: "*", body: "next=/notifications"},
	"GET /jobs":                       {roles: "admin"},
	"POST /jobs/{id}/retry":           {roles: "admin"},
	"GET /api/v1/inbox":               {roles: "*"},
	"GET /api/v1/notifications":       {roles: "*"},
	"POST /api/v1/notifications/read": {roles: "*", body: `{}`},
	"GET /api/v1/jobs":                {roles: "admin"},
	"POST /api/v1/jobs/{id}/retry":    {roles: "admin"},
})
