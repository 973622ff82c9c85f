package casework

import (
	"encoding/hex"
	"fmt"
	"sort"
)

// Verification of draws (kangfu verify-draws). It needs only what is
// published once periods have ended — the commitments, the revealed seeds
// and the draws with their windows — so anyone holding an export can run it.

// RevealedSeed is one seed commitment as published: Seed is the hex seed,
// empty while the period has not ended.
type RevealedSeed struct {
	OrgID  string `json:"org_id"`
	Period string `json:"period"`
	Hash   string `json:"hash"`
	Seed   string `json:"seed,omitempty"`
}

// DrawRecord is one stored draw as published.
type DrawRecord struct {
	ID           string `json:"id"`
	PersonID     string `json:"person_id"`
	Kind         string `json:"kind"`
	SeedOrgID    string `json:"seed_org_id"`
	IntervalFrom Date   `json:"interval_from"`
	WinFrom      Date   `json:"win_from"`
	WinTo        Date   `json:"win_to"`
	Excluded     string `json:"excluded"`
	Day          Date   `json:"day"`
}

// DrawReport is the outcome of a verification.
type DrawReport struct {
	SeedsChecked int
	DrawsChecked int
	DrawsPending int      // windows with a period not yet revealed
	Problems     []string // one line per altered seed or draw, naming it
	AlteredSeeds []string // org/period
	AlteredDraws []string // draw ids
}

// OK reports whether nothing was found altered.
func (r *DrawReport) OK() bool { return len(r.Problems) == 0 }

// VerifyDrawSet checks every revealed seed against its commitment, then
// recomputes every scheduled and surprise draw whose window lies wholly in
// revealed periods, and names each seed and draw that does not match. A
// draw whose seed was altered is reported as well (it is recomputed from
// the altered seed only if that seed still matches its hash, so it is
// counted pending).
func VerifyDrawSet(seeds []RevealedSeed, draws []DrawRecord) *DrawReport {
	rep := &DrawReport{}
	good := map[string][]byte{} // org|period → seed
	for _, s := range seeds {
		if s.Seed == "" {
			continue
		}
		rep.SeedsChecked++
		raw, err := hex.DecodeString(s.Seed)
		if err != nil || len(raw) != SeedSize || SeedHash(raw) != s.Hash {
			rep.AlteredSeeds = append(rep.AlteredSeeds, s.OrgID+"/"+s.Period)
			rep.Problems = append(rep.Problems, fmt.Sprintf("seed %s/%s does not match its commitment %s", s.OrgID, s.Period, s.Hash))
			continue
		}
		good[s.OrgID+"|"+s.Period] = raw
	}
	sort.SliceStable(draws, func(i, j int) bool { return draws[i].SeedOrgID < draws[j].SeedOrgID })
	var scorer *Scorer
	org := "\x00"
	for _, d := range draws {
		if d.Kind != DrawScheduled && d.Kind != DrawSurprise {
			continue
		}
		if d.SeedOrgID != org {
			org = d.SeedOrgID
			o := org
			scorer = NewScorer(func(p string) ([]byte, bool) { s, ok := good[o+"|"+p]; return s, ok })
		}
		ex, err := ParseSpans(d.Excluded)
		if err != nil {
			rep.AlteredDraws = append(rep.AlteredDraws, d.ID)
			rep.Problems = append(rep.Problems, fmt.Sprintf("draw %s (person %s): unreadable exclusions %q", d.ID, d.PersonID, d.Excluded))
			continue
		}
		if d.Day.Before(d.WinFrom) || d.Day.After(d.WinTo) {
			rep.AlteredDraws = append(rep.AlteredDraws, d.ID)
			rep.Problems = append(rep.Problems, fmt.Sprintf("draw %s (person %s, %s): day %s outside its window %s..%s", d.ID, d.PersonID, d.Kind, d.Day, d.WinFrom, d.WinTo))
			continue
		}
		spec := DrawSpec{PersonID: d.PersonID, Purpose: d.Kind, IntervalFrom: d.IntervalFrom, Window: DateSpan{d.WinFrom, d.WinTo}, Excluded: ex}
		match, pending := scorer.VerifyDraw(spec, d.Day)
		switch {
		case pending:
			rep.DrawsPending++
		case !match:
			rep.DrawsChecked++
			want, _, _ := scorer.Draw(spec)
			rep.AlteredDraws = append(rep.AlteredDraws, d.ID)
			rep.Problems = append(rep.Problems, fmt.Sprintf("draw %s (person %s, %s, interval from %s): stored day %s, the seeds give %s",
				d.ID, d.PersonID, d.Kind, d.IntervalFrom, d.Day, want))
		default:
			rep.DrawsChecked++
		}
	}
	return rep
}
