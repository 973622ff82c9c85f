package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// personRoutes are the person file's routes (persons, measures,
// transitions, working group, timeline, transfers, corrections).
func (a *API) personRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermReadPersons}
	readP := httpx.Access{Perm: casework.PermReadPersons, Target: "person"}
	write := httpx.Access{Perm: casework.PermWritePersons}
	writeP := httpx.Access{Perm: casework.PermWritePersons, Target: "person"}
	sensitiveP := httpx.Access{Perm: casework.PermSensitive, Target: "person"}
	transferP := httpx.Access{Perm: casework.PermTransfer, Target: "person"}
	return []httpx.Route{
		rt("GET", "/api/v1/persons", read, a.listPersons, "persons in scope (masked)"),
		rt("POST", "/api/v1/persons", write, a.createPerson, "open a person file, with its first measure"),
		rt("GET", "/api/v1/persons/{id}", readP, a.getPerson, "one person file (the read is audited)"),
		rt("PATCH", "/api/v1/persons/{id}", writeP, a.updatePerson, "edit a person file"),
		rt("POST", "/api/v1/persons/{id}/reveal", sensitiveP, a.revealPerson, "reveal a masked value with a reason (audited)"),
		rt("GET", "/api/v1/persons/{id}/measures", readP, a.listMeasures, "a person's measures with working groups and status events"),
		rt("POST", "/api/v1/persons/{id}/measures", writeP, a.addMeasure, "start a new measure"),
		rt("PATCH", "/api/v1/persons/{id}/measure", writeP, a.updateMeasure, "record the agreement date or change the worker"),
		rt("POST", "/api/v1/persons/{id}/transitions", writeP, a.transition, "change the status of the measure in force"),
		rt("POST", "/api/v1/persons/{id}/group", writeP, a.addGroupMember, "add a working-group member"),
		rt("PUT", "/api/v1/persons/{id}/special", writeP, a.setSpecial, "record pregnancy and nursing (R17)"),
		rt("DELETE", "/api/v1/persons/{id}/group/{member}", httpx.Access{Perm: casework.PermWritePersons, Target: "group_member"},
			a.removeGroupMember, "remove a working-group member"),
		rt("GET", "/api/v1/persons/{id}/timeline", readP, a.timeline, "a person's timeline, newest first"),
		rt("POST", "/api/v1/persons/{id}/transfers", transferP, a.startTransfer, "start a change of the place of execution"),
		rt("GET", "/api/v1/transfers", read, a.listTransfers, "transfers into or out of the caller's subtree"),
		rt("POST", "/api/v1/transfers/{id}/decision", httpx.Access{Perm: casework.PermTransfer, Target: "incoming_transfer"},
			a.decideTransfer, "accept or refuse an incoming transfer"),
		rt("POST", "/api/v1/transfers/{id}/cancel", httpx.Access{Perm: casework.PermTransfer, Target: "outgoing_transfer"},
			a.cancelTransfer, "withdraw an outgoing transfer"),
		rt("GET", "/api/v1/persons/{id}/corrections", httpx.Access{Perm: casework.PermReadPersons, Target: "archived_person"},
			a.listCorrections, "corrections requested for an archived file"),
		rt("POST", "/api/v1/persons/{id}/corrections", httpx.Access{Perm: casework.PermWritePersons, Target: "archived_person"},
			a.requestCorrection, "request a correction of an archived file"),
		rt("POST", "/api/v1/corrections/{id}/decision", httpx.Access{Perm: casework.PermApproveCorrect, Target: "correction"},
			a.decideCorrection, "approve or reject a correction (a lead other than the requester)"),
	}
}

// today is the calendar date at the default zone (Asia/Shanghai), for
// list filters and overdue days; the store works with each org's own zone.
func (a *API) today() casework.Date {
	return casework.DateOf(a.DB.Now(), casework.LoadLocation(""))
}

