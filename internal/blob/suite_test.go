package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
)

// backend is one Storage under test with a way to alter a stored blob
// behind the store's back (a disk error, a tampered object).
type backend struct {
	s      Storage
	tamper func(t *testing.T, key string)
}

// fakeS3 runs an in-process S3 server (gofakes3, in memory) and returns a
// store on a bucket in it. wrap, if set, wraps the server's handler (a
// failing or lying store).
func fakeS3(t *testing.T, wrap func(http.Handler) http.Handler) *S3 {
	return fakeS3SSE(t, wrap, "")
}

// fakeS3SSE is fakeS3 asking for server-side encryption sse.
func fakeS3SSE(t *testing.T, wrap func(http.Handler) http.Handler, sse string) *S3 {
	t.Helper()
	mem := s3mem.New()
	if err := mem.CreateBucket("kangfu"); err != nil {
		t.Fatal(err)
	}
	h := gofakes3.New(mem).Server()
	if wrap != nil {
		h = wrap(h)
	}
	// TLS, as a real store is reached: minio-go then sends plain payloads
	// (gofakes3 stores the aws-chunked framing of plain-HTTP multipart
	// parts verbatim, which Put rightly refuses to acknowledge).
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	key := bytes.Repeat([]byte{7}, 32)
	s, err := NewS3(S3Config{Bucket: "kangfu", Prefix: "county/blobs", Endpoint: srv.URL, Region: "us-east-1",
		AccessKey: "test", SecretKey: "test-secret", TempDir: t.TempDir(), Transport: srv.Client().Transport, SSE: sse},
		KeySource{Current: func() string { return "k1" }, Key: func(id string) ([]byte, error) { return key, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// tamperS3 flips one byte of the object of key in the bucket, keeping its metadata.
func tamperS3(s *S3) func(t *testing.T, key string) {
	return func(t *testing.T, key string) {
		t.Helper()
		obj, err := s.c.GetObject(ctx, s.bucket, s.name(key), minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(obj)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := obj.Stat()
		b[len(b)-20] ^= 1
		if _, err := s.c.PutObject(ctx, s.bucket, s.name(key), bytes.NewReader(b), int64(len(b)),
			minio.PutObjectOptions{UserMetadata: map[string]string{sizeMeta: st.UserMetadata[sizeMeta], "Kangfu-Test-Tamper": "1"}}); err != nil {
			t.Fatal(err)
		}
	}
}

func backends(t *testing.T) map[string]func(t *testing.T) backend {
	return map[string]func(t *testing.T) backend{
		"local": func(t *testing.T) backend {
			s, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return backend{s, func(t *testing.T, key string) {
				b, err := os.ReadFile(s.path(key))
				if err != nil {
					t.Fatal(err)
				}
				b[len(b)/2] ^= 1
				if err := os.WriteFile(s.path(key), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}}
		},
		"local sealed": func(t *testing.T) backend {
			s, err := OpenSealed(t.TempDir(), testKeys("k1", bytes.Repeat([]byte{7}, 32)))
			if err != nil {
				t.Fatal(err)
			}
			return backend{s, func(t *testing.T, key string) {
				b, err := os.ReadFile(s.path(key))
				if err != nil {
					t.Fatal(err)
				}
				b[len(b)/2] ^= 1
				if err := os.WriteFile(s.path(key), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}}
		},
		"s3": func(t *testing.T) backend {
			s := fakeS3(t, nil)
			return backend{s, tamperS3(s)}
		},
		"s3 with SSE-S3": func(t *testing.T) backend {
			var uploads, withSSE int // object uploads (single PUT or multipart start), and those asking for SSE
			s := fakeS3SSE(t, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					q := r.URL.Query()
					tamper := r.Header.Get("X-Amz-Meta-Kangfu-Test-Tamper") != "" // the test's own write
					if !tamper && ((r.Method == http.MethodPut && !q.Has("partNumber")) || (r.Method == http.MethodPost && q.Has("uploads"))) {
						uploads++
						if r.Header.Get("X-Amz-Server-Side-Encryption") == "AES256" {
							withSSE++
						}
					}
					h.ServeHTTP(w, r)
				})
			}, "s3")
			t.Cleanup(func() {
				if withSSE != uploads {
					t.Errorf("%d of %d uploads asked for server-side encryption", withSSE, uploads)
				}
			})
			return backend{s, tamperS3(s)}
		},
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestStorageSuite runs the same checks against the local folder and an S3 bucket.
func TestStorageSuite(t *testing.T) {
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("put get stat missing", func(t *testing.T) {
				b := mk(t)
				content := []byte("\xff\xd8\xff 签到照片 check-in photo")
				for range 2 { // the second put stores nothing new
					key, n, err := b.s.Put(ctx, bytes.NewReader(content))
					if err != nil || key != sha(content) || n != int64(len(content)) {
						t.Fatalf("put: %s %d %v", key, n, err)
					}
				}
				key := sha(content)
				if got, err := b.s.Get(ctx, key); err != nil || !bytes.Equal(got, content) {
					t.Fatalf("get: %q %v", got, err)
				}
				if n, err := b.s.Stat(ctx, key); err != nil || n != int64(len(content)) {
					t.Fatalf("stat: %d %v", n, err)
				}
				missing := strings.Repeat("ab", 32)
				if _, err := b.s.Get(ctx, missing); !errors.Is(err, ErrNotFound) {
					t.Fatalf("get missing: %v", err)
				}
				if _, err := b.s.Stat(ctx, missing); !errors.Is(err, ErrNotFound) {
					t.Fatalf("stat missing: %v", err)
				}
				if _, _, err := b.s.Open(ctx, missing); !errors.Is(err, ErrNotFound) {
					t.Fatalf("open missing: %v", err)
				}
				if _, err := b.s.Get(ctx, "../../etc/passwd"); !errors.Is(err, ErrBadKey) {
					t.Fatalf("bad key: %v", err)
				}
				// Empty content is a blob too.
				if k, n, err := b.s.Put(ctx, strings.NewReader("")); err != nil || n != 0 {
					t.Fatalf("put empty: %s %v", k, err)
				} else if got, err := b.s.Get(ctx, k); err != nil || len(got) != 0 {
					t.Fatalf("get empty: %q %v", got, err)
				}
			})
			t.Run("failed put not acknowledged", func(t *testing.T) {
				b := mk(t)
				if _, _, err := b.s.Put(ctx, &failingReader{n: 200_000}); err == nil {
					t.Fatal("a put whose reader failed was acknowledged")
				}
				want := sha(bytes.Repeat([]byte{'x'}, 200_000))
				if _, err := b.s.Stat(ctx, want); !errors.Is(err, ErrNotFound) {
					t.Fatalf("the failed put left %s: %v", want, err)
				}
			})
			t.Run("tampered blob reported", func(t *testing.T) {
				b := mk(t)
				content := bytes.Repeat([]byte("协议"), 50_000) // several sealing chunks
				key, _, err := b.s.Put(ctx, bytes.NewReader(content))
				if err != nil {
					t.Fatal(err)
				}
				b.tamper(t, key)
				if _, err := b.s.Get(ctx, key); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("get tampered: %v", err)
				}
				probs, err := Verify(ctx, b.s, []string{key, strings.Repeat("0", 64)})
				if err != nil || len(probs) != 2 || !errors.Is(probs[0].Err, ErrCorrupt) || !probs[1].Missing() {
					t.Fatalf("verify: %v %v", probs, err)
				}
			})
			t.Run("large blob streams", func(t *testing.T) {
				if testing.Short() {
					t.Skip("large blob")
				}
				b := mk(t)
				const size = 20<<20 + 12345 // above minio's 16 MiB part size: a multipart upload to S3
				h := sha256.New()
				key, n, err := b.s.Put(ctx, io.TeeReader(io.LimitReader(rand.Reader, size), h))
				if err != nil || n != size || key != hex.EncodeToString(h.Sum(nil)) {
					t.Fatalf("put large: %s %d %v", key, n, err)
				}
				rc, got, err := b.s.Open(ctx, key)
				if err != nil || got != size {
					t.Fatalf("open large: %d %v", got, err)
				}
				defer rc.Close()
				h2 := sha256.New()
				buf := make([]byte, 32<<10) // small reads: the content is never held whole
				if m, err := io.CopyBuffer(h2, rc, buf); err != nil || m != size || hex.EncodeToString(h2.Sum(nil)) != key {
					t.Fatalf("read large: %d %v", m, err)
				}
			})
		})
	}
}

// TestS3PutNeedsConfirmation: a store that answers an upload with an error,
// or with an ETag that is not what we sent, does not get the put
// acknowledged, and no object is left under the key.
func TestS3PutNeedsConfirmation(t *testing.T) {
	onPut := func(f func(h http.Handler, w http.ResponseWriter, r *http.Request)) func(http.Handler) http.Handler {
		return func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPut {
					f(h, w, r)
					return
				}
				h.ServeHTTP(w, r)
			})
		}
	}
	for name, wrap := range map[string]func(http.Handler) http.Handler{
		"store fails": onPut(func(_ http.Handler, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>disk full</Message></Error>`)
		}),
		"wrong etag": onPut(func(h http.Handler, w http.ResponseWriter, r *http.Request) {
			l := &etagLiar{ResponseWriter: w}
			h.ServeHTTP(l, r)
			if !l.wrote { // a handler that writes nothing answers 200 implicitly
				l.WriteHeader(http.StatusOK)
			}
		}),
	} {
		t.Run(name, func(t *testing.T) {
			s := fakeS3(t, wrap)
			content := []byte("照片")
			if _, _, err := s.Put(ctx, bytes.NewReader(content)); err == nil {
				t.Fatal("an upload the store did not confirm was acknowledged")
			}
			if _, err := s.Stat(ctx, sha(content)); !errors.Is(err, ErrNotFound) {
				t.Fatalf("an unconfirmed object is left: %v", err)
			}
		})
	}
}

// etagLiar reports another ETag than the store computed.
type etagLiar struct {
	http.ResponseWriter
	wrote bool
}

func (e *etagLiar) WriteHeader(code int) {
	if !e.wrote && e.Header().Get("ETag") != "" {
		e.Header().Set("ETag", `"00000000000000000000000000000000"`)
	}
	e.wrote = true
	e.ResponseWriter.WriteHeader(code)
}

func (e *etagLiar) Write(b []byte) (int, error) {
	if !e.wrote {
		e.WriteHeader(http.StatusOK)
	}
	return e.ResponseWriter.Write(b)
}

// TestMigrateAndVerify copies a local store into a bucket, verifies every
// copy, is idempotent, repairs an altered copy, and reports an altered
// local file instead of copying it.
func TestMigrateAndVerify(t *testing.T) {
	local, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range []string{"scan one", "scan two", strings.Repeat("照片", 40_000)} {
		k, _, err := local.Put(ctx, strings.NewReader(c))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	s := fakeS3(t, nil)
	res, err := Migrate(ctx, local, s, nil)
	if err != nil || res.Copied != 3 || res.Present != 0 || len(res.Problems) != 0 {
		t.Fatalf("migrate: %+v %v", res, err)
	}
	for _, k := range keys {
		want, _ := local.Get(ctx, k)
		if got, err := s.Get(ctx, k); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("copy of %s: %v", k, err)
		}
	}
	if probs, err := Verify(ctx, s, keys); err != nil || len(probs) != 0 {
		t.Fatalf("verify after migrate: %v %v", probs, err)
	}
	// Tamper with one copy: verify names it; migrate again replaces it.
	tamperS3(s)(t, keys[1])
	probs, err := Verify(ctx, s, keys)
	if err != nil || len(probs) != 1 || probs[0].Key != keys[1] || !errors.Is(probs[0].Err, ErrCorrupt) {
		t.Fatalf("verify after tampering: %v %v", probs, err)
	}
	res, err = Migrate(ctx, local, s, nil)
	if err != nil || res.Copied != 1 || res.Present != 2 || len(res.Problems) != 0 {
		t.Fatalf("second migrate: %+v %v", res, err)
	}
	if probs, _ := Verify(ctx, s, keys); len(probs) != 0 {
		t.Fatalf("verify after repair: %v", probs)
	}
	// An altered local file is reported, not copied.
	k, _, _ := local.Put(ctx, strings.NewReader("scan three"))
	if err := os.WriteFile(local.path(k), []byte("scam three"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err = Migrate(ctx, local, s, nil)
	if err != nil || len(res.Problems) != 1 || res.Problems[0].Key != k || !errors.Is(res.Problems[0].Err, ErrCorrupt) {
		t.Fatalf("migrate of an altered file: %+v %v", res, err)
	}
	if _, err := s.Stat(ctx, k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an altered local file was copied: %v", err)
	}
}

// TestSealedObjects: what lands in the bucket is not the plaintext, and an
// object copied under another key does not open (the key is bound in).
func TestSealedObjects(t *testing.T) {
	s := fakeS3(t, nil)
	content := []byte("\xff\xd8\xff 身份证 110101199003071234")
	key, _, err := s.Put(ctx, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.name(key), minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("110101199003071234")) || !strings.HasPrefix(string(raw), sealMagic+"\x02k1") {
		t.Fatalf("object is not sealed: %q", raw)
	}
	if want := sealedSize("k1", int64(len(content))); int64(len(raw)) != want {
		t.Fatalf("sealed size %d, want %d", len(raw), want)
	}
	other := strings.Repeat("1", 64)
	if _, err := s.c.PutObject(ctx, s.bucket, s.name(other), bytes.NewReader(raw), int64(len(raw)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, other); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("an object copied to another key opened: %v", err)
	}
	// Sizes at chunk boundaries round-trip.
	for _, n := range []int{sealChunk - 1, sealChunk, sealChunk + 1, 2 * sealChunk} {
		b := bytes.Repeat([]byte{byte(n)}, n)
		k, _, err := s.Put(ctx, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		rc, size, err := s.Open(ctx, k)
		if err != nil || size != int64(n) {
			t.Fatalf("open %d: %d %v", n, size, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("read %d bytes back: %d %v", n, len(got), err)
		}
	}
}
