package server_test

// The yearly work summary (issue 12 §3): every role that reads the
// reports reads an org's summary and downloads it; only an office or a
// street lead writes its texts and finalises it; outside the subtree 404.
var _ = addRules(map[string]accessRule{
	"GET /orgs/{id}/summary/{year}":                     {roles: reportReaders},
	"POST /orgs/{id}/summary/{year}":                    {roles: "office lead", body: "version=0&highlights=亮点"},
	"POST /orgs/{id}/summary/{year}/finalise":           {roles: "office lead", body: "version=0"},
	"GET /orgs/{id}/summary/{year}/xlsx":                {roles: reportReaders},
	"GET /orgs/{id}/summary/{year}/pdf":                 {roles: reportReaders},
	"GET /api/v1/reports/summary/{id}/{year}":           {roles: reportReaders},
	"GET /api/v1/reports/summary/{id}/{year}/xlsx":      {roles: reportReaders},
	"GET /api/v1/reports/summary/{id}/{year}/pdf":       {roles: reportReaders},
	"PUT /api/v1/reports/summary/{id}/{year}/texts":     {roles: "office lead", body: `{"version":0,"highlights":"亮点"}`},
	"POST /api/v1/reports/summary/{id}/{year}/finalise": {roles: "office lead", body: `{"version":0}`},
})
