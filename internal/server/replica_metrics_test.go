package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/pgcluster"
	"kangfu/internal/server"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 16 §3: the replica's lag is on /metrics, and shows it skipped when
// the standby is down (cluster-gated: a real primary and standby).
func TestReplicaLagMetric(t *testing.T) {
	pgcluster.Require(t)
	ctx := context.Background()
	p := pgcluster.Primary(t)
	if err := p.CreateDatabase(ctx, "kangfu"); err != nil {
		t.Fatal(err)
	}
	s := pgcluster.Standby(t, p)
	db, err := store.Open(ctx, p.DSN("kangfu"), store.Options{Keys: storetest.Keys(t), Replica: s.DSN("kangfu"),
		ReplicaCheckEvery: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(db, auth.NewService(db, auth.DefaultPolicy()), slog.New(slog.DiscardHandler), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	metrics := func() string {
		resp, err := ts.Client().Get(ts.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	waitFor := func(want ...string) string {
		deadline := time.Now().Add(30 * time.Second)
		for {
			m := metrics()
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(m, w)
			}
			if ok {
				return m
			}
			if time.Now().After(deadline) {
				t.Fatalf("metrics never showed %q:\n%s", want, m)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	m := waitFor(`kangfu_db_replica_in_use{state="ok"} 1`, "kangfu_db_replica_lag_seconds 0\n", "kangfu_db_replica_lag_bytes 0\n")
	if !strings.Contains(m, `kangfu_db_open_connections{pool="replica"}`) {
		t.Errorf("no replica pool statistics:\n%s", m)
	}
	if err := s.Stop(pgcluster.Fast); err != nil {
		t.Fatal(err)
	}
	waitFor(`kangfu_db_replica_in_use{state="down"} 0`, "kangfu_db_replica_lag_bytes -1\n")
}
