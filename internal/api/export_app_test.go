package api

// ResetActivationLimits forgets the per-address activation attempts, so
// each test site starts afresh (every test calls from 127.0.0.1).
func ResetActivationLimits() {
	activateLimits.Lock()
	defer activateLimits.Unlock()
	clear(activateLimits.m)
}
