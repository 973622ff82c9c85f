package store

// reports_rollup.go: the maintained rollups of the figures (issue 12,
// Performance) and the dashboard that reads them. A rollup row holds a
// figure's numerator and denominator for one org's whole subtree and one
// bucket (a calendar month "2026-03" or a calendar year "2026"), by
// breakdown class. The rollup job recomputes the buckets that can still
// change (this month and year, and last month, whose late check-ins and
// corrections still arrive) from the same FigureSpec.Rows the live figures
// and lists use; `kangfu rollups check` recounts and compares, `kangfu
// rollups rebuild` rewrites. A dashboard reads its org's 13 buckets and
// its children's year bucket: its cost follows the number of orgs and
// figures, not the number of check-ins behind them.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// BucketPeriod returns the period of a bucket ("2026" or "2026-03").
func BucketPeriod(bucket string) (ReportPeriod, error) {
	if y, err := strconv.Atoi(bucket); err == nil && len(bucket) == 4 {
		return ReportPeriod{From: casework.NewDate(y, time.January, 1), To: casework.NewDate(y, time.December, 31)}, nil
	}
	if len(bucket) == 7 && bucket[4] == '-' {
		y, err1 := strconv.Atoi(bucket[:4])
		m, err2 := strconv.Atoi(bucket[5:])
		if err1 == nil && err2 == nil && m >= 1 && m <= 12 {
			from := casework.NewDate(y, time.Month(m), 1)
			return ReportPeriod{From: from, To: from.AddMonths(1).AddDays(-1)}, nil
		}
	}
	return ReportPeriod{}, casework.Invalid("bucket", "统计期须为年（2026）或月（2026-03）", "a bucket is a year (2026) or a month (2026-03)")
}

// YearBuckets returns a year's bucket and its twelve months.
func YearBuckets(year int) []string {
	out := []string{strconv.Itoa(year)}
	for m := 1; m <= 12; m++ {
		out = append(out, fmt.Sprintf("%04d-%02d", year, m))
	}
	return out
}

// MonthBucket names the month of a date.
func MonthBucket(d casework.Date) string { return fmt.Sprintf("%04d-%02d", d.Year, int(d.Month)) }

// rollupMarker is the figure of the row each org gets in each computed
// bucket, so "nothing to count" reads as zero rather than "not computed".
const rollupMarker = "_computed"

type rollupKey struct{ org, figure, class string }

type rollupVal struct{ num, den int64 }

