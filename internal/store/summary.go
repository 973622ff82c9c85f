package store

// summary.go: the yearly work summary (年度工作总结, issue 12 §3) of an org
// and year. Its figures are the report engine's (the year's rollups when
// computed, else ComputeFigures live: no second computation); the office's
// texts are versioned (every save a new row, audited); finalising freezes
// a snapshot of the figures, the policy versions they used, the population
// and staffing and the texts, so a later recount cannot silently change a
// submitted report: the page then shows the frozen figures and names any
// figure whose recount now differs.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"kangfu/internal/casework"
)

// SummaryTextsVersion is one saved version of a summary's texts.
type SummaryTextsVersion struct {
	casework.SummaryTexts
	Version       int // 0: nothing saved yet
	UpdatedByName string
	UpdatedAt     time.Time
}

// SummarySnapshot is what finalising freezes.
type SummarySnapshot struct {
	AsOf        casework.Date         `json:"as_of"` // the last day counted
	Source      string                `json:"source"`
	Figures     []*Figure             `json:"figures"`
	OrgYear     *OrgYear              `json:"org_year,omitempty"`
	Texts       casework.SummaryTexts `json:"texts"`
	TextVersion int                   `json:"text_version"`
}

// SummaryFinal is a finalised summary: who, when, and what was frozen.
type SummaryFinal struct {
	ByName   string
	At       time.Time
	Snapshot SummarySnapshot
}

// FigureChange is a frozen figure whose recount differs.
type FigureChange struct {
	Key       string
	Then, Now *Figure
}

// WorkSummary is an org's summary for a year (or, for the scheduled
// exports, a month): the place, its population and staffing, the figures
// and the texts.
type WorkSummary struct {
	Org     *casework.Org
	Place   []*casework.Org // from the root down to the org
	Year    int
	Month   string       // "2026-03" for a monthly summary; "" for the year
	Period  ReportPeriod // the period counted, ending today at the latest
	OrgYear *OrgYear     // nil: not entered
	Figures []*Figure    // engine order; the snapshot's when finalised
	Source  string       // rollup or live
	// Dashboard is the year's rollups (each month, each child org), nil
	// when the figures were computed live.
	Dashboard *Dashboard
	Texts     SummaryTextsVersion
	Final     *SummaryFinal
	Changed   []FigureChange
	CanWrite  bool
}

// Figure returns the summary's figure with the key (nil if none).
func (s *WorkSummary) Figure(key string) *Figure {
	for _, f := range s.Figures {
		if f.Key == key {
			return f
		}
	}
	return nil
}

// summaryYear checks a summary's year: from 2000 to this year.
func summaryYear(year int, today casework.Date) error {
	if year < 2000 || year > today.Year {
		return casework.Invalid("year", "年份须在2000年至%d年之间", "the year must be between 2000 and %d", today.Year)
	}
	return nil
}

// placeOf returns the org's ancestors and itself, root first.
func (tx *Tx) placeOf(ctx context.Context, org *casework.Org) ([]*casework.Org, error) {
	out := []*casework.Org{org}
	for o := org; o.ParentID != ""; {
		p, err := tx.orgByID(ctx, o.ParentID)
		if err != nil {
			return nil, err
		}
		out = append([]*casework.Org{p}, out...)
		o = p
	}
	return out, nil
}

func (tx *Tx) orgYearRow(ctx context.Context, orgID string, year int) (*OrgYear, error) {
	var y OrgYear
	err := tx.QueryRow(ctx, `SELECT y.org_id, o.name, y.year, y.population, y.specialists, y.social_workers, y.police, y.counsellors, y.others,
		y.note, COALESCE(u.display_name, ''), y.updated_at FROM org_years y JOIN orgs o ON o.id = y.org_id LEFT JOIN users u ON u.id = y.updated_by
		WHERE y.org_id = ? AND y.year = ?`, orgID, year).Scan(&y.OrgID, &y.OrgName, &y.Year, &y.Population, &y.Specialists, &y.SocialWorkers,
		&y.Police, &y.Counsellors, &y.Others, &y.Note, &y.UpdatedByName, &y.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	y.UpdatedAt = y.UpdatedAt.UTC()
	return &y, nil
}

func (tx *Tx) summaryTexts(ctx context.Context, orgID string, year int) (SummaryTextsVersion, error) {
	var v SummaryTextsVersion
	err := tx.QueryRow(ctx, `SELECT t.version, t.overview, t.services, t.highlights, t.problems, t.next_steps, COALESCE(u.display_name, ''), t.updated_at
		FROM work_summary_texts t LEFT JOIN users u ON u.id = t.updated_by WHERE t.org_id = ? AND t.year = ? ORDER BY t.version DESC LIMIT 1`,
		orgID, year).Scan(&v.Version, &v.Overview, &v.Services, &v.Highlights, &v.Problems, &v.NextSteps, &v.UpdatedByName, &v.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return SummaryTextsVersion{}, nil
	}
	v.UpdatedAt = v.UpdatedAt.UTC()
	return v, err
}

func (tx *Tx) summaryFinal(ctx context.Context, orgID string, year int) (*SummaryFinal, error) {
	var f SummaryFinal
	var snap string
	err := tx.QueryRow(ctx, `SELECT f.snapshot, COALESCE(u.display_name, ''), f.finalised_at FROM work_summary_finals f
		LEFT JOIN users u ON u.id = f.finalised_by WHERE f.org_id = ? AND f.year = ?`, orgID, year).Scan(&snap, &f.ByName, &f.At)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(snap), &f.Snapshot); err != nil {
		return nil, fmt.Errorf("summary snapshot: %w", err)
	}
	f.At = f.At.UTC()
	return &f, nil
}

