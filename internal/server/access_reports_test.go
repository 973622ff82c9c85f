package server_test

// The reports of issue 12: every role that reads person files (office,
// lead, worker, police, counsellor) sees the figures of its own subtree;
// the store answers 404 outside it. Admin and auditor do not.
const reportReaders = "office lead worker police counsellor"

var _ = addRules(map[string]accessRule{
	"GET /reports":                              {roles: reportReaders},
	"GET /reports/export.xlsx":                  {roles: reportReaders},
	"GET /reports/list":                         {roles: reportReaders},
	"GET /reports/list.xlsx":                    {roles: reportReaders},
	"GET /api/v1/reports/figures":               {roles: reportReaders},
	"GET /api/v1/reports/dashboard":             {roles: reportReaders},
	"GET /api/v1/reports/figures/{key}/records": {roles: reportReaders},
})
