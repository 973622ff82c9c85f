package store

// idsignals.go: the in-app challenge (人机分离, issue 17 §4) and the
// identity signals (issue 17 §5): a new device, a mock location, an
// impossible speed between consecutive check-ins and the same face on two
// persons. Each is listed for the worker with its evidence and never acted
// on automatically (R32); nothing is stored — they are computed from the
// records when asked.

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// Challenge is one drawn challenge of a person: on Day, issued at Issued,
// to be answered by a check-in until Deadline.
type Challenge struct {
	PersonID, PersonName, OrgName string
	Day                           casework.Date
	Issued, Deadline              time.Time
	Minutes                       int
	Answered                      bool
	AnsweredBy                    string // the check-in that answered it
}

// challengeSeeds opens seeds of seed orgs per period, once per call.
type challengeSeeds struct {
	db    *DB
	tx    *Tx
	orgs  map[string]*casework.Org
	cache map[string]map[string][]byte // seed org → period → seed
}

func (cs *challengeSeeds) scorer(ctx context.Context, seedOrg string) (*casework.Scorer, error) {
	m, ok := cs.cache[seedOrg]
	if !ok {
		m = map[string][]byte{}
		rows, err := cs.tx.Query(ctx, `SELECT period, seed_enc FROM draw_seeds WHERE org_id = ?`, seedOrg)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var p, enc string
			if err := rows.Scan(&p, &enc); err != nil {
				return nil, err
			}
			plain, err := cs.db.vault.Open(enc, seedCtx(seedOrg, p))
			if err != nil {
				return nil, fmt.Errorf("open seed %s/%s: %w", seedOrg, p, err)
			}
			if m[p], err = hex.DecodeString(plain); err != nil {
				return nil, err
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		cs.cache[seedOrg] = m
	}
	return casework.NewScorer(func(p string) ([]byte, bool) { s, ok := m[p]; return s, ok }), nil
}

// challengesOf returns the person's challenges on the days from..to (the
// drawn days of each month in the range, at the drawn moment of the
// window in force that day). A month whose seed is not committed has none.
func (cs *challengeSeeds) challengesOf(ctx context.Context, personID, orgID string, from, to casework.Date) ([]Challenge, error) {
	org := cs.orgs[orgID]
	if org == nil {
		return nil, nil
	}
	sc, err := cs.scorer(ctx, SeedOrg(cs.orgs, org).ID)
	if err != nil {
		return nil, err
	}
	var out []Challenge
	for m := casework.NewDate(from.Year, from.Month, 1); !m.After(to); m = m.AddMonths(1) {
		pol, err := cs.tx.resolvePolicy(ctx, org, m)
		if err != nil {
			return nil, err
		}
		n := pol.Value("identity.challenge_per_month").Int()
		if n == 0 {
			continue
		}
		days, err := casework.ChallengeDays(sc, personID, m, n)
		if err != nil {
			continue // no committed seed for the month: no challenge
		}
		for _, d := range days {
			if d.Before(from) || d.After(to) {
				continue
			}
			dp, err := cs.tx.resolvePolicy(ctx, org, d)
			if err != nil {
				return nil, err
			}
			mins := dp.Value("identity.challenge_minutes").Int()
			at, ok := casework.ChallengeAt(sc, personID, d, dp.Value("checkin.window").Window(), mins, org.Location())
			if !ok {
				continue
			}
			out = append(out, Challenge{PersonID: personID, Day: d, Issued: at, Deadline: at.Add(time.Duration(mins) * time.Minute), Minutes: mins})
		}
	}
	return out, nil
}

// answer marks the challenge answered by a check-in of the person taken
// within its time (casework.AnswersChallenge).
func (tx *Tx) answer(ctx context.Context, c *Challenge) error {
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM checkins WHERE person_id = ? AND taken_at >= ? AND taken_at <= ? ORDER BY taken_at LIMIT 1`,
		c.PersonID, c.Issued.UTC(), c.Deadline.UTC()).Scan(&id)
	if err == sql.ErrNoRows {
		return nil
	}
	c.Answered, c.AnsweredBy = err == nil, id
	return err
}

// AppChallenge is today's challenge for the device's person once it is
// issued (nil before its moment, on a day without one, and for a device
// activated after it was issued).
func (db *DB) AppChallenge(ctx context.Context, dev *AppDevice) (*Challenge, error) {
	var out *Challenge
	err := db.Read(ctx, func(tx *Tx) error {
		var orgID string
		if err := tx.QueryRow(ctx, `SELECT org_id FROM persons WHERE id = ?`, dev.PersonID).Scan(&orgID); err != nil {
			return notFound(err, "人员档案", "person")
		}
		orgs, err := tx.allOrgs(ctx)
		if err != nil || orgs[orgID] == nil {
			return err
		}
		today := casework.DateOf(tx.now, orgs[orgID].Location())
		cs := &challengeSeeds{db: db, tx: tx, orgs: orgs, cache: map[string]map[string][]byte{}}
		cs2, err := cs.challengesOf(ctx, dev.PersonID, orgID, today, today)
		if err != nil {
			return err
		}
		for i := range cs2 {
			c := cs2[i]
			if tx.now.Before(c.Issued) || dev.ActivatedAt.After(c.Issued) {
				continue
			}
			if err := tx.answer(ctx, &c); err != nil {
				return err
			}
			out = &c
		}
		return nil
	})
	return out, err
}

// UnansweredChallenges lists the challenges of the last days (today
// included once their deadline passed) that no check-in answered, for the
// persons the actor may read with sensitive access (a worker: its
// caseload). A person without an active device at the moment owed none.
// Listed for a person to look into — never a violation by itself (R32).
func (db *DB) UnansweredChallenges(ctx context.Context, actor *casework.Actor, days int) ([]Challenge, error) {
	var out []Challenge
	err := db.Read(ctx, func(tx *Tx) error {
		orgs, err := tx.allOrgs(ctx)
		if err != nil {
			return err
		}
		scope, args := personScope(actor, casework.PermSensitive)
		rows, err := tx.Query(ctx, `SELECT p.id, p.name, o.name, p.org_id, d.activated_at, d.retired_at FROM persons p JOIN orgs o ON o.id = p.org_id
			JOIN devices d ON d.person_id = p.id WHERE `+scope+` ORDER BY p.name, p.id, d.activated_at`, args...)
		if err != nil {
			return err
		}
		type dev struct{ from, to time.Time }
		type person struct {
			id, name, org, orgID string
			devs                 []dev
		}
		var ps []*person
		for rows.Next() {
			var p person
			var from time.Time
			var to sql.NullTime
			if err := rows.Scan(&p.id, &p.name, &p.org, &p.orgID, &from, &to); err != nil {
				rows.Close()
				return err
			}
			d := dev{from, scanTime(to)}
			if n := len(ps); n > 0 && ps[n-1].id == p.id {
				ps[n-1].devs = append(ps[n-1].devs, d)
				continue
			}
			p.devs = []dev{d}
			ps = append(ps, &p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		cs := &challengeSeeds{db: db, tx: tx, orgs: orgs, cache: map[string]map[string][]byte{}}
		for _, p := range ps {
			o := orgs[p.orgID]
			if o == nil {
				continue
			}
			today := casework.DateOf(tx.now, o.Location())
			list, err := cs.challengesOf(ctx, p.id, p.orgID, today.AddDays(-days), today)
			if err != nil {
				return err
			}
			for _, c := range list {
				if !c.Deadline.Before(tx.now) {
					continue // still open
				}
				owed := slices.ContainsFunc(p.devs, func(d dev) bool {
					return !d.from.After(c.Issued) && (d.to.IsZero() || d.to.After(c.Issued))
				})
				if !owed {
					continue
				}
				if err := tx.answer(ctx, &c); err != nil {
					return err
				}
				if !c.Answered {
					c.PersonName, c.OrgName = p.name, p.org
					out = append(out, c)
				}
			}
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b Challenge) int { return b.Issued.Compare(a.Issued) })
	return out, err
}

// Signal kinds.
const (
	SignalNewDevice    = "new_device"
	SignalMockLocation = "mock_location"
	SignalSpeed        = "impossible_speed"
	SignalSameFace     = "same_face"
	SignalTamper       = "tampered_score" // a spot check whose console score disagreed with the phone's
)

// Signal is one identity signal with its evidence in both languages.
type Signal struct {
	Kind                          string
	PersonID, PersonName, OrgName string
	At                            time.Time
	EvidenceZH, EvidenceEN        string
	Link                          string // the console page of the evidence
	OtherID, OtherName            string // same face: the other person
}

// Evidence is the signal's evidence in the language.
func (s *Signal) Evidence(lang string) string {
	if lang == "en" {
		return s.EvidenceEN
	}
	return s.EvidenceZH
}

// SignalLabel names a kind of signal.
func SignalLabel(kind, lang string) string {
	l := map[string][2]string{
		SignalNewDevice:    {"新设备", "New device"},
		SignalMockLocation: {"模拟定位", "Mock location"},
		SignalSpeed:        {"不可能的移动速度", "Impossible speed"},
		SignalSameFace:     {"同一人脸出现在两人档案", "Same face on two persons"},
		SignalTamper:       {"比对分数可能被篡改", "Face score possibly altered"},
	}[kind]
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

// IdentitySignals lists the signals of the last days for the persons the
// actor may read with sensitive access (org subtree; a worker: its
// caseload), newest first. Reading them opens check-in locations and face
// embeddings, so the listing is audited.
func (db *DB) IdentitySignals(ctx context.Context, actor *casework.Actor, days int) ([]Signal, error) {
	var out []Signal
	err := db.Write(ctx, func(tx *Tx) error {
		scope, args := personScope(actor, casework.PermSensitive)
		since := tx.now.UTC().Add(-time.Duration(days) * 24 * time.Hour)
		bj := casework.LoadLocation("")
		fmtT := func(t time.Time) string { return t.In(bj).Format("2006-01-02 15:04") }
		// New devices: activated in the period (policy identity.new_device_days
		// of the person's place, at most the period) replacing another.
		rows, err := tx.Query(ctx, `SELECT p.id, p.name, o.name, p.org_id, d.activated_at, d.retire_reason
			FROM devices d JOIN persons p ON p.id = d.person_id JOIN orgs o ON o.id = p.org_id
			WHERE p.id IN (SELECT x.person_id FROM devices x WHERE x.activated_at >= ?) AND `+scope+` ORDER BY p.id, d.activated_at`,
			append([]any{since}, args...)...)
		if err != nil {
			return err
		}
		type nd struct {
			s     Signal
			orgID string
		}
		var nds []nd
		var prevPerson, prevReason string
		var prevAt time.Time
		for rows.Next() {
			var s Signal
			var orgID, reason string
			if err := rows.Scan(&s.PersonID, &s.PersonName, &s.OrgName, &orgID, &s.At, &reason); err != nil {
				rows.Close()
				return err
			}
			replaced := prevPerson == s.PersonID
			pAt, pReason := prevAt, prevReason
			prevPerson, prevAt, prevReason = s.PersonID, s.At, reason
			if !replaced || s.At.Before(since) {
				continue
			}
			s.Kind, s.Link = SignalNewDevice, "/persons/"+s.PersonID+"/app"
			s.EvidenceZH = fmt.Sprintf("%s 启用新手机，替换了 %s 启用的手机", fmtT(s.At), fmtT(pAt))
			s.EvidenceEN = fmt.Sprintf("A new phone activated %s replaced the one activated %s", fmtT(s.At), fmtT(pAt))
			switch r := strings.TrimSpace(pReason); r {
			case "":
			case "replaced": // Activate retires the old phone with this code
				s.EvidenceZH += "（原手机随新手机激活而停用）"
				s.EvidenceEN += " (the old phone was retired when the new one was activated)"
			default:
				s.EvidenceZH += "（原手机停用原因：" + r + "）"
				s.EvidenceEN += " (the old phone was retired: " + r + ")"
			}
			nds = append(nds, nd{s, orgID})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, n := range nds {
			org, err := tx.orgByID(ctx, n.orgID)
			if err != nil {
				return err
			}
			pol, err := tx.resolvePolicy(ctx, org, casework.DateOf(tx.now, org.Location()))
			if err != nil {
				return err
			}
			if n.s.At.After(tx.now.Add(-time.Duration(pol.Value("identity.new_device_days").Int()) * 24 * time.Hour)) {
				out = append(out, n.s)
			}
		}
		// Mock locations reported by the phone.
		rows, err = tx.Query(ctx, `SELECT c.id, p.id, p.name, o.name, c.taken_at FROM checkins c JOIN persons p ON p.id = c.person_id JOIN orgs o ON o.id = p.org_id
			WHERE c.taken_at >= ? AND c.mock_location = ? AND `+scope, append([]any{since, true}, args...)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s Signal
			var cid string
			if err := rows.Scan(&cid, &s.PersonID, &s.PersonName, &s.OrgName, &s.At); err != nil {
				rows.Close()
				return err
			}
			s.Kind, s.Link = SignalMockLocation, "/checkins/"+cid+"/point"
			s.EvidenceZH = fmt.Sprintf("%s 的签到，手机报告位置来自模拟定位", fmtT(s.At))
			s.EvidenceEN = fmt.Sprintf("The check-in of %s: the phone reported a mock location", fmtT(s.At))
			out = append(out, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Spot checks and identity reviews whose console score disagreed
		// with the phone's.
		for _, src := range []struct{ query, link, zh, en string }{
			{`SELECT i.id, p.id, p.name, o.name, i.console_at, i.tamper_reason FROM spot_check_items i
			JOIN persons p ON p.id = i.person_id JOIN orgs o ON o.id = p.org_id
			WHERE i.tamper = ? AND i.console_at >= ? AND `, "/spot-checks/%s", "人脸抽查：", "Spot check: "},
			{`SELECT c.id, p.id, p.name, o.name, c.identity_console_at, c.identity_tamper_reason FROM checkins c
			JOIN persons p ON p.id = c.person_id JOIN orgs o ON o.id = p.org_id
			WHERE c.identity_tamper = ? AND c.identity_console_at >= ? AND `, "/checkins/%s/identity", "身份复核：", "Identity review: "},
		} {
			rows, err = tx.Query(ctx, src.query+scope, append([]any{true, since}, args...)...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var s Signal
				var id, reason string
				if err := rows.Scan(&id, &s.PersonID, &s.PersonName, &s.OrgName, &s.At, &reason); err != nil {
					rows.Close()
					return err
				}
				zh, en, _ := strings.Cut(reason, " / ")
				s.Kind, s.Link = SignalTamper, fmt.Sprintf(src.link, id)
				s.EvidenceZH, s.EvidenceEN = src.zh+zh, src.en+en
				out = append(out, s)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		speed, err := db.speedSignals(ctx, tx, scope, args, since, fmtT)
		if err != nil {
			return err
		}
		out = append(out, speed...)
		faces, err := db.sameFaceSignals(ctx, tx, scope, args, since, fmtT)
		if err != nil {
			return err
		}
		out = append(out, faces...)
		slices.SortStableFunc(out, func(a, b Signal) int { return b.At.Compare(a.At) })
		persons := map[string]bool{}
		for _, s := range out {
			persons[s.PersonID] = true
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "identity.signals.read", TargetType: "identity_signals",
			Detail: map[string]any{"days": days, "signals": len(out), "persons": len(persons)}})
	})
	return out, err
}

// speedSignals: consecutive check-ins of a person (in the period, and the
// one before it) further apart than identity.max_speed_kmh allows.
func (db *DB) speedSignals(ctx context.Context, tx *Tx, scope string, args []any, since time.Time, fmtT func(time.Time) string) ([]Signal, error) {
	rows, err := tx.Query(ctx, `SELECT c.id, c.loc_enc, c.taken_at, p.id, p.name, o.name, p.org_id FROM checkins c
		JOIN persons p ON p.id = c.person_id JOIN orgs o ON o.id = p.org_id
		WHERE c.taken_at >= ? AND `+scope+` ORDER BY p.id, c.taken_at, c.id`, append([]any{since.Add(-24 * time.Hour)}, args...)...)
	if err != nil {
		return nil, err
	}
	type pt struct {
		id                     string
		lat, lng               float64
		at                     time.Time
		person, name, org, oid string
	}
	var pts []pt
	for rows.Next() {
		var p pt
		var enc string
		if err := rows.Scan(&p.id, &enc, &p.at, &p.person, &p.name, &p.org, &p.oid); err != nil {
			rows.Close()
			return nil, err
		}
		plain, err := db.vault.Open(enc, "checkin.loc:"+p.id)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("open check-in location %s: %w", p.id, err)
		}
		la, ln, _ := strings.Cut(plain, ",")
		p.lat, _ = strconv.ParseFloat(la, 64)
		p.lng, _ = strconv.ParseFloat(ln, 64)
		pts = append(pts, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	maxBy := map[string]int{}
	var out []Signal
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		if a.person != b.person || b.at.Before(since) {
			continue
		}
		max, ok := maxBy[b.oid]
		if !ok {
			org, err := tx.orgByID(ctx, b.oid)
			if err != nil {
				return nil, err
			}
			pol, err := tx.resolvePolicy(ctx, org, casework.DateOf(b.at, org.Location()))
			if err != nil {
				return nil, err
			}
			max = pol.Value("identity.max_speed_kmh").Int()
			maxBy[b.oid] = max
		}
		v := casework.SpeedKmh(a.lat, a.lng, a.at, b.lat, b.lng, b.at)
		if !casework.ImpossibleSpeed(v, max) {
			continue
		}
		km := casework.DistanceM(a.lat, a.lng, b.lat, b.lng) / 1000
		mins := b.at.Sub(a.at).Minutes()
		vs := "∞"
		if !math.IsInf(v, 0) {
			vs = strconv.FormatFloat(v, 'f', 0, 64)
		}
		out = append(out, Signal{Kind: SignalSpeed, PersonID: b.person, PersonName: b.name, OrgName: b.org, At: b.at, Link: "/checkins/" + b.id + "/point",
			EvidenceZH: fmt.Sprintf("%s 与 %s 两次签到相距 %.1f 公里，间隔 %.0f 分钟，约 %s 公里/小时（上限 %d）", fmtT(a.at), fmtT(b.at), km, mins, vs, max),
			EvidenceEN: fmt.Sprintf("Check-ins at %s and %s are %.1f km apart, %.0f minutes: about %s km/h (limit %d)", fmtT(a.at), fmtT(b.at), km, mins, vs, max)})
	}
	return out, nil
}

// sameFaceSignals: a check-in embedding (in the period) or a current
// reference embedding of one person whose similarity to another person's
// current reference reaches the match threshold — both persons in the
// actor's scope (Human's similarity, casework.FaceSimilarity).
func (db *DB) sameFaceSignals(ctx context.Context, tx *Tx, scope string, args []any, since time.Time, fmtT func(time.Time) string) ([]Signal, error) {
	type ref struct {
		id, person, name, org, orgID string
		at                           time.Time
		emb                          []float32
	}
	rows, err := tx.Query(ctx, `SELECT f.id, f.embedding_enc, f.taken_at, p.id, p.name, o.name, p.org_id FROM face_references f
		JOIN persons p ON p.id = f.person_id JOIN orgs o ON o.id = p.org_id
		WHERE f.replaced_at IS NULL AND f.embedding_enc <> '' AND `+scope+` ORDER BY p.id`, args...)
	if err != nil {
		return nil, err
	}
	var refs []ref
	for rows.Next() {
		var r ref
		var enc string
		if err := rows.Scan(&r.id, &enc, &r.at, &r.person, &r.name, &r.org, &r.orgID); err != nil {
			rows.Close()
			return nil, err
		}
		if r.emb, err = db.openEmbedding(enc, "face.ref:"+r.id); err != nil {
			rows.Close()
			return nil, err
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(refs) < 2 {
		return nil, nil
	}
	thresholds := map[string]float64{}
	thresholdOf := func(orgID string, at time.Time) (float64, error) {
		if t, ok := thresholds[orgID]; ok {
			return t, nil
		}
		org, err := tx.orgByID(ctx, orgID)
		if err != nil {
			return 0, err
		}
		pol, err := tx.resolvePolicy(ctx, org, casework.DateOf(at, org.Location()))
		if err != nil {
			return 0, err
		}
		thresholds[orgID] = matchThreshold(pol)
		return thresholds[orgID], nil
	}
	var out []Signal
	// References against references: each pair once.
	for i := range refs {
		for j := i + 1; j < len(refs); j++ {
			a, b := refs[i], refs[j]
			if a.person == b.person {
				continue
			}
			sim, ok := casework.FaceSimilarity(a.emb, b.emb)
			th, err := thresholdOf(a.orgID, tx.now)
			if err != nil {
				return nil, err
			}
			if ok && sim >= th-1e-9 {
				out = append(out, Signal{Kind: SignalSameFace, PersonID: a.person, PersonName: a.name, OrgName: a.org, At: latest(a.at, b.at),
					OtherID: b.person, OtherName: b.name, Link: "/persons/" + b.person,
					EvidenceZH: fmt.Sprintf("%s 的底照与 %s 的底照相似度 %.2f（阈值 %.2f）", a.name, b.name, sim, th),
					EvidenceEN: fmt.Sprintf("The reference photo of %s and that of %s: similarity %.2f (threshold %.2f)", a.name, b.name, sim, th)})
			}
		}
	}
	// Check-in embeddings of the period against other persons' references.
	rows, err = tx.Query(ctx, `SELECT c.id, c.face_embedding, c.taken_at, p.id, p.name, o.name, p.org_id FROM checkins c
		JOIN persons p ON p.id = c.person_id JOIN orgs o ON o.id = p.org_id
		WHERE c.taken_at >= ? AND c.face_embedding <> '' AND `+scope, append([]any{since}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var cid, enc, pid, name, org, orgID string
		var at time.Time
		if err := rows.Scan(&cid, &enc, &at, &pid, &name, &org, &orgID); err != nil {
			return nil, err
		}
		emb, err := db.openEmbedding(enc, "checkin.face:"+cid)
		if err != nil {
			return nil, err
		}
		th, err := thresholdOf(orgID, at)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			if r.person == pid {
				continue
			}
			if sim, ok := casework.FaceSimilarity(emb, r.emb); ok && sim >= th-1e-9 {
				out = append(out, Signal{Kind: SignalSameFace, PersonID: pid, PersonName: name, OrgName: org, At: at,
					OtherID: r.person, OtherName: r.name, Link: "/persons/" + r.person,
					EvidenceZH: fmt.Sprintf("%s %s 的签到自拍与 %s 的底照相似度 %.2f（阈值 %.2f）", name, fmtT(at), r.name, sim, th),
					EvidenceEN: fmt.Sprintf("The selfie of %s's check-in at %s and the reference photo of %s: similarity %.2f (threshold %.2f)", name, fmtT(at), r.name, sim, th)})
			}
		}
	}
	return out, rows.Err()
}

// openEmbedding opens a sealed embedding (base64 float32 LE inside).
func (db *DB) openEmbedding(enc, context string) ([]float32, error) {
	plain, err := db.vault.Open(enc, context)
	if err != nil {
		return nil, fmt.Errorf("open embedding (%s): %w", context, err)
	}
	return casework.DecodeEmbedding(plain)
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
