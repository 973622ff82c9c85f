package store_test

// Tests of the person's app devices and check-ins (issue 4 §2, §4, §5), on
// SQLite and (with KANGFU_TEST_POSTGRES) PostgreSQL.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// ciWorld: a county with a circle geofence around Sanya (20 km), a street,
// a community, a lead and a worker, and one person executing.
type ciWorld struct {
	county, street, comm *casework.Org
	lead, worker, police *casework.Actor
	counsellor           *casework.Actor
	person               *casework.Person
}

func ciBuild(t testing.TB, db *store.DB, report casework.Date) ciWorld {
	t.Helper()
	mk := func(parent *casework.Org, kind casework.OrgKind, name, fence string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name, Geofence: fence}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return storetest.Must(db.CreateOrg(ctx, pfSys, in))
	}
	var w ciWorld
	city := mk(mk(nil, casework.KindProvince, "海南省", ""), casework.KindCity, "三亚市", "")
	w.county = mk(city, casework.KindCounty, "吉阳区", `{"type":"circle","lat":18.25,"lng":109.5,"radius_m":20000}`)
	w.street = mk(w.county, casework.KindTownship, "椰林街道", "")
	w.comm = mk(w.street, casework.KindCommunity, "安椰社区", `{"type":"circle","lat":18.25,"lng":109.5,"radius_m":500}`)
	w.lead = ciStaff(t, db, "ci-lead", casework.RoleLead, w.street)
	w.worker = ciStaff(t, db, "ci-worker", casework.RoleWorker, w.comm)
	w.police = ciStaff(t, db, "ci-police", casework.RolePolice, w.street)
	w.counsellor = ciStaff(t, db, "ci-counsellor", casework.RoleCounsellor, w.street)
	m := pfReported(report.AddDays(-3), report)
	m.WorkerID = w.worker.UserID
	w.person = storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, "王小明", pfID("19900101", 1, true)), m))
	return w
}

type ciPhone struct {
	key   *ecdsa.PrivateKey
	dev   *store.AppDevice
	token string
}

func ciActivate(t testing.TB, db *store.DB, actor *casework.Actor, personID string) ciPhone {
	t.Helper()
	code, _ := ciMust2(db.CreateActivationCode(ctx, actor, personID))
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	tok, hash := auth.NewToken()
	if _, _, err := db.Activate(ctx, store.Activation{Code: code, PublicKey: base64.StdEncoding.EncodeToString(der), PINHash: "x", TokenHash: hash}); err != nil {
		t.Fatal(err)
	}
	dev := storetest.Must(db.AppDeviceByToken(ctx, hash))
	return ciPhone{key: k, dev: dev, token: tok}
}

func (p ciPhone) checkin(db *store.DB, in casework.CheckinInput) (*store.Checkin, bool, []byte, error) {
	req := p.send(in)
	if in.PhotoSHA256 != "" { // the app uploads the selfie first (issue 15 §2)
		if err := db.RecordAppPhoto(ctx, p.dev, in.PhotoSHA256); err != nil {
			return nil, false, nil, err
		}
	}
	c, created, err := db.IngestCheckin(ctx, p.dev, in, req.Body, req.Sig)
	return c, created, req.Body, err
}

func ciIn(at time.Time, lat, lng float64) casework.CheckinInput {
	return casework.CheckinInput{ID: uuid.NewString(), TakenAt: at.Format(time.RFC3339), Lat: lat, Lng: lng, AccuracyM: 15,
		PhotoSHA256: fmt.Sprintf("%064x", 7)}
}

