package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/demo"
	"kangfu/internal/server"
	"kangfu/internal/store"
)

// env is an opened configuration: the database and a logger.
type env struct {
	cfg *Config
	db  *store.DB
	log *slog.Logger
}

func (e *env) Close() { e.db.Close() }

// parse parses the flags of a subcommand.
func parse(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (*Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("kangfu "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := bindConfig(fs, getenv)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, usageError{err.Error()}
	}
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	return cfg, fs, nil
}

// open opens and (with migrate) migrates the configured database. A secret
// key other than the one the database is keyed with (the old key after
// `kangfu rotate-master`) is refused, and so is a database whose master key
// rotation was interrupted.
func open(ctx context.Context, cfg *Config, stderr io.Writer, createKey, migrate bool) (*env, error) {
	secret, saveKey, err := cfg.loadSecret(createKey)
	if err != nil {
		return nil, err
	}
	e, err := openKeyed(ctx, cfg, stderr, secret, saveKey, migrate)
	if err != nil {
		return nil, err
	}
	if err := checkKey(ctx, e, migrate); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// checkKey is store.CheckKey, recording the key of a database that has none
// recorded yet when it was migrated (a database never migrated has no
// settings to compare with).
func checkKey(ctx context.Context, e *env, migrated bool) error {
	if !migrated {
		if fresh, err := e.db.Fresh(ctx); err == nil && fresh {
			return nil
		}
	}
	return e.db.CheckKey(ctx, migrated)
}

// openKeyed opens the database with the given secret key, without checking
// that the database is keyed with it (rotate-master opens with the old key
// while a rotation is half done).
func openKeyed(ctx context.Context, cfg *Config, stderr io.Writer, secret []byte, saveKey func() error, migrate bool) (*env, error) {
	log := cfg.logger(stderr)
	keys, err := store.DeriveKeys(secret)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DB, store.Options{Keys: keys, Replica: cfg.DBReplica, ReplicaMaxLag: cfg.ReplicaMaxLag, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("%w (database %s)", err, redact(cfg.DB))
	}
	if saveKey != nil {
		// A new key only for a new database (issue 15 §10): a database that
		// holds data without its key is refused as serve refuses it, not
		// given a key that cannot read it.
		fresh, err := db.Fresh(ctx)
		if err == nil && !fresh {
			err = usageError{fmt.Sprintf("the database %s already holds data but its secret key is missing from %s: put the key back "+
				"(or set KANGFU_SECRET_KEY / KANGFU_SECRET_KEY_FILE). A new key would not read its encrypted fields or verify its audit log, so none is made",
				redact(cfg.DB), filepath.Join(cfg.DataDir, keyFileName))}
		}
		if err == nil {
			err = saveKey()
		}
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	if migrate {
		applied, err := db.Migrate(ctx)
		if err != nil {
			db.Close()
			return nil, err
		}
		for _, a := range applied {
			log.Info("migration applied", "name", a)
		}
		if err := migrateJobs(ctx, db, log); err != nil {
			db.Close()
			return nil, err
		}
	}
	return &env{cfg: cfg, db: db, log: log}, nil
}

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var withDemo bool
	cfg, _, err := parse("serve", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&withDemo, "demo", getenv("KANGFU_DEMO") == "true", "create the data dir, migrate and load the demo data once (KANGFU_DEMO=true)")
	})
	if err != nil {
		return err
	}
	e, err := open(ctx, cfg, stderr, withDemo, true)
	if err != nil {
		return err
	}
	defer e.Close()
	var accounts []demo.Account
	if withDemo {
		res, err := demo.Load(ctx, e.db)
		if err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
		if res.Loaded {
			e.log.Info("demo data loaded")
		}
		accounts = res.Accounts
	}
	// 请假 comes only from an approved leave (R28): a measure left in 请假
	// by hand before that rule goes back to 执行中 (idempotent).
	if n, err := e.db.RepairLeaveStatus(ctx); err != nil {
		return fmt.Errorf("repair leave status: %w", err)
	} else if n > 0 {
		e.log.Info("measures in 请假 without an approved leave moved back to 执行中 (R28)", "count", n)
	}
	policy := cfg.policy()
	blobs, err := openBlobs(ctx, cfg, e.db)
	if err != nil {
		return err
	}
	if withDemo {
		if _, err := demo.LoadDocuments(ctx, e.db, blobs); err != nil {
			return fmt.Errorf("load demo documents: %w", err)
		}
		// The demo opens on the state the periodic jobs would leave today,
		// not one they change under the first pages read.
		if err := catchUp(ctx, e); err != nil {
			return fmt.Errorf("bring the demo up to today: %w", err)
		}
	}
	srv, err := server.New(e.db, auth.NewService(e.db, policy), e.log, server.Options{TrustProxy: cfg.TrustProxy, Blobs: blobs, MaxUpload: cfg.MaxUpload,
		MapTiles: cfg.MapTiles, MapAttribution: cfg.MapAttrib, MetricsToken: cfg.MetricsToken, MetricsElsewhere: cfg.MetricsAddr != "",
		Drain: cfg.Drain, ShutdownTimeout: cfg.ShutdownTimeout, ServerID: cfg.ServerID})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server running? choose another with --addr)", cfg.Addr, err)
	}
	scheme := "http://"
	if cfg.TLSCert != "" {
		// TLS without a proxy (issue 15 §5).
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			ln.Close()
			return usageError{fmt.Sprintf("--tls-cert/--tls-key: %v", err)}
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}})
		scheme = "https://"
	} else if m := cfg.acmeManager(); m != nil {
		// Automatic certificates (issue 15 §5; acme.go).
		if cfg.ACMEHTTPAddr != "off" {
			hln, err := net.Listen("tcp", cfg.ACMEHTTPAddr)
			if err != nil {
				ln.Close()
				return fmt.Errorf("listen for ACME HTTP-01 challenges on %s: %w (set --acme-http-addr off to use TLS-ALPN-01 on --addr)", cfg.ACMEHTTPAddr, err)
			}
			hs := &http.Server{Handler: acmeHTTPHandler(m), ReadHeaderTimeout: 10 * time.Second}
			go hs.Serve(hln)
			defer hs.Close()
		}
		ln = tls.NewListener(ln, acmeTLSConfig(m))
		scheme = "https://"
		e.log.Info("TLS certificates through ACME", "domains", cfg.acmeDomainList(), "cache", cfg.acmeCacheDir())
	}
	url := scheme + ln.Addr().String()
	if h, p, _ := net.SplitHostPort(ln.Addr().String()); h == "::" || h == "0.0.0.0" {
		url = scheme + "127.0.0.1:" + p
	}
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics on %s: %w", cfg.MetricsAddr, err)
		}
		ms := &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go ms.Serve(mln)
		defer ms.Close()
	}
	// The job client outlives the signal: cancelling its context would stop
	// it abruptly (river cancels running jobs); stopJobs stops it cleanly
	// after the HTTP server has drained.
	runner, err := startJobs(context.WithoutCancel(ctx), e)
	if err != nil {
		return err
	}
	defer stopJobs(e, runner)
	// Signed checkpoints of the audit chain, outside the database (issue 15 §1).
	cpCtx, cpStop := context.WithCancel(ctx)
	cpDone := make(chan struct{})
	go func() { defer close(cpDone); checkpointLoop(cpCtx, e, cfg.AuditCheckpointEvery) }()
	defer func() { cpStop(); <-cpDone }()
	fmt.Fprintf(stdout, "Kangfu 康复 is running at %s  (database: %s %s)\n", url, e.db.Engine(), redact(cfg.DB))
	if len(accounts) > 0 {
		fmt.Fprintf(stdout, "Demo accounts (password %q, no second factor):\n", demo.Password)
		for _, a := range accounts {
			fmt.Fprintf(stdout, "  %-11s %-24s %s\n", a.Username, a.Role, a.Org)
		}
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	// Shutdown (issue 16 §4): the HTTP server has drained; the check-in
	// writer writes what it still holds (a request whose client gave up
	// may have left one), then the deferred calls stop the jobs and close
	// the database.
	fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.db.FlushCheckins(fctx); err != nil {
		return err
	}
	e.log.Info("shut down: requests finished, check-ins written; stopping jobs")
	return nil
}

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := parse("migrate", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	e, err := open(ctx, cfg, stderr, false, false)
	if err != nil {
		return err
	}
	defer e.Close()
	applied, err := e.db.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d migration(s) applied %v\n", e.db.Engine(), len(applied), applied)
	versions, err := e.db.MigrateJobs(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "job queue: %d migration(s) applied %v\n", len(versions), versions)
	return nil
}

func cmdDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := parse("demo", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	e, err := open(ctx, cfg, stderr, true, true)
	if err != nil {
		return err
	}
	defer e.Close()
	res, err := demo.Load(ctx, e.db)
	if err != nil {
		return err
	}
	blobs, err := openBlobs(ctx, cfg, e.db)
	if err != nil {
		return err
	}
	docs, err := demo.LoadDocuments(ctx, e.db, blobs)
	if err != nil {
		return err
	}
	if docs > 0 {
		fmt.Fprintf(stdout, "demo documents generated: %d\n", docs)
	}
	if !res.Loaded {
		fmt.Fprintln(stdout, "demo data was already loaded; nothing changed")
		return nil
	}
	fmt.Fprintln(stdout, "demo data loaded")
	return nil
}

func cmdVerifyAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cpFile string
	var oldFiles []string
	cfg, _, err := parse("verify-audit", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&cpFile, "checkpoints", "", "file of signed checkpoint lines to compare the chain with (default: the checkpoint file, if present)")
		fs.Func("old-key-file", "file holding a secret key the log was keyed with before `kangfu rotate-master` (repeatable; or set KANGFU_OLD_SECRET_KEY): "+
			"the rows of its time are then checked row by row, and the rotation's link under it", func(s string) error {
			oldFiles = append(oldFiles, s)
			return nil
		})
	})
	if err != nil {
		return err
	}
	var opt store.AuditVerifyOptions
	olds := []struct{ file, env string }{{"", getenv("KANGFU_OLD_SECRET_KEY")}}
	for _, f := range oldFiles {
		olds = append(olds, struct{ file, env string }{f, ""})
	}
	for _, o := range olds {
		secret, err := secretFrom("old", o.file, o.env)
		if err != nil {
			return err
		}
		if secret == nil {
			continue
		}
		k, err := store.DeriveKeys(secret)
		if err != nil {
			return fmt.Errorf("old secret key: %w", err)
		}
		opt.OldKeys = append(opt.OldKeys, k)
	}
	cps, from, err := readCheckpoints(cfg, cpFile)
	if err != nil {
		return err
	}
	opt.Checkpoints = cps
	e, err := open(ctx, cfg, stderr, false, false)
	if err != nil {
		return err
	}
	defer e.Close()
	rep, err := e.db.VerifyAuditWith(ctx, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit chain intact: %d rows verified", rep.Rows)
	if rep.Rotations > 0 {
		fmt.Fprintf(stdout, " across %d master key rotation(s), %d link(s) checked under the old key", rep.Rotations, rep.LinksKeyed)
		if rep.Unkeyed > 0 {
			fmt.Fprintf(stdout, "; %d rows from before a rotation whose key was not given were checked against the rotation's digest only (give --old-key-file to check them row by row)", rep.Unkeyed)
		}
	}
	if len(cps) > 0 {
		fmt.Fprintf(stdout, ", %d checkpoint(s) from %s hold\n", len(cps), from)
		return nil
	}
	fmt.Fprintln(stdout, " (no checkpoints given: rows removed from the end together with a replayed head cannot be seen)")
	return nil
}

