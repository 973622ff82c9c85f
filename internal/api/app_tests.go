package api

import (
	"context"

	"kangfu/internal/store"
)

// todayTests adds "tests" to the app's today: the person learns on the
// drawn day where to go and by when (issue 5 §2: "今天请到…检测"). The text
// is made here in the person's language so the app shows it as it is.
func (a *API) todayTests(ctx context.Context, dev *store.AppDevice, lang string, out map[string]any) error {
	ts, err := a.DB.AppTestsToday(ctx, dev.PersonID)
	if err != nil {
		return err
	}
	// One visit covers every test day falling today (a forced day on a
	// drawn day, say): one item.
	items := []map[string]any{}
	for _, t := range ts[:min(len(ts), 1)] {
		by := t.Hours.To.String()
		text := "今天请到" + t.Place + "检测，截止时间 " + by + "（" + t.Hours.From.String() + "起）"
		if lang == "en" {
			text = "Today, please go to " + t.Place + " for a drug test, by " + by + " (from " + t.Hours.From.String() + ")"
		}
		if t.Remote {
			// Inside approved leave for the whole interval: a test where the
			// person is, the report uploaded by the worker (R9, R22).
			text = store.TestRemoteTodayText(lang, by)
		}
		if t.Done {
			text = "今天的检测已完成"
			if lang == "en" {
				text = "Today's test is done"
			}
		}
		items = append(items, map[string]any{"id": t.ID, "kind": t.Kind, "place": t.Place, "from": t.Hours.From.String(), "deadline": t.Deadline.UTC(),
			"deadline_local": by, "done": t.Done, "remote": t.Remote, "text": text})
	}
	out["tests"] = items
	return nil
}
