// Command loadcheckin is the check-in ingest load run of issue 4
// (Performance): it seeds a fresh SQLite database with persons and
// activated devices (real ECDSA P-256 keys), starts the real server in a
// child process on 127.0.0.1, and sends signed check-ins through the HTTP
// API at 1, 8 and 64 concurrent clients, reporting check-ins per second,
// p50 and p99 latency of acknowledged requests and the server's RSS. With
// -crash it kills the server with SIGKILL during a 64-client run, restarts
// it, and checks that every acknowledged check-in is stored exactly once
// (and that a replay of each answers 200 with the stored record).
//
//	go run ./cmd/loadcheckin -clients 1,8,64 -n 20000 -max 20s
//	go run ./cmd/loadcheckin -crash
package main

import (
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
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // only served with LOADCHECKIN_PPROF
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"kangfu/internal/auth"
	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/server"
	"kangfu/internal/store"
)

func main() {
	serve := flag.String("serve", "", "internal: run the server on the data folder")
	clients := flag.String("clients", "1,8,64", "concurrent clients per phase")
	n := flag.Int("n", 20000, "check-ins per phase at most")
	maxDur := flag.Duration("max", 20*time.Second, "time per phase at most")
	persons := flag.Int("persons", 256, "persons with a device")
	dir := flag.String("dir", "", "data folder (default: a new temporary folder, removed at the end)")
	crash := flag.Bool("crash", false, "kill -9 the server during a 64-client run, restart, verify")
	history := flag.Int("history-days", 0, "check-ins already stored: one per person per day for this many past days")
	flag.Parse()
	if *serve != "" {
		if err := runServer(*serve); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := run(*clients, *n, *maxDur, *persons, *history, *dir, *crash); err != nil {
		log.Fatal(err)
	}
}

func openDB(ctx context.Context, dir string) (*store.DB, error) {
	secret, err := os.ReadFile(filepath.Join(dir, "secret"))
	if err != nil {
		return nil, err
	}
	b, err := store.ParseSecretKey(string(secret))
	if err != nil {
		return nil, err
	}
	keys, err := store.DeriveKeys(b)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, filepath.Join(dir, "kangfu.db"), store.Options{Keys: keys})
}

// runServer is the child: the real server (all routes and middleware) on a
// free port of 127.0.0.1, whose address it writes to <dir>/addr.
func runServer(dir string) error {
	ctx := context.Background()
	db, err := openDB(ctx, dir)
	if err != nil {
		return err
	}
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		return err
	}
	srv, err := server.New(db, auth.NewService(db, auth.DefaultPolicy()), slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Blobs: blobs})
	if err != nil {
		return err
	}
	if a := os.Getenv("LOADCHECKIN_PPROF"); a != "" {
		http.HandleFunc("/writer", func(w http.ResponseWriter, r *http.Request) {
			b, n := db.CheckinWriterStats()
			busy, st := db.CheckinWriterTimes()
			fmt.Fprintf(w, "%d batches, %d records, busy %v, before commit %v\n", b, n, busy, st)
		})
		go http.ListenAndServe(a, nil) // net/http/pprof on the default mux, for profiling the server
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "addr.tmp"), []byte(ln.Addr().String()), 0o600); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(dir, "addr.tmp"), filepath.Join(dir, "addr")); err != nil {
		return err
	}
	return (&http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
}

type device struct {
	key   *ecdsa.PrivateKey
	token string
	photo string // SHA-256 of the selfie this device uploaded (uploadPhotos)
}

// uploadPhotos uploads one small JPEG per device, as the app does before
// a check-in: a check-in counts its selfie only if the person's own device
// uploaded it (issue 15 §2), so without this every check-in of the load
// would be judged unverifiable.
func uploadPhotos(addr string, devs []device) error {
	client := &http.Client{Timeout: 30 * time.Second}
	for i := range devs {
		img := image.NewRGBA(image.Rect(0, 0, 16, 16))
		for p := range img.Pix {
			img.Pix[p] = byte(i >> (8 * (p % 3)))
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, nil); err != nil {
			return err
		}
		sum := sha256.Sum256(buf.Bytes())
		devs[i].photo = hex.EncodeToString(sum[:])
		req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/app/photos", bytes.NewReader(buf.Bytes()))
		req.Header.Set("Content-Type", "image/jpeg")
		req.Header.Set("Authorization", "Bearer "+devs[i].token)
		req.Header.Set("X-Photo-SHA256", devs[i].photo)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("photo upload of device %d: HTTP %d", i, resp.StatusCode)
		}
	}
	return nil
}

