package store

// checkins.go: check-in ingest (issue 4 §4, Performance). A request
// resolves its device (cached), checks the signature, computes the verdict
// against the policy in force on the local date of taken_at and seals the
// location (R36, R37), all in its own goroutine; then it hands the record to
// the group-commit writer, which writes up to checkinBatchMax records in one
// transaction (synchronous=FULL: one fsync for the batch) and only then
// answers each waiting request. Nothing is acknowledged before it is
// durable; each record is stored exactly once by its client id.

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kangfu/internal/casework"
)

// Checkin is a stored check-in. Lat/Lng are filled only by OpenCheckinPoint.
type Checkin struct {
	ID          string
	PersonID    string
	DeviceID    string
	OrgID       string
	TakenAt     time.Time
	ReceivedAt  time.Time
	LocalDate   casework.Date
	AccuracyM   float64
	PhotoSHA256 string
	Verdict     casework.Verdict   // the first failed check, ok when none
	Checks      []casework.Verdict // every failed check (issue 18 §2); empty: ok
	Counts      bool               // it discharges the day's duty (policy checkin.counts, casework.Discharges)
	PolicyRef   string             // the policy version(s) the verdict used (casework.PolicySource.Ref, comma-joined)
	BodySHA256  string
	Signature   string
	// Identity (issue 17): the outcome against the reference photo, the
	// phone's face fields (the embedding stays sealed in the row), and
	// the review of a mismatch (R32). ChecksCount is Counts before the
	// identity is weighed (casework.IdentityCounts).
	Identity         casework.IdentityOutcome
	IdentityReason   string // why not checked (casework.Reason…); "" else
	FaceScore        *float64
	FaceLiveness     string
	FaceChallenge    string
	FaceModels       string
	FaceMS           *int64
	MockLocation     *bool
	ChecksCount      bool
	Review           string // "", casework.ReviewSamePerson or ReviewNotSame
	ReviewNote       string
	ReviewedBy       string
	ReviewedAt       *time.Time
	faceEmbeddingEnc string
}

// HasFaceEmbedding reports whether the check-in keeps a sealed embedding.
func (c *Checkin) HasFaceEmbedding() bool { return c.faceEmbeddingEnc != "" }

const checkinColumns = `id, person_id, device_id, org_id, taken_at, received_at, local_date, accuracy_m, photo_sha256, verdict, policy_version_id, body_sha256, signature, checks, counts,
	identity_outcome, face_reason, face_score, face_liveness, face_challenge, face_models, face_ms, mock_location, checks_count,
	identity_review, identity_review_note, identity_reviewed_by, identity_reviewed_at, face_embedding`

func scanCheckin(sc interface{ Scan(...any) error }) (*Checkin, error) {
	var c Checkin
	var verdict, checks, identity string
	var score sql.NullFloat64
	var ms sql.NullInt64
	var mock sql.NullBool
	var reviewedAt sql.NullTime
	if err := sc.Scan(&c.ID, &c.PersonID, &c.DeviceID, &c.OrgID, &c.TakenAt, &c.ReceivedAt, &c.LocalDate, &c.AccuracyM, &c.PhotoSHA256,
		&verdict, &c.PolicyRef, &c.BodySHA256, &c.Signature, &checks, &c.Counts,
		&identity, &c.IdentityReason, &score, &c.FaceLiveness, &c.FaceChallenge, &c.FaceModels, &ms, &mock, &c.ChecksCount,
		&c.Review, &c.ReviewNote, &c.ReviewedBy, &reviewedAt, &c.faceEmbeddingEnc); err != nil {
		return nil, err
	}
	c.TakenAt, c.ReceivedAt, c.Verdict = c.TakenAt.UTC(), c.ReceivedAt.UTC(), casework.Verdict(verdict)
	c.Checks = casework.ParseChecks(checks, c.Verdict)
	c.Identity = casework.IdentityOutcome(identity)
	if score.Valid {
		c.FaceScore = &score.Float64
	}
	if ms.Valid {
		c.FaceMS = &ms.Int64
	}
	if mock.Valid {
		c.MockLocation = &mock.Bool
	}
	if reviewedAt.Valid {
		t := reviewedAt.Time.UTC()
		c.ReviewedAt = &t
	}
	return &c, nil
}

