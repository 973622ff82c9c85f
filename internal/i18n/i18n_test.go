package i18n

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	zh, en := Keys(ZH), Keys(EN)
	for k, v := range zh {
		if strings.TrimSpace(v) == "" {
			t.Errorf("zh %s is empty", k)
		}
		if e, ok := en[k]; !ok || strings.TrimSpace(e) == "" {
			t.Errorf("en lacks %s", k)
		} else if strings.Count(v, "%") != strings.Count(e, "%") {
			t.Errorf("%s: zh and en take different arguments: %q / %q", k, v, e)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("zh lacks %s", k)
		}
	}
}

// Every key a template or handler names must exist: a missing one would
// show as [key] on a page.
func TestEveryUsedKeyExists(t *testing.T) {
	re := regexp.MustCompile(`(?:t \$?\.Lang|i18n\.T\(\w+(?:\.\w+)?,) "([a-z0-9_.]*[a-z0-9_])"|"((?:nav|flash|role|kind|sex)\.[a-z_]+[a-z])"`)
	var files []string
	for _, pat := range []string{"../web/templates/*.html", "../web/*.go", "../app/*.go", "../app/static/*.html"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no templates found")
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			key := m[1] + m[2]
			n++
			if _, ok := Keys(ZH)[key]; !ok {
				t.Errorf("%s uses %q, which is not in the catalogs", filepath.Base(f), key)
			}
		}
	}
	if n < 50 {
		t.Fatalf("found only %d uses of keys: the pattern no longer matches the templates", n)
	}
}

func TestFromRequest(t *testing.T) {
	tests := []struct {
		name, cookie, accept, want string
	}{
		{"default Chinese", "", "", ZH},
		{"browser asks English", "", "en-US,en;q=0.9", EN},
		{"browser asks Chinese first", "", "zh-CN,zh;q=0.9,en;q=0.8", ZH},
		{"browser asks French", "", "fr-FR", ZH},
		{"cookie wins", "zh", "en", ZH},
		{"cookie English", "en", "", EN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if tt.cookie != "" {
				r.Header.Set("Cookie", CookieName+"="+tt.cookie)
			}
			if got := FromRequest(r); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestNoRuleNumbersShown: staff read the legal article, not DOMAIN's rule
// numbers (issue 18 §8). A message that needs its basis cites the
// instrument and article; pages put the rule number in a tooltip only.
func TestNoRuleNumbersShown(t *testing.T) {
	rule := regexp.MustCompile(`\bR\d{1,2}\b`)
	for _, lang := range []string{"zh", "en"} {
		for k, v := range Keys(lang) {
			if rule.MatchString(v) {
				t.Errorf("%s %s shows a rule number: %q", lang, k, v)
			}
		}
	}
}

// English counts read "1 day", "2 days" (issue 18 item 13); the selector
// names its argument, so a message may count several things.
func TestPlural(t *testing.T) {
	tests := []struct {
		msg  string
		args []any
		want string
	}{
		{"%d {1:day|days}", []any{1}, "1 day"},
		{"%d {1:day|days}", []any{2}, "2 days"},
		{"%d {1:day|days}", []any{0}, "0 days"},
		{"%d {1:day|days}, %d {2:time|times}", []any{1, 3}, "1 day, 3 times"},
		{"%d {1:day|days}, %d {2:time|times}", []any{21, 1}, "21 days, 1 time"},
		{"%s {1:item|items}", []any{"1"}, "1 item"},
		{"no selector {\"a\":1}", []any{}, "no selector {\"a\":1}"},
	}
	for _, tt := range tests {
		if got := fmt.Sprintf(Plural(tt.msg, tt.args...), tt.args...); got != tt.want {
			t.Errorf("%q %v: got %q, want %q", tt.msg, tt.args, got, tt.want)
		}
	}
	// No English message says "1 days": a count before a plural noun is a
	// selector.
	bare := regexp.MustCompile(`%(\[\d\])?d (days|times|months|persons|sessions|errors|events|rows|files|others|materials)\b`)
	for k, v := range Keys(EN) {
		if bare.MatchString(v) {
			t.Errorf("en %s counts without a plural selector: %q", k, v)
		}
	}
}