// personSummaryJSON is one row of a person list: masked values only (R36).
type personSummaryJSON struct {
	ID             string    `json:"id"`
	OrgID          string    `json:"org_id"`
	OrgName        string    `json:"org_name"`
	Name           string    `json:"name"`
	Sex            string    `json:"sex"`
	BirthDate      string    `json:"birth_date,omitempty"`
	IDMasked       string    `json:"id_masked,omitempty"`
	PhoneMasked    string    `json:"phone_masked,omitempty"`
	Status         string    `json:"status"`
	MeasureKind    string    `json:"measure_kind,omitempty"`
	WorkerID       string    `json:"worker_id,omitempty"`
	WorkerName     string    `json:"worker_name,omitempty"`
	ReportDeadline string    `json:"report_deadline,omitempty"`
	OverdueDays    int       `json:"overdue_days"`
	DeemedRefusal  bool      `json:"deemed_refusal"`
	TermEnd        string    `json:"term_end,omitempty"`
	ReleasedOn     string    `json:"released_on,omitempty"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func toPersonSummary(p *casework.Person, today casework.Date) personSummaryJSON {
	od := casework.OverdueDays(p.Status, p.ReportDeadline, today)
	return personSummaryJSON{ID: p.ID, OrgID: p.OrgID, OrgName: p.OrgName, Name: p.Name, Sex: p.Sex, BirthDate: p.BirthDate.String(),
		IDMasked: p.IDMasked, PhoneMasked: p.PhoneMasked, Status: string(p.Status), MeasureKind: string(p.MeasureKind),
		WorkerID: p.WorkerID, WorkerName: p.WorkerName, ReportDeadline: p.ReportDeadline.String(), OverdueDays: od, DeemedRefusal: od > 0,
		TermEnd: p.TermEnd.String(), ReleasedOn: p.ReleasedOn.String(), UpdatedAt: p.UpdatedAt}
}

type contactJSON struct {
	Name     string `json:"name"`
	Relation string `json:"relation"`
	Phone    string `json:"phone"`
}

type drugHistoryJSON struct {
	Substances      []string `json:"substances"`
	FirstUseDate    string   `json:"first_use_date"`
	FirstRegistered string   `json:"first_registered"`
	PriorMeasures   string   `json:"prior_measures"`
	Notes           string   `json:"notes"`
}

type accessJSON struct {
	Write           bool   `json:"write"`
	Sensitive       bool   `json:"sensitive"`
	Minimal         bool   `json:"minimal"`
	Transfer        bool   `json:"transfer"`
	Approve         bool   `json:"approve"`
	Incoming        bool   `json:"incoming"`
	HistoricalUntil string `json:"historical_until,omitempty"`
}

// personJSON is one file as the reader may see it: the ID number and phone
// masked (a reveal shows them), contacts' phones masked.
type personJSON struct {
	personSummaryJSON
	Ethnicity     string           `json:"ethnicity"`
	Education     string           `json:"education"`
	MaritalStatus string           `json:"marital_status"`
	Employment    string           `json:"employment"`
	HouseholdAddr string           `json:"household_addr"`
	ResidenceAddr string           `json:"residence_addr"`
	Contacts      []contactJSON    `json:"contacts"`
	HealthNotes   string           `json:"health_notes"`
	DrugHistory   *drugHistoryJSON `json:"drug_history,omitempty"`
	Special       *specialJSON     `json:"special,omitempty"` // R17, for sensitive readers
	CreatedAt     time.Time        `json:"created_at"`
	Access        accessJSON       `json:"access"`
}

func toPersonJSON(p *casework.Person, today casework.Date) personJSON {
	j := personJSON{Special: toSpecialJSON(p, today), personSummaryJSON: toPersonSummary(p, today), Ethnicity: p.Ethnicity, Education: p.Education, MaritalStatus: p.MaritalStatus,
		Employment: p.Employment, HouseholdAddr: p.HouseholdAddr, ResidenceAddr: p.ResidenceAddr, Contacts: []contactJSON{},
		HealthNotes: p.HealthNotes, CreatedAt: p.CreatedAt,
		Access: accessJSON{Write: p.Access.Write && p.Access.Until.IsZero(), Sensitive: p.Access.Sensitive, Minimal: p.Access.Minimal,
			Transfer: p.Access.Transfer, Approve: p.Access.Approve, Incoming: p.Access.Incoming}}
	if !p.Access.Until.IsZero() {
		j.Access.HistoricalUntil = p.Access.Until.UTC().Format(time.RFC3339)
	}
	for _, c := range p.Contacts {
		j.Contacts = append(j.Contacts, contactJSON{Name: c.Name, Relation: c.Relation, Phone: c.Phone}) // masked by the store
	}
	if p.Access.Sensitive {
		d := p.DrugHistory
		j.DrugHistory = &drugHistoryJSON{Substances: d.Substances, FirstUseDate: d.FirstUseDate.String(), FirstRegistered: d.FirstRegistered.String(),
			PriorMeasures: d.PriorMeasures, Notes: d.Notes}
		if j.DrugHistory.Substances == nil {
			j.DrugHistory.Substances = []string{}
		}
	}
	return j
}

var personSorts = map[string]bool{"": true, "name": true, "deadline": true, "updated": true}

func (a *API) listPersons(w http.ResponseWriter, r *http.Request, q *req) error {
	off, lim, err := paging(r)
	if err != nil {
		return err
	}
	qs := r.URL.Query()
	today := a.today()
	f := store.PersonFilter{Query: qs.Get("q"), Kind: casework.MeasureKind(qs.Get("kind")), OrgID: qs.Get("org_id"), WorkerID: qs.Get("worker_id"),
		IncludeEnded: qs.Get("include_ended") == "true", Today: today, Sort: qs.Get("sort"), Offset: off, Limit: lim}
	if s := qs.Get("status"); s != "" {
		for _, part := range strings.Split(s, ",") {
			st := casework.Status(strings.TrimSpace(part))
			if !st.Valid() {
				return casework.Invalid("status", "未知状态：%s", "unknown status %s", part)
			}
			f.Status = append(f.Status, st)
		}
	}
	if f.Kind != "" && !f.Kind.Valid() {
		return casework.Invalid("kind", "措施类型应为 community_treatment 或 community_rehab", "kind must be community_treatment or community_rehab")
	}
	if !personSorts[f.Sort] {
		return casework.Invalid("sort", "排序应为 name、deadline 或 updated", "sort must be name, deadline or updated")
	}
	if f.Tier = qs.Get("tier"); !store.ValidListTier(f.Tier) {
		return casework.Invalid("tier", "风险等级应为 high、medium、low 或 none", "tier must be high, medium, low or none")
	}
	if f.Tier != "" && !q.Actor.CanAnywhere(casework.PermRiskView) {
		return casework.Errorf(casework.EFORBIDDEN, "您没有权限按风险等级筛选", "you may not filter by risk tier")
	}
	if s := qs.Get("deadline_days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 365 {
			return casework.Invalid("deadline_days", "deadline_days 须为0到365之间的整数", "deadline_days must be a whole number from 0 to 365")
		}
		f.DeadlineDays = n
	}
	persons, total, err := a.DB.ListPersons(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	out := personListJSON{list: list[personSummaryJSON]{Items: []personSummaryJSON{}, Total: total}}
	for _, p := range persons {
		out.Items = append(out.Items, toPersonSummary(p, today))
	}
	if qs.Get("count_by") == "tier" {
		// R31: the same list (every filter but the tier) counted by the
		// confirmed tier in force today; none for an actor who sees no tier.
		if out.TierCounts, err = a.DB.CountPersonsByTier(r.Context(), q.Actor, f); err != nil {
			return err
		}
		if out.TierCounts == nil {
			return casework.Errorf(casework.EFORBIDDEN, "您没有权限查看风险等级统计", "you may not count by risk tier")
		}
	} else if c := qs.Get("count_by"); c != "" {
		return casework.Invalid("count_by", "count_by 只能为 tier", "count_by must be tier")
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// personListJSON is a page of persons, with the counts by tier when asked
// for (count_by=tier).
type personListJSON struct {
	list[personSummaryJSON]
	TierCounts map[string]int `json:"tier_counts,omitempty"`
}

// personRequest is a new person with, optionally, the first measure.
type personRequest struct {
	OrgID         string              `json:"org_id"`
	Name          string              `json:"name"`
	Sex           string              `json:"sex"`
	BirthDate     string              `json:"birth_date"`
	Ethnicity     string              `json:"ethnicity"`
	Education     string              `json:"education"`
	MaritalStatus string              `json:"marital_status"`
	Employment    string              `json:"employment"`
	IDNumber      string              `json:"id_number"`
	Phone         string              `json:"phone"`
	HouseholdAddr string              `json:"household_addr"`
	ResidenceAddr string              `json:"residence_addr"`
	Contacts      []contactJSON       `json:"contacts"`
	HealthNotes   string              `json:"health_notes"`
	DrugHistory   *drugHistoryRequest `json:"drug_history"`
	WorkerID      string              `json:"worker_id"`
	Measure       *measureRequest     `json:"measure"`
}

type drugHistoryRequest struct {
	Substances      []string `json:"substances"`
	FirstUseDate    string   `json:"first_use_date"`
	FirstRegistered string   `json:"first_registered"`
	PriorMeasures   string   `json:"prior_measures"`
	Notes           string   `json:"notes"`
}

func (d *drugHistoryRequest) toDomain() (casework.DrugHistory, error) {
	out := casework.DrugHistory{Substances: d.Substances, PriorMeasures: d.PriorMeasures, Notes: d.Notes}
	var err error
	if out.FirstUseDate, err = casework.ParseDateField("drug_history.first_use_date", d.FirstUseDate); err != nil {
		return out, err
	}
	out.FirstRegistered, err = casework.ParseDateField("drug_history.first_registered", d.FirstRegistered)
	return out, err
}

func toContacts(in []contactJSON) []casework.Contact {
	var out []casework.Contact
	for _, c := range in {
		out = append(out, casework.Contact{Name: c.Name, Relation: c.Relation, Phone: c.Phone})
	}
	return out
}

func (a *API) createPerson(w http.ResponseWriter, r *http.Request, q *req) error {
	var in personRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	birth, err := casework.ParseDateField("birth_date", in.BirthDate)
	if err != nil {
		return err
	}
	pi := casework.PersonInput{OrgID: in.OrgID, Name: in.Name, Sex: in.Sex, BirthDate: birth, Ethnicity: in.Ethnicity, Education: in.Education,
		MaritalStatus: in.MaritalStatus, Employment: in.Employment, IDNumber: in.IDNumber, Phone: in.Phone, HouseholdAddr: in.HouseholdAddr,
		ResidenceAddr: in.ResidenceAddr, Contacts: toContacts(in.Contacts), HealthNotes: in.HealthNotes, WorkerID: in.WorkerID}
	if in.DrugHistory != nil {
		if pi.DrugHistory, err = in.DrugHistory.toDomain(); err != nil {
			return err
		}
	}
	var m *casework.MeasureInput
	if in.Measure != nil {
		mi, err := in.Measure.toDomain()
		if err != nil {
			return err
		}
		mi.PlaceOrgID = in.OrgID
		m = &mi
	}
	p, err := a.DB.CreatePerson(r.Context(), q.Actor, pi, m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toPersonJSON(p, a.today()))
	return nil
}

func (a *API) getPerson(w http.ResponseWriter, r *http.Request, q *req) error {
	p, err := a.DB.GetPerson(r.Context(), q.Actor, r.PathValue("id"), strings.TrimSpace(r.URL.Query().Get("reason")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPersonJSON(p, a.today()))
	return nil
}

// personPatch is a change to a person; absent fields stay.
type personPatch struct {
	Name          *string             `json:"name"`
	Ethnicity     *string             `json:"ethnicity"`
	Education     *string             `json:"education"`
	MaritalStatus *string             `json:"marital_status"`
	Employment    *string             `json:"employment"`
	Phone         *string             `json:"phone"`
	HouseholdAddr *string             `json:"household_addr"`
	ResidenceAddr *string             `json:"residence_addr"`
	HealthNotes   *string             `json:"health_notes"`
	Contacts      *[]contactJSON      `json:"contacts"`
	DrugHistory   *drugHistoryRequest `json:"drug_history"`
}

func (p *personPatch) toUpdate() (store.PersonUpdate, error) {
	up := store.PersonUpdate{Name: p.Name, Ethnicity: p.Ethnicity, Education: p.Education, MaritalStatus: p.MaritalStatus,
		Employment: p.Employment, Phone: p.Phone, HouseholdAddr: p.HouseholdAddr, ResidenceAddr: p.ResidenceAddr, HealthNotes: p.HealthNotes}
	if p.Contacts != nil {
		c := toContacts(*p.Contacts)
		if c == nil {
			c = []casework.Contact{}
		}
		up.Contacts = &c
	}
	if p.DrugHistory != nil {
		d, err := p.DrugHistory.toDomain()
		if err != nil {
			return up, err
		}
		up.DrugHistory = &d
	}
	return up, nil
}

func (a *API) updatePerson(w http.ResponseWriter, r *http.Request, q *req) error {
	var in personPatch
	if err := decode(r, &in); err != nil {
		return err
	}
	up, err := in.toUpdate()
	if err != nil {
		return err
	}
	p, err := a.DB.UpdatePerson(r.Context(), q.Actor, r.PathValue("id"), up)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPersonJSON(p, a.today()))
	return nil
}

type revealRequest struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

type revealResponse struct {
	Value string `json:"value"`
}

func (a *API) revealPerson(w http.ResponseWriter, r *http.Request, q *req) error {
	var in revealRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	v, err := a.DB.Reveal(r.Context(), q.Actor, r.PathValue("id"), in.Field, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, revealResponse{Value: v})
	return nil
}
