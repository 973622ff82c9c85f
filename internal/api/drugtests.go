package api

import (
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Drug test records (R18–R21). Results are sensitive (R36): reading them
// needs sensitive access to the file; police, the lead and the responsible
// worker record them.
func (a *API) drugTestRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermSensitive, Target: "person"}
	record := httpx.Access{Perm: casework.PermRecordTest, Target: "person"}
	return []httpx.Route{
		rt("GET", "/api/v1/persons/{id}/tests", read, a.listTests, "a person's drug test records (sensitive)"),
		rt("POST", "/api/v1/persons/{id}/tests", record, a.recordTest, "record a drug test, a refusal or a remote test report"),
	}
}

type drugTestJSON struct {
	ID                string               `json:"id"`
	PersonID          string               `json:"person_id"`
	TestedOn          casework.Date        `json:"tested_on"`
	Place             string               `json:"place"`
	Sample            string               `json:"sample"`
	Outcome           string               `json:"outcome"`
	Substances        []string             `json:"substances"`
	Positive          []string             `json:"positive"`
	SampleA           string               `json:"sample_a,omitempty"`
	SampleB           string               `json:"sample_b,omitempty"`
	SealNo            string               `json:"seal_no,omitempty"`
	RetainUntil       string               `json:"retain_until,omitempty"`
	Staff             []casework.Collector `json:"staff"`
	Forced            bool                 `json:"forced"`
	ApproverName      string               `json:"approver_name,omitempty"`
	ApproverTitle     string               `json:"approver_title,omitempty"`
	NotifiedOn        casework.Date        `json:"notified_on"`
	LabRequestBy      casework.Date        `json:"lab_request_by"`
	RetestRequestBy   casework.Date        `json:"retest_request_by"`
	Remote            bool                 `json:"remote"`
	RemoteInstitution string               `json:"remote_institution,omitempty"`
	RemoteDocumentID  string               `json:"remote_document_id,omitempty"`
	CreatedByName     string               `json:"created_by_name"`
	CreatedAt         time.Time            `json:"created_at"`
}

func toDrugTestJSON(t *store.DrugTest) drugTestJSON {
	j := drugTestJSON{ID: t.ID, PersonID: t.PersonID, TestedOn: t.TestedOn, Place: t.Place, Sample: t.Sample, Outcome: t.Outcome,
		Substances: t.Substances, Positive: t.Positive, SampleA: t.SampleA, SampleB: t.SampleB, SealNo: t.SealNo, RetainUntil: t.RetainUntil.String(), Staff: t.Staff,
		Forced: t.Forced, ApproverName: t.ApproverName, ApproverTitle: t.ApproverTitle, NotifiedOn: t.NotifiedOn,
		LabRequestBy: t.LabRequestBy, RetestRequestBy: t.RetestRequestBy, Remote: t.Remote, RemoteInstitution: t.RemoteInstitution,
		RemoteDocumentID: t.RemoteDocumentID, CreatedByName: t.CreatedByName, CreatedAt: t.CreatedAt}
	if j.Substances == nil {
		j.Substances = []string{}
	}
	if j.Positive == nil {
		j.Positive = []string{}
	}
	if j.Staff == nil {
		j.Staff = []casework.Collector{}
	}
	return j
}

type drugTestRequest struct {
	TestedOn          casework.Date `json:"tested_on"`
	Place             string        `json:"place"`
	Sample            string        `json:"sample"`
	Substances        []string      `json:"substances"`
	Outcome           string        `json:"outcome"`
	Positive          []string      `json:"positive"`
	StaffIDs          []string      `json:"staff_ids"`
	SampleA           string        `json:"sample_a"`
	SampleB           string        `json:"sample_b"`
	SealNo            string        `json:"seal_no"`
	RetainUntil       casework.Date `json:"retain_until"`
	Forced            bool          `json:"forced"`
	ApproverName      string        `json:"approver_name"`
	ApproverTitle     string        `json:"approver_title"`
	NotifiedOn        casework.Date `json:"notified_on"`
	Remote            bool          `json:"remote"`
	RemoteInstitution string        `json:"remote_institution"`
	RemoteDocumentID  string        `json:"remote_document_id"`
}

func (a *API) listTests(w http.ResponseWriter, r *http.Request, q *req) error {
	ts, err := a.DB.ListTests(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := list[drugTestJSON]{Items: []drugTestJSON{}, Total: len(ts)}
	for i := range ts {
		out.Items = append(out.Items, toDrugTestJSON(&ts[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) recordTest(w http.ResponseWriter, r *http.Request, q *req) error {
	var in drugTestRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := a.DB.RecordTest(r.Context(), q.Actor, r.PathValue("id"), casework.DrugTestInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toDrugTestJSON(t))
	return nil
}
