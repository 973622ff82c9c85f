package store

// face.go: reference photos and identity reviews (issue 17 §1, §3, §6).
// Face data is sensitive personal information (R36, PIPL): the reference
// photo is sealed with the vault before it reaches the blob store (so it is
// encrypted on the local folder as on a bucket), the embeddings are sealed
// columns, and every view is audited. A mismatch or failed liveness holds
// the check-in's day until a person reviews it (R32): ReviewIdentity.

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// FaceReference is one reference photo of a person (the history is kept:
// a replaced one has ReplacedAt).
type FaceReference struct {
	ID           string
	PersonID     string
	PhotoSHA256  string // the blob key of the sealed photo
	PhotoType    string
	HasEmbedding bool
	Models       string
	TakenBy      string
	TakenByName  string
	TakenAt      time.Time
	Reason       string
	ReplacedAt   *time.Time
	ReplacedBy   string
}

// FaceReferenceInput is a new reference photo from the console.
type FaceReferenceInput struct {
	Photo     []byte // JPEG or PNG
	PhotoType string
	Embedding string // base64 float32 LE from the console's model; "" when it could not run
	Models    string
	Reason    string // required to replace one
}

// MaxReferencePhoto bounds a reference photo upload.
const MaxReferencePhoto = 5 << 20

func faceRefPhotoCtx(id string) string { return "face.ref.photo:" + id }
func faceRefEmbCtx(id string) string   { return "face.ref:" + id }

const faceRefColumns = `f.id, f.person_id, f.photo_sha256, f.photo_type, f.embedding_enc <> '', f.models, f.taken_by, COALESCE(u.display_name, ''), f.taken_at, f.reason, f.replaced_at, f.replaced_by`

func scanFaceRef(sc interface{ Scan(...any) error }) (*FaceReference, error) {
	var f FaceReference
	var replaced sql.NullTime
	if err := sc.Scan(&f.ID, &f.PersonID, &f.PhotoSHA256, &f.PhotoType, &f.HasEmbedding, &f.Models, &f.TakenBy, &f.TakenByName, &f.TakenAt, &f.Reason, &replaced, &f.ReplacedBy); err != nil {
		return nil, err
	}
	f.TakenAt = f.TakenAt.UTC()
	if replaced.Valid {
		t := replaced.Time.UTC()
		f.ReplacedAt = &t
	}
	return &f, nil
}

func canSeeFace(a casework.PersonAccess) bool { return a.Sensitive && a.Until.IsZero() }

// ErrReferenceReplaceLead is the answer to a replacement by anyone but a lead.
func errReferenceReplaceLead() *casework.Error {
	return &casework.Error{Code: casework.EFORBIDDEN, Field: "reason",
		ZH: "已有参考照片：只有负责人可以更换，且须写明原因", EN: "a reference photo exists: only a lead may replace it, with a reason"}
}