// summaryFigures computes the period's figures with the engine: a whole
// year from its rollups when they are computed, else live.
func (db *DB) summaryFigures(ctx context.Context, actor *casework.Actor, org *casework.Org, year int, p ReportPeriod, whole bool) ([]*Figure, *Dashboard, string, error) {
	if whole {
		d, err := db.Dashboard(ctx, actor, org.ID, year)
		if err != nil {
			return nil, nil, "", err
		}
		if !d.Missing {
			return d.Figures, d, "rollup", nil
		}
	}
	figs, err := db.ComputeFigures(ctx, actor, org.ID, p, nil)
	return figs, nil, "live", err
}

// WorkSummary assembles an org's summary for a year (persons-read access to
// the org; 404 outside the actor's subtree). A finalised summary shows its
// frozen figures and texts, and Changed names the figures a recount now
// counts differently.
func (db *DB) WorkSummary(ctx context.Context, actor *casework.Actor, orgID string, year int) (*WorkSummary, error) {
	s := &WorkSummary{Year: year}
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermReadPersons, orgID)
		if err != nil {
			return err
		}
		s.Org = org
		if err := summaryYear(year, tx.today(org)); err != nil {
			return err
		}
		s.Period = ReportPeriod{From: casework.NewDate(year, time.January, 1), To: casework.NewDate(year, time.December, 31)}
		if t := tx.today(org); s.Period.To.After(t) {
			s.Period.To = t
		}
		s.CanWrite = actor.Can(casework.PermWriteSummary, org.Path)
		if s.Place, err = tx.placeOf(ctx, org); err != nil {
			return err
		}
		if s.OrgYear, err = tx.orgYearRow(ctx, org.ID, year); err != nil {
			return err
		}
		if s.Texts, err = tx.summaryTexts(ctx, org.ID, year); err != nil {
			return err
		}
		s.Final, err = tx.summaryFinal(ctx, org.ID, year)
		return err
	})
	if err != nil {
		return nil, err
	}
	figs, dash, source, err := db.summaryFigures(ctx, actor, s.Org, year, ReportPeriod{From: s.Period.From, To: casework.NewDate(year, time.December, 31)}, true)
	if err != nil {
		return nil, err
	}
	s.Figures, s.Dashboard, s.Source = figs, dash, source
	if s.Final != nil {
		snap := s.Final.Snapshot
		now := map[string]*Figure{}
		for _, f := range figs {
			now[f.Key] = f
		}
		for _, f := range snap.Figures {
			if n := now[f.Key]; n != nil && (n.Num != f.Num || n.Den != f.Den) {
				s.Changed = append(s.Changed, FigureChange{Key: f.Key, Then: f, Now: n})
			}
		}
		s.Figures, s.Source, s.OrgYear, s.Period.To = snap.Figures, snap.Source, snap.OrgYear, snap.AsOf
		s.Texts = SummaryTextsVersion{SummaryTexts: snap.Texts, Version: snap.TextVersion, UpdatedByName: s.Final.ByName, UpdatedAt: s.Final.At}
	}
	return s, nil
}

// MonthSummary assembles an org's summary of one month (the scheduled
// export): the place, the year's population and staffing, and the
// month's figures computed live. No texts.
func (db *DB) MonthSummary(ctx context.Context, actor *casework.Actor, orgID, month string) (*WorkSummary, error) {
	p, err := BucketPeriod(month)
	if err != nil || len(month) != 7 {
		return nil, casework.Invalid("month", "月份格式为2026-03", "a month is written 2026-03")
	}
	s := &WorkSummary{Year: p.From.Year, Month: month, Period: p}
	err = db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermReadPersons, orgID)
		if err != nil {
			return err
		}
		s.Org = org
		if t := tx.today(org); s.Period.To.After(t) {
			s.Period.To = t
		}
		if s.Place, err = tx.placeOf(ctx, org); err != nil {
			return err
		}
		s.OrgYear, err = tx.orgYearRow(ctx, org.ID, s.Year)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Figures, s.Dashboard, s.Source, err = db.summaryFigures(ctx, actor, s.Org, s.Year, p, false)
	return s, err
}

