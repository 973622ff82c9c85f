package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// lowRisk answers every factor of the instrument with its first option
// (no risk in the default).
func lowRisk(in *casework.Instrument) casework.RiskInput {
	x := casework.RiskInput{Answers: map[string]casework.RiskAnswer{}, Overrides: map[string]casework.RiskAnswer{}}
	for _, f := range in.Factors {
		x.Answers[f.Code] = casework.RiskAnswer{Value: f.Options[0].Value}
	}
	return x
}

func riskTaskKinds(t *testing.T, db *store.DB, a *casework.Actor, personID string) []string {
	t.Helper()
	var out []string
	for _, tk := range storetest.Must(db.Inbox(ctx, a)) {
		if tk.PersonID == personID && strings.HasPrefix(tk.Kind, "risk_") {
			out = append(out, tk.Kind)
		}
	}
	return out
}

// R32: an assessment is a proposal; nothing the person must do changes
// until a lead decides it, and then from the next day, not today. The
// lead's decision alters tomorrow's check-in window, visit cadences and
// surprise-test count (R31), recorded with the policy version.
func TestRiskProposalNeverTakesEffectUnconfirmedR32(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		today, tomorrow := pfD("2026-03-10"), pfD("2026-03-11")
		// The office sets a high-tier check-in window from tomorrow.
		storetest.Must(db.CreatePolicyVersion(ctx, w.office, w.county.ID, casework.PolicyVersionInput{EffectiveFrom: tomorrow,
			Settings: map[string]string{"checkin.tier.high.window": "08:00-20:00"}, Note: "高风险签到时段"}))
		form := storetest.Must(db.RiskAssessForm(ctx, w.workerA, w.a.ID))
		if form.Instrument.ID != casework.DefaultInstrumentID || !form.Instrument.Uncalibrated {
			t.Fatalf("instrument %+v", form.Instrument)
		}
		x := lowRisk(form.Instrument)
		x.Overrides[casework.OverrideMental] = casework.RiskAnswer{Value: "yes"}
		a := storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, x, "first", ""))
		if a.State != "proposed" || a.Result.Proposed != casework.TierHigh || a.Tier != "" {
			t.Fatalf("assessment %+v", a)
		}
		// Unconfirmed: no tier, today or tomorrow or in a month.
		clock.Add(24 * time.Hour)
		for _, d := range []casework.Date{today, tomorrow, pfD("2026-04-10")} {
			if du := storetest.Must(db.RiskDutiesOn(ctx, w.lead, w.a.ID, d)); du.Tier != "" || du.SurpriseMin != 3 || du.HomePeriod != casework.PeriodMonth {
				t.Fatalf("%s: an unconfirmed proposal took effect: %+v", d, du)
			}
		}
		clock.Add(-24 * time.Hour)
		// Only a lead decides (R32); a worker, the police or a counsellor cannot.
		for _, who := range []*casework.Actor{w.workerA, w.police, w.counsellor} {
			_, err := db.DecideRisk(ctx, who, a.ID, casework.TierHigh, "")
			if err == nil {
				t.Fatalf("%s decided a tier", who.Username)
			}
		}
		_, err := db.DecideRisk(ctx, w.lead, a.ID, casework.TierLow, "")
		pfField(t, "override without a reason", err, "reason")
		_, err = db.DecideRisk(ctx, w.lead, a.ID, casework.TierLow, strings.Repeat("理", 100000))
		pfField(t, "override with a 100,000-character reason (issue 15 §7)", err, "reason")
		d := storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierHigh, "精神状况不稳定"))
		if d.State != "confirmed" || d.EffectiveFrom != tomorrow || d.PolicyRef == "" || d.DecidedByName != "lead" {
			t.Fatalf("decision %+v", d)
		}
		_, err = db.DecideRisk(ctx, w.lead, a.ID, casework.TierHigh, "")
		pfCode(t, "decide twice", err, casework.ECONFLICT)
		// Today's duties are as they were; tomorrow's follow the high tier.
		du := storetest.Must(db.RiskDutiesOn(ctx, w.lead, w.a.ID, today))
		if du.Tier != "" || du.SurpriseMin != 3 || du.HomePeriod != casework.PeriodMonth || du.Window != (casework.Window{From: 360, To: 1320}) {
			t.Fatalf("today changed: %+v", du)
		}
		if ct := storetest.Must(db.CheckinToday(ctx, w.a.ID)); ct.Window != (casework.Window{From: 360, To: 1320}) {
			t.Fatalf("today's check-in window changed: %v", ct.Window)
		}
		du = storetest.Must(db.RiskDutiesOn(ctx, w.lead, w.a.ID, tomorrow))
		if du.Tier != casework.TierHigh || du.SurpriseMin != 6 || du.HomePeriod != casework.PeriodWeek || du.Window != (casework.Window{From: 480, To: 1200}) {
			t.Fatalf("tomorrow: %+v", du)
		}
		if !slices.ContainsFunc(du.Policy, func(r string) bool { return r != "national" }) {
			t.Fatalf("tomorrow's duties do not record the policy version: %v", du.Policy)
		}
		clock.Add(24 * time.Hour)
		if ct := storetest.Must(db.CheckinToday(ctx, w.a.ID)); ct.Window != (casework.Window{From: 480, To: 1200}) {
			t.Fatalf("tomorrow's check-in window: %v", ct.Window)
		}
		f := storetest.Must(db.GetRiskFile(ctx, w.police, w.a.ID))
		if f.Current == nil || f.Current.Tier != casework.TierHigh || f.Current.DecisionReason != "精神状况不稳定" || f.PersonName != "张甲" {
			t.Fatalf("file %+v", f)
		}
		_, err = db.GetRiskFile(ctx, w.counsellor, w.a.ID)
		if err == nil {
			t.Fatal("a counsellor reads risk tiers")
		}
		if n := len(pfAudit(t, db, w.pfWorld, "risk.confirm", w.a.ID)); n != 1 {
			t.Fatalf("audit risk.confirm: %d", n)
		}
	})
}