// Issue 4 §2: codes are single use, 72 h, revocable; one active device.
func TestActivation(t *testing.T) {
	start := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		t.Run("roles", func(t *testing.T) {
			if _, _, err := db.CreateActivationCode(ctx, w.police, w.person.ID); !casework.IsCode(err, casework.EFORBIDDEN) {
				t.Fatalf("police: got %v, want forbidden", err)
			}
		})
		code, c := ciMust2(db.CreateActivationCode(ctx, w.worker, w.person.ID))
		if len(code) != 8 || !c.ExpiresAt.Equal(clock.T.Truncate(time.Microsecond).Add(72*time.Hour)) {
			t.Fatalf("code %q expires %v", code, c.ExpiresAt)
		}
		activate := func(code string) (*store.Device, string, error) {
			_, hash := auth.NewToken()
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
			return db.Activate(ctx, store.Activation{Code: code, PublicKey: base64.StdEncoding.EncodeToString(der), PINHash: "x", TokenHash: hash})
		}
		d1, name, err := activate(code)
		if err != nil || name != "王小明" {
			t.Fatalf("activate: %v %q", err, name)
		}
		if _, _, err := activate(code); casework.ErrorField(err) != "code" {
			t.Fatalf("second use: got %v, want a code error", err)
		}
		rate := storetest.Must(db.RegistrationRate(ctx, w.lead, w.street.ID))
		if rate.Executing != 1 || rate.Registered != 1 || rate.Rate() != 1 {
			t.Fatalf("registration %+v", rate)
		}
		code2, _ := ciMust2(db.CreateActivationCode(ctx, w.worker, w.person.ID))
		d2, _, err := activate(code2)
		if err != nil {
			t.Fatal(err)
		}
		codes, devs := ciMust2(db.ListActivationCodes(ctx, w.lead, w.person.ID))
		if len(codes) != 2 || len(devs) != 2 || devs[0].ID != d2.ID || !devs[0].Active() || devs[1].ID != d1.ID || devs[1].Active() {
			t.Fatalf("a new activation must retire the old device: %+v", devs)
		}
		code3, c3 := ciMust2(db.CreateActivationCode(ctx, w.worker, w.person.ID))
		if _, err := db.RevokeActivationCode(ctx, w.worker, c3.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := activate(code3); casework.ErrorField(err) != "code" {
			t.Fatalf("revoked: got %v", err)
		}
		if _, err := db.RevokeActivationCode(ctx, w.worker, c3.ID); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("revoke twice: %v", err)
		}
		code4, _ := ciMust2(db.CreateActivationCode(ctx, w.worker, w.person.ID))
		clock.Add(72 * time.Hour)
		if _, _, err := activate(code4); casework.ErrorField(err) != "code" {
			t.Fatalf("expired: got %v", err)
		}
		if err := db.RetireDevice(ctx, w.worker, d2.ID, "手机丢失"); err != nil {
			t.Fatal(err)
		}
		rate = storetest.Must(db.RegistrationRate(ctx, w.lead, w.street.ID))
		if rate.Executing != 1 || rate.Registered != 0 {
			t.Fatalf("after retiring: %+v", rate)
		}
	})
}

// Issue 4 §4: exactly once by client id; verdicts at ingest; a retired
// device is refused; the location is sealed and opened only with
// sensitive access, audited.
func TestIngestCheckin(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC) // 12:00 Beijing
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		phone := ciActivate(t, db, w.worker, w.person.ID)
		noon := clock.T.In(bj).Add(-time.Minute)

		in := ciIn(noon, 18.25, 109.5)
		c, created, _, err := phone.checkin(db, in)
		if err != nil || !created || c.Verdict != casework.VerdictOK || c.PolicyRef != "national" || c.LocalDate != pfD("2026-03-10") {
			t.Fatalf("first: %+v %v %v", c, created, err)
		}
		again, created, _, err := phone.checkin(db, in)
		if err != nil || created || again.ID != c.ID || !again.ReceivedAt.Equal(c.ReceivedAt) {
			t.Fatalf("replay: %+v %v %v", again, created, err)
		}
		other := in
		other.Lat = 18.26
		if _, _, _, err := phone.checkin(db, other); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("same id, other body: got %v, want conflict", err)
		}
		if n := storetest.Must(db.CountCheckins(ctx, []string{in.ID})); n[in.ID] != 1 {
			t.Fatalf("rows for the id: %d", n[in.ID])
		}

		for _, tc := range []struct {
			name string
			in   casework.CheckinInput
			want casework.Verdict
		}{
			{"outside the county", ciIn(noon, 18.6, 109.5), casework.VerdictOutsideArea},
			{"inside the county, outside the community", ciIn(noon, 18.3, 109.5), casework.VerdictOK},
			{"poor accuracy", func() casework.CheckinInput { x := ciIn(noon, 18.25, 109.5); x.AccuracyM = 500; return x }(), casework.VerdictPoorAccuracy},
			{"no photo", func() casework.CheckinInput { x := ciIn(noon, 18.25, 109.5); x.PhotoSHA256 = ""; return x }(), casework.VerdictUnverifiable},
			{"outside the window", ciIn(time.Date(2026, 3, 10, 5, 0, 0, 0, bj), 18.25, 109.5), casework.VerdictOutsideWin},
			{"synced late", ciIn(time.Date(2026, 3, 9, 23, 30, 0, 0, bj), 18.25, 109.5), casework.VerdictOutsideWin},
			{"synced late in the window", ciIn(time.Date(2026, 3, 9, 20, 0, 0, 0, bj), 18.25, 109.5), casework.VerdictSyncedLate},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, _, _, err := phone.checkin(db, tc.in)
				if err != nil || c.Verdict != tc.want {
					t.Fatalf("got %+v %v, want %s", c, err, tc.want)
				}
			})
		}

		t.Run("location sealed, read audited", func(t *testing.T) {
			lat, lng, err := db.CheckinPoint(ctx, w.worker, c.ID)
			if err != nil || lat != 18.25 || lng != 109.5 {
				t.Fatalf("point %v %v %v", lat, lng, err)
			}
			if _, _, err := db.CheckinPoint(ctx, w.counsellor, c.ID); err == nil {
				t.Fatal("a counsellor read the location")
			}
		})

		t.Run("retired device", func(t *testing.T) {
			if err := db.RetireDevice(ctx, w.worker, phone.dev.ID, "手机丢失"); err != nil {
				t.Fatal(err)
			}
			// The request already holds the device (as a cached one would):
			// the writer refuses at commit.
			if _, _, _, err := phone.checkin(db, ciIn(noon, 18.25, 109.5)); casework.ErrorField(err) != "device_retired" {
				t.Fatalf("got %v, want device_retired", err)
			}
			if _, err := db.AppDeviceByToken(ctx, auth.TokenHash(phone.token)); casework.ErrorField(err) != "device_retired" {
				t.Fatalf("token of a retired device: got %v", err)
			}
		})
	})
}

