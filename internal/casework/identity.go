package casework

// identity.go: is it really the person? (issue 17; R26, R32, R36). The app
// runs a face model on the phone and signs, with the check-in, the match
// score against the reference photo taken at activation, the liveness
// result and the model version (FaceInput). The server turns them into an
// identity outcome with the policy threshold (IdentityOutcomeOf). A
// mismatch or a failed liveness check is never acted on by itself (R32: no
// solely automated adverse decision): the check-in counts for nothing until
// a person reviews it (IdentityCounts), and it is not a violation either.

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strings"
)

// IdentityOutcome is the server's judgement of whose face a check-in shows.
type IdentityOutcome string

// The identity outcomes (issue 17 §3).
const (
	IdentityMatched        IdentityOutcome = "matched"         // score ≥ threshold, liveness passed (or not run and not required)
	IdentityNotMatched     IdentityOutcome = "not_matched"     // score < threshold
	IdentityLivenessFailed IdentityOutcome = "liveness_failed" // the liveness / anti-spoofing check failed, whatever the score
	IdentityNotChecked     IdentityOutcome = "not_checked"     // no face data, model unavailable, no face, no reference
)

// IdentityOutcomes lists every outcome.
var IdentityOutcomes = []IdentityOutcome{IdentityMatched, IdentityNotMatched, IdentityLivenessFailed, IdentityNotChecked}

var identityLabels = map[IdentityOutcome][2]string{
	IdentityMatched:        {"本人核验通过", "identity matched"},
	IdentityNotMatched:     {"人脸不匹配", "face not matched"},
	IdentityLivenessFailed: {"活体检测未通过", "liveness check failed"},
	IdentityNotChecked:     {"未核验身份", "identity not checked"},
}

// Label returns the outcome's name in the language.
func (o IdentityOutcome) Label(lang string) string {
	return label(identityLabels[o], string(o), lang)
}

// NeedsReview reports whether the outcome waits for a person's review
// before the check-in can count (R32).
func (o IdentityOutcome) NeedsReview() bool {
	return o == IdentityNotMatched || o == IdentityLivenessFailed
}

// The phone's face outcomes (the contract's face.outcome).
const (
	FaceScored           = "scored"
	FaceNoFace           = "no_face"
	FaceModelUnavailable = "model_unavailable"
	FaceNoReference      = "no_reference"
)

// The liveness results.
const (
	LivenessPassed = "passed"
	LivenessFailed = "failed"
	LivenessNotRun = "not_run"
)

// The active challenges (policy identity.challenge; "" none).
const (
	ChallengeNone  = "none" // the policy value; the app sees ""
	ChallengeBlink = "blink"
	ChallengeTurn  = "turn"
)

// Why a check-in's identity was not checked (IdentityReason).
const (
	ReasonNoFaceData       = "no_face_data"      // an old app, or the face step skipped: no face fields
	ReasonModelUnavailable = "model_unavailable" // the phone could not run the model
	ReasonNoFace           = "no_face"           // no face found in the selfie
	ReasonNoReference      = "no_reference"      // no reference embedding (on the phone or on the server)
	ReasonLivenessNotRun   = "liveness_not_run"  // the policy requires liveness and it did not run
)

var reasonLabels = map[string][2]string{
	ReasonNoFaceData:       {"无人脸数据（旧版应用）", "no face data (an older app)"},
	ReasonModelUnavailable: {"手机无法运行人脸模型", "the phone could not run the face model"},
	ReasonNoFace:           {"自拍中未检测到人脸", "no face found in the selfie"},
	ReasonNoReference:      {"尚无参考照片特征", "no reference embedding yet"},
	ReasonLivenessNotRun:   {"未进行活体检测", "the liveness check did not run"},
}

// IdentityReasonLabel names why the identity was not checked.
func IdentityReasonLabel(reason, lang string) string {
	return label(reasonLabels[reason], reason, lang)
}

// MaxEmbeddingFloats bounds a face embedding (Human's faceres gives 1024).
const MaxEmbeddingFloats = 2048

// FaceInput is the face part of a signed check-in (the contract of issue 17).
type FaceInput struct {
	Outcome   string   `json:"outcome"`
	Score     *float64 `json:"score,omitempty"`
	Liveness  string   `json:"liveness,omitempty"`
	Challenge string   `json:"challenge,omitempty"`
	Models    string   `json:"models,omitempty"`
	Embedding string   `json:"embedding,omitempty"`
	MS        *float64 `json:"ms,omitempty"`
}

