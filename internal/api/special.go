package api

import (
	"net/http"

	"kangfu/internal/casework"
)

// specialJSON is R17 for a person: the recorded facts and what applies
// today (the minor flag comes from the birth date).
type specialJSON struct {
	Pregnant                bool           `json:"pregnant"`
	ExpectedDelivery        *casework.Date `json:"expected_delivery,omitempty"`
	DeliveredOn             *casework.Date `json:"delivered_on,omitempty"`
	InfantBirth             *casework.Date `json:"infant_birth,omitempty"`
	Note                    string         `json:"note,omitempty"`
	PregnantNow             bool           `json:"pregnant_now"`
	NursingNow              bool           `json:"nursing_now"`
	MinorNow                bool           `json:"minor_now"`
	NotSubjectToCompulsory  bool           `json:"not_subject_to_compulsory"`
	StrengthenedSupervision bool           `json:"strengthened_supervision"`
}

func datePtr(d casework.Date) *casework.Date {
	if d.IsZero() {
		return nil
	}
	return &d
}

func toSpecialJSON(p *casework.Person, today casework.Date) *specialJSON {
	if !p.Access.Sensitive || !p.Access.Until.IsZero() {
		return nil
	}
	s := p.SpecialOn(today)
	f := p.Special
	return &specialJSON{Pregnant: f.Pregnant, ExpectedDelivery: datePtr(f.ExpectedDelivery), DeliveredOn: datePtr(f.DeliveredOn),
		InfantBirth: datePtr(f.InfantBirth), Note: f.Note, PregnantNow: s.Pregnant, NursingNow: s.Nursing, MinorNow: s.Minor,
		NotSubjectToCompulsory: s.NotSubjectToCompulsory(), StrengthenedSupervision: s.Any()}
}

type specialRequest struct {
	Pregnant         bool          `json:"pregnant"`
	ExpectedDelivery casework.Date `json:"expected_delivery"`
	DeliveredOn      casework.Date `json:"delivered_on"`
	InfantBirth      casework.Date `json:"infant_birth"`
	Note             string        `json:"note"`
}

// setSpecial replaces the person's R17 facts (an empty body clears them).
func (a *API) setSpecial(w http.ResponseWriter, r *http.Request, q *req) error {
	var in specialRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.DB.SetSpecial(r.Context(), q.Actor, r.PathValue("id"), casework.SpecialFacts(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPersonJSON(p, a.today()))
	return nil
}
