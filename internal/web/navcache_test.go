package web

import (
	"testing"
	"time"
)

// The navigation's inbox counts are counted once per user within navTTL,
// per user, and counted afresh after the user's own change (forget). On
// several servers (issue 16 §2) a change made through another server
// shows within navTTL: an entry is never used past it.
func TestNavCountsCache(t *testing.T) {
	var nc navCounts
	calls := 0
	count := func(n int) func() (int, int, error) {
		return func() (int, int, error) { calls++; return n, 1, nil }
	}
	if n, o, _ := nc.get("u1", count(5)); n != 5 || o != 1 || calls != 1 {
		t.Fatalf("first: %d %d, %d calls", n, o, calls)
	}
	if n, _, _ := nc.get("u1", count(7)); n != 5 || calls != 1 {
		t.Fatalf("within the TTL: %d, %d calls", n, calls)
	}
	if n, _, _ := nc.get("u2", count(9)); n != 9 || calls != 2 {
		t.Fatalf("another user: %d, %d calls", n, calls)
	}
	nc.forget("u1")
	if n, _, _ := nc.get("u1", count(7)); n != 7 || calls != 3 {
		t.Fatalf("after forget: %d, %d calls", n, calls)
	}
	// The bound: an entry navTTL old is counted afresh (what another
	// server's change waits for at most).
	nc.mu.Lock()
	e := nc.m["u1"]
	e.at = time.Now().Add(-navTTL)
	nc.m["u1"] = e
	nc.mu.Unlock()
	if n, _, _ := nc.get("u1", count(8)); n != 8 || calls != 4 {
		t.Fatalf("after navTTL: %d, %d calls", n, calls)
	}
}
