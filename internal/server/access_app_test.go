package server_test

// The person's app (issue 4 §3): the PWA's files under /app/ are public —
// the shell holds no data; everything the app shows comes from
// /api/v1/app/…, behind the device token (access_checkins_test.go).
var _ = addRules(map[string]accessRule{
	"GET /app/": {roles: "public"},
})

// Settings and records of the app (issue 4 §3): device routes like the
// other app routes (access_checkins_test.go explains "device").
var _ = addRules(map[string]accessRule{
	"POST /api/v1/app/pin":        {roles: "device", body: `{}`},
	"POST /api/v1/app/pin/verify": {roles: "device", body: `{}`},
	"GET /api/v1/app/checkins":    {roles: "device"},
})
