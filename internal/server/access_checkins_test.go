package server_test

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
	"fmt"
	"image"
	"image/jpeg"
	"net/http"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// The person's app and check-ins (issue 4 §2, §4, §5). App routes are
// authenticated by a device token, never by a staff session: they are
// marked "device", a role no staff member holds, so the matrix checks that
// an anonymous caller gets 401 and every staff role's token is refused
// (401: it is not a device token). Activation is public (the code is the
// credential). Staff routes: codes and devices need write access to the
// file (lead, worker), check-ins read access, the rates of a subtree the
// persons.read permission.
var _ = addRules(map[string]accessRule{
	"POST /api/v1/app/activate":                  {roles: "public", body: `{"code":"AAAAAAAA","public_key":"x","pin":"123456"}`},
	"POST /api/v1/app/photos":                    {roles: "device"},
	"POST /api/v1/app/checkins":                  {roles: "device", body: `{}`},
	"GET /api/v1/app/today":                      {roles: "device"},
	"POST /api/v1/persons/{id}/activation-codes": {roles: writers},
	"GET /api/v1/persons/{id}/activation-codes":  {roles: readers},
	"POST /api/v1/activation-codes/{id}/revoke":  {roles: writers},
	"POST /api/v1/devices/{id}/retire":           {roles: writers, body: `{"reason":"手机丢失"}`},
	"GET /api/v1/persons/{id}/checkins":          {roles: readers},
	"GET /api/v1/orgs/{id}/checkin-stats":        {roles: "office lead worker police counsellor"},
	"GET /persons/{id}/checkins":                 {roles: readers},
	"GET /checkins/{id}/point":                   {roles: "office lead worker police"},
	"GET /checkins/{id}/photo":                   {roles: readers},
	"GET /persons/{id}/app":                      {roles: readers},
	"POST /persons/{id}/app/codes":               {roles: writers},
	"POST /app-codes/{id}/revoke":                {roles: writers},
	"POST /devices/{id}/retire":                  {roles: writers, body: "reason=手机丢失"},
	"GET /orgs/{id}/checkins":                    {roles: "office lead worker police counsellor"},
	"GET /orgs/{id}/no-device":                   {roles: "office lead worker police counsellor"},
	"GET /api/v1/orgs/{id}/no-device":            {roles: "office lead worker police counsellor"},
})

// An activation-code target: an unused code of a person in the community.
var _ = addTarget("activation_code", func(m *matrix, community *casework.Org) string {
	person := targetMakers["person"](m, community)
	_, c, err := m.db.CreateActivationCode(context.Background(), casework.SystemActor("test"), person)
	if err != nil {
		panic(err)
	}
	return c.ID
})

// A device target: an active device of a person in the community.
var _ = addTarget("device", func(m *matrix, community *casework.Org) string {
	d, _ := matrixDevice(m, community)
	return d.ID
})

// A check-in target: a check-in of a person in the community, with a
// selfie uploaded through the app API with the device's token.
var _ = addTarget("checkin", func(m *matrix, community *casework.Org) string {
	ctx := context.Background()
	d, token := matrixDevice(m, community)
	var img bytes.Buffer
	if err := jpeg.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 4)), nil); err != nil {
		panic(err)
	}
	sum := sha256.Sum256(img.Bytes())
	sha := hex.EncodeToString(sum[:])
	req, _ := http.NewRequest("POST", m.srv.URL+"/api/v1/app/photos", bytes.NewReader(img.Bytes()))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Photo-SHA256", sha)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		panic(fmt.Sprintf("photo upload: %d", resp.StatusCode))
	}
	now := m.db.Now()
	in := casework.CheckinInput{ID: store.NewID(), TakenAt: now.Format("2006-01-02T15:04:05Z07:00"), Lat: 18.25, Lng: 109.5, AccuracyM: 10, PhotoSHA256: sha}
	c, _, err := m.db.IngestCheckin(ctx, d, in, []byte(in.ID), "sig")
	if err != nil {
		panic(err)
	}
	return c.ID
})

func matrixDevice(m *matrix, community *casework.Org) (*store.AppDevice, string) {
	ctx := context.Background()
	person := targetMakers["person"](m, community)
	code, _, err := m.db.CreateActivationCode(ctx, casework.SystemActor("test"), person)
	if err != nil {
		panic(err)
	}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	token, hash := auth.NewToken()
	if _, _, err := m.db.Activate(ctx, store.Activation{Code: code, PublicKey: base64.StdEncoding.EncodeToString(der), PINHash: "x", TokenHash: hash}); err != nil {
		panic(err)
	}
	return storetest.Must(m.db.AppDeviceByToken(ctx, hash)), token
}
