package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// TestAPIInputEdges sends the inputs an outside probe tried (issue 15 §7)
// and checks each is refused with the right status and field, never a
// 500, and that nothing of it was stored.
func TestAPIInputEdges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newAPISite(t, db)
		in, _ := s.newPerson("周某", "46020319900315002", "13812340000", 20, false)
		var p personOut
		s.must(201, "worker", "POST", "/api/v1/persons", jsonString(in), &p)

		person := func(edit func(m map[string]any)) string {
			m, _ := s.newPerson("李某", "46020319910315003", "13812340001", 20, false)
			edit(m)
			return jsonString(m)
		}
		id := func(body17 string) string { return body17 + string(casework.IDCheckChar(body17)) }
		const nilID = "00000000-0000-0000-0000-000000000000"
		tests := []struct {
			name, method, path, body string
			status                   int
			field                    string
		}{
			{"name of zero-width spaces", "POST", "/api/v1/persons", person(func(m map[string]any) { m["name"] = "\u200b\u200b" }), 400, "name"},
			{"name of control characters", "POST", "/api/v1/persons", person(func(m map[string]any) { m["name"] = "\u0007\u0008" }), 400, "name"},
			{"name with a bidi override", "POST", "/api/v1/persons", person(func(m map[string]any) { m["name"] = "张\u202e三" }), 400, "name"},
			{"name with a BOM", "POST", "/api/v1/persons", person(func(m map[string]any) { m["name"] = "\ufeff张三" }), 400, "name"},
			{"health notes with a bidi isolate", "POST", "/api/v1/persons", person(func(m map[string]any) { m["health_notes"] = "正常\u2067" }), 400, "health_notes"},
			{"contact name invisible", "POST", "/api/v1/persons", person(func(m map[string]any) {
				m["contacts"] = []map[string]string{{"name": "\u200d", "relation": "父子", "phone": "13900001111"}}
			}), 400, "contacts"},
			{"ID number with area code 000000", "POST", "/api/v1/persons", person(func(m map[string]any) { m["id_number"] = id("00000019910315003") }), 400, "id_number"},
			{"ID number born 1899", "POST", "/api/v1/persons", person(func(m map[string]any) { m["id_number"] = id("46020318991231003") }), 400, "id_number"},
			{"bad date names its field", "POST", "/api/v1/persons", person(func(m map[string]any) { m["measure"].(map[string]any)["decision_date"] = "2021-02-30" }), 400, "decision_date"},
			{"reveal with a 100,000-character reason", "POST", "/api/v1/persons/" + p.ID + "/reveal", jsonString(map[string]string{"field": "id_number", "reason": strings.Repeat("查", 100000)}), 400, "reason"},
			{"reveal reason with a bidi override", "POST", "/api/v1/persons/" + p.ID + "/reveal", jsonString(map[string]string{"field": "id_number", "reason": "核对\u202e"}), 400, "reason"},
			{"nil UUID person", "GET", "/api/v1/persons/" + nilID, "", 404, ""},
			{"nil UUID timeline", "GET", "/api/v1/persons/" + nilID + "/timeline", "", 404, ""},
			{"body over 1 MiB", "POST", "/api/v1/persons", person(func(m map[string]any) { m["health_notes"] = strings.Repeat("x", 2<<20) }), 413, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, raw := s.call("worker", tt.method, tt.path, tt.body, nil)
				if status != tt.status {
					t.Fatalf("%d, want %d: %.300s", status, tt.status, raw)
				}
				var e struct {
					Error struct{ Code, Message, Field string }
				}
				if err := json.Unmarshal([]byte(raw), &e); err != nil {
					t.Fatalf("not a JSON error: %.300s", raw)
				}
				if e.Error.Field != tt.field || strings.Contains(e.Error.Message, "%!") || e.Error.Message == "" {
					t.Fatalf("field %q message %q, want field %q", e.Error.Field, e.Error.Message, tt.field)
				}
			})
		}
		var l listOut[personOut]
		s.must(200, "lead", "GET", "/api/v1/persons", "", &l)
		if l.Total != 1 {
			t.Fatalf("a refused input was stored: %d persons", l.Total)
		}
	})
}
