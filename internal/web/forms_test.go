package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// fieldMsg returns the message shown beside a field, or "".
func fieldMsg(body, field string) string {
	re := regexp.MustCompile(`id="err-` + regexp.QuoteMeta(field) + `" data-field="` + regexp.QuoteMeta(field) + `">([^<]*)<`)
	if m := re.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// checkAllErrors asserts that each field has its message beside it, that
// its input points at it (aria-describedby), that the summary at the top
// lists as many problems, and that the typed values are kept.
func checkAllErrors(t *testing.T, body string, want map[string]string, kept ...string) {
	t.Helper()
	for field, words := range want {
		if m := fieldMsg(body, field); !strings.Contains(m, words) {
			t.Errorf("beside %s: %q, want it to contain %q", field, m, words)
		}
		if !strings.Contains(body, `name="`+field+`" aria-invalid="true" aria-describedby="err-`+field+`"`) {
			t.Errorf("the %s input does not point at its message", field)
		}
	}
	sum := regexp.MustCompile(`(?s)<div class="error form-errors" role="alert" data-testid="form-errors">(.*?)</div>`).FindStringSubmatch(body)
	if sum == nil {
		t.Fatalf("no summary of the errors:\n%s", excerpt(body))
	}
	if n := strings.Count(sum[1], "<li>"); n < len(want) {
		t.Errorf("the summary lists %d problems, want at least %d: %s", n, len(want), sum[1])
	}
	for _, v := range kept {
		if !strings.Contains(body, `value="`+v+`"`) && !strings.Contains(body, ">"+v+"<") {
			t.Errorf("the typed value %q is lost", v)
		}
	}
}

// TestFormsReportEveryError (issue 18 item 9): a form with several bad
// fields answers once with every problem beside its field and in the
// summary, keeps what was typed, and writes nothing.
func TestFormsReportEveryError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		ctx := context.Background()

		t.Run("new file", func(t *testing.T) {
			f := s.newPersonForm("", idNumber("46020319900101123"), "12345", 3, false)
			f.Set("decision_number", "")
			f.Set("received_date", s.today.AddDays(3).String())
			f.Set("ethnicity", "黎族")
			status, _, body := s.do("worker", "zh", "POST", "/persons", f)
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", status)
			}
			checkAllErrors(t, body, map[string]string{"name": "姓名", "phone": "电话", "decision_number": "文号", "received_date": "不能晚于今天"},
				"黎族", "12345", idNumber("46020319900101123"))
			_, total, err := db.ListPersons(ctx, s.sys, store.PersonFilter{IncludeEnded: true})
			if err != nil || total != 0 {
				t.Fatalf("a bad form wrote %d persons (%v)", total, err)
			}
			_, _, en := s.do("worker", "en", "POST", "/persons", f)
			checkAllErrors(t, en, map[string]string{"name": "name is required", "phone": "phone number", "decision_number": "decision number"})
			if !strings.Contains(en, "4 problems to correct") {
				t.Errorf("English summary heading lacks the count:\n%s", excerpt(en))
			}
		})

		pid := s.createPerson("worker", s.newPersonForm("李四", idNumber("46020319900101123"), "13800138000", 20, true))

		t.Run("drug test", func(t *testing.T) {
			f := url.Values{"tested_on": {s.today.AddDays(2).String()}, "place": {""}, "sample": {"urine"}, "outcome": {"negative"},
				"substances": {""}, "seal_no": {"S-778"}, "staff_ids": {s.users["worker"]}}
			status, _, body := s.do("worker", "zh", "POST", "/persons/"+pid+"/tests", f)
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", status)
			}
			checkAllErrors(t, body, map[string]string{"tested_on": "不能晚于今天", "place": "地点", "substances": "毒品种类"}, "S-778")
			if m := fieldMsg(body, "staff_ids"); !strings.Contains(m, "两名") {
				t.Errorf("beside the staff: %q", m)
			}
		})

		t.Run("leave request", func(t *testing.T) {
			f := url.Values{"kind": {"leave"}, "destination_province": {"460000"}, "destination_city": {"不存在市"},
				"from": {s.today.String()}, "to": {s.today.AddDays(-1).String()}, "reason": {""}, "employer": {"椰风公司"}, "lat": {"x"}}
			status, _, body := s.do("worker", "en", "POST", "/persons/"+pid+"/leave", f)
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", status)
			}
			checkAllErrors(t, body, map[string]string{"destination_city": "not a city", "to": "before the start date",
				"reason": "reason is required", "lat": "must be a number"}, "不存在市", "椰风公司")
			rows, err := db.ListLeaves(ctx, s.sys, store.LeaveFilter{PersonID: pid})
			if err != nil || len(rows) != 0 {
				t.Fatalf("a bad request wrote %d leaves (%v)", len(rows), err)
			}
		})
	})
}

// TestEventFormReportsEveryError: the prevention-event form, whose numbers
// are read in the console and the rest checked in the domain, shows a bad
// number and the missing topic and place together (issue 18 item 9).
func TestEventFormReportsEveryError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		f := url.Values{"org_id": {s.commA.ID}, "held_on": {s.today.String()}, "kind": {"lecture"}, "topic": {""}, "place": {""},
			"audience": {"四十"}, "materials": {"12"}, "note": {"厂区会议室借用"}}
		status, _, body := s.do("lead", "zh", "POST", "/events", f)
		if status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400\n%s", status, excerpt(body))
		}
		checkAllErrors(t, body, map[string]string{"audience": "", "topic": "主题", "place": "地点"}, "四十", "厂区会议室借用")
	})
}
