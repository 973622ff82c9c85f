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

// EventImportColumns are the keys of an event import's columns, in the
// template's order (exchange names them).
var EventImportColumns = []string{"held_on", "org", "kind", "topic", "place", "audience", "materials", "note"}

// EventImportRequired are the columns a row must fill in.
var EventImportRequired = map[string]bool{"held_on": true, "org": true, "kind": true, "topic": true}

// EventImportRow is one data row of an event import, as cell text; dates
// "YYYY-MM-DD"; Org an area code, id or unique name; Kind a label or code.
type EventImportRow struct {
	Row                             int
	HeldOn, Org, Kind, Topic, Place string
	Audience, Materials, Note       string
	Problems                        []ImportError
}

// EventImportResult is what happens to one row.
type EventImportResult struct {
	Row     int
	Topic   string
	OrgName string
	Outcome string // created or unchanged
	EventID string
}

// EventImportReport is an event import's outcome; nothing is written unless
// Errors is empty and DryRun is false.
type EventImportReport struct {
	DryRun, Written    bool
	Rows               int
	Created, Unchanged int
	Errors             []ImportError
	Results            []EventImportResult
}

var eventFieldColumn = map[string]string{"org_id": "org", "held_on": "held_on", "kind": "kind", "topic": "topic", "place": "place",
	"audience": "audience", "materials": "materials", "note": "note"}

// eventImportKey makes the same event imported twice one event: organiser,
// day, kind, topic and place.
func eventImportKey(in casework.EventInput) string {
	h := sha256.Sum256([]byte(strings.Join([]string{in.OrgID, in.HeldOn.String(), string(in.Kind), in.Topic, in.Place}, "\x00")))
	return "evt:" + hex.EncodeToString(h[:16])
}

