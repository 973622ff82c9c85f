package api

import (
	"context"
	"slices"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// todayCounselling adds the person's upcoming counselling appointments to
// the app's today screen (issue 11 §10): time, counsellor and mode, in the
// person's language; never notes.
func (a *API) todayCounselling(ctx context.Context, dev *store.AppDevice, lang string, out map[string]any) error {
	ss, err := a.DB.AppAppointments(ctx, dev.PersonID)
	if err != nil {
		return err
	}
	loc := casework.LoadLocation("")
	items := []map[string]any{}
	for _, s := range ss {
		at := s.HeldAt.In(loc).Format("01-02 15:04")
		text := at + " 心理咨询（" + s.CounsellorName + "，" + casework.SessionModeLabel(lang, s.Mode) + "）"
		if lang == "en" {
			text = at + " counselling (" + s.CounsellorName + ", " + casework.SessionModeLabel(lang, s.Mode) + ")"
		}
		items = append(items, map[string]any{"id": s.ID, "at": s.HeldAt, "mode": s.Mode, "counsellor": s.CounsellorName, "text": text})
	}
	addAppointments(out, items)
	return nil
}

// addAppointments adds items to the today screen's appointments (planned
// visits and counselling sessions), soonest first.
func addAppointments(out map[string]any, items []map[string]any) {
	all, _ := out["appointments"].([]map[string]any)
	all = append(all, items...)
	slices.SortStableFunc(all, func(x, y map[string]any) int {
		tx, _ := x["at"].(time.Time)
		ty, _ := y["at"].(time.Time)
		return tx.Compare(ty)
	})
	if all == nil {
		all = []map[string]any{}
	}
	out["appointments"] = all
}
