package store_test

// Tests of identity at check-in (issue 17; R26, R32, R36), on SQLite and
// (with KANGFU_TEST_POSTGRES) PostgreSQL.

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// memBlobs is the blob store of the tests: what reaches it is what a
// bucket or the data folder would hold.
type memBlobs struct {
	mu sync.Mutex
	m  map[string][]byte
	n  int
}

func (b *memBlobs) put(p []byte) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string][]byte{}
	}
	b.n++
	k := fmt.Sprintf("%064x", b.n)
	b.m[k] = bytes.Clone(p)
	return k, nil
}

func (b *memBlobs) get(k string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if v, ok := b.m[k]; ok {
		return v, nil
	}
	return nil, errors.New("no blob")
}

var faceJPEG = append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("face"), 200)...)

func faceIn(at time.Time, outcome string, score float64, liveness string) casework.CheckinInput {
	in := ciIn(at, 18.25, 109.5)
	f := &casework.FaceInput{Outcome: outcome, Liveness: liveness, Models: "human 3.3.6 faceres+antispoof+liveness"}
	if outcome == casework.FaceScored {
		f.Score = &score
		f.Embedding = casework.EncodeEmbedding([]float32{0.5, 0.25, -0.125})
	}
	in.Face = f
	return in
}

func auditCount(t *testing.T, db *store.DB, action, personID string) int {
	t.Helper()
	rows, _, err := db.ListAudit(ctx, casework.SystemActor("test"), store.AuditFilter{Action: action, TargetID: personID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r.Action == action {
			n++
		}
	}
	return n
}

// Issue 17 §1, §6: the first reference by the person's worker, a
// replacement only by a lead with a reason, the history kept, the photo
// sealed before it reaches the blob store, every view audited; another
// org's worker gets not found.
func TestFaceReference(t *testing.T) {
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		blobs := &memBlobs{}
		emb := casework.EncodeEmbedding([]float32{0.5, 0.25, -0.125})
		in := store.FaceReferenceInput{Photo: faceJPEG, PhotoType: "image/jpeg", Embedding: emb, Models: "human 3.3.6"}
		if _, err := db.SetFaceReference(ctx, w.counsellor, w.person.ID, in, blobs.put); err == nil {
			t.Fatal("a counsellor set a reference photo")
		}
		first, err := db.SetFaceReference(ctx, w.worker, w.person.ID, in, blobs.put)
		if err != nil || !first.HasEmbedding || first.TakenBy != w.worker.UserID {
			t.Fatalf("first: %+v %v", first, err)
		}
		stored := blobs.m[first.PhotoSHA256]
		if len(stored) == 0 || bytes.Contains(stored, []byte("facefacefa")) || bytes.HasPrefix(stored, faceJPEG[:3]) {
			t.Fatalf("the photo reached the blob store in clear (%d bytes)", len(stored))
		}
		// The worker may not replace it, with or without a reason.
		in.Reason = "照片模糊"
		if _, err := db.SetFaceReference(ctx, w.worker, w.person.ID, in, blobs.put); !casework.IsCode(err, casework.EFORBIDDEN) || casework.ErrorField(err) != "reason" {
			t.Fatalf("worker replacing: got %v, want forbidden on reason", err)
		}
		in.Reason = " "
		if _, err := db.SetFaceReference(ctx, w.lead, w.person.ID, in, blobs.put); casework.ErrorField(err) != "reason" || !casework.IsCode(err, casework.EINVALID) {
			t.Fatalf("lead without a reason: got %v", err)
		}
		in.Reason, in.Embedding = "照片模糊，重新拍摄", ""
		clock.Add(time.Minute)
		second, err := db.SetFaceReference(ctx, w.lead, w.person.ID, in, blobs.put)
		if err != nil || second.HasEmbedding || second.Reason != in.Reason {
			t.Fatalf("lead replacing: %+v %v", second, err)
		}
		name, refs, err := db.FaceReferences(ctx, w.worker, w.person.ID)
		if err != nil || name != "王小明" || len(refs) != 2 || refs[0].ID != second.ID || refs[0].ReplacedAt != nil ||
			refs[1].ID != first.ID || refs[1].ReplacedAt == nil || refs[1].ReplacedBy != w.lead.UserID {
			t.Fatalf("history: %q %+v %v", name, refs, err)
		}
		photo, typ, pid, err := db.FaceReferencePhoto(ctx, w.worker, first.ID, blobs.get)
		if err != nil || !bytes.Equal(photo, faceJPEG) || typ != "image/jpeg" || pid != w.person.ID {
			t.Fatalf("open photo: %d bytes %q %v", len(photo), typ, err)
		}
		if n := auditCount(t, db, "face.reference.photo.view", w.person.ID); n != 1 {
			t.Fatalf("photo views audited: %d", n)
		}
		if auditCount(t, db, "face.reference.set", w.person.ID) != 1 || auditCount(t, db, "face.reference.replace", w.person.ID) != 1 ||
			auditCount(t, db, "face.reference.read", w.person.ID) != 1 {
			t.Fatal("set / replace / read not audited")
		}
		// Another org's worker: not found, for the list and the photo.
		other := mkOtherWorker(t, db, w)
		if _, _, err := db.FaceReferences(ctx, other, w.person.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("other org's worker, list: %v", err)
		}
		if _, _, _, err := db.FaceReferencePhoto(ctx, other, first.ID, blobs.get); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("other org's worker, photo: %v", err)
		}
	})
}

