package casework

import (
	"errors"
	"fmt"
	"testing"
)

// sumAnswers returns n answers of a 0–3 scale adding up to total (item 9
// of a PHQ-9 is left at zero unless item9 is set).
func sumAnswers(n, total, item9 int) []int {
	a := make([]int, n)
	if n == 9 {
		item9 = max(item9, total-24) // only item 9 is left to reach 25–27
		a[8] = item9
		total -= item9
	}
	for i := range a {
		if n == 9 && i == 8 {
			continue
		}
		v := min(3, total)
		a[i], total = v, total-v
	}
	if total != 0 {
		panic("total too large")
	}
	return a
}

// The PHQ-9 and GAD-7 against the published tables (Kroenke 2001; Spitzer
// 2006; CARE.md §3.1, §3.2) at every band boundary, and the alternative
// Chinese tables policy may choose.
func TestScaleSumBoundaries(t *testing.T) {
	tests := []struct {
		scale, set string
		total      int
		band       string
	}{
		{"phq9", "", 0, "minimal"}, {"phq9", "", 4, "minimal"}, {"phq9", "", 5, "mild"}, {"phq9", "", 9, "mild"},
		{"phq9", "", 10, "moderate"}, {"phq9", "", 14, "moderate"}, {"phq9", "", 15, "moderately_severe"},
		{"phq9", "", 19, "moderately_severe"}, {"phq9", "", 20, "severe"}, {"phq9", "", 27, "severe"},
		{"phq9", "cn_7_15_21", 6, "minimal"}, {"phq9", "cn_7_15_21", 7, "mild"}, {"phq9", "cn_7_15_21", 14, "mild"},
		{"phq9", "cn_7_15_21", 15, "moderate"}, {"phq9", "cn_7_15_21", 20, "moderate"}, {"phq9", "cn_7_15_21", 21, "severe"},
		{"gad7", "", 0, "minimal"}, {"gad7", "", 4, "minimal"}, {"gad7", "", 5, "mild"}, {"gad7", "", 9, "mild"},
		{"gad7", "", 10, "moderate"}, {"gad7", "", 14, "moderate"}, {"gad7", "", 15, "severe"}, {"gad7", "", 21, "severe"},
		{"gad7", "cn_five", 13, "moderate"}, {"gad7", "cn_five", 14, "moderately_severe"}, {"gad7", "cn_five", 18, "moderately_severe"},
		{"gad7", "cn_five", 19, "severe"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %s %d", tc.scale, tc.set, tc.total), func(t *testing.T) {
			s, _ := ScaleByCode(tc.scale)
			r, err := ScoreScale(tc.scale, tc.set, ScaleAnswers{Items: sumAnswers(len(s.Items), tc.total, 0)})
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != tc.total || r.Band.Key != tc.band {
				t.Fatalf("total %d band %s, want %d %s", r.Total, r.Band.Key, tc.total, tc.band)
			}
			if r.Version != s.Version || len(r.Bands) != 1 || r.Bands[0].Key != cmpOr(tc.set, s.BandSets[0].Key) {
				t.Fatalf("stored version %q table %+v", r.Version, r.Bands)
			}
		})
	}
}

// zungAnswers returns 20 answers whose scored raw total is raw: every
// item's scored value starts at 1 (a reverse item answered 4) and the
// first items are raised until the total is reached.
func zungAnswers(raw int) []int {
	s, _ := ScaleByCode("sds")
	out := make([]int, 20)
	left := raw - 20
	for i := range out {
		v := 1 + min(3, left)
		left -= v - 1
		out[i] = v
		for _, r := range s.Reverse {
			if r == i+1 {
				out[i] = 5 - v
			}
		}
	}
	return out
}

