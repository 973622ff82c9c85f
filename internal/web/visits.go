package web

// visits.go: visits and contacts in the console (issue 11 §1, §2, R27):
// a person's visits, the field form (360 px, location and photos from the
// phone, queued offline in IndexedDB by static/visits.js and sent when back
// online, stored once by its client id), one visit with its history and
// edit form, a photo, a follow-up marked done.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

func (c *Console) visitRoutes(rt route) []httpx.Route {
	read := httpx.Access{Perm: casework.PermSensitive, Target: "person"}
	write := httpx.Access{Perm: casework.PermWritePersons, Target: "person"}
	readVisit := httpx.Access{Perm: casework.PermSensitive, Target: "visit"}
	return []httpx.Route{
		rt("GET", "/persons/{id}/visits", read, c.personVisits, "a person's visits and contacts"),
		rt("GET", "/persons/{id}/visits/new", write, c.visitNew, "the field form for a visit"),
		rt("POST", "/persons/{id}/visits", write, c.visitCreate, "record a visit (form, or the field form's queue)"),
		rt("GET", "/visits/{id}", readVisit, c.visitView, "one visit with its history"),
		rt("POST", "/visits/{id}", readVisit, c.visitEdit, "edit a visit (author or lead), with a reason"),
		rt("GET", "/visits/{id}/photos/{seq}", httpx.Access{Perm: casework.PermSensitive, Target: "visit_photo"}, c.visitPhoto, "a photo taken at a visit"),
		rt("POST", "/visits/{id}/followups/{fid}/done", httpx.Access{Perm: casework.PermWritePersons, Target: "visit_followup"}, c.visitFollowUpDone, "mark a visit's follow-up done"),
		rt("POST", "/visits/{id}/pin-residence", httpx.Access{Perm: casework.PermWritePersons, Target: "visit"}, c.visitPinResidence, "take a home visit's location as the person's residence"),
		rt("GET", "/visits", httpx.Access{Perm: casework.PermSensitive}, c.visitList, "visits of the caseload or subtree"),
		rt("GET", "/visits/export.xlsx", httpx.Access{Perm: casework.PermSensitive}, c.visitExport, "export the visit list (audited)"),
		rt("GET", "/visits/import", httpx.Access{Perm: casework.PermWritePersons}, c.visitImportPage, "the visit import form"),
		rt("POST", "/visits/import", httpx.Access{Perm: casework.PermWritePersons}, c.visitImport, "import visits from the template (dry run first)"),
		rt("GET", "/visits/template.xlsx", httpx.Access{Perm: casework.PermWritePersons}, c.visitTemplate, "the visit import template"),
	}
}

// visitLabel and friends give the catalog text of the fixed lists.
// (catalog keys visit.kind_*, visit.state_*, visit.cond_*, visit.role_*).
func labelOf(lang, prefix, v string) string { return i18n.T(lang, prefix+v) }

func visitKindLabel(lang string, k casework.VisitKind) string {
	return labelOf(lang, "visit.kind_", string(k))
}
func visitStateLabel(lang string, s casework.VisitState) string {
	return labelOf(lang, "visit.state_", string(s))
}
func conditionLabel(lang, c string) string {
	if c == "" {
		return ""
	}
	return labelOf(lang, "visit.cond_", c)
}
func roleLabel(lang, r string) string { return labelOf(lang, "visit.role_", r) }

type visitRow struct {
	V         *store.Visit
	Kind      string
	State     string
	Condition string
	Local     string
	People    string
	Far       bool // the location is far from the pinned residence
}

func visitRows(lang string, vs []store.Visit) []visitRow {
	out := make([]visitRow, 0, len(vs))
	for i := range vs {
		v := &vs[i]
		var people []string
		for _, p := range v.Participants {
			people = append(people, roleLabel(lang, p.Role)+" "+p.Name)
		}
		out = append(out, visitRow{V: v, Kind: visitKindLabel(lang, v.Kind), State: visitStateLabel(lang, v.State),
			Condition: conditionLabel(lang, v.Condition), Local: v.At.In(casework.LoadLocation("")).Format("2006-01-02 15:04"),
			People: strings.Join(people, "、"), Far: v.DistanceM != nil && *v.DistanceM > farFromHomeM})
	}
	return out
}

// farFromHomeM is the distance from the pinned residence beyond which a
// home visit's location is flagged on screen (stored as given either way).
const farFromHomeM = 500

