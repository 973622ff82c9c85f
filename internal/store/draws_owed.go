package store

// draws_owed.go: whether a test day was owed. A lead's forced day survives
// the daily redraw, so it can fall inside a later suspension (R13) or a
// pending report at a new place after a transfer (R11); the person owed
// nothing then, and the day is neither missed nor an evasion (R9). Every
// reader that calls a day missed — the schedule, the due and missed
// lists, MissedTests, the inbox and the nightly detection — decides it
// here, from the status on the day (casework.OwesDutyOn).

import (
	"context"

	"kangfu/internal/casework"
)

// dutyDay is a test day to judge: the person, the current status of the
// draw's measure and the date it began, and the day.
type dutyDay struct {
	personID string
	status   casework.Status
	since    casework.Date
	day      casework.Date
}

// owedOn reports for each day whether the person owed the measure's duties
// on it. The current status decides when it began on or before the day;
// only the persons whose status changed after one of their days have their
// history read, all of them in one batch (personSpansOf).
func (tx *Tx) owedOn(ctx context.Context, days []dutyDay) ([]bool, error) {
	var need []string
	seen := map[string]bool{}
	for _, d := range days {
		if casework.NeedsHistory(d.since, d.day) && !seen[d.personID] {
			seen[d.personID] = true
			need = append(need, d.personID)
		}
	}
	var spans map[string][]casework.StatusSpan
	if len(need) > 0 {
		var err error
		if spans, err = tx.personSpansOf(ctx, need); err != nil {
			return nil, err
		}
	}
	out := make([]bool, len(days))
	for i, d := range days {
		out[i] = casework.OwesDutyOn(d.status, d.since, spans[d.personID], d.day)
	}
	return out, nil
}

// owedTestDays is owedOn for test days read by testDays.
func (tx *Tx) owedTestDays(ctx context.Context, days []*TestDay) ([]bool, error) {
	in := make([]dutyDay, len(days))
	for i, d := range days {
		in[i] = dutyDay{personID: d.PersonID, status: d.measureStatus, since: d.statusSince, day: d.Day}
	}
	return tx.owedOn(ctx, in)
}
