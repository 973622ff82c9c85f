package web

import (
	"net/http"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
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
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	// Every problem of the form at once (issue 18 item 9); the current
	// password is checked once the rest is right. Passwords are never put
	// back in the form.
	var errs casework.FieldErrors
	if current == "" {
		errs.Add(casework.Invalid("current_password", "请填写当前密码", "enter your current password"))
	}
	errs.Add(casework.ValidatePassword(next))
	if next != r.PostFormValue("confirm_password") {
		errs.Add(casework.Invalid("confirm_password", "两次输入的新密码不一致", "the two new passwords differ"))
	}
	err := errs.Err()
	if err == nil {
		err = c.Auth.ChangePassword(r.Context(), q.Actor, current, next, q.Token)
	}
	if fe, ok := toFormError(err, q.Lang); ok {
		fe.rename("password", "new_password")
		return c.accountPage(w, r, q, accountData{PwErr: fe}, http.StatusUnprocessableEntity)
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
		// A mistyped code: the same QR code again with the message beside
		// the code and what was typed (issue 18 item 9).
		e, perr := c.Auth.PendingTOTP(r.Context(), q.Actor)
		if perr != nil {
			return perr
		}
		return c.accountPage(w, r, q, accountData{TOTPErr: fe.sent("totp", r), Enrolment: e}, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	q.User.TOTPEnabled = true
	return c.accountPage(w, r, q, accountData{RecoveryCodes: codes, Must: "-"}, http.StatusOK)
}