// The Zung SDS: ten positively worded items are reverse-scored (5 − the
// answer), the index is the raw total × 1.25 with the whole part kept, and
// the Chinese norm bands the index at 53 / 63 / 73 (Zung's original at 50
// / 60 / 70). Raw 42 gives 52.5 → 52, the last normal index.
func TestScaleZungSDS(t *testing.T) {
	tests := []struct {
		set        string
		raw, index int
		band       string
	}{
		{"", 20, 25, "normal"}, {"", 42, 52, "normal"}, {"", 43, 53, "mild"}, {"", 50, 62, "mild"}, {"", 51, 63, "moderate"},
		{"", 58, 72, "moderate"}, {"", 59, 73, "severe"}, {"", 80, 100, "severe"},
		{"zung", 39, 48, "normal"}, {"zung", 40, 50, "mild"}, {"zung", 47, 58, "mild"}, {"zung", 48, 60, "moderate"},
		{"zung", 55, 68, "moderate"}, {"zung", 56, 70, "severe"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s raw %d", tc.set, tc.raw), func(t *testing.T) {
			r, err := ScoreScale("sds", tc.set, ScaleAnswers{Items: zungAnswers(tc.raw)})
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != tc.raw || r.Index != tc.index || r.Band.Key != tc.band || r.Score() != tc.index {
				t.Fatalf("raw %d index %d band %s, want %d %d %s", r.Total, r.Index, r.Band.Key, tc.raw, tc.index, tc.band)
			}
		})
	}
	t.Run("reverse items", func(t *testing.T) {
		// All answers "most of the time" (4): ten items score 4, the ten
		// reverse items score 1: raw 50, not 80.
		a := make([]int, 20)
		for i := range a {
			a[i] = 4
		}
		r, err := ScoreScale("sds", "", ScaleAnswers{Items: a})
		if err != nil || r.Total != 50 || r.Index != 62 {
			t.Fatalf("got %+v %v, want raw 50 index 62", r, err)
		}
	})
}

// assistSub builds one substance's answers.
func assistSub(q1, q2, q3, q4, q5, q6, q7 int) map[string]int {
	m := map[string]int{"q1": q1}
	if q1 == 0 {
		return m
	}
	m["q2"], m["q6"], m["q7"] = q2, q6, q7
	if q2 > 0 {
		m["q3"], m["q4"], m["q5"] = q3, q4, q5
	}
	return m
}

func assistNone() map[string]map[string]int {
	out := map[string]map[string]int{}
	s, _ := ScaleByCode("assist")
	for _, sub := range s.Substances {
		out[sub.Code] = map[string]int{"q1": 0}
	}
	return out
}

// WHO ASSIST v3.0: the specific substance involvement score is Q2+…+Q7
// with the manual's weights (Q2 0/2/3/4/6, Q3 0/3/4/5/6, Q4 0/4/5/6/7, Q5
// 0/5/6/7/8, Q6 and Q7 0/3/6), banded 0–3 / 4–26 / 27+ (alcohol 0–10 /
// 11–26 / 27+), at every boundary.
func TestScaleAssistBoundaries(t *testing.T) {
	tests := []struct {
		sub   string
		ans   map[string]int
		score int
		band  string
	}{
		{"ats", assistSub(1, 0, 0, 0, 0, 3, 0), 3, "low"},
		{"ats", assistSub(1, 4, 0, 0, 0, 0, 0), 4, "moderate"},
		{"ats", assistSub(1, 6, 6, 7, 7, 0, 0), 26, "moderate"},
		{"ats", assistSub(1, 6, 6, 7, 8, 0, 0), 27, "high"},
		{"opioids", assistSub(1, 2, 0, 0, 0, 0, 0), 2, "low"},
		{"opioids", assistSub(1, 6, 6, 7, 8, 6, 6), 39, "high"},
		{"alcohol", assistSub(1, 4, 0, 0, 0, 6, 0), 10, "low"},
		{"alcohol", assistSub(1, 2, 3, 0, 0, 6, 0), 11, "moderate"},
		{"alcohol", assistSub(1, 6, 6, 7, 7, 0, 0), 26, "moderate"},
		{"alcohol", assistSub(1, 6, 6, 7, 8, 0, 0), 27, "high"},
		{"tobacco", map[string]int{"q1": 1, "q2": 4, "q3": 5, "q4": 6, "q6": 6, "q7": 3}, 24, "moderate"},
		{"tobacco", map[string]int{"q1": 1, "q2": 6, "q3": 6, "q4": 6, "q6": 6, "q7": 3}, 27, "high"},
		{"cannabis", assistSub(0, 0, 0, 0, 0, 0, 0), 0, "low"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %d", tc.sub, tc.score), func(t *testing.T) {
			a := assistNone()
			a[tc.sub] = tc.ans
			r, err := ScoreScale("assist", "", ScaleAnswers{Substances: a})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range r.Substances {
				if s.Code == tc.sub && (s.Score != tc.score || s.Band.Key != tc.band) {
					t.Fatalf("%s: score %d band %s, want %d %s", tc.sub, s.Score, s.Band.Key, tc.score, tc.band)
				}
			}
			if r.Total != tc.score || r.Band.Key != tc.band || len(r.Bands) != 2 {
				t.Fatalf("overall %d %s (tables %d), want the substance's", r.Total, r.Band.Key, len(r.Bands))
			}
		})
	}
}