func cmdOrg(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "list") {
		return usageError{"kangfu org add|list …"}
	}
	var in casework.OrgInput
	var kind string
	cfg, _, err := parse("org "+args[0], args[1:], getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&in.ParentID, "parent", "", "parent org id (none: a root)")
		fs.StringVar(&kind, "kind", "", "province, city, county, township or community")
		fs.StringVar(&in.Name, "name", "", "name")
		fs.StringVar(&in.AreaCode, "area-code", "", "12-digit statistical area code")
	})
	if err != nil {
		return err
	}
	e, err := open(ctx, cfg, stderr, false, true)
	if err != nil {
		return err
	}
	defer e.Close()
	sys := casework.SystemActor("cli")
	if args[0] == "list" {
		orgs, err := e.db.ListOrgs(ctx, sys, store.OrgFilter{IncludeRetired: true})
		if err != nil {
			return err
		}
		for _, o := range orgs {
			fmt.Fprintf(stdout, "%s  %s%s (%s)\n", o.ID, strings.Repeat("  ", o.Depth()-1), o.Name, o.Kind)
		}
		return nil
	}
	in.Kind = casework.OrgKind(kind)
	o, err := e.db.CreateOrg(ctx, sys, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created org %s %s\n", o.ID, o.Name)
	return nil
}

