package store

// own_data.go: the person's own data export (issue 15 "must add"; PIPL
// Art 45, R36). The person asks the office; a worker or lead who writes the
// file records the request with a reason (audited) and downloads the export
// once, within DataExportTTL. The export holds every record of that person —
// the file with the ID number, phone and contacts unmasked (it is the
// person's own data), measures, check-ins, drug tests, leave, violations,
// visits, help, employment and messages — and nothing of anyone else.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// DataExportTTL is how long a requested export may be downloaded.
const DataExportTTL = 15 * time.Minute

// DataExport is a recorded request for a person's own data.
type DataExport struct {
	ID           string
	PersonID     string
	PersonName   string
	OrgID        string
	ActorID      string
	Reason       string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	DownloadedAt time.Time
}

// OwnIdentity is the person's file as the person gave it, unmasked.
type OwnIdentity struct {
	casework.Person
	IDNumber string `json:"IDNumber"`
	Phone    string `json:"Phone"`
}

// OwnData is everything the export holds.
type OwnData struct {
	ExportID    string
	GeneratedAt time.Time
	Identity    OwnIdentity
	Measures    []*Measure
	Checkins    []*Checkin
	DrugTests   []DrugTest
	Leaves      []*Leave
	Violations  []*Violation
	Visits      []Visit
	HelpPlan    *HelpPlan
	Assistance  []Assistance
	Employment  *PersonEmployment
	Messages    []*Message

	// Added for completeness (issue 15: every table about the person;
	// OwnDataTables below names the table behind each part).
	Documents   []Document        // metadata; the files themselves through the office
	Corrections []Correction      // corrections made to the file
	Devices     []*Device         // phones bound to the person
	Timeline    []TimelineEntry   // the file's history
	Psych       *PsychFile        // counsellors, sessions, scales, group sessions
	Risk        *RiskFile         // risk assessments and tiers
	Incentives  *IncentiveAccount // consents and the points ledger
	Outbox      []OutboxRow       // notices sent to the person's phone
	HelpReviews []HelpRevision    // help plan reviews
	BreakGlass  []*BreakGlass     // emergency access to the file by other offices
	Records     map[string][]map[string]any
	FileReadLog []OwnAuditRow // who read or exported the file, and why
}

// OwnAuditRow is one audit row about the person's file, as the export
// shows it: when, who, what and the reason given.
type OwnAuditRow struct {
	At        time.Time
	ActorName string
	Action    string
	Reason    string
}

// OwnDataTables names, for each table that holds data about a person (a
// person_id column), the part of the export that carries it. A new table
// with a person_id column must be added here or to OwnDataExcluded with a
// reason (TestOwnDataExportCoversEveryPersonTable).
var OwnDataTables = map[string]string{
	"persons": "Identity", "measures": "Measures", "status_events": "Measures", "working_group": "Measures",
	"checkins": "Checkins", "drug_tests": "DrugTests", "leaves": "Leaves", "violations": "Violations",
	"violation_steps": "Violations", "visits": "Visits", "help_plans": "HelpPlan", "assistance": "Assistance",
	"employment": "Employment", "messages": "Messages", "documents": "Documents", "corrections": "Corrections",
	"devices": "Devices", "timeline": "Timeline", "counselling_sessions": "Psych", "counsellor_assignments": "Psych",
	"scale_administrations": "Psych", "group_session_attendees": "Psych", "risk_assessments": "Risk",
	"incentive_consents": "Incentives", "incentive_ledger": "Incentives", "notification_outbox": "Outbox",
	"help_reviews": "HelpReviews", "break_glass": "BreakGlass", "audit_log": "FileReadLog",
	// Tables without encrypted columns, exported row by row (Records).
	"custody": "Records", "transfers": "Records", "relapses": "Records", "serious_cases": "Records",
	"visit_followups": "Records", "data_exports": "Records", "app_photos": "Records", "test_draws": "Records",
	"incentive_redemptions": "Records", "face_references": "Records", "spot_check_items": "Records",
}

// OwnDataExcluded names the person-linked tables the export leaves out,
// each with the reason.
var OwnDataExcluded = map[string]string{
	"person_name_grams":   "a search index derived from the name, which Identity holds",
	"residence_geocodes":  "a map point derived from the residence address, which Identity holds",
	"activation_codes":    "one-time sign-in codes (credentials, kept only as hashes); the devices they bound are in Devices",
	"incentive_codes":     "one-time redemption codes (credentials, kept only as hashes, valid ten minutes); the redemptions they made are in Records",
	"violation_watch":     "the detector's running state; the violations it found are in Violations",
	"staff_notifications": "staff task notices; the facts they point to are exported in their own parts",
	"record_revisions":    "earlier versions of records whose current version is exported; the office releases them on request",
	"statutory_queries":   "queries by state organs under R38 (sealed records); disclosure may hinder their duties (PIPL Art 18, 35), answered by the office separately",
}