// SaveSummaryTexts saves a new version of a summary's texts (office or
// lead of the org). base is the version the writer started from: when
// someone saved meanwhile the save is refused (ECONFLICT), never merged
// silently. A finalised summary's texts are frozen. Every faulty section
// is named; nothing is written unless all are good.
func (db *DB) SaveSummaryTexts(ctx context.Context, actor *casework.Actor, orgID string, year, base int, in casework.SummaryTexts) (*SummaryTextsVersion, error) {
	if err := in.Clean(); err != nil {
		return nil, err
	}
	var out SummaryTextsVersion
	err := db.Write(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermWriteSummary, orgID)
		if err != nil {
			return err
		}
		if err := summaryYear(year, tx.today(org)); err != nil {
			return err
		}
		if f, err := tx.summaryFinal(ctx, org.ID, year); err != nil {
			return err
		} else if f != nil {
			return casework.Errorf(casework.ECONFLICT, "%d年的工作总结已定稿，不能再修改", "the %d summary has been finalised and can no longer be changed", year)
		}
		cur, err := tx.summaryTexts(ctx, org.ID, year)
		if err != nil {
			return err
		}
		if base != cur.Version {
			e := casework.Errorf(casework.ECONFLICT, "他人已在您打开之后保存了新版本（第%d版，%s），请重新打开后再修改",
				"someone saved version %d (%s) after you opened this page; open it again and redo your changes", cur.Version, cur.UpdatedByName)
			e.Field = "version"
			return e
		}
		out = SummaryTextsVersion{SummaryTexts: in, Version: cur.Version + 1, UpdatedByName: actor.Name, UpdatedAt: tx.now.UTC()}
		if _, err := tx.Exec(ctx, `INSERT INTO work_summary_texts (org_id, year, version, overview, services, highlights, problems, next_steps, updated_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, org.ID, year, out.Version, in.Overview, in.Services, in.Highlights, in.Problems, in.NextSteps,
			actorID(actor), tx.now); err != nil {
			return fmt.Errorf("save summary texts: %w", err)
		}
		detail := map[string]any{"year": year, "version": out.Version}
		for _, f := range casework.SummarySections {
			detail[f+"_chars"] = len([]rune(*in.Field(f)))
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "summary.texts", TargetType: "org", TargetID: org.ID, OrgID: org.ID, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// FinaliseSummary freezes an org's summary for the year (office or lead):
// the figures as the engine counts them now, with the policy versions
// they used, the population and staffing and the texts of version
// textVersion (which must be the latest: ECONFLICT otherwise). A summary is
// finalised once.
func (db *DB) FinaliseSummary(ctx context.Context, actor *casework.Actor, orgID string, year, textVersion int) (*WorkSummary, error) {
	s, err := db.WorkSummary(ctx, actor, orgID, year)
	if err != nil {
		return nil, err
	}
	err = db.Write(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermWriteSummary, orgID)
		if err != nil {
			return err
		}
		if f, err := tx.summaryFinal(ctx, org.ID, year); err != nil {
			return err
		} else if f != nil {
			return casework.Errorf(casework.ECONFLICT, "%d年的工作总结已于%s定稿", "the %d summary was finalised on %s", year, f.At.In(org.Location()).Format("2006-01-02"))
		}
		cur, err := tx.summaryTexts(ctx, org.ID, year)
		if err != nil {
			return err
		}
		if cur.Version != textVersion {
			e := casework.Errorf(casework.ECONFLICT, "他人已在您打开之后保存了新版本（第%d版），请重新打开核对后再定稿",
				"someone saved version %d after you opened this page; open it again and check before finalising", cur.Version)
			e.Field = "version"
			return e
		}
		snap := SummarySnapshot{AsOf: s.Period.To, Source: s.Source, Figures: s.Figures, OrgYear: s.OrgYear, Texts: cur.SummaryTexts, TextVersion: cur.Version}
		b, err := json.Marshal(snap)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO work_summary_finals (org_id, year, text_version, snapshot, finalised_by, finalised_at) VALUES (?, ?, ?, ?, ?, ?)`,
			org.ID, year, cur.Version, string(b), actorID(actor), tx.now); err != nil {
			return fmt.Errorf("finalise summary: %w", err)
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "summary.finalise", TargetType: "org", TargetID: org.ID, OrgID: org.ID,
			Detail: map[string]any{"year": year, "text_version": cur.Version, "as_of": s.Period.To.String(), "source": s.Source, "figures": len(s.Figures)}})
	})
	if err != nil {
		return nil, err
	}
	return db.WorkSummary(ctx, actor, orgID, year)
}

// AuditSummaryExport records a summary leaving as a file (xlsx or pdf).
func (db *DB) AuditSummaryExport(ctx context.Context, actor *casework.Actor, s *WorkSummary, format string) error {
	period := strconv.Itoa(s.Year)
	if s.Month != "" {
		period = s.Month
	}
	return db.Write(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, actor, AuditEntry{Action: "summary.export", TargetType: "org", TargetID: s.Org.ID, OrgID: s.Org.ID,
			Detail: map[string]any{"period": period, "format": format, "final": s.Final != nil}})
	})
}
