package casework

// scales.go scores the screening scales a counsellor or worker administers
// (issue 11 §3; CARE.md §3 and "What to build" C): PHQ-9, GAD-7, the Zung
// self-rating depression scale (SDS) and WHO ASSIST v3.0. The item texts,
// answer values and band tables live in scales/scales.json, not in code;
// this file holds only the scoring rules, which are the published ones.

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

//go:embed scales/scales.json
var scalesJSON []byte

// ScaleOption is one answer and its value (the item score as published).
type ScaleOption struct {
	Value int    `json:"value"`
	ZH    string `json:"zh"`
	EN    string `json:"en"`
}

// Label is the option's text in the language.
func (o ScaleOption) Label(lang string) string { return pick(lang, o.ZH, o.EN) }

// ScaleItem is one question of a summed scale. Options, when set, are the
// item's own answers (the SDS's item 5 is answered "not difficult" to
// "impossible"); otherwise the scale's apply.
type ScaleItem struct {
	ZH      string        `json:"zh"`
	EN      string        `json:"en"`
	Options []ScaleOption `json:"options,omitempty"`
}

// Text is the item in the language.
func (i ScaleItem) Text(lang string) string { return pick(lang, i.ZH, i.EN) }

// Band is one range of scores and its label; Level 0–4 colours it.
type Band struct {
	Key   string `json:"key"`
	Min   int    `json:"min"`
	Max   int    `json:"max"`
	Level int    `json:"level"`
	ZH    string `json:"zh"`
	EN    string `json:"en"`
}

// Label is the band's name in the language.
func (b Band) Label(lang string) string { return pick(lang, b.ZH, b.EN) }

// BandSet is a named band table; policy picks one per scale.
type BandSet struct {
	Key   string `json:"key"`
	ZH    string `json:"zh"`
	EN    string `json:"en"`
	Bands []Band `json:"bands"`
}

// Label names the table in the language.
func (s BandSet) Label(lang string) string { return pick(lang, s.ZH, s.EN) }

// band returns the band holding score.
func (s BandSet) band(score int) (Band, bool) {
	for _, b := range s.Bands {
		if score >= b.Min && score <= b.Max {
			return b, true
		}
	}
	return Band{}, false
}

// AssistSubstance is one substance class of the ASSIST.
type AssistSubstance struct {
	Code    string `json:"code"`
	ZH      string `json:"zh"`
	EN      string `json:"en"`
	BandSet string `json:"band_set"` // "alcohol" or "other"
}

// Label names the substance in the language.
func (s AssistSubstance) Label(lang string) string { return pick(lang, s.ZH, s.EN) }

// AssistQuestion is one ASSIST question, asked per substance.
type AssistQuestion struct {
	Key     string        `json:"key"`
	ZH      string        `json:"zh"`
	EN      string        `json:"en"`
	Options []ScaleOption `json:"options"`
}

// Text is the question in the language.
func (q AssistQuestion) Text(lang string) string { return pick(lang, q.ZH, q.EN) }

// Scale is one screening instrument.
type Scale struct {
	Code       string            `json:"code"`
	Version    string            `json:"version"`
	Scoring    string            `json:"scoring"` // sum, zung, assist
	NameZH     string            `json:"name_zh"`
	NameEN     string            `json:"name_en"`
	PeriodZH   string            `json:"period_zh"`
	PeriodEN   string            `json:"period_en"`
	Options    []ScaleOption     `json:"options"`
	Items      []ScaleItem       `json:"items"`
	Reverse    []int             `json:"reverse"` // zung: 1-based items scored 5 − answer
	Substances []AssistSubstance `json:"substances"`
	Questions  []AssistQuestion  `json:"questions"`
	Injection  *AssistQuestion   `json:"injection"`
	BandSets   []BandSet         `json:"band_sets"`
}

// Name is the scale's name in the language.
func (s *Scale) Name(lang string) string { return pick(lang, s.NameZH, s.NameEN) }

// Period is the scale's instruction in the language.
func (s *Scale) Period(lang string) string { return pick(lang, s.PeriodZH, s.PeriodEN) }