// Validate checks the face fields; each bad one is refused naming it
// ("face.score"). An empty liveness is read as not run.
func (f *FaceInput) Validate() error {
	f.Outcome = strings.TrimSpace(f.Outcome)
	switch f.Outcome {
	case FaceScored, FaceNoFace, FaceModelUnavailable, FaceNoReference:
	case "":
		return Invalid("face.outcome", "face.outcome 不能为空：须为 scored、no_face、model_unavailable 或 no_reference", "face.outcome is required: scored, no_face, model_unavailable or no_reference")
	default:
		return Invalid("face.outcome", "face.outcome 须为 scored、no_face、model_unavailable 或 no_reference", "face.outcome must be scored, no_face, model_unavailable or no_reference")
	}
	switch {
	case f.Outcome == FaceScored && f.Score == nil:
		return Invalid("face.score", "face.outcome 为 scored 时须有 face.score", "face.score is required when face.outcome is scored")
	case f.Outcome != FaceScored && f.Score != nil:
		return Invalid("face.score", "只有 face.outcome 为 scored 时才可有 face.score", "face.score is sent only when face.outcome is scored")
	case f.Score != nil && (math.IsNaN(*f.Score) || *f.Score < 0 || *f.Score > 1):
		return Invalid("face.score", "face.score 须在 0 到 1 之间", "face.score must be between 0 and 1")
	}
	switch f.Liveness {
	case "":
		f.Liveness = LivenessNotRun
	case LivenessPassed, LivenessFailed, LivenessNotRun:
	default:
		return Invalid("face.liveness", "face.liveness 须为 passed、failed 或 not_run", "face.liveness must be passed, failed or not_run")
	}
	switch f.Challenge {
	case "", ChallengeBlink, ChallengeTurn:
	default:
		return Invalid("face.challenge", "face.challenge 须为空、blink 或 turn", "face.challenge must be empty, blink or turn")
	}
	if n := len([]rune(f.Models)); n > 100 || strings.ContainsAny(f.Models, "\r\n") {
		return Invalid("face.models", "face.models 须为一行不超过100字的模型版本", "face.models must be one line of at most 100 characters (the model version)")
	}
	if f.Embedding != "" {
		if f.Outcome != FaceScored && f.Outcome != FaceNoReference {
			return Invalid("face.embedding", "未检测到人脸时不能有 face.embedding", "face.embedding is sent only when a face was found (outcome scored or no_reference)")
		}
		if _, err := DecodeEmbedding(f.Embedding); err != nil {
			return err
		}
	}
	if f.MS != nil && (math.IsNaN(*f.MS) || *f.MS < 0 || *f.MS > 600000) {
		return Invalid("face.ms", "face.ms 须在 0 到 600000 毫秒之间", "face.ms must be between 0 and 600000 (milliseconds)")
	}
	return nil
}

// DecodeEmbedding reads a base64 little-endian float32 embedding.
func DecodeEmbedding(b64 string) ([]float32, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, Invalid("face.embedding", "face.embedding 不是有效的 base64", "face.embedding is not valid base64")
	}
	if len(raw) == 0 || len(raw)%4 != 0 || len(raw)/4 > MaxEmbeddingFloats {
		return nil, Invalid("face.embedding", "face.embedding 须为1到%d个 float32（小端）", "face.embedding must hold 1 to %d little-endian float32 values", MaxEmbeddingFloats)
	}
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		if f := float64(out[i]); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, Invalid("face.embedding", "face.embedding 含非有限数值", "face.embedding holds a value that is not finite")
		}
	}
	return out, nil
}

