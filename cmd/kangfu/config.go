package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/blob"
	"kangfu/internal/notify"
	"kangfu/internal/server"
	"kangfu/internal/store"
)

// Config is every setting, read from flags with KANGFU_* variables as
// defaults, validated at start.
type Config struct {
	Addr    string
	DataDir string
	DB      string
	// Read replica for reports (issue 16 §3; store/replica.go).
	DBReplica     string
	ReplicaMaxLag time.Duration
	SecretKey     string // from KANGFU_SECRET_KEY only: a flag would show in ps
	SecretKeyFile string
	TrustProxy    bool
	LogFormat     string
	LogLevel      string
	Demo          bool
	SessionIdle   time.Duration
	SessionMax    time.Duration
	LockAfter     int
	LockFor       time.Duration
	JobInterval   time.Duration
	SMS           string // SMS driver: log (default; logs the masked number and the text)
	BlobDir       string
	// Blobs is "" (the local folder BlobDir) or s3://bucket/prefix: an
	// S3-compatible bucket reached with the settings in S3 (blobs.go).
	Blobs     string
	S3        blob.S3Config
	MaxUpload int64
	MapTiles  string // tile URL template ({z}/{x}/{y}); "": no tiles, maps are drawn without a background
	MapAttrib string // the tile server's attribution shown on the map
	// ExportDir is where each office's monthly summary is written (issue 12
	// §5); "": no scheduled exports.
	ExportDir string
	// AuditCheckpointFile is where the server appends signed checkpoints of
	// the audit chain (issue 15 §1): ship it off the machine.
	// TLS (issue 15 §5): a certificate and key make the server listen on
	// TLS itself; HSTS is then sent and the session cookie is Secure.
	TLSCert, TLSKey string
	// ACME (issue 15 §5): automatic certificates for these domains instead
	// of a certificate file (acme.go).
	ACMEDomains, ACMEEmail, ACMEDirectory, ACMEHTTPAddr string
	// Metrics (issue 15 §9): on their own address, and/or behind a token.
	MetricsAddr, MetricsToken string
	AuditCheckpointFile       string
	AuditCheckpointEvery      time.Duration
	// ServerID names this server in the X-Kangfu-Server response header
	// and its logs, so a balancer's routing can be seen (issue 16 §5).
	ServerID string
	// Graceful shutdown (issue 16 §4): on SIGTERM /readyz answers 503 for
	// Drain while requests are still served, then in-flight requests get
	// at most ShutdownTimeout.
	Drain, ShutdownTimeout time.Duration

	problems []string // environment values that did not parse
}

