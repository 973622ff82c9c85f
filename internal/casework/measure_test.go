package casework

import (
	"strings"
	"testing"
)

func TestMeasureKind(t *testing.T) {
	tests := []struct {
		name   string
		kind   MeasureKind
		valid  bool
		zh, en string
	}{
		{"社区戒毒", MeasureTreatment, true, "社区戒毒", "community drug treatment"},
		{"社区康复", MeasureRehab, true, "社区康复", "community rehabilitation"},
		{"unknown", "compulsory", false, "compulsory", "compulsory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.kind.Valid() != tt.valid || tt.kind.Label("zh") != tt.zh || tt.kind.Label("en") != tt.en {
				t.Fatalf("Valid=%v zh=%q en=%q", tt.kind.Valid(), tt.kind.Label("zh"), tt.kind.Label("en"))
			}
		})
	}
}

// R1, R5: report within 15 calendar days of receipt; day 15 is on time,
// day 16 is late.
func TestReportOverdue_R1_R5(t *testing.T) {
	tests := []struct {
		name     string
		received Date
		today    Date
		overdue  bool
		days     int
	}{
		{"R1 day 0, the day of receipt", d(2021, 3, 1), d(2021, 3, 1), false, 0},
		{"R1 day 14", d(2021, 3, 1), d(2021, 3, 15), false, 0},
		{"R1 day 15 is still on time", d(2021, 3, 1), d(2021, 3, 16), false, 0},
		{"R1 day 16 is 1 day late", d(2021, 3, 1), d(2021, 3, 17), true, 1},
		{"R1 day 30 is 15 days late", d(2021, 3, 1), d(2021, 3, 31), true, 15},
		{"R1 deadline across a common February: day 15", d(2021, 2, 20), d(2021, 3, 7), false, 0},
		{"R1 deadline across a common February: day 16", d(2021, 2, 20), d(2021, 3, 8), true, 1},
		{"R1 deadline across a leap February: day 15", d(2020, 2, 20), d(2020, 3, 6), false, 0},
		{"R1 deadline across a leap February: day 16", d(2020, 2, 20), d(2020, 3, 7), true, 1},
		{"R1 deadline across year end: day 16", d(2021, 12, 20), d(2022, 1, 5), true, 1},
		{"R1 today before receipt", d(2021, 3, 1), d(2021, 2, 1), false, 0},
		{"R1 zero received", Date{}, d(2021, 3, 17), false, 0},
		{"R1 zero today", d(2021, 3, 1), Date{}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			overdue, days := ReportOverdue(tt.received, tt.today)
			if overdue != tt.overdue || days != tt.days {
				t.Fatalf("ReportOverdue(%v, %v) = %v, %d; want %v, %d", tt.received, tt.today, overdue, days, tt.overdue, tt.days)
			}
		})
	}
}

func TestReportDeadline_R1(t *testing.T) {
	tests := []struct {
		name     string
		received Date
		want     Date
	}{
		{"R1 ordinary", d(2021, 3, 1), d(2021, 3, 16)},
		{"R1 across month end", d(2021, 1, 20), d(2021, 2, 4)},
		{"R1 zero", Date{}, Date{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReportDeadline(tt.received); got != tt.want {
				t.Fatalf("ReportDeadline(%v) = %v; want %v", tt.received, got, tt.want)
			}
			in := MeasureInput{ReceivedDate: tt.received}
			if got := in.ReportDeadline(); got != tt.want {
				t.Fatalf("MeasureInput.ReportDeadline = %v; want %v", got, tt.want)
			}
		})
	}
}

