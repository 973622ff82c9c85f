package casework

import "strings"

// Retention, sealing and the person's own data (issue 15; R38, R39).
const (
	PermStatutoryQuery Perm = "persons.statutory_query" // record a statutory query and read the sealed file for it (R38)
	PermOwnDataExport  Perm = "persons.own_data_export" // export a person's own data on request (PIPL Art 45)
)

// StatutoryQueryInput is a statutory query of a sealed file (R38): the
// state organ or unit that asks, the legal basis (law and article), its
// document number and why. IDNumber identifies the sealed file.
type StatutoryQueryInput struct {
	IDNumber   string
	Organ      string
	LegalBasis string
	DocumentNo string
	Reason     string
}

// Check names every missing or bad field at once.
func (in *StatutoryQueryInput) Check() error {
	in.IDNumber, in.Organ = strings.TrimSpace(in.IDNumber), strings.TrimSpace(in.Organ)
	in.LegalBasis, in.DocumentNo, in.Reason = strings.TrimSpace(in.LegalBasis), strings.TrimSpace(in.DocumentNo), strings.TrimSpace(in.Reason)
	var fe FieldErrors
	if in.IDNumber == "" {
		fe.Add(Invalid("id_number", "请填写被查询人的身份证号", "enter the ID number of the person asked about"))
	}
	req := func(field, v string, missing *Error, max int) {
		if v == "" {
			fe.Add(missing)
			return
		}
		fe.Add(CheckText(field, v, max))
	}
	req("organ", in.Organ, Invalid("organ", "请填写查询机关", "enter the organ that asks"), 200)
	req("legal_basis", in.LegalBasis, Invalid("legal_basis", "请填写法律依据（法律名称和条款）", "enter the legal basis (law and article)"), 300)
	req("document_no", in.DocumentNo, Invalid("document_no", "请填写查询文书编号", "enter the number of the query document"), 100)
	req("reason", in.Reason, Invalid("reason", "请填写查询事由", "enter the reason for the query"), MaxReason)
	return fe.Err()
}

// ReopenInput reopens a sealed file for a new measure (R38; 解除封存):
// the legal basis is the new decision's document number (e.g. a 社区戒毒
// decision), the reason says why the file is needed again.
type ReopenInput struct {
	LegalBasis string
	Reason     string
}

// Check names every missing or bad field at once.
func (in *ReopenInput) Check() error {
	in.LegalBasis, in.Reason = strings.TrimSpace(in.LegalBasis), strings.TrimSpace(in.Reason)
	var fe FieldErrors
	if in.LegalBasis == "" {
		fe.Add(Invalid("legal_basis", "请填写法定依据（新的决定书文号）", "enter the legal basis (the new decision's document number)"))
	} else {
		fe.Add(CheckText("legal_basis", in.LegalBasis, 300))
	}
	if in.Reason == "" {
		fe.Add(Invalid("reason", "请填写解除封存的事由", "enter the reason for reopening the file"))
	} else {
		fe.Add(CheckText("reason", in.Reason, MaxReason))
	}
	return fe.Err()
}