func (c *Console) personVisits(w http.ResponseWriter, r *http.Request, q *req) error {
	pid := r.PathValue("id")
	p, err := c.DB.GetPerson(r.Context(), q.Actor, pid, "")
	if err != nil {
		return err
	}
	vs, err := c.DB.ListVisits(r.Context(), q.Actor, pid)
	if err != nil {
		return err
	}
	canRecord := c.DB.CanRecordVisit(r.Context(), q.Actor, pid) == nil
	c.render(w, r, q, http.StatusOK, "visits_person", map[string]any{"Person": p, "Rows": visitRows(q.Lang, vs), "CanRecord": canRecord})
	return nil
}

type visitFormData struct {
	Person     *casework.Person
	Action     string
	Kinds      []choice
	States     []choice
	Conditions []choice
	Roles      []choice
	Form       map[string]string
	Err        *formError
	Visit      *store.Visit
	Revisions  []store.Revision
	Rows       []visitRow
	Slots      []int // blank participant rows
	// What was typed in the repeated rows of a refused new visit
	// (participants: role, name; follow-ups: action, due), kept with the
	// rest of the form (issue 18 item 9).
	People, FollowUps []visitPair
}

type visitPair struct{ A, B string }

// postedPairs reads the repeated rows of fields a and b, skipping rows
// left empty.
func postedPairs(r *http.Request, a, b string) []visitPair {
	as, bs := r.PostForm[a], r.PostForm[b]
	var out []visitPair
	for i, v := range as {
		p := visitPair{A: v}
		if i < len(bs) {
			p.B = bs[i]
		}
		// a participant's role is always sent: the row counts by its name
		if strings.TrimSpace(p.B) != "" || (a != "participant_role" && strings.TrimSpace(p.A) != "") {
			out = append(out, p)
		}
	}
	return out
}

func (c *Console) visitChoices(lang string, d *visitFormData) {
	d.Slots = []int{1, 2, 3}
	for _, k := range casework.VisitKinds {
		d.Kinds = append(d.Kinds, choice{Value: string(k), Label: visitKindLabel(lang, k), Selected: string(k) == d.Form["kind"]})
	}
	for _, s := range casework.VisitStates {
		d.States = append(d.States, choice{Value: string(s), Label: visitStateLabel(lang, s), Selected: string(s) == d.Form["state"]})
	}
	for _, s := range casework.Conditions {
		d.Conditions = append(d.Conditions, choice{Value: s, Label: conditionLabel(lang, s), Selected: s == d.Form["condition"]})
	}
	for _, s := range casework.ParticipantRoles {
		d.Roles = append(d.Roles, choice{Value: s, Label: roleLabel(lang, s)})
	}
}

func (c *Console) visitNew(w http.ResponseWriter, r *http.Request, q *req) error {
	pid := r.PathValue("id")
	if err := c.DB.CanRecordVisit(r.Context(), q.Actor, pid); err != nil {
		return err
	}
	p, err := c.DB.GetPerson(r.Context(), q.Actor, pid, "")
	if err != nil {
		return err
	}
	kind := r.URL.Query().Get("kind")
	if kind == "" {
		kind = string(casework.VisitHome)
	}
	d := &visitFormData{Person: p, Action: "/persons/" + url.PathEscape(pid) + "/visits",
		Form: map[string]string{"kind": kind, "state": "done", "condition": "stable", "face_to_face": faceDefault(kind), "at": time.Now().In(casework.LoadLocation("")).Format("2006-01-02T15:04")}}
	c.visitChoices(q.Lang, d)
	c.render(w, r, q, http.StatusOK, "visit_form", d)
	return nil
}

// wantsJSON: the field form's queue sends with this header and reads a
// JSON answer (the console's pages answer HTML otherwise).
func wantsJSON(r *http.Request) bool { return r.Header.Get("X-Kangfu-Queue") == "1" }

func (c *Console) visitCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	pid := r.PathValue("id")
	// Access first: a file outside the actor's scope is 404 whatever the body.
	if err := c.DB.CanRecordVisit(r.Context(), q.Actor, pid); err != nil {
		return c.visitFail(w, r, q, err, nil)
	}
	form, in, parse, err := parseVisitForm(r)
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	if err == nil {
		err = checkVisitForm(parse, in, c.DB.Now(), nil)
	}
	var photos []store.VisitPhoto
	if err == nil {
		photos, err = c.storeVisitPhotos(r)
	}
	var v *store.Visit
	created := false
	if err == nil {
		v, created, err = c.DB.RecordVisit(r.Context(), q.Actor, pid, in, photos)
	}
	if err != nil {
		return c.visitFail(w, r, q, err, form)
	}
	if wantsJSON(r) {
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		writeVisitJSON(w, status, map[string]any{"id": v.ID, "created": created, "link": "/visits/" + v.ID})
		return nil
	}
	return redirect(w, r, "/persons/"+url.PathEscape(pid)+"/visits", "visit_recorded")
}

func writeVisitJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// visitFail answers the queue in JSON (the phone keeps the draft on any
// error and shows the message), and the plain form with the form again.
func (c *Console) visitFail(w http.ResponseWriter, r *http.Request, q *req, err error, form map[string]string) error {
	if wantsJSON(r) {
		code := casework.ErrorCode(err)
		status := httpx.Status(code)
		if status >= 500 {
			c.Log.ErrorContext(r.Context(), "visit queue", "err", err)
		}
		writeVisitJSON(w, status, map[string]any{"error": map[string]string{"code": code, "field": casework.ErrorField(err),
			"message": casework.ErrorMessage(err, q.Lang)}})
		return nil
	}
	fe, ok := toFormError(err, q.Lang)
	if !ok || form == nil {
		return err
	}
	pid := r.PathValue("id")
	p, perr := c.DB.GetPerson(r.Context(), q.Actor, pid, "")
	if perr != nil {
		return perr
	}
	d := &visitFormData{Person: p, Action: "/persons/" + url.PathEscape(pid) + "/visits", Form: form, Err: fe,
		People: postedPairs(r, "participant_role", "participant_name"), FollowUps: postedPairs(r, "followup_action", "followup_due")}
	c.visitChoices(q.Lang, d)
	c.render(w, r, q, http.StatusBadRequest, "visit_form", d)
	return nil
}

var visitFormFields = []string{"id", "kind", "state", "at", "face_to_face", "lat", "lng", "accuracy", "address", "notes", "condition", "condition_note", "reason"}

// maxVisitForm bounds a visit's body (photos included).
const maxVisitForm = 6*8<<20 + 1<<20

// parseVisitForm reads the field form (url-encoded or multipart) into a
// VisitInput and what was typed. The fields it cannot read are all in
// parse (issue 18 item 9), for checkVisitForm to join with the domain's
// problems; err is a form that cannot be read at all.
func parseVisitForm(r *http.Request) (f map[string]string, in casework.VisitInput, parse casework.FieldErrors, err error) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxVisitForm)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		err = r.ParseMultipartForm(8 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		return nil, in, nil, casework.Invalid("form", "无法读取表单（照片过大？）", "cannot read the form (photos too large?)")
	}
	f = map[string]string{}
	for _, k := range visitFormFields {
		f[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	in = casework.VisitInput{ID: f["id"], Kind: casework.VisitKind(f["kind"]), State: casework.VisitState(f["state"]), Address: f["address"],
		Notes: f["notes"], Condition: f["condition"], ConditionNote: f["condition_note"]}
	var perr error
	in.At, perr = parseVisitTime(f["at"])
	parse.Add(perr)
	// The form sends a hidden "0" before the box's "1": either way the
	// choice is explicit.
	if vs := r.PostForm["face_to_face"]; len(vs) > 0 {
		b := slices.Contains(vs, "1") || slices.Contains(vs, "true")
		in.FaceToFace = &b
		if b {
			f["face_to_face"] = "1"
		}
	}
	if f["lat"] != "" || f["lng"] != "" {
		lat, err1 := strconv.ParseFloat(f["lat"], 64)
		lng, err2 := strconv.ParseFloat(f["lng"], 64)
		acc, _ := strconv.ParseFloat(f["accuracy"], 64)
		if err1 != nil || err2 != nil {
			parse.Add(casework.Invalid("location", "定位无效", "the location is not valid"))
		} else {
			in.Location = &casework.Geo{Lat: lat, Lng: lng, AccuracyM: acc}
		}
	}
	roles, names := r.PostForm["participant_role"], r.PostForm["participant_name"]
	for i := range names {
		if strings.TrimSpace(names[i]) == "" {
			continue
		}
		role := "other"
		if i < len(roles) {
			role = roles[i]
		}
		in.Participants = append(in.Participants, casework.Participant{Role: role, Name: names[i]})
	}
	actions, dues := r.PostForm["followup_action"], r.PostForm["followup_due"]
	for i := range actions {
		if strings.TrimSpace(actions[i]) == "" {
			continue
		}
		fu := casework.FollowUp{Action: actions[i]}
		if i < len(dues) && dues[i] != "" {
			fu.Due, perr = casework.ParseDateField("follow_ups", dues[i])
			if !parse.Has("follow_ups") {
				parse.Add(perr)
			}
		}
		in.FollowUps = append(in.FollowUps, fu)
	}
	return f, in, parse, nil
}

// checkVisitForm returns nil when the form parsed, else its problems joined
// with those the domain finds in the rest (and, for an edit, in the
// reason), so the page shows every one at once (issue 18 item 9).
func checkVisitForm(parse casework.FieldErrors, in casework.VisitInput, now time.Time, reason *string) error {
	return withChecks(parse, func() error {
		var errs casework.FieldErrors
		if reason != nil {
			_, err := casework.CheckRevisionReason(*reason)
			errs.Add(err)
		}
		errs.Add(in.Validate(now))
		return errs.Err()
	})
}

// parseVisitTime takes RFC 3339 (the phone sends its instant) or a local
// "2006-01-02T15:04" in the default zone (a form without script).
func parseVisitTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, casework.Invalid("at", "请填写走访时间", "the time of the visit is required")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", s, casework.LoadLocation("")); err == nil {
		return t, nil
	}
	return time.Time{}, casework.Invalid("at", "走访时间格式无效", "the time must be like 2026-03-10T09:30")
}

