package store

import (
	"context"
	"time"

	"kangfu/internal/casework"
)

// SetCheckinIdleStop shortens the writer's idle stop for a test and
// returns the function that restores it.
func SetCheckinIdleStop(d time.Duration) func() {
	old := checkinIdleStop.Swap(int64(d))
	return func() { checkinIdleStop.Store(old) }
}

// CheckinSend is one request of a batch written by WriteCheckinBatch.
type CheckinSend struct {
	Dev  *AppDevice
	In   casework.CheckinInput
	Body []byte
	Sig  string
}

// CheckinAnswer is what the writer answered one request of a batch.
type CheckinAnswer struct {
	C       *Checkin
	Created bool
	Err     error
}

// WriteCheckinBatch prepares the requests as IngestCheckin does and has
// the writer store them as one batch (one transaction), so a test decides
// what shares a batch.
func WriteCheckinBatch(ctx context.Context, db *DB, sends []CheckinSend) ([]CheckinAnswer, error) {
	batch := make([]*pendingCheckin, len(sends))
	for i, s := range sends {
		p, err := db.pendingCheckin(ctx, s.Dev, s.In, s.Body, s.Sig)
		if err != nil {
			return nil, err
		}
		batch[i] = p
	}
	db.app().writer.write(batch)
	out := make([]CheckinAnswer, len(batch))
	for i, p := range batch {
		r := <-p.done
		out[i] = CheckinAnswer{C: r.c, Created: r.created, Err: r.err}
	}
	return out, nil
}

// SetAppCacheTTL shortens how long the check-in caches keep an entry, so a
// test can wait the bound out; it returns the restore function.
func SetAppCacheTTL(d time.Duration) func() {
	old := appCacheTTL.Swap(int64(d))
	return func() { appCacheTTL.Store(old) }
}
