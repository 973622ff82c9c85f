package store_test

// The yearly work summary (issue 12 §3) on both engines, over the hand-built
// March 2026 of reports_test.go (rpBuild) plus a 低保 approved in March and
// the county's population and staffing.

import (
	"errors"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// The summary's figures are the engine's (no second computation), its
// place and population are the office's, and the counts of what the office
// did are those written here by hand.
func TestWorkSummaryFiguresComeFromTheEngineR34(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := rpBuild(t, db, clock)
		office := ciStaff(t, db, "sum-office", casework.RoleOffice, w.county)
		storetest.Must(db.AddAssistance(ctx, w.workerA, w.p1.ID, casework.AssistanceInput{Kind: casework.AidDibao,
			Status: casework.AidApproved, AppliedOn: pfD("2026-03-02"), DecidedOn: pfD("2026-03-20"), AmountFen: 80000, Provider: "吉阳区民政局"}))
		storetest.Must(db.SetOrgYear(ctx, office, casework.OrgYearInput{OrgID: w.county.ID, Year: 2026, Population: 4790, Specialists: 2, Police: 1}))

		s := storetest.Must(db.WorkSummary(ctx, w.lead, w.county.ID, 2026))
		if s.Source != "live" || s.Period.From != pfD("2026-01-01") || s.Period.To != pfD("2026-04-10") {
			t.Fatalf("source %s, period %s", s.Source, s.Period)
		}
		if len(s.Place) != 3 || s.Place[0].Name != "海南省" || s.Place[2].Name != "吉阳区" {
			t.Fatalf("place %+v", s.Place)
		}
		if s.OrgYear == nil || s.OrgYear.Population != 4790 || s.OrgYear.Specialists != 2 {
			t.Fatalf("org year %+v", s.OrgYear)
		}
		want := map[string]int64{"persons": 4, "visits_home": 1, "visits_phone": 0, "prevention_events": 1, "prevention_reach": 40,
			"group_sessions": 1, "group_reach": 2, "counselling": 0, "assistance": 1}
		for k, n := range want {
			if f := s.Figure(k); f == nil || f.Num != n {
				t.Errorf("%s = %+v, want %d", k, f, n)
			}
		}
		if c := s.Figure("assistance").Classes[string(casework.AidDibao)][0]; c != 1 {
			t.Errorf("低保: %d, want 1", c)
		}
		// The same numbers as the engine's figures for the same period.
		live := rpFigures(t, db, w.lead, w.county, store.ReportPeriod{From: pfD("2026-01-01"), To: pfD("2026-12-31")})
		for _, f := range s.Figures {
			if g := live[f.Key]; g == nil || g.Num != f.Num || g.Den != f.Den {
				t.Errorf("%s: summary %d/%d, engine %+v", f.Key, f.Num, f.Den, g)
			}
		}
		if !s.CanWrite {
			t.Error("a lead may write the summary")
		}
		// Another street's worker does not see the county; a future year is refused.
		if _, err := db.WorkSummary(ctx, w.workerB, w.county.ID, 2026); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("worker B reads the county's summary: %v", err)
		}
		_, err := db.WorkSummary(ctx, w.lead, w.county.ID, 2027)
		pfField(t, "next year", err, "year")
	})
}

