package store_test

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// svAnswers builds answers: the five satisfaction answers and the three
// knowledge choices (the default bank's right choices are 0, 1, 1).
func svAnswers(sat [5]casework.SatAnswer, k [3]int) casework.SurveyAnswers {
	return casework.SurveyAnswers{AgeBand: "30-44", Role: "resident", Sat: sat[:], Knowledge: k[:], Heard: true, Channel: "network"}
}

var (
	svAllSatisfied = [5]casework.SatAnswer{"satisfied", "satisfied", "satisfied", "satisfied", "satisfied"}
	svRight        = [3]int{0, 1, 1}
)

func svPublish(t *testing.T, db *store.DB, actor *casework.Actor, org *casework.Org, opens, closes string, max int) *store.Survey {
	t.Helper()
	return storetest.Must(db.PublishSurvey(ctx, actor, casework.SurveyInput{OrgID: org.ID, Title: "2026年禁毒工作群众满意度调查",
		OpensOn: pfD(opens), ClosesOn: pfD(closes), MaxResponses: max}))
}

func svRefused(t *testing.T, what string, err error, reason string) {
	t.Helper()
	if got := store.SurveyRefusal(err); got != reason {
		t.Fatalf("%s: want refusal %q, got %q (%v)", what, reason, got, err)
	}
}

// The formulas of CARE.md D on a hand-built set of answers:
//
//	满意率 = (满意 + 比较满意) ÷ (answers − 不清楚)
//	知晓率 = right ÷ (respondents × items)
//
// Community A, online, 4 respondents × 5 items = 20 answers:
//
//	r1: 5 满意                        knowledge 3/3
//	r2: 满意 比较满意 不太满意 不满意 不清楚   knowledge 2/3 (first wrong)
//	r3: 5 不清楚                      knowledge 0/3 (all 不清楚)
//	r4: 比较满意 ×4, 不满意 (overall)     knowledge 3/3
//
// satisfied = 5 + 2 + 0 + 4 = 11; valid = 20 − 6 不清楚 = 14 → 78.571…%;
// right = 3 + 2 + 0 + 3 = 8 of 4 × 3 = 12 → 66.666…%.
// Community B imports a third party's 100 respondents: 450 satisfied of
// 480 valid, 3 items, 290 right. Street total: 461 / 494 and 298 / 312.
func TestSurveyFormulaOnHandBuiltAnswers(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 4, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		s := svPublish(t, db, w.office, w.commA, "2026-04-01", "2026-04-30", 100)
		answers := []casework.SurveyAnswers{
			svAnswers(svAllSatisfied, svRight),
			svAnswers([5]casework.SatAnswer{"satisfied", "fairly", "not_very", "dissatisfied", "unknown"}, [3]int{1, 1, 1}),
			svAnswers([5]casework.SatAnswer{"unknown", "unknown", "unknown", "unknown", "unknown"}, [3]int{2, 2, 2}),
			svAnswers([5]casework.SatAnswer{"fairly", "fairly", "fairly", "fairly", "dissatisfied"}, svRight),
		}
		for i, a := range answers {
			if err := db.SubmitSurveyResponse(ctx, s.Token, a, store.SurveyClient{BrowserToken: "b" + string(rune('1'+i)), Address: "10.0.0.1"}); err != nil {
				t.Fatalf("answer %d: %v", i+1, err)
			}
		}
		rep := storetest.Must(db.ImportSurveyResults(ctx, w.office, []store.SurveyImportRow{{Row: 2, Org: w.commB.Name, From: "2026-03-01",
			To: "2026-03-31", Source: "某社会工作协会", Respondents: "100", Satisfied: "450", Valid: "480", KnowledgeItems: "3", Correct: "290"}}, false))
		if !rep.Written || rep.Created != 1 {
			t.Fatalf("import: %+v", rep)
		}
		check := func(what string, c casework.SurveyCounts, sat, valid, right, asked int, satPct, awPct float64) {
			t.Helper()
			if c.Satisfied != sat || c.Valid != valid || c.Correct != right || c.Asked != asked {
				t.Errorf("%s: %d/%d satisfied, %d/%d right; want %d/%d, %d/%d", what, c.Satisfied, c.Valid, c.Correct, c.Asked, sat, valid, right, asked)
			}
			if p, _ := c.SatisfactionRate(); p < satPct-0.001 || p > satPct+0.001 {
				t.Errorf("%s: 满意率 %.3f, want %.3f", what, p, satPct)
			}
			if p, _ := c.AwarenessRate(); p < awPct-0.001 || p > awPct+0.001 {
				t.Errorf("%s: 知晓率 %.3f, want %.3f", what, p, awPct)
			}
		}
		a := storetest.Must(db.SurveyFigures(ctx, w.lead, store.SurveyFilter{OrgIDs: []string{w.commA.ID}}))
		check("community A", a.Total, 11, 14, 8, 12, 78.571, 66.667)
		if a.Online.Unknown != 6 || a.Online.Respondents != 4 || a.Imports != 0 {
			t.Errorf("community A: %+v", a.Online)
		}
		// By question: 总体满意度 had 满意 (r1), 不清楚 (r2, r3), 不满意 (r4): 1 of 2 valid.
		overall := a.ByItem[4]
		if overall.Item.Code != "overall" || overall.Counts.Satisfied != 1 || overall.Counts.Valid != 2 || overall.Answers[casework.SatUnknown] != 2 {
			t.Errorf("overall item: %+v", overall)
		}
		if k := a.ByKnow[0]; k.Item.Code != "etomidate" || k.Correct != 2 || k.Asked != 4 {
			t.Errorf("etomidate item: %+v", k)
		}
		street := storetest.Must(db.SurveyFigures(ctx, w.lead, store.SurveyFilter{}))
		check("street", street.Total, 461, 494, 298, 312, 93.320, 95.513)
		if casework.SurveyFlag(street.Total.SatisfactionRate()) != "below" || casework.SurveyFlag(street.Total.AwarenessRate()) != "above95" {
			t.Errorf("flags: %s %s", casework.SurveyFlag(street.Total.SatisfactionRate()), casework.SurveyFlag(street.Total.AwarenessRate()))
		}
		// The period: April holds the online answers only; March the import only.
		april := storetest.Must(db.SurveyFigures(ctx, w.office, store.SurveyFilter{From: pfD("2026-04-01"), To: pfD("2026-04-30")}))
		check("April", april.Total, 11, 14, 8, 12, 78.571, 66.667)
		march := storetest.Must(db.SurveyFigures(ctx, w.office, store.SurveyFilter{From: pfD("2026-03-01"), To: pfD("2026-03-31")}))
		check("March", march.Total, 450, 480, 290, 300, 93.75, 96.667)
		one := storetest.Must(db.SurveyFigures(ctx, w.office, store.SurveyFilter{SurveyID: s.ID}))
		check("the survey", one.Total, 11, 14, 8, 12, 78.571, 66.667)
		if c := (casework.SurveyCounts{}); casework.SurveyFlag(c.SatisfactionRate()) != "" {
			t.Error("no answers: a flag")
		}
		// 98% exactly meets the upper target; 95% exactly is not above the lower.
		if casework.SurveyFlag(98, true) != "met98" || casework.SurveyFlag(95, true) != "below" || casework.SurveyFlag(95.01, true) != "above95" {
			t.Error("threshold boundaries")
		}
	})
}

