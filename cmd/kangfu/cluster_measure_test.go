package main

// The performance figures of issue 16 (docs/operations.md and its sizing
// table come from them), measured on the same cluster as TestCluster:
//
//	KANGFU_TEST_CLUSTER=1 KANGFU_CLUSTER_MEASURE=1 go test -run TestClusterMeasure -v -timeout 20m ./cmd/kangfu/
//
// It is a measurement, not a test: it fails only when the system does (a
// check-in not acknowledged), never on a figure, since the machine's cores
// are shared with whatever else runs.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
)

func TestClusterMeasure(t *testing.T) {
	if os.Getenv("KANGFU_CLUSTER_MEASURE") != "1" {
		t.Skip("set KANGFU_CLUSTER_MEASURE=1 (with KANGFU_TEST_CLUSTER=1) to measure the cluster's figures")
	}
	dur := 15 * time.Second
	if v := os.Getenv("KANGFU_CLUSTER_MEASURE_SECONDS"); v != "" {
		n, _ := strconv.Atoi(v)
		dur = time.Duration(n) * time.Second
	}
	conc := 32
	c, devs := startCluster(t, 200)
	ctx := context.Background()
	base := "http://" + c.haproxy
	var report strings.Builder
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		t.Log(line)
		report.WriteString(line + "\n")
	}
	cpu := func(ids ...string) float64 {
		total := 0.0
		for _, id := range ids {
			s, err := cpuSeconds(c.servers[id].cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			total += s
		}
		return total
	}
	// run sends check-ins for dur and returns the result with the CPU
	// seconds the given servers and PostgreSQL used meanwhile.
	sessions := func() (n, commits int64) {
		// Connections opened to the database (pg_stat_database.sessions):
		// a pool that closes and reopens connections costs PostgreSQL a
		// backend start each time. Commits: the check-in writer commits a
		// batch at once (group commit), so fewer commits per check-in is
		// less work per check-in on both sides.
		c.sql(t).QueryRowContext(context.Background(), `SELECT sessions, xact_commit FROM pg_stat_database WHERE datname = current_database()`).Scan(&n, &commits)
		return
	}
	run := func(opt loadOptions, ids ...string) (*loadResult, float64, float64) {
		n0, x0 := sessions()
		s0, p0 := cpu(ids...), c.pgCPU(t)
		res := c.load(t, opt)
		s1, p1 := cpu(ids...), c.pgCPU(t)
		n1, x1 := sessions()
		if res.Failed != 0 {
			t.Fatalf("check-ins not acknowledged:\n%s", res)
		}
		say("  (%d check-ins, %d database connections opened, %.2f commits per check-in)", res.Acked, n1-n0, float64(x1-x0)/float64(res.Acked))
		return res, s1 - s0, p1 - p0
	}
	say("machine: %s, %d cores (shared with other work)", cpuModel(), numCPU())

	// Warm up both servers (caches, connection pools).
	run(loadOptions{URL: base, Devices: devs, Concurrency: conc, Duration: 3 * time.Second}, "a", "b")

	// One server (B killed: A takes everything through haproxy), then two,
	// alternately, twice: the machine's other work and PostgreSQL's own
	// (autovacuum of the growing table) fall on both alike.
	var acked1, acked2 int64
	var sum1, sum2, pgsum1, pgsum2 float64
	for round := 1; round <= 2; round++ {
		c.kill("b")
		c.waitHAProxyDown("b", 10*time.Second)
		// PostgreSQL's own background work (autovacuum of the growing
		// table, checkpoints, the WAL sender) with no load, for scale.
		i0 := c.pgCPU(t)
		time.Sleep(5 * time.Second)
		say("round %d, PostgreSQL idle (no load, 5 s): %.2f CPU-seconds per second", round, (c.pgCPU(t)-i0)/5)
		r1, cpu1, pg1 := run(loadOptions{URL: base, Devices: devs, Concurrency: conc, Duration: dur}, "a")
		say("round %d, 1 server:  %.0f check-ins/s, server CPU %.1f s → %.0f check-ins per server CPU-second; PostgreSQL CPU %.1f s; p50 %v p99 %v",
			round, r1.Rate(), cpu1, float64(r1.Acked)/cpu1, pg1, r1.Percentile(50).Round(100*time.Microsecond), r1.Percentile(99).Round(100*time.Microsecond))
		c.startServer("b")
		c.waitUp("b")
		run(loadOptions{URL: base, Devices: devs, Concurrency: conc, Duration: 2 * time.Second}, "a", "b")
		r2, cpu2, pg2 := run(loadOptions{URL: base, Devices: devs, Concurrency: conc, Duration: dur}, "a", "b")
		say("round %d, 2 servers: %.0f check-ins/s, server CPU %.1f s → %.0f check-ins per server CPU-second; PostgreSQL CPU %.1f s; p50 %v p99 %v; by server %v",
			round, r2.Rate(), cpu2, float64(r2.Acked)/cpu2, pg2, r2.Percentile(50).Round(100*time.Microsecond), r2.Percentile(99).Round(100*time.Microsecond), r2.servers)
		acked1, acked2 = acked1+r1.Acked, acked2+r2.Acked
		sum1, sum2, pgsum1, pgsum2 = sum1+cpu1, sum2+cpu2, pgsum1+pg1, pgsum2+pg2
	}
	e1, e2 := float64(acked1)/sum1, float64(acked2)/sum2
	say("over both rounds: 1 server %.0f, 2 servers %.0f check-ins per server CPU-second: the 2nd server keeps %.1f%% of the efficiency (%.1f%% loss); "+
		"PostgreSQL %.0f and %.0f check-ins per PG CPU-second", e1, e2, 100*e2/e1, 100*(1-e2/e1), float64(acked1)/pgsum1, float64(acked2)/pgsum2)

	// Report latency with the replica: an office account over the load
	// org (200 persons, the check-ins above), GET /api/v1/reports/figures
	// (every figure of the org subtree for the month, computed live on
	// the standby), idle and under check-in load.
	token := c.staffToken(t, "压测省CLUSTER")
	c.waitMetric(t, "a", `kangfu_db_replica_in_use{state="ok"} 1`)
	reportLat := func(n int) (p50, p90 time.Duration) {
		var l []time.Duration
		for range n {
			req, _ := http.NewRequest("GET", base+"/api/v1/reports/figures", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			t0 := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("report: %d", resp.StatusCode)
			}
			l = append(l, time.Since(t0))
		}
		slices.Sort(l)
		return l[len(l)/2], l[len(l)*9/10]
	}
	i50, i90 := reportLat(20)
	loadDone := make(chan struct{})
	go func() {
		runLoad(ctx, loadOptions{URL: base, Devices: devs, Concurrency: 16, Duration: 8 * time.Second})
		close(loadDone)
	}()
	time.Sleep(time.Second)
	l50, l90 := reportLat(20)
	<-loadDone
	say("report (all figures of a 200-person org for the month, on the replica): idle p50 %v p90 %v; under check-in load p50 %v p90 %v",
		i50.Round(100*time.Microsecond), i90.Round(100*time.Microsecond), l50.Round(100*time.Microsecond), l90.Round(100*time.Microsecond))

	// Bytes per check-in in PostgreSQL: the database and the check-ins
	// table (with its indexes and TOAST) before and after a counted run.
	db := c.sql(t)
	size := func() (dbBytes, tbl int64, n int64) {
		db.QueryRowContext(ctx, `SELECT pg_database_size(current_database()), pg_total_relation_size('checkins'), (SELECT count(*) FROM checkins)`).Scan(&dbBytes, &tbl, &n)
		return
	}
	db.ExecContext(ctx, `CHECKPOINT`)
	d0, t0, n0 := size()
	say("database now: %d check-ins, %.1f MB in all, check-ins table %.1f MB = %.0f bytes per check-in (table, indexes, TOAST)",
		n0, float64(d0)/1e6, float64(t0)/1e6, float64(t0)/float64(n0))

	// Photos: a selfie of about 80 KB (the app's 480-pixel JPEG at
	// quality 0.8 is 40–100 KB) uploaded before each check-in, through haproxy to both
	// servers, into the bucket.
	objs0, bytes0 := c.bucketUsage(t)
	rp, cpup, pgp := run(loadOptions{URL: base, Devices: devs, Concurrency: 16, Duration: dur, Photos: true, PhotoKB: 60}, "a", "b")
	objs1, bytes1 := c.bucketUsage(t)
	say("photos (%.0f KB each) with check-ins, 2 servers: %.1f photos/s, %.2f MB/s of photo bytes; server CPU %.1f s (%.0f photo+check-in pairs per CPU-second); PostgreSQL CPU %.1f s (%.0f pairs per PG CPU-second); p50 %v p99 %v (upload + check-in)",
		float64(rp.PhotoBytes)/float64(rp.Photos)/1e3, float64(rp.Photos)/rp.Elapsed.Seconds(), float64(rp.PhotoBytes)/1e6/rp.Elapsed.Seconds(), cpup, float64(rp.Acked)/cpup, pgp, float64(rp.Acked)/pgp,
		rp.Percentile(50).Round(100*time.Microsecond), rp.Percentile(99).Round(100*time.Microsecond))
	if objs1 > objs0 {
		say("bucket: %d new objects, %.1f MB → %.0f bytes per photo stored (%.0f sent: sealing overhead %.2f%%)",
			objs1-objs0, float64(bytes1-bytes0)/1e6, float64(bytes1-bytes0)/float64(objs1-objs0), float64(rp.PhotoBytes)/float64(rp.Photos),
			100*(float64(bytes1-bytes0)/float64(objs1-objs0)/(float64(rp.PhotoBytes)/float64(rp.Photos))-1))
	}
	db.ExecContext(ctx, `CHECKPOINT`)
	d1, t1, n1 := size()
	say("database after the photo run: %d check-ins (+%d), %.1f MB in all (+%.1f MB = %.0f bytes per check-in with its photo record), check-ins table %.0f bytes per check-in",
		n1, n1-n0, float64(d1)/1e6, float64(d1-d0)/1e6, float64(d1-d0)/float64(n1-n0), float64(t1)/float64(n1))

	// Failover: kill -9 of B under load, to haproxy marking it down (from
	// then on every request goes to A); three times.
	for i := range 3 {
		done := make(chan *loadResult, 1)
		go func() {
			r, _ := runLoad(ctx, loadOptions{URL: base, Devices: devs, Concurrency: 8, Duration: 3 * time.Second})
			done <- r
		}()
		time.Sleep(time.Second)
		killed := time.Now()
		c.kill("b")
		down := c.waitHAProxyDown("b", 10*time.Second)
		r := <-done
		if r.Failed != 0 {
			t.Fatalf("failover %d: check-ins lost:\n%s", i+1, r)
		}
		c.assertStored(t, r)
		say("failover %d: kill -9 → haproxy routes only to A after %v; the load saw %d failed attempts, all retried and acknowledged (%d check-ins)",
			i+1, down.Sub(killed).Round(time.Millisecond), r.Retries, r.Acked)
		c.startServer("b")
		c.waitUp("b")
	}
	if out := os.Getenv("KANGFU_CLUSTER_MEASURE_OUT"); out != "" {
		os.WriteFile(out, []byte(report.String()), 0o644)
	}
}

