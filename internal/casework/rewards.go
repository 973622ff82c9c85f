package casework

// IncentiveLawCadence is the testing a person under the law's first-year
// schedule meets in 12 weeks — a test a month, so 3, and a check-in a day,
// 84 — which the budget warning measures the schedule against (CARE.md A:
// the trials' effect needed about $240 in 12 weeks; $80 did not work).
func IncentiveLawCadence() (tests, checkins int) { return 3, 84 }