// SetFaceReference stores a reference photo (issue 17 §1): the first one by
// a worker (or lead) who writes the file, at activation; replacing one only
// by a lead with a reason (refused otherwise, saying so). The photo is
// sealed and handed to put (the blob store), which returns its key. Audited.
func (db *DB) SetFaceReference(ctx context.Context, actor *casework.Actor, personID string, in FaceReferenceInput, put func([]byte) (string, error)) (*FaceReference, error) {
	if len(in.Photo) == 0 {
		return nil, casework.Invalid("photo", "请拍摄或上传一张照片", "take or upload a photo")
	}
	if len(in.Photo) > MaxReferencePhoto {
		return nil, casework.Invalid("photo", "照片不能超过 %d MB", "the photo must be at most %d MB", MaxReferencePhoto>>20)
	}
	if in.PhotoType != "image/jpeg" && in.PhotoType != "image/png" {
		return nil, casework.Invalid("photo", "照片须为 JPEG 或 PNG", "the photo must be a JPEG or PNG")
	}
	if in.Embedding != "" {
		if _, err := casework.DecodeEmbedding(in.Embedding); err != nil {
			return nil, casework.Invalid("embedding", "人脸特征无效，请重新拍摄", "the face embedding is not valid: take the photo again")
		}
	}
	if n := len([]rune(in.Models)); n > 100 || strings.ContainsAny(in.Models, "\r\n") {
		return nil, casework.Invalid("models", "模型版本须为一行不超过100字", "the model version must be one line of at most 100 characters")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if len([]rune(in.Reason)) > 500 {
		return nil, casework.Invalid("reason", "原因不能超过500字", "the reason must be at most 500 characters")
	}
	var out *FaceReference
	err := db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, func(a casework.PersonAccess) bool { return canWrite(a) && a.Sensitive })
		if err != nil {
			return err
		}
		var curID string
		switch err := tx.QueryRow(ctx, `SELECT id FROM face_references WHERE person_id = ? AND replaced_at IS NULL`, personID).Scan(&curID); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			if !r.Access.Approve {
				return errReferenceReplaceLead()
			}
			if in.Reason == "" {
				return casework.Invalid("reason", "更换参考照片须写明原因", "a reason is required to replace the reference photo")
			}
			if _, err := tx.Exec(ctx, `UPDATE face_references SET replaced_at = ?, replaced_by = ? WHERE id = ?`, tx.now, actor.UserID, curID); err != nil {
				return err
			}
		}
		id := NewID()
		sealed, err := db.vault.Seal(base64.StdEncoding.EncodeToString(in.Photo), faceRefPhotoCtx(id))
		if err != nil {
			return err
		}
		key, err := put([]byte(sealed))
		if err != nil {
			return fmt.Errorf("store reference photo: %w", err)
		}
		emb := ""
		if in.Embedding != "" {
			if emb, err = db.vault.Seal(in.Embedding, faceRefEmbCtx(id)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO face_references (id, person_id, photo_sha256, photo_type, embedding_enc, models, taken_by, taken_at, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, personID, key, in.PhotoType, emb, in.Models, actor.UserID, tx.now, in.Reason); err != nil {
			return err
		}
		action := "face.reference.set"
		if curID != "" {
			action = "face.reference.replace"
		}
		if err := tx.Audit(ctx, actor, AuditEntry{Action: action, TargetType: "person", TargetID: personID, OrgID: r.OrgID, Reason: in.Reason,
			Detail: map[string]any{"reference_id": id, "replaced": curID, "embedding": emb != "", "models": in.Models}}); err != nil {
			return err
		}
		out, err = scanFaceRef(tx.QueryRow(ctx, `SELECT `+faceRefColumns+` FROM face_references f LEFT JOIN users u ON u.id = f.taken_by WHERE f.id = ?`, id))
		return err
	})
	if err != nil {
		return nil, err
	}
	db.app().forgetPerson(personID)
	return out, nil
}

// FaceReferences lists a person's reference photos, current first, for a
// reader with sensitive access; the read is audited. Name is the person's.
func (db *DB) FaceReferences(ctx context.Context, actor *casework.Actor, personID string) (name string, refs []*FaceReference, err error) {
	err = db.Write(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, canSeeFace)
		if err != nil {
			return err
		}
		name = r.Name
		rows, err := tx.Query(ctx, `SELECT `+faceRefColumns+` FROM face_references f LEFT JOIN users u ON u.id = f.taken_by
			WHERE f.person_id = ? ORDER BY CASE WHEN f.replaced_at IS NULL THEN 0 ELSE 1 END, f.taken_at DESC`, personID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			f, err := scanFaceRef(rows)
			if err != nil {
				return err
			}
			refs = append(refs, f)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "face.reference.read", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"count": len(refs)}})
	})
	return name, refs, err
}

// FaceReferencePhoto opens a reference photo (get reads the blob store)
// for a reader with sensitive access to the person's file; every view is
// audited (R36). It returns the photo, its type and the person's id.
func (db *DB) FaceReferencePhoto(ctx context.Context, actor *casework.Actor, refID string, get func(string) ([]byte, error)) ([]byte, string, string, error) {
	var key, typ, personID string
	err := db.Write(ctx, func(tx *Tx) error {
		if err := tx.QueryRow(ctx, `SELECT person_id, photo_sha256, photo_type FROM face_references WHERE id = ?`, refID).Scan(&personID, &key, &typ); err != nil {
			return notFound(err, "参考照片", "reference photo")
		}
		r, err := tx.personFor(ctx, actor, personID, canSeeFace)
		if err != nil {
			if casework.IsCode(err, casework.ENOTFOUND) {
				return casework.NotFound("参考照片", "reference photo")
			}
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "face.reference.photo.view", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"reference_id": refID}})
	})
	if err != nil {
		return nil, "", "", err
	}
	b, err := db.openFacePhoto(key, faceRefPhotoCtx(refID), get)
	return b, typ, personID, err
}

