package exchange

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// MaxExportRows bounds one export; a bigger list needs a narrower filter.
const MaxExportRows = 200000

// exportColumn is one column of a person-list export.
type exportColumn struct {
	key   string
	value func(p *casework.Person, lang string) string
}

// exportColumns are the columns of the person list on screen. The ID
// number and phone are the masked values the store lists (first 6 + last
// 4; 3 + 4), never the full ones.
var exportColumns = []exportColumn{
	{"name", func(p *casework.Person, _ string) string { return p.Name }},
	{"sex", func(p *casework.Person, lang string) string {
		if p.Sex == "" {
			return ""
		}
		return i18n.T(lang, "sex."+p.Sex)
	}},
	{"birth_date", func(p *casework.Person, _ string) string { return p.BirthDate.String() }},
	{"id_number", func(p *casework.Person, _ string) string { return p.IDMasked }},
	{"phone", func(p *casework.Person, _ string) string { return p.PhoneMasked }},
	{"org", func(p *casework.Person, _ string) string { return p.OrgName }},
	{"kind", func(p *casework.Person, lang string) string {
		if p.MeasureKind == "" {
			return ""
		}
		return p.MeasureKind.Label(lang)
	}},
	{"status", func(p *casework.Person, lang string) string { return p.Status.Label(lang) }},
	{"worker", func(p *casework.Person, _ string) string { return p.WorkerName }},
	{"report_deadline", func(p *casework.Person, _ string) string { return p.ReportDeadline.String() }},
	{"term_end", func(p *casework.Person, _ string) string { return p.TermEnd.String() }},
	{"released_on", func(p *casework.Person, _ string) string { return p.ReleasedOn.String() }},
}

// visibleColumns are the columns the actor may see: a reader without
// sensitive access anywhere (a counsellor) gets no ID number or phone
// column, as on screen (R36).
func visibleColumns(actor *casework.Actor) []exportColumn {
	sensitive := actor.CanAnywhere(casework.PermSensitive)
	var out []exportColumn
	for _, c := range exportColumns {
		if !sensitive && (c.key == "id_number" || c.key == "phone") {
			continue
		}
		out = append(out, c)
	}
	return out
}

// ExportHeaders returns the header row an actor's export has, in the
// language.
func ExportHeaders(actor *casework.Actor, lang string) []string {
	var out []string
	for _, c := range visibleColumns(actor) {
		out = append(out, i18n.T(lang, "exchange.out."+c.key))
	}
	return out
}

// ExportPersons writes the persons the filter selects in the actor's scope
// (store.ListPersons, page by page, so the list is exactly the one on
// screen) to w as an .xlsx workbook, streamed row by row into excelize's
// StreamWriter. The export is audited ("person.export" with the filter and
// the row count) before the first byte reaches w. It returns the number of
// rows.
func ExportPersons(ctx context.Context, db *store.DB, actor *casework.Actor, filter store.PersonFilter, lang string, w io.Writer) (int, error) {
	if !actor.CanAnywhere(casework.PermReadPersons) {
		return 0, casework.Errorf(casework.EFORBIDDEN, "您的角色不能导出人员名单", "your role may not export person lists")
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := i18n.T(lang, "exchange.sheet.export")
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return 0, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return 0, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return 0, err
	}
	cols := visibleColumns(actor)
	if err := sw.SetColWidth(1, len(cols), 16); err != nil {
		return 0, err
	}
	head := make([]any, len(cols))
	for i, c := range cols {
		head[i] = excelize.Cell{StyleID: bold, Value: i18n.T(lang, "exchange.out."+c.key)}
	}
	if err := setRow(sw, "A1", head); err != nil {
		return 0, err
	}
	n, err := streamPersons(ctx, db, actor, filter, lang, sw, cols)
	if err != nil {
		return 0, err
	}
	if err := sw.Flush(); err != nil {
		return 0, err
	}
	if err := db.AuditExport(ctx, actor, filter, n); err != nil {
		return 0, err
	}
	if _, err := f.WriteTo(w); err != nil {
		return n, fmt.Errorf("write export: %w", err)
	}
	return n, nil
}

