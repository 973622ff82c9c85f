package web

// persons_rules.go: what the person file shows of issue 10's rules — R16
// (the three years without relapse after release, the mark, relapses), R7
// (the working group's gaps and the reason for no family member) and R17
// (pregnancy, nursing, minors) — and the forms that record them.

import (
	"net/http"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// rulesData is the part of the file page these rules add.
type rulesData struct {
	SpecialLabels []string // R17 flags that apply today
	SpecialEffect string
	CanSpecial    bool
	SpecialForm   casework.SpecialFacts
	Follow        *followView // R16, for a released person
	GroupGaps     []string    // R7: labels of the missing members
	FamilyReason  string
}

type followView struct {
	Until    string // the date three years without relapse are reached
	Marked   string // the mark, once set
	Last     string // the latest relapse after release
	Relapses []relapseRow
}

type relapseRow struct{ Day, Source, Detail string }

func fileRules(lang string, p *casework.Person, ms []*store.Measure, today casework.Date, canWrite bool) rulesData {
	var d rulesData
	sp := p.SpecialOn(today)
	d.SpecialLabels, d.SpecialEffect = sp.Labels(lang), sp.Effect(lang)
	d.CanSpecial = p.Access.Write && p.Access.Sensitive && p.Access.Until.IsZero()
	d.SpecialForm = p.Special
	for _, m := range ms {
		if m.InForce {
			var roles []string
			for _, g := range m.Group {
				roles = append(roles, g.Role)
			}
			for _, g := range casework.GroupGaps(roles, m.GroupFamilyReason) {
				d.GroupGaps = append(d.GroupGaps, casework.GroupRoleLabel(g, lang))
			}
			d.FamilyReason = m.GroupFamilyReason
			break
		}
	}
	if len(ms) > 0 && !ms[0].InForce && ms[0].Status == casework.StatusReleased && p.Access.Sensitive {
		m := ms[0]
		f := &followView{Until: m.NoRelapseOn.String(), Marked: m.NoRelapseMarkedOn.String(), Last: m.LastRelapse.String()}
		for _, r := range m.Relapses {
			f.Relapses = append(f.Relapses, relapseRow{Day: r.Day.String(), Source: r.SourceLabel(lang), Detail: r.Detail})
		}
		d.Follow = f
	}
	return d
}

// specialSave records the R17 facts from the file's form.
func (c *Console) specialSave(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	f := casework.SpecialFacts{Pregnant: r.PostFormValue("pregnant") == "1", Note: r.PostFormValue("note")}
	var parse casework.FieldErrors
	for _, x := range []struct {
		field string
		dst   *casework.Date
	}{{"expected_delivery", &f.ExpectedDelivery}, {"delivered_on", &f.DeliveredOn}, {"infant_birth", &f.InfantBirth}} {
		d, perr := casework.ParseDateField(x.field, strings.TrimSpace(r.PostFormValue(x.field)))
		*x.dst = d
		parse.Add(perr)
	}
	// A bad date is reported with the rest of the form's problems (issue 18
	// item 9; the sex is checked once the dates parse).
	err := withChecks(parse, func() error { return f.Validate("F", c.today()) })
	if err == nil {
		_, err = c.DB.SetSpecial(r.Context(), q.Actor, id, f)
	}
	if err != nil {
		return c.formFailed(w, r, q, id, "special", err)
	}
	return redirect(w, r, "/persons/"+id+"#profile", "saved")
}
