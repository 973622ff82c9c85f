package store

// The draw benchmark (issue 5, Performance): the daily draw job's first
// run over N persons with a measure in force — seeds for 20 streets, then
// the current interval and surprise segment of every measure — and a
// second run the same day (nothing to do). Cost should grow linearly with
// persons. N is KANGFU_BENCH_DRAWS (default 2000):
//
//	KANGFU_BENCH_DRAWS=100000 go test ./internal/store -run '^$' -bench DailyDraws -benchtime 1x -timeout 1h

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
)

func BenchmarkDailyDraws(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("KANGFU_BENCH_DRAWS"))
	if n <= 0 {
		n = 2000
	}
	ctx := context.Background()
	for _, e := range benchEngines(b) {
		b.Run(e.name, func(b *testing.B) {
			db, err := Open(ctx, e.dsn, Options{Keys: benchKeys(b)})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			seedPersons(b, db, n)
			seedMeasures(b, db)
			for b.Loop() {
				b.StopTimer()
				if err := db.Write(ctx, func(tx *Tx) error {
					if _, err := tx.Exec(ctx, `DELETE FROM test_draws`); err != nil {
						return err
					}
					_, err := tx.Exec(ctx, `DELETE FROM draw_state`)
					return err
				}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				r, err := db.DailyDraws(ctx)
				if err != nil {
					b.Fatal(err)
				}
				first := time.Since(start)
				start = time.Now()
				again, err := db.DailyDraws(ctx)
				if err != nil || again.Added+again.Moved+again.Removed != 0 {
					b.Fatalf("second run: %+v %v", again, err)
				}
				b.ReportMetric(float64(first.Milliseconds()), "first-ms")
				b.ReportMetric(float64(time.Since(start).Milliseconds()), "again-ms")
				b.ReportMetric(float64(r.Added), "draws")
			}
		})
	}
}

// seedMeasures gives every executing, suspended or on-leave person of
// seedPersons a measure in force reported within the last three years.
func seedMeasures(b *testing.B, db *DB) {
	ctx := context.Background()
	today := casework.DateOf(db.Now(), nil)
	err := db.Write(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, org_id, status, measure_kind FROM persons WHERE status IN ('executing', 'suspended', 'on_leave')`)
		if err != nil {
			return err
		}
		var vals []any
		i := 0
		for rows.Next() {
			var id, org, status, kind string
			if err := rows.Scan(&id, &org, &status, &kind); err != nil {
				rows.Close()
				return err
			}
			report := today.AddDays(-(i * 7919 % 1000))
			months := 36
			if kind == string(casework.MeasureRehab) && i%2 == 0 {
				months = 24
			}
			vals = append(vals, NewID(), id, kind, "x", "x", report.AddDays(-5), report.AddDays(-5), report.AddDays(10), report, report,
				months, report.AddMonths(months), org, status, report, true, db.Now(), db.Now())
			i++
		}
		rows.Close()
		const cols = 18
		ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
		for len(vals) > 0 {
			k := min(500, len(vals)/cols)
			if _, err := tx.Exec(ctx, `INSERT INTO measures (id, person_id, kind, decision_number, decision_authority, decision_date, received_date,
				report_deadline, report_date, agreement_date, term_months, term_end, place_org_id, status, status_since, in_force, created_at, updated_at)
				VALUES `+strings.TrimSuffix(strings.Repeat(ph+", ", k), ", "), vals[:k*cols]...); err != nil {
				return err
			}
			vals = vals[k*cols:]
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
