package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"kangfu/internal/auth"
	"kangfu/internal/blob"
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

// open opens and (with migrate) migrates the configured database.
func open(ctx context.Context, cfg *Config, stderr io.Writer, createKey, migrate bool) (*env, error) {
	log := cfg.logger(stderr)
	secret, err := cfg.loadSecret(createKey)
	if err != nil {
		return nil, err
	}
	keys, err := store.DeriveKeys(secret)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DB, store.Options{Keys: keys})
	if err != nil {
		return nil, fmt.Errorf("%w (database %s)", err, redact(cfg.DB))
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
	policy := auth.DefaultPolicy()
	policy.WebIdle, policy.WebAbsolute = cfg.SessionIdle, cfg.SessionMax
	policy.LockAfter, policy.LockFor = cfg.LockAfter, cfg.LockFor
	blobs, err := blob.Open(cfg.BlobDir)
	if err != nil {
		return fmt.Errorf("document store %s: %w", cfg.BlobDir, err)
	}
	if withDemo {
		if _, err := demo.LoadDocuments(ctx, e.db, blobs); err != nil {
			return fmt.Errorf("load demo documents: %w", err)
		}
	}
	srv, err := server.New(e.db, auth.NewService(e.db, policy), e.log, server.Options{TrustProxy: cfg.TrustProxy, Blobs: blobs, MaxUpload: cfg.MaxUpload})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server running? choose another with --addr)", cfg.Addr, err)
	}
	url := "http://" + ln.Addr().String()
	if h, p, _ := net.SplitHostPort(ln.Addr().String()); h == "::" || h == "0.0.0.0" {
		url = "http://127.0.0.1:" + p
	}
	runner, err := startJobs(ctx, e)
	if err != nil {
		return err
	}
	defer stopJobs(e, runner)
	fmt.Fprintf(stdout, "Kangfu 康复 is running at %s  (database: %s %s)\n", url, e.db.Engine(), redact(cfg.DB))
	if len(accounts) > 0 {
		fmt.Fprintf(stdout, "Demo accounts (password %q, no second factor):\n", demo.Password)
		for _, a := range accounts {
			fmt.Fprintf(stdout, "  %-11s %-24s %s\n", a.Username, a.Role, a.Org)
		}
	}
	return srv.Serve(ctx, ln)
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
	blobs, err := blob.Open(cfg.BlobDir)
	if err != nil {
		return fmt.Errorf("document store %s: %w", cfg.BlobDir, err)
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
	cfg, _, err := parse("verify-audit", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	e, err := open(ctx, cfg, stderr, false, false)
	if err != nil {
		return err
	}
	defer e.Close()
	n, err := e.db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit chain intact: %d rows verified\n", n)
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
