package store

// risk.go: risk tiers (issue 13; R31, R32). Instruments are versioned and
// effective-dated per org node and inherited; an assessment is scored
// against the instrument in force and keeps a copy of it; its tier is only
// a proposal until a lead confirms or overrides it with a reason, and then
// it applies from the next day in the place's zone, recorded with the
// policy versions of the tier's effects.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// instrumentAt returns the instrument in force at the org on the date: the
// deepest org of the chain with a version effective by then, its latest
// one; the built-in default when none.
func (tx *Tx) instrumentAt(ctx context.Context, org *casework.Org, date casework.Date) (*casework.Instrument, error) {
	chain, err := tx.orgChain(ctx, org)
	if err != nil {
		return nil, err
	}
	for i := len(chain) - 1; i >= 0; i-- {
		var id, body, note, by string
		var from casework.Date
		err := tx.QueryRow(ctx, `SELECT id, effective_from, body, note, created_by_name FROM risk_instruments
			WHERE org_id = ? AND effective_from <= ? ORDER BY effective_from DESC LIMIT 1`, chain[i].ID, date).Scan(&id, &from, &body, &note, &by)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("risk instrument: %w", err)
		}
		in, err := casework.ParseInstrumentBody(body)
		if err != nil {
			return nil, err
		}
		in.ID, in.OrgID, in.OrgName, in.EffectiveFrom, in.Note, in.CreatedByName = id, chain[i].ID, chain[i].Name, from, note, by
		return in, nil
	}
	return casework.DefaultInstrument(), nil
}

// RiskInstrument returns the instrument in force at the org on the date
// (zero: today in the org's zone), for anyone who sees tiers there.
func (db *DB) RiskInstrument(ctx context.Context, actor *casework.Actor, orgID string, date casework.Date) (*casework.Instrument, error) {
	var in *casework.Instrument
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermRiskView, orgID)
		if err != nil {
			return err
		}
		if date.IsZero() {
			date = tx.today(org)
		}
		in, err = tx.instrumentAt(ctx, org, date)
		return err
	})
	return in, err
}

// CreateRiskInstrument attaches a new instrument version to the org from
// from on, which must be tomorrow or later in the org's zone (an
// assessment already made keeps the instrument it was scored with).
// PermRiskInstrument; every problem is refused naming its field, and
// nothing is written. Audited.
func (db *DB) CreateRiskInstrument(ctx context.Context, actor *casework.Actor, orgID string, in *casework.Instrument, from casework.Date, note string) (*casework.Instrument, error) {
	return db.createRiskInstrument(ctx, actor, orgID, in, from, note, false)
}

// CheckRiskInstrument runs every check of CreateRiskInstrument (rights,
// the instrument, the date, a version already on that date) and writes
// nothing: the dry run of an upload (issue 13 §1).
func (db *DB) CheckRiskInstrument(ctx context.Context, actor *casework.Actor, orgID string, in *casework.Instrument, from casework.Date) error {
	_, err := db.createRiskInstrument(ctx, actor, orgID, in, from, "", true)
	return err
}

func (db *DB) createRiskInstrument(ctx context.Context, actor *casework.Actor, orgID string, in *casework.Instrument, from casework.Date, note string, dry bool) (*casework.Instrument, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var out *casework.Instrument
	err := db.Write(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermRiskInstrument, orgID)
		if err != nil {
			return err
		}
		if from.IsZero() {
			return casework.Invalid("effective_from", "请填写生效日期（明天或以后）", "give the effective date (tomorrow or later)")
		}
		if !from.After(tx.today(org)) {
			return casework.Invalid("effective_from", "生效日期须晚于今天（%s）", "the effective date must be after today (%s)", tx.today(org))
		}
		if dry {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM risk_instruments WHERE org_id = ? AND effective_from = ?`, org.ID, from).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return casework.Invalid("effective_from", "本机构已有 %s 生效的评估表版本", "this org already has an instrument version effective %s", from)
			}
			return nil
		}
		id := NewID()
		body := in.Body()
		_, err = tx.Exec(ctx, `INSERT INTO risk_instruments (id, org_id, effective_from, body, note, created_by, created_by_name, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, org.ID, from, body, note, actor.UserID, actorName(actor), tx.now)
		if errors.Is(err, ErrUnique) {
			return casework.Invalid("effective_from", "本机构已有 %s 生效的评估表版本", "this org already has an instrument version effective %s", from)
		}
		if err != nil {
			return err
		}
		if err := tx.Audit(ctx, actor, AuditEntry{Action: "risk.instrument.create", TargetType: "risk_instrument", TargetID: id, OrgID: org.ID,
			Reason: note, Detail: map[string]any{"effective_from": from.String(), "name": in.Name, "factors": len(in.Factors),
				"medium_from": in.MediumFrom, "high_from": in.HighFrom}}); err != nil {
			return err
		}
		out, err = tx.instrumentAt(ctx, org, from)
		return err
	})
	return out, err
}

