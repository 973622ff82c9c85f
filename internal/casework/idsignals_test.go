package casework

import (
	"math"
	"strings"
	"testing"
	"time"
)

// Human's match.similarity, computed by hand for small descriptors
// (src/face/match.ts: distance = round2(25·Σd²); similarity =
// round2(clamp((1 − √dist/100 − 0.2)/0.6))).
func TestFaceSimilarityIsHumans(t *testing.T) {
	a := make([]float32, 1024)
	b := make([]float32, 1024)
	if s, ok := FaceSimilarity(a, b); !ok || s != 1 {
		t.Fatalf("identical: %v %v, want 1", s, ok)
	}
	// One component differs by 6: Σd² = 36, dist = 900, √ = 30,
	// (1 − 0.3 − 0.2)/0.6 = 0.8333… → 0.83.
	b[7] = 6
	if s, _ := FaceSimilarity(a, b); s != 0.83 {
		t.Fatalf("d=2: %v, want 0.83", s)
	}
	// Σd² = 64 → dist 1600, √ = 40: (1 − 0.4 − 0.2)/0.6 = 0.666… → 0.67.
	b[7] = 8
	if s, _ := FaceSimilarity(a, b); s != 0.67 {
		t.Fatalf("d=8: %v, want 0.67", s)
	}
	// Far apart: clamped to 0.
	b[7] = 100
	if s, _ := FaceSimilarity(a, b); s != 0 {
		t.Fatalf("far: %v, want 0", s)
	}
	if _, ok := FaceSimilarity(a, b[:10]); ok {
		t.Fatal("different lengths compared")
	}
	// Round trip of the contract's encoding.
	b[3] = -0.125
	got, err := DecodeEmbedding(EncodeEmbedding(b))
	if err != nil || len(got) != 1024 || got[3] != -0.125 || got[7] != 100 {
		t.Fatalf("embedding round trip: %v", err)
	}
	if _, err := DecodeEmbedding("not base64!"); err == nil {
		t.Fatal("bad embedding accepted")
	}
}

func TestSpotSampleSize(t *testing.T) {
	for _, c := range []struct{ n, pct, want int }{
		{0, 5, 0}, {1, 5, 1}, {19, 5, 1}, {20, 5, 1}, {21, 5, 2}, {100, 5, 5}, {101, 5, 6}, {10, 0, 0}, {3, 100, 3},
	} {
		if got := SpotSampleSize(c.n, c.pct); got != c.want {
			t.Errorf("SpotSampleSize(%d, %d) = %d, want %d", c.n, c.pct, got, c.want)
		}
	}
}

func TestSpotSampleVerifies(t *testing.T) {
	seed := make([]byte, SeedSize)
	seed[0] = 7
	seeds := func(org, period string) ([]byte, bool) { return seed, org == "T1" && period == "2026-12" }
	var cands []SpotCandidate
	for i := range 40 {
		cands = append(cands, SpotCandidate{CheckinID: "c" + string(rune('A'+i%26)) + string(rune('a'+i/26)), SeedOrgID: "T1"})
	}
	items, err := DrawSpotSample(seeds, "w1", "2026-W49", "2026-12", cands, SpotSampleSize(len(cands), 5))
	if err != nil || len(items) != 2 {
		t.Fatalf("draw: %v %v", items, err)
	}
	rec := SpotSampleRecord{ID: "s1", WorkerID: "w1", Week: "2026-W49", Period: "2026-12", Percent: 5, Population: FormatPopulation(cands), Items: items}
	if p, pending := VerifySpotSample(seeds, rec); p != "" || pending {
		t.Fatalf("intact sample: %q pending=%v", p, pending)
	}
	// Another worker's or week's draw differs: the message binds both.
	other, _ := DrawSpotSample(seeds, "w2", "2026-W49", "2026-12", cands, 2)
	other2, _ := DrawSpotSample(seeds, "w1", "2026-W50", "2026-12", cands, 2)
	if strings.Join(other, ",") == strings.Join(items, ",") && strings.Join(other2, ",") == strings.Join(items, ",") {
		t.Fatal("the draw does not depend on worker and week")
	}
	// A swapped item is named.
	for _, c := range cands {
		if c.CheckinID != items[0] && c.CheckinID != items[1] {
			rec.Items = []string{items[0], c.CheckinID}
			break
		}
	}
	if p, _ := VerifySpotSample(seeds, rec); !strings.Contains(p, "s1") {
		t.Fatalf("altered sample not named: %q", p)
	}
	// Without the revealed seed the sample is pending, not altered.
	if p, pending := VerifySpotSample(func(string, string) ([]byte, bool) { return nil, false }, rec); p != "" || !pending {
		t.Fatalf("unrevealed: %q pending=%v", p, pending)
	}
}

