package main

// kangfu loadgen (issue 16 §5 and Performance): signed check-ins (and
// optionally their selfies) sent at a given concurrency through a URL — a
// balancer in front of several servers, or one server — retried by their
// client id as the app does, with the rate, the errors and the latency
// percentiles reported. The devices it uses are made once through the
// database (an org, a worker, persons executing a measure, each with an
// activated device) and saved to a file; the load itself goes only through
// HTTP.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// loadDevice is one activated device the load generator signs with. The
// file holding these is a credential: it is written 0600.
type loadDevice struct {
	ID       string `json:"device_id"`
	PersonID string `json:"person_id"`
	Token    string `json:"token"`
	Key      string `json:"key"` // PKCS#8 DER, base64

	priv *ecdsa.PrivateKey
}

// makeLoadDevices opens n person files under a new org tree named by tag
// (a county with a geofence around the points the generator sends, a
// township, a community and its worker) and activates a device for each,
// through the store as `kangfu user add` does: the activation limit per
// address (a guard against guessing codes) is not what is measured.
func makeLoadDevices(ctx context.Context, db *store.DB, n int, tag string) ([]loadDevice, error) {
	sys := casework.SystemActor("loadgen")
	mk := func(parent string, kind casework.OrgKind, name, fence string) (*casework.Org, error) {
		return db.CreateOrg(ctx, sys, casework.OrgInput{Kind: kind, Name: name, Geofence: fence, ParentID: parent})
	}
	prov, err := mk("", casework.KindProvince, "压测省"+tag, "")
	if err != nil {
		return nil, fmt.Errorf("create the load org: %w", err)
	}
	city, err := mk(prov.ID, casework.KindCity, "压测市", "")
	if err != nil {
		return nil, err
	}
	county, err := mk(city.ID, casework.KindCounty, "压测县",
		`{"type":"Polygon","coordinates":[[[109.4,18.2],[109.6,18.2],[109.6,18.3],[109.4,18.3],[109.4,18.2]]]}`)
	if err != nil {
		return nil, err
	}
	town, err := mk(county.ID, casework.KindTownship, "压测街道", "")
	if err != nil {
		return nil, err
	}
	comm, err := mk(town.ID, casework.KindCommunity, "压测社区", "")
	if err != nil {
		return nil, err
	}
	// The worker cannot sign in (no usable password hash): it only owns the
	// measures.
	worker, err := db.CreateUser(ctx, sys, casework.UserInput{Username: "loadgen-" + strings.ToLower(tag), OrgID: comm.ID,
		Password: "not-a-password"}, "$argon2id$disabled", false)
	if err != nil {
		return nil, fmt.Errorf("create the load worker: %w", err)
	}
	if _, err := db.GrantRole(ctx, sys, worker.ID, casework.RoleWorker, comm.ID); err != nil {
		return nil, err
	}
	// One PIN hash for every device: argon2 per device would make setup
	// slow and the PIN is not what is measured.
	pinHash, err := auth.HashPassword(ctx, "246813")
	if err != nil {
		return nil, err
	}
	day := casework.DateOf(db.Now(), nil).AddDays(-10)
	devs := make([]loadDevice, 0, n)
	for i := range n {
		var p *casework.Person
		for try := 0; ; try++ {
			p, err = db.CreatePerson(ctx, sys, casework.PersonInput{OrgID: comm.ID, Name: "压测人员" + strconv.Itoa(i+1), IDNumber: randomIDNumber()},
				&casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: fmt.Sprintf("压测决字%d号", i+1), DecisionAuthority: "公安局",
					DecisionDate: day, ReceivedDate: day, ReportDate: day.AddDays(1), WorkerID: worker.ID})
			if err == nil || try >= 5 || casework.ErrorCode(err) != casework.ECONFLICT {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("create load person %d: %w", i+1, err)
		}
		code, _, err := db.CreateActivationCode(ctx, sys, p.ID)
		if err != nil {
			return nil, fmt.Errorf("activation code for load person %d: %w", i+1, err)
		}
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		priv, _ := x509.MarshalPKCS8PrivateKey(k)
		tok, hash := auth.NewToken()
		d, _, err := db.Activate(ctx, store.Activation{Code: code, PublicKey: base64.StdEncoding.EncodeToString(pub), PINHash: pinHash, TokenHash: hash})
		if err != nil {
			return nil, fmt.Errorf("activate load device %d: %w", i+1, err)
		}
		devs = append(devs, loadDevice{ID: d.ID, PersonID: p.ID, Token: tok, Key: base64.StdEncoding.EncodeToString(priv), priv: k})
	}
	return devs, nil
}

