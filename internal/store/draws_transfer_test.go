package store_test

import (
	"slices"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// scheduleDays returns every day of a schedule (scheduled, surprise,
// forced) by id.
func scheduleDays(s *store.Schedule) map[string]store.TestDay {
	out := map[string]store.TestDay{}
	for _, iv := range s.Intervals {
		if iv.Draw != nil {
			out[iv.Draw.ID] = *iv.Draw
		}
	}
	for _, d := range slices.Concat(s.Surprise, s.Forced) {
		out[d.ID] = d
	}
	return out
}

// sameDraw compares what a redraw would change (the person's org, shown
// with the day, follows the transfer and is left out).
func sameDraw(a, b store.TestDay) bool {
	return a.ID == b.ID && a.Kind == b.Kind && a.Day == b.Day && a.SeedOrgID == b.SeedOrgID && a.Period == b.Period &&
		a.IntervalFrom == b.IntervalFrom && a.IntervalTo == b.IntervalTo && a.Excused == b.Excused && a.ExcuseReason == b.ExcuseReason &&
		a.Reason == b.Reason && a.CreatedAt.Equal(b.CreatedAt)
}

// A change of the place of execution to a community under another street
// (R11, 变更执行地). The measure continues — same report date and term, so
// the same scheduled intervals (R22) and surprise segments (R24) — but the
// days still to come are drawn from the new street's seeds: seeds are per
// township/street (SeedOrg), the place's seed org is part of the measure's
// input key, and a draw must be recomputable from the seeds of the org it
// names (PRODUCT "random draws are verifiable"). Days on or before today
// stay as drawn (the job never draws or moves a day that has come), as do a
// day the lead forced (R21) and a day the lead excused, both with their
// reasons. A second run changes nothing, and once the months are over and
// the seeds revealed, verify-draws recomputes every draw, old street's and
// new street's alike.
//
// Two ways the hand-over meets the daily job: the person reports at the new
// place the day the transfer is accepted, before the job runs; or the job
// runs while the report is pending. A measure pending report owes no drawn
// test (the job draws only for executing, on-leave and suspended measures),
// so that run drops the days after tomorrow (UTC, dropEndedDraws) but keeps
// forced and excused ones; the report-in draws again, under the new seeds.
func TestTransferRedrawsUnderNewStreetSeeds(t *testing.T) {
	// 2026-06-05 12:00 in Asia/Shanghai. Reported 2026-01-06, monthly in
	// year 1 (R22): the interval 05-06..06-05 holds today, so its day is on
	// or before today; 06-06..07-05 is 30 days long, so 07-06..08-05 already
	// lies within the 31-day horizon: two intervals wholly in the future.
	transferAt := time.Date(2026, 6, 5, 4, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name       string
		pendingRun bool
	}{{"report-in before the job runs", false}, {"job runs while the report is pending", true}} {
		t.Run(c.name, func(t *testing.T) {
			storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
				w := newLeaveWorld(t, db)
				streetB := storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{Kind: casework.KindTownship, Name: "河东街道", ParentID: w.county.ID}))
				commC := storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{Kind: casework.KindCommunity, Name: "红沙社区", ParentID: streetB.ID}))
				leadB := pfStaff(t, db, "lead-b", casework.RoleLead, streetB)
				workerC := pfStaff(t, db, "worker-c", casework.RoleWorker, commC)

				// Weekly runs up to the transfer day: every interval is drawn
				// whole, before it starts.
				for clock.T.Before(transferAt) {
					mustRun(t, db)
					clock.Add(7 * 24 * time.Hour)
				}
				clock.T = transferAt
				mustRun(t, db)
				today := pfD("2026-06-05")

				// The lead of street A forces a day and excuses the drawn day of
				// 06-06..07-05, both still to come.
				forced := storetest.Must(db.ForceTestDay(ctx, w.lead, w.person.ID, pfD("2026-06-20"), "群众举报近期复吸"))
				s := storetest.Must(db.PersonSchedule(ctx, w.lead, w.person.ID))
				iv := func(s *store.Schedule, from string) store.ScheduleInterval {
					t.Helper()
					i := slices.IndexFunc(s.Intervals, func(iv store.ScheduleInterval) bool { return iv.From == pfD(from) })
					if i < 0 {
						t.Fatalf("no interval from %s", from)
					}
					return s.Intervals[i]
				}
				excused := iv(s, "2026-06-06").Draw
				if excused == nil || !excused.Day.After(today) {
					t.Fatalf("interval 06-06 not drawn ahead: %+v", excused)
				}
				if err := db.ExcuseTestDay(ctx, w.lead, w.person.ID, excused.ID, "住院治疗，有诊断证明"); err != nil {
					t.Fatal(err)
				}
				s = storetest.Must(db.PersonSchedule(ctx, w.lead, w.person.ID))
				before := scheduleDays(s)
				if d := iv(s, "2026-05-06").Draw; d == nil || d.Day.After(today) {
					t.Fatalf("interval 05-06..06-05 has no day on or before today: %+v", d)
				}
				if d := iv(s, "2026-07-06").Draw; d == nil || !d.Day.After(today.AddDays(1)) {
					t.Fatalf("interval 07-06 not drawn ahead: %+v", d)
				}
				for _, d := range before {
					if d.Kind != casework.DrawForced && d.SeedOrgID != w.street.ID {
						t.Fatalf("before the transfer, a %s day on %s drawn under %q, not street A", d.Kind, d.Day, d.SeedOrgID)
					}
				}

				// The transfer: started by street A's lead, accepted by street B's.
				tf := storetest.Must(db.StartTransfer(ctx, w.lead, w.person.ID, commC.ID, "本人迁居红沙社区"))
				storetest.Must(db.DecideTransfer(ctx, leadB, tf.ID, store.TransferDecision{Accept: true, WorkerID: workerC.UserID}))
				if c.pendingRun {
					r := mustRun(t, db)
					if r.Removed == 0 || r.Added+r.Moved != 0 {
						t.Fatalf("run while the report is pending: %+v", r)
					}
					pending := scheduleDays(storetest.Must(db.PersonSchedule(ctx, leadB, w.person.ID)))
					for id, d := range pending {
						if d.Day.After(today.AddDays(1)) && id != forced.ID && id != excused.ID {
							t.Errorf("pending report: a %s day on %s kept", d.Kind, d.Day)
						}
					}
					for _, id := range []string{forced.ID, excused.ID} {
						if !sameDraw(pending[id], before[id]) {
							t.Errorf("pending report: %s changed: %+v → %+v", id, before[id], pending[id])
						}
					}
					clock.Add(24 * time.Hour)
					today = today.AddDays(1)
				}
				storetest.Must(db.Transition(ctx, workerC, w.person.ID, store.TransitionInput{Action: casework.ActReportIn}))
				r := mustRun(t, db)
				if !c.pendingRun && (r.Moved == 0 || r.Removed != 0) {
					t.Fatalf("redraw run: %+v", r)
				}
				s = storetest.Must(db.PersonSchedule(ctx, leadB, w.person.ID))
				if s.Today != today {
					t.Fatalf("today %s, want %s", s.Today, today)
				}
				checkOnePerInterval(t, s, today.AddDays(31))
				if len(s.Surprise) != 1 {
					t.Errorf("surprise days after the transfer: %d", len(s.Surprise))
				}
				after := scheduleDays(s)
				redrawn := 0
				for id, d := range after {
					switch {
					case id == forced.ID || id == excused.ID:
						if !sameDraw(d, before[id]) {
							t.Errorf("the %s day changed: %+v → %+v", d.Kind, before[id], d)
						}
					case d.Day.After(today):
						if d.SeedOrgID != streetB.ID {
							t.Errorf("a %s day on %s still drawn under %q, not street B", d.Kind, d.Day, d.SeedOrgID)
						}
						redrawn++
					}
				}
				if redrawn == 0 || after[forced.ID].ID == "" || !after[excused.ID].Excused {
					t.Fatalf("after the transfer: %d days redrawn, forced %+v, excused %+v", redrawn, after[forced.ID], after[excused.ID])
				}
				if d := iv(s, "2026-07-06").Draw; d == nil || d.SeedOrgID != streetB.ID {
					t.Errorf("interval 07-06 not redrawn under street B: %+v", d)
				}
				pastKept := 0
				for id, d := range before {
					if d.Day.After(today) {
						continue
					}
					if !sameDraw(after[id], d) {
						t.Errorf("a %s day on %s (on or before today) changed: %+v → %+v", d.Kind, d.Day, d, after[id])
					}
					if d.Kind != casework.DrawForced {
						pastKept++
					}
				}
				if pastKept < 3 { // intervals 03-06, 04-06 and 05-06 at least
					t.Errorf("only %d drawn days on or before today", pastKept)
				}
				if again := mustRun(t, db); again != (store.DrawRun{}) {
					t.Errorf("second run after the transfer changed something: %+v", again)
				}

				// After the surprise segment (to 2027-01-05) ends, the seeds of
				// both streets are revealed and every draw recomputes.
				clock.T = time.Date(2027, 2, 2, 4, 0, 0, 0, time.UTC)
				mustRun(t, db)
				rep := storetest.Must(db.VerifyDraws(ctx))
				if !rep.OK() {
					t.Fatalf("verify after the transfer: %+v", rep)
				}
				_, exported, err := db.ExportDraws(ctx)
				if err != nil {
					t.Fatal(err)
				}
				verified := map[string]string{}
				for _, d := range exported {
					verified[d.ID] = d.SeedOrgID
					if d.SeedOrgID != streetB.ID {
						continue
					}
					// A redrawn day records what it left out, the forced and the
					// excused day among them, so anyone can recompute it.
					excl, err := casework.ParseSpans(d.Excluded)
					if err != nil {
						t.Fatal(err)
					}
					win := casework.DateSpan{From: d.WinFrom, To: d.WinTo}
					for _, k := range []store.TestDay{after[forced.ID], after[excused.ID]} {
						if win.Contains(k.Day) && !slices.ContainsFunc(excl, func(s casework.DateSpan) bool { return s.Contains(k.Day) }) {
							t.Errorf("the %s draw %s..%s does not exclude the %s day %s: %q", d.Kind, d.WinFrom, d.WinTo, k.Kind, k.Day, d.Excluded)
						}
					}
				}
				for id, d := range after {
					if d.Kind == casework.DrawForced {
						continue
					}
					if org, ok := verified[id]; !ok || org != d.SeedOrgID {
						t.Errorf("the %s day on %s (seed org %s) is not among the verified draws (%q)", d.Kind, d.Day, d.SeedOrgID, org)
					}
				}
				if rep.DrawsChecked < len(after)-1 {
					t.Errorf("verify checked %d draws, want at least %d", rep.DrawsChecked, len(after)-1)
				}
			})
		})
	}
}
