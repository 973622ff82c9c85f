package store_test

import (
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// R9 lowered by policy: with violation.refusals_max 2, two refusals open a
// case, but it is the local policy's, not a statutory serious violation
// (the case, the lists and the inbox say so); the third refusal reaches the
// law's threshold and the same case becomes statutory.
func TestR9LoweredThresholdIsLocalPolicy(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		storetest.Must(db.CreatePolicyVersion(ctx, w.lead, w.street.ID, version(vStart.AddDays(1), map[string]string{"violation.refusals_max": "2"})))
		w.days(0, 20, false)
		refuse := func(day int) {
			t.Helper()
			clock.T = at(vStart.AddDays(day), 10, 0)
			storetest.Must(db.RecordTest(ctx, w.police, w.person.ID, casework.DrugTestInput{TestedOn: vStart.AddDays(day), Place: "椰林派出所",
				Sample: "urine", Outcome: casework.OutcomeRefused, StaffIDs: []string{w.police.UserID, w.worker.UserID}}))
		}
		refuse(5)
		refuse(6)
		w.night(7)
		cs := w.cases()
		if len(cs) != 1 || cs[0].Trigger != casework.TriggerRefusals {
			t.Fatalf("2 refusals under a policy of 2: one case, got %+v", cs)
		}
		c := cs[0]
		if c.Statutory || !strings.Contains(c.TriggerLabel("zh"), "本地政策") || !strings.Contains(c.TriggerLabel("zh"), "非法定严重违反") ||
			!strings.Contains(c.TriggerLabel("en"), "not a statutory serious violation") {
			t.Fatalf("R9: a case below the law's threshold is labelled %q / %q (statutory %v)", c.TriggerLabel("zh"), c.TriggerLabel("en"), c.Statutory)
		}
		ts := tasksOf(t, db, w.lead, "case_report", w.person.ID)
		if len(ts) != 1 || !strings.Contains(ts[0].TitleZH, "本地政策") {
			t.Fatalf("R9: the inbox task: %+v", ts)
		}
		refuse(8)
		w.night(9)
		cs = w.cases()
		if len(cs) != 1 || !cs[0].Statutory || strings.Contains(cs[0].TriggerLabel("zh"), "本地政策") {
			t.Fatalf("R9: at the law's 3 the case is statutory: %+v", cs)
		}
	})
}

// R9 at the law's own threshold: a case is statutory from the start.
func TestR9LawThresholdIsStatutory(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		w.days(0, 20, false)
		for _, day := range []int{5, 6, 7} {
			clock.T = at(vStart.AddDays(day), 10, 0)
			storetest.Must(db.RecordTest(ctx, w.police, w.person.ID, casework.DrugTestInput{TestedOn: vStart.AddDays(day), Place: "椰林派出所",
				Sample: "urine", Outcome: casework.OutcomeRefused, StaffIDs: []string{w.police.UserID, w.worker.UserID}}))
		}
		w.night(8)
		if cs := w.cases(); len(cs) != 1 || !cs[0].Statutory || cs[0].TriggerLabel("zh") != casework.TriggerRefusals.Label("zh") {
			t.Fatalf("3 refusals: a statutory case, got %+v", cs)
		}
	})
}
