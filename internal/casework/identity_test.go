package casework

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func score(f float64) *float64 { return &f }

// R26: the threshold from policy, exactly the threshold is matched; the
// boundaries on both sides.
func TestIdentityOutcomeThresholdBoundary(t *testing.T) {
	pol := IdentityPolicy{Threshold: DecimalValue(80).Decimal(), RequireLiveness: true}
	for _, c := range []struct {
		score float64
		want  IdentityOutcome
	}{
		{0.7999, IdentityNotMatched},
		{0.80, IdentityMatched},
		{0.8001, IdentityMatched},
		{0, IdentityNotMatched},
		{1, IdentityMatched},
	} {
		f := &FaceInput{Outcome: FaceScored, Score: score(c.score), Liveness: LivenessPassed}
		if err := f.Validate(); err != nil {
			t.Fatal(err)
		}
		got, reason := IdentityOutcomeOf(f, true, pol)
		if got != c.want || reason != "" {
			t.Errorf("score %v: got %s (%q), want %s", c.score, got, reason, c.want)
		}
	}
	// A threshold read from the policy text "0.80" is the same number as
	// the literal the phone compares with.
	s, _ := PolicySetting("identity.match_threshold")
	v, err := s.Parse("0.80")
	if err != nil || v.Decimal() != 0.80 || v.String() != "0.80" {
		t.Fatalf("parse 0.80: %v %v %q", err, v.Decimal(), v.String())
	}
	if s.Default.Decimal() != 0.80 {
		t.Fatalf("default threshold %v, want 0.80", s.Default.Decimal())
	}
}

// Liveness failed beats a high score; a required liveness not run is not
// checked (never matched); not required, not run is matched.
func TestIdentityOutcomeLiveness(t *testing.T) {
	pol := IdentityPolicy{Threshold: 0.80, RequireLiveness: true}
	f := &FaceInput{Outcome: FaceScored, Score: score(0.99), Liveness: LivenessFailed}
	if got, _ := IdentityOutcomeOf(f, true, pol); got != IdentityLivenessFailed {
		t.Fatalf("failed liveness with 0.99: %s", got)
	}
	if got, _ := IdentityOutcomeOf(f, false, pol); got != IdentityLivenessFailed {
		t.Fatalf("failed liveness, no reference: %s", got)
	}
	f = &FaceInput{Outcome: FaceScored, Score: score(0.95)}
	if err := f.Validate(); err != nil || f.Liveness != LivenessNotRun {
		t.Fatalf("empty liveness: %v %q", err, f.Liveness)
	}
	if got, reason := IdentityOutcomeOf(f, true, pol); got != IdentityNotChecked || reason != ReasonLivenessNotRun {
		t.Fatalf("liveness required, not run: %s %s", got, reason)
	}
	if got, _ := IdentityOutcomeOf(f, true, IdentityPolicy{Threshold: 0.80}); got != IdentityMatched {
		t.Fatalf("liveness not required, not run: %s", got)
	}
	// A low score with liveness not run is still a mismatch to review.
	f = &FaceInput{Outcome: FaceScored, Score: score(0.5), Liveness: LivenessNotRun}
	if got, _ := IdentityOutcomeOf(f, true, pol); got != IdentityNotMatched {
		t.Fatalf("low score, liveness not run: %s", got)
	}
}

// Missing data of any kind is not checked, with the reason.
func TestIdentityOutcomeNotChecked(t *testing.T) {
	pol := IdentityPolicy{Threshold: 0.80, RequireLiveness: true}
	for _, c := range []struct {
		f      *FaceInput
		ref    bool
		reason string
	}{
		{nil, true, ReasonNoFaceData},
		{&FaceInput{Outcome: FaceModelUnavailable}, true, ReasonModelUnavailable},
		{&FaceInput{Outcome: FaceNoFace, Liveness: LivenessNotRun}, true, ReasonNoFace},
		{&FaceInput{Outcome: FaceNoReference, Liveness: LivenessPassed}, true, ReasonNoReference},
		{&FaceInput{Outcome: FaceScored, Score: score(0.9), Liveness: LivenessPassed}, false, ReasonNoReference},
	} {
		got, reason := IdentityOutcomeOf(c.f, c.ref, pol)
		if got != IdentityNotChecked || reason != c.reason {
			t.Errorf("%+v ref=%v: got %s %q, want not_checked %q", c.f, c.ref, got, reason, c.reason)
		}
		if IdentityReasonLabel(reason, "zh") == reason || IdentityReasonLabel(reason, "en") == reason {
			t.Errorf("reason %s has no label", reason)
		}
	}
}

