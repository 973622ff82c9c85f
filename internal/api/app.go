package api

// app.go: the person's app under /api/v1/app/… (issue 4; the contract in
// the brief). The app is not a staff user: it is authenticated by a device
// token (Authorization: Bearer), and state-changing requests are signed
// with the device's ECDSA P-256 key over the exact body bytes
// (X-Kangfu-Signature). Other parts of issue 4 (leave, messages) add their
// app routes with appRoute and their part of "today" to the list in appToday.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// AppAuth says how an app route authenticates.
type AppAuth int

// The app route kinds.
const (
	AppOpen   AppAuth = iota // no device (activation: the code is the credential)
	AppDevice                // a device token
	AppSigned                // a device token and a signature of the body
)

// appReq is an app request after authentication.
type appReq struct {
	Lang   string
	Device *store.AppDevice // nil for AppOpen
	Body   []byte           // the exact body bytes (signed routes verify these)
	Sig    string
}

type appHandler func(w http.ResponseWriter, r *http.Request, q *appReq) error

// Body limits: JSON requests and photos (issue 4 §4: at most 200 KB).
const (
	appMaxJSON  = 64 << 10
	appMaxPhoto = 200 << 10
)

// appRoute makes an app route. Its Access is Public for the staff wrapper
// (no staff session); the device check is here. The access matrix marks
// these routes "device" (server/access_checkins_test.go).
func (a *API) appRoute(method, pattern string, kind AppAuth, h appHandler, summary string) httpx.Route {
	max := int64(appMaxJSON)
	if pattern == "/api/v1/app/photos" {
		max = appMaxPhoto
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := &appReq{Lang: i18n.FromRequest(r)}
		sq := &req{Lang: q.Lang}
		if err := a.appAuth(r, q, kind, max); err != nil {
			a.fail(w, r, sq, err)
			return
		}
		if err := h(w, r, q); err != nil {
			a.fail(w, r, sq, err)
		}
	})
	return httpx.Route{Method: method, Pattern: pattern, Access: httpx.Access{Public: true}, Handler: handler, Summary: summary}
}

func (a *API) appAuth(r *http.Request, q *appReq, kind AppAuth, max int64) error {
	if kind != AppOpen {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(tok) == "" {
			return casework.Errorf(casework.EUNAUTHORIZED, "缺少设备令牌（Authorization: Bearer）", "missing device token (Authorization: Bearer)")
		}
		// A device retired on another server is refused by every request
		// that changes something at once (a fresh read; check-ins by the
		// writer's re-check, which keeps their hot path on the cache), and
		// by reads within store.AppCacheTTL (issue 16 §2).
		load := a.DB.AppDeviceByToken
		if r.Method != http.MethodGet && r.URL.Path != "/api/v1/app/checkins" {
			load = a.DB.AppDeviceByTokenFresh
		}
		d, err := load(r.Context(), auth.TokenHash(strings.TrimSpace(tok)))
		if err != nil {
			return err
		}
		q.Device = d
		httpx.SetActor(r.Context(), "app:"+d.ID)
	}
	if r.Method == http.MethodPost {
		b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
		if err != nil {
			return casework.Errorf(casework.EINVALID, "无法读取请求体", "cannot read the request body")
		}
		if int64(len(b)) > max {
			return casework.Invalid("body", "请求体过大（上限 %d KB）", "the body is too large (at most %d KB)", max>>10)
		}
		q.Body = b
	}
	if kind == AppSigned {
		q.Sig = r.Header.Get("X-Kangfu-Signature")
		if err := casework.VerifySignature(q.Device.Key, q.Body, q.Sig); err != nil {
			return err
		}
	}
	return nil
}

// decodeApp decodes the body bytes strictly (decode's rules).
func decodeApp(r *http.Request, q *appReq, v any) error {
	r2 := *r
	r2.Body = io.NopCloser(bytes.NewReader(q.Body))
	return decode(&r2, v)
}

// appRoutes are the app's routes (this file: activation, photos,
// check-ins, today).
func (a *API) appRoutes(rt route) []httpx.Route {
	return append([]httpx.Route{
		a.appRoute("POST", "/api/v1/app/activate", AppOpen, a.appActivate, "app: redeem an activation code, register the device key and PIN"),
		a.appRoute("POST", "/api/v1/app/photos", AppDevice, a.appPhoto, "app: upload a check-in selfie (JPEG, at most 200 KB) by its SHA-256"),
		a.appRoute("POST", "/api/v1/app/checkins", AppSigned, a.appCheckin, "app: a signed check-in, stored once by its client id"),
		a.appRoute("GET", "/api/v1/app/today", AppDevice, a.appToday, "app: today's duties"),
		a.appRoute("GET", "/api/v1/app/checkins", AppDevice, a.appRecords, "app: my records of a month — check-ins with verdicts, the duty, leave, test outcomes"),
		a.appRoute("POST", "/api/v1/app/pin", AppSigned, a.appChangePIN, "app: change the PIN (the old one is checked; wrong tries lock the change)"),
		a.appRoute("POST", "/api/v1/app/lang", AppSigned, a.appSetLang, "app: the language the person switched the app to; the system's notices to the person are worded in it"),
		a.appRoute("POST", "/api/v1/app/pin/verify", AppSigned, a.appVerifyPIN, "app: unlock the app with the PIN (checked on the server; wrong tries lock it)"),
	}, append(a.staffAppRoutes(rt), a.appFaceRoutes()...)...)
}