// Issue 4 §5: a check-in at 23:30 Beijing (15:30 UTC) counts for that day;
// suspension (R13) owes nothing; the period runs across a month end.
func TestCheckinDuty(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 1, 29, 1, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-01-29"))
		phone := ciActivate(t, db, w.worker, w.person.ID)
		// 29 Jan: 23:30 Beijing = 15:30 UTC, sent at once.
		clock.T = time.Date(2026, 1, 29, 15, 31, 0, 0, time.UTC)
		late := time.Date(2026, 1, 29, 15, 30, 0, 0, time.UTC)
		c, _, _, err := phone.checkin(db, ciIn(late, 18.25, 109.5))
		if err != nil || c.LocalDate != pfD("2026-01-29") {
			t.Fatalf("23:30 Beijing: %+v %v", c, err)
		}
		// 31 Jan and 1 Feb checked in; 30 Jan missed.
		for _, day := range []string{"2026-01-31", "2026-02-01"} {
			at := pfD(day).In(bj).Add(9 * time.Hour)
			clock.T = at.Add(time.Minute)
			if _, _, _, err := phone.checkin(db, ciIn(at, 18.25, 109.5)); err != nil {
				t.Fatal(err)
			}
		}
		clock.T = time.Date(2026, 2, 2, 2, 0, 0, 0, time.UTC)
		if _, err := db.Transition(ctx, w.worker, w.person.ID, store.TransitionInput{Action: casework.ActSuspend, EffectiveDate: pfD("2026-02-02"), Reason: "行政拘留"}); err != nil {
			t.Fatal(err)
		}
		clock.T = time.Date(2026, 2, 5, 2, 0, 0, 0, time.UTC)
		if _, err := db.Transition(ctx, w.worker, w.person.ID, store.TransitionInput{Action: casework.ActResume, EffectiveDate: pfD("2026-02-05"), Reason: "释放"}); err != nil {
			t.Fatal(err)
		}
		clock.T = time.Date(2026, 2, 6, 20, 0, 0, 0, time.UTC) // 7 Feb 04:00 Beijing
		d := storetest.Must(db.PersonDuty(ctx, w.worker, w.person.ID, pfD("2026-01-01"), pfD("2026-02-28")))
		// Due: 29, 30, 31 Jan, 1 Feb, 5, 6, 7 Feb (today) = 7; done 2: the
		// 23:30 check-in is dated 29 Jan but falls outside the 06:00–22:00
		// window, so it does not discharge the day (issue 18 §2).
		if d.Due != 7 || d.Done != 2 || len(d.Missed) != 5 || d.Missed[0] != pfD("2026-01-29") || d.Missed[1] != pfD("2026-01-30") {
			t.Fatalf("duty %+v", d)
		}
		o := storetest.Must(db.OrgCheckinDuty(ctx, w.lead, w.street.ID, pfD("2026-01-01"), pfD("2026-02-28")))
		if o.Persons != 1 || o.Due != 7 || o.Done != 2 {
			t.Fatalf("org duty %+v", o)
		}
		if _, err := db.OrgCheckinDuty(ctx, w.lead, w.street.ID, pfD("2026-02-01"), pfD("2026-01-01")); casework.ErrorField(err) != "from" {
			t.Fatalf("bad period: %v", err)
		}
		list := storetest.Must(db.ListCheckins(ctx, w.worker, w.person.ID, pfD("2026-01-01"), pfD("2026-01-31")))
		if len(list) != 2 {
			t.Fatalf("January check-ins: %d", len(list))
		}
		board, today := ciMust2(db.TodayBoard(ctx, w.lead, w.street.ID))
		if today != pfD("2026-02-07") || len(board) != 1 || board[0].Checked {
			t.Fatalf("board %v %+v", today, board)
		}
	})
}

