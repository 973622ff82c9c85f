package store

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"kangfu/internal/casework"
)

// PersonFilter selects persons for a list. Zero fields do not filter.
type PersonFilter struct {
	Query        string // part of the name, or a whole ID number, or a whole phone number
	Status       []casework.Status
	Kind         casework.MeasureKind
	OrgID        string // place of execution in this subtree
	WorkerID     string
	DeadlineDays int           // >0: pending report with a deadline within this many days, or overdue
	IncludeEnded bool          // released, terminated, deceased files too (R35 keeps them out by default)
	Today        casework.Date // for DeadlineDays; zero: today in Asia/Shanghai
	Sort         string        // "name" (default), "deadline", "updated"
	Tier         string        // high, medium, low: the confirmed tier in force today (R31); "none": no tier
	Offset       int
	Limit        int
}

// routineStatuses are the statuses a routine list shows (R35: released
// persons leave routine lists).
var routineStatuses = []casework.Status{casework.StatusPendingReport, casework.StatusExecuting, casework.StatusOnLeave, casework.StatusSuspended}

// ListPersons returns the persons whose place of execution is in the
// actor's read scope (a counsellor: only those whose working group it is
// in), masked as on screen. Search by ID number or phone uses the keyed
// hash index, never a decryption of every row.
func (db *DB) ListPersons(ctx context.Context, actor *casework.Actor, f PersonFilter) ([]*casework.Person, int, error) {
	var out []*casework.Person
	var total int
	err := db.Read(ctx, func(tx *Tx) error {
		where, args, err := tx.personScope(ctx, actor, f)
		if err != nil {
			return err
		}
		if gw, gargs, ok := tx.gramSearch(ctx, actor, f); ok {
			// A short name search counts and pages on the gram index alone
			// and reads only the persons rows of the page.
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM person_name_grams g WHERE `+gw, gargs...).Scan(&total); err != nil {
				return fmt.Errorf("count persons: %w", err)
			}
			where = []string{`p.id IN (SELECT g.person_id FROM person_name_grams g WHERE ` + gw + ` ORDER BY g.name_key, g.person_id LIMIT ? OFFSET ?)`}
			args = append(gargs, clampLimit(f.Limit), max(f.Offset, 0))
			f.Offset = 0
			from := personFrom + ` WHERE ` + strings.Join(where, " AND ")
			return tx.listRows(ctx, actor, `SELECT `+personColumns+from+` ORDER BY p.name_key, p.id LIMIT ? OFFSET ?`,
				append(args, clampLimit(f.Limit), 0), &out)
		}
		from := personFrom + ` WHERE ` + strings.Join(where, " AND ")
		if err := tx.QueryRow(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
			return fmt.Errorf("count persons: %w", err)
		}
		order := ` ORDER BY p.name_key, p.id`
		switch f.Sort {
		case "deadline":
			order = ` ORDER BY p.report_deadline IS NULL, p.report_deadline, p.name_key, p.id`
		case "updated":
			order = ` ORDER BY p.updated_at DESC, p.id`
		}
		return tx.listRows(ctx, actor, `SELECT `+personColumns+from+order+` LIMIT ? OFFSET ?`, append(args, clampLimit(f.Limit), max(f.Offset, 0)), &out)
	})
	return out, total, err
}

// listRows reads a page of persons, masked for the actor.
func (tx *Tx) listRows(ctx context.Context, actor *casework.Actor, query string, args []any, out *[]*casework.Person) error {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("list persons: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanPerson(rows)
		if err != nil {
			return err
		}
		p := r.Person
		// Decided per row: a user who is a worker in one place and a
		// counsellor in another sees the minimal profile of the
		// counsellor's persons here too, as in GetPerson.
		if !actor.Can(casework.PermSensitive, r.OrgPath) {
			p.IDMasked, p.PhoneMasked = "", ""
		} else if p.Special, err = tx.db.openSpecial(r); err != nil { // R17 flags in lists
			return err
		}
		*out = append(*out, &p)
	}
	return rows.Err()
}

// gramSearch returns the WHERE clause on person_name_grams g for a list
// that is a plain name search of one or two characters (where a gram match
// is the whole test) with no filter that needs the persons row, sorted by
// name; ok is false for any other list. Scope and statuses are the same
// as personScope's.
func (tx *Tx) gramSearch(ctx context.Context, actor *casework.Actor, f PersonFilter) (string, []any, bool) {
	q := strings.TrimSpace(f.Query)
	n := utf8.RuneCountInString(q)
	if n == 0 || n > 2 || f.Kind != "" || f.Tier != "" || f.WorkerID != "" || f.DeadlineDays > 0 || (f.Sort != "" && f.Sort != "name") {
		return "", nil, false
	}
	for _, g := range actor.Grants {
		if g.Role == casework.RoleCounsellor { // the counsellor's scope needs the working group
			return "", nil, false
		}
	}
	if strings.Trim(q, "+0123456789 -xX") == "" { // digits: an ID number or phone search, not a name
		return "", nil, false
	}
	orgCond, orgArgs := scopeClause("path", actor.Scope(casework.PermSensitive))
	if f.OrgID != "" {
		org, err := tx.orgFor(ctx, actor, casework.PermViewOrgs, f.OrgID)
		if err != nil {
			return "", nil, false // personScope reported it already
		}
		orgCond, orgArgs = orgCond+` AND path LIKE ? ESCAPE '\'`, append(orgArgs, likePrefix(org.Path))
	}
	where := []string{`g.gram = ?`}
	args := []any{q}
	statuses := f.Status
	if len(statuses) == 0 && !f.IncludeEnded {
		statuses = routineStatuses
	}
	if len(statuses) > 0 {
		ph := make([]string, len(statuses))
		for i, s := range statuses {
			ph[i], args = "?", append(args, string(s))
		}
		where = append(where, `g.status IN (`+strings.Join(ph, ", ")+`)`)
	}
	where = append(where, `g.org_id IN (SELECT id FROM orgs WHERE `+orgCond+`)`)
	return strings.Join(where, " AND "), append(args, orgArgs...), true
}

// personScope builds the WHERE clauses of a person list.
func (tx *Tx) personScope(ctx context.Context, actor *casework.Actor, f PersonFilter) ([]string, []any, error) {
	var where []string
	var args []any
	full := actor.Scope(casework.PermSensitive) // office, lead, worker, police
	// Scope and place filters select the org ids first (a subquery on the
	// small orgs table) and match p.org_id against them, so the persons are
	// found through persons_org (org_id, status) instead of a scan of every
	// person joined to its org and tested with LIKE (issue 3 benchmark).
	orgCond, orgArgs := scopeClause("path", full)
	var place *casework.Org
	if f.OrgID != "" {
		org, err := tx.orgFor(ctx, actor, casework.PermViewOrgs, f.OrgID)
		if err != nil {
			return nil, nil, err
		}
		place = org
	}
	counsellorScope := false
	for _, g := range actor.Grants {
		counsellorScope = counsellorScope || g.Role == casework.RoleCounsellor
	}
	if place != nil && !counsellorScope {
		// One subquery for scope and place: the place's few org ids drive
		// the search, not every org of the actor's scope.
		orgCond, orgArgs = orgCond+` AND path LIKE ? ESCAPE '\'`, append(orgArgs, likePrefix(place.Path))
		place = nil
	}
	scope, sargs := orgIDsIn(orgCond, orgArgs)
	var counsellor []string
	for _, g := range actor.Grants {
		if g.Role == casework.RoleCounsellor {
			counsellor = append(counsellor, g.OrgPath)
		}
	}
	if len(counsellor) > 0 {
		cs, cargs := orgIDsIn(scopeClause("path", counsellor))
		// A counsellor lists its assigned persons (psych.go) and those whose
		// working group it is in, never every person of its place.
		scope = `(` + scope + ` OR (` + cs + ` AND (EXISTS (SELECT 1 FROM working_group wg JOIN measures m ON m.id = wg.measure_id
			WHERE m.person_id = p.id AND m.in_force = ? AND wg.user_id = ?)
			OR EXISTS (SELECT 1 FROM counsellor_assignments ca WHERE ca.person_id = p.id AND ca.user_id = ? AND ca.ended_at IS NULL))))`
		sargs = append(append(sargs, cargs...), true, actor.UserID, actor.UserID)
	}
	where, args = append(where, scope), append(args, sargs...)
	where = append(where, notSealed) // R38: sealed files leave every list
	statuses := f.Status
	if len(statuses) == 0 && !f.IncludeEnded {
		statuses = routineStatuses
	}
	if len(statuses) > 0 {
		ph := make([]string, len(statuses))
		for i, s := range statuses {
			ph[i] = "?"
			args = append(args, string(s))
		}
		where = append(where, `p.status IN (`+strings.Join(ph, ", ")+`)`)
	}
	if f.Kind != "" {
		where, args = append(where, `p.measure_kind = ?`), append(args, string(f.Kind))
	}
	if place != nil {
		where, args = append(where, `p.org_id IN (SELECT id FROM orgs WHERE path LIKE ? ESCAPE '\')`), append(args, likePrefix(place.Path))
	}
	if f.WorkerID != "" {
		where, args = append(where, `p.worker_id = ?`), append(args, f.WorkerID)
	}
	if f.DeadlineDays > 0 {
		today := f.Today
		if today.IsZero() { // the calendar date now in the default zone (Asia/Shanghai), not UTC
			today = casework.DateOf(tx.now, nil)
		}
		where = append(where, `p.status = ? AND p.report_deadline <= ?`)
		args = append(args, string(casework.StatusPendingReport), today.AddDays(f.DeadlineDays))
	}
	if f.Tier != "" {
		// R31, R32: the tier a lead confirmed, in force today (a decision
		// takes effect the next day); only where the actor may see tiers.
		t := f.Tier
		if t == "none" {
			t = ""
		}
		rc, ra := orgIDsIn(scopeClause("path", actor.Scope(casework.PermRiskView)))
		where = append(where, `COALESCE(`+tierNowSQL+`, '') = ?`, rc)
		args = append(append(args, listToday(tx, f), t), ra...)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		c, a := tx.searchClause(actor, q)
		where, args = append(where, c), append(args, a...)
	}
	return where, args, nil
}

// tierNowSQL is the confirmed tier of p in force on a day (one argument).
const tierNowSQL = `(SELECT ra.tier FROM risk_assessments ra WHERE ra.person_id = p.id AND ra.state IN ('confirmed', 'overridden')
	AND ra.effective_from <= ? ORDER BY ra.effective_from DESC, ra.decided_at DESC LIMIT 1)`

func listToday(tx *Tx, f PersonFilter) casework.Date {
	if f.Today.IsZero() { // the calendar date now in the default zone (Asia/Shanghai), not UTC
		return casework.DateOf(tx.now, nil)
	}
	return f.Today
}

// ValidListTier reports whether a list's tier filter is known.
func ValidListTier(t string) bool { return t == "" || t == "none" || casework.Tier(t).Valid() }

// CountPersonsByTier counts the persons of a list (its filter but the
// tier) by the confirmed tier in force today (R31): keys high, medium,
// low and none. Nil when the actor may see no tier.
func (db *DB) CountPersonsByTier(ctx context.Context, actor *casework.Actor, f PersonFilter) (map[string]int, error) {
	if !actor.CanAnywhere(casework.PermRiskView) {
		return nil, nil
	}
	out := map[string]int{"high": 0, "medium": 0, "low": 0, "none": 0}
	err := db.Read(ctx, func(tx *Tx) error {
		f.Tier = ""
		where, args, err := tx.personScope(ctx, actor, f)
		if err != nil {
			return err
		}
		rc, ra := orgIDsIn(scopeClause("path", actor.Scope(casework.PermRiskView)))
		where, args = append(where, rc), append(args, ra...)
		rows, err := tx.Query(ctx, `SELECT x.t, COUNT(*) FROM (SELECT COALESCE(`+tierNowSQL+`, '') AS t`+personFrom+` WHERE `+
			strings.Join(where, " AND ")+`) x GROUP BY x.t`, append([]any{listToday(tx, f)}, args...)...)
		if err != nil {
			return fmt.Errorf("count persons by tier: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t string
			var n int
			if err := rows.Scan(&t, &n); err != nil {
				return err
			}
			if t == "" {
				t = "none"
			}
			out[t] += n
		}
		return rows.Err()
	})
	return out, err
}

// orgIDsIn turns a condition on orgs.path into one on p.org_id.
func orgIDsIn(cond string, args []any) (string, []any) {
	return `p.org_id IN (SELECT id FROM orgs WHERE ` + cond + `)`, args
}

// searchClause matches a query: an 18-character ID number exactly (blind
// index), a phone number exactly (blind index), else part of the name
// through the unigram/bigram table. An exact ID number or phone finds only
// files where the actor may see sensitive fields (issue 15 §6): searching
// would otherwise confirm a full number the actor may not reveal.
func (tx *Tx) searchClause(actor *casework.Actor, q string) (string, []any) {
	revealable := func(cond string, args []any) (string, []any) {
		sc, sa := orgIDsIn(scopeClause("path", actor.Scope(casework.PermSensitive)))
		return cond + ` AND ` + sc, append(args, sa...)
	}
	if id, err := casework.ParseIDNumber(q, tx.now); err == nil {
		return revealable(`p.id_number_idx = ?`, []any{tx.db.vault.Index("id", id.Number)})
	}
	if digits := casework.NormalizePhone(q); len(digits) >= 7 && strings.Trim(digits, "+0123456789") == "" {
		return revealable(`p.phone_idx = ?`, []any{tx.db.vault.Index("phone", digits)})
	}
	// The rarest gram is not known here; the first bigram (or the single
	// character) narrows through the index and LIKE checks the rest.
	gram := q
	if utf8.RuneCountInString(q) >= 2 {
		r := []rune(q)
		gram = string(r[:2])
	}
	return `p.id IN (SELECT person_id FROM person_name_grams WHERE gram = ?) AND p.name LIKE ? ESCAPE '\'`, []any{gram, likeContains(q)}
}
