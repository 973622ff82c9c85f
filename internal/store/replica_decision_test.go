package store

import (
	"errors"
	"testing"
	"time"
)

// Issue 16 §3: the routing rule without a cluster. Reports read the replica
// only while it is a standby that answers and is at most maxLag behind.
func TestReplicaDecision(t *testing.T) {
	max := 30 * time.Second
	cases := []struct {
		name  string
		m     replicaMeasure
		state string
		lag   time.Duration
	}{
		{"unreachable", replicaMeasure{err: errors.New("connection refused")}, ReplicaDown, 0},
		{"promoted, no longer a standby", replicaMeasure{inRecovery: false, caughtUp: true}, ReplicaNotStandby, 0},
		{"caught up after a long idle spell", replicaMeasure{inRecovery: true, caughtUp: true, sinceXact: time.Hour}, ReplicaOK, 0},
		{"behind within the bound", replicaMeasure{inRecovery: true, sinceXact: 29 * time.Second, sinceCaughtUp: unknownAge}, ReplicaOK, 29 * time.Second},
		{"exactly at the bound", replicaMeasure{inRecovery: true, sinceXact: max, sinceCaughtUp: unknownAge}, ReplicaOK, max},
		{"beyond the bound", replicaMeasure{inRecovery: true, sinceXact: max + time.Millisecond, sinceCaughtUp: unknownAge}, ReplicaBehind, max + time.Millisecond},
		// An idle primary's last commit is old, but the standby was caught up 2s ago.
		{"old last commit, caught up lately", replicaMeasure{inRecovery: true, sinceXact: time.Hour, sinceCaughtUp: 2 * time.Second}, ReplicaOK, 2 * time.Second},
		{"caught up long ago, recent commit replayed", replicaMeasure{inRecovery: true, sinceXact: 3 * time.Second, sinceCaughtUp: time.Hour}, ReplicaOK, 3 * time.Second},
		{"both ages beyond the bound", replicaMeasure{inRecovery: true, sinceXact: 2 * time.Minute, sinceCaughtUp: time.Minute}, ReplicaBehind, time.Minute},
		{"nothing replayed since start, caught up lately", replicaMeasure{inRecovery: true, sinceXact: unknownAge, sinceCaughtUp: time.Second}, ReplicaOK, time.Second},
		{"neither age known", replicaMeasure{inRecovery: true, sinceXact: unknownAge, sinceCaughtUp: unknownAge}, ReplicaBehind, unknownAge},
	}
	for _, c := range cases {
		state, lag := replicaDecision(c.m, max)
		if state != c.state || lag != c.lag {
			t.Errorf("%s: %s %v, want %s %v", c.name, state, lag, c.state, c.lag)
		}
		usable := ReplicaStatus{Configured: true, State: state}.Usable()
		if usable != (c.state == ReplicaOK) {
			t.Errorf("%s: usable %v in state %s", c.name, usable, state)
		}
	}
	if (ReplicaStatus{State: ReplicaOK}).Usable() {
		t.Error("an unconfigured replica is usable")
	}
}

// Without a replica every report read goes to the primary's read pool.
func TestReportPoolWithoutReplica(t *testing.T) {
	db := &DB{}
	if db.reportPool() != db.read || db.ReplicaStatus().Configured {
		t.Fatal("no replica configured, yet reports do not read the primary")
	}
}
