package store

// visits.go: visits and contacts (issue 11 §1, R27). A worker records them
// for the files it writes (its caseload; a lead for its street); police
// read them; a counsellor's minimal profile does not include them. Each
// record is sealed where it is sensitive, put on the timeline without its
// content, audited, and edited only by its author or a lead with the
// replaced version kept (revisions.go).

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"kangfu/internal/casework"
)

// Visit is one stored visit, contact attempt or planned visit.
type Visit struct {
	ID            string
	PersonID      string
	PersonName    string
	OrgID         string
	OrgName       string
	Kind          casework.VisitKind
	State         casework.VisitState
	At            time.Time
	LocalDate     casework.Date
	FaceToFace    bool
	Participants  []casework.Participant
	Condition     string
	ConditionNote string        // sealed
	Notes         string        // sealed
	Location      *casework.Geo // sealed; accuracy in the clear
	Address       string
	DistanceM     *float64 // from the geocoded residence, when both are known
	FollowUps     []casework.FollowUp
	Photos        []VisitPhoto
	Source        string
	CreatedBy     string
	CreatedByName string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Rev           int
	CanEdit       bool // the reader may edit it (author or lead/office)
}

// VisitPhoto is a photo taken at a visit; content in the blob store.
type VisitPhoto struct {
	Seq    int
	SHA256 string
	MIME   string
	Size   int64
}

// visitBody is the sealed part of a visit.
type visitBody struct {
	Notes         string  `json:"notes,omitempty"`
	ConditionNote string  `json:"condition_note,omitempty"`
	Lat           float64 `json:"lat,omitempty"`
	Lng           float64 `json:"lng,omitempty"`
}

func sealVisitCtx(id string) string     { return "visit.body:" + id }
func sealResidenceCtx(id string) string { return "residence.loc:" + id }

// MaxVisitPhotos is the most photos one visit keeps.
const MaxVisitPhotos = 6

// canReadVisits: visits are part of the file's sensitive content; police,
// workers, leads and offices read them, a counsellor's minimal profile
// does not (issue 11 §7).
func canReadVisits(a casework.PersonAccess) bool { return a.Sensitive }

// canRecordVisit: workers for their caseload and leads for their street —
// those who write the file — at the current place only.
func canRecordVisit(a casework.PersonAccess) bool { return a.Write && a.Until.IsZero() && !a.Incoming }

// CanRecordVisit reports, as an error, whether the actor may record a visit
// for the person: ENOTFOUND outside its scope, EFORBIDDEN when it reads the
// file but may not record.
func (db *DB) CanRecordVisit(ctx context.Context, actor *casework.Actor, personID string) error {
	return db.Read(ctx, func(tx *Tx) error {
		_, err := tx.personForVisit(ctx, actor, personID)
		return err
	})
}

func (tx *Tx) personForVisit(ctx context.Context, actor *casework.Actor, personID string) (*personRow, error) {
	r, err := tx.personFor(ctx, actor, personID, nil)
	if err != nil {
		return nil, err
	}
	if !canRecordVisit(r.Access) {
		return nil, casework.Errorf(casework.EFORBIDDEN, "您没有权限为该人员登记走访", "you may not record a visit for this person")
	}
	return r, nil
}

// checkVisitID accepts a client id: a UUID (the phone makes a v7).
func checkVisitID(id string) error {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return casework.Invalid("id", "记录编号无效", "id must be a UUID")
	}
	return nil
}

