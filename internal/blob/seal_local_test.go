package blob

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testKeys is a KeySource whose current key is id.
func testKeys(id string, key []byte) KeySource {
	return KeySource{Current: func() string { return id }, Key: func(string) ([]byte, error) { return key, nil }}
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// R36, issue 17 §6: a sealing local store writes no plaintext to its folder
// (a check-in selfie's bytes do not appear in any file under it), keeps
// content addressing by the plaintext's hash, stores a second Put of the
// same content as nothing, and answers the plaintext and its size.
func TestLocalStoreSeals(t *testing.T) {
	s, err := OpenSealed(t.TempDir(), testKeys("k1", bytes.Repeat([]byte{3}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 100, sealChunk, 3*sealChunk + 17} {
		content := append([]byte("\xff\xd8\xff\xe0 JFIF selfie "), randomBytes(t, n)...)
		key, size, err := s.Put(ctx, bytes.NewReader(content))
		if err != nil || key != sha(content) || size != int64(len(content)) {
			t.Fatalf("put %d: %s %d %v", n, key, size, err)
		}
		raw, err := os.ReadFile(s.path(key))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, content[:16]) || !bytes.HasPrefix(raw, []byte(sealMagic+"\x02k1")) {
			t.Fatalf("size %d: the file holds the plaintext, or no seal header: %q", n, raw[:min(len(raw), 20)])
		}
		if len(content) > 64 && bytes.Contains(raw, content[len(content)-64:]) {
			t.Fatalf("size %d: the end of the plaintext is in the file", n)
		}
		fi, _ := os.Stat(s.path(key))
		mod := fi.ModTime()
		if k2, _, err := s.Put(ctx, bytes.NewReader(content)); err != nil || k2 != key {
			t.Fatalf("second put: %s %v", k2, err)
		}
		if fi2, _ := os.Stat(s.path(key)); !fi2.ModTime().Equal(mod) {
			t.Fatal("a second Put of the same content rewrote the file")
		}
		got, err := s.Get(ctx, key)
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("get %d: %v", n, err)
		}
		if st, err := s.Stat(ctx, key); err != nil || st != int64(len(content)) {
			t.Fatalf("stat %d: %d %v", n, st, err)
		}
		rc, osize, err := s.Open(ctx, key)
		if err != nil || osize != int64(len(content)) {
			t.Fatalf("open %d: %d %v", n, osize, err)
		}
		var buf bytes.Buffer
		if _, err := Copy(&buf, rc); err != nil || !bytes.Equal(buf.Bytes(), content) {
			t.Fatalf("stream %d: %v", n, err)
		}
		if id, err := s.SealedWith(ctx, key); err != nil || id != "k1" {
			t.Fatalf("sealed with %q %v", id, err)
		}
	}
	if left, _ := os.ReadDir(filepath.Join(s.Dir(), "tmp")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	// A plain store (no keys) does not pass a sealed file off as content.
	plain, _ := Open(s.Dir())
	content := []byte("sealed content")
	key, _, _ := s.Put(ctx, bytes.NewReader(content))
	if _, err := plain.Get(ctx, key); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a store without keys read a sealed file: %v", err)
	}
}

// watchTmp is a reader that notes whether the store's temporary folder
// held a file while the store read the upload.
type watchTmp struct {
	r    *bytes.Reader
	dir  string
	seen bool
}

func (w *watchTmp) Read(p []byte) (int, error) {
	if e, _ := os.ReadDir(w.dir); len(e) > 0 {
		w.seen = true
	}
	n, err := w.r.Read(p[:min(len(p), 4096)])
	if e, _ := os.ReadDir(w.dir); len(e) > 0 {
		w.seen = true
	}
	return n, err
}

// A selfie-sized upload is sealed from memory: its plaintext never touches
// the disk, not even the temporary folder. A large document is hashed in a
// temporary file first (its name is known only at the end), removed once
// sealed. Open removes temporary files left by a crash.
func TestLocalSmallUploadNeverOnDisk(t *testing.T) {
	s, err := OpenSealed(t.TempDir(), testKeys("k1", bytes.Repeat([]byte{9}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(s.Dir(), "tmp")
	small := &watchTmp{r: bytes.NewReader(randomBytes(t, 200<<10)), dir: tmp}
	if _, _, err := s.Put(ctx, small); err != nil || small.seen {
		t.Fatalf("small upload: %v, temporary file seen %v", err, small.seen)
	}
	large := &watchTmp{r: bytes.NewReader(randomBytes(t, putInMemory+1)), dir: tmp}
	if _, _, err := s.Put(ctx, large); err != nil || !large.seen {
		t.Fatalf("large upload: %v, temporary file seen %v", err, large.seen)
	}
	stale, fresh := filepath.Join(tmp, "put-1"), filepath.Join(tmp, "put-2")
	os.WriteFile(stale, []byte("plaintext left by a crash"), 0o600)
	os.WriteFile(fresh, []byte("an upload in progress"), 0o600)
	old := time.Now().Add(-staleTemp - time.Minute)
	os.Chtimes(stale, old, old)
	if _, err := OpenSealed(s.Dir(), testKeys("k1", bytes.Repeat([]byte{9}, 32))); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale temporary file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("a fresh temporary file was removed: %v", err)
	}
}

// Legacy plaintext files (written before the folder was sealed) still
// read, even one that starts with the seal's magic; SealPlain seals them
// in place, reads back the same content, and a second run does nothing.
// A tampered sealed file answers ErrCorrupt, a damaged legacy file is
// reported and left.
func TestLocalLegacyPlaintextAndSealPlain(t *testing.T) {
	dir := t.TempDir()
	legacy, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	contents := [][]byte{
		[]byte("a legacy scan"),
		append([]byte(sealMagic+"\x02k1"), randomBytes(t, 200)...), // plaintext that looks sealed
		append([]byte(sealMagic+"\x02k1"), randomBytes(t, sealChunk+sealTag+8)...),
		randomBytes(t, 2*sealChunk+5),
	}
	var keys []string
	for _, c := range contents {
		k, _, err := legacy.Put(ctx, bytes.NewReader(c))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	damaged, _, _ := legacy.Put(ctx, bytes.NewReader([]byte("to be damaged")))
	if err := os.WriteFile(legacy.path(damaged), []byte("to be DAMAGED"), 0o600); err != nil {
		t.Fatal(err)
	}

	s, err := OpenSealed(dir, testKeys("k1", bytes.Repeat([]byte{5}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for i, k := range keys {
			got, err := s.Get(ctx, k)
			if err != nil || !bytes.Equal(got, contents[i]) {
				t.Fatalf("%s: file %d does not read: %v", when, i, err)
			}
			if n, err := s.Stat(ctx, k); err != nil || n != int64(len(contents[i])) {
				t.Fatalf("%s: stat %d: %d %v", when, i, n, err)
			}
		}
	}
	check("before sealing")
	for i, k := range keys { // a store without keys reads them too, magic or not
		if got, err := legacy.Get(ctx, k); err != nil || !bytes.Equal(got, contents[i]) {
			t.Fatalf("plain store, file %d: %v", i, err)
		}
	}
	c, err := s.Count(ctx)
	if err != nil || c.Plain != 5 || c.Already != 0 || len(c.Problems) != 0 { // the damaged file is plaintext too
		t.Fatalf("count before: %+v %v", c, err)
	}
	res, err := s.SealPlain(ctx, nil)
	if err != nil || res.Sealed != 4 || res.Already != 0 || len(res.Problems) != 1 || res.Problems[0].Key != damaged || !errors.Is(res.Problems[0].Err, ErrCorrupt) {
		t.Fatalf("seal: %+v %v", res, err)
	}
	for i, k := range keys {
		raw, _ := os.ReadFile(s.path(k))
		if bytes.Contains(raw, contents[i][len(contents[i])-8:]) {
			t.Fatalf("file %d still holds its plaintext", i)
		}
	}
	check("after sealing")
	if raw, _ := os.ReadFile(s.path(damaged)); string(raw) != "to be DAMAGED" {
		t.Fatal("the damaged file was changed")
	}
	res, err = s.SealPlain(ctx, nil)
	if err != nil || res.Sealed != 0 || res.Already != 4 || len(res.Problems) != 1 {
		t.Fatalf("second run: %+v %v", res, err)
	}
	if c, _ := s.Count(ctx); c.Plain != 1 || c.Already != 4 { // the damaged one stays
		t.Fatalf("count after: %+v", c)
	}

	// Tampering: a flipped byte in the first or a later chunk, or the
	// header's key id, answers corrupt (Get, Open to the end, Check).
	for _, at := range []int{3, 30, sealChunk + 100} {
		k := keys[3]
		raw, _ := os.ReadFile(s.path(k))
		bad := bytes.Clone(raw)
		bad[at] ^= 1
		os.WriteFile(s.path(k), bad, 0o600)
		if _, err := s.Get(ctx, k); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("tampered at %d: get %v", at, err)
		}
		if err := Check(ctx, s, k); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("tampered at %d: check %v", at, err)
		}
		os.WriteFile(s.path(k), raw, 0o600)
	}
	check("after restoring the tampered file")
}

// rotate-master with the local folder (issue 16): Reseal seals every file
// again under the new field key (plaintext ones too); a store knowing only
// the new key reads them all; a second run does nothing.
func TestLocalResealUnderNewKey(t *testing.T) {
	dir := t.TempDir()
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	before, _ := OpenSealed(dir, testKeys("k1", oldKey))
	plain, _ := Open(dir)
	a, _ := PutBytes(ctx, before, randomBytes(t, sealChunk*2))
	b, _ := PutBytes(ctx, plain, []byte("legacy plaintext"))
	both, _ := OpenSealed(dir, KeySource{Current: func() string { return "k2" }, Key: func(id string) ([]byte, error) {
		if id == "k2" {
			return newKey, nil
		}
		return oldKey, nil
	}})
	res, err := both.Reseal(ctx, "k2", nil)
	if err != nil || res.Resealed != 2 || res.Already != 0 || len(res.Problems) != 0 {
		t.Fatalf("reseal: %+v %v", res, err)
	}
	after, _ := OpenSealed(dir, testKeys("k2", newKey))
	for _, k := range []string{a, b} {
		if err := Check(ctx, after, k); err != nil {
			t.Fatalf("%s under the new key alone: %v", k, err)
		}
		if id, _ := after.SealedWith(ctx, k); id != "k2" {
			t.Fatalf("%s sealed with %q", k, id)
		}
	}
	if err := Check(ctx, before, a); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("the old key alone still opens a re-sealed file: %v", err)
	}
	res, err = both.Reseal(ctx, "k2", nil)
	if err != nil || res.Resealed != 0 || res.Already != 2 {
		t.Fatalf("second run: %+v %v", res, err)
	}
}
