package main

// Issue 16 §2 and §4 with real OS processes: the `kangfu` binary, built by
// the test, serving a real database. Graceful shutdown under check-in load
// (both engines), and periodic jobs run once by two processes on one
// PostgreSQL.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

var (
	kangfuBinOnce sync.Once
	kangfuBin     string
	kangfuBinErr  error
)

// buildKangfu builds this command once per test binary run.
func buildKangfu(t *testing.T) string {
	t.Helper()
	kangfuBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kangfu-bin-")
		if err != nil {
			kangfuBinErr = err
			return
		}
		kangfuBin = filepath.Join(dir, "kangfu")
		out, err := exec.Command("go", "build", "-o", kangfuBin, ".").CombinedOutput()
		if err != nil {
			kangfuBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if kangfuBinErr != nil {
		t.Fatal(kangfuBinErr)
	}
	return kangfuBin
}

// proc is a running `kangfu serve`.
type proc struct {
	cmd    *exec.Cmd
	url    string
	logs   *syncBuffer
	done   chan error // the exit status, once
	exited atomic.Bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startKangfu runs `kangfu serve` on the database dsn with the test key and
// the settings in env, and waits for its URL. The process is killed at the
// end of the test if still running.
func startKangfu(t *testing.T, dsn string, env map[string]string) *proc {
	t.Helper()
	bin := buildKangfu(t)
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", dsn, "--data-dir", t.TempDir(), "--log-level", "info")
	cmd.Env = append(os.Environ(), "KANGFU_SECRET_KEY="+hex.EncodeToString(storetest.TestKey))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			p.logs.Write([]byte(line + "\n"))
			if m := urlRE.FindStringSubmatch(line); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		err := cmd.Wait()
		p.exited.Store(true)
		p.done <- err
	}()
	t.Cleanup(func() {
		if !p.exited.Load() {
			cmd.Process.Kill()
		}
	})
	select {
	case p.url = <-urls:
		return p
	case err := <-p.done:
		t.Fatalf("kangfu serve exited: %v\n%s", err, p.logs)
	case <-time.After(2 * time.Minute):
		t.Fatalf("kangfu serve did not start:\n%s", p.logs)
	}
	return nil
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		t.Fatalf("kangfu did not exit within %v:\n%s", within, p.logs)
		return -1
	}
}

// phoneDev is an activated device of a seeded person.
type phoneDev struct {
	key   *ecdsa.PrivateKey
	token string
}

// seedPhones makes a county (a 20 km circle around Sanya) and n persons
// under measure, each with an activated device.
func seedPhones(t *testing.T, db *store.DB, n int) []phoneDev {
	t.Helper()
	ctx := context.Background()
	sys := casework.SystemActor("test")
	var parent *casework.Org
	for _, o := range []struct {
		kind        casework.OrgKind
		name, fence string
	}{
		{casework.KindProvince, "海南省", ""}, {casework.KindCity, "三亚市", ""},
		{casework.KindCounty, "吉阳区", `{"type":"circle","lat":18.25,"lng":109.5,"radius_m":20000}`},
		{casework.KindTownship, "椰林街道", ""}, {casework.KindCommunity, "安椰社区", ""},
	} {
		in := casework.OrgInput{Kind: o.kind, Name: o.name, Geofence: o.fence}
		if parent != nil {
			in.ParentID = parent.ID
		}
		parent = storetest.Must(db.CreateOrg(ctx, sys, in))
	}
	day := casework.DateOf(db.Now(), nil).AddDays(-20)
	var out []phoneDev
	for i := range n {
		body := fmt.Sprintf("460203%04d%02d%02d%03d", 1970+i%40, 1+i%12, 1+i%28, i%1000)
		p := storetest.Must(db.CreatePerson(ctx, sys, casework.PersonInput{OrgID: parent.ID, Name: fmt.Sprintf("测试%d", i), IDNumber: body + string(casework.IDCheckChar(body))},
			&casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: fmt.Sprintf("决字%d号", i), DecisionAuthority: "三亚市公安局",
				DecisionDate: day, ReceivedDate: day, ReportDate: day.AddDays(2)}))
		code, _, err := db.CreateActivationCode(ctx, sys, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		tok, hash := auth.NewToken()
		if _, _, err := db.Activate(ctx, store.Activation{Code: code, PublicKey: base64.StdEncoding.EncodeToString(der), PINHash: "-", TokenHash: hash}); err != nil {
			t.Fatal(err)
		}
		out = append(out, phoneDev{key: k, token: tok})
	}
	return out
}

