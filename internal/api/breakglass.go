package api

import (
	"net/http"
	"strconv"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// Break-glass access (issue 15, PRODUCT §1, R36; store/breakglass.go).
func (a *API) breakGlassRoutes(rt route) []httpx.Route {
	ask := httpx.Access{Perm: casework.PermReadPersons}
	review := httpx.Access{Perm: casework.PermReviewBreakGlass}
	grant := httpx.Access{Perm: casework.PermReviewBreakGlass, Target: "break_glass"}
	person := httpx.Access{Perm: casework.PermReadPersons, Target: "person"}
	return []httpx.Route{
		rt("POST", "/api/v1/break-glass", ask, a.requestBreakGlass, "break-glass access: read one file outside one's subtree at once, read-only, for a few hours, with a reason"),
		rt("GET", "/api/v1/break-glass", ask, a.myBreakGlass, "my break-glass requests"),
		rt("GET", "/api/v1/break-glass/reviews", review, a.breakGlassReviews, "break-glass grants on files of my subtree, to review"),
		rt("POST", "/api/v1/break-glass/{id}/review", grant, a.reviewBreakGlass, "review a break-glass grant: justified or unjustified"),
		rt("POST", "/api/v1/break-glass/{id}/revoke", grant, a.revokeBreakGlass, "end a break-glass grant now"),
		rt("GET", "/api/v1/persons/{id}/break-glass", person, a.personBreakGlass, "break-glass grants on a file"),
	}
}

type breakGlassJSON struct {
	ID         string     `json:"id"`
	PersonID   string     `json:"person_id"`
	PersonName string     `json:"person_name,omitempty"`
	HolderOrg  string     `json:"holder_org_name,omitempty"`
	UserName   string     `json:"user_name,omitempty"`
	FromOrg    string     `json:"from_org_name"`
	Reason     string     `json:"reason"`
	Hours      int        `json:"hours"`
	StartsAt   time.Time  `json:"starts_at"`
	EndsAt     time.Time  `json:"ends_at"`
	State      string     `json:"state"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	RevokedBy  string     `json:"revoked_by,omitempty"`
	RevokeNote string     `json:"revoke_note,omitempty"`
	Verdict    string     `json:"verdict,omitempty"`
	ReviewedAt *time.Time `json:"reviewed_at,omitempty"`
	ReviewedBy string     `json:"reviewed_by,omitempty"`
	ReviewNote string     `json:"review_note,omitempty"`
}

func toBreakGlassJSON(g *store.BreakGlass) breakGlassJSON {
	return breakGlassJSON{ID: g.ID, PersonID: g.PersonID, PersonName: g.PersonName, HolderOrg: g.HolderOrg, UserName: g.UserName, FromOrg: g.FromOrg,
		Reason: g.Reason, Hours: g.Hours, StartsAt: g.StartsAt.UTC(), EndsAt: g.EndsAt.UTC(), State: g.State, RevokedAt: timePtr(g.RevokedAt),
		RevokedBy: g.RevokedBy, RevokeNote: g.RevokeNote, Verdict: g.Verdict, ReviewedAt: timePtr(g.ReviewedAt), ReviewedBy: g.ReviewedBy, ReviewNote: g.ReviewNote}
}

func breakGlassList(gs []*store.BreakGlass) map[string]any {
	out := make([]breakGlassJSON, 0, len(gs))
	for _, g := range gs {
		out = append(out, toBreakGlassJSON(g))
	}
	return map[string]any{"grants": out}
}

type breakGlassRequest struct {
	PersonID string `json:"person_id"`
	Reason   string `json:"reason"`
	Hours    int    `json:"hours"` // 0: the policy's default
}

func (a *API) requestBreakGlass(w http.ResponseWriter, r *http.Request, q *req) error {
	var in breakGlassRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	bi := casework.BreakGlassInput{PersonID: in.PersonID, Reason: in.Reason}
	if in.Hours != 0 {
		bi.Hours = strconv.Itoa(in.Hours)
	}
	g, err := a.DB.RequestBreakGlass(r.Context(), q.Actor, bi)
	if err != nil {
		return err
	}
	// The same answer whether or not the id names a file: no name, no place.
	writeJSON(w, http.StatusCreated, toBreakGlassJSON(g))
	return nil
}

func (a *API) myBreakGlass(w http.ResponseWriter, r *http.Request, q *req) error {
	gs, err := a.DB.ListMyBreakGlass(r.Context(), q.Actor)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, breakGlassList(gs))
	return nil
}

func (a *API) breakGlassReviews(w http.ResponseWriter, r *http.Request, q *req) error {
	gs, err := a.DB.ListBreakGlassReviews(r.Context(), q.Actor, store.BreakGlassFilter{Pending: r.URL.Query().Get("pending") == "true"})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, breakGlassList(gs))
	return nil
}

func (a *API) personBreakGlass(w http.ResponseWriter, r *http.Request, q *req) error {
	gs, err := a.DB.ListPersonBreakGlass(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, breakGlassList(gs))
	return nil
}

type breakGlassReviewRequest struct {
	Verdict string `json:"verdict"`
	Note    string `json:"note"`
}

func (a *API) reviewBreakGlass(w http.ResponseWriter, r *http.Request, q *req) error {
	var in breakGlassReviewRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.DB.ReviewBreakGlass(r.Context(), q.Actor, r.PathValue("id"), casework.BreakGlassReviewInput{Verdict: in.Verdict, Note: in.Note}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	return nil
}

type breakGlassRevokeRequest struct {
	Note string `json:"note"`
}

func (a *API) revokeBreakGlass(w http.ResponseWriter, r *http.Request, q *req) error {
	var in breakGlassRevokeRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.DB.RevokeBreakGlass(r.Context(), q.Actor, r.PathValue("id"), in.Note); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	return nil
}
