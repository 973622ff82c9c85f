package store_test

// Tests of the identity spot checks, the in-app challenge and the identity
// signals (issue 17 §4, §5; R26, R32), on SQLite and PostgreSQL.

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

var bjLoc = casework.LoadLocation("Asia/Shanghai")

func bjT(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, bjLoc)
}

// idWorld: ciWorld plus a second person of the same worker and, in another
// community of the street, worker2 with a person of its own.
type idWorld struct {
	ciWorld
	second, other *casework.Person
	worker2       *casework.Actor
}

func idBuild(t *testing.T, db *store.DB) idWorld {
	w := idWorld{ciWorld: ciBuild(t, db, pfD("2026-11-01"))}
	m := pfReported(pfD("2026-10-28"), pfD("2026-11-01"))
	m.WorkerID = w.worker.UserID
	w.second = storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, "李四", pfID("19910202", 3, true)), m))
	comm2 := storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{Kind: casework.KindCommunity, Name: "海湾社区", ParentID: w.street.ID}))
	w.worker2 = ciStaff(t, db, "ci-worker2", casework.RoleWorker, comm2)
	m2 := pfReported(pfD("2026-10-28"), pfD("2026-11-01"))
	m2.WorkerID = w.worker2.UserID
	w.other = storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(comm2, "赵六", pfID("19920303", 5, false)), m2))
	return w
}

func checkinAt(t *testing.T, db *store.DB, clock *storetest.Clock, phone ciPhone, at time.Time, lat, lng float64) *store.Checkin {
	t.Helper()
	clock.T = at.Add(time.Minute)
	c, _, _, err := phone.checkin(db, ciIn(at, lat, lng))
	if err != nil {
		t.Fatalf("check-in at %v: %v", at, err)
	}
	return c
}

