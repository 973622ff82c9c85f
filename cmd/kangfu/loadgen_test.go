package main

import (
	"bytes"
	"image/jpeg"
	"os"
	"testing"
	"time"
)

// The load generator's selfies are real JPEGs the server accepts (it checks
// the JPEG signature), each one distinct so every upload is a new object.
func TestLoadPhotoUnique(t *testing.T) {
	base := loadPhoto(20)
	if len(base) < 20<<10 {
		t.Fatalf("photo of %d bytes, want at least 20 KiB", len(base))
	}
	a, b := uniquePhoto(base), uniquePhoto(base)
	if bytes.Equal(a, b) {
		t.Fatal("two selfies are the same bytes")
	}
	for _, p := range [][]byte{a, b} {
		if !bytes.HasPrefix(p, []byte{0xFF, 0xD8, 0xFF}) {
			t.Fatal("not a JPEG signature")
		}
		if _, err := jpeg.Decode(bytes.NewReader(p)); err != nil {
			t.Fatalf("the selfie does not decode: %v", err)
		}
	}
}

func TestLoadRetryable(t *testing.T) {
	for status, want := range map[int]bool{0: true, 429: true, 500: true, 502: true, 503: true, 200: false, 400: false, 401: false, 409: false} {
		if retryable(status) != want {
			t.Errorf("retryable(%d) = %v", status, !want)
		}
	}
}

var cpuSink int

func TestCPUSeconds(t *testing.T) {
	s0, err := cpuSeconds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU until the count (100 Hz ticks) moves.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for i := range 1_000_000 {
			cpuSink += i
		}
		if s, _ := cpuSeconds(os.Getpid()); s > s0 {
			return
		}
	}
	t.Fatal("cpuSeconds(self) did not grow while this test used the CPU for 5 s")
}
