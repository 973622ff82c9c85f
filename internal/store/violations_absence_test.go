package store_test

// R9 "cumulative unauthorised absence of more than 30 days" counts days
// absent, not days checked in away (issue 10 §3): a trip runs from the first
// day with evidence of being away to the last day before the next evidence
// of being home, and its days without any check-in are days absent.

import (
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// nightAt runs the detection for today at the instant at.
func (w *vWorld) nightAt(today casework.Date, at time.Time) store.DetectResult {
	w.t.Helper()
	w.clock.T = at
	r, err := w.db.DetectViolations(ctx, today)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *vWorld) departures() []*store.Violation {
	w.t.Helper()
	return w.violations(casework.ViolationDeparture)
}

// R9: away every third day from day 10 to day 70 (across two month ends)
// and no home check-in between is one trip of 61 days absent, not 21: a
// serious case opens. The trip still open at the watermark is carried
// from night to night, and a rerun creates nothing.
func TestDetectR9AbsenceCountsDaysWithoutCheckIn(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		w.days(0, 10, false)
		for d := 10; d <= 70; d += 3 {
			w.days(d, 1, true)
		}
		w.days(71, 5, false)
		w.night(40) // days 10..39 judged: the trip is open at the watermark
		deps := w.departures()
		if len(deps) != 1 || deps[0].Days != 30 || deps[0].Day != vStart.AddDays(10) {
			t.Fatalf("after day 39: want one departure of 30 days from day 10, got %+v", deps)
		}
		if cs := w.cases(); len(cs) != 0 {
			t.Fatalf("30 days absent is not more than 30: %+v", cs)
		}
		w.night(76)
		deps = w.departures()
		if len(deps) != 1 || deps[0].Days != 61 || deps[0].LastDay != vStart.AddDays(70) {
			t.Fatalf("day 1 to day 61 of the trip: want 61 days absent, got %+v", deps)
		}
		cs := w.cases()
		if len(cs) != 1 || cs[0].Trigger != casework.TriggerAbsence {
			t.Fatalf("61 days absent: want one absence case, got %+v", cs)
		}
		before := len(w.violations(""))
		if again := w.night(76); again.Total() != 0 || again.Cases != 0 {
			t.Fatalf("a rerun created %+v", again)
		}
		if n := len(w.violations("")); n != before {
			t.Fatalf("violations %d after the rerun, %d before", n, before)
		}
	})
}

// R9 boundary in the org's zone: one away check-in on day 5, then nothing.
// At 00:30 Beijing time on day 35 (still day 34 in UTC) days 5..34 are over
// where the person lives: 30 days, no case. At 23:30 on day 35 nothing more
// is judged. At 00:30 on day 36, day 35 is the 31st day absent: serious.
// The first evidence of home (a test at the station on day 36) ends it.
func TestDetectR9AbsenceBoundaryInOrgZone(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		sh := casework.LoadLocation("Asia/Shanghai")
		w.days(0, 5, false)
		w.days(5, 1, true)
		at := func(d int, h, m int) time.Time {
			return vStart.AddDays(d).In(sh).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
		}
		w.nightAt(vStart.AddDays(35), at(35, 0, 30))
		deps := w.departures()
		if len(deps) != 1 || deps[0].Days != 30 {
			t.Fatalf("days 5..34: want one departure of 30 days, got %+v", deps)
		}
		if cs := w.cases(); len(cs) != 0 {
			t.Fatalf("30 days: no case, got %+v", cs)
		}
		if r := w.nightAt(vStart.AddDays(35), at(35, 23, 30)); r.Days != 0 {
			t.Fatalf("day 35 judged before it ended locally: %+v", r)
		}
		w.nightAt(vStart.AddDays(36), at(36, 0, 30))
		if deps := w.departures(); len(deps) != 1 || deps[0].Days != 31 {
			t.Fatalf("day 35: want 31 days, got %+v", deps)
		}
		if cs := w.cases(); len(cs) != 1 || cs[0].Trigger != casework.TriggerAbsence {
			t.Fatalf("31 days: want the absence case, got %+v", cs)
		}
		// A test at home on day 36 is evidence of being back: no day 36.
		seedHomeTest(t, db, w, 36)
		w.nightAt(vStart.AddDays(40), at(40, 2, 0))
		if deps := w.departures(); len(deps) != 1 || deps[0].Days != 31 {
			t.Fatalf("after the test at home: want 31 days still, got %+v", deps)
		}
	})
}

