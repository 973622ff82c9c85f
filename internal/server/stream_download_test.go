package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"kangfu/internal/auth"
	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/demo"
	"kangfu/internal/server"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 16 (reads stream): a 32 MiB document is downloaded through the
// console route from the local folder and from an S3 bucket (gofakes3 in
// process): the bytes match, Content-Length is the document's size, and
// the whole process allocates a fraction of the size while serving it.
func TestDocumentDownloadStreams(t *testing.T) {
	const size = 32 << 20
	content := make([]byte, size)
	rand.Read(content)
	sum := sha256.Sum256(content)
	want := hex.EncodeToString(sum[:])
	ctx := context.Background()

	for _, backend := range []string{"local", "local sealed", "s3"} {
		t.Run(backend, func(t *testing.T) {
			db := storetest.Open(t, storetest.Engines(t)[0], nil)
			if _, err := demo.Load(ctx, db); err != nil {
				t.Fatal(err)
			}
			var blobs blob.Storage
			switch backend {
			case "local":
				blobs = storetest.Must(blob.Open(t.TempDir()))
			case "local sealed": // as the server opens it (R36)
				blobs = storetest.Must(blob.OpenSealed(t.TempDir(), blob.KeySource{Current: db.Vault().Current, Key: db.Keys().FieldKey}))
			default:
				mem := s3mem.New()
				if err := mem.CreateBucket("kangfu"); err != nil {
					t.Fatal(err)
				}
				s3srv := httptest.NewTLSServer(gofakes3.New(mem).Server())
				t.Cleanup(s3srv.Close)
				blobs = storetest.Must(blob.NewS3(blob.S3Config{Bucket: "kangfu", Prefix: "county", Endpoint: s3srv.URL, Region: "us-east-1",
					AccessKey: "a", SecretKey: "b", TempDir: t.TempDir(), Transport: s3srv.Client().Transport},
					blob.KeySource{Current: db.Vault().Current, Key: db.Keys().FieldKey}))
			}
			if _, err := demo.LoadDocuments(ctx, db, blobs); err != nil {
				t.Fatal(err)
			}
			// A large scan filed for a person of the demo worker's community.
			sys := casework.SystemActor("test")
			orgs := storetest.Must(db.ListOrgs(ctx, sys, store.OrgFilter{}))
			var factory string
			for _, o := range orgs {
				if o.Name == "安椰厂区（示例工厂社区）" {
					factory = o.ID
				}
			}
			persons, _, err := db.ListPersons(ctx, sys, store.PersonFilter{OrgID: factory, Limit: 1})
			if err != nil || len(persons) == 0 {
				t.Fatal("no person at the demo worker's community")
			}
			key, n, err := blobs.Put(ctx, bytes.NewReader(content))
			if err != nil || key != want || n != size {
				t.Fatalf("put: %s %d %v", key, n, err)
			}
			doc := storetest.Must(db.AddDocument(ctx, sys, persons[0].ID, store.DocumentInput{Kind: "decision", Title: "大扫描件",
				Source: store.SourceUpload, SHA256: key, MIME: "application/pdf", Size: n}))

			srv, err := server.New(db, auth.NewService(db, auth.DefaultPolicy()), slog.New(slog.DiscardHandler), server.Options{Blobs: blobs})
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(srv.Handler())
			t.Cleanup(ts.Close)
			c := ts.Client()
			c.Timeout = time.Minute
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			cookie := sessionCookie(signIn(t, ts, c, nil))

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			req, _ := http.NewRequest("GET", ts.URL+"/documents/"+doc.ID+"/content", nil)
			req.AddCookie(cookie)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			got, err := io.Copy(h, resp.Body)
			resp.Body.Close()
			runtime.ReadMemStats(&after)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("download: %d after %d bytes: %v", resp.StatusCode, got, err)
			}
			if got != size || hex.EncodeToString(h.Sum(nil)) != want || resp.Header.Get("Content-Length") != strconv.Itoa(size) {
				t.Fatalf("downloaded %d bytes (Content-Length %s), hash %x; want %d bytes of %s", got, resp.Header.Get("Content-Length"), h.Sum(nil), size, want)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s: %d MiB document downloaded with %.1f MiB allocated in the process", backend, size>>20, float64(alloc)/(1<<20))
			if alloc > size/4 {
				t.Errorf("downloading a %d MiB document allocated %.1f MiB: not streamed", size>>20, float64(alloc)/(1<<20))
			}
		})
	}
}
