package store

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkRotateMaster re-keys KANGFU_BENCH_ROTATE_PERSONS persons (every
// sealed column of each filled, the blind indexes recomputed) under a new
// secret key and reports persons per second.
func BenchmarkRotateMaster(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("KANGFU_BENCH_ROTATE_PERSONS"))
	if n <= 0 {
		b.Skip("set KANGFU_BENCH_ROTATE_PERSONS (e.g. 20000) to run the master key rotation benchmark")
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
			newKeys, err := DeriveKeys([]byte("kangfu-bench-NEW-secret-key-32by"))
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			rep, err := db.RotateMaster(ctx, newKeys, MasterRotateOptions{})
			if err != nil {
				b.Fatal(err)
			}
			d := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(rep.Persons)/d.Seconds(), "persons/s")
			b.ReportMetric(float64(rep.Values)/d.Seconds(), "values/s")
			b.Logf("%d persons, %d values re-sealed in %s", rep.Persons, rep.Values, d.Round(time.Millisecond))
		})
	}
}
