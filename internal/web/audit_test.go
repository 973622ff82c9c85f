package web

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
)

// TestAuditActionsHaveWords reads every action code the store writes and
// checks each has a label in both languages (issue 18 §8: the audit log
// shows words, not codes). Codes built at run time (measure.<action>,
// violation.<action>, case.<action>) are listed from their enums.
func TestAuditActionsHaveWords(t *testing.T) {
	codes := map[string]bool{}
	lit := regexp.MustCompile(`(?:Action: +|action(?: :)?= +|kind(?: :)?= +)"([a-z_]+\.[a-z_.]+)"`)
	files, _ := filepath.Glob("../store/*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".") && !strings.HasPrefix(m[1], "leave.threshold") {
				codes[m[1]] = true
			}
		}
	}
	for _, a := range casework.Actions {
		codes["measure."+string(a)] = true
	}
	for _, a := range casework.ViolationActions {
		codes["violation."+string(a)] = true
	}
	for _, a := range []casework.CaseAction{casework.CaseReport, casework.CaseAcknowledge, casework.CaseDecide, casework.CaseClose} {
		codes["case."+string(a)] = true
	}
	if len(codes) < 60 {
		t.Fatalf("found only %d action codes; is the pattern still right?", len(codes))
	}
	for _, lang := range []string{"zh", "en"} {
		keys := i18n.Keys(lang)
		for code := range codes {
			if keys["audit.action."+code] == "" && !strings.HasPrefix(code, "leave.") {
				t.Errorf("%s: no words for the audit action %q", lang, code)
			}
			if got := auditAction(keys, code); strings.Contains(got, code) || got == "" {
				t.Errorf("%s: %q reads %q", lang, code, got)
			}
		}
		if got := auditAction(keys, "person.something_new"); got != strings.Replace(keys["audit.other_action"], "%s", keys["audit.family.person"], 1) {
			t.Errorf("%s: an unlabelled person action reads %q", lang, got)
		}
		if got := auditAction(keys, "zzz.new"); got != keys["audit.unknown_action"] {
			t.Errorf("%s: an unknown family reads %q", lang, got)
		}
	}
}

func TestAuditDetailsLeaveOutIDsAndJSON(t *testing.T) {
	got := auditDetails(`{"kind":"web","document_id":"01a24d13-9349-7afa-bd98-2cad45455a4f","sha256":"ab","fields":["name","phone"],"nested":{"a":1},"attempt":1}`)
	want := []auditDetail{{"attempt", "1"}, {"fields", "name、phone"}, {"kind", "web"}}
	if len(got) != len(want) {
		t.Fatalf("details %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("detail %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestInboxKindsHaveWords reads every kind of task the store's inbox
// sources make and checks each has a label in both languages, so the inbox
// and the dashboard never show a catalog key (issue 18 §8).
func TestInboxKindsHaveWords(t *testing.T) {
	kinds := map[string]bool{"visit_home": true, "visit_contact": true} // "visit_" + cadence
	pats := []*regexp.Regexp{
		regexp.MustCompile(`Kind: +"([a-z0-9_]+)"`),
		regexp.MustCompile(`t\.Kind,[^=\n]*= "([a-z0-9_]+)"`),
		regexp.MustCompile(`caseTasks\([^,]+, [^"]+"([a-z0-9_]+)"`),
	}
	files, _ := filepath.Glob("../store/inbox*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pats {
			for _, m := range p.FindAllStringSubmatch(string(b), -1) {
				if !strings.HasSuffix(m[1], "_") {
					kinds[m[1]] = true
				}
			}
		}
	}
	if len(kinds) < 20 {
		t.Fatalf("found only %d task kinds (%v); is the pattern still right?", len(kinds), kinds)
	}
	for _, lang := range []string{"zh", "en"} {
		keys := i18n.Keys(lang)
		for k := range kinds {
			if keys["inbox.kind."+k] == "" {
				t.Errorf("%s: no words for the task kind %q", lang, k)
			}
		}
	}
}

// TestCaseCountsInWords: the serious-case page words the counts it was
// opened on instead of showing the stored JSON (issue 18 §8).
func TestCaseCountsInWords(t *testing.T) {
	raw := `{"absence_days":31,"absence_days_max":30,"departures":1,"departures_max":3,"refusals":2,"refusals_max":3,"statutory":true}`
	zh := caseCounts("zh", raw)
	if zh != "拒绝或逃避检测 2 次（达到 3 次为严重违反）；擅自离开 1 次（达到 3 次）；累计擅自离开 31 天（超过 30 天）" {
		t.Errorf("zh counts %q", zh)
	}
	if en := caseCounts("en", raw); !strings.Contains(en, "31 days away") || strings.Contains(en, "{") {
		t.Errorf("en counts %q", en)
	}
	if got := caseCounts("zh", `{"test_id":"01a2"}`); got != "" {
		t.Errorf("a positive test's case shows counts %q", got)
	}
}

// TestPolicyRefInWords: a judgement's policy reads as the national default,
// a template's name or "a local policy version", never an id or key.
func TestPolicyRefInWords(t *testing.T) {
	tests := []struct{ ref, zh, en string }{
		{"national", "国家默认值", ""},
		{"template:hainan", "", ""},
		{"01a24d13-8af7-7a9a-8485-b39212c47fae", "地方政策版本", "a local policy version"},
		{"national,template:hainan", "", ""},
	}
	for _, tt := range tests {
		for _, lang := range []string{"zh", "en"} {
			got := policyRefText(lang, tt.ref)
			if got == "" || strings.Contains(got, "template:") || strings.Contains(got, "01a24d13") || strings.Contains(got, "national") && lang == "zh" {
				t.Errorf("%s %q reads %q", lang, tt.ref, got)
			}
			if want := map[string]string{"zh": tt.zh, "en": tt.en}[lang]; want != "" && got != want {
				t.Errorf("%s %q reads %q, want %q", lang, tt.ref, got, want)
			}
		}
	}
}
