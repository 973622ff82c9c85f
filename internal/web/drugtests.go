package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// Drug test records (R18–R21) of a person: the list (sensitive, R36) and
// the form to record a test, a refusal, a forced test or a remote report.
func (c *Console) drugTestRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermSensitive, Target: "person"}
	record := httpx.Access{Perm: casework.PermRecordTest, Target: "person"}
	return []httpx.Route{
		rt("GET", "/persons/{id}/tests", read, c.personTests, "a person's drug test records"),
		rt("POST", "/persons/{id}/tests", record, c.personTestRecord, "record a drug test"),
	}
}

type drugTestRow struct {
	T          *store.DrugTest
	Sample     string
	Outcome    string
	Substances string
	Positive   string
	Staff      string
}

type personTestsData struct {
	PersonID  string
	P         *casework.Person
	Rows      []drugTestRow
	CanRecord bool
	Staff     []staffChoice
	Samples   []choice
	Outcomes  []choice
	Form      map[string]string
	Err       *formError
}

type staffChoice struct {
	ID, Name string
	Female   bool
	Checked  bool
}

var drugTestFormFields = []string{"tested_on", "place", "sample", "substances", "outcome", "positive", "sample_a", "sample_b", "seal_no",
	"retain_until", "forced", "approver_name", "approver_title", "notified_on", "remote", "remote_institution", "remote_document_id"}

func (c *Console) personTestsPage(w http.ResponseWriter, r *http.Request, q *req, form map[string]string, staffIDs []string, fe *formError, status int) error {
	pid := r.PathValue("id")
	p, err := c.filePerson(r, q)
	if err != nil {
		return err
	}
	var ts []store.DrugTest
	if q.Actor.CanAnywhere(casework.PermSensitive) {
		if ts, err = c.DB.ListTests(r.Context(), q.Actor, pid); err != nil {
			return err
		}
	}
	d := personTestsData{PersonID: pid, P: p, Form: form, Err: fe}
	if d.Form == nil {
		d.Form = map[string]string{"sample": "urine", "outcome": casework.OutcomeNegative, "tested_on": casework.DateOf(c.DB.Now(), nil).String()}
	}
	for i := range ts {
		t := &ts[i]
		row := drugTestRow{T: t, Sample: i18n.T(q.Lang, testLabelKeys[t.Sample]), Outcome: i18n.T(q.Lang, testLabelKeys[t.Outcome]),
			Substances: strings.Join(t.Substances, "、"), Positive: strings.Join(t.Positive, "、")}
		var names []string
		for _, s := range t.Staff {
			names = append(names, s.Name)
		}
		row.Staff = strings.Join(names, "、")
		d.Rows = append(d.Rows, row)
	}
	staff, err := c.DB.TestStaff(r.Context(), q.Actor, pid)
	switch {
	case err == nil:
		d.CanRecord = true
		for _, s := range staff {
			d.Staff = append(d.Staff, staffChoice{ID: s.ID, Name: s.Name, Female: s.Sex == "F", Checked: slices.Contains(staffIDs, s.ID)})
		}
	case !casework.IsCode(err, casework.EFORBIDDEN):
		return err
	}
	for _, s := range casework.SampleTypes {
		d.Samples = append(d.Samples, choice{Value: s, Label: i18n.T(q.Lang, testLabelKeys[s]), Selected: s == d.Form["sample"]})
	}
	for _, o := range casework.Outcomes {
		d.Outcomes = append(d.Outcomes, choice{Value: o, Label: i18n.T(q.Lang, testLabelKeys[o]), Selected: o == d.Form["outcome"]})
	}
	c.render(w, r, q, status, "drugtests", d)
	return nil
}

// testLabelKeys names the catalog key of each sample type and outcome.
var testLabelKeys = map[string]string{
	"urine": "test.sample_urine", "blood": "test.sample_blood", "saliva": "test.sample_saliva", "hair": "test.sample_hair",
	casework.OutcomeNegative: "test.outcome_negative", casework.OutcomePositive: "test.outcome_positive",
	casework.OutcomeInvalid: "test.outcome_invalid", casework.OutcomeRefused: "test.outcome_refused",
}

func (c *Console) personTests(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.personTestsPage(w, r, q, nil, nil, nil, http.StatusOK)
}

func (c *Console) personTestRecord(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := r.ParseForm(); err != nil {
		return casework.Invalid("form", "无法读取表单", "cannot read the form")
	}
	form := map[string]string{}
	for _, f := range drugTestFormFields {
		form[f] = strings.TrimSpace(r.PostFormValue(f))
	}
	staffIDs := r.PostForm["staff_ids"]
	in, err := drugTestFormInput(form, staffIDs)
	if err == nil {
		_, err = c.DB.RecordTest(r.Context(), q.Actor, r.PathValue("id"), in)
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.personTestsPage(w, r, q, form, staffIDs, fe, http.StatusBadRequest)
	}
	return redirect(w, r, "/persons/"+r.PathValue("id")+"/tests", "test_recorded")
}

func drugTestFormInput(f map[string]string, staffIDs []string) (casework.DrugTestInput, error) {
	in := casework.DrugTestInput{Place: f["place"], Sample: f["sample"], Substances: []string{f["substances"]}, Outcome: f["outcome"],
		Positive: []string{f["positive"]}, StaffIDs: staffIDs, SampleA: f["sample_a"], SampleB: f["sample_b"], SealNo: f["seal_no"],
		Forced: f["forced"] == "1", ApproverName: f["approver_name"], ApproverTitle: f["approver_title"],
		Remote: f["remote"] == "1", RemoteInstitution: f["remote_institution"], RemoteDocumentID: f["remote_document_id"]}
	var errs casework.FieldErrors // every problem at once (issue 18 item 9)
	for _, d := range []struct {
		field string
		dst   *casework.Date
	}{{"tested_on", &in.TestedOn}, {"notified_on", &in.NotifiedOn}, {"retain_until", &in.RetainUntil}} {
		v, err := casework.ParseDateField(d.field, f[d.field])
		errs.Add(err)
		*d.dst = v
	}
	return in, withChecks(errs, func() error {
		p := in
		return p.Validate(casework.DateOf(time.Now(), nil))
	})
}