func (db *DB) openFacePhoto(key, context string, get func(string) ([]byte, error)) ([]byte, error) {
	sealed, err := get(key)
	if err != nil {
		return nil, err
	}
	b64, err := db.vault.Open(string(sealed), context)
	if err != nil {
		return nil, fmt.Errorf("open reference photo: %w", err)
	}
	return base64.StdEncoding.DecodeString(b64)
}

// AppFaceReference is the current reference embedding of the device's
// person for the app (GET /api/v1/app/face/reference): "" when none.
func (db *DB) AppFaceReference(ctx context.Context, dev *AppDevice) (embedding, models string, err error) {
	var id, enc string
	err = db.Read(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, `SELECT id, embedding_enc, models FROM face_references WHERE person_id = ? AND replaced_at IS NULL`, dev.PersonID).Scan(&id, &enc, &models)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil || enc == "" {
		return "", models, err
	}
	embedding, err = db.vault.Open(enc, faceRefEmbCtx(id))
	return embedding, models, err
}

// hasFaceReference reports whether the person has a current reference
// with an embedding (cached like the person's place; SetFaceReference
// forgets it).
func (db *DB) hasFaceReference(ctx context.Context, personID string) (bool, error) {
	st := db.app()
	return cachedLoad(st, st.faceRefs, personID, 100000, func() (bool, error) {
		q, err := db.hot(ctx, `SELECT 1 FROM face_references WHERE person_id = ? AND replaced_at IS NULL AND embedding_enc <> ''`)
		if err != nil {
			return false, err
		}
		var one int
		switch err := q.QueryRowContext(ctx, personID).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			return false, nil
		case err != nil:
			return false, normalize(err)
		}
		return true, nil
	})
}

// IdentityCase is a check-in with an identity outcome to look at: the
// review page's facts.
type IdentityCase struct {
	Checkin        *Checkin
	PersonName     string
	OrgID          string
	Reference      *FaceReference // the reference current when the check-in was taken; nil: none
	ReviewedByName string
	Threshold      float64 // identity.match_threshold in force on the check-in's day
	// The staff browser's last recomputed score, and whether it disagreed
	// with the phone's (RecordReviewConsoleScore); nil: none yet.
	ConsoleScore *float64
	Tamper       bool
	TamperReason string // "zh / en"
}

// IdentityCheckin opens a check-in's identity facts for a reader with
// sensitive access to the file (the review page); audited.
func (db *DB) IdentityCheckin(ctx context.Context, actor *casework.Actor, checkinID string) (*IdentityCase, error) {
	out := &IdentityCase{}
	err := db.Write(ctx, func(tx *Tx) error {
		c, err := scanCheckin(tx.QueryRow(ctx, `SELECT `+checkinColumns+` FROM checkins WHERE id = ?`, checkinID))
		if err != nil {
			return notFound(err, "签到记录", "check-in")
		}
		r, err := tx.personFor(ctx, actor, c.PersonID, canSeeFace)
		if err != nil {
			if casework.IsCode(err, casework.ENOTFOUND) {
				return casework.NotFound("签到记录", "check-in")
			}
			return err
		}
		out.Checkin, out.PersonName, out.OrgID = c, r.Name, r.OrgID
		ref, err := scanFaceRef(tx.QueryRow(ctx, `SELECT `+faceRefColumns+` FROM face_references f LEFT JOIN users u ON u.id = f.taken_by
			WHERE f.person_id = ? AND f.taken_at <= ? AND (f.replaced_at IS NULL OR f.replaced_at > ?) ORDER BY f.taken_at DESC LIMIT 1`, c.PersonID, c.TakenAt, c.TakenAt))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			out.Reference = ref
		}
		if c.ReviewedBy != "" {
			_ = tx.QueryRow(ctx, `SELECT display_name FROM users WHERE id = ?`, c.ReviewedBy).Scan(&out.ReviewedByName)
		}
		var console sql.NullFloat64
		if err := tx.QueryRow(ctx, `SELECT identity_console_score, identity_tamper, identity_tamper_reason FROM checkins WHERE id = ?`, checkinID).
			Scan(&console, &out.Tamper, &out.TamperReason); err != nil {
			return err
		}
		if console.Valid {
			out.ConsoleScore = &console.Float64
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "checkin.identity.read", TargetType: "person", TargetID: c.PersonID, OrgID: r.OrgID,
			Detail: map[string]any{"checkin_id": checkinID}})
	})
	if err != nil {
		return nil, err
	}
	oc, err := db.orgContext(ctx, out.Checkin.OrgID)
	if err != nil {
		return nil, err
	}
	pol, err := db.checkinPolicy(ctx, oc.org, out.Checkin.LocalDate)
	if err != nil {
		return nil, err
	}
	out.Threshold = pol.Value("identity.match_threshold").Decimal()
	return out, nil
}