// AppDevice is an active device ready to verify requests.
type AppDevice struct {
	Device
	Key *ecdsa.PublicKey
}

// appState holds the per-DB caches and the writer. Entries are short-lived;
// correctness never rests on them: the writer re-checks the device in the
// transaction that stores the check-in.
type appState struct {
	mu       sync.Mutex
	tokens   map[string]cached[*AppDevice]        // token hash → device
	persons  map[string]cached[*personCtx]        // person id → place of execution
	orgs     map[string]cached[*orgCtx]           // org id → the org and its chain
	policy   map[string]*casework.EffectivePolicy // org id + date → policy (a begun day's policy never changes)
	leaves   map[string]cached[leaveArea]         // person id + date → approved leave area
	faceRefs map[string]cached[bool]              // person id → a reference embedding exists (issue 17)
	writer   *checkinWriter
}

// leaveArea is the check-in area of a day of approved leave.
type leaveArea struct {
	onLeave bool
	area    *casework.Geofence // nil on leave: a city-only destination, unverifiable
}

type cached[T any] struct {
	v   T
	exp time.Time
}

// AppCacheTTL bounds how long a change (a device retired, a person moved,
// a leave approved, an org's area redrawn) can go unseen by a server's
// check-in caches (issue 16 §2). The changes that call forgetPerson drop
// the entries of the handle that made them at once; the others, and every
// change made through another server, wait out the TTL.
const AppCacheTTL = 10 * time.Second

// appCacheTTL is AppCacheTTL, shorter in tests that wait it out.
var appCacheTTL atomic.Int64

func init() { appCacheTTL.Store(int64(AppCacheTTL)) }

