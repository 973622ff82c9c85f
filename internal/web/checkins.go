package web

// checkins.go: the console's side of the person's app and daily check-in
// (issue 4 §2, §5, §8): a person's month calendar of check-ins coloured by
// verdict with the photo and the point (sensitive, audited reads), the
// "today" board of an org subtree with the registration and check-in
// rates, and activation management (a one-time code with its QR code,
// revocation, retiring a device).

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"

	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

func (c *Console) checkinRoutes(rt route) []httpx.Route {
	readP := httpx.Access{Perm: casework.PermReadPersons, Target: "person"}
	writeP := httpx.Access{Perm: casework.PermWritePersons, Target: "person"}
	return []httpx.Route{
		rt("GET", "/persons/{id}/checkins", readP, c.checkinCalendar, "a person's check-ins: month calendar and duty"),
		rt("GET", "/checkins/{id}/point", httpx.Access{Perm: casework.PermSensitive, Target: "checkin"}, c.checkinPoint,
			"the location of a check-in (sensitive; the read is audited)"),
		rt("GET", "/checkins/{id}/photo", httpx.Access{Perm: casework.PermSensitive, Target: "checkin"}, c.checkinPhoto,
			"the selfie of a check-in (sensitive; the read is audited)"),
		rt("GET", "/persons/{id}/app", readP, c.appDevices, "a person's app activation codes and devices"),
		rt("POST", "/persons/{id}/app/codes", writeP, c.appCodeCreate, "make a one-time activation code with its QR code"),
		rt("POST", "/app-codes/{id}/revoke", httpx.Access{Perm: casework.PermWritePersons, Target: "activation_code"}, c.appCodeRevoke,
			"revoke an unused activation code"),
		rt("POST", "/devices/{id}/retire", httpx.Access{Perm: casework.PermWritePersons, Target: "device"}, c.deviceRetire,
			"retire a person's app device"),
		rt("GET", "/orgs/{id}/checkins", httpx.Access{Perm: casework.PermReadPersons, Target: "org"}, c.checkinBoard,
			"today's check-in board and the rates of an org subtree"),
		rt("GET", "/orgs/{id}/no-device", httpx.Access{Perm: casework.PermReadPersons, Target: "org"}, c.noDevice,
			"persons of an org subtree who owe check-ins but have no active app device"),
	}
}

// calDay is one cell of the month calendar.
type calDay struct {
	Date    casework.Date
	Day     int
	InMonth bool
	Class   string // "verdict-ok", "verdict-outside_area", …, "missed", "none"
	Verdict string
	Count   int
	Missed  bool // check-ins that day, none of which counts
}

type calRow struct {
	When    string
	Verdict casework.Verdict
	Label   string
	Checks  string // every failed check in words (issue 18 §2)
	Class   string
	C       *store.Checkin
}

type checkinCalPage struct {
	P          *casework.Person
	Month      string
	Prev, Next string
	Weeks      [][]calDay
	Rows       []calRow
	Duty       casework.Duty
	Rate       string
	Sensitive  bool
	Weekdays   []string
	MissedText []string
}

func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

func (c *Console) checkinCalendar(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	p, err := c.DB.GetPerson(r.Context(), q.Actor, id, "")
	if err != nil {
		return err
	}
	loc := casework.LoadLocation("")
	today := casework.DateOf(c.DB.Now(), loc)
	first := casework.Date{Year: today.Year, Month: today.Month, Day: 1}
	if s := r.URL.Query().Get("month"); s != "" {
		d, err := casework.ParseDateField("month", s+"-01")
		if err != nil {
			return casework.Invalid("month", "月份格式应为 YYYY-MM", "month must be YYYY-MM")
		}
		first = d
	}
	last := first.AddMonths(1).AddDays(-1)
	list, err := c.DB.ListCheckins(r.Context(), q.Actor, id, first, last)
	if err != nil {
		return err
	}
	d := checkinCalPage{P: p, Month: first.String()[:7], Prev: first.AddMonths(-1).String()[:7], Next: first.AddMonths(1).String()[:7],
		Sensitive: p.Access.Sensitive, Weekdays: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}}
	if !first.After(today) {
		if d.Duty, err = c.DB.PersonDuty(r.Context(), q.Actor, id, first, last); err != nil {
			return err
		}
	}
	d.Rate = pct(d.Duty.Rate())
	missed, noApp := map[casework.Date]bool{}, map[casework.Date]bool{}
	for _, m := range d.Duty.Missed {
		missed[m] = true
		d.MissedText = append(d.MissedText, m.String())
	}
	for _, m := range d.Duty.NoApp {
		noApp[m] = true
	}
	byDay := map[casework.Date][]*store.Checkin{}
	for _, ck := range list {
		byDay[ck.LocalDate] = append(byDay[ck.LocalDate], ck)
		d.Rows = append(d.Rows, calRow{When: ck.TakenAt.In(loc).Format("2006-01-02 15:04"), Verdict: ck.Verdict, Label: ck.Verdict.Label(q.Lang),
			Checks: casework.CheckLabels(ck.Checks, q.Lang), Class: "verdict-" + string(ck.Verdict), C: ck})
	}
	// Weeks start on Monday (the Chinese calendar convention).
	start := first.AddDays(-((int(first.In(time.UTC).Weekday()) + 6) % 7))
	for day := start; !day.After(last); {
		var week []calDay
		for range 7 {
			cell := calDay{Date: day, Day: day.Day, InMonth: day.Month == first.Month, Class: "none"}
			if cks := byDay[day]; len(cks) > 0 {
				v := cks[len(cks)-1].Verdict
				cell.Class, cell.Verdict, cell.Count = "verdict-"+string(v), v.Label(q.Lang), len(cks)
				if missed[day] {
					cell.Class, cell.Missed = "missed", true // checked in, but nothing counted (issue 18 §2)
				}
			} else if missed[day] {
				cell.Class = "missed"
			} else if noApp[day] {
				cell.Class = "noapp"
			}
			week = append(week, cell)
			day = day.AddDays(1)
		}
		d.Weeks = append(d.Weeks, week)
	}
	c.render(w, r, q, http.StatusOK, "checkins", d)
	return nil
}