// Issue 17 §4: the weekly sample is drawn once per worker and week, lands
// in that worker's inbox only, recomputes from the revealed seed, and an
// altered sample is named; the console's score flags an altered phone
// score.
func TestSpotCheckSampleVerifiable_R26(t *testing.T) {
	eachClockRaw(t, bjT(2026, 11, 29, 9, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock, raw rawDB) {
		w := idBuild(t, db)
		if _, err := db.DailyDraws(ctx); err != nil { // commits the seeds months ahead
			t.Fatal(err)
		}
		p1 := ciActivate(t, db, w.worker, w.person.ID)
		p2 := ciActivate(t, db, w.worker, w.second.ID)
		p3 := ciActivate(t, db, w.worker2, w.other.ID)
		var mine []string
		for d := 30; d < 37; d++ { // 2026-W49: Mon 30 Nov … Sun 6 Dec
			day := bjT(2026, 11, d, 10, 0)
			mine = append(mine, checkinAt(t, db, clock, p1, day, 18.25, 109.5).ID)
			mine = append(mine, checkinAt(t, db, clock, p2, day.Add(time.Hour), 18.25, 109.5).ID)
			checkinAt(t, db, clock, p3, day.Add(2*time.Hour), 18.25, 109.5)
		}
		clock.T = bjT(2026, 12, 7, 1, 0)
		run, err := db.DrawSpotChecks(ctx)
		if err != nil || run.Samples != 2 || run.Items != 2 || run.Skipped != 0 {
			t.Fatalf("draw: %+v %v (14 check-ins at 5%% → 1 each for two workers)", run, err)
		}
		if again, err := db.DrawSpotChecks(ctx); err != nil || again.Samples != 0 {
			t.Fatalf("second run: %+v %v", again, err)
		}
		samples := storetest.Must(db.SpotSamples(ctx))
		if len(samples) != 2 {
			t.Fatalf("samples %+v", samples)
		}
		var s casework.SpotSampleRecord
		for _, x := range samples {
			if x.WorkerID == w.worker.UserID {
				s = x
			}
		}
		if s.Week != "2026-W49" || s.Period != "2026-12" || s.Percent != 5 || len(s.Items) != 1 || strings.Count(s.Population, "\n") != 13 {
			t.Fatalf("worker's sample %+v", s)
		}
		if !strings.Contains(strings.Join(mine, ","), s.Items[0]) {
			t.Fatalf("sampled %s, not one of the worker's persons' check-ins", s.Items[0])
		}
		// The seed is not revealed until December ends: pending.
		rep := storetest.Must(db.VerifySpotSamples(ctx))
		if rep.Pending != 2 || rep.Checked != 0 {
			t.Fatalf("before the reveal: %+v", rep)
		}

		// The inbox: the worker's own item only.
		tasks := storetest.Must(db.Inbox(ctx, w.worker))
		var item string
		for _, tk := range tasks {
			if tk.Kind == "spot_check" {
				if item != "" {
					t.Fatalf("two spot-check tasks: %+v", tasks)
				}
				item = strings.TrimPrefix(tk.Link, "/spot-checks/")
				if tk.PersonName != "王小明" && tk.PersonName != "李四" {
					t.Fatalf("task names %q", tk.PersonName)
				}
			}
		}
		if item == "" {
			t.Fatal("no spot-check task for the worker")
		}
		for _, tk := range storetest.Must(db.Inbox(ctx, w.worker2)) {
			if tk.Kind == "spot_check" && tk.Link == "/spot-checks/"+item {
				t.Fatal("another worker sees the item")
			}
		}
		if _, err := db.SpotCheck(ctx, w.worker2, item); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("worker2 opens the item: %v", err)
		}
		it := storetest.Must(db.SpotCheck(ctx, w.worker, item))
		if it.CheckinID != s.Items[0] || it.PhoneScore != nil {
			t.Fatalf("item %+v", it)
		}

		// The phone said 0.83 matched; the console agrees within 0.05: no flag.
		raw.exec(t, `UPDATE checkins SET face_score = 0.83, identity_outcome = 'matched' WHERE id = ?`, it.CheckinID)
		it = storetest.Must(db.RecordConsoleScore(ctx, w.worker, item, 0.81))
		if it.Tamper || *it.ConsoleScore != 0.81 {
			t.Fatalf("agreeing scores flagged: %+v", it)
		}
		// An altered phone score: the console computes 0.41.
		it = storetest.Must(db.RecordConsoleScore(ctx, w.worker, item, 0.41))
		if !it.Tamper || !strings.Contains(it.TamperReason, "0.41") {
			t.Fatalf("altered score not flagged: %+v", it)
		}
		// Both above the threshold but 0.10 apart: flagged too.
		raw.exec(t, `UPDATE checkins SET face_score = 0.97 WHERE id = ?`, it.CheckinID)
		if it = storetest.Must(db.RecordConsoleScore(ctx, w.worker, item, 0.87)); !it.Tamper {
			t.Fatalf("0.97 vs 0.87 not flagged: %+v", it)
		}
		if _, err := db.RecordConsoleScore(ctx, w.worker2, item, 0.5); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("worker2 posts a score: %v", err)
		}
		// The flag is a signal for the worker (and the lead), not for worker2.
		tampered := func(a *casework.Actor) int {
			n := 0
			for _, s := range storetest.Must(db.IdentitySignals(ctx, a, 30)) {
				if s.Kind == store.SignalTamper && s.Link == "/spot-checks/"+item && strings.Contains(s.EvidenceEN, "0.87") {
					n++
				}
			}
			return n
		}
		if tampered(w.worker) != 1 || tampered(w.lead) != 1 || tampered(w.worker2) != 0 {
			t.Fatalf("tamper signal: worker %d lead %d worker2 %d", tampered(w.worker), tampered(w.lead), tampered(w.worker2))
		}

		// The worker's finding; the task then leaves the inbox.
		if err := db.MarkSpotCheck(ctx, w.worker, item, "not_same", ""); err == nil {
			t.Fatal("not the same person without a note accepted")
		}
		if err := db.MarkSpotCheck(ctx, w.worker, item, "unclear", "自拍过暗"); err != nil {
			t.Fatal(err)
		}
		it = storetest.Must(db.SpotCheck(ctx, w.worker, item))
		if it.Looked != casework.LookUnclear || it.LookedNote != "自拍过暗" || it.LookedBy == "" {
			t.Fatalf("finding %+v", it)
		}
		for _, tk := range storetest.Must(db.Inbox(ctx, w.worker)) {
			if tk.Kind == "spot_check" {
				t.Fatalf("task still there: %+v", tk)
			}
		}

		// After December the seed is revealed: the sample recomputes from it.
		clock.T = bjT(2027, 1, 1, 2, 0)
		if _, err := db.DailyDraws(ctx); err != nil {
			t.Fatal(err)
		}
		rep = storetest.Must(db.VerifySpotSamples(ctx))
		if rep.Checked != 2 || rep.Pending != 0 || len(rep.Problems) != 0 {
			t.Fatalf("after the reveal: %+v", rep)
		}
		// Recomputed by hand from the published seed: the same check-in.
		var seedHex string
		if err := raw.QueryRowContext(ctx, pgq(raw, `SELECT seed FROM draw_seeds WHERE org_id = ? AND period = '2026-12'`), w.street.ID).Scan(&seedHex); err != nil {
			t.Fatal(err)
		}
		seed, _ := hex.DecodeString(seedHex)
		cands := storetest.Must(casework.ParsePopulation(s.Population))
		got := storetest.Must(casework.DrawSpotSample(func(string, string) ([]byte, bool) { return seed, true }, w.worker.UserID, "2026-W49", "2026-12", cands, 1))
		if got[0] != s.Items[0] {
			t.Fatalf("recomputed %v, stored %v", got, s.Items)
		}
		// An altered sample (another check-in put in its place) is named.
		swap := mine[0]
		if swap == s.Items[0] {
			swap = mine[1]
		}
		raw.exec(t, `UPDATE spot_check_items SET checkin_id = ? WHERE id = ?`, swap, item)
		rep = storetest.Must(db.VerifySpotSamples(ctx))
		if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], s.ID) {
			t.Fatalf("altered sample: %+v", rep)
		}

		// A lead adds a check-in by hand, with a reason: in the worker's
		// inbox, shown as added, and not part of the verified draw.
		if _, err := db.AddSpotCheck(ctx, w.worker, mine[2], "核对"); !casework.IsCode(err, casework.EFORBIDDEN) {
			t.Fatalf("a worker adds a spot check: %v", err)
		}
		if _, err := db.AddSpotCheck(ctx, w.lead, mine[2], " "); casework.ErrorField(err) != "reason" {
			t.Fatalf("no reason: %v", err)
		}
		added := storetest.Must(db.AddSpotCheck(ctx, w.lead, mine[2], "换机后核对"))
		if n := len(storetest.Must(db.SpotSamples(ctx))); n != 2 {
			t.Fatalf("published samples after a hand-added one: %d", n)
		}
		found := false
		for _, tk := range storetest.Must(db.Inbox(ctx, w.worker)) {
			found = found || tk.Link == "/spot-checks/"+added
		}
		if it := storetest.Must(db.SpotCheck(ctx, w.worker, added)); !found || it.Kind != "added" || it.Reason != "换机后核对" || it.AddedBy == "" {
			t.Fatalf("hand-added item %+v in inbox %v", it, found)
		}
	})
}

