package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"kangfu/internal/casework"
)

// Break-glass access (issue 15 "Must add", PRODUCT §1, R36; rules in
// casework/breakglass.go). A grant lets one user read one person file
// outside its subtree, read-only, until it ends or the holding office
// revokes it. personFor consults it for reads only (a write needs
// PersonAccess.Write, which a grant never gives), at read time, so expiry
// needs no job. Every read under a grant is audited with the grant's id
// (bgRead below), whether the read was audited before or not.

// MaxBreakGlassPerDay is how many break-glass requests a user may make in
// 24 hours: the mechanism is for emergencies, not for browsing.
const MaxBreakGlassPerDay = 10

// BreakGlass is one grant as a reader sees it.
type BreakGlass struct {
	ID         string
	UserID     string
	UserName   string // requester's display name ("" in the requester's own list)
	FromOrg    string // the requester's org name
	PersonID   string
	PersonName string // "" in the requester's own list: it confirms nothing
	HolderOrg  string
	Reason     string
	Hours      int
	StartsAt   time.Time
	EndsAt     time.Time
	RevokedAt  time.Time
	RevokedBy  string
	RevokeNote string
	Verdict    string // "", justified, unjustified
	ReviewedAt time.Time
	ReviewedBy string
	ReviewNote string
	State      string // active, expired, revoked (casework.BreakGlassState)
}

// errBreakGlassRole refuses a user whose roles the policy does not allow.
var errBreakGlassRole = casework.Errorf(casework.EFORBIDDEN, "您的角色不能申请紧急查阅", "your role may not use emergency access")

// breakGlassOrigin finds the grant of the actor under which it may break
// glass (the first, by org path, whose role the policy at its org allows)
// and the limits of that policy.
func (tx *Tx) breakGlassOrigin(ctx context.Context, actor *casework.Actor) (*casework.Org, casework.BreakGlassLimits, error) {
	var lim casework.BreakGlassLimits
	if actor == nil || actor.System || actor.UserID == "" {
		return nil, lim, errBreakGlassRole
	}
	grants := slices.Clone(actor.Grants)
	slices.SortFunc(grants, func(a, b casework.Grant) int {
		switch {
		case a.OrgPath < b.OrgPath:
			return -1
		case a.OrgPath > b.OrgPath:
			return 1
		}
		return 0
	})
	for _, g := range grants {
		if !slices.Contains(casework.BreakGlassRoles(casework.BreakGlassAllReaders), g.Role) {
			continue
		}
		org, err := tx.orgByID(ctx, g.OrgID)
		if err != nil {
			return nil, lim, err
		}
		pol, err := tx.resolvePolicy(ctx, org, tx.today(org))
		if err != nil {
			return nil, lim, err
		}
		roles, _ := pol.Get("breakglass.roles")
		if !slices.Contains(casework.BreakGlassRoles(roles.Value.String()), g.Role) {
			continue
		}
		def, _ := pol.Get("breakglass.hours")
		mx, _ := pol.Get("breakglass.max_hours")
		lim.DefaultHours, lim.MaxHours = def.Value.Int(), mx.Value.Int()
		return org, lim, nil
	}
	return nil, lim, errBreakGlassRole
}

// BreakGlassLimits returns the limits the policy sets for the actor's
// requests; EFORBIDDEN when its roles may not break glass.
func (db *DB) BreakGlassLimits(ctx context.Context, actor *casework.Actor) (casework.BreakGlassLimits, error) {
	var lim casework.BreakGlassLimits
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		_, lim, err = tx.breakGlassOrigin(ctx, actor)
		return err
	})
	return lim, err
}

