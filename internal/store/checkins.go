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
	"slices"
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
	Verdict     casework.Verdict
	PolicyRef   string // the policy version(s) the verdict used (casework.PolicySource.Ref, comma-joined)
	BodySHA256  string
	Signature   string
}

const checkinColumns = `id, person_id, device_id, org_id, taken_at, received_at, local_date, accuracy_m, photo_sha256, verdict, policy_version_id, body_sha256, signature`

func scanCheckin(sc interface{ Scan(...any) error }) (*Checkin, error) {
	var c Checkin
	var verdict string
	if err := sc.Scan(&c.ID, &c.PersonID, &c.DeviceID, &c.OrgID, &c.TakenAt, &c.ReceivedAt, &c.LocalDate, &c.AccuracyM, &c.PhotoSHA256,
		&verdict, &c.PolicyRef, &c.BodySHA256, &c.Signature); err != nil {
		return nil, err
	}
	c.TakenAt, c.ReceivedAt, c.Verdict = c.TakenAt.UTC(), c.ReceivedAt.UTC(), casework.Verdict(verdict)
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
	mu      sync.Mutex
	tokens  map[string]cached[*AppDevice]        // token hash → device
	persons map[string]cached[*personCtx]        // person id → place of execution
	policy  map[string]*casework.EffectivePolicy // org id + date → policy (a begun day's policy never changes)
	writer  *checkinWriter
}

type cached[T any] struct {
	v   T
	exp time.Time
}

const appCacheTTL = 10 * time.Second

var appStates sync.Map // *DB → *appState

func (db *DB) app() *appState {
	if s, ok := appStates.Load(db); ok {
		return s.(*appState)
	}
	s, _ := appStates.LoadOrStore(db, &appState{tokens: map[string]cached[*AppDevice]{}, persons: map[string]cached[*personCtx]{},
		policy: map[string]*casework.EffectivePolicy{}, writer: &checkinWriter{db: db, in: make(chan *pendingCheckin, 8192)}})
	return s.(*appState)
}

// devices is the hook devices.go uses to drop cached devices of a person.
var devices = deviceCacheHook{}

type deviceCacheHook struct{}

func (deviceCacheHook) forgetPerson(personID string) {
	appStates.Range(func(_, v any) bool {
		s := v.(*appState)
		s.mu.Lock()
		for k, e := range s.tokens {
			if e.v.PersonID == personID {
				delete(s.tokens, k)
			}
		}
		delete(s.persons, personID)
		s.mu.Unlock()
		return true
	})
}

