package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var ctx = context.Background()

// files lists the stored files (not the temporary folder).
func files(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(s.Dir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, s.Dir()+string(filepath.Separator)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPutIsContentAddressedAndIdempotent(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("%PDF-1.4 社区戒毒协议")
	sum := sha256.Sum256(content)
	want := hex.EncodeToString(sum[:])
	for i := range 2 {
		key, n, err := s.Put(ctx, bytes.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		if key != want || n != int64(len(content)) {
			t.Fatalf("put %d: key %s size %d, want %s %d", i, key, n, want, len(content))
		}
	}
	got := files(t, s)
	if len(got) != 1 || got[0] != filepath.Join(want[:2], want[2:4], want) {
		t.Fatalf("stored files %v, want one sharded file for %s", got, want)
	}
	b, err := s.Get(ctx, want)
	if err != nil || !bytes.Equal(b, content) {
		t.Fatalf("get: %q %v", b, err)
	}
	other, _, err := s.Put(ctx, strings.NewReader("other"))
	if err != nil || other == want {
		t.Fatalf("other content: %s %v", other, err)
	}
	if n := len(files(t, s)); n != 2 {
		t.Fatalf("%d files after a second content, want 2", n)
	}
}

// failingReader yields some bytes, then fails: a client that drops mid-upload.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), f.n)
	for i := range k {
		p[i] = 'x'
	}
	f.n -= k
	return k, nil
}

func TestPutIsAtomic(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Put(ctx, &failingReader{n: 100_000}); err == nil {
		t.Fatal("a failed read stored a file")
	}
	if got := files(t, s); len(got) != 0 {
		t.Fatalf("a failed put left files: %v", got)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.Put(cancelled, strings.NewReader("late")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled put: %v", err)
	}
	if got := files(t, s); len(got) != 0 {
		t.Fatalf("a cancelled put left files: %v", got)
	}
}

func TestGetVerifies(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := s.Put(ctx, strings.NewReader("scan"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  string
		prep func()
		want error
	}{
		{"malformed key", "../../etc/passwd", nil, ErrBadKey},
		{"upper-case key", strings.ToUpper(key), nil, ErrBadKey},
		{"missing", strings.Repeat("0", 64), nil, ErrNotFound},
		{"changed on disk", key, func() {
			if err := os.WriteFile(s.path(key), []byte("scam"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.prep != nil {
				tt.prep()
			}
			if _, err := s.Get(ctx, tt.key); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	// Putting the content again repairs the damaged file.
	if _, _, err := s.Put(ctx, strings.NewReader("scan")); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Get(ctx, key); err != nil || string(b) != "scan" {
		t.Fatalf("after repair: %q %v", b, err)
	}
}
