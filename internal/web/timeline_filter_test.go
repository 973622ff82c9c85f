package web_test

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

// Issue 15 §6 in the console: the timeline on the file's page follows the
// same field rules as the rest of the page. The police page shows no
// psychological work; the worker's shows it and the drug test; the
// counsellor gets no file page (its psychological file shows no drug fact).
func TestPersonPageTimelineFilteredByRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newSite(t, db)
		user := storetest.Must(db.CreateUser(ctx, s.sys, casework.UserInput{Username: "counsellor", DisplayName: "用户counsellor", OrgID: s.commA.ID,
			Password: "long-enough-pw"}, "$argon2id$x", false))
		storetest.Must(db.GrantRole(ctx, s.sys, user.ID, casework.RoleCounsellor, s.commA.ID))
		tok, hash := auth.NewToken()
		if err := db.CreateSession(ctx, store.Session{TokenHash: hash, UserID: user.ID, Kind: "web", ExpiresAt: time.Now().Add(time.Hour)}, "127.0.0.1", "test", "test"); err != nil {
			t.Fatal(err)
		}
		s.users["counsellor"], s.tokens["counsellor"] = user.ID, tok

		id := s.createPerson("worker", s.newPersonForm("王小明", idNumber("46020319900101123"), "13800138000", 3, true))
		police := &casework.Actor{UserID: s.users["police"], Username: "police",
			Grants: []casework.Grant{{Role: casework.RolePolice, OrgID: s.streetA.ID, OrgPath: s.streetA.Path}}}
		storetest.Must(db.RecordTest(ctx, police, id, casework.DrugTestInput{TestedOn: s.today, Place: "椰林派出所", Sample: "urine",
			Outcome: casework.OutcomePositive, Substances: []string{"吗啡"}, Positive: []string{"吗啡"}, SampleA: "A-1", SampleB: "B-1", SealNo: "S1",
			StaffIDs: []string{s.users["police"], s.users["worker"]}}))
		if err := db.AssignCounsellor(ctx, s.sys, id, user.ID); err != nil {
			t.Fatal(err)
		}
		timeline := func(who string) string {
			t.Helper()
			page := s.get(who, "en", "/persons/"+id)
			i := strings.Index(page, `data-testid="timeline"`)
			if i < 0 {
				t.Fatalf("%s: no timeline on the page", who)
			}
			j := strings.Index(page[i:], "</ol>")
			return page[i : i+j]
		}
		if w := timeline("worker"); !strings.Contains(w, "Drug test recorded") || !strings.Contains(w, "Counsellor assigned") {
			t.Fatalf("the worker's timeline lacks the test or the assignment:\n%s", w)
		}
		// The counsellor's console has no file page with a timeline: it is
		// sent to the psychological file, which shows no drug fact either.
		status, loc, _ := s.do("counsellor", "en", "GET", "/persons/"+id, nil)
		if status != 303 || loc != "/persons/"+id+"/psych" {
			t.Fatalf("the counsellor's file page: %d %s", status, loc)
		}
		c := s.get("counsellor", "en", loc)
		for _, drug := range []string{"Drug test recorded", "Measure recorded", "吗啡", "Positive"} {
			if strings.Contains(c, drug) {
				t.Errorf("the counsellor's psychological file shows %q", drug)
			}
		}
		if p := timeline("police"); strings.Contains(p, "Counsellor assigned") || !strings.Contains(p, "Drug test recorded") {
			t.Errorf("the police timeline:\n%s", p)
		}
	})
}
