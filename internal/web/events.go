package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// Prevention and education events (宣传教育, issue 11 §5): a list with
// counts per org subtree and period, the form, an event with its photos,
// the Excel import and the export.
func (c *Console) eventRoutes(rt route) []httpx.Route {
	view := httpx.Access{Perm: casework.PermViewEvents}
	write := httpx.Access{Perm: casework.PermWriteEvents}
	one := httpx.Access{Perm: casework.PermViewEvents, Target: "event"}
	oneWrite := httpx.Access{Perm: casework.PermWriteEvents, Target: "event"}
	return []httpx.Route{
		rt("GET", "/events", view, c.eventList, "prevention events with counts"),
		rt("POST", "/events", write, c.eventCreate, "record a prevention event"),
		rt("GET", "/events/export.xlsx", view, c.eventExport, "export the event list"),
		rt("GET", "/events/import", write, c.eventImportForm, "event import form"),
		rt("POST", "/events/import", write, c.eventImport, "import events from Excel"),
		rt("GET", "/events/import/template.xlsx", write, c.eventTemplate, "the event import template"),
		rt("GET", "/events/{id}", one, c.eventView, "a prevention event"),
		rt("POST", "/events/{id}/photos", oneWrite, c.eventPhotoUpload, "add a photo to an event"),
		rt("GET", "/event-photos/{id}", httpx.Access{Perm: casework.PermViewEvents, Target: "event_photo"}, c.eventPhoto, "an event photo"),
	}
}

type eventsData struct {
	Events    []store.Event
	Kinds     []choice
	FormKinds []choice
	Orgs      []choice
	FormOrgs  []choice
	Counts    *store.EventCounts
	ByKind    []kv
	From, To  string
	ExportURL string
	CanWrite  bool
	Form      map[string]string
	Err       *formError
}

// eventFilter reads the list's filter from the query.
func eventFilter(r *http.Request) (store.EventFilter, error) {
	v := r.URL.Query()
	f := store.EventFilter{OrgID: v.Get("org"), Kind: casework.EventKind(v.Get("kind"))}
	var err error
	if f.From, err = optDate("from", v.Get("from")); err != nil {
		return f, err
	}
	f.To, err = optDate("to", v.Get("to"))
	return f, err
}

func (c *Console) eventsPage(w http.ResponseWriter, r *http.Request, q *req, form map[string]string, fe *formError, status int) error {
	f, err := eventFilter(r)
	if err != nil {
		return err
	}
	d := eventsData{From: f.From.String(), To: f.To.String(), Form: form, Err: fe, CanWrite: q.Actor.CanAnywhere(casework.PermWriteEvents),
		ExportURL: "/events/export.xlsx?" + r.URL.RawQuery}
	if d.Events, err = c.DB.ListEvents(r.Context(), q.Actor, f); err != nil {
		return err
	}
	if d.Counts, err = c.DB.CountEvents(r.Context(), q.Actor, f); err != nil {
		return err
	}
	for _, k := range casework.EventKinds {
		d.ByKind = append(d.ByKind, kv{K: k.Label(q.Lang), V: fmt.Sprint(d.Counts.ByKind[k])})
	}
	if d.Orgs, err = c.orgChoices(r, q, f.OrgID); err != nil {
		return err
	}
	if d.Form == nil {
		d.Form = map[string]string{"held_on": casework.DateOf(c.DB.Now(), nil).String(), "kind": string(casework.EventLecture)}
	}
	for _, o := range d.Orgs[1:] {
		d.FormOrgs = append(d.FormOrgs, choice{Value: o.Value, Label: o.Label, Selected: o.Value == d.Form["org_id"]})
	}
	d.Kinds = []choice{{Label: i18n.T(q.Lang, "help.all_kinds")}}
	for _, k := range casework.EventKinds {
		d.Kinds = append(d.Kinds, choice{Value: string(k), Label: k.Label(q.Lang), Selected: k == f.Kind})
		d.FormKinds = append(d.FormKinds, choice{Value: string(k), Label: k.Label(q.Lang), Selected: string(k) == d.Form["kind"]})
	}
	c.render(w, r, q, status, "events", d)
	return nil
}

func (c *Console) eventList(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.eventsPage(w, r, q, nil, nil, http.StatusOK)
}

func (c *Console) eventCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := formValues(r, "org_id", "held_on", "place", "topic", "kind", "audience", "materials", "note")
	if err != nil {
		return err
	}
	in := casework.EventInput{OrgID: f["org_id"], Place: f["place"], Topic: f["topic"], Kind: casework.EventKind(f["kind"]), Note: f["note"]}
	var parse casework.FieldErrors // every problem at once (issue 18 item 9)
	in.HeldOn, err = optDate("held_on", f["held_on"])
	parse.Add(err)
	in.Audience, err = atoiField("audience", f["audience"])
	parse.Add(err)
	in.Materials, err = atoiField("materials", f["materials"])
	parse.Add(err)
	err = withChecks(parse, func() error {
		p := in
		return p.Validate(casework.DateOf(time.Now(), nil))
	})
	var e *store.Event
	if err == nil {
		e, err = c.DB.AddEvent(r.Context(), q.Actor, in)
	}
	if err != nil {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.eventsPage(w, r, q, f, fe, http.StatusBadRequest)
	}
	return redirect(w, r, "/events/"+e.ID, "event_saved")
}

// atoiField reads a whole number that may be blank (0).
func atoiField(field, s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil || fmt.Sprint(n) != s {
		return 0, casework.Invalid(field, "请填写整数", "give a whole number")
	}
	return n, nil
}