// ownRecordQueries reads the Records part: plain tables, every column but
// hashes, with the person's rows only. Draws are the past ones only: a
// day still ahead would warn of a surprise test (R25).
var ownRecordQueries = map[string]string{
	"custody":               `SELECT id, org_id, from_at, to_at FROM custody WHERE person_id = ? ORDER BY from_at`,
	"transfers":             `SELECT id, measure_id, from_org_id, to_org_id, state, reason, requested_at, decided_at, decision_reason, agreement_date FROM transfers WHERE person_id = ? ORDER BY requested_at`,
	"relapses":              `SELECT id, measure_id, day, source, detail, created_at FROM relapses WHERE person_id = ? ORDER BY day`,
	"serious_cases":         `SELECT id, measure_id, trigger_kind, counts, policy_ref, state, recipient, sent_at, decision, decision_date, decision_text, closed_at, close_note, opened_on FROM serious_cases WHERE person_id = ? ORDER BY opened_on`,
	"visit_followups":       `SELECT id, visit_id, action, due, done_at FROM visit_followups WHERE person_id = ? ORDER BY due`,
	"data_exports":          `SELECT id, reason, created_at, downloaded_at FROM data_exports WHERE person_id = ? ORDER BY created_at`,
	"app_photos":            `SELECT sha256, device_id, uploaded_at FROM app_photos WHERE person_id = ? ORDER BY uploaded_at`,
	"test_draws":            `SELECT id, measure_id, kind, day, period, reason, excused_reason, remote FROM test_draws WHERE person_id = ? AND day < ? ORDER BY day`,
	"incentive_redemptions": `SELECT id, reward_name, points, created_by_name, created_at FROM incentive_redemptions WHERE person_id = ? ORDER BY created_at`,
	// Issue 17: the reference photos' record (when, by whom, why replaced);
	// the photo and its face features are sealed and handed over by the
	// office on request, like documents' content.
	"face_references": `SELECT id, photo_type, models, taken_at, reason, replaced_at FROM face_references WHERE person_id = ? ORDER BY taken_at`,
	// Issue 17 §4: which check-ins staff looked at side by side, the
	// score their browser recomputed, a possible-tampering flag and what
	// they found.
	"spot_check_items": `SELECT id, checkin_id, console_score, console_at, tamper, tamper_reason, looked, looked_note, looked_at FROM spot_check_items WHERE person_id = ? ORDER BY console_at`,
}