// The console recomputation flags an altered score (issue 17 §4).
func TestTamperCheckBoundaries(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		phone   *float64
		console float64
		flag    bool
	}{
		{f(0.83), 0.83, false},
		{f(0.85), 0.80, false}, // exactly the tolerance
		{f(0.86), 0.80, true},  // above it, and the console says not matched? 0.80 is matched: flagged by distance
		{f(0.82), 0.79, true},  // within tolerance, but the phone said matched and the console not
		{f(0.95), 0.30, true},  // an altered score
		{f(0.40), 0.42, false}, // both not matched, close
		{nil, 0.30, false},     // no phone score: nothing to compare
	} {
		flag, zh, en := TamperCheck(c.phone, c.console, 0.05, DefaultMatchThreshold)
		if flag != c.flag || (flag && (zh == "" || en == "")) {
			t.Errorf("TamperCheck(%v, %v) = %v %q %q, want %v", c.phone, c.console, flag, zh, en, c.flag)
		}
	}
	if _, err := ParseConsoleScore("1.2"); err == nil || ErrorField(err) != "console_score" {
		t.Fatalf("console_score 1.2: %v", err)
	}
	if v, err := ParseConsoleScore(" 0.5 "); err != nil || v != 0.5 {
		t.Fatalf("console_score 0.5: %v %v", v, err)
	}
}

func TestImpossibleSpeedBoundary(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	// 1° of latitude ≈ 111.195 km: in 20 minutes that is ≈ 333.6 km/h.
	v := SpeedKmh(20, 110, t0, 21, 110, t0.Add(20*time.Minute))
	if math.Abs(v-333.58) > 0.1 || !ImpossibleSpeed(v, 300) {
		t.Fatalf("1° in 20 min: %v km/h", v)
	}
	d := DistanceM(20, 110, 21, 110) / 1000
	at := func(kmh float64) time.Time { return t0.Add(time.Duration(d / kmh * float64(time.Hour))) }
	if ImpossibleSpeed(SpeedKmh(20, 110, t0, 21, 110, at(300)), 300) {
		t.Fatal("exactly 300 km/h flagged")
	}
	if !ImpossibleSpeed(SpeedKmh(20, 110, t0, 21, 110, at(301)), 300) {
		t.Fatal("301 km/h not flagged")
	}
	if SpeedKmh(20, 110, t0, 20, 110, t0) != 0 {
		t.Fatal("same point, same time")
	}
}

func TestChallengeAnswerBoundary(t *testing.T) {
	issued := time.Date(2026, 12, 3, 10, 17, 0, 0, time.UTC)
	if !AnswersChallenge(issued, issued.Add(15*time.Minute), 15) {
		t.Fatal("at 15:00 it answers")
	}
	if AnswersChallenge(issued, issued.Add(15*time.Minute+time.Second), 15) || AnswersChallenge(issued, issued.Add(15*time.Minute+time.Minute), 15) {
		t.Fatal("after 15:00 it does not")
	}
	if AnswersChallenge(issued, issued.Add(-time.Second), 15) {
		t.Fatal("before the challenge it does not")
	}
}

func TestChallengeDraw(t *testing.T) {
	seed := make([]byte, SeedSize)
	s := NewScorer(func(p string) ([]byte, bool) { return seed, p == "2026-12" })
	days, err := ChallengeDays(s, "p1", MustParseDate("2026-12-15"), 2)
	if err != nil || len(days) != 2 || days[0].Month != 12 || !days[0].Before(days[1]) {
		t.Fatalf("challenge days: %v %v", days, err)
	}
	again, _ := ChallengeDays(NewScorer(func(p string) ([]byte, bool) { return seed, true }), "p1", MustParseDate("2026-12-01"), 2)
	if again[0] != days[0] || again[1] != days[1] {
		t.Fatal("not recomputable")
	}
	w := Window{From: 8 * 60, To: 20 * 60}
	loc := LoadLocation("")
	at, ok := ChallengeAt(s, "p1", days[0], w, 15, loc)
	start := days[0].In(loc).Add(8 * time.Hour)
	if !ok || at.Before(start) || at.Add(15*time.Minute).After(start.Add(12*time.Hour)) || at.Second() != 0 {
		t.Fatalf("challenge moment %v outside the window", at)
	}
	if _, ok := ChallengeAt(s, "p1", days[0], Window{From: 600, To: 610}, 15, loc); ok {
		t.Fatal("a window shorter than the answer time gave a moment")
	}
	if _, err := ChallengeDays(s, "p1", MustParseDate("2027-01-01"), 2); err == nil {
		t.Fatal("unknown seed gave days")
	}
}

func TestISOWeek(t *testing.T) {
	l, f, to := ISOWeek(MustParseDate("2026-12-06")) // a Sunday
	if l != "2026-W49" || f.String() != "2026-11-30" || to.String() != "2026-12-06" {
		t.Fatalf("%s %s %s", l, f, to)
	}
	l, f, _ = ISOWeek(MustParseDate("2027-01-01")) // Friday of 2026-W53
	if l != "2026-W53" || f.String() != "2026-12-28" {
		t.Fatalf("%s %s", l, f)
	}
}

func TestParseSpotLook(t *testing.T) {
	if _, _, err := ParseSpotLook("same", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ParseSpotLook("not_same", " "); fieldsOf(t, err)["note"] == "" {
		t.Fatalf("not_same without a note: %v", err)
	}
	if _, _, err := ParseSpotLook("maybe", ""); fieldsOf(t, err)["looked"] == "" {
		t.Fatalf("unknown finding: %v", err)
	}
}
