package server_test

// Issue 10's routes: the R17 facts of a person are the file's writers'.
var _ = addRules(map[string]accessRule{
	"POST /persons/{id}/special":       {roles: writers, body: "note=加强社区监管"},
	"PUT /api/v1/persons/{id}/special": {roles: writers, body: `{"note":"加强社区监管"}`},
})
