package api

import (
	"net/http"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	OTP      string `json:"otp"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (a *API) login(w http.ResponseWriter, r *http.Request, q *req) error {
	var in loginRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Username == "" || in.Password == "" {
		return casework.Invalid("username", "请填写用户名和密码", "username and password are required")
	}
	res, err := a.Auth.Login(r.Context(), auth.LoginInput{Username: in.Username, Password: in.Password, OTP: in.OTP,
		Kind: "api", IP: httpx.ClientIP(r, a.TrustProxy), UserAgent: r.UserAgent()})
	if err != nil {
		return err
	}
	if res.NeedsTOTPEnrolment {
		// Policy requires a second factor this account has not set up: no
		// API token until it is enrolled in the console.
		if err := a.Auth.DB.RevokeSession(r.Context(), &casework.Actor{UserID: res.UserID}, auth.TokenHash(res.Token)); err != nil {
			return err
		}
		return casework.Errorf(casework.EFORBIDDEN, "此账号须先在工作台开启两步验证", "this account must turn on two-factor sign-in in the console first")
	}
	writeJSON(w, http.StatusOK, loginResponse{Token: res.Token, ExpiresAt: res.ExpiresAt})
	return nil
}

func (a *API) logout(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := a.Auth.Logout(r.Context(), q.Actor, q.Token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type grantJSON struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	OrgID   string `json:"org_id"`
	OrgName string `json:"org_name"`
}

type userJSON struct {
	ID                 string      `json:"id"`
	Username           string      `json:"username"`
	DisplayName        string      `json:"display_name"`
	OrgID              string      `json:"org_id"`
	OrgName            string      `json:"org_name"`
	Sex                string      `json:"sex,omitempty"`
	Lang               string      `json:"lang"`
	Disabled           bool        `json:"disabled"`
	TOTPEnabled        bool        `json:"totp_enabled"`
	MustChangePassword bool        `json:"must_change_password"`
	LastLoginAt        *time.Time  `json:"last_login_at,omitempty"`
	CreatedAt          time.Time   `json:"created_at"`
	Grants             []grantJSON `json:"grants"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toUserJSON(u *casework.User) userJSON {
	j := userJSON{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, OrgID: u.OrgID, OrgName: u.OrgName, Sex: u.Sex,
		Lang: u.Lang, Disabled: u.Disabled, TOTPEnabled: u.TOTPEnabled, MustChangePassword: u.MustChangePassword,
		LastLoginAt: timePtr(u.LastLoginAt), CreatedAt: u.CreatedAt, Grants: []grantJSON{}}
	for _, g := range u.Grants {
		j.Grants = append(j.Grants, grantJSON{ID: g.ID, Role: string(g.Role), OrgID: g.OrgID, OrgName: g.OrgName})
	}
	return j
}

func (a *API) me(w http.ResponseWriter, r *http.Request, q *req) error {
	u, err := a.DB.GetUser(r.Context(), q.Actor, q.Actor.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
	return nil
}

type orgJSON struct {
	ID        string    `json:"id"`
	ParentID  string    `json:"parent_id,omitempty"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	AreaCode  string    `json:"area_code,omitempty"`
	TimeZone  string    `json:"time_zone"`
	Geofence  any       `json:"geofence,omitempty"`
	Retired   bool      `json:"retired"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toOrgJSON(o *casework.Org) orgJSON {
	j := orgJSON{ID: o.ID, ParentID: o.ParentID, Kind: string(o.Kind), Name: o.Name, AreaCode: o.AreaCode, TimeZone: o.TimeZone,
		Retired: o.Retired, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
	if o.Geofence != nil {
		j.Geofence = o.Geofence
	}
	return j
}

func (a *API) listOrgs(w http.ResponseWriter, r *http.Request, q *req) error {
	orgs, err := a.DB.ListOrgs(r.Context(), q.Actor, store.OrgFilter{UnderID: r.URL.Query().Get("under"), IncludeRetired: r.URL.Query().Get("retired") == "true"})
	if err != nil {
		return err
	}
	out := list[orgJSON]{Items: []orgJSON{}, Total: len(orgs)}
	for _, o := range orgs {
		out.Items = append(out.Items, toOrgJSON(o))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getOrg(w http.ResponseWriter, r *http.Request, q *req) error {
	o, err := a.DB.GetOrg(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOrgJSON(o))
	return nil
}

type orgRequest struct {
	ParentID string      `json:"parent_id"`
	Kind     string      `json:"kind"`
	Name     *string     `json:"name"`
	AreaCode *string     `json:"area_code"`
	TimeZone *string     `json:"time_zone"`
	Geofence rawGeofence `json:"geofence"`
}

// rawGeofence keeps the geofence as given: an object, null (remove) or
// absent (keep).
type rawGeofence struct {
	Set   bool
	Value string
}

func (g *rawGeofence) UnmarshalJSON(b []byte) error {
	g.Set = true
	if string(b) != "null" {
		g.Value = string(b)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (a *API) createOrg(w http.ResponseWriter, r *http.Request, q *req) error {
	var in orgRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.ParentID == "" {
		return casework.Invalid("parent_id", "请指定上级机构", "parent_id is required")
	}
	o, err := a.DB.CreateOrg(r.Context(), q.Actor, casework.OrgInput{ParentID: in.ParentID, Kind: casework.OrgKind(in.Kind),
		Name: deref(in.Name), AreaCode: deref(in.AreaCode), TimeZone: deref(in.TimeZone), Geofence: in.Geofence.Value})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toOrgJSON(o))
	return nil
}

func (a *API) updateOrg(w http.ResponseWriter, r *http.Request, q *req) error {
	var in orgRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.ParentID != "" || in.Kind != "" {
		return casework.Invalid("parent_id", "上级和层级不能在此修改（移动请用 /move）", "parent_id and kind cannot be patched; use /move to move an org")
	}
	up := store.OrgUpdate{Name: in.Name, AreaCode: in.AreaCode, TimeZone: in.TimeZone}
	if in.Geofence.Set {
		up.Geofence = &in.Geofence.Value
	}
	o, err := a.DB.UpdateOrg(r.Context(), q.Actor, r.PathValue("id"), up)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOrgJSON(o))
	return nil
}

type moveRequest struct {
	ParentID string `json:"parent_id"`
}

func (a *API) moveOrg(w http.ResponseWriter, r *http.Request, q *req) error {
	var in moveRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	o, err := a.DB.MoveOrg(r.Context(), q.Actor, r.PathValue("id"), in.ParentID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOrgJSON(o))
	return nil
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (a *API) retireOrg(w http.ResponseWriter, r *http.Request, q *req) error {
	var in reasonRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.DB.RetireOrg(r.Context(), q.Actor, r.PathValue("id"), in.Reason); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteOrg(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := a.DB.DeleteOrg(r.Context(), q.Actor, r.PathValue("id"), r.URL.Query().Get("reason")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, q *req) error {
	off, lim, err := paging(r)
	if err != nil {
		return err
	}
	qs := r.URL.Query()
	users, total, err := a.DB.ListUsers(r.Context(), q.Actor, store.UserFilter{Query: qs.Get("q"), OrgID: qs.Get("org_id"),
		Role: casework.Role(qs.Get("role")), Offset: off, Limit: lim})
	if err != nil {
		return err
	}
	out := list[userJSON]{Items: []userJSON{}, Total: total}
	for _, u := range users {
		out.Items = append(out.Items, toUserJSON(u))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createUserRequest struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	OrgID       string `json:"org_id"`
	Sex         string `json:"sex"`
	Phone       string `json:"phone"`
	Password    string `json:"password"`
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request, q *req) error {
	var in createUserRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	ui := casework.UserInput{Username: in.Username, DisplayName: in.DisplayName, OrgID: in.OrgID, Sex: in.Sex, Phone: in.Phone, Password: in.Password}
	if err := ui.Validate(); err != nil {
		return err
	}
	hash, err := auth.HashPassword(r.Context(), ui.Password)
	if err != nil {
		return err
	}
	u, err := a.DB.CreateUser(r.Context(), q.Actor, ui, hash, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toUserJSON(u))
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, q *req) error {
	u, err := a.DB.GetUser(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	if u.ID == q.Actor.UserID && !q.Actor.Can(casework.PermManageUsers, u.OrgPath) {
		return casework.NotFound("用户", "user")
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
	return nil
}

type grantRequest struct {
	Role  string `json:"role"`
	OrgID string `json:"org_id"`
}

func (a *API) grantRole(w http.ResponseWriter, r *http.Request, q *req) error {
	var in grantRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	g, err := a.DB.GrantRole(r.Context(), q.Actor, r.PathValue("id"), casework.Role(in.Role), in.OrgID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, grantJSON{ID: g.ID, Role: string(g.Role), OrgID: g.OrgID, OrgName: g.OrgName})
	return nil
}

func (a *API) revokeGrant(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := a.DB.RevokeGrant(r.Context(), q.Actor, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type passwordRequest struct {
	Password string `json:"password"`
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request, q *req) error {
	var in passwordRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := casework.ValidatePassword(in.Password); err != nil {
		return err
	}
	if _, err := a.DB.GetUser(r.Context(), q.Actor, r.PathValue("id")); err != nil {
		return err
	}
	hash, err := auth.HashPassword(r.Context(), in.Password)
	if err != nil {
		return err
	}
	if err := a.DB.SetPassword(r.Context(), q.Actor, r.PathValue("id"), hash, true, ""); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) setDisabled(w http.ResponseWriter, r *http.Request, q *req, disabled bool) error {
	var in reasonRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.DB.SetDisabled(r.Context(), q.Actor, r.PathValue("id"), disabled, in.Reason); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) disableUser(w http.ResponseWriter, r *http.Request, q *req) error {
	return a.setDisabled(w, r, q, true)
}

func (a *API) enableUser(w http.ResponseWriter, r *http.Request, q *req) error {
	return a.setDisabled(w, r, q, false)
}

type auditJSON struct {
	Seq        int64     `json:"seq"`
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	ActorID    string    `json:"actor_id,omitempty"`
	ActorName  string    `json:"actor_name"`
	IP         string    `json:"ip"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type,omitempty"`
	TargetID   string    `json:"target_id,omitempty"`
	OrgID      string    `json:"org_id,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Detail     string    `json:"detail,omitempty"`
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, q *req) error {
	off, lim, err := paging(r)
	if err != nil {
		return err
	}
	qs := r.URL.Query()
	f := store.AuditFilter{ActorName: qs.Get("actor"), Action: qs.Get("action"), TargetType: qs.Get("target_type"), TargetID: qs.Get("target_id"), Offset: off, Limit: lim}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if s := qs.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return casework.Invalid(p.name, "%s 须为 RFC 3339 时间，如 2021-03-01T00:00:00+08:00", "%s must be an RFC 3339 time such as 2021-03-01T00:00:00+08:00", p.name)
			}
			*p.dst = t
		}
	}
	rows, total, err := a.DB.ListAudit(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	out := list[auditJSON]{Items: []auditJSON{}, Total: total}
	for _, x := range rows {
		out.Items = append(out.Items, auditJSON{Seq: x.Seq, ID: x.ID, At: x.At, ActorID: x.ActorID, ActorName: x.ActorName, IP: x.IP,
			Action: x.Action, TargetType: x.TargetType, TargetID: x.TargetID, OrgID: x.OrgID, Reason: x.Reason, Detail: x.Detail})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