// R9 across a transfer (R11): the measure and its count continue. Twenty
// days absent before the transfer and eleven after the report-in at the new
// place (the days pending report owe nothing) are 31: serious.
func TestDetectR9AbsenceAcrossTransfer(t *testing.T) {
	storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := vBuild(t, db, clock)
		commB := storetest.Must(db.CreateOrg(ctx, pfSys, casework.OrgInput{Kind: casework.KindCommunity, Name: "红沙社区", ParentID: w.street.ID}))
		workerB := pfStaff(t, db, "worker-b", casework.RoleWorker, commB)
		w.days(0, 5, false)
		w.days(5, 1, true) // away on day 5, then not seen: days 5..24
		w.night(25)
		sh := casework.LoadLocation("Asia/Shanghai")
		clock.T = vStart.AddDays(25).In(sh).Add(10 * time.Hour)
		tf := storetest.Must(db.StartTransfer(ctx, w.lead, w.person.ID, commB.ID, "本人迁居红沙社区"))
		storetest.Must(db.DecideTransfer(ctx, w.lead, tf.ID, store.TransferDecision{Accept: true, WorkerID: workerB.UserID}))
		clock.T = vStart.AddDays(27).In(sh).Add(10 * time.Hour)
		storetest.Must(db.Transition(ctx, workerB, w.person.ID, store.TransitionInput{Action: casework.ActReportIn}))
		w.days(28, 1, true) // away again from day 28: days 28..38 are 11
		w.night(38)
		if cs := w.cases(); len(cs) != 0 {
			t.Fatalf("20 + 10 days: no case, got %+v", cs)
		}
		w.night(39)
		deps := w.departures()
		total := 0
		for _, d := range deps {
			total += d.Days
		}
		if len(deps) != 2 || total != 31 {
			t.Fatalf("want two departures of 31 days in all, got %+v", deps)
		}
		if cs := w.cases(); len(cs) != 1 || cs[0].Trigger != casework.TriggerAbsence {
			t.Fatalf("31 days across the transfer: want the absence case, got %+v", cs)
		}
	})
}

// seedHomeTest records a negative test at the station on term day d (the
// clock is moved to that day).
func seedHomeTest(t *testing.T, db *store.DB, w *vWorld, d int) {
	t.Helper()
	w.clock.T = vStart.AddDays(d).In(casework.LoadLocation("Asia/Shanghai")).Add(10 * time.Hour)
	in := casework.DrugTestInput{TestedOn: vStart.AddDays(d), Place: "椰林派出所", Sample: "urine", Outcome: casework.OutcomeNegative,
		Substances: []string{"吗啡"}, StaffIDs: []string{w.police.UserID, w.worker.UserID}}
	storetest.Must(db.RecordTest(ctx, w.police, w.person.ID, in))
}

// R8, R9: a leave request filed before leaving and not yet decided is the
// written report the law asks for: its days away are not an unauthorised
// departure, and the lead's inbox raises the request for review. A
// rejected or withdrawn request covers nothing, and neither does a pending
// one where the local policy requires approval (leave.approval_required).
// A request filed after leaving covers from its filing day only.
func TestDetectR8PendingLeaveCoversUnlessApprovalRequired(t *testing.T) {
	tests := []struct {
		name     string
		step     casework.LeaveAction // "" leaves it pending
		approval bool                 // leave.approval_required
		wantDays int                  // unauthorised days of the trip (0: no departure)
	}{
		{"pending: the written report suffices", "", false, 0},
		{"rejected: no cover", casework.LeaveReject, false, 10},
		{"withdrawn: no cover", casework.LeaveWithdraw, false, 10},
		{"pending where approval is required: no cover", "", true, 10},
		{"filed on the third day away: the two days before it count", "", false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			storetest.EachWithClock(t, vClock(), func(t *testing.T, db *store.DB, clock *storetest.Clock) {
				w := vBuild(t, db, clock)
				if tc.approval {
					storetest.Must(db.CreatePolicyVersion(ctx, pfSys, w.street.ID, casework.PolicyVersionInput{EffectiveFrom: vStart.AddDays(1),
						Settings: map[string]string{"leave.approval_required": "true"}, Note: "本地规定：请假须批准"}))
				}
				w.days(0, 10, false)
				w.days(10, 10, true) // away days 10..19 (across no month end: January)
				w.days(20, 5, false)
				filed := 8
				if tc.wantDays == 2 {
					filed = 12 // R8: the report comes after leaving on day 10
				}
				clock.T = vStart.AddDays(filed).In(casework.LoadLocation("Asia/Shanghai")).Add(10 * time.Hour)
				l := storetest.Must(db.CreateLeave(ctx, w.worker, w.person.ID, store.LeaveCreate{LeaveInput: casework.LeaveInput{
					Kind: casework.LeaveKindLeave, Province: "440000", City: "广州市", From: vStart.AddDays(10), To: vStart.AddDays(19), Reason: "探亲"}}))
				if tc.step != "" {
					actor := w.lead
					if tc.step == casework.LeaveWithdraw {
						actor = w.worker
					}
					storetest.Must(db.StepLeave(ctx, actor, l.ID, store.LeaveStep{Action: tc.step, Reason: "不符合条件"}))
				}
				clock.T = vStart.AddDays(12).In(casework.LoadLocation("Asia/Shanghai")).Add(10 * time.Hour)
				if tc.step == "" {
					tasks := storetest.Must(db.Inbox(ctx, w.lead))
					found := false
					for _, task := range tasks {
						if task.Kind == "leave_approval" && task.Link == "/leave/"+l.ID {
							found = task.Overdue && strings.Contains(task.TitleZH, "仍未审批") && strings.Contains(task.TitleZH, "王小明")
						}
					}
					if !found {
						t.Errorf("the lead's inbox does not raise the undecided request for review: %+v", tasks)
					}
				}
				w.night(25)
				deps := w.departures()
				switch {
				case tc.wantDays == 0 && len(deps) != 0:
					t.Fatalf("covered by the filed request, got departures %+v", *deps[0])
				case tc.wantDays > 0 && (len(deps) != 1 || deps[0].Days != tc.wantDays):
					t.Fatalf("want one departure of %d days, got %d", tc.wantDays, len(deps))
				}
			})
		})
	}
}
