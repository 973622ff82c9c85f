package store_test

// Issue 13 §4 on both engines: the check-in frequency (policy
// checkin.every_days and the tier's checkin.tier.<tier>.every_days) decides
// which days owe a check-in — in the rate, the app's today, the board, the
// inbox, the nightly detection of missed days and the reports.

import (
	"slices"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

func evDays(ds ...string) []casework.Date {
	out := make([]casework.Date, len(ds))
	for i, s := range ds {
		out[i] = pfD(s)
	}
	return out
}

func evMissedDetected(t *testing.T, db *store.DB, lead *casework.Actor, personID string) ([]casework.Date, []string) {
	t.Helper()
	vs, _, err := db.ListViolations(ctx, lead, store.ViolationFilter{PersonID: personID, Kind: casework.ViolationMissedCheckin})
	if err != nil {
		t.Fatal(err)
	}
	var days []casework.Date
	var refs []string
	for _, v := range vs {
		days = append(days, v.Day)
		refs = append(refs, v.PolicyRef)
	}
	slices.SortFunc(days, func(a, b casework.Date) int { return a.Compare(b) })
	return days, refs
}

func evMissedToday(t *testing.T, db *store.DB, a *casework.Actor) []string {
	t.Helper()
	var out []string
	for _, x := range storetest.Must(db.Inbox(ctx, a)) {
		if x.Kind == "checkin_missed" {
			out = append(out, x.PersonName)
		}
	}
	return out
}

// every_days=2 from the duty start (the activation at 23:59 Beijing on 9
// March): days 1 and 3 owe (9th, 11th), days 2 and 4 do not (10th, 12th);
// a check-in at 00:01 Beijing on the 11th (16:01 UTC the 10th) counts for
// the 11th. A version of the 15th taking effect on the 16th makes it every
// 3 days from the 16th (the 15th keeps the old frequency), across the month
// end: 31 March owes, 1 and 2 April do not, 3 April does. The rate's
// denominator, the detection, the board, the app's today and the inbox all
// agree; the missed days record the policy version of their frequency.
func TestCheckinEveryDaysDuty(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 3, 8, 2, 0, 0, 0, time.UTC)
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		v1 := storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.county.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-03-09"),
			Settings: map[string]string{"checkin.every_days": "2", "checkin.window": "00:00-22:00"}, Note: "隔日签到"}))
		clock.T = time.Date(2026, 3, 9, 23, 59, 0, 0, bj)
		phone := ciActivate(t, db, w.worker, w.person.ID)
		day := storetest.Must(db.CheckinToday(ctx, w.person.ID))
		if !day.Due || day.EveryDays != 2 || day.NextDue != pfD("2026-03-11") {
			t.Fatalf("9 March 23:59 (day 1): %+v, want due, every 2 days, next on the 11th", day)
		}
		// 00:30 Beijing on the 10th (16:30 UTC on the 9th): day 2 owes nothing.
		clock.T = time.Date(2026, 3, 10, 0, 30, 0, 0, bj)
		day = storetest.Must(db.CheckinToday(ctx, w.person.ID))
		if day.Date != pfD("2026-03-10") || day.Due || day.NextDue != pfD("2026-03-11") {
			t.Fatalf("10 March 00:30 (day 2): %+v, want not due, next on the 11th", day)
		}
		board, _ := ciMust2(db.TodayBoard(ctx, w.lead, w.street.ID))
		if len(board) != 1 || !board[0].NotDue || board[0].NoApp || board[0].NextDue != pfD("2026-03-11") {
			t.Fatalf("board on day 2: %+v", board)
		}
		// 22:30 on the 10th: the window is over, but the day owes nothing,
		// so the inbox does not list the person.
		clock.T = time.Date(2026, 3, 10, 22, 30, 0, 0, bj)
		if got := evMissedToday(t, db, w.worker); len(got) != 0 {
			t.Fatalf("inbox on a day that is not a check-in day: %v", got)
		}
		// 00:01 on the 11th (day 3): a check-in counts for the 11th.
		at := time.Date(2026, 3, 11, 0, 1, 0, 0, bj)
		clock.T = at.Add(time.Second)
		if c, _, _, err := phone.checkin(db, ciIn(at, 18.25, 109.5)); err != nil || c.LocalDate != pfD("2026-03-11") {
			t.Fatalf("00:01 on the 11th: %+v %v", c, err)
		}
		if day := storetest.Must(db.CheckinToday(ctx, w.person.ID)); !day.Due || day.NextDue != pfD("2026-03-13") {
			t.Fatalf("11 March (day 3): %+v", day)
		}
		// 22:30 on the 13th (day 5, due, nothing sent): the inbox lists it.
		clock.T = time.Date(2026, 3, 13, 22, 30, 0, 0, bj)
		if got := evMissedToday(t, db, w.worker); !slices.Equal(got, []string{"王小明"}) {
			t.Fatalf("inbox on a missed check-in day: %v", got)
		}
		d := storetest.Must(db.PersonDuty(ctx, w.worker, w.person.ID, pfD("2026-03-09"), pfD("2026-03-12")))
		if d.Due != 2 || d.Done != 1 || !slices.Equal(d.Missed, evDays("2026-03-09")) {
			t.Fatalf("days 1–4: %+v, want due 9 and 11, done 11", d)
		}
		// The version of the 15th: every 3 days from the 16th.
		clock.T = time.Date(2026, 3, 15, 9, 0, 0, 0, bj)
		v2 := storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.county.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-03-16"),
			Settings: map[string]string{"checkin.every_days": "3"}, Note: "每三天签到"}))
		if day := storetest.Must(db.CheckinToday(ctx, w.person.ID)); !day.Due || day.EveryDays != 2 || day.NextDue != pfD("2026-03-16") {
			t.Fatalf("15 March: %+v, want due under the old frequency, next on the 16th", day)
		}
		at = time.Date(2026, 3, 16, 10, 0, 0, 0, bj)
		clock.T = at.Add(time.Minute)
		if _, _, _, err := phone.checkin(db, ciIn(at, 18.25, 109.5)); err != nil {
			t.Fatal(err)
		}
		if day := storetest.Must(db.CheckinToday(ctx, w.person.ID)); !day.Due || !day.Done || day.EveryDays != 3 || day.NextDue != pfD("2026-03-19") {
			t.Fatalf("16 March: %+v, want every 3 days, next on the 19th", day)
		}
		clock.T = time.Date(2026, 4, 4, 2, 0, 0, 0, bj)
		wantDue := evDays("2026-03-09", "2026-03-11", "2026-03-13", "2026-03-15", "2026-03-16", "2026-03-19", "2026-03-22", "2026-03-25",
			"2026-03-28", "2026-03-31", "2026-04-03")
		d = storetest.Must(db.PersonDuty(ctx, w.worker, w.person.ID, pfD("2026-03-01"), pfD("2026-04-03")))
		var wantMissed []casework.Date
		for _, x := range wantDue {
			if x != pfD("2026-03-11") && x != pfD("2026-03-16") {
				wantMissed = append(wantMissed, x)
			}
		}
		if d.Due != len(wantDue) || d.Done != 2 || !slices.Equal(d.Missed, wantMissed) {
			t.Fatalf("9 March – 3 April: due %d done %d missed %v; want due %d (%v), done 2", d.Due, d.Done, d.Missed, len(wantDue), wantDue)
		}
		// The rate's denominator by frequency: 1–15 March at every 2 days
		// owes 4 days; 16–31 March at every 3 owes 6; April 1–3 owes one.
		for _, c := range []struct {
			from, to string
			due      int
		}{{"2026-03-01", "2026-03-15", 4}, {"2026-03-16", "2026-03-31", 6}, {"2026-04-01", "2026-04-03", 1}, {"2026-04-01", "2026-04-02", 0}} {
			o := storetest.Must(db.OrgCheckinDuty(ctx, w.lead, w.street.ID, pfD(c.from), pfD(c.to)))
			if o.Due != c.due {
				t.Errorf("org rate %s…%s: due %d, want %d", c.from, c.to, o.Due, c.due)
			}
		}
		f, _, err := db.FigureList(ctx, w.lead, w.street.ID, store.ReportPeriod{From: pfD("2026-03-01"), To: pfD("2026-03-31")}, "checkin_rate", "")
		if err != nil || f.Den != 10 || f.Num != 2 {
			t.Fatalf("report figure checkin_rate for March: %+v %v, want 2 of 10", f, err)
		}
		// The nightly detection records exactly the missed check-in days,
		// each with the policy version of its frequency.
		storetest.Must(db.DetectViolations(ctx, pfD("2026-04-04")))
		days, refs := evMissedDetected(t, db, w.lead, w.person.ID)
		if !slices.Equal(days, wantMissed) {
			t.Fatalf("missed days detected: %v, want %v", days, wantMissed)
		}
		var n1, n2 int
		for _, r := range refs {
			switch r {
			case v1.ID:
				n1++
			case v2.ID:
				n2++
			default:
				t.Fatalf("a missed day with policy %q, want %s or %s", r, v1.ID, v2.ID)
			}
		}
		if n1 != 3 || n2 != 6 {
			t.Fatalf("missed days under the first version %d (want 3: 9, 13, 15), the second %d (want 6)", n1, n2)
		}
	})
}

