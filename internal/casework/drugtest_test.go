package casework

import "testing"

func TestDrugTestValidate(t *testing.T) {
	today := MustParseDate("2026-03-10")
	base := func() DrugTestInput {
		return DrugTestInput{TestedOn: MustParseDate("2026-03-09"), Place: "警务室", Sample: "urine", Substances: []string{"吗啡、甲基苯丙胺"},
			Outcome: OutcomeNegative, StaffIDs: []string{"u1", "u2"}}
	}
	for _, c := range []struct {
		name  string
		edit  func(*DrugTestInput)
		field string
	}{
		{"ok", func(*DrugTestInput) {}, ""},
		{"R20 hair ok", func(in *DrugTestInput) { in.Sample = "hair" }, ""},
		{"R20 sweat", func(in *DrugTestInput) { in.Sample = "sweat" }, "sample"},
		{"R18 one staff", func(in *DrugTestInput) { in.StaffIDs = []string{"u1", " u1 "} }, "staff_ids"},
		{"R18 positive without seal", func(in *DrugTestInput) {
			in.Outcome, in.Positive, in.SampleA, in.SampleB = OutcomePositive, []string{"吗啡"}, "A", "B"
		}, "sample_a"},
		{"R18 A equals B", func(in *DrugTestInput) {
			in.Outcome, in.Positive, in.SampleA, in.SampleB, in.SealNo = OutcomePositive, []string{"吗啡"}, "A", "A", "S"
		}, "sample_b"},
		{"R21 forced refusal", func(in *DrugTestInput) {
			in.Forced, in.Outcome, in.ApproverName, in.ApproverTitle = true, OutcomeRefused, "赵", "所长"
		}, "outcome"},
		{"R21 forced without title", func(in *DrugTestInput) { in.Forced, in.ApproverName = true, "赵" }, "approver_name"},
		{"refused needs no substances", func(in *DrugTestInput) { in.Outcome, in.Substances = OutcomeRefused, nil }, ""},
		{"no substances", func(in *DrugTestInput) { in.Substances = nil }, "substances"},
		{"unknown outcome", func(in *DrugTestInput) { in.Outcome = "maybe" }, "outcome"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := base()
			c.edit(&in)
			err := in.Validate(today)
			if c.field == "" && err != nil {
				t.Fatal(err)
			}
			if c.field != "" && (!IsCode(err, EINVALID) || ErrorField(err) != c.field) {
				t.Fatalf("want invalid %s, got %v", c.field, err)
			}
		})
	}
	in := base()
	_ = in.Validate(today)
	if len(in.Substances) != 2 || in.NotifiedOn != in.TestedOn {
		t.Errorf("normalize: %+v", in)
	}
}

// R18: a female subject needs a female collector; every collector exists.
func TestCheckCollectors(t *testing.T) {
	in := DrugTestInput{StaffIDs: []string{"u1", "u2"}}
	male := []Collector{{ID: "u1", Sex: "M"}, {ID: "u2"}}
	mixed := []Collector{{ID: "u1", Sex: "M"}, {ID: "u2", Sex: "F"}}
	for _, c := range []struct {
		name  string
		sex   string
		found []Collector
		ok    bool
	}{
		{"male subject", "M", male, true},
		{"female subject, no female", "F", male, false},
		{"female subject, one female", "F", mixed, true},
		{"missing account", "M", male[:1], false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := in.CheckCollectors(c.sex, c.found); (err == nil) != c.ok {
				t.Fatalf("got %v, want ok=%v", err, c.ok)
			}
		})
	}
}

// R19: 3 days from notification.
func TestTestDeadlines(t *testing.T) {
	d := TestDeadlines(MustParseDate("2026-02-27"))
	if d.LabRequestBy.String() != "2026-03-02" || d.RetestRequestBy.String() != "2026-03-02" {
		t.Fatalf("%+v", d)
	}
}
