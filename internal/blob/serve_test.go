package blob

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
)

// serveKey is a download route as the console's: Open, then Serve.
func serveKey(s Storage, key string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc, size, err := s.Open(r.Context(), key)
		if err != nil {
			http.Error(w, "open: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if err := Serve(w, r, rc, size); err != nil {
			http.Error(w, "content does not match its key", http.StatusInternalServerError)
		}
	})
}

// Issue 16 §1 (reads stream): a 48 MiB blob is served from the local folder
// and from an S3 bucket through a reader, in memory far below its size, and
// the bytes that arrive are the bytes stored.
func TestServeStreamsLargeBlob(t *testing.T) {
	const size = 48 << 20
	content := make([]byte, size)
	rand.Read(content)
	want := sha(content)
	for name, mk := range backends(t) {
		if name == "s3 with SSE-S3" {
			continue // same reads as "s3"
		}
		t.Run(name, func(t *testing.T) {
			b := mk(t)
			key, n, err := b.s.Put(ctx, bytes.NewReader(content))
			if err != nil || key != want || n != size {
				t.Fatalf("put: %s %d %v", key, n, err)
			}
			ts := httptest.NewServer(serveKey(b.s, key))
			defer ts.Close()

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			resp, err := ts.Client().Get(ts.URL)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			got, err := io.Copy(h, resp.Body)
			resp.Body.Close()
			runtime.ReadMemStats(&after)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("download: %d after %d bytes, %v", resp.StatusCode, got, err)
			}
			if got != size || hex.EncodeToString(h.Sum(nil)) != want || resp.Header.Get("Content-Length") != strconv.Itoa(size) {
				t.Fatalf("downloaded %d bytes hashing to %x (Content-Length %s), want %d bytes of %s",
					got, h.Sum(nil), resp.Header.Get("Content-Length"), size, want)
			}
			// Everything allocated in the process while serving — server,
			// client and (for S3) the in-process fake store together — stays
			// a fraction of the blob: nothing held it whole.
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s: served %d MiB with %.1f MiB allocated in total", name, size>>20, float64(alloc)/(1<<20))
			if alloc > size/4 {
				t.Errorf("serving a %d MiB blob allocated %.1f MiB: not streamed", size>>20, float64(alloc)/(1<<20))
			}
		})
	}
}

// A blob whose content no longer matches its key never reaches the client
// whole: a small one is refused before any byte (an error the route
// answers), a large one is cut short of its Content-Length.
func TestServeRefusesCorruptContent(t *testing.T) {
	for name, mk := range backends(t) {
		if name == "s3 with SSE-S3" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			b := mk(t)
			small := []byte("a scan of a decision, 决定书")
			big := make([]byte, 3*HoldBack+123)
			rand.Read(big)
			for _, c := range []struct {
				what    string
				content []byte
			}{{"small", small}, {"large", big}} {
				key, _, err := b.s.Put(ctx, bytes.NewReader(c.content))
				if err != nil {
					t.Fatal(err)
				}
				b.tamper(t, key)
				ts := httptest.NewServer(serveKey(b.s, key))
				resp, err := ts.Client().Get(ts.URL)
				if err != nil {
					ts.Close()
					t.Fatalf("%s: %v", c.what, err)
				}
				body, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				ts.Close()
				if c.what == "small" {
					if resp.StatusCode != http.StatusInternalServerError || bytes.Contains(body, c.content[:8]) {
						t.Errorf("small corrupt blob: %d %q, want 500 and none of its content", resp.StatusCode, body)
					}
					continue
				}
				if resp.StatusCode == 200 && (rerr == nil || !errors.Is(rerr, io.ErrUnexpectedEOF)) {
					t.Errorf("large corrupt blob: read %d of %d bytes, err %v: want the body cut short", len(body), len(c.content), rerr)
				}
				if len(body) > len(c.content)-HoldBack {
					t.Errorf("large corrupt blob: %d bytes sent, want at most %d (the end held back)", len(body), len(c.content)-HoldBack)
				}
			}
		})
	}
}

// Copy holds the last HoldBack bytes until the end verified.
func TestHoldBack(t *testing.T) {
	var out bytes.Buffer
	h := &holdBack{w: &out, n: 10}
	for _, p := range []string{"0123", "456789ab", "cdef", ""} {
		h.Write([]byte(p))
	}
	if out.String() != "012345" || h.sent != 6 {
		t.Fatalf("before flush: %q (%d sent), want the last 10 bytes held", out.String(), h.sent)
	}
	h.Flush()
	if out.String() != "0123456789abcdef" || h.sent != 16 {
		t.Fatalf("after flush: %q", out.String())
	}
}