// ImportEvents imports prevention events kept on paper (issue 11 §8).
// Every row is checked first — date, organiser in the actor's scope where it
// may record events, kind, numbers, the event's own rules — and every fault
// is reported by row and column. Nothing is written unless every row is
// good; then all are written in one transaction. An event already imported
// (same organiser, day, kind, topic and place) is unchanged, so importing a
// file twice changes nothing; the same event twice in one file is a fault.
func (db *DB) ImportEvents(ctx context.Context, actor *casework.Actor, rows []EventImportRow, dryRun bool) (*EventImportReport, error) {
	if !actor.CanAnywhere(casework.PermWriteEvents) {
		return nil, casework.Errorf(casework.EFORBIDDEN, "您的角色不能导入宣传活动", "your role may not import events")
	}
	if len(rows) == 0 {
		return nil, casework.Errorf(casework.EINVALID, "表格中没有数据行（第1行为表头，数据从第2行开始）",
			"the workbook has no data rows (row 1 is the header; data starts on row 2)")
	}
	if len(rows) > MaxImportRows {
		return nil, casework.Errorf(casework.EINVALID, "一次最多导入%d行，此文件有%d行，请分成多个文件",
			"at most %d rows can be imported at once; this file has %d: split it into several files", MaxImportRows, len(rows))
	}
	rep := &EventImportReport{DryRun: dryRun, Rows: len(rows)}
	err := db.Write(ctx, func(tx *Tx) error {
		orgs, err := tx.eventOrgs(ctx, actor)
		if err != nil {
			return err
		}
		ins := make([]casework.EventInput, len(rows))
		keys := make([]string, len(rows))
		seen := map[string]int{}
		for i, r := range rows {
			rep.Errors = append(rep.Errors, r.Problems...)
			fault := func(col string, err error) { rep.Errors = append(rep.Errors, importErr(r.Row, col, err)) }
			in, ok := tx.eventRow(orgs, r, fault)
			if !ok {
				continue
			}
			ins[i], keys[i] = in, eventImportKey(in)
			if prev, dup := seen[keys[i]]; dup {
				fault("", casework.Errorf(casework.EINVALID, "与第%d行是同一场活动", "the same event as row %d", prev))
				continue
			}
			seen[keys[i]] = r.Row
			res := EventImportResult{Row: r.Row, Topic: in.Topic, OrgName: orgs.byID[in.OrgID].Name, Outcome: "created"}
			var id string
			if err := tx.QueryRow(ctx, `SELECT id FROM prevention_events WHERE import_key = ?`, keys[i]).Scan(&id); err == nil {
				res.Outcome, res.EventID = "unchanged", id
				rep.Unchanged++
			} else if err = notFound(err, "", ""); !casework.IsCode(err, casework.ENOTFOUND) {
				return err
			} else {
				rep.Created++
			}
			rep.Results = append(rep.Results, res)
		}
		if len(rep.Errors) == 0 && !dryRun {
			for i := range rep.Results {
				res := &rep.Results[i]
				if res.Outcome != "created" {
					continue
				}
				j := rowIndex(rows, res.Row)
				id, _, err := tx.addEvent(ctx, actor, ins[j], keys[j])
				if err != nil {
					return fmt.Errorf("import event row %d: %w", res.Row, err)
				}
				res.EventID = id
			}
			rep.Written = true
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "event.import", TargetType: "event",
			Detail: map[string]any{"dry_run": dryRun, "written": rep.Written, "rows": rep.Rows, "created": rep.Created,
				"unchanged": rep.Unchanged, "errors": len(rep.Errors)}})
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func rowIndex(rows []EventImportRow, row int) int {
	for i := range rows {
		if rows[i].Row == row {
			return i
		}
	}
	return -1
}

// eventRow checks one row, reporting each wrong cell.
func (tx *Tx) eventRow(orgs *eventOrgSet, r EventImportRow, fault func(string, error)) (casework.EventInput, bool) {
	in := casework.EventInput{Topic: r.Topic, Place: r.Place, Note: r.Note}
	ok := len(r.Problems) == 0
	bad := func(col string, err error) { fault(col, err); ok = false }
	if strings.TrimSpace(r.HeldOn) == "" {
		bad("held_on", casework.Errorf(casework.EINVALID, "请填写活动日期", "the date is required"))
	} else if d, err := casework.ParseDateField("held_on", r.HeldOn); err != nil {
		bad("held_on", err)
	} else {
		in.HeldOn = d
	}
	if o, err := orgs.resolve(r.Org); err != nil {
		bad("org", err)
	} else {
		in.OrgID = o.ID
	}
	if k, found := casework.ParseEventKind(r.Kind); !found {
		bad("kind", casework.Errorf(casework.EINVALID, "未知的活动形式“%s”（可填：讲座、展览、进校园课堂、街头宣传摊位、线上宣传）",
			"unknown kind %q (lecture, exhibition, school class, street stand, online)", r.Kind))
	} else {
		in.Kind = k
	}
	for _, c := range []struct {
		col string
		v   string
		dst *int
	}{{"audience", r.Audience, &in.Audience}, {"materials", r.Materials, &in.Materials}} {
		v := strings.TrimSpace(c.v)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(v, ".0"))
		if err != nil {
			bad(c.col, casework.Errorf(casework.EINVALID, "“%s”不是整数", "%q is not a whole number", v))
			continue
		}
		*c.dst = n
	}
	if !ok {
		return in, false
	}
	// The event's own rules (future date, missing topic, ranges) on a whole row.
	org := orgs.byID[in.OrgID]
	if err := in.Validate(tx.today(org)); err != nil {
		var col string
		if e, isE := err.(*casework.Error); isE {
			col = eventFieldColumn[e.Field]
		}
		fault(col, err)
		return in, false
	}
	return in, true
}

// eventOrgs loads the orgs where the actor may record events.
func (tx *Tx) eventOrgs(ctx context.Context, actor *casework.Actor) (*eventOrgSet, error) {
	return tx.orgSetWhere(ctx, actor, casework.PermWriteEvents)
}

// orgSetWhere loads the orgs where the actor holds perm (an import's orgs).
func (tx *Tx) orgSetWhere(ctx context.Context, actor *casework.Actor, perm casework.Perm) (*eventOrgSet, error) {
	s := &eventOrgSet{byID: map[string]*casework.Org{}, byCode: map[string]*casework.Org{}, byName: map[string][]*casework.Org{}}
	scope, args := scopeClause("o.path", actor.Scope(perm))
	rows, err := tx.Query(ctx, `SELECT `+orgColumns+` FROM orgs o WHERE `+scope, args...)
	if err != nil {
		return nil, fmt.Errorf("event orgs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		s.byID[o.ID] = o
		if o.AreaCode != "" {
			s.byCode[o.AreaCode] = o
		}
		s.byName[o.Name] = append(s.byName[o.Name], o)
	}
	return s, rows.Err()
}

// AuditListExport records the export of a list other than persons (R36:
// every export is audited), with its filter and row count, before the file
// leaves.
func (db *DB) AuditListExport(ctx context.Context, actor *casework.Actor, list string, filter map[string]any, rows int) error {
	return db.Write(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, actor, AuditEntry{Action: list + ".export", TargetType: list,
			Detail: map[string]any{"rows": rows, "format": "xlsx", "filter": filter}})
	})
}

// eventOrgSet is the orgs an importer may record events for, by id, area
// code and name.
type eventOrgSet struct {
	byID, byCode map[string]*casework.Org
	byName       map[string][]*casework.Org
}

// resolve finds the organiser named by a cell: its id, its 12-digit area
// code, or its name when only one org in scope has it.
func (s *eventOrgSet) resolve(cell string) (*casework.Org, error) {
	v := strings.TrimSpace(cell)
	if v == "" {
		return nil, casework.Errorf(casework.EINVALID, "请填写主办单位（12位区划代码、机构名称或机构ID）", "the organiser is required (12-digit area code, org name or org id)")
	}
	o := s.byID[v]
	if o == nil {
		o = s.byCode[v]
	}
	if o == nil {
		switch named := s.byName[v]; len(named) {
		case 0:
			return nil, casework.Errorf(casework.EINVALID, "找不到主办单位“%s”，或不在您可登记的范围内", "no organiser %q in the scope where you may record events", v)
		case 1:
			o = named[0]
		default:
			return nil, casework.Errorf(casework.EINVALID, "有%d个机构名为“%s”，请改填12位区划代码", "%d orgs are named %q: give the 12-digit area code instead", len(named), v)
		}
	}
	if o.Retired {
		return nil, casework.Errorf(casework.EINVALID, "主办单位“%s”已撤销", "the organiser %q is retired", o.Name)
	}
	return o, nil
}