// bindConfig declares the shared flags on fs, each defaulting to its
// environment variable.
func bindConfig(fs *flag.FlagSet, getenv func(string) string) *Config {
	c := &Config{}
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.Addr, "addr", env("KANGFU_ADDR", "127.0.0.1:8080"), "listen address (KANGFU_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", env("KANGFU_DATA_DIR", "./kangfu-data"), "data folder: SQLite file, key file, uploads (KANGFU_DATA_DIR)")
	fs.StringVar(&c.DB, "db", env("KANGFU_DB", ""), "database: a SQLite file path, or a postgres:// URL (KANGFU_DB; default <data-dir>/kangfu.db)")
	fs.StringVar(&c.DBReplica, "db-replica", env("KANGFU_DB_REPLICA", ""), "read replica for reports: a postgres:// URL of a streaming standby of --db (KANGFU_DB_REPLICA; default none)")
	fs.DurationVar(&c.ReplicaMaxLag, "replica-max-lag", c.durEnv(getenv, "KANGFU_REPLICA_MAX_LAG", store.DefaultReplicaMaxLag), "staleness reports tolerate: a replica further behind is skipped and reports read the primary (KANGFU_REPLICA_MAX_LAG)")
	fs.StringVar(&c.SecretKeyFile, "secret-key-file", env("KANGFU_SECRET_KEY_FILE", ""), "file holding the secret key (KANGFU_SECRET_KEY_FILE; or set KANGFU_SECRET_KEY)")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", env("KANGFU_TRUST_PROXY", "") == "true", "take the client address from X-Forwarded-For (KANGFU_TRUST_PROXY=true)")
	fs.StringVar(&c.LogFormat, "log-format", env("KANGFU_LOG_FORMAT", "text"), "log format: text or json (KANGFU_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", env("KANGFU_LOG_LEVEL", "info"), "log level: debug, info, warn, error (KANGFU_LOG_LEVEL)")
	fs.DurationVar(&c.SessionIdle, "session-idle", c.durEnv(getenv, "KANGFU_SESSION_IDLE", 30*time.Minute), "console session idle timeout (KANGFU_SESSION_IDLE)")
	fs.DurationVar(&c.SessionMax, "session-max", c.durEnv(getenv, "KANGFU_SESSION_MAX", 12*time.Hour), "console session absolute timeout (KANGFU_SESSION_MAX)")
	fs.IntVar(&c.LockAfter, "lock-after", c.intEnv(getenv, "KANGFU_LOCK_AFTER", 5), "failed sign-ins before an account locks (KANGFU_LOCK_AFTER)")
	fs.DurationVar(&c.LockFor, "lock-for", c.durEnv(getenv, "KANGFU_LOCK_FOR", 15*time.Minute), "how long a locked account stays locked (KANGFU_LOCK_FOR)")
	fs.StringVar(&c.BlobDir, "blob-dir", env("KANGFU_BLOB_DIR", ""), "folder for uploaded and generated documents (KANGFU_BLOB_DIR; default <data-dir>/blobs)")
	fs.StringVar(&c.Blobs, "blobs", env("KANGFU_BLOBS", ""), "where documents and photos are kept: s3://bucket/prefix for an S3-compatible bucket (KANGFU_BLOBS; default the local folder --blob-dir)")
	c.S3 = s3FromEnv(getenv) // credentials only from the environment or a file: a flag would show in ps
	fs.Int64Var(&c.MaxUpload, "max-upload", int64(c.intEnv(getenv, "KANGFU_MAX_UPLOAD_MB", 20))<<20, "largest document upload in bytes (KANGFU_MAX_UPLOAD_MB in MiB)")
	fs.DurationVar(&c.JobInterval, "job-interval", c.durEnv(getenv, "KANGFU_JOB_INTERVAL", 10*time.Minute), "how often the release (R15) and leave-start (R28) jobs run (KANGFU_JOB_INTERVAL)")
	fs.StringVar(&c.SMS, "sms", env("KANGFU_SMS", "log"), "SMS driver: log (KANGFU_SMS; log only logs the masked number and the text)")
	fs.StringVar(&c.MapTiles, "map-tiles", env("KANGFU_MAP_TILES", ""),
		"map tile URL template, e.g. https://tiles.example.org/{z}/{x}/{y}.png (KANGFU_MAP_TILES; default none: no tiles are fetched, maps are drawn plain)")
	fs.StringVar(&c.MapAttrib, "map-attribution", env("KANGFU_MAP_ATTRIBUTION", ""), "the tile server's attribution text shown on maps (KANGFU_MAP_ATTRIBUTION)")
	fs.StringVar(&c.ExportDir, "export-dir", env("KANGFU_EXPORT_DIR", ""), "folder where each office's monthly summary (.xlsx) is written on the 1st, one subfolder per org (KANGFU_EXPORT_DIR; default none: no scheduled exports)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("KANGFU_TLS_CERT", ""), "PEM certificate (chain) to serve TLS without a proxy (KANGFU_TLS_CERT; with KANGFU_TLS_KEY)")
	fs.StringVar(&c.TLSKey, "tls-key", env("KANGFU_TLS_KEY", ""), "PEM private key of the TLS certificate (KANGFU_TLS_KEY)")
	fs.StringVar(&c.ACMEDomains, "acme-domain", env("KANGFU_ACME_DOMAIN", ""), "get TLS certificates automatically (ACME, e.g. Let's Encrypt) for this domain, or a comma-separated list (KANGFU_ACME_DOMAIN; instead of --tls-cert)")
	fs.StringVar(&c.ACMEEmail, "acme-email", env("KANGFU_ACME_EMAIL", ""), "contact address given to the certificate authority for expiry notices (KANGFU_ACME_EMAIL)")
	fs.StringVar(&c.ACMEDirectory, "acme-directory", env("KANGFU_ACME_DIRECTORY", ""), "ACME directory URL of the certificate authority (KANGFU_ACME_DIRECTORY; default Let's Encrypt)")
	fs.StringVar(&c.ACMEHTTPAddr, "acme-http-addr", env("KANGFU_ACME_HTTP_ADDR", ":80"), "address answering ACME HTTP-01 challenges and redirecting plain HTTP to HTTPS (KANGFU_ACME_HTTP_ADDR; off for TLS-ALPN-01 on --addr only)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("KANGFU_METRICS_ADDR", ""), "serve /metrics on this address only, not on --addr (KANGFU_METRICS_ADDR, e.g. 127.0.0.1:9100)")
	c.MetricsToken = getenv("KANGFU_METRICS_TOKEN") // a flag would show in ps
	fs.StringVar(&c.AuditCheckpointFile, "audit-checkpoint-file", env("KANGFU_AUDIT_CHECKPOINT_FILE", ""), "file the server appends signed audit checkpoints to; ship it elsewhere (KANGFU_AUDIT_CHECKPOINT_FILE; default <data-dir>/audit-checkpoints.log, off to disable)")
	fs.DurationVar(&c.AuditCheckpointEvery, "audit-checkpoint-every", c.durEnv(getenv, "KANGFU_AUDIT_CHECKPOINT_EVERY", 10*time.Minute), "how often a checkpoint is written when the log grew (KANGFU_AUDIT_CHECKPOINT_EVERY)")
	fs.StringVar(&c.ServerID, "server-id", env("KANGFU_SERVER_ID", defaultServerID()), "this server's name in the X-Kangfu-Server response header, to tell servers behind a balancer apart (KANGFU_SERVER_ID; default the host name)")
	fs.DurationVar(&c.Drain, "drain", c.durEnv(getenv, "KANGFU_DRAIN", 5*time.Second), "on SIGTERM, how long /readyz answers 503 while requests are still served, so a balancer stops sending any (KANGFU_DRAIN; 0 for none)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.durEnv(getenv, "KANGFU_SHUTDOWN_TIMEOUT", 15*time.Second), "after the drain, how long requests in flight may take to finish (KANGFU_SHUTDOWN_TIMEOUT)")
	c.SecretKey = getenv("KANGFU_SECRET_KEY")
	return c
}

func defaultServerID() string {
	h, _ := os.Hostname()
	return h
}

func (c *Config) durEnv(getenv func(string) string, name string, def time.Duration) time.Duration {
	if v := getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
		c.problems = append(c.problems, fmt.Sprintf("%s=%q is not a duration (e.g. 30m, 12h)", name, v))
	}
	return def
}

func (c *Config) intEnv(getenv func(string) string, name string, def int) int {
	if v := getenv(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		c.problems = append(c.problems, fmt.Sprintf("%s=%q is not a whole number", name, v))
	}
	return def
}

// validate checks the settings and fills in derived defaults. Each problem
// says what to fix.
func (c *Config) validate() error {
	var probs []string
	probs = append(probs, c.problems...)
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		probs = append(probs, fmt.Sprintf("--addr/KANGFU_ADDR %q must be host:port, e.g. 127.0.0.1:8080 or :8080", c.Addr))
	}
	if c.DataDir == "" {
		probs = append(probs, "--data-dir/KANGFU_DATA_DIR must not be empty")
	}
	if c.BlobDir == "" {
		c.BlobDir = filepath.Join(c.DataDir, "blobs")
	}
	if c.Blobs != "" {
		var err error
		if c.S3.Bucket, c.S3.Prefix, err = blob.ParseS3URL(c.Blobs); err != nil {
			probs = append(probs, fmt.Sprintf("--blobs/KANGFU_BLOBS %q must be s3://bucket/prefix (or unset for the local folder)", c.Blobs))
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		probs = append(probs, "--tls-cert/KANGFU_TLS_CERT and --tls-key/KANGFU_TLS_KEY go together: set both or neither")
	}
	probs = append(probs, c.validateACME()...)
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			probs = append(probs, fmt.Sprintf("--metrics-addr/KANGFU_METRICS_ADDR %q must be host:port, e.g. 127.0.0.1:9100", c.MetricsAddr))
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		probs = append(probs, "KANGFU_METRICS_TOKEN must be at least 16 characters")
	}
	if c.AuditCheckpointFile == "" {
		c.AuditCheckpointFile = filepath.Join(c.DataDir, "audit-checkpoints.log")
	}
	if c.AuditCheckpointEvery < time.Second {
		probs = append(probs, "--audit-checkpoint-every/KANGFU_AUDIT_CHECKPOINT_EVERY must be at least 1s")
	}
	if c.Drain < 0 || c.Drain > 10*time.Minute {
		probs = append(probs, "--drain/KANGFU_DRAIN must be between 0s and 10m")
	}
	if c.ShutdownTimeout < time.Second {
		probs = append(probs, "--shutdown-timeout/KANGFU_SHUTDOWN_TIMEOUT must be at least 1s")
	}
	if c.MaxUpload < 1<<20 {
		probs = append(probs, "--max-upload/KANGFU_MAX_UPLOAD_MB must be at least 1 MiB")
	}
	if c.DB == "" {
		c.DB = filepath.Join(c.DataDir, "kangfu.db")
	} else if strings.Contains(c.DB, "://") && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		probs = append(probs, fmt.Sprintf("--db/KANGFU_DB %q: only a SQLite file path or a postgres:// URL is supported", redact(c.DB)))
	}
	if c.DBReplica != "" {
		if !strings.HasPrefix(c.DBReplica, "postgres://") && !strings.HasPrefix(c.DBReplica, "postgresql://") {
			probs = append(probs, fmt.Sprintf("--db-replica/KANGFU_DB_REPLICA %q must be a postgres:// URL of a streaming standby", redact(c.DBReplica)))
		} else if !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
			probs = append(probs, "--db-replica/KANGFU_DB_REPLICA needs a PostgreSQL primary: set --db/KANGFU_DB to a postgres:// URL")
		}
	}
	if c.ReplicaMaxLag < time.Second {
		probs = append(probs, "--replica-max-lag/KANGFU_REPLICA_MAX_LAG must be at least 1s")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		probs = append(probs, fmt.Sprintf("--log-format/KANGFU_LOG_FORMAT %q must be text or json", c.LogFormat))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		probs = append(probs, fmt.Sprintf("--log-level/KANGFU_LOG_LEVEL %q must be debug, info, warn or error", c.LogLevel))
	}
	if c.SessionIdle < time.Minute || c.SessionMax < c.SessionIdle {
		probs = append(probs, "session timeouts: --session-idle must be at least 1m and --session-max at least the idle timeout")
	}
	if c.JobInterval < time.Second {
		probs = append(probs, "--job-interval/KANGFU_JOB_INTERVAL must be at least 1s")
	}
	if _, err := notify.NewSMS(c.SMS, nil); err != nil {
		probs = append(probs, "--sms/KANGFU_SMS: "+err.Error())
	}
	if c.LockAfter < 1 || c.LockFor < time.Second {
		probs = append(probs, "--lock-after must be at least 1 and --lock-for at least 1s")
	}
	if c.MapTiles != "" {
		if _, err := server.TileOrigin(c.MapTiles); err != nil {
			probs = append(probs, "--map-tiles/KANGFU_MAP_TILES: "+err.Error())
		}
	} else if c.MapAttrib != "" {
		probs = append(probs, "--map-attribution/KANGFU_MAP_ATTRIBUTION is set but --map-tiles/KANGFU_MAP_TILES is not")
	}
	if c.ExportDir != "" && !filepath.IsAbs(c.ExportDir) {
		probs = append(probs, "--export-dir/KANGFU_EXPORT_DIR must be an absolute path")
	}
	if c.SecretKey != "" && c.SecretKeyFile != "" {
		probs = append(probs, "set KANGFU_SECRET_KEY or KANGFU_SECRET_KEY_FILE, not both")
	}
	if len(probs) > 0 {
		return usageError{"configuration:\n  - " + strings.Join(probs, "\n  - ")}
	}
	return nil
}