// signedCheckin is a check-in body of a new id, signed by the device.
func signedCheckin(d phoneDev) (id string, body []byte, sig string) {
	id = uuid.NewString()
	body, _ = json.Marshal(map[string]any{"id": id, "taken_at": time.Now().Add(-time.Minute).Format(time.RFC3339), "lat": 18.25, "lng": 109.5, "accuracy_m": 15})
	h := sha256.Sum256(body)
	r, s, _ := ecdsa.Sign(rand.Reader, d.key, h[:])
	raw := make([]byte, 64)
	r.FillBytes(raw[:32])
	s.FillBytes(raw[32:])
	return id, body, base64.StdEncoding.EncodeToString(raw)
}

// Issue 16 §4: SIGTERM under check-in load. /readyz turns 503 (saying it
// drains) while the listener is still open; requests that arrive in the
// drain are served; the process exits 0; every check-in answered 2xx is in
// the database exactly once.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kangfu binary")
	}
	const drain = 2 * time.Second
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := storetest.Open(t, e, nil)
			phones := seedPhones(t, db, 20)
			p := startKangfu(t, e.DSN, map[string]string{"KANGFU_DRAIN": drain.String(), "KANGFU_JOB_INTERVAL": "1h"})

			type answer struct {
				id          string
				status      int
				sent, ended time.Time
			}
			var (
				mu      sync.Mutex
				answers []answer
				stop    atomic.Bool
				wg      sync.WaitGroup
			)
			client := &http.Client{Timeout: 30 * time.Second}
			for c := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; !stop.Load(); i++ {
						d := phones[(c*7+i)%len(phones)]
						id, body, sig := signedCheckin(d)
						req, _ := http.NewRequest("POST", p.url+"/api/v1/app/checkins", bytes.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Bearer "+d.token)
						req.Header.Set("X-Kangfu-Signature", sig)
						a := answer{id: id, sent: time.Now()}
						if resp, err := client.Do(req); err == nil {
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							a.status = resp.StatusCode
						} else {
							time.Sleep(20 * time.Millisecond) // refused: the listener is closed
						}
						a.ended = time.Now()
						mu.Lock()
						answers = append(answers, a)
						mu.Unlock()
					}
				}()
			}
			// /readyz polled every 50 ms, as a balancer would (faster).
			type probe struct {
				at     time.Time
				status int // 0: no connection
				body   string
			}
			var probes []probe
			probesDone := make(chan struct{})
			go func() {
				defer close(probesDone)
				pc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
				for !stop.Load() {
					pr := probe{at: time.Now()}
					if resp, err := pc.Get(p.url + "/readyz"); err == nil {
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						pr.status, pr.body = resp.StatusCode, strings.TrimSpace(string(b))
					}
					probes = append(probes, pr)
					time.Sleep(50 * time.Millisecond)
				}
			}()

			time.Sleep(1500 * time.Millisecond) // load running
			sigAt := time.Now()
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			code := p.wait(t, time.Minute)
			exitAt := time.Now()
			stop.Store(true)
			wg.Wait()
			<-probesDone
			if code != 0 {
				t.Fatalf("exit code %d after SIGTERM, want 0:\n%s", code, p.logs)
			}

			// /readyz: ready before the signal, 503 "draining" after it while
			// the listener still answered, then no connection.
			var firstUnready, lastAnswer time.Time
			for _, pr := range probes {
				switch {
				case pr.status == http.StatusOK && pr.at.After(sigAt.Add(time.Second)): // a loaded 2-core machine may take a moment
					t.Errorf("/readyz answered 200 at %v after SIGTERM", pr.at.Sub(sigAt))
				case pr.status == http.StatusServiceUnavailable:
					if !strings.HasPrefix(pr.body, "draining:") {
						t.Errorf("/readyz 503 says %q, want the reason (draining: …)", pr.body)
					}
					if firstUnready.IsZero() {
						firstUnready = pr.at
					}
					lastAnswer = pr.at
				}
			}
			if firstUnready.IsZero() {
				t.Fatalf("/readyz never answered 503 between SIGTERM and exit; probes: %+v", probes)
			}
			if lastAnswer.Sub(firstUnready) < drain/2 {
				t.Errorf("/readyz answered 503 for only %v before the listener closed (drain %v)", lastAnswer.Sub(firstUnready), drain)
			}

			// Requests sent during the drain (after /readyz turned 503) were served.
			var ok, okInDrain, refused, other int
			var ids []string
			for _, a := range answers {
				switch {
				case a.status/100 == 2:
					ok++
					ids = append(ids, a.id)
					if a.sent.After(firstUnready) {
						okInDrain++
					}
				case a.status == 0:
					refused++
				default:
					other++
					t.Errorf("check-in %s answered %d", a.id, a.status)
				}
			}
			if okInDrain == 0 {
				t.Fatalf("no check-in sent during the drain was acknowledged (%d acknowledged in all)", ok)
			}
			// Every acknowledged check-in is stored exactly once.
			counts := storetest.Must(db.CountCheckins(context.Background(), ids))
			for _, id := range ids {
				if counts[id] != 1 {
					t.Errorf("acknowledged check-in %s stored %d times", id, counts[id])
				}
			}
			for _, want := range []string{"still serving while the balancer drains", "shut down: requests finished, check-ins written"} {
				if !strings.Contains(p.logs.String(), want) {
					t.Errorf("the log lacks %q:\n%s", want, p.logs)
				}
			}
			t.Logf("%s: %d check-ins acknowledged (%d sent during the %v drain), %d not connected after the listener closed; "+
				"SIGTERM→503 %v, SIGTERM→exit %v", e.Name, ok, okInDrain, drain, refused, firstUnready.Sub(sigAt).Round(time.Millisecond),
				exitAt.Sub(sigAt).Round(time.Millisecond))
		})
	}
}