// randomIDNumber is a valid resident ID number (area 460203, born
// 1970–1999) with random digits: a collision is refused as a duplicate and
// the caller tries again.
func randomIDNumber() string {
	birth := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, mrand.IntN(365*30))
	body := "460203" + birth.Format("20060102") + fmt.Sprintf("%03d", mrand.IntN(1000))
	return body + string(casework.IDCheckChar(body))
}

func readLoadDevices(path string) ([]loadDevice, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var devs []loadDevice
	if err := json.Unmarshal(b, &devs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range devs {
		der, err := base64.StdEncoding.DecodeString(devs[i].Key)
		if err != nil {
			return nil, fmt.Errorf("%s: device %d: key: %w", path, i+1, err)
		}
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("%s: device %d: key: %w", path, i+1, err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: device %d: not an ECDSA key", path, i+1)
		}
		devs[i].priv = ek
	}
	return devs, nil
}

func writeLoadDevices(path string, devs []loadDevice) error {
	b, err := json.MarshalIndent(devs, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// signBody is the app's signature: ECDSA P-256 over SHA-256 of the exact
// body, r‖s, base64.
func signBody(k *ecdsa.PrivateKey, body []byte) string {
	h := sha256.Sum256(body)
	r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
	if err != nil {
		panic(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return base64.StdEncoding.EncodeToString(sig)
}

// loadOptions says what load to send.
type loadOptions struct {
	URL         string
	Devices     []loadDevice
	Concurrency int
	Duration    time.Duration   // stop starting new check-ins after this (0: only Count)
	Count       int             // stop after this many check-ins started (0: only Duration)
	Photos      bool            // upload a fresh selfie before each check-in
	PhotoKB     int             // approximate selfie size
	RetryFor    time.Duration   // how long one check-in is retried (as the app does, same client id)
	Stop        <-chan struct{} // closed: start no new check-ins (nil: Duration/Count only)
	Client      *http.Client
}

// loadResult is what was sent and what came back.
type loadResult struct {
	Started, Acked, Failed, Retries int64
	PhotoBytes, Photos              int64
	Elapsed                         time.Duration
	PhotoTime                       time.Duration // summed wall time of acknowledged uploads
	latencies                       []time.Duration
	ackedIDs                        []string
	servers                         map[string]int64 // acknowledgements by X-Kangfu-Server
	errs                            map[string]int64 // failures by reason (attempts, retried or not)
}

// Percentile returns the p-th (0–100) latency of acknowledged check-ins,
// retries included.
func (r *loadResult) Percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	l := slices.Clone(r.latencies)
	slices.Sort(l)
	i := int(p / 100 * float64(len(l)-1))
	return l[i]
}

// Rate is acknowledged check-ins per second.
func (r *loadResult) Rate() float64 { return float64(r.Acked) / r.Elapsed.Seconds() }

func (r *loadResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "check-ins: %d started, %d acknowledged, %d failed, %d retries in %.1fs = %.1f/s\n",
		r.Started, r.Acked, r.Failed, r.Retries, r.Elapsed.Seconds(), r.Rate())
	fmt.Fprintf(&b, "latency (acknowledged, retries included): p50 %v  p90 %v  p99 %v  max %v\n",
		r.Percentile(50).Round(time.Microsecond*100), r.Percentile(90).Round(time.Microsecond*100), r.Percentile(99).Round(time.Microsecond*100),
		r.Percentile(100).Round(time.Microsecond*100))
	if r.Photos > 0 {
		fmt.Fprintf(&b, "photos: %d stored, %.1f MB, %.1f photos/s, %.2f MB/s\n", r.Photos, float64(r.PhotoBytes)/1e6,
			float64(r.Photos)/r.Elapsed.Seconds(), float64(r.PhotoBytes)/1e6/r.Elapsed.Seconds())
	}
	keys := slices.Sorted(mapsKeys(r.servers))
	for _, k := range keys {
		fmt.Fprintf(&b, "  served by %s: %d\n", k, r.servers[k])
	}
	keys = slices.Sorted(mapsKeys(r.errs))
	for _, k := range keys {
		fmt.Fprintf(&b, "  attempts failed with %s: %d\n", k, r.errs[k])
	}
	return b.String()
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// retryable says whether the app would send the same check-in again: the
// network failed, the balancer had no server, a server was busy or failing.
// A refusal (4xx other than 429) is final.
func retryable(status int) bool {
	return status == 0 || status == http.StatusTooManyRequests || status >= 500
}

// runLoad sends check-ins until the duration or count is reached; each
// check-in is retried with the same client id (and the same signed body)
// until acknowledged, refused, or RetryFor has passed.
func runLoad(ctx context.Context, opt loadOptions) (*loadResult, error) {
	if len(opt.Devices) == 0 {
		return nil, errors.New("no devices")
	}
	if opt.Concurrency < 1 {
		opt.Concurrency = 1
	}
	if opt.RetryFor == 0 {
		opt.RetryFor = 30 * time.Second
	}
	if opt.PhotoKB == 0 {
		opt.PhotoKB = 60
	}
	client := opt.Client
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: opt.Concurrency, MaxIdleConns: opt.Concurrency}}
	}
	base := strings.TrimRight(opt.URL, "/")
	var photo []byte
	if opt.Photos {
		photo = loadPhoto(opt.PhotoKB)
	}
	res := &loadResult{servers: map[string]int64{}, errs: map[string]int64{}}
	var mu sync.Mutex
	var started atomic.Int64
	stopAt := time.Time{}
	begin := time.Now()
	if opt.Duration > 0 {
		stopAt = begin.Add(opt.Duration)
	}
	failed := func(why string) {
		mu.Lock()
		res.errs[why]++
		mu.Unlock()
	}
	// send posts one request until a final answer; it returns the status,
	// the server that answered and whether the app would have given up.
	send := func(path string, body []byte, hdr map[string]string) (int, string, bool) {
		deadline := time.Now().Add(opt.RetryFor)
		backoff := 50 * time.Millisecond
		for attempt := 0; ; attempt++ {
			if attempt > 0 {
				atomic.AddInt64(&res.Retries, 1)
			}
			req, _ := http.NewRequestWithContext(ctx, "POST", base+path, bytes.NewReader(body))
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			status, server := 0, ""
			resp, err := client.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status, server = resp.StatusCode, resp.Header.Get("X-Kangfu-Server")
			}
			if status >= 200 && status < 300 {
				return status, server, true
			}
			if err != nil {
				failed("network: " + shortErr(err))
			} else {
				failed(fmt.Sprintf("HTTP %d", status))
			}
			if !retryable(status) || time.Now().After(deadline) || ctx.Err() != nil {
				return status, server, false
			}
			time.Sleep(backoff)
			backoff = min(backoff*2, time.Second)
		}
	}
	var wg sync.WaitGroup
	for w := range opt.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var acked []string
			for i := w; ; i += opt.Concurrency {
				n := started.Add(1)
				stopped := false
				select {
				case <-opt.Stop:
					stopped = true
				default:
				}
				if stopped || (opt.Count > 0 && n > int64(opt.Count)) || (!stopAt.IsZero() && time.Now().After(stopAt)) || ctx.Err() != nil {
					started.Add(-1)
					break
				}
				d := opt.Devices[i%len(opt.Devices)]
				t0 := time.Now()
				sha := ""
				if photo != nil {
					p := uniquePhoto(photo)
					sum := sha256.Sum256(p)
					sha = hex.EncodeToString(sum[:])
					_, _, ok := send("/api/v1/app/photos", p, map[string]string{"Authorization": "Bearer " + d.Token, "X-Photo-SHA256": sha, "Content-Type": "image/jpeg"})
					if !ok {
						atomic.AddInt64(&res.Failed, 1)
						continue
					}
					atomic.AddInt64(&res.Photos, 1)
					atomic.AddInt64(&res.PhotoBytes, int64(len(p)))
					atomic.AddInt64((*int64)(&res.PhotoTime), int64(time.Since(t0)))
				}
				id := uuid.NewString()
				body, _ := json.Marshal(casework.CheckinInput{ID: id, TakenAt: time.Now().UTC().Format(time.RFC3339Nano),
					Lat: 18.25 + float64(i%100)/10000, Lng: 109.5, AccuracyM: 15, PhotoSHA256: sha})
				status, server, ok := send("/api/v1/app/checkins", body, map[string]string{"Authorization": "Bearer " + d.Token,
					"Content-Type": "application/json", "X-Kangfu-Signature": signBody(d.priv, body)})
				if !ok {
					atomic.AddInt64(&res.Failed, 1)
					continue
				}
				_ = status
				lat = append(lat, time.Since(t0))
				acked = append(acked, id)
				mu.Lock()
				res.servers[server]++
				mu.Unlock()
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.ackedIDs = append(res.ackedIDs, acked...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(begin)
	res.Started = started.Load()
	res.Acked = int64(len(res.ackedIDs))
	return res, nil
}

func shortErr(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "connection refused"):
		return "connection refused"
	case strings.Contains(s, "connection reset"):
		return "connection reset"
	case strings.Contains(s, "EOF"):
		return "EOF"
	case strings.Contains(s, "Timeout") || strings.Contains(s, "deadline"):
		return "timeout"
	}
	return s
}

