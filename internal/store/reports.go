package store

// reports.go: the one figure engine of issue 12 (统计, R34). A figure is
// a registered FigureSpec whose Rows function returns the records behind
// it for an org subtree and a period, each attributed to one org (the
// place of execution at the period's end for figures about persons, the
// record's org for counts of records), with a numerator and a
// denominator. The figure is the sum of its rows, its list is the rows
// themselves, and the maintained rollups are the same sums per org and
// bucket: so a figure, its list and its rollup cannot disagree by
// construction, and `kangfu rollups check` compares rollups with a fresh
// recount. Other files (the resident survey) add figures with
// RegisterFigure.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"kangfu/internal/casework"
)

// FigureKind says how a figure reads.
type FigureKind string

const (
	FigureCount FigureKind = "count" // Num (Den unused)
	FigureRate  FigureKind = "rate"  // Num ÷ Den as a percentage
	FigureRatio FigureKind = "ratio" // Num ÷ Den as a plain number (persons per worker)
)

// FigureRow is one record behind a figure.
type FigureRow struct {
	OrgID    string        // the leaf org the row is counted at
	PersonID string        // the person, when the row is about one
	RecordID string        // the record (visit, measure, session, event, user), or the person id
	Day      casework.Date // the record's date, or the period's end for a person's state
	Class    string        // breakdown (measure kind and status, visit kind…); "" for none
	Num, Den int64
}

// FigureQuery is what a FigureSpec's Rows function computes for.
type FigureQuery struct {
	Path   string   // the org subtree
	Scope  []string // the actor's read scope (org paths); nil for the system
	Period ReportPeriod
	Zone   *time.Location
	db     *DB
	pol    map[string]*casework.EffectivePolicy
}

// ReportPeriod is a span of local dates, both ends included.
type ReportPeriod struct {
	From, To casework.Date
}

func (p ReportPeriod) String() string { return p.From.String() + "…" + p.To.String() }

// orgWhere returns "col-path matches the subtree and the scope" with its
// arguments; col is a column holding an org path.
func (q *FigureQuery) orgWhere(col string) (string, []any) {
	where := col + ` LIKE ? ESCAPE '\'`
	args := []any{likePrefix(q.Path)}
	if q.Scope != nil {
		s, a := scopeClause(col, q.Scope)
		where += " AND " + s
		args = append(args, a...)
	}
	return where, args
}

// endCutoff is the instant the period ends (midnight after To, local).
func (q *FigureQuery) endCutoff() time.Time { return q.Period.To.AddDays(1).In(q.Zone) }

// Policy returns the policy in force for the org on the period's last day.
func (q *FigureQuery) Policy(ctx context.Context, tx *Tx, orgID string) (*casework.EffectivePolicy, error) {
	if p, ok := q.pol[orgID]; ok {
		return p, nil
	}
	org, err := tx.orgByID(ctx, orgID)
	if err != nil {
		return nil, err
	}
	p, err := tx.resolvePolicy(ctx, org, q.Period.To)
	if err != nil {
		return nil, err
	}
	q.pol[orgID] = p
	return p, nil
}

// FigureSpec defines one figure. Its words (name, formula in zh and en)
// live in the i18n files under report.fig.<Key>.
type FigureSpec struct {
	Key      string
	Group    string // persons, supervision, care, outreach, staffing
	Kind     FigureKind
	Rule     string   // the DOMAIN rule(s) it implements (tooltips only)
	Settings []string // the policy settings it reads
	Subject  string   // what a list row is: person, measure, visit, session, event, test
	// Flag, when set, says whether the figure's value is above its limit
	// (R33: persons per worker above the ratio).
	Flag func(f *Figure, pol *casework.EffectivePolicy) bool
	Rows func(ctx context.Context, tx *Tx, q *FigureQuery) ([]FigureRow, error)
	// Headline figures show on the dashboard and in its trends.
	Headline bool
	Order    int
}

var figureReg = struct {
	sync.Mutex
	specs []*FigureSpec
}{}

// RegisterFigure adds a figure to the engine (init time). A figure with a
// key already registered panics.
func RegisterFigure(f *FigureSpec) {
	figureReg.Lock()
	defer figureReg.Unlock()
	for _, s := range figureReg.specs {
		if s.Key == f.Key {
			panic("store: figure registered twice: " + f.Key)
		}
	}
	figureReg.specs = append(figureReg.specs, f)
	slices.SortStableFunc(figureReg.specs, func(a, b *FigureSpec) int { return a.Order - b.Order })
}