// RequestBreakGlass grants the actor read access to the file in.PersonID
// (or the file of in.IDNumber; a sealed file is none, R38) at once, for the hours asked (the policy's default when none). The
// answer is the same grant whether or not the id names a file, so it
// confirms nothing: a request naming no file is stored and audited alike
// and opens nothing. A file the actor already reads is refused as such
// (it confirms what the actor may see anyway). The holding office is told.
func (db *DB) RequestBreakGlass(ctx context.Context, actor *casework.Actor, in casework.BreakGlassInput) (*BreakGlass, error) {
	var out *BreakGlass
	err := db.Write(ctx, func(tx *Tx) error {
		from, lim, err := tx.breakGlassOrigin(ctx, actor)
		if err != nil {
			return err
		}
		hours, err := in.Validate(lim)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM break_glass WHERE user_id = ? AND starts_at > ?`,
			actor.UserID, tx.now.Add(-24*time.Hour)).Scan(&n); err != nil {
			return err
		}
		if n >= MaxBreakGlassPerDay {
			return casework.Errorf(casework.ERATELIMIT, "24小时内紧急查阅申请过多，请联系档案所在机构",
				"too many emergency access requests in 24 hours: contact the office that holds the file")
		}
		// The file asked for: by its id, or by an ID number. A sealed file
		// (R38) is no file here. A miss goes the same way as a hit: an ID
		// number that names no file gets a fresh id that names nothing, so
		// the stored row, the requester's audit row and the answer have the
		// same shape (issue 15 §3: the answer must not confirm a file).
		var holder sql.NullString
		var personName string
		personID := in.PersonID
		if in.IDNumber != "" {
			id, err := casework.ParseIDNumber(in.IDNumber, tx.now)
			if err != nil {
				return casework.Invalid("person_id", "身份证号格式不正确", "the ID number is not valid")
			}
			err = tx.QueryRow(ctx, `SELECT p.id FROM persons p WHERE p.id_number_idx = ? AND `+notSealed, tx.db.vault.Index("id", id.Number)).Scan(&personID)
			if errors.Is(err, sql.ErrNoRows) {
				personID = NewID()
			} else if err != nil {
				return err
			}
		}
		r, err := scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+personFrom+` WHERE p.id = ? AND `+notSealed, personID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			f, err := tx.personFacts(ctx, r)
			if err != nil {
				return err
			}
			if acc := casework.PersonAccessFor(actor, f); acc.Read && acc.Until.IsZero() {
				return casework.Errorf(casework.ECONFLICT, "您已可以查阅该档案，无须紧急查阅", "you can already open this file: no emergency access is needed")
			}
			holder = sql.NullString{String: r.OrgID, Valid: true}
			personName = r.Name
		}
		g := &BreakGlass{ID: NewID(), UserID: actor.UserID, FromOrg: from.Name, PersonID: personID, Reason: in.Reason, Hours: hours,
			StartsAt: tx.now, EndsAt: tx.now.Add(time.Duration(hours) * time.Hour), State: "active"}
		if _, err := tx.Exec(ctx, `INSERT INTO break_glass (id, user_id, from_org_id, person_id, holder_org_id, reason, hours, starts_at, ends_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, g.ID, g.UserID, from.ID, g.PersonID, holder, g.Reason, hours, g.StartsAt, g.EndsAt); err != nil {
			return err
		}
		// The requester's side: the same row whether or not a file exists.
		detail := map[string]any{"person": g.PersonID, "hours": hours}
		if in.IDNumber != "" {
			detail["id_number"] = casework.MaskID(in.IDNumber) // masked like every ID number at rest in the log
		}
		if err := tx.Audit(ctx, actor, AuditEntry{Action: "breakglass.request", TargetType: "break_glass", TargetID: g.ID, OrgID: from.ID,
			Reason: g.Reason, Detail: detail}); err != nil {
			return err
		}
		if holder.Valid {
			// The holder's side, visible to its auditors and offices.
			if err := tx.Audit(ctx, actor, AuditEntry{Action: "breakglass.request", TargetType: "person", TargetID: g.PersonID, OrgID: holder.String,
				Reason: g.Reason, Detail: map[string]any{"break_glass": g.ID, "from": from.Name, "hours": hours}}); err != nil {
				return err
			}
			if _, err := tx.NotifyStaff(ctx, StaffNotice{PersonID: g.PersonID, Perm: casework.PermReviewBreakGlass, Kind: "breakglass.request",
				TitleZH: fmt.Sprintf("%s 的 %s 紧急查阅了 %s 的档案（%d小时），请事后审查", from.Name, actor.Username, personName, hours),
				TitleEN: fmt.Sprintf("%s at %s used emergency access to %s's file (%d hours): review it", actor.Username, from.Name, personName, hours),
				Link:    "/break-glass/reviews"}); err != nil {
				return err
			}
		}
		if in.IDNumber != "" {
			// Asked by ID number: the answer does not carry the file id
			// (the requester's list does, hit or miss alike).
			g.PersonID = ""
		}
		out = g
		return nil
	})
	return out, err
}

