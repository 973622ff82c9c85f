package store

// psych_import.go imports group and one-to-one sessions kept on paper
// (issue 11 §8) and lists one-to-one sessions for export. An import checks
// every row inside one transaction and keeps it only if every row is good
// (a dry run never keeps it); each fault is reported by row, column and
// reason. A row's source key is a hash of its content, so importing the
// same file again changes nothing.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// Session import kinds and their columns, in template order.
var (
	GroupImportColumns      = []string{"held_on", "org", "topic", "facilitator", "place", "attendees", "others_reached"}
	IndividualImportColumns = []string{"id_number", "held_at", "minutes", "mode", "counsellor", "notes"}
	sessionImportRequired   = map[string]bool{"held_on": true, "org": true, "topic": true, "facilitator": true, "place": true,
		"id_number": true, "held_at": true, "minutes": true, "mode": true, "counsellor": true}
)

// SessionImportRow is one data row of a session import: cell text by
// column key.
type SessionImportRow struct {
	Row      int
	Cells    map[string]string
	Problems []ImportError
}

var errRollback = errors.New("import rolled back")

// ImportSessions imports group ("group") or one-to-one ("individual")
// sessions: a street lead's job (PermImport). Each row goes through the
// same checks as a form; nothing is kept unless every row is good.
func (db *DB) ImportSessions(ctx context.Context, actor *casework.Actor, kind string, rows []SessionImportRow, dryRun bool) (*ImportReport, error) {
	if !actor.CanAnywhere(casework.PermImport) {
		return nil, casework.Errorf(casework.EFORBIDDEN, "只有街道（乡镇）负责人可以批量导入", "only a street lead may import")
	}
	if kind != "group" && kind != "individual" {
		return nil, casework.Invalid("kind", "请选择导入团体辅导或个体咨询", "choose group or individual sessions")
	}
	if len(rows) == 0 || len(rows) > MaxImportRows {
		return nil, casework.Errorf(casework.EINVALID, "表格应有1–%d个数据行", "the workbook must have 1–%d data rows", MaxImportRows)
	}
	rep := &ImportReport{DryRun: dryRun, Rows: len(rows)}
	err := db.Write(ctx, func(tx *Tx) error {
		for _, r := range rows {
			rep.Errors = append(rep.Errors, r.Problems...)
			if len(r.Problems) > 0 {
				continue
			}
			outcome, id, errs := tx.importSession(ctx, actor, kind, r)
			rep.Errors = append(rep.Errors, errs...)
			if len(errs) == 0 {
				rep.Results = append(rep.Results, ImportResult{Row: r.Row, Outcome: outcome, PersonID: id})
				if outcome == "created" {
					rep.Created++
				} else {
					rep.Unchanged++
				}
			}
		}
		if len(rep.Errors) > 0 || dryRun {
			return errRollback
		}
		rep.Written = true
		return nil
	})
	if err != nil && !errors.Is(err, errRollback) {
		return nil, err
	}
	err = db.Write(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, actor, AuditEntry{Action: "psych.import", TargetType: "org", OrgID: importAuditOrg(actor, nil),
			Detail: map[string]any{"kind": kind, "dry_run": dryRun, "written": rep.Written, "rows": rep.Rows, "created": rep.Created,
				"unchanged": rep.Unchanged, "errors": len(rep.Errors)}})
	})
	return rep, err
}