// The file fills what it knows, with its source: a job record, and a PHQ-9
// item 9 above zero, which forces the top tier (R31 hard override) and
// cannot be unticked by the form. An overridden proposal keeps both tiers.
func TestRiskFactsFromFileAndOverridesR31(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		storetest.Must(db.AddEmployment(ctx, w.workerA, w.a.ID, job("安椰厂", "2026-03-02", "")))
		form := storetest.Must(db.RiskAssessForm(ctx, w.workerA, w.a.ID))
		emp := form.Known.Answers["employment"]
		if emp.Value != "employed" || emp.SourceZH != "就业：来自 2026-03-02 的就业记录" || emp.SourceEN != "employment: from the job record of 2026-03-02" {
			t.Fatalf("employment %+v", emp)
		}
		if form.Known.Answers["missed_tests"].Value != "0" {
			t.Fatalf("missed tests %+v", form.Known.Answers["missed_tests"])
		}
		storetest.Must(db.RecordScale(ctx, w.workerA, w.a.ID, phq9(12, 1)))
		form = storetest.Must(db.RiskAssessForm(ctx, w.workerA, w.a.ID))
		if form.Known.Overrides[casework.OverrideSelfHarm].Value != "yes" || form.Known.Answers["mental_health"].Value != "10+" {
			t.Fatalf("PHQ-9: %+v", form.Known)
		}
		x := lowRisk(form.Instrument)
		x.Answers["employment"] = casework.RiskAnswer{Value: "employed", SourceZH: "伪造来源"}
		x.Overrides[casework.OverrideSelfHarm] = casework.RiskAnswer{Value: "no"} // the file says otherwise
		a := storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, x, "", ""))
		if a.Result.Proposed != casework.TierHigh || !slices.Contains(a.Result.Overrides, casework.OverrideSelfHarm) {
			t.Fatalf("item 9 did not force high: %+v", a.Result)
		}
		if a.Input.Answers["employment"].SourceZH != emp.SourceZH {
			t.Fatalf("source: %+v", a.Input.Answers["employment"])
		}
		if a.Input.Answers["mental_health"].SourceZH != "" {
			t.Fatalf("an answer the worker changed kept the file's source: %+v", a.Input.Answers["mental_health"])
		}
		d := storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierMedium, "已随访，本人否认自伤计划"))
		if d.State != "overridden" || d.Tier != casework.TierMedium || d.Result.Proposed != casework.TierHigh {
			t.Fatalf("override %+v", d)
		}
		_, err := db.AssessRisk(ctx, w.workerB, w.a.ID, x, "", "")
		if err == nil {
			t.Fatal("a worker of another community assessed")
		}
		x.Answers["family"] = casework.RiskAnswer{Value: "perfect"}
		_, err = db.AssessRisk(ctx, w.workerA, w.a.ID, x, "", "")
		pfField(t, "unknown answer", err, "answers.family")
	})
}

