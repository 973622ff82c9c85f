package casework

import (
	"slices"
	"strings"
	"testing"
)

// expectedTransitions is the status machine written out independently of
// status.go (R2, R11, R13–R16, R30; PRODUCT §2). Every status × action pair
// not listed must be refused.
var expectedTransitions = map[Status]map[Action]Status{
	StatusPendingReport: {
		ActReportIn:  StatusExecuting,  // R1, R3: report-in starts the term
		ActSuspend:   StatusSuspended,  // R13: detained before reporting in (no refusal while held, R2)
		ActRelease:   StatusReleased,   // R15, R11: awaiting report at a new place, the term still ends on its date
		ActTerminate: StatusTerminated, // R2: refusal ⇒ police may decide 强戒
		ActDecease:   StatusDeceased,
	},
	StatusExecuting: {
		ActStartLeave:  StatusOnLeave,        // R8
		ActSuspend:     StatusSuspended,      // R13
		ActRelease:     StatusReleased,       // R15
		ActTerminate:   StatusTerminated,     // R14
		ActTransferOut: StatusTransferredOut, // R11
		ActDecease:     StatusDeceased,
	},
	StatusOnLeave: {
		ActEndLeave:  StatusExecuting,
		ActSuspend:   StatusSuspended,  // R13: detained while away
		ActRelease:   StatusReleased,   // R15: expiry during leave
		ActTerminate: StatusTerminated, // R14
		ActDecease:   StatusDeceased,
	},
	StatusSuspended: {
		ActResume:    StatusExecuting,  // R13: 继续
		ActRelease:   StatusReleased,   // R15 with the clock continuing (R13)
		ActTerminate: StatusTerminated, // R14: detention turns into a sentence
		ActDecease:   StatusDeceased,
	},
	StatusTransferredOut: {
		ActTransferIn: StatusPendingReport, // R11: report at the new place within 15 days
	},
	StatusReleased:   {},
	StatusTerminated: {},
	StatusDeceased:   {},
}

func TestStatusAndActionLabels_R30(t *testing.T) {
	if len(Statuses) != 8 || len(expectedTransitions) != len(Statuses) {
		t.Fatalf("Statuses = %v", Statuses)
	}
	wantZH := map[Status]string{
		StatusPendingReport: "待报到", StatusExecuting: "执行中", StatusOnLeave: "请假", StatusSuspended: "中止",
		StatusReleased: "解除", StatusTerminated: "终止", StatusTransferredOut: "变更执行地", StatusDeceased: "死亡",
	}
	seenZH, seenEN := map[string]bool{}, map[string]bool{}
	for _, s := range Statuses {
		t.Run(string(s), func(t *testing.T) {
			if !s.Valid() {
				t.Fatal("not valid")
			}
			zh, en := s.Label("zh"), s.Label("en")
			if zh != wantZH[s] {
				t.Fatalf("zh label %q; want %q (R30)", zh, wantZH[s])
			}
			if en == "" || en == zh || seenZH[zh] || seenEN[en] {
				t.Fatalf("labels %q / %q missing or duplicated", zh, en)
			}
			seenZH[zh], seenEN[en] = true, true
		})
	}
	for _, a := range Actions {
		t.Run(string(a), func(t *testing.T) {
			zh, en := a.Label("zh"), a.Label("en")
			if !a.Valid() || zh == "" || en == "" || zh == string(a) || en == zh {
				t.Fatalf("action %q labels %q / %q", a, zh, en)
			}
		})
	}
	if Status("bogus").Valid() || Action("bogus").Valid() || Status("bogus").Label("zh") != "bogus" {
		t.Fatal("unknown status/action handled wrongly")
	}
	if Actions[8] != ActTransferIn || ActResume.Label("zh") != "继续执行" {
		t.Fatal("action names changed")
	}
}

