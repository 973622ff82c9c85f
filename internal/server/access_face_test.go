package server_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"

	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// Identity at check-in (issue 17): the reference photo page and photos are
// sensitive (R36: office, lead, worker, police — never a counsellor); taking
// one and reviewing a check-in's identity need write access to the file
// (lead, worker; the store lets only a lead replace a photo). The app's
// reference embedding is a device route. A worker of another org gets not
// found, like every record outside its subtree.
var _ = addRules(map[string]accessRule{
	"GET /persons/{id}/face":                     {roles: readers},
	"POST /persons/{id}/face":                    {roles: writers, body: "reason=x"},
	"GET /face-references/{id}/photo":            {roles: readers},
	"GET /checkins/{id}/identity":                {roles: readers},
	"POST /checkins/{id}/identity":               {roles: writers, body: "decision=same"},
	"POST /checkins/{id}/identity/console-score": {roles: writers, body: "console_score=0.81"},
	"GET /api/v1/app/face/reference":             {roles: "device"},
})

// A face-reference target: the reference photo of a person in the
// community, sealed into the server's blob store.
var _ = addTarget("face_reference", func(m *matrix, community *casework.Org) string {
	ctx := context.Background()
	person := targetMakers["person"](m, community)
	var img bytes.Buffer
	if err := jpeg.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		panic(err)
	}
	put := func(b []byte) (string, error) { return blob.PutBytes(ctx, m.blobs, b) }
	f, err := m.db.SetFaceReference(ctx, casework.SystemActor("test"), person, store.FaceReferenceInput{Photo: img.Bytes(), PhotoType: "image/jpeg"}, put)
	if err != nil {
		panic(err)
	}
	return f.ID
})