// Each bad field is refused naming it.
func TestFaceInputValidateNamesField(t *testing.T) {
	good := EncodeEmbedding([]float32{0.1, -0.2, 0.3})
	nan := EncodeEmbedding([]float32{float32(math.NaN())})
	for _, c := range []struct {
		f     FaceInput
		field string
	}{
		{FaceInput{}, "face.outcome"},
		{FaceInput{Outcome: "maybe"}, "face.outcome"},
		{FaceInput{Outcome: FaceScored}, "face.score"},
		{FaceInput{Outcome: FaceNoFace, Score: score(0.5)}, "face.score"},
		{FaceInput{Outcome: FaceScored, Score: score(1.0001)}, "face.score"},
		{FaceInput{Outcome: FaceScored, Score: score(-0.1)}, "face.score"},
		{FaceInput{Outcome: FaceScored, Score: score(math.NaN())}, "face.score"},
		{FaceInput{Outcome: FaceScored, Score: score(0.9), Liveness: "maybe"}, "face.liveness"},
		{FaceInput{Outcome: FaceScored, Score: score(0.9), Challenge: "smile"}, "face.challenge"},
		{FaceInput{Outcome: FaceScored, Score: score(0.9), Models: strings.Repeat("m", 101)}, "face.models"},
		{FaceInput{Outcome: FaceScored, Score: score(0.9), Models: "a\nb"}, "face.models"},
		{FaceInput{Outcome: FaceScored, Score: score(0.9), Embedding: "not base64!"}, "face.embedding"},
		{FaceInput{Outcome: FaceScored, Score: score(0.9), Embedding: "AAA="}, "face.embedding"},
		{FaceInput{Outcome: FaceScored, Score: score(0.9), Embedding: nan}, "face.embedding"},
		{FaceInput{Outcome: FaceNoFace, Embedding: good}, "face.embedding"},
		{FaceInput{Outcome: FaceScored, Score: score(0.9), MS: score(-1)}, "face.ms"},
	} {
		err := c.f.Validate()
		var e *Error
		if !errors.As(err, &e) || e.Field != c.field || e.Code != EINVALID || e.ZH == "" || e.EN == "" {
			t.Errorf("%+v: got %v, want an error on %s", c.f, err, c.field)
		}
	}
	ok := FaceInput{Outcome: FaceScored, Score: score(0.83), Liveness: LivenessPassed, Challenge: ChallengeBlink,
		Models: "human 3.3.6 faceres+antispoof+liveness", Embedding: good, MS: score(812.5)}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	v, err := DecodeEmbedding(good)
	if err != nil || len(v) != 3 || v[1] != -0.2 {
		t.Fatalf("embedding round trip: %v %v", v, err)
	}
}

// An old app's body (no face) validates; a bad face field refuses the
// whole check-in naming the field.
func TestCheckinInputFace(t *testing.T) {
	in := CheckinInput{ID: "0190f0f0-0000-7000-8000-000000000001", TakenAt: "2026-03-02T09:00:00+08:00", Lat: 20, Lng: 110, AccuracyM: 10}
	recv := time.Date(2026, 3, 2, 1, 5, 0, 0, time.UTC)
	if _, err := in.Validate(recv); err != nil {
		t.Fatal(err)
	}
	in.Face = &FaceInput{Outcome: FaceScored}
	_, err := in.Validate(recv)
	var e *Error
	if !errors.As(err, &e) || e.Field != "face.score" {
		t.Fatalf("bad face: %v", err)
	}
}

// R32: a mismatch or failed liveness counts only once reviewed as the
// same person; matched and not checked count as before; nothing counts
// whose other checks failed.
func TestIdentityCounts(t *testing.T) {
	for _, o := range IdentityOutcomes {
		if o.Label("zh") == string(o) || o.Label("en") == string(o) {
			t.Errorf("%s has no label", o)
		}
		if IdentityCounts(false, o, ReviewSamePerson) {
			t.Errorf("%s counted with failed checks", o)
		}
	}
	if !IdentityCounts(true, IdentityMatched, "") || !IdentityCounts(true, IdentityNotChecked, "") {
		t.Fatal("matched / not checked must count")
	}
	for _, o := range []IdentityOutcome{IdentityNotMatched, IdentityLivenessFailed} {
		if IdentityCounts(true, o, "") || IdentityCounts(true, o, ReviewNotSame) {
			t.Errorf("%s counted before a same-person review", o)
		}
		if !IdentityCounts(true, o, ReviewSamePerson) {
			t.Errorf("%s reviewed same person does not count", o)
		}
	}
	if err := ValidReview(ReviewNotSame, " "); err == nil {
		t.Fatal("not the same person without a note")
	}
	if err := ValidReview("", "x"); err == nil {
		t.Fatal("no decision")
	}
	if err := ValidReview(ReviewSamePerson, ""); err != nil {
		t.Fatal(err)
	}
}

func TestDecimalSetting(t *testing.T) {
	s, _ := PolicySetting("identity.match_threshold")
	for _, bad := range []string{"0.801", "abc", "0.49", "1.2", "NaN"} {
		if _, err := s.Parse(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for text, want := range map[string]int{"0.8": 80, ".85": 85, "0.99": 99, "0.50": 50} {
		v, err := s.Parse(text)
		if err != nil || v.Int() != want {
			t.Errorf("%q: %v %v", text, v.Int(), err)
		}
	}
	if s.BoundsText() != "0.50–0.99" {
		t.Fatal(s.BoundsText())
	}
}
