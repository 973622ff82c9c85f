// Command kangfu runs the Kangfu platform: the server, migrations, demo
// data, staff accounts and audit verification.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the zone database inside the binary: local dates are law here (R1, R8), whatever the host has
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "kangfu:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "kangfu:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `kangfu — community drug treatment and rehabilitation platform (康复)

Usage:
  kangfu serve [--demo] [flags]   run the server (migrates first)
  kangfu migrate [flags]          apply database migrations
  kangfu demo [flags]             load the demo data set (once)
  kangfu org add --kind K --name N [--parent ID] [--area-code C]
  kangfu org list
  kangfu user add --username U --org ORG_ID [--name N] [--role R] (password from KANGFU_NEW_PASSWORD or stdin)
  kangfu user reset-password --username U (password from KANGFU_NEW_PASSWORD or stdin)
  kangfu user disable|enable --username U --reason R
  kangfu user grant|revoke --username U --role R --org ORG_ID
  kangfu verify-audit [--checkpoints F] [--old-key-file F]  check the audit log's hash chain (and against signed checkpoints)
  kangfu audit-checkpoint [--public-key]  print a signed checkpoint of the audit log (and append it to the checkpoint file)
  kangfu rollups check|rebuild    recount the report rollups and compare (check) or rewrite them (rebuild); -year 2026 or -bucket 2026-03
  kangfu verify-draws [--export F.json | --file F.json]  recompute the test draws from revealed seeds
  kangfu detect-start --from YYYY-MM-DD  going live: judge check-ins and departures from that day on
  kangfu blobs migrate [--from DIR]  copy the local document folder into the bucket of KANGFU_BLOBS=s3://…, verifying every copy
  kangfu blobs verify             check every document and photo the database refers to is stored and matches its hash
  kangfu backup --out DIR         online, consistent backup: database, documents, audit checkpoints, signed manifest (not the key)
  kangfu backup --verify DIR      check a backup's files and counts against its manifest
  kangfu restore --from DIR       restore into an empty data dir / database, then verify counts and the audit chain
  kangfu purge-logs --before YYYY-MM-DD  remove sign-in sessions and lock records older than that day (at least six months ago; never the audit log)
  kangfu rotate-key [flags]       re-encrypt sensitive fields under a new field key
  kangfu rotate-master --new-key-file F  re-key everything under a new secret key (servers stopped)
  kangfu import --file F.xlsx [--dry-run] --as USER   import persons and measures
  kangfu export --out F.xlsx --as USER                export the person list
  kangfu loadgen --url U [--photos] [--concurrency N] [--duration D]  send signed check-ins (devices made once through the database) and report rate, errors, latency
  kangfu keygen                   print a new secret key

Every setting is a flag or a KANGFU_* environment variable; run
'kangfu serve -h' for the list.`

// run is the whole program; main only wires the process to it, so the
// end-to-end test can run it on :0 with a temporary data dir.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, getenv, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, getenv, stdout, stderr)
	case "user":
		return cmdUser(ctx, rest, getenv, stdout, stderr)
	case "org":
		return cmdOrg(ctx, rest, getenv, stdout, stderr)
	case "verify-audit":
		return cmdVerifyAudit(ctx, rest, getenv, stdout, stderr)
	case "audit-checkpoint":
		return cmdAuditCheckpoint(ctx, rest, getenv, stdout, stderr)
	case "rollups":
		return cmdRollups(ctx, rest, getenv, stdout, stderr)
	case "verify-draws":
		return cmdVerifyDraws(ctx, rest, getenv, stdout, stderr)
	case "detect-start":
		return cmdDetectStart(ctx, rest, getenv, stdout, stderr)
	case "blobs":
		return cmdBlobs(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, rest, getenv, stdout, stderr)
	case "restore":
		return cmdRestore(ctx, rest, getenv, stdout, stderr)
	case "purge-logs":
		return cmdPurgeLogs(ctx, rest, getenv, stdout, stderr)
	case "loadgen":
		return cmdLoadgen(ctx, rest, getenv, stdout, stderr)
	case "keygen":
		return cmdKeygen(stdout)
	case "rotate-key":
		return cmdRotateKey(ctx, rest, getenv, stdout, stderr)
	case "rotate-master":
		return cmdRotateMaster(ctx, rest, getenv, stdout, stderr)
	case "import":
		return cmdImport(ctx, rest, getenv, stdout, stderr)
	case "export":
		return cmdExport(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}