// Every status × action pair is checked against expectedTransitions: the
// allowed ones lead where the table says, the rest are ECONFLICT naming both
// states in both languages.
func TestTransitionAllPairs_R30(t *testing.T) {
	allowed := 0
	for _, from := range Statuses {
		for _, a := range Actions {
			want, ok := expectedTransitions[from][a]
			t.Run(string(from)+"/"+string(a), func(t *testing.T) {
				got, err := Transition(from, a)
				if ok {
					if err != nil || got != want {
						t.Fatalf("Transition(%s, %s) = %q, %v; want %q", from, a, got, err, want)
					}
					return
				}
				if err == nil {
					t.Fatalf("Transition(%s, %s) = %q; want ECONFLICT", from, a, got)
				}
				if ErrorCode(err) != ECONFLICT || got != "" {
					t.Fatalf("Transition(%s, %s) = %q, %v; want ECONFLICT", from, a, got, err)
				}
				to := ActionTarget(a)
				zh, en := ErrorMessage(err, "zh"), ErrorMessage(err, "en")
				for _, want := range []string{from.Label("zh"), to.Label("zh"), a.Label("zh")} {
					if !strings.Contains(zh, want) {
						t.Fatalf("zh message %q does not name %q", zh, want)
					}
				}
				for _, want := range []string{from.Label("en"), to.Label("en"), a.Label("en")} {
					if !strings.Contains(en, want) {
						t.Fatalf("en message %q does not name %q", en, want)
					}
				}
				if from.Archived() != strings.Contains(zh, "只读") || from.Archived() != strings.Contains(en, "read-only") {
					t.Fatalf("R30: archived %v but message %q / %q", from.Archived(), zh, en)
				}
			})
			if ok {
				allowed++
			}
		}
	}
	wantAllowed := 0
	for _, m := range expectedTransitions {
		wantAllowed += len(m)
	}
	if allowed != wantAllowed || allowed != 21 {
		t.Fatalf("%d allowed pairs; want %d", allowed, wantAllowed)
	}
}

// A sample of refusals that matter, named with their rules.
func TestTransitionRefusals(t *testing.T) {
	tests := []struct {
		name   string
		from   Status
		action Action
	}{
		{"R30 a released file is read-only: no resume", StatusReleased, ActResume},
		{"R30 a released file cannot be released again", StatusReleased, ActRelease},
		{"R14 a terminated file cannot be reported into", StatusTerminated, ActReportIn},
		{"R30 a deceased file takes nothing", StatusDeceased, ActTerminate},
		{"R11 the old place cannot act on a transferred file", StatusTransferredOut, ActStartLeave},
		{"R11 a transferred file is not released by the old place", StatusTransferredOut, ActRelease},
		{"R13 a suspended file accepts continue, not leave", StatusSuspended, ActStartLeave},
		{"R13 a suspended file cannot be transferred", StatusSuspended, ActTransferOut},
		{"no leave before reporting", StatusPendingReport, ActStartLeave},
		{"no double report", StatusExecuting, ActReportIn},
		{"leave must end before a transfer", StatusOnLeave, ActTransferOut},
		{"resume only from suspended", StatusExecuting, ActResume},
		{"accept only a transferred file", StatusExecuting, ActTransferIn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Transition(tt.from, tt.action); ErrorCode(err) != ECONFLICT {
				t.Fatalf("Transition(%s, %s) = %v; want ECONFLICT", tt.from, tt.action, err)
			}
		})
	}
}

func TestTransitionUnknown(t *testing.T) {
	tests := []struct {
		name   string
		from   Status
		action Action
		field  string
	}{
		{"unknown status", "archived", ActRelease, "status"},
		{"empty status", "", ActRelease, "status"},
		{"unknown action", StatusExecuting, "escape", "action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Transition(tt.from, tt.action)
			if ErrorCode(err) != EINVALID || ErrorField(err) != tt.field {
				t.Fatalf("Transition = %v; want EINVALID on %s", err, tt.field)
			}
		})
	}
}

func TestStatusClasses_R30(t *testing.T) {
	tests := []struct {
		status                  Status
		final, archived, active bool
	}{
		{StatusPendingReport, false, false, false},
		{StatusExecuting, false, false, true},
		{StatusOnLeave, false, false, true},
		{StatusSuspended, false, false, true},
		{StatusReleased, true, true, false},
		{StatusTerminated, true, true, false},
		{StatusTransferredOut, false, true, false}, // archived for the old place only
		{StatusDeceased, true, true, false},
	}
	for _, tt := range tests {
		t.Run("R30 "+string(tt.status), func(t *testing.T) {
			s := tt.status
			if s.Final() != tt.final || s.Archived() != tt.archived || s.Active() != tt.active {
				t.Fatalf("Final=%v Archived=%v Active=%v; want %v %v %v", s.Final(), s.Archived(), s.Active(), tt.final, tt.archived, tt.active)
			}
			// Final means no way out; the table agrees.
			if s.Final() != (len(AllowedActions(s)) == 0) || s.Final() != (len(expectedTransitions[s]) == 0) {
				t.Fatalf("Final=%v but allowed actions %v", s.Final(), AllowedActions(s))
			}
		})
	}
}