func mkOtherWorker(t *testing.T, db *store.DB, w ciWorld) *casework.Actor {
	t.Helper()
	street := storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{Kind: casework.KindTownship, Name: "河东街道", ParentID: w.county.ID}))
	comm := storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{Kind: casework.KindCommunity, Name: "河东社区", ParentID: street.ID}))
	return ciStaff(t, db, "ci-other-worker", casework.RoleWorker, comm)
}

// Issue 17 §2, §3: the identity outcome at ingest with the policy
// threshold; an old app (no face) and a phone without the model are not
// checked and count as before; a mismatch does not discharge the day until
// a person reviews it as the same person (R32), and lands in the worker's
// inbox; not the same person is recorded and still counts for nothing.
func TestIdentityAtCheckin(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC) // 12:00 Beijing
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		phone := ciActivate(t, db, w.worker, w.person.ID)
		now := func() time.Time { return clock.T.In(bj).Add(-time.Minute) }

		// No reference yet: a scored check-in is not checked.
		c, _, _, err := phone.checkin(db, faceIn(now(), casework.FaceScored, 0.95, casework.LivenessPassed))
		if err != nil || c.Identity != casework.IdentityNotChecked || c.IdentityReason != casework.ReasonNoReference || !c.Counts {
			t.Fatalf("no reference: %+v %v", c, err)
		}
		blobs := &memBlobs{}
		if _, err := db.SetFaceReference(ctx, w.worker, w.person.ID, store.FaceReferenceInput{Photo: faceJPEG, PhotoType: "image/jpeg",
			Embedding: casework.EncodeEmbedding([]float32{1, 2, 3}), Models: "human 3.3.6"}, blobs.put); err != nil {
			t.Fatal(err)
		}

		// An old app: no face fields at all.
		old := ciIn(now(), 18.25, 109.5)
		c, _, _, err = phone.checkin(db, old)
		if err != nil || c.Identity != casework.IdentityNotChecked || c.IdentityReason != casework.ReasonNoFaceData || !c.Counts || c.FaceScore != nil || c.MockLocation != nil {
			t.Fatalf("old app: %+v %v", c, err)
		}
		c, _, _, err = phone.checkin(db, faceIn(now(), casework.FaceModelUnavailable, 0, casework.LivenessNotRun))
		if err != nil || c.Identity != casework.IdentityNotChecked || c.IdentityReason != casework.ReasonModelUnavailable || !c.Counts {
			t.Fatalf("model unavailable: %+v %v", c, err)
		}
		// Exactly the threshold: matched; the embedding is sealed, the
		// mock-location flag kept.
		in := faceIn(now(), casework.FaceScored, 0.80, casework.LivenessPassed)
		mock := true
		in.MockLocation = &mock
		c, _, _, err = phone.checkin(db, in)
		if err != nil || c.Identity != casework.IdentityMatched || !c.Counts || c.FaceScore == nil || *c.FaceScore != 0.80 ||
			!c.HasFaceEmbedding() || c.MockLocation == nil || !*c.MockLocation || c.FaceLiveness != casework.LivenessPassed {
			t.Fatalf("at the threshold: %+v %v", c, err)
		}

		// Next day: only a mismatch (0.7999).
		clock.Add(24 * time.Hour)
		c, _, _, err = phone.checkin(db, faceIn(now(), casework.FaceScored, 0.7999, casework.LivenessPassed))
		if err != nil || c.Identity != casework.IdentityNotMatched || c.Counts || !c.ChecksCount {
			t.Fatalf("mismatch: %+v %v", c, err)
		}
		mismatch := c
		day := storetest.Must(db.CheckinToday(ctx, w.person.ID))
		if day.Done || day.Count != 1 {
			t.Fatalf("a mismatch discharged the day: %+v", day)
		}
		tasks := storetest.Must(db.Inbox(ctx, w.worker))
		found := false
		for _, tk := range tasks {
			if tk.Kind == "identity_review" && tk.Link == "/checkins/"+mismatch.ID+"/identity" && tk.PersonName == "王小明" {
				found = true
			}
		}
		if !found {
			t.Fatalf("no identity review in the worker's inbox: %+v", tasks)
		}
		notes, err := db.ListNotifications(ctx, w.worker, true)
		if err != nil {
			t.Fatal(err)
		}
		told := 0
		for _, n := range notes {
			if n.Kind == "identity_review" && n.Link == "/checkins/"+mismatch.ID+"/identity" && strings.Contains(n.Title("zh"), "王小明") {
				told++
			}
		}
		if told != 1 {
			t.Fatalf("the worker was told %d times of the mismatch: %+v", told, notes)
		}
		other := mkOtherWorker(t, db, w)
		if _, err := db.IdentityCheckin(ctx, other, mismatch.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("other org's worker opened the review: %v", err)
		}
		if _, err := db.ReviewIdentity(ctx, other, mismatch.ID, casework.ReviewSamePerson, ""); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("other org's worker reviewed: %v", err)
		}
		if _, err := db.ReviewIdentity(ctx, w.police, mismatch.ID, casework.ReviewSamePerson, ""); err == nil {
			t.Fatal("police reviewed")
		}
		ic, err := db.IdentityCheckin(ctx, w.worker, mismatch.ID)
		if err != nil || ic.PersonName != "王小明" || ic.Reference == nil || !ic.Reference.HasEmbedding {
			t.Fatalf("review facts: %+v %v", ic, err)
		}
		rc, err := db.ReviewIdentity(ctx, w.worker, mismatch.ID, casework.ReviewSamePerson, "戴了口罩")
		if err != nil || !rc.Counts || rc.Review != casework.ReviewSamePerson || rc.ReviewedBy != w.worker.UserID || rc.ReviewedAt == nil {
			t.Fatalf("review same: %+v %v", rc, err)
		}
		if day := storetest.Must(db.CheckinToday(ctx, w.person.ID)); !day.Done {
			t.Fatalf("reviewed same person, the day is still not done: %+v", day)
		}
		if _, err := db.ReviewIdentity(ctx, w.worker, mismatch.ID, casework.ReviewNotSame, "x"); !casework.IsCode(err, casework.ECONFLICT) {
			t.Fatalf("second review: %v", err)
		}
		if auditCount(t, db, "checkin.identity.review", w.person.ID) != 1 || auditCount(t, db, "checkin.identity.read", w.person.ID) != 1 {
			t.Fatal("review / read not audited")
		}

		// Next day: liveness failed with a high score.
		clock.Add(24 * time.Hour)
		c, _, _, err = phone.checkin(db, faceIn(now(), casework.FaceScored, 0.99, casework.LivenessFailed))
		if err != nil || c.Identity != casework.IdentityLivenessFailed || c.Counts {
			t.Fatalf("liveness failed: %+v %v", c, err)
		}
		if _, err := db.ReviewIdentity(ctx, w.worker, c.ID, casework.ReviewNotSame, ""); casework.ErrorField(err) != "note" {
			t.Fatalf("not same without a note: %v", err)
		}
		rc, err = db.ReviewIdentity(ctx, w.worker, c.ID, casework.ReviewNotSame, "照片是屏幕翻拍")
		if err != nil || rc.Counts || rc.Review != casework.ReviewNotSame {
			t.Fatalf("review not same: %+v %v", rc, err)
		}
		if day := storetest.Must(db.CheckinToday(ctx, w.person.ID)); day.Done {
			t.Fatalf("not the same person discharged the day: %+v", day)
		}
		for _, tk := range storetest.Must(db.Inbox(ctx, w.worker)) {
			if tk.Kind == "identity_review" {
				t.Fatalf("a reviewed check-in stays in the inbox: %+v", tk)
			}
		}
		// A matched check-in cannot be "reviewed".
		c, _, _, _ = phone.checkin(db, faceIn(now(), casework.FaceScored, 0.9, casework.LivenessPassed))
		if _, err := db.ReviewIdentity(ctx, w.worker, c.ID, casework.ReviewSamePerson, ""); casework.ErrorField(err) != "decision" {
			t.Fatalf("review of a matched one: %v", err)
		}
		// The app gets the reference embedding.
		emb, models, err := db.AppFaceReference(ctx, phone.dev)
		if err != nil || emb != casework.EncodeEmbedding([]float32{1, 2, 3}) || models != "human 3.3.6" {
			t.Fatalf("app reference: %q %q %v", emb, models, err)
		}
	})
}

