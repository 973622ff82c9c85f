package casework

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Identity spot checks, the in-app challenge (人机分离) and identity signals
// (issue 17 §4, §5; R26, R32). Nothing here decides anything about a
// person: a sample is something for a worker to look at, an unanswered
// challenge and a signal are listed with their evidence, never acted on
// automatically (R32).

// The settings of the spot checks, the challenge and the signals.
var identitySignalSettings = []*Setting{
	{Key: "identity.spot_check_percent", Kind: SettingInt, ZH: "人工抽查签到比例", EN: "Check-ins spot-checked by staff", UnitZH: "%", UnitEN: "%",
		Default: IntValue(5), Min: 0, Max: 100, Rule: "R26", Confidence: "LOW",
		HintZH: "每周结束后，从每名专干所管人员当周的签到中按此比例随机抽取（有签到时至少1条），由专干比对底照与自拍；0 表示不抽查。抽取可用公开的种子复算。",
		HintEN: "After each week, this share of each worker's persons' check-ins (at least 1 when there were any) is drawn for the worker to compare the reference photo with the selfie; 0 turns it off. Anyone with the published seed can recompute the draw."},
	{Key: "identity.challenge_per_month", Kind: SettingInt, ZH: "每月随机限时签到次数", EN: "Timed check-in challenges per month", UnitZH: "次", UnitEN: "times",
		Default: IntValue(2), Min: 0, Max: 31, Rule: "R26", Confidence: "LOW",
		HintZH: "人机分离：在签到时段内的随机时刻，应用要求本人在规定分钟内签到；未完成只列出供专干核实，不自动记为违规。",
		HintEN: "Person and phone apart: at a random moment of the check-in window the app asks for a check-in within the minutes below; one not answered is only listed for the worker, never a violation by itself."},
	{Key: "identity.challenge_minutes", Kind: SettingInt, ZH: "限时签到时限", EN: "Time to answer a challenge", UnitZH: "分钟", UnitEN: "minutes",
		Default: IntValue(15), Min: 5, Max: 120, Rule: "R26", Confidence: "LOW"},
	{Key: "identity.max_speed_kmh", Kind: SettingInt, ZH: "两次签到间不可能的速度", EN: "Impossible speed between check-ins", UnitZH: "公里/小时", UnitEN: "km/h",
		Default: IntValue(300), Min: 10, Max: 2000, Rule: "R26", Confidence: "LOW",
		HintZH: "同一人相邻两次签到的距离除以时间超过此值时列为线索。", HintEN: "Two consecutive check-ins of a person further apart than this speed allows are listed as a signal."},
	{Key: "identity.tamper_tolerance", Kind: SettingDecimal, ZH: "手机与工作台比对分差容限", EN: "Phone and console score tolerance",
		Default: DecimalValue(5), Min: 0, Max: 50, Rule: "R26", Confidence: "LOW",
		HintZH: "工作台重新计算的相似度与手机上报的相差超过此数，或手机称相符而工作台不相符时，标记为可能篡改。",
		HintEN: "When the console's own score differs from the phone's by more than this, or the phone said matched and the console does not, the check-in is flagged as possibly tampered."},
	{Key: "identity.new_device_days", Kind: SettingInt, ZH: "新设备线索天数", EN: "New device signal period", UnitZH: "天", UnitEN: "days",
		Default: IntValue(30), Min: 1, Max: 365, Rule: "R26", Confidence: "LOW",
		HintZH: "在此天数内启用、替换了原设备的手机列为线索。", HintEN: "A phone activated within this many days that replaced another is listed as a signal."},
}

// DefaultMatchThreshold is R26's default face match threshold; the policy
// identity.match_threshold sets it.
const DefaultMatchThreshold = 0.80

// FaceSimilarity is Human's match.similarity (@vladmandic/human 3.3.6,
// src/face/match.ts, default options order 2, multiplier 25, min 0.2,
// max 0.8), so the server, the phone and the console give the same number:
// distance = round2(25 × Σ(aᵢ−bᵢ)²), similarity = round2(clamp((1 −
// √distance/100 − 0.2) ÷ 0.6, 0, 1)), 1 for identical descriptors. ok is
// false when the lengths differ or either is empty.
func FaceSimilarity(a, b []float32) (float64, bool) {
	if len(a) == 0 || len(a) != len(b) {
		return 0, false
	}
	var sum float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		sum += d * d
	}
	dist := jsRound(100*25*sum) / 100
	if dist == 0 {
		return 1, true
	}
	norm := (1 - math.Sqrt(dist)/100 - 0.2) / (0.8 - 0.2)
	return jsRound(100*math.Max(math.Min(norm, 1), 0)) / 100, true
}