// Each abuse limit of the public survey: the open and close dates in the
// org's time zone, closing by hand, the cap, a second answer from the same
// browser, the same answers from the same address within the window (and
// again after it), and the eligible age band.
func TestSurveyAbuseLimits(t *testing.T) {
	// 2026-04-30 16:30 UTC is 2026-05-01 00:30 in Sanya.
	storetest.EachWithClock(t, time.Date(2026, 4, 9, 15, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		s := svPublish(t, db, w.office, w.commA, "2026-04-10", "2026-04-30", 3)
		c := func(browser, addr string) store.SurveyClient {
			return store.SurveyClient{BrowserToken: browser, Address: addr}
		}
		a1 := svAnswers(svAllSatisfied, svRight)
		// 23:00 on April 9 in Sanya: not open yet.
		svRefused(t, "the day before", db.SubmitSurveyResponse(ctx, s.Token, a1, c("b1", "10.0.0.1")), "not_open")
		clock.Add(time.Hour) // 00:00 on April 10 local
		if err := db.SubmitSurveyResponse(ctx, s.Token, a1, c("b1", "10.0.0.1")); err != nil {
			t.Fatalf("first day: %v", err)
		}
		svRefused(t, "same browser, other answers", db.SubmitSurveyResponse(ctx, s.Token, svAnswers(svAllSatisfied, [3]int{2, 2, 2}), c("b1", "10.0.0.9")), "duplicate")
		svRefused(t, "same address and answers, new browser", db.SubmitSurveyResponse(ctx, s.Token, a1, c("b2", "10.0.0.1")), "duplicate")
		if err := db.SubmitSurveyResponse(ctx, s.Token, svAnswers(svAllSatisfied, [3]int{2, 2, 2}), c("b2", "10.0.0.1")); err != nil {
			t.Errorf("same address, other answers: %v", err)
		}
		clock.Add(store.SurveyDuplicateWindow + time.Minute)
		if err := db.SubmitSurveyResponse(ctx, s.Token, a1, c("b3", "10.0.0.1")); err != nil {
			t.Errorf("same address and answers after the window: %v", err)
		}
		svRefused(t, "past the cap of 3", db.SubmitSurveyResponse(ctx, s.Token, a1, c("b4", "10.0.0.4")), "full")
		err := db.SubmitSurveyResponse(ctx, s.Token, casework.SurveyAnswers{AgeBand: "under18", Role: "student", Sat: svAllSatisfied[:], Knowledge: svRight[:]}, c("b5", "10.0.0.5"))
		pfField(t, "under 18", err, "age_band")
		err = db.SubmitSurveyResponse(ctx, s.Token, casework.SurveyAnswers{AgeBand: "18-29", Role: "resident", Sat: svAllSatisfied[:4], Knowledge: svRight[:]}, c("b5", "10.0.0.5"))
		pfField(t, "four answers of five", err, "sat_overall")
		if _, err := db.SurveyByToken(ctx, "no-such-token"); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("unknown token: %v", err)
		}

		// The last day runs to midnight in Sanya.
		s2 := svPublish(t, db, w.office, w.commB, "2026-04-11", "2026-04-30", 100)
		clock.T = time.Date(2026, 4, 30, 15, 59, 0, 0, time.UTC) // 23:59 local on the last day
		if err := db.SubmitSurveyResponse(ctx, s2.Token, a1, c("b1", "10.0.0.1")); err != nil {
			t.Errorf("23:59 on the last day: %v", err)
		}
		clock.Add(2 * time.Minute)
		svRefused(t, "00:01 the day after", db.SubmitSurveyResponse(ctx, s2.Token, a1, c("b6", "10.0.0.6")), "closed")
		if p := storetest.Must(db.SurveyByToken(ctx, s2.Token)); p.State != "closed" {
			t.Errorf("public state %q", p.State)
		}

		s3 := svPublish(t, db, w.office, w.commB, "2026-05-01", "2026-05-31", 100)
		if err := db.CloseSurvey(ctx, w.lead, s3.ID); !casework.IsCode(err, casework.EFORBIDDEN) {
			t.Errorf("a lead closes: %v", err)
		}
		storetest.Must(0, db.CloseSurvey(ctx, w.office, s3.ID))
		svRefused(t, "closed by hand", db.SubmitSurveyResponse(ctx, s3.Token, a1, c("b7", "10.0.0.7")), "closed")
	})
}