// ReviewIdentity records a person's review of a not_matched or
// liveness_failed check-in (issue 17 §3, R32): the same person makes it
// count (the day is judged again from the stored checks); not the same is
// recorded, and nothing else follows automatically. Audited.
func (db *DB) ReviewIdentity(ctx context.Context, actor *casework.Actor, checkinID, decision, note string) (*Checkin, error) {
	note = strings.TrimSpace(note)
	if err := casework.ValidReview(decision, note); err != nil {
		return nil, err
	}
	var out *Checkin
	err := db.Write(ctx, func(tx *Tx) error {
		c, err := scanCheckin(tx.QueryRow(ctx, `SELECT `+checkinColumns+` FROM checkins WHERE id = ?`, checkinID))
		if err != nil {
			return notFound(err, "签到记录", "check-in")
		}
		r, err := tx.personFor(ctx, actor, c.PersonID, func(a casework.PersonAccess) bool { return canWrite(a) && a.Sensitive })
		if err != nil {
			if casework.IsCode(err, casework.ENOTFOUND) {
				return casework.NotFound("签到记录", "check-in")
			}
			return err
		}
		if !c.Identity.NeedsReview() {
			return &casework.Error{Code: casework.EINVALID, Field: "decision", ZH: "此签到无须复核身份（" + c.Identity.Label("zh") + "）",
				EN: "this check-in needs no identity review (" + c.Identity.Label("en") + ")"}
		}
		if c.Review != "" {
			return &casework.Error{Code: casework.ECONFLICT, Field: "decision", ZH: "此签到已复核：" + casework.ReviewLabel(c.Review, "zh"),
				EN: "this check-in was already reviewed: " + casework.ReviewLabel(c.Review, "en")}
		}
		counts := casework.IdentityCounts(c.ChecksCount, c.Identity, decision)
		if _, err := tx.Exec(ctx, `UPDATE checkins SET identity_review = ?, identity_review_note = ?, identity_reviewed_by = ?, identity_reviewed_at = ?, counts = ? WHERE id = ?`,
			decision, note, actor.UserID, tx.now, counts, checkinID); err != nil {
			return err
		}
		if err := tx.Audit(ctx, actor, AuditEntry{Action: "checkin.identity.review", TargetType: "person", TargetID: c.PersonID, OrgID: r.OrgID, Reason: note,
			Detail: map[string]any{"checkin_id": checkinID, "outcome": string(c.Identity), "decision": decision, "counts": counts}}); err != nil {
			return err
		}
		out, err = scanCheckin(tx.QueryRow(ctx, `SELECT `+checkinColumns+` FROM checkins WHERE id = ?`, checkinID))
		return err
	})
	return out, err
}

// IdentityTask is a check-in whose identity waits for a review.
type IdentityTask struct {
	CheckinID  string
	PersonID   string
	PersonName string
	OrgName    string
	TakenAt    time.Time
	LocalDate  casework.Date
	Outcome    casework.IdentityOutcome
	Score      *float64
}