// RiskInstrumentVersions returns the instrument versions loaded at the
// org and at the orgs above it (the ones it inherits), newest effective
// date first, for anyone who sees tiers there.
func (db *DB) RiskInstrumentVersions(ctx context.Context, actor *casework.Actor, orgID string) ([]*casework.Instrument, error) {
	var out []*casework.Instrument
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermRiskView, orgID)
		if err != nil {
			return err
		}
		chain, err := tx.orgChain(ctx, org)
		if err != nil {
			return err
		}
		for _, o := range chain {
			rows, err := tx.Query(ctx, `SELECT id, effective_from, body, note, created_by_name FROM risk_instruments WHERE org_id = ?`, o.ID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id, body, note, by string
				var from casework.Date
				if err := rows.Scan(&id, &from, &body, &note, &by); err != nil {
					rows.Close()
					return err
				}
				in, err := casework.ParseInstrumentBody(body)
				if err != nil {
					rows.Close()
					return err
				}
				in.ID, in.OrgID, in.OrgName, in.EffectiveFrom, in.Note, in.CreatedByName = id, o.ID, o.Name, from, note, by
				out = append(out, in)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		slices.SortStableFunc(out, func(a, b *casework.Instrument) int { return b.EffectiveFrom.Compare(a.EffectiveFrom) })
		return nil
	})
	return out, err
}

// RiskForm is an assessment to fill: the instrument in force and the
// answers the file already knows, each with its source.
type RiskForm struct {
	PersonID, PersonName string
	Instrument           *casework.Instrument
	Known                casework.RiskInput
	Today                casework.Date
}

