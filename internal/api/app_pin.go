package api

// app_pin.go: the app's settings — changing the PIN (issue 4 §3). The old
// PIN is checked on the server against the argon2id hash kept since
// activation; wrong tries are counted per device and lock the change
// (store.ChangeDevicePIN). The request is signed like every state-changing
// app request, so a stolen token alone cannot try PINs.

import (
	"context"
	"net/http"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
)

type pinJSON struct {
	OldPIN      string `json:"old_pin"`
	NewPIN      string `json:"new_pin"`
	NewPINAgain string `json:"new_pin_again"`
}

func (a *API) appChangePIN(w http.ResponseWriter, r *http.Request, q *appReq) error {
	var in pinJSON
	if err := decodeApp(r, q, &in); err != nil {
		return err
	}
	if !casework.ValidPIN(in.OldPIN) {
		return casework.Invalid("old_pin", "请输入原来的6位数字密码", "enter your current 6-digit PIN")
	}
	if err := casework.CheckNewPIN("new_pin", in.NewPIN, in.NewPINAgain); err != nil {
		return err
	}
	if in.NewPIN == in.OldPIN {
		return casework.Invalid("new_pin", "新密码不能与原密码相同", "the new PIN must differ from the current one")
	}
	err := a.DB.ChangeDevicePIN(r.Context(), q.Device.ID, storePINChange(in.OldPIN, in.NewPIN))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"device_id": q.Device.ID, "changed": true})
	return nil
}

func storePINChange(old, next string) store.PINChange {
	return store.PINChange{
		Check:   func(ctx context.Context, hash string) (bool, error) { return auth.CheckPassword(ctx, hash, old) },
		NewHash: func(ctx context.Context) (string, error) { return auth.HashPassword(ctx, next) },
	}
}

// appVerifyPIN unlocks the app (issue 18 §3): the PIN is checked on the
// server with the lockout of a PIN change. Signed, so a stolen token alone
// cannot try PINs.
func (a *API) appVerifyPIN(w http.ResponseWriter, r *http.Request, q *appReq) error {
	var in struct {
		PIN string `json:"pin"`
	}
	if err := decodeApp(r, q, &in); err != nil {
		return err
	}
	if !casework.ValidPIN(in.PIN) {
		return casework.Invalid("pin", "请输入6位数字密码", "enter your 6-digit PIN")
	}
	err := a.DB.VerifyDevicePIN(r.Context(), q.Device.ID, func(ctx context.Context, hash string) (bool, error) {
		return auth.CheckPassword(ctx, hash, in.PIN)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"device_id": q.Device.ID, "ok": true})
	return nil
}

// todayAppSettings adds the app's PIN policy of today (app.pin_idle_minutes,
// app.pin_each_checkin) to the today answer.
func (a *API) todayAppSettings(ctx context.Context, dev *store.AppDevice, _ string, out map[string]any) error {
	pol, err := a.DB.AppPolicyToday(ctx, dev.PersonID)
	if err != nil {
		return err
	}
	out["app"] = map[string]any{"pin_idle_minutes": pol.Value("app.pin_idle_minutes").Int(), "pin_each_checkin": pol.Value("app.pin_each_checkin").Bool()}
	return nil
}
