package api_test

import (
	"context"
	"encoding/json"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Break-glass reads through the API (R36; issue 15): each call that reads
// the file under a grant writes exactly one audit row naming the grant —
// one for the file, and one for each call of the check-ins route, which
// reads the file twice (the daily duty, then the check-ins).
func TestBreakGlassAPICallAuditedOnceR36(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newAPISite(t, db)
		in, _ := s.newPerson("周某", "46020319900315002", "13812340000", 20, true)
		var p personOut
		s.must(201, "worker", "POST", "/api/v1/persons", jsonString(in), &p)
		s.must(404, "leadb", "GET", "/api/v1/persons/"+p.ID, "", nil)
		s.must(201, "leadb", "POST", "/api/v1/break-glass", jsonString(map[string]string{"person_id": p.ID, "reason": "辖区警情，需核实联系人"}), nil)
		rows := func() int {
			t.Helper()
			recs, _, err := db.ListAudit(context.Background(), casework.SystemActor("test"), store.AuditFilter{Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, r := range recs {
				var d map[string]any
				if json.Unmarshal([]byte(r.Detail), &d) == nil && d["break_glass"] != nil && r.Action != "breakglass.request" {
					n++
				}
			}
			return n
		}
		before := rows()
		for i, path := range []string{"/api/v1/persons/" + p.ID, "/api/v1/persons/" + p.ID + "/checkins", "/api/v1/persons/" + p.ID + "/checkins"} {
			s.must(200, "leadb", "GET", path, "", nil)
			if got := rows() - before; got != i+1 {
				t.Fatalf("after %d calls (last %s): %d audit rows naming the grant, want %d", i+1, path, got, i+1)
			}
		}
	})
}