// activeBreakGlass returns the id of the actor's grant in force on the
// person now, or "".
func (tx *Tx) activeBreakGlass(ctx context.Context, actor *casework.Actor, personID string) (string, error) {
	if actor == nil || actor.System || actor.UserID == "" {
		return "", nil
	}
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM break_glass WHERE person_id = ? AND user_id = ? AND revoked_at IS NULL AND starts_at <= ? AND ends_at > ?
		ORDER BY ends_at DESC LIMIT 1`, personID, actor.UserID, tx.now, tx.now).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// bgRead is a read of a file under a break-glass grant, audited when its
// transaction ends (breakglass audit in Write and Read, db.go).
type bgRead struct {
	actor            *casework.Actor
	grant, person    string
	org              string
	audited, flushed bool
}

// noteBreakGlassRead records a read under a grant in the transaction.
func (tx *Tx) noteBreakGlassRead(actor *casework.Actor, r *personRow) {
	for _, b := range tx.bg {
		if b.grant == r.Access.BreakGlass && b.person == r.ID {
			return
		}
	}
	tx.bg = append(tx.bg, &bgRead{actor: actor, grant: r.Access.BreakGlass, person: r.ID, org: r.OrgID})
}

// breakGlassDetail adds the grant to an audit row written in a
// transaction that read a file under one, and marks the read audited.
// Within a request scope (WithBreakGlassScope) only the first row of the
// request names the grant: a page that reads the file in several
// transactions leaves one row naming it, not one per transaction.
func (tx *Tx) breakGlassDetail(ctx context.Context, e *AuditEntry) {
	if len(tx.bg) == 0 {
		return
	}
	b := tx.bg[0]
	for _, x := range tx.bg {
		if e.TargetType == "person" && x.person == e.TargetID {
			b = x
		}
	}
	if b.audited || breakGlassScopeFrom(ctx).has(b) {
		b.audited = true
		return
	}
	if e.Detail == nil {
		e.Detail = map[string]any{}
	} else {
		e.Detail = maps.Clone(e.Detail)
	}
	e.Detail["break_glass"] = b.grant
	if e.TargetID != b.person {
		e.Detail["person"] = b.person
	}
	b.audited = true
}

// auditBreakGlassReads writes a person.read row, with the grant, for each
// read under a grant that no other row of the transaction (or, within a
// request scope, of the request) recorded.
func (tx *Tx) auditBreakGlassReads(ctx context.Context, reads []*bgRead) error {
	scope := breakGlassScopeFrom(ctx)
	for _, b := range reads {
		if b.audited || b.flushed || scope.has(b) {
			continue
		}
		b.flushed = true
		if err := tx.Audit(ctx, b.actor, AuditEntry{Action: "person.read", TargetType: "person", TargetID: b.person, OrgID: b.org,
			Detail: map[string]any{"break_glass": b.grant}}); err != nil {
			return err
		}
	}
	return nil
}

// breakGlassScope remembers, for one request, the reads under a grant
// already audited by a committed row (R36: every read of a file audited;
// issue 15: one row per page load, naming the grant).
type breakGlassScope struct {
	mu   sync.Mutex
	done map[[2]string]bool // grant, person
}

type breakGlassScopeKey struct{}

// WithBreakGlassScope returns a context for one request (a console page or
// an API call): reads of a file under a break-glass grant in it are audited
// by exactly one row naming the grant, written with the first read, before
// the file is shown.
func WithBreakGlassScope(ctx context.Context) context.Context {
	return context.WithValue(ctx, breakGlassScopeKey{}, &breakGlassScope{done: map[[2]string]bool{}})
}

func breakGlassScopeFrom(ctx context.Context) *breakGlassScope {
	s, _ := ctx.Value(breakGlassScopeKey{}).(*breakGlassScope)
	return s
}

func (s *breakGlassScope) has(b *bgRead) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done[[2]string{b.grant, b.person}]
}

// committed records the reads of a committed transaction whose rows named
// the grant.
func (s *breakGlassScope) committed(reads []*bgRead) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range reads {
		if b.audited || b.flushed {
			s.done[[2]string{b.grant, b.person}] = true
		}
	}
}

const breakGlassColumns = `g.id, g.user_id, COALESCE(u.display_name, u.username), fo.name, g.person_id, COALESCE(p.name, ''), COALESCE(ho.name, ''),
	g.reason, g.hours, g.starts_at, g.ends_at, g.revoked_at, COALESCE(ru.display_name, ''), g.revoke_note, g.verdict, g.reviewed_at,
	COALESCE(vu.display_name, ''), g.review_note`

const breakGlassFrom = ` FROM break_glass g JOIN users u ON u.id = g.user_id JOIN orgs fo ON fo.id = g.from_org_id
	LEFT JOIN persons p ON p.id = g.person_id LEFT JOIN orgs po ON po.id = p.org_id LEFT JOIN orgs ho ON ho.id = g.holder_org_id
	LEFT JOIN users ru ON ru.id = g.revoked_by LEFT JOIN users vu ON vu.id = g.reviewed_by`

func (tx *Tx) scanBreakGlass(rows *sql.Rows) ([]*BreakGlass, error) {
	defer rows.Close()
	var out []*BreakGlass
	for rows.Next() {
		var g BreakGlass
		var revoked, reviewed sql.NullTime
		if err := rows.Scan(&g.ID, &g.UserID, &g.UserName, &g.FromOrg, &g.PersonID, &g.PersonName, &g.HolderOrg,
			&g.Reason, &g.Hours, &g.StartsAt, &g.EndsAt, &revoked, &g.RevokedBy, &g.RevokeNote, &g.Verdict, &reviewed,
			&g.ReviewedBy, &g.ReviewNote); err != nil {
			return nil, err
		}
		g.StartsAt, g.EndsAt = g.StartsAt.UTC(), g.EndsAt.UTC()
		if revoked.Valid {
			g.RevokedAt = revoked.Time.UTC()
		}
		if reviewed.Valid {
			g.ReviewedAt = reviewed.Time.UTC()
		}
		g.State = casework.BreakGlassState(g.EndsAt, revoked.Valid, tx.now)
		out = append(out, &g)
	}
	return out, rows.Err()
}

// ListMyBreakGlass returns the actor's own requests, newest first: the id
// asked for, the reason and the times, but no name or place, which a
// request naming no file could not show.
func (db *DB) ListMyBreakGlass(ctx context.Context, actor *casework.Actor) ([]*BreakGlass, error) {
	var out []*BreakGlass
	err := db.Read(ctx, func(tx *Tx) error {
		if actor == nil || actor.UserID == "" {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT `+breakGlassColumns+breakGlassFrom+` WHERE g.user_id = ? ORDER BY g.starts_at DESC LIMIT 100`, actor.UserID)
		if err != nil {
			return err
		}
		if out, err = tx.scanBreakGlass(rows); err != nil {
			return err
		}
		for _, g := range out {
			g.PersonName, g.HolderOrg, g.RevokedBy, g.ReviewedBy = "", "", "", ""
		}
		return nil
	})
	return out, err
}

