package web

import (
	"net/http"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// Break-glass access (issue 15, PRODUCT §1, R36; store/breakglass.go): the
// request form with the user's own requests, the holding office's review
// list, and a section on the person page (persons_file.go).
func (c *Console) breakGlassRoutes(rt route) []httpx.Route {
	ask := httpx.Access{Perm: casework.PermReadPersons}
	review := httpx.Access{Perm: casework.PermReviewBreakGlass}
	grant := httpx.Access{Perm: casework.PermReviewBreakGlass, Target: "break_glass"}
	return []httpx.Route{
		rt("GET", "/break-glass", ask, c.breakGlassPage, "emergency access: request form and my requests"),
		rt("POST", "/break-glass", ask, c.breakGlassRequest, "request emergency (break-glass) access to one file"),
		rt("GET", "/break-glass/reviews", review, c.breakGlassReviews, "emergency accesses to files of my subtree, to review"),
		rt("POST", "/break-glass/{id}/review", grant, c.breakGlassReview, "review an emergency access"),
		rt("POST", "/break-glass/{id}/revoke", grant, c.breakGlassRevoke, "end an emergency access now"),
	}
}

// bgRow is one grant as a page shows it.
type bgRow struct {
	G                     *store.BreakGlass
	Starts, Ends, Revoked string
	Reviewed              string
	State, Verdict        string
	Active                bool
}

func bgRows(lang string, gs []*store.BreakGlass) []bgRow {
	loc := casework.LoadLocation("")
	f := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	out := make([]bgRow, 0, len(gs))
	for _, g := range gs {
		row := bgRow{G: g, Starts: f(g.StartsAt), Ends: f(g.EndsAt), Revoked: f(g.RevokedAt), Reviewed: f(g.ReviewedAt),
			State: bgLabel(lang, "breakglass.state_", g.State), Active: g.State == "active"}
		if g.Verdict != "" {
			row.Verdict = bgLabel(lang, "breakglass.verdict_", g.Verdict)
		}
		out = append(out, row)
	}
	return out
}

type breakGlassData struct {
	Limits casework.BreakGlassLimits
	Mine   []bgRow
	Form   map[string]string
	Err    *formError
}

func (c *Console) breakGlassForm(w http.ResponseWriter, r *http.Request, q *req, d breakGlassData, status int) error {
	lim, err := c.DB.BreakGlassLimits(r.Context(), q.Actor)
	if err != nil {
		return err // a role the policy does not allow: 403
	}
	d.Limits = lim
	gs, err := c.DB.ListMyBreakGlass(r.Context(), q.Actor)
	if err != nil {
		return err
	}
	d.Mine = bgRows(q.Lang, gs)
	if d.Form == nil {
		d.Form = map[string]string{"person_id": r.URL.Query().Get("person_id")}
	}
	c.render(w, r, q, status, "break_glass", d)
	return nil
}

func (c *Console) breakGlassPage(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.breakGlassForm(w, r, q, breakGlassData{}, http.StatusOK)
}

func (c *Console) breakGlassRequest(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, "person_id", "reason", "hours")
	if err != nil {
		return err
	}
	_, err = c.DB.RequestBreakGlass(r.Context(), q.Actor, casework.BreakGlassInput{PersonID: f["person_id"], Reason: f["reason"], Hours: f["hours"]})
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.breakGlassForm(w, r, q, breakGlassData{Form: f, Err: fe}, http.StatusBadRequest)
	}
	// The same answer whether or not the id names a file (store).
	return redirect(w, r, "/break-glass", "breakglass_requested")
}

type breakGlassReviewData struct {
	Pending bool
	Rows    []bgRow
	Err     *formError
	ErrID   string
}