// The office's texts are versioned: a save from a stale version is refused
// (never merged silently), bad sections are all named and nothing is
// written, a worker may not write; finalising freezes figures and texts,
// and a later recount is shown beside the frozen figure, never in its place.
func TestWorkSummaryTextsAndFinalise(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := rpBuild(t, db, clock)
		office := ciStaff(t, db, "sum-office", casework.RoleOffice, w.county)
		texts := casework.SummaryTexts{Highlights: "  厂区无新增吸毒人员，所有在册人员已实现就业。 ", Problems: "外出务工人员管控难。", NextSteps: "继续落实风险评估分类管理。"}
		v1 := storetest.Must(db.SaveSummaryTexts(ctx, w.lead, w.county.ID, 2026, 0, texts))
		if v1.Version != 1 || v1.Highlights != "厂区无新增吸毒人员，所有在册人员已实现就业。" {
			t.Fatalf("v1 %+v", v1)
		}
		_, err := db.SaveSummaryTexts(ctx, office, w.county.ID, 2026, 0, texts)
		if !casework.IsCode(err, casework.ECONFLICT) || casework.ErrorField(err) != "version" {
			t.Fatalf("a save from version 0 after version 1: %v", err)
		}
		bad := casework.SummaryTexts{Highlights: "好\u202e坏", Problems: strings.Repeat("问", casework.MaxSummaryText+1)}
		_, err = db.SaveSummaryTexts(ctx, office, w.county.ID, 2026, 1, bad)
		var fe casework.FieldErrors
		errors.As(err, &fe)
		fields := fe.Map("zh")
		if !casework.IsCode(err, casework.EINVALID) || fields["highlights"] == "" || fields["problems"] == "" {
			t.Fatalf("bad sections: %v %v", err, fields)
		}
		_, err = db.SaveSummaryTexts(ctx, w.workerA, w.commA.ID, 2026, 0, texts)
		pfCode(t, "a worker writes its community's summary", err, casework.EFORBIDDEN)
		texts.Overview = "安椰厂区常住人口4790人。"
		v2 := storetest.Must(db.SaveSummaryTexts(ctx, office, w.county.ID, 2026, 1, texts))
		if v2.Version != 2 {
			t.Fatalf("v2 %+v", v2)
		}
		s := storetest.Must(db.WorkSummary(ctx, office, w.county.ID, 2026))
		if s.Texts.Version != 2 || s.Texts.Overview != texts.Overview || s.Texts.UpdatedByName != "sum-office" || !s.CanWrite {
			t.Fatalf("read back %+v (can write %v)", s.Texts, s.CanWrite)
		}

		// Finalise from a stale version: refused; from the latest: frozen.
		_, err = db.FinaliseSummary(ctx, w.lead, w.county.ID, 2026, 1)
		pfCode(t, "finalise an old version", err, casework.ECONFLICT)
		f := storetest.Must(db.FinaliseSummary(ctx, w.lead, w.county.ID, 2026, 2))
		if f.Final == nil || f.Final.ByName != "rp-lead" || f.Final.Snapshot.AsOf != pfD("2026-04-10") || len(f.Changed) != 0 {
			t.Fatalf("final %+v changed %+v", f.Final, f.Changed)
		}
		if n := f.Figure("prevention_events").Num; n != 1 {
			t.Fatalf("frozen events %d", n)
		}
		// A later recount: one more event in March, and a day later.
		storetest.Must(db.AddEvent(ctx, w.lead, casework.EventInput{OrgID: w.commA.ID, HeldOn: pfD("2026-03-26"), Topic: "补录的宣传活动",
			Kind: casework.EventLecture, Audience: 15, Place: "厂区"}))
		clock.T = clock.T.Add(24 * time.Hour)
		s = storetest.Must(db.WorkSummary(ctx, w.lead, w.county.ID, 2026))
		if s.Figure("prevention_events").Num != 1 || s.Period.To != pfD("2026-04-10") || s.Texts.Version != 2 || s.Texts.Highlights != v2.Highlights {
			t.Fatalf("the finalised summary changed: events %d, to %s, texts %+v", s.Figure("prevention_events").Num, s.Period.To, s.Texts)
		}
		changed := map[string][2]int64{}
		for _, c := range s.Changed {
			changed[c.Key] = [2]int64{c.Then.Num, c.Now.Num}
		}
		if changed["prevention_events"] != [2]int64{1, 2} || changed["prevention_reach"] != [2]int64{40, 55} {
			t.Fatalf("changes shown: %v", changed)
		}
		_, err = db.SaveSummaryTexts(ctx, office, w.county.ID, 2026, 2, texts)
		pfCode(t, "texts after finalising", err, casework.ECONFLICT)
		_, err = db.FinaliseSummary(ctx, office, w.county.ID, 2026, 2)
		pfCode(t, "finalise twice", err, casework.ECONFLICT)
	})
}

// The scheduled exports' bookkeeping: the orgs an office works at, and a
// month recorded once (audited once).
func TestScheduledExportRecordedOnce(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := rpBuild(t, db, clock) // rp-office at the county
		orgs := storetest.Must(db.ExportOrgs(ctx))
		if len(orgs) != 1 || orgs[0].ID != w.county.ID {
			t.Fatalf("export orgs %+v", orgs)
		}
		sys := casework.SystemActor("scheduled-export")
		if !storetest.Must(db.RecordScheduledExport(ctx, sys, w.county.ID, "2026-03", "/x/a.xlsx", "ab", 10)) {
			t.Fatal("first record")
		}
		if storetest.Must(db.RecordScheduledExport(ctx, sys, w.county.ID, "2026-03", "/x/a.xlsx", "ab", 10)) {
			t.Fatal("a second record of the same month")
		}
		if !storetest.Must(db.ScheduledExportDone(ctx, w.county.ID, "2026-03")) || storetest.Must(db.ScheduledExportDone(ctx, w.county.ID, "2026-02")) {
			t.Fatal("done months")
		}
	})
}