// Issue 4 Performance: the group-commit writer under concurrent load —
// every acknowledged record is stored exactly once, replays included.
func TestCheckinGroupCommit(t *testing.T) {
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		const clients, each = 32, 25
		phones := make([]ciPhone, 4)
		persons := []string{w.person.ID}
		for i := 1; i < len(phones); i++ {
			m := pfReported(pfD("2026-02-25"), pfD("2026-03-01"))
			m.WorkerID = w.worker.UserID
			p := storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, fmt.Sprintf("测试%d", i), pfID("19900101", 10+i, true)), m))
			persons = append(persons, p.ID)
		}
		for i := range phones {
			phones[i] = ciActivate(t, db, w.worker, persons[i])
		}
		var mu sync.Mutex
		acked := map[string]int{}
		var wg sync.WaitGroup
		errs := make(chan error, clients*each*2)
		for g := range clients {
			wg.Go(func() {
				phone := phones[g%len(phones)]
				for range each {
					in := ciIn(clock.T.Add(-time.Minute), 18.25, 109.5)
					for range 2 { // every record sent twice, as a retry would
						c, _, _, err := phone.checkin(db, in)
						if err != nil {
							errs <- err
							continue
						}
						mu.Lock()
						acked[c.ID]++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		ids := make([]string, 0, len(acked))
		for id, n := range acked {
			if n != 2 {
				t.Fatalf("%s acknowledged %d times, want 2", id, n)
			}
			ids = append(ids, id)
		}
		if len(ids) != clients*each {
			t.Fatalf("%d acknowledged ids, want %d", len(ids), clients*each)
		}
		counts := storetest.Must(db.CountCheckins(ctx, ids))
		for _, id := range ids {
			if counts[id] != 1 {
				t.Fatalf("%s stored %d times", id, counts[id])
			}
		}
	})
}

// The writer's answers inside one batch (issue 4 §4): a new record is
// created; the same id and body again in the batch answers the first
// (not created); another body under it is a conflict; an id stored by an
// earlier batch is a replay, or a conflict with another body; a device
// retired after its request was verified is refused at commit — and none
// of these stops the rest of the batch.
func TestCheckinBatchAnswers(t *testing.T) {
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		m := pfReported(pfD("2026-02-25"), pfD("2026-03-01"))
		m.WorkerID = w.worker.UserID
		other := storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, "测试乙", pfID("19900101", 41, true)), m))
		phone, lost := ciActivate(t, db, w.worker, w.person.ID), ciActivate(t, db, w.worker, other.ID)
		at := clock.T.Add(-time.Minute)
		stored := ciIn(at, 18.25, 109.5)
		if _, created, _, err := phone.checkin(db, stored); err != nil || !created {
			t.Fatalf("earlier check-in: created %v, %v", created, err)
		}
		if err := db.RetireDevice(ctx, w.worker, lost.dev.ID, "手机丢失"); err != nil {
			t.Fatal(err)
		}
		a, d, c := ciIn(at, 18.25, 109.5), ciIn(at, 18.25, 109.5), ciIn(at, 18.25, 109.5)
		aOther, storedOther := a, stored
		aOther.AccuracyM, storedOther.AccuracyM = 99, 99
		answers := storetest.Must(store.WriteCheckinBatch(ctx, db, []store.CheckinSend{
			phone.send(a), phone.send(a), phone.send(aOther), phone.send(stored), phone.send(storedOther), lost.send(c), phone.send(d),
		}))
		want := []struct {
			id      string
			created bool
			err     string
		}{{a.ID, true, ""}, {a.ID, false, ""}, {"", false, "conflict"}, {stored.ID, false, ""}, {"", false, "conflict"},
			{"", false, "device_retired"}, {d.ID, true, ""}}
		for i, w := range want {
			got := answers[i]
			switch {
			case w.err == "conflict" && !casework.IsCode(got.Err, casework.ECONFLICT),
				w.err == "device_retired" && casework.ErrorField(got.Err) != "device_retired",
				w.err == "" && (got.Err != nil || got.C == nil || got.C.ID != w.id || got.Created != w.created):
				t.Errorf("request %d: got %+v, want id %s created %v error %q", i, got, w.id, w.created, w.err)
			}
		}
		if answers[1].C != nil && answers[1].C.BodySHA256 != answers[0].C.BodySHA256 {
			t.Error("the repeat in the batch did not answer the first record")
		}
		counts := storetest.Must(db.CountCheckins(ctx, []string{a.ID, stored.ID, c.ID, d.ID}))
		if counts[a.ID] != 1 || counts[stored.ID] != 1 || counts[c.ID] != 0 || counts[d.ID] != 1 {
			t.Fatalf("stored %v, want a, the earlier one and d once each, c never", counts)
		}
	})
}

