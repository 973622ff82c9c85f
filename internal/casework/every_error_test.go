package casework

import (
	"errors"
	"strings"
	"testing"
)

// fieldsOf returns field → message (en) of every problem in err.
func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("not FieldErrors: %v", err)
	}
	m := map[string]string{}
	for _, e := range fe {
		if _, dup := m[e.Field]; dup {
			t.Errorf("two problems on %s", e.Field)
		}
		m[e.Field] = e.Message("en")
	}
	return m
}

// TestMoreValidatorsReportEveryField (issue 18 item 9): the violation
// review and ladder step (R29, R10), the org form, the serious-case step
// (R10), the special facts (R17) and the measure's dates return every bad
// field at once, each with its own message.
func TestMoreValidatorsReportEveryField(t *testing.T) {
	today := Date{Year: 2026, Month: 3, Day: 12}
	tests := []struct {
		name string
		err  error
		want map[string]string // field → words of its message
	}{
		{"violation review R29", (&ViolationReview{Action: "shrug", Reason: " "}).Validate(),
			map[string]string{"action": "choose an action", "reason": "reason is required"}},
		{"ladder step R29 R10", (&LadderInput{Step: "", Reason: ""}).Validate(),
			map[string]string{"step": "choose a step", "reason": "reason is required"}},
		{"ladder police without recipient R10", (&LadderInput{Step: StepPolice, Reason: strings.Repeat("理", 1001)}).Validate(),
			map[string]string{"reason": "at most 1000", "recipient": "receiving unit"}},
		{"org", func() error {
			_, err := (&OrgInput{Name: "", Kind: "street", AreaCode: "12", TimeZone: "Mars/Base", Geofence: `{"type":"circle","lat":95}`}).Validate()
			return err
		}(), map[string]string{"name": "name is required", "kind": "unknown kind", "area_code": "12 digits", "time_zone": "unknown time zone", "geofence": ""}},
		{"serious case decide R10", (&CaseStep{Action: CaseDecide, DecisionDate: today.AddDays(1)}).Validate(today),
			map[string]string{"decision": "police decision", "decision_date": "decision date", "text": "decision's text"}},
		{"serious case report too long R10", (&CaseStep{Action: CaseReport, Text: strings.Repeat("x", 2001)}).Validate(today),
			map[string]string{"text": "2000", "recipient": "police unit"}},
		{"special facts R17", (&SpecialFacts{Pregnant: true, InfantBirth: today.AddDays(2), Note: strings.Repeat("注", 201)}).Validate("M", today),
			map[string]string{"note": "200", "pregnant": "women only", "expected_delivery": "expected delivery", "infant_birth": "future"}},
		{"measure dates, each its own", (&MeasureInput{Kind: MeasureTreatment, DecisionNumber: "琼公（2026）1号", DecisionAuthority: "海口市公安局",
			PlaceOrgID: "o", DecisionDate: today.AddDays(1), ReceivedDate: today.AddDays(2), ReportDate: today.AddDays(3), AgreementDate: today.AddDays(4)}).Validate(today),
			map[string]string{"decision_date": "decision date", "received_date": "after today", "report_date": "after today", "agreement_date": "after today"}},
		{"measure dates in the wrong order", (&MeasureInput{Kind: MeasureTreatment, DecisionNumber: "1", DecisionAuthority: "局", PlaceOrgID: "o",
			DecisionDate: today.AddDays(-10), ReceivedDate: today.AddDays(-20), ReportDate: today.AddDays(-3), AgreementDate: today.AddDays(-4)}).Validate(today),
			map[string]string{"received_date": "before the decision date", "agreement_date": "before the report date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fieldsOf(t, tt.err)
			for f, words := range tt.want {
				m, ok := got[f]
				if !ok {
					t.Errorf("no problem on %s; got %v", f, got)
				} else if !strings.Contains(m, words) {
					t.Errorf("%s: %q, want it to contain %q", f, m, words)
				}
			}
			if ErrorCode(tt.err) != EINVALID {
				t.Errorf("code %q", ErrorCode(tt.err))
			}
		})
	}
}

// A good input still passes each of them.
func TestMoreValidatorsPassGoodInput(t *testing.T) {
	today := Date{Year: 2026, Month: 3, Day: 12}
	for name, err := range map[string]error{
		"review":  (&ViolationReview{Action: ActConfirm, Reason: "无正当理由"}).Validate(),
		"ladder":  (&LadderInput{Step: StepPolice, Reason: "拒绝检测", Recipient: "龙华派出所"}).Validate(),
		"case":    (&CaseStep{Action: CaseDecide, Decision: DecisionOther, DecisionDate: today, Text: "琼公决字1号"}).Validate(today),
		"special": (&SpecialFacts{Pregnant: true, ExpectedDelivery: today.AddDays(90)}).Validate("F", today),
		"org": func() error {
			_, err := (&OrgInput{Name: "滨海社区", Kind: "community", AreaCode: "460106001001"}).Validate()
			return err
		}(),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
