package store

import "time"

// SetCheckinIdleStop shortens the writer's idle stop for a test and
// returns the function that restores it.
func SetCheckinIdleStop(d time.Duration) func() {
	old := checkinIdleStop.Swap(int64(d))
	return func() { checkinIdleStop.Store(old) }
}
