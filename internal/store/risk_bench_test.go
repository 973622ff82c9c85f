package store

// The risk benchmark (issue 13, Performance): the nightly share of the
// risk tiers — who is due or overdue a reassessment, which events since
// the last assessment ask for one now, and who may step down — over N
// persons, most with a confirmed tier, 5% with a job recorded since.
// run-ms is wall time; cpu-ms the process's CPU time during the run (on
// a shared machine the wall time includes waiting for a core).
// N is KANGFU_BENCH_RISK (default 2000):
//
//	KANGFU_BENCH_RISK=100000 go test ./internal/store -run '^$' -bench RiskNightly -benchtime 1x -timeout 1h

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kangfu/internal/casework"
)

func BenchmarkRiskNightly(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("KANGFU_BENCH_RISK"))
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
			seedRisk(b, db)
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				var ru0, ru1 syscall.Rusage
				syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
				start := time.Now()
				due, trig, down, err := db.RiskNightly(ctx)
				if err != nil {
					b.Fatal(err)
				}
				el := time.Since(start)
				syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
				cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
				b.ReportMetric(float64(cpu.Milliseconds()), "cpu-ms")
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(el.Milliseconds()), "run-ms")
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), "alloc-MB")
				b.ReportMetric(float64(due), "due")
				b.ReportMetric(float64(trig), "triggered")
				b.ReportMetric(float64(down), "stepdown")
			}
		})
	}
}

// seedRisk gives 80% of the persons with a measure in force a confirmed
// tier decided in the last 60 days (a quarter of them 100 days ago, for
// step-downs) and 5% a job recorded after it.
func seedRisk(b *testing.B, db *DB) {
	ctx := context.Background()
	now := db.Now()
	err := db.Write(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT p.id, p.org_id FROM persons p JOIN measures m ON m.person_id = p.id AND m.in_force = ?`, true)
		if err != nil {
			return err
		}
		var vals, jobs []any
		i := 0
		for rows.Next() {
			var id, org string
			if err := rows.Scan(&id, &org); err != nil {
				rows.Close()
				return err
			}
			i++
			if i%5 == 0 {
				continue // never assessed
			}
			ago := time.Duration(i*7919%60) * 24 * time.Hour
			if i%4 == 0 {
				ago = 100 * 24 * time.Hour
			}
			at := now.Add(-ago)
			tier := casework.Tiers[i%3]
			vals = append(vals, NewID(), id, org, casework.DefaultInstrumentID, "{}", "x", i%12, string(tier), "scheduled", "confirmed", string(tier),
				"lead", at, casework.DateOf(at, nil).AddDays(1), "national", "worker", at)
			if i%20 == 1 {
				jobs = append(jobs, NewID(), id, org, "employed", casework.DateOf(now, nil), now, now)
			}
		}
		rows.Close()
		insert := func(head string, cols int, vals []any) error {
			ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
			for len(vals) > 0 {
				k := min(500, len(vals)/cols)
				if _, err := tx.Exec(ctx, head+strings.TrimSuffix(strings.Repeat(ph+", ", k), ", "), vals[:k*cols]...); err != nil {
					return err
				}
				vals = vals[k*cols:]
			}
			return nil
		}
		if err := insert(`INSERT INTO risk_assessments (id, person_id, org_id, instrument_id, instrument_body, input_enc, score, proposed_tier, reason_kind,
			state, tier, decided_by_name, decided_at, effective_from, policy_ref, assessed_by_name, assessed_at) VALUES `, 17, vals); err != nil {
			return err
		}
		return insert(`INSERT INTO employment (id, person_id, org_id, kind, from_on, created_at, updated_at) VALUES `, 7, jobs)
	})
	if err != nil {
		b.Fatal(err)
	}
}
