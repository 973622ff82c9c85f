// Package server mounts the console and the API on one mux, adds the
// middleware every request passes (request id, logging, metrics, security
// headers, cross-origin protection, panic recovery) and the health, readiness
// and metrics endpoints.
package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kangfu/internal/api"
	"kangfu/internal/app"
	"kangfu/internal/auth"
	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
	"kangfu/internal/web"
)

// Server is the HTTP face of Kangfu.
type Server struct {
	DB      *store.DB
	Auth    *auth.Service
	Log     *slog.Logger
	Console *web.Console
	API     *api.API

	routes   []httpx.Route
	handler  http.Handler
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	opt      Options
	draining atomic.Pointer[string] // why /readyz answers 503 (Drain); nil: ready
}

// Options configure New.
type Options struct {
	TrustProxy bool
	Blobs      blob.Storage // where document content lives; nil: document routes answer 503
	MaxUpload  int64        // largest upload in bytes; 0: 20 MiB
	// MapTiles is the operator's tile server, a URL template with {z},
	// {x} and {y} (and optionally {s}); "" (the default): no tiles are
	// fetched and maps are drawn plain (issue 18 §14). Its origin is
	// added to the CSP's img-src.
	MapTiles       string
	MapAttribution string
	// MetricsToken, when set, is required as "Authorization: Bearer …" on
	// /metrics; MetricsElsewhere takes /metrics off the main listener (it
	// is served by MetricsHandler on its own address). Issue 15 §9.
	MetricsToken     string
	MetricsElsewhere bool
	// ServerID, when set, is sent as X-Kangfu-Server on every response:
	// which of several servers behind a balancer answered (issue 16 §5).
	ServerID string
	// Graceful shutdown (issue 16 §4): when Serve's context ends, /readyz
	// answers 503 for Drain while every request is still served, then
	// requests in flight get at most ShutdownTimeout (0: 15 s).
	Drain, ShutdownTimeout time.Duration
}

// TileOrigin checks a tile URL template and returns the origin to allow
// in the CSP's img-src ({s} subdomains become a wildcard).
func TileOrigin(tiles string) (string, error) {
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(tiles, p) {
			return "", fmt.Errorf("%q must contain {z}, {x} and {y}, e.g. https://tiles.example.org/{z}/{x}/{y}.png", tiles)
		}
	}
	u, err := url.Parse(strings.NewReplacer("{s}", "s", "{z}", "0", "{x}", "0", "{y}", "0", "{r}", "").Replace(tiles))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%q must be an http(s) URL", tiles)
	}
	host := u.Host
	if i := strings.Index(tiles, "://"); i >= 0 && strings.HasPrefix(tiles[i+3:], "{s}.") {
		host = "*" + strings.TrimPrefix(host, "s")
	}
	return u.Scheme + "://" + host, nil
}

// New builds the server and its route table.
func New(db *store.DB, a *auth.Service, log *slog.Logger, opt Options) (*Server, error) {
	console, err := web.New(db, a, log)
	if err != nil {
		return nil, err
	}
	console.TrustProxy = opt.TrustProxy
	console.Blobs, console.MaxUpload = opt.Blobs, opt.MaxUpload
	imgSrc := ""
	if opt.MapTiles != "" {
		if imgSrc, err = TileOrigin(opt.MapTiles); err != nil {
			return nil, err
		}
		console.MapTiles, console.MapAttribution = opt.MapTiles, opt.MapAttribution
	}
	s := &Server{DB: db, Auth: a, Log: log, Console: console, opt: opt,
		API: &api.API{DB: db, Auth: a, Log: log, TrustProxy: opt.TrustProxy, Blobs: opt.Blobs, MaxUpload: opt.MaxUpload}}
	s.initMetrics()
	mux := http.NewServeMux()
	s.routes = append(s.routes, s.ownRoutes()...)
	s.routes = append(s.routes, console.Routes()...)
	s.routes = append(s.routes, s.API.Routes()...)
	s.routes = append(s.routes, app.Routes()...) // the person's app (PWA) under /app/
	for _, rt := range s.routes {
		mux.Handle(rt.Key(), rt.Handler)
	}
	// Anything else under /api/ answers in JSON, not with the console's page.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		api.Fail(w, r, casework.NotFound("接口", "endpoint"))
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Log.WarnContext(r.Context(), "cross-origin request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		if strings.HasPrefix(r.URL.Path, "/api/") {
			api.Fail(w, r, casework.Errorf(casework.EFORBIDDEN, "跨站请求被拒绝", "cross-origin request refused"))
			return
		}
		http.Error(w, "跨站请求被拒绝 / cross-origin request refused", http.StatusForbidden)
	}))
	s.handler = s.observe(securityHeaders(imgSrc, cop.Handler(mux), opt.TrustProxy))
	if id := opt.ServerID; id != "" {
		next := s.handler
		s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Kangfu-Server", id)
			next.ServeHTTP(w, r)
		})
	}
	return s, nil
}