// cachedLoad returns m[key] while it is fresh, else what load returns,
// kept for appCacheTTL (an error is not kept; m is emptied when it holds
// more than limit entries).
func cachedLoad[T any](st *appState, m map[string]cached[T], key string, limit int, load func() (T, error)) (T, error) {
	now := time.Now()
	st.mu.Lock()
	e, ok := m[key]
	st.mu.Unlock()
	if ok && now.Before(e.exp) {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	st.mu.Lock()
	if len(m) > limit {
		clear(m)
	}
	m[key] = cached[T]{v, now.Add(time.Duration(appCacheTTL.Load()))}
	st.mu.Unlock()
	return v, nil
}

func newAppState(db *DB) *appState {
	return &appState{tokens: map[string]cached[*AppDevice]{}, persons: map[string]cached[*personCtx]{}, orgs: map[string]cached[*orgCtx]{},
		policy: map[string]*casework.EffectivePolicy{}, leaves: map[string]cached[leaveArea]{}, faceRefs: map[string]cached[bool]{}, writer: &checkinWriter{db: db, in: make(chan *pendingCheckin, 8192), quit: make(chan struct{})}}
}

// app returns the DB's app caches and check-in writer (made in Open).
func (db *DB) app() *appState { return db.appState }

// forgetPerson drops the cached devices and place of a person (a device
// activated or retired).
func (s *appState) forgetPerson(personID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.tokens {
		if e.v.PersonID == personID {
			delete(s.tokens, k)
		}
	}
	delete(s.persons, personID)
	delete(s.faceRefs, personID)
	for k := range s.leaves {
		if strings.HasPrefix(k, personID+"|") {
			delete(s.leaves, k)
		}
	}
}

// AppDeviceByToken authenticates an app request: the device of the token,
// with its parsed key. A retired device answers device_retired. The answer
// is cached for appCacheTTL: a device retired through this handle is
// refused at once (forgetPerson), one retired through another server's
// handle within appCacheTTL (issue 16 §2). Requests that change anything
// use AppDeviceByTokenFresh, or, for check-ins, rely on the writer's
// re-check (insertCheckinSQL).
func (db *DB) AppDeviceByToken(ctx context.Context, tokenHash string) (*AppDevice, error) {
	st := db.app()
	return cachedLoad(st, st.tokens, tokenHash, 100000, func() (*AppDevice, error) { return db.loadAppDevice(ctx, tokenHash) })
}

// AppDeviceByTokenFresh is AppDeviceByToken read from the database, not
// the cache (which it refreshes): a device retired on any server a moment
// ago is refused.
func (db *DB) AppDeviceByTokenFresh(ctx context.Context, tokenHash string) (*AppDevice, error) {
	st := db.app()
	d, err := db.loadAppDevice(ctx, tokenHash)
	st.mu.Lock()
	defer st.mu.Unlock()
	if err != nil {
		delete(st.tokens, tokenHash)
		return nil, err
	}
	st.tokens[tokenHash] = cached[*AppDevice]{d, time.Now().Add(time.Duration(appCacheTTL.Load()))}
	return d, nil
}

func (db *DB) loadAppDevice(ctx context.Context, tokenHash string) (*AppDevice, error) {
	d, err := db.DeviceByToken(ctx, tokenHash)
	if err != nil {
		return nil, err
	}
	if !d.Active() {
		return nil, casework.ErrDeviceRetired()
	}
	key, err := casework.ParseDeviceKey(d.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("device %s: stored key: %w", d.ID, err)
	}
	return &AppDevice{Device: *d, Key: key}, nil
}

// personCtx is what a verdict needs about the person: the place of
// execution and its chain (root first).
type personCtx struct {
	name   string
	status casework.Status
	org    *casework.Org
	chain  []*casework.Org
}

func (db *DB) personContext(ctx context.Context, personID string) (*personCtx, error) {
	st := db.app()
	return cachedLoad(st, st.persons, personID, 100000, func() (*personCtx, error) {
		q, err := db.hot(ctx, `SELECT name, org_id, status FROM persons WHERE id = ?`)
		if err != nil {
			return nil, err
		}
		var pc personCtx
		var orgID, status string
		if err := q.QueryRowContext(ctx, personID).Scan(&pc.name, &orgID, &status); err != nil {
			return nil, notFound(err, "人员档案", "person")
		}
		pc.status = casework.Status(status)
		oc, err := db.orgContext(ctx, orgID)
		if err != nil {
			return nil, err
		}
		pc.org, pc.chain = oc.org, oc.chain
		return &pc, nil
	})
}

// orgCtx is an org and its chain (root first), shared by everyone placed there.
type orgCtx struct {
	org   *casework.Org
	chain []*casework.Org
}

// orgContext returns the org and its chain, cached for appCacheTTL: a
// burst of persons new to the cache shares a few places.
func (db *DB) orgContext(ctx context.Context, orgID string) (*orgCtx, error) {
	st := db.app()
	return cachedLoad(st, st.orgs, orgID, 10000, func() (*orgCtx, error) {
		var oc orgCtx
		err := db.Read(ctx, func(tx *Tx) error {
			var err error
			if oc.org, err = tx.orgByID(ctx, orgID); err != nil {
				return err
			}
			oc.chain, err = tx.orgChain(ctx, oc.org)
			return err
		})
		if err != nil {
			return nil, err
		}
		return &oc, nil
	})
}

// checkinPolicy is the policy in force for the org on a local date
// (store.EffectivePolicy's resolution, policies.go). A date already begun
// keeps its policy (versions take effect tomorrow at the earliest), so
// those are cached; a later date is resolved afresh.
func (db *DB) checkinPolicy(ctx context.Context, org *casework.Org, date casework.Date) (*casework.EffectivePolicy, error) {
	st := db.app()
	key := org.ID + "|" + date.String()
	st.mu.Lock()
	p, ok := st.policy[key]
	st.mu.Unlock()
	if ok {
		return p, nil
	}
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		p, err = tx.resolvePolicy(ctx, org, date)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !date.After(casework.DateOf(db.Now(), org.Location())) {
		st.mu.Lock()
		if len(st.policy) > 10000 {
			clear(st.policy)
		}
		st.policy[key] = p
		st.mu.Unlock()
	}
	return p, nil
}

// The settings a check-in verdict uses.
var checkinSettings = []string{"checkin.window", "checkin.area", "checkin.accuracy_m", "checkin.selfie", "checkin.counts",
	"identity.match_threshold", "identity.require_liveness"}

// areaOf returns the geofence of the chain's org of the kind the policy's
// checkin.area names (county by default).
func areaOf(chain []*casework.Org, kind string) *casework.Geofence {
	for i := len(chain) - 1; i >= 0; i-- {
		if string(chain[i].Kind) == kind {
			return chain[i].Geofence
		}
	}
	return nil
}

// IngestCheckin stores a signed check-in once (issue 4 §4). body is the
// exact request body; sig its verified signature. created is false for a
// replay of the same body (the stored record); a different body under a
// stored id is ECONFLICT.
func (db *DB) IngestCheckin(ctx context.Context, dev *AppDevice, in casework.CheckinInput, body []byte, sig string) (*Checkin, bool, error) {
	p, err := db.pendingCheckin(ctx, dev, in, body, sig)
	if err != nil {
		return nil, false, err
	}
	if err := db.app().writer.submit(ctx, p); err != nil {
		return nil, false, err
	}
	var r checkinResult
	select {
	case r = <-p.done:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	if r.err == nil && r.created && r.c.Identity.NeedsReview() {
		// Issue 17 §3: the person's worker is told (and the inbox lists
		// it) — a person reviews it; nothing follows automatically (R32).
		if err := db.notifyIdentityReview(ctx, r.c); err != nil {
			return nil, false, err
		}
	}
	return r.c, r.created, r.err
}

// pendingCheckin builds the record the writer stores: the local date, the
// verdict against the policy in force that day, the sealed location.
func (db *DB) pendingCheckin(ctx context.Context, dev *AppDevice, in casework.CheckinInput, body []byte, sig string) (*pendingCheckin, error) {
	received := db.Now().Truncate(time.Microsecond)
	taken, err := in.Validate(received)
	if err != nil {
		return nil, err
	}
	pc, err := db.personContext(ctx, dev.PersonID)
	if err != nil {
		return nil, err
	}
	loc := pc.org.Location()
	day := casework.DateOf(taken, loc)
	pol, err := db.checkinPolicy(ctx, pc.org, day)
	if err != nil {
		return nil, err
	}
	area := areaOf(pc.chain, pol.Value("checkin.area").Enum())
	// R31: the check-in window is the one of the tier in force that day.
	tier, err := db.tierOn(ctx, dev.PersonID, day)
	if err != nil {
		return nil, err
	}
	// Approved leave keeps the duty with the destination as the area (issue
	// 4 §5): a point and radius when the request gave one; a destination
	// known only by city cannot be checked, and says so (unverifiable).
	la, err := db.leaveAreaOn(ctx, dev.PersonID, day)
	if err != nil {
		return nil, err
	}
	if la.onLeave {
		area = la.area
	}
	sum := sha256.Sum256(body)
	// The selfie counts only if this person uploaded it (issue 15 §2): a
	// made-up hash, or another person's photo, is no photo.
	photo := in.PhotoSHA256
	if photo != "" {
		ok, err := db.photoUploaded(ctx, dev.PersonID, photo)
		if err != nil {
			return nil, err
		}
		if !ok {
			photo = ""
		}
	}
	checks := casework.Checks(casework.CheckinFacts{TakenAt: taken, ReceivedAt: received, Loc: loc, Lat: in.Lat, Lng: in.Lng,
		AccuracyM: in.AccuracyM, PhotoSHA: photo, Area: area, Window: pol.ForTier("checkin.window", tier).Value.Window(),
		AccuracyMx: pol.Value("checkin.accuracy_m").Int(), Selfie: pol.Value("checkin.selfie").Bool()})
	verdict := casework.VerdictOK
	if len(checks) > 0 {
		verdict = checks[0]
	}
	// Issue 17 §3: the identity against the reference, with the policy's
	// threshold (R26); a mismatch holds the day until reviewed (R32).
	hasRef, err := db.hasFaceReference(ctx, dev.PersonID)
	if err != nil {
		return nil, err
	}
	identity, reason := casework.IdentityOutcomeOf(in.Face, hasRef, casework.IdentityPolicy{
		Threshold: pol.Value("identity.match_threshold").Decimal(), RequireLiveness: pol.Value("identity.require_liveness").Bool()})
	checksCount := casework.Discharges(pol.Value("checkin.counts").Enum(), checks)
	c := &Checkin{ID: in.ID, PersonID: dev.PersonID, DeviceID: dev.ID, OrgID: pc.org.ID, TakenAt: taken, ReceivedAt: received, LocalDate: day,
		AccuracyM: in.AccuracyM, PhotoSHA256: in.PhotoSHA256, BodySHA256: hex.EncodeToString(sum[:]), Signature: sig,
		PolicyRef: strings.Join(pol.Refs(checkinSettings...), ","), Verdict: verdict, Checks: checks,
		Counts: casework.IdentityCounts(checksCount, identity, ""), ChecksCount: checksCount,
		Identity: identity, IdentityReason: reason, MockLocation: in.MockLocation}
	if f := in.Face; f != nil {
		c.FaceScore, c.FaceLiveness, c.FaceChallenge, c.FaceModels = f.Score, f.Liveness, f.Challenge, f.Models
		if f.MS != nil {
			ms := int64(math.Round(*f.MS))
			c.FaceMS = &ms
		}
		if f.Embedding != "" {
			if c.faceEmbeddingEnc, err = db.vault.Seal(f.Embedding, "checkin.face:"+c.ID); err != nil {
				return nil, err
			}
		}
	}
	point := strconv.FormatFloat(in.Lat, 'f', -1, 64) + "," + strconv.FormatFloat(in.Lng, 'f', -1, 64)
	sealed, err := db.vault.Seal(point, "checkin.loc:"+c.ID)
	if err != nil {
		return nil, err
	}
	return &pendingCheckin{c: c, locEnc: sealed, done: make(chan checkinResult, 1)}, nil
}

// leaveAreaOn returns the area of an approved leave on the day, cached for
// appCacheTTL like the device and place: a leave approved a moment ago
// applies within seconds, and the hot path reads no leave row per check-in.
func (db *DB) leaveAreaOn(ctx context.Context, personID string, day casework.Date) (leaveArea, error) {
	st := db.app()
	return cachedLoad(st, st.leaves, personID+"|"+day.String(), 100000, func() (leaveArea, error) {
		// The leave ActiveLeaveOn finds, reading only the destination point.
		q, err := db.hot(ctx, `SELECT l.lat, l.lng, l.radius_m FROM leaves l WHERE `+activeLeaveOn+` LIMIT 1`)
		if err != nil {
			return leaveArea{}, err
		}
		var lat, lng sql.NullFloat64
		var radius sql.NullInt64
		var la leaveArea
		switch err := q.QueryRowContext(ctx, personID, day, day).Scan(&lat, &lng, &radius); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return leaveArea{}, fmt.Errorf("leave on %s: %w", day, normalize(err))
		default:
			la.onLeave = true
			if lat.Valid && lng.Valid && radius.Valid {
				la.area = &casework.Geofence{Type: "circle", Lat: lat.Float64, Lng: lng.Float64, RadiusM: float64(radius.Int64)}
			}
		}
		return la, nil
	})
}
