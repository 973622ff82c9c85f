package casework

import "testing"

// lowAnswers answers every factor of the default instrument with its
// no-risk option.
func lowAnswers() RiskInput {
	in := DefaultInstrument()
	x := RiskInput{Answers: map[string]RiskAnswer{}, Overrides: map[string]RiskAnswer{}}
	for _, f := range in.Factors {
		x.Answers[f.Code] = RiskAnswer{Value: f.Options[0].Value}
	}
	return x
}

// R31, CARE.md B.1: each hard override forces the top tier whatever the score.
func TestRiskHardOverridesR31(t *testing.T) {
	in := DefaultInstrument()
	for _, code := range Overrides {
		x := lowAnswers()
		x.Overrides[code] = RiskAnswer{Value: "yes"}
		r, err := in.Score(x)
		if err != nil {
			t.Fatal(code, err)
		}
		if r.Proposed != TierHigh || r.Score != 0 || len(r.Overrides) != 1 || r.Overrides[0] != code {
			t.Errorf("%s: got %+v, want high with the override named and score 0", code, r)
		}
		if OverrideLabel(code, "zh") == code || OverrideLabel(code, "en") == code {
			t.Errorf("%s has no label", code)
		}
		x.Overrides[code] = RiskAnswer{Value: "no"}
		if r, _ := in.Score(x); r.Proposed != TierLow {
			t.Errorf("%s answered no: got %s, want low", code, r.Proposed)
		}
	}
	x := lowAnswers()
	x.Overrides["astrology"] = RiskAnswer{Value: "yes"}
	if _, err := in.Score(x); !IsCode(err, EINVALID) {
		t.Errorf("unknown override: %v", err)
	}
}

// Band boundaries: MediumFrom-1 is low, MediumFrom medium, HighFrom-1
// medium, HighFrom high; only scoring items are listed, weighted.
func TestRiskScoringBandsR31(t *testing.T) {
	in := DefaultInstrument()
	if !in.Uncalibrated {
		t.Fatal("the shipped default must be marked uncalibrated")
	}
	for _, c := range []struct {
		score int
		want  Tier
	}{{0, TierLow}, {in.MediumFrom - 1, TierLow}, {in.MediumFrom, TierMedium}, {in.HighFrom - 1, TierMedium}, {in.HighFrom, TierHigh}, {in.MaxScore(), TierHigh}} {
		if got := in.Band(c.score); got != c.want {
			t.Errorf("score %d: got %s, want %s", c.score, got, c.want)
		}
	}
	// Weights: employment unemployed (2 points) × weight 3 = 6; synthetic 2.
	in.Factors[6].Weight = 3
	x := lowAnswers()
	x.Answers["employment"] = RiskAnswer{Value: "unemployed", SourceZH: "来自就业记录"}
	x.Answers["drug_type"] = RiskAnswer{Value: "synthetic"}
	r, err := in.Score(x)
	if err != nil {
		t.Fatal(err)
	}
	if r.Score != 8 || len(r.Items) != 2 || r.Items[0].Code != "drug_type" || r.Items[1].Points != 6 || r.Proposed != TierMedium {
		t.Errorf("got %+v", r)
	}
	// Every factor must be answered, with a known answer.
	delete(x.Answers, "family")
	if _, err := in.Score(x); !IsCode(err, EINVALID) || err.(*Error).Field != "answers.family" {
		t.Errorf("missing answer: %v", err)
	}
	x.Answers["family"] = RiskAnswer{Value: "perfect"}
	if _, err := in.Score(x); !IsCode(err, EINVALID) {
		t.Errorf("unknown answer: %v", err)
	}
}

func TestRiskInstrumentValidate(t *testing.T) {
	if err := DefaultInstrument().Validate(); err != nil {
		t.Fatal(err)
	}
	in := DefaultInstrument()
	in.HighFrom = in.MediumFrom
	if err := in.Validate(); !IsCode(err, EINVALID) || err.(*Error).Field != "high_from" {
		t.Errorf("bands: %v", err)
	}
	in = DefaultInstrument()
	in.Factors[2].Weight = -1
	if err := in.Validate(); err == nil || err.(*Error).Field != "factors[2].weight" {
		t.Errorf("weight: %v", err)
	}
	in = DefaultInstrument()
	in.HighFrom = in.MaxScore() + 1
	if err := in.Validate(); err == nil || err.(*Error).Field != "high_from" {
		t.Errorf("unreachable high: %v", err)
	}
}

// R31: a tier setting "same" defers to the general setting; set, it wins.
func TestPolicyForTierR31(t *testing.T) {
	p := ResolvePolicy([]*Org{{ID: "root", Path: "/root/"}}, nil, Date{Year: 2026, Month: 3, Day: 1})
	if got := p.ForTier("visit.home.period", TierHigh).Value.Enum(); got != string(PeriodWeek) {
		t.Errorf("high home: %s", got)
	}
	if got := p.ForTier("visit.home.period", TierMedium).Value.Enum(); got != string(PeriodMonth) {
		t.Errorf("medium home (same): %s", got)
	}
	if got := CadencePeriod(p, CadenceHome, string(TierMedium)); got != PeriodMonth {
		t.Errorf("CadencePeriod medium: %s", got)
	}
	if got := CadencePeriod(p, CadenceContact, string(TierLow)); got != PeriodMonth {
		t.Errorf("CadencePeriod low contact: %s", got)
	}
	if got := p.ForTier("test.surprise_min", TierHigh).Value.Int(); got != 6 {
		t.Errorf("high surprise: %d", got)
	}
	if got := p.ForTier("checkin.window", TierHigh).Value.Window(); got != (Window{360, 1320}) {
		t.Errorf("high window (same): %v", got)
	}
	s, _ := PolicySetting("checkin.tier.low.window")
	v, err := s.Parse("same")
	if err != nil || !v.Same() || v.String() != "same" {
		t.Errorf("parse same: %v %v", v, err)
	}
	if _, err := s.Parse("08:00-20:00"); err != nil {
		t.Error(err)
	}
	g, _ := PolicySetting("checkin.window")
	if _, err := g.Parse("same"); err == nil {
		t.Error("a general setting took same")
	}
}
