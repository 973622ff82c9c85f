package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/jpeg"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"kangfu/internal/store/storetest"
)

// R36, issue 17 §6: a check-in selfie uploaded through the app API is
// sealed in the local folder (its JPEG bytes appear in no file there) and
// reads back identical through the staff route, on both engines.
func TestSealedCheckinPhoto(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			m := newMatrixOn(t, e)
			id := m.target("checkin", m.streetA) // uploads the photo through POST /api/v1/app/photos
			var img bytes.Buffer                 // the same JPEG the target uploaded
			if err := jpeg.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 4)), nil); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(img.Bytes())
			key := hex.EncodeToString(sum[:])
			raw, err := os.ReadFile(filepath.Join(m.blobs.Dir(), key[:2], key[2:4], key))
			if err != nil {
				t.Fatalf("the photo is not in the folder under its hash: %v", err)
			}
			if !bytes.HasPrefix(raw, []byte("KFB1")) {
				t.Fatalf("the photo's file is not sealed: %q…", raw[:8])
			}
			// No file in the folder holds the JPEG (or a telling part of it).
			probe := img.Bytes()[len(img.Bytes())-32:]
			filepath.WalkDir(m.blobs.Dir(), func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if b, _ := os.ReadFile(p); bytes.Contains(b, probe) || bytes.Contains(b, []byte("\xff\xd8\xff")) {
						t.Errorf("%s holds plaintext JPEG bytes", p)
					}
				}
				return nil
			})

			req, _ := http.NewRequest("GET", m.srv.URL+"/checkins/"+id+"/photo", nil)
			req.AddCookie(&http.Cookie{Name: "kangfu_session", Value: m.tokens["worker"]["web"]})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(got, img.Bytes()) || resp.ContentLength != int64(img.Len()) {
				t.Fatalf("staff route: %d, %d bytes (Content-Length %d), want the %d uploaded", resp.StatusCode, len(got), resp.ContentLength, img.Len())
			}
		})
	}
}
