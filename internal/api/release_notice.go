package api

import (
	"net/http"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// releaseNoticeRoutes: recording the notice of a release (R15). Any
// signed-in user reaches the route; the store lets the place's worker,
// lead and police record it and answers 403/404 to the rest.
func (a *API) releaseNoticeRoutes(rt route) []httpx.Route {
	return []httpx.Route{
		rt("POST", "/api/v1/persons/{id}/release-notice", httpx.Access{Target: "released_person"}, a.recordReleaseNotice,
			"record the release notice (R15: within 7 days of the release)"),
	}
}

type releaseNoticeRequest struct {
	Date      string `json:"date"`
	Recipient string `json:"recipient"`
}

func (a *API) recordReleaseNotice(w http.ResponseWriter, r *http.Request, q *req) error {
	var in releaseNoticeRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	d, err := casework.ParseDateField("date", in.Date)
	if err != nil {
		return err
	}
	m, err := a.DB.RecordReleaseNotice(r.Context(), q.Actor, r.PathValue("id"), store.ReleaseNoticeInput{Date: d, Recipient: in.Recipient})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toMeasureJSON(m, a.today()))
	return nil
}
