package store_test

// Issue 16 §3 with a real streaming standby (internal/pgcluster; gated by
// KANGFU_TEST_CLUSTER=1): reports read the replica, duties the primary; a
// replica too far behind or down is skipped and reports read the primary;
// each change of state is logged once.

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/pgcluster"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// syncBuffer is a log sink safe for the monitor goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), sub)
}

type replicaRig struct {
	primary, standby *pgcluster.Node
	standbyDB        *sql.DB // superuser connection to the standby, for pause/resume
}

func newReplicaRig(t *testing.T) *replicaRig {
	pgcluster.Require(t)
	p := pgcluster.Primary(t)
	if err := p.CreateDatabase(ctx, "kangfu"); err != nil {
		t.Fatal(err)
	}
	s := pgcluster.Standby(t, p)
	sdb, err := sql.Open("pgx", s.DSN("kangfu"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sdb.Close() })
	return &replicaRig{primary: p, standby: s, standbyDB: sdb}
}

// open opens the store on the primary with the standby as its replica.
func (r *replicaRig) open(t *testing.T, clock *storetest.Clock, maxLag, every time.Duration, log *syncBuffer) *store.DB {
	t.Helper()
	db, err := store.Open(ctx, r.primary.DSN("kangfu"), store.Options{Keys: storetest.Keys(t), Now: clock.Now,
		Replica: r.standby.DSN("kangfu"), ReplicaMaxLag: maxLag, ReplicaCheckEvery: every,
		Logger: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func (r *replicaRig) exec(t *testing.T, q string) {
	t.Helper()
	if _, err := r.standbyDB.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// waitState checks the replica until it reaches state.
func waitState(t *testing.T, db *store.DB, state string) store.ReplicaStatus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := db.CheckReplica(ctx)
		if st.State == state {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %+v, want state %s", st, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func checkinRate(t *testing.T, db *store.DB, actor *casework.Actor, org *casework.Org, day casework.Date) int64 {
	t.Helper()
	figs := storetest.Must(db.ComputeFigures(ctx, actor, org.ID, store.ReportPeriod{From: day, To: day}, []string{"checkin_rate"}))
	return figs[0].Num
}

func TestReplicaReportsDutiesPrimary(t *testing.T) {
	r := newReplicaRig(t)
	bj := casework.LoadLocation("Asia/Shanghai")
	clock := &storetest.Clock{T: time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)} // 12:00 Beijing
	logs := &syncBuffer{}
	// A bound no test step reaches: the replica stays in use while paused.
	db := r.open(t, clock, time.Hour, time.Hour, logs)
	w := ciBuild(t, db, pfD("2026-03-01"))
	phone := ciActivate(t, db, w.worker, w.person.ID)
	day := pfD("2026-03-10")
	waitState(t, db, store.ReplicaOK)
	if st := db.ReplicaStatus(); !st.Usable() || st.LagBytes != 0 {
		t.Fatalf("caught-up replica: %+v", st)
	}

	// Replay paused on the standby: whatever the primary commits now is
	// not on the replica.
	r.exec(t, `SELECT pg_wal_replay_pause()`)
	if c, _, _, err := phone.checkin(db, ciIn(clock.T.In(bj).Add(-time.Minute), 18.25, 109.5)); err != nil || !c.Counts {
		t.Fatalf("check-in: %+v %v", c, err)
	}
	// The duty path (R5: the person's duty for the day) reads the primary
	// and sees the check-in; the report figure reads the replica and does not.
	duty := storetest.Must(db.PersonDuty(ctx, w.lead, w.person.ID, day, day))
	if duty.Done != 1 {
		t.Fatalf("duty on the primary: done %d, want 1", duty.Done)
	}
	if n := checkinRate(t, db, w.lead, w.comm, day); n != 0 {
		t.Fatalf("report with replay paused: %d check-ins done, want 0 (the replica's old value)", n)
	}
	// The list behind the figure reads the replica too (no row done yet),
	// with the person's name from the primary.
	_, rows := ciMust2(db.FigureList(ctx, w.lead, w.comm.ID, store.ReportPeriod{From: day, To: day}, "checkin_rate", ""))
	if len(rows) != 1 || rows[0].Num != 0 || rows[0].Name != "王小明" {
		t.Fatalf("figure list on the paused replica: %+v", rows)
	}
	// The permission is decided on the primary: a worker outside the org is refused.
	if _, err := db.ComputeFigures(ctx, w.worker, w.county.ID, store.ReportPeriod{From: day, To: day}, nil); !casework.IsCode(err, casework.ENOTFOUND) {
		t.Fatalf("worker on the county: %v, want not found", err)
	}
	st := db.CheckReplica(ctx)
	if st.State != store.ReplicaOK || st.LagBytes <= 0 {
		t.Fatalf("paused replica within the bound: %+v, want ok with WAL behind", st)
	}

	// Replay resumed: the report catches up.
	r.exec(t, `SELECT pg_wal_replay_resume()`)
	deadline := time.Now().Add(30 * time.Second)
	for checkinRate(t, db, w.lead, w.comm, day) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("report never saw the check-in after replay resumed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := logs.count("read replica in use"); n != 1 {
		t.Errorf("logged 'in use' %d times, want once (one change of state)\n%s", n, logs.b.String())
	}
}

func TestReplicaSkippedWhenBehindOrDown(t *testing.T) {
	r := newReplicaRig(t)
	bj := casework.LoadLocation("Asia/Shanghai")
	clock := &storetest.Clock{T: time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)}
	logs := &syncBuffer{}
	maxLag := time.Second
	db := r.open(t, clock, maxLag, time.Hour, logs) // the test drives the checks
	w := ciBuild(t, db, pfD("2026-03-01"))
	phone := ciActivate(t, db, w.worker, w.person.ID)
	day := pfD("2026-03-10")
	waitState(t, db, store.ReplicaOK)

	// Behind: replay paused, a check-in committed, the bound passes.
	r.exec(t, `SELECT pg_wal_replay_pause()`)
	if _, _, _, err := phone.checkin(db, ciIn(clock.T.In(bj).Add(-time.Minute), 18.25, 109.5)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(maxLag + 200*time.Millisecond)
	st := waitState(t, db, store.ReplicaBehind)
	if st.Lag <= maxLag || st.LagBytes <= 0 || st.Usable() {
		t.Fatalf("behind: %+v, want lag above %v and WAL behind", st, maxLag)
	}
	for range 3 {
		db.CheckReplica(ctx) // still behind: no new log line
	}
	if n := checkinRate(t, db, w.lead, w.comm, day); n != 1 {
		t.Fatalf("replica behind: report saw %d check-ins, want 1 (read on the primary)", n)
	}
	if n := logs.count("too far behind"); n != 1 {
		t.Errorf("'too far behind' logged %d times, want once\n%s", n, logs.b.String())
	}
	r.exec(t, `SELECT pg_wal_replay_resume()`)
	waitState(t, db, store.ReplicaOK)

	// Down: the standby stops. Before the monitor notices, a report read
	// that cannot begin on the replica falls back to the primary at once.
	if err := r.standby.Stop(pgcluster.Fast); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := phone.checkin(db, ciIn(clock.T.In(bj), 18.25, 109.5)); err != nil {
		t.Fatal(err)
	}
	if n := checkinRate(t, db, w.lead, w.comm, day); n != 1 { // one day done however many check-ins
		t.Fatalf("replica down before a check: report %d, want 1 from the primary", n)
	}
	st = db.CheckReplica(ctx)
	if st.State != store.ReplicaDown || st.Err == "" || st.Usable() {
		t.Fatalf("down: %+v", st)
	}
	db.CheckReplica(ctx)
	if n := logs.count("unreachable"); n != 1 {
		t.Errorf("'unreachable' logged %d times, want once\n%s", n, logs.b.String())
	}
	if _, err := db.Dashboard(ctx, w.lead, w.street.ID, 2026); err != nil {
		t.Fatalf("dashboard with the replica down: %v", err)
	}
	// Back up: in use again, logged once more.
	if err := r.standby.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitState(t, db, store.ReplicaOK)
	if n := logs.count("read replica in use"); n != 3 {
		t.Errorf("'in use' logged %d times, want 3 (start, after behind, after down)\n%s", n, logs.b.String())
	}
}
