package web

import (
	"net/http"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// releaseNoticeRoutes: recording the notice of a release (R15) from the
// person file. Any signed-in user reaches the route; the store lets the
// place's worker, lead and police record it.
func (c *Console) releaseNoticeRoutes(rt route) []httpx.Route {
	return []httpx.Route{
		rt("POST", "/persons/{id}/release-notice", httpx.Access{Target: "released_person"}, c.releaseNoticeRecord, "record the release notice"),
	}
}

// releaseNoticeView is the release-notice card of the file: the latest
// released measure's notice, due, overdue or recorded.
type releaseNoticeView struct {
	M         *store.Measure
	Overdue   bool
	CanRecord bool
}

// releaseNoticeFor finds the notice to show: the newest measure, when it was
// released with a notice due (releases before the notice was tracked have
// none). The police and the place's writers may record it.
func releaseNoticeFor(q *req, p *casework.Person, ms []*store.Measure, today casework.Date) *releaseNoticeView {
	if len(ms) == 0 || ms[0].Status != casework.StatusReleased || ms[0].ReleaseNoticeDue.IsZero() {
		return nil
	}
	m := ms[0]
	v := &releaseNoticeView{M: m, Overdue: m.ReleaseNoticeOn.IsZero() && m.ReleaseNoticeDue.Before(today)}
	v.CanRecord = m.ReleaseNoticeOn.IsZero() && p.Access.Until.IsZero() && (p.Access.Write || q.Actor.Can(casework.PermPoliceCase, p.OrgPath))
	return v
}

func (c *Console) releaseNoticeRecord(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	d, err := casework.ParseDateField("date", r.PostFormValue("date"))
	if err == nil {
		_, err = c.DB.RecordReleaseNotice(r.Context(), q.Actor, id, store.ReleaseNoticeInput{Date: d, Recipient: strings.TrimSpace(r.PostFormValue("recipient"))})
	}
	if err != nil {
		return c.formFailed(w, r, q, id, "release_notice", err)
	}
	return redirect(w, r, "/persons/"+id+"#release-notice", "release_notice_saved")
}
