package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// kangfu purge-logs --before YYYY-MM-DD: remove security logs older than
// the start of that day (Beijing time): ended sign-in sessions and stale
// sign-in lock records. R39 keeps security logs at least six months, so a
// date less than six months ago is refused. The audit log is never purged:
// its rows are HMAC-chained from the first and verify-audit checks the
// whole chain. The purge itself is audited.
func cmdPurgeLogs(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var before string
	cfg, _, err := parse("purge-logs", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&before, "before", "", "remove security logs from before this day (YYYY-MM-DD, Beijing time); at least six months ago")
	})
	if err != nil {
		return err
	}
	day, err := casework.ParseDateField("before", before)
	if err != nil || day.IsZero() {
		return usageError{"--before: give the day as YYYY-MM-DD"}
	}
	at := day.In(casework.LoadLocation("Asia/Shanghai"))
	if limit := time.Now().AddDate(0, -store.LogRetentionMonths, 0); at.After(limit) {
		return usageError{fmt.Sprintf("--before: security logs are kept at least six months (R39); give %s or earlier",
			casework.DateOf(limit, nil).AddDays(-1))}
	}
	e, err := open(ctx, cfg, stderr, false, false)
	if err != nil {
		return err
	}
	defer e.Close()
	res, err := e.db.PurgeLogs(ctx, casework.SystemActor("purge-logs"), at)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed %d ended session(s) and %d sign-in lock record(s) from before %s; the audit log is kept whole\n",
		res.Sessions, res.LoginLocks, day)
	return nil
}