// activation attempts per client address: a code is 8 characters of 25,
// single use and valid 72 h; the limit (10 at once, then one every 6
// seconds) keeps guessing hopeless. The bucket is in the database, so it
// holds across servers (issue 16 §2).
func (a *API) allowActivation(ctx context.Context, ip string) (bool, error) {
	return a.DB.AllowRate(ctx, "activate:"+ip, 10, 6*time.Second)
}

type activateJSON struct {
	Code      string `json:"code"`
	PublicKey string `json:"public_key"`
	PIN       string `json:"pin"`
	Lang      string `json:"lang"` // the app's language, "zh" (default) or "en"
}

func (a *API) appActivate(w http.ResponseWriter, r *http.Request, q *appReq) error {
	if ok, err := a.allowActivation(r.Context(), httpx.ClientIP(r, a.TrustProxy)); err != nil {
		return err
	} else if !ok {
		return casework.Errorf(casework.ERATELIMIT, "尝试次数过多，请稍后再试", "too many attempts: try again later")
	}
	var in activateJSON
	if err := decodeApp(r, q, &in); err != nil {
		return err
	}
	code, ok := casework.NormalizeActivationCode(in.Code)
	if !ok {
		return casework.Invalid("code", "激活码应为8位字母数字", "the activation code is 8 letters and digits")
	}
	if _, err := casework.ParseDeviceKey(in.PublicKey); err != nil {
		return err
	}
	if !casework.ValidPIN(in.PIN) {
		return casework.Invalid("pin", "PIN 须为6位数字", "the PIN must be 6 digits")
	}
	if casework.WeakPIN(in.PIN) {
		return casework.Invalid("pin", "密码太简单（如000000、123456），请换一个", "the PIN is too simple (like 000000 or 123456): choose another")
	}
	pinHash, err := auth.HashPassword(r.Context(), in.PIN)
	if err != nil {
		return err
	}
	tok, hash := auth.NewToken()
	d, name, err := a.DB.Activate(r.Context(), store.Activation{Code: code, PublicKey: strings.TrimSpace(in.PublicKey), PINHash: pinHash, TokenHash: hash,
		Lang: in.Lang})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"device_id": d.ID, "token": tok, "person_name": name})
	return nil
}

func (a *API) appPhoto(w http.ResponseWriter, r *http.Request, q *appReq) error {
	want := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Photo-SHA256")))
	if !casework.ValidSHA256(want) {
		return casework.Invalid("X-Photo-SHA256", "X-Photo-SHA256 须为照片的 SHA-256（64位十六进制）", "X-Photo-SHA256 must be the photo's SHA-256 (64 hex digits)")
	}
	sum := sha256.Sum256(q.Body)
	if hex.EncodeToString(sum[:]) != want {
		return casework.Invalid("X-Photo-SHA256", "照片内容与 X-Photo-SHA256 不符", "the photo does not match X-Photo-SHA256")
	}
	if len(q.Body) < 4 || !bytes.HasPrefix(q.Body, []byte{0xFF, 0xD8, 0xFF}) || http.DetectContentType(q.Body) != "image/jpeg" {
		return casework.Invalid("body", "照片须为 JPEG", "the photo must be a JPEG")
	}
	if a.Blobs == nil {
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: errorDetail{Code: "unavailable",
			Message: casework.ErrorMessage(casework.Msg(casework.EINTERNAL, "服务器未配置文件存储", "the server has no file store"), q.Lang), RequestID: httpx.RequestID(r.Context())}})
		return nil
	}
	status := http.StatusCreated
	if err := blob.Check(r.Context(), a.Blobs, want); err == nil { // streamed, not held
		status = http.StatusOK
	} else if !errors.Is(err, blob.ErrNotFound) {
		return err
	}
	if status == http.StatusCreated {
		if _, err := blob.PutBytes(r.Context(), a.Blobs, q.Body); err != nil {
			return err
		}
	}
	if err := a.DB.RecordAppPhoto(r.Context(), q.Device, want); err != nil {
		return err
	}
	writeJSON(w, status, map[string]any{"sha256": want, "size": len(q.Body)})
	return nil
}

