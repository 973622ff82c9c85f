package web

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"kangfu/internal/casework"
)

// TestFormErrorMechanism: the one mechanism every form uses (issue 18 item
// 9) keeps every problem of a casework.FieldErrors, one per field beside
// it, all in the summary, with a counted heading in both languages; other
// errors are not the form's.
func TestFormErrorMechanism(t *testing.T) {
	var errs casework.FieldErrors
	errs = append(errs, casework.Invalid("name", "姓名不能为空", "name is required"))
	errs.Add(casework.Invalid("phone", "电话号码格式不正确", "the phone number is not valid"))
	errs.Add(casework.Invalid("phone", "第二个问题", "a second problem"))
	errs.Add(casework.Invalid("place_org_id", "请选择执行地", "the place <of> execution is required"))
	wrapped := fmt.Errorf("create person: %w", errs.Err())

	fe, ok := toFormError(wrapped, "en")
	if !ok {
		t.Fatal("an EINVALID error is not the form's")
	}
	fe.rename("place_org_id", "org_id")
	if len(fe.Items) != 4 || fe.Fields["phone"] != "the phone number is not valid" || fe.Fields["org_id"] == "" || fe.Fields["place_org_id"] != "" {
		t.Fatalf("items %+v fields %v", fe.Items, fe.Fields)
	}
	if fe.Heading != "4 problems to correct before saving:" {
		t.Errorf("heading %q", fe.Heading)
	}
	if zh, _ := toFormError(wrapped, "zh"); !strings.Contains(zh.Heading, "4") || zh.Fields["name"] != "姓名不能为空" {
		t.Errorf("zh: %q %v", zh.Heading, zh.Fields)
	}
	one, _ := toFormError(casework.Invalid("to", "结束日期不能早于开始日期", "the end date cannot be before the start date"), "en")
	if one.Heading != "1 problem to correct before saving:" || len(one.Items) != 1 {
		t.Errorf("one problem: %q %+v", one.Heading, one.Items)
	}

	got := string(fieldErr(fe, "org_id"))
	if got != `<span class="error field-error" id="err-org_id" data-field="org_id">the place &lt;of&gt; execution is required</span>` {
		t.Errorf("fieldErr: %s", got)
	}
	if fieldErr(fe, "sex") != "" || errAttrs(fe, "sex") != "" || fieldErr((*formError)(nil), "name") != "" {
		t.Error("a field without a problem is marked")
	}
	if a := string(errAttrs(fe, "name")); a != `aria-invalid="true" aria-describedby="err-name"` {
		t.Errorf("errAttrs: %s", a)
	}
	if fieldErr(map[string]string{"topic": "x"}, "topic") == "" {
		t.Error("a page's field → message map is not read")
	}

	m, err := formErrs(casework.Errorf(casework.ECONFLICT, "已存在", "exists"), "en")
	if err != nil || m["form"] != "exists" {
		t.Errorf("a problem of no field: %v %v", m, err)
	}
	if _, ok := toFormError(errors.New("disk full"), "en"); ok {
		t.Error("an internal error is shown as the form's")
	}
	if _, err := formErrs(errors.New("disk full"), "en"); err == nil {
		t.Error("an internal error is swallowed")
	}
}

// withChecks joins the form's parse problems with the domain's, a field
// already at fault once.
func TestWithChecks(t *testing.T) {
	if withChecks(nil, func() error { return errors.New("not called") }) != nil {
		t.Fatal("a form that parsed is refused")
	}
	parse := casework.FieldErrors{casework.Invalid("from", "日期格式", "date format")}
	err := withChecks(parse, func() error {
		return casework.FieldErrors{casework.Invalid("from", "请填写开始日期", "required"), casework.Invalid("reason", "请填写事由", "a reason is required")}.Err()
	})
	fe, _ := toFormError(err, "en")
	if len(fe.Items) != 2 || fe.Fields["from"] != "date format" || fe.Fields["reason"] == "" {
		t.Errorf("%+v", fe.Items)
	}
}