// IdentityToReview returns the check-ins of the files the actor writes (a
// worker: its caseload) whose identity waits for a review — not_matched or
// liveness_failed (R32) — oldest first.
func (tx *Tx) identityToReview(ctx context.Context, actor *casework.Actor) ([]IdentityTask, error) {
	if !actor.CanAnywhere(casework.PermWritePersons) {
		return nil, nil
	}
	scope, args := personScope(actor, casework.PermWritePersons)
	rows, err := tx.Query(ctx, `SELECT c.id, c.person_id, p.name, o.name, c.taken_at, c.local_date, c.identity_outcome, c.face_score
		FROM checkins c JOIN persons p ON p.id = c.person_id JOIN orgs o ON o.id = p.org_id
		WHERE c.identity_outcome IN ('not_matched', 'liveness_failed') AND c.identity_review = '' AND `+scope+`
		ORDER BY c.taken_at LIMIT `+fmt.Sprint(InboxLimit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []IdentityTask
	for rows.Next() {
		var t IdentityTask
		var o string
		var score sql.NullFloat64
		if err := rows.Scan(&t.CheckinID, &t.PersonID, &t.PersonName, &t.OrgName, &t.TakenAt, &t.LocalDate, &o, &score); err != nil {
			return nil, err
		}
		t.Outcome, t.TakenAt = casework.IdentityOutcome(o), t.TakenAt.UTC()
		if score.Valid {
			t.Score = &score.Float64
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// IdentityToReview is identityToReview in its own read.
func (db *DB) IdentityToReview(ctx context.Context, actor *casework.Actor) ([]IdentityTask, error) {
	var out []IdentityTask
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.identityToReview(ctx, actor)
		return err
	})
	return out, err
}

// identityReviewTasks: the inbox item of a check-in whose face did not
// match or whose liveness failed (issue 17 §3): the worker looks and
// decides; until then the check-in does not discharge its day (R32).
func identityReviewTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	ts, err := tx.identityToReview(ctx, actor)
	if err != nil {
		return nil, err
	}
	out := make([]Task, 0, len(ts))
	for _, t := range ts {
		out = append(out, Task{Kind: "identity_review", PersonID: t.PersonID, PersonName: t.PersonName, OrgName: t.OrgName,
			Due: t.LocalDate, Overdue: t.LocalDate.Before(today), Link: "/checkins/" + t.CheckinID + "/identity", Rule: "R32",
			TitleZH: "签到身份复核：" + t.Outcome.Label("zh"), TitleEN: "Check-in identity review: " + t.Outcome.Label("en")})
	}
	return out, nil
}

// pendingReview is the predicate of a check-in whose identity waits for a
// review: its face data is kept until reviewed.
const pendingReview = `(identity_outcome IN ('not_matched', 'liveness_failed') AND identity_review = '')`

// PurgeFaceData deletes the face embeddings of check-ins older than the
// policy identity.retention_days of their place (R36, PIPL: kept no longer
// than needed), on the nightly retention job. The outcome, score and
// review stay; a check-in still waiting for a review keeps its embedding.
// Each org's purge is audited with its count. Returns how many it cleared.
func (db *DB) PurgeFaceData(ctx context.Context) (int, error) {
	now := db.now()
	setting, _ := casework.PolicySetting("identity.retention_days")
	var orgs []string
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		orgs, err = scanStrings(tx.Query(ctx, `SELECT DISTINCT org_id FROM checkins WHERE face_embedding <> '' AND taken_at < ? AND NOT `+pendingReview+` ORDER BY org_id`,
			now.AddDate(0, 0, -setting.Min)))
		return err
	})
	if err != nil {
		return 0, err
	}
	sys := casework.SystemActor("retention-job")
	total := 0
	for _, orgID := range orgs {
		oc, err := db.orgContext(ctx, orgID)
		if err != nil {
			return total, err
		}
		pol, err := db.checkinPolicy(ctx, oc.org, casework.DateOf(now, oc.org.Location()))
		if err != nil {
			return total, err
		}
		days := pol.Value("identity.retention_days").Int()
		err = db.Write(ctx, func(tx *Tx) error {
			res, err := tx.Exec(ctx, `UPDATE checkins SET face_embedding = '' WHERE org_id = ? AND face_embedding <> '' AND taken_at < ? AND NOT `+pendingReview,
				orgID, now.AddDate(0, 0, -days))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil || n == 0 {
				return err
			}
			total += int(n)
			return tx.Audit(ctx, sys, AuditEntry{Action: "face.data.purge", TargetType: "org", TargetID: orgID, OrgID: orgID,
				Detail: map[string]any{"checkins": n, "retention_days": days}})
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// notifyIdentityReview tells the staff who write the person's file (the
// person's own worker, and leads) that a check-in's face did not match or
// its liveness failed, once per check-in.
func (db *DB) notifyIdentityReview(ctx context.Context, c *Checkin) error {
	pc, err := db.personContext(ctx, c.PersonID)
	if err != nil {
		return err
	}
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.NotifyStaff(ctx, StaffNotice{PersonID: c.PersonID, Perm: casework.PermWritePersons, Kind: "identity_review",
			TitleZH: pc.name + " 的签到" + c.Identity.Label("zh") + "，请复核", TitleEN: "Check-in of " + pc.name + ": " + c.Identity.Label("en") + " — please review",
			Link: "/checkins/" + c.ID + "/identity", Key: "identity:" + c.ID})
		return err
	})
}

// ReviewConsoleScore is what the staff browser's own score of a check-in
// came to: stored, and whether it disagrees with the phone's.
type ReviewConsoleScore struct {
	Score        float64
	Tamper       bool
	TamperReason string // "zh / en"
}

// RecordReviewConsoleScore stores the score the staff browser computed on
// a check-in's identity review page (the console recompute hook, issue 17
// §4) and flags possible tampering when it disagrees with the phone's by
// more than identity.tamper_tolerance, or the phone's score was matched and
// the console's is not. The flag is listed among the identity signals; it
// decides nothing (R32). The last score computed is kept; audited.
func (db *DB) RecordReviewConsoleScore(ctx context.Context, actor *casework.Actor, checkinID string, score float64) (*ReviewConsoleScore, error) {
	var out *ReviewConsoleScore
	err := db.Write(ctx, func(tx *Tx) error {
		c, err := scanCheckin(tx.QueryRow(ctx, `SELECT `+checkinColumns+` FROM checkins WHERE id = ?`, checkinID))
		if err != nil {
			return notFound(err, "签到记录", "check-in")
		}
		r, err := tx.personFor(ctx, actor, c.PersonID, func(a casework.PersonAccess) bool { return canWrite(a) && canSeeFace(a) })
		if err != nil {
			if casework.IsCode(err, casework.ENOTFOUND) {
				return casework.NotFound("签到记录", "check-in")
			}
			return err
		}
		if c.FaceScore == nil {
			return &casework.Error{Code: casework.EINVALID, Field: "console_score", ZH: "手机未给出比对分数，无从核对",
				EN: "the phone sent no face score to compare with"}
		}
		threshold, tolerance, err := tx.identityThresholds(ctx, r.OrgID, c.TakenAt)
		if err != nil {
			return err
		}
		flag, zh, en := casework.TamperCheck(c.FaceScore, score, tolerance, threshold)
		if !flag && c.Identity == casework.IdentityMatched && score < threshold-1e-9 {
			flag, zh, en = true, fmt.Sprintf("手机判定相符，工作台计算为 %.2f（阈值 %.2f）", score, threshold),
				fmt.Sprintf("the phone's score was matched, the console computed %.2f (threshold %.2f)", score, threshold)
		}
		reason := ""
		if flag {
			reason = zh + " / " + en
		}
		if _, err := tx.Exec(ctx, `UPDATE checkins SET identity_console_score = ?, identity_console_by = ?, identity_console_at = ?, identity_tamper = ?, identity_tamper_reason = ? WHERE id = ?`,
			score, actor.UserID, tx.now, flag, reason, checkinID); err != nil {
			return err
		}
		out = &ReviewConsoleScore{Score: score, Tamper: flag, TamperReason: reason}
		return tx.Audit(ctx, actor, AuditEntry{Action: "checkin.identity.console_score", TargetType: "person", TargetID: c.PersonID, OrgID: r.OrgID,
			Detail: map[string]any{"checkin_id": checkinID, "console_score": score, "tamper": flag}})
	})
	return out, err
}
