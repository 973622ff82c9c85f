package store

// visits_import.go: importing visits kept on paper or in spreadsheets
// (issue 11 §8). Every row is checked first; every fault is reported by
// row, column and reason; nothing is written unless every row is good;
// a row already imported (same person, kind, result, time and notes) is
// "unchanged", so importing a file twice changes nothing the second time.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// VisitImportColumns are the columns of the visit import template, in
// order; the required ones are marked in VisitImportRequired.
var VisitImportColumns = []string{"id_number", "name", "kind", "state", "date", "time", "participants", "address", "condition",
	"condition_note", "notes", "follow_up", "follow_up_due"}

// VisitImportRequired are the columns every row must fill.
var VisitImportRequired = map[string]bool{"id_number": true, "kind": true, "date": true}

// VisitImportRow is one data row of a visit import, as cell text. Date and
// FollowUpDue are YYYY-MM-DD; Time is HH:MM (blank: 09:00); Participants
// are "role:name" or names (family members by default) separated by 、 or ,.
type VisitImportRow struct {
	Row                               int
	IDNumber, Name, Kind, State       string
	Date, Time, Participants, Address string
	Condition, ConditionNote, Notes   string
	FollowUp, FollowUpDue             string
	Problems                          []ImportError
}

type visitPlan struct {
	row    VisitImportRow
	person *personRow
	in     casework.VisitInput
	key    string
	exists bool
}

