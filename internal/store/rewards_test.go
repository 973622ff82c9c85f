package store_test

import (
	"sync"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// grantPoints gives the person points straight into the ledger (the award
// job is tested in incentives_test.go).
func grantPoints(t *testing.T, db *store.DB, personID, orgID string, points int) {
	t.Helper()
	err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO incentive_ledger (id, person_id, org_id, rule, points, source_kind, source_id, day, created_at)
			VALUES (?, ?, ?, ?, ?, 'drug_test', ?, '2026-03-01', ?)`, store.NewID(), personID, orgID, casework.AwardNegative, points, store.NewID(), tx.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Issue 14 §4: a catalogue in kind (cash refused), and redemption with a
// one-time code bound to the person: the code is spent once, expires, is
// refused for another person, and a person outside the worker's subtree
// is not found as an unknown one is; stock and balance change together or
// not at all and never go below zero.
func TestRewardsRedemption(t *testing.T) {
	start := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		m := pfReported(pfD("2026-02-25"), pfD("2026-03-01"))
		m.WorkerID = w.worker.UserID
		other := storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, "李小红", pfID("19910202", 2, false)), m))
		comm2 := storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{ParentID: w.street.ID, Kind: casework.KindCommunity, Name: "椰风社区"}))
		outside := storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(comm2, "赵大力", pfID("19920303", 3, true)), pfReported(pfD("2026-02-25"), pfD("2026-03-01"))))

		// The catalogue: bad input is refused field by field, cash always.
		pfField(t, "cash", ciErr(db.AddReward(ctx, w.worker, w.comm.ID, store.RewardInput{Name: "现金50元", Kind: store.RewardGoods, Points: 10, Stock: 1})), "name")
		pfField(t, "gift card", ciErr(db.AddReward(ctx, w.worker, w.comm.ID, store.RewardInput{Name: "Supermarket gift card", Kind: store.RewardGoods, Points: 10, Stock: 1})), "name")
		pfField(t, "kind", ciErr(db.AddReward(ctx, w.worker, w.comm.ID, store.RewardInput{Name: "洗衣液", Kind: "cash", Points: 10, Stock: 1})), "kind")
		pfField(t, "price", ciErr(db.AddReward(ctx, w.worker, w.comm.ID, store.RewardInput{Name: "洗衣液", Kind: store.RewardGoods, Points: 0, Stock: 1})), "points")
		pfField(t, "stock", ciErr(db.AddReward(ctx, w.worker, w.comm.ID, store.RewardInput{Name: "洗衣液", Kind: store.RewardGoods, Points: 19, Stock: -1})), "stock")
		if _, err := db.AddReward(ctx, w.worker, comm2.ID, store.RewardInput{Name: "洗衣液", Kind: store.RewardGoods, Points: 19, Stock: 1}); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("reward in another community: %v, want not found", err)
		}
		soap := storetest.Must(db.AddReward(ctx, w.worker, w.comm.ID, store.RewardInput{Name: "洗衣液", Kind: store.RewardGoods, Points: 19, Stock: 1}))
		kettle := storetest.Must(db.AddReward(ctx, w.lead, w.street.ID, store.RewardInput{Name: "养生壶", Kind: store.RewardGoods, Points: 300, Stock: 2}))
		rice := storetest.Must(db.AddReward(ctx, w.lead, comm2.ID, store.RewardInput{Name: "大米", Kind: store.RewardGoods, Points: 5, Stock: 9}))
		cat := storetest.Must(db.PersonCatalogue(ctx, w.worker, w.person.ID))
		if len(cat) != 2 || cat[0].ID != soap.ID || cat[1].ID != kettle.ID {
			t.Fatalf("catalogue for the person: %+v, want the community's and the street's items", cat)
		}

		grantPoints(t, db, w.person.ID, w.comm.ID, 50)
		grantPoints(t, db, other.ID, w.comm.ID, 50)
		grantPoints(t, db, outside.ID, comm2.ID, 50)

		code := storetest.Must(db.AppRedeemCode(ctx, w.person.ID))
		if len(code.Code) != 6 || !code.ExpiresAt.Equal(clock.T.Truncate(time.Microsecond).Add(store.RewardCodeTTL)) {
			t.Fatalf("code %+v", code)
		}
		// Only the hash is stored.
		var stored int
		_ = db.Read(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM incentive_codes WHERE code_hash = ?`, code.Code).Scan(&stored)
		})
		if stored != 0 {
			t.Fatal("the plain code is stored")
		}
		// Another person's code, a reward of another community, too few points.
		pfField(t, "another person's code", ciErr(db.Redeem(ctx, w.worker, other.ID, soap.ID, code.Code)), "code")
		pfField(t, "other community's reward", ciErr(db.Redeem(ctx, w.worker, w.person.ID, rice.ID, code.Code)), "reward_id")
		if _, err := db.Redeem(ctx, w.worker, w.person.ID, kettle.ID, code.Code); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("300 points with 50: %v, want a conflict", err)
		}
		// A person outside the worker's subtree answers as an unknown one.
		outCode := storetest.Must(db.AppRedeemCode(ctx, outside.ID))
		_, errOut := db.Redeem(ctx, w.worker, outside.ID, rice.ID, outCode.Code)
		_, errUnknown := db.Redeem(ctx, w.worker, store.NewID(), rice.ID, outCode.Code)
		if !casework.IsCode(errOut, casework.ENOTFOUND) || errOut.Error() != errUnknown.Error() {
			t.Fatalf("outside: %v; unknown: %v; want the same not found", errOut, errUnknown)
		}
		// The failed attempts left code, stock and balance untouched.
		x := storetest.Must(db.Redeem(ctx, w.worker, w.person.ID, soap.ID, code.Code))
		if x.Points != 19 || x.PersonName != "王小明" {
			t.Fatalf("redemption %+v", x)
		}
		acc := storetest.Must(db.IncentiveAccountOf(ctx, w.worker, w.person.ID))
		if acc.Balance != 31 || acc.Redeemed != 19 || acc.Rows[0].SourceKind != "redemption" || acc.Rows[0].Points != -19 || acc.Rows[0].SourceID != x.ID {
			t.Fatalf("after redeeming: balance %d redeemed %d row %+v", acc.Balance, acc.Redeemed, acc.Rows[0])
		}
		// Reuse is refused.
		pfField(t, "reuse", ciErr(db.Redeem(ctx, w.worker, w.person.ID, kettle.ID, code.Code)), "code")
		// Out of stock: the code stays open and nothing moves.
		code2 := storetest.Must(db.AppRedeemCode(ctx, w.person.ID))
		if _, err := db.Redeem(ctx, w.worker, w.person.ID, soap.ID, code2.Code); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("no stock: %v, want a conflict", err)
		}
		if acc := storetest.Must(db.IncentiveAccountOf(ctx, w.worker, w.person.ID)); acc.Balance != 31 {
			t.Fatalf("a refused redemption changed the balance to %d", acc.Balance)
		}
		// Expired: ten minutes and it is gone.
		clock.T = clock.T.Add(store.RewardCodeTTL + time.Second)
		soap = storetest.Must(db.UpdateReward(ctx, w.worker, soap.ID, store.RewardInput{Name: "洗衣液", Kind: store.RewardGoods, Points: 19, Stock: 1}))
		pfField(t, "expired", ciErr(db.Redeem(ctx, w.worker, w.person.ID, soap.ID, code2.Code)), "code")
		// A new code replaces the old one.
		c3 := storetest.Must(db.AppRedeemCode(ctx, w.person.ID))
		c4 := storetest.Must(db.AppRedeemCode(ctx, w.person.ID))
		if c3.Code != c4.Code {
			pfField(t, "replaced", ciErr(db.Redeem(ctx, w.worker, w.person.ID, soap.ID, c3.Code)), "code")
		}
		// Wrong guesses close the open code.
		for range store.RewardCodeTries {
			guess := "000000"
			if c4.Code == guess {
				guess = "000001"
			}
			_, _ = db.Redeem(ctx, w.worker, w.person.ID, soap.ID, guess)
		}
		pfField(t, "after wrong guesses", ciErr(db.Redeem(ctx, w.worker, w.person.ID, soap.ID, c4.Code)), "code")

		// Concurrent redemptions of the last item: exactly one succeeds.
		a := storetest.Must(db.AppRedeemCode(ctx, w.person.ID))
		b := storetest.Must(db.AppRedeemCode(ctx, other.ID))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, p := range []struct{ id, code string }{{w.person.ID, a.Code}, {other.ID, b.Code}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = db.Redeem(ctx, w.worker, p.id, soap.ID, p.code)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !casework.IsCode(err, casework.ECONFLICT) {
				t.Fatalf("concurrent redemption: %v", err)
			}
		}
		soapNow := storetest.Must(db.Reward(ctx, w.worker, soap.ID))
		accA := storetest.Must(db.IncentiveAccountOf(ctx, w.worker, w.person.ID))
		accB := storetest.Must(db.IncentiveAccountOf(ctx, w.worker, other.ID))
		if ok != 1 || soapNow.Stock != 0 || accA.Redeemed+accB.Redeemed != 19+19 {
			t.Fatalf("concurrent: %d succeeded, stock %d, redeemed %d+%d", ok, soapNow.Stock, accA.Redeemed, accB.Redeemed)
		}

		// Retired rewards leave the catalogue; the office's months add up.
		if err := db.RetireReward(ctx, w.lead, kettle.ID); err != nil {
			t.Fatal(err)
		}
		if cat := storetest.Must(db.PersonCatalogue(ctx, w.worker, w.person.ID)); len(cat) != 1 {
			t.Fatalf("catalogue after retiring: %d items", len(cat))
		}
		_, months, _, err := db.IncentiveMonths(ctx, w.lead, w.street.ID, 2026)
		if err != nil {
			t.Fatal(err)
		}
		if months[2].Issued != 150 || months[2].Redeemed != 38 {
			t.Fatalf("March: %+v, want 150 issued and 38 redeemed", months[2])
		}
		_, list, err := db.Redemptions(ctx, w.worker, w.comm.ID, 50)
		if err != nil || len(list) != 2 {
			t.Fatalf("redemptions: %v, %d rows", err, len(list))
		}
		if _, _, err := db.Redemptions(ctx, w.worker, comm2.ID, 50); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("another community's redemptions: %v", err)
		}
	})
}

func ciErr[T any](_ T, err error) error { return err }