// streamPersons pages through the list and writes a row per person.
func streamPersons(ctx context.Context, db *store.DB, actor *casework.Actor, filter store.PersonFilter, lang string, sw *excelize.StreamWriter, cols []exportColumn) (int, error) {
	const page = 500
	filter.Offset, filter.Limit = 0, page
	n := 0
	for {
		ps, total, err := db.ListPersons(ctx, actor, filter)
		if err != nil {
			return 0, err
		}
		if total > MaxExportRows {
			return 0, casework.Errorf(casework.EINVALID, "名单有%d人，超过一次导出的上限%d，请缩小筛选范围",
				"the list has %d persons, more than the %d one export allows: narrow the filter", total, MaxExportRows)
		}
		for _, p := range ps {
			row := make([]any, len(cols))
			for i, c := range cols {
				row[i] = c.value(p, lang)
			}
			n++
			cell, _ := excelize.CoordinatesToCellName(1, n+1)
			if err := setRow(sw, cell, row); err != nil {
				return 0, err
			}
		}
		if len(ps) < page || filter.Offset+len(ps) >= total {
			return n, nil
		}
		filter.Offset += len(ps)
	}
}

// ListDeadlineDays is the "deadline soon" window of the person list's
// deadline=1 filter.
const ListDeadlineDays = 7

// FilterFromQuery reads a person-list filter from the query string of the
// person list (/persons?…), so an export selects exactly the list on
// screen: q (name part, whole ID number or phone), status (repeatable or
// comma-separated), kind, org_id, worker_id, mine=1 (the actor's own
// caseload), deadline=1 (pending report due within ListDeadlineDays days or
// overdue; deadline_days=N for another window), include_ended=1 (released
// and other ended files too, R35) and sort (name, deadline, updated).
// Paging (offset, limit) is ignored: an export holds the whole list. today
// is the date the deadline filter counts from.
func FilterFromQuery(v url.Values, actor *casework.Actor, today casework.Date) (store.PersonFilter, error) {
	get := func(names ...string) string {
		for _, n := range names {
			if s := strings.TrimSpace(v.Get(n)); s != "" {
				return s
			}
		}
		return ""
	}
	f := store.PersonFilter{Query: get("q"), OrgID: get("org", "org_id"), WorkerID: get("worker", "worker_id"), Today: today}
	for _, s := range v["status"] {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			st := casework.Status(part)
			if !st.Valid() {
				return f, casework.Invalid("status", "未知状态：%s", "unknown status %s", part)
			}
			f.Status = append(f.Status, st)
		}
	}
	if k := get("kind"); k != "" {
		f.Kind = casework.MeasureKind(k)
		if !f.Kind.Valid() {
			return f, casework.Invalid("kind", "未知措施类型：%s", "unknown measure kind %s", k)
		}
	}
	if get("mine") == "1" {
		f.WorkerID = actor.UserID
	}
	if get("deadline") == "1" {
		f.DeadlineDays = ListDeadlineDays
	}
	if s := get("deadline_days"); s != "" {
		d, err := strconv.Atoi(s)
		if err != nil || d < 0 || d > 3650 {
			return f, casework.Invalid("deadline_days", "期限天数须为0到3650之间的整数", "deadline_days must be a whole number of days from 0 to 3650")
		}
		f.DeadlineDays = d
	}
	switch get("include_ended", "ended") {
	case "", "0", "false", "off":
	default:
		f.IncludeEnded = true
	}
	switch s := get("sort"); s {
	case "", "name", "deadline", "updated":
		f.Sort = s
	default:
		return f, casework.Invalid("sort", "未知排序方式：%s", "unknown sort %s", s)
	}
	return f, nil
}