// readPassword takes a new password from KANGFU_NEW_PASSWORD or the first
// line of standard input, so it never appears in the process list.
func readPassword(getenv func(string) string, stdin io.Reader) (string, error) {
	if pw := getenv("KANGFU_NEW_PASSWORD"); pw != "" {
		return pw, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usageError{"give the password in KANGFU_NEW_PASSWORD or on standard input"}
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func cmdUser(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"kangfu user add|reset-password|disable|enable|grant|revoke …"}
	}
	sub := args[0]
	var username, orgID, name, role, reason, sex string
	cfg, _, err := parse("user "+sub, args[1:], getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "username")
		fs.StringVar(&orgID, "org", "", "org id (home org for add; grant org for grant/revoke)")
		fs.StringVar(&name, "name", "", "display name")
		fs.StringVar(&role, "role", "", "role: admin, office, lead, worker, police, counsellor, auditor")
		fs.StringVar(&reason, "reason", "", "reason (disable, enable)")
		fs.StringVar(&sex, "sex", "", "M or F")
	})
	if err != nil {
		return err
	}
	if username == "" {
		return usageError{"--username is required"}
	}
	e, err := open(ctx, cfg, stderr, false, true)
	if err != nil {
		return err
	}
	defer e.Close()
	sys := casework.SystemActor("cli")
	switch sub {
	case "add":
		pw, err := readPassword(getenv, os.Stdin)
		if err != nil {
			return err
		}
		in := casework.UserInput{Username: username, DisplayName: name, OrgID: orgID, Sex: sex, Password: pw}
		if err := in.Validate(); err != nil {
			return err
		}
		hash, err := auth.HashPassword(ctx, pw)
		if err != nil {
			return err
		}
		u, err := e.db.CreateUser(ctx, sys, in, hash, false)
		if err != nil {
			return err
		}
		if role != "" {
			if _, err := e.db.GrantRole(ctx, sys, u.ID, casework.Role(role), orgID); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "created user %s (%s)\n", u.Username, u.ID)
		return nil
	}
	id, err := e.db.UserIDByName(ctx, username)
	if err != nil {
		return err
	}
	switch sub {
	case "reset-password":
		pw, err := readPassword(getenv, os.Stdin)
		if err != nil {
			return err
		}
		if err := casework.ValidatePassword(pw); err != nil {
			return err
		}
		hash, err := auth.HashPassword(ctx, pw)
		if err != nil {
			return err
		}
		err = e.db.SetPassword(ctx, sys, id, hash, true, "")
		if err == nil {
			fmt.Fprintf(stdout, "password of %s reset; it must be changed at the next sign-in\n", username)
		}
		return err
	case "disable", "enable":
		if err := e.db.SetDisabled(ctx, sys, id, sub == "disable", reason); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %sd\n", username, sub)
		return nil
	case "grant":
		if _, err := e.db.GrantRole(ctx, sys, id, casework.Role(role), orgID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "granted %s at %s to %s\n", role, orgID, username)
		return nil
	case "revoke":
		u, err := e.db.GetUser(ctx, sys, id)
		if err != nil {
			return err
		}
		for _, g := range u.Grants {
			if string(g.Role) == role && g.OrgID == orgID {
				if err := e.db.RevokeGrant(ctx, sys, g.ID); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "revoked %s at %s from %s\n", role, orgID, username)
				return nil
			}
		}
		return fmt.Errorf("%s holds no role %q at org %s", username, role, orgID)
	}
	return usageError{fmt.Sprintf("unknown user command %q", sub)}
}
