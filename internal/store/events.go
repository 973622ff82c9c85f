package store

import (
	"context"
	"fmt"
	"time"

	"kangfu/internal/casework"
)

// Prevention and education events (宣传教育, issue 11 §5). They are not
// about a person: each belongs to its organiser org and is seen by those
// holding casework.PermViewEvents over that org (its subtree's users and
// those above it).

// Event is one stored event.
type Event struct {
	ID            string
	OrgID         string
	OrgName       string
	HeldOn        casework.Date
	Place         string
	Topic         string
	Kind          casework.EventKind
	Audience      int
	Materials     int
	Note          string
	Photos        []EventPhoto
	CreatedBy     string
	CreatedByName string
	CreatedAt     time.Time
}

// EventPhoto is a photo of an event in the blob store.
type EventPhoto struct {
	ID     string
	SHA256 string
	MIME   string
	Size   int64
}

// EventFilter selects events: the organiser's subtree ("" for the actor's
// whole scope), the period [From, To] (both days included; zero: open) and
// the kind.
type EventFilter struct {
	OrgID string
	From  casework.Date
	To    casework.Date
	Kind  casework.EventKind
}

// AddEvent records an event held by an org the actor may record for.
func (db *DB) AddEvent(ctx context.Context, actor *casework.Actor, in casework.EventInput) (*Event, error) {
	var id string
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		id, _, err = tx.addEvent(ctx, actor, in, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.GetEvent(ctx, actor, id)
}

// addEvent checks and inserts one event; with an import key an event of
// that key already there is left as it is (created reports which).
func (tx *Tx) addEvent(ctx context.Context, actor *casework.Actor, in casework.EventInput, importKey string) (id string, created bool, err error) {
	org, err := tx.orgByID(ctx, in.OrgID)
	if err != nil || !actor.Can(casework.PermViewEvents, org.Path) {
		return "", false, casework.Invalid("org_id", "找不到主办单位", "organiser not found")
	}
	if !actor.Can(casework.PermWriteEvents, org.Path) {
		return "", false, casework.Errorf(casework.EFORBIDDEN, "您不能为该单位登记宣传活动", "you may not record events for this org")
	}
	if err := in.Validate(tx.today(org)); err != nil {
		return "", false, err
	}
	if importKey != "" {
		err := tx.QueryRow(ctx, `SELECT id FROM prevention_events WHERE import_key = ?`, importKey).Scan(&id)
		if err == nil {
			return id, false, nil
		}
		if err = notFound(err, "", ""); !casework.IsCode(err, casework.ENOTFOUND) {
			return "", false, err
		}
	}
	id = NewID()
	var key any
	if importKey != "" {
		key = importKey
	}
	if _, err := tx.Exec(ctx, `INSERT INTO prevention_events (id, org_id, held_on, place, topic, kind, audience, materials, note, import_key,
		created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, org.ID, in.HeldOn, in.Place, in.Topic, string(in.Kind), in.Audience, in.Materials, in.Note, key, actorID(actor), tx.now, tx.now); err != nil {
		return "", false, fmt.Errorf("insert event: %w", err)
	}
	return id, true, tx.Audit(ctx, actor, AuditEntry{Action: "event.record", TargetType: "event", TargetID: id, OrgID: org.ID,
		Detail: map[string]any{"held_on": in.HeldOn.String(), "kind": string(in.Kind), "audience": in.Audience, "imported": importKey != ""}})
}

// GetEvent returns one event with its photos; outside the actor's scope it
// is not found.
func (db *DB) GetEvent(ctx context.Context, actor *casework.Actor, id string) (*Event, error) {
	var e *Event
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		e, err = tx.eventFor(ctx, actor, id, casework.PermViewEvents)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, sha256, mime, size FROM event_photos WHERE event_id = ? ORDER BY created_at, id`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p EventPhoto
			if err := rows.Scan(&p.ID, &p.SHA256, &p.MIME, &p.Size); err != nil {
				return err
			}
			e.Photos = append(e.Photos, p)
		}
		return rows.Err()
	})
	return e, err
}

func (tx *Tx) eventFor(ctx context.Context, actor *casework.Actor, id string, perm casework.Perm) (*Event, error) {
	where, args := scopeClause("o.path", actor.Scope(casework.PermViewEvents))
	list, err := tx.events(ctx, `e.id = ? AND `+where, append([]any{id}, args...), 1)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, casework.NotFound("宣传活动", "event")
	}
	var path string
	if err := tx.QueryRow(ctx, `SELECT path FROM orgs WHERE id = ?`, list[0].OrgID).Scan(&path); err != nil {
		return nil, err
	}
	if !actor.Can(perm, path) {
		return nil, casework.Errorf(casework.EFORBIDDEN, "您不能修改该单位的宣传活动", "you may not change this org's events")
	}
	return &list[0], nil
}

