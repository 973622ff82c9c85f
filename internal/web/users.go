package web

import (
	"net/http"
	"strconv"
	"strings"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
)

type userListData struct {
	Users  []*casework.User
	Total  int
	Query  string
	Role   string
	Offset int
	Next   int
	Prev   int
}

const pageSize = 50

func (c *Console) userList(w http.ResponseWriter, r *http.Request, q *req) error {
	off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	f := store.UserFilter{Query: r.URL.Query().Get("q"), Role: casework.Role(r.URL.Query().Get("role")), Offset: max(off, 0), Limit: pageSize}
	users, total, err := c.DB.ListUsers(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	d := userListData{Users: users, Total: total, Query: f.Query, Role: string(f.Role), Offset: f.Offset, Next: -1, Prev: -1}
	if f.Offset+pageSize < total {
		d.Next = f.Offset + pageSize
	}
	if f.Offset > 0 {
		d.Prev = max(f.Offset-pageSize, 0)
	}
	c.render(w, r, q, http.StatusOK, "users", d)
	return nil
}

type userFormData struct {
	Form casework.UserInput
	Orgs []*casework.Org
	Err  *formError
}

func (c *Console) manageableOrgs(r *http.Request, q *req) ([]*casework.Org, error) {
	all, err := c.DB.ListOrgs(r.Context(), q.Actor, store.OrgFilter{})
	if err != nil {
		return nil, err
	}
	var out []*casework.Org
	for _, o := range all {
		if q.Actor.Can(casework.PermManageUsers, o.Path) {
			out = append(out, o)
		}
	}
	return out, nil
}

func (c *Console) userNewPage(w http.ResponseWriter, r *http.Request, q *req, d userFormData, status int) error {
	orgs, err := c.manageableOrgs(r, q)
	if err != nil {
		return err
	}
	d.Orgs = orgs
	c.render(w, r, q, status, "user_new", d)
	return nil
}

func (c *Console) userNew(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.userNewPage(w, r, q, userFormData{Form: casework.UserInput{OrgID: r.URL.Query().Get("org")}}, http.StatusOK)
}

func (c *Console) userCreate(w http.ResponseWriter, r *http.Request, q *req) error {
	in := casework.UserInput{Username: r.PostFormValue("username"), DisplayName: r.PostFormValue("display_name"),
		OrgID: r.PostFormValue("org_id"), Sex: r.PostFormValue("sex"), Phone: r.PostFormValue("phone"), Password: r.PostFormValue("password")}
	if err := in.Validate(); err != nil {
		fe, _ := toFormError(err, q.Lang)
		in.Password = ""
		return c.userNewPage(w, r, q, userFormData{Form: in, Err: fe}, http.StatusBadRequest)
	}
	hash, err := auth.HashPassword(r.Context(), in.Password)
	if err != nil {
		return err
	}
	// New accounts get a temporary password: the user replaces it at first sign-in.
	u, err := c.DB.CreateUser(r.Context(), q.Actor, in, hash, true)
	if fe, ok := toFormError(err, q.Lang); ok {
		in.Password = ""
		return c.userNewPage(w, r, q, userFormData{Form: in, Err: fe}, http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/users/"+u.ID, "user_created")
}

type userViewData struct {
	U        *casework.User
	Orgs     []*casework.Org
	GrantErr *formError
	PwErr    *formError
}

func (c *Console) userPage(w http.ResponseWriter, r *http.Request, q *req, d userViewData, status int) error {
	u, err := c.DB.GetUser(r.Context(), q.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	if u.ID == q.Actor.UserID && !q.Actor.Can(casework.PermManageUsers, u.OrgPath) {
		return casework.NotFound("用户", "user")
	}
	d.U = u
	if d.Orgs, err = c.manageableOrgs(r, q); err != nil {
		return err
	}
	c.render(w, r, q, status, "user", d)
	return nil
}

func (c *Console) userView(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.userPage(w, r, q, userViewData{}, http.StatusOK)
}

func (c *Console) userGrant(w http.ResponseWriter, r *http.Request, q *req) error {
	role, orgID := casework.Role(r.PostFormValue("role")), strings.TrimSpace(r.PostFormValue("org_id"))
	var errs casework.FieldErrors // the role and the org at once (issue 18 item 9)
	if !role.Valid() {
		errs.Add(casework.Invalid("role", "请选择角色", "choose a role"))
	}
	if orgID == "" {
		errs.Add(casework.Invalid("org_id", "请选择机构", "choose an organisation"))
	}
	err := errs.Err()
	if err == nil {
		_, err = c.DB.GrantRole(r.Context(), q.Actor, r.PathValue("id"), role, orgID)
	}
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.userPage(w, r, q, userViewData{GrantErr: fe.sent("grant", r)}, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/users/"+r.PathValue("id"), "role_granted")
}

func (c *Console) userRevoke(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := c.DB.RevokeGrant(r.Context(), q.Actor, r.PathValue("id")); err != nil {
		return err
	}
	return redirect(w, r, safeNext(r.PostFormValue("next")), "role_revoked")
}

func (c *Console) userResetPassword(w http.ResponseWriter, r *http.Request, q *req) error {
	pw := r.PostFormValue("password")
	if err := casework.ValidatePassword(pw); err != nil {
		fe, _ := toFormError(err, q.Lang)
		return c.userPage(w, r, q, userViewData{PwErr: fe.sent("password", r)}, http.StatusUnprocessableEntity)
	}
	hash, err := auth.HashPassword(r.Context(), pw)
	if err != nil {
		return err
	}
	if err := c.DB.SetPassword(r.Context(), q.Actor, r.PathValue("id"), hash, true, ""); err != nil {
		return err
	}
	return redirect(w, r, "/users/"+r.PathValue("id"), "password_reset")
}

// accountReason checks the reason the console's account actions ask for
// (disable, enable, turn off TOTP): it goes into the audit log, and the
// form says it is required.
func accountReason(r *http.Request) (string, error) {
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		return "", casework.Invalid("reason", "请填写原因", "a reason is required")
	}
	return reason, casework.CheckText("reason", reason, 500)
}

func (c *Console) userDisable(w http.ResponseWriter, r *http.Request, q *req) error {
	reason, err := accountReason(r)
	if err == nil {
		err = c.DB.SetDisabled(r.Context(), q.Actor, r.PathValue("id"), true, reason)
	}
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.userPage(w, r, q, userViewData{PwErr: fe.sent("disable", r)}, formStatus(err))
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/users/"+r.PathValue("id"), "user_disabled")
}

// userUnlock lifts the account's sign-in locks (issue 15 §4): a second
// administrator, with a reason; the holder is told.
func (c *Console) userUnlock(w http.ResponseWriter, r *http.Request, q *req) error {
	err := c.DB.UnlockLogin(r.Context(), q.Actor, r.PathValue("id"), r.PostFormValue("reason"))
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.userPage(w, r, q, userViewData{PwErr: fe.sent("unlock", r)}, formStatus(err))
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/users/"+r.PathValue("id"), "user_unlocked")
}

func (c *Console) userEnable(w http.ResponseWriter, r *http.Request, q *req) error {
	reason, err := accountReason(r)
	if err == nil {
		err = c.DB.SetDisabled(r.Context(), q.Actor, r.PathValue("id"), false, reason)
	}
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.userPage(w, r, q, userViewData{PwErr: fe.sent("enable", r)}, formStatus(err))
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/users/"+r.PathValue("id"), "user_enabled")
}

func (c *Console) userResetTOTP(w http.ResponseWriter, r *http.Request, q *req) error {
	reason, err := accountReason(r)
	if err == nil {
		err = c.DB.DisableTOTP(r.Context(), q.Actor, r.PathValue("id"), reason)
	}
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.userPage(w, r, q, userViewData{PwErr: fe.sent("totp_reset", r)}, formStatus(err))
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/users/"+r.PathValue("id"), "totp_reset")
}

// formStatus is a refused form's status: 422 for bad input, 409 for a
// conflict with the record's state.
func formStatus(err error) int {
	if casework.IsCode(err, casework.ECONFLICT) {
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}
