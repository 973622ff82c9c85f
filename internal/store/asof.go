package store

import "time"

// AsOf returns the store with its clock stopped at t: the same database,
// pools, keys and caches, for recording now what happened before the system
// ran (the demo's hand-over sixteen days ago, so that its new report
// deadline has passed). Every write through it is dated t, audit rows
// included. It shares the connection pools: do not Close it.
func (db *DB) AsOf(t time.Time) *DB {
	return &DB{engine: db.engine, write: db.write, read: db.read, keys: db.keys, vault: db.vault, appState: db.appState,
		now: func() time.Time { return t }}
}