// send signs a check-in as the app does and returns the request.
func (p ciPhone) send(in casework.CheckinInput) store.CheckinSend {
	body, _ := json.Marshal(in)
	h := sha256.Sum256(body)
	r, s, _ := ecdsa.Sign(rand.Reader, p.key, h[:])
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return store.CheckinSend{Dev: p.dev, In: in, Body: body, Sig: base64.StdEncoding.EncodeToString(sig)}
}

func ciMust2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// BenchmarkIngestCheckin measures ingest through the group-commit writer
// (verdict, sealing, one transaction per batch, synchronous=FULL) with 64
// concurrent callers; signatures are checked in the API, not here.
func BenchmarkIngestCheckin(b *testing.B) {
	e := storetest.Engines(b)[0]
	db := storetest.Open(b, e, nil)
	w := ciBuild(b, db, casework.DateOf(time.Now(), nil).AddDays(-5))
	phone := ciActivate(b, db, w.worker, w.person.ID)
	b.SetParallelism(32) // × GOMAXPROCS goroutines
	b0, r0 := db.CheckinWriterStats()
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			in := ciIn(time.Now().Add(-time.Minute), 18.25, 109.5)
			body, _ := json.Marshal(in)
			if _, _, err := db.IngestCheckin(ctx, phone.dev, in, body, "sig"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	b1, r1 := db.CheckinWriterStats()
	if b1 > b0 {
		b.ReportMetric(float64(r1-r0)/float64(b1-b0), "records/batch")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checkins/s")
}

// ciStaff is pfStaff for tests and benchmarks.
func ciStaff(t testing.TB, db *store.DB, username string, role casework.Role, org *casework.Org) *casework.Actor {
	t.Helper()
	u := storetest.Must(db.CreateUser(ctx, pfSys, casework.UserInput{Username: username, OrgID: org.ID, Password: "long-enough-pw"}, "x", false))
	g := storetest.Must(db.GrantRole(ctx, pfSys, u.ID, role, org.ID))
	return &casework.Actor{UserID: u.ID, Username: username, Name: username, Grants: []casework.Grant{*g}}
}

// The writer goroutine stops when idle and starts again with the next
// check-in; no record waits for a stopped writer.
func TestCheckinWriterRestarts(t *testing.T) {
	defer store.SetCheckinIdleStop(20 * time.Millisecond)()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := ciBuild(t, db, casework.DateOf(db.Now(), nil).AddDays(-5))
		phone := ciActivate(t, db, w.worker, w.person.ID)
		for i := range 5 {
			if _, created, _, err := phone.checkin(db, ciIn(db.Now().Add(-time.Minute), 18.25, 109.5)); err != nil || !created {
				t.Fatalf("check-in %d: %v %v", i, created, err)
			}
			time.Sleep(time.Duration(i*15) * time.Millisecond) // before, around and after the idle stop
		}
	})
}
