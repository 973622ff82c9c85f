package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 15 §6 through the API: the timeline route answers each role with
// the same field rules as its pages. A counsellor learns no drug facts
// (no drug test, no case opened on a positive test, no measure or status
// entry); police learn nothing of the psychological work; the worker sees
// both.
func TestTimelineAPIFilteredByRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newAPISite(t, db)
		sys := casework.SystemActor("test")
		actors := map[string]*casework.Actor{}
		for _, u := range []struct {
			name string
			role casework.Role
		}{{"police", casework.RolePolice}, {"counsellor", casework.RoleCounsellor}, {"worker2", casework.RoleWorker}} {
			user := storetest.Must(db.CreateUser(ctx, sys, casework.UserInput{Username: u.name, OrgID: s.commA.ID, Password: "long-enough-pw"}, "$argon2id$x", false))
			g := storetest.Must(db.GrantRole(ctx, sys, user.ID, u.role, s.commA.ID))
			tok, hash := auth.NewToken()
			if err := db.CreateSession(ctx, store.Session{TokenHash: hash, UserID: user.ID, Kind: "api", ExpiresAt: time.Now().Add(time.Hour)}, "127.0.0.1", "test", "test"); err != nil {
				t.Fatal(err)
			}
			s.tokens[u.name], s.users[u.name] = tok, user.ID
			actors[u.name] = &casework.Actor{UserID: user.ID, Username: u.name, Grants: []casework.Grant{*g}}
		}
		in, _ := s.newPerson("周某", "46020319900315011", "13812340000", 20, true)
		var p personOut
		s.must(201, "worker", "POST", "/api/v1/persons", jsonString(in), &p)
		storetest.Must(db.RecordTest(ctx, actors["police"], p.ID, casework.DrugTestInput{TestedOn: s.today, Place: "派出所", Sample: "urine",
			Outcome: casework.OutcomePositive, Substances: []string{"吗啡"}, Positive: []string{"吗啡"}, SampleA: "A-1", SampleB: "B-1", SealNo: "S1",
			StaffIDs: []string{actors["police"].UserID, actors["worker2"].UserID}}))
		if err := db.AssignCounsellor(ctx, sys, p.ID, actors["counsellor"].UserID); err != nil {
			t.Fatal(err)
		}
		kinds := func(user string) string {
			t.Helper()
			var out listOut[struct {
				Kind string `json:"kind"`
			}]
			s.must(200, user, "GET", "/api/v1/persons/"+p.ID+"/timeline?limit=200", "", &out)
			if out.Total != len(out.Items) {
				t.Errorf("%s: total %d, %d entries", user, out.Total, len(out.Items))
			}
			var ks []string
			for _, e := range out.Items {
				ks = append(ks, e.Kind)
			}
			return " " + strings.Join(ks, " ")
		}
		if w := kinds("worker"); !strings.Contains(w, " drugtest.") || !strings.Contains(w, " psych.") {
			t.Fatalf("the worker's timeline lacks the test or the assignment:%s", w)
		}
		c := kinds("counsellor")
		for _, drug := range []string{" drugtest.", " case.", " violation.", " measure.", " relapse.", " status."} {
			if strings.Contains(c, drug) {
				t.Errorf("the counsellor's timeline holds %q:%s", strings.TrimSpace(drug), c)
			}
		}
		if !strings.Contains(c, " psych.") {
			t.Errorf("the counsellor's timeline lacks its own work:%s", c)
		}
		if pk := kinds("police"); strings.Contains(pk, " psych.") || !strings.Contains(pk, " drugtest.") {
			t.Errorf("the police timeline:%s", pk)
		}
	})
}
