package store_test

// Issue 16 §2: nothing that matters lives in one process. Each test opens
// TWO store handles on one database ("server A" and "server B"), as two
// `kangfu serve` processes would, on SQLite (one file, two handles) and on
// PostgreSQL (KANGFU_TEST_POSTGRES).

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// A bucket is one bucket whichever server draws on it: burst attempts in
// all, then one per `every`; a refused attempt takes nothing; a bucket
// that filled up again is pruned.
func TestRateLimitSharedByServers(t *testing.T) {
	start := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	storetest.EachPair(t, start, func(t *testing.T, a, b *store.DB, clock *storetest.Clock) {
		allow := func(db *store.DB, bucket string) bool {
			t.Helper()
			ok, err := db.AllowRate(ctx, bucket, 4, 6*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		for i, db := range []*store.DB{a, b, a, b} {
			if !allow(db, "login:192.0.2.1") {
				t.Fatalf("attempt %d of a burst of 4 refused", i+1)
			}
		}
		if allow(a, "login:192.0.2.1") || allow(b, "login:192.0.2.1") {
			t.Fatal("a fifth attempt, on A or on B, was allowed: the servers do not share the bucket")
		}
		if !allow(b, "login:192.0.2.2") || !allow(a, "activate:192.0.2.1") {
			t.Fatal("another address, or another purpose, must have a bucket of its own")
		}
		clock.Add(5 * time.Second)
		if allow(b, "login:192.0.2.1") {
			t.Fatal("a token came back before 6 s")
		}
		clock.Add(time.Second)
		if !allow(b, "login:192.0.2.1") {
			t.Fatal("no token back after 6 s (refused attempts must take nothing)")
		}
		if allow(a, "login:192.0.2.1") {
			t.Fatal("one token back after 6 s, two taken")
		}
		// A server whose clock is behind refills nothing and empties nothing.
		clock.Add(-time.Minute)
		if allow(a, "login:192.0.2.1") {
			t.Fatal("a clock a minute behind gave a token")
		}
		clock.Add(time.Minute + 12*time.Second)
		if !allow(a, "login:192.0.2.1") || !allow(b, "login:192.0.2.1") || allow(a, "login:192.0.2.1") {
			t.Fatal("12 s after the last token: want exactly two back")
		}

		// Many attempts at the same instant from both servers: exactly the
		// burst is allowed (one statement per attempt, atomic on both engines).
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db := a
				if i%2 == 1 {
					db = b
				}
				ok, err := db.AllowRate(ctx, "survey:198.51.100.9", 10, time.Hour)
				if err != nil {
					t.Error(err)
				}
				if ok {
					allowed.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := allowed.Load(); n != 10 {
			t.Fatalf("40 concurrent attempts on A and B against a burst of 10: %d allowed", n)
		}

		// Pruning: once every bucket is full again, the rows go (at most a
		// minute after; the next attempt on a handle prunes).
		buckets := storetest.Must(a.RateBuckets(ctx))
		if len(buckets) != 4 {
			t.Fatalf("buckets before pruning: %q, want 4", buckets)
		}
		for _, b := range buckets {
			if strings.Contains(b, "192.0.2") || strings.Contains(b, "198.51") {
				t.Fatalf("bucket %q keeps the address in clear", b)
			}
		}
		clock.Add(11 * time.Hour)
		if !allow(b, "login:203.0.113.5") {
			t.Fatal("fresh bucket refused")
		}
		if buckets := storetest.Must(a.RateBuckets(ctx)); len(buckets) != 1 || !strings.HasPrefix(buckets[0], "login:") {
			t.Fatalf("buckets after every other refilled: %q, want 1 (the one just used)", buckets)
		}
	})
}

// Staff sessions and sign-in locks are rows: a session opened on A works on
// B, signing out on A ends it on B at once; failures counted on A and on
// B, even at the same instant, add up to the lock (issue 15 §4).
func TestSessionsAndLocksAcrossServers(t *testing.T) {
	start := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	storetest.EachPair(t, start, func(t *testing.T, a, b *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, a, pfD("2026-03-01"))
		_, hash := auth.NewToken()
		if err := a.CreateSession(ctx, store.Session{TokenHash: hash, UserID: w.worker.UserID, Kind: "web", ExpiresAt: clock.T.Add(time.Hour)},
			"192.0.2.10", "test", "password"); err != nil {
			t.Fatal(err)
		}
		actor, _, err := b.SessionActor(ctx, hash, "web", 30*time.Minute)
		if err != nil || actor.UserID != w.worker.UserID {
			t.Fatalf("session opened on A, used on B: %v %v", actor, err)
		}
		if err := a.RevokeSession(ctx, actor, hash); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.SessionActor(ctx, hash, "web", 30*time.Minute); !casework.IsCode(err, casework.EUNAUTHORIZED) {
			t.Fatalf("signed out on A, used on B: got %v, want unauthorized", err)
		}

		// 12 failures at once, 6 through each server: every one counts.
		const n = 12
		var locks atomic.Int64
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db := a
				if i%2 == 1 {
					db = b
				}
				locked, err := db.RecordLoginFailure(ctx, w.lead.UserID, "ci-lead", "192.0.2.1", fmt.Sprintf("wrong password %d", i), n, 15*time.Minute)
				if err != nil {
					t.Errorf("failure %d: %v", i, err)
				}
				if locked {
					locks.Add(1)
				}
			}()
		}
		wg.Wait()
		if locks.Load() != 1 {
			t.Fatalf("%d concurrent failures with a lock after %d: %d of them locked, want exactly the last", n, n, locks.Load())
		}
		for _, db := range []*store.DB{a, b} {
			if until := storetest.Must(db.LoginLockedUntil(ctx, w.lead.UserID, "192.0.2.1")); !until.Equal(clock.T.Add(15 * time.Minute).Truncate(time.Microsecond)) {
				t.Fatalf("lock seen: until %v", until)
			}
			if until := storetest.Must(db.LoginLockedUntil(ctx, w.lead.UserID, "198.51.100.7")); !until.IsZero() {
				t.Fatalf("another address locked too: until %v", until)
			}
		}
	})
}

