// Package app serves the person's app (issue 4 §3): a PWA under /app/
// that talks only to /api/v1/app/…. Everything is embedded so the server
// runs offline; the service worker keeps the app shell for offline use.
// No inline script or style: the server's CSP is strict (script-src 'self').
package app

import (
	"bytes"
	"embed"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/facemodel"
	"kangfu/internal/httpx"
)

//go:embed static
var static embed.FS

// files are the app's files by name (embedded, plus the generated icons
// and the province list).
var files = load()

type file struct {
	body  []byte
	ctype string
}

var ctypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".webmanifest": "application/manifest+json",
	".json":        "application/json",
	".png":         "image/png",
	".txt":         "text/plain; charset=utf-8",
	".bin":         "application/octet-stream", // face model weights (issue 17)
	".wasm":        "application/wasm",         // compiled while streamed
}

func load() map[string]file {
	m := map[string]file{}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		m[p] = file{body: b, ctype: ctypes[path.Ext(p)]}
		return nil
	})
	if err != nil {
		panic(err)
	}
	m["facecore.js"] = file{body: facemodel.Core, ctype: ctypes[".js"]}
	for _, n := range []int{192, 512} {
		m["icon-"+strconv.Itoa(n)+".png"] = file{body: Icon(n), ctype: "image/png"}
	}
	m["provinces.json"] = file{body: provinces(), ctype: "application/json"}
	return m
}

// Icon draws the app icon: a green square with a white check mark, n×n.
func Icon(n int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	green := color.RGBA{0x1b, 0x7f, 0x5a, 0xff}
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	for y := range n {
		for x := range n {
			img.Set(x, y, green)
		}
	}
	// The check mark: two thick strokes.
	stroke := func(x0, y0, x1, y1 float64) {
		w := float64(n) / 14
		for i := 0; i <= n*2; i++ {
			t := float64(i) / float64(n*2)
			cx, cy := (x0+(x1-x0)*t)*float64(n), (y0+(y1-y0)*t)*float64(n)
			for dy := -w; dy <= w; dy++ {
				for dx := -w; dx <= w; dx++ {
					if dx*dx+dy*dy <= w*w {
						img.Set(int(cx+dx), int(cy+dy), white)
					}
				}
			}
		}
	}
	stroke(0.25, 0.52, 0.42, 0.70)
	stroke(0.42, 0.70, 0.76, 0.32)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// provinces is the destination list of the leave form (casework.Provinces,
// the same list the server validates against).
func provinces() []byte {
	type city struct {
		Code string `json:"code"`
		Name string `json:"name"`
	}
	type prov struct {
		Code   string `json:"code"`
		ZH     string `json:"zh"`
		EN     string `json:"en"`
		Cities []city `json:"cities,omitempty"`
	}
	var out []prov
	for _, p := range casework.Provinces {
		q := prov{Code: p.Code, ZH: p.ZH, EN: p.EN}
		for _, c := range p.Cities {
			q.Cities = append(q.Cities, city{Code: c.Code, Name: c.Name})
		}
		out = append(out, q)
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	return b
}

// Routes is the app's route table: every file under /app/ is public (the
// app shell holds no data; the data is behind the device token).
func Routes() []httpx.Route {
	return []httpx.Route{{Method: "GET", Pattern: "/app/", Access: httpx.Access{Public: true}, Handler: http.HandlerFunc(serve),
		Summary: "the person's app (PWA): shell, service worker, manifest, icons"}}
}

func serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/app/")
	if name == "" {
		name = "index.html"
	}
	f, ok := files[name]
	if !ok {
		if rest, lib := strings.CutPrefix(name, facemodel.Dir); lib {
			serveFaceModel(w, r, rest)
			return
		}
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	// Always revalidate: the service worker keeps the offline copy, and a
	// new release must reach the phone on its next online start.
	h.Set("Cache-Control", "no-cache")
	if name == "sw.js" {
		h.Set("Service-Worker-Allowed", "/app/")
	}
	http.ServeContent(w, r, name, startTime, bytes.NewReader(f.body))
}

// startTime is when the files were loaded (Last-Modified for revalidation).
var startTime = time.Now().Truncate(time.Second)

// serveFaceModel serves a file of the face library (issue 17) straight from
// package facemodel's embedded files: 12 MB that every process need not
// copy into memory at start.
func serveFaceModel(w http.ResponseWriter, r *http.Request, name string) {
	f, err := facemodel.FS().Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	rs, ok := f.(io.ReadSeeker)
	if st, err := f.Stat(); !ok || err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctypes[path.Ext(name)])
	h.Set("Cache-Control", "no-cache") // as the shell: the service worker keeps the offline copy
	http.ServeContent(w, r, name, startTime, rs)
}
