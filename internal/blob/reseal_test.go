package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Issue 16 (rotate-master with a bucket): Reseal seals every object again
// under the new field key; afterwards a store knowing only the new key reads
// every object intact, a second run finds nothing to do, and an object that
// does not open is reported and left as it was.
func TestResealUnderNewKey(t *testing.T) {
	mem := s3mem.New()
	if err := mem.CreateBucket("kangfu"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(gofakes3.New(mem).Server())
	defer srv.Close()
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	mk := func(keys KeySource) *S3 {
		s, err := NewS3(S3Config{Bucket: "kangfu", Prefix: "p", Endpoint: srv.URL, Region: "us-east-1", AccessKey: "a", SecretKey: "b",
			TempDir: t.TempDir(), Transport: srv.Client().Transport}, keys)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := mk(KeySource{Current: func() string { return "k1" }, Key: func(string) ([]byte, error) { return oldKey, nil }})
	both := mk(KeySource{Current: func() string { return "k2" }, Key: func(id string) ([]byte, error) {
		if id == "k2" {
			return newKey, nil
		}
		return oldKey, nil
	}})
	after := mk(KeySource{Current: func() string { return "k2" }, Key: func(id string) ([]byte, error) {
		if id != "k2" {
			return nil, errors.New("only the new key")
		}
		return newKey, nil
	}})

	big := make([]byte, 5*sealChunk+17) // several sealed chunks
	rand.Read(big)
	contents := [][]byte{[]byte("一份决定书"), big, {}}
	var keys []string
	for _, c := range contents {
		k, _, err := before.Put(ctx, bytes.NewReader(c))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	bad, _, _ := before.Put(ctx, bytes.NewReader([]byte("altered later")))
	tamperS3(before)(t, bad)

	res, err := both.Reseal(context.Background(), "k2", nil)
	if err != nil || res.Resealed != len(contents) || res.Already != 0 || len(res.Problems) != 1 || res.Problems[0].Key != bad {
		t.Fatalf("reseal: %+v %v", res, err)
	}
	for i, k := range keys {
		if id, err := after.SealedWith(ctx, k); err != nil || id != "k2" {
			t.Errorf("%s sealed with %q (%v), want k2", k, id, err)
		}
		got, err := after.Get(ctx, k)
		if err != nil || !bytes.Equal(got, contents[i]) {
			t.Errorf("%s with the new key alone: %d bytes, %v", k, len(got), err)
		}
		if _, err := before.Get(ctx, k); err == nil {
			t.Errorf("%s still opens with the old key", k)
		}
	}
	if id, _ := after.SealedWith(ctx, bad); id != "k1" {
		t.Errorf("the altered object was touched: sealed with %q", id)
	}
	res, err = both.Reseal(context.Background(), "k2", nil)
	if err != nil || res.Resealed != 0 || res.Already != len(contents) || len(res.Problems) != 1 {
		t.Fatalf("second run: %+v %v", res, err)
	}
}
