// Package i18n holds the console's and the app's words in Chinese (first)
// and English. Catalogs are flat JSON files embedded in the binary; a test
// keeps them complete and in step. Chinese has no plural forms; English
// has two (CLDR: "one" for exactly 1, "other" for the rest), written in a
// message as {N:one|other}, where N is the 1-based fmt argument that counts:
// "%d {1:day|days}" reads "1 day", "2 days" (issue 18 item 13).
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/text/language"
)

// Languages, Chinese first.
const (
	ZH = "zh"
	EN = "en"
)

// Each language is a folder of JSON files (one per part of the product:
// core.json, persons.json, …), merged at start; a key defined twice fails.
//
//go:embed locales/zh/*.json locales/en/*.json
var files embed.FS

var catalogs = map[string]map[string]string{}

func init() {
	for _, lang := range []string{ZH, EN} {
		names, err := fs.Glob(files, "locales/"+lang+"/*.json")
		if err != nil {
			panic(err)
		}
		m := map[string]string{}
		for _, name := range names {
			b, err := files.ReadFile(name)
			if err != nil {
				panic(err)
			}
			part := map[string]string{}
			if err := json.Unmarshal(b, &part); err != nil {
				panic(fmt.Sprintf("i18n: %s: %v", name, err))
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					panic(fmt.Sprintf("i18n: %s defines %q again", name, k))
				}
				m[k] = v
			}
		}
		catalogs[lang] = m
	}
}

// Keys returns every key of a language's catalog.
func Keys(lang string) map[string]string { return catalogs[lang] }

// T returns the message for key in lang, formatted with args. A missing key
// shows as the key itself in brackets, which a test catches.
func T(lang, key string, args ...any) string {
	m, ok := catalogs[lang]
	if !ok {
		m = catalogs[ZH]
	}
	s, ok := m[key]
	if !ok {
		return "[" + key + "]"
	}
	if len(args) > 0 {
		return fmt.Sprintf(Plural(s, args...), args...)
	}
	return s
}

var pluralRE = regexp.MustCompile(`\{([1-9]):([^{}|]*)\|([^{}|]*)\}`)

// Plural resolves the {N:one|other} selectors of a message by its
// arguments: "one" when argument N is the integer 1, "other" otherwise.
func Plural(s string, args ...any) string {
	if !strings.Contains(s, "|") {
		return s
	}
	return pluralRE.ReplaceAllStringFunc(s, func(m string) string {
		p := pluralRE.FindStringSubmatch(m)
		i, _ := strconv.Atoi(p[1])
		if i > len(args) {
			return p[3]
		}
		if isOne(args[i-1]) {
			return p[2]
		}
		return p[3]
	})
}

func isOne(v any) bool {
	switch n := v.(type) {
	case int:
		return n == 1
	case int64:
		return n == 1
	case int32:
		return n == 1
	case uint:
		return n == 1
	case string:
		return n == "1"
	}
	return false
}

var matcher = language.NewMatcher([]language.Tag{language.Chinese, language.English})

// CookieName holds an explicit language choice.
const CookieName = "kangfu_lang"

// FromRequest picks the language: an explicit cookie, else the browser's
// Accept-Language, else Chinese.
func FromRequest(r *http.Request) string {
	if c, err := r.Cookie(CookieName); err == nil && (c.Value == ZH || c.Value == EN) {
		return c.Value
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, idx, conf := matcher.Match(tags...)
			if conf != language.No && idx == 1 {
				return EN
			}
		}
	}
	return ZH
}
