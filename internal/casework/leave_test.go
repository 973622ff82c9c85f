package casework

import (
	"testing"
)

// R28: every (state, action) pair, allowed or refused.
func TestLeaveTransitionsEveryPair(t *testing.T) {
	allowed := map[LeaveState]map[LeaveAction]LeaveState{
		LeaveDraft:              {LeaveSubmit: LeavePending, LeaveWithdraw: LeaveWithdrawn},
		LeavePending:            {LeaveApprove: LeaveApproved, LeaveReject: LeaveRejected, LeaveWithdraw: LeaveWithdrawn},
		LeaveApproved:           {LeaveRequestExtension: LeaveExtensionRequested, LeaveReportReturn: LeaveReturnPending},
		LeaveExtensionRequested: {LeaveApprove: LeaveApproved, LeaveReject: LeaveApproved, LeaveReportReturn: LeaveReturnPending},
		LeaveReturnPending:      {LeaveConfirmReturn: LeaveReturned},
		LeaveRejected:           {},
		LeaveWithdrawn:          {},
		LeaveReturned:           {},
	}
	if len(allowed) != len(LeaveStates) {
		t.Fatalf("table covers %d states of %d", len(allowed), len(LeaveStates))
	}
	for _, from := range LeaveStates {
		for _, a := range LeaveActions {
			t.Run(string(from)+"/"+string(a), func(t *testing.T) {
				got, err := LeaveTransition(from, a)
				want, ok := allowed[from][a]
				switch {
				case ok && (err != nil || got != want):
					t.Errorf("got %s, %v; want %s", got, err, want)
				case !ok && !IsCode(err, ECONFLICT):
					t.Errorf("refused pair gave %s, %v; want conflict", got, err)
				case !ok:
					if e := err.(*Error); e.ZH == "" || e.EN == "" {
						t.Errorf("message missing: %+v", e)
					}
				}
			})
		}
	}
	if _, err := LeaveTransition(LeavePending, "fly"); !IsCode(err, EINVALID) {
		t.Errorf("unknown action: %v", err)
	}
	if len(AllowedLeaveActions(LeavePending)) != 3 {
		t.Errorf("allowed from pending: %v", AllowedLeaveActions(LeavePending))
	}
}

// R8: 3 days or more outside the county needs the written report.
func TestLeaveThreshold(t *testing.T) {
	from := MustParseDate("2026-03-30")
	for _, c := range []struct {
		to       string
		days     int
		required bool
	}{{"2026-03-31", 2, false}, {"2026-04-01", 3, true}, {"2026-04-02", 4, true}} {
		t.Run(c.to, func(t *testing.T) {
			d := LeaveDays(from, MustParseDate(c.to))
			if d != c.days || LeaveRequired(d, DefaultLeaveThresholdDays) != c.required || LeaveRequired(d, 0) != c.required {
				t.Errorf("days %d required %v", d, LeaveRequired(d, 3))
			}
		})
	}
	if !LeaveRequired(2, 2) {
		t.Error("a stricter threshold of 2 days")
	}
}

func TestEffectiveLeaveState(t *testing.T) {
	to := MustParseDate("2026-03-14")
	for _, c := range []struct {
		s     LeaveState
		today string
		want  LeaveState
		days  int
	}{
		{LeaveApproved, "2026-03-14", LeaveApproved, 0},
		{LeaveApproved, "2026-03-15", LeaveOverdue, 1},
		{LeaveExtensionRequested, "2026-03-17", LeaveOverdue, 3},
		{LeaveReturnPending, "2026-03-20", LeaveReturnPending, 0},
		{LeavePending, "2026-03-20", LeavePending, 0},
	} {
		t.Run(string(c.s)+c.today, func(t *testing.T) {
			today := MustParseDate(c.today)
			if g := EffectiveLeaveState(c.s, to, today); g != c.want || LeaveOverdueDays(c.s, to, today) != c.days {
				t.Errorf("got %s %d", g, LeaveOverdueDays(c.s, to, today))
			}
		})
	}
}

func TestLeaveInputValidate(t *testing.T) {
	today := MustParseDate("2026-03-10")
	ok := func() LeaveInput {
		return LeaveInput{Province: "海南省", City: "海口", From: today, To: today.AddDays(4), Reason: "探亲"}
	}
	in := ok()
	if d, err := in.Validate(today); err != nil || d != 5 || in.Province != "460000" || in.City != "海口市" || in.Kind != LeaveKindLeave {
		t.Fatalf("valid: %d %v %+v", d, err, in)
	}
	lat, lng, r := 18.25, 109.5, 10
	for _, c := range []struct {
		name, field string
		mod         func(*LeaveInput)
	}{
		{"kind", "kind", func(in *LeaveInput) { in.Kind = "holiday" }},
		{"province", "destination_province", func(in *LeaveInput) { in.Province = "火星" }},
		{"city", "destination_city", func(in *LeaveInput) { in.City = "" }},
		{"lat only", "lat", func(in *LeaveInput) { in.Lat = &lat }},
		{"radius small", "radius_m", func(in *LeaveInput) { in.Lat, in.Lng, in.RadiusM = &lat, &lng, &r }},
		{"radius without point", "radius_m", func(in *LeaveInput) { in.RadiusM = &r }},
		{"no from", "from", func(in *LeaveInput) { in.From = Date{} }},
		{"long ago", "from", func(in *LeaveInput) { in.From = today.AddDays(-31) }},
		{"too long", "to", func(in *LeaveInput) { in.To = today.AddDays(MaxLeaveDays) }},
		{"reason", "reason", func(in *LeaveInput) { in.Reason = " " }},
		{"employer", "employer", func(in *LeaveInput) { in.Kind = LeaveKindWorkAway }},
		{"address", "address", func(in *LeaveInput) { in.Kind, in.Employer = LeaveKindWorkAway, "某公司" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := ok()
			c.mod(&in)
			_, err := in.Validate(today)
			if !IsCode(err, EINVALID) || ErrorField(err) != c.field {
				t.Errorf("got %v, want invalid %s", err, c.field)
			}
		})
	}
	// Working away may last a year.
	in = ok()
	in.Kind, in.Employer, in.WorkAddress, in.To = LeaveKindWorkAway, "某公司", "广州", today.AddDays(300)
	if _, err := in.Validate(today); err != nil {
		t.Errorf("a long working-away period: %v", err)
	}
}
