package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"kangfu/internal/api"
	"kangfu/internal/auth"
	"kangfu/internal/server"
	"kangfu/internal/store/storetest"
)

// TestOpenAPIDocumentsEveryRoute keeps the hand-written OpenAPI document
// true: every registered API route is in it, and it names no route that
// does not exist.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPIDocument(), &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	db := storetest.Open(t, storetest.Engines(t)[0], nil)
	srv, err := server.New(db, auth.NewService(db, auth.DefaultPolicy()), slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wild := regexp.MustCompile(`\{(\w+)\.\.\.\}`)
	registered := map[string]bool{}
	for _, rt := range srv.Routes() {
		if !strings.HasPrefix(rt.Pattern, "/api/") {
			continue
		}
		key := rt.Method + " " + wild.ReplaceAllString(rt.Pattern, "{$1}")
		registered[key] = true
		if !documented[key] {
			t.Errorf("route %s is not in internal/api/openapi.json", key)
		}
	}
	for key := range documented {
		if !registered[key] {
			t.Errorf("openapi.json documents %s, which is not a registered route", key)
		}
	}
}