// seed makes a county with a geofence, a community, persons executing a
// measure, and one activated device each.
func seed(ctx context.Context, dir string, count int) ([]device, error) {
	secret := make([]byte, 32)
	rand.Read(secret)
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(hex.EncodeToString(secret)), 0o600); err != nil {
		return nil, err
	}
	db, err := openDB(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	sys := casework.SystemActor("loadcheckin")
	mk := func(parent *casework.Org, kind casework.OrgKind, name, fence string) (*casework.Org, error) {
		in := casework.OrgInput{Kind: kind, Name: name, Geofence: fence}
		if parent != nil {
			in.ParentID = parent.ID
		}
		return db.CreateOrg(ctx, sys, in)
	}
	prov, err := mk(nil, casework.KindProvince, "海南省", "")
	if err != nil {
		return nil, err
	}
	city, _ := mk(prov, casework.KindCity, "三亚市", "")
	county, _ := mk(city, casework.KindCounty, "吉阳区", `{"type":"circle","lat":18.25,"lng":109.5,"radius_m":20000}`)
	street, _ := mk(county, casework.KindTownship, "椰林街道", "")
	comm, err := mk(street, casework.KindCommunity, "安椰社区", "")
	if err != nil {
		return nil, err
	}
	day := casework.DateOf(db.Now(), nil).AddDays(-20)
	var out []device
	for i := range count {
		body := fmt.Sprintf("460203%04d%02d%02d%03d", 1970+i%40, 1+i%12, 1+i%28, i%1000)
		p, err := db.CreatePerson(ctx, sys, casework.PersonInput{OrgID: comm.ID, Name: fmt.Sprintf("测试%d", i), IDNumber: body + string(casework.IDCheckChar(body))},
			&casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: fmt.Sprintf("决字%d号", i), DecisionAuthority: "三亚市公安局",
				DecisionDate: day, ReceivedDate: day, ReportDate: day.AddDays(2)})
		if err != nil {
			return nil, fmt.Errorf("person %d: %w", i, err)
		}
		code, _, err := db.CreateActivationCode(ctx, sys, p.ID)
		if err != nil {
			return nil, err
		}
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		tok, hash := auth.NewToken()
		if _, _, err := db.Activate(ctx, store.Activation{Code: code, PublicKey: base64.StdEncoding.EncodeToString(der), PINHash: "-", TokenHash: hash}); err != nil {
			return nil, err
		}
		out = append(out, device{key: k, token: tok})
	}
	return out, nil
}

