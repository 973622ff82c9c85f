package store

// spotchecks.go: staff spot checks of identity at check-in (issue 17 §4;
// R26, R32). After each ISO week a sample of every worker's persons'
// check-ins is drawn with the test-day seeds (casework.DrawSpotSample), so
// anyone holding the revealed seeds recomputes it (VerifySpotSamples,
// `kangfu verify-draws`). Each item lands in the worker's inbox; the
// worker compares the reference photo with the selfie, the console
// recomputes the score in the staff browser and a disagreement with the
// phone's score is flagged as possible tampering. Nothing follows from a
// finding automatically (R32).

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"kangfu/internal/casework"
)

// SpotRun counts what one DrawSpotChecks run did.
type SpotRun struct {
	Samples int // workers sampled
	Items   int // check-ins drawn
	Skipped int // workers whose seed was not committed
}

// spotWeeksBack: the job samples the last completed week and the one
// before it (a server down over a Monday catches up).
const spotWeeksBack = 2

// DrawSpotChecks draws the spot-check samples of the completed ISO weeks
// not sampled yet (in the default zone). It is idempotent: a sample is
// unique per worker and week, and a second run draws nothing.
func (db *DB) DrawSpotChecks(ctx context.Context) (SpotRun, error) {
	var run SpotRun
	today := casework.DateOf(db.Now(), nil)
	_, thisMonday, _ := casework.ISOWeek(today)
	for i := spotWeeksBack; i >= 1; i-- {
		if err := db.drawSpotWeek(ctx, thisMonday.AddDays(-7*i), &run); err != nil {
			return run, err
		}
	}
	return run, nil
}

type spotCand struct {
	casework.SpotCandidate
	orgID, personID string
}