// checkinJSON is a stored check-in as the app sees it (no location: the
// app sent it; the server keeps it sealed).
type checkinJSON struct {
	ID              string        `json:"id"`
	TakenAt         time.Time     `json:"taken_at"`
	ReceivedAt      time.Time     `json:"received_at"`
	LocalDate       casework.Date `json:"local_date"`
	AccuracyM       float64       `json:"accuracy_m"`
	PhotoSHA256     string        `json:"photo_sha256"`
	Verdict         string        `json:"verdict"`
	VerdictLabel    string        `json:"verdict_label"`
	Checks          []string      `json:"checks"`       // every failed check (issue 18 §2); [] when ok
	ChecksLabel     string        `json:"checks_label"` // the failed checks in words, "" when ok
	Counts          bool          `json:"counts"`       // it discharges the day's duty (policy checkin.counts)
	PolicyVersionID string        `json:"policy_version_id"`
	// Issue 17: whose face it is. A not_matched or liveness_failed
	// check-in waits for a staff review (review "" until then) and counts
	// only when reviewed as the same person (R32).
	Identity       string   `json:"identity"`
	IdentityLabel  string   `json:"identity_label"`
	IdentityReason string   `json:"identity_reason,omitempty"` // why not checked, in words
	FaceScore      *float64 `json:"face_score"`
	Review         string   `json:"identity_review"`
}

func toCheckinJSON(c *store.Checkin, lang string) checkinJSON {
	checks := make([]string, len(c.Checks))
	for i, v := range c.Checks {
		checks[i] = string(v)
	}
	out := checkinJSON{ID: c.ID, TakenAt: c.TakenAt, ReceivedAt: c.ReceivedAt, LocalDate: c.LocalDate, AccuracyM: c.AccuracyM,
		PhotoSHA256: c.PhotoSHA256, Verdict: string(c.Verdict), VerdictLabel: c.Verdict.Label(lang), Checks: checks,
		ChecksLabel: casework.CheckLabels(c.Checks, lang), Counts: c.Counts, PolicyVersionID: c.PolicyRef,
		Identity: string(c.Identity), IdentityLabel: c.Identity.Label(lang), FaceScore: c.FaceScore, Review: c.Review}
	if c.IdentityReason != "" {
		out.IdentityReason = casework.IdentityReasonLabel(c.IdentityReason, lang)
	}
	return out
}

func (a *API) appCheckin(w http.ResponseWriter, r *http.Request, q *appReq) error {
	var in casework.CheckinInput
	if err := decodeApp(r, q, &in); err != nil {
		return err
	}
	c, created, err := a.DB.IngestCheckin(r.Context(), q.Device, in, q.Body, q.Sig)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, toCheckinJSON(c, q.Lang))
	return nil
}

func (a *API) appToday(w http.ResponseWriter, r *http.Request, q *appReq) error {
	day, err := a.DB.CheckinToday(r.Context(), q.Device.PersonID)
	if err != nil {
		return err
	}
	// done: a check-in today counts. retry: checked in, none counts, and
	// today's window has not ended — the app says what failed and asks for
	// a new check-in (issue 18 §2).
	checkin := map[string]any{"due": day.Due, "done": day.Done, "count": day.Count, "window": day.Window.String(), "window_open": day.Open,
		"window_over": day.Over, "retry": day.Due && !day.Done && day.Count > 0 && !day.Over,
		// The check-in frequency (issue 13 §4): every N days, and the next
		// check-in day after today (null before the duty starts).
		"every_days": day.EveryDays, "next_due": nil}
	if !day.NextDue.IsZero() {
		checkin["next_due"] = day.NextDue
	}
	if day.Count > 0 {
		checkin["verdict"], checkin["verdict_label"] = string(day.Verdict), day.Verdict.Label(q.Lang)
		checkin["checks_label"] = casework.CheckLabels(day.Checks, q.Lang)
		// Issue 17: whose face it was. A check-in that passed its checks
		// but not the face match says so (the app's "did not pass: …").
		checkin["identity"], checkin["identity_label"] = string(day.Identity), day.Identity.Label(q.Lang)
		checkin["identity_review_pending"] = day.IdentityHeld
		if len(day.Checks) == 0 && day.Identity.NeedsReview() {
			checkin["checks_label"] = day.Identity.Label(q.Lang)
		}
	}
	out := map[string]any{"date": day.Date, "device_id": q.Device.ID, "checkin": checkin}
	// Each part of the app adds its keys (one call each, listed here rather
	// than registered from init-time globals).
	for _, part := range []func(context.Context, *store.AppDevice, string, map[string]any) error{a.todayLeaveAndMessages, a.todayTests, a.todayAppointments, a.todayCounselling, a.todayAppSettings, a.todaySpotChallenge} {
		if err := part(r.Context(), q.Device, q.Lang, out); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type langJSON struct {
	Lang string `json:"lang"`
}

// appSetLang records the app's language with the device (issue 18 item
// 13): notices the server words for the person afterwards are in it.
func (a *API) appSetLang(w http.ResponseWriter, r *http.Request, q *appReq) error {
	var in langJSON
	if err := decodeApp(r, q, &in); err != nil {
		return err
	}
	if err := a.DB.SetDeviceLang(r.Context(), q.Device.ID, in.Lang); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"device_id": q.Device.ID, "lang": in.Lang})
	return nil
}