func (c *Console) breakGlassReviewPage(w http.ResponseWriter, r *http.Request, q *req, d breakGlassReviewData, status int) error {
	gs, err := c.DB.ListBreakGlassReviews(r.Context(), q.Actor, store.BreakGlassFilter{Pending: d.Pending})
	if err != nil {
		return err
	}
	d.Rows = bgRows(q.Lang, gs)
	c.render(w, r, q, status, "break_glass_reviews", d)
	return nil
}

func (c *Console) breakGlassReviews(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.breakGlassReviewPage(w, r, q, breakGlassReviewData{Pending: r.URL.Query().Get("pending") == "1"}, http.StatusOK)
}

// breakGlassBack is where a review or revoke returns: the person page when
// it came from there, else the review list.
func breakGlassBack(r *http.Request) string {
	if next := r.PostFormValue("next"); strings.HasPrefix(next, "/persons/") {
		return safeNext(next)
	}
	return "/break-glass/reviews"
}

func (c *Console) breakGlassFailed(w http.ResponseWriter, r *http.Request, q *req, err error) error {
	fe, ok := toFormError(err, q.Lang)
	if !ok {
		return err
	}
	return c.breakGlassReviewPage(w, r, q, breakGlassReviewData{Err: fe, ErrID: r.PathValue("id")}, http.StatusBadRequest)
}

func (c *Console) breakGlassReview(w http.ResponseWriter, r *http.Request, q *req) error {
	in := casework.BreakGlassReviewInput{Verdict: r.PostFormValue("verdict"), Note: r.PostFormValue("note")}
	if err := c.DB.ReviewBreakGlass(r.Context(), q.Actor, r.PathValue("id"), in); err != nil {
		return c.breakGlassFailed(w, r, q, err)
	}
	return redirect(w, r, breakGlassBack(r), "breakglass_reviewed")
}

func (c *Console) breakGlassRevoke(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := c.DB.RevokeBreakGlass(r.Context(), q.Actor, r.PathValue("id"), r.PostFormValue("note")); err != nil {
		return c.breakGlassFailed(w, r, q, err)
	}
	return redirect(w, r, breakGlassBack(r), "breakglass_revoked")
}

// fileBreakGlass is the person page's section: the grants on the file
// (every one for its own office and street, the reader's own under a
// grant), and whether the reader may review and revoke them here.
type fileBreakGlass struct {
	Rows      []bgRow
	Under     string // the reader reads under a grant ending then
	CanReview bool
}

func (c *Console) fileBreakGlass(r *http.Request, q *req, p *casework.Person) (*fileBreakGlass, error) {
	gs, err := c.DB.ListPersonBreakGlass(r.Context(), q.Actor, p.ID)
	if err != nil {
		return nil, err
	}
	fb := &fileBreakGlass{Rows: bgRows(q.Lang, gs), CanReview: p.Access.BreakGlass == "" && q.Actor.Can(casework.PermReviewBreakGlass, p.OrgPath)}
	for _, row := range fb.Rows {
		if row.G.ID == p.Access.BreakGlass {
			fb.Under = row.Ends
		}
	}
	if len(fb.Rows) == 0 {
		return nil, nil
	}
	return fb, nil
}

// breakGlassOffer returns, for a "not found" answer to a person page, the
// id to prefill the emergency-access form with when the user's roles may
// break glass. It is offered alike for every id, existing or not.
func (c *Console) breakGlassOffer(r *http.Request, q *req, status int) string {
	if status != http.StatusNotFound || q.Actor == nil {
		return ""
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/persons/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	in := casework.BreakGlassInput{PersonID: id, Reason: "-"}
	if _, err := in.Validate(casework.BreakGlassLimits{DefaultHours: 1, MaxHours: 1}); err != nil {
		return ""
	}
	if _, err := c.DB.BreakGlassLimits(r.Context(), q.Actor); err != nil {
		return ""
	}
	return in.PersonID
}

// bgLabel words a state or verdict through the catalog (keys
// breakglass.state_* and breakglass.verdict_*).
func bgLabel(lang, prefix, v string) string { return i18n.T(lang, prefix+v) }