// jsRound is JavaScript's Math.round: halves round up.
func jsRound(x float64) float64 { return math.Floor(x + 0.5) }

// ISOWeek names the ISO week of a day ("2026-W49") with its Monday and
// Sunday.
func ISOWeek(d Date) (label string, from, to Date) {
	t := d.utc()
	y, w := t.ISOWeek()
	wd := int(t.Weekday()+6) % 7 // Monday 0
	from = d.AddDays(-wd)
	return fmt.Sprintf("%04d-W%02d", y, w), from, from.AddDays(6)
}

// SpotSampleSize is how many of n check-ins are drawn at percent: the
// share rounded up, at least 1 when there are any; none when percent is 0.
func SpotSampleSize(n, percent int) int {
	if n <= 0 || percent <= 0 {
		return 0
	}
	return min(n, max(1, (n*percent+99)/100))
}

// SpotCandidate is one check-in of a worker's week, with the township
// whose seeds score it (the seed org of the check-in's place).
type SpotCandidate struct {
	CheckinID string
	SeedOrgID string
}

// SpotSeeds gives an org's seed of a period; ok is false when unknown.
type SpotSeeds func(orgID, period string) ([]byte, bool)

// spotScore is HMAC-SHA256(seed, "spotcheck|worker|week|checkin").
func spotScore(seed []byte, workerID, week, checkinID string) []byte {
	m := hmac.New(sha256.New, seed)
	m.Write([]byte("spotcheck|" + workerID + "|" + week + "|" + checkinID))
	return m.Sum(nil)
}

// DrawSpotSample draws size check-ins of a worker's week: those with the
// lowest scores, ties to the lower id. The seeds are those of period (the
// month of the week's Sunday): committed months ahead and revealed only
// after that month ends, so nobody could pick check-in ids to stay out of
// the sample, and anyone with the revealed seed recomputes it.
func DrawSpotSample(seeds SpotSeeds, workerID, week, period string, cands []SpotCandidate, size int) ([]string, error) {
	type scored struct {
		id    string
		score []byte
	}
	all := make([]scored, 0, len(cands))
	for _, c := range cands {
		seed, ok := seeds(c.SeedOrgID, period)
		if !ok {
			return nil, fmt.Errorf("%w: org %s, period %s", ErrSeedUnknown, c.SeedOrgID, period)
		}
		all = append(all, scored{c.CheckinID, spotScore(seed, workerID, week, c.CheckinID)})
	}
	sort.Slice(all, func(i, j int) bool {
		if c := bytes.Compare(all[i].score, all[j].score); c != 0 {
			return c < 0
		}
		return all[i].id < all[j].id
	})
	out := make([]string, 0, size)
	for i := 0; i < size && i < len(all); i++ {
		out = append(out, all[i].id)
	}
	sort.Strings(out)
	return out, nil
}

// FormatPopulation and ParsePopulation keep a sample's candidates as
// published: one "checkin_id seed_org_id" per line.
func FormatPopulation(cands []SpotCandidate) string {
	var b strings.Builder
	for i, c := range cands {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(c.CheckinID + " " + c.SeedOrgID)
	}
	return b.String()
}

// ParsePopulation reads FormatPopulation's text.
func ParsePopulation(s string) ([]SpotCandidate, error) {
	var out []SpotCandidate
	for line := range strings.SplitSeq(s, "\n") {
		if line == "" {
			continue
		}
		id, org, ok := strings.Cut(line, " ")
		if !ok || id == "" || org == "" {
			return nil, fmt.Errorf("bad population line %q", line)
		}
		out = append(out, SpotCandidate{id, org})
	}
	return out, nil
}

// SpotSampleRecord is one stored sample as published.
type SpotSampleRecord struct {
	ID         string   `json:"id"`
	WorkerID   string   `json:"worker_id"`
	Week       string   `json:"week"`
	Period     string   `json:"period"`
	Percent    int      `json:"percent"`
	Population string   `json:"population"`
	Items      []string `json:"items"` // check-in ids drawn
}