// RecordVisit stores a visit (or an attempt, or a planned visit) for the
// person, with photos whose content is already in the blob store. in.ID,
// made by the phone, makes it idempotent: the same id sent again for the
// same person returns the stored visit and created false (a queued form
// sent twice is stored once); the same id for another person is ECONFLICT.
func (db *DB) RecordVisit(ctx context.Context, actor *casework.Actor, personID string, in casework.VisitInput, photos []VisitPhoto) (*Visit, bool, error) {
	if in.ID == "" {
		in.ID = NewID()
	}
	if err := checkVisitID(in.ID); err != nil {
		return nil, false, err
	}
	if len(photos) > MaxVisitPhotos {
		return nil, false, casework.Invalid("photos", "每次走访最多%d张照片", "at most %d photos per visit", MaxVisitPhotos)
	}
	created := false
	err := db.Write(ctx, func(tx *Tx) error {
		var other string
		err := tx.QueryRow(ctx, `SELECT person_id FROM visits WHERE id = ?`, in.ID).Scan(&other)
		switch {
		case err == nil && other == personID:
			_, err = tx.personFor(ctx, actor, personID, canReadVisits)
			return err // already stored: the same form sent again
		case err == nil:
			return casework.Errorf(casework.ECONFLICT, "该记录编号已被使用", "the id is already used by another record")
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		r, err := tx.personForVisit(ctx, actor, personID)
		if err != nil {
			return err
		}
		if err := tx.insertVisit(ctx, actor, r, &in, photos, "form", nil); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	v, err := db.GetVisit(ctx, actor, in.ID)
	return v, created, err
}

// insertVisit validates and writes one visit of the person r, its
// follow-ups and photos, the timeline entry and the audit row.
func (tx *Tx) insertVisit(ctx context.Context, actor *casework.Actor, r *personRow, in *casework.VisitInput, photos []VisitPhoto, source string, importKey any) error {
	org, err := tx.orgByID(ctx, r.OrgID)
	if err != nil {
		return err
	}
	if err := in.Validate(tx.now); err != nil {
		return err
	}
	body := visitBody{Notes: in.Notes, ConditionNote: in.ConditionNote}
	var acc, dist any
	if in.Location != nil {
		body.Lat, body.Lng, acc = in.Location.Lat, in.Location.Lng, in.Location.AccuracyM
		if home, err := tx.residenceGeo(ctx, r.ID); err != nil {
			return err
		} else if home != nil {
			dist = float64(int(casework.DistanceM(home.Lat, home.Lng, in.Location.Lat, in.Location.Lng)))
		}
	}
	sealed, err := tx.sealVisit(in.ID, body)
	if err != nil {
		return err
	}
	people, err := json.Marshal(nonNil(in.Participants))
	if err != nil {
		return err
	}
	actorID := actorUserID(actor)
	day := casework.DateOf(in.At, org.Location())
	if _, err := tx.Exec(ctx, `INSERT INTO visits (id, person_id, org_id, kind, state, at, local_date, face_to_face, participants, condition,
		body_enc, accuracy_m, address, distance_m, source, import_key, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		in.ID, r.ID, r.OrgID, string(in.Kind), string(in.State), in.At.UTC(), day, *in.FaceToFace, string(people), in.Condition,
		sealed, acc, in.Address, dist, source, importKey, actorID, tx.now); err != nil {
		return fmt.Errorf("insert visit: %w", err)
	}
	if err := tx.insertFollowUps(ctx, in.ID, r.ID, in.FollowUps); err != nil {
		return err
	}
	for i, p := range photos {
		if len(p.SHA256) != 64 || p.MIME == "" || p.Size <= 0 {
			return fmt.Errorf("visit photo %d not stored", i)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO visit_photos (visit_id, seq, sha256, mime, size) VALUES (?, ?, ?, ?, ?)`,
			in.ID, i+1, p.SHA256, p.MIME, p.Size); err != nil {
			return err
		}
	}
	if err := tx.event(ctx, actor, r.ID, r.OrgID, "visit.recorded", map[string]any{"visit_id": in.ID, "kind": string(in.Kind),
		"state": string(in.State), "at": in.At.UTC().Format(time.RFC3339), "face_to_face": *in.FaceToFace}); err != nil {
		return err
	}
	return tx.Audit(ctx, actor, AuditEntry{Action: "visit.record", TargetType: "person", TargetID: r.ID, OrgID: r.OrgID,
		Detail: map[string]any{"visit_id": in.ID, "kind": string(in.Kind), "state": string(in.State), "source": source, "photos": len(photos)}})
}

func (tx *Tx) insertFollowUps(ctx context.Context, visitID, personID string, fs []casework.FollowUp) error {
	for _, f := range fs {
		var done any
		if f.Done {
			done = tx.now
		}
		if _, err := tx.Exec(ctx, `INSERT INTO visit_followups (id, visit_id, person_id, action, due, done_at) VALUES (?, ?, ?, ?, ?, ?)`,
			NewID(), visitID, personID, f.Action, f.Due, done); err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) sealVisit(id string, b visitBody) (string, error) {
	plain, err := json.Marshal(b)
	if err != nil {
		return "", err
	}
	return tx.db.vault.Seal(string(plain), sealVisitCtx(id))
}

func actorUserID(a *casework.Actor) string {
	if a == nil {
		return ""
	}
	return a.UserID
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// EditVisit replaces a visit's content (kind, state, time, people, notes,
// condition, follow-ups; not its photos or its person) for its author or a
// lead/office over the person's place (casework.CanEditCareRecord),
// keeping the replaced version as a revision with the reason. Outside
// scope: ENOTFOUND; not allowed: EFORBIDDEN.
func (db *DB) EditVisit(ctx context.Context, actor *casework.Actor, visitID string, in casework.VisitInput, reason string) (*Visit, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		old, r, err := tx.visitFor(ctx, actor, visitID)
		if err != nil {
			return err
		}
		if !casework.CanEditCareRecord(actor, old.CreatedBy, r.OrgPath) || !r.Access.Until.IsZero() {
			return casework.Errorf(casework.EFORBIDDEN, "只有记录人或负责人可以修改走访记录", "only the author or a lead may edit a visit")
		}
		// The reason and the record are checked together (issue 18 item 9).
		var errs casework.FieldErrors
		if _, err := casework.CheckRevisionReason(reason); errs.Add(err) != nil {
			return err
		}
		in.ID = old.ID
		for i, f := range in.FollowUps { // a follow-up already done stays done
			for _, o := range old.FollowUps {
				if o.Done && o.Action == strings.TrimSpace(f.Action) && o.Due == f.Due {
					in.FollowUps[i].Done = true
				}
			}
		}
		if in.Location == nil {
			in.Location = old.Location
		}
		if err := errs.Add(in.Validate(tx.now)); err != nil {
			return err
		}
		if err := errs.Err(); err != nil {
			return err
		}
		prev := *old
		prev.CanEdit, prev.Photos = false, nil
		rev, err := tx.SaveRevision(ctx, actor, RevisionInput{Kind: "visit", RecordID: old.ID, PersonID: old.PersonID, Previous: prev, Reason: reason})
		if err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, old.OrgID)
		if err != nil {
			return err
		}
		body := visitBody{Notes: in.Notes, ConditionNote: in.ConditionNote}
		if in.Location != nil {
			body.Lat, body.Lng = in.Location.Lat, in.Location.Lng
		}
		sealed, err := tx.sealVisit(old.ID, body)
		if err != nil {
			return err
		}
		people, err := json.Marshal(nonNil(in.Participants))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE visits SET kind = ?, state = ?, at = ?, local_date = ?, face_to_face = ?, participants = ?, condition = ?,
			body_enc = ?, address = ?, updated_by = ?, updated_at = ?, rev = ? WHERE id = ?`,
			string(in.Kind), string(in.State), in.At.UTC(), casework.DateOf(in.At, org.Location()), *in.FaceToFace, string(people), in.Condition,
			sealed, in.Address, actorUserID(actor), tx.now, rev, old.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM visit_followups WHERE visit_id = ?`, old.ID); err != nil {
			return err
		}
		if err := tx.insertFollowUps(ctx, old.ID, old.PersonID, in.FollowUps); err != nil {
			return err
		}
		if err := tx.event(ctx, actor, old.PersonID, r.OrgID, "visit.edited", map[string]any{"visit_id": old.ID, "kind": string(in.Kind),
			"state": string(in.State), "rev": rev}); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "visit.edit", TargetType: "person", TargetID: old.PersonID, OrgID: r.OrgID, Reason: reason,
			Detail: map[string]any{"visit_id": old.ID, "rev": rev}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetVisit(ctx, actor, visitID)
}

// CompleteFollowUp marks a visit's follow-up action done, for those who
// record visits for the person.
func (db *DB) CompleteFollowUp(ctx context.Context, actor *casework.Actor, followUpID string) error {
	return db.Write(ctx, func(tx *Tx) error {
		var personID, visitID string
		var done sql.NullTime
		if err := tx.QueryRow(ctx, `SELECT person_id, visit_id, done_at FROM visit_followups WHERE id = ?`, followUpID).Scan(&personID, &visitID, &done); err != nil {
			return notFound(err, "后续事项", "follow-up")
		}
		r, err := tx.personForVisit(ctx, actor, personID)
		if err != nil {
			return err
		}
		if done.Valid {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE visit_followups SET done_at = ?, done_by = ? WHERE id = ?`, tx.now, actorUserID(actor), followUpID); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "visit.followup_done", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"visit_id": visitID, "followup_id": followUpID}})
	})
}

// SetResidenceGeo pins the person's residence at a point (a worker at the
// door, from the phone's fix): later home visits are checked against it.
func (db *DB) SetResidenceGeo(ctx context.Context, actor *casework.Actor, personID string, g casework.Geo) error {
	if g.Lat < -90 || g.Lat > 90 || g.Lng < -180 || g.Lng > 180 || (g.Lat == 0 && g.Lng == 0) {
		return casework.Invalid("location", "定位无效", "the location is not valid")
	}
	return db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personForVisit(ctx, actor, personID)
		if err != nil {
			return err
		}
		sealed, err := tx.db.vault.Seal(strconv.FormatFloat(g.Lat, 'f', 6, 64)+","+strconv.FormatFloat(g.Lng, 'f', 6, 64), sealResidenceCtx(personID))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM residence_geocodes WHERE person_id = ?`, personID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO residence_geocodes (person_id, loc_enc, set_by, set_at) VALUES (?, ?, ?, ?)`,
			personID, sealed, actorUserID(actor), tx.now); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "person.residence_geo", TargetType: "person", TargetID: personID, OrgID: r.OrgID})
	})
}

// residenceGeo returns the person's pinned residence, nil when none.
func (tx *Tx) residenceGeo(ctx context.Context, personID string) (*casework.Geo, error) {
	var enc string
	err := tx.QueryRow(ctx, `SELECT loc_enc FROM residence_geocodes WHERE person_id = ?`, personID).Scan(&enc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	plain, err := tx.db.vault.Open(enc, sealResidenceCtx(personID))
	if err != nil {
		return nil, err
	}
	a, b, _ := strings.Cut(plain, ",")
	lat, err1 := strconv.ParseFloat(a, 64)
	lng, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("residence of %s: bad point", personID)
	}
	return &casework.Geo{Lat: lat, Lng: lng}, nil
}

// VisitBatchItem is one visit of a batch.
type VisitBatchItem struct {
	PersonID string
	Visit    casework.VisitInput
}

// RecordVisitBatch records many visits in one transaction, each checked as
// RecordVisit checks it (the actor must record visits for the person),
// put on the timeline and audited; nothing is written if one fails. For
// bulk loads (the demo's year of visits); ids already stored are skipped.
func (db *DB) RecordVisitBatch(ctx context.Context, actor *casework.Actor, items []VisitBatchItem) (int, error) {
	n := 0
	err := db.Write(ctx, func(tx *Tx) error {
		persons := map[string]*personRow{}
		for i := range items {
			it := &items[i]
			if it.Visit.ID == "" {
				it.Visit.ID = NewID()
			}
			var dup int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM visits WHERE id = ?`, it.Visit.ID).Scan(&dup); err != nil {
				return err
			}
			if dup > 0 {
				continue
			}
			r, ok := persons[it.PersonID]
			if !ok {
				var err error
				if r, err = tx.personForVisit(ctx, actor, it.PersonID); err != nil {
					return err
				}
				persons[it.PersonID] = r
			}
			if err := tx.insertVisit(ctx, actor, r, &it.Visit, nil, "form", nil); err != nil {
				return fmt.Errorf("visit %d: %w", i, err)
			}
			n++
		}
		return nil
	})
	return n, err
}