// AppDeviceByToken authenticates an app request: the device of the token,
// with its parsed key. A retired device answers device_retired.
func (db *DB) AppDeviceByToken(ctx context.Context, tokenHash string) (*AppDevice, error) {
	st := db.app()
	now := time.Now()
	st.mu.Lock()
	e, ok := st.tokens[tokenHash]
	st.mu.Unlock()
	if ok && now.Before(e.exp) {
		return e.v, nil
	}
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
	ad := &AppDevice{Device: *d, Key: key}
	st.mu.Lock()
	if len(st.tokens) > 100000 {
		clear(st.tokens)
	}
	st.tokens[tokenHash] = cached[*AppDevice]{ad, now.Add(appCacheTTL)}
	st.mu.Unlock()
	return ad, nil
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
	now := time.Now()
	st.mu.Lock()
	e, ok := st.persons[personID]
	st.mu.Unlock()
	if ok && now.Before(e.exp) {
		return e.v, nil
	}
	var pc personCtx
	err := db.Read(ctx, func(tx *Tx) error {
		var orgID, status string
		if err := tx.QueryRow(ctx, `SELECT name, org_id, status FROM persons WHERE id = ?`, personID).Scan(&pc.name, &orgID, &status); err != nil {
			return notFound(err, "人员档案", "person")
		}
		pc.status = casework.Status(status)
		var err error
		if pc.org, err = tx.orgByID(ctx, orgID); err != nil {
			return err
		}
		pc.chain, err = tx.orgChain(ctx, pc.org)
		return err
	})
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	if len(st.persons) > 100000 {
		clear(st.persons)
	}
	st.persons[personID] = cached[*personCtx]{&pc, now.Add(appCacheTTL)}
	st.mu.Unlock()
	return &pc, nil
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

// CheckinLeaveArea, when set by the leave part, returns the area of an
// approved leave destination for the person on the local date (issue 4 §5:
// approved leave keeps the duty with the destination as the area); ok
// false: no leave that day, the area of the place of execution applies.
var CheckinLeaveArea func(ctx context.Context, db *DB, personID string, day casework.Date) (area *casework.Geofence, ok bool)

// The settings a check-in verdict uses.
var checkinSettings = []string{"checkin.window", "checkin.area", "checkin.accuracy_m", "checkin.selfie"}

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
	received := db.Now().Truncate(time.Microsecond)
	taken, err := in.Validate(received)
	if err != nil {
		return nil, false, err
	}
	pc, err := db.personContext(ctx, dev.PersonID)
	if err != nil {
		return nil, false, err
	}
	loc := pc.org.Location()
	day := casework.DateOf(taken, loc)
	pol, err := db.checkinPolicy(ctx, pc.org, day)
	if err != nil {
		return nil, false, err
	}
	area := areaOf(pc.chain, pol.Value("checkin.area").Enum())
	if CheckinLeaveArea != nil {
		if a, ok := CheckinLeaveArea(ctx, db, dev.PersonID, day); ok {
			area = a
		}
	}
	sum := sha256.Sum256(body)
	c := &Checkin{ID: in.ID, PersonID: dev.PersonID, DeviceID: dev.ID, OrgID: pc.org.ID, TakenAt: taken, ReceivedAt: received, LocalDate: day,
		AccuracyM: in.AccuracyM, PhotoSHA256: in.PhotoSHA256, BodySHA256: hex.EncodeToString(sum[:]), Signature: sig,
		PolicyRef: strings.Join(pol.Refs(checkinSettings...), ","),
		Verdict: casework.Judge(casework.CheckinFacts{TakenAt: taken, ReceivedAt: received, Loc: loc, Lat: in.Lat, Lng: in.Lng,
			AccuracyM: in.AccuracyM, PhotoSHA: in.PhotoSHA256, Area: area, Window: pol.Value("checkin.window").Window(),
			AccuracyMx: pol.Value("checkin.accuracy_m").Int(), Selfie: pol.Value("checkin.selfie").Bool()})}
	point := strconv.FormatFloat(in.Lat, 'f', -1, 64) + "," + strconv.FormatFloat(in.Lng, 'f', -1, 64)
	sealed, err := db.vault.Seal(point, "checkin.loc:"+c.ID)
	if err != nil {
		return nil, false, err
	}
	p := &pendingCheckin{c: c, locEnc: sealed, done: make(chan checkinResult, 1)}
	if err := db.app().writer.submit(ctx, p); err != nil {
		return nil, false, err
	}
	select {
	case r := <-p.done:
		return r.c, r.created, r.err
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

// Group commit.
const (
	checkinBatchMax  = 512                    // records per transaction
	checkinBatchWait = 500 * time.Microsecond // wait for more when the batch is small
)

// checkinIdleStop is how long the writer goroutine waits for work before
// it stops (the next check-in starts it again); a variable for tests.
var checkinIdleStop atomic.Int64

func init() { checkinIdleStop.Store(int64(5 * time.Second)) }

type pendingCheckin struct {
	c      *Checkin
	locEnc string
	done   chan checkinResult
}

type checkinResult struct {
	c       *Checkin
	created bool
	err     error
}

type checkinWriter struct {
	db      *DB
	in      chan *pendingCheckin
	mu      sync.Mutex
	running bool
	batches atomic.Int64
	records atomic.Int64
}

// CheckinWriterStats returns how many transactions the group-commit
// writer has committed and how many records they held (benchmarks).
func (db *DB) CheckinWriterStats() (batches, records int64) {
	w := db.app().writer
	return w.batches.Load(), w.records.Load()
}

func (w *checkinWriter) submit(ctx context.Context, p *pendingCheckin) error {
	// The send happens under mu, so the loop cannot decide it is idle and
	// stop between a check here and the record reaching the channel.
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.running {
		w.running = true
		go w.loop()
	}
	select {
	case w.in <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *checkinWriter) loop() {
	stopAfter := time.Duration(checkinIdleStop.Load())
	idle := time.NewTimer(stopAfter)
	defer idle.Stop()
	for {
		var first *pendingCheckin
		select {
		case first = <-w.in:
		case <-idle.C:
			w.mu.Lock()
			if len(w.in) == 0 {
				w.running = false
				w.mu.Unlock()
				return
			}
			w.mu.Unlock()
			idle.Reset(stopAfter)
			continue
		}
		batch := []*pendingCheckin{first}
		deadline := time.NewTimer(checkinBatchWait)
	collect:
		for len(batch) < checkinBatchMax {
			select {
			case p := <-w.in:
				batch = append(batch, p)
			default:
				if len(batch) >= 8 {
					break collect // a busy queue batches itself while the last commit syncs
				}
				select {
				case p := <-w.in:
					batch = append(batch, p)
				case <-deadline.C:
					break collect
				}
			}
		}
		deadline.Stop()
		w.write(batch)
		idle.Reset(stopAfter)
	}
}

// write stores a batch in one transaction; when that fails as a whole, each
// record is retried in its own, so one bad record fails alone.
func (w *checkinWriter) write(batch []*pendingCheckin) {
	ctx := context.Background()
	w.batches.Add(1)
	w.records.Add(int64(len(batch)))
	var results []checkinResult
	err := w.db.Write(ctx, func(tx *Tx) error {
		var err error
		results, err = tx.storeBatch(ctx, batch)
		return err
	})
	if err != nil {
		for _, p := range batch {
			var r checkinResult
			err := w.db.Write(ctx, func(tx *Tx) error {
				r = tx.storeCheckin(ctx, p, map[string]*Checkin{})
				if r.err != nil && !isDomain(r.err) {
					return r.err
				}
				return nil
			})
			if err != nil {
				r = checkinResult{err: err}
			}
			p.done <- r
		}
		return
	}
	for i, p := range batch {
		p.done <- results[i]
	}
}

// storeBatch stores a batch with a few set statements (the parser cost of
// one statement per record dominated the writer): the ids already stored,
// the devices still active, then one multi-row INSERT of the new records.
// Duplicates inside the batch are answered like replays. An insert that
// does not add every row (a concurrent writer on PostgreSQL) fails the
// batch, which write then retries record by record.
func (tx *Tx) storeBatch(ctx context.Context, batch []*pendingCheckin) ([]checkinResult, error) {
	ids, devs := make([]any, 0, len(batch)), make([]any, 0, 4)
	seenDev := map[string]bool{}
	for _, p := range batch {
		ids = append(ids, p.c.ID)
		if !seenDev[p.c.DeviceID] {
			seenDev[p.c.DeviceID] = true
			devs = append(devs, p.c.DeviceID)
		}
	}
	stored := map[string]*Checkin{}
	rows, err := tx.Query(ctx, `SELECT `+checkinColumns+` FROM checkins WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, ids...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		c, err := scanCheckin(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		stored[c.ID] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	active := map[string]bool{}
	rows, err = tx.Query(ctx, `SELECT id FROM devices WHERE retired_at IS NULL AND id IN (?`+strings.Repeat(", ?", len(devs)-1)+`)`, devs...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		active[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	results := make([]checkinResult, len(batch))
	var values []string
	var args []any
	for i, p := range batch {
		c := p.c
		if prev, ok := stored[c.ID]; ok {
			if prev.BodySHA256 != c.BodySHA256 || prev.PersonID != c.PersonID {
				results[i] = checkinResult{err: errCheckinConflict}
			} else {
				results[i] = checkinResult{c: prev}
			}
			continue
		}
		if !active[c.DeviceID] {
			results[i] = checkinResult{err: casework.ErrDeviceRetired()}
			continue
		}
		stored[c.ID] = c
		results[i] = checkinResult{c: c, created: true}
		values = append(values, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, c.ID, c.PersonID, c.DeviceID, c.OrgID, c.TakenAt, c.ReceivedAt, c.LocalDate, p.locEnc, c.AccuracyM, c.PhotoSHA256,
			c.Signature, c.BodySHA256, string(c.Verdict), c.PolicyRef)
	}
	if len(values) == 0 {
		return results, nil
	}
	res, err := tx.Exec(ctx, `INSERT INTO checkins (id, person_id, device_id, org_id, taken_at, received_at, local_date, loc_enc, accuracy_m,
			photo_sha256, signature, body_sha256, verdict, policy_version_id) VALUES `+strings.Join(values, ", ")+` ON CONFLICT (id) DO NOTHING`, args...)
	if err != nil {
		return nil, fmt.Errorf("insert check-ins: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != int64(len(values)) {
		return nil, fmt.Errorf("insert check-ins: %d of %d rows added (a concurrent writer): %v", n, len(values), err)
	}
	return results, nil
}

func isDomain(err error) bool {
	var e *casework.Error
	return errors.As(err, &e)
}

var errCheckinConflict = casework.Errorf(casework.ECONFLICT, "该签到编号已用于另一条不同的签到记录", "this check-in id is already used by a different check-in")

// storeCheckin inserts one record unless its id is stored (or earlier in
// the batch): the same body answers the stored record, another body
// ECONFLICT. The device must still be active at commit.
func (tx *Tx) storeCheckin(ctx context.Context, p *pendingCheckin, seen map[string]*Checkin) checkinResult {
	c := p.c
	if prev, ok := seen[c.ID]; ok {
		if prev.BodySHA256 != c.BodySHA256 {
			return checkinResult{err: errCheckinConflict}
		}
		return checkinResult{c: prev}
	}
	res, err := tx.Exec(ctx, `INSERT INTO checkins (id, person_id, device_id, org_id, taken_at, received_at, local_date, loc_enc, accuracy_m,
			photo_sha256, signature, body_sha256, verdict, policy_version_id)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM devices WHERE id = ? AND retired_at IS NULL)
		ON CONFLICT (id) DO NOTHING`,
		c.ID, c.PersonID, c.DeviceID, c.OrgID, c.TakenAt, c.ReceivedAt, c.LocalDate, p.locEnc, c.AccuracyM, c.PhotoSHA256, c.Signature,
		c.BodySHA256, string(c.Verdict), c.PolicyRef, c.DeviceID)
	if err != nil {
		return checkinResult{err: fmt.Errorf("insert check-in: %w", err)}
	}
	if n, err := res.RowsAffected(); err != nil {
		return checkinResult{err: err}
	} else if n == 1 {
		seen[c.ID] = c
		return checkinResult{c: c, created: true}
	}
	stored, err := scanCheckin(tx.QueryRow(ctx, `SELECT `+checkinColumns+` FROM checkins WHERE id = ?`, c.ID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return checkinResult{err: casework.ErrDeviceRetired()}
	case err != nil:
		return checkinResult{err: err}
	case stored.BodySHA256 != c.BodySHA256 || stored.PersonID != c.PersonID:
		return checkinResult{err: errCheckinConflict}
	}
	seen[c.ID] = stored
	return checkinResult{c: stored}
}

// CountCheckins counts stored check-ins with the ids (tests and the load
// generator's crash check).
func (db *DB) CountCheckins(ctx context.Context, ids []string) (map[string]int, error) {
	out := map[string]int{}
	err := db.Read(ctx, func(tx *Tx) error {
		for start := 0; start < len(ids); start += 500 {
			part := ids[start:min(start+500, len(ids))]
			args := make([]any, len(part))
			for i, id := range part {
				args[i] = id
			}
			rows, err := tx.Query(ctx, `SELECT id, COUNT(*) FROM checkins WHERE id IN (?`+strings.Repeat(", ?", len(part)-1)+`) GROUP BY id`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				var n int
				if err := rows.Scan(&id, &n); err != nil {
					rows.Close()
					return err
				}
				out[id] = n
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// personSpans returns the person's status history as spans in date order:
// pending from the decision's receipt, executing from the report date,
// then every status event (R30) from its effective date.
func (tx *Tx) personSpans(ctx context.Context, personID string) ([]casework.StatusSpan, error) {
	var spans []casework.StatusSpan
	rows, err := tx.Query(ctx, `SELECT received_date, report_date FROM measures WHERE person_id = ? ORDER BY received_date, created_at`, personID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var recv casework.Date
		var rep sql.Null[casework.Date]
		if err := rows.Scan(&recv, &rep); err != nil {
			rows.Close()
			return nil, err
		}
		spans = append(spans, casework.StatusSpan{From: recv, Status: casework.StatusPendingReport})
		if rep.Valid && !rep.V.IsZero() {
			spans = append(spans, casework.StatusSpan{From: rep.V, Status: casework.StatusExecuting})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT effective_date, to_status FROM status_events WHERE person_id = ? ORDER BY effective_date, created_at`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s casework.StatusSpan
		var st string
		if err := rows.Scan(&s.From, &st); err != nil {
			return nil, err
		}
		s.Status = casework.Status(st)
		spans = append(spans, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(spans, func(a, b casework.StatusSpan) int { return a.From.Compare(b.From) })
	return spans, nil
}

// checkedDays returns the local dates in [from, to] with a check-in.
func (tx *Tx) checkedDays(ctx context.Context, personID string, from, to casework.Date) (map[casework.Date]bool, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT local_date FROM checkins WHERE person_id = ? AND local_date >= ? AND local_date <= ?`, personID, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[casework.Date]bool{}
	for rows.Next() {
		var d casework.Date
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out[d] = true
	}
	return out, rows.Err()
}

// clampPeriod checks the period and ends it today (org zone) at the latest.
func clampPeriod(from, to, today casework.Date) (casework.Date, casework.Date, error) {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return from, to, casework.Invalid("from", "请给出有效的起止日期（起不晚于止）", "give a valid period: from on or before to")
	}
	if from.DaysUntil(to) > 400 {
		return from, to, casework.Invalid("to", "统计期间最长400天", "the period may be at most 400 days")
	}
	if to.After(today) {
		to = today
	}
	return from, to, nil
}

func (tx *Tx) personDuty(ctx context.Context, personID string, from, to casework.Date) (casework.Duty, error) {
	spans, err := tx.personSpans(ctx, personID)
	if err != nil {
		return casework.Duty{}, err
	}
	due := casework.DutyDays(spans, from, to)
	if len(due) == 0 {
		return casework.Duty{}, nil
	}
	checked, err := tx.checkedDays(ctx, personID, from, to)
	if err != nil {
		return casework.Duty{}, err
	}
	return casework.ComputeDuty(due, checked), nil
}

// PersonDuty returns the person's daily check-in duty over [from, to]
// (local dates of the place of execution; the period ends today at the
// latest): days due (executing and not suspended; approved leave keeps
// the duty), days done, and the missed days.
func (db *DB) PersonDuty(ctx context.Context, actor *casework.Actor, personID string, from, to casework.Date) (casework.Duty, error) {
	var d casework.Duty
	err := db.Read(ctx, func(tx *Tx) error {
		r, err := tx.personFor(ctx, actor, personID, nil)
		if err != nil {
			return err
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		if from, to, err = clampPeriod(from, to, tx.today(org)); err != nil {
			return err
		}
		d, err = tx.personDuty(ctx, personID, from, to)
		return err
	})
	return d, err
}

// OrgDuty is the check-in rate of an org subtree over a period.
type OrgDuty struct {
	Persons int // persons with any duty in the period
	Due     int
	Done    int
}

// Rate is Done ÷ Due (每日签到率); 0 when nothing is due.
func (o OrgDuty) Rate() float64 {
	if o.Due == 0 {
		return 0
	}
	return float64(o.Done) / float64(o.Due)
}

// OrgCheckinDuty sums the duty of the persons whose place of execution is
// in the org's subtree (within the actor's read scope).
func (db *DB) OrgCheckinDuty(ctx context.Context, actor *casework.Actor, orgID string, from, to casework.Date) (OrgDuty, error) {
	var out OrgDuty
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermReadPersons, orgID)
		if err != nil {
			return err
		}
		if from, to, err = clampPeriod(from, to, tx.today(org)); err != nil {
			return err
		}
		scope, args := scopeClause("o.path", actor.Scope(casework.PermReadPersons))
		rows, err := tx.Query(ctx, `SELECT p.id FROM persons p JOIN orgs o ON o.id = p.org_id WHERE o.path LIKE ? ESCAPE '\' AND `+scope,
			append([]any{likePrefix(org.Path)}, args...)...)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			d, err := tx.personDuty(ctx, id, from, to)
			if err != nil {
				return err
			}
			if d.Due > 0 {
				out.Persons++
				out.Due += d.Due
				out.Done += d.Done
			}
		}
		return nil
	})
	return out, err
}

