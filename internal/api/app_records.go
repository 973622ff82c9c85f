package api

// app_records.go: the app's "my records" (issue 4 §3) — one month of the
// person's own check-ins with verdicts, the month's check-in duty, leave
// requests and drug test outcomes, for GET /api/v1/app/checkins?month=.

import (
	"net/http"
	"regexp"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

var monthRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}$`)

type appDutyJSON struct {
	Due        int             `json:"due"`
	Done       int             `json:"done"`
	Missed     int             `json:"missed"`
	MissedDays []casework.Date `json:"missed_days"`
	Rate       float64         `json:"rate"`
}

type appTestJSON struct {
	ID           string        `json:"id"`
	TestedOn     casework.Date `json:"tested_on"`
	Sample       string        `json:"sample"`
	SampleLabel  string        `json:"sample_label"`
	Outcome      string        `json:"outcome"`
	OutcomeLabel string        `json:"outcome_label"`
}

type appMonthJSON struct {
	Month    string        `json:"month"`
	From     casework.Date `json:"from"`
	To       casework.Date `json:"to"`
	Today    casework.Date `json:"today"`
	Duty     appDutyJSON   `json:"duty"`
	Checkins []checkinJSON `json:"checkins"`
	Leaves   []leaveJSON   `json:"leaves"`
	Tests    []appTestJSON `json:"tests"`
}

func (a *API) appRecords(w http.ResponseWriter, r *http.Request, q *appReq) error {
	var first casework.Date
	if m := r.URL.Query().Get("month"); m != "" {
		d, err := casework.ParseDate(m + "-01")
		if !monthRE.MatchString(m) || err != nil || d.Year < 2000 {
			return casework.Invalid("month", "月份应为 YYYY-MM（如 2026-03）", "month must be YYYY-MM (like 2026-03)")
		}
		first = d
	}
	m, err := a.DB.AppMonthRecords(r.Context(), q.Device, first)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAppMonthJSON(m, q.Lang))
	return nil
}

func toAppMonthJSON(m *store.AppMonth, lang string) appMonthJSON {
	out := appMonthJSON{Month: m.From.String()[:7], From: m.From, To: m.To, Today: m.Today,
		Duty:     appDutyJSON{Due: m.Duty.Due, Done: m.Duty.Done, Missed: len(m.Duty.Missed), MissedDays: m.Duty.Missed, Rate: m.Duty.Rate()},
		Checkins: []checkinJSON{}, Leaves: []leaveJSON{}, Tests: []appTestJSON{}}
	if out.Duty.MissedDays == nil {
		out.Duty.MissedDays = []casework.Date{}
	}
	for _, c := range m.Checkins {
		out.Checkins = append(out.Checkins, toCheckinJSON(c, lang))
	}
	for _, l := range m.Leaves {
		out.Leaves = append(out.Leaves, toLeaveJSON(l, lang, false))
	}
	for _, t := range m.Tests {
		out.Tests = append(out.Tests, appTestJSON{ID: t.ID, TestedOn: t.TestedOn, Sample: t.Sample, SampleLabel: i18n.T(lang, "test.sample_"+t.Sample),
			Outcome: t.Outcome, OutcomeLabel: i18n.T(lang, "test.outcome_"+t.Outcome)})
	}
	return out
}
