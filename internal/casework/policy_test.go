package casework

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSettingParse(t *testing.T) {
	tests := []struct {
		name, key, text string
		want            string // canonical text when ok
		errHas          []string
	}{
		{"window", "checkin.window", "07:30-21:00", "07:30-21:00", nil},
		{"window to midnight", "checkin.window", "00:00-24:00", "00:00-24:00", nil},
		{"window end before start", "checkin.window", "22:00-06:00", "", []string{"must be after the start", "须晚于开始时间"}},
		{"window empty", "checkin.window", "08:00-08:00", "", []string{"must be after"}},
		{"window wrong type", "checkin.window", "5", "", []string{"HH:MM-HH:MM"}},
		{"window bad hour", "checkin.window", "25:00-26:00", "", []string{"HH:MM-HH:MM"}},
		{"leave 3 (the law)", "leave.threshold_days", "3", "3", nil},
		{"leave 2 (stricter)", "leave.threshold_days", "2", "2", nil},
		{"leave 4 refused, R8", "leave.threshold_days", "4", "", []string{"R8", "not above 3", "第十九条", "不得高于3天"}},
		{"leave 0 below range", "leave.threshold_days", "0", "", []string{"between 1 and 3"}},
		{"int wrong type", "leave.threshold_days", "abc", "", []string{"whole number", "须为整数"}},
		{"accuracy", "checkin.accuracy_m", " 150 ", "150", nil},
		{"accuracy too large", "checkin.accuracy_m", "99999", "", []string{"between 10 and 2000"}},
		{"enum", "checkin.area", "community", "community", nil},
		{"enum unknown", "checkin.area", "city", "", []string{"one of county, township, community"}},
		{"bool", "checkin.selfie", "false", "false", nil},
		{"bool wrong type", "checkin.selfie", "maybe", "", []string{"true or false"}},
		{"every days", "checkin.every_days", "2", "2", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := PolicySetting(tt.key)
			if !ok {
				t.Fatalf("no setting %s", tt.key)
			}
			v, err := s.Parse(tt.text)
			if tt.errHas == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if v.String() != tt.want {
					t.Fatalf("got %q, want %q", v.String(), tt.want)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || e.Field != tt.key {
				t.Fatalf("want EINVALID on %s, got %v", tt.key, err)
			}
			for _, want := range tt.errHas {
				if !strings.Contains(e.ZH+" | "+e.EN, want) {
					t.Errorf("message %q / %q lacks %q", e.ZH, e.EN, want)
				}
			}
		})
	}
}

func TestSettingsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range PolicySettings() {
		if seen[s.Key] {
			t.Errorf("%s twice", s.Key)
		}
		seen[s.Key] = true
		if s.ZH == "" || s.EN == "" || s.Rule == "" || s.Confidence == "" {
			t.Errorf("%s lacks a label, rule or confidence", s.Key)
		}
		if s.Default.Kind() != s.Kind {
			t.Errorf("%s: default of kind %s", s.Key, s.Default.Kind())
		}
		// Every default must pass its own validation.
		if v, err := s.Parse(s.Default.String()); err != nil || v != s.Default {
			t.Errorf("%s: default %q does not parse back: %v", s.Key, s.Default, err)
		}
	}
	for _, tpl := range PolicyTemplates() {
		for k, v := range tpl.Values {
			s, ok := PolicySetting(k)
			if !ok {
				t.Errorf("template %s: unknown setting %s", tpl.ID, k)
				continue
			}
			if _, err := s.Parse(v.String()); err != nil {
				t.Errorf("template %s: %s: %v", tpl.ID, k, err)
			}
		}
	}
}

