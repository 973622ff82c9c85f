package web

// face.go: identity at check-in in the console (issue 17 §1, §3, §6): the
// reference photo on the person's file (身份核验), taken with the worker's
// camera or uploaded, its face embedding computed in the staff browser by
// face.js (the hidden field "embedding"); and the review of a check-in whose
// face did not match or whose liveness failed (R32: a person decides, never
// the machine). Face data is sensitive (R36): every view is audited in the
// store, photos are served with no-store.

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

func (c *Console) faceRoutes(rt route) []httpx.Route {
	seeP := httpx.Access{Perm: casework.PermSensitive, Target: "person"}
	writeP := httpx.Access{Perm: casework.PermWritePersons, Target: "person"}
	return []httpx.Route{
		rt("GET", "/persons/{id}/face", seeP, c.faceReferencePage, "a person's reference photo for the identity check, and its history (sensitive; audited)"),
		rt("POST", "/persons/{id}/face", writeP, c.faceReferenceSet, "take or upload the reference photo (the first at activation; a replacement only by a lead with a reason)"),
		rt("GET", "/face-references/{id}/photo", httpx.Access{Perm: casework.PermSensitive, Target: "face_reference"}, c.faceReferencePhoto,
			"a reference photo (sensitive; every view audited)"),
		rt("GET", "/checkins/{id}/identity", httpx.Access{Perm: casework.PermSensitive, Target: "checkin"}, c.identityReviewPage,
			"a check-in's identity: reference photo, selfie, the phone's score and liveness, and the review (sensitive; audited)"),
		rt("POST", "/checkins/{id}/identity/console-score", httpx.Access{Perm: casework.PermWritePersons, Target: "checkin"}, c.identityConsoleScore,
			"store the face score the staff browser computed and flag a disagreement with the phone's (issue 17 §4)"),
		rt("POST", "/checkins/{id}/identity", httpx.Access{Perm: casework.PermWritePersons, Target: "checkin"}, c.identityReview,
			"review a check-in whose face did not match or whose liveness failed: the same person, or not"),
	}
}

type facePage struct {
	P       *casework.Person
	Current *store.FaceReference
	History []*store.FaceReference
	CanSet  bool // may take the first photo
	CanSwap bool // may replace the current one (a lead)
	Err     *formError
}