// pgCPU is the CPU seconds the primary's postmaster and all its children
// (live backends, and the ones that exited, through cutime/cstime) used.
func (c *cluster) pgCPU(t *testing.T) float64 {
	b, err := os.ReadFile(filepath.Join(c.primary.DataDir(), "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pm, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	total := 0.0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := procStat(pid)
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if pid != pm && ppid != pm {
			continue
		}
		for _, k := range []int{11, 12} {
			v, _ := strconv.ParseFloat(f[k], 64)
			total += v / 100
		}
		if pid == pm { // children that exited
			for _, k := range []int{13, 14} {
				v, _ := strconv.ParseFloat(f[k], 64)
				total += v / 100
			}
		}
	}
	return total
}

// procStat is /proc/<pid>/stat split after the command name: f[0] is the
// state, f[1] the parent, f[11..14] utime, stime, cutime, cstime.
func procStat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// staffToken makes an office account over the org named name, with an API
// session, through the store (the measurement does not sign in).
func (c *cluster) staffToken(t *testing.T, name string) string {
	ctx := context.Background()
	e, err := open(ctx, mustConfig(t, c.env("staff")), io.Discard, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var org string
	if err := c.sql(t).QueryRowContext(ctx, `SELECT id FROM orgs WHERE name = $1`, name).Scan(&org); err != nil {
		t.Fatal(err)
	}
	sys := casework.SystemActor("measure")
	u, err := e.db.CreateUser(ctx, sys, casework.UserInput{Username: "measure-office", OrgID: org, Password: "not-a-password"}, "$argon2id$disabled", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.GrantRole(ctx, sys, u.ID, casework.RoleOffice, org); err != nil {
		t.Fatal(err)
	}
	tok, hash := auth.NewToken()
	if err := e.db.CreateSession(ctx, store.Session{TokenHash: hash, UserID: u.ID, Kind: "api", ExpiresAt: time.Now().Add(time.Hour)}, "127.0.0.1", "measure", "measure"); err != nil {
		t.Fatal(err)
	}
	return tok
}

func (c *cluster) bucketUsage(t *testing.T) (objects, bytes int64) {
	for o := range c.minio.ListObjects(context.Background(), "kangfu", minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		objects++
		bytes += o.Size
	}
	return
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			_, v, _ := strings.Cut(l, ":")
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "\nprocessor") + 1
}