// ListCheckins returns the person's check-ins with local dates in
// [from, to], oldest first (the console's month calendar). No location.
func (db *DB) ListCheckins(ctx context.Context, actor *casework.Actor, personID string, from, to casework.Date) ([]*Checkin, error) {
	var out []*Checkin
	err := db.Read(ctx, func(tx *Tx) error {
		if _, err := tx.personFor(ctx, actor, personID, nil); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+checkinColumns+` FROM checkins WHERE person_id = ? AND local_date >= ? AND local_date <= ?
			ORDER BY taken_at, id`, personID, from, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCheckin(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

// CheckinPoint opens the location of a check-in for a reader with
// sensitive access to the file (R36, R37); the read is audited.
func (db *DB) CheckinPoint(ctx context.Context, actor *casework.Actor, checkinID string) (lat, lng float64, err error) {
	err = db.Write(ctx, func(tx *Tx) error {
		var personID, sealed string
		if err := tx.QueryRow(ctx, `SELECT person_id, loc_enc FROM checkins WHERE id = ?`, checkinID).Scan(&personID, &sealed); err != nil {
			return notFound(err, "签到记录", "check-in")
		}
		r, err := tx.personFor(ctx, actor, personID, func(a casework.PersonAccess) bool { return a.Sensitive })
		if err != nil {
			if casework.IsCode(err, casework.ENOTFOUND) {
				return casework.NotFound("签到记录", "check-in")
			}
			return err
		}
		point, err := db.vault.Open(sealed, "checkin.loc:"+checkinID)
		if err != nil {
			return fmt.Errorf("open check-in location: %w", err)
		}
		a, b, _ := strings.Cut(point, ",")
		if lat, err = strconv.ParseFloat(a, 64); err != nil {
			return err
		}
		if lng, err = strconv.ParseFloat(b, 64); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "checkin.point.read", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"checkin_id": checkinID}})
	})
	return lat, lng, err
}

// BoardRow is one person on a community's "today" board.
type BoardRow struct {
	PersonID string
	Name     string
	Status   casework.Status
	Checked  bool
	Verdict  casework.Verdict // of the day's last check-in
	At       time.Time
}

// TodayBoard lists the persons executing in the org's subtree (read scope)
// and whether each has checked in today (org zone); not yet checked in
// first.
func (db *DB) TodayBoard(ctx context.Context, actor *casework.Actor, orgID string) ([]BoardRow, casework.Date, error) {
	var out []BoardRow
	var today casework.Date
	err := db.Read(ctx, func(tx *Tx) error {
		org, err := tx.orgFor(ctx, actor, casework.PermReadPersons, orgID)
		if err != nil {
			return err
		}
		today = tx.today(org)
		scope, args := scopeClause("o.path", actor.Scope(casework.PermReadPersons))
		args = append([]any{today, likePrefix(org.Path), string(casework.StatusExecuting), string(casework.StatusOnLeave)}, args...)
		rows, err := tx.Query(ctx, `SELECT p.id, p.name, p.status, c.verdict, c.taken_at FROM persons p JOIN orgs o ON o.id = p.org_id
			LEFT JOIN checkins c ON c.id = (SELECT c2.id FROM checkins c2 WHERE c2.person_id = p.id AND c2.local_date = ? ORDER BY c2.taken_at DESC LIMIT 1)
			WHERE o.path LIKE ? ESCAPE '\' AND p.status IN (?, ?) AND `+scope+` ORDER BY p.name_key, p.id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b BoardRow
			var st string
			var verdict sql.NullString
			var at sql.NullTime
			if err := rows.Scan(&b.PersonID, &b.Name, &st, &verdict, &at); err != nil {
				return err
			}
			b.Status, b.Checked, b.Verdict, b.At = casework.Status(st), verdict.Valid, casework.Verdict(verdict.String), scanTime(at)
			out = append(out, b)
		}
		return rows.Err()
	})
	slices.SortStableFunc(out, func(a, b BoardRow) int {
		switch {
		case a.Checked == b.Checked:
			return 0
		case !a.Checked:
			return -1
		}
		return 1
	})
	return out, today, err
}

// CheckinDay is a person's check-in duty on one local date (the app's
// "today").
type CheckinDay struct {
	Date    casework.Date
	Due     bool
	Done    bool
	Verdict casework.Verdict // of the day's last check-in
	Count   int
}

// CheckinToday returns the device's person's duty today in the zone of the
// place of execution.
func (db *DB) CheckinToday(ctx context.Context, personID string) (CheckinDay, error) {
	var out CheckinDay
	err := db.Read(ctx, func(tx *Tx) error {
		var orgID string
		if err := tx.QueryRow(ctx, `SELECT org_id FROM persons WHERE id = ?`, personID).Scan(&orgID); err != nil {
			return notFound(err, "人员档案", "person")
		}
		org, err := tx.orgByID(ctx, orgID)
		if err != nil {
			return err
		}
		out.Date = tx.today(org)
		spans, err := tx.personSpans(ctx, personID)
		if err != nil {
			return err
		}
		out.Due = len(casework.DutyDays(spans, out.Date, out.Date)) == 1
		rows, err := tx.Query(ctx, `SELECT verdict FROM checkins WHERE person_id = ? AND local_date = ? ORDER BY taken_at`, personID, out.Date)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return err
			}
			out.Count++
			out.Done, out.Verdict = true, casework.Verdict(v)
		}
		return rows.Err()
	})
	return out, err
}

// CheckinPhoto returns the photo key (SHA-256) of a check-in for a reader
// with sensitive access to the file (the selfie is sensitive personal
// data, R36); the read is audited. ENOTFOUND when the check-in has none.
func (db *DB) CheckinPhoto(ctx context.Context, actor *casework.Actor, checkinID string) (string, error) {
	var sha string
	err := db.Write(ctx, func(tx *Tx) error {
		var personID string
		if err := tx.QueryRow(ctx, `SELECT person_id, photo_sha256 FROM checkins WHERE id = ?`, checkinID).Scan(&personID, &sha); err != nil {
			return notFound(err, "签到记录", "check-in")
		}
		r, err := tx.personFor(ctx, actor, personID, func(a casework.PersonAccess) bool { return a.Sensitive })
		if err != nil {
			if casework.IsCode(err, casework.ENOTFOUND) {
				return casework.NotFound("签到记录", "check-in")
			}
			return err
		}
		if sha == "" {
			return casework.NotFound("签到照片", "check-in photo")
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "checkin.photo.read", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"checkin_id": checkinID}})
	})
	return sha, err
}
