package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// pinChange is a PINChange with a plain "hash" (h:<pin>) so the test can
// see which hash is stored; the API uses argon2id.
func pinChange(old, next string) store.PINChange {
	return store.PINChange{
		Check:   func(_ context.Context, hash string) (bool, error) { return hash == "h:"+old, nil },
		NewHash: func(context.Context) (string, error) { return "h:" + next, nil },
	}
}

func pinAudit(t *testing.T, db *store.DB, action, personID string) []store.AuditRecord {
	t.Helper()
	rows, _, err := db.ListAudit(ctx, casework.SystemActor("test"), store.AuditFilter{Action: action, TargetID: personID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditRecord
	for _, r := range rows {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

func triesLeft(err error, n int) bool {
	return casework.ErrorField(err) == "old_pin" && strings.Contains(err.Error(), fmt.Sprintf("%d %s left", n, map[bool]string{true: "try", false: "tries"}[n == 1]))
}

// Issue 4 §3 (settings: PIN): the old PIN is checked on the server; wrong
// tries are counted, the fifth in a row locks the change for 15 minutes, a
// lock that has run out starts the count afresh, a success clears it; every
// try is audited; a retired device cannot change its PIN.
func TestChangeDevicePIN(t *testing.T) {
	start := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		code, _ := ciMust2(db.CreateActivationCode(ctx, w.worker, w.person.ID))
		dev, _ := ciMust2(db.Activate(ctx, store.Activation{Code: code, PublicKey: "k", PINHash: "h:246810", TokenHash: "tok-1"}))

		// Four wrong tries: each says how many are left.
		for i := 1; i <= casework.PINMaxFailures-1; i++ {
			err := db.ChangeDevicePIN(ctx, dev.ID, pinChange("111111", "135790"))
			if casework.ErrorField(err) != "old_pin" || !triesLeft(err, casework.PINMaxFailures-i) {
				t.Fatalf("wrong try %d: %v", i, err)
			}
		}
		// A success before the fifth clears the count.
		if err := db.ChangeDevicePIN(ctx, dev.ID, pinChange("246810", "135790")); err != nil {
			t.Fatalf("right PIN: %v", err)
		}
		if err := db.ChangeDevicePIN(ctx, dev.ID, pinChange("246810", "975310")); !triesLeft(err, casework.PINMaxFailures-1) {
			t.Fatalf("the PIN is no longer the old one: %v", err)
		}
		if err := db.ChangeDevicePIN(ctx, dev.ID, pinChange("000001", "975310")); !triesLeft(err, casework.PINMaxFailures-2) {
			t.Fatalf("count after a success starts afresh: %v", err)
		}
		for range casework.PINMaxFailures - 3 {
			if err := db.ChangeDevicePIN(ctx, dev.ID, pinChange("000001", "975310")); casework.ErrorField(err) != "old_pin" {
				t.Fatalf("wrong: %v", err)
			}
		}
		// The fifth wrong try in a row locks.
		if err := db.ChangeDevicePIN(ctx, dev.ID, pinChange("000001", "975310")); !casework.IsCode(err, casework.ELOCKED) {
			t.Fatalf("fifth wrong try: got %v, want locked", err)
		}
		// Locked: even the right PIN is refused, and is not even checked.
		checked := false
		locked := store.PINChange{Check: func(context.Context, string) (bool, error) { checked = true; return true, nil },
			NewHash: func(context.Context) (string, error) { return "h:975310", nil }}
		clock.Add(casework.PINLockFor - time.Second)
		if err := db.ChangeDevicePIN(ctx, dev.ID, locked); !casework.IsCode(err, casework.ELOCKED) || checked {
			t.Fatalf("1 s before the lock ends: %v (checked %v)", err, checked)
		}
		// At the end of the lock: a wrong try counts as the first of a new run.
		clock.Add(time.Second)
		if err := db.ChangeDevicePIN(ctx, dev.ID, pinChange("000001", "975310")); !triesLeft(err, casework.PINMaxFailures-1) {
			t.Fatalf("after the lock: %v", err)
		}
		if err := db.ChangeDevicePIN(ctx, dev.ID, pinChange("135790", "975310")); err != nil {
			t.Fatalf("right PIN after the lock: %v", err)
		}
		if n := len(pinAudit(t, db, "device.pin.change", w.person.ID)); n != 2 {
			t.Fatalf("%d device.pin.change rows, want 2", n)
		}
		fails := pinAudit(t, db, "device.pin.failed", w.person.ID)
		if len(fails) != 4+1+1+2+1+1 {
			t.Fatalf("%d device.pin.failed rows, want 10", len(fails))
		}
		locks := 0
		for _, f := range fails {
			if strings.Contains(f.Detail, `"locked_until"`) {
				locks++
			}
			if f.ActorName != "app:"+dev.ID {
				t.Fatalf("actor %q, want the device", f.ActorName)
			}
		}
		if locks != 1 {
			t.Fatalf("%d rows record a lock, want 1", locks)
		}
		// A retired device cannot change its PIN.
		code2, _ := ciMust2(db.CreateActivationCode(ctx, w.worker, w.person.ID))
		if _, _, err := db.Activate(ctx, store.Activation{Code: code2, PublicKey: "k", PINHash: "h:246810", TokenHash: "tok-2"}); err != nil {
			t.Fatal(err)
		}
		if err := db.ChangeDevicePIN(ctx, dev.ID, pinChange("975310", "864200")); casework.ErrorField(err) != "device_retired" {
			t.Fatalf("retired device: %v", err)
		}
		if err := db.ChangeDevicePIN(ctx, "no-such-device", pinChange("975310", "864200")); !casework.IsCode(err, casework.EUNAUTHORIZED) {
			t.Fatalf("unknown device: %v", err)
		}
	})
}
