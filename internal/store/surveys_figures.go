package store

import (
	"context"
	"fmt"
	"strings"

	"kangfu/internal/casework"
)

// SurveyItemCount is how one satisfaction item was answered.
type SurveyItemCount struct {
	Item    casework.SurveyItem
	Answers map[casework.SatAnswer]int
	Counts  casework.SurveyCounts // Satisfied, Valid and Unknown of this item
}

// SurveyKnowledgeCount is how one knowledge item was answered.
type SurveyKnowledgeCount struct {
	Item           casework.SurveyItem
	Correct, Asked int
}

// SurveyResult is the satisfaction and awareness of an org subtree (or of
// one survey) over a period: the numerators and denominators of both rates
// (casework.SurveyCounts states the formulas), from the answers given online
// and from imported third-party results, with the online answers broken
// down by question.
type SurveyResult struct {
	Online   casework.SurveyCounts
	Imported casework.SurveyCounts
	Total    casework.SurveyCounts // Online + Imported
	ByItem   []SurveyItemCount
	ByKnow   []SurveyKnowledgeCount
	Imports  int // third-party results counted
}

// SurveyFilter selects what SurveyFigures counts: the subtrees of OrgIDs
// (none: the actor's whole scope), one survey (SurveyID, optional), and the
// period [From, To] (both days included, zero ends open). An online answer
// counts on the local day it was given; an imported result counts when its
// period ends inside [From, To].
type SurveyFilter struct {
	OrgIDs   []string
	SurveyID string
	From, To casework.Date
}

// SurveyFigures counts satisfaction and awareness for the filter, scoped by
// the actor: an org outside the actor's PermViewSurveys scope is ENOTFOUND,
// a period running backwards EINVALID. The reports engine calls this for
// the 满意率 and 知晓率 figures (issue 12 §1).
func (db *DB) SurveyFigures(ctx context.Context, actor *casework.Actor, f SurveyFilter) (*SurveyResult, error) {
	res := &SurveyResult{}
	err := db.Read(ctx, func(tx *Tx) error {
		where, args, err := tx.surveyScope(ctx, actor, f.OrgIDs)
		if err != nil {
			return err
		}
		if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
			return casework.Invalid("to", "结束日期不能早于开始日期", "the end of the period cannot be before its start")
		}
		rw, ra := where, append([]any{}, args...)
		if f.SurveyID != "" {
			rw, ra = rw+` AND r.survey_id = ?`, append(ra, f.SurveyID)
		}
		if !f.From.IsZero() {
			rw, ra = rw+` AND r.submitted_on >= ?`, append(ra, f.From)
		}
		if !f.To.IsZero() {
			rw, ra = rw+` AND r.submitted_on <= ?`, append(ra, f.To)
		}
		if err := tx.surveyOnline(ctx, rw, ra, res); err != nil {
			return err
		}
		if f.SurveyID == "" {
			iw, ia := where, append([]any{}, args...)
			if !f.From.IsZero() {
				iw, ia = iw+` AND i.period_to >= ?`, append(ia, f.From)
			}
			if !f.To.IsZero() {
				iw, ia = iw+` AND i.period_to <= ?`, append(ia, f.To)
			}
			if err := tx.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(i.respondents), 0), COALESCE(SUM(i.satisfied), 0), COALESCE(SUM(i.valid), 0),
				COALESCE(SUM(i.correct), 0), COALESCE(SUM(i.respondents * i.knowledge_items), 0)
				FROM survey_imports i JOIN orgs o ON o.id = i.org_id WHERE `+iw, ia...).Scan(&res.Imports, &res.Imported.Respondents,
				&res.Imported.Satisfied, &res.Imported.Valid, &res.Imported.Correct, &res.Imported.Asked); err != nil {
				return fmt.Errorf("count imported survey results: %w", err)
			}
		}
		res.Total = res.Online.Add(res.Imported)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// surveyScope is the WHERE clause over o (the org of a response or an
// import) for the actor's scope and the chosen subtrees.
func (tx *Tx) surveyScope(ctx context.Context, actor *casework.Actor, orgIDs []string) (string, []any, error) {
	where, args := scopeClause("o.path", actor.Scope(casework.PermViewSurveys))
	var parts []string
	for _, id := range orgIDs {
		o, err := tx.orgByID(ctx, id)
		if err != nil || !actor.Can(casework.PermViewSurveys, o.Path) {
			return "", nil, casework.NotFound("机构", "organisation")
		}
		parts, args = append(parts, `o.path LIKE ? ESCAPE '\'`), append(args, likePrefix(o.Path))
	}
	if len(parts) > 0 {
		where += ` AND (` + strings.Join(parts, " OR ") + `)`
	}
	return where, args, nil
}

