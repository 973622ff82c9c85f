package casework

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Risk assessment (风险评估分类管理; issue 13, PRODUCT §4, R31, R32).
//
// An instrument is configuration: hard overrides that force the top tier
// (the national 办法 of 2016, CARE.md §2.1), scored factors with weights,
// and the bands that turn a score into a tier. It is versioned and
// effective-dated per org node like policy, and inherited down the tree.
// Scoring is a pure function of the instrument and the answers; the result
// is only a proposal (R32: no solely automated adverse decision) until a
// lead confirms or overrides it with a reason.

// Permissions over risk tiers: everyone who works the files sees the tier;
// a worker (or lead) runs an assessment; only a lead confirms or overrides
// it (R32); offices and leads load instruments. Counsellors see none of it.
const (
	PermRiskView       Perm = "risk.view"
	PermRiskAssess     Perm = "risk.assess"
	PermRiskConfirm    Perm = "risk.confirm"
	PermRiskInstrument Perm = "risk.instrument"
)

// Tier is a risk tier (R31).
type Tier string

// The tiers, top first.
const (
	TierHigh   Tier = "high"
	TierMedium Tier = "medium"
	TierLow    Tier = "low"
)

// Tiers lists the tiers, top first.
var Tiers = []Tier{TierHigh, TierMedium, TierLow}

// Valid reports whether t is a known tier.
func (t Tier) Valid() bool { return slices.Contains(Tiers, t) }

// rank: 0 for high, 2 for low.
func (t Tier) rank() int { return slices.Index(Tiers, t) }

// Lower reports whether t is a lower tier than u (a step down).
func (t Tier) Lower(u Tier) bool { return t.rank() > u.rank() }

// Colour is the tier's colour on every page: red, yellow, green.
func (t Tier) Colour() string {
	switch t {
	case TierHigh:
		return "red"
	case TierMedium:
		return "yellow"
	case TierLow:
		return "green"
	}
	return "grey"
}

// The hard overrides (CARE.md B.1, national 办法 2016; HIGH except the
// PHQ-9 linkage, MED). They are part of every instrument: an office may
// add scored factors and move bands, but none of these can be removed.
const (
	OverrideRefused       = "refused"         // refusing 社区戒毒/社区康复
	OverrideSerious       = "serious"         // an open serious violation under R9
	OverrideSelfHarm      = "self_harm"       // suicide or self-harm tendency, incl. PHQ-9 item 9 > 0
	OverrideMental        = "mental"          // mental abnormality or loss of behavioural control
	OverrideSeriousIllnes = "serious_illness" // serious illness or disability that prevents detention
)

// Overrides lists the hard overrides in display order.
var Overrides = []string{OverrideRefused, OverrideSerious, OverrideSelfHarm, OverrideMental, OverrideSeriousIllnes}

var overrideLabels = map[string][2]string{
	OverrideRefused:       {"拒绝接受社区戒毒（康复）", "refuses community treatment or rehabilitation"},
	OverrideSerious:       {"严重违反协议（未结案）", "an open serious violation of the agreement"},
	OverrideSelfHarm:      {"有自杀、自伤倾向（含PHQ-9第9题阳性）", "suicide or self-harm tendency (including PHQ-9 item 9 above zero)"},
	OverrideMental:        {"精神异常或行为失控", "mental abnormality or loss of behavioural control"},
	OverrideSeriousIllnes: {"患严重疾病、不宜收治", "serious illness or disability that prevents detention"},
}

// OverrideLabel names an override in the language.
func OverrideLabel(code, lang string) string { return label(overrideLabels[code], code, lang) }

// RiskOption is one answer to a factor and the points it scores (before
// the factor's weight).
type RiskOption struct {
	Value  string `json:"value"`
	ZH     string `json:"zh"`
	EN     string `json:"en"`
	Points int    `json:"points"`
}