// sourceKey is the idempotency key of an imported row: its content.
func sourceKey(kind string, cells map[string]string, cols []string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, c := range cols {
		if c == "notes" {
			continue // a corrected note is still the same session
		}
		fmt.Fprintf(h, "\x00%s=%s", c, strings.TrimSpace(cells[c]))
	}
	return "import:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// importSession checks and writes one row; the faults name the column.
func (tx *Tx) importSession(ctx context.Context, actor *casework.Actor, kind string, r SessionImportRow) (string, string, []ImportError) {
	fault := func(col, zh, en string) []ImportError {
		return []ImportError{{Row: r.Row, Column: col, ZH: zh, EN: en}}
	}
	c := r.Cells
	for _, col := range map[string][]string{"group": GroupImportColumns, "individual": IndividualImportColumns}[kind] {
		if sessionImportRequired[col] && strings.TrimSpace(c[col]) == "" {
			return "", "", fault(col, "必填", "required")
		}
	}
	var key, table string
	var write func() (string, error)
	if kind == "group" {
		key, table = sourceKey(kind, c, GroupImportColumns), "group_sessions"
		in := casework.GroupSessionInput{Topic: c["topic"], Facilitator: c["facilitator"], Place: c["place"], SourceKey: key}
		d, err := casework.ParseDateField("held_on", c["held_on"])
		if err != nil {
			return "", "", fault("held_on", "日期格式应为 YYYY-MM-DD", "the date must be YYYY-MM-DD")
		}
		in.HeldOn = d
		if in.OthersReached, err = strconv.Atoi(strings.TrimSpace(cmpOrStr(c["others_reached"], "0"))); err != nil {
			return "", "", fault("others_reached", "应为整数", "must be a whole number")
		}
		org, err := tx.importOrgByText(ctx, actor, c["org"])
		if err != nil {
			return "", "", fault("org", "找不到该单位，或不在您的范围内", "no such unit in your scope")
		}
		in.OrgID = org
		for _, idn := range strings.FieldsFunc(c["attendees"], func(r rune) bool { return strings.ContainsRune(",，;；、 \n", r) }) {
			var pid string
			if err := tx.QueryRow(ctx, `SELECT id FROM persons WHERE id_number_idx = ?`, tx.db.vault.Index("id", strings.ToUpper(idn))).Scan(&pid); err != nil {
				return "", "", fault("attendees", "参加人员身份证号“"+casework.MaskID(idn)+"”不在档案中", "attendee ID number "+casework.MaskID(idn)+" is not on file")
			}
			in.AttendeeIDs = append(in.AttendeeIDs, pid)
		}
		write = func() (string, error) { return tx.recordGroupSession(ctx, actor, in) }
	} else {
		key, table = sourceKey(kind, c, IndividualImportColumns), "counselling_sessions"
		var pid string
		if err := tx.QueryRow(ctx, `SELECT id FROM persons WHERE id_number_idx = ?`, tx.db.vault.Index("id", strings.ToUpper(strings.TrimSpace(c["id_number"])))).Scan(&pid); err != nil {
			return "", "", fault("id_number", "该身份证号不在档案中", "this ID number is not on file")
		}
		in := casework.CounsellingInput{Notes: c["notes"], SourceKey: key}
		at, err := time.ParseInLocation("2006-01-02 15:04", strings.TrimSpace(c["held_at"]), casework.LoadLocation(""))
		if err != nil {
			return "", "", fault("held_at", "时间格式应为 YYYY-MM-DD HH:MM", "the time must be YYYY-MM-DD HH:MM")
		}
		in.HeldAt = at
		if in.Minutes, err = strconv.Atoi(strings.TrimSpace(c["minutes"])); err != nil {
			return "", "", fault("minutes", "应为整数（分钟）", "must be a whole number of minutes")
		}
		in.Mode = importMode(c["mode"])
		if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE username = ?`, strings.TrimSpace(c["counsellor"])).Scan(&in.CounsellorID); err != nil {
			in.CounsellorName = strings.TrimSpace(c["counsellor"]) // a counsellor without an account
		}
		write = func() (string, error) { return tx.recordCounselling(ctx, actor, pid, in) }
	}
	var existing string
	if err := tx.QueryRow(ctx, `SELECT id FROM `+table+` WHERE source_key = ?`, key).Scan(&existing); err == nil {
		return "unchanged", existing, nil
	}
	id, err := write()
	if err != nil {
		return "", "", importFaults(r.Row, err)
	}
	return "created", id, nil
}

// importFaults turns a store error into faults by column.
func importFaults(row int, err error) []ImportError {
	col := map[string]string{"org_id": "org", "counsellor": "counsellor", "attendees": "attendees"}
	var fe casework.FieldErrors
	if errors.As(err, &fe) {
		var out []ImportError
		for _, e := range fe {
			out = append(out, ImportError{Row: row, Column: cmpOrStr(col[e.Field], e.Field), ZH: e.ZH, EN: e.EN})
		}
		return out
	}
	var e *casework.Error
	if errors.As(err, &e) {
		if e.Code == casework.ENOTFOUND || e.Code == casework.EFORBIDDEN {
			return []ImportError{{Row: row, Column: "id_number", ZH: "该人员不在您的范围内，或您不能为其记录心理服务", EN: "the person is outside your scope, or you may not record their psychological services"}}
		}
		return []ImportError{{Row: row, Column: cmpOrStr(col[e.Field], e.Field), ZH: e.ZH, EN: e.EN}}
	}
	return []ImportError{{Row: row, ZH: "系统错误", EN: "internal error"}}
}

func importMode(s string) string {
	s = strings.TrimSpace(s)
	for _, o := range casework.SessionModes {
		if s == o.Value || s == o.ZH || strings.EqualFold(s, o.EN) {
			return o.Value
		}
	}
	return s
}

// importOrgByText finds an org in the actor's write scope by id, area
// code or unique name.
func (tx *Tx) importOrgByText(ctx context.Context, actor *casework.Actor, text string) (string, error) {
	text = strings.TrimSpace(text)
	scope, args := scopeClause("path", actor.Scope(casework.PermPsychWrite))
	rows, err := tx.Query(ctx, `SELECT id FROM orgs WHERE (id = ? OR area_code = ? OR name = ?) AND NOT retired AND `+scope, append([]any{text, text, text}, args...)...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", err
		}
		ids = append(ids, id)
	}
	if len(ids) != 1 {
		return "", casework.NotFound("单位", "unit")
	}
	return ids[0], rows.Err()
}

func cmpOrStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// MaxExportRows bounds one export of sessions.
const MaxExportRows = 50000

// AuditPsychExport records an export of a session list (R36: every export
// is audited).
func (db *DB) AuditPsychExport(ctx context.Context, actor *casework.Actor, kind string, rows int) error {
	return db.Write(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, actor, AuditEntry{Action: "psych.export", TargetType: "org", OrgID: importAuditOrg(actor, nil),
			Detail: map[string]any{"kind": kind, "rows": rows}})
	})
}

// SessionFilter selects one-to-one sessions for a list or an export.
type SessionFilter struct {
	From, To casework.Date
	Limit    int
}

// ListCounsellingSessions lists one-to-one sessions in the actor's scope
// (a counsellor: of its assigned persons), newest first, without notes.
func (db *DB) ListCounsellingSessions(ctx context.Context, actor *casework.Actor, f SessionFilter) ([]CounsellingSession, error) {
	var out []CounsellingSession
	err := db.Read(ctx, func(tx *Tx) error {
		var wide, counsel []string
		for _, g := range actor.Grants {
			switch g.Role {
			case casework.RoleOffice, casework.RoleLead, casework.RoleWorker:
				wide = append(wide, g.OrgPath)
			case casework.RoleCounsellor:
				counsel = append(counsel, g.OrgPath)
			}
		}
		if actor.System {
			wide = []string{"/"}
		}
		w1, a1 := scopeClause("o.path", wide)
		w2, a2 := scopeClause("o.path", counsel)
		where := `s.person_id IN (SELECT p.id FROM persons p JOIN orgs o ON o.id = p.org_id WHERE ` + w1 + ` OR (` + w2 +
			` AND EXISTS (SELECT 1 FROM counsellor_assignments ca WHERE ca.person_id = p.id AND ca.user_id = ? AND ca.ended_at IS NULL)))`
		args := append(append(a1, a2...), actor.UserID)
		if !f.From.IsZero() {
			where, args = where+` AND s.held_on >= ?`, append(args, f.From)
		}
		if !f.To.IsZero() {
			where, args = where+` AND s.held_on <= ?`, append(args, f.To)
		}
		var err error
		out, err = tx.counsellingPage(ctx, false, where, max(1, min(f.Limit, MaxExportRows)), args...)
		return err
	})
	return out, err
}
