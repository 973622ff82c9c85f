package casework

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Person is one file (一人一档). Sensitive values (ID number, phone,
// addresses, contacts, health notes, drug history) are held decrypted here
// only when the reader may see them; otherwise they are empty and the
// masked forms are set (R36).
type Person struct {
	ID             string
	OrgID          string // current place of execution
	OrgName        string
	OrgPath        string
	Name           string
	Sex            string // "M" or "F"
	BirthDate      Date
	Ethnicity      string
	Education      string
	MaritalStatus  string
	Employment     string
	IDNumber       string // full; only after a reveal
	IDMasked       string
	Phone          string // full; only after a reveal
	PhoneMasked    string
	HouseholdAddr  string // 户籍地
	ResidenceAddr  string // 居住地
	Contacts       []Contact
	HealthNotes    string
	DrugHistory    DrugHistory
	PhotoSHA256    string
	Status         Status
	MeasureKind    MeasureKind
	WorkerID       string
	WorkerName     string
	ReportDeadline Date
	TermEnd        Date
	ReleasedOn     Date
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Special are the R17 facts (sealed; opened for sensitive readers).
	Special SpecialFacts

	// Access is what the reader may do with this file.
	Access PersonAccess
}

// Contact is a family or emergency contact.
type Contact struct {
	Name     string `json:"name"`
	Relation string `json:"relation"`
	Phone    string `json:"phone"`
}

// DrugHistory is the person's drug history (sensitive, encrypted at rest).
type DrugHistory struct {
	Substances      []string `json:"substances,omitempty"`
	FirstUseDate    Date     `json:"first_use_date"`
	FirstRegistered Date     `json:"first_registered"`
	PriorMeasures   string   `json:"prior_measures,omitempty"` // incl. 强制隔离戒毒
	Notes           string   `json:"notes,omitempty"`
}

// PersonAccess is what one actor may do with one person file.
type PersonAccess struct {
	Read      bool
	Write     bool      // edit the file, add measures and documents, make transitions
	Sensitive bool      // see sensitive fields (masked) and reveal them with a reason
	Minimal   bool      // a counsellor's minimal profile: no contact details, no drug history
	Transfer  bool      // start, accept or refuse a transfer of place (office, lead)
	Approve   bool      // approve corrections of archived files (lead)
	Until     time.Time // non-zero: a past place of execution, which sees only what happened before
	Incoming  bool      // the file is being transferred to the reader's subtree
	// BreakGlass is the id of the break-glass grant the reader opens the
	// file under (breakglass.go): read-only, audited with the grant id.
	BreakGlass string
}

// Permissions over person files (see Access rules in PersonAccessFor).
const (
	PermWritePersons   Perm = "persons.write"
	PermSensitive      Perm = "persons.sensitive"
	PermTransfer       Perm = "persons.transfer"
	PermApproveCorrect Perm = "persons.approve"
	PermImport         Perm = "persons.import"
)

// PersonFacts are what decides access to one file, loaded by the store.
type PersonFacts struct {
	OrgPath      string   // current place of execution
	WorkerID     string   // responsible worker
	GroupUserIDs []string // staff in the working group of the measure in force
	Counsellors  []string // counsellors a lead assigned to the person (psych.go)
	IncomingPath string   // org path of a pending transfer's destination
	PastCustody  []PastCustody
}

// PastCustody is a place that was responsible for the person until To.
type PastCustody struct {
	OrgPath string
	To      time.Time
}

// PersonAccessFor works out what the actor may do with a file (PRODUCT §1):
// office reads all in its subtree and handles transfers; a lead reads and
// writes in its subtree and approves corrections; a worker reads its
// community and writes its own caseload; police read; a counsellor reads a
// minimal profile of persons whose working group it belongs to; admin and
// auditor read nothing. During a transfer the receiving side reads the
// whole file; a past place reads what happened before it handed over (R11).
func PersonAccessFor(a *Actor, f PersonFacts) PersonAccess {
	var acc PersonAccess
	if a == nil {
		return acc
	}
	if a.System {
		return PersonAccess{Read: true, Write: true, Sensitive: true, Transfer: true, Approve: true}
	}
	for _, g := range a.Grants {
		here := f.OrgPath != "" && strings.HasPrefix(f.OrgPath, g.OrgPath)
		incoming := f.IncomingPath != "" && strings.HasPrefix(f.IncomingPath, g.OrgPath)
		switch g.Role {
		case RoleOffice, RoleLead, RolePolice, RoleWorker:
			if here || incoming {
				acc.Read, acc.Sensitive = true, true
				acc.Incoming = acc.Incoming || (incoming && !here)
			}
			if here && (g.Role == RoleLead || (g.Role == RoleWorker && f.WorkerID == a.UserID)) {
				acc.Write = true
			}
			if (here || incoming) && (g.Role == RoleOffice || g.Role == RoleLead) {
				acc.Transfer = true
			}
			if here && g.Role == RoleLead {
				acc.Approve = true
			}
		case RoleCounsellor:
			if here && f.CounselledBy(a.UserID) {
				acc.Read = true
			}
		}
	}
	if acc.Read {
		acc.Minimal = !acc.Sensitive
		return acc
	}
	// A past place of execution: read-only, and only up to the hand-over.
	for _, c := range f.PastCustody {
		for _, g := range a.Grants {
			if RoleHas(g.Role, PermSensitive) && strings.HasPrefix(c.OrgPath, g.OrgPath) && c.To.After(acc.Until) {
				acc.Read, acc.Sensitive, acc.Until = true, true, c.To
			}
		}
	}
	return acc
}

// PersonInput is what a user supplies to create or edit a person.
type PersonInput struct {
	OrgID         string
	Name          string
	Sex           string
	BirthDate     Date
	Ethnicity     string
	Education     string
	MaritalStatus string
	Employment    string
	IDNumber      string
	Phone         string
	HouseholdAddr string
	ResidenceAddr string
	Contacts      []Contact
	HealthNotes   string
	DrugHistory   DrugHistory
	WorkerID      string
}

// Validate checks the input and returns the parsed ID number; birth date and
// sex are taken from the number when not given, and cross-checked when given.
func (in *PersonInput) Validate(today time.Time) (IDNumber, error) {
	in.Phone = normalizePhone(in.Phone)
	var errs FieldErrors // every bad field at once (issue 18 item 9)
	if name, err := ValidName("name", in.Name, 50); err != nil {
		errs = append(errs, err.(*Error))
	} else {
		in.Name = name
	}
	if in.OrgID == "" {
		errs = append(errs, Invalid("org_id", "请选择执行地（社区/单位）", "choose the place of execution (community or unit)"))
	}
	id, err := ParseIDNumber(in.IDNumber, today)
	if err == nil {
		err = CrossCheckID(id, in.BirthDate, in.Sex)
	}
	if err != nil {
		if err := errs.Add(err); err != nil {
			return IDNumber{}, err
		}
	} else {
		in.IDNumber = id.Number
		if in.BirthDate.IsZero() {
			in.BirthDate = id.Birth
		}
		if in.Sex == "" {
			in.Sex = id.Sex
		}
	}
	if in.Phone != "" && (len(in.Phone) < 7 || len(in.Phone) > 20 || strings.Trim(in.Phone, "+0123456789-") != "") {
		errs = append(errs, Invalid("phone", "电话号码格式不正确", "the phone number is not valid"))
	} else if len(in.Phone) == 11 && in.Phone[0] != '1' {
		errs = append(errs, Invalid("phone", "11位手机号应以1开头", "an 11-digit mobile number starts with 1"))
	}
	for i := range in.Contacts {
		c := &in.Contacts[i]
		c.Name, c.Relation, c.Phone = strings.TrimSpace(c.Name), strings.TrimSpace(c.Relation), normalizePhone(c.Phone)
		if c.Name == "" && !errs.Has("contacts") {
			errs = append(errs, Invalid("contacts", "第%d个联系人缺少姓名", "contact %d has no name", i+1))
		} else if _, err := ValidName("contacts", c.Name, 50); err != nil && !errs.Has("contacts") {
			e := err.(*Error)
			errs = append(errs, &Error{Code: EINVALID, Field: "contacts", ZH: fmt.Sprintf("第%d个联系人：%s", i+1, e.ZH), EN: fmt.Sprintf("contact %d: %s", i+1, e.EN)})
		}
	}
	for _, f := range []struct {
		name, zh, en, v string
	}{{"household_addr", "户籍地", "the household address", in.HouseholdAddr}, {"residence_addr", "居住地", "the residence address", in.ResidenceAddr},
		{"health_notes", "健康情况", "the health notes", in.HealthNotes}} {
		if utf8.RuneCountInString(f.v) > 2000 {
			errs = append(errs, &Error{Code: EINVALID, Field: f.name, ZH: f.zh + "不能超过2000字", EN: f.en + " must be at most 2000 characters"})
		} else if err := CheckText(f.name, f.v, 2000); err != nil {
			errs = append(errs, err.(*Error))
		}
	}
	if err := errs.Err(); err != nil {
		return IDNumber{}, err
	}
	return id, nil
}

// normalizePhone drops spaces and dashes a user may type.
func normalizePhone(s string) string {
	return strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(s))
}

// NormalizePhone is the form phone numbers are indexed and searched in.
func NormalizePhone(s string) string { return normalizePhone(s) }

// NameGrams returns the unigrams and bigrams of a name, for partial search.
func NameGrams(name string) []string {
	r := []rune(strings.TrimSpace(name))
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for i := range r {
		add(string(r[i]))
		if i+1 < len(r) {
			add(string(r[i : i+2]))
		}
	}
	return out
}

// WorkingGroupRoles are the statutory roles of a working group (R7); other
// local roles (e.g. the factory's security head) are free text.
var WorkingGroupRoles = []string{"worker", "police", "medical", "family", GroupRoleGuardian, "volunteer"}

// SpecialOn is R17 for the person on day (the minor flag from the birth
// date; pregnancy and nursing from the recorded facts, if the reader sees
// them).
func (p *Person) SpecialOn(day Date) SpecialStatus { return SpecialOn(p.Special, p.BirthDate, day) }
