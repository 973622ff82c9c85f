package api

import (
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Test schedules and verifiable draws (issue 5 §1–2, R22–R25): a person's
// intervals and drawn days, a lead's forced and excused days (always with a
// reason), the due-today and missed lists and the R25 coverage of an org,
// and the seed commitments anyone can check with kangfu verify-draws.
func (a *API) scheduleRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewSchedule, Target: "person"}
	adjust := httpx.Access{Perm: casework.PermAdjustSchedule, Target: "person"}
	org := httpx.Access{Perm: casework.PermViewSchedule, Target: "org"}
	return []httpx.Route{
		rt("GET", "/api/v1/persons/{id}/schedule", view, a.getSchedule, "a person's test schedule, drawn days and R25 coverage"),
		rt("POST", "/api/v1/persons/{id}/schedule/force", adjust, a.forceTestDay, "force a test day, with a reason"),
		rt("POST", "/api/v1/persons/{id}/schedule/excuse", adjust, a.excuseTestDay, "excuse a drawn test day, with a reason"),
		rt("GET", "/api/v1/orgs/{id}/tests/due", org, a.testsDue, "today's test days in an org subtree"),
		rt("GET", "/api/v1/orgs/{id}/tests/missed", org, a.testsMissed, "missed (evaded) test days in an org subtree"),
		rt("GET", "/api/v1/orgs/{id}/tests/coverage", org, a.testCoverage, "R25 test-completion rate of an org subtree"),
		rt("GET", "/api/v1/orgs/{id}/draw-seeds", org, a.drawSeeds, "seed commitments and reveals of an org's street"),
	}
}

type testDayJSON struct {
	ID           string        `json:"id"`
	PersonID     string        `json:"person_id"`
	PersonName   string        `json:"person_name,omitempty"`
	OrgName      string        `json:"org_name,omitempty"`
	Kind         string        `json:"kind"`
	Day          casework.Date `json:"day"` // null when hidden
	Hidden       bool          `json:"hidden"`
	IntervalFrom casework.Date `json:"interval_from"`
	IntervalTo   casework.Date `json:"interval_to"`
	Period       string        `json:"seed_period,omitempty"`
	Status       string        `json:"status"`
	Deadline     *time.Time    `json:"deadline,omitempty"`
	Reason       string        `json:"reason,omitempty"`
	CreatedBy    string        `json:"created_by,omitempty"`
	Excused      bool          `json:"excused"`
	ExcuseReason string        `json:"excuse_reason,omitempty"`
	ExcusedBy    string        `json:"excused_by,omitempty"`
	ExcusedAt    *time.Time    `json:"excused_at,omitempty"`
}

func toTestDayJSON(d *store.TestDay) testDayJSON {
	j := testDayJSON{ID: d.ID, PersonID: d.PersonID, PersonName: d.PersonName, OrgName: d.OrgName, Kind: d.Kind, Day: d.Day, Hidden: d.Hidden,
		IntervalFrom: d.IntervalFrom, IntervalTo: d.IntervalTo, Period: d.Period, Status: string(d.Status), Excused: d.Excused,
		ExcuseReason: d.ExcuseReason, ExcusedBy: d.ExcusedBy}
	if d.Kind == casework.DrawForced {
		j.Reason, j.CreatedBy = d.Reason, d.CreatedBy
	}
	if !d.Deadline.IsZero() {
		t := d.Deadline.UTC()
		j.Deadline = &t
	}
	if !d.ExcusedAt.IsZero() {
		j.ExcusedAt = &d.ExcusedAt
	}
	if d.Hidden {
		j.Status = "hidden"
	}
	return j
}

type intervalJSON struct {
	Year   int           `json:"year"`
	From   casework.Date `json:"from"`
	To     casework.Date `json:"to"`
	Months int           `json:"months"`
	Status string        `json:"status"`
	Tests  int           `json:"tests"`
	Draw   *testDayJSON  `json:"draw"`
}

type coverageJSON struct {
	Should  int        `json:"should"`
	Done    int        `json:"done"`
	Missing int        `json:"missing"`
	Rate    float64    `json:"rate"`
	Years   []yearJSON `json:"years"`
}

type yearJSON struct {
	Year   int `json:"year"`
	Should int `json:"should"`
	Done   int `json:"done"`
}

func toCoverageJSON(c casework.Coverage) coverageJSON {
	j := coverageJSON{Should: c.Should, Done: c.Done, Missing: c.Missing(), Rate: c.Rate(), Years: []yearJSON{}}
	for _, y := range c.Years {
		j.Years = append(j.Years, yearJSON(y))
	}
	return j
}