func (c *Console) eventExport(w http.ResponseWriter, r *http.Request, q *req) error {
	f, err := eventFilter(r)
	if err != nil {
		return err
	}
	list, err := c.DB.ListEvents(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	head, rows := exchange.EventTable(list, q.Lang)
	filter := map[string]any{"org_id": f.OrgID, "from": f.From.String(), "to": f.To.String(), "kind": string(f.Kind)}
	if err := c.DB.AuditListExport(r.Context(), q.Actor, "event", filter, len(rows)); err != nil {
		return err
	}
	return sendWorkbook(w, "events.xlsx", func(out io.Writer) error {
		return exchange.WriteTable(out, i18n.T(q.Lang, "exchange.sheet.events"), head, rows)
	})
}

type eventData struct {
	E        *store.Event
	Kind     string
	CanWrite bool
	Err      *formError
}

func (c *Console) eventPage(w http.ResponseWriter, r *http.Request, q *req, fe *formError, status int) error {
	e, err := c.DB.GetEvent(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := eventData{E: e, Kind: e.Kind.Label(q.Lang), Err: fe}
	if orgs, err := c.DB.ListOrgs(r.Context(), q.Actor, store.OrgFilter{}); err == nil {
		for _, o := range orgs {
			if o.ID == e.OrgID {
				d.CanWrite = q.Actor.Can(casework.PermWriteEvents, o.Path)
			}
		}
	}
	c.render(w, r, q, status, "event", d)
	return nil
}

func (c *Console) eventView(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.eventPage(w, r, q, nil, http.StatusOK)
}

// MaxEventPhoto is the size limit of an event photo.
const MaxEventPhoto = 10 << 20

func (c *Console) eventPhotoUpload(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	if _, err := c.DB.GetEvent(r.Context(), q.Actor, id); err != nil {
		return err
	}
	if c.Blobs == nil {
		c.unavailable(w, r, q)
		return nil
	}
	fail := func(err error) error {
		fe, ok := toFormError(err, q.Lang)
		if !ok {
			return err
		}
		return c.eventPage(w, r, q, fe, http.StatusBadRequest)
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxEventPhoto+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return fail(casework.Invalid("photo", "请选择不超过10 MiB的照片（JPEG或PNG）", "choose a photo (JPEG or PNG) of at most 10 MiB"))
	}
	defer r.MultipartForm.RemoveAll()
	file, _, err := r.FormFile("photo")
	if err != nil {
		return fail(casework.Invalid("photo", "请选择照片", "choose a photo"))
	}
	defer file.Close()
	b, err := io.ReadAll(io.LimitReader(file, MaxEventPhoto+1))
	if err != nil {
		return err
	}
	mime := http.DetectContentType(b)
	if len(b) > MaxEventPhoto || (mime != "image/jpeg" && mime != "image/png") {
		return fail(casework.Invalid("photo", "照片须为不超过10 MiB的JPEG或PNG", "the photo must be a JPEG or PNG of at most 10 MiB"))
	}
	key, n, err := c.Blobs.Put(r.Context(), bytes.NewReader(b))
	if err != nil {
		return err
	}
	if _, err := c.DB.AddEventPhoto(r.Context(), q.Actor, id, store.EventPhoto{SHA256: key, MIME: mime, Size: n}); err != nil {
		return fail(err)
	}
	return redirect(w, r, "/events/"+url.PathEscape(id), "event_photo_added")
}

func (c *Console) eventPhoto(w http.ResponseWriter, r *http.Request, q *req) error {
	p, err := c.DB.EventPhotoByID(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.Blobs == nil {
		return casework.NotFound("照片", "photo")
	}
	rc, size, err := c.Blobs.Open(r.Context(), p.SHA256)
	if errors.Is(err, blob.ErrNotFound) {
		return casework.NotFound("照片", "photo")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", p.MIME)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	return blob.Serve(w, r, rc, size)
}

type eventImportData struct {
	Err     string
	DryRun  bool
	Report  *store.EventImportReport
	Errors  []exchange.ErrorRow
	MaxRows int
}

func (c *Console) eventImportForm(w http.ResponseWriter, r *http.Request, q *req) error {
	c.render(w, r, q, http.StatusOK, "events_import", eventImportData{DryRun: true, MaxRows: exchange.MaxRows})
	return nil
}

func (c *Console) eventTemplate(w http.ResponseWriter, r *http.Request, q *req) error {
	return sendWorkbook(w, "kangfu-events-template.xlsx", func(out io.Writer) error { return exchange.WriteEventTemplate(out, q.Lang) })
}

func (c *Console) eventImport(w http.ResponseWriter, r *http.Request, q *req) error {
	d := eventImportData{MaxRows: exchange.MaxRows}
	var rows []store.EventImportRow
	file, dry, done, err := openXLSXForm(w, r)
	defer done()
	d.DryRun = dry
	if err == nil {
		rows, err = exchange.ReadEventImport(file)
	}
	if err == nil {
		d.Report, err = c.DB.ImportEvents(r.Context(), q.Actor, rows, d.DryRun)
	}
	var ce *casework.Error
	if errors.As(err, &ce) && ce.Code == casework.EINVALID {
		d.Err = ce.Message(q.Lang)
		c.render(w, r, q, http.StatusBadRequest, "events_import", d)
		return nil
	}
	if err != nil {
		return err
	}
	d.Errors = exchange.EventErrors(d.Report, q.Lang)
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	c.render(w, r, q, status, "events_import", d)
	return nil
}
