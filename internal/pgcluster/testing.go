package pgcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// Require skips the test unless KANGFU_TEST_CLUSTER=1; with
// KANGFU_REQUIRE_CLUSTER=1 a missing KANGFU_TEST_CLUSTER fails it instead,
// so CI cannot pass by skipping.
func Require(tb testing.TB) {
	tb.Helper()
	if os.Getenv("KANGFU_TEST_CLUSTER") == "1" {
		return
	}
	if os.Getenv("KANGFU_REQUIRE_CLUSTER") == "1" {
		tb.Fatal("KANGFU_REQUIRE_CLUSTER=1 but KANGFU_TEST_CLUSTER is not 1")
	}
	tb.Skip("set KANGFU_TEST_CLUSTER=1 to run tests against a throwaway PostgreSQL primary and standby")
}

var seq atomic.Int64

// nodeDir makes a folder for one node under the system temp folder (not
// tb.TempDir, whose parents are root's 0700 folders the postgres user could
// not enter) and removes it when the test ends.
func nodeDir(tb testing.TB, name string) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", fmt.Sprintf("pgcluster-%s-%d-", name, seq.Add(1)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Clean(dir)
}

// Primary starts a primary for the test (call Require first). It is stopped
// (immediate) when the test ends, and its folder removed.
func Primary(tb testing.TB) *Node {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := nodeDir(tb, "primary")
	n, err := StartPrimary(ctx, dir) // a failed start stops what it started
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stopForCleanup(tb, n) })
	return n
}

// Standby starts a streaming standby of primary for the test; it is stopped
// when the test ends, and its folder removed.
func Standby(tb testing.TB, primary *Node) *Node {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := nodeDir(tb, "standby")
	n, err := StartStandby(ctx, primary, dir) // a failed start stops what it started
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stopForCleanup(tb, n) })
	return n
}

func stopForCleanup(tb testing.TB, n *Node) {
	if err := n.Stop(Immediate); err != nil {
		tb.Errorf("pgcluster cleanup: %v", err)
	}
}