// The app's PIN lock (issue 18 §3) is a row too: wrong PINs typed at the
// same moment through A and B all count, and the lock holds on both.
func TestPINLockAcrossServers(t *testing.T) {
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)
	storetest.EachPair(t, start, func(t *testing.T, a, b *store.DB, _ *storetest.Clock) {
		w := ciBuild(t, a, pfD("2026-03-01"))
		phone := ciActivate(t, a, w.worker, w.person.ID)
		wrong := func(context.Context, string) (bool, error) { return false, nil }
		right := func(context.Context, string) (bool, error) { return true, nil }
		var wg sync.WaitGroup
		var locked atomic.Int64
		for i := range casework.PINMaxFailures {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db := a
				if i%2 == 1 {
					db = b
				}
				err := db.VerifyDevicePIN(ctx, phone.dev.ID, wrong)
				switch {
				case casework.IsCode(err, casework.ELOCKED):
					locked.Add(1)
				case casework.ErrorField(err) != "pin":
					t.Errorf("wrong PIN %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if locked.Load() != 1 {
			t.Fatalf("%d wrong PINs at once on A and B: %d answered locked, want exactly the last", casework.PINMaxFailures, locked.Load())
		}
		for _, db := range []*store.DB{a, b} {
			if err := db.VerifyDevicePIN(ctx, phone.dev.ID, right); !casework.IsCode(err, casework.ELOCKED) {
				t.Fatalf("right PIN after the lock: got %v, want locked on both servers", err)
			}
		}
	})
}

// A device retired through server A (issue 16 §2, the stated bound):
//   - a check-in B accepts from its cached device is refused when written
//     (the writer re-checks the device in its transaction): at once;
//   - a request that changes anything re-reads the device: at once;
//   - a read authenticated from B's cache: within store.AppCacheTTL.
func TestDeviceRetiredAcrossServers(t *testing.T) {
	defer store.SetAppCacheTTL(time.Second)()
	bj := casework.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC) // 12:00 Beijing
	storetest.EachPair(t, start, func(t *testing.T, a, b *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, a, pfD("2026-03-01"))
		phone := ciActivate(t, a, w.worker, w.person.ID)
		hash := auth.TokenHash(phone.token)
		onB, err := b.AppDeviceByToken(ctx, hash) // B has it cached now
		if err != nil {
			t.Fatal(err)
		}
		noon := clock.T.In(bj).Add(-time.Minute)
		if _, _, _, err := (ciPhone{key: phone.key, dev: onB}).checkin(b, ciIn(noon, 18.25, 109.5)); err != nil {
			t.Fatalf("check-in on B before retiring: %v", err)
		}
		if err := a.RetireDevice(ctx, w.worker, phone.dev.ID, "手机丢失"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.AppDeviceByToken(ctx, hash); casework.ErrorField(err) != "device_retired" {
			t.Fatalf("A, which retired it: got %v", err)
		}
		// B's cache still holds the device (this is what the bound is about) …
		cached, err := b.AppDeviceByToken(ctx, hash)
		if err != nil {
			t.Fatalf("B's cache within the TTL: %v (the test no longer exercises the cache)", err)
		}
		// … yet nothing it would store is stored.
		in := ciIn(noon, 18.25, 109.5)
		if _, _, _, err := (ciPhone{key: phone.key, dev: cached}).checkin(b, in); casework.ErrorField(err) != "device_retired" {
			t.Fatalf("check-in on B after retiring on A: got %v, want device_retired at once", err)
		}
		if n := storetest.Must(a.CountCheckins(ctx, []string{in.ID})); n[in.ID] != 0 {
			t.Fatalf("refused check-in stored %d times", n[in.ID])
		}
		if _, err := b.AppDeviceByTokenFresh(ctx, hash); casework.ErrorField(err) != "device_retired" {
			t.Fatalf("a fresh read on B: got %v, want device_retired at once", err)
		}
		// The fresh read dropped B's entry; fill B's cache afresh on a second
		// device to watch the TTL run out.
		phone2 := ciActivate(t, a, w.worker, w.person.ID)
		hash2 := auth.TokenHash(phone2.token)
		if _, err := b.AppDeviceByToken(ctx, hash2); err != nil {
			t.Fatal(err)
		}
		if err := a.RetireDevice(ctx, w.worker, phone2.dev.ID, "手机丢失"); err != nil {
			t.Fatal(err)
		}
		retiredAt := time.Now()
		for {
			_, err := b.AppDeviceByToken(ctx, hash2)
			if casework.ErrorField(err) == "device_retired" {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if time.Since(retiredAt) > 1500*time.Millisecond {
				t.Fatalf("B still authenticates a device retired on A %v ago (TTL 1 s)", time.Since(retiredAt))
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// Issue 16 §4: FlushCheckins (called by Close and by `kangfu serve` after
// the HTTP server drained) writes every check-in handed to the writer,
// then takes no more.
func TestFlushCheckins(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		phone := ciActivate(t, db, w.worker, w.person.ID)
		noon := clock.T.In(bj).Add(-time.Minute)
		const n = 200
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			in := ciIn(noon, 18.25, 109.5)
			in.PhotoSHA256 = ""
			ids[i] = in.ID
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, _, errs[i] = phone.checkin(db, in)
			}()
		}
		// Flush once the writer has begun: some records written, some queued,
		// some still being verified.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			if _, recs := db.CheckinWriterStats(); recs > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the writer wrote nothing in 10 s")
			}
		}
		if err := db.FlushCheckins(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		counts := storetest.Must(db.CountCheckins(ctx, ids))
		var stored, refused int
		for i, err := range errs {
			switch {
			case err == nil:
				stored++
				if counts[ids[i]] != 1 {
					t.Errorf("acknowledged check-in %s stored %d times", ids[i], counts[ids[i]])
				}
			case counts[ids[i]] != 0:
				t.Errorf("check-in %s refused (%v) yet stored", ids[i], err)
			default:
				refused++
			}
		}
		if _, written := db.CheckinWriterStats(); int(written) < stored {
			t.Fatalf("%d acknowledged, the writer wrote %d", stored, written)
		}
		if stored == 0 {
			t.Fatal("nothing acknowledged: the flush did not meet a running writer")
		}
		if _, _, _, err := phone.checkin(db, ciIn(noon, 18.25, 109.5)); err == nil {
			t.Fatal("a check-in was taken after the flush")
		}
		t.Logf("%d acknowledged and stored, %d refused after the flush began", stored, refused)
	})
}

// BenchmarkAllowRate measures one draw on a shared bucket (a sign-in,
// activation or survey answer pays it once).
func BenchmarkAllowRate(b *testing.B) {
	for _, e := range storetest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			db := storetest.Open(b, e, nil)
			for i := 0; b.Loop(); i++ {
				if _, err := db.AllowRate(ctx, fmt.Sprintf("login:192.0.2.%d", i%200), 10, 6*time.Second); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The check-in caches' bound for other changes (issue 16 §2): a county's
// area redrawn through server A applies to server B's verdicts within
// store.AppCacheTTL (here shortened to 1 s).
func TestOrgAreaAcrossServers(t *testing.T) {
	defer store.SetAppCacheTTL(time.Second)()
	bj := casework.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC) // 12:00 Beijing
	storetest.EachPair(t, start, func(t *testing.T, a, b *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, a, pfD("2026-03-01"))
		phone := ciActivate(t, a, w.worker, w.person.ID)
		onB := ciPhone{key: phone.key, dev: storetest.Must(b.AppDeviceByToken(ctx, auth.TokenHash(phone.token)))}
		noon := clock.T.In(bj).Add(-time.Minute)
		outside := func() bool {
			t.Helper()
			in := ciIn(noon, 18.25, 109.5)
			in.PhotoSHA256 = ""
			c, _, _, err := onB.checkin(b, in)
			if err != nil {
				t.Fatal(err)
			}
			return slices.Contains(c.Checks, casework.VerdictOutsideArea)
		}
		if outside() {
			t.Fatal("before: outside the area")
		}
		elsewhere := `{"type":"circle","lat":30.25,"lng":120.15,"radius_m":20000}`
		if _, err := a.UpdateOrg(ctx, pfSys, w.county.ID, store.OrgUpdate{Geofence: &elsewhere}); err != nil {
			t.Fatal(err)
		}
		changed := time.Now()
		for !outside() {
			if time.Since(changed) > 1500*time.Millisecond {
				t.Fatalf("B still judges by the old area %v after A redrew it (TTL 1 s)", time.Since(changed))
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