// Routes returns every registered route (the access-matrix test walks them).
func (s *Server) Routes() []httpx.Route { return s.routes }

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) ownRoutes() []httpx.Route {
	public := httpx.Access{Public: true}
	return []httpx.Route{
		{Method: "GET", Pattern: "/healthz", Access: public, Handler: http.HandlerFunc(s.healthz), Summary: "process is up"},
		{Method: "GET", Pattern: "/readyz", Access: public, Handler: http.HandlerFunc(s.readyz), Summary: "database reachable, migrations current"},
		{Method: "GET", Pattern: "/metrics", Access: public, Handler: http.HandlerFunc(s.metricsMain), Summary: "Prometheus metrics (token or separate address when configured)"},
	}
}

// MetricsHandler serves the metrics, behind the token when one is set.
func (s *Server) MetricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := s.opt.MetricsToken; tok != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// metricsMain is /metrics on the main listener: not there when the
// metrics have their own address.
func (s *Server) metricsMain(w http.ResponseWriter, r *http.Request) {
	if s.opt.MetricsElsewhere {
		http.NotFound(w, r)
		return
	}
	s.MetricsHandler().ServeHTTP(w, r)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if why := s.draining.Load(); why != nil {
		http.Error(w, "draining: "+*why, http.StatusServiceUnavailable)
		return
	}
	if err := s.DB.Ping(ctx); err != nil {
		s.Log.WarnContext(ctx, "readyz: database unreachable", "err", err)
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	pending, err := s.DB.PendingMigrations(ctx)
	if err != nil || len(pending) > 0 {
		http.Error(w, fmt.Sprintf("migrations pending: %v %v", pending, err), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

func (s *Server) initMetrics() {
	s.registry = prometheus.NewRegistry()
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kangfu_http_requests_total", Help: "HTTP requests by route and status."},
		[]string{"route", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kangfu_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"route"})
	s.registry.MustRegister(s.requests, s.latency, &dbCollector{db: s.DB})
}

// dbCollector exports the connection pools' statistics.
type dbCollector struct{ db *store.DB }

var (
	dbOpen  = prometheus.NewDesc("kangfu_db_open_connections", "Open connections per pool.", []string{"pool"}, nil)
	dbInUse = prometheus.NewDesc("kangfu_db_in_use_connections", "Connections in use per pool.", []string{"pool"}, nil)
	dbWait  = prometheus.NewDesc("kangfu_db_wait_count_total", "Waits for a connection per pool.", []string{"pool"}, nil)
	dbWaitS = prometheus.NewDesc("kangfu_db_wait_seconds_total", "Time waited for a connection per pool.", []string{"pool"}, nil)
	// The read replica (issue 16 §3, store/replica.go), when configured.
	replicaLag      = prometheus.NewDesc("kangfu_db_replica_lag_seconds", "How far the read replica's data is behind the primary (0 when caught up, -1 unknown), as last measured.", nil, nil)
	replicaLagBytes = prometheus.NewDesc("kangfu_db_replica_lag_bytes", "WAL the read replica has not replayed yet, in bytes, as last measured (-1 unknown).", nil, nil)
	replicaUsable   = prometheus.NewDesc("kangfu_db_replica_in_use", "1 when reports read the replica; 0 when it is skipped (too far behind, down, or not a standby).", []string{"state"}, nil)
)

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- dbOpen
	ch <- dbInUse
	ch <- dbWait
	ch <- dbWaitS
	ch <- replicaLag
	ch <- replicaLagBytes
	ch <- replicaUsable
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	for pool, st := range c.db.Stats() {
		ch <- prometheus.MustNewConstMetric(dbOpen, prometheus.GaugeValue, float64(st.OpenConnections), pool)
		ch <- prometheus.MustNewConstMetric(dbInUse, prometheus.GaugeValue, float64(st.InUse), pool)
		ch <- prometheus.MustNewConstMetric(dbWait, prometheus.CounterValue, float64(st.WaitCount), pool)
		ch <- prometheus.MustNewConstMetric(dbWaitS, prometheus.CounterValue, st.WaitDuration.Seconds(), pool)
	}
	if rs := c.db.ReplicaStatus(); rs.Configured {
		ch <- prometheus.MustNewConstMetric(replicaLag, prometheus.GaugeValue, rs.Lag.Seconds())
		ch <- prometheus.MustNewConstMetric(replicaLagBytes, prometheus.GaugeValue, float64(rs.LagBytes))
		in := 0.0
		if rs.Usable() {
			in = 1
		}
		ch <- prometheus.MustNewConstMetric(replicaUsable, prometheus.GaugeValue, in, rs.State)
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives each request an id, logs it, counts it by route pattern
// (never by raw path, which would hold ids), and turns a panic into a 500.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := httpx.NewRequestID()
		ref := &httpx.ActorRef{}
		ctx := httpx.WithActorRef(httpx.WithRequestID(r.Context(), id), ref)
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Log.ErrorContext(ctx, "panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.status == 0 {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			s.requests.WithLabelValues(route, fmt.Sprint(sw.status)).Inc()
			s.latency.WithLabelValues(route).Observe(d.Seconds())
			s.Log.InfoContext(ctx, "request", "method", r.Method, "route", route, "status", sw.status,
				"bytes", sw.bytes, "ms", float64(d.Microseconds())/1000, "user", ref.Username)
		}()
		next.ServeHTTP(sw, r)
	})
}

// securityHeaders sets a strict CSP (no inline script or style), forbids
// framing and sniffing, and keeps referrers on this site.
// tiles is the map tile server's origin ("" for none), the only other
// place images may come from.
func securityHeaders(tiles string, next http.Handler, trustProxy bool) http.Handler {
	img := "'self' data: blob:"
	if tiles != "" {
		img += " " + tiles
	}
	// 'wasm-unsafe-eval' lets the page compile WebAssembly served from this
	// site (the face check's TensorFlow.js backend, issue 17); it allows no
	// eval of JavaScript and no script from elsewhere.
	csp := "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src " + img + "; connect-src 'self'; " +
		"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
		if httpx.IsHTTPS(r, trustProxy) { // HSTS on TLS, ours or a trusted proxy's (issue 15 §5)
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// Drain turns /readyz unready ("draining: " and why), so a balancer stops
// sending requests here; every request that still comes is served.
func (s *Server) Drain(why string) { s.draining.Store(&why) }

// Serve runs the HTTP server on ln until ctx ends, then shuts down
// gracefully (issue 16 §4): /readyz turns unready at once, requests are
// still served for Options.Drain (a balancer polling /readyz notices and
// sends new ones elsewhere; keep-alive is off meanwhile, so clients open
// their next connection through the balancer), then the listener closes
// and requests in flight get Options.ShutdownTimeout to finish. When Serve
// returns, every request it answered has had its answer written: a
// check-in acknowledged is durable (the writer commits before answering).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.Drain("the server is shutting down")
	hs.SetKeepAlivesEnabled(false)
	if s.opt.Drain > 0 {
		s.Log.Info("shutting down: /readyz answers 503, still serving while the balancer drains", "drain", s.opt.Drain)
		select {
		case <-time.After(s.opt.Drain):
		case err := <-errc:
			return err
		}
	}
	limit := s.opt.ShutdownTimeout
	if limit <= 0 {
		limit = 15 * time.Second
	}
	s.Log.Info("shutting down: listener closed, finishing requests in flight", "at_most", limit)
	shutdown, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		hs.Close()
		return fmt.Errorf("requests still running after %s: %w", limit, err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// RequestIDHandler wraps a slog handler so every line logged with a request
// context carries the request id.
type RequestIDHandler struct{ slog.Handler }

// Handle adds request_id from the context.
func (h RequestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := httpx.RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper.
func (h RequestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return RequestIDHandler{h.Handler.WithAttrs(as)}
}

// WithGroup keeps the wrapper.
func (h RequestIDHandler) WithGroup(name string) slog.Handler {
	return RequestIDHandler{h.Handler.WithGroup(name)}
}