func (db *DB) drawSpotWeek(ctx context.Context, monday casework.Date, run *SpotRun) error {
	week, from, to := casework.ISOWeek(monday)
	period := casework.PeriodOf(to)
	byWorker := map[string][]spotCand{}
	done := map[string]bool{}
	seeds := map[string][]byte{}
	var orgs map[string]*casework.Org
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		if orgs, err = tx.allOrgs(ctx); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT worker_id FROM spot_check_samples WHERE week = ?`, week)
		if err != nil {
			return err
		}
		for rows.Next() {
			var w string
			if err := rows.Scan(&w); err != nil {
				rows.Close()
				return err
			}
			done[w] = true
		}
		rows.Close()
		rows, err = tx.Query(ctx, `SELECT c.id, c.org_id, c.person_id, p.worker_id FROM checkins c JOIN persons p ON p.id = c.person_id
			WHERE p.worker_id IS NOT NULL AND c.local_date >= ? AND c.local_date <= ? AND `+notSealed+` ORDER BY p.worker_id, c.id`, from, to)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c spotCand
			var worker string
			if err := rows.Scan(&c.CheckinID, &c.orgID, &c.personID, &worker); err != nil {
				rows.Close()
				return err
			}
			if o := orgs[c.orgID]; o != nil && !done[worker] {
				c.SeedOrgID = SeedOrg(orgs, o).ID
				byWorker[worker] = append(byWorker[worker], c)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// The seeds of the period, committed before the week began (a
		// seed committed later could have been chosen knowing the ids).
		rows, err = tx.Query(ctx, `SELECT org_id, seed_enc, committed_at FROM draw_seeds WHERE period = ?`, period)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var org, enc string
			var at time.Time
			if err := rows.Scan(&org, &enc, &at); err != nil {
				return err
			}
			o := orgs[org]
			if o == nil || !at.Before(from.In(o.Location())) {
				continue
			}
			plain, err := db.vault.Open(enc, seedCtx(org, period))
			if err != nil {
				return fmt.Errorf("open seed %s/%s: %w", org, period, err)
			}
			raw, err := hex.DecodeString(plain)
			if err != nil {
				return err
			}
			seeds[org] = raw
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	workers := make([]string, 0, len(byWorker))
	for w := range byWorker {
		workers = append(workers, w)
	}
	slices.Sort(workers)
	src := func(org, p string) ([]byte, bool) { s, ok := seeds[org]; return s, ok && p == period }
	return db.Write(ctx, func(tx *Tx) error {
		for _, w := range workers {
			cands := byWorker[w]
			// The share is the policy of the first check-in's place on the
			// week's last day (a worker's persons share a community).
			org := orgs[cands[0].orgID]
			pol, err := tx.resolvePolicy(ctx, org, to)
			if err != nil {
				return err
			}
			percent := pol.Value("identity.spot_check_percent").Int()
			pub := make([]casework.SpotCandidate, len(cands))
			for i, c := range cands {
				pub[i] = c.SpotCandidate
			}
			items, err := casework.DrawSpotSample(src, w, week, period, pub, casework.SpotSampleSize(len(pub), percent))
			if err != nil {
				run.Skipped++
				continue
			}
			id := NewID()
			res, err := tx.Exec(ctx, `INSERT INTO spot_check_samples (id, worker_id, week, week_from, week_to, period, percent, size, population, drawn_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (worker_id, week) DO NOTHING`,
				id, w, week, from, to, period, percent, len(items), casework.FormatPopulation(pub), tx.now)
			if err != nil {
				return fmt.Errorf("spot-check sample: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			for _, cid := range items {
				i := slices.IndexFunc(cands, func(c spotCand) bool { return c.CheckinID == cid })
				if _, err := tx.Exec(ctx, `INSERT INTO spot_check_items (id, sample_id, checkin_id, person_id, seed_org_id) VALUES (?, ?, ?, ?, ?)`,
					NewID(), id, cid, cands[i].personID, cands[i].SeedOrgID); err != nil {
					return fmt.Errorf("spot-check item: %w", err)
				}
			}
			run.Samples++
			run.Items += len(items)
		}
		if run.Samples == 0 {
			return nil
		}
		return tx.Audit(ctx, casework.SystemActor("spot-check-job"), AuditEntry{Action: "spotcheck.draw", TargetType: "spot_check_samples",
			Detail: map[string]any{"week": week, "samples": run.Samples, "items": run.Items}})
	})
}

// AddSpotCheck puts one check-in into its person's worker's spot checks
// by hand (a lead, with a reason: casework.AdjustReason's rules), beside
// the drawn sample — like a forced test day, it is not drawn and is shown
// as added, with who and why. Returns the item id.
func (db *DB) AddSpotCheck(ctx context.Context, actor *casework.Actor, checkinID, reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 500 {
		return "", casework.Invalid("reason", "请填写理由（不超过500字）：手动加入抽查须说明理由，并记入审计日志",
			"a reason (at most 500 characters) is required to add a check-in to the spot checks; it is audited")
	}
	if !actor.CanAnywhere(casework.PermAdjustSchedule) {
		return "", casework.Errorf(casework.EFORBIDDEN, "只有街道负责人可以手动加入抽查", "only a street lead may add a check-in to the spot checks")
	}
	id := NewID()
	err := db.Write(ctx, func(tx *Tx) error {
		var personID string
		var taken time.Time
		if err := tx.QueryRow(ctx, `SELECT person_id, taken_at FROM checkins WHERE id = ?`, checkinID).Scan(&personID, &taken); err != nil {
			return notFound(err, "签到记录", "check-in")
		}
		r, err := tx.personFor(ctx, actor, personID, func(a casework.PersonAccess) bool { return a.Sensitive && canWrite(a) })
		if err != nil {
			if casework.IsCode(err, casework.ENOTFOUND) {
				return casework.NotFound("签到记录", "check-in")
			}
			return err
		}
		if r.WorkerID == "" {
			return casework.Invalid("checkin", "该人员尚未指定专干，无法加入抽查", "the person has no worker to look at the spot check")
		}
		org, err := tx.orgByID(ctx, r.OrgID)
		if err != nil {
			return err
		}
		_, from, to := casework.ISOWeek(casework.DateOf(taken, org.Location()))
		sample := NewID()
		if _, err := tx.Exec(ctx, `INSERT INTO spot_check_samples (id, worker_id, week, week_from, week_to, period, percent, size, population, drawn_at, kind, reason, added_by)
			VALUES (?, ?, ?, ?, ?, '', 0, 1, '', ?, 'added', ?, ?)`, sample, r.WorkerID, "added:"+id, from, to, tx.now, reason, actor.UserID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO spot_check_items (id, sample_id, checkin_id, person_id, seed_org_id) VALUES (?, ?, ?, ?, '')`,
			id, sample, checkinID, personID); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "spotcheck.add", TargetType: "person", TargetID: personID, OrgID: r.OrgID,
			Detail: map[string]any{"checkin_id": checkinID, "reason": reason}})
	})
	return id, err
}