// RequestOwnDataExport records the person's request, made through the
// office, for their own data. The actor must write the file (a worker or
// lead with it in scope); the reason is required. Audited.
func (db *DB) RequestOwnDataExport(ctx context.Context, actor *casework.Actor, personID, reason string) (*DataExport, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, casework.Invalid("reason", "请填写原因（如本人书面申请的日期和编号）", "enter the reason (such as the date and number of the person's written request)")
	}
	if err := casework.CheckText("reason", reason, casework.MaxReason); err != nil {
		return nil, err
	}
	var e *DataExport
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, func(a casework.PersonAccess) bool { return canWrite(a) })
		if err != nil {
			return err
		}
		if !actor.Can(casework.PermOwnDataExport, r.OrgPath) {
			return casework.Errorf(casework.EFORBIDDEN, "只有负责该档案的专干或负责人可以导出本人数据", "only the worker or lead of this file may export the person's own data")
		}
		e = &DataExport{ID: NewID(), PersonID: r.ID, PersonName: r.Name, OrgID: r.OrgID, ActorID: actor.UserID, Reason: reason,
			CreatedAt: tx.now, ExpiresAt: tx.now.Add(DataExportTTL)}
		if _, err := tx.Exec(ctx, `INSERT INTO data_exports (id, person_id, org_id, actor_id, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.PersonID, e.OrgID, e.ActorID, e.Reason, e.CreatedAt, e.ExpiresAt); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "person.own_data.request", TargetType: "person", TargetID: r.ID, OrgID: r.OrgID,
			Reason: reason, Detail: map[string]any{"export_id": e.ID}})
	})
	return e, err
}

// GetDataExport returns a request of the actor's (its maker only).
func (db *DB) GetDataExport(ctx context.Context, actor *casework.Actor, id string) (*DataExport, error) {
	var e DataExport
	var dl sql.NullTime
	err := db.Read(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `SELECT x.id, x.person_id, p.name, x.org_id, x.actor_id, x.reason, x.created_at, x.expires_at, x.downloaded_at
			FROM data_exports x JOIN persons p ON p.id = x.person_id WHERE x.id = ?`, id).
			Scan(&e.ID, &e.PersonID, &e.PersonName, &e.OrgID, &e.ActorID, &e.Reason, &e.CreatedAt, &e.ExpiresAt, &dl)
	})
	if err != nil {
		return nil, notFound(err, "数据导出", "data export")
	}
	if e.ActorID != actor.UserID {
		return nil, casework.NotFound("数据导出", "data export")
	}
	e.CreatedAt, e.ExpiresAt, e.DownloadedAt = e.CreatedAt.UTC(), e.ExpiresAt.UTC(), scanTime(dl)
	return &e, nil
}

// TakeOwnDataExport gathers the person's data for the export's maker and
// marks the export downloaded: once, before it expires. Audited.
func (db *DB) TakeOwnDataExport(ctx context.Context, actor *casework.Actor, id string) (*OwnData, error) {
	e, err := db.GetDataExport(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if !e.DownloadedAt.IsZero() {
		return nil, casework.Errorf(casework.ECONFLICT, "该导出已下载过；如需再次导出请重新登记", "this export was downloaded already; record a new request to export again")
	}
	if !db.now().Before(e.ExpiresAt) {
		return nil, casework.Errorf(casework.ECONFLICT, "该导出已过期；请重新登记", "this export has expired; record a new request")
	}
	d, err := db.ownData(ctx, actor, e.PersonID)
	if err != nil {
		return nil, err
	}
	d.ExportID = e.ID
	err = db.Write(ctx, func(tx *Tx) error {
		d.GeneratedAt = tx.now
		res, err := tx.Exec(ctx, `UPDATE data_exports SET downloaded_at = ? WHERE id = ? AND downloaded_at IS NULL AND expires_at > ?`, tx.now, id, tx.now)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return casework.Errorf(casework.ECONFLICT, "该导出已下载过；如需再次导出请重新登记", "this export was downloaded already; record a new request to export again")
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "person.export", TargetType: "person", TargetID: e.PersonID, OrgID: e.OrgID, Reason: e.Reason,
			Detail: map[string]any{"what": "own_data", "export_id": e.ID, "unmasked": true, "checkins": len(d.Checkins), "tests": len(d.DrugTests),
				"leaves": len(d.Leaves), "violations": len(d.Violations), "visits": len(d.Visits)}})
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ownData reads every record of the person through the actor's own scoped
// readers (each audits its read), and the identity unmasked.
func (db *DB) ownData(ctx context.Context, actor *casework.Actor, personID string) (*OwnData, error) {
	d := &OwnData{}
	err := db.Read(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, func(a casework.PersonAccess) bool { return canWrite(a) })
		if err != nil {
			return err
		}
		r.Access.Sensitive = true
		p, err := db.open(r)
		if err != nil {
			return err
		}
		d.Identity.Person = *p
		if d.Identity.IDNumber, err = db.vault.Open(r.idEnc, sealCtx("id", r.ID)); err != nil {
			return err
		}
		if d.Identity.Phone, err = db.vault.Open(r.phoneEnc, sealCtx("phone", r.ID)); err != nil {
			return err
		}
		// The contacts' phones unmasked as the person gave them.
		if s, err := db.vault.Open(r.contactsEnc, sealCtx("contacts", r.ID)); err != nil {
			return err
		} else if s != "" {
			d.Identity.Contacts = nil
			if err := json.Unmarshal([]byte(s), &d.Identity.Contacts); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if d.Measures, err = db.ListMeasures(ctx, actor, personID); err != nil {
		return nil, err
	}
	if d.Checkins, err = db.ListCheckins(ctx, actor, personID, casework.NewDate(1900, 1, 1), casework.NewDate(9999, 12, 31)); err != nil {
		return nil, err
	}
	if d.DrugTests, err = db.ListTests(ctx, actor, personID); err != nil {
		return nil, err
	}
	for off := 0; ; off += 500 {
		ls, err := db.ListLeaves(ctx, actor, LeaveFilter{PersonID: personID, Offset: off, Limit: 500})
		if err != nil {
			return nil, err
		}
		d.Leaves = append(d.Leaves, ls...)
		if len(ls) < 500 {
			break
		}
	}
	for off := 0; ; off += 500 {
		vs, _, err := db.ListViolations(ctx, actor, ViolationFilter{PersonID: personID, Offset: off, Limit: 500})
		if err != nil {
			return nil, err
		}
		d.Violations = append(d.Violations, vs...)
		if len(vs) < 500 {
			break
		}
	}
	if d.Visits, err = db.ListVisits(ctx, actor, personID); err != nil {
		return nil, err
	}
	if d.HelpPlan, err = db.GetHelpPlan(ctx, actor, personID); err != nil && !errors.Is(err, sql.ErrNoRows) && casework.ErrorCode(err) != casework.ENOTFOUND {
		return nil, err
	}
	if d.Assistance, err = db.ListAssistance(ctx, actor, personID); err != nil {
		return nil, err
	}
	if d.Employment, err = db.ListEmployment(ctx, actor, personID); err != nil {
		return nil, err
	}
	if d.Messages, err = db.ListMessages(ctx, actor, personID); err != nil {
		return nil, err
	}
	if err := db.ownDataMore(ctx, actor, personID, d); err != nil {
		return nil, err
	}
	return d, nil
}

// ownDataMore reads the parts added for completeness. A part the actor's
// role may not read (a counsellor's notes for a worker without the
// permission, say) is left empty rather than failing the export; the office
// asks the role that holds it.
func (db *DB) ownDataMore(ctx context.Context, actor *casework.Actor, personID string, d *OwnData) error {
	optional := func(err error) error {
		if err == nil || errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		switch casework.ErrorCode(err) {
		case casework.EFORBIDDEN, casework.ENOTFOUND:
			return nil
		}
		return err
	}
	var err error
	if d.Documents, err = db.ListDocuments(ctx, actor, personID); optional(err) != nil {
		return err
	}
	if d.Corrections, err = db.ListCorrections(ctx, actor, personID); optional(err) != nil {
		return err
	}
	if _, d.Devices, err = db.ListActivationCodes(ctx, actor, personID); optional(err) != nil {
		return err
	}
	for off := 0; ; off += 500 {
		es, _, err := db.ListTimeline(ctx, actor, personID, off, 500)
		if optional(err) != nil {
			return err
		}
		d.Timeline = append(d.Timeline, es...)
		if len(es) < 500 {
			break
		}
	}
	if d.Psych, err = db.GetPsychFile(ctx, actor, personID); optional(err) != nil {
		return err
	}
	if d.Risk, err = db.GetRiskFile(ctx, actor, personID); optional(err) != nil {
		return err
	}
	if d.Incentives, err = db.IncentiveAccountOf(ctx, actor, personID); optional(err) != nil {
		return err
	}
	if d.Outbox, err = db.ListOutbox(ctx, actor, personID); optional(err) != nil {
		return err
	}
	if d.HelpReviews, err = db.ListHelpRevisions(ctx, actor, personID); optional(err) != nil {
		return err
	}
	if d.BreakGlass, err = db.ListPersonBreakGlass(ctx, actor, personID); optional(err) != nil {
		return err
	}
	d.Records = map[string][]map[string]any{}
	return db.Read(ctx, func(tx *Tx) error {
		if _, err := tx.personFor(ctx, actor, personID, func(a casework.PersonAccess) bool { return canWrite(a) }); err != nil {
			return err
		}
		for table, q := range ownRecordQueries {
			args := []any{personID}
			if table == "test_draws" {
				args = append(args, casework.DateOf(tx.now, nil).String())
			}
			rows, err := tx.rawRows(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			d.Records[table] = rows
		}
		rows, err := tx.Query(ctx, `SELECT at, COALESCE(actor_name, ''), action, COALESCE(reason, '') FROM audit_log WHERE target_type = 'person' AND target_id = ? ORDER BY seq`, personID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a OwnAuditRow
			if err := rows.Scan(&a.At, &a.ActorName, &a.Action, &a.Reason); err != nil {
				return err
			}
			a.At = a.At.UTC()
			d.FileReadLog = append(d.FileReadLog, a)
		}
		return rows.Err()
	})
}

// rawRows reads rows as column → value maps (bytes as text).
func (tx *Tx) rawRows(ctx context.Context, q string, args ...any) ([]map[string]any, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			if b, ok := vals[i].([]byte); ok {
				vals[i] = string(b)
			}
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