func TestAllowedActions(t *testing.T) {
	for _, s := range Statuses {
		t.Run(string(s), func(t *testing.T) {
			got := AllowedActions(s)
			var want []Action
			for _, a := range Actions { // in the order of Actions
				if _, ok := expectedTransitions[s][a]; ok {
					want = append(want, a)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("AllowedActions(%s) = %v; want %v", s, got, want)
			}
		})
	}
	if ActionTarget("bogus") != "" {
		t.Fatal("ActionTarget of an unknown action")
	}
}

// A whole life: report, leave, detention, resume, transfer, report at the
// new place, expiry; then the file is read-only.
func TestLifecycleWalk(t *testing.T) {
	s := StatusPendingReport
	steps := []struct {
		action Action
		want   Status
	}{
		{ActReportIn, StatusExecuting},
		{ActStartLeave, StatusOnLeave},
		{ActEndLeave, StatusExecuting},
		{ActSuspend, StatusSuspended},
		{ActResume, StatusExecuting},
		{ActTransferOut, StatusTransferredOut},
		{ActTransferIn, StatusPendingReport},
		{ActReportIn, StatusExecuting},
		{ActRelease, StatusReleased},
	}
	for _, st := range steps {
		next, err := Transition(s, st.action)
		if err != nil || next != st.want {
			t.Fatalf("%s from %s = %s, %v; want %s", st.action, s, next, err, st.want)
		}
		s = next
	}
	for _, a := range Actions {
		if _, err := Transition(s, a); err == nil {
			t.Fatalf("R30: released file accepted %s", a)
		}
	}
}

// R2: still pending report after day 15 ⇒ deemed refusal.
func TestDeemedRefusal_R2(t *testing.T) {
	received := d(2021, 3, 1)
	tests := []struct {
		name     string
		status   Status
		received Date
		today    Date
		want     bool
	}{
		{"R2 pending on day 15 is not yet refusal", StatusPendingReport, received, d(2021, 3, 16), false},
		{"R2 pending on day 16 is refusal", StatusPendingReport, received, d(2021, 3, 17), true},
		{"R2 pending long after is refusal", StatusPendingReport, received, d(2021, 6, 1), true},
		{"R2 reported (executing) is never refusal", StatusExecuting, received, d(2021, 6, 1), false},
		{"R2 terminated is not flagged again", StatusTerminated, received, d(2021, 6, 1), false},
		{"R2 R11 pending at the new place, day 16 after the change", StatusPendingReport, d(2022, 1, 10), d(2022, 1, 26), true},
		{"R2 no received date, no flag", StatusPendingReport, Date{}, d(2021, 6, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeemedRefusal(tt.status, tt.received, tt.today); got != tt.want {
				t.Fatalf("DeemedRefusal = %v; want %v", got, tt.want)
			}
		})
	}
}

// R15: an active measure is due for release on its end date.
func TestReleaseDue_R15(t *testing.T) {
	end := d(2024, 3, 1)
	tests := []struct {
		name   string
		status Status
		end    Date
		today  Date
		want   bool
	}{
		{"R15 the day before the end", StatusExecuting, end, d(2024, 2, 29), false},
		{"R15 on the end date", StatusExecuting, end, end, true},
		{"R15 after the end date", StatusExecuting, end, d(2024, 3, 5), true},
		{"R15 on leave at the end date", StatusOnLeave, end, end, true},
		{"R15 suspended at the end date (clock continues)", StatusSuspended, end, end, true},
		{"R15 already released", StatusReleased, end, end, false},
		{"R15 pending report without a first report has no term", StatusPendingReport, Date{}, end, false},
		{"R15 R11 pending report at a new place ends on its date", StatusPendingReport, end, end, true},
		{"R15 R11 pending report at a new place, the day before", StatusPendingReport, end, d(2024, 2, 29), false},
		{"R15 no end date", StatusExecuting, Date{}, end, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReleaseDue(tt.status, tt.end, tt.today); got != tt.want {
				t.Fatalf("ReleaseDue = %v; want %v", got, tt.want)
			}
		})
	}
}

