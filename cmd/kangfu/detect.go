package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"kangfu/internal/casework"
)

// kangfu detect-start --from YYYY-MM-DD: going live with a caseload whose
// earlier days were kept on paper. The nightly detection then judges the
// persons now under a measure from that day on, not from their report
// dates (store.StartDetectionFrom). Audited.
func cmdDetectStart(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var from string
	cfg, _, err := parse("detect-start", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "the first local day the nightly detection judges (YYYY-MM-DD)")
	})
	if err != nil {
		return err
	}
	day, err := casework.ParseDateField("from", from)
	if err != nil || day.IsZero() {
		return usageError{"--from: give the first day to judge as YYYY-MM-DD"}
	}
	e, err := open(ctx, cfg, stderr, false, false)
	if err != nil {
		return err
	}
	defer e.Close()
	n, err := e.db.StartDetectionFrom(ctx, casework.SystemActor("detect-start"), day)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "the nightly detection judges %d person(s) from %s on\n", n, day)
	return nil
}