// ListPersonBreakGlass returns the grants on a person for the person
// page: all of them to a reader of the file in its own right (the
// person's own office and street), and only the reader's own to one who
// reads it under a grant.
func (db *DB) ListPersonBreakGlass(ctx context.Context, actor *casework.Actor, personID string) ([]*BreakGlass, error) {
	var out []*BreakGlass
	err := db.Read(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, nil)
		if err != nil {
			return err
		}
		q := `SELECT ` + breakGlassColumns + breakGlassFrom + ` WHERE g.person_id = ?`
		args := []any{personID}
		if r.Access.BreakGlass != "" || !r.Access.Until.IsZero() {
			q += ` AND g.user_id = ?`
			args = append(args, actor.UserID)
		}
		rows, err := tx.Query(ctx, q+` ORDER BY g.starts_at DESC LIMIT 100`, args...)
		if err != nil {
			return err
		}
		out, err = tx.scanBreakGlass(rows)
		return err
	})
	return out, err
}

// BreakGlassFilter selects grants for the review list.
type BreakGlassFilter struct {
	Pending bool // only those not reviewed yet
}

// ListBreakGlassReviews returns the grants on files of the actor's
// subtree (where the file is now) for the office to review, oldest
// unreviewed first.
func (db *DB) ListBreakGlassReviews(ctx context.Context, actor *casework.Actor, f BreakGlassFilter) ([]*BreakGlass, error) {
	var out []*BreakGlass
	err := db.Read(ctx, func(tx *Tx) error {
		scope, args := scopeClause("po.path", actor.Scope(casework.PermReviewBreakGlass))
		q := `SELECT ` + breakGlassColumns + breakGlassFrom + ` WHERE p.id IS NOT NULL AND ` + notSealed + ` AND ` + scope
		if f.Pending {
			q += ` AND g.verdict = ''`
		}
		rows, err := tx.Query(ctx, q+` ORDER BY CASE WHEN g.verdict = '' THEN 0 ELSE 1 END, g.starts_at DESC LIMIT 500`, args...)
		if err != nil {
			return err
		}
		out, err = tx.scanBreakGlass(rows)
		return err
	})
	return out, err
}