// Results are scoped by the reader's subtree: community B's worker sees
// neither community A's survey nor its figures; a lead cannot publish.
func TestSurveyScope(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 4, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		s := svPublish(t, db, w.office, w.commA, "2026-04-01", "2026-04-30", 100)
		storetest.Must(0, db.SubmitSurveyResponse(ctx, s.Token, svAnswers(svAllSatisfied, svRight), store.SurveyClient{BrowserToken: "b", Address: "a"}))
		if _, err := db.GetSurvey(ctx, w.workerB, s.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("worker B opens A's survey: %v", err)
		}
		if _, err := db.ListSurveyResponses(ctx, w.workerB, s.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("worker B lists A's answers: %v", err)
		}
		if _, err := db.SurveyFigures(ctx, w.workerB, store.SurveyFilter{OrgIDs: []string{w.commA.ID}}); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("worker B asks for A's figures: %v", err)
		}
		for _, tc := range []struct {
			actor *casework.Actor
			n     int
		}{{w.workerB, 0}, {w.workerA, 1}, {w.lead, 1}, {w.office, 1}, {w.police, 0}, {w.counsellor, 0}} {
			r := storetest.Must(db.SurveyFigures(ctx, tc.actor, store.SurveyFilter{}))
			if r.Total.Respondents != tc.n {
				t.Errorf("%s sees %d respondents, want %d", tc.actor.Username, r.Total.Respondents, tc.n)
			}
			list := storetest.Must(db.ListSurveys(ctx, tc.actor, ""))
			if len(list) != tc.n {
				t.Errorf("%s lists %d surveys, want %d", tc.actor.Username, len(list), tc.n)
			}
		}
		_, err := db.PublishSurvey(ctx, w.lead, casework.SurveyInput{OrgID: w.commA.ID, Title: "x", OpensOn: pfD("2026-04-10"), ClosesOn: pfD("2026-04-20"), MaxResponses: 5})
		pfCode(t, "a lead publishes", err, casework.EFORBIDDEN)
		_, err = db.PublishSurvey(ctx, w.office, casework.SurveyInput{OrgID: w.commA.ID, Title: "x", OpensOn: pfD("2026-04-10"), ClosesOn: pfD("2026-04-09"), MaxResponses: 5})
		pfField(t, "closes before it opens", err, "closes_on")
		_, err = db.PublishSurvey(ctx, w.office, casework.SurveyInput{OrgID: w.commA.ID, Title: "x", OpensOn: pfD("2026-04-10"), ClosesOn: pfD("2026-04-20")})
		pfField(t, "no cap", err, "max_responses")
	})
}