type checkinPointPage struct {
	P        *casework.Person
	ID       string
	Lat, Lng string
	When     string
	Accuracy string
	Verdict  string
	Checks   string
	Class    string
	AreaOrg  string
	OnLeave  bool
	NoArea   bool
	Inside   bool
	Distance string
	Map      *geoMap
	Near     *geoMap // the neighbourhood of the point, when the area is much larger
}

// checkinPoint shows where a check-in was taken on a map with the area
// its verdict was judged against, the accuracy circle and the distance
// from the point to the area (0 inside; issue 18 §14).
func (c *Console) checkinPoint(w http.ResponseWriter, r *http.Request, q *req) error {
	pl, err := c.DB.CheckinLocation(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := c.DB.GetPerson(r.Context(), q.Actor, pl.Checkin.PersonID, "")
	if err != nil {
		return err
	}
	ck := pl.Checkin
	d := checkinPointPage{P: p, ID: ck.ID, Lat: strconv.FormatFloat(pl.Lat, 'f', 6, 64), Lng: strconv.FormatFloat(pl.Lng, 'f', 6, 64),
		When: ck.TakenAt.In(casework.LoadLocation("")).Format("2006-01-02 15:04"), Accuracy: fmtMetres(q.Lang, ck.AccuracyM),
		Verdict: ck.Verdict.Label(q.Lang), Checks: casework.CheckLabels(ck.Checks, q.Lang), Class: "verdict-" + string(ck.Verdict),
		AreaOrg: pl.AreaOrg, OnLeave: pl.OnLeave, NoArea: pl.Area == nil,
		Map: c.newGeoMap(q.Lang, pl.Area, &mapPoint{Lat: pl.Lat, Lng: pl.Lng, AccM: ck.AccuracyM})}
	d.Near = c.newGeoMapNear(q.Lang, pl.Area, &mapPoint{Lat: pl.Lat, Lng: pl.Lng, AccM: ck.AccuracyM})
	if pl.Area != nil {
		d.Inside = pl.Distance == 0
		d.Distance = fmtMetres(q.Lang, pl.Distance)
	}
	c.render(w, r, q, http.StatusOK, "checkin_point", d)
	return nil
}

func (c *Console) checkinPhoto(w http.ResponseWriter, r *http.Request, q *req) error {
	sha, err := c.DB.CheckinPhoto(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.Blobs == nil {
		return casework.NotFound("签到照片", "check-in photo")
	}
	rc, size, err := c.Blobs.Open(r.Context(), sha)
	if errors.Is(err, blob.ErrNotFound) {
		return casework.NotFound("签到照片", "check-in photo")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	return blob.Serve(w, r, rc, size)
}

type codeRow struct {
	A     *store.ActivationCode
	State string
}

type appDevicesPage struct {
	P       *casework.Person
	Codes   []codeRow
	Devices []*store.Device
	NewCode string
	NewURL  string
	QR      string
	Expires time.Time
	Err     *formError
}

func (c *Console) appDevicesPage(w http.ResponseWriter, r *http.Request, q *req, status int, d appDevicesPage) error {
	id := r.PathValue("id")
	p, err := c.DB.GetPerson(r.Context(), q.Actor, id, "")
	if err != nil {
		return err
	}
	codes, devices, err := c.DB.ListActivationCodes(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	d.P, d.Devices = p, devices
	now := c.DB.Now()
	for _, a := range codes {
		d.Codes = append(d.Codes, codeRow{A: a, State: a.State(now)})
	}
	c.render(w, r, q, status, "checkin_app", d)
	return nil
}

func (c *Console) appDevices(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.appDevicesPage(w, r, q, http.StatusOK, appDevicesPage{})
}

// activationURL is the absolute app address a code's QR code carries.
func (c *Console) activationURL(r *http.Request, code string) string {
	scheme := "http"
	if httpx.IsHTTPS(r, c.TrustProxy) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/app/#activate=" + code
}

// qrDataURI renders s as a PNG QR code in a data: URI.
func qrDataURI(s string) (string, error) {
	code, err := qr.Encode(s, qr.M, qr.Auto)
	if err != nil {
		return "", err
	}
	code, err = barcode.Scale(code, 240, 240)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, code); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

func (c *Console) appCodeCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	code, a, err := c.DB.CreateActivationCode(r.Context(), q.Actor, r.PathValue("id"))
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.appDevicesPage(w, r, q, httpx.Status(casework.ErrorCode(err)), appDevicesPage{Err: fe})
	}
	if err != nil {
		return err
	}
	u := c.activationURL(r, code)
	img, err := qrDataURI(u)
	if err != nil {
		return err
	}
	// Shown once: the page answers the post (the code is stored hashed).
	return c.appDevicesPage(w, r, q, http.StatusCreated, appDevicesPage{NewCode: code[:4] + " " + code[4:], NewURL: u, QR: img, Expires: a.ExpiresAt})
}

func (c *Console) appCodeRevoke(w http.ResponseWriter, r *http.Request, q *req) error {
	a, err := c.DB.RevokeActivationCode(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return redirect(w, r, "/persons/"+a.PersonID+"/app", "code_revoked")
}

func (c *Console) deviceRetire(w http.ResponseWriter, r *http.Request, q *req) error {
	reason := strings.TrimSpace(r.FormValue("reason"))
	personID := r.FormValue("person_id")
	var err error = casework.Invalid("reason", "请填写停用原因", "state why the device is retired")
	if reason != "" {
		err = c.DB.RetireDevice(r.Context(), q.Actor, r.PathValue("id"), reason)
	}
	if fe, ok := toFormError(err, q.Lang); ok && personID != "" {
		// The person's page again, the message beside that device's
		// reason (issue 18 item 9); GetPerson scopes the id sent.
		r.SetPathValue("id", personID)
		return c.appDevicesPage(w, r, q, formStatus(err), appDevicesPage{Err: fe.sent("retire:"+r.FormValue("device_id"), r)})
	}
	if err != nil {
		return err
	}
	if personID == "" || strings.ContainsAny(personID, "/?#\\") {
		return redirect(w, r, "/persons", "device_retired")
	}
	return redirect(w, r, "/persons/"+personID+"/app", "device_retired")
}

type boardPage struct {
	Org        *casework.Org
	Today      casework.Date
	Rows       []store.BoardRow
	Checked    int               // a check-in today that counts
	Owing      int               // persons with an app who owe today's check-in
	NoApp      int               // persons without an active device (issue 18 §4)
	NotDue     int               // persons whose today is not a check-in day (checkin.every_days, issue 13 §4)
	CheckLbl   map[string]string // person id → the failed checks (or the verdict) of the day's last check-in
	Reg        store.Registration
	RegRate    string
	Duty       store.OrgDuty
	DutyRate   string
	From, To   casework.Date
	VerdictLbl map[casework.Verdict]string
}

func (c *Console) checkinBoard(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	org, err := c.DB.GetOrg(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	rows, today, err := c.DB.TodayBoard(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	reg, err := c.DB.RegistrationRate(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	from := casework.Date{Year: today.Year, Month: today.Month, Day: 1}
	duty, err := c.DB.OrgCheckinDuty(r.Context(), q.Actor, id, from, today)
	if err != nil {
		return err
	}
	d := boardPage{Org: org, Today: today, Rows: rows, Reg: reg, RegRate: pct(reg.Rate()), Duty: duty, DutyRate: pct(duty.Rate()),
		From: from, To: today, VerdictLbl: map[casework.Verdict]string{}, CheckLbl: map[string]string{}}
	for _, v := range casework.Verdicts {
		d.VerdictLbl[v] = v.Label(q.Lang)
	}
	for _, row := range rows {
		switch {
		case row.NoApp:
			d.NoApp++
		case row.NotDue:
			d.NotDue++ // not a check-in day (checkin.every_days): neither owing nor counted
		default:
			d.Owing++
			if row.Checked {
				d.Checked++
			}
		}
		if row.Verdict != "" {
			d.CheckLbl[row.PersonID] = row.Verdict.Label(q.Lang)
			if len(row.Checks) > 0 {
				d.CheckLbl[row.PersonID] = casework.CheckLabels(row.Checks, q.Lang)
			}
		}
	}
	c.render(w, r, q, http.StatusOK, "checkin_board", d)
	return nil
}

// noDevice lists who owes check-ins but has no active device (issue 18 §4).
func (c *Console) noDevice(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	org, err := c.DB.GetOrg(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	rows, err := c.DB.DevicelessPersons(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	c.render(w, r, q, http.StatusOK, "checkin_noapp", noDevicePage{Org: org, Rows: rows})
	return nil
}

type noDevicePage struct {
	Org  *casework.Org
	Rows []store.DevicelessPerson
}