// EncodeEmbedding is DecodeEmbedding's inverse (tests, the console).
func EncodeEmbedding(v []float32) string {
	raw := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// IdentityPolicy is what the outcome needs from the policy in force.
type IdentityPolicy struct {
	Threshold       float64 // identity.match_threshold (R26, default 0.80; equal is matched)
	RequireLiveness bool    // identity.require_liveness
}

// IdentityOutcomeOf judges the face fields of a check-in (issue 17 §3):
// hasReference is whether the server holds a reference embedding for the
// person (a phone that scored against one the server no longer has is not
// trusted). Liveness failed beats any score; a score exactly at the
// threshold is matched. The reason says why it was not checked ("" else).
func IdentityOutcomeOf(f *FaceInput, hasReference bool, p IdentityPolicy) (IdentityOutcome, string) {
	if f == nil {
		return IdentityNotChecked, ReasonNoFaceData
	}
	switch f.Outcome {
	case FaceModelUnavailable:
		return IdentityNotChecked, ReasonModelUnavailable
	case FaceNoFace:
		return IdentityNotChecked, ReasonNoFace
	case FaceNoReference:
		return IdentityNotChecked, ReasonNoReference
	case FaceScored:
	default:
		return IdentityNotChecked, ReasonNoFaceData
	}
	if f.Liveness == LivenessFailed {
		return IdentityLivenessFailed, ""
	}
	if !hasReference {
		return IdentityNotChecked, ReasonNoReference
	}
	if f.Score == nil {
		return IdentityNotChecked, ReasonNoFaceData
	}
	if *f.Score < p.Threshold {
		return IdentityNotMatched, ""
	}
	if p.RequireLiveness && f.Liveness != LivenessPassed {
		return IdentityNotChecked, ReasonLivenessNotRun
	}
	return IdentityMatched, ""
}

// The decisions of an identity review (issue 17 §3).
const (
	ReviewSamePerson = "same"
	ReviewNotSame    = "not_same"
)

var reviewLabels = map[string][2]string{
	ReviewSamePerson: {"是本人", "the same person"},
	ReviewNotSame:    {"不是本人", "not the same person"},
}

// ReviewLabel names a review decision.
func ReviewLabel(decision, lang string) string { return label(reviewLabels[decision], decision, lang) }

// ValidReview checks a review decision and its note: not the same person
// needs a note saying what was seen.
func ValidReview(decision, note string) error {
	switch decision {
	case ReviewSamePerson, ReviewNotSame:
	case "":
		return Invalid("decision", "请选择是否为本人", "choose whether it is the same person")
	default:
		return Invalid("decision", "核验结论须为“是本人”或“不是本人”", "the decision must be same person or not the same person")
	}
	if len([]rune(strings.TrimSpace(note))) > 1000 {
		return Invalid("note", "说明不能超过1000字", "the note must be at most 1000 characters")
	}
	if decision == ReviewNotSame && strings.TrimSpace(note) == "" {
		return Invalid("note", "判定不是本人时须写明说明", "a note is required when it is not the same person")
	}
	return nil
}

// IdentityCounts reports whether the identity lets a check-in discharge the
// day (R32): matched and not checked behave as before issue 17; a mismatch
// or failed liveness counts only once a person reviewed it as the same
// person. checksCount is the judgement of the other checks (Discharges).
func IdentityCounts(checksCount bool, o IdentityOutcome, review string) bool {
	if !checksCount {
		return false
	}
	if o.NeedsReview() {
		return review == ReviewSamePerson
	}
	return true
}

// identitySettings are the policy settings of issue 17.
var identitySettings = []*Setting{
	{Key: "identity.match_threshold", Kind: SettingDecimal, ZH: "人脸比对阈值", EN: "Face match threshold",
		Default: DecimalValue(80), Min: 50, Max: 99, Rule: "R26", Confidence: "MED",
		HintZH: "手机计算的自拍与参考照片相似度不低于此值（等于即通过）且活体检测通过，判为本人核验通过；低于此值的签到须由工作人员复核后才算完成，不自动作不利处理（R32）。",
		HintEN: "A selfie whose similarity to the reference photo is at least this (equal passes) with liveness passed is identity matched; a lower one counts only after a staff review, and nothing adverse follows automatically (R32)."},
	{Key: "identity.require_liveness", Kind: SettingBool, ZH: "须通过活体检测", EN: "Liveness check required", Default: BoolValue(true),
		Rule: "R26", Confidence: "MED",
		HintZH: "开启后，未进行活体检测的签到记为“未核验身份”；活体检测未通过的签到须复核。", HintEN: "When on, a check-in without a liveness check is identity not checked; one that failed it waits for review."},
	{Key: "identity.challenge", Kind: SettingEnum, ZH: "签到动作验证", EN: "Check-in challenge", Default: EnumValue(ChallengeNone),
		Options: []Option{{ChallengeNone, "无", "none"}, {ChallengeBlink, "眨眼", "blink"}, {ChallengeTurn, "转头", "turn the head"}},
		Rule:    "R26", Confidence: "UNCONFIRMED",
		HintZH: "签到自拍时要求本人完成的动作。", HintEN: "What the person is asked to do while taking the check-in selfie."},
	{Key: "identity.retention_days", Kind: SettingInt, ZH: "签到人脸数据保存天数", EN: "Check-in face data kept for", UnitZH: "天", UnitEN: "days",
		Default: IntValue(180), Min: 30, Max: 1095, Rule: "R36", Confidence: "UNCONFIRMED",
		HintZH: "签到时的人脸特征超过此天数即由夜间任务删除（比对结果保留）；待复核的签到在复核前不删除。参考照片在档案封存时随档案处理。",
		HintEN: "A check-in's face embedding older than this is deleted by the nightly job (the outcome is kept); one awaiting review is kept until reviewed. The reference photo follows the file's sealing."},
}
