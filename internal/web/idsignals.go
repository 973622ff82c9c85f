package web

// idsignals.go: the identity spot checks (issue 17 §4) — the side-by-side
// look at a sampled check-in (reference photo | selfie | the phone's score
// | liveness) with the console's own recomputation (face.js posts
// console_score) and the worker's finding — and the page of identity
// signals (issue 17 §5: new device, mock location, impossible speed, the
// same face on two persons, unanswered in-app challenges). Nothing here
// acts on a person (R32).

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

func (c *Console) idSignalRoutes(rt route) []httpx.Route {
	sens := httpx.Access{Perm: casework.PermSensitive}
	item := httpx.Access{Perm: casework.PermSensitive, Target: "spot_check"}
	return []httpx.Route{
		rt("GET", "/identity/signals", sens, c.identitySignals, "identity signals of my persons: new devices, mock locations, impossible speeds, the same face, unanswered timed check-ins"),
		rt("GET", "/spot-checks/{id}", item, c.spotCheck, "a sampled check-in side by side with the reference photo (audited)"),
		rt("POST", "/spot-checks/{id}/console-score", item, c.spotCheckScore, "store the score the console computed and flag a disagreement with the phone's"),
		rt("POST", "/spot-checks/{id}/look", item, c.spotCheckLook, "record what the worker found on a sampled check-in"),
	}
}

type spotCheckPage struct {
	P          *casework.Person
	It         *store.SpotItem
	When       string
	LookedWhen string
	Phone      string // the phone's score, "" when none
	Console    string
	Tamper     string // why the score looks altered, in the page's language
	Threshold  string
	Looks      []casework.SpotLook
	Err        *formError
}

func fmtScore(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', 2, 64)
}

func (c *Console) spotCheckPage(w http.ResponseWriter, r *http.Request, q *req, status int, fe *formError) error {
	it, err := c.DB.SpotCheck(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := c.DB.GetPerson(r.Context(), q.Actor, it.PersonID, "")
	if err != nil {
		return err
	}
	bj := casework.LoadLocation("")
	d := spotCheckPage{P: p, It: it, When: it.TakenAt.In(bj).Format("2006-01-02 15:04"), LookedWhen: it.LookedAt.In(bj).Format("2006-01-02 15:04"),
		Phone: fmtScore(it.PhoneScore), Console: fmtScore(it.ConsoleScore), Tamper: tamperText(it.TamperReason, q.Lang),
		Looks: []casework.SpotLook{casework.LookSame, casework.LookNotSame, casework.LookUnclear}, Err: fe}
	c.render(w, r, q, status, "spot_check", d)
	return nil
}

func (c *Console) spotCheck(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.spotCheckPage(w, r, q, http.StatusOK, nil)
}

// spotCheckScore takes console_score from the recompute hook (face.js,
// a same-origin fetch) or a plain form.
func (c *Console) spotCheckScore(w http.ResponseWriter, r *http.Request, q *req) error {
	score, err := casework.ParseConsoleScore(r.FormValue("console_score"))
	if err == nil {
		_, err = c.DB.RecordConsoleScore(r.Context(), q.Actor, r.PathValue("id"), score)
	}
	if err != nil {
		if fe, ok := toFormError(err, q.Lang); ok {
			return c.spotCheckPage(w, r, q, http.StatusUnprocessableEntity, fe.sent("score", r))
		}
		return err
	}
	if r.Header.Get("HX-Request") != "" {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return redirect(w, r, "/spot-checks/"+r.PathValue("id"), "")
}

func (c *Console) spotCheckLook(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := c.DB.MarkSpotCheck(r.Context(), q.Actor, r.PathValue("id"), r.FormValue("looked"), r.FormValue("note")); err != nil {
		if fe, ok := toFormError(err, q.Lang); ok {
			return c.spotCheckPage(w, r, q, http.StatusUnprocessableEntity, fe.sent("look", r))
		}
		return err
	}
	return redirect(w, r, "/spot-checks/"+r.PathValue("id"), "")
}

type signalRow struct {
	store.Signal
	Label, Evidence, When string
}

type challengeRow struct {
	store.Challenge
	Issued, Deadline string
}

func (c *Console) identitySignals(w http.ResponseWriter, r *http.Request, q *req) error {
	days := 30
	if n, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && n >= 1 && n <= 365 {
		days = n
	}
	sigs, err := c.DB.IdentitySignals(r.Context(), q.Actor, days)
	if err != nil {
		return err
	}
	chs, err := c.DB.UnansweredChallenges(r.Context(), q.Actor, days)
	if err != nil {
		return err
	}
	bj := casework.LoadLocation("")
	f := func(t time.Time) string { return t.In(bj).Format("2006-01-02 15:04") }
	var rows []signalRow
	for _, s := range sigs {
		rows = append(rows, signalRow{Signal: s, Label: store.SignalLabel(s.Kind, q.Lang), Evidence: s.Evidence(q.Lang), When: f(s.At)})
	}
	var cr []challengeRow
	for _, ch := range chs {
		cr = append(cr, challengeRow{Challenge: ch, Issued: f(ch.Issued), Deadline: f(ch.Deadline)})
	}
	c.render(w, r, q, http.StatusOK, "identity_signals", map[string]any{"Signals": rows, "Challenges": cr, "Days": days})
	return nil
}

// tamperText is the half of a stored "zh / en" tamper reason in lang.
func tamperText(reason, lang string) string {
	zh, en, _ := strings.Cut(reason, " / ")
	if lang == "en" {
		return en
	}
	return zh
}