// Invalid answers are refused with the item named, never scored.
func TestScaleInvalidAnswers(t *testing.T) {
	phq := sumAnswers(9, 5, 0)
	phq[3] = 4
	blank := sumAnswers(7, 5, 0)
	blank[6] = NotAnswered
	sds := zungAnswers(40)
	sds[10] = 0
	tobaccoQ5 := assistNone()
	tobaccoQ5["tobacco"] = map[string]int{"q1": 1, "q2": 4, "q3": 5, "q4": 6, "q5": 5, "q6": 6, "q7": 3}
	neverQ3 := assistNone()
	neverQ3["ats"] = map[string]int{"q1": 1, "q2": 0, "q3": 3, "q6": 0, "q7": 0}
	noQ1Given := assistNone()
	noQ1Given["alcohol"] = map[string]int{"q1": 0, "q2": 2}
	missing := assistNone()
	missing["opioids"] = map[string]int{"q1": 1, "q2": 3, "q3": 3, "q4": 4, "q5": 5, "q6": 0}
	badWeight := assistNone()
	badWeight["ats"] = assistSub(1, 5, 3, 4, 5, 0, 0)
	noQ1 := assistNone()
	delete(noQ1["hallucinogens"], "q1")
	tests := []struct {
		name, scale string
		a           ScaleAnswers
		field       string
	}{
		{"PHQ-9 answer 4", "phq9", ScaleAnswers{Items: phq}, "q4"},
		{"PHQ-9 eight answers", "phq9", ScaleAnswers{Items: phq[:8]}, "q9"},
		{"PHQ-9 ten answers", "phq9", ScaleAnswers{Items: append(sumAnswers(9, 0, 0), 1)}, "items"},
		{"GAD-7 blank item", "gad7", ScaleAnswers{Items: blank}, "q7"},
		{"SDS answer 0", "sds", ScaleAnswers{Items: sds}, "q11"},
		{"ASSIST Q5 for tobacco", "assist", ScaleAnswers{Substances: tobaccoQ5}, "tobacco.q5"},
		{"ASSIST Q3 when never used in 3 months", "assist", ScaleAnswers{Substances: neverQ3}, "ats.q3"},
		{"ASSIST Q2 after Q1 no", "assist", ScaleAnswers{Substances: noQ1Given}, "alcohol.q2"},
		{"ASSIST Q7 missing", "assist", ScaleAnswers{Substances: missing}, "opioids.q7"},
		{"ASSIST Q2 weight 5", "assist", ScaleAnswers{Substances: badWeight}, "ats.q2"},
		{"ASSIST Q1 missing", "assist", ScaleAnswers{Substances: noQ1}, "hallucinogens.q1"},
		{"unknown scale", "bdi", ScaleAnswers{}, "scale"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ScoreScale(tc.scale, "", tc.a)
			if !IsCode(err, EINVALID) || ErrorField(err) != tc.field {
				t.Fatalf("got %+v %v (field %q), want EINVALID on %s", r, err, ErrorField(err), tc.field)
			}
		})
	}
	if _, err := ScoreScale("phq9", "nonesuch", ScaleAnswers{Items: sumAnswers(9, 0, 0)}); ErrorField(err) != "band_set" {
		t.Fatalf("unknown band table: %v", err)
	}
}

