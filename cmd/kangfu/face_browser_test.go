package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"kangfu/internal/browsertest"
)

// The face check of issue 17 in real headless Chromium: the vendored
// @vladmandic/human library and models, run by the app's and the console's
// facecore.js on the real server (its CSP, its static files).

// faceJPEG is the test face photo (testdata/face/README.md: a public-domain
// NASA portrait).
func faceJPEG(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "face", "astronaut.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFaceY4M writes the test face, scaled to 640×480, as a one-frame
// 4:2:0 Y4M for Chromium's --use-file-for-fake-video-capture (which loops
// it: a camera that shows the still photo).
func writeFaceY4M(t *testing.T, path string) {
	t.Helper()
	img, err := jpeg.Decode(strings.NewReader(string(faceJPEG(t))))
	if err != nil {
		t.Fatal(err)
	}
	const w, h = 640, 480
	b := img.Bounds()
	ys := make([]byte, w*h)
	cb := make([]int, w*h)
	cr := make([]int, w*h)
	for y := range h {
		for x := range w {
			r, g, bl, _ := img.At(b.Min.X+x*b.Dx()/w, b.Min.Y+y*b.Dy()/h).RGBA()
			Y, Cb, Cr := color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(bl>>8))
			ys[y*w+x], cb[y*w+x], cr[y*w+x] = Y, int(Cb), int(Cr)
		}
	}
	u := make([]byte, w*h/4)
	v := make([]byte, w*h/4)
	for y := range h / 2 {
		for x := range w / 2 {
			i := 2*y*w + 2*x
			u[y*w/2+x] = byte((cb[i] + cb[i+1] + cb[i+w] + cb[i+w+1]) / 4)
			v[y*w/2+x] = byte((cr[i] + cr[i+1] + cr[i+w] + cr[i+w+1]) / 4)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F30:1 Ip A1:1 C420jpeg\nFRAME\n", w, h)
	bw.Write(ys)
	bw.Write(u)
	bw.Write(v)
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// faceNumbers is what one page load of the face check measured.
type faceNumbers struct {
	Backend  string  `json:"backend"`
	LoadMS   float64 `json:"load_ms"`   // library + models + WebAssembly, fetched and initialised
	FirstMS  float64 `json:"first_ms"`  // the first photo (kernels compile)
	PhotoMS  float64 `json:"photo_ms"`  // a later photo (the median of three)
	Bytes    float64 `json:"bytes"`     // bytes fetched from vendor/human/
	Files    int     `json:"files"`     // files fetched from vendor/human/
	Outcome  string  `json:"outcome"`   // the test face: no_reference (a face, no reference given)
	Liveness string  `json:"liveness"`  // passed | failed
	Self     float64 `json:"self"`      // similarity of the face with its own embedding (1)
	Embed    int     `json:"embed_len"` // floats in the embedding
}

// measureFace loads the face check on a fresh page of the app and runs it
// on the test face, at the given CPU throttling (1: none).
func measureFace(t *testing.T, ctx context.Context, base string, rate float64) faceNumbers {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: rate}); err != nil {
		t.Fatalf("CPU throttling: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/app/"), chromedp.WaitReady(`body[data-ready="1"]`)); err != nil {
		t.Fatal(err)
	}
	js := `(async () => {
		const F = window.KangfuFace;
		const t0 = performance.now();
		const h = await F.load('/app/vendor/human/');
		const load = performance.now() - t0;
		const img = new Image();
		img.src = 'data:image/jpeg;base64,` + base64.StdEncoding.EncodeToString(faceJPEG(t)) + `';
		await img.decode();
		let t1 = performance.now();
		const r = await F.analyse(h, img, null);
		const first = performance.now() - t1;
		const times = [];
		for (let i = 0; i < 3; i++) { t1 = performance.now(); await F.analyse(h, img, null); times.push(performance.now() - t1); }
		times.sort((a, b) => a - b);
		const got = performance.getEntriesByType('resource').filter((e) => e.name.includes('/app/vendor/human/'));
		const emb = F.decode(r.embedding);
		return JSON.stringify({ backend: h.tf.getBackend(), load_ms: load, first_ms: first, photo_ms: times[1],
			bytes: got.reduce((s, e) => s + (e.encodedBodySize || 0), 0), files: got.length,
			outcome: r.outcome, liveness: r.liveness, self: F.similarity(h, r.embedding, r.embedding), embed_len: emb ? emb.length : 0 });
	})()`
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("the face check on the test face (CPU ×%v): %v", rate, err)
	}
	var n faceNumbers
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	if _, err := chromedp.Call(ctx, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: 1}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBrowserFaceModelRuns (issue 17 item 2): on the real server, under its
// CSP, the app's face check loads the vendored library, models and
// WebAssembly (nothing from elsewhere), finds the face in the test photo
// and makes a 1024-float embedding with itself as the perfect match. With
// KANGFU_FACE_NUMBERS=1 it also loads and runs it under 4× CPU throttling
// (a cheap-Android proxy) and logs the numbers (idmodel-numbers.md).
func TestBrowserFaceModelRuns(t *testing.T) {
	ctx := browsertest.New(t)
	base := startServer(t, t.TempDir())
	tctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	one := measureFace(t, tctx, base, 1)
	t.Logf("CPU ×1: %+v", one)
	if one.Backend != "wasm" {
		t.Errorf("backend %q, want wasm (WebAssembly allowed by the CSP, the .wasm files served)", one.Backend)
	}
	if one.Outcome != "no_reference" || one.Embed != 1024 || one.Self != 1 {
		t.Errorf("the test face: outcome %q, embedding of %d floats, self-similarity %v; want a face (no_reference), 1024, 1", one.Outcome, one.Embed, one.Self)
	}
	if one.Liveness != "passed" && one.Liveness != "failed" {
		t.Errorf("liveness %q for a found face, want passed or failed", one.Liveness)
	}
	if one.Files < 12 || one.Bytes < 10e6 { // human.js, 10 model files, one .wasm
		t.Errorf("fetched %d files, %.0f bytes from vendor/human/: the models did not all load", one.Files, one.Bytes)
	}
	if os.Getenv("KANGFU_FACE_NUMBERS") == "1" {
		four := measureFace(t, tctx, base, 4)
		t.Logf("CPU ×4: %+v", four)
	}
}