// loadPhoto is a real JPEG of about kb KiB (noise compresses badly).
func loadPhoto(kb int) []byte {
	side := 64
	for {
		img := image.NewGray(image.Rect(0, 0, side, side))
		for i := range img.Pix {
			img.Pix[i] = uint8(mrand.IntN(256))
		}
		img.Set(0, 0, color.Gray{Y: 1})
		var b bytes.Buffer
		jpeg.Encode(&b, img, &jpeg.Options{Quality: 75})
		if b.Len() >= kb<<10 || side >= 1024 {
			return b.Bytes()
		}
		side = side * 5 / 4
	}
}

// uniquePhoto makes a distinct JPEG from p by a comment segment of 16
// random bytes after the start-of-image marker: every check-in uploads a new
// object, as every selfie is.
func uniquePhoto(p []byte) []byte {
	out := make([]byte, 0, len(p)+22)
	out = append(out, p[:2]...)
	out = append(out, 0xFF, 0xFE, 0, 18)
	var r [16]byte
	rand.Read(r[:])
	out = append(out, r[:]...)
	return append(out, p[2:]...)
}

// cpuSeconds is utime+stime of a process in seconds (/proc/<pid>/stat,
// fields 14 and 15, in clock ticks of 100 Hz on Linux).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return float64(ut+st) / 100, nil
}

