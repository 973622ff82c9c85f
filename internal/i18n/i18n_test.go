package i18n

import (
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