// R16: 3 years without relapse after release.
func TestNoRelapse_R16(t *testing.T) {
	dates := []struct {
		name    string
		release Date
		want    Date
	}{
		{"R16 ordinary", d(2021, 3, 1), d(2024, 3, 1)},
		{"R16 released 29 February", d(2020, 2, 29), d(2023, 2, 28)},
		{"R16 zero", Date{}, Date{}},
	}
	for _, tt := range dates {
		t.Run(tt.name, func(t *testing.T) {
			if got := NoRelapseDate(tt.release); got != tt.want {
				t.Fatalf("NoRelapseDate = %v; want %v", got, tt.want)
			}
		})
	}

	release := d(2021, 3, 1)
	tests := []struct {
		name        string
		release     Date
		lastRelapse Date
		today       Date
		want        bool
	}{
		{"R16 the day before 3 years", release, Date{}, d(2024, 2, 29), false},
		{"R16 on the day 3 years are complete", release, Date{}, d(2024, 3, 1), true},
		{"R16 later", release, Date{}, d(2025, 1, 1), true},
		{"R16 relapse after release", release, d(2022, 5, 5), d(2025, 1, 1), false},
		{"R16 relapse after release: the day before 3 years from it", release, d(2022, 5, 5), d(2025, 5, 4), false},
		{"R16 relapse after release: 3 years from the relapse", release, d(2022, 5, 5), d(2025, 5, 5), true},
		{"R16 relapse on 29 Feb: the day before 28 Feb", release, d(2024, 2, 29), d(2027, 2, 27), false},
		{"R16 relapse on 29 Feb: reached on 28 Feb", release, d(2024, 2, 29), d(2027, 2, 28), true},
		{"R16 relapse on the release date", release, release, d(2024, 2, 29), false},
		{"R16 relapse on the release date: counted from it", release, release, d(2024, 3, 1), true},
		{"R16 relapse only before release (the one the measure was for)", release, d(2020, 5, 5), d(2025, 1, 1), true},
		{"R16 never released", Date{}, Date{}, d(2025, 1, 1), false},
		{"R16 no today", release, Date{}, Date{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NoRelapseReached(tt.release, tt.lastRelapse, tt.today); got != tt.want {
				t.Fatalf("NoRelapseReached = %v; want %v", got, tt.want)
			}
		})
	}
}

// R13: a person detained before reporting in goes back to pending report
// on release; one who had reported goes back to executing.
func TestResumeStatus_R13(t *testing.T) {
	if ResumeStatus(true) != StatusExecuting || ResumeStatus(false) != StatusPendingReport {
		t.Fatalf("ResumeStatus: %s, %s", ResumeStatus(true), ResumeStatus(false))
	}
}

// R2: lateness is judged from the dates; day 15 on time, day 16 late,
// whether or not the person has reported since.
func TestReportLate_R2(t *testing.T) {
	deadline := d(2026, 3, 16) // received 1 March
	tests := []struct {
		name            string
		reported, today Date
		want            bool
	}{
		{"R2 reported on day 15", d(2026, 3, 16), d(2026, 4, 1), false},
		{"R2 reported on day 16", d(2026, 3, 17), d(2026, 3, 17), true},
		{"R2 not reported, day 15", Date{}, d(2026, 3, 16), false},
		{"R2 not reported, day 16", Date{}, d(2026, 3, 17), true},
		{"R2 reported early", d(2026, 3, 2), d(2026, 3, 20), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReportLate(deadline, tt.reported, tt.today); got != tt.want {
				t.Fatalf("ReportLate = %v; want %v", got, tt.want)
			}
		})
	}
	if ReportLate(Date{}, Date{}, deadline.AddDays(30)) {
		t.Fatal("no deadline is never late")
	}
}

// R13: the report deadline of a person detained before reporting in
// follows the suspension clock; across a month end.
func TestSuspendedReportDeadline_R13(t *testing.T) {
	deadline := d(2026, 2, 5) // received 21 January
	since, resumed := d(2026, 1, 28), d(2026, 2, 10)
	tests := []struct {
		name  string
		dl    Date
		pause bool
		want  Date
	}{
		{"R13 pause moves the deadline by the 13 days held", deadline, true, d(2026, 2, 18)},
		{"R13 continue: a deadline that fell while held becomes the day of release", deadline, false, resumed},
		{"R13 continue: a deadline after release stays", d(2026, 2, 20), false, d(2026, 2, 20)},
		{"R13 a deadline past before the detention does not move", d(2026, 1, 27), true, d(2026, 1, 27)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SuspendedReportDeadline(tt.dl, since, resumed, tt.pause); got != tt.want {
				t.Fatalf("SuspendedReportDeadline = %s; want %s", got, tt.want)
			}
		})
	}
}

// R13: the suspension clock is a policy setting, default continue
// (UNCONFIRMED in law), with pause as the only other choice.
func TestSuspensionClockSetting_R13(t *testing.T) {
	s, ok := PolicySetting("term.suspension_clock")
	if !ok || s.Default.Enum() != SuspensionClockContinue || s.Rule != "R13" || s.Confidence != "UNCONFIRMED" {
		t.Fatalf("setting %+v", s)
	}
	if _, err := s.Parse("pause"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Parse("stop"); ErrorField(err) != "term.suspension_clock" {
		t.Fatalf("an unknown choice: %v", err)
	}
}
