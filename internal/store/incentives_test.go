package store_test

import (
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// incentiveTest records a test for the person by the police, on a day.
func incentiveTest(t *testing.T, db *store.DB, w ciWorld, day, outcome string) {
	t.Helper()
	in := casework.DrugTestInput{TestedOn: pfD(day), Place: "警务室", Sample: "urine", Substances: []string{"吗啡"}, Outcome: outcome,
		StaffIDs: []string{w.police.UserID, w.worker.UserID}}
	if outcome == casework.OutcomePositive {
		in.Positive, in.SampleA, in.SampleB, in.SealNo = []string{"吗啡"}, "A1", "B1", "S1"
	}
	storetest.Must(db.RecordTest(ctx, w.police, w.person.ID, in))
}

// missedTestDay records the evasion the nightly detection finds for a
// drawn test day without a test (R9).
func missedTestDay(t *testing.T, db *store.DB, w ciWorld, day string, at time.Time) {
	t.Helper()
	err := db.Write(ctx, func(tx *store.Tx) error {
		var measureID string
		if err := tx.QueryRow(ctx, `SELECT id FROM measures WHERE person_id = ?`, w.person.ID).Scan(&measureID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO violations (id, person_id, measure_id, org_id, kind, source_key, day, last_day, state, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)`, store.NewID(), w.person.ID, measureID, w.comm.ID, string(casework.ViolationMissedTest),
			"draw-"+day, day, day, at)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func ledgerPoints(acc *store.IncentiveAccount, rule string) []int {
	var out []int
	for i := len(acc.Rows) - 1; i >= 0; i-- { // oldest first
		if acc.Rows[i].Rule == rule {
			out = append(out, acc.Rows[i].Points)
		}
	}
	return out
}

// Issue 14: no consent, no points; with consent, ok check-ins earn a flat
// point a day (a late-synced check-in only if its verdict is ok), tests
// escalate, a missed drawn test day resets, awards come once however
// often the job runs, and the ledger refuses updates and deletes.
func TestIncentiveAwardsFromVerifiedEvents(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	storetest.EachWithClock(t, time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		phone := ciActivate(t, db, w.worker, w.person.ID)
		checkin := func(at time.Time) {
			t.Helper()
			if _, _, _, err := phone.checkin(db, ciIn(at, 18.25, 109.5)); err != nil {
				t.Fatal(err)
			}
		}
		// Consent needs incentives turned on.
		if _, err := db.GiveIncentiveConsent(ctx, w.worker, w.person.ID, "本人书面同意"); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("consent while incentives are off: %v, want a conflict", err)
		}
		storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.street.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-03-02"),
			Settings: map[string]string{"incentive.enabled": "true"}, Note: "试点"}))

		// A check-in and a negative test before consent earn nothing, ever.
		clock.T = time.Date(2026, 3, 2, 10, 0, 0, 0, bj)
		checkin(clock.T)
		incentiveTest(t, db, w, "2026-03-02", casework.OutcomeNegative)
		if run := storetest.Must(db.AwardIncentives(ctx)); run.Rows != 0 {
			t.Fatalf("no consent: %d rows awarded", run.Rows)
		}
		clock.T = time.Date(2026, 3, 2, 11, 0, 0, 0, bj)
		storetest.Must(db.GiveIncentiveConsent(ctx, w.worker, w.person.ID, "本人书面同意"))
		if _, err := db.GiveIncentiveConsent(ctx, w.worker, w.person.ID, ""); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("second consent: %v, want a conflict", err)
		}
		storetest.Must(db.AwardIncentives(ctx))
		if acc := storetest.Must(db.IncentiveAccountOf(ctx, w.worker, w.person.ID)); acc.Balance != 0 || len(acc.Rows) != 0 {
			t.Fatalf("events before consent credited: balance %d, rows %d", acc.Balance, len(acc.Rows))
		}

		// 3 March: two ok check-ins (one point), a negative test (10).
		clock.T = time.Date(2026, 3, 3, 10, 30, 0, 0, bj)
		checkin(time.Date(2026, 3, 3, 9, 0, 0, 0, bj))
		checkin(time.Date(2026, 3, 3, 10, 0, 0, 0, bj))
		incentiveTest(t, db, w, "2026-03-03", casework.OutcomeNegative)
		// 4 March at 23:30, sent late on the 5th: outside the window, no point.
		clock.T = time.Date(2026, 3, 5, 8, 0, 0, 0, bj)
		checkin(time.Date(2026, 3, 4, 23, 30, 0, 0, bj))
		incentiveTest(t, db, w, "2026-03-05", casework.OutcomeNegative) // 15
		clock.T = time.Date(2026, 3, 6, 8, 0, 0, 0, bj)
		incentiveTest(t, db, w, "2026-03-06", casework.OutcomeNegative) // 20 + 40
		run := storetest.Must(db.AwardIncentives(ctx))
		if run.Rows != 5 || run.Points != 1+10+15+60 {
			t.Fatalf("first run: %+v, want 5 rows (check-in, 3 tests, bonus) and 86 points", run)
		}
		if again := storetest.Must(db.AwardIncentives(ctx)); again.Rows != 0 {
			t.Fatalf("second run awarded %d rows again", again.Rows)
		}
		// A missed drawn test day resets the next award to the base.
		clock.T = time.Date(2026, 3, 8, 2, 0, 0, 0, bj)
		missedTestDay(t, db, w, "2026-03-07", clock.T)
		clock.T = clock.T.Add(8 * time.Hour)
		incentiveTest(t, db, w, "2026-03-08", casework.OutcomeNegative)
		storetest.Must(db.AwardIncentives(ctx))
		acc := storetest.Must(db.IncentiveAccountOf(ctx, w.worker, w.person.ID))
		if got := ledgerPoints(acc, casework.AwardNegative); len(got) != 4 || got[0] != 10 || got[1] != 15 || got[2] != 20 || got[3] != 10 {
			t.Fatalf("negative awards %v, want [10 15 20 10]", got)
		}
		if got := ledgerPoints(acc, casework.AwardReset); len(got) != 1 {
			t.Fatalf("reset rows %v, want one", got)
		}
		if acc.Balance != 1+10+15+60+10 || acc.NextValue != 15 || acc.ToReturn != 4 || acc.Return != 25 {
			t.Fatalf("balance %d next %d to return %d return %d; want 96, 15, 4, 25", acc.Balance, acc.NextValue, acc.ToReturn, acc.Return)
		}
		for _, r := range acc.Rows {
			if r.PolicyRef == "" || r.PolicyRef == "national" {
				t.Errorf("row %s %d points records policy %q, want the street's version", r.Rule, r.Points, r.PolicyRef)
			}
		}

		// The ledger is append-only, on both engines.
		for _, q := range []string{`UPDATE incentive_ledger SET points = 1000`, `DELETE FROM incentive_ledger`} {
			err := db.Write(ctx, func(tx *store.Tx) error { _, err := tx.Exec(ctx, q); return err })
			if err == nil || !strings.Contains(err.Error(), "never") {
				t.Errorf("%s: %v, want refused", q, err)
			}
		}

		// A schedule change leaves earlier rows as they were.
		storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.street.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-03-09"),
			Settings: map[string]string{"incentive.test_base": "100"}, Note: "提高"}))
		clock.T = time.Date(2026, 3, 9, 10, 0, 0, 0, bj)
		storetest.Must(db.AwardIncentives(ctx))
		if acc2 := storetest.Must(db.IncentiveAccountOf(ctx, w.worker, w.person.ID)); acc2.Balance != acc.Balance || len(acc2.Rows) != len(acc.Rows) {
			t.Fatalf("a schedule change altered the ledger: balance %d → %d", acc.Balance, acc2.Balance)
		}

		// Withdrawn consent: nothing more is credited; what was earned stays.
		pfField(t, "revoke without a reason", db.RevokeIncentiveConsent(ctx, w.worker, w.person.ID, ""), "reason")
		if err := db.RevokeIncentiveConsent(ctx, w.worker, w.person.ID, "本人不再参加"); err != nil {
			t.Fatal(err)
		}
		clock.T = time.Date(2026, 3, 10, 10, 0, 0, 0, bj)
		checkin(clock.T)
		incentiveTest(t, db, w, "2026-03-10", casework.OutcomeNegative)
		if run := storetest.Must(db.AwardIncentives(ctx)); run.Rows != 0 {
			t.Fatalf("after withdrawal: %d rows awarded", run.Rows)
		}

		// A reversal needs a lead and a reason, and happens once.
		neg := acc.Rows[0] // newest: the 10 of 8 March
		if err := db.ReverseIncentive(ctx, w.worker, w.person.ID, neg.ID, "录错人员"); !casework.IsCode(err, casework.EFORBIDDEN) {
			t.Fatalf("worker reversing: %v, want forbidden", err)
		}
		if err := db.ReverseIncentive(ctx, w.lead, w.person.ID, neg.ID, "录错人员"); err != nil {
			t.Fatal(err)
		}
		if err := db.ReverseIncentive(ctx, w.lead, w.person.ID, neg.ID, "录错人员"); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("second reversal: %v, want a conflict", err)
		}
		acc3 := storetest.Must(db.IncentiveAccountOf(ctx, w.lead, w.person.ID))
		if acc3.Balance != acc.Balance-neg.Points || len(acc3.Rows) != len(acc.Rows)+1 {
			t.Fatalf("after the reversal: balance %d rows %d", acc3.Balance, len(acc3.Rows))
		}
	})
}
