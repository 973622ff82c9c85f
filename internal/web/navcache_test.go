package web

import "testing"

// The navigation's inbox counts are counted once per user within navTTL,
// per user, and counted afresh after the user's own change (forget).
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
}