// R31: a reassessment is due monthly (risk.reassess_days) and at once on a
// trigger: a job found, a PHQ-9 item 9 above zero, a transfer. The tier
// travels with the file (R11).
func TestRiskReassessmentTasksAndTriggersR31(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		if k := riskTaskKinds(t, db, w.workerA, w.a.ID); !slices.Equal(k, []string{"risk_due"}) {
			t.Fatalf("never assessed: %v", k)
		}
		form := storetest.Must(db.RiskAssessForm(ctx, w.workerA, w.a.ID))
		a := storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, lowRisk(form.Instrument), "first", ""))
		if k := riskTaskKinds(t, db, w.lead, w.a.ID); !slices.Equal(k, []string{"risk_confirm"}) {
			t.Fatalf("lead, open proposal: %v", k)
		}
		if k := riskTaskKinds(t, db, w.workerA, w.a.ID); len(k) != 0 {
			t.Fatalf("worker, open proposal: %v", k)
		}
		storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierLow, "")) // 2026-03-10: next due 04-09
		clock.T = time.Date(2026, 4, 1, 4, 0, 0, 0, time.UTC)
		if k := riskTaskKinds(t, db, w.workerA, w.a.ID); len(k) != 0 {
			t.Fatalf("04-01, due 04-09 (8 days): %v", k)
		}
		clock.T = time.Date(2026, 4, 2, 4, 0, 0, 0, time.UTC)
		if k := riskTaskKinds(t, db, w.workerA, w.a.ID); !slices.Equal(k, []string{"risk_due"}) {
			t.Fatalf("04-02, due in 7 days: %v", k)
		}
		clock.T = time.Date(2026, 4, 10, 4, 0, 0, 0, time.UTC)
		ts := storetest.Must(db.Inbox(ctx, w.workerA))
		i := slices.IndexFunc(ts, func(t store.Task) bool { return t.Kind == "risk_due" && t.PersonID == w.a.ID })
		if i < 0 || !ts[i].Overdue {
			t.Fatalf("04-10: overdue task missing: %+v", ts)
		}
		// Reassess; then each trigger asks for one at once.
		clock.T = time.Date(2026, 4, 10, 5, 0, 0, 0, time.UTC)
		a = storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, lowRisk(form.Instrument), "scheduled", ""))
		storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierLow, ""))
		if k := riskTaskKinds(t, db, w.workerA, w.a.ID); len(k) != 0 {
			t.Fatalf("after reassessment: %v", k)
		}
		clock.Add(time.Hour)
		emp := storetest.Must(db.AddEmployment(ctx, w.workerA, w.a.ID, job("安椰厂", "2026-04-10", "")))
		if k := riskTaskKinds(t, db, w.workerA, w.a.ID); !slices.Equal(k, []string{"risk_trigger"}) {
			t.Fatalf("new job: %v", k)
		}
		f := storetest.Must(db.GetRiskFile(ctx, w.lead, w.a.ID))
		if !slices.Equal(f.Triggers, []store.RiskTrigger{store.TriggerJob}) {
			t.Fatalf("triggers %v", f.Triggers)
		}
		// The job lost asks for one too (issue 13 §3: "a new job or its
		// loss"): reassess after the new job, then record its last day.
		clock.Add(time.Hour)
		a = storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, lowRisk(form.Instrument), "trigger", ""))
		storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierLow, ""))
		if k := riskTaskKinds(t, db, w.workerA, w.a.ID); len(k) != 0 {
			t.Fatalf("after reassessing the new job: %v", k)
		}
		clock.Add(time.Hour)
		storetest.Must(db.UpdateEmployment(ctx, w.workerA, emp.ID, job("安椰厂", "2026-04-10", "2026-04-10"), "工厂裁员"))
		if k := riskTaskKinds(t, db, w.workerA, w.a.ID); !slices.Equal(k, []string{"risk_trigger"}) {
			t.Fatalf("job lost: %v", k)
		}
		if f = storetest.Must(db.GetRiskFile(ctx, w.lead, w.a.ID)); !slices.Equal(f.Triggers, []store.RiskTrigger{store.TriggerJob}) {
			t.Fatalf("job lost triggers %v", f.Triggers)
		}
		storetest.Must(db.RecordScale(ctx, w.workerA, w.b.ID, phq9(5, 1)))
		if k := riskTaskKinds(t, db, w.workerA, w.b.ID); !slices.Equal(k, []string{"risk_due"}) {
			t.Fatalf("never assessed b (item 9 asks for the first one): %v", k)
		}
		// Transfer: the tier travels with the file and a reassessment is asked.
		mkOrg := func(parent *casework.Org, kind casework.OrgKind, name string) *casework.Org {
			return storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{ParentID: parent.ID, Kind: kind, Name: name}))
		}
		street2 := mkOrg(w.county, casework.KindTownship, "河东街道")
		commC := mkOrg(street2, casework.KindCommunity, "红沙社区")
		newLead := pfStaff(t, db, "lead-new", casework.RoleLead, street2)
		newWorker := pfStaff(t, db, "worker-new", casework.RoleWorker, commC)
		tf := storetest.Must(db.StartTransfer(ctx, w.lead, w.a.ID, commC.ID, "本人迁居红沙社区"))
		clock.Add(time.Hour)
		storetest.Must(db.DecideTransfer(ctx, newLead, tf.ID, store.TransferDecision{Accept: true, WorkerID: newWorker.UserID, AgreementDate: pfD("2026-04-10")}))
		f = storetest.Must(db.GetRiskFile(ctx, newLead, w.a.ID))
		if f.Current == nil || f.Current.Tier != casework.TierLow || !slices.Contains(f.Triggers, store.TriggerTransfer) {
			t.Fatalf("after transfer: current %+v triggers %v", f.Current, f.Triggers)
		}
		if k := riskTaskKinds(t, db, newWorker, w.a.ID); !slices.Equal(k, []string{"risk_trigger"}) {
			t.Fatalf("new worker after transfer: %v", k)
		}
	})
}

