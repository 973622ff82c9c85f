package api

// app_staff.go: the staff side of the person's app (issue 4 §2, §5):
// activation codes and devices of a person, check-ins with the duty, and
// the registration and check-in rates of an org subtree.

import (
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

func (a *API) staffAppRoutes(rt route) []httpx.Route {
	readP := httpx.Access{Perm: casework.PermReadPersons, Target: "person"}
	writeP := httpx.Access{Perm: casework.PermWritePersons, Target: "person"}
	return []httpx.Route{
		rt("POST", "/api/v1/persons/{id}/activation-codes", writeP, a.createActivationCode, "make a one-time app activation code (72 h)"),
		rt("GET", "/api/v1/persons/{id}/activation-codes", readP, a.listActivationCodes, "a person's activation codes and devices"),
		rt("POST", "/api/v1/activation-codes/{id}/revoke", httpx.Access{Perm: casework.PermWritePersons, Target: "activation_code"},
			a.revokeActivationCode, "revoke an unused activation code"),
		rt("POST", "/api/v1/devices/{id}/retire", httpx.Access{Perm: casework.PermWritePersons, Target: "device"},
			a.retireDevice, "retire a person's app device (lost phone)"),
		rt("GET", "/api/v1/persons/{id}/checkins", readP, a.listCheckins, "a person's check-ins and daily duty over a period"),
		rt("GET", "/api/v1/orgs/{id}/checkin-stats", httpx.Access{Perm: casework.PermReadPersons, Target: "org"},
			a.checkinStats, "registration rate and daily check-in rate of an org subtree"),
		rt("GET", "/api/v1/orgs/{id}/no-device", httpx.Access{Perm: casework.PermReadPersons, Target: "org"},
			a.devicelessPersons, "persons of an org subtree who owe check-ins but have no active app device (their days are not counted as missed)"),
	}
}

type devicelessJSON struct {
	PersonID    string         `json:"person_id"`
	Name        string         `json:"name"`
	OrgName     string         `json:"org_name"`
	Status      string         `json:"status"`
	StatusLabel string         `json:"status_label"`
	RetiredOn   *casework.Date `json:"retired_on,omitempty"` // the last device's retirement; absent: never had one
}

// devicelessPersons lists who has no active device (issue 18 §4).
func (a *API) devicelessPersons(w http.ResponseWriter, r *http.Request, q *req) error {
	list, err := a.DB.DevicelessPersons(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	items := make([]devicelessJSON, 0, len(list))
	for _, p := range list {
		j := devicelessJSON{PersonID: p.PersonID, Name: p.Name, OrgName: p.OrgName, Status: string(p.Status), StatusLabel: p.Status.Label(q.Lang)}
		if !p.RetiredOn.IsZero() {
			d := p.RetiredOn
			j.RetiredOn = &d
		}
		items = append(items, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "total": len(items)})
	return nil
}

// ActivationURL is the app address a code's QR code carries.
func ActivationURL(code string) string { return "/app/#activate=" + code }

type activationCodeJSON struct {
	ID            string     `json:"id"`
	Code          string     `json:"code,omitempty"` // only when made
	ActivationURL string     `json:"activation_url,omitempty"`
	State         string     `json:"state"`
	CreatedBy     string     `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	UsedAt        *time.Time `json:"used_at,omitempty"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	DeviceID      string     `json:"device_id,omitempty"`
}

func toActivationJSON(c *store.ActivationCode, now time.Time) activationCodeJSON {
	return activationCodeJSON{ID: c.ID, State: c.State(now), CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt,
		UsedAt: timePtr(c.UsedAt), RevokedAt: timePtr(c.RevokedAt), DeviceID: c.DeviceID}
}

type deviceJSON struct {
	ID           string     `json:"id"`
	Active       bool       `json:"active"`
	ActivatedAt  time.Time  `json:"activated_at"`
	RetiredAt    *time.Time `json:"retired_at,omitempty"`
	RetireReason string     `json:"retire_reason,omitempty"`
}

func (a *API) createActivationCode(w http.ResponseWriter, r *http.Request, q *req) error {
	code, c, err := a.DB.CreateActivationCode(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := toActivationJSON(c, a.DB.Now())
	out.Code, out.ActivationURL = code, ActivationURL(code)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (a *API) listActivationCodes(w http.ResponseWriter, r *http.Request, q *req) error {
	codes, devices, err := a.DB.ListActivationCodes(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := struct {
		Codes   []activationCodeJSON `json:"codes"`
		Devices []deviceJSON         `json:"devices"`
	}{Codes: []activationCodeJSON{}, Devices: []deviceJSON{}}
	now := a.DB.Now()
	for _, c := range codes {
		out.Codes = append(out.Codes, toActivationJSON(c, now))
	}
	for _, d := range devices {
		out.Devices = append(out.Devices, deviceJSON{ID: d.ID, Active: d.Active(), ActivatedAt: d.ActivatedAt, RetiredAt: timePtr(d.RetiredAt), RetireReason: d.RetireReason})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) revokeActivationCode(w http.ResponseWriter, r *http.Request, q *req) error {
	c, err := a.DB.RevokeActivationCode(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toActivationJSON(c, a.DB.Now()))
	return nil
}

func (a *API) retireDevice(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Reason == "" {
		return casework.Invalid("reason", "请填写停用原因", "state why the device is retired")
	}
	if err := a.DB.RetireDevice(r.Context(), q.Actor, r.PathValue("id"), in.Reason); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// period reads from/to (YYYY-MM-DD); missing: this month to today.
func (a *API) period(r *http.Request) (casework.Date, casework.Date, error) {
	today := a.today()
	from, to := casework.Date{Year: today.Year, Month: today.Month, Day: 1}, today
	var err error
	if s := r.URL.Query().Get("from"); s != "" {
		if from, err = casework.ParseDateField("from", s); err != nil {
			return from, to, err
		}
	}
	if s := r.URL.Query().Get("to"); s != "" {
		if to, err = casework.ParseDateField("to", s); err != nil {
			return from, to, err
		}
	}
	return from, to, nil
}

type dutyJSON struct {
	Due    int             `json:"due"`
	Done   int             `json:"done"`
	Rate   float64         `json:"rate"`
	Missed []casework.Date `json:"missed"`
}

func (a *API) listCheckins(w http.ResponseWriter, r *http.Request, q *req) error {
	from, to, err := a.period(r)
	if err != nil {
		return err
	}
	duty, err := a.DB.PersonDuty(r.Context(), q.Actor, r.PathValue("id"), from, to)
	if err != nil {
		return err
	}
	list, err := a.DB.ListCheckins(r.Context(), q.Actor, r.PathValue("id"), from, to)
	if err != nil {
		return err
	}
	items := make([]checkinJSON, 0, len(list))
	for _, c := range list {
		items = append(items, toCheckinJSON(c, q.Lang))
	}
	missed := duty.Missed
	if missed == nil {
		missed = []casework.Date{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "total": len(items),
		"duty": dutyJSON{Due: duty.Due, Done: duty.Done, Rate: duty.Rate(), Missed: missed}})
	return nil
}

func (a *API) checkinStats(w http.ResponseWriter, r *http.Request, q *req) error {
	from, to, err := a.period(r)
	if err != nil {
		return err
	}
	reg, err := a.DB.RegistrationRate(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	duty, err := a.DB.OrgCheckinDuty(r.Context(), q.Actor, r.PathValue("id"), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"from": from, "to": to,
		"registration": map[string]any{"executing": reg.Executing, "registered": reg.Registered, "rate": reg.Rate()},
		"checkin":      map[string]any{"persons": duty.Persons, "due": duty.Due, "done": duty.Done, "rate": duty.Rate()},
	})
	return nil
}