// pgq rewrites ? placeholders for PostgreSQL.
func pgq(r rawDB, q string) string {
	if r.engine != "postgres" {
		return q
	}
	for i := 1; strings.Contains(q, "?"); i++ {
		q = strings.Replace(q, "?", "$"+string(rune('0'+i)), 1)
	}
	return q
}

// Issue 17 §4 (人机分离): the app shows the challenge from its moment; a
// check-in at issued+15:00 answers it, one at 15:01 does not; an
// unanswered one is listed for the worker only (never a violation, R32);
// the days recompute from the revealed seed.
func TestInAppChallenge_R32(t *testing.T) {
	eachClockRaw(t, bjT(2026, 11, 29, 9, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock, raw rawDB) {
		w := idBuild(t, db)
		if _, err := db.DailyDraws(ctx); err != nil {
			t.Fatal(err)
		}
		phone := ciActivate(t, db, w.worker, w.person.ID)
		ciActivate(t, db, w.worker2, w.other.ID)
		clock.T = bjT(2026, 12, 31, 23, 59)
		list := storetest.Must(db.UnansweredChallenges(ctx, w.worker, 31))
		var dec []store.Challenge
		for _, c := range list {
			if c.PersonID == w.person.ID && c.Day.Month == time.December {
				dec = append(dec, c)
			}
			if c.PersonID == w.other.ID {
				t.Fatal("another worker's person listed")
			}
		}
		if len(dec) != 2 {
			t.Fatalf("December challenges of the person: %+v", list)
		}
		for _, c := range dec {
			if c.Deadline.Sub(c.Issued) != 15*time.Minute || c.PersonName != "王小明" {
				t.Fatalf("challenge %+v", c)
			}
			local := c.Issued.In(bjLoc)
			if m := local.Hour()*60 + local.Minute(); m < 6*60 || m+15 > 22*60 {
				t.Fatalf("challenge at %v outside the default window", local)
			}
		}
		a, b := dec[1], dec[0] // newest first
		// The app: nothing a minute before, the challenge from its moment.
		clock.T = a.Issued.Add(-time.Minute)
		if c := storetest.Must(db.AppChallenge(ctx, phone.dev)); c != nil {
			t.Fatalf("shown before its moment: %+v", c)
		}
		clock.T = a.Issued
		c := storetest.Must(db.AppChallenge(ctx, phone.dev))
		if c == nil || c.Answered || !c.Deadline.Equal(a.Deadline) {
			t.Fatalf("at its moment: %+v", c)
		}
		checkinAt(t, db, clock, phone, a.Issued.Add(15*time.Minute), 18.25, 109.5)             // 15:00: answers
		checkinAt(t, db, clock, phone, b.Issued.Add(15*time.Minute+time.Minute), 18.25, 109.5) // 15:01: too late
		clock.T = a.Issued.Add(20 * time.Minute)
		if c := storetest.Must(db.AppChallenge(ctx, phone.dev)); c == nil || !c.Answered {
			t.Fatalf("answered at 15:00: %+v", c)
		}
		clock.T = bjT(2026, 12, 31, 23, 59)
		list = storetest.Must(db.UnansweredChallenges(ctx, w.worker, 31))
		var left []store.Challenge
		for _, c := range list {
			if c.PersonID == w.person.ID && c.Day.Month == time.December {
				left = append(left, c)
			}
		}
		if len(left) != 1 || !left[0].Issued.Equal(b.Issued) {
			t.Fatalf("after answering one at 15:00 and one at 15:01: %+v", left)
		}
		for _, c := range storetest.Must(db.UnansweredChallenges(ctx, w.worker2, 31)) {
			if c.PersonID == w.person.ID {
				t.Fatal("worker2 sees the worker's person")
			}
		}
		// Never an automatic violation (R32).
		var n int
		if err := raw.QueryRowContext(ctx, pgq(raw, `SELECT COUNT(*) FROM violations WHERE person_id = ?`), w.person.ID).Scan(&n); err != nil || n != 0 {
			t.Fatalf("violations %d %v", n, err)
		}
		// Recomputed from the revealed seed.
		clock.T = bjT(2027, 1, 2, 2, 0)
		if _, err := db.DailyDraws(ctx); err != nil {
			t.Fatal(err)
		}
		var seedHex string
		if err := raw.QueryRowContext(ctx, pgq(raw, `SELECT seed FROM draw_seeds WHERE org_id = ? AND period = '2026-12'`), w.street.ID).Scan(&seedHex); err != nil {
			t.Fatal(err)
		}
		seed, _ := hex.DecodeString(seedHex)
		sc := casework.NewScorer(func(string) ([]byte, bool) { return seed, true })
		days := storetest.Must(casework.ChallengeDays(sc, w.person.ID, pfD("2026-12-01"), 2))
		if days[0] != a.Day || days[1] != b.Day {
			t.Fatalf("recomputed %v, listed %v %v", days, a.Day, b.Day)
		}
		win := casework.Window{From: 6 * 60, To: 22 * 60}
		if at, _ := casework.ChallengeAt(sc, w.person.ID, a.Day, win, 15, bjLoc); !at.Equal(a.Issued) {
			t.Fatalf("recomputed moment %v, issued %v", at, a.Issued)
		}
	})
}

