package store_test

// R16: a relapse after release restarts the three years without relapse;
// the periodic job marks 戒断三年未复吸 on the day it is reached in the
// place's zone (not the day before; 29 February → 28 February); no follow-up
// test after the mark; the figure is countable.

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// at is local time hh:mm on day d in Beijing time.
func at(d casework.Date, hh, mm int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, hh, mm, 0, 0, casework.LoadLocation("Asia/Shanghai")).UTC()
}

// rlReleased builds a person reported on 2025-01-15 and released at the
// term's end, 2028-01-15.
func rlReleased(t *testing.T, db *store.DB, clock *storetest.Clock) ciWorld {
	t.Helper()
	w := ciBuild(t, db, pfD("2025-01-15"))
	clock.T = at(pfD("2028-01-15"), 9, 0)
	if n, err := db.ReleaseExpired(ctx); err != nil || n != 1 {
		t.Fatalf("release: %d %v", n, err)
	}
	return w
}

func rlTest(t *testing.T, db *store.DB, w ciWorld, day casework.Date, outcome string) (*store.DrugTest, error) {
	t.Helper()
	in := casework.DrugTestInput{TestedOn: day, Place: "椰林派出所", Sample: "urine", Outcome: outcome, Substances: []string{"甲基苯丙胺"},
		StaffIDs: []string{w.police.UserID, w.worker.UserID}}
	if outcome == casework.OutcomePositive {
		in.Positive, in.SampleA, in.SampleB, in.SealNo = []string{"甲基苯丙胺"}, "A9", "B9", "S9"
	}
	return db.RecordTest(ctx, w.worker, w.person.ID, in)
}

func TestR16RelapseAfterReleaseRestartsThreeYears(t *testing.T) {
	storetest.EachWithClock(t, at(pfD("2025-01-20"), 10, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := rlReleased(t, db, clock)
		m := pfCurrent(t, db, w.lead, w.person.ID)
		if m.Status != casework.StatusReleased || m.NoRelapseOn != pfD("2031-01-15") {
			t.Fatalf("released: %s, no-relapse date %s; want 2031-01-15", m.Status, m.NoRelapseOn)
		}
		// A released person can still be tested (the follow-up); a positive
		// on 29 February 2028 restarts the three years from that day.
		clock.T = at(pfD("2028-03-01"), 10, 0)
		if _, err := rlTest(t, db, w, pfD("2028-02-20"), casework.OutcomeNegative); err != nil {
			t.Fatalf("R16: a released person's follow-up test: %v", err)
		}
		storetest.Must(rlTest(t, db, w, pfD("2028-02-29"), casework.OutcomePositive))
		m = pfCurrent(t, db, w.lead, w.person.ID)
		if m.NoRelapseOn != pfD("2031-02-28") || m.LastRelapse != pfD("2028-02-29") || len(m.Relapses) != 1 {
			t.Fatalf("R16: after a relapse on 2028-02-29 the date is %s (last relapse %s, %d relapses); want 2031-02-28",
				m.NoRelapseOn, m.LastRelapse, len(m.Relapses))
		}
		// The original date passes: nothing is marked.
		clock.T = at(pfD("2031-01-15"), 12, 0)
		if n, err := db.MarkNoRelapse(ctx); err != nil || n != 0 {
			t.Fatalf("R16: marked %d on the old date (%v)", n, err)
		}
		// The day before the anniversary, late in the evening in Beijing: not yet.
		clock.T = at(pfD("2031-02-27"), 23, 30)
		if n, err := db.MarkNoRelapse(ctx); err != nil || n != 0 {
			t.Fatalf("R16: marked %d the day before (%v)", n, err)
		}
		// Half an hour later it is 28 February in Beijing (still the 27th in UTC).
		clock.T = at(pfD("2031-02-28"), 0, 30)
		if n, err := db.MarkNoRelapse(ctx); err != nil || n != 1 {
			t.Fatalf("R16: marked %d on the day (%v)", n, err)
		}
		if n, _ := db.MarkNoRelapse(ctx); n != 0 {
			t.Fatalf("R16: a second run marked %d", n)
		}
		m = pfCurrent(t, db, w.lead, w.person.ID)
		if m.NoRelapseMarkedOn != pfD("2031-02-28") {
			t.Fatalf("R16: mark %s, want 2031-02-28", m.NoRelapseMarkedOn)
		}
		c := storetest.Must(db.CountNoRelapse(ctx, w.lead, w.street.ID))
		if c.Marked != 1 || c.Tracking != 0 || c.Relapsed != 1 {
			t.Fatalf("R16 count: %+v", c)
		}
		// Dynamic control has ended: no routine follow-up test any more.
		_, err := rlTest(t, db, w, pfD("2031-02-28"), casework.OutcomeNegative)
		pfCode(t, "R16: a test after the mark", err, casework.ECONFLICT)
	})
}

// R16: drug use recorded after release (a year on) restarts the three
// years from its day; drug use before the release is refused as a relapse.
func TestR16DrugUseAfterRelease(t *testing.T) {
	storetest.EachWithClock(t, at(pfD("2025-01-20"), 10, 0), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := rlReleased(t, db, clock)
		clock.T = at(pfD("2029-01-20"), 10, 0)
		_, err := db.RecordRelapse(ctx, w.worker, w.person.ID, store.DrugUseInput{Day: pfD("2028-01-14"), Detail: "本人承认"})
		pfField(t, "drug use before release", err, "day")
		m := storetest.Must(db.RecordRelapse(ctx, w.worker, w.person.ID, store.DrugUseInput{Day: pfD("2029-01-10"), Detail: "本人承认复吸"}))
		if m.NoRelapseOn != pfD("2032-01-10") {
			t.Fatalf("R16: drug use on 2029-01-10 gives %s, want 2032-01-10", m.NoRelapseOn)
		}
		c := storetest.Must(db.CountNoRelapse(ctx, w.lead, w.street.ID))
		if c.Marked != 0 || c.Tracking != 1 || c.Relapsed != 1 {
			t.Fatalf("R16 count: %+v", c)
		}
		// Outside the lead's scope nothing is counted or recorded.
		_, err = db.RecordRelapse(ctx, w.counsellor, w.person.ID, store.DrugUseInput{Day: pfD("2029-01-11"), Detail: "x"})
		if err == nil {
			t.Fatal("a counsellor recorded a relapse")
		}
	})
}
