package main

// rollups.go: `kangfu rollups check|rebuild` (issue 12, Performance): the
// report rollups recounted from the records and compared with what is
// stored, or rewritten. Buckets: -year 2026 (the year and its months),
// -bucket 2026-03 (one), or every bucket stored (check) / this year's
// (rebuild) when neither is given.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

func cmdRollups(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "check" && args[0] != "rebuild") {
		return usageError{"kangfu rollups check|rebuild [-year 2026 | -bucket 2026-03,2026-04]"}
	}
	var year int
	var buckets string
	cfg, _, err := parse("rollups "+args[0], args[1:], getenv, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&year, "year", 0, "a calendar year: the year's bucket and its twelve months")
		fs.StringVar(&buckets, "bucket", "", "buckets, comma-separated: 2026 or 2026-03")
	})
	if err != nil {
		return err
	}
	e, err := open(ctx, cfg, stderr, false, false)
	if err != nil {
		return err
	}
	defer e.Close()
	var list []string
	switch {
	case buckets != "":
		for _, b := range strings.Split(buckets, ",") {
			b = strings.TrimSpace(b)
			if _, err := store.BucketPeriod(b); err != nil {
				return usageError{fmt.Sprintf("bucket %q: a year (2026) or a month (2026-03)", b)}
			}
			list = append(list, b)
		}
	case year != 0:
		list = store.YearBuckets(year)
	case args[0] == "check":
		if list, err = e.db.RollupBuckets(ctx); err != nil {
			return err
		}
	default:
		list = store.YearBuckets(casework.DateOf(e.db.Now(), casework.LoadLocation("Asia/Shanghai")).Year)
	}
	if args[0] == "rebuild" {
		if err := e.db.RebuildRollups(ctx, list); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rollups rebuilt: %s\n", strings.Join(list, " "))
		return nil
	}
	diffs, err := e.db.CheckRollups(ctx, list)
	if err != nil {
		return err
	}
	for _, d := range diffs {
		fmt.Fprintf(stdout, "%s org %s %s%s: stored %d/%d, recount %d/%d\n", d.Bucket, d.OrgID, d.Figure, classSuffix(d.Class),
			d.Stored[0], d.Stored[1], d.Recount[0], d.Recount[1])
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%d rollup rows differ from a recount; run `kangfu rollups rebuild` for those buckets", len(diffs))
	}
	fmt.Fprintf(stdout, "rollups agree with a recount: %d buckets (%s)\n", len(list), strings.Join(list, " "))
	return nil
}

func classSuffix(c string) string {
	if c == "" {
		return ""
	}
	return "[" + c + "]"
}