// RiskFactor is one scored factor.
type RiskFactor struct {
	Code    string       `json:"code"`
	ZH      string       `json:"zh"`
	EN      string       `json:"en"`
	Weight  int          `json:"weight"`
	Options []RiskOption `json:"options"`
}

// Label names the factor in the language.
func (f *RiskFactor) Label(lang string) string { return pick(lang, f.ZH, f.EN) }

// Option returns the factor's option with the value.
func (f *RiskFactor) Option(v string) (*RiskOption, bool) {
	for i := range f.Options {
		if f.Options[i].Value == v {
			return &f.Options[i], true
		}
	}
	return nil, false
}

// Label names the option in the language.
func (o *RiskOption) Label(lang string) string { return pick(lang, o.ZH, o.EN) }

// TierLabels are the configurable names of the tiers (高/中/低, or A/B/C).
type TierLabels struct {
	HighZH   string `json:"high_zh"`
	HighEN   string `json:"high_en"`
	MediumZH string `json:"medium_zh"`
	MediumEN string `json:"medium_en"`
	LowZH    string `json:"low_zh"`
	LowEN    string `json:"low_en"`
}

// Instrument is one version of a risk instrument: the scored factors, the
// bands (a score of HighFrom or more proposes high, MediumFrom or more
// medium, else low) and the tier labels. Uncalibrated marks weights no
// one has validated (the shipped default: CARE.md B.2 found none).
type Instrument struct {
	ID            string       `json:"-"`
	OrgID         string       `json:"-"`
	OrgName       string       `json:"-"`
	EffectiveFrom Date         `json:"-"`
	Note          string       `json:"-"`
	CreatedByName string       `json:"-"`
	Name          string       `json:"name"`
	NameEN        string       `json:"name_en,omitempty"`
	Uncalibrated  bool         `json:"uncalibrated"`
	Factors       []RiskFactor `json:"factors"`
	MediumFrom    int          `json:"medium_from"`
	HighFrom      int          `json:"high_from"`
	Labels        TierLabels   `json:"labels"`
}

// DefaultInstrumentID is the id of the built-in instrument, used where no
// org of the chain has loaded one.
const DefaultInstrumentID = "default-2026"

func opts(o ...RiskOption) []RiskOption { return o }