// Figures returns the registered figures in display order.
func Figures() []*FigureSpec {
	figureReg.Lock()
	defer figureReg.Unlock()
	return slices.Clone(figureReg.specs)
}

// FigureByKey returns the figure with the key, or nil.
func FigureByKey(key string) *FigureSpec {
	for _, f := range Figures() {
		if f.Key == key {
			return f
		}
	}
	return nil
}

// Figure is a computed figure.
type Figure struct {
	Key        string
	Kind       FigureKind
	Num, Den   int64
	Classes    map[string][2]int64 // class → {num, den}
	PolicyRefs []string            // the policy versions its settings came from
	Flagged    bool
	Rows       int // records behind it
	Source     string
	ComputedAt time.Time // when a rollup was computed; zero for a live figure
}

// Value is the figure as a number: Num for a count, Num ÷ Den otherwise;
// ok is false when the denominator is zero.
func (f *Figure) Value() (float64, bool) {
	if f.Kind == FigureCount {
		return float64(f.Num), true
	}
	if f.Den == 0 {
		return 0, false
	}
	return float64(f.Num) / float64(f.Den), true
}

// Text is the figure as shown: "12", "95.0%", "31.5".
func (f *Figure) Text() string {
	v, ok := f.Value()
	if !ok {
		return "—"
	}
	switch f.Kind {
	case FigureRate:
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	case FigureRatio:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatInt(f.Num, 10)
}

func sumRows(spec *FigureSpec, rows []FigureRow) *Figure {
	f := &Figure{Key: spec.Key, Kind: spec.Kind, Classes: map[string][2]int64{}, Rows: len(rows)}
	for _, r := range rows {
		f.Num += r.Num
		f.Den += r.Den
		if r.Class != "" {
			c := f.Classes[r.Class]
			c[0] += r.Num
			c[1] += r.Den
			f.Classes[r.Class] = c
		}
	}
	return f
}

// MaxReportDays bounds a live period (a year and a bit, like clampPeriod).
const MaxReportDays = 400

func checkReportPeriod(p ReportPeriod) error {
	if p.From.IsZero() || p.To.IsZero() || p.To.Before(p.From) {
		return casework.Invalid("from", "请给出有效的起止日期（起不晚于止）", "give a valid period: from on or before to")
	}
	if p.From.DaysUntil(p.To) > MaxReportDays {
		return casework.Invalid("to", "统计期间最长400天", "the period may be at most 400 days")
	}
	return nil
}

// newFigureQuery ends the period today at the latest (the org's zone): a
// state on a future day is not known yet and future days are not due.
func (db *DB) newFigureQuery(org *casework.Org, scope []string, p ReportPeriod) *FigureQuery {
	if today := casework.DateOf(db.Now(), org.Location()); p.To.After(today) {
		p.To = today
	}
	return &FigureQuery{Path: org.Path, Scope: scope, Period: p, Zone: org.Location(), db: db, pol: map[string]*casework.EffectivePolicy{}}
}

// figureOf computes one figure live within a read transaction.
func (tx *Tx) figureOf(ctx context.Context, spec *FigureSpec, q *FigureQuery, org *casework.Org) (*Figure, []FigureRow, error) {
	rows, err := spec.Rows(ctx, tx, q)
	if err != nil {
		return nil, nil, fmt.Errorf("figure %s: %w", spec.Key, err)
	}
	f := sumRows(spec, rows)
	f.Source = "live"
	pol, err := q.Policy(ctx, tx, org.ID)
	if err != nil {
		return nil, nil, err
	}
	f.PolicyRefs = pol.Refs(spec.Settings...)
	if spec.Flag != nil {
		f.Flagged = spec.Flag(f, pol)
	}
	return f, rows, nil
}

// ComputeFigures computes figures live for the org's subtree (within the
// actor's read scope) over the period: the exact figures, for any period.
// keys nil means every figure.
func (db *DB) ComputeFigures(ctx context.Context, actor *casework.Actor, orgID string, p ReportPeriod, keys []string) ([]*Figure, error) {
	if err := checkReportPeriod(p); err != nil {
		return nil, err
	}
	org, err := db.reportOrg(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	var out []*Figure
	// The figures read the replica when it is usable (replica.go).
	err = db.ReadReport(ctx, func(tx *Tx) error {
		out = out[:0] // ReadReport may run fn again on the primary
		q := db.newFigureQuery(org, actor.Scope(casework.PermReadPersons), p)
		for _, spec := range Figures() {
			if keys != nil && !slices.Contains(keys, spec.Key) {
				continue
			}
			f, _, err := tx.figureOf(ctx, spec, q, org)
			if err != nil {
				return err
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}

// FigureListRow is a row of a figure's list, with the person's name and
// masked ID number (R36) and the org's name.
type FigureListRow struct {
	FigureRow
	Name     string
	IDMasked string
	OrgName  string
	Sealed   bool // R38: a sealed file's row: counted, not named or linked
}

// FigureList returns the figure and exactly the records it counted (the
// link beside every figure), ordered by org, name and date. class, when
// not empty, keeps the rows of one breakdown class.
func (db *DB) FigureList(ctx context.Context, actor *casework.Actor, orgID string, p ReportPeriod, key, class string) (*Figure, []FigureListRow, error) {
	spec := FigureByKey(key)
	if spec == nil {
		return nil, nil, casework.Invalid("key", "没有这个统计指标", "no such figure")
	}
	if err := checkReportPeriod(p); err != nil {
		return nil, nil, err
	}
	org, err := db.reportOrg(ctx, actor, orgID)
	if err != nil {
		return nil, nil, err
	}
	// The counted records read the replica when it is usable (replica.go);
	// the names, masked ID numbers and seals (R36, R38) the primary, below.
	var fig *Figure
	var rows []FigureRow
	err = db.ReadReport(ctx, func(tx *Tx) error {
		q := db.newFigureQuery(org, actor.Scope(casework.PermReadPersons), p)
		fig, rows, err = tx.figureOf(ctx, spec, q, org)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if class != "" {
		rows = slices.DeleteFunc(rows, func(r FigureRow) bool { return r.Class != class })
	}
	var out []FigureListRow
	err = db.Read(ctx, func(tx *Tx) error {
		names := map[string][2]string{}
		sealed := map[string]bool{}
		orgNames := map[string]string{}
		var ids []string
		for _, r := range rows {
			if r.PersonID != "" {
				if _, ok := names[r.PersonID]; !ok {
					names[r.PersonID] = [2]string{}
					ids = append(ids, r.PersonID)
				}
			}
			orgNames[r.OrgID] = ""
		}
		for len(ids) > 0 {
			part := ids[:min(len(ids), spansChunk)]
			ids = ids[len(part):]
			rs, err := tx.Query(ctx, `SELECT id, name, id_masked, sealed_at FROM persons WHERE id IN (`+qmarks(len(part))+`)`, anys(part)...)
			if err != nil {
				return err
			}
			for rs.Next() {
				var id, n, m string
				var sealedAt sql.NullTime
				if err := rs.Scan(&id, &n, &m, &sealedAt); err != nil {
					rs.Close()
					return err
				}
				if sealedAt.Valid { // R38: counted, but not named
					sealed[id] = true
					n, m = "", ""
				}
				names[id] = [2]string{n, m}
			}
			rs.Close()
			if err := rs.Err(); err != nil {
				return err
			}
		}
		for id := range orgNames {
			o, err := tx.orgByID(ctx, id)
			if err != nil {
				return err
			}
			orgNames[id] = o.Name
		}
		for _, r := range rows {
			n := names[r.PersonID]
			row := FigureListRow{FigureRow: r, Name: n[0], IDMasked: n[1], OrgName: orgNames[r.OrgID]}
			if sealed[r.PersonID] {
				row.PersonID, row.Sealed = "", true
			}
			out = append(out, row)
		}
		slices.SortStableFunc(out, func(a, b FigureListRow) int {
			if c := strings.Compare(a.OrgName, b.OrgName); c != 0 {
				return c
			}
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			return a.Day.Compare(b.Day)
		})
		return nil
	})
	return fig, out, err
}

// reportOrg checks on the primary that the actor may read the org's
// persons (a permission is never decided on the replica) and returns it.
func (db *DB) reportOrg(ctx context.Context, actor *casework.Actor, orgID string) (*casework.Org, error) {
	var org *casework.Org
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		org, err = tx.orgFor(ctx, actor, casework.PermReadPersons, orgID)
		return err
	})
	return org, err
}

func qmarks(n int) string { return "?" + strings.Repeat(", ?", n-1) }

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// scanStrings reads a one-column result.
func scanStrings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// AuditReportList records that the actor opened the list behind a figure
// (names and masked ID numbers of the persons counted).
func (db *DB) AuditReportList(ctx context.Context, actor *casework.Actor, orgID, key, period string, rows int) error {
	return db.Write(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, actor, AuditEntry{Action: "report.list", TargetType: "org", TargetID: orgID,
			Detail: map[string]any{"figure": key, "period": period, "rows": rows}})
	})
}