// Issue 17 §6 (R36): check-in face embeddings are deleted after the
// policy's identity.retention_days (default 180) by the nightly job; the
// outcome stays; one waiting for review keeps its embedding until reviewed.
func TestPurgeFaceData(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		phone := ciActivate(t, db, w.worker, w.person.ID)
		blobs := &memBlobs{}
		if _, err := db.SetFaceReference(ctx, w.worker, w.person.ID, store.FaceReferenceInput{Photo: faceJPEG, PhotoType: "image/jpeg",
			Embedding: casework.EncodeEmbedding([]float32{1, 2, 3})}, blobs.put); err != nil {
			t.Fatal(err)
		}
		at := clock.T.In(bj).Add(-time.Minute)
		ok, _, _, err := phone.checkin(db, faceIn(at, casework.FaceScored, 0.9, casework.LivenessPassed))
		if err != nil || !ok.HasFaceEmbedding() {
			t.Fatal(ok, err)
		}
		held, _, _, err := phone.checkin(db, faceIn(at, casework.FaceScored, 0.5, casework.LivenessPassed))
		if err != nil || held.Identity != casework.IdentityNotMatched {
			t.Fatal(held, err)
		}
		embedded := func(id string) bool {
			c, err := db.IdentityCheckin(ctx, w.worker, id)
			if err != nil {
				t.Fatal(err)
			}
			return c.Checkin.HasFaceEmbedding()
		}
		clock.Add(179 * 24 * time.Hour)
		if n, err := db.PurgeFaceData(ctx); err != nil || n != 0 {
			t.Fatalf("day 179: purged %d %v", n, err)
		}
		clock.Add(2 * 24 * time.Hour)
		if n, err := db.PurgeFaceData(ctx); err != nil || n != 1 {
			t.Fatalf("day 181: purged %d %v", n, err)
		}
		if embedded(ok.ID) || !embedded(held.ID) {
			t.Fatal("after the purge: the old one must be cleared, the one awaiting review kept")
		}
		c, _ := db.IdentityCheckin(ctx, w.worker, ok.ID)
		if c.Checkin.Identity != casework.IdentityMatched || c.Checkin.FaceScore == nil {
			t.Fatal("the purge removed the outcome")
		}
		if _, err := db.ReviewIdentity(ctx, w.worker, held.ID, casework.ReviewSamePerson, ""); err != nil {
			t.Fatal(err)
		}
		if n, err := db.PurgeFaceData(ctx); err != nil || n != 1 || embedded(held.ID) {
			t.Fatalf("after the review: purged %d %v", n, err)
		}
		rows, _, err := db.ListAudit(ctx, casework.SystemActor("test"), store.AuditFilter{Action: "face.data.purge", Limit: 10})
		if err != nil || len(rows) != 2 {
			t.Fatalf("purges audited: %d %v", len(rows), err)
		}
	})
}

