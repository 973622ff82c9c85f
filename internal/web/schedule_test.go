package web

import (
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
)

// Every kind and status the schedule pages show has a label in both
// languages (the keys are built, so the catalog test cannot see them).
func TestScheduleKeys(t *testing.T) {
	keys := []string{schedKey("status", "hidden"), schedKey("status", "open"), schedKey("status", "lapsed")}
	for _, k := range []string{casework.DrawScheduled, casework.DrawSurprise, casework.DrawForced} {
		keys = append(keys, schedKey("kind", k))
	}
	for _, s := range []casework.DrawStatus{casework.DayUpcoming, casework.DayDueToday, casework.DayDone, casework.DayMissed, casework.DayExcused, casework.DayNotOwed} {
		keys = append(keys, schedKey("status", string(s)))
	}
	for _, k := range keys {
		for _, lang := range []string{"zh", "en"} {
			if _, ok := i18n.Keys(lang)[k]; !ok {
				t.Errorf("%s lacks %s", lang, k)
			}
		}
	}
}
