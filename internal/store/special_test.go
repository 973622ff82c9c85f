package store_test

import (
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// R17: pregnancy (expected and actual delivery dates), nursing her own
// infant under one (ends on the first birthday by itself), a minor under 16
// (from the birth date in the ID number): shown on the file and in lists
// (sealed at rest); the police may not decide 强戒 for a pregnant or
// nursing woman; a forced test is refused only where policy
// test.no_forced_special says so (DOMAIN is silent).
func TestR17SpecialPersons(t *testing.T) {
	storetest.EachWithClock(t, at(pfD("2026-03-09"), 10, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		m := pfReported(pfD("2026-02-25"), pfD("2026-03-01"))
		m.WorkerID = w.worker.UserID
		her := storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, "李小红", pfID("19950101", 2, false)), m))
		m = pfReported(pfD("2026-02-25"), pfD("2026-03-01"))
		m.WorkerID = w.worker.UserID
		minor := storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, "赵小弟", pfID("20100310", 3, true)), m))

		_, err := db.SetSpecial(ctx, w.worker, w.person.ID, casework.SpecialFacts{Pregnant: true, ExpectedDelivery: pfD("2026-06-01")})
		pfField(t, "a man's pregnancy", err, "pregnant")
		_, err = db.SetSpecial(ctx, w.worker, her.ID, casework.SpecialFacts{Pregnant: true})
		pfField(t, "no expected date", err, "expected_delivery")
		_, err = db.SetSpecial(ctx, w.police, her.ID, casework.SpecialFacts{Pregnant: true, ExpectedDelivery: pfD("2026-06-01")})
		pfCode(t, "police may not edit the file", err, casework.EFORBIDDEN)

		p := storetest.Must(db.SetSpecial(ctx, w.worker, her.ID, casework.SpecialFacts{Pregnant: true, ExpectedDelivery: pfD("2026-06-01")}))
		today := pfD("2026-03-09")
		if s := p.SpecialOn(today); !s.Pregnant || !s.NotSubjectToCompulsory() || s.Effect("zh") == "" {
			t.Fatalf("R17 pregnant: %+v", s)
		}
		// Lists show it to sensitive readers; a counsellor's view has none.
		ps, _ := ciMust2(db.ListPersons(ctx, w.lead, store.PersonFilter{Query: "李小红"}))
		if len(ps) != 1 || !ps[0].SpecialOn(today).Pregnant {
			t.Fatalf("R17 in the list: %+v", ps)
		}
		// The minor: under 16 the day before the 16th birthday, not on it.
		mp := storetest.Must(db.GetPerson(ctx, w.lead, minor.ID, ""))
		if !mp.SpecialOn(pfD("2026-03-09")).Minor || mp.SpecialOn(pfD("2026-03-10")).Minor {
			t.Fatalf("R17 minor boundary: %+v / %+v", mp.SpecialOn(pfD("2026-03-09")), mp.SpecialOn(pfD("2026-03-10")))
		}
		if mp.SpecialOn(pfD("2026-03-09")).NotSubjectToCompulsory() {
			t.Fatal("R17: a minor's exemption is discretionary, not the law's exclusion")
		}

		u := storetest.Must(db.CreateUser(ctx, pfSys, casework.UserInput{Username: "ci-worker-f", DisplayName: "王芳", Sex: "F", OrgID: w.comm.ID,
			Password: "long-enough-pw"}, "x", false))
		storetest.Must(db.GrantRole(ctx, pfSys, u.ID, casework.RoleWorker, w.comm.ID))
		// Forced test: allowed by default (the law is silent); refused under the policy.
		forced := func(pid string, day casework.Date) error {
			_, err := db.RecordTest(ctx, w.police, pid, casework.DrugTestInput{TestedOn: day, Place: "椰林派出所", Sample: "urine",
				Outcome: casework.OutcomeNegative, Substances: []string{"吗啡"}, Forced: true, ApproverName: "王局长", ApproverTitle: "分局局长",
				StaffIDs: []string{w.police.UserID, u.ID}})
			return err
		}
		if err := forced(minor.ID, today); err != nil {
			t.Fatalf("R17/R21: forced test by default: %v", err)
		}
		storetest.Must(db.CreatePolicyVersion(ctx, w.lead, w.street.ID, version(pfD("2026-03-10"), map[string]string{"test.no_forced_special": "true"})))
		clock.T = at(pfD("2026-03-10"), 10, 0)
		pfField(t, "R17/R21: a forced test of a pregnant woman under the policy", forced(her.ID, pfD("2026-03-10")), "forced")
		if err := forced(minor.ID, pfD("2026-03-10")); err != nil {
			t.Fatalf("R17: 16 today, no longer a minor: %v", err)
		}

		// Delivered on 2026-03-10, nursing her infant: pregnancy ends, nursing
		// runs to the day before the first birthday.
		p = storetest.Must(db.SetSpecial(ctx, w.worker, her.ID, casework.SpecialFacts{Pregnant: true, ExpectedDelivery: pfD("2026-06-01"),
			DeliveredOn: pfD("2026-03-10"), InfantBirth: pfD("2026-03-10")}))
		if s := p.SpecialOn(pfD("2027-03-09")); s.Pregnant || !s.Nursing {
			t.Fatalf("R17 nursing the day before one year: %+v", s)
		}
		if s := p.SpecialOn(pfD("2027-03-10")); s.Nursing || s.Any() {
			t.Fatalf("R17 nursing ends at one year by itself: %+v", s)
		}

		// The police may not decide 强戒 for her (R17); another decision is fine.
		storetest.Must(db.RecordDrugUse(ctx, w.worker, her.ID, store.DrugUseInput{Day: pfD("2026-03-10"), Detail: "本人承认"}))
		cs, _ := ciMust2(db.ListSeriousCases(ctx, w.lead, store.CaseFilter{PersonID: her.ID}))
		if len(cs) != 1 {
			t.Fatalf("cases: %+v", cs)
		}
		storetest.Must(db.StepSeriousCase(ctx, w.lead, cs[0].ID, casework.CaseStep{Action: casework.CaseReport, Recipient: "椰林派出所"}, nil))
		storetest.Must(db.StepSeriousCase(ctx, w.police, cs[0].ID, casework.CaseStep{Action: casework.CaseAcknowledge}, nil))
		_, err = db.StepSeriousCase(ctx, w.police, cs[0].ID, casework.CaseStep{Action: casework.CaseDecide, Decision: casework.DecisionCompulsory,
			DecisionDate: pfD("2026-03-10"), Text: "强戒决定"}, nil)
		pfField(t, "R17: 强戒 for a nursing mother", err, "decision")
		storetest.Must(db.StepSeriousCase(ctx, w.police, cs[0].ID, casework.CaseStep{Action: casework.CaseDecide, Decision: casework.DecisionNotCompulsory,
			DecisionDate: pfD("2026-03-10"), Text: "哺乳期，不予强戒，加强社区监管"}, nil))
	})
}