func TestPolicyVersionInputValidate(t *testing.T) {
	today := MustParseDate("2026-03-01")
	tests := []struct {
		name   string
		in     PolicyVersionInput
		fields []string // every field that must carry an error
	}{
		{"ok", PolicyVersionInput{EffectiveFrom: today.AddDays(1), Note: "琼禁毒办〔2026〕1号", Settings: map[string]string{"checkin.accuracy_m": "100"}}, nil},
		{"inherit", PolicyVersionInput{EffectiveFrom: today.AddDays(1), Note: "恢复", Settings: map[string]string{"checkin.accuracy_m": "inherit"}}, nil},
		{"today refused", PolicyVersionInput{EffectiveFrom: today, Note: "n", Settings: map[string]string{"checkin.selfie": "true"}}, []string{"effective_from"}},
		{"past refused", PolicyVersionInput{EffectiveFrom: today.AddDays(-10), Note: "n", Settings: map[string]string{"checkin.selfie": "true"}}, []string{"effective_from"}},
		{"no date", PolicyVersionInput{Note: "n", Settings: map[string]string{"checkin.selfie": "true"}}, []string{"effective_from"}},
		{"no note", PolicyVersionInput{EffectiveFrom: today.AddDays(1), Settings: map[string]string{"checkin.selfie": "true"}}, []string{"note"}},
		{"nothing set", PolicyVersionInput{EffectiveFrom: today.AddDays(1), Note: "n"}, []string{"settings"}},
		{"unknown setting", PolicyVersionInput{EffectiveFrom: today.AddDays(1), Note: "n", Settings: map[string]string{"checkin.colour": "red"}}, []string{"checkin.colour"}},
		{"every bad field reported", PolicyVersionInput{EffectiveFrom: today, Note: "n", Settings: map[string]string{
			"checkin.window": "22:00-06:00", "leave.threshold_days": "4", "checkin.selfie": "1.5"}},
			[]string{"effective_from", "checkin.window", "leave.threshold_days", "checkin.selfie"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			named, err := tt.in.Validate(today)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if len(named) != len(tt.in.Settings) {
					t.Fatalf("got %d settings, want %d", len(named), len(tt.in.Settings))
				}
				return
			}
			if !IsCode(err, EINVALID) {
				t.Fatalf("want EINVALID, got %v", err)
			}
			var fe FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("error carries no FieldErrors: %v", err)
			}
			m := fe.Map("en")
			for _, f := range tt.fields {
				if m[f] == "" {
					t.Errorf("no error on %s (got %v)", f, m)
				}
				if !strings.Contains(ErrorMessage(err, "en"), m[f]) {
					t.Errorf("the joined message lacks %q", m[f])
				}
			}
			if len(m) != len(tt.fields) {
				t.Errorf("errors on %v, want exactly %v", m, tt.fields)
			}
		})
	}
}

func ptr(v Value) *Value { return &v }