// Issue 17 §5: each signal with its evidence, scoped to the actor's
// persons; never acted on automatically.
func TestIdentitySignals(t *testing.T) {
	eachClockRaw(t, bjT(2026, 12, 1, 9, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock, raw rawDB) {
		w := idBuild(t, db)
		ciActivate(t, db, w.worker, w.person.ID)
		clock.Add(time.Hour)
		phone := ciActivate(t, db, w.worker, w.person.ID) // replaces the first: a new device
		p2 := ciActivate(t, db, w.worker, w.second.ID)
		ciActivate(t, db, w.worker2, w.other.ID)
		clock.Add(time.Hour)
		p3 := ciActivate(t, db, w.worker2, w.other.ID) // worker2's person's new device
		t0 := bjT(2026, 12, 2, 10, 0)
		a := checkinAt(t, db, clock, phone, t0, 18.25, 109.5)
		// 1° of latitude (111.2 km) in 20 minutes: 334 km/h > 300.
		fast := checkinAt(t, db, clock, phone, t0.Add(20*time.Minute), 19.25, 109.5)
		// Back in 23 minutes: 290 km/h, possible.
		checkinAt(t, db, clock, phone, t0.Add(43*time.Minute), 18.25, 109.5)
		mock := checkinAt(t, db, clock, p2, t0.Add(time.Hour), 18.25, 109.5)
		raw.exec(t, `UPDATE checkins SET mock_location = ? WHERE id = ?`, true, mock.ID)
		o := checkinAt(t, db, clock, p3, t0, 18.25, 109.5)
		raw.exec(t, `UPDATE checkins SET mock_location = ? WHERE id = ?`, true, o.ID)
		// The same face: the second person's reference is the first's face.
		face := make([]float32, 1024)
		for i := range face {
			face[i] = float32(i%7) / 70
		}
		near := append([]float32(nil), face...)
		near[0] += 0.01
		far := make([]float32, 1024)
		far[5] = 9
		ref := func(person string, emb []float32) {
			id := store.NewID()
			enc := storetest.Must(db.Vault().Seal(casework.EncodeEmbedding(emb), "face.ref:"+id))
			raw.exec(t, `INSERT INTO face_references (id, person_id, photo_sha256, embedding_enc, models, taken_by, taken_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				id, person, strings.Repeat("a", 64), enc, "human 3.3.6", w.worker.UserID, clock.T)
		}
		ref(w.person.ID, face)
		ref(w.second.ID, near)
		ref(w.other.ID, face) // worker2's person: outside the worker's caseload
		enc := storetest.Must(db.Vault().Seal(casework.EncodeEmbedding(far), "checkin.face:"+a.ID))
		raw.exec(t, `UPDATE checkins SET face_embedding = ? WHERE id = ?`, enc, a.ID)

		clock.T = bjT(2026, 12, 3, 9, 0)
		sigs := storetest.Must(db.IdentitySignals(ctx, w.worker, 30))
		kinds := map[string][]store.Signal{}
		for _, s := range sigs {
			kinds[s.Kind] = append(kinds[s.Kind], s)
			if s.PersonID == w.other.ID || s.OtherID == w.other.ID {
				t.Fatalf("another worker's person in the signals: %+v", s)
			}
		}
		if nd := kinds[store.SignalNewDevice]; len(nd) != 1 || nd[0].PersonName != "王小明" {
			t.Fatalf("new device: %+v", nd)
		}
		if ml := kinds[store.SignalMockLocation]; len(ml) != 1 || ml[0].PersonName != "李四" || ml[0].Link != "/checkins/"+mock.ID+"/point" {
			t.Fatalf("mock location: %+v", ml)
		}
		if sp := kinds[store.SignalSpeed]; len(sp) != 1 || sp[0].Link != "/checkins/"+fast.ID+"/point" || !strings.Contains(sp[0].EvidenceEN, "334 km/h") {
			t.Fatalf("speed: %+v", sp)
		}
		sf := kinds[store.SignalSameFace]
		if len(sf) != 1 || sf[0].OtherName == "" || !strings.Contains(sf[0].EvidenceZH, "底照") {
			t.Fatalf("same face (a far check-in selfie is not one): %+v", sf)
		}
		// worker2 sees its own person's new device and mock location only.
		for _, s := range storetest.Must(db.IdentitySignals(ctx, w.worker2, 30)) {
			if s.PersonID != w.other.ID {
				t.Fatalf("worker2 sees %+v", s)
			}
		}
		// The check-in selfie of the first person matching the second's
		// reference is a signal too.
		enc = storetest.Must(db.Vault().Seal(casework.EncodeEmbedding(near), "checkin.face:"+a.ID))
		raw.exec(t, `UPDATE checkins SET face_embedding = ? WHERE id = ?`, enc, a.ID)
		n := 0
		for _, s := range storetest.Must(db.IdentitySignals(ctx, w.lead, 30)) {
			if s.Kind == store.SignalSameFace && strings.Contains(s.EvidenceEN, "selfie") && s.PersonID == w.person.ID && s.OtherID == w.second.ID {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("selfie matching another's reference: %d", n)
		}
	})
}
