package web

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// The help lists across persons: employment on a day ("is everyone in
// work?") and assistance, each exported as on screen (audited).

type employmentData struct {
	S         *store.EmploymentSummary
	Rows      [][]string
	Head      []string
	PersonIDs []string
	Orgs      []choice
	On        string
	Rate      string
	Counts    []kv
	ExportURL string
}

// orgChoices lists the orgs the actor sees for a filter picker.
func (c *Console) orgChoices(r *http.Request, q *req, selected string) ([]choice, error) {
	orgs, err := c.DB.ListOrgs(r.Context(), q.Actor, store.OrgFilter{})
	if err != nil {
		return nil, err
	}
	out := []choice{{Value: "", Label: i18n.T(q.Lang, "help.all_orgs")}}
	for _, o := range orgs {
		out = append(out, choice{Value: o.ID, Label: o.Name, Selected: o.ID == selected})
	}
	return out, nil
}

// employmentQuery reads the overview's org and day (today by default).
func (c *Console) employmentQuery(r *http.Request) (string, casework.Date, error) {
	org := r.URL.Query().Get("org")
	on := casework.DateOf(c.DB.Now(), nil)
	if s := r.URL.Query().Get("on"); s != "" {
		d, err := casework.ParseDateField("on", s)
		if err != nil {
			return org, on, err
		}
		on = d
	}
	return org, on, nil
}

func (c *Console) employmentList(w http.ResponseWriter, r *http.Request, q *req) error {
	org, on, err := c.employmentQuery(r)
	if err != nil {
		return err
	}
	s, err := c.DB.EmploymentOverview(r.Context(), q.Actor, org, on)
	if err != nil {
		return err
	}
	d := employmentData{S: s, On: on.String(), ExportURL: "/employment/export.xlsx?" + url.Values{"org": {org}, "on": {on.String()}}.Encode()}
	if d.Orgs, err = c.orgChoices(r, q, org); err != nil {
		return err
	}
	d.Head, d.Rows = exchange.EmploymentTable(s, q.Lang)
	for _, row := range s.Rows {
		d.PersonIDs = append(d.PersonIDs, row.PersonID)
	}
	if rate, ok := s.Rate(); ok {
		d.Rate = fmt.Sprintf("%.1f%%", rate*100)
	} else {
		d.Rate = "—"
	}
	for _, st := range casework.EmploymentStatuses {
		d.Counts = append(d.Counts, kv{K: st.Label(q.Lang), V: fmt.Sprint(s.Counts[st])})
	}
	c.render(w, r, q, http.StatusOK, "employment", d)
	return nil
}

func (c *Console) employmentExport(w http.ResponseWriter, r *http.Request, q *req) error {
	org, on, err := c.employmentQuery(r)
	if err != nil {
		return err
	}
	s, err := c.DB.EmploymentOverview(r.Context(), q.Actor, org, on)
	if err != nil {
		return err
	}
	head, rows := exchange.EmploymentTable(s, q.Lang)
	if err := c.DB.AuditListExport(r.Context(), q.Actor, "employment", map[string]any{"org_id": org, "on": on.String()}, len(rows)); err != nil {
		return err
	}
	return sendWorkbook(w, "employment-"+on.String()+".xlsx", func(out io.Writer) error {
		return exchange.WriteTable(out, i18n.T(q.Lang, "help.employment_title"), head, rows)
	})
}

type assistanceListData struct {
	Rows      []aidRow
	Orgs      []choice
	Kinds     []choice
	Statuses  []choice
	ExportURL string
}

func assistanceFilter(r *http.Request) store.AssistanceFilter {
	v := r.URL.Query()
	return store.AssistanceFilter{OrgID: v.Get("org"), Kind: casework.AssistanceKind(v.Get("kind")), Status: casework.AssistanceStatus(v.Get("status"))}
}

func (c *Console) assistanceList(w http.ResponseWriter, r *http.Request, q *req) error {
	f := assistanceFilter(r)
	list, err := c.DB.ListAssistanceAll(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	d := assistanceListData{ExportURL: "/assistance/export.xlsx?" + r.URL.RawQuery}
	if d.Orgs, err = c.orgChoices(r, q, f.OrgID); err != nil {
		return err
	}
	d.Kinds = []choice{{Label: i18n.T(q.Lang, "help.all_kinds")}}
	for _, k := range casework.AssistanceKinds {
		d.Kinds = append(d.Kinds, choice{Value: string(k), Label: k.Label(q.Lang), Selected: k == f.Kind})
	}
	d.Statuses = []choice{{Label: i18n.T(q.Lang, "help.all_statuses")}}
	for _, s := range casework.AssistanceStatuses {
		d.Statuses = append(d.Statuses, choice{Value: string(s), Label: s.Label(q.Lang), Selected: s == f.Status})
	}
	for i := range list {
		a := &list[i]
		row := aidRow{A: a, Kind: a.Kind.Label(q.Lang), Status: a.Status.Label(q.Lang), Amount: "—"}
		if !a.Hidden {
			row.Amount = ""
			if a.AmountFen > 0 {
				row.Amount = "¥" + exchange.Yuan(a.AmountFen)
			}
		}
		d.Rows = append(d.Rows, row)
	}
	c.render(w, r, q, http.StatusOK, "assistance", d)
	return nil
}

func (c *Console) assistanceExport(w http.ResponseWriter, r *http.Request, q *req) error {
	f := assistanceFilter(r)
	list, err := c.DB.ListAssistanceAll(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	head, rows := exchange.AssistanceTable(list, q.Lang)
	filter := map[string]any{"org_id": f.OrgID, "kind": string(f.Kind), "status": string(f.Status)}
	if err := c.DB.AuditListExport(r.Context(), q.Actor, "assistance", filter, len(rows)); err != nil {
		return err
	}
	name := "assistance-" + strings.ReplaceAll(casework.DateOf(c.DB.Now(), nil).String(), "-", "") + ".xlsx"
	return sendWorkbook(w, name, func(out io.Writer) error {
		return exchange.WriteTable(out, i18n.T(q.Lang, "help.assistance_title"), head, rows)
	})
}
