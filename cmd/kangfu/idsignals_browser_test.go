package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kangfu/internal/auth"
	"kangfu/internal/blob"
	"kangfu/internal/browsertest"
	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// TestBrowserIdentitySignalsAndSpotCheck (issue 17 §4, §5): on the demo, a
// person changes phone, checks in 111 km away 20 minutes later, another
// reports a mock location, and a lead adds a check-in to the worker's spot
// checks. The worker sees the signals with their evidence and the spot
// check side by side (reference | selfie | the phone's score), records a
// finding, at phone width in Chinese and in English; worker2 of another
// community sees none of it.
func TestBrowserIdentitySignalsAndSpotCheck(t *testing.T) {
	ctx := browsertest.New(t)
	dir := t.TempDir()
	base := startServer(t, dir)
	bg := context.Background()
	// The server's database, opened beside it on the wall clock.
	cfg, _, err := parse("serve", []string{"--data-dir", dir}, envFrom(map[string]string{}), io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := cfg.loadSecret(false)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := store.DeriveKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(bg, cfg.DB, store.Options{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sys := casework.SystemActor("test")
	actor := func(name string) *casework.Actor {
		uid, err := db.UserIDByName(bg, name)
		if err != nil {
			t.Fatal(err)
		}
		u, err := db.GetUser(bg, sys, uid)
		if err != nil {
			t.Fatal(err)
		}
		return &casework.Actor{UserID: u.ID, Username: u.Username, Name: u.DisplayName, Grants: u.Grants}
	}
	worker, lead := actor("worker"), actor("lead")

	var login struct {
		Token string `json:"token"`
	}
	if st := staffCall(t, base, "", "POST", "/api/v1/auth/login", `{"username":"worker","password":"kangfu-demo"}`, &login); st != 200 {
		t.Fatalf("worker login: %d", st)
	}
	var persons struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	if st := staffCall(t, base, login.Token, "GET", "/api/v1/persons?status=executing&limit=50", "", &persons); st != 200 || len(persons.Items) < 2 {
		t.Fatalf("list persons: %d %d", st, len(persons.Items))
	}
	// activate makes a device for the person (a new activation retires the old one).
	activate := func(personID string) (*store.AppDevice, string) {
		code, _, err := db.CreateActivationCode(bg, worker, personID)
		if err != nil {
			t.Fatal(err)
		}
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		tok, hash := auth.NewToken()
		if _, _, err := db.Activate(bg, store.Activation{Code: code, PublicKey: base64.StdEncoding.EncodeToString(der), PINHash: "x", TokenHash: hash}); err != nil {
			t.Fatal(err)
		}
		dev, err := db.AppDeviceByToken(bg, hash)
		if err != nil {
			t.Fatal(err)
		}
		return dev, tok
	}
	var img bytes.Buffer
	face := image.NewRGBA(image.Rect(0, 0, 96, 96))
	for i := range face.Pix {
		face.Pix[i] = byte(160 + i%40)
	}
	face.Set(30, 40, color.Black)
	if err := jpeg.Encode(&img, face, nil); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(img.Bytes())
	sha := hex.EncodeToString(sum[:])
	checkin := func(dev *store.AppDevice, token string, at time.Time, lat, lng float64, mock bool) string {
		req, _ := http.NewRequest("POST", base+"/api/v1/app/photos", bytes.NewReader(img.Bytes()))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Photo-SHA256", sha)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		in := casework.CheckinInput{ID: store.NewID(), TakenAt: at.UTC().Format(time.RFC3339), Lat: lat, Lng: lng, AccuracyM: 10, PhotoSHA256: sha}
		if mock {
			in.MockLocation = &mock
		}
		c, _, err := db.IngestCheckin(bg, dev, in, []byte(in.ID), "sig")
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	a, b := persons.Items[0], persons.Items[1]
	activate(a.ID)
	devA, tokA := activate(a.ID) // a new phone
	now := time.Now()
	first := checkin(devA, tokA, now.Add(-40*time.Minute), 18.2528, 109.5119, false)
	checkin(devA, tokA, now.Add(-20*time.Minute), 19.2528, 109.5119, false) // 111 km in 20 minutes
	devB, tokB := activate(b.ID)
	checkin(devB, tokB, now.Add(-10*time.Minute), 18.2528, 109.5119, true)
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetFaceReference(bg, worker, a.ID, store.FaceReferenceInput{Photo: img.Bytes(), PhotoType: "image/jpeg"}, func(b []byte) (string, error) {
		k, _, err := blobs.Put(bg, bytes.NewReader(b))
		return k, err
	}); err != nil {
		t.Fatal(err)
	}
	item, err := db.AddSpotCheck(bg, lead, first, "核对换机后的签到")
	if err != nil {
		t.Fatal(err)
	}

	tctx, cancel := context.WithTimeout(ctx, 180*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tctx, chromedp.Steps(actions...)); err != nil {
			dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
			defer dcancel()
			page, _ := chromedp.Run(dctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			t.Fatalf("%s: %v\n%s", what, err, page)
		}
	}
	var body string
	run("sign in", signIn(base, "worker", `[data-testid=who]`))
	run("signals (zh)", chromedp.Navigate(base+"/identity/signals"), chromedp.WaitVisible(`[data-testid=signals]`))
	if body, err = chromedp.Run(tctx, chromedp.Text(`main`)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"身份异常线索", a.Name, b.Name, "新设备", "模拟定位", "不可能的移动速度", "公里/小时"} {
		if !strings.Contains(body, want) {
			t.Errorf("signals page (zh) lacks %q:\n%s", want, body)
		}
	}
	saveScreenshot(t, tctx, "idsignals-signals-zh-360")
	run("spot check (zh)", chromedp.Navigate(base+"/spot-checks/"+item), chromedp.WaitVisible(`[data-testid=spot-compare]`))
	if body, err = chromedp.Run(tctx, chromedp.Text(`main`)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"签到人脸抽查", a.Name, "底照（参考照片）", "签到自拍", "核对换机后的签到", "手机未上报相似度"} {
		if !strings.Contains(body, want) {
			t.Errorf("spot-check page (zh) lacks %q:\n%s", want, body)
		}
	}
	saveScreenshot(t, tctx, "idsignals-spotcheck-zh-360")
	// A finding without a note when not the same person: the field says why.
	run("finding refused", chromedp.Click(`input[name=looked][value=not_same]`), chromedp.Submit(`[data-testid=spot-look-form] textarea`),
		chromedp.WaitVisible(`[data-testid=form-errors]`))
	run("finding", chromedp.SetValue(`[data-testid=spot-look-form] textarea`, "照片较暗，需当面核实"), chromedp.Click(`input[name=looked][value=unclear]`),
		chromedp.Submit(`[data-testid=spot-look-form] textarea`), chromedp.WaitVisible(`[data-testid=spot-looked]`))
	run("english", chromedp.Click(`[data-testid=lang-switch]`))
	waitJS(t, tctx, "the English page", `document.documentElement.lang === 'en' && !!document.querySelector('[data-testid=spot-looked]')`)
	if body, err = chromedp.Run(tctx, chromedp.Text(`main`)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Identity spot check", "Reference photo", "Check-in selfie", "unclear", "照片较暗"} {
		if !strings.Contains(body, want) {
			t.Errorf("spot-check page (en) lacks %q:\n%s", want, body)
		}
	}
	saveScreenshot(t, tctx, "idsignals-spotcheck-en-360")
	run("signals (en)", chromedp.Navigate(base+"/identity/signals"), chromedp.WaitVisible(`[data-testid=signals]`))
	if body, err = chromedp.Run(tctx, chromedp.Text(`main`)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Identity signals", "New device", "Mock location", "Impossible speed", "km/h"} {
		if !strings.Contains(body, want) {
			t.Errorf("signals page (en) lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "signals.") || strings.Contains(body, "spot.") {
		t.Errorf("raw catalog key on the page:\n%s", body)
	}
	saveScreenshot(t, tctx, "idsignals-signals-en-360")

	// worker2 (another community): none of it.
	run("worker2", chromedp.Navigate(base+"/logout"))
	w2 := actor("worker2")
	sigs, err := db.IdentitySignals(bg, w2, 30)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sigs {
		if s.PersonID == a.ID || s.PersonID == b.ID {
			t.Fatalf("worker2 sees %+v", s)
		}
	}
	if _, err := db.SpotCheck(bg, w2, item); !casework.IsCode(err, casework.ENOTFOUND) {
		t.Fatalf("worker2 opens the spot check: %v", err)
	}
}