// R31, R32: a tier above low held 90 days (risk.stepdown_days) with no
// violation gives the lead a step-down proposal; day 89 does not, and
// nothing steps down by itself.
func TestRiskStepDownAfterComplianceWindowR31(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		form := storetest.Must(db.RiskAssessForm(ctx, w.workerA, w.a.ID))
		x := lowRisk(form.Instrument)
		x.Overrides[casework.OverrideSeriousIllnes] = casework.RiskAnswer{Value: "yes"}
		a := storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, x, "", ""))
		storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierHigh, "")) // in force from 2026-03-11
		at := func(d string) *store.RiskFile {
			day := pfD(d)
			clock.T = time.Date(day.Year, day.Month, day.Day, 4, 0, 0, 0, time.UTC)
			return storetest.Must(db.GetRiskFile(ctx, w.lead, w.a.ID))
		}
		if f := at("2026-06-08"); f.StepDown { // 89 days after 03-11
			t.Fatal("step-down proposed on day 89")
		}
		f := at("2026-06-09") // day 90
		if !f.StepDown || f.Current.Tier != casework.TierHigh {
			t.Fatalf("day 90: step-down %v, tier %s", f.StepDown, f.Current.Tier)
		}
		if k := riskTaskKinds(t, db, w.lead, w.a.ID); !slices.Contains(k, "risk_stepdown") && !slices.Contains(k, "risk_due") {
			t.Fatalf("lead's tasks on day 90: %v", k)
		}
		if du := storetest.Must(db.RiskDutiesOn(ctx, w.lead, w.a.ID, pfD("2026-06-10"))); du.Tier != casework.TierHigh {
			t.Fatalf("stepped down by itself: %+v", du)
		}
	})
}

