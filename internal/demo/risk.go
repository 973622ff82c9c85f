package demo

import (
	"context"
	"fmt"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

const riskMarker = "demo:risk"

// loadRisk gives the demo caseload the month of risk reviews a working
// office has (issue 13; R31, R32): each person under a measure was
// assessed by the worker of their community (the lead where there is
// none) and the tier confirmed by the street lead on a day of the last
// month — mostly low, some medium, a few high — so most reviews fall due
// later, some within the week and a few are overdue, and a handful of
// persons who reported recently are not assessed yet. The assessments go
// through AssessRisk and DecideRisk (what the file knows, the proposal,
// the lead's confirmation, audited) and are then dated back.
func loadRisk(ctx context.Context, db *store.DB) error {
	first, err := db.Mark(ctx, riskMarker)
	if err != nil || !first {
		return err
	}
	if err := db.DemoEventTimes(ctx); err != nil {
		return err
	}
	sys := casework.SystemActor("demo")
	actor := func(username string) (*casework.Actor, error) {
		uid, err := db.UserIDByName(ctx, username)
		if err != nil {
			return nil, fmt.Errorf("demo risk: %w", err)
		}
		u, err := db.GetUser(ctx, sys, uid)
		if err != nil {
			return nil, err
		}
		return &casework.Actor{UserID: u.ID, Username: u.Username, Name: u.DisplayName, Grants: u.Grants}, nil
	}
	lead, err := actor("lead")
	if err != nil {
		return err
	}
	workers := map[string]*casework.Actor{}
	for name, username := range map[string]string{factoryName: "worker", "海湾社区（示例）": "worker2"} {
		o, err := orgNamed(ctx, db, name)
		if err != nil {
			return err
		}
		if workers[o.ID], err = actor(username); err != nil {
			return err
		}
	}
	persons, _, err := db.ListPersons(ctx, sys, store.PersonFilter{Status: []casework.Status{casework.StatusExecuting, casework.StatusOnLeave, casework.StatusPendingReport}, Limit: 1000})
	if err != nil {
		return err
	}
	loc := casework.LoadLocation(casework.DefaultTimeZone)
	today := casework.DateOf(db.Now(), loc)
	for i, p := range persons {
		if i%40 == 17 {
			continue // not assessed yet: the inbox asks for a first assessment
		}
		// Days since the review: most within the last three weeks (due
		// later), every tenth 24–28 days ago (due within the week), every
		// thirtieth 32–35 days ago (overdue).
		ago := 1 + (i*7)%22
		switch {
		case i%30 == 9:
			ago = 32 + i%4
		case i%10 == 4:
			ago = 24 + i%5
		}
		who := workers[p.OrgID]
		if who == nil {
			who = lead
		}
		form, err := db.RiskAssessForm(ctx, who, p.ID)
		if err != nil {
			continue // no measure to assess under (e.g. awaiting report-in)
		}
		x := casework.RiskInput{Answers: map[string]casework.RiskAnswer{}, Overrides: map[string]casework.RiskAnswer{}}
		for _, f := range form.Instrument.Factors {
			x.Answers[f.Code] = casework.RiskAnswer{Value: f.Options[0].Value}
		}
		for code, a := range form.Known.Answers {
			x.Answers[code] = a
		}
		for code, a := range form.Known.Overrides {
			x.Overrides[code] = a
		}
		switch {
		case i%11 == 3: // high: synthetic drugs, heavy use, missed tests, short abstinence, no family support
			for code, v := range map[string]string{"drug_type": "synthetic", "use_degree": "high", "missed_tests": "2+", "abstinent": "<6", "family": "none"} {
				x.Answers[code] = casework.RiskAnswer{Value: v}
			}
		case i%3 == 1: // medium
			for code, v := range map[string]string{"drug_type": "synthetic", "abstinent": "6-11", "family": "strained", "use_degree": "moderate"} {
				x.Answers[code] = casework.RiskAnswer{Value: v}
			}
		}
		a, err := db.AssessRisk(ctx, who, p.ID, x, "first", "")
		if err != nil {
			return fmt.Errorf("demo risk %s: %w", p.Name, err)
		}
		d, err := db.DecideRisk(ctx, lead, a.ID, a.Result.Proposed, "")
		if err != nil {
			return fmt.Errorf("demo risk decision %s: %w", p.Name, err)
		}
		day := today.AddDays(-ago)
		assessed := day.In(loc).Add(9*time.Hour + time.Duration(i%6)*time.Hour)
		if err := db.BackdateRisk(ctx, d.ID, assessed, assessed.Add(3*time.Hour), day.AddDays(1)); err != nil {
			return err
		}
	}
	return nil
}