// seedHistory stores a past check-in per person and day, so a run can
// measure ingest against tables and indexes of a realistic size rather
// than empty ones. The rows are written straight into the SQLite file
// (their sealed location is a placeholder the load never reads).
func seedHistory(ctx context.Context, dir string, days int) (int64, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kangfu.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	res, err := db.ExecContext(ctx, `WITH RECURSIVE days(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM days WHERE n < ?)
		INSERT INTO checkins (id, person_id, device_id, org_id, taken_at, received_at, local_date, loc_enc, accuracy_m,
			photo_sha256, signature, body_sha256, verdict, policy_version_id, checks, counts)
		SELECT lower(hex(randomblob(16))), p.id, d.id, p.org_id, datetime('now', '-' || n || ' days'), datetime('now', '-' || n || ' days'),
			date('now', '-' || n || ' days'), 'history', 15, '', '', '', 'ok', '', '', 1
		FROM persons p JOIN devices d ON d.person_id = p.id AND d.retired_at IS NULL CROSS JOIN days
		ORDER BY p.id, n DESC`, days)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

type child struct {
	cmd  *exec.Cmd
	addr string
}

func startServer(dir string) (*child, error) {
	os.Remove(filepath.Join(dir, "addr"))
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-serve", dir)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	for range 600 {
		if b, err := os.ReadFile(filepath.Join(dir, "addr")); err == nil {
			return &child{cmd: cmd, addr: string(b)}, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	return nil, errors.New("the server did not start in 30 s")
}

// rss returns the child's resident set and its peak, in MiB.
func (c *child) rss() (cur, peak float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			cur = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return cur, peak
}

// cpuSeconds returns the user+system CPU time of a process so far.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) / 100 // USER_HZ
}

var randomIDs = flag.Bool("random-ids", false, "random (v4) check-in ids, as the app sent before it used UUIDv7")

type signed struct {
	id   string
	body []byte
	sig  string
	dev  int
}

// prepare signs count check-ins in advance, so the phase measures the
// server, not the generator's signing (both share this machine).
func prepare(devs []device, count int) []signed {
	out := make([]signed, count)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < count; i += 2 {
				d := i % len(devs)
				id := uuid.Must(uuid.NewV7()).String() // as the app makes them
				if *randomIDs {
					id = uuid.NewString()
				}
				body, _ := json.Marshal(map[string]any{"id": id, "taken_at": time.Now().Add(-time.Second).Format(time.RFC3339Nano),
					"lat": 18.25 + float64(i%100)/10000, "lng": 109.5, "accuracy_m": 15, "photo_sha256": devs[d].photo})
				h := sha256.Sum256(body)
				r, s, _ := ecdsa.Sign(rand.Reader, devs[d].key, h[:])
				sig := make([]byte, 64)
				r.FillBytes(sig[:32])
				s.FillBytes(sig[32:])
				out[i] = signed{id: id, body: body, sig: base64.StdEncoding.EncodeToString(sig), dev: d}
			}
		})
	}
	wg.Wait()
	return out
}

type result struct {
	acked     []string
	latencies []time.Duration
	errors    map[string]int
	elapsed   time.Duration
}