// DefaultInstrument is CARE.md "What to build" B: the Zhejiang factor list
// (浙公通字〔2022〕65号) with equal-weight placeholders, marked
// uncalibrated (未校准), since no published weights were found (R31:
// weights UNCONFIRMED). The points of a factor run 0 (no risk) to 2.
func DefaultInstrument() *Instrument {
	return &Instrument{
		ID: DefaultInstrumentID, Name: "国家默认（未校准）", NameEN: "National default (uncalibrated)", Uncalibrated: true, MediumFrom: 5, HighFrom: 10,
		Labels: TierLabels{HighZH: "高", HighEN: "high", MediumZH: "中", MediumEN: "medium", LowZH: "低", LowEN: "low"},
		Factors: []RiskFactor{
			{Code: "drug_type", ZH: "染毒种类", EN: "Drug type", Weight: 1, Options: opts(
				RiskOption{"none", "无或不明", "none or unknown", 0},
				RiskOption{"opioid", "传统毒品（阿片类）", "opioid", 1},
				RiskOption{"synthetic", "合成毒品或新精神活性物质", "synthetic or new psychoactive", 2})},
			{Code: "use_degree", ZH: "染毒程度（ASSIST/SDS）", EN: "Degree of use (ASSIST/SDS)", Weight: 1, Options: opts(
				RiskOption{"low", "低", "low", 0},
				RiskOption{"moderate", "中", "moderate", 1},
				RiskOption{"high", "高（ASSIST≥27 或 SDS 超过界值）", "high (ASSIST ≥27 or SDS above cut-off)", 2})},
			{Code: "missed_tests", ZH: "近90天未检测次数", EN: "Tests missed in the last 90 days", Weight: 1, Options: opts(
				RiskOption{"0", "0次", "none", 0}, RiskOption{"1", "1次", "one", 1}, RiskOption{"2+", "2次及以上", "two or more", 2})},
			{Code: "episodes", ZH: "戒毒次数", EN: "Prior treatment episodes", Weight: 1, Options: opts(
				RiskOption{"0", "0次", "none", 0}, RiskOption{"1", "1次", "one", 1}, RiskOption{"2+", "2次及以上", "two or more", 2})},
			{Code: "abstinent", ZH: "戒断时限", EN: "Months abstinent", Weight: 1, Options: opts(
				RiskOption{"12+", "12个月及以上", "12 months or more", 0},
				RiskOption{"6-11", "6至11个月", "6 to 11 months", 1},
				RiskOption{"<6", "不足6个月", "under 6 months", 2})},
			{Code: "family", ZH: "家庭环境", EN: "Family environment", Weight: 1, Options: opts(
				RiskOption{"supportive", "家庭支持", "supportive", 0},
				RiskOption{"strained", "关系紧张", "strained", 1},
				RiskOption{"none", "无家庭支持或家人吸毒", "no support, or family uses drugs", 2})},
			{Code: "employment", ZH: "就业情况", EN: "Employment", Weight: 1, Options: opts(
				RiskOption{"employed", "在业、在学或退休", "working, in school or retired", 0},
				RiskOption{"unemployed", "无业", "not working", 2})},
			{Code: "criminal", ZH: "违法犯罪记录", EN: "Criminal record", Weight: 1, Options: opts(
				RiskOption{"no", "无", "none", 0}, RiskOption{"yes", "有", "yes", 2})},
			{Code: "mental_health", ZH: "心理状况（PHQ-9/GAD-7）", EN: "Mental health (PHQ-9/GAD-7)", Weight: 1, Options: opts(
				RiskOption{"below", "均低于10分", "both below 10", 0},
				RiskOption{"10+", "PHQ-9 或 GAD-7 ≥10分", "PHQ-9 or GAD-7 of 10 or more", 2})},
		},
	}
}

// DisplayName is the instrument's name in the language (the Chinese one
// when it has no English name).
func (in *Instrument) DisplayName(lang string) string {
	if lang == "en" && in.NameEN != "" {
		return in.NameEN
	}
	return in.Name
}

// TierLabel names a tier with the instrument's labels.
func (in *Instrument) TierLabel(t Tier, lang string) string {
	l := in.Labels
	switch t {
	case TierHigh:
		return pick(lang, l.HighZH, l.HighEN)
	case TierMedium:
		return pick(lang, l.MediumZH, l.MediumEN)
	case TierLow:
		return pick(lang, l.LowZH, l.LowEN)
	}
	return string(t)
}

// Factor returns the factor with the code.
func (in *Instrument) Factor(code string) (*RiskFactor, bool) {
	for i := range in.Factors {
		if in.Factors[i].Code == code {
			return &in.Factors[i], true
		}
	}
	return nil, false
}

// MaxScore is the highest score the instrument can give.
func (in *Instrument) MaxScore() int {
	n := 0
	for _, f := range in.Factors {
		m := 0
		for _, o := range f.Options {
			m = max(m, o.Points)
		}
		n += m * f.Weight
	}
	return n
}

// Validate checks an instrument before it is stored. It reports every
// problem at once (FieldErrors as the cause, the first one's field as the
// error's own), each naming its field ("factors[2].weight",
// "factors[2].options[1].points"), so a form or an Excel sheet can show
// each beside its row and column.
func (in *Instrument) Validate() error {
	return in.Problems().Err()
}