// facts fills from the file what it knows (CARE.md B): employment, the
// latest PHQ-9 and GAD-7 (≥10 scores; PHQ-9 item 9 above zero is the
// self-harm override), tests missed in the last 90 days, prior treatment
// episodes, and an open R9 serious case (override).
func (tx *Tx) riskFacts(ctx context.Context, personID string, in *casework.Instrument, today casework.Date) (casework.RiskInput, error) {
	x := casework.RiskInput{Answers: map[string]casework.RiskAnswer{}, Overrides: map[string]casework.RiskAnswer{}}
	has := func(code string) bool { _, ok := in.Factor(code); return ok }
	if has("employment") {
		recs, err := tx.employment(ctx, `e.person_id = ?`, personID)
		if err != nil {
			return x, err
		}
		if len(recs) > 0 {
			st, cur := statusOf(recs, today)
			a := casework.RiskAnswer{Value: "unemployed"}
			src := recs[0]
			if st != casework.WorkUnemployed && cur != nil {
				a.Value, src = "employed", *cur
			}
			a.SourceZH = fmt.Sprintf("就业：来自 %s 的就业记录", src.From)
			a.SourceEN = fmt.Sprintf("employment: from the job record of %s", src.From)
			x.Answers["employment"] = a
		}
	}
	var phq, gad, item9 sql.NullInt64
	var phqOn, gadOn sql.Null[casework.Date]
	err := tx.QueryRow(ctx, `SELECT score, item9, administered_on FROM scale_administrations WHERE person_id = ? AND scale = 'phq9'
		ORDER BY administered_at DESC LIMIT 1`, personID).Scan(&phq, &item9, &phqOn)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return x, err
	}
	err = tx.QueryRow(ctx, `SELECT score, administered_on FROM scale_administrations WHERE person_id = ? AND scale = 'gad7'
		ORDER BY administered_at DESC LIMIT 1`, personID).Scan(&gad, &gadOn)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return x, err
	}
	if item9.Valid && item9.Int64 > 0 {
		x.Overrides[casework.OverrideSelfHarm] = casework.RiskAnswer{Value: "yes",
			SourceZH: fmt.Sprintf("来自 %s 的 PHQ-9 第9题", phqOn.V), SourceEN: fmt.Sprintf("from the PHQ-9 item 9 of %s", phqOn.V)}
	}
	if has("mental_health") && (phq.Valid || gad.Valid) {
		a := casework.RiskAnswer{Value: "below"}
		switch {
		case phq.Valid && phq.Int64 >= 10:
			a = casework.RiskAnswer{Value: "10+", SourceZH: fmt.Sprintf("来自 %s 的 PHQ-9（%d分）", phqOn.V, phq.Int64), SourceEN: fmt.Sprintf("from the PHQ-9 of %s (%d)", phqOn.V, phq.Int64)}
		case gad.Valid && gad.Int64 >= 10:
			a = casework.RiskAnswer{Value: "10+", SourceZH: fmt.Sprintf("来自 %s 的 GAD-7（%d分）", gadOn.V, gad.Int64), SourceEN: fmt.Sprintf("from the GAD-7 of %s (%d)", gadOn.V, gad.Int64)}
		default:
			a.SourceZH, a.SourceEN = "来自最近的 PHQ-9/GAD-7", "from the latest PHQ-9/GAD-7"
		}
		x.Answers["mental_health"] = a
	}
	if has("missed_tests") {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM violations WHERE person_id = ? AND kind IN ('missed_test', 'refused_test')
			AND state <> 'excused' AND day >= ?`, personID, today.AddDays(-90)).Scan(&n); err != nil {
			return x, err
		}
		v := "0"
		if n == 1 {
			v = "1"
		} else if n > 1 {
			v = "2+"
		}
		x.Answers["missed_tests"] = casework.RiskAnswer{Value: v, SourceZH: fmt.Sprintf("检测：近90天未检测或拒检 %d 次（违规记录）", n),
			SourceEN: fmt.Sprintf("tests: %d missed or refused in the last 90 days (violation records)", n)}
	}
	if has("episodes") {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM measures WHERE person_id = ? AND NOT in_force`, personID).Scan(&n); err != nil {
			return x, err
		}
		if n > 0 {
			v := "1"
			if n > 1 {
				v = "2+"
			}
			x.Answers["episodes"] = casework.RiskAnswer{Value: v, SourceZH: fmt.Sprintf("戒毒次数：档案中有 %d 次已结束的措施", n),
				SourceEN: fmt.Sprintf("episodes: %d earlier measures in the file", n)}
		}
	}
	var caseOn sql.NullTime
	err = tx.QueryRow(ctx, `SELECT MIN(created_at) FROM serious_cases WHERE person_id = ? AND trigger_kind IN ('refusals', 'departures', 'absence')
		AND state NOT IN ('decided', 'closed')`, personID).Scan(&caseOn)
	if err != nil {
		return x, err
	}
	if caseOn.Valid {
		d := casework.DateOf(caseOn.Time, nil)
		x.Overrides[casework.OverrideSerious] = casework.RiskAnswer{Value: "yes",
			SourceZH: fmt.Sprintf("来自 %s 立案的严重违反案件", d), SourceEN: fmt.Sprintf("from the serious case opened %s", d)}
	}
	return x, nil
}

// RiskAssessForm returns the form for a new assessment of the person.
// PermRiskAssess with write access to the file; the read is audited.
func (db *DB) RiskAssessForm(ctx context.Context, actor *casework.Actor, personID string) (*RiskForm, error) {
	var f *RiskForm
	err := db.Write(ctx, func(tx *Tx) error {
		r, org, err := tx.riskPerson(ctx, actor, personID, casework.PermRiskAssess)
		if err != nil {
			return err
		}
		today := tx.today(org)
		in, err := tx.instrumentAt(ctx, org, today)
		if err != nil {
			return err
		}
		known, err := tx.riskFacts(ctx, personID, in, today)
		if err != nil {
			return err
		}
		f = &RiskForm{PersonID: personID, PersonName: r.Name, Instrument: in, Known: known, Today: today}
		return tx.Audit(ctx, actor, AuditEntry{Action: "risk.form", TargetType: "person", TargetID: personID, OrgID: r.OrgID})
	})
	return f, err
}

