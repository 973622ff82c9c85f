package pgcluster

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// waitFor polls a query on db until it returns want.
func waitFor(t *testing.T, db *sql.DB, q string, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var got int
	var err error
	for time.Now().Before(deadline) {
		if err = db.QueryRow(q).Scan(&got); err == nil && got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: got %d (err %v), want %d", q, got, err, want)
}

// A row written on the primary shows on the standby; the standby refuses
// writes until promoted, then takes them; after the test nothing runs.
func TestPrimaryStandbyPromote(t *testing.T) {
	Require(t)
	ctx := context.Background()
	p := Primary(t)
	if err := p.CreateDatabase(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	s := Standby(t, p)
	if p.Port == s.Port {
		t.Fatalf("primary and standby share port %d", p.Port)
	}

	pdb := open(t, p.DSN("test"))
	sdb := open(t, s.DSN("test"))
	if _, err := pdb.Exec(`CREATE TABLE t (id int PRIMARY KEY, v text)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pdb.Exec(`INSERT INTO t VALUES (1, 'on primary')`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sdb, `SELECT count(*) FROM t WHERE id = 1`, 1)
	var inRecovery bool
	if err := sdb.QueryRow(`SELECT pg_is_in_recovery()`).Scan(&inRecovery); err != nil || !inRecovery {
		t.Fatalf("standby in recovery = %v (err %v), want true", inRecovery, err)
	}
	if _, err := sdb.Exec(`INSERT INTO t VALUES (2, 'on standby')`); err == nil {
		t.Fatal("a standby in recovery took a write")
	}

	// Synchronous commit to the standby: an acknowledged commit is on it.
	if err := p.SetSynchronous(ctx, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, pdb, `SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'`, 1)
	if _, err := pdb.Exec(`INSERT INTO t VALUES (3, 'sync')`); err != nil {
		t.Fatal(err)
	}

	// The primary dies (kill -9); the standby is promoted and takes writes.
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Fatal("killed primary still marked running")
	}
	if err := s.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	sdb2 := open(t, s.DSN("test"))
	waitFor(t, sdb2, `SELECT count(*) FROM t WHERE id IN (1, 3)`, 2)
	if _, err := sdb2.Exec(`INSERT INTO t VALUES (2, 'after promote')`); err != nil {
		t.Fatalf("promoted standby refused a write: %v", err)
	}
	waitFor(t, sdb2, `SELECT count(*) FROM t`, 3)

	// Fast stop, then a restart keeps the data.
	sdb2.Close()
	sdb.Close()
	if err := s.Stop(Fast); err != nil {
		t.Fatal(err)
	}
	if s.postmasterAlive() {
		t.Fatal("postmaster alive after fast stop")
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, open(t, s.DSN("test")), `SELECT count(*) FROM t`, 3)
}

// Cleanup leaves nothing running: a subtest's nodes are gone when it ends.
func TestCleanupStopsEverything(t *testing.T) {
	Require(t)
	var p, s *Node
	t.Run("cluster", func(t *testing.T) {
		p = Primary(t)
		s = Standby(t, p)
	})
	for _, n := range []*Node{p, s} {
		if n.Running() || !n.portFree() {
			t.Errorf("%s still running on port %d after its test ended", n.Name, n.Port)
		}
	}
}