func cmdLoadgen(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var opt loadOptions
	var devFile, pids string
	var persons int
	cfg, _, err := parse("loadgen", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&opt.URL, "url", "http://127.0.0.1:8080", "where to send: the balancer, or one server")
		fs.StringVar(&devFile, "devices", "kangfu-loadgen-devices.json", "file of activated devices; made through the database (KANGFU_DB and the secret key) when missing. It holds device keys: keep it private")
		fs.IntVar(&persons, "persons", 100, "persons (one device each) to make when the devices file is missing")
		fs.IntVar(&opt.Concurrency, "concurrency", 32, "check-ins in flight at once")
		fs.DurationVar(&opt.Duration, "duration", 30*time.Second, "how long to send (0: until --count)")
		fs.IntVar(&opt.Count, "count", 0, "how many check-ins to send (0: until --duration)")
		fs.BoolVar(&opt.Photos, "photos", false, "upload a new selfie before each check-in")
		fs.IntVar(&opt.PhotoKB, "photo-kb", 60, "selfie size in KiB (at most 200)")
		fs.DurationVar(&opt.RetryFor, "retry-for", 30*time.Second, "how long one check-in is retried with its client id")
		fs.StringVar(&pids, "cpu-pids", "", "comma-separated server process ids: report their CPU seconds (utime+stime) during the run and check-ins per CPU-second")
	})
	if err != nil {
		return err
	}
	if opt.Duration == 0 && opt.Count == 0 {
		return usageError{"--duration and --count are both 0: give one"}
	}
	if opt.PhotoKB < 1 || opt.PhotoKB > 190 {
		return usageError{"--photo-kb must be between 1 and 190 (the server takes selfies of at most 200 KB)"}
	}
	opt.Devices, err = readLoadDevices(devFile)
	if errors.Is(err, os.ErrNotExist) {
		e, err := open(ctx, cfg, stderr, false, false)
		if err != nil {
			return err
		}
		tag := strings.ToUpper(hex.EncodeToString(randBytes(3)))
		opt.Devices, err = makeLoadDevices(ctx, e.db, persons, tag)
		e.Close()
		if err != nil {
			return err
		}
		if err := writeLoadDevices(devFile, opt.Devices); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "made %d devices under org 压测省%s, saved to %s\n", len(opt.Devices), tag, devFile)
	} else if err != nil {
		return err
	}
	var pidList []int
	for _, p := range strings.Split(pids, ",") {
		if p = strings.TrimSpace(p); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil {
				return usageError{fmt.Sprintf("--cpu-pids: %q is not a process id", p)}
			}
			pidList = append(pidList, n)
		}
	}
	cpu := func() (float64, error) {
		t := 0.0
		for _, p := range pidList {
			s, err := cpuSeconds(p)
			if err != nil {
				return 0, err
			}
			t += s
		}
		return t, nil
	}
	cpu0, err := cpu()
	if err != nil {
		return err
	}
	res, err := runLoad(ctx, opt)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, res)
	if len(pidList) > 0 {
		cpu1, err := cpu()
		if err != nil {
			return err
		}
		used := cpu1 - cpu0
		fmt.Fprintf(stdout, "server CPU: %.2f s over %d process(es) = %.1f check-ins per server CPU-second\n", used, len(pidList), float64(res.Acked)/used)
	}
	if res.Failed > 0 {
		return fmt.Errorf("%d check-ins were not acknowledged", res.Failed)
	}
	return nil
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