func (c *Console) faceRender(w http.ResponseWriter, r *http.Request, q *req, status int, d facePage) error {
	id := r.PathValue("id")
	p, err := c.DB.GetPerson(r.Context(), q.Actor, id, "")
	if err != nil {
		return err
	}
	_, refs, err := c.DB.FaceReferences(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	d.P = p
	for _, f := range refs {
		if f.ReplacedAt == nil {
			d.Current = f
		} else {
			d.History = append(d.History, f)
		}
	}
	writable := p.Access.Write && p.Access.Until.IsZero() && p.Access.BreakGlass == ""
	d.CanSet = writable && d.Current == nil
	d.CanSwap = writable && d.Current != nil && p.Access.Approve
	c.render(w, r, q, status, "face", d)
	return nil
}

func (c *Console) faceReferencePage(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.faceRender(w, r, q, http.StatusOK, facePage{})
}

// faceFormError is the form's error for a refusal that is about a field:
// EINVALID and ECONFLICT as everywhere, and the replacement refused to a
// non-lead (EFORBIDDEN on "reason"), which the worker must read beside the
// form rather than on an error page.
func faceFormError(err error, lang string) (*formError, bool) {
	if fe, ok := toFormError(err, lang); ok {
		return fe, true
	}
	var e *casework.Error
	if errors.As(err, &e) && e.Code == casework.EFORBIDDEN && e.Field != "" {
		fe := &formError{Field: e.Field, Message: e.Message(lang), Fields: map[string]string{}}
		fe.add(e.Field, e.Message(lang))
		fe.Heading = i18n.T(lang, "form.errors_heading", len(fe.Items))
		return fe, true
	}
	return nil, false
}

func (c *Console) faceReferenceSet(w http.ResponseWriter, r *http.Request, q *req) error {
	if c.Blobs == nil {
		c.unavailable(w, r, q)
		return nil
	}
	fail := func(err error) error {
		fe, ok := faceFormError(err, q.Lang)
		if !ok {
			return err
		}
		status := formStatus(err)
		if casework.IsCode(err, casework.EFORBIDDEN) {
			status = http.StatusForbidden
		}
		return c.faceRender(w, r, q, status, facePage{Err: fe.sent("face", r)})
	}
	r.Body = http.MaxBytesReader(w, r.Body, store.MaxReferencePhoto+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		if !errors.Is(err, http.ErrNotMultipart) {
			return fail(casework.Invalid("photo", "请选择不超过5 MB的照片（JPEG或PNG）", "choose a photo (JPEG or PNG) of at most 5 MB"))
		}
		_ = r.ParseForm()
	} else {
		defer r.MultipartForm.RemoveAll()
	}
	var photo []byte
	if file, _, err := r.FormFile("photo"); err == nil {
		photo, err = io.ReadAll(io.LimitReader(file, store.MaxReferencePhoto+1))
		file.Close()
		if err != nil {
			return err
		}
	}
	in := store.FaceReferenceInput{Photo: photo, PhotoType: http.DetectContentType(photo), Embedding: strings.TrimSpace(r.FormValue("embedding")),
		Models: strings.TrimSpace(r.FormValue("models")), Reason: r.FormValue("reason")}
	put := func(b []byte) (string, error) { return blob.PutBytes(r.Context(), c.Blobs, b) }
	if _, err := c.DB.SetFaceReference(r.Context(), q.Actor, r.PathValue("id"), in, put); err != nil {
		return fail(err)
	}
	return redirect(w, r, "/persons/"+r.PathValue("id")+"/face", "face_saved")
}

func (c *Console) faceReferencePhoto(w http.ResponseWriter, r *http.Request, q *req) error {
	if c.Blobs == nil {
		return casework.NotFound("参考照片", "reference photo")
	}
	get := func(key string) ([]byte, error) { return c.Blobs.Get(r.Context(), key) }
	b, typ, _, err := c.DB.FaceReferencePhoto(r.Context(), q.Actor, r.PathValue("id"), get)
	if errors.Is(err, blob.ErrNotFound) {
		return casework.NotFound("参考照片", "reference photo")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", typ)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
	return nil
}

type identityPage struct {
	P         *casework.Person
	Case      *store.IdentityCase
	CanDecide bool
	Err       *formError
	// The facts in words (no raw values on the page).
	Reason, Score, ScoreRaw, Threshold, Liveness, MS, Mock, Decision string
	// The console's stored score, and the tamper flag's reason in the
	// page's language ("" when none).
	Console, Tamper string
	CanScore        bool // the reader may store the console's score (write access, a phone score to compare)
}

func (c *Console) identityRender(w http.ResponseWriter, r *http.Request, q *req, status int, d identityPage) error {
	ic, err := c.DB.IdentityCheckin(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := c.DB.GetPerson(r.Context(), q.Actor, ic.Checkin.PersonID, "")
	if err != nil {
		return err
	}
	d.P, d.Case = p, ic
	ck, lang := ic.Checkin, q.Lang
	if ck.IdentityReason != "" {
		d.Reason = casework.IdentityReasonLabel(ck.IdentityReason, lang)
	}
	d.Score = "—"
	if ck.FaceScore != nil {
		d.Score, d.ScoreRaw = strconv.FormatFloat(*ck.FaceScore, 'f', 4, 64), strconv.FormatFloat(*ck.FaceScore, 'f', -1, 64)
	}
	if ic.Threshold > 0 {
		d.Threshold = strconv.FormatFloat(ic.Threshold, 'f', 2, 64)
	}
	d.Liveness = "—"
	if ck.FaceLiveness != "" {
		d.Liveness = i18n.T(lang, "identity.liveness."+ck.FaceLiveness)
	}
	if ck.FaceMS != nil {
		d.MS = i18n.T(lang, "identity.ms_value", *ck.FaceMS)
	}
	if ck.MockLocation != nil {
		d.Mock = i18n.T(lang, map[bool]string{true: "identity.mock_yes", false: "identity.mock_no"}[*ck.MockLocation])
	}
	if ck.Review != "" {
		d.Decision = casework.ReviewLabel(ck.Review, lang)
	}
	if ic.ConsoleScore != nil {
		d.Console = strconv.FormatFloat(*ic.ConsoleScore, 'f', 4, 64)
	}
	if ic.Tamper {
		d.Tamper = tamperText(ic.TamperReason, lang)
	}
	d.CanScore = ck.FaceScore != nil && p.Access.Write && p.Access.Until.IsZero() && p.Access.BreakGlass == ""
	d.CanDecide = ic.Checkin.Identity.NeedsReview() && ic.Checkin.Review == "" && p.Access.Write && p.Access.Until.IsZero() && p.Access.BreakGlass == ""
	c.render(w, r, q, status, "face_review", d)
	return nil
}

func (c *Console) identityReviewPage(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.identityRender(w, r, q, http.StatusOK, identityPage{})
}

func (c *Console) identityReview(w http.ResponseWriter, r *http.Request, q *req) error {
	_, err := c.DB.ReviewIdentity(r.Context(), q.Actor, r.PathValue("id"), r.FormValue("decision"), r.FormValue("note"))
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.identityRender(w, r, q, formStatus(err), identityPage{Err: fe.sent("review", r)})
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/checkins/"+r.PathValue("id")+"/identity", "identity_reviewed")
}

// identityConsoleScore takes console_score from the recompute hook (face.js,
// a same-origin fetch) on the review page.
func (c *Console) identityConsoleScore(w http.ResponseWriter, r *http.Request, q *req) error {
	score, err := casework.ParseConsoleScore(r.FormValue("console_score"))
	if err == nil {
		_, err = c.DB.RecordReviewConsoleScore(r.Context(), q.Actor, r.PathValue("id"), score)
	}
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.identityRender(w, r, q, formStatus(err), identityPage{Err: fe.sent("console", r)})
	}
	if err != nil {
		return err
	}
	if r.Header.Get("HX-Request") != "" {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return redirect(w, r, "/checkins/"+r.PathValue("id")+"/identity", "")
}