// AddEventPhoto attaches a photo already in the blob store to an event.
func (db *DB) AddEventPhoto(ctx context.Context, actor *casework.Actor, eventID string, p EventPhoto) (*EventPhoto, error) {
	p.ID = NewID()
	err := db.Write(ctx, func(tx *Tx) error {
		e, err := tx.eventFor(ctx, actor, eventID, casework.PermWriteEvents)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO event_photos (id, event_id, sha256, mime, size, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.ID, eventID, p.SHA256, p.MIME, p.Size, actorID(actor), tx.now); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "event.photo", TargetType: "event", TargetID: eventID, OrgID: e.OrgID,
			Detail: map[string]any{"photo_id": p.ID, "size": p.Size}})
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// EventPhotoByID returns a photo of an event the actor may see.
func (db *DB) EventPhotoByID(ctx context.Context, actor *casework.Actor, photoID string) (*EventPhoto, error) {
	var p EventPhoto
	err := db.Read(ctx, func(tx *Tx) error {
		var eventID string
		if err := tx.QueryRow(ctx, `SELECT event_id, id, sha256, mime, size FROM event_photos WHERE id = ?`, photoID).Scan(&eventID, &p.ID, &p.SHA256, &p.MIME, &p.Size); err != nil {
			return notFound(err, "照片", "photo")
		}
		_, err := tx.eventFor(ctx, actor, eventID, casework.PermViewEvents)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// eventWhere turns a filter into a WHERE clause over e (events) and o (the
// organiser's org), scoped by the actor.
func (tx *Tx) eventWhere(ctx context.Context, actor *casework.Actor, f EventFilter) (string, []any, error) {
	if f.Kind != "" && !f.Kind.Valid() {
		return "", nil, casework.Invalid("kind", "未知的活动形式", "unknown kind of event")
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return "", nil, casework.Invalid("to", "结束日期不能早于开始日期", "the end of the period cannot be before its start")
	}
	where, args := scopeClause("o.path", actor.Scope(casework.PermViewEvents))
	if f.OrgID != "" {
		o, err := tx.orgByID(ctx, f.OrgID)
		if err != nil || !actor.Can(casework.PermViewEvents, o.Path) {
			return "", nil, casework.NotFound("机构", "organisation")
		}
		where, args = where+` AND o.path LIKE ? ESCAPE '\'`, append(args, likePrefix(o.Path))
	}
	if !f.From.IsZero() {
		where, args = where+` AND e.held_on >= ?`, append(args, f.From)
	}
	if !f.To.IsZero() {
		where, args = where+` AND e.held_on <= ?`, append(args, f.To)
	}
	if f.Kind != "" {
		where, args = where+` AND e.kind = ?`, append(args, string(f.Kind))
	}
	return where, args, nil
}

// EventListMax bounds a list of events (the export takes the same list).
const EventListMax = 5000

// ListEvents lists the events the actor sees, newest first.
func (db *DB) ListEvents(ctx context.Context, actor *casework.Actor, f EventFilter) ([]Event, error) {
	var out []Event
	err := db.Read(ctx, func(tx *Tx) error {
		where, args, err := tx.eventWhere(ctx, actor, f)
		if err != nil {
			return err
		}
		out, err = tx.events(ctx, where, args, EventListMax)
		return err
	})
	return out, err
}

// EventCounts are the totals of events in a filter: how many were held,
// how many people they reached (人次) and materials handed out, per kind.
type EventCounts struct {
	Events, Audience, Materials int
	ByKind                      map[casework.EventKind]int
}

// CountEvents counts the events in the filter (the annual summary's 场次 and
// 人次, CARE.md §5.2).
func (db *DB) CountEvents(ctx context.Context, actor *casework.Actor, f EventFilter) (*EventCounts, error) {
	c := &EventCounts{ByKind: map[casework.EventKind]int{}}
	err := db.Read(ctx, func(tx *Tx) error {
		where, args, err := tx.eventWhere(ctx, actor, f)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT e.kind, COUNT(*), COALESCE(SUM(e.audience), 0), COALESCE(SUM(e.materials), 0)
			FROM prevention_events e JOIN orgs o ON o.id = e.org_id WHERE `+where+` GROUP BY e.kind`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var kind string
			var n, aud, mat int
			if err := rows.Scan(&kind, &n, &aud, &mat); err != nil {
				return err
			}
			c.ByKind[casework.EventKind(kind)] = n
			c.Events, c.Audience, c.Materials = c.Events+n, c.Audience+aud, c.Materials+mat
		}
		return rows.Err()
	})
	return c, err
}

func (tx *Tx) events(ctx context.Context, where string, args []any, limit int) ([]Event, error) {
	rows, err := tx.Query(ctx, `SELECT e.id, e.org_id, o.name, e.held_on, e.place, e.topic, e.kind, e.audience, e.materials, e.note, e.created_by,
		COALESCE(u.display_name, ''), e.created_at FROM prevention_events e JOIN orgs o ON o.id = e.org_id LEFT JOIN users u ON u.id = e.created_by
		WHERE `+where+` ORDER BY e.held_on DESC, e.id DESC LIMIT `+fmt.Sprint(limit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var kind string
		if err := rows.Scan(&e.ID, &e.OrgID, &e.OrgName, &e.HeldOn, &e.Place, &e.Topic, &kind, &e.Audience, &e.Materials, &e.Note, &e.CreatedBy,
			&e.CreatedByName, &e.CreatedAt); err != nil {
			return nil, err
		}
		e.Kind = casework.EventKind(kind)
		e.CreatedAt = e.CreatedAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