// R3 (社区戒毒: 3 years from the report date), R4 (社区康复: ≤ 36 months as
// decided), R13 (suspension, clock policy).
func TestTermEnd_R3_R4_R13(t *testing.T) {
	pause := TermPolicy{PauseClockOnSuspension: true}
	cont := TermPolicy{}
	tests := []struct {
		name      string
		policy    TermPolicy
		kind      MeasureKind
		report    Date
		months    int
		suspended int
		want      Date
		errField  string
	}{
		{"R3 3 years from the report date", cont, MeasureTreatment, d(2021, 3, 1), 0, 0, d(2024, 3, 1), ""},
		{"R3 term_months 36 accepted", cont, MeasureTreatment, d(2021, 3, 1), 36, 0, d(2024, 3, 1), ""},
		{"R3 reported 29 February 2020 ends 28 February 2023", cont, MeasureTreatment, d(2020, 2, 29), 0, 0, d(2023, 2, 28), ""},
		{"R3 reported 28 February 2020 ends 28 February 2023", cont, MeasureTreatment, d(2020, 2, 28), 0, 0, d(2023, 2, 28), ""},
		{"R3 reported 1 March 2020 ends 1 March 2023", cont, MeasureTreatment, d(2020, 3, 1), 0, 0, d(2023, 3, 1), ""},
		{"R3 other term refused", cont, MeasureTreatment, d(2021, 3, 1), 24, 0, Date{}, "term_months"},
		{"R4 2-year order", cont, MeasureRehab, d(2021, 3, 1), 24, 0, d(2023, 3, 1), ""},
		{"R4 3-year order", cont, MeasureRehab, d(2021, 3, 1), 36, 0, d(2024, 3, 1), ""},
		{"R4 3-year order from 29 February 2020", cont, MeasureRehab, d(2020, 2, 29), 36, 0, d(2023, 2, 28), ""},
		{"R4 1 month from 31 January clamps to 28 February", cont, MeasureRehab, d(2021, 1, 31), 1, 0, d(2021, 2, 28), ""},
		{"R4 37 months refused", cont, MeasureRehab, d(2021, 3, 1), 37, 0, Date{}, "term_months"},
		{"R4 0 months refused", cont, MeasureRehab, d(2021, 3, 1), 0, 0, Date{}, "term_months"},
		{"R4 negative months refused", cont, MeasureRehab, d(2021, 3, 1), -6, 0, Date{}, "term_months"},
		{"not reported yet", cont, MeasureTreatment, Date{}, 0, 0, Date{}, "report_date"},
		{"invalid report date", cont, MeasureTreatment, d(2021, 2, 30), 0, 0, Date{}, "report_date"},
		{"unknown kind", cont, "compulsory", d(2021, 3, 1), 24, 0, Date{}, "kind"},
		{"negative suspended days", cont, MeasureTreatment, d(2021, 3, 1), 0, -1, Date{}, "suspended_days"},
		{"R13 clock continues: suspension does not move the end", cont, MeasureTreatment, d(2021, 3, 1), 0, 40, d(2024, 3, 1), ""},
		{"R13 clock paused: end moves by the suspended days", pause, MeasureTreatment, d(2021, 3, 1), 0, 40, d(2024, 4, 10), ""},
		{"R13 clock paused, 社区康复", pause, MeasureRehab, d(2021, 3, 1), 24, 10, d(2023, 3, 11), ""},
		{"R13 clock paused, no suspension", pause, MeasureRehab, d(2021, 3, 1), 24, 0, d(2023, 3, 1), ""},
		{"R13 clock paused, across 29 February", pause, MeasureTreatment, d(2020, 2, 29), 0, 1, d(2023, 3, 1), ""},
		{"R13 clock paused, negative suspended days", pause, MeasureTreatment, d(2021, 3, 1), 0, -1, Date{}, "suspended_days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.policy.TermEnd(tt.kind, tt.report, tt.months, tt.suspended)
			if tt.errField != "" {
				if ErrorCode(err) != EINVALID || ErrorField(err) != tt.errField {
					t.Fatalf("TermEnd = %v, %v; want EINVALID on %s", got, err, tt.errField)
				}
				e := err.(*Error)
				if e.ZH == "" || e.EN == "" || strings.Contains(e.ZH+e.EN, "%!") {
					t.Fatalf("bad message %q / %q", e.ZH, e.EN)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("TermEnd = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// The package-level TermEnd uses the default policy: the clock continues
// during suspension (R13 UNCONFIRMED, default = continue).
func TestTermEndDefaultPolicy_R13(t *testing.T) {
	got, err := TermEnd(MeasureTreatment, d(2021, 3, 1), 0, 40)
	if err != nil || got != d(2024, 3, 1) {
		t.Fatalf("TermEnd = %v, %v; want 2024-03-01 (clock continues)", got, err)
	}
	if (TermPolicy{}).PauseClockOnSuspension {
		t.Fatal("the zero TermPolicy must not pause the clock")
	}
}

func TestReleaseNoticeDeadline_R15(t *testing.T) {
	if got := ReleaseNoticeDeadline(d(2024, 2, 26)); got != d(2024, 3, 4) {
		t.Fatalf("ReleaseNoticeDeadline = %v; want 2024-03-04", got)
	}
}

func TestMeasureInputValidate(t *testing.T) {
	today := d(2021, 6, 1)
	base := func() MeasureInput {
		return MeasureInput{
			Kind:              MeasureTreatment,
			DecisionNumber:    " 三公(崖)社戒决字〔2021〕12号 ",
			DecisionAuthority: " 三亚市公安局崖州分局 ",
			DecisionDate:      d(2021, 3, 1),
			ReceivedDate:      d(2021, 3, 2),
			PlaceOrgID:        " org-1 ",
			ReportDate:        d(2021, 3, 10),
			AgreementDate:     d(2021, 3, 10),
		}
	}
	tests := []struct {
		name   string
		edit   func(*MeasureInput)
		today  Date
		field  string // "" for valid
		zh, en string // phrases the message must contain
	}{
		{"valid 社区戒毒", func(*MeasureInput) {}, today, "", "", ""},
		{"valid 社区康复, 24 months", func(in *MeasureInput) { in.Kind, in.TermMonths = MeasureRehab, 24 }, today, "", "", ""},
		{"valid without report yet", func(in *MeasureInput) { in.ReportDate, in.AgreementDate = Date{}, Date{} }, today, "", "", ""},
		{"valid without agreement yet", func(in *MeasureInput) { in.AgreementDate = Date{} }, today, "", "", ""},
		{"all dates today", func(in *MeasureInput) {
			in.DecisionDate, in.ReceivedDate, in.ReportDate, in.AgreementDate = today, today, today, today
		}, today, "", "", ""},
		{"R2 late report is still recorded", func(in *MeasureInput) { in.ReportDate, in.AgreementDate = d(2021, 5, 1), Date{} }, today, "", "", ""},

		{"kind missing", func(in *MeasureInput) { in.Kind = "" }, today, "kind", "措施类型", "kind of measure"},
		{"decision number missing", func(in *MeasureInput) { in.DecisionNumber = "  " }, today, "decision_number", "决定书文号", "decision number is required"},
		{"decision number too long", func(in *MeasureInput) { in.DecisionNumber = strings.Repeat("号", 101) }, today, "decision_number", "100", "at most 100"},
		{"authority missing", func(in *MeasureInput) { in.DecisionAuthority = "" }, today, "decision_authority", "决定机关", "authority is required"},
		{"authority too long", func(in *MeasureInput) { in.DecisionAuthority = strings.Repeat("局", 101) }, today, "decision_authority", "100", "at most 100"},
		{"decision date missing", func(in *MeasureInput) { in.DecisionDate = Date{} }, today, "decision_date", "决定日期", "decision date is required"},
		{"decision date invalid", func(in *MeasureInput) { in.DecisionDate = d(2021, 2, 30) }, today, "decision_date", "无效", "not a real date"},
		{"decision date in the future", func(in *MeasureInput) {
			in.DecisionDate, in.ReceivedDate, in.ReportDate, in.AgreementDate = d(2021, 6, 2), d(2021, 6, 2), Date{}, Date{}
		}, today, "decision_date", "晚于今天", "after today"},
		{"received date missing", func(in *MeasureInput) { in.ReceivedDate = Date{} }, today, "received_date", "送达", "received is required"},
		{"received before decision", func(in *MeasureInput) { in.ReceivedDate = d(2021, 2, 28) }, today, "received_date", "不能早于决定日期", "before the decision date"},
		{"received in the future", func(in *MeasureInput) {
			in.ReceivedDate, in.ReportDate, in.AgreementDate = d(2021, 6, 2), Date{}, Date{}
		}, today, "received_date", "晚于今天", "after today"},
		{"place missing", func(in *MeasureInput) { in.PlaceOrgID = " " }, today, "place_org_id", "执行地", "place of execution"},
		{"report before received", func(in *MeasureInput) { in.ReportDate = d(2021, 3, 1) }, today, "report_date", "不能早于送达日期", "before the date received"},
		{"report in the future", func(in *MeasureInput) { in.ReportDate, in.AgreementDate = d(2021, 6, 2), Date{} }, today, "report_date", "晚于今天", "after today"},
		{"agreement without report", func(in *MeasureInput) { in.ReportDate = Date{} }, today, "agreement_date", "尚未报到", "needs a report date"},
		{"agreement before report", func(in *MeasureInput) { in.AgreementDate = d(2021, 3, 9) }, today, "agreement_date", "不能早于报到日期", "before the report date"},
		{"agreement in the future", func(in *MeasureInput) { in.AgreementDate = d(2021, 6, 2) }, today, "agreement_date", "晚于今天", "after today"},
		{"R3 社区戒毒 with another term", func(in *MeasureInput) { in.TermMonths = 24 }, today, "term_months", "固定为3年", "always lasts 3 years"},
		{"R4 社区康复 without a term", func(in *MeasureInput) { in.Kind = MeasureRehab }, today, "term_months", "须大于0", "must be more than 0"},
		{"R4 社区康复 over 36 months", func(in *MeasureInput) { in.Kind, in.TermMonths = MeasureRehab, 48 }, today, "term_months", "不能超过3年", "at most 3 years"},
		{"zero today is a programming error", func(*MeasureInput) {}, Date{}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.edit(&in)
			err := in.Validate(tt.today)
			if tt.today.IsZero() {
				if ErrorCode(err) != EINTERNAL {
					t.Fatalf("Validate(zero) = %v; want EINTERNAL", err)
				}
				return
			}
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v; want nil", err)
				}
				return
			}
			if ErrorCode(err) != EINVALID || ErrorField(err) != tt.field {
				t.Fatalf("Validate = %v; want EINVALID on %s", err, tt.field)
			}
			zh, en := ErrorMessage(err, "zh"), ErrorMessage(err, "en")
			if !strings.Contains(zh, tt.zh) || !strings.Contains(en, tt.en) || strings.Contains(zh+en, "%!") {
				t.Fatalf("message %q / %q; want %q / %q", zh, en, tt.zh, tt.en)
			}
		})
	}
}

func TestMeasureInputValidateNormalises(t *testing.T) {
	in := MeasureInput{
		Kind: MeasureTreatment, DecisionNumber: " 12号 ", DecisionAuthority: " 分局 ",
		DecisionDate: d(2021, 3, 1), ReceivedDate: d(2021, 3, 1), PlaceOrgID: " org-1 ", WorkerID: " u1 ",
	}
	if err := in.Validate(d(2021, 6, 1)); err != nil {
		t.Fatal(err)
	}
	if in.DecisionNumber != "12号" || in.DecisionAuthority != "分局" || in.PlaceOrgID != "org-1" || in.WorkerID != "u1" {
		t.Fatalf("not trimmed: %+v", in)
	}
	if in.TermMonths != 36 {
		t.Fatalf("R3: TermMonths = %d; want 36 for 社区戒毒", in.TermMonths)
	}
}