// riskPerson loads the person for a risk action: readable, the actor holds
// perm at the file's org, and (for assessing) may write the file.
func (tx *Tx) riskPerson(ctx context.Context, actor *casework.Actor, personID string, perm casework.Perm) (*personRow, *casework.Org, error) {
	r, err := tx.personFor(ctx, actor, personID, nil)
	if err != nil {
		return nil, nil, err
	}
	if r.OrgPath == "" || !actor.Can(perm, r.OrgPath) || (perm == casework.PermRiskAssess && !canWrite(r.Access)) || !r.Access.Until.IsZero() {
		return nil, nil, casework.Errorf(casework.EFORBIDDEN, "您没有权限对该档案执行此操作", "you may not do this with this file")
	}
	org, err := tx.orgByID(ctx, r.OrgID)
	return r, org, err
}

// RiskAssessment is one assessment and its decision.
type RiskAssessment struct {
	ID             string
	PersonID       string
	Instrument     *casework.Instrument // the one it was scored with
	Input          casework.RiskInput
	Result         casework.RiskResult
	ReasonKind     string // first, scheduled, trigger, stepdown
	Trigger        string
	State          string // proposed, confirmed, overridden, superseded
	Tier           casework.Tier
	DecisionReason string
	DecidedByName  string
	DecidedAt      time.Time
	EffectiveFrom  casework.Date
	PolicyRef      string
	AssessedByName string
	AssessedAt     time.Time
}

type sealedRisk struct {
	Input  casework.RiskInput  `json:"input"`
	Result casework.RiskResult `json:"result"`
}

func riskSealCtx(id string) string { return "risk.input:" + id }

