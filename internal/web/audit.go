package web

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

type auditData struct {
	Rows     []auditRow
	Families []choice
	Targets  []choice
	Total    int
	F        map[string]string
	Next     int
	Prev     int
	Err      string
}

func (c *Console) auditList(w http.ResponseWriter, r *http.Request, q *req) error {
	qs := r.URL.Query()
	off, _ := strconv.Atoi(qs.Get("offset"))
	f := store.AuditFilter{ActorName: qs.Get("actor"), Action: qs.Get("action"), TargetType: qs.Get("target_type"),
		TargetID: qs.Get("target_id"), Offset: max(off, 0), Limit: pageSize}
	d := auditData{F: map[string]string{"actor": f.ActorName, "action": f.Action, "target_type": f.TargetType,
		"target_id": f.TargetID, "from": qs.Get("from"), "to": qs.Get("to")}, Next: -1, Prev: -1}
	loc := casework.LoadLocation("")
	var err error
	if s := qs.Get("from"); s != "" {
		if f.From, err = time.ParseInLocation("2006-01-02", s, loc); err != nil {
			d.Err = casework.Invalid("from", "开始日期格式应为 YYYY-MM-DD", "from must be a date YYYY-MM-DD").Message(q.Lang)
		}
	}
	if s := qs.Get("to"); s != "" {
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			d.Err = casework.Invalid("to", "结束日期格式应为 YYYY-MM-DD", "to must be a date YYYY-MM-DD").Message(q.Lang)
		} else {
			f.To = t.AddDate(0, 0, 1) // the whole "to" day
		}
	}
	if d.Err == "" {
		var recs []store.AuditRecord
		if recs, d.Total, err = c.DB.ListAudit(r.Context(), q.Actor, f); err != nil {
			return err
		}
		for i := range recs {
			d.Rows = append(d.Rows, newAuditRow(q.Lang, &recs[i]))
		}
	}
	if f.Offset+pageSize < d.Total {
		d.Next = f.Offset + pageSize
	}
	if f.Offset > 0 {
		d.Prev = max(f.Offset-pageSize, 0)
	}
	keys := i18n.Keys(q.Lang)
	for _, fam := range auditFamilies {
		d.Families = append(d.Families, choice{Value: fam + ".", Label: keys["audit.family."+fam], Selected: f.Action == fam+"."})
	}
	for _, tt := range auditTargetTypes {
		d.Targets = append(d.Targets, choice{Value: tt, Label: keys["audit.target."+tt], Selected: f.TargetType == tt})
	}
	c.render(w, r, q, http.StatusOK, "audit", d)
	return nil
}

// The audit log in words (issue 18 §8): an action's label, the target's
// name (masked for the auditor), and the detail as labelled values, never
// action codes, ids or JSON.

// auditFamilies are the action families offered as a filter, in order.
var auditFamilies = []string{"auth", "person", "measure", "drugtest", "schedule", "violation", "case", "leave", "transfer", "document",
	"checkin", "device", "message", "notification", "group", "correction", "policy", "org", "user", "account", "draws", "job", "key", "breakglass"}

// auditTargetTypes are the target types offered as a filter.
var auditTargetTypes = []string{"person", "user", "org", "leave", "violation", "serious_case", "policy"}

type auditRow struct {
	R       *store.AuditRecord
	Action  string
	Actor   string
	Target  string // what kind of record
	Name    string // whose or which
	Link    string // the page of the target, where the reader may open it
	Details []auditDetail
}

type auditDetail struct{ Label, Value string }

func newAuditRow(lang string, rec *store.AuditRecord) auditRow {
	keys := i18n.Keys(lang)
	row := auditRow{R: rec, Action: auditAction(keys, rec.Action), Actor: rec.ActorName, Name: rec.TargetName}
	if strings.HasPrefix(rec.ActorName, "system") {
		row.Actor = keys["audit.system"]
	}
	if rec.TargetType != "" {
		if row.Target = keys["audit.target."+rec.TargetType]; row.Target == "" {
			row.Target = keys["audit.other_target"]
		}
	}
	if rec.TargetOpen {
		row.Link = "/persons/" + rec.TargetID
	}
	row.Details = auditDetails(rec.Detail)
	return row
}

// auditAction labels an action code: its own label, else its family's
// "other action", else "other action" — never the code itself.
func auditAction(keys map[string]string, code string) string {
	if l := keys["audit.action."+code]; l != "" {
		return l
	}
	fam, _, _ := strings.Cut(code, ".")
	if l := keys["audit.family."+fam]; l != "" {
		return fmt.Sprintf(keys["audit.other_action"], l)
	}
	return keys["audit.unknown_action"]
}

// idLike matches the ids and hashes a detail may carry; they are left out.
var idLike = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-|^[0-9a-f]{32,}$`)

// auditDetails flattens a detail object into label/value pairs in key
// order, leaving out ids and hashes (they mean nothing to a reader and the
// chain keeps them).
func auditDetails(detail string) []auditDetail {
	if detail == "" || detail == "{}" {
		return nil
	}
	var m map[string]any
	if json.Unmarshal([]byte(detail), &m) != nil {
		return nil
	}
	var out []auditDetail
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if strings.HasSuffix(k, "_id") || strings.HasSuffix(k, "sha256") || k == "id" {
			continue
		}
		var v string
		switch x := m[k].(type) {
		case string:
			v = x
		case float64, bool:
			v = fmt.Sprint(x)
		case []any:
			var parts []string
			for _, e := range x {
				parts = append(parts, fmt.Sprint(e))
			}
			v = strings.Join(parts, "、")
		default:
			continue
		}
		if v == "" || idLike.MatchString(v) {
			continue
		}
		out = append(out, auditDetail{Label: strings.ReplaceAll(k, "_", " "), Value: v})
	}
	return out
}