// VerifySpotSample recomputes a sample from the seeds. pending is true
// when a seed it needs is not revealed yet; problem is empty when the
// stored items are the ones the seeds give.
func VerifySpotSample(seeds SpotSeeds, s SpotSampleRecord) (problem string, pending bool) {
	cands, err := ParsePopulation(s.Population)
	if err != nil {
		return fmt.Sprintf("spot-check sample %s (%s): %v", s.ID, s.Week, err), false
	}
	want, err := DrawSpotSample(seeds, s.WorkerID, s.Week, s.Period, cands, SpotSampleSize(len(cands), s.Percent))
	if err != nil {
		return "", true
	}
	got := append([]string(nil), s.Items...)
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		return fmt.Sprintf("spot-check sample %s (worker %s, %s): stored check-ins %s, the seeds give %s",
			s.ID, s.WorkerID, s.Week, strings.Join(got, ","), strings.Join(want, ",")), false
	}
	return "", false
}

// SpotLook is a worker's finding on a sampled check-in.
type SpotLook string

// The findings.
const (
	LookSame    SpotLook = "same"
	LookNotSame SpotLook = "not_same"
	LookUnclear SpotLook = "unclear"
)

// Label is the finding in the language.
func (l SpotLook) Label(lang string) string {
	t, ok := spotLookLabels[l]
	if !ok {
		return ""
	}
	if lang == "en" {
		return t[1]
	}
	return t[0]
}

var spotLookLabels = map[SpotLook][2]string{
	LookSame: {"是本人", "the same person"}, LookNotSame: {"不是本人", "not the same person"}, LookUnclear: {"无法判断", "unclear"},
}

// ParseSpotLook checks a finding and its note (required unless the same
// person; at most 500 characters).
func ParseSpotLook(look, note string) (SpotLook, string, error) {
	l := SpotLook(strings.TrimSpace(look))
	note = strings.TrimSpace(note)
	var errs FieldErrors
	if l != LookSame && l != LookNotSame && l != LookUnclear {
		errs = append(errs, Invalid("looked", "请选择核对结果：是本人、不是本人或无法判断", "choose what you found: the same person, not the same person or unclear"))
	} else if l != LookSame && note == "" {
		errs = append(errs, Invalid("note", "不是本人或无法判断时请写明所见", "say what you saw when it is not the same person or unclear"))
	}
	if len([]rune(note)) > 500 {
		errs = append(errs, Invalid("note", "说明不能超过500字", "the note must be at most 500 characters"))
	}
	if err := errs.Err(); err != nil {
		return "", "", err
	}
	return l, note, nil
}

// TamperCheck compares the phone's score with the console's own
// recomputation (issue 17 §4): flagged when they differ by more than the
// tolerance, or when the phone's score reached the threshold and the
// console's does not. phone is nil when the phone sent no score: any
// console score is then recorded without a flag. Scores are compared at
// 1e-9 so that 0.85 − 0.80 is not "more than 0.05".
func TamperCheck(phone *float64, console, tolerance, threshold float64) (flag bool, reasonZH, reasonEN string) {
	if phone == nil {
		return false, "", ""
	}
	const eps = 1e-9
	if d := math.Abs(*phone - console); d > tolerance+eps {
		return true, fmt.Sprintf("手机上报相似度 %.2f，工作台计算为 %.2f，相差超过 %.2f", *phone, console, tolerance),
			fmt.Sprintf("the phone reported %.2f, the console computed %.2f: more than %.2f apart", *phone, console, tolerance)
	}
	if *phone >= threshold-eps && console < threshold-eps {
		return true, fmt.Sprintf("手机上报相符（%.2f），工作台计算不相符（%.2f，阈值 %.2f）", *phone, console, threshold),
			fmt.Sprintf("the phone said matched (%.2f), the console does not (%.2f, threshold %.2f)", *phone, console, threshold)
	}
	return false, "", ""
}

// ParseConsoleScore reads the console_score field: a number 0–1.
func ParseConsoleScore(s string) (float64, error) {
	var f float64
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%g", &f); err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		return 0, Invalid("console_score", "工作台相似度须为0到1之间的数", "console_score must be a number from 0 to 1")
	}
	return f, nil
}

