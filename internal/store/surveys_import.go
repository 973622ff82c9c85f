package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"kangfu/internal/casework"
)

// Import of a third party's survey results (issue 12 §4): when a commissioned
// third party ran the survey (CARE.md §4: the usual case for the assessed
// figures), the office imports its totals per community and period instead of
// answers one by one. The totals are the numerators and denominators of the
// same formulas, so imported and online results add up.

// SurveyImportColumns are the keys of the import's columns, in the
// template's order.
var SurveyImportColumns = []string{"org", "from", "to", "source", "respondents", "satisfied", "valid", "knowledge_items", "correct"}

// SurveyImportRequired are the columns a row must fill in (all of them).
var SurveyImportRequired = map[string]bool{"org": true, "from": true, "to": true, "source": true, "respondents": true,
	"satisfied": true, "valid": true, "knowledge_items": true, "correct": true}

// SurveyImportRow is one data row as cell text; dates "YYYY-MM-DD"; Org an
// area code, id or unique name.
type SurveyImportRow struct {
	Row                                                    int
	Org, From, To, Source                                  string
	Respondents, Satisfied, Valid, KnowledgeItems, Correct string
	Problems                                               []ImportError
}

// SurveyImportResult is what happens to one row.
type SurveyImportResult struct {
	Row     int
	OrgName string
	Outcome string // created or unchanged
}

// SurveyImportReport is the import's outcome; nothing is written unless
// Errors is empty and DryRun is false.
type SurveyImportReport struct {
	DryRun, Written    bool
	Rows               int
	Created, Unchanged int
	Errors             []ImportError
	Results            []SurveyImportResult
}

func surveyImportKey(in casework.SurveyImportInput) string {
	h := sha256.Sum256([]byte(strings.Join([]string{in.OrgID, in.From.String(), in.To.String(), in.Source}, "\x00")))
	return "svy:" + hex.EncodeToString(h[:16])
}