// A tier raised to high with checkin.tier.high.every_days=1 on the 16th
// makes every day a check-in day from the 17th, not on the 16th (R31, R32:
// only a confirmed tier, from the next day); an approved leave keeps the
// days (it neither adds nor shifts them); a transfer to a county that
// checks in every 2 days anchors its frequency at the transfer, the days
// pending the report there owe nothing, and the tier travels with the file
// (R11) — the new county sets no high-tier frequency, so its general one
// applies.
func TestCheckinEveryDaysTierLeaveTransfer(t *testing.T) {
	bj := casework.LoadLocation("Asia/Shanghai")
	storetest.EachWithClock(t, time.Date(2026, 3, 8, 10, 0, 0, 0, bj), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.county.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-03-09"),
			Settings: map[string]string{"checkin.every_days": "3", "checkin.tier.high.every_days": "1"}, Note: "三天一签，高风险每天"}))
		clock.T = time.Date(2026, 3, 9, 10, 0, 0, 0, bj)
		ciActivate(t, db, w.worker, w.person.ID)
		lat, lng, radius := 23.13, 113.26, 5000
		l := storetest.Must(db.CreateLeave(ctx, w.worker, w.person.ID, store.LeaveCreate{LeaveInput: casework.LeaveInput{Kind: casework.LeaveKindLeave,
			Province: "440000", City: "广州市", Lat: &lat, Lng: &lng, RadiusM: &radius, From: pfD("2026-03-11"), To: pfD("2026-03-13"), Reason: "探亲"}}))
		storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意"}))

		// The 16th: a lead confirms the high tier; it applies from the 17th.
		clock.T = time.Date(2026, 3, 16, 10, 0, 0, 0, bj)
		form := storetest.Must(db.RiskAssessForm(ctx, w.worker, w.person.ID))
		x := lowRisk(form.Instrument)
		x.Overrides[casework.OverrideMental] = casework.RiskAnswer{Value: "yes"}
		a := storetest.Must(db.AssessRisk(ctx, w.worker, w.person.ID, x, "first", ""))
		if day := storetest.Must(db.CheckinToday(ctx, w.person.ID)); day.Due || day.NextDue != pfD("2026-03-18") {
			t.Fatalf("16th, proposal unconfirmed: %+v, want not due, next on the 18th", day)
		}
		storetest.Must(db.DecideRisk(ctx, w.lead, a.ID, casework.TierHigh, "精神状况不稳定"))
		if day := storetest.Must(db.CheckinToday(ctx, w.person.ID)); day.Due || day.EveryDays != 3 || day.NextDue != pfD("2026-03-17") {
			t.Fatalf("16th, high confirmed: %+v, want today unchanged (not due, every 3 days), next on the 17th", day)
		}
		if du := storetest.Must(db.RiskDutiesOn(ctx, w.lead, w.person.ID, pfD("2026-03-17"))); len(du.Policy) == 0 || du.EveryDays != 1 {
			t.Fatalf("the tier's duties on the 17th: %+v, want every day with the policy version", du)
		}
		if du := storetest.Must(db.RiskDutiesOn(ctx, w.lead, w.person.ID, pfD("2026-03-16"))); du.EveryDays != 3 {
			t.Fatalf("the duties on the 16th: %+v, want every 3 days", du)
		}
		clock.T = time.Date(2026, 3, 17, 10, 0, 0, 0, bj)
		if day := storetest.Must(db.CheckinToday(ctx, w.person.ID)); !day.Due || day.EveryDays != 1 || day.NextDue != pfD("2026-03-18") {
			t.Fatalf("17th under the high tier: %+v, want due daily", day)
		}
		clock.T = time.Date(2026, 3, 20, 22, 30, 0, 0, bj)
		d := storetest.Must(db.PersonDuty(ctx, w.worker, w.person.ID, pfD("2026-03-09"), pfD("2026-03-20")))
		before := evDays("2026-03-09", "2026-03-12", "2026-03-15", "2026-03-17", "2026-03-18", "2026-03-19", "2026-03-20")
		if d.Due != len(before) || !slices.Equal(d.Missed, before) {
			t.Fatalf("9–20 March: %+v, want due %v (the leave's 12th kept, daily from the 17th)", d, before)
		}
		if got := evMissedToday(t, db, w.worker); !slices.Equal(got, []string{"王小明"}) {
			t.Fatalf("inbox on the 20th under the high tier: %v", got)
		}

		// The transfer on the 21st to a county checking in every 2 days.
		city := storetest.Must(db.GetOrg(ctx, pfSys, w.county.ParentID))
		to := trPlace(t, db, city)
		storetest.Must(db.CreatePolicyVersion(ctx, pfSys, to.county.ID, casework.PolicyVersionInput{EffectiveFrom: pfD("2026-03-21"),
			Settings: map[string]string{"checkin.every_days": "2"}, Note: "隔日签到"}))
		clock.T = time.Date(2026, 3, 21, 10, 0, 0, 0, bj)
		trTransfer(t, db, w.lead, to, w.person.ID, casework.Date{})
		clock.T = time.Date(2026, 3, 22, 10, 0, 0, 0, bj)
		storetest.Must(db.Transition(ctx, to.worker, w.person.ID, store.TransitionInput{Action: casework.ActReportIn}))
		if day := storetest.Must(db.CheckinToday(ctx, w.person.ID)); day.Due || day.EveryDays != 2 || day.NextDue != pfD("2026-03-23") {
			t.Fatalf("22nd at the new place: %+v, want not due (every 2 days from the 21st), next on the 23rd", day)
		}
		clock.T = time.Date(2026, 3, 27, 10, 0, 0, 0, bj)
		d = storetest.Must(db.PersonDuty(ctx, to.worker, w.person.ID, pfD("2026-03-21"), pfD("2026-03-26")))
		if after := evDays("2026-03-23", "2026-03-25"); d.Due != 2 || !slices.Equal(d.Missed, after) {
			t.Fatalf("21–26 March after the transfer: %+v, want due %v", d, after)
		}
	})
}
