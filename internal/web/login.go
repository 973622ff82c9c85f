package web

import (
	"net/http"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
)

type loginData struct {
	Username string
	Next     string
	NeedOTP  bool
	Err      string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request, q *req) error {
	if q.Actor != nil {
		return redirect(w, r, safeNext(r.URL.Query().Get("next")), "")
	}
	c.render(w, r, q, http.StatusOK, "login", loginData{Next: safeNext(r.URL.Query().Get("next"))})
	return nil
}

func (c *Console) login(w http.ResponseWriter, r *http.Request, q *req) error {
	d := loginData{Username: r.PostFormValue("username"), Next: safeNext(r.PostFormValue("next"))}
	res, err := c.Auth.Login(r.Context(), auth.LoginInput{
		Username: d.Username, Password: r.PostFormValue("password"), OTP: r.PostFormValue("otp"),
		Kind: "web", IP: httpx.ClientIP(r, c.TrustProxy), UserAgent: r.UserAgent(),
	})
	if err != nil {
		code := casework.ErrorCode(err)
		if code == casework.EINTERNAL {
			return err
		}
		d.Err = casework.ErrorMessage(err, q.Lang)
		d.NeedOTP = code == casework.EOTPREQUIRED || r.PostFormValue("otp") != ""
		c.render(w, r, q, httpx.Status(code), "login", d)
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: res.Token, Path: "/", HttpOnly: true,
		Secure: httpx.IsHTTPS(r, c.TrustProxy), SameSite: http.SameSiteLaxMode, Expires: res.ExpiresAt})
	if res.NeedsTOTPEnrolment {
		return redirect(w, r, "/account?must=totp", "")
	}
	return redirect(w, r, d.Next, "")
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := c.Auth.Logout(r.Context(), q.Actor, q.Token); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: httpx.IsHTTPS(r, c.TrustProxy),
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	return redirect(w, r, "/login", "signed_out")
}

func (c *Console) setLang(w http.ResponseWriter, r *http.Request, q *req) error {
	lang := r.PostFormValue("lang")
	if lang != i18n.ZH && lang != i18n.EN {
		return casework.Invalid("lang", "语言应为 zh 或 en", "lang must be zh or en")
	}
	http.SetCookie(w, &http.Cookie{Name: i18n.CookieName, Value: lang, Path: "/", SameSite: http.SameSiteLaxMode,
		Secure: httpx.IsHTTPS(r, c.TrustProxy), Expires: time.Now().AddDate(1, 0, 0)})
	if q.Actor != nil {
		if err := c.DB.SetLang(r.Context(), q.Actor, lang); err != nil {
			return err
		}
	}
	return redirect(w, r, safeNext(r.PostFormValue("next")), "")
}