// ImportSurveyResults imports third-party results. Every row is checked
// first — the community in the actor's scope where it may manage surveys,
// the dates, whole numbers, and totals that fit together (satisfied ≤ valid,
// right answers ≤ respondents × items) — and every fault is reported by row
// and column. Nothing is written unless every row is good. The same
// community, period and source imported again is unchanged if its numbers
// are the same and a fault if they differ; the same twice in one file is a
// fault.
func (db *DB) ImportSurveyResults(ctx context.Context, actor *casework.Actor, rows []SurveyImportRow, dryRun bool) (*SurveyImportReport, error) {
	if !actor.CanAnywhere(casework.PermManageSurveys) {
		return nil, casework.Errorf(casework.EFORBIDDEN, "您的角色不能导入调查结果", "your role may not import survey results")
	}
	if len(rows) == 0 {
		return nil, casework.Errorf(casework.EINVALID, "表格中没有数据行（第1行为表头，数据从第2行开始）",
			"the workbook has no data rows (row 1 is the header; data starts on row 2)")
	}
	if len(rows) > MaxImportRows {
		return nil, casework.Errorf(casework.EINVALID, "一次最多导入%d行，此文件有%d行，请分成多个文件",
			"at most %d rows can be imported at once; this file has %d: split it into several files", MaxImportRows, len(rows))
	}
	rep := &SurveyImportReport{DryRun: dryRun, Rows: len(rows)}
	err := db.Write(ctx, func(tx *Tx) error {
		orgs, err := tx.orgSetWhere(ctx, actor, casework.PermManageSurveys)
		if err != nil {
			return err
		}
		var todo []casework.SurveyImportInput
		seen := map[string]int{}
		for _, r := range rows {
			rep.Errors = append(rep.Errors, r.Problems...)
			fault := func(col string, err error) { rep.Errors = append(rep.Errors, importErr(r.Row, col, err)) }
			in, ok := tx.surveyImportRow(orgs, r, fault)
			if !ok {
				continue
			}
			key := surveyImportKey(in)
			if prev, dup := seen[key]; dup {
				fault("", casework.Errorf(casework.EINVALID, "与第%d行是同一社区、同一调查期和同一调查机构", "the same community, period and source as row %d", prev))
				continue
			}
			seen[key] = r.Row
			res := SurveyImportResult{Row: r.Row, OrgName: orgs.byID[in.OrgID].Name, Outcome: "created"}
			var old casework.SurveyImportInput
			err := tx.QueryRow(ctx, `SELECT respondents, satisfied, valid, knowledge_items, correct FROM survey_imports WHERE import_key = ?`, key).Scan(
				&old.Respondents, &old.Satisfied, &old.Valid, &old.KnowledgeItems, &old.Correct)
			switch {
			case err == nil:
				if old.Respondents != in.Respondents || old.Satisfied != in.Satisfied || old.Valid != in.Valid ||
					old.KnowledgeItems != in.KnowledgeItems || old.Correct != in.Correct {
					fault("", casework.Errorf(casework.EINVALID, "该社区此期间此机构的结果已导入，数字不同；如需更正请联系管理员",
						"results of this community, period and source were already imported with other numbers; ask an administrator to correct them"))
					continue
				}
				res.Outcome = "unchanged"
				rep.Unchanged++
			case casework.IsCode(notFound(err, "", ""), casework.ENOTFOUND):
				rep.Created++
				todo = append(todo, in)
			default:
				return err
			}
			rep.Results = append(rep.Results, res)
		}
		if len(rep.Errors) == 0 && !dryRun {
			for _, in := range todo {
				id := NewID()
				if _, err := tx.Exec(ctx, `INSERT INTO survey_imports (id, org_id, period_from, period_to, source, respondents, satisfied, valid,
					knowledge_items, correct, import_key, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					id, in.OrgID, in.From, in.To, in.Source, in.Respondents, in.Satisfied, in.Valid, in.KnowledgeItems, in.Correct,
					surveyImportKey(in), actorID(actor), tx.now); err != nil {
					return fmt.Errorf("insert survey import: %w", err)
				}
			}
			rep.Written = true
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "survey.import", TargetType: "survey",
			Detail: map[string]any{"dry_run": dryRun, "written": rep.Written, "rows": rep.Rows, "created": rep.Created,
				"unchanged": rep.Unchanged, "errors": len(rep.Errors)}})
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

var surveyFieldColumn = map[string]string{"from": "from", "to": "to", "source": "source", "respondents": "respondents",
	"satisfied": "satisfied", "valid": "valid", "knowledge_items": "knowledge_items", "correct": "correct"}

// surveyImportRow checks one row, reporting each wrong cell.
func (tx *Tx) surveyImportRow(orgs *eventOrgSet, r SurveyImportRow, fault func(string, error)) (casework.SurveyImportInput, bool) {
	in := casework.SurveyImportInput{Source: r.Source}
	ok := len(r.Problems) == 0
	bad := func(col string, err error) { fault(col, err); ok = false }
	if o := orgs.find(r.Org); o == nil {
		bad("org", casework.Errorf(casework.EINVALID, "找不到社区“%s”，或不在您可管理调查的范围内（请填12位区划代码或唯一的机构名称）",
			"no community %q where you may manage surveys (give the 12-digit area code or a unique org name)", strings.TrimSpace(r.Org)))
	} else {
		in.OrgID = o.ID
	}
	for _, c := range []struct {
		col, v string
		dst    *casework.Date
	}{{"from", r.From, &in.From}, {"to", r.To, &in.To}} {
		if strings.TrimSpace(c.v) == "" {
			bad(c.col, casework.Errorf(casework.EINVALID, "请填写日期", "the date is required"))
		} else if d, err := casework.ParseDateField(c.col, c.v); err != nil {
			bad(c.col, err)
		} else {
			*c.dst = d
		}
	}
	for _, c := range []struct {
		col, v string
		dst    *int
	}{{"respondents", r.Respondents, &in.Respondents}, {"satisfied", r.Satisfied, &in.Satisfied}, {"valid", r.Valid, &in.Valid},
		{"knowledge_items", r.KnowledgeItems, &in.KnowledgeItems}, {"correct", r.Correct, &in.Correct}} {
		v := strings.TrimSpace(c.v)
		n, err := strconv.Atoi(strings.TrimSuffix(v, ".0"))
		if err != nil || n < 0 {
			bad(c.col, casework.Errorf(casework.EINVALID, "“%s”不是非负整数", "%q is not a whole number of zero or more", v))
			continue
		}
		*c.dst = n
	}
	if !ok {
		return in, false
	}
	if err := in.Validate(tx.today(orgs.byID[in.OrgID])); err != nil {
		fault(surveyFieldColumn[casework.ErrorField(err)], err)
		return in, false
	}
	return in, true
}

// find returns the org named by a cell (id, area code or unique name), or
// nil.
func (s *eventOrgSet) find(cell string) *casework.Org {
	v := strings.TrimSpace(cell)
	if o := s.byID[v]; o != nil && !o.Retired {
		return o
	}
	if o := s.byCode[v]; o != nil && !o.Retired {
		return o
	}
	if named := s.byName[v]; len(named) == 1 && !named[0].Retired {
		return named[0]
	}
	return nil
}