// A third party's results: every bad cell reported by row and column, and
// nothing written when any row is bad; a good file imported twice is
// unchanged; the same key with other numbers is a fault.
func TestSurveyImportErrorsAndNoHalfWrite(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 4, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := pfBuild(t, db)
		good := store.SurveyImportRow{Row: 2, Org: w.commA.Name, From: "2026-03-01", To: "2026-03-31", Source: "第三方", Respondents: "50",
			Satisfied: "200", Valid: "240", KnowledgeItems: "4", Correct: "180"}
		bad := []store.SurveyImportRow{good,
			{Row: 3, Org: "不存在社区", From: "2026-03-01", To: "2026-03-31", Source: "第三方", Respondents: "50", Satisfied: "1", Valid: "2", KnowledgeItems: "4", Correct: "1"},
			{Row: 4, Org: w.commB.Name, From: "2026-03-01", To: "2026-03-31", Source: "第三方", Respondents: "50", Satisfied: "300", Valid: "240", KnowledgeItems: "4", Correct: "1"},
			{Row: 5, Org: w.commB.Name, From: "2026-03-01", To: "2026-03-31", Source: "第三方", Respondents: "十", Satisfied: "1", Valid: "2", KnowledgeItems: "4", Correct: "1"},
			{Row: 6, Org: w.commB.Name, From: "2026-03-01", To: "2026-03-31", Source: "第三方", Respondents: "10", Satisfied: "1", Valid: "2", KnowledgeItems: "4", Correct: "41"},
			{Row: 7, Org: w.commB.Name, From: "2026-03-31", To: "2026-03-01", Source: "第三方", Respondents: "10", Satisfied: "1", Valid: "2", KnowledgeItems: "4", Correct: "1"},
		}
		rep := storetest.Must(db.ImportSurveyResults(ctx, w.office, bad, false))
		want := map[int]string{3: "org", 4: "satisfied", 5: "respondents", 6: "correct", 7: "to"}
		if rep.Written || len(rep.Errors) != len(want) {
			t.Fatalf("written %v, errors %+v", rep.Written, rep.Errors)
		}
		for _, e := range rep.Errors {
			if want[e.Row] != e.Column || e.ZH == "" || e.EN == "" {
				t.Errorf("row %d column %q (%s); want column %q", e.Row, e.Column, e.EN, want[e.Row])
			}
		}
		if r := storetest.Must(db.SurveyFigures(ctx, w.office, store.SurveyFilter{})); r.Total.Respondents != 0 || r.Imports != 0 {
			t.Fatalf("a bad file wrote %+v", r.Total)
		}
		if _, err := db.ImportSurveyResults(ctx, w.lead, []store.SurveyImportRow{good}, false); !casework.IsCode(err, casework.EFORBIDDEN) {
			t.Errorf("a lead imports: %v", err)
		}
		if rep := storetest.Must(db.ImportSurveyResults(ctx, w.office, []store.SurveyImportRow{good}, true)); rep.Written || rep.Created != 1 {
			t.Errorf("dry run: %+v", rep)
		}
		if rep := storetest.Must(db.ImportSurveyResults(ctx, w.office, []store.SurveyImportRow{good}, false)); !rep.Written || rep.Created != 1 {
			t.Errorf("good file: %+v", rep)
		}
		if rep := storetest.Must(db.ImportSurveyResults(ctx, w.office, []store.SurveyImportRow{good}, false)); rep.Created != 0 || rep.Unchanged != 1 {
			t.Errorf("again: %+v", rep)
		}
		changed := good
		changed.Correct = "181"
		if rep := storetest.Must(db.ImportSurveyResults(ctx, w.office, []store.SurveyImportRow{changed}, false)); rep.Written || len(rep.Errors) != 1 {
			t.Errorf("other numbers: %+v", rep)
		}
		r := storetest.Must(db.SurveyFigures(ctx, w.office, store.SurveyFilter{}))
		if r.Total.Respondents != 50 || r.Total.Satisfied != 200 || r.Total.Valid != 240 || r.Total.Correct != 180 || r.Total.Asked != 200 {
			t.Errorf("after import: %+v", r.Total)
		}
	})
}
