package store

// checkins_writer.go: the group-commit writer of check-ins (see checkins.go).

import (
	"context"
	"database/sql"
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
	closed  bool          // flush began: nothing more is taken
	quit    chan struct{} // closed by flush: write what is queued, then stop
	stopped chan struct{} // closed when the running loop has returned
	batches atomic.Int64
	records atomic.Int64
	ins     *sql.Stmt    // insertCheckinSQL, prepared on the write pool by the loop
	busyNs  atomic.Int64 // time spent writing batches
	storeNs atomic.Int64 // of which: statements before the commit
}

// CheckinWriterStats returns how many transactions the group-commit
// writer has committed and how many records they held (benchmarks).
func (db *DB) CheckinWriterStats() (batches, records int64) {
	w := db.app().writer
	return w.batches.Load(), w.records.Load()
}

// CheckinWriterTimes returns the writer's time spent on batches in all,
// and the part of it before the commits (the load generator's report).
func (db *DB) CheckinWriterTimes() (busy, store time.Duration) {
	w := db.app().writer
	return time.Duration(w.busyNs.Load()), time.Duration(w.storeNs.Load())
}

func (w *checkinWriter) submit(ctx context.Context, p *pendingCheckin) error {
	// The send happens under mu, so the loop cannot decide it is idle and
	// stop between a check here and the record reaching the channel.
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errWriterClosed
	}
	if !w.running {
		w.running = true
		w.stopped = make(chan struct{})
		go w.loop(w.stopped)
	}
	select {
	case w.in <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errWriterClosed = fmt.Errorf("check-in writer stopped: the server is shutting down")

// FlushCheckins stops the check-in writer for a shutdown (issue 16 §4):
// it takes no more records, writes every one queued, and returns when
// they are durable, or when ctx ends first. Close calls it.
func (db *DB) FlushCheckins(ctx context.Context) error {
	w := db.app().writer
	w.mu.Lock()
	w.closed = true
	if !w.running {
		w.mu.Unlock()
		return nil
	}
	stopped := w.stopped
	select {
	case <-w.quit:
	default:
		close(w.quit)
	}
	w.mu.Unlock()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush check-ins: %w", ctx.Err())
	}
}

func (w *checkinWriter) loop(stopped chan struct{}) {
	stopAfter := time.Duration(checkinIdleStop.Load())
	idle := time.NewTimer(stopAfter)
	defer idle.Stop()
	stop := func() {
		w.running = false
		close(stopped)
		w.mu.Unlock()
	}
	for {
		var first *pendingCheckin
		select {
		case first = <-w.in:
		case <-w.quit:
			// No submit can add to w.in any more (closed is set under mu).
			w.mu.Lock()
			if len(w.in) == 0 {
				stop()
				return
			}
			w.mu.Unlock()
			first = <-w.in
		case <-idle.C:
			w.mu.Lock()
			if len(w.in) == 0 {
				stop()
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
	start := time.Now()
	defer func() { w.busyNs.Add(int64(time.Since(start))) }()
	if w.ins == nil {
		// Prepared outside the transaction: on SQLite the write pool is
		// the one connection the transaction would hold.
		ins, err := w.db.write.PrepareContext(ctx, w.db.rebind(insertCheckinSQL))
		if err != nil {
			for _, p := range batch {
				p.done <- checkinResult{err: fmt.Errorf("prepare check-in insert: %w", normalize(err))}
			}
			return
		}
		w.ins = ins
	}
	var results []checkinResult
	err := w.db.Write(ctx, func(tx *Tx) error {
		var err error
		results, err = tx.storeBatch(ctx, w.ins, batch)
		w.storeNs.Add(int64(time.Since(start)))
		return err
	})
	if err != nil {
		for _, p := range batch {
			var r checkinResult
			err := w.db.Write(ctx, func(tx *Tx) error {
				rs, err := tx.storeBatch(ctx, w.ins, []*pendingCheckin{p})
				if err != nil {
					return err
				}
				r = rs[0]
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

// insertCheckinSQL adds one check-in unless its id is stored or its device
// is retired, in one statement prepared once per connection (parsing a
// statement per batch cost the single writer more than running it).
const insertCheckinSQL = `INSERT INTO checkins (id, person_id, device_id, org_id, taken_at, received_at, local_date, loc_enc, accuracy_m,
		photo_sha256, signature, body_sha256, verdict, policy_version_id, checks, counts,
		identity_outcome, face_reason, face_score, face_liveness, face_challenge, face_models, face_ms, mock_location, checks_count, face_embedding)
	SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM devices WHERE id = ? AND retired_at IS NULL)
	ON CONFLICT (id) DO NOTHING`

// storeBatch stores a batch: each new id by ins (insertCheckinSQL),
// then — only when some record was not added (a replay, or a device retired
// since the request was verified) — one SELECT of the stored ones. A record
// neither added nor stored had a retired device. Duplicates inside the
// batch are answered like replays of the first.
func (tx *Tx) storeBatch(ctx context.Context, insert *sql.Stmt, batch []*pendingCheckin) ([]checkinResult, error) {
	ins := tx.tx.StmtContext(ctx, insert)
	results := make([]checkinResult, len(batch))
	first := make(map[string]int, len(batch)) // id → index of its first record in the batch
	inserted := make(map[string]bool, len(batch))
	var again []any
	for i, p := range batch {
		c := p.c
		if _, dup := first[c.ID]; dup {
			continue
		}
		first[c.ID] = i
		res, err := ins.ExecContext(ctx, c.ID, c.PersonID, c.DeviceID, c.OrgID, c.TakenAt, c.ReceivedAt, c.LocalDate, p.locEnc, c.AccuracyM,
			c.PhotoSHA256, c.Signature, c.BodySHA256, string(c.Verdict), c.PolicyRef, casework.FormatChecks(c.Checks), c.Counts,
			string(c.Identity), c.IdentityReason, c.FaceScore, c.FaceLiveness, c.FaceChallenge, c.FaceModels, c.FaceMS, c.MockLocation, c.ChecksCount, c.faceEmbeddingEnc,
			c.DeviceID)
		if err != nil {
			return nil, fmt.Errorf("insert check-in: %w", normalize(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		if n == 1 {
			inserted[c.ID] = true
		} else {
			again = append(again, c.ID)
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
		case inserted[c.ID]:
			base, created = batch[j].c, j == i
		case stored[c.ID] != nil:
			base = stored[c.ID]
		default:
			results[i] = checkinResult{err: casework.ErrDeviceRetired()}
			continue
		}
		if base.BodySHA256 != c.BodySHA256 || base.PersonID != c.PersonID {
			results[i] = checkinResult{err: errCheckinConflict}
		} else {
			results[i] = checkinResult{c: base, created: created}
		}
	}
	return results, nil
}

var errCheckinConflict = casework.Errorf(casework.ECONFLICT, "该签到编号已用于另一条不同的签到记录", "this check-in id is already used by a different check-in")

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