var satColumns = []string{"sat_gov", "sat_control", "sat_police", "sat_prevention", "sat_overall"}

// surveyOnline counts the online answers: one grouped query per
// satisfaction item and one sum over the knowledge columns.
func (tx *Tx) surveyOnline(ctx context.Context, where string, args []any, res *SurveyResult) error {
	from := ` FROM survey_responses r JOIN orgs o ON o.id = r.org_id WHERE ` + where
	var k [casework.KnowledgeMax]int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(r.k_correct), 0), COALESCE(SUM(r.k_items), 0),
		COALESCE(SUM(r.k1), 0), COALESCE(SUM(r.k2), 0), COALESCE(SUM(r.k3), 0), COALESCE(SUM(r.k4), 0), COALESCE(SUM(r.k5), 0)`+from, args...).Scan(
		&res.Online.Respondents, &res.Online.Correct, &res.Online.Asked, &k[0], &k[1], &k[2], &k[3], &k[4]); err != nil {
		return fmt.Errorf("count survey responses: %w", err)
	}
	for i, item := range casework.KnowledgeItems {
		res.ByKnow = append(res.ByKnow, SurveyKnowledgeCount{Item: item.SurveyItem, Correct: k[i], Asked: res.Online.Respondents})
	}
	for i, item := range casework.SatItems {
		ic := SurveyItemCount{Item: item, Answers: map[casework.SatAnswer]int{}}
		rows, err := tx.Query(ctx, `SELECT r.`+satColumns[i]+`, COUNT(*)`+from+` GROUP BY r.`+satColumns[i], args...)
		if err != nil {
			return fmt.Errorf("count survey item %s: %w", item.Code, err)
		}
		for rows.Next() {
			var a string
			var n int
			if err := rows.Scan(&a, &n); err != nil {
				rows.Close()
				return err
			}
			ic.Answers[casework.SatAnswer(a)] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for a, n := range ic.Answers {
			switch a {
			case casework.SatUnknown:
				ic.Counts.Unknown += n
			case casework.SatSatisfied, casework.SatFairly:
				ic.Counts.Satisfied += n
				ic.Counts.Valid += n
			default:
				ic.Counts.Valid += n
			}
		}
		res.Online.Satisfied += ic.Counts.Satisfied
		res.Online.Valid += ic.Counts.Valid
		res.Online.Unknown += ic.Counts.Unknown
		res.ByItem = append(res.ByItem, ic)
	}
	return nil
}

// SurveyResponse is one stored answer as the export shows it: no browser
// token, no fingerprint.
type SurveyResponse struct {
	SubmittedOn casework.Date
	AgeBand     string
	Role        string
	Mode        string
	Sat         []casework.SatAnswer
	Correct     int
	Items       int
	Heard       bool
	Channel     string
}

// SurveyResponseListMax bounds one export.
const SurveyResponseListMax = 100_000

// ListSurveyResponses lists a survey's answers, oldest first.
func (db *DB) ListSurveyResponses(ctx context.Context, actor *casework.Actor, surveyID string) ([]SurveyResponse, error) {
	var out []SurveyResponse
	err := db.Read(ctx, func(tx *Tx) error {
		if _, err := tx.surveyFor(ctx, actor, surveyID, casework.PermViewSurveys); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT submitted_on, age_band, role, mode, `+strings.Join(satColumns, ", ")+`, k_correct, k_items, heard, channel
			FROM survey_responses WHERE survey_id = ? ORDER BY created_at, id LIMIT `+fmt.Sprint(SurveyResponseListMax), surveyID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r SurveyResponse
			s := make([]string, len(satColumns))
			var heard int
			if err := rows.Scan(&r.SubmittedOn, &r.AgeBand, &r.Role, &r.Mode, &s[0], &s[1], &s[2], &s[3], &s[4], &r.Correct, &r.Items, &heard, &r.Channel); err != nil {
				return err
			}
			for _, v := range s {
				r.Sat = append(r.Sat, casework.SatAnswer(v))
			}
			r.Heard = heard == 1
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// AuditSurveyExport records the export of a survey's answers under the
// survey's org (so the auditors of that area see it) before the file leaves.
func (db *DB) AuditSurveyExport(ctx context.Context, actor *casework.Actor, s *Survey, rows int) error {
	return db.Write(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, actor, AuditEntry{Action: "survey.export", TargetType: "survey", TargetID: s.ID, OrgID: s.OrgID,
			Detail: map[string]any{"rows": rows, "format": "xlsx", "title": s.Title}})
	})
}
