package store

// The dashboard benchmark of issue 12 (Performance): a district's
// dashboard for a year (every figure, its twelve monthly trend points and
// the comparison across its 20 streets) at 100,000 persons, on SQLite and
// (KANGFU_TEST_POSTGRES) PostgreSQL, with one and with three years of
// rollups. Skipped unless KANGFU_BENCH_REPORTS is set:
//
//	KANGFU_BENCH_REPORTS=1 KANGFU_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test \
//	  go test ./internal/store -run '^$' -bench ReportDashboard -benchtime 200x
//
// The persons are seeded as BenchmarkPersonSearch seeds them; the rollups
// are seeded as the rollup job leaves them (one row per org, bucket,
// figure and class, the class rows of the figures with breakdowns), with
// made-up numbers: the dashboard reads nothing else, so the check-ins,
// tests and contacts behind them are not seeded (RebuildRollups's cost is
// the job's, not the dashboard's).

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

func seedRollups(b *testing.B, db *DB, years []int) int {
	ctx := context.Background()
	var orgs []string
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		orgs, err = scanStrings(tx.Query(ctx, `SELECT id FROM orgs`))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(12, 34))
	classes := map[string][]string{
		"persons":         {"community_rehab/executing", "community_rehab/on_leave", "community_treatment/executing", "community_treatment/suspended"},
		"employment_rate": {"employed", "unemployed", "unable", "school"},
		"assistance":      {"dibao", "relief", "training"},
	}
	now := db.Now().UTC()
	n := 0
	for _, y := range years {
		for _, bucket := range YearBuckets(y) {
			var vals []any
			for _, org := range orgs {
				vals = append(vals, org, bucket, rollupMarker, "", 0, 0, now)
				for _, spec := range Figures() {
					num, den := rnd.Int64N(5000), 5000+rnd.Int64N(5000)
					vals = append(vals, org, bucket, spec.Key, "", num, den, now)
					for _, c := range classes[spec.Key] {
						vals = append(vals, org, bucket, spec.Key, c, num/4, den/4, now)
					}
				}
			}
			err := db.Write(ctx, func(tx *Tx) error {
				for len(vals) > 0 {
					k := min(500, len(vals)/7)
					if _, err := tx.Exec(ctx, `INSERT INTO report_rollups (org_id, bucket, figure, class, num, den, computed_at) VALUES `+
						placeholders(k, 7), vals[:k*7]...); err != nil {
						return err
					}
					n += k
					vals = vals[k*7:]
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	if db.engine == Postgres {
		if _, err := db.write.ExecContext(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	return n
}

func BenchmarkReportDashboard(b *testing.B) {
	if os.Getenv("KANGFU_BENCH_REPORTS") == "" {
		b.Skip("set KANGFU_BENCH_REPORTS=1")
	}
	persons := 100000
	if s := os.Getenv("KANGFU_BENCH_PERSONS"); s != "" {
		persons, _ = strconv.Atoi(s)
	}
	ctx := context.Background()
	for _, e := range benchEngines(b) {
		b.Run(e.name, func(b *testing.B) {
			db, err := Open(ctx, e.dsn, Options{Keys: benchKeys(b), Now: func() time.Time { return time.Date(2026, 12, 31, 4, 0, 0, 0, time.UTC) }})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			f := seedPersons(b, db, persons)
			var county string
			if err := db.Read(ctx, func(tx *Tx) error {
				return tx.QueryRow(ctx, `SELECT id FROM orgs WHERE kind = ?`, "county").Scan(&county)
			}); err != nil {
				b.Fatal(err)
			}
			for _, hist := range []struct {
				name  string
				years []int
			}{{"history=1y", []int{2026}}, {"history=3y", []int{2024, 2025}}} {
				rows := seedRollups(b, db, hist.years)
				b.Logf("%s: +%d rollup rows", hist.name, rows)
				if _, err := db.Dashboard(ctx, f.office, county, 2026); err != nil { // warm the caches once
					b.Fatal(err)
				}
				b.Run(hist.name, func(b *testing.B) {
					var ds []time.Duration
					for b.Loop() {
						t0 := time.Now()
						d, err := db.Dashboard(ctx, f.office, county, 2026)
						if err != nil {
							b.Fatal(err)
						}
						ds = append(ds, time.Since(t0))
						if d.Missing || len(d.Children) != 20 {
							b.Fatalf("dashboard: missing %v, %d children", d.Missing, len(d.Children))
						}
					}
					b.ReportMetric(float64(median(ds).Microseconds())/1000, "median-ms")
				})
			}
		})
	}
}