// R32: a day whose only check-in did not match the face is not recorded as
// a missed check-in by the nightly detection (a person reviews it; nothing
// adverse follows from the machine's judgement), while a day with no
// check-in at all still is.
func TestMismatchIsNoMissedCheckin(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, vStart)
		phone := ciActivate(t, db, w.worker, w.person.ID)
		if _, err := db.SetFaceReference(ctx, w.worker, w.person.ID, store.FaceReferenceInput{Photo: faceJPEG, PhotoType: "image/jpeg",
			Embedding: casework.EncodeEmbedding([]float32{1, 2})}, (&memBlobs{}).put); err != nil {
			t.Fatal(err)
		}
		for i := 0; i <= 5; i++ {
			clock.T = vStart.AddDays(i).In(bj).Add(12 * time.Hour)
			score := 0.9
			if i == 5 {
				score = 0.5
			}
			c, _, _, err := phone.checkin(db, faceIn(clock.T.Add(-time.Minute), casework.FaceScored, score, casework.LivenessPassed))
			if err != nil || c.Counts != (i < 5) {
				t.Fatalf("day %d: %+v %v", i, c, err)
			}
		}
		night := func(d int) {
			clock.T = vStart.AddDays(d).In(bj).Add(2 * time.Hour)
			if _, err := db.DetectViolations(ctx, vStart.AddDays(d)); err != nil {
				t.Fatal(err)
			}
		}
		missed := func() []*store.Violation {
			vs, _, err := db.ListViolations(ctx, w.lead, store.ViolationFilter{PersonID: w.person.ID, Kind: casework.ViolationMissedCheckin})
			if err != nil {
				t.Fatal(err)
			}
			return vs
		}
		night(6)
		if vs := missed(); len(vs) != 0 {
			t.Fatalf("a face mismatch was recorded as a missed check-in: %+v", vs[0])
		}
		night(7) // day 6: no check-in at all
		if vs := missed(); len(vs) != 1 || vs[0].Day != vStart.AddDays(6) {
			t.Fatalf("the day without a check-in: %+v", vs)
		}
	})
}