// breakGlassFor loads a grant on a file the actor may review (the file is
// in its subtree for PermReviewBreakGlass); any other is not found.
func (tx *Tx) breakGlassFor(ctx context.Context, actor *casework.Actor, id string) (*BreakGlass, string, error) {
	scope, args := scopeClause("po.path", actor.Scope(casework.PermReviewBreakGlass))
	rows, err := tx.Query(ctx, `SELECT `+breakGlassColumns+`, p.org_id`+breakGlassFrom+` WHERE g.id = ? AND p.id IS NOT NULL AND `+scope,
		append([]any{id}, args...)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, "", err
		}
		return nil, "", casework.NotFound("紧急查阅记录", "emergency access")
	}
	var g BreakGlass
	var revoked, reviewed sql.NullTime
	var orgID string
	if err := rows.Scan(&g.ID, &g.UserID, &g.UserName, &g.FromOrg, &g.PersonID, &g.PersonName, &g.HolderOrg,
		&g.Reason, &g.Hours, &g.StartsAt, &g.EndsAt, &revoked, &g.RevokedBy, &g.RevokeNote, &g.Verdict, &reviewed,
		&g.ReviewedBy, &g.ReviewNote, &orgID); err != nil {
		return nil, "", err
	}
	g.State = casework.BreakGlassState(g.EndsAt.UTC(), revoked.Valid, tx.now)
	return &g, orgID, rows.Err()
}

