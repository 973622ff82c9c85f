package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 10 on the file page: the R7 gaps and the reason form, the R17 form
// and flags (zh and en; in the list), with field errors in place.
func TestFileRulesIssue10(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		pid := s.createPerson("worker", s.newPersonForm("陈小红", idNumber("46020319881231002"), "13700000001", 10, true))
		path := "/persons/" + pid
		body := s.get("worker", "", path)
		if !strings.Contains(body, `data-testid="group-gaps"`) || !strings.Contains(body, "专职工作人员、社区民警、家庭成员") {
			t.Fatalf("R7: the file shows the gaps: %s", excerpt(body))
		}
		s.post("worker", path+"/measure", url.Values{"set_family_reason": {"1"}, "group_family_reason": {"父母均已去世"}})
		body = s.get("worker", "", path)
		if !strings.Contains(body, "父母均已去世") || strings.Contains(body, "社区民警、家庭成员") {
			t.Fatalf("R7: after the reason: %s", excerpt(body))
		}
		// R17: a pregnancy without its date is refused in place; with it the flag shows.
		status, _, body := s.do("worker", "", "POST", path+"/special", url.Values{"pregnant": {"1"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "预产期") {
			t.Fatalf("R17 field error: %d %s", status, excerpt(body))
		}
		s.post("worker", path+"/special", url.Values{"pregnant": {"1"}, "expected_delivery": {s.today.AddDays(60).String()}})
		body = s.get("worker", "", path)
		if !strings.Contains(body, `data-testid="special-flags"`) || !strings.Contains(body, "依法不适用强制隔离戒毒") {
			t.Fatalf("R17 flags on the file: %s", excerpt(body))
		}
		if en := s.get("worker", "en", path); !strings.Contains(en, "Not subject to compulsory isolation") {
			t.Fatal("R17 in English")
		}
		if list := s.get("worker", "", "/persons"); !strings.Contains(list, `data-testid="special-flag"`) {
			t.Fatal("R17 flag in the list")
		}
	})
}