func post(client *http.Client, addr string, devs []device, s signed) (int, error) {
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/app/checkins", bytes.NewReader(s.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+devs[s.dev].token)
	req.Header.Set("X-Kangfu-Signature", s.sig)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// phase sends the check-ins with the given number of clients until all are
// sent, maxDur passes or stop is closed.
func phase(addr string, devs []device, work []signed, clients int, maxDur time.Duration, stop <-chan struct{}) result {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	var mu sync.Mutex
	res := result{errors: map[string]int{}}
	deadline := time.Now().Add(maxDur)
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			var lat []time.Duration
			var acked []string
			errs := map[string]int{}
			for {
				i := int(next.Add(1) - 1)
				if i >= len(work) || time.Now().After(deadline) {
					break
				}
				select {
				case <-stop:
					i = len(work)
				default:
				}
				if i >= len(work) {
					break
				}
				t0 := time.Now()
				status, err := post(client, addr, devs, work[i])
				d := time.Since(t0)
				switch {
				case err != nil:
					errs["transport"]++
				case status == http.StatusCreated || status == http.StatusOK:
					lat = append(lat, d)
					acked = append(acked, work[i].id)
				default:
					errs[strconv.Itoa(status)]++
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.acked = append(res.acked, acked...)
			for k, v := range errs {
				res.errors[k] += v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(float64(len(d))*q))]
}

func run(clientList string, n int, maxDur time.Duration, persons, history int, dir string, crash bool) error {
	ctx := context.Background()
	if dir == "" {
		d, err := os.MkdirTemp("", "loadcheckin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	t0 := time.Now()
	devs, err := seed(ctx, dir, persons)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("seeded %d persons with devices in %s (data in %s)\n", len(devs), time.Since(t0).Round(time.Millisecond), dir)
	if history > 0 {
		t0 := time.Now()
		rows, err := seedHistory(ctx, dir, history)
		if err != nil {
			return fmt.Errorf("seed history: %w", err)
		}
		fmt.Printf("stored %d past check-ins (%d days × %d persons) in %s\n", rows, history, len(devs), time.Since(t0).Round(time.Millisecond))
	}
	srv, err := startServer(dir)
	if err != nil {
		return err
	}
	defer func() { srv.cmd.Process.Kill(); srv.cmd.Wait() }()
	t1 := time.Now()
	if err := uploadPhotos(srv.addr, devs); err != nil {
		return err
	}
	fmt.Printf("uploaded one selfie per device in %s\n", time.Since(t1).Round(time.Millisecond))
	if crash {
		return crashRun(ctx, dir, srv, devs, n, maxDur)
	}
	fmt.Println("each phase's check-ins are built and signed before its timer starts; the server still verifies every signature")
	fmt.Printf("%-8s %10s %12s %9s %9s %9s %10s %10s %8s %8s  %s\n", "clients", "acked", "check-ins/s", "p50", "p99", "max", "RSS MiB", "peak MiB", "srv CPU", "gen CPU", "errors")
	for _, f := range strings.Split(clientList, ",") {
		clients, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || clients < 1 {
			return fmt.Errorf("bad -clients %q", clientList)
		}
		work := prepare(devs, n)
		s0, g0 := cpuSeconds(srv.cmd.Process.Pid), cpuSeconds(os.Getpid())
		res := phase(srv.addr, devs, work, clients, maxDur, nil)
		s1, g1 := cpuSeconds(srv.cmd.Process.Pid), cpuSeconds(os.Getpid())
		slices.Sort(res.latencies)
		cur, peak := srv.rss()
		sec := res.elapsed.Seconds()
		fmt.Printf("%-8d %10d %12.0f %9s %9s %9s %10.1f %10.1f %7.0f%% %7.0f%%  %v\n", clients, len(res.acked), float64(len(res.acked))/sec,
			quantile(res.latencies, .5).Round(10*time.Microsecond), quantile(res.latencies, .99).Round(10*time.Microsecond),
			quantile(res.latencies, 1).Round(10*time.Microsecond), cur, peak, (s1-s0)/sec*100, (g1-g0)/sec*100, res.errors)
	}
	return nil
}

// crashRun kills the server with SIGKILL while 64 clients send, restarts
// it and checks every acknowledged check-in.
func crashRun(ctx context.Context, dir string, srv *child, devs []device, n int, maxDur time.Duration) error {
	work := prepare(devs, n)
	stop := make(chan struct{})
	go func() {
		time.Sleep(time.Second)
		srv.cmd.Process.Signal(syscall.SIGKILL)
		close(stop)
	}()
	res := phase(srv.addr, devs, work, 64, maxDur, stop)
	srv.cmd.Wait()
	fmt.Printf("killed the server (SIGKILL) during a 64-client run: %d check-ins acknowledged, refused or cut off: %v\n", len(res.acked), res.errors)
	restarted, err := startServer(dir)
	if err != nil {
		return err
	}
	*srv = *restarted
	db, err := openDB(ctx, dir)
	if err != nil {
		return err
	}
	defer db.Close()
	counts, err := db.CountCheckins(ctx, res.acked)
	if err != nil {
		return err
	}
	missing, twice := 0, 0
	for _, id := range res.acked {
		switch counts[id] {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
	}
	var total int
	if err := db.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM checkins`).Scan(&total)
	}); err != nil {
		return err
	}
	fmt.Printf("after restart: %d acknowledged ids, %d missing, %d stored more than once; %d rows in all (%d committed but not acknowledged before the kill)\n",
		len(res.acked), missing, twice, total, total-len(res.acked))
	// Replays of every acknowledged check-in answer 200 with the stored record.
	byID := map[string]signed{}
	for _, s := range work {
		byID[s.id] = s
	}
	replay := make([]signed, 0, len(res.acked))
	for _, id := range res.acked {
		replay = append(replay, byID[id])
	}
	client := &http.Client{Timeout: 30 * time.Second}
	not200 := 0
	for _, s := range replay {
		if status, err := post(client, srv.addr, devs, s); err != nil || status != http.StatusOK {
			not200++
		}
	}
	fmt.Printf("replayed %d acknowledged check-ins after the restart: %d did not answer 200\n", len(replay), not200)
	if missing > 0 || twice > 0 || not200 > 0 {
		return errors.New("crash test FAILED")
	}
	fmt.Println("crash test passed: every acknowledged check-in is stored exactly once")
	return nil
}