// storeVisitPhotos puts the form's photos (JPEG, PNG or WebP, at most
// store.MaxVisitPhotos) in the blob store.
func (c *Console) storeVisitPhotos(r *http.Request) ([]store.VisitPhoto, error) {
	if r.MultipartForm == nil || len(r.MultipartForm.File["photos"]) == 0 {
		return nil, nil
	}
	files := r.MultipartForm.File["photos"]
	if len(files) > store.MaxVisitPhotos {
		return nil, casework.Invalid("photos", "每次走访最多%d张照片", "at most %d photos per visit", store.MaxVisitPhotos)
	}
	if c.Blobs == nil {
		return nil, casework.Errorf(casework.EINTERNAL, "服务器未配置文件存储，无法保存照片", "the server has no file storage for photos")
	}
	var out []store.VisitPhoto
	for i, fh := range files {
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(f, 8<<20+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		mime := http.DetectContentType(b)
		if len(b) == 0 || len(b) > 8<<20 || (mime != "image/jpeg" && mime != "image/png" && mime != "image/webp") {
			return nil, casework.Invalid("photos", "第%d张照片须为不超过8MB的JPEG、PNG或WebP图片", "photo %d must be a JPEG, PNG or WebP image of at most 8 MB", i+1)
		}
		key, err := blob.PutBytes(r.Context(), c.Blobs, b)
		if err != nil {
			return nil, fmt.Errorf("store visit photo: %w", err)
		}
		out = append(out, store.VisitPhoto{SHA256: key, MIME: mime, Size: int64(len(b))})
	}
	return out, nil
}

func (c *Console) visitView(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.visitViewPage(w, r, q, nil, nil, http.StatusOK)
}

func (c *Console) visitViewPage(w http.ResponseWriter, r *http.Request, q *req, form map[string]string, fe *formError, status int) error {
	v, err := c.DB.GetVisit(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := c.DB.GetPerson(r.Context(), q.Actor, v.PersonID, "")
	if err != nil {
		return err
	}
	revs, err := c.DB.ListRevisions(r.Context(), q.Actor, v.PersonID, "visit", v.ID)
	if err != nil {
		return err
	}
	if form == nil {
		form = map[string]string{"kind": string(v.Kind), "state": string(v.State), "condition": v.Condition, "notes": v.Notes,
			"condition_note": v.ConditionNote, "address": v.Address, "at": v.At.In(casework.LoadLocation("")).Format("2006-01-02T15:04")}
		if v.FaceToFace {
			form["face_to_face"] = "1"
		}
	}
	d := &visitFormData{Person: p, Action: "/visits/" + url.PathEscape(v.ID), Visit: v, Revisions: revs, Form: form, Err: fe,
		Rows: visitRows(q.Lang, []store.Visit{*v})}
	c.visitChoices(q.Lang, d)
	c.render(w, r, q, status, "visit", d)
	return nil
}

func (c *Console) visitEdit(w http.ResponseWriter, r *http.Request, q *req) error {
	form, in, parse, err := parseVisitForm(r)
	if err == nil {
		reason := form["reason"]
		err = checkVisitForm(parse, in, c.DB.Now(), &reason)
	}
	if err == nil {
		_, err = c.DB.EditVisit(r.Context(), q.Actor, r.PathValue("id"), in, form["reason"])
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.visitViewPage(w, r, q, form, fe, http.StatusUnprocessableEntity)
	}
	return redirect(w, r, "/visits/"+url.PathEscape(r.PathValue("id")), "visit_edited")
}

func (c *Console) visitPhoto(w http.ResponseWriter, r *http.Request, q *req) error {
	seq, err := strconv.Atoi(r.PathValue("seq"))
	if err != nil {
		return casework.NotFound("照片", "photo")
	}
	p, err := c.DB.VisitPhotoFor(r.Context(), q.Actor, r.PathValue("id"), seq)
	if err != nil {
		return err
	}
	if c.Blobs == nil {
		c.unavailable(w, r, q)
		return nil
	}
	rc, size, err := c.Blobs.Open(r.Context(), p.SHA256)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", p.MIME)
	w.Header().Set("Cache-Control", "private, no-store")
	return blob.Serve(w, r, rc, size)
}

func (c *Console) visitFollowUpDone(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := c.DB.CompleteFollowUp(r.Context(), q.Actor, r.PathValue("fid")); err != nil {
		return err
	}
	return redirect(w, r, "/visits/"+url.PathEscape(r.PathValue("id")), "visit_followup_done")
}

// visitFilterFrom reads the list's filter; the default is the last 30 days.
func visitFilterFrom(r *http.Request) (store.VisitFilter, error) {
	qv := r.URL.Query()
	f := store.VisitFilter{OrgID: qv.Get("org"), Kind: casework.VisitKind(qv.Get("kind")), State: casework.VisitState(qv.Get("state"))}
	var err error
	if s := qv.Get("from"); s != "" {
		if f.From, err = casework.ParseDateField("from", s); err != nil {
			return f, err
		}
	}
	if s := qv.Get("to"); s != "" {
		if f.To, err = casework.ParseDateField("to", s); err != nil {
			return f, err
		}
	}
	return f, nil
}

func (c *Console) visitList(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := visitFilterFrom(r)
	if err != nil {
		return err
	}
	if f.From.IsZero() && f.To.IsZero() {
		f.To = casework.DateOf(c.DB.Now(), nil)
		f.From = f.To.AddDays(-30)
	}
	f.Limit = 500
	vs, err := c.DB.ListOrgVisits(r.Context(), q.Actor, f, "visit.list_org")
	if err != nil {
		return err
	}
	kinds := []choice{}
	for _, k := range casework.VisitKinds {
		kinds = append(kinds, choice{Value: string(k), Label: visitKindLabel(q.Lang, k), Selected: k == f.Kind})
	}
	counts := map[string]int{}
	for _, v := range vs {
		if v.State == casework.VisitDone {
			counts[string(v.Kind)]++
		} else {
			counts[string(v.State)]++
		}
	}
	qs := r.URL.Query()
	qs.Set("from", f.From.String())
	qs.Set("to", f.To.String())
	c.render(w, r, q, http.StatusOK, "visits", map[string]any{"Rows": visitRows(q.Lang, vs), "Filter": f, "Kinds": kinds,
		"Counts": counts, "Query": qs.Encode(), "CanImport": q.Actor.CanAnywhere(casework.PermWritePersons)})
	return nil
}

// faceDefault checks the face-to-face box for a home visit or office talk.
func faceDefault(kind string) string {
	if kind == string(casework.VisitHome) || kind == string(casework.VisitOffice) {
		return "1"
	}
	return ""
}

// visitPinResidence takes the phone's fix of a visit as the person's
// residence: later home visits show their distance from it.
func (c *Console) visitPinResidence(w http.ResponseWriter, r *http.Request, q *req) error {
	v, err := c.DB.GetVisit(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	if v.Location == nil {
		return casework.Invalid("location", "该走访没有手机定位", "this visit has no location from the phone")
	}
	if err := c.DB.SetResidenceGeo(r.Context(), q.Actor, v.PersonID, *v.Location); err != nil {
		return err
	}
	return redirect(w, r, "/visits/"+url.PathEscape(v.ID), "visit_residence_pinned")
}