// BandSetByKey returns the named band table, or the default (first) for "".
func (s *Scale) BandSetByKey(key string) (BandSet, bool) {
	if key == "" && len(s.BandSets) > 0 {
		return s.BandSets[0], true
	}
	for _, b := range s.BandSets {
		if b.Key == key {
			return b, true
		}
	}
	return BandSet{}, false
}

// Scales is every scale, in display order.
var scales = mustLoadScales(scalesJSON)

func mustLoadScales(b []byte) []*Scale {
	var doc struct {
		Scales []*Scale `json:"scales"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		panic("casework: scales.json: " + err.Error())
	}
	for _, s := range doc.Scales {
		if len(s.BandSets) == 0 {
			panic("casework: scale " + s.Code + " has no band table")
		}
	}
	return doc.Scales
}

// Scales returns every scale, in display order.
func Scales() []*Scale { return scales }

// ItemOptions are the answers of item i (0-based): its own, or the scale's.
func (s *Scale) ItemOptions(i int) []ScaleOption {
	if i >= 0 && i < len(s.Items) && len(s.Items[i].Options) > 0 {
		return s.Items[i].Options
	}
	return s.Options
}

// ScaleByCode returns the scale with the code.
func ScaleByCode(code string) (*Scale, bool) {
	for _, s := range scales {
		if s.Code == code {
			return s, true
		}
	}
	return nil, false
}

// NotAnswered marks an item left blank in ScaleAnswers.Items.
const NotAnswered = -1

// ScaleAnswers are the answers of one administration. A summed scale or
// the SDS has one answer per item, in order; the ASSIST has, per
// substance code, the answer value of each question asked ("q1"…"q7"; a
// question skipped by the interview's rules is absent) and the injection
// question once.
type ScaleAnswers struct {
	Items      []int                     `json:"items,omitempty"`
	Substances map[string]map[string]int `json:"substances,omitempty"`
	Injection  *int                      `json:"injection,omitempty"`
}

// SubstanceScore is the ASSIST specific substance involvement score of one
// substance and its band (alcohol has its own bands).
type SubstanceScore struct {
	Code  string `json:"code"`
	Score int    `json:"score"`
	Band  Band   `json:"band"`
}

// ScaleResult is what the system scored: the total (the SDS raw total),
// the SDS index, the band, and for the ASSIST each substance's score; the
// highest substance score is the total and its band the band. Bands is
// the band table used, stored with the administration.
type ScaleResult struct {
	Scale      string           `json:"scale"`
	Version    string           `json:"version"`
	BandSet    string           `json:"band_set"`
	Bands      []BandSet        `json:"bands"`
	Total      int              `json:"total"`
	Index      int              `json:"index,omitempty"`
	Band       Band             `json:"band"`
	Substances []SubstanceScore `json:"substances,omitempty"`
	Item9      int              `json:"item9,omitempty"` // PHQ-9 item 9 (self-harm thoughts)
}

// Score returns the chart value: the SDS index, else the total.
func (r *ScaleResult) Score() int {
	if r.Scale == "sds" {
		return r.Index
	}
	return r.Total
}

// Item9Flag reports whether the administration is a PHQ-9 with item 9
// above zero: "clinically significant regardless of the overall total and
// always warrants immediate follow-up" (CARE.md §3.1).
func (r *ScaleResult) Item9Flag() bool { return r.Scale == "phq9" && r.Item9 > 0 }

// ScoreScale checks the answers and scores them with the named band table
// ("" for the scale's default). An answer out of range, missing, or given
// where the interview skips the question is refused naming the item.
func ScoreScale(code, bandSet string, a ScaleAnswers) (*ScaleResult, error) {
	s, ok := ScaleByCode(code)
	if !ok {
		return nil, Invalid("scale", "未知的量表“%s”", "unknown scale %q", code)
	}
	res := &ScaleResult{Scale: s.Code, Version: s.Version}
	switch s.Scoring {
	case "assist":
		return res, s.scoreAssist(res, a)
	case "sum", "zung":
	default:
		return nil, fmt.Errorf("scale %s: unknown scoring %q", s.Code, s.Scoring)
	}
	set, ok := s.BandSetByKey(bandSet)
	if !ok {
		return nil, invalidText("band_set", fmt.Sprintf("量表“%s”没有名为“%s”的分级标准", s.NameZH, bandSet), fmt.Sprintf("scale %s has no band table %q", s.NameEN, bandSet))
	}
	res.BandSet, res.Bands = set.Key, []BandSet{set}
	if len(a.Items) != len(s.Items) {
		n := min(len(a.Items), len(s.Items)) + 1
		if len(a.Items) > len(s.Items) {
			return nil, invalidText("items", fmt.Sprintf("%s只有%d题，收到%d个回答", s.NameZH, len(s.Items), len(a.Items)),
				fmt.Sprintf("%s has %d items, got %d answers", s.NameEN, len(s.Items), len(a.Items)))
		}
		return nil, Invalid(fmt.Sprintf("q%d", n), "第%d题未作答", "item %d is not answered", n)
	}
	var errs FieldErrors // every bad item at once (issue 18 item 9)
	for i, v := range a.Items {
		if v == NotAnswered {
			errs = append(errs, Invalid(fmt.Sprintf("q%d", i+1), "第%d题未作答", "item %d is not answered", i+1))
			continue
		}
		if opts := s.ItemOptions(i); !slices.ContainsFunc(opts, func(o ScaleOption) bool { return o.Value == v }) {
			errs = append(errs, Invalid(fmt.Sprintf("q%d", i+1), "第%d题的回答“%d”无效，应为%s", "item %d: answer %d is not one of %s",
				i+1, v, optionValues(opts)))
			continue
		}
		if s.Scoring == "zung" && slices.Contains(s.Reverse, i+1) {
			v = 5 - v // positively worded items are reverse-scored
		}
		res.Total += v
	}
	if len(errs) > 0 {
		return nil, errs.asError()
	}
	score := res.Total
	if s.Scoring == "zung" {
		// The index is the raw total × 1.25, whole part (粗分×1.25取整):
		// in integers, raw×5/4 rounded down.
		res.Index = res.Total * 5 / 4
		score = res.Index
	}
	if s.Code == "phq9" {
		res.Item9 = a.Items[8]
	}
	b, ok := set.band(score)
	if !ok {
		return nil, fmt.Errorf("scale %s: score %d outside band table %s", s.Code, score, set.Key)
	}
	res.Band = b
	return res, nil
}

func optionValues(os []ScaleOption) string {
	var vs []string
	for _, o := range os {
		vs = append(vs, fmt.Sprint(o.Value))
	}
	return strings.Join(vs, "/")
}

// scoreAssist applies the WHO ASSIST v3.0 manual: Q1 (lifetime use) gates
// the substance; Q2–Q7 are asked only for a substance used in life; Q3–Q5
// only for one used in the past three months (Q2 not "never"); Q5 is never
// asked about tobacco. The specific substance involvement score is
// Q2+Q3+Q4+Q5+Q6+Q7; Q1 and Q8 (injection) are not summed. Alcohol is banded
// 0–10/11–26/27+, every other substance 0–3/4–26/27+.
func (s *Scale) scoreAssist(res *ScaleResult, a ScaleAnswers) error {
	res.BandSet = "who"
	res.Bands = s.BandSets
	known := map[string]bool{}
	for _, sub := range s.Substances {
		known[sub.Code] = true
	}
	for code := range a.Substances {
		if !known[code] {
			return Invalid("substances", "ASSIST 中没有物质“%s”", "ASSIST has no substance %q", code)
		}
	}
	for _, sub := range s.Substances {
		ans := a.Substances[sub.Code]
		field := func(q string) string { return sub.Code + "." + q }
		for k := range ans {
			if !slices.ContainsFunc(s.Questions, func(q AssistQuestion) bool { return q.Key == k }) {
				return Invalid(field(k), "ASSIST 没有问题“%s”", "ASSIST has no question %q", k)
			}
		}
		for _, q := range s.Questions {
			v, given := ans[q.Key]
			if given && !slices.ContainsFunc(q.Options, func(o ScaleOption) bool { return o.Value == v }) {
				return invalidText(field(q.Key), fmt.Sprintf("%s 第%s题的回答“%d”无效，应为%s", sub.ZH, strings.ToUpper(q.Key), v, optionValues(q.Options)),
					fmt.Sprintf("%s %s: answer %d is not one of %s", sub.EN, strings.ToUpper(q.Key), v, optionValues(q.Options)))
			}
		}
		q1, ok := ans["q1"]
		if !ok {
			return invalidText(field("q1"), sub.ZH+"：第Q1题（是否使用过）未作答", sub.EN+": Q1 (ever used) is not answered")
		}
		used3m := q1 == 1 && ans["q2"] > 0
		for _, q := range s.Questions[1:] {
			_, given := ans[q.Key]
			asked := q1 == 1
			switch q.Key {
			case "q3", "q4", "q5":
				asked = used3m
			}
			if q.Key == "q5" && sub.Code == "tobacco" {
				asked = false
			}
			switch {
			case asked && !given:
				return invalidText(field(q.Key), fmt.Sprintf("%s：第%s题未作答", sub.ZH, strings.ToUpper(q.Key)), fmt.Sprintf("%s: %s is not answered", sub.EN, strings.ToUpper(q.Key)))
			case !asked && given:
				return invalidText(field(q.Key), fmt.Sprintf("%s：按 ASSIST 询问规则第%s题不应作答（%s）", sub.ZH, strings.ToUpper(q.Key), skipReasonZH(sub.Code, q.Key, q1)),
					fmt.Sprintf("%s: %s is not asked under the ASSIST rules (%s)", sub.EN, strings.ToUpper(q.Key), skipReasonEN(sub.Code, q.Key, q1)))
			}
		}
		score := 0
		for _, k := range []string{"q2", "q3", "q4", "q5", "q6", "q7"} {
			score += ans[k]
		}
		set, _ := s.BandSetByKey(cmpOr(sub.BandSet, "other"))
		b, ok := set.band(score)
		if !ok {
			return fmt.Errorf("assist %s: score %d outside its bands", sub.Code, score)
		}
		res.Substances = append(res.Substances, SubstanceScore{Code: sub.Code, Score: score, Band: b})
		if len(res.Substances) == 1 || b.Level > res.Band.Level || (b.Level == res.Band.Level && score > res.Total) {
			res.Total, res.Band = score, b
		}
	}
	if s.Injection != nil && a.Injection != nil {
		if !slices.ContainsFunc(s.Injection.Options, func(o ScaleOption) bool { return o.Value == *a.Injection }) {
			return Invalid("q8", "第Q8题（注射使用）的回答“%d”无效", "Q8 (injection): answer %d is not valid", *a.Injection)
		}
	}
	return nil
}

func skipReasonZH(sub, q string, q1 int) string {
	switch {
	case q1 != 1:
		return "Q1 答“否”"
	case q == "q5" && sub == "tobacco":
		return "烟草不问 Q5"
	}
	return "过去三个月未使用"
}

func skipReasonEN(sub, q string, q1 int) string {
	switch {
	case q1 != 1:
		return "Q1 is No"
	case q == "q5" && sub == "tobacco":
		return "Q5 is not asked for tobacco"
	}
	return "not used in the past three months"
}

// invalidText is an EINVALID error about field with ready-made messages.
func invalidText(field, zh, en string) *Error {
	return &Error{Code: EINVALID, Field: field, ZH: zh, EN: en}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// scaleBandSetting is the policy setting "scale.<code>.bands" choosing the
// scale's band table; the first table is the default.
func scaleBandSetting(code string) *Setting {
	s, ok := ScaleByCode(code)
	if !ok {
		panic("casework: no scale " + code)
	}
	var opts []Option
	for _, b := range s.BandSets {
		opts = append(opts, Option{Value: b.Key, ZH: b.ZH, EN: b.EN})
	}
	return &Setting{Key: ScaleBandsKey(code), Kind: SettingEnum, ZH: s.NameZH + "分级标准", EN: s.NameEN + " bands",
		Default: EnumValue(s.BandSets[0].Key), Options: opts, Rule: "CARE §3", Confidence: "HIGH",
		HintZH: "评分后按此标准分级；每次施测都保存所用的量表版本和分级表，改变标准不会改变已有结果的分级。",
		HintEN: "Scores are banded with this table; each administration keeps the version and table it was scored with, so a change does not relabel past results."}
}

// ScaleBandsKey is the policy key of a scale's band table.
func ScaleBandsKey(code string) string { return "scale." + code + ".bands" }
