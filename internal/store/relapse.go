package store

// relapse.go: the three years without relapse after release (R16, S1 Art 7
// "对戒断3年未复吸的人员，不再实行动态管控"). Release sets the date three
// years on; a positive test or recorded drug use on or after the release
// date restarts the three years from the day of the relapse
// (casework.NoRelapseFrom); the periodic job marks the person 戒断三年未复吸
// on the day the date is reached in the place's time zone, and from then on
// no follow-up test is recorded (dynamic control ends) until a new measure.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// Relapse sources.
const (
	RelapsePositiveTest = "positive_test"
	RelapseDrugUse      = "drug_use"
)

// Relapse is a relapse recorded after release (R16).
type Relapse struct {
	ID        string
	Day       casework.Date
	Source    string // positive_test, drug_use
	SourceKey string
	Detail    string
	CreatedAt time.Time
}

// SourceLabel names the source in the language.
func (r Relapse) SourceLabel(lang string) string {
	zh, en := "吸食毒品", "drug use"
	if r.Source == RelapsePositiveTest {
		zh, en = "检测阳性", "positive test"
	}
	if lang == "en" {
		return en
	}
	return zh
}

// releasedMeasure returns the person's latest measure when no measure is in
// force and that latest one ended in release (the R16 follow-up), else nil.
func (tx *Tx) releasedMeasure(ctx context.Context, personID string) (*Measure, error) {
	m, err := scanMeasure(tx.QueryRow(ctx, `SELECT `+measureColumns+` FROM measures m JOIN orgs o ON o.id = m.place_org_id
		LEFT JOIN users w ON w.id = m.worker_id WHERE m.person_id = ? ORDER BY m.in_force DESC, m.created_at DESC LIMIT 1`, personID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if m.InForce || m.Status != casework.StatusReleased {
		return nil, nil
	}
	return m, nil
}

// errNoRelapseMarked refuses follow-up records for a person already marked
// 戒断三年未复吸: dynamic control has ended (R16).
func errNoRelapseMarked(m *Measure) error {
	return casework.Errorf(casework.ECONFLICT, "该人员已于%s戒断三年未复吸，不再实行动态管控；如再次吸毒，须由公安机关作出新的决定",
		"the person reached 3 years without relapse on %s and dynamic control has ended; a new use needs a new police decision", m.NoRelapseMarkedOn)
}

// recordRelapse records a relapse after release on the released measure m
// and moves its no-relapse date to three years from the relapse when that
// is later (R16). A relapse dated before the release changes nothing (it
// belongs to the measure); a second record of the same source changes
// nothing. It returns whether a relapse was recorded.
func (tx *Tx) recordRelapse(ctx context.Context, actor *casework.Actor, m *Measure, personID, orgID string, day casework.Date,
	source, key, detail string) (bool, error) {
	if day.Before(m.EndedOn) {
		return false, nil
	}
	if !m.NoRelapseMarkedOn.IsZero() && !day.Before(m.NoRelapseMarkedOn) {
		return false, errNoRelapseMarked(m)
	}
	id := NewID()
	if key == "" {
		key = id
	}
	res, err := tx.Exec(ctx, `INSERT INTO relapses (id, person_id, measure_id, org_id, day, source, source_key, detail, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (person_id, source, source_key) DO NOTHING`,
		id, personID, m.ID, orgID, day, source, key, detail, actorID(actor), tx.now)
	if err != nil {
		return false, fmt.Errorf("insert relapse: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	var last sql.Null[casework.Date]
	if err := tx.QueryRow(ctx, `SELECT MAX(day) FROM relapses WHERE measure_id = ?`, m.ID).Scan(&last); err != nil {
		return false, err
	}
	until := casework.NoRelapseDate(casework.NoRelapseFrom(m.EndedOn, last.V))
	// A relapse dated before a mark already set (recorded late) shows the
	// mark was wrong: it is cleared and the date counted again.
	if _, err := tx.Exec(ctx, `UPDATE measures SET no_relapse_on = ?, no_relapse_marked_on = NULL, updated_at = ? WHERE id = ?`, until, tx.now, m.ID); err != nil {
		return false, err
	}
	if err := tx.event(ctx, actor, personID, orgID, "relapse.recorded", map[string]any{"relapse_id": id, "day": day.String(),
		"no_relapse_on": until.String()}); err != nil {
		return false, err
	}
	return true, tx.Audit(ctx, actor, AuditEntry{Action: "relapse.record", TargetType: "person", TargetID: personID, OrgID: orgID,
		Detail: map[string]any{"relapse_id": id, "measure_id": m.ID, "source": source, "day": day.String(), "no_relapse_on": until.String()}})
}

func actorID(a *casework.Actor) string {
	if a == nil {
		return ""
	}
	return a.UserID
}

// RecordRelapse records drug use after release (R16), e.g. admitted or
// seen by staff: the three years count again from its day. The person must
// be released with no measure in force and not yet marked; the actor needs
// PermReviewViolations and write access to the file.
func (db *DB) RecordRelapse(ctx context.Context, actor *casework.Actor, personID string, in DrugUseInput) (*Measure, error) {
	in.Detail = strings.TrimSpace(in.Detail)
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canWrite)
		if err != nil {
			return err
		}
		if !actor.Can(casework.PermReviewViolations, r.OrgPath) {
			return casework.Errorf(casework.EFORBIDDEN, "您没有权限记录违规", "you may not record violations")
		}
		m, err := tx.releasedMeasure(ctx, personID)
		if err != nil {
			return err
		}
		if m == nil {
			return casework.Errorf(casework.ECONFLICT, "该人员不在解除后的三年跟踪期内", "the person is not in the three years after release")
		}
		id = m.ID
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		errs := in.check(tx.today(org)) // every problem at once (issue 18 item 9)
		if !errs.Has("day") && in.Day.Before(m.EndedOn) {
			errs.Add(casework.Invalid("day", "解除（%s）之前的吸毒不属于解除后的复吸", "drug use before the release (%s) is not a relapse after it", m.EndedOn))
		}
		if err := errs.Err(); err != nil {
			return err
		}
		_, err = tx.recordRelapse(ctx, actor, m, personID, r.OrgID, in.Day, RelapseDrugUse, "", in.Detail)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.GetMeasure(ctx, actor, personID, id)
}

// relapsePositive records a positive test of a released person as a
// relapse (R16). Called by RecordTest inside its transaction.
func (tx *Tx) relapsePositive(ctx context.Context, actor *casework.Actor, personID, orgID, testID string, day casework.Date) error {
	m, err := tx.releasedMeasure(ctx, personID)
	if err != nil || m == nil {
		return err
	}
	_, err = tx.recordRelapse(ctx, actor, m, personID, orgID, day, RelapsePositiveTest, testID, "")
	return err
}

// checkFollowUp refuses a test record for a person whose dynamic control
// has ended (R16: marked, no measure in force).
func (tx *Tx) checkFollowUp(ctx context.Context, personID string) error {
	m, err := tx.releasedMeasure(ctx, personID)
	if err != nil || m == nil || m.NoRelapseMarkedOn.IsZero() {
		return err
	}
	return errNoRelapseMarked(m)
}

// MarkNoRelapse marks 戒断三年未复吸 (R16) on every released measure whose
// no-relapse date has come in its place's time zone and whose person has no
// later measure; it returns how many it marked. The mark is the date
// reached. Each mark is its own transaction guarded by the measure's state,
// so a second run or a second server marks nothing twice. Run by the
// periodic release job.
func (db *DB) MarkNoRelapse(ctx context.Context) (int, error) {
	type cand struct{ personID, measureID string }
	var cands []cand
	horizon := casework.DateOf(db.now().UTC().Add(24*time.Hour), time.UTC) // no zone is more than a day ahead of UTC
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT m.person_id, m.id FROM measures m WHERE m.in_force = ? AND m.status = 'released'
			AND m.no_relapse_marked_on IS NULL AND m.no_relapse_on IS NOT NULL AND m.no_relapse_on <= ?`, false, horizon)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c cand
			if err := rows.Scan(&c.personID, &c.measureID); err != nil {
				return err
			}
			cands = append(cands, c)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	sys := casework.SystemActor("no-relapse-job")
	n := 0
	var errs []error
	for _, c := range cands {
		err := db.Write(ctx, func(tx *Tx) error {
			m, err := tx.releasedMeasure(ctx, c.personID)
			if err != nil || m == nil || m.ID != c.measureID || !m.NoRelapseMarkedOn.IsZero() {
				return err // a later measure, or marked meanwhile
			}
			org, err := tx.orgByID(ctx, m.PlaceOrgID)
			if err != nil {
				return err
			}
			if m.NoRelapseOn.After(tx.today(org)) {
				return nil
			}
			res, err := tx.Exec(ctx, `UPDATE measures SET no_relapse_marked_on = ?, updated_at = ? WHERE id = ? AND no_relapse_marked_on IS NULL`,
				m.NoRelapseOn, tx.now, m.ID)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return nil
			}
			n++
			if err := tx.event(ctx, sys, c.personID, m.PlaceOrgID, "relapse.none_3y", map[string]any{"date": m.NoRelapseOn.String()}); err != nil {
				return err
			}
			return tx.Audit(ctx, sys, AuditEntry{Action: "measure.no_relapse", TargetType: "person", TargetID: c.personID, OrgID: m.PlaceOrgID,
				Detail: map[string]any{"measure_id": m.ID, "date": m.NoRelapseOn.String()}})
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("mark no relapse %s: %w", c.measureID, err))
		}
	}
	return n, errors.Join(errs...)
}

// NoRelapseCount is the R16 figure of an org subtree (R34 戒断三年未复吸).
type NoRelapseCount struct {
	Marked   int // released persons marked 戒断三年未复吸
	Tracking int // released persons still within the three years
	Relapsed int // of those tracked or marked, persons with a relapse after release
}

// CountNoRelapse counts, in the org's subtree within the actor's scope
// (PermWritePersons or police: PermSensitive), the released persons marked
// 戒断三年未复吸, those still in the three years, and those who relapsed
// after release (reports use it). A person counts by the latest measure.
// Sealed files (R38) stay in these counts on purpose: 戒断三年未复吸 is a
// historic total (the mark falls three years after release, the day the
// default retention seals the file, so leaving them out would empty it);
// the counts name nobody.
func (db *DB) CountNoRelapse(ctx context.Context, actor *casework.Actor, orgID string) (NoRelapseCount, error) {
	var out NoRelapseCount
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermSensitive, orgID)
		if err != nil {
			return err
		}
		where, args := scopeClause("o.path", actor.Scope(casework.PermSensitive))
		return tx.QueryRow(ctx, `SELECT
			COALESCE(SUM(CASE WHEN m.no_relapse_marked_on IS NOT NULL THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN m.no_relapse_marked_on IS NULL THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM relapses r WHERE r.measure_id = m.id) THEN 1 ELSE 0 END), 0)
			FROM persons p JOIN orgs o ON o.id = p.org_id JOIN measures m ON m.person_id = p.id
			WHERE p.status = 'released' AND m.status = 'released' AND m.in_force = ?
			AND NOT EXISTS (SELECT 1 FROM measures m2 WHERE m2.person_id = m.person_id AND m2.created_at > m.created_at)
			AND o.path LIKE ? ESCAPE '\' AND `+where, append([]any{false, likePrefix(org.Path)}, args...)...).Scan(&out.Marked, &out.Tracking, &out.Relapsed)
	})
	return out, err
}

// relapsesOf reads a measure's relapses after release, oldest first.
func (tx *Tx) relapsesOf(ctx context.Context, measureID string) ([]Relapse, error) {
	rows, err := tx.Query(ctx, `SELECT id, day, source, source_key, detail, created_at FROM relapses WHERE measure_id = ? ORDER BY day, created_at`, measureID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Relapse
	for rows.Next() {
		var r Relapse
		if err := rows.Scan(&r.ID, &r.Day, &r.Source, &r.SourceKey, &r.Detail, &r.CreatedAt); err != nil {
			return nil, err
		}
		r.CreatedAt = r.CreatedAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
