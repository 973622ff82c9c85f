package main

// The multi-server test (issue 16 §5): a PostgreSQL primary and a streaming
// standby (internal/pgcluster, Debian's binaries), an S3 server (versitygw,
// posix backend on a temp dir), two `kangfu serve` processes built from this
// tree, and haproxy in front of them (roundrobin, /readyz health checks every
// 200 ms), with the load generator (loadgen.go) sending signed check-ins
// through haproxy. Skipped without KANGFU_TEST_CLUSTER=1;
// KANGFU_REQUIRE_CLUSTER=1 turns the skip into a failure (CI).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"kangfu/internal/pgcluster"
)

// cluster is the running system under test.
type cluster struct {
	t         *testing.T
	dir       string
	bin       string // the kangfu binary
	primary   *pgcluster.Node
	standby   *pgcluster.Node
	dsn       string // both hosts, target_session_attrs=read-write
	s3        string // versitygw endpoint host:port
	haproxy   string // haproxy frontend host:port
	statsSock string
	key       string
	servers   map[string]*kserver
	minio     *minio.Client
	gwRoot    string
	start     time.Time
}

// kserver is one `kangfu serve` process.
type kserver struct {
	id   string
	addr string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

func freePort(t *testing.T) int {
	t.Helper()
	p, err := pgcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// requireTool finds a program the cluster test needs: with
// KANGFU_REQUIRE_CLUSTER=1 a missing one fails the test.
func requireTool(t *testing.T, name string, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not found (looked for %v); CI installs it (.ci/run)", name, candidates)
	if os.Getenv("KANGFU_REQUIRE_CLUSTER") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startCluster starts the whole system: PostgreSQL primary and standby,
// versitygw with a bucket, the schema, n load devices, servers a and b and
// haproxy in front of them.
func startCluster(t *testing.T, n int) (*cluster, []loadDevice) {
	pgcluster.Require(t)
	haproxyBin := requireTool(t, "haproxy", "haproxy", "/usr/sbin/haproxy")
	home, _ := os.UserHomeDir()
	vgw := requireTool(t, "versitygw", os.Getenv("KANGFU_VERSITYGW"), filepath.Join(home, ".cache/kangfu/bin/versitygw"), "versitygw")
	ctx := context.Background()
	c := &cluster{t: t, dir: t.TempDir(), servers: map[string]*kserver{}, start: time.Now()}
	start := c.start
	step := func(what string) { t.Logf("[%5.1fs] %s", time.Since(start).Seconds(), what) }

	// The binary under test.
	c.bin = filepath.Join(c.dir, "kangfu")
	if out, err := exec.Command("go", "build", "-o", c.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	step("built kangfu")

	// PostgreSQL: a primary and a streaming standby with synchronous commit,
	// so a commit the primary acknowledged is on the standby too.
	c.primary = pgcluster.Primary(t)
	if err := c.primary.CreateDatabase(ctx, "kangfu"); err != nil {
		t.Fatal(err)
	}
	c.standby = pgcluster.Standby(t, c.primary)
	if err := c.primary.SetSynchronous(ctx, true); err != nil {
		t.Fatal(err)
	}
	// The servers' DSN lists both hosts; pgx connects to the first that
	// takes writes (target_session_attrs=read-write), so after the standby
	// is promoted the same DSN reaches it without a restart.
	c.dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/kangfu?sslmode=disable&target_session_attrs=read-write&connect_timeout=2",
		c.primary.Port, c.standby.Port)
	step("PostgreSQL primary and standby streaming")

	// The S3 server and its bucket.
	c.s3 = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	gwRoot := filepath.Join(c.dir, "s3")
	c.gwRoot = gwRoot
	gwMeta := filepath.Join(c.dir, "gwmeta") // not "s3…": versitygw 1.8.0 refuses a sidecar whose path starts with the root's
	os.MkdirAll(gwRoot, 0o700)
	os.MkdirAll(gwMeta, 0o700)
	c.background("versitygw", vgw, []string{"--port", c.s3, "--access", "clusteraccess", "--secret", "clustersecret", "--quiet",
		"posix", "--sidecar", gwMeta, gwRoot}, nil)
	mc, err := minio.New(c.s3, &minio.Options{Creds: credentials.NewStaticV4("clusteraccess", "clustersecret", ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	c.minio = mc
	waitFor(t, 20*time.Second, "versitygw", func() error { return mc.MakeBucket(ctx, "kangfu", minio.MakeBucketOptions{Region: "us-east-1"}) })
	step("versitygw bucket made")

	// The schema once, then the devices the load generator signs with.
	c.key = strings.TrimSpace(runOut(t, c.bin, []string{"keygen"}, nil))
	runOut(t, c.bin, []string{"migrate"}, c.env("migrate"))
	devFile := filepath.Join(c.dir, "devices.json")
	e, err := open(ctx, mustConfig(t, c.env("setup")), io.Discard, false, false)
	if err != nil {
		t.Fatal(err)
	}
	devs, err := makeLoadDevices(ctx, e.db, n, "CLUSTER")
	e.Close()
	if err != nil {
		t.Fatal(err)
	}
	writeLoadDevices(devFile, devs)
	step(fmt.Sprintf("migrated; %d devices made", n))

	c.startServer("a")
	c.startServer("b")
	c.startHAProxy(haproxyBin)
	c.waitUp("a", "b")
	step("two servers behind haproxy")
	return c, devs
}

func TestCluster(t *testing.T) {
	c, devs := startCluster(t, 16)
	ctx := context.Background()
	mc := c.minio
	start := c.start
	step := func(what string) { t.Logf("[%5.1fs] %s", time.Since(start).Seconds(), what) }
	base := "http://" + c.haproxy

	t.Run("checkins through either server", func(t *testing.T) {
		res := c.load(t, loadOptions{URL: base, Devices: devs, Concurrency: 8, Count: 400})
		if res.Failed != 0 || res.servers["a"] == 0 || res.servers["b"] == 0 {
			t.Fatalf("want every check-in acknowledged, by both servers:\n%s", res)
		}
		c.assertStored(t, res)
		t.Logf("\n%s", res)
	})

	t.Run("photo uploaded through A is read through B", func(t *testing.T) {
		photo := uniquePhoto(loadPhoto(40))
		sum := sha256.Sum256(photo)
		sha := hex.EncodeToString(sum[:])
		up := func(server string) int {
			req, _ := http.NewRequest("POST", "http://"+c.servers[server].addr+"/api/v1/app/photos", bytes.NewReader(photo))
			req.Header.Set("Authorization", "Bearer "+devs[0].Token)
			req.Header.Set("X-Photo-SHA256", sha)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		// A stores it (201); B, asked for the same photo, reads it back
		// from the bucket (blob.Check streams the object, unseals it and
		// checks its hash) and answers 200 "already stored".
		if s := up("a"); s != http.StatusCreated {
			t.Fatalf("upload through A: %d", s)
		}
		if s := up("b"); s != http.StatusOK {
			t.Fatalf("the same photo through B: %d, want 200 (found in the bucket)", s)
		}
		// In the bucket, sealed: the object is not the photo's bytes (R36).
		var found bool
		for o := range mc.ListObjects(ctx, "kangfu", minio.ListObjectsOptions{Recursive: true}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			if strings.Contains(o.Key, sha) {
				found = true
				obj, err := mc.GetObject(ctx, "kangfu", o.Key, minio.GetObjectOptions{})
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(obj)
				if bytes.Contains(b, photo[:64]) {
					t.Fatal("the photo is stored in the bucket in the clear")
				}
			}
		}
		if !found {
			t.Fatalf("no object for %s in the bucket", sha)
		}
	})

	t.Run("reports read the standby", func(t *testing.T) {
		// KANGFU_DB_REPLICA is the standby: both servers use it for report
		// reads while it is within KANGFU_REPLICA_MAX_LAG (issue 16 §3).
		for _, id := range []string{"a", "b"} {
			c.waitMetric(t, id, `kangfu_db_replica_in_use{state="ok"} 1`)
		}
	})

	t.Run("periodic jobs once", func(t *testing.T) {
		time.Sleep(5 * time.Second)
		c.assertJobsOnce(t)
	})

	t.Run("kill -9 of one server mid-load", func(t *testing.T) {
		type out struct {
			res *loadResult
			err error
		}
		ch := make(chan out, 1)
		go func() {
			r, err := runLoad(ctx, loadOptions{URL: base, Devices: devs, Concurrency: 16, Duration: 6 * time.Second, RetryFor: 30 * time.Second})
			ch <- out{r, err}
		}()
		time.Sleep(2 * time.Second)
		killed := time.Now()
		c.kill("b")
		down := c.waitHAProxyDown("b", 10*time.Second)
		failover := down.Sub(killed)
		// From here every request goes to A: probe that nothing answers
		// from B and nothing fails.
		for i := range 20 {
			resp, err := http.Get(base + "/readyz")
			if err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Kangfu-Server") != "a" {
				t.Fatalf("probe %d after haproxy marked B down: %v %v", i, err, resp)
			}
			resp.Body.Close()
		}
		o := <-ch
		if o.err != nil {
			t.Fatal(o.err)
		}
		if o.res.Failed != 0 {
			t.Fatalf("check-ins not acknowledged after retries:\n%s", o.res)
		}
		c.assertStored(t, o.res)
		t.Logf("failover: kill -9 to haproxy routing only to A: %v\n%s", failover.Round(time.Millisecond), o.res)
		c.startServer("b")
		c.waitUp("b")
	})

	t.Run("rolling restart under load", func(t *testing.T) {
		// Each server in turn gets SIGTERM (issue 16 §4): /readyz turns 503
		// for KANGFU_DRAIN=2s while it still serves, haproxy (checking every
		// 200 ms) takes it out, in-flight requests finish, the check-in
		// writer is flushed, it exits 0 and is started again.
		type out struct {
			res *loadResult
			err error
		}
		ch := make(chan out, 1)
		stop := make(chan struct{})
		go func() {
			r, err := runLoad(ctx, loadOptions{URL: base, Devices: devs, Concurrency: 16, Duration: 60 * time.Second, RetryFor: 30 * time.Second, Stop: stop})
			ch <- out{r, err}
		}()
		time.Sleep(time.Second)
		for _, id := range []string{"a", "b"} {
			code := c.terminate(t, id, 30*time.Second)
			if code != 0 {
				t.Errorf("server %s exited %d after SIGTERM:\n%s", id, code, tail(c.servers[id].log))
			}
			c.startServer(id)
			c.waitUp(id)
			time.Sleep(time.Second)
		}
		close(stop)
		o := <-ch
		if o.err != nil {
			t.Fatal(o.err)
		}
		if o.res.Failed != 0 {
			t.Fatalf("check-ins not acknowledged after retries:\n%s", o.res)
		}
		c.assertStored(t, o.res)
		t.Logf("rolling restart of both servers:\n%s", o.res)
	})

	t.Run("primary stopped, standby promoted", func(t *testing.T) {
		type out struct {
			res *loadResult
			err error
		}
		ch := make(chan out, 1)
		go func() {
			r, err := runLoad(ctx, loadOptions{URL: base, Devices: devs, Concurrency: 8, Duration: 10 * time.Second, RetryFor: 60 * time.Second})
			ch <- out{r, err}
		}()
		time.Sleep(2 * time.Second)
		// The primary dies (immediate: no clean shutdown); the standby is
		// promoted. With synchronous commit every acknowledged check-in
		// is on the standby already; the writes in flight at the crash
		// get an error, and the app sends them again by client id.
		stopped := time.Now()
		if err := c.primary.Stop(pgcluster.Immediate); err != nil {
			t.Fatal(err)
		}
		if err := c.standby.Promote(ctx); err != nil {
			t.Fatal(err)
		}
		promoted := time.Since(stopped)
		o := <-ch
		if o.err != nil {
			t.Fatal(o.err)
		}
		if o.res.Failed != 0 {
			t.Fatalf("check-ins not acknowledged after retries:\n%s", o.res)
		}
		c.assertStored(t, o.res)
		for _, id := range []string{"a", "b"} {
			if !c.alive(id) {
				t.Fatalf("server %s exited after the failover; log:\n%s", id, tail(c.servers[id].log))
			}
		}
		// The promoted node is no longer a standby: report reads go to
		// the primary (which it now is): the metric says so, 0 = not in use.
		c.waitMetric(t, "a", `kangfu_db_replica_in_use{state="not-standby"} 0`)
		// And they carry on after it, on the promoted standby.
		res := c.load(t, loadOptions{URL: base, Devices: devs, Concurrency: 8, Count: 200})
		if res.Failed != 0 || res.servers["a"] == 0 || res.servers["b"] == 0 {
			t.Fatalf("after the failover:\n%s", res)
		}
		c.assertStored(t, res)
		t.Logf("primary stopped → standby promoted in %v\nduring:\n%safter:\n%s", promoted.Round(time.Millisecond), o.res, res)
	})
	t.Run("periodic jobs once, across the kill and the failover", func(t *testing.T) { c.assertJobsOnce(t) })
	step("done")
}

// assertJobsOnce checks river_job: both servers run river with
// KANGFU_JOB_INTERVAL=2s; the interval jobs have one row per 2 s slot and
// the daily ones one per date, whichever server was leader (leadership
// moves when a server is killed or restarted).
func (c *cluster) assertJobsOnce(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	db := c.sql(t)
	rows, err := db.QueryContext(ctx, `SELECT kind, args::text, unique_key IS NULL, count(*) FROM river_job
		GROUP BY kind, args::text, unique_key, unique_key IS NULL HAVING count(*) > 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, args string
		var nokey bool
		var n int
		rows.Scan(&kind, &args, &nokey, &n)
		if !nokey || kind == "report_rollups" || kind == "nightly_sealing" || kind == "daily_draws" || kind == "nightly_detection" {
			t.Errorf("job %s %s enqueued %d times", kind, args, n)
		}
	}
	var releases int
	var span float64
	db.QueryRowContext(ctx, `SELECT count(*), EXTRACT(EPOCH FROM max(created_at) - min(created_at)) FROM river_job WHERE kind = 'release_expired'`).Scan(&releases, &span)
	if releases == 0 || float64(releases) > span/2+2 {
		t.Errorf("release_expired ran %d times in %.0fs at a 2s interval: want at most one per slot", releases, span)
	}
	t.Logf("release_expired: %d runs over %.0fs", releases, span)
}

// env is the environment of a kangfu process of this cluster.
func (c *cluster) env(id string) map[string]string {
	env := map[string]string{
		"KANGFU_DB":             c.dsn,
		"KANGFU_DB_REPLICA":     c.standby.DSN("kangfu"),
		"KANGFU_SECRET_KEY":     c.key,
		"KANGFU_DATA_DIR":       filepath.Join(c.dir, "data-"+id),
		"KANGFU_BLOBS":          "s3://kangfu/blobs",
		"KANGFU_S3_ENDPOINT":    "http://" + c.s3,
		"KANGFU_S3_REGION":      "us-east-1",
		"AWS_ACCESS_KEY_ID":     "clusteraccess",
		"AWS_SECRET_ACCESS_KEY": "clustersecret",
		"KANGFU_SERVER_ID":      id,
		"KANGFU_JOB_INTERVAL":   "2s",
		"KANGFU_TRUST_PROXY":    "true",
		"KANGFU_DRAIN":          "2s",
	}
	if n := os.Getenv("KANGFU_CLUSTER_GOMAXPROCS"); n != "" {
		env["GOMAXPROCS"] = n // measurements: the servers' Go runtime on fewer cores
	}
	return env
}

func mustConfig(t *testing.T, env map[string]string) *Config {
	t.Helper()
	cfg, _, err := parse("test", nil, func(k string) string { return env[k] }, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func environ(env map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func runOut(t *testing.T, bin string, args []string, env map[string]string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = environ(env)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, stderr.String())
	}
	return string(out)
}

// background starts a helper process that is killed when the test ends.
func (c *cluster) background(name, bin string, args []string, env map[string]string) *exec.Cmd {
	c.t.Helper()
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = environ(env)
	}
	logf, err := os.Create(filepath.Join(c.dir, name+".log"))
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start %s: %v", name, err)
	}
	c.t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	return cmd
}

// startServer starts (or restarts, on the same address) server id.
func (c *cluster) startServer(id string) {
	c.t.Helper()
	s := c.servers[id]
	if s == nil {
		s = &kserver{id: id, addr: fmt.Sprintf("127.0.0.1:%d", freePort(c.t))}
		c.servers[id] = s
	}
	env := c.env(id)
	env["KANGFU_ADDR"] = s.addr
	s.log = filepath.Join(c.dir, "serve-"+id+".log")
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(c.bin, "serve")
	cmd.Env = environ(env)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); logf.Close(); close(done) }(s.done)
	c.t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
	})
	waitFor(c.t, 60*time.Second, "server "+id+" ready", func() error {
		select {
		case <-s.done:
			c.t.Fatalf("server %s exited:\n%s", id, tail(s.log))
		default:
		}
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})
}

func (c *cluster) kill(id string) {
	s := c.servers[id]
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// terminate sends SIGTERM to server id and returns its exit code.
func (c *cluster) terminate(t *testing.T, id string, within time.Duration) int {
	t.Helper()
	s := c.servers[id]
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(within):
		t.Fatalf("server %s still running %v after SIGTERM", id, within)
	}
	return s.cmd.ProcessState.ExitCode()
}

func (c *cluster) alive(id string) bool {
	select {
	case <-c.servers[id].done:
		return false
	default:
		return true
	}
}

func (c *cluster) startHAProxy(bin string) {
	c.t.Helper()
	c.haproxy = fmt.Sprintf("127.0.0.1:%d", freePort(c.t))
	c.statsSock = filepath.Join(c.dir, "haproxy.sock")
	var b strings.Builder
	fmt.Fprintf(&b, `global
    maxconn 2000
    stats socket %s mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    # A connection refused by a dead server is tried again on the other.
    retries 2
    option redispatch
frontend fe
    bind %s
    default_backend kangfu
backend kangfu
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 200ms fastinter 100ms downinter 500ms fall 2 rise 2
`, c.statsSock, c.haproxy)
	for _, id := range []string{"a", "b"} {
		fmt.Fprintf(&b, "    server %s %s check\n", id, c.servers[id].addr)
	}
	cfg := filepath.Join(c.dir, "haproxy.cfg")
	os.WriteFile(cfg, []byte(b.String()), 0o600)
	c.background("haproxy", bin, []string{"-db", "-f", cfg}, map[string]string{})
}

// haproxyStatus is the status haproxy's stats socket gives server id of
// the backend (UP, DOWN, "UP 1/2", ...).
func (c *cluster) haproxyStatus(id string) string {
	conn, err := net.Dial("unix", c.statsSock)
	if err != nil {
		return ""
	}
	defer conn.Close()
	fmt.Fprint(conn, "show stat\n")
	b, _ := io.ReadAll(bufio.NewReader(conn))
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("# "))))
	r.FieldsPerRecord = -1
	recs, _ := r.ReadAll()
	if len(recs) == 0 {
		return ""
	}
	col := -1
	for i, h := range recs[0] {
		if h == "status" {
			col = i
		}
	}
	for _, rec := range recs[1:] {
		if len(rec) > col && rec[0] == "kangfu" && rec[1] == id {
			return rec[col]
		}
	}
	return ""
}

func (c *cluster) waitUp(ids ...string) {
	c.t.Helper()
	for _, id := range ids {
		waitFor(c.t, 30*time.Second, "haproxy sees "+id+" UP", func() error {
			if s := c.haproxyStatus(id); s != "UP" {
				return fmt.Errorf("status %q", s)
			}
			return nil
		})
	}
}

func (c *cluster) waitHAProxyDown(id string, within time.Duration) time.Time {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if strings.HasPrefix(c.haproxyStatus(id), "DOWN") {
			return time.Now()
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("haproxy did not mark %s down within %v", id, within)
	return time.Time{}
}

// sql opens the database (whichever node takes writes).
func (c *cluster) sql(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (c *cluster) load(t *testing.T, opt loadOptions) *loadResult {
	t.Helper()
	res, err := runLoad(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// assertStored checks every acknowledged check-in is in the database,
// once (the client id is the primary key: a retry never makes a second
// row, so "once" is that each acknowledged id is there).
func (c *cluster) assertStored(t *testing.T, res *loadResult) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range res.ackedIDs {
		if seen[id] {
			t.Fatalf("check-in %s acknowledged twice by the load generator's count", id)
		}
		seen[id] = true
	}
	db := c.sql(t)
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM checkins WHERE id = ANY($1)`, res.ackedIDs).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(res.ackedIDs) {
		t.Fatalf("%d of %d acknowledged check-ins are in the database", n, len(res.ackedIDs))
	}
}

// waitMetric waits until server id's /metrics has the line.
func (c *cluster) waitMetric(t *testing.T, id, line string) {
	t.Helper()
	waitFor(t, 30*time.Second, "server "+id+" metric "+line, func() error {
		resp, err := http.Get("http://" + c.servers[id].addr + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !bytes.Contains(b, []byte(line)) {
			var have []string
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, strings.SplitN(line, "{", 2)[0]) {
					have = append(have, l)
				}
			}
			return fmt.Errorf("not in /metrics, which has %q", have)
		}
		return nil
	})
}

func waitFor(t *testing.T, within time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v: %v", what, within, err)
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