func TestResolvePolicy(t *testing.T) {
	prov := &Org{ID: "p", Name: "省", Path: "/p/"}
	county := &Org{ID: "c", Name: "区", Path: "/p/c/"}
	comm := &Org{ID: "m", Name: "社区", Path: "/p/c/m/"}
	chain := []*Org{prov, county, comm}
	d := MustParseDate
	provWindow := &PolicyVersion{ID: "v-prov", OrgID: "p", EffectiveFrom: d("2026-01-01"),
		Settings: map[string]*Value{"checkin.window": ptr(WindowValue("07:00", "21:00"))}}
	countyAcc := &PolicyVersion{ID: "v-county", OrgID: "c", EffectiveFrom: d("2026-02-01"),
		Settings: map[string]*Value{"checkin.accuracy_m": ptr(IntValue(100))}}
	countyAcc2 := &PolicyVersion{ID: "v-county2", OrgID: "c", EffectiveFrom: d("2026-03-01"),
		Settings: map[string]*Value{"checkin.accuracy_m": ptr(IntValue(50))}}
	commWindow := &PolicyVersion{ID: "v-comm", OrgID: "m", EffectiveFrom: d("2026-02-10"),
		Settings: map[string]*Value{"checkin.window": ptr(WindowValue("08:00", "20:00"))}}
	commInherit := &PolicyVersion{ID: "v-comm-inherit", OrgID: "m", EffectiveFrom: d("2026-04-01"),
		Settings: map[string]*Value{"checkin.window": nil}}
	withdrawn := &PolicyVersion{ID: "v-gone", OrgID: "m", EffectiveFrom: d("2026-01-05"), Withdrawn: true,
		Settings: map[string]*Value{"checkin.selfie": ptr(BoolValue(false))}}
	all := []*PolicyVersion{provWindow, countyAcc, countyAcc2, commWindow, commInherit, withdrawn}

	type want struct {
		key, value, ref string
	}
	tests := []struct {
		name  string
		chain []*Org
		date  string
		wants []want
	}{
		{"before any version: national", chain, "2025-12-31", []want{
			{"checkin.window", "06:00-22:00", "national"}, {"checkin.accuracy_m", "200", "national"}, {"leave.threshold_days", "3", "national"}}},
		{"province window, inherited by the community", chain, "2026-01-20", []want{
			{"checkin.window", "07:00-21:00", "v-prov"}, {"checkin.accuracy_m", "200", "national"}, {"checkin.selfie", "true", "national"}}},
		{"county overrides only accuracy; community inherits both", chain, "2026-02-05", []want{
			{"checkin.window", "07:00-21:00", "v-prov"}, {"checkin.accuracy_m", "100", "v-county"}}},
		{"the county itself", chain[:2], "2026-02-15", []want{
			{"checkin.window", "07:00-21:00", "v-prov"}, {"checkin.accuracy_m", "100", "v-county"}}},
		{"a child override wins", chain, "2026-02-15", []want{
			{"checkin.window", "08:00-20:00", "v-comm"}, {"checkin.accuracy_m", "100", "v-county"}}},
		{"the later date at one org wins from its date on", chain, "2026-03-01", []want{
			{"checkin.accuracy_m", "50", "v-county2"}}},
		{"the day before the later version", chain, "2026-02-28", []want{
			{"checkin.accuracy_m", "100", "v-county"}}},
		{"inherit hands the window back", chain, "2026-04-01", []want{
			{"checkin.window", "07:00-21:00", "v-prov"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ResolvePolicy(tt.chain, all, d(tt.date))
			if len(p.Settings) != len(PolicySettings()) {
				t.Fatalf("resolved %d settings, want all %d", len(p.Settings), len(PolicySettings()))
			}
			for _, w := range tt.wants {
				r, ok := p.Get(w.key)
				if !ok {
					t.Fatalf("no %s", w.key)
				}
				if r.Value.String() != w.value || r.Source.Ref() != w.ref {
					t.Errorf("%s = %s from %s, want %s from %s", w.key, r.Value, r.Source.Ref(), w.value, w.ref)
				}
			}
		})
	}
	p := ResolvePolicy(chain, all, d("2026-02-15"))
	if got := p.Refs("checkin.window", "checkin.accuracy_m", "checkin.selfie"); strings.Join(got, ",") != "national,v-comm,v-county" {
		t.Errorf("refs = %v", got)
	}
	if r, _ := p.Get("checkin.window"); r.Source.OrgName != "社区" || r.Source.EffectiveFrom != d("2026-02-10") {
		t.Errorf("source of the window = %+v", r.Source)
	}
}

func TestResolvePolicyTemplate(t *testing.T) {
	hainan := []*Org{{ID: "h", Path: "/h/", AreaCode: "460000000000"}, {ID: "s", Path: "/h/s/", AreaCode: "460200000000"}}
	other := []*Org{{ID: "g", Path: "/g/", AreaCode: "440000000000"}}
	p := ResolvePolicy(hainan, nil, MustParseDate("2026-03-01"))
	if p.Template == nil || p.Template.ID != "hainan" || !strings.Contains(p.Template.Note("zh"), "R42") {
		t.Fatalf("Hainan orgs should resolve through the Hainan template with the R42 note, got %+v", p.Template)
	}
	for _, r := range p.Settings {
		if r.Source.Ref() != "template:hainan" || r.Value != r.Default {
			t.Errorf("%s = %s from %s, want the national value from the template", r.Key, r.Value, r.Source.Ref())
		}
	}
	if p := ResolvePolicy(other, nil, MustParseDate("2026-03-01")); p.Template != nil || p.Settings[0].Source.Ref() != "national" {
		t.Errorf("a Guangdong org got template %v", p.Template)
	}
}

func TestWindowContains(t *testing.T) {
	w := WindowValue("06:00", "22:00").Window()
	sh := LoadLocation("Asia/Shanghai")
	tests := []struct {
		utc  string
		want bool
	}{
		{"2026-03-01T21:59:00Z", false}, // 05:59 the next day in Shanghai
		{"2026-03-01T22:00:00Z", true},  // 06:00 Shanghai: start included
		{"2026-03-01T13:59:00Z", true},  // 21:59
		{"2026-03-01T14:00:00Z", false}, // 22:00: end excluded
		{"2026-03-01T15:30:00Z", false}, // 23:30
	}
	for _, tt := range tests {
		t.Run(tt.utc, func(t *testing.T) {
			at, _ := time.Parse(time.RFC3339, tt.utc)
			if got := w.Contains(at, sh); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