// Instrument versions: an office loads its own table for its subtree from
// a future date; assessments made before keep the instrument they were
// scored with; a bad table is refused naming the field.
func TestRiskInstrumentVersionsR31(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		form := storetest.Must(db.RiskAssessForm(ctx, w.workerA, w.a.ID))
		x := lowRisk(form.Instrument)
		x.Answers["employment"] = casework.RiskAnswer{Value: "unemployed"}
		x.Answers["criminal"] = casework.RiskAnswer{Value: "yes"}
		x.Answers["family"] = casework.RiskAnswer{Value: "strained"}
		old := storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, x, "", "")) // 2+2+1 = 5: medium
		if old.Result.Score != 5 || old.Result.Proposed != casework.TierMedium {
			t.Fatalf("default scoring %+v", old.Result)
		}
		in := casework.DefaultInstrument()
		in.Name, in.Uncalibrated, in.MediumFrom, in.HighFrom = "天涯区风险量化评估表", false, 8, 14
		in.Factors[6].Weight = 3 // employment
		in.Labels.HighZH, in.Labels.MediumZH, in.Labels.LowZH = "A", "B", "C"
		_, err := db.CreateRiskInstrument(ctx, w.office, w.county.ID, in, pfD("2026-03-10"), "")
		pfField(t, "effective today", err, "effective_from")
		_, err = db.CreateRiskInstrument(ctx, w.workerA, w.commA.ID, in, pfD("2026-03-11"), "")
		if err == nil {
			t.Fatal("a worker loaded an instrument")
		}
		bad := *in
		bad.HighFrom = 3
		_, err = db.CreateRiskInstrument(ctx, w.office, w.county.ID, &bad, pfD("2026-03-11"), "")
		pfField(t, "bands", err, "high_from")
		v := storetest.Must(db.CreateRiskInstrument(ctx, w.office, w.county.ID, in, pfD("2026-03-11"), "区禁毒办印发"))
		if v.ID == casework.DefaultInstrumentID {
			t.Fatal("not stored")
		}
		if got := storetest.Must(db.RiskInstrument(ctx, w.workerA, w.commA.ID, casework.Date{})); got.ID != casework.DefaultInstrumentID {
			t.Fatalf("today: %s", got.Name)
		}
		clock.Add(24 * time.Hour)
		if got := storetest.Must(db.RiskInstrument(ctx, w.workerA, w.commA.ID, casework.Date{})); got.ID != v.ID || got.TierLabel(casework.TierHigh, "zh") != "A" {
			t.Fatalf("inherited by the community: %+v", got)
		}
		nw := storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, x, "", "")) // 6+2+1 = 9: B
		if nw.Instrument.ID != v.ID || nw.Result.Score != 9 || nw.Result.Proposed != casework.TierMedium {
			t.Fatalf("new %+v %+v", nw.Instrument.ID, nw.Result)
		}
		f := storetest.Must(db.GetRiskFile(ctx, w.lead, w.a.ID))
		i := slices.IndexFunc(f.History, func(a *store.RiskAssessment) bool { return a.ID == old.ID })
		if i < 0 || f.History[i].Instrument.ID != casework.DefaultInstrumentID || f.History[i].Result.Score != 5 || f.History[i].State != "superseded" {
			t.Fatalf("old assessment: %+v", f.History[i])
		}
	})
}

// 定级率: persons under measure with a confirmed tier in force ÷ persons
// under measure, per subtree.
func TestRiskGradingRate(t *testing.T) {
	storetest.EachWithClock(t, helpStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newHelpWorld(t, db)
		gr := func(a *casework.Actor, org string, d casework.Date) (int, int) {
			g, u, err := db.GradingRate(ctx, a, org, d)
			if err != nil {
				t.Fatal(err)
			}
			return g, u
		}
		form := storetest.Must(db.RiskAssessForm(ctx, w.workerA, w.a.ID))
		a := storetest.Must(db.AssessRisk(ctx, w.workerA, w.a.ID, lowRisk(form.Instrument), "", ""))
		if g, u := gr(w.office, w.county.ID, casework.Date{}); g != 0 || u != 2 {
			t.Fatalf("proposal only: %d/%d", g, u)
		}
		storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierLow, ""))
		if g, u := gr(w.office, w.county.ID, casework.Date{}); g != 0 || u != 2 {
			t.Fatalf("confirmed today, in force tomorrow: %d/%d", g, u)
		}
		if g, u := gr(w.office, w.county.ID, pfD("2026-03-11")); g != 1 || u != 2 {
			t.Fatalf("tomorrow: %d/%d", g, u)
		}
		if g, u := gr(w.lead, w.commB.ID, pfD("2026-03-11")); g != 0 || u != 0 {
			t.Fatalf("community B: %d/%d", g, u)
		}
		_, _, err := db.GradingRate(ctx, w.workerB, w.commA.ID, casework.Date{})
		pfCode(t, "outside scope", err, casework.ENOTFOUND)
	})
}