// Issue 17 §4: the staff browser recomputes the score on the identity
// review page; a console score further from the phone's than
// identity.tamper_tolerance (0.05), or below the threshold when the phone's
// was matched, is flagged as possibly altered and listed among the identity
// signals — nothing follows automatically (R32). Scoped and audited.
func TestReviewConsoleScoreFlagsAlteredScore(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC) // 12:00 Beijing
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		phone := ciActivate(t, db, w.worker, w.person.ID)
		now := func() time.Time { return clock.T.In(bj).Add(-time.Minute) }
		blobs := &memBlobs{}
		if _, err := db.SetFaceReference(ctx, w.worker, w.person.ID, store.FaceReferenceInput{Photo: faceJPEG, PhotoType: "image/jpeg",
			Embedding: casework.EncodeEmbedding([]float32{1, 2, 3}), Models: "human 3.3.6"}, blobs.put); err != nil {
			t.Fatal(err)
		}
		mismatch, _, _, err := phone.checkin(db, faceIn(now(), casework.FaceScored, 0.70, casework.LivenessPassed))
		if err != nil || mismatch.Identity != casework.IdentityNotMatched {
			t.Fatalf("mismatch: %+v %v", mismatch, err)
		}
		// Within the tolerance (0.05 exactly): stored, not flagged.
		got, err := db.RecordReviewConsoleScore(ctx, w.worker, mismatch.ID, 0.75)
		if err != nil || got.Tamper {
			t.Fatalf("0.05 apart: %+v %v", got, err)
		}
		ic := storetest.Must(db.IdentityCheckin(ctx, w.worker, mismatch.ID))
		if ic.ConsoleScore == nil || *ic.ConsoleScore != 0.75 || ic.Tamper {
			t.Fatalf("stored: %+v", ic)
		}
		// 0.06 apart: flagged.
		got, err = db.RecordReviewConsoleScore(ctx, w.worker, mismatch.ID, 0.76)
		if err != nil || !got.Tamper || !strings.Contains(got.TamperReason, " / ") {
			t.Fatalf("0.06 apart: %+v %v", got, err)
		}
		// The phone's score matched, the console's does not: flagged even
		// within the tolerance.
		clock.Add(24 * time.Hour)
		matched, _, _, err := phone.checkin(db, faceIn(now(), casework.FaceScored, 0.82, casework.LivenessPassed))
		if err != nil || matched.Identity != casework.IdentityMatched {
			t.Fatalf("matched: %+v %v", matched, err)
		}
		if got, err := db.RecordReviewConsoleScore(ctx, w.worker, matched.ID, 0.79); err != nil || !got.Tamper {
			t.Fatalf("phone matched, console below the threshold: %+v %v", got, err)
		}
		// An old app's check-in has no phone score to compare with.
		old, _, _, err := phone.checkin(db, ciIn(now(), 18.25, 109.5))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.RecordReviewConsoleScore(ctx, w.worker, old.ID, 0.9); casework.ErrorField(err) != "console_score" {
			t.Fatalf("no phone score: %v", err)
		}
		// Scope: another org's worker does not find it; the police may not write.
		other := mkOtherWorker(t, db, w)
		if _, err := db.RecordReviewConsoleScore(ctx, other, mismatch.ID, 0.7); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("other org's worker: %v", err)
		}
		if _, err := db.RecordReviewConsoleScore(ctx, w.police, mismatch.ID, 0.7); err == nil {
			t.Fatal("police stored a console score")
		}
		if n := auditCount(t, db, "checkin.identity.console_score", w.person.ID); n != 3 {
			t.Fatalf("%d console-score audit rows, want 3", n)
		}
		// Both flags are identity signals, linked to the review page, with
		// the evidence in words; nothing was decided (the mismatch still
		// waits for its review).
		sigs, err := db.IdentitySignals(ctx, w.worker, 30)
		if err != nil {
			t.Fatal(err)
		}
		links := map[string]bool{}
		for _, s := range sigs {
			if s.Kind == store.SignalTamper {
				links[s.Link] = true
				if !strings.HasPrefix(s.EvidenceZH, "身份复核：") || !strings.HasPrefix(s.EvidenceEN, "Identity review: ") {
					t.Fatalf("evidence: %+v", s)
				}
			}
		}
		if !links["/checkins/"+mismatch.ID+"/identity"] || !links["/checkins/"+matched.ID+"/identity"] {
			t.Fatalf("tamper signals: %+v", sigs)
		}
		if s := storetest.Must(db.IdentitySignals(ctx, other, 30)); len(s) != 0 {
			t.Fatalf("another org's worker sees signals: %+v", s)
		}
		if ic := storetest.Must(db.IdentityCheckin(ctx, w.worker, mismatch.ID)); ic.Checkin.Review != "" || ic.Checkin.Counts {
			t.Fatalf("the console score decided something: %+v", ic.Checkin)
		}
	})
}
