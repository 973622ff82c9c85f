package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"kangfu/internal/casework"
)

// MaxImportRows is the most data rows one import may hold; a bigger list is
// split into several files (one transaction per file stays short).
const MaxImportRows = 5000

// ImportColumns are the keys of the columns of a person import, in the
// order of the template. Front ends name them (姓名, 身份证号, …); errors
// carry the key.
var ImportColumns = []string{
	"name", "id_number", "phone", "household_addr", "residence_addr", "ethnicity", "education", "marital_status", "employment",
	"org", "kind", "decision_number", "decision_authority", "decision_date", "received_date", "report_date", "agreement_date",
	"term_months", "worker",
}

// ImportRequired are the columns a row must fill in.
var ImportRequired = map[string]bool{
	"name": true, "id_number": true, "org": true, "kind": true, "decision_number": true, "decision_authority": true,
	"decision_date": true, "received_date": true,
}

// ImportRow is one data row of an import workbook, as the text of its
// cells. Dates are "YYYY-MM-DD" (the reader turns real Excel dates into
// that form); Org is the place of execution's 12-digit area code, its id,
// or its name when that name is unique in the importer's scope; Kind is
// 社区戒毒 or 社区康复 (or the code); Worker is the responsible worker's
// username.
type ImportRow struct {
	Row                                                   int // as numbered in the sheet: the header is row 1
	Name, IDNumber, Phone, HouseholdAddr, ResidenceAddr   string
	Ethnicity, Education, MaritalStatus, Employment       string
	Org, Kind, DecisionNumber, DecisionAuthority          string
	DecisionDate, ReceivedDate, ReportDate, AgreementDate string
	TermMonths, Worker                                    string
	Problems                                              []ImportError // found while reading the cells
}

// ImportError is one fault of an import: which row (as numbered in the
// sheet; 0 for the file as a whole), which column (a key of ImportColumns,
// "" for the whole row) and why, in Chinese and English.
type ImportError struct {
	Row    int    `json:"row"`
	Column string `json:"column"`
	ZH     string `json:"zh"`
	EN     string `json:"en"`
}

// Message returns the reason in the language, Chinese first.
func (e ImportError) Message(lang string) string {
	if lang == "en" {
		return e.EN
	}
	return e.ZH
}

// ImportResult is what happened (or, in a dry run, would happen) to one row.
type ImportResult struct {
	Row      int
	Name     string
	IDMasked string
	OrgName  string
	Outcome  string // "created" or "unchanged"
	PersonID string // the file created, or the one already on file
}

// ImportReport is the outcome of an import. Nothing is written unless
// Errors is empty and DryRun is false; then Written is set.
type ImportReport struct {
	DryRun    bool
	Written   bool
	Rows      int
	Created   int // rows that create (or would create) a file
	Unchanged int // rows already on file with the same decision
	Errors    []ImportError
	Results   []ImportResult
}

// importStandInID is a valid ID number that stands in for a wrong one while
// the rest of a row is checked.
var importStandInID = "11010119900101002" + string(casework.IDCheckChar("11010119900101002"))

// importPlan is one row checked and ready to write.
type importPlan struct {
	row      ImportRow
	in       casework.PersonInput
	m        casework.MeasureInput
	org      *casework.Org
	idMasked string
	existing string // person id when the row is already on file
}

