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
	"strings"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Identity spot checks and signals (issue 17 §4, §5): the side-by-side
// page, the reference photo and the signals need sensitive access to the
// file (R36), the console score and the finding write access; a spot
// check outside the subtree is not found.
var _ = addRules(map[string]accessRule{
	"GET /identity/signals":                {roles: readers},
	"GET /spot-checks/{id}":                {roles: readers},
	"POST /spot-checks/{id}/console-score": {roles: writers, body: "console_score=0.81"},
	"POST /spot-checks/{id}/look":          {roles: writers, body: "looked=same"},
})

// A spot-check target: a check-in (with its selfie) of a person of the
// community who has a worker and a reference photo, added to the spot
// checks by hand. Outside street A the worker is one granted there.
var _ = addTarget("spot_check", func(m *matrix, community *casework.Org) string {
	ctx := context.Background()
	sys := casework.SystemActor("test")
	worker := storetest.Must(m.db.UserIDByName(ctx, "u-worker"))
	if !strings.HasPrefix(community.Path, m.streetA.Path) {
		name := fmt.Sprintf("u-worker-b%d", m.n)
		hash := storetest.Must(auth.HashPassword(ctx, "long-enough-pw"))
		u := storetest.Must(m.db.CreateUser(ctx, sys, casework.UserInput{Username: name, OrgID: community.ID, Password: "long-enough-pw"}, hash, false))
		storetest.Must(m.db.GrantRole(ctx, sys, u.ID, casework.RoleWorker, community.ID))
		worker = u.ID
	}
	m.n++
	day := casework.DateOf(m.db.Now(), nil).AddDays(-30)
	p := storetest.Must(m.db.CreatePerson(ctx, sys, casework.PersonInput{
		OrgID: community.ID, Name: fmt.Sprintf("抽查人%d", m.n), IDNumber: testIDNumber(m.n), Phone: "13800138000",
	}, &casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: fmt.Sprintf("吉公决字〔2026〕%d号", m.n),
		DecisionAuthority: "三亚市公安局吉阳分局", DecisionDate: day.AddDays(-2), ReceivedDate: day, ReportDate: day.AddDays(3), WorkerID: worker}))
	code, _, err := m.db.CreateActivationCode(ctx, sys, p.ID)
	if err != nil {
		panic(err)
	}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	_, th := auth.NewToken()
	if _, _, err := m.db.Activate(ctx, store.Activation{Code: code, PublicKey: base64.StdEncoding.EncodeToString(der), PINHash: "x", TokenHash: th}); err != nil {
		panic(err)
	}
	dev := storetest.Must(m.db.AppDeviceByToken(ctx, th))
	var img bytes.Buffer
	if err := jpeg.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 4)), nil); err != nil {
		panic(err)
	}
	key, _, err := m.blobs.Put(ctx, bytes.NewReader(img.Bytes()))
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(img.Bytes())
	sha := hex.EncodeToString(sum[:])
	if key != sha {
		panic("blob key is not the sha256")
	}
	if err := m.db.RecordAppPhoto(ctx, dev, sha); err != nil {
		panic(err)
	}
	in := casework.CheckinInput{ID: store.NewID(), TakenAt: m.db.Now().Format("2006-01-02T15:04:05Z07:00"), Lat: 18.25, Lng: 109.5, AccuracyM: 10, PhotoSHA256: sha}
	c, _, err := m.db.IngestCheckin(ctx, dev, in, []byte(in.ID), "sig")
	if err != nil {
		panic(err)
	}
	if _, err := m.db.SetFaceReference(ctx, sys, p.ID, store.FaceReferenceInput{Photo: img.Bytes(), PhotoType: "image/jpeg"}, func(b []byte) (string, error) {
		k, _, err := m.blobs.Put(ctx, bytes.NewReader(b))
		return k, err
	}); err != nil {
		panic(err)
	}
	return storetest.Must(m.db.AddSpotCheck(ctx, sys, c.ID, "抽查"))
})