// redact hides a password in a database URL.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			creds := dsn[i+3 : at]
			if u, _, ok := strings.Cut(creds, ":"); ok {
				return dsn[:i+3] + u + ":***" + dsn[at:]
			}
		}
	}
	return dsn
}

// keyFileName is where a generated key lives inside the data dir.
const keyFileName = "secret.key"

// loadSecret returns the secret key: from KANGFU_SECRET_KEY, from the key
// file, or from <data-dir>/secret.key. With create (serve --demo, demo) a
// missing key file in the data dir is generated; save, when not nil, writes
// it and must be called only once the database is known to be new (open
// refuses to make a key for a database that already holds data).
func (c *Config) loadSecret(create bool) (key []byte, save func() error, err error) {
	if c.SecretKey != "" {
		k, err := store.ParseSecretKey(c.SecretKey)
		if err != nil {
			return nil, nil, fmt.Errorf("KANGFU_SECRET_KEY: %w", err)
		}
		return k, nil, nil
	}
	path := c.SecretKeyFile
	if path == "" {
		path = filepath.Join(c.DataDir, keyFileName)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && c.SecretKeyFile == "" && create {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("create data dir %s: %w", c.DataDir, err)
		}
		key := make([]byte, 32)
		rand.Read(key)
		return key, func() error {
			if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
				return fmt.Errorf("write new secret key: %w", err)
			}
			return nil
		}, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, usageError{fmt.Sprintf("no secret key: %s does not exist. Create one with `kangfu keygen > %s` (keep it safe and backed up: "+
			"without it the encrypted fields and the audit chain cannot be read), or set KANGFU_SECRET_KEY or KANGFU_SECRET_KEY_FILE", path, path)}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read secret key: %w", err)
	}
	k, err := store.ParseSecretKey(string(b))
	if err != nil {
		return nil, nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return k, nil, nil
}

// policy is the sign-in policy from the settings: API tokens follow the
// same idle and absolute timeouts as console sessions (issue 15 §9).
func (c *Config) policy() auth.Policy {
	p := auth.DefaultPolicy()
	p.WebIdle, p.WebAbsolute = c.SessionIdle, c.SessionMax
	p.APIIdle, p.APITokenTTL = c.SessionIdle, c.SessionMax
	p.LockAfter, p.LockFor = c.LockAfter, c.LockFor
	return p
}

func (c *Config) logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(server.RequestIDHandler{Handler: h})
}

func cmdKeygen(stdout io.Writer) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	_, err := fmt.Fprintln(stdout, hex.EncodeToString(key))
	return err
}