// AssessRisk scores an assessment of the person and stores it as a
// proposal (R32): nothing the person must do changes until a lead decides
// it. What the file knows is taken from the file, whatever the form sent:
// a known answer keeps its source only when the worker left it as the
// file says, and a hard override the file shows (an open serious case, a
// PHQ-9 item 9 above zero) cannot be unticked. An earlier open proposal is
// superseded. PermRiskAssess with write access; audited.
func (db *DB) AssessRisk(ctx context.Context, actor *casework.Actor, personID string, x casework.RiskInput, reasonKind, trigger string) (*RiskAssessment, error) {
	var out *RiskAssessment
	err := db.Write(ctx, func(tx *Tx) error {
		r, org, err := tx.riskPerson(ctx, actor, personID, casework.PermRiskAssess)
		if err != nil {
			return err
		}
		today := tx.today(org)
		in, err := tx.instrumentAt(ctx, org, today)
		if err != nil {
			return err
		}
		known, err := tx.riskFacts(ctx, personID, in, today)
		if err != nil {
			return err
		}
		clean := casework.RiskInput{Answers: map[string]casework.RiskAnswer{}, Overrides: map[string]casework.RiskAnswer{}}
		for k, a := range x.Answers {
			clean.Answers[k] = casework.RiskAnswer{Value: a.Value}
			if kn, ok := known.Answers[k]; ok && kn.Value == a.Value {
				clean.Answers[k] = kn
			}
		}
		for k, a := range x.Overrides {
			clean.Overrides[k] = casework.RiskAnswer{Value: a.Value}
		}
		for k, a := range known.Overrides {
			clean.Overrides[k] = a
		}
		res, err := in.Score(clean)
		if err != nil {
			return err
		}
		switch reasonKind {
		case "", "scheduled", "trigger", "stepdown", "first":
		default:
			return casework.Invalid("reason_kind", "评估原因无效：%q", "unknown reason for the assessment %q", reasonKind)
		}
		if reasonKind == "" {
			reasonKind = "scheduled"
		}
		id := NewID()
		b, _ := json.Marshal(sealedRisk{Input: clean, Result: *res})
		enc, err := db.vault.Seal(string(b), riskSealCtx(id))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE risk_assessments SET state = 'superseded' WHERE person_id = ? AND state = 'proposed'`, personID); err != nil {
			return err
		}
		instID := in.ID
		if _, err := tx.Exec(ctx, `INSERT INTO risk_assessments (id, person_id, org_id, instrument_id, instrument_body, input_enc, score, proposed_tier,
			reason_kind, trigger_text, state, assessed_by, assessed_by_name, assessed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'proposed', ?, ?, ?)`,
			id, personID, org.ID, instID, in.Body(), enc, res.Score, string(res.Proposed), reasonKind, trigger, actor.UserID, actorName(actor), tx.now); err != nil {
			return err
		}
		if err := tx.Audit(ctx, actor, AuditEntry{Action: "risk.assess", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"assessment": id, "instrument": instID, "score": res.Score, "proposed": res.Proposed, "overrides": res.Overrides}}); err != nil {
			return err
		}
		out, err = db.riskAssessment(ctx, tx, id)
		return err
	})
	return out, err
}

const riskColumns = `id, person_id, instrument_id, instrument_body, input_enc, reason_kind, trigger_text, state, tier, decision_reason,
	decided_by_name, decided_at, effective_from, policy_ref, assessed_by_name, assessed_at`

func (db *DB) scanRisk(sc interface{ Scan(...any) error }) (*RiskAssessment, error) {
	var a RiskAssessment
	var instID, body, enc, tier string
	var decidedAt sql.NullTime
	var eff sql.Null[casework.Date]
	if err := sc.Scan(&a.ID, &a.PersonID, &instID, &body, &enc, &a.ReasonKind, &a.Trigger, &a.State, &tier, &a.DecisionReason,
		&a.DecidedByName, &decidedAt, &eff, &a.PolicyRef, &a.AssessedByName, &a.AssessedAt); err != nil {
		return nil, err
	}
	in, err := casework.ParseInstrumentBody(body)
	if err != nil {
		return nil, err
	}
	in.ID = instID
	a.Instrument, a.Tier, a.DecidedAt, a.AssessedAt = in, casework.Tier(tier), scanTime(decidedAt), a.AssessedAt.UTC()
	if eff.Valid {
		a.EffectiveFrom = eff.V
	}
	s, err := db.vault.Open(enc, riskSealCtx(a.ID))
	if err != nil {
		return nil, fmt.Errorf("open risk assessment %s: %w", a.ID, err)
	}
	var sr sealedRisk
	if err := json.Unmarshal([]byte(s), &sr); err != nil {
		return nil, err
	}
	a.Input, a.Result = sr.Input, sr.Result
	return &a, nil
}

func (db *DB) riskAssessment(ctx context.Context, tx *Tx, id string) (*RiskAssessment, error) {
	a, err := db.scanRisk(tx.QueryRow(ctx, `SELECT `+riskColumns+` FROM risk_assessments WHERE id = ?`, id))
	return a, notFound(err, "风险评估", "risk assessment")
}

// DecideRisk is the lead's decision on a proposal (R32): tier equal to the
// proposal confirms it, another tier overrides it and needs a reason. The
// tier applies from the next day in the place's zone (never today's
// duties), recorded with the policy versions of the tier's effects.
// PermRiskConfirm; only the open proposal can be decided; audited.
func (db *DB) DecideRisk(ctx context.Context, actor *casework.Actor, assessmentID string, tier casework.Tier, reason string) (*RiskAssessment, error) {
	reason = strings.TrimSpace(reason)
	// The reason is free text with a cap (issue 15 §7).
	if err := casework.CheckText("reason", reason, casework.MaxReason); err != nil {
		return nil, err
	}
	var out *RiskAssessment
	err := db.Write(ctx, func(tx *Tx) error {
		var personID, state, proposed string
		err := tx.QueryRow(ctx, `SELECT person_id, state, proposed_tier FROM risk_assessments WHERE id = ?`+tx.forUpdate(), assessmentID).Scan(&personID, &state, &proposed)
		if err != nil {
			return notFound(err, "风险评估", "risk assessment")
		}
		r, org, err := tx.riskPerson(ctx, actor, personID, casework.PermRiskConfirm)
		if err != nil {
			if casework.IsCode(err, casework.ENOTFOUND) {
				return casework.NotFound("风险评估", "risk assessment")
			}
			return err
		}
		if state != "proposed" {
			return casework.Errorf(casework.ECONFLICT, "该评估已处理或已被新的评估取代", "this assessment was already decided or superseded by a newer one")
		}
		if !tier.Valid() {
			return casework.Invalid("tier", "等级无效：%q", "unknown tier %q", string(tier))
		}
		newState, action := "confirmed", "risk.confirm"
		if string(tier) != proposed {
			newState, action = "overridden", "risk.override"
			if reason == "" {
				return casework.Invalid("reason", "改定等级须说明理由", "a tier other than the proposal needs a reason")
			}
		}
		eff := tx.today(org).AddDays(1)
		pol, err := tx.resolvePolicy(ctx, org, eff)
		if err != nil {
			return err
		}
		var keys []string
		for _, g := range casework.TieredSettings {
			keys = append(keys, g, casework.TierSettingKey(g, tier))
		}
		ref := strings.Join(pol.Refs(keys...), ",")
		if _, err := tx.Exec(ctx, `UPDATE risk_assessments SET state = ?, tier = ?, decision_reason = ?, decided_by = ?, decided_by_name = ?,
			decided_at = ?, effective_from = ?, policy_ref = ? WHERE id = ?`,
			newState, string(tier), reason, actor.UserID, actorName(actor), tx.now, eff, ref, assessmentID); err != nil {
			return err
		}
		if err := tx.Audit(ctx, actor, AuditEntry{Action: action, TargetType: "person", TargetID: personID, OrgID: r.OrgID, Reason: reason,
			Detail: map[string]any{"assessment": assessmentID, "proposed": proposed, "tier": tier, "effective_from": eff.String(), "policy": ref}}); err != nil {
			return err
		}
		out, err = db.riskAssessment(ctx, tx, assessmentID)
		return err
	})
	return out, err
}

// tierAt is the person's tier in force on the date: the latest decided
// assessment effective by then; "" when none.
func (tx *Tx) tierAt(ctx context.Context, personID string, d casework.Date) (casework.Tier, error) {
	var t string
	err := tx.QueryRow(ctx, `SELECT tier FROM risk_assessments WHERE person_id = ? AND state IN ('confirmed', 'overridden') AND effective_from <= ?
		ORDER BY effective_from DESC, decided_at DESC LIMIT 1`, personID, d).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return casework.Tier(t), err
}

// RiskFile is the person's risk tier page.
type RiskFile struct {
	PersonID, PersonName string
	Today                casework.Date
	Current              *RiskAssessment // the decision in force today; nil when never decided
	Next                 *RiskAssessment // a decision taking effect tomorrow
	Proposal             *RiskAssessment // the open proposal, if any
	History              []*RiskAssessment
	Instrument           *casework.Instrument // in force today (labels)
	NextReview           casework.Date        // when the next reassessment is due (the first: from the report date)
	Never                bool                 // never assessed
	Triggers             []RiskTrigger        // events since the last assessment asking for one now
	StepDown             bool                 // the compliance window has passed: a step-down may be proposed
}

// GetRiskFile returns the person's tiers. PermRiskView; audited as a read
// of the file.
func (db *DB) GetRiskFile(ctx context.Context, actor *casework.Actor, personID string) (*RiskFile, error) {
	var f *RiskFile
	err := db.Write(ctx, func(tx *Tx) error {
		r, org, err := tx.riskPerson(ctx, actor, personID, casework.PermRiskView)
		if err != nil {
			return err
		}
		f = &RiskFile{PersonID: personID, PersonName: r.Name, Today: tx.today(org)}
		rows, err := tx.Query(ctx, `SELECT `+riskColumns+` FROM risk_assessments WHERE person_id = ? ORDER BY assessed_at DESC, id DESC`, personID)
		if err != nil {
			return err
		}
		for rows.Next() {
			a, err := db.scanRisk(rows)
			if err != nil {
				rows.Close()
				return err
			}
			f.History = append(f.History, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, a := range f.History {
			switch {
			case a.State == "proposed" && f.Proposal == nil:
				f.Proposal = a
			case a.State == "confirmed" || a.State == "overridden":
				if a.EffectiveFrom.After(f.Today) {
					if f.Next == nil {
						f.Next = a
					}
				} else if f.Current == nil || a.EffectiveFrom.After(f.Current.EffectiveFrom) {
					f.Current = a
				}
			}
		}
		if f.Instrument, err = tx.instrumentAt(ctx, org, f.Today); err != nil {
			return err
		}
		due, err := riskDue(ctx, tx, `p.id = ?`, []any{personID}, 1)
		if err != nil {
			return err
		}
		if len(due) == 1 {
			f.NextReview, f.Triggers, f.StepDown, f.Never = due[0].Due, due[0].Triggers, due[0].StepDown, due[0].Never
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "risk.view", TargetType: "person", TargetID: personID, OrgID: r.OrgID})
	})
	return f, err
}

// tierOn is tierAt in a read of its own (the check-in path).
func (db *DB) tierOn(ctx context.Context, personID string, d casework.Date) (casework.Tier, error) {
	var t casework.Tier
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		t, err = tx.tierAt(ctx, personID, d)
		return err
	})
	return t, err
}

// RiskDuties are what a tier sets for a person on a date (R31): the
// check-in window, the home-visit and contact cadences and the surprise
// tests per term, with the policy versions they come from.
type RiskDuties struct {
	Date          casework.Date
	Tier          casework.Tier
	Window        casework.Window
	EveryDays     int // check in every N days (checkin.every_days or the tier's)
	HomePeriod    casework.VisitPeriod
	ContactPeriod casework.VisitPeriod
	SurpriseMin   int
	Policy        []string
}

func (tx *Tx) dutiesAt(ctx context.Context, personID string, org *casework.Org, d casework.Date) (*RiskDuties, error) {
	tier, err := tx.tierAt(ctx, personID, d)
	if err != nil {
		return nil, err
	}
	pol, err := tx.resolvePolicy(ctx, org, d)
	if err != nil {
		return nil, err
	}
	out := &RiskDuties{Date: d, Tier: tier, Window: pol.ForTier("checkin.window", tier).Value.Window(),
		EveryDays:     pol.ForTier("checkin.every_days", tier).Value.Int(),
		HomePeriod:    casework.CadencePeriod(pol, casework.CadenceHome, string(tier)),
		ContactPeriod: casework.CadencePeriod(pol, casework.CadenceContact, string(tier)),
		SurpriseMin:   pol.ForTier("test.surprise_min", tier).Value.Int()}
	var keys []string
	for _, g := range casework.TieredSettings {
		keys = append(keys, g)
		if tier != "" {
			keys = append(keys, casework.TierSettingKey(g, tier))
		}
	}
	out.Policy = pol.Refs(keys...)
	return out, nil
}

// RiskDutiesOn returns the duties the person's tier sets on the date (zero:
// today in the place's zone). PermRiskView.
func (db *DB) RiskDutiesOn(ctx context.Context, actor *casework.Actor, personID string, d casework.Date) (*RiskDuties, error) {
	var out *RiskDuties
	err := db.Read(ctx, func(tx *Tx) error {
		_, org, err := tx.riskPerson(ctx, actor, personID, casework.PermRiskView)
		if err != nil {
			return err
		}
		if d.IsZero() {
			d = tx.today(org)
		}
		out, err = tx.dutiesAt(ctx, personID, org, d)
		return err
	})
	return out, err
}

// AppDuties is what the person's app says about their duties (issue 13 §6,
// R32: an explanation is available): what is asked of them today, that it
// follows from the last review, and when the next one is. Never the score
// nor the tier's name.
type AppDuties struct {
	Today      casework.Date
	Duties     *RiskDuties
	LastReview casework.Date // the day of the decision in force; zero when none
	NextReview casework.Date
}

// AppDuties returns the device's person's duties (the app's own data).
func (db *DB) AppDuties(ctx context.Context, personID string) (*AppDuties, error) {
	out := &AppDuties{}
	err := db.Read(ctx, func(tx *Tx) error {
		var orgID string
		if err := tx.QueryRow(ctx, `SELECT org_id FROM persons WHERE id = ?`, personID).Scan(&orgID); err != nil {
			return notFound(err, "人员档案", "person")
		}
		org, err := tx.orgByID(ctx, orgID)
		if err != nil {
			return err
		}
		out.Today = tx.today(org)
		if out.Duties, err = tx.dutiesAt(ctx, personID, org, out.Today); err != nil {
			return err
		}
		var decided anyTime
		err = tx.QueryRow(ctx, `SELECT decided_at FROM risk_assessments WHERE person_id = ? AND state IN ('confirmed', 'overridden') AND effective_from <= ?
			ORDER BY effective_from DESC, decided_at DESC LIMIT 1`, personID, out.Today).Scan(&decided)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if decided.Valid {
			out.LastReview = casework.DateOf(decided.Time, org.Location())
		}
		due, err := riskDue(ctx, tx, `p.id = ?`, []any{personID}, 1)
		if err != nil {
			return err
		}
		if len(due) == 1 && !due[0].Never {
			out.NextReview = due[0].Due
		}
		return nil
	})
	return out, err
}
