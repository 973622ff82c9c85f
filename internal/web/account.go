package web

import (
	"net/http"

	"kangfu/internal/auth"
)

type accountData struct {
	Must          string
	PwErr         *formError
	TOTPErr       *formError
	Enrolment     *auth.Enrolment
	RecoveryCodes []string
	CodesLeft     int
}

func (c *Console) accountPage(w http.ResponseWriter, r *http.Request, q *req, d accountData, status int) error {
	if d.Must == "" {
		d.Must = r.URL.Query().Get("must")
	}
	if q.User.TOTPEnabled {
		n, err := c.DB.RecoveryCodesLeft(r.Context(), q.Actor)
		if err != nil {
			return err
		}
		d.CodesLeft = n
	}
	c.render(w, r, q, status, "account", d)
	return nil
}

func (c *Console) account(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.accountPage(w, r, q, accountData{}, http.StatusOK)
}

func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, q *req) error {
	next := r.PostFormValue("new_password")
	if next != r.PostFormValue("confirm_password") {
		return c.accountPage(w, r, q, accountData{PwErr: &formError{Field: "confirm_password",
			Message: map[string]string{"zh": "两次输入的新密码不一致", "en": "the two new passwords differ"}[q.Lang]}}, http.StatusBadRequest)
	}
	err := c.Auth.ChangePassword(r.Context(), q.Actor, r.PostFormValue("current_password"), next, q.Token)
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.accountPage(w, r, q, accountData{PwErr: fe}, http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/account", "password_changed")
}

func (c *Console) totpStart(w http.ResponseWriter, r *http.Request, q *req) error {
	e, err := c.Auth.StartTOTP(r.Context(), q.Actor)
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.accountPage(w, r, q, accountData{TOTPErr: fe}, http.StatusConflict)
	}
	if err != nil {
		return err
	}
	return c.accountPage(w, r, q, accountData{Enrolment: e}, http.StatusOK)
}

func (c *Console) totpConfirm(w http.ResponseWriter, r *http.Request, q *req) error {
	codes, err := c.Auth.ConfirmTOTP(r.Context(), q.Actor, r.PostFormValue("code"))
	if fe, ok := toFormError(err, q.Lang); ok {
		return c.accountPage(w, r, q, accountData{TOTPErr: fe}, http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	q.User.TOTPEnabled = true
	return c.accountPage(w, r, q, accountData{RecoveryCodes: codes, Must: "-"}, http.StatusOK)
}
