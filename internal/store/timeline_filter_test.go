package store_test

import (
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 15 §6: the timeline follows the same field rules as the pages. A
// counsellor's minimal profile shows no drug history, so its timeline shows
// no drug test and no serious case opened on a positive test; the worker
// sees both. Count and pages agree.
func TestTimelineFilteredForCounsellor(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 9, 2, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-08-01"))
		storetest.Must(db.RecordTest(ctx, w.police, w.person.ID, casework.DrugTestInput{TestedOn: pfD("2026-09-01"), Place: "椰林派出所", Sample: "urine",
			Outcome: casework.OutcomePositive, Substances: []string{"吗啡"}, Positive: []string{"吗啡"}, SampleA: "A-1", SampleB: "B-1", SealNo: "S1",
			StaffIDs: []string{w.police.UserID, w.worker.UserID}}))
		if err := db.AssignCounsellor(ctx, w.lead, w.person.ID, w.counsellor.UserID); err != nil {
			t.Fatal(err)
		}
		kinds := func(actor *casework.Actor) ([]string, int) {
			t.Helper()
			es, total, err := db.ListTimeline(ctx, actor, w.person.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range es {
				out = append(out, e.Kind)
			}
			if total != len(out) {
				t.Fatalf("total %d, %d entries", total, len(out))
			}
			return out, total
		}
		drug := func(k string) bool {
			return strings.HasPrefix(k, "drugtest.") || strings.HasPrefix(k, "case.") || strings.HasPrefix(k, "violation.") ||
				strings.HasPrefix(k, "measure.") || strings.HasPrefix(k, "relapse.") || strings.HasPrefix(k, "status.")
		}
		wk, _ := kinds(w.worker)
		if !strings.Contains(strings.Join(wk, " "), "drugtest.recorded") {
			t.Fatalf("worker timeline lacks the drug test: %v", wk)
		}
		ck, _ := kinds(w.counsellor)
		for _, k := range ck {
			if drug(k) {
				t.Errorf("counsellor sees %q on the timeline (%v)", k, ck)
			}
		}
		if !strings.Contains(strings.Join(ck, " "), "psych.counsellor_assigned") {
			t.Errorf("counsellor timeline lacks its own assignment: %v", ck)
		}
		// Police see drug facts but not the psychological work (PermPsychRead).
		pk, _ := kinds(w.police)
		for _, k := range pk {
			if strings.HasPrefix(k, "psych.") {
				t.Errorf("police see %q", k)
			}
		}
		// The printed file (dossier) follows the same rules as the
		// timeline page: police find no psychological work in it, the
		// worker finds both sections.
		dossierKinds := func(actor *casework.Actor) string {
			t.Helper()
			d, err := db.LoadDossier(ctx, actor, w.person.ID, store.DossierPrint)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range d.Timeline {
				out = append(out, e.Kind)
			}
			return strings.Join(out, " ")
		}
		if pd := dossierKinds(w.police); strings.Contains(pd, "psych.") || !strings.Contains(pd, "drugtest.recorded") {
			t.Errorf("police dossier timeline: %s", pd)
		}
		if wd := dossierKinds(w.worker); !strings.Contains(wd, "psych.counsellor_assigned") || !strings.Contains(wd, "drugtest.recorded") {
			t.Errorf("worker dossier timeline: %s", wd)
		}
		// The counsellor gets no dossier at all (it holds no drug history).
		if _, err := db.LoadDossier(ctx, w.counsellor, w.person.ID, store.DossierPrint); err == nil {
			t.Error("the counsellor loaded the dossier")
		}
	})
}

func TestTimelineFilterRules(t *testing.T) {
	at := func(r casework.Role) *casework.Actor {
		return &casework.Actor{UserID: "u", Grants: []casework.Grant{{Role: r, OrgPath: "/1/2/"}}}
	}
	tests := []struct {
		role casework.Role
		acc  casework.PersonAccess
		kind string
		want bool
	}{
		{casework.RoleCounsellor, casework.PersonAccess{Read: true, Minimal: true}, "case.opened", false},
		{casework.RoleCounsellor, casework.PersonAccess{Read: true, Minimal: true}, "drugtest.recorded", false},
		{casework.RoleCounsellor, casework.PersonAccess{Read: true, Minimal: true}, "psych.scale", true},
		{casework.RoleWorker, casework.PersonAccess{Read: true, Sensitive: true}, "case.opened", true},
		{casework.RoleWorker, casework.PersonAccess{Read: true, Sensitive: true}, "psych.scale", true},
		{casework.RolePolice, casework.PersonAccess{Read: true, Sensitive: true}, "psych.scale", false},
		{casework.RolePolice, casework.PersonAccess{Read: true, Sensitive: true}, "drugtest.recorded", true},
	}
	for _, tt := range tests {
		f := casework.TimelineFilterFor(at(tt.role), "/1/2/3/", tt.acc)
		if got := f.Shows(tt.kind); got != tt.want {
			t.Errorf("%s %s: %v, want %v", tt.role, tt.kind, got, tt.want)
		}
	}
}