// Issue 16 §2: two `kangfu serve` processes on one PostgreSQL, periodic
// jobs every second: each interval job is enqueued and run once per
// period, never twice, whichever process is leader, and the daily ones once.
func TestJobsOnceAcrossTwoProcesses(t *testing.T) {
	base := os.Getenv("KANGFU_TEST_POSTGRES")
	if base == "" {
		t.Skip("KANGFU_TEST_POSTGRES not set")
	}
	dsn := storetest.NewPostgresSchema(t, base)
	storetest.Open(t, storetest.Engine{Name: "postgres", DSN: dsn}, nil)
	const interval = 2 * time.Second
	env := map[string]string{"KANGFU_JOB_INTERVAL": interval.String(), "KANGFU_DRAIN": "0s"}
	a := startKangfu(t, dsn, env)
	b := startKangfu(t, dsn, env)
	started := time.Now()
	time.Sleep(5 * interval)
	for _, p := range []*proc{a, b} {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range []*proc{a, b} {
		if code := p.wait(t, time.Minute); code != 0 {
			t.Fatalf("exit %d:\n%s", code, p.logs)
		}
	}
	elapsed := time.Since(started)

	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT kind, state, attempt, COALESCE(array_to_string(attempted_by, ','), ''), created_at FROM river_job ORDER BY kind, created_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type job struct {
		kind, state, by string
		attempt         int
		at              time.Time
	}
	byKind := map[string][]job{}
	workers := map[string]bool{}
	for rows.Next() {
		var j job
		if err := rows.Scan(&j.kind, &j.state, &j.attempt, &j.by, &j.at); err != nil {
			t.Fatal(err)
		}
		byKind[j.kind] = append(byKind[j.kind], j)
		if j.by != "" {
			workers[j.by] = true
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"release_expired", "start_due_leaves"} {
		js := byKind[kind]
		slots := map[int64]int{}
		for _, j := range js {
			if j.attempt > 1 || strings.Contains(j.by, ",") {
				t.Errorf("%s at %v worked %d times (by %s)", kind, j.at, j.attempt, j.by)
			}
			if j.state == "completed" {
				slots[j.at.UnixNano()/int64(interval)]++
			}
		}
		for slot, n := range slots {
			if n != 1 {
				t.Errorf("%s: %d jobs in the %v period starting %v", kind, n, interval, time.Unix(0, slot*int64(interval)))
			}
		}
		// One per period elapsed, give or take the first and the last.
		periods := int(elapsed / interval)
		if len(slots) < 2 || len(js) > periods+2 {
			t.Errorf("%s: %d jobs, %d completed periods, over %v (%d periods)", kind, len(js), len(slots), elapsed.Round(time.Millisecond), periods)
		}
	}
	for _, kind := range []string{"daily_draws", "nightly_detection", "report_rollups", "nightly_sealing"} {
		if n := len(byKind[kind]); n != 1 {
			t.Errorf("%s: %d jobs, want 1 (one per local date)", kind, n)
		}
	}
	t.Logf("over %v: %d release_expired, %d start_due_leaves jobs; %d distinct workers", elapsed.Round(time.Millisecond),
		len(byKind["release_expired"]), len(byKind["start_due_leaves"]), len(workers))
}