// ReviewBreakGlass records the holding office's verdict on a grant (at any
// time; once). Audited.
func (db *DB) ReviewBreakGlass(ctx context.Context, actor *casework.Actor, id string, in casework.BreakGlassReviewInput) error {
	return db.Write(ctx, func(tx *Tx) error {
		g, orgID, err := tx.breakGlassFor(ctx, actor, id)
		if err != nil {
			return err
		}
		if err := in.Validate(); err != nil {
			return err
		}
		if g.Verdict != "" {
			return casework.Errorf(casework.ECONFLICT, "该紧急查阅已审查过", "this emergency access has already been reviewed")
		}
		if g.UserID == actor.UserID {
			return casework.Errorf(casework.EFORBIDDEN, "不能审查自己的紧急查阅", "you may not review your own emergency access")
		}
		if _, err := tx.Exec(ctx, `UPDATE break_glass SET verdict = ?, reviewed_at = ?, reviewed_by = ?, review_note = ? WHERE id = ?`,
			in.Verdict, tx.now, actor.UserID, in.Note, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "breakglass.review", TargetType: "person", TargetID: g.PersonID, OrgID: orgID,
			Reason: in.Note, Detail: map[string]any{"break_glass": id, "verdict": in.Verdict}})
	})
}

// RevokeBreakGlass ends a grant in force now; the holding office does it,
// with an optional note. Audited.
func (db *DB) RevokeBreakGlass(ctx context.Context, actor *casework.Actor, id, note string) error {
	return db.Write(ctx, func(tx *Tx) error {
		g, orgID, err := tx.breakGlassFor(ctx, actor, id)
		if err != nil {
			return err
		}
		note, err := casework.CleanText("note", note, casework.MaxReason)
		if err != nil {
			return err
		}
		if g.State != "active" {
			return casework.Errorf(casework.ECONFLICT, "该紧急查阅已结束", "this emergency access has already ended")
		}
		if _, err := tx.Exec(ctx, `UPDATE break_glass SET revoked_at = ?, revoked_by = ?, revoke_note = ? WHERE id = ?`,
			tx.now, actor.UserID, note, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "breakglass.revoke", TargetType: "person", TargetID: g.PersonID, OrgID: orgID,
			Reason: note, Detail: map[string]any{"break_glass": id}})
	})
}

// breakGlassReviewTasks puts each unreviewed grant whose time is over in
// the inbox of who reviews it (inbox.go).
func breakGlassReviewTasks(ctx context.Context, tx *Tx, actor *casework.Actor, _ casework.Date) ([]Task, error) {
	if !actor.CanAnywhere(casework.PermReviewBreakGlass) {
		return nil, nil
	}
	scope, args := scopeClause("o.path", actor.Scope(casework.PermReviewBreakGlass))
	rows, err := tx.Query(ctx, `SELECT p.id, p.name, o.name, o.time_zone, g.ends_at, g.revoked_at, fo.name FROM break_glass g
		JOIN persons p ON p.id = g.person_id JOIN orgs o ON o.id = p.org_id JOIN orgs fo ON fo.id = g.from_org_id
		WHERE g.verdict = '' AND `+scope+` ORDER BY g.ends_at LIMIT `+fmt.Sprint(InboxLimit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		t := Task{Kind: "breakglass_review", Rule: "R36", Link: "/break-glass/reviews"}
		var tz, from string
		var ends time.Time
		var revoked sql.NullTime
		if err := rows.Scan(&t.PersonID, &t.PersonName, &t.OrgName, &tz, &ends, &revoked, &from); err != nil {
			return nil, err
		}
		if revoked.Valid {
			ends = revoked.Time
		}
		if ends.After(tx.now) {
			continue // reviewed afterwards: not while it runs
		}
		t.Due = casework.DateOf(ends, casework.LoadLocation(tz))
		t.Overdue = t.Due.Before(tx.zoneToday(tz))
		t.TitleZH = fmt.Sprintf("%s 的档案被 %s 紧急查阅，待审查", t.PersonName, from)
		t.TitleEN = fmt.Sprintf("%s: emergency access from %s to review", t.PersonName, from)
		out = append(out, t)
	}
	return out, rows.Err()
}