// PHQ-9 item 9 above zero flags the administration whatever the total.
func TestScalePHQ9Item9(t *testing.T) {
	for _, tc := range []struct {
		item9 int
		flag  bool
	}{{0, false}, {1, true}, {3, true}} {
		r, err := ScoreScale("phq9", "", ScaleAnswers{Items: sumAnswers(9, tc.item9, tc.item9)})
		if err != nil || r.Item9Flag() != tc.flag || r.Band.Key != "minimal" {
			t.Fatalf("item 9 = %d: flag %v band %s %v", tc.item9, r.Item9Flag(), r.Band.Key, err)
		}
	}
}

// Every scale's items, options and tables are complete in both languages,
// and each band table covers its whole score range without gaps.
func TestScaleCatalog(t *testing.T) {
	ranges := map[string][2]int{"phq9": {0, 27}, "gad7": {0, 21}, "sdep": {0, 15}, "sds": {25, 100}, "assist": {0, 39}}
	for _, s := range Scales() {
		if s.NameZH == "" || s.NameEN == "" || s.Version == "" {
			t.Errorf("%s: names or version missing", s.Code)
		}
		for i, it := range s.Items {
			if it.ZH == "" || it.EN == "" {
				t.Errorf("%s item %d: text missing", s.Code, i+1)
			}
		}
		for _, set := range s.BandSets {
			next := ranges[s.Code][0]
			for _, b := range set.Bands {
				if b.Min != next || b.ZH == "" || b.EN == "" {
					t.Errorf("%s/%s: band %s starts at %d, want %d", s.Code, set.Key, b.Key, b.Min, next)
				}
				next = b.Max + 1
			}
			if next != ranges[s.Code][1]+1 {
				t.Errorf("%s/%s ends at %d", s.Code, set.Key, next-1)
			}
		}
	}
}

// A form with several bad items reports every one of them (issue 18 item 9).
func TestScaleReportsEveryBadItem(t *testing.T) {
	a := sumAnswers(7, 0, 0)
	a[1], a[5] = NotAnswered, 9
	_, err := ScoreScale("gad7", "", ScaleAnswers{Items: a})
	var fe FieldErrors
	if !errors.As(err, &fe) || len(fe) != 2 || fe[0].Field != "q2" || fe[1].Field != "q6" {
		t.Fatalf("got %v, want q2 and q6", err)
	}
}

// TestScaleSeverityOfDependence scores the SDS of Gossop et al. 1995 (CARE.md
// §3.3): five items 0–3, total 0–15, item 5 on its own anchors, and the
// cut-off by drug at its boundary: amphetamines >4 (4 below, 5 at), heroin
// ≥3 (2 below, 3 at), cocaine ≥4 (3 below, 4 at).
func TestScaleSeverityOfDependence(t *testing.T) {
	s, ok := ScaleByCode("sdep")
	if !ok || len(s.Items) != 5 {
		t.Fatal("no five-item SDS")
	}
	if o := s.ItemOptions(4); len(o) != 4 || o[3].EN != "Impossible" {
		t.Errorf("item 5 answers %+v, want its own anchors up to Impossible", o)
	}
	tests := []struct {
		set   string
		total int
		band  string
	}{
		{"amphetamine", 4, "below"}, {"amphetamine", 5, "dependent"},
		{"heroin", 2, "below"}, {"heroin", 3, "dependent"},
		{"cocaine", 3, "below"}, {"cocaine", 4, "dependent"},
		{"amphetamine", 0, "below"}, {"amphetamine", 15, "dependent"},
	}
	for _, tt := range tests {
		items := []int{0, 0, 0, 0, 0}
		for i, left := 0, tt.total; left > 0; i++ {
			items[i] = min(left, 3)
			left -= items[i]
		}
		r, err := ScoreScale("sdep", tt.set, ScaleAnswers{Items: items})
		if err != nil {
			t.Fatalf("%s %d: %v", tt.set, tt.total, err)
		}
		if r.Total != tt.total || r.Band.Key != tt.band {
			t.Errorf("%s total %d: scored %d, band %s; want %s", tt.set, tt.total, r.Total, r.Band.Key, tt.band)
		}
	}
	if _, err := ScoreScale("sdep", "", ScaleAnswers{Items: []int{0, 0, 0, 0, 4}}); err == nil {
		t.Error("an answer of 4 to item 5 was accepted")
	}
}