// Problems lists every problem of the instrument (none: valid).
func (in *Instrument) Problems() FieldErrors {
	var fe FieldErrors
	if strings.TrimSpace(in.Name) == "" {
		fe = append(fe, Invalid("name", "须填写评估表名称", "the instrument needs a name"))
	}
	if len(in.Factors) == 0 {
		fe = append(fe, Invalid("factors", "至少须有一个评分项", "the instrument needs at least one factor"))
	}
	seen := map[string]bool{}
	for i, f := range in.Factors {
		field := fmt.Sprintf("factors[%d]", i)
		switch {
		case f.Code == "" || strings.ContainsAny(f.Code, " \t"):
			fe = append(fe, Invalid(field+".code", "第%d项：代码不能为空或含空格", "factor %d: the code must be one word", i+1))
		case seen[f.Code]:
			fe = append(fe, Invalid(field+".code", "第%d项：代码 %q 重复", "factor %d: code %q appears twice", i+1, f.Code))
		}
		seen[f.Code] = true
		if strings.TrimSpace(f.ZH) == "" {
			fe = append(fe, Invalid(field+".zh", "第%d项（%s）：须有中文名称", "factor %d (%s): needs a Chinese name", i+1, f.Code))
		}
		if strings.TrimSpace(f.EN) == "" {
			fe = append(fe, Invalid(field+".en", "第%d项（%s）：须有英文名称", "factor %d (%s): needs an English name", i+1, f.Code))
		}
		if f.Weight < 0 || f.Weight > 100 {
			fe = append(fe, Invalid(field+".weight", "第%d项（%s）：权重须在0到100之间，收到 %d", "factor %d (%s): the weight must be 0 to 100, got %d", i+1, f.Code, f.Weight))
		}
		if len(f.Options) < 2 {
			fe = append(fe, Invalid(field+".options", "第%d项（%s）：至少须有两个选项", "factor %d (%s): needs at least two answers", i+1, f.Code))
		}
		vals := map[string]bool{}
		for j, o := range f.Options {
			of := fmt.Sprintf("%s.options[%d]", field, j)
			if o.Value == "" || vals[o.Value] {
				fe = append(fe, Invalid(of+".value", "第%d项（%s）选项%d：值为空或重复", "factor %d (%s) answer %d: the value is empty or repeated", i+1, f.Code, j+1))
			}
			vals[o.Value] = true
			if o.Points < 0 || o.Points > 100 {
				fe = append(fe, Invalid(of+".points", "第%d项（%s）选项%d：分值须在0到100之间，收到 %d", "factor %d (%s) answer %d: points must be 0 to 100, got %d", i+1, f.Code, j+1, o.Points))
			}
			if strings.TrimSpace(o.ZH) == "" {
				fe = append(fe, Invalid(of+".zh", "第%d项（%s）选项%d：须有中文名称", "factor %d (%s) answer %d: needs a Chinese label", i+1, f.Code, j+1))
			}
			if strings.TrimSpace(o.EN) == "" {
				fe = append(fe, Invalid(of+".en", "第%d项（%s）选项%d：须有英文名称", "factor %d (%s) answer %d: needs an English label", i+1, f.Code, j+1))
			}
		}
	}
	switch {
	case in.MediumFrom < 1:
		fe = append(fe, Invalid("medium_from", "“中”的起点分须大于0", "the medium band must start above 0"))
	case in.HighFrom <= in.MediumFrom:
		fe = append(fe, Invalid("high_from", "“高”的起点分（%d）须大于“中”的起点分（%d）", "the high band (%d) must start above the medium band (%d)", in.HighFrom, in.MediumFrom))
	default:
		if m := in.MaxScore(); in.HighFrom > m && len(in.Factors) > 0 {
			fe = append(fe, Invalid("high_from", "“高”的起点分（%d）超过可能的最高分（%d），无人能评为高", "the high band (%d) starts above the highest possible score (%d): no one could score high", in.HighFrom, m))
		}
	}
	l := in.Labels
	for _, s := range []struct{ f, v string }{{"labels.high_zh", l.HighZH}, {"labels.high_en", l.HighEN}, {"labels.medium_zh", l.MediumZH},
		{"labels.medium_en", l.MediumEN}, {"labels.low_zh", l.LowZH}, {"labels.low_en", l.LowEN}} {
		if strings.TrimSpace(s.v) == "" {
			fe = append(fe, Invalid(s.f, "须填写各等级的中文和英文名称", "every tier needs a Chinese and an English label"))
		}
	}
	return fe
}

