package store

// The person-timeline benchmark of issue 11 (Performance): the first page
// (50 entries, newest first, with the total) of a person's timeline holding
// five years of records — daily check-ins, monthly tests, weekly contacts —
// among N persons whose own timelines fill the table around it, on SQLite
// and (KANGFU_TEST_POSTGRES) PostgreSQL. Sizes are env vars:
//
//	KANGFU_BENCH_TIMELINE_PERSONS=100000 (persons, default 10000)
//	KANGFU_BENCH_TIMELINE_ROWS=40        (timeline rows of each other person, default 40)
//	KANGFU_BENCH_TIMELINE_HISTORIES=20   (persons with the full five years, default 20)
//	go test ./internal/store -run '^$' -bench TimelineFirstPage -benchtime 200x -timeout 2h
//
// It reports ns/op and the median of the reads (median-ms); the target is
// under 20 ms.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
)

func BenchmarkTimelineFirstPage(b *testing.B) {
	n := envInt("KANGFU_BENCH_TIMELINE_PERSONS", 10000)
	rowsEach := envInt("KANGFU_BENCH_TIMELINE_ROWS", 40)
	histories := envInt("KANGFU_BENCH_TIMELINE_HISTORIES", 20)
	ctx := context.Background()
	for _, e := range benchEngines(b) {
		// Seeded once per engine: the sub-benchmark's body runs more than once.
		db, err := Open(ctx, e.dsn, Options{Keys: benchKeys(b)})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		f := seedPersons(b, db, n)
		ids, total := seedTimelines(b, db, rowsEach, histories)
		if db.engine == Postgres {
			if _, err := db.write.ExecContext(ctx, "ANALYZE"); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("%s seed: %d persons, %d timeline rows in %s", e.name, n, total, time.Since(t0).Round(time.Second))
		b.Run(fmt.Sprintf("%s/%dpersons", e.name, n), func(b *testing.B) {
			rnd := rand.New(rand.NewPCG(1, 2))
			var times []time.Duration
			b.ResetTimer()
			for range b.N {
				id := ids[rnd.IntN(len(ids))]
				t := time.Now()
				es, count, err := db.ListTimeline(ctx, f.office, id, 0, 50)
				times = append(times, time.Since(t))
				if err != nil || len(es) != 50 || count < 365*5 {
					b.Fatalf("timeline of %s: %d entries of %d, %v", id, len(es), count, err)
				}
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// seedTimelines gives every person rowsEach timeline entries over the last
// five years and the first `histories` persons five full years: a check-in
// a day, a test a month, a contact a week. It returns those persons' ids
// and the number of rows written.
func seedTimelines(b *testing.B, db *DB, rowsEach, histories int) ([]string, int) {
	ctx := context.Background()
	type p struct{ id, org string }
	var persons []p
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, org_id FROM persons ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var x p
			if err := rows.Scan(&x.id, &x.org); err != nil {
				return err
			}
			persons = append(persons, x)
		}
		return rows.Err()
	})
	if err != nil {
		b.Fatal(err)
	}
	end := time.Now().UTC().Truncate(time.Second)
	start := end.AddDate(-5, 0, 0)
	const cols = 6
	ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	var vals []any
	total := 0
	flush := func(tx *Tx) error {
		for len(vals) > 0 {
			k := min(1000, len(vals)/cols)
			if _, err := tx.Exec(ctx, `INSERT INTO timeline (id, person_id, org_id, at, kind, data) VALUES `+
				strings.TrimSuffix(strings.Repeat(ph+", ", k), ", "), vals[:k*cols]...); err != nil {
				return err
			}
			vals = vals[k*cols:]
		}
		return nil
	}
	add := func(x p, at time.Time, kind, data string) {
		vals = append(vals, NewID(), x.id, x.org, at, kind, data)
		total++
	}
	var ids []string
	for lo := 0; lo < len(persons); lo += 2000 {
		err := db.Write(ctx, func(tx *Tx) error {
			for i := lo; i < min(lo+2000, len(persons)); i++ {
				x := persons[i]
				if i < histories {
					ids = append(ids, x.id)
					for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
						add(x, d.Add(time.Hour), "checkin.recorded", `{"verdict":"ok"}`)
						if d.Day() == 10 {
							add(x, d.Add(3*time.Hour), "drugtest.recorded", `{"tested_on":"`+d.Format("2006-01-02")+`"}`)
						}
						if d.Weekday() == time.Wednesday {
							add(x, d.Add(5*time.Hour), "visit.recorded", `{"kind":"phone","state":"done"}`)
						}
					}
				} else {
					span := end.Sub(start)
					for j := range rowsEach {
						add(x, start.Add(span/time.Duration(rowsEach)*time.Duration(j)), "checkin.recorded", `{"verdict":"ok"}`)
					}
				}
				if len(vals) > 50000*cols {
					if err := flush(tx); err != nil {
						return err
					}
				}
			}
			return flush(tx)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	_ = casework.Date{}
	return ids, total
}
