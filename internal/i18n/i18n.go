// Package i18n holds the console's and the app's words in Chinese (first)
// and English. Catalogs are flat JSON files embedded in the binary; a test
// keeps them complete and in step. Chinese has no plural forms and our
// English strings avoid them, so a message catalog with fmt arguments is all
// that is needed.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"

	"golang.org/x/text/language"
)

// Languages, Chinese first.
const (
	ZH = "zh"
	EN = "en"
)

//go:embed locales/*.json
var files embed.FS

var catalogs = map[string]map[string]string{}

func init() {
	for _, lang := range []string{ZH, EN} {
		b, err := files.ReadFile("locales/" + lang + ".json")
		if err != nil {
			panic(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("i18n: locales/%s.json: %v", lang, err))
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
		return fmt.Sprintf(s, args...)
	}
	return s
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