type scheduleJSON struct {
	PersonID  string         `json:"person_id"`
	MeasureID string         `json:"measure_id"`
	Kind      string         `json:"kind"`
	Start     casework.Date  `json:"term_start"`
	End       casework.Date  `json:"term_end"`
	Today     casework.Date  `json:"today"`
	Place     string         `json:"test_place"`
	Hours     string         `json:"test_hours"`
	CanAdjust bool           `json:"can_adjust"`
	Policy    []string       `json:"policy"`
	Intervals []intervalJSON `json:"intervals"`
	Surprise  []testDayJSON  `json:"surprise"`
	Forced    []testDayJSON  `json:"forced"`
	Coverage  coverageJSON   `json:"coverage"`
}

func (a *API) getSchedule(w http.ResponseWriter, r *http.Request, q *req) error {
	s, err := a.DB.PersonSchedule(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := scheduleJSON{PersonID: s.PersonID, MeasureID: s.MeasureID, Kind: string(s.Kind), Start: s.Start, End: s.End, Today: s.Today,
		Place: s.Place, Hours: s.Hours.String(), CanAdjust: s.CanAdjust, Policy: s.Policy, Coverage: toCoverageJSON(s.Coverage),
		Intervals: []intervalJSON{}, Surprise: []testDayJSON{}, Forced: []testDayJSON{}}
	for _, iv := range s.Intervals {
		j := intervalJSON{Year: iv.Year, From: iv.From, To: iv.To, Months: iv.Months, Status: iv.Status, Tests: iv.Tests}
		if iv.Draw != nil {
			d := toTestDayJSON(iv.Draw)
			j.Draw = &d
		}
		out.Intervals = append(out.Intervals, j)
	}
	for i := range s.Surprise {
		out.Surprise = append(out.Surprise, toTestDayJSON(&s.Surprise[i]))
	}
	for i := range s.Forced {
		out.Forced = append(out.Forced, toTestDayJSON(&s.Forced[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type forceRequest struct {
	Day    casework.Date `json:"day"`
	Reason string        `json:"reason"`
}

func (a *API) forceTestDay(w http.ResponseWriter, r *http.Request, q *req) error {
	var in forceRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	d, err := a.DB.ForceTestDay(r.Context(), q.Actor, r.PathValue("id"), in.Day, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toTestDayJSON(d))
	return nil
}

type excuseRequest struct {
	DrawID string `json:"draw_id"`
	Reason string `json:"reason"`
}

func (a *API) excuseTestDay(w http.ResponseWriter, r *http.Request, q *req) error {
	var in excuseRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.DB.ExcuseTestDay(r.Context(), q.Actor, r.PathValue("id"), in.DrawID, in.Reason); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func testDayList(days []*store.TestDay) list[testDayJSON] {
	out := list[testDayJSON]{Items: []testDayJSON{}, Total: len(days)}
	for _, d := range days {
		out.Items = append(out.Items, toTestDayJSON(d))
	}
	return out
}

func (a *API) testsDue(w http.ResponseWriter, r *http.Request, q *req) error {
	days, _, err := a.DB.DueList(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, testDayList(days))
	return nil
}

func (a *API) testsMissed(w http.ResponseWriter, r *http.Request, q *req) error {
	from, to, err := a.period(r)
	if err != nil {
		return err
	}
	days, err := a.DB.MissedList(r.Context(), q.Actor, r.PathValue("id"), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, testDayList(days))
	return nil
}

func (a *API) testCoverage(w http.ResponseWriter, r *http.Request, q *req) error {
	var from, to casework.Date
	var err error
	if from, err = casework.ParseDateField("from", r.URL.Query().Get("from")); err != nil {
		return err
	}
	if to, err = casework.ParseDateField("to", r.URL.Query().Get("to")); err != nil {
		return err
	}
	c, err := a.DB.OrgTestCoverage(r.Context(), q.Actor, r.PathValue("id"), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"persons": c.Persons, "should": c.Should, "done": c.Done, "rate": c.Rate()})
	return nil
}

type seedJSON struct {
	OrgID       string     `json:"org_id"`
	OrgName     string     `json:"org_name"`
	Period      string     `json:"period"`
	Hash        string     `json:"hash"`
	CommittedAt time.Time  `json:"committed_at"`
	Seed        string     `json:"seed,omitempty"`
	RevealedAt  *time.Time `json:"revealed_at,omitempty"`
}

func (a *API) drawSeeds(w http.ResponseWriter, r *http.Request, q *req) error {
	seeds, _, err := a.DB.ListSeeds(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := list[seedJSON]{Items: []seedJSON{}, Total: len(seeds)}
	for _, s := range seeds {
		j := seedJSON{OrgID: s.OrgID, OrgName: s.OrgName, Period: s.Period, Hash: s.Hash, CommittedAt: s.CommittedAt, Seed: s.Seed}
		if !s.RevealedAt.IsZero() {
			t := s.RevealedAt
			j.RevealedAt = &t
		}
		out.Items = append(out.Items, j)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