// ImportVisits imports visits for persons the actor records visits for
// (its caseload; a lead its street), found by ID number. See the file
// comment for the rules; a dry run checks without writing. Each import
// leaves one "visit.import" audit row with the counts.
func (db *DB) ImportVisits(ctx context.Context, actor *casework.Actor, rows []VisitImportRow, dryRun bool) (*ImportReport, error) {
	if !actor.CanAnywhere(casework.PermWritePersons) {
		return nil, casework.Errorf(casework.EFORBIDDEN, "您的角色不能导入走访记录", "your role may not import visits")
	}
	if len(rows) == 0 {
		return nil, casework.Errorf(casework.EINVALID, "表格中没有数据行（第1行为表头，数据从第2行开始）",
			"the workbook has no data rows (row 1 is the header; data starts on row 2)")
	}
	if len(rows) > MaxImportRows {
		return nil, casework.Errorf(casework.EINVALID, "一次最多导入%d行，此文件有%d行，请分成多个文件",
			"at most %d rows can be imported at once; this file has %d: split it into several files", MaxImportRows, len(rows))
	}
	rep := &ImportReport{DryRun: dryRun, Rows: len(rows)}
	err := db.Write(ctx, func(tx *Tx) error {
		plans, err := tx.planVisitImport(ctx, actor, rows, rep)
		if err != nil {
			return err
		}
		org := ""
		if len(rep.Errors) == 0 && !dryRun {
			for i := range plans {
				p := &plans[i]
				org = p.person.OrgID
				if p.exists {
					continue
				}
				p.in.ID = NewID()
				if err := tx.insertVisit(ctx, actor, p.person, &p.in, nil, "import", p.key); err != nil {
					return fmt.Errorf("import row %d: %w", p.row.Row, err)
				}
				rep.Results[i].PersonID = p.person.ID
			}
			rep.Written = true
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "visit.import", TargetType: "visit", OrgID: org,
			Detail: map[string]any{"dry_run": dryRun, "written": rep.Written, "rows": rep.Rows, "created": rep.Created,
				"unchanged": rep.Unchanged, "errors": len(rep.Errors)}})
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func (tx *Tx) planVisitImport(ctx context.Context, actor *casework.Actor, rows []VisitImportRow, rep *ImportReport) ([]visitPlan, error) {
	var plans []visitPlan
	seen := map[string]int{}
	persons := map[string]*personRow{}
	for _, row := range rows {
		rep.Errors = append(rep.Errors, row.Problems...)
		bad := len(row.Problems) > 0
		fault := func(col string, err error) {
			bad = true
			rep.Errors = append(rep.Errors, importErr(row.Row, col, err))
		}
		for _, col := range VisitImportColumns {
			if VisitImportRequired[col] && strings.TrimSpace(visitCell(&row, col)) == "" && !hasProblem(row.Problems, col) {
				fault(col, casework.Invalid(col, "此列必填", "this column is required"))
			}
		}
		p := visitPlan{row: row}
		if id := strings.TrimSpace(row.IDNumber); id != "" {
			r, err := tx.visitImportPerson(ctx, actor, persons, id)
			if err != nil && !casework.IsCode(err, casework.ENOTFOUND) && !casework.IsCode(err, casework.EFORBIDDEN) && !casework.IsCode(err, casework.EINVALID) {
				return nil, err
			}
			switch {
			case err != nil:
				fault("id_number", err)
			case row.Name != "" && strings.TrimSpace(row.Name) != r.Name:
				fault("name", casework.Invalid("name", "姓名与该身份证号的档案（%s）不符", "the name does not match the file of this ID number (%s)", r.Name))
			default:
				p.person = r
			}
		}
		if err := tx.visitImportInput(ctx, &p, fault); err != nil {
			return nil, err
		}
		if bad {
			continue
		}
		if first, dup := seen[p.key]; dup {
			fault("", casework.Invalid("", "与第%d行重复", "duplicates row %d", first))
			continue
		}
		seen[p.key] = row.Row
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM visits WHERE import_key = ?`, p.key).Scan(&n); err != nil {
			return nil, err
		}
		p.exists = n > 0
		res := ImportResult{Row: row.Row, Name: p.person.Name, IDMasked: p.person.IDMasked, OrgName: p.person.OrgName, Outcome: "created"}
		if p.exists {
			res.Outcome, res.PersonID = "unchanged", p.person.ID
			rep.Unchanged++
		} else {
			rep.Created++
		}
		rep.Results = append(rep.Results, res)
		plans = append(plans, p)
	}
	return plans, nil
}

func hasProblem(ps []ImportError, col string) bool {
	for _, p := range ps {
		if p.Column == col {
			return true
		}
	}
	return false
}

func visitCell(r *VisitImportRow, col string) string {
	switch col {
	case "id_number":
		return r.IDNumber
	case "kind":
		return r.Kind
	case "date":
		return r.Date
	}
	return "x"
}

// visitImportPerson finds the file of an ID number that the actor records
// visits for.
func (tx *Tx) visitImportPerson(ctx context.Context, actor *casework.Actor, cache map[string]*personRow, idNumber string) (*personRow, error) {
	id, err := casework.ParseIDNumber(idNumber, tx.now)
	if err != nil {
		return nil, err
	}
	if r, ok := cache[id.Number]; ok {
		return r, nil
	}
	var personID string
	if err := tx.QueryRow(ctx, `SELECT id FROM persons WHERE id_number_idx = ?`, tx.db.vault.Index("id", id.Number)).Scan(&personID); err != nil {
		return nil, notFound(err, "您的辖区内没有该身份证号的档案", "no file with this ID number in your area")
	}
	r, err := tx.personForVisit(ctx, actor, personID)
	if casework.IsCode(err, casework.ENOTFOUND) {
		return nil, casework.NotFound("您的辖区内没有该身份证号的档案", "no file with this ID number in your area")
	}
	if err != nil {
		return nil, err
	}
	cache[id.Number] = r
	return r, nil
}

// visitImportInput turns the row's cells into a VisitInput and its import
// key, reporting each bad cell.
func (tx *Tx) visitImportInput(ctx context.Context, p *visitPlan, fault func(string, error)) error {
	row := &p.row
	kind, ok := casework.ParseVisitKind(row.Kind)
	if !ok && row.Kind != "" {
		fault("kind", casework.Invalid("kind", "“%s”不是走访方式：请填写入户走访、电话、谈话或视频", "%q is not a kind: use home, phone, office or video", row.Kind))
	}
	state, ok := casework.ParseVisitState(row.State)
	if !ok {
		fault("state", casework.Invalid("state", "“%s”不是走访结果：请填写已完成、未接通或预约", "%q is not a result: use done, attempt or planned", row.State))
	}
	cond, ok := casework.ParseCondition(row.Condition)
	if !ok {
		fault("condition", casework.Invalid("condition", "“%s”不是人员状况：请填写稳定、好转、需关注、身体不适、有复吸风险或未见到本人", "%q is not a condition", row.Condition))
	}
	p.in = casework.VisitInput{Kind: kind, State: state, Condition: cond, ConditionNote: row.ConditionNote, Notes: row.Notes, Address: row.Address}
	if row.Date != "" {
		day, err := casework.ParseDateField("date", row.Date)
		if err != nil {
			fault("date", err)
			return nil
		}
		hm := strings.TrimSpace(row.Time)
		if hm == "" {
			hm = "09:00"
		}
		loc := casework.LoadLocation("")
		if p.person != nil {
			org, err := tx.orgByID(ctx, p.person.OrgID)
			if err != nil {
				return err
			}
			loc = org.Location()
		}
		at, err := time.ParseInLocation("2006-01-02 15:04", day.String()+" "+hm, loc)
		if err != nil {
			fault("time", casework.Invalid("time", "“%s”不是时间：请填写 HH:MM（如 09:30）", "%q is not a time: use HH:MM (e.g. 09:30)", row.Time))
			return nil
		}
		p.in.At = at
	}
	for _, part := range strings.FieldsFunc(row.Participants, func(r rune) bool { return r == '、' || r == ',' || r == '，' || r == ';' || r == '；' }) {
		role, name, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			role, name, ok = strings.Cut(strings.TrimSpace(part), "：")
		}
		if !ok {
			role, name = "family", part
		}
		p.in.Participants = append(p.in.Participants, casework.Participant{Role: participantRole(role), Name: strings.TrimSpace(name)})
	}
	if strings.TrimSpace(row.FollowUp) != "" {
		due, err := casework.ParseDateField("follow_up_due", row.FollowUpDue)
		if err != nil || due.IsZero() {
			fault("follow_up_due", casework.Invalid("follow_up_due", "填写了后续事项时须填写期限（YYYY-MM-DD）", "a follow-up needs a due date (YYYY-MM-DD)"))
			return nil
		}
		p.in.FollowUps = []casework.FollowUp{{Action: row.FollowUp, Due: due}}
	}
	if p.person == nil || p.in.Kind == "" || p.in.At.IsZero() {
		return nil
	}
	if err := p.in.Validate(tx.now); err != nil {
		col := casework.ErrorField(err)
		switch col {
		case "at":
			col = "date"
		case "follow_ups":
			col = "follow_up"
		}
		fault(col, err)
		return nil
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{p.person.ID, string(p.in.Kind), string(p.in.State), p.in.At.UTC().Format(time.RFC3339), p.in.Notes}, "\x1f")))
	p.key = "import:" + hex.EncodeToString(sum[:16])
	return nil
}

func participantRole(s string) string {
	switch strings.TrimSpace(s) {
	case "staff", "工作人员", "社工", "专干", "民警":
		return "staff"
	case "group", "小组", "帮教小组", "工作小组":
		return "group"
	case "family", "家属", "家人":
		return "family"
	}
	return "other"
}