// ImportPersons imports persons with their first measure (issue 3 §8).
// Every row is checked first — ID number, dates, place of execution in the
// actor's scope (where it may both import and write files), responsible
// worker there, the measure (casework.MeasureInput.Validate), duplicates
// inside the file — and every fault is reported with its row and column.
// Nothing is written unless every row is good; then all rows are written in
// one transaction. A row whose ID number is already on file with the same
// decision number is "unchanged", so importing a file twice changes nothing
// the second time; an ID number on file with another decision is a fault
// (one person, one file: a new measure is added in the file, a person
// managed elsewhere comes by transfer, R11). A dry run checks and reports
// without writing. Every import, dry or not, leaves one "person.import"
// audit row with the counts (it looks ID numbers up on the actor's behalf).
//
// A bad file gives a report with Errors and a nil error; the error is for
// an actor who may not import (EFORBIDDEN), an empty or oversized list
// (EINVALID) and outages.
func (db *DB) ImportPersons(ctx context.Context, actor *casework.Actor, rows []ImportRow, dryRun bool) (*ImportReport, error) {
	if !actor.CanAnywhere(casework.PermImport) {
		return nil, casework.Errorf(casework.EFORBIDDEN, "您的角色不能导入人员", "your role may not import persons")
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
		plans, err := tx.planImport(ctx, actor, rows, rep)
		if err != nil {
			return err
		}
		if len(rep.Errors) == 0 && !dryRun {
			importID := NewID()
			for i, p := range plans {
				if p.existing != "" {
					continue
				}
				m := p.m
				id, err := tx.createPerson(ctx, actor, p.in, &m, fmt.Sprintf("%s:%d", importID, p.row.Row))
				if err != nil {
					// Checked above, so this is a race or a bug: abort it all.
					return fmt.Errorf("import row %d: %w", p.row.Row, err)
				}
				rep.Results[i].PersonID = id
			}
			rep.Written = true
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "person.import", TargetType: "person", OrgID: importAuditOrg(actor, plans),
			Detail: map[string]any{"dry_run": dryRun, "written": rep.Written, "rows": rep.Rows, "created": rep.Created,
				"unchanged": rep.Unchanged, "errors": len(rep.Errors)}})
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// importAuditOrg is the org an import's audit row belongs to: the place of
// every row when they share one, else the actor's first import grant.
func importAuditOrg(actor *casework.Actor, plans []importPlan) string {
	org := ""
	for _, p := range plans {
		if p.org == nil {
			continue
		}
		if org != "" && org != p.org.ID {
			org = ""
			break
		}
		org = p.org.ID
	}
	if org != "" {
		return org
	}
	for _, g := range actor.Grants {
		if casework.RoleHas(g.Role, casework.PermImport) {
			return g.OrgID
		}
	}
	return ""
}

// planImport checks every row and returns the plans; faults go to rep.
func (tx *Tx) planImport(ctx context.Context, actor *casework.Actor, rows []ImportRow, rep *ImportReport) ([]importPlan, error) {
	orgs, err := tx.importOrgs(ctx, actor)
	if err != nil {
		return nil, err
	}
	workers := map[string]string{} // username → id ("" when unknown)
	seen := map[string]int{}       // ID number → first row
	var plans []importPlan
	for _, r := range rows {
		p := importPlan{row: r}
		bad := len(r.Problems)
		rep.Errors = append(rep.Errors, r.Problems...)
		fault := func(col string, e error) {
			bad++
			rep.Errors = append(rep.Errors, importErr(r.Row, col, e))
		}
		if err := tx.checkImportRow(ctx, actor, orgs, workers, &p, fault); err != nil {
			return nil, err
		}
		if p.idMasked != "" {
			if first, dup := seen[p.in.IDNumber]; dup {
				fault("id_number", casework.Errorf(casework.EINVALID, "身份证号与第%d行重复（一人一档：同一人在一个文件中只能出现一次）",
					"the ID number repeats row %d (one person, one file: a person appears once in a file)", first))
			} else {
				seen[p.in.IDNumber] = r.Row
			}
		}
		if bad == 0 {
			if err := tx.checkExisting(ctx, actor, &p, fault); err != nil {
				return nil, err
			}
		}
		res := ImportResult{Row: r.Row, Name: p.in.Name, IDMasked: p.idMasked, PersonID: p.existing}
		if p.org != nil {
			res.OrgName = p.org.Name
		}
		switch {
		case bad > 0:
		case p.existing != "":
			res.Outcome = "unchanged"
			rep.Unchanged++
		default:
			res.Outcome = "created"
			rep.Created++
		}
		plans = append(plans, p)
		rep.Results = append(rep.Results, res)
	}
	if len(rep.Errors) > 0 {
		rep.Created, rep.Unchanged = 0, 0
	}
	return plans, nil
}

// importErr turns a validation error into a row fault. A casework error
// keeps its bilingual message; its field names the column when the row
// check did not.
func importErr(row int, col string, err error) ImportError {
	var e *casework.Error
	if errors.As(err, &e) {
		if col == "" {
			col = importFieldColumn[e.Field]
		}
		return ImportError{Row: row, Column: col, ZH: e.ZH, EN: e.EN}
	}
	// Not a validation error: never echo its text (it may hold internals).
	return ImportError{Row: row, Column: col, ZH: "无法校验该单元格", EN: "this cell could not be checked"}
}

// importFieldColumn maps the fields of casework's errors to import columns.
var importFieldColumn = map[string]string{
	"name": "name", "id_number": "id_number", "phone": "phone", "household_addr": "household_addr", "residence_addr": "residence_addr",
	"org_id": "org", "place_org_id": "org", "kind": "kind", "decision_number": "decision_number", "decision_authority": "decision_authority",
	"decision_date": "decision_date", "received_date": "received_date", "report_date": "report_date", "agreement_date": "agreement_date",
	"term_months": "term_months", "worker_id": "worker",
}

// checkImportRow fills p from the row and reports each fault (several per
// row when several cells are wrong).
func (tx *Tx) checkImportRow(ctx context.Context, actor *casework.Actor, orgs *importOrgSet, workers map[string]string, p *importPlan, fault func(string, error)) error {
	r := p.row
	for _, c := range []struct {
		col, v string
	}{{"ethnicity", r.Ethnicity}, {"education", r.Education}, {"marital_status", r.MaritalStatus}, {"employment", r.Employment}} {
		if utf8.RuneCountInString(strings.TrimSpace(c.v)) > 50 {
			fault(c.col, casework.Errorf(casework.EINVALID, "不能超过50个字", "must be at most 50 characters"))
		}
	}
	p.in = casework.PersonInput{Name: strings.TrimSpace(r.Name), IDNumber: strings.TrimSpace(r.IDNumber), Phone: r.Phone,
		HouseholdAddr: strings.TrimSpace(r.HouseholdAddr), ResidenceAddr: strings.TrimSpace(r.ResidenceAddr),
		Ethnicity: strings.TrimSpace(r.Ethnicity), Education: strings.TrimSpace(r.Education),
		MaritalStatus: strings.TrimSpace(r.MaritalStatus), Employment: strings.TrimSpace(r.Employment)}
	// The ID number first, on its own, so its fault is reported even when
	// other cells are wrong too.
	if id, err := casework.ParseIDNumber(p.in.IDNumber, tx.now); err != nil {
		fault("id_number", err)
	} else {
		p.in.IDNumber, p.idMasked = id.Number, casework.MaskID(id.Number)
	}
	org, err := orgs.resolve(r.Org)
	if err != nil {
		fault("org", err)
	} else {
		p.org, p.in.OrgID = org, org.ID
	}
	// The rest of the person (name, phone, lengths): on a copy that stands
	// in for a place and an ID number already found wrong, so each wrong
	// cell is reported once.
	v := p.in
	if v.OrgID == "" {
		v.OrgID = "-"
	}
	if p.idMasked == "" {
		v.IDNumber = importStandInID
	}
	if _, err := v.Validate(tx.now); err != nil {
		fault("", err)
	} else if p.idMasked != "" {
		v.OrgID = p.in.OrgID
		p.in = v
	}
	if u := strings.ToLower(strings.TrimSpace(r.Worker)); u != "" {
		id, ok := workers[u]
		if !ok {
			if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE username = ?`, u).Scan(&id); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			workers[u] = id
		}
		switch {
		case id == "":
			fault("worker", casework.Errorf(casework.EINVALID, "找不到用户名为“%s”的责任专干", "no user named %q (the responsible worker)", u))
		case p.org != nil:
			if err := tx.checkWorker(ctx, id, p.org.Path); err != nil {
				fault("worker", err)
			} else {
				p.in.WorkerID = id
			}
		}
	}
	p.m = casework.MeasureInput{DecisionNumber: r.DecisionNumber, DecisionAuthority: r.DecisionAuthority, WorkerID: p.in.WorkerID}
	kindOK := true
	if k, ok := parseImportKind(r.Kind); ok {
		p.m.Kind = k
	} else {
		kindOK = false
		fault("kind", casework.Errorf(casework.EINVALID, "措施类型应为“社区戒毒”或“社区康复”，当前为“%s”",
			"the kind of measure must be 社区戒毒 (community drug treatment) or 社区康复 (community rehabilitation), not %q", strings.TrimSpace(r.Kind)))
	}
	datesOK := true
	for _, d := range []struct {
		col, v string
		dst    *casework.Date
	}{{"decision_date", r.DecisionDate, &p.m.DecisionDate}, {"received_date", r.ReceivedDate, &p.m.ReceivedDate},
		{"report_date", r.ReportDate, &p.m.ReportDate}, {"agreement_date", r.AgreementDate, &p.m.AgreementDate}} {
		v, err := casework.ParseDateField(d.col, d.v)
		if err != nil {
			datesOK = false
			fault(d.col, err)
		}
		*d.dst = v
	}
	if s := strings.TrimSpace(r.TermMonths); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != math.Trunc(f) || f < 0 || f > 1000 {
			kindOK = false
			fault("term_months", casework.Errorf(casework.EINVALID, "期限（月）应为整数，当前为“%s”", "the term must be a whole number of months, not %q", s))
		} else {
			p.m.TermMonths = int(f)
		}
	}
	if kindOK && datesOK {
		p.m.PlaceOrgID = "-" // the place is checked above, as the org column
		if p.org != nil {
			p.m.PlaceOrgID = p.org.ID
		}
		today := casework.DateOf(tx.now, nil)
		if p.org != nil {
			today = tx.today(p.org)
		}
		if err := p.m.Validate(today); err != nil {
			fault("", err)
		}
	}
	return nil
}

// checkExisting looks the ID number up: a file with the same decision that
// the actor may read makes the row "unchanged"; any other file is a fault.
func (tx *Tx) checkExisting(ctx context.Context, actor *casework.Actor, p *importPlan, fault func(string, error)) error {
	var personID string
	err := tx.QueryRow(ctx, `SELECT id FROM persons WHERE id_number_idx = ?`, tx.db.vault.Index("id", p.in.IDNumber)).Scan(&personID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	r, err := tx.personFor(ctx, actor, personID, nil)
	if casework.IsCode(err, casework.ENOTFOUND) {
		// Filed outside the actor's scope: not confirmed, referred to the
		// holder, audited and limited per user (issue 15 §3).
		if err := tx.idQueriesAllowed(ctx, actor); err != nil {
			fault("id_number", err)
			return nil
		}
		if p.org != nil {
			if err := tx.recordIDQuery(ctx, actor, personID, p.org.ID); err != nil {
				return err
			}
		}
		fault("id_number", errIDQueried)
		return nil
	}
	if err != nil {
		return err
	}
	var numbers []string
	rows, err := tx.Query(ctx, `SELECT decision_number FROM measures WHERE person_id = ? ORDER BY created_at`, personID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		numbers = append(numbers, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range numbers {
		if strings.TrimSpace(n) == p.m.DecisionNumber {
			p.existing = r.ID
			return nil
		}
	}
	have := strings.Join(numbers, "、")
	if have == "" {
		have = "—"
	}
	fault("decision_number", casework.Errorf(casework.ECONFLICT,
		"该身份证号已建档（%s），档案中的决定书文号为“%s”，与本行不同；新的措施请在档案中添加，不能通过导入",
		"a file with this ID number exists (%s) with decision number %q, not this row's; add a new measure in the file, not by import",
		r.Name, have))
	return nil
}

// parseImportKind reads the kind column: the Chinese name, the code, or
// the English name.
func parseImportKind(s string) (casework.MeasureKind, bool) {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	for _, k := range casework.MeasureKinds {
		if s == string(k) || s == k.Label("zh") || s == k.Label("en") {
			return k, true
		}
	}
	return "", false
}

// importOrgSet is the orgs an actor may import into, for resolving the org
// column by id, area code or name.
type importOrgSet struct {
	actor  *casework.Actor
	tx     *Tx
	ctx    context.Context
	byID   map[string]*casework.Org
	byCode map[string]*casework.Org
	byName map[string][]*casework.Org
}

// importOrgs loads the orgs where the actor may both import and write
// person files (createPerson needs PermWritePersons at the place).
func (tx *Tx) importOrgs(ctx context.Context, actor *casework.Actor) (*importOrgSet, error) {
	s := &importOrgSet{actor: actor, tx: tx, ctx: ctx, byID: map[string]*casework.Org{}, byCode: map[string]*casework.Org{}, byName: map[string][]*casework.Org{}}
	scope, args := scopeClause("o.path", actor.Scope(casework.PermImport))
	rows, err := tx.Query(ctx, `SELECT `+orgColumns+` FROM orgs o WHERE `+scope, args...)
	if err != nil {
		return nil, fmt.Errorf("import orgs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		if !actor.Can(casework.PermWritePersons, o.Path) {
			continue
		}
		s.byID[o.ID] = o
		if o.AreaCode != "" {
			s.byCode[o.AreaCode] = o
		}
		s.byName[o.Name] = append(s.byName[o.Name], o)
	}
	return s, rows.Err()
}

// resolve finds the org named by a cell: its id, its 12-digit area code, or
// its name when only one org in scope has it.
func (s *importOrgSet) resolve(cell string) (*casework.Org, error) {
	v := strings.TrimSpace(cell)
	if v == "" {
		return nil, casework.Errorf(casework.EINVALID, "请填写执行地（12位区划代码、机构名称或机构ID）",
			"the place of execution is required (12-digit area code, org name or org id)")
	}
	o := s.byID[v]
	if o == nil {
		o = s.byCode[v]
	}
	if o == nil {
		switch named := s.byName[v]; len(named) {
		case 0:
		case 1:
			o = named[0]
		default:
			return nil, casework.Errorf(casework.EINVALID, "有%d个机构名为“%s”，请改填12位区划代码或机构ID",
				"%d orgs are named %q: give the 12-digit area code or the org id instead", len(named), v)
		}
	}
	if o != nil {
		if o.Retired {
			return nil, casework.Errorf(casework.EINVALID, "执行地“%s”已撤销", "the place of execution %q is retired", o.Name)
		}
		return o, nil
	}
	// Not importable: say "outside your scope" only about an org the actor
	// may see; anything else is simply not found.
	var id, path string
	err := s.tx.QueryRow(s.ctx, `SELECT id, path FROM orgs WHERE id = ? OR area_code = ? OR name = ? ORDER BY path LIMIT 1`, v, v, v).Scan(&id, &path)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if id != "" && s.actor.Can(casework.PermImport, path) {
		// Office holds the import permission but opens no files itself
		// (PRODUCT §1): the lead of the street imports.
		return nil, casework.Errorf(casework.EINVALID, "您的角色不能在执行地“%s”建档，请由街道（乡镇）负责人导入",
			"your role may not open files at %q: the street (township) lead imports them", v)
	}
	if id != "" && s.actor.Can(casework.PermViewOrgs, path) {
		return nil, casework.Errorf(casework.EINVALID, "执行地“%s”不在您可导入（建档）的范围内", "the place of execution %q is outside the scope where you may import files", v)
	}
	return nil, casework.Errorf(casework.EINVALID, "找不到执行地“%s”，或不在您的管辖范围内", "no place of execution %q in your scope", v)
}

// AuditExport records an export of a person list (R36: every export is
// audited) with its filter and the number of rows, before the file leaves.
func (db *DB) AuditExport(ctx context.Context, actor *casework.Actor, f PersonFilter, rows int) error {
	detail := map[string]any{"rows": rows, "format": "xlsx"}
	filter := map[string]any{}
	if f.Query != "" {
		q := f.Query
		if _, err := casework.ParseIDNumber(q, db.Now()); err == nil {
			q = casework.MaskID(q) // never an unmasked ID number in the log
		} else if d := casework.NormalizePhone(q); len(d) >= 7 && strings.Trim(d, "+0123456789") == "" {
			q = casework.MaskPhone(d)
		}
		filter["q"] = q
	}
	if len(f.Status) > 0 {
		filter["status"] = f.Status
	}
	for k, v := range map[string]string{"kind": string(f.Kind), "org_id": f.OrgID, "worker_id": f.WorkerID, "sort": f.Sort} {
		if v != "" {
			filter[k] = v
		}
	}
	if f.DeadlineDays > 0 {
		filter["deadline_days"] = f.DeadlineDays
	}
	if f.IncludeEnded {
		filter["include_ended"] = true
	}
	detail["filter"] = filter
	org := f.OrgID
	if org == "" {
		for _, g := range actor.Grants {
			if casework.RoleHas(g.Role, casework.PermReadPersons) {
				org = g.OrgID
				break
			}
		}
	}
	return db.Write(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, actor, AuditEntry{Action: "person.export", TargetType: "person", OrgID: org, Detail: detail})
	})
}