// SpeedKmh is the speed between two points at two instants (great circle;
// an interval of zero or less gives +Inf when the points differ, 0 when
// they do not).
func SpeedKmh(lat1, lng1 float64, t1 time.Time, lat2, lng2 float64, t2 time.Time) float64 {
	km := DistanceM(lat1, lng1, lat2, lng2) / 1000
	h := t2.Sub(t1).Hours()
	if h < 0 {
		h = -h
	}
	if h == 0 {
		if km == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return km / h
}

// ImpossibleSpeed reports whether a speed is above the policy's maximum
// (exactly the maximum is possible).
func ImpossibleSpeed(kmh float64, maxKmh int) bool { return kmh > float64(maxKmh)+1e-9 }

// The in-app challenge (人机分离, issue 17 §4): on challenge_per_month days
// of each month, at a moment of the person's check-in window, the app asks
// for a check-in within challenge_minutes. The days and the moment are
// drawn with the test-day seeds of the person's township (the same scorer,
// purposes "challenge" and "challenge_at"), so they are fixed before the
// month starts, unknown to anyone until the month's seed is revealed after
// it ends, and recomputable then.

// Challenge purposes, part of the scored message.
const (
	DrawChallenge   = "challenge"
	DrawChallengeAt = "challenge_at"
)

// ChallengeDays returns the n days of d's month with the lowest challenge
// scores for the person (sorted).
func ChallengeDays(s *Scorer, personID string, d Date, n int) ([]Date, error) {
	first := NewDate(d.Year, d.Month, 1)
	last := NewDate(d.Year, d.Month+1, 0)
	type sc struct {
		day   Date
		score []byte
	}
	var all []sc
	for x := first; !x.After(last); x = nextDay(x) {
		v, ok := s.Score(personID, DrawChallenge, first, x)
		if !ok {
			return nil, fmt.Errorf("%w: period %s", ErrSeedUnknown, PeriodOf(x))
		}
		all = append(all, sc{x, append([]byte(nil), v...)})
	}
	sort.Slice(all, func(i, j int) bool { return bytes.Compare(all[i].score, all[j].score) < 0 })
	var out []Date
	for i := 0; i < n && i < len(all); i++ {
		out = append(out, all[i].day)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out, nil
}

// ChallengeAt is the moment a challenge day's challenge is issued: a whole
// minute of the window chosen by the "challenge_at" score, early enough
// that the answer time ends inside the window. ok is false when the window
// is shorter than the answer time.
func ChallengeAt(s *Scorer, personID string, day Date, w Window, minutes int, loc *time.Location) (time.Time, bool) {
	span := int(w.To-w.From) - minutes
	if span < 0 {
		return time.Time{}, false
	}
	v, ok := s.Score(personID, DrawChallengeAt, NewDate(day.Year, day.Month, 1), day)
	if !ok {
		return time.Time{}, false
	}
	off := int(binary.BigEndian.Uint64(v[:8]) % uint64(span+1))
	return day.In(loc).Add(time.Duration(int(w.From)+off) * time.Minute), true
}

// AnswersChallenge reports whether a check-in taken at t answers a
// challenge issued at issued with minutes to answer: issued ≤ t ≤
// issued + minutes (the last second counts; a minute later does not).
func AnswersChallenge(issued, t time.Time, minutes int) bool {
	return !t.Before(issued) && !t.After(issued.Add(time.Duration(minutes)*time.Minute))
}

// VerifySpotSet recomputes every spot-check sample from the published
// seeds (each checked against its commitment first), as verify-draws does
// for the test days: checked counts the samples recomputed, pending those
// whose seed is not revealed yet, and each altered sample is named.
func VerifySpotSet(seeds []RevealedSeed, samples []SpotSampleRecord) (checked, pending int, problems []string) {
	good := map[string][]byte{}
	for _, s := range seeds {
		if s.Seed == "" {
			continue
		}
		if raw, err := hex.DecodeString(s.Seed); err == nil && len(raw) == SeedSize && SeedHash(raw) == s.Hash {
			good[s.OrgID+"|"+s.Period] = raw
		}
	}
	src := func(org, p string) ([]byte, bool) { s, ok := good[org+"|"+p]; return s, ok }
	for _, s := range samples {
		problem, wait := VerifySpotSample(src, s)
		switch {
		case problem != "":
			checked++
			problems = append(problems, problem)
		case wait:
			pending++
		default:
			checked++
		}
	}
	return checked, pending, problems
}
