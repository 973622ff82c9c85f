package server_test

// The app's language (issue 18 item 13): a device route like the other
// settings of the app (access_checkins_test.go explains "device").
var _ = addRules(map[string]accessRule{
	"POST /api/v1/app/lang": {roles: "device", body: `{}`},
})