// SpotSamples lists every stored sample as published (for verification).
func (db *DB) SpotSamples(ctx context.Context) ([]casework.SpotSampleRecord, error) {
	var out []casework.SpotSampleRecord
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT s.id, s.worker_id, s.week, s.period, s.percent, s.population, COALESCE(i.checkin_id, '')
			FROM spot_check_samples s LEFT JOIN spot_check_items i ON i.sample_id = s.id WHERE s.kind = 'drawn' ORDER BY s.id, i.checkin_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r casework.SpotSampleRecord
			var item string
			if err := rows.Scan(&r.ID, &r.WorkerID, &r.Week, &r.Period, &r.Percent, &r.Population, &item); err != nil {
				return err
			}
			if n := len(out); n == 0 || out[n-1].ID != r.ID {
				out = append(out, r)
			}
			if item != "" {
				out[len(out)-1].Items = append(out[len(out)-1].Items, item)
			}
		}
		return rows.Err()
	})
	return out, err
}

// SpotReport is the outcome of verifying the spot-check samples.
type SpotReport struct {
	Checked, Pending int
	Problems         []string
}

// VerifySpotSamples recomputes every sample whose seed is revealed from
// the published seeds alone (draw_seeds.seed, checked against its
// commitment), naming every sample whose items differ.
func (db *DB) VerifySpotSamples(ctx context.Context) (*SpotReport, error) {
	samples, err := db.SpotSamples(ctx)
	if err != nil {
		return nil, err
	}
	var seeds []casework.RevealedSeed
	err = db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT org_id, period, seed_hash, seed FROM draw_seeds WHERE seed IS NOT NULL`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s casework.RevealedSeed
			if err := rows.Scan(&s.OrgID, &s.Period, &s.Hash, &s.Seed); err != nil {
				return err
			}
			seeds = append(seeds, s)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	rep := &SpotReport{}
	rep.Checked, rep.Pending, rep.Problems = casework.VerifySpotSet(seeds, samples)
	return rep, nil
}

// SpotItem is one sampled check-in as the worker sees it.
type SpotItem struct {
	ID, SampleID, Week, CheckinID, PersonID, PersonName, OrgName string
	Kind, Reason, AddedBy                                        string // "drawn", or "added" by a lead with a reason
	TakenAt                                                      time.Time
	HasPhoto                                                     bool
	PhoneScore                                                   *float64
	Outcome                                                      string // identity outcome (idserver's column)
	Liveness, Models                                             string
	ReferenceID                                                  string // the current reference photo, "" when none
	ConsoleScore                                                 *float64
	ConsoleAt                                                    time.Time
	Tamper                                                       bool
	TamperReason                                                 string
	Looked                                                       casework.SpotLook
	LookedNote, LookedBy                                         string
	LookedAt                                                     time.Time
}

const spotItemColumns = `i.id, i.sample_id, s.week, s.kind, s.reason, COALESCE(a.display_name, ''), i.checkin_id, i.person_id, p.name, o.name, c.taken_at, c.photo_sha256 <> '',
	c.face_score, c.identity_outcome, c.face_liveness, c.face_models, i.console_score, i.console_at, i.tamper, i.tamper_reason,
	i.looked, i.looked_note, COALESCE(u.display_name, ''), i.looked_at`

const spotItemFrom = ` FROM spot_check_items i JOIN spot_check_samples s ON s.id = i.sample_id JOIN checkins c ON c.id = i.checkin_id
	JOIN persons p ON p.id = i.person_id JOIN orgs o ON o.id = p.org_id LEFT JOIN users u ON u.id = i.looked_by LEFT JOIN users a ON a.id = s.added_by`

func scanSpotItem(sc interface{ Scan(...any) error }) (*SpotItem, error) {
	var it SpotItem
	var phone, console sql.NullFloat64
	var consoleAt, lookedAt sql.NullTime
	var look string
	if err := sc.Scan(&it.ID, &it.SampleID, &it.Week, &it.Kind, &it.Reason, &it.AddedBy, &it.CheckinID, &it.PersonID, &it.PersonName, &it.OrgName, &it.TakenAt, &it.HasPhoto,
		&phone, &it.Outcome, &it.Liveness, &it.Models, &console, &consoleAt, &it.Tamper, &it.TamperReason,
		&look, &it.LookedNote, &it.LookedBy, &lookedAt); err != nil {
		return nil, err
	}
	if phone.Valid {
		it.PhoneScore = &phone.Float64
	}
	if console.Valid {
		it.ConsoleScore = &console.Float64
	}
	it.ConsoleAt, it.LookedAt, it.Looked = scanTime(consoleAt), scanTime(lookedAt), casework.SpotLook(look)
	it.TakenAt = it.TakenAt.UTC()
	return &it, nil
}

// spotItemFor loads an item whose person the actor may read with
// sensitive access (the selfie and face data are sensitive, R36).
func (tx *Tx) spotItemFor(ctx context.Context, actor *casework.Actor, id string) (*SpotItem, *personRow, error) {
	it, err := scanSpotItem(tx.QueryRow(ctx, `SELECT `+spotItemColumns+spotItemFrom+` WHERE i.id = ?`, id))
	if err != nil {
		return nil, nil, notFound(err, "抽查记录", "spot check")
	}
	r, err := tx.personFor(ctx, actor, it.PersonID, func(a casework.PersonAccess) bool { return a.Sensitive })
	if err != nil {
		if casework.IsCode(err, casework.ENOTFOUND) {
			return nil, nil, casework.NotFound("抽查记录", "spot check")
		}
		return nil, nil, err
	}
	if err := tx.QueryRow(ctx, `SELECT id FROM face_references WHERE person_id = ? AND replaced_at IS NULL`, it.PersonID).Scan(&it.ReferenceID); err != nil && err != sql.ErrNoRows {
		return nil, nil, err
	}
	return it, r, nil
}

// SpotCheck opens one sampled check-in (audited: it shows face data).
func (db *DB) SpotCheck(ctx context.Context, actor *casework.Actor, id string) (*SpotItem, error) {
	var it *SpotItem
	err := db.Write(ctx, func(tx *Tx) error {
		var r *personRow
		var err error
		if it, r, err = tx.spotItemFor(ctx, actor, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "spotcheck.read", TargetType: "person", TargetID: it.PersonID, OrgID: r.OrgID,
			Detail: map[string]any{"checkin_id": it.CheckinID, "week": it.Week}})
	})
	return it, err
}

// identityThresholds reads the match threshold (R26) and the tamper
// tolerance in force at the person's place on the check-in's day.
func (tx *Tx) identityThresholds(ctx context.Context, orgID string, at time.Time) (threshold, tolerance float64, err error) {
	org, err := tx.orgByID(ctx, orgID)
	if err != nil {
		return 0, 0, err
	}
	pol, err := tx.resolvePolicy(ctx, org, casework.DateOf(at, org.Location()))
	if err != nil {
		return 0, 0, err
	}
	return matchThreshold(pol), pol.Value("identity.tamper_tolerance").Decimal(), nil
}

// RecordConsoleScore stores the score the staff browser computed for a
// sampled check-in (the console recompute hook, issue 17 §4) and flags
// possible tampering when it disagrees with the phone's. Returns the item.
func (db *DB) RecordConsoleScore(ctx context.Context, actor *casework.Actor, id string, score float64) (*SpotItem, error) {
	var it *SpotItem
	err := db.Write(ctx, func(tx *Tx) error {
		var r *personRow
		var err error
		if it, r, err = tx.spotItemFor(ctx, actor, id); err != nil {
			return err
		}
		if !canWrite(r.Access) {
			return casework.Errorf(casework.EFORBIDDEN, "您没有权限对该档案执行此操作", "you may not do this with this file")
		}
		threshold, tolerance, err := tx.identityThresholds(ctx, r.OrgID, it.TakenAt)
		if err != nil {
			return err
		}
		flag, zh, en := casework.TamperCheck(it.PhoneScore, score, tolerance, threshold)
		if !flag && it.Outcome == "matched" && score < threshold-1e-9 {
			// The server judged the phone's score matched; the console does not.
			flag, zh, en = true, fmt.Sprintf("手机判定相符，工作台计算为 %.2f（阈值 %.2f）", score, threshold),
				fmt.Sprintf("the phone's score was matched, the console computed %.2f (threshold %.2f)", score, threshold)
		}
		reason := ""
		if flag {
			reason = zh + " / " + en
		}
		if _, err := tx.Exec(ctx, `UPDATE spot_check_items SET console_score = ?, console_by = ?, console_at = ?, tamper = ?, tamper_reason = ? WHERE id = ?`,
			score, actor.UserID, tx.now, flag, reason, id); err != nil {
			return err
		}
		it.ConsoleScore, it.ConsoleAt, it.Tamper, it.TamperReason = &score, tx.now, flag, reason
		return tx.Audit(ctx, actor, AuditEntry{Action: "spotcheck.console_score", TargetType: "person", TargetID: it.PersonID, OrgID: r.OrgID,
			Detail: map[string]any{"checkin_id": it.CheckinID, "console_score": score, "tamper": flag}})
	})
	return it, err
}

// MarkSpotCheck records what the worker found (same person / not /
// unclear, with a note). It decides nothing about the person (R32).
func (db *DB) MarkSpotCheck(ctx context.Context, actor *casework.Actor, id, look, note string) error {
	l, note, err := casework.ParseSpotLook(look, note)
	if err != nil {
		return err
	}
	return db.Write(ctx, func(tx *Tx) error {
		it, r, err := tx.spotItemFor(ctx, actor, id)
		if err != nil {
			return err
		}
		if !canWrite(r.Access) {
			return casework.Errorf(casework.EFORBIDDEN, "您没有权限对该档案执行此操作", "you may not do this with this file")
		}
		if _, err := tx.Exec(ctx, `UPDATE spot_check_items SET looked = ?, looked_note = ?, looked_by = ?, looked_at = ? WHERE id = ?`,
			string(l), note, actor.UserID, tx.now, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor, AuditEntry{Action: "spotcheck.look", TargetType: "person", TargetID: it.PersonID, OrgID: r.OrgID,
			Detail: map[string]any{"checkin_id": it.CheckinID, "looked": string(l)}})
	})
}

// spotCheckTasks: the items of the worker's own samples not looked at yet
// (issue 17 §4), due the day the sample was drawn, overdue after 7 days.
func spotCheckTasks(ctx context.Context, tx *Tx, actor *casework.Actor, today casework.Date) ([]Task, error) {
	if actor.System || !actor.CanAnywhere(casework.PermSensitive) {
		return nil, nil
	}
	scope, args := personScope(actor, casework.PermSensitive)
	rows, err := tx.Query(ctx, `SELECT i.id, p.id, p.name, o.name, s.week, s.drawn_at
		FROM spot_check_items i JOIN spot_check_samples s ON s.id = i.sample_id JOIN persons p ON p.id = i.person_id JOIN orgs o ON o.id = p.org_id
		WHERE s.worker_id = ? AND i.looked = '' AND `+scope+` ORDER BY s.drawn_at, p.name LIMIT `+fmt.Sprint(InboxLimit), append([]any{actor.UserID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		var id, week string
		var at time.Time
		t := Task{Kind: "spot_check", Rule: "R26"}
		if err := rows.Scan(&id, &t.PersonID, &t.PersonName, &t.OrgName, &week, &at); err != nil {
			return nil, err
		}
		t.Due = casework.DateOf(at, nil)
		t.Overdue = today.After(t.Due.AddDays(7))
		t.Link = "/spot-checks/" + id
		t.TitleZH = fmt.Sprintf("%s：%s 签到人脸抽查，请比对底照与自拍", t.PersonName, week)
		t.TitleEN = fmt.Sprintf("%s: identity spot check of a check-in (%s): compare the reference photo with the selfie", t.PersonName, week)
		if strings.HasPrefix(week, "added:") {
			t.TitleZH = fmt.Sprintf("%s：负责人加入的签到人脸抽查，请比对底照与自拍", t.PersonName)
			t.TitleEN = fmt.Sprintf("%s: a lead added a check-in to your spot checks: compare the reference photo with the selfie", t.PersonName)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// matchThreshold is R26's face match threshold in force
// (identity.match_threshold; default 0.80).
func matchThreshold(pol *casework.EffectivePolicy) float64 {
	return pol.Value("identity.match_threshold").Decimal()
}
