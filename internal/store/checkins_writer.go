package store

// checkins_writer.go: the group-commit writer of check-ins (see checkins.go).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kangfu/internal/casework"
)

// Group commit.
const (
	checkinBatchMax  = 512                    // records per transaction
	checkinBatchWait = 500 * time.Microsecond // wait for more when the batch is small
)

// checkinIdleStop is how long the writer goroutine waits for work before
// it stops (the next check-in starts it again); a variable for tests.
var checkinIdleStop atomic.Int64

func init() { checkinIdleStop.Store(int64(5 * time.Second)) }

type pendingCheckin struct {
	c      *Checkin
	locEnc string
	done   chan checkinResult
}

type checkinResult struct {
	c       *Checkin
	created bool
	err     error
}

type checkinWriter struct {
	db      *DB
	in      chan *pendingCheckin
	mu      sync.Mutex
	running bool
	batches atomic.Int64
	records atomic.Int64
}

// CheckinWriterStats returns how many transactions the group-commit
// writer has committed and how many records they held (benchmarks).
func (db *DB) CheckinWriterStats() (batches, records int64) {
	w := db.app().writer
	return w.batches.Load(), w.records.Load()
}

func (w *checkinWriter) submit(ctx context.Context, p *pendingCheckin) error {
	// The send happens under mu, so the loop cannot decide it is idle and
	// stop between a check here and the record reaching the channel.
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.running {
		w.running = true
		go w.loop()
	}
	select {
	case w.in <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *checkinWriter) loop() {
	stopAfter := time.Duration(checkinIdleStop.Load())
	idle := time.NewTimer(stopAfter)
	defer idle.Stop()
	for {
		var first *pendingCheckin
		select {
		case first = <-w.in:
		case <-idle.C:
			w.mu.Lock()
			if len(w.in) == 0 {
				w.running = false
				w.mu.Unlock()
				return
			}
			w.mu.Unlock()
			idle.Reset(stopAfter)
			continue
		}
		batch := []*pendingCheckin{first}
		deadline := time.NewTimer(checkinBatchWait)
	collect:
		for len(batch) < checkinBatchMax {
			select {
			case p := <-w.in:
				batch = append(batch, p)
			default:
				if len(batch) >= 8 {
					break collect // a busy queue batches itself while the last commit syncs
				}
				select {
				case p := <-w.in:
					batch = append(batch, p)
				case <-deadline.C:
					break collect
				}
			}
		}
		deadline.Stop()
		w.write(batch)
		idle.Reset(stopAfter)
	}
}

// write stores a batch in one transaction; when that fails as a whole, each
// record is retried in its own, so one bad record fails alone.
func (w *checkinWriter) write(batch []*pendingCheckin) {
	ctx := context.Background()
	w.batches.Add(1)
	w.records.Add(int64(len(batch)))
	var results []checkinResult
	err := w.db.Write(ctx, func(tx *Tx) error {
		var err error
		results, err = tx.storeBatch(ctx, batch)
		return err
	})
	if err != nil {
		for _, p := range batch {
			var r checkinResult
			err := w.db.Write(ctx, func(tx *Tx) error {
				r = tx.storeCheckin(ctx, p, map[string]*Checkin{})
				if r.err != nil && !isDomain(r.err) {
					return r.err
				}
				return nil
			})
			if err != nil {
				r = checkinResult{err: err}
			}
			p.done <- r
		}
		return
	}
	for i, p := range batch {
		p.done <- results[i]
	}
}

// storeBatch stores a batch with a few set statements (the parser cost of
// one statement per record dominated the writer): the devices still
// active, then one multi-row INSERT … ON CONFLICT DO NOTHING RETURNING id
// of the new records, then — only when some id was already stored (a
// replay) — one SELECT of those. Duplicates inside the batch are answered
// like replays of the first. A stored id that cannot be read back (a
// concurrent writer on PostgreSQL) fails the batch, which write then
// retries record by record.
func (tx *Tx) storeBatch(ctx context.Context, batch []*pendingCheckin) ([]checkinResult, error) {
	devs := make([]any, 0, 4)
	seenDev := map[string]bool{}
	for _, p := range batch {
		if !seenDev[p.c.DeviceID] {
			seenDev[p.c.DeviceID] = true
			devs = append(devs, p.c.DeviceID)
		}
	}
	active := map[string]bool{}
	rows, err := tx.Query(ctx, `SELECT id FROM devices WHERE retired_at IS NULL AND id IN (?`+strings.Repeat(", ?", len(devs)-1)+`)`, devs...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		active[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	results := make([]checkinResult, len(batch))
	first := make(map[string]int, len(batch)) // id → index of its first record in the batch
	var sqlb strings.Builder
	args := make([]any, 0, 14*len(batch))
	for i, p := range batch {
		c := p.c
		if _, dup := first[c.ID]; dup {
			continue
		}
		first[c.ID] = i
		if !active[c.DeviceID] {
			results[i] = checkinResult{err: casework.ErrDeviceRetired()}
			continue
		}
		if len(args) == 0 {
			sqlb.WriteString(`INSERT INTO checkins (id, person_id, device_id, org_id, taken_at, received_at, local_date, loc_enc, accuracy_m,
			photo_sha256, signature, body_sha256, verdict, policy_version_id) VALUES `)
		} else {
			sqlb.WriteString(", ")
		}
		sqlb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, c.ID, c.PersonID, c.DeviceID, c.OrgID, c.TakenAt, c.ReceivedAt, c.LocalDate, p.locEnc, c.AccuracyM, c.PhotoSHA256,
			c.Signature, c.BodySHA256, string(c.Verdict), c.PolicyRef)
	}
	inserted := make(map[string]bool, len(batch))
	if len(args) > 0 {
		sqlb.WriteString(` ON CONFLICT (id) DO NOTHING RETURNING id`)
		rows, err := tx.Query(ctx, sqlb.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("insert check-ins: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			inserted[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("insert check-ins: %w", err)
		}
	}
	// Ids sent to the INSERT but not added were stored before: replays.
	var again []any
	for id, i := range first {
		if results[i].err == nil && !inserted[id] {
			again = append(again, id)
		}
	}
	stored := map[string]*Checkin{}
	if len(again) > 0 {
		rows, err := tx.Query(ctx, `SELECT `+checkinColumns+` FROM checkins WHERE id IN (?`+strings.Repeat(", ?", len(again)-1)+`)`, again...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			c, err := scanCheckin(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			stored[c.ID] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for i, p := range batch {
		c := p.c
		j := first[c.ID]
		var base *Checkin // what is stored under the id
		created := false
		switch {
		case j != i && results[j].err != nil:
			results[i] = results[j]
			continue
		case inserted[c.ID]:
			base, created = batch[j].c, j == i
		default:
			if base = stored[c.ID]; base == nil {
				return nil, fmt.Errorf("insert check-ins: %s neither added nor found (a concurrent writer)", c.ID)
			}
		}
		if base.BodySHA256 != c.BodySHA256 || base.PersonID != c.PersonID {
			results[i] = checkinResult{err: errCheckinConflict}
		} else {
			results[i] = checkinResult{c: base, created: created}
		}
	}
	return results, nil
}

func isDomain(err error) bool {
	var e *casework.Error
	return errors.As(err, &e)
}

var errCheckinConflict = casework.Errorf(casework.ECONFLICT, "该签到编号已用于另一条不同的签到记录", "this check-in id is already used by a different check-in")

// storeCheckin inserts one record unless its id is stored (or earlier in
// the batch): the same body answers the stored record, another body
// ECONFLICT. The device must still be active at commit.
func (tx *Tx) storeCheckin(ctx context.Context, p *pendingCheckin, seen map[string]*Checkin) checkinResult {
	c := p.c
	if prev, ok := seen[c.ID]; ok {
		if prev.BodySHA256 != c.BodySHA256 {
			return checkinResult{err: errCheckinConflict}
		}
		return checkinResult{c: prev}
	}
	res, err := tx.Exec(ctx, `INSERT INTO checkins (id, person_id, device_id, org_id, taken_at, received_at, local_date, loc_enc, accuracy_m,
			photo_sha256, signature, body_sha256, verdict, policy_version_id)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM devices WHERE id = ? AND retired_at IS NULL)
		ON CONFLICT (id) DO NOTHING`,
		c.ID, c.PersonID, c.DeviceID, c.OrgID, c.TakenAt, c.ReceivedAt, c.LocalDate, p.locEnc, c.AccuracyM, c.PhotoSHA256, c.Signature,
		c.BodySHA256, string(c.Verdict), c.PolicyRef, c.DeviceID)
	if err != nil {
		return checkinResult{err: fmt.Errorf("insert check-in: %w", err)}
	}
	if n, err := res.RowsAffected(); err != nil {
		return checkinResult{err: err}
	} else if n == 1 {
		seen[c.ID] = c
		return checkinResult{c: c, created: true}
	}
	stored, err := scanCheckin(tx.QueryRow(ctx, `SELECT `+checkinColumns+` FROM checkins WHERE id = ?`, c.ID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return checkinResult{err: casework.ErrDeviceRetired()}
	case err != nil:
		return checkinResult{err: err}
	case stored.BodySHA256 != c.BodySHA256 || stored.PersonID != c.PersonID:
		return checkinResult{err: errCheckinConflict}
	}
	seen[c.ID] = stored
	return checkinResult{c: stored}
}

// CountCheckins counts stored check-ins with the ids (tests and the load
// generator's crash check).
func (db *DB) CountCheckins(ctx context.Context, ids []string) (map[string]int, error) {
	out := map[string]int{}
	err := db.Read(ctx, func(tx *Tx) error {
		for start := 0; start < len(ids); start += 500 {
			part := ids[start:min(start+500, len(ids))]
			args := make([]any, len(part))
			for i, id := range part {
				args[i] = id
			}
			rows, err := tx.Query(ctx, `SELECT id, COUNT(*) FROM checkins WHERE id IN (?`+strings.Repeat(", ?", len(part)-1)+`) GROUP BY id`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				var n int
				if err := rows.Scan(&id, &n); err != nil {
					rows.Close()
					return err
				}
				out[id] = n
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// personSpans returns the person's status history as spans in date order:
// pending from the decision's receipt, executing from the report date,