// Body is the instrument as stored (JSON).
func (in *Instrument) Body() string {
	b, _ := json.Marshal(in) // plain structs always marshal
	return string(b)
}

// ParseInstrumentBody reads a stored body.
func ParseInstrumentBody(s string) (*Instrument, error) {
	var in Instrument
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("risk instrument: %w", err)
	}
	return &in, nil
}

// RiskAnswer is one factor's answer and where it came from: "" when the
// worker gave it, else a source the file knows, shown beside it
// ("就业：来自 2026-03-02 的就业记录").
type RiskAnswer struct {
	Value    string `json:"value"`
	SourceZH string `json:"source_zh,omitempty"`
	SourceEN string `json:"source_en,omitempty"`
}

// RiskInput is what an assessment is scored from: an answer per factor
// and the hard overrides that hold (with why, in the same form).
type RiskInput struct {
	Answers   map[string]RiskAnswer `json:"answers"`
	Overrides map[string]RiskAnswer `json:"overrides"` // code → why (Value "yes")
}

// ScoredItem is one factor that scored.
type ScoredItem struct {
	Code   string `json:"code"`
	Value  string `json:"value"`
	Points int    `json:"points"` // weight × option points
}

// RiskResult is an assessment's outcome: the proposed tier, never in
// force by itself (R32).
type RiskResult struct {
	Score     int          `json:"score"`
	Items     []ScoredItem `json:"items"`     // the factors that scored, in instrument order
	Overrides []string     `json:"overrides"` // hard overrides that held
	Proposed  Tier         `json:"proposed"`
}

// Band turns a score into a tier by the instrument's bands.
func (in *Instrument) Band(score int) Tier {
	switch {
	case score >= in.HighFrom:
		return TierHigh
	case score >= in.MediumFrom:
		return TierMedium
	}
	return TierLow
}

// Score scores the input. Every factor must be answered with one of its
// options (EINVALID naming the factor otherwise); any hard override
// proposes high whatever the score (CARE.md B.1).
func (in *Instrument) Score(x RiskInput) (*RiskResult, error) {
	r := &RiskResult{}
	for code, a := range x.Overrides {
		if !slices.Contains(Overrides, code) {
			return nil, Invalid("overrides."+code, "未知的必评高风险情形 %q", "unknown hard override %q", code)
		}
		if a.Value == "yes" {
			r.Overrides = append(r.Overrides, code)
		}
	}
	slices.SortFunc(r.Overrides, func(a, b string) int { return slices.Index(Overrides, a) - slices.Index(Overrides, b) })
	for code := range x.Answers {
		if _, ok := in.Factor(code); !ok {
			return nil, Invalid("answers."+code, "评估表中没有评分项 %q", "the instrument has no factor %q", code)
		}
	}
	for _, f := range in.Factors {
		a, ok := x.Answers[f.Code]
		if !ok || a.Value == "" {
			return nil, &Error{Code: EINVALID, Field: "answers." + f.Code, ZH: "请回答“" + f.ZH + "”", EN: "answer " + f.EN}
		}
		o, ok := f.Option(a.Value)
		if !ok {
			return nil, &Error{Code: EINVALID, Field: "answers." + f.Code,
				ZH: fmt.Sprintf("“%s”没有选项 %q", f.ZH, a.Value), EN: fmt.Sprintf("%s has no answer %q", f.EN, a.Value)}
		}
		if p := o.Points * f.Weight; p > 0 {
			r.Score += p
			r.Items = append(r.Items, ScoredItem{Code: f.Code, Value: a.Value, Points: p})
		}
	}
	r.Proposed = in.Band(r.Score)
	if len(r.Overrides) > 0 {
		r.Proposed = TierHigh
	}
	return r, nil
}
