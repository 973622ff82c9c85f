package store

// ratelimit.go: rate limits shared by every server (issue 16 §2). A limit
// kept in one process's memory lets a client that a balancer spreads over
// N servers try N times as often; here each bucket is a row of
// rate_limits (migration 0037), taken from in one INSERT … ON CONFLICT DO
// UPDATE statement, which both engines run atomically (PostgreSQL locks
// the row and re-reads its latest version; SQLite has one writer), so two
// servers drawing on one bucket at the same instant draw two tokens.
//
// The bucket behaves as golang.org/x/time/rate's Limiter did in memory:
// it holds at most burst tokens, starts full, gets one back every `every`,
// and a refused attempt takes nothing.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// takeTokenSQL takes one token from a bucket. An absent row is a full
// bucket (the insert leaves burst-1). The elapsed time never counts
// backwards, so a server whose clock is behind another's refills nothing
// rather than emptying the bucket. No row comes back when the bucket is
// empty (the WHERE of DO UPDATE refused the update).
const takeTokenSQL = `INSERT INTO rate_limits (bucket, tokens, at_ms, every_ms, burst, full_at) VALUES (?, ?, ?, ?, ?, ?)
	ON CONFLICT (bucket) DO UPDATE SET
		tokens = ` + rateHeld + ` - 1,
		at_ms = ` + rateNow + `,
		every_ms = excluded.every_ms,
		burst = excluded.burst,
		full_at = ` + rateNow + ` + CAST((excluded.burst - (` + rateHeld + ` - 1)) * excluded.every_ms AS BIGINT)
	WHERE ` + rateHeld + ` >= 1
	RETURNING tokens`

// rateNow is the later of the stored and the caller's time (Unix ms).
const rateNow = `(CASE WHEN excluded.at_ms > rate_limits.at_ms THEN excluded.at_ms ELSE rate_limits.at_ms END)`

// rateHeld is what the bucket holds now: the stored tokens plus those
// come back since, at most burst.
const rateHeld = `(CASE WHEN ` + rateRefilled + ` > excluded.burst THEN CAST(excluded.burst AS DOUBLE PRECISION) ELSE ` + rateRefilled + ` END)`

const rateRefilled = `(rate_limits.tokens + CAST(` + rateNow + ` - rate_limits.at_ms AS DOUBLE PRECISION) / excluded.every_ms)`

// ratePruneEvery is how often a DB handle deletes the buckets that have
// filled up again (those say nothing an absent row would not).
const ratePruneEvery = time.Minute

// AllowRate takes one attempt from the bucket named bucket (a purpose and
// a client, e.g. "login:192.0.2.1"): burst attempts at once, then one more
// every `every`. It reports whether the attempt is allowed; a refused
// attempt takes nothing. Every server sharing the database shares the
// bucket. The client part is stored only as a keyed hash (the survey
// promises residents their address is not kept; no address need be).
func (db *DB) AllowRate(ctx context.Context, bucket string, burst int, every time.Duration) (bool, error) {
	if burst <= 0 {
		return false, nil
	}
	if every <= 0 {
		return true, nil // no limit
	}
	purpose, client, _ := strings.Cut(bucket, ":")
	bucket = purpose + ":" + db.vault.Index("rate-limit", client)
	now := db.Now()
	nowMs := now.UnixMilli()
	everyMs := max(every.Milliseconds(), 1)
	var left float64
	err := db.write.QueryRowContext(ctx, db.rebind(takeTokenSQL), bucket, float64(burst-1), nowMs, everyMs, burst, nowMs+everyMs).Scan(&left)
	allowed := true
	switch {
	case errors.Is(err, sql.ErrNoRows):
		allowed = false
	case err != nil:
		return false, fmt.Errorf("rate limit %s: %w", bucket, normalize(err))
	}
	if last := db.ratePruned.Load(); now.Sub(time.UnixMilli(last)) >= ratePruneEvery && db.ratePruned.CompareAndSwap(last, nowMs) {
		if _, err := db.write.ExecContext(ctx, db.rebind(`DELETE FROM rate_limits WHERE full_at < ?`), nowMs); err != nil {
			return allowed, fmt.Errorf("prune rate limits: %w", normalize(err))
		}
	}
	return allowed, nil
}

// RateBuckets returns the stored buckets' names (tests: pruning, no
// address kept).
func (db *DB) RateBuckets(ctx context.Context) ([]string, error) {
	var out []string
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT bucket FROM rate_limits ORDER BY bucket`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b string
			if err := rows.Scan(&b); err != nil {
				return err
			}
			out = append(out, b)
		}
		return rows.Err()
	})
	return out, err
}