// rollupCount computes a bucket for every org: each root org's subtree
// with the system's scope, each row added to its org and every ancestor.
func (db *DB) rollupCount(ctx context.Context, bucket string) (map[rollupKey]rollupVal, bool, error) {
	p, err := BucketPeriod(bucket)
	if err != nil {
		return nil, false, err
	}
	out := map[rollupKey]rollupVal{}
	live := false
	err = db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, parent_id, path, time_zone FROM orgs`)
		if err != nil {
			return err
		}
		parent := map[string]string{}
		var roots []*casework.Org
		for rows.Next() {
			var o casework.Org
			var par *string
			if err := rows.Scan(&o.ID, &par, &o.Path, &o.TimeZone); err != nil {
				rows.Close()
				return err
			}
			if par == nil {
				roots = append(roots, &o)
			} else {
				parent[o.ID] = *par
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for id := range parent {
			out[rollupKey{id, rollupMarker, ""}] = rollupVal{}
		}
		for _, root := range roots {
			out[rollupKey{root.ID, rollupMarker, ""}] = rollupVal{}
			rp := p
			today := tx.today(root)
			if rp.From.After(today) {
				continue
			}
			if rp.To.After(today) {
				rp.To, live = today, true
			}
			q := db.newFigureQuery(root, nil, rp)
			for _, spec := range Figures() {
				frows, err := spec.Rows(ctx, tx, q)
				if err != nil {
					return fmt.Errorf("figure %s: %w", spec.Key, err)
				}
				for _, r := range frows {
					for org := r.OrgID; org != ""; org = parent[org] {
						k := rollupKey{org, spec.Key, ""}
						v := out[k]
						v.num, v.den = v.num+r.Num, v.den+r.Den
						out[k] = v
						if r.Class != "" {
							k.class = r.Class
							v := out[k]
							v.num, v.den = v.num+r.Num, v.den+r.Den
							out[k] = v
						}
					}
				}
			}
		}
		return nil
	})
	return out, live, err
}

// RebuildRollups recomputes the buckets and replaces their rows.
func (db *DB) RebuildRollups(ctx context.Context, buckets []string) error {
	for _, b := range buckets {
		vals, _, err := db.rollupCount(ctx, b)
		if err != nil {
			return fmt.Errorf("rollup %s: %w", b, err)
		}
		keys := make([]rollupKey, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b rollupKey) int {
			return strings.Compare(a.org+"\x00"+a.figure+"\x00"+a.class, b.org+"\x00"+b.figure+"\x00"+b.class)
		})
		err = db.Write(ctx, func(tx *Tx) error {
			if _, err := tx.Exec(ctx, `DELETE FROM report_rollups WHERE bucket = ?`, b); err != nil {
				return err
			}
			const per = 100
			for len(keys) > 0 {
				part := keys[:min(per, len(keys))]
				keys = keys[len(part):]
				args := make([]any, 0, 7*len(part))
				for _, k := range part {
					v := vals[k]
					args = append(args, k.org, b, k.figure, k.class, v.num, v.den, tx.now)
				}
				if _, err := tx.Exec(ctx, `INSERT INTO report_rollups (org_id, bucket, figure, class, num, den, computed_at) VALUES `+
					placeholders(len(part), 7), args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("rollup %s: %w", b, err)
		}
	}
	return nil
}

// RollupDiff is a rollup row that disagrees with a fresh recount.
type RollupDiff struct {
	Bucket, OrgID, Figure, Class string
	Stored, Recount              [2]int64 // num, den
}

// CheckRollups recounts the buckets and returns every row that differs
// (missing on either side counts as zero).
func (db *DB) CheckRollups(ctx context.Context, buckets []string) ([]RollupDiff, error) {
	var out []RollupDiff
	for _, b := range buckets {
		fresh, _, err := db.rollupCount(ctx, b)
		if err != nil {
			return nil, err
		}
		stored := map[rollupKey]rollupVal{}
		err = db.Read(ctx, func(tx *Tx) error {
			rows, err := tx.Query(ctx, `SELECT org_id, figure, class, num, den FROM report_rollups WHERE bucket = ?`, b)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var k rollupKey
				var v rollupVal
				if err := rows.Scan(&k.org, &k.figure, &k.class, &v.num, &v.den); err != nil {
					return err
				}
				stored[k] = v
			}
			return rows.Err()
		})
		if err != nil {
			return nil, err
		}
		for k, v := range fresh {
			if s := stored[k]; s != v {
				out = append(out, RollupDiff{Bucket: b, OrgID: k.org, Figure: k.figure, Class: k.class, Stored: [2]int64{s.num, s.den}, Recount: [2]int64{v.num, v.den}})
			}
		}
		for k, s := range stored {
			if _, ok := fresh[k]; !ok && s != (rollupVal{}) {
				out = append(out, RollupDiff{Bucket: b, OrgID: k.org, Figure: k.figure, Class: k.class, Stored: [2]int64{s.num, s.den}})
			}
		}
	}
	slices.SortFunc(out, func(a, b RollupDiff) int {
		return strings.Compare(a.Bucket+a.OrgID+a.Figure+a.Class, b.Bucket+b.OrgID+b.Figure+b.Class)
	})
	return out, nil
}

// RollupBucketsDue returns the buckets the rollup job refreshes on day:
// this month and this year, and last month and (in January) last year.
func RollupBucketsDue(day casework.Date) []string {
	prev := day.AddMonths(-1)
	out := []string{MonthBucket(day), strconv.Itoa(day.Year), MonthBucket(prev)}
	if prev.Year != day.Year {
		out = append(out, strconv.Itoa(prev.Year))
	}
	return out
}

// RefreshRollups is the rollup job: it recomputes the buckets that can
// still change (RollupBucketsDue, in the zone of the first root org).
func (db *DB) RefreshRollups(ctx context.Context) ([]string, error) {
	day := casework.DateOf(db.Now(), casework.LoadLocation("Asia/Shanghai"))
	buckets := RollupBucketsDue(day)
	return buckets, db.RebuildRollups(ctx, buckets)
}

// RollupBuckets returns every bucket that has rows, oldest first.
func (db *DB) RollupBuckets(ctx context.Context) ([]string, error) {
	var out []string
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		out, err = scanStrings(tx.Query(ctx, `SELECT DISTINCT bucket FROM report_rollups ORDER BY bucket`))
		return err
	})
	return out, err
}

// Dashboard is an org's figures for a year from the rollups.
type Dashboard struct {
	Org        *casework.Org
	Year       int
	Figures    []*Figure            // the year's figures, in display order
	Months     []string             // the year's twelve buckets
	Trend      map[string][]*Figure // figure key → one per month (nil: no rollup yet)
	Children   []*casework.Org
	ByChild    map[string]map[string]*Figure // child org id → figure key → the year's figure
	ComputedAt time.Time                     // the oldest rollup read
	Missing    bool                          // the year has no rollup yet
}

// Dashboard reads an org's year from the rollups: the headline figures,
// the monthly trend, and each child org's year (the comparison table).
func (db *DB) Dashboard(ctx context.Context, actor *casework.Actor, orgID string, year int) (*Dashboard, error) {
	if year < 2000 || year > 2100 {
		return nil, casework.Invalid("year", "年份无效", "the year is not valid")
	}
	d := &Dashboard{Year: year, Months: YearBuckets(year)[1:], Trend: map[string][]*Figure{}, ByChild: map[string]map[string]*Figure{}}
	org, err := db.reportOrg(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	d.Org = org
	// The rollups read the replica when it is usable (replica.go).
	err = db.ReadReport(ctx, func(tx *Tx) error {
		// ReadReport may run fn again on the primary: start afresh.
		d.Children, d.Figures, d.Missing = nil, nil, false
		d.Trend, d.ByChild = map[string][]*Figure{}, map[string]map[string]*Figure{}
		rows, err := tx.Query(ctx, `SELECT id, name, path, kind, time_zone FROM orgs WHERE parent_id = ? AND retired = ? ORDER BY path`, org.ID, false)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c casework.Org
			if err := rows.Scan(&c.ID, &c.Name, &c.Path, &c.Kind, &c.TimeZone); err != nil {
				rows.Close()
				return err
			}
			c.ParentID = org.ID
			d.Children = append(d.Children, &c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		specs := Figures()
		y := strconv.Itoa(year)
		pol, err := tx.resolvePolicy(ctx, org, casework.NewDate(year, time.December, 31))
		if err != nil {
			return err
		}
		// The org: its year and months.
		own, err := tx.readRollups(ctx, `org_id = ? AND bucket IN (`+qmarks(13)+`)`, append([]any{org.ID}, anys(YearBuckets(year))...)...)
		if err != nil {
			return err
		}
		for _, spec := range specs {
			f := own.figure(spec, org.ID, y)
			if f == nil {
				d.Missing = true
				f = &Figure{Key: spec.Key, Kind: spec.Kind, Source: "none"}
			}
			f.PolicyRefs = pol.Refs(spec.Settings...)
			if spec.Flag != nil && f.Source == "rollup" {
				f.Flagged = spec.Flag(f, pol)
			}
			d.Figures = append(d.Figures, f)
			for _, m := range d.Months {
				d.Trend[spec.Key] = append(d.Trend[spec.Key], own.figure(spec, org.ID, m))
			}
		}
		d.ComputedAt = own.oldest
		if len(d.Children) == 0 {
			return nil
		}
		ids := make([]string, len(d.Children))
		for i, c := range d.Children {
			ids[i] = c.ID
		}
		kids, err := tx.readRollups(ctx, `bucket = ? AND org_id IN (`+qmarks(len(ids))+`)`, append([]any{y}, anys(ids)...)...)
		if err != nil {
			return err
		}
		for _, c := range d.Children {
			d.ByChild[c.ID] = map[string]*Figure{}
			for _, spec := range specs {
				f := kids.figure(spec, c.ID, y)
				if f == nil {
					f = &Figure{Key: spec.Key, Kind: spec.Kind, Source: "none"}
				} else if spec.Flag != nil {
					f.Flagged = spec.Flag(f, pol)
				}
				d.ByChild[c.ID][spec.Key] = f
			}
		}
		return nil
	})
	return d, err
}

type rollupSet struct {
	vals   map[[3]string]map[string][2]int64 // org, bucket, figure → class → num, den
	at     map[[3]string]time.Time
	oldest time.Time
}

func (tx *Tx) readRollups(ctx context.Context, where string, args ...any) (*rollupSet, error) {
	rows, err := tx.Query(ctx, `SELECT org_id, bucket, figure, class, num, den, computed_at FROM report_rollups WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	s := &rollupSet{vals: map[[3]string]map[string][2]int64{}, at: map[[3]string]time.Time{}}
	for rows.Next() {
		var k [3]string
		var class string
		var v [2]int64
		var at time.Time
		if err := rows.Scan(&k[0], &k[1], &k[2], &class, &v[0], &v[1], &at); err != nil {
			return nil, err
		}
		if s.vals[k] == nil {
			s.vals[k] = map[string][2]int64{}
		}
		s.vals[k][class] = v
		s.at[k] = at.UTC()
		if s.oldest.IsZero() || at.Before(s.oldest) {
			s.oldest = at.UTC()
		}
	}
	return s, rows.Err()
}

// figure builds a figure from its rollup rows; nil when the bucket has
// none (not computed yet). A bucket computed with nothing to count has no
// rows either, so a computed bucket is known by any figure's row: absent
// figures of a computed bucket read as zero.
func (s *rollupSet) figure(spec *FigureSpec, org, bucket string) *Figure {
	k := [3]string{org, bucket, spec.Key}
	vals, ok := s.vals[k]
	if !ok {
		if _, computed := s.vals[[3]string{org, bucket, rollupMarker}]; !computed {
			return nil
		}
	}
	f := &Figure{Key: spec.Key, Kind: spec.Kind, Source: "rollup", ComputedAt: s.at[k], Classes: map[string][2]int64{}}
	for c, v := range vals {
		if c == "" {
			f.Num, f.Den = v[0], v[1]
		} else {
			f.Classes[c] = v
		}
	}
	return f
}
