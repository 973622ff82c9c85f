package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"kangfu/internal/store"
)

// cmdRotateKey switches the field key to the next id (k1 → k2 …) and
// re-encrypts every sealed value under it while the servers keep running
// (store.RotateKey). The secret key itself (KANGFU_SECRET_KEY) does not
// change: the field keys are derived from it by id.
func cmdRotateKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var opt store.RotateOptions
	var grace time.Duration
	cfg, _, err := parse("rotate-key", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&opt.Resume, "resume", false, "finish re-encrypting under the current key without switching to a new one")
		fs.IntVar(&opt.BatchSize, "batch", 200, "rows per transaction")
		fs.DurationVar(&grace, "grace", store.KeyRefreshEvery+5*time.Second,
			"wait this long after the switch, then sweep again for values sealed by servers that had not yet seen the new key (0: no wait)")
	})
	if err != nil {
		return err
	}
	if opt.BatchSize < 1 {
		return usageError{"--batch must be at least 1"}
	}
	opt.Grace = grace
	if grace <= 0 {
		opt.Grace = -1
	}
	e, err := open(ctx, cfg, stderr, false, true)
	if err != nil {
		return err
	}
	defer e.Close()
	last := time.Now()
	total := 0
	opt.Progress = func(table string, n int) {
		total += n
		if time.Since(last) > 5*time.Second {
			fmt.Fprintf(stdout, "… %d values re-encrypted (%s)\n", total, table)
			last = time.Now()
		}
	}
	if opt.Grace > 0 {
		fmt.Fprintf(stdout, "after the first pass, waiting until %s has passed since the switch so running servers use the new key, then a last pass\n", opt.Grace)
	}
	rep, err := e.db.RotateKey(ctx, opt)
	if rep != nil && rep.To != "" {
		if rep.From == rep.To {
			fmt.Fprintf(stdout, "field key %s (resumed)\n", rep.To)
		} else {
			fmt.Fprintf(stdout, "field key %s → %s\n", rep.From, rep.To)
		}
		for _, c := range rep.Columns {
			fmt.Fprintf(stdout, "  %-32s re-encrypted %6d  under %s %6d  under older keys %d\n", c.Table+"."+c.Column, c.Rotated, rep.To, c.Current, c.Old)
		}
		fmt.Fprintf(stdout, "%d values re-encrypted; blind indexes unchanged\n", rep.Rotated())
	}
	return err
}
