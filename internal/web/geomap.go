package web

// geomap.go: geofences and check-in points drawn as a map (issue 18 §8,
// §14). By default nothing is fetched from outside: the server draws the
// fence, the point and its accuracy circle as SVG on a local flat
// projection with a scale bar and north arrow. When the operator sets a
// tile server (KANGFU_MAP_TILES), the page also carries the data for
// Leaflet (vendored from npm, static/vendor/leaflet), which draws the
// same shapes over the tiles (static/map.js).

import (
	"math"
	"strconv"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
)

const (
	mapW, mapH = 320.0, 240.0
	mPerDegLat = 111320.0
)

type svgCircle struct{ CX, CY, R string }

type svgLine struct{ X1, Y1, X2, Y2 string }

// geoBox is a frame to draw in degrees.
type geoBox struct{ minLat, maxLat, minLng, maxLng float64 }

// geoMap is what the "geomap" template draws.
type geoMap struct {
	W, H       int
	Paths      []string    // polygon fences: one path per polygon, holes included (even-odd)
	Circles    []svgCircle // circle fences
	Point      *svgCircle  // the check-in point
	Accuracy   *svgCircle  // its accuracy circle
	ScaleX1    string
	ScaleX2    string
	ScaleY     string
	ScaleLabel string
	Label      string   // the drawing in words (aria-label)
	Link       *svgLine // from the point to the nearest point of the fence, when outside

	// For Leaflet, when tiles are configured.
	Tiles, Attribution string
	Fence              string // the fence as JSON
	Lat, Lng, AccM     string

	spanM float64 // the larger side of what is drawn, in metres
}

// mapPoint is a check-in's position with its accuracy.
type mapPoint struct{ Lat, Lng, AccM float64 }

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// newGeoMap lays out the fence and point (either may be nil) on a
// 320×240 drawing: an equirectangular projection about the middle of
// what is drawn, which keeps distances true to well under 1% across a
// county.
func (c *Console) newGeoMap(lang string, fence *casework.Geofence, pt *mapPoint) *geoMap {
	return c.newGeoMapIn(lang, fence, pt, nil)
}

// newGeoMapNear draws the neighbourhood of the point: the point, its
// accuracy circle and the nearest stretch of the fence with the line to
// it — nil when the whole-area map already shows that at a useful scale.
func (c *Console) newGeoMapNear(lang string, fence *casework.Geofence, pt *mapPoint) *geoMap {
	if fence == nil || pt == nil {
		return nil
	}
	nLat, nLng, d := fence.Nearest(pt.Lat, pt.Lng)
	half := math.Max(math.Max(d*0.7+pt.AccM, pt.AccM*2.5), 150)
	whole := c.newGeoMapIn(lang, fence, pt, nil)
	if whole == nil || whole.spanM < 6*half {
		return nil
	}
	cLat, cLng := (pt.Lat+nLat)/2, (pt.Lng+nLng)/2
	dLat := half / mPerDegLat
	dLng := half / (mPerDegLat * math.Max(0.01, math.Cos(cLat*math.Pi/180)))
	return c.newGeoMapIn(lang, fence, pt, &geoBox{cLat - dLat, cLat + dLat, cLng - dLng, cLng + dLng})
}

func (c *Console) newGeoMapIn(lang string, fence *casework.Geofence, pt *mapPoint, frame *geoBox) *geoMap {
	if fence == nil && pt == nil {
		return nil
	}
	minLat, maxLat, minLng, maxLng := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	add := func(lat, lng float64) {
		minLat, maxLat, minLng, maxLng = math.Min(minLat, lat), math.Max(maxLat, lat), math.Min(minLng, lng), math.Max(maxLng, lng)
	}
	addCircle := func(lat, lng, r float64) {
		dLat := r / mPerDegLat
		dLng := r / (mPerDegLat * math.Max(0.01, math.Cos(lat*math.Pi/180)))
		add(lat-dLat, lng-dLng)
		add(lat+dLat, lng+dLng)
	}
	if fence != nil {
		if fence.Type == "circle" {
			addCircle(fence.Lat, fence.Lng, fence.RadiusM)
		}
		for _, poly := range fence.Polygons() {
			for _, p := range poly[0] {
				add(p[1], p[0])
			}
		}
	}
	if pt != nil {
		addCircle(pt.Lat, pt.Lng, math.Max(pt.AccM, 20))
	}
	if frame != nil {
		minLat, maxLat, minLng, maxLng = frame.minLat, frame.maxLat, frame.minLng, frame.maxLng
	}
	k := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	// Metres east and north of the south-west corner.
	proj := func(lat, lng float64) (float64, float64) {
		return (lng - minLng) * k * mPerDegLat, (lat - minLat) * mPerDegLat
	}
	wM, hM := proj(maxLat, maxLng)
	wM, hM = math.Max(wM, 100), math.Max(hM, 100)
	const pad = 16.0
	s := math.Min((mapW-2*pad)/wM, (mapH-2*pad-18)/hM) // px per metre; 18 px kept for the scale bar
	ox := (mapW - wM*s) / 2
	oy := (mapH-18)/2 + hM*s/2 // the y of the southern edge
	xy := func(lat, lng float64) (float64, float64) {
		x, y := proj(lat, lng)
		return ox + x*s, oy - y*s
	}
	m := &geoMap{W: int(mapW), H: int(mapH), Tiles: c.MapTiles, Attribution: c.MapAttribution, spanM: math.Max(wM, hM)}
	if frame != nil {
		m.Tiles = "" // the close-up is the SVG's; Leaflet zooms the whole map
	}
	var words []string
	if fence != nil {
		if fence.Type == "circle" {
			x, y := xy(fence.Lat, fence.Lng)
			m.Circles = append(m.Circles, svgCircle{f1(x), f1(y), f1(fence.RadiusM * s)})
			words = append(words, i18n.T(lang, "map.fence_circle", fmtMetres(lang, fence.RadiusM)))
		}
		for _, poly := range fence.Polygons() {
			var b strings.Builder
			for _, ring := range poly {
				for i, p := range ring {
					x, y := xy(p[1], p[0])
					if i == 0 {
						b.WriteString("M")
					} else {
						b.WriteString(" L")
					}
					b.WriteString(f1(x) + " " + f1(y))
				}
				b.WriteString(" Z ")
			}
			m.Paths = append(m.Paths, strings.TrimSpace(b.String()))
		}
		if len(fence.Polygons()) > 0 {
			words = append(words, i18n.T(lang, "map.fence_polygon"))
		}
		m.Fence = fence.String()
	}
	if pt != nil {
		x, y := xy(pt.Lat, pt.Lng)
		m.Point = &svgCircle{f1(x), f1(y), "4"}
		if pt.AccM > 0 {
			m.Accuracy = &svgCircle{f1(x), f1(y), f1(pt.AccM * s)}
		}
		m.Lat, m.Lng, m.AccM = strconv.FormatFloat(pt.Lat, 'f', 6, 64), strconv.FormatFloat(pt.Lng, 'f', 6, 64), strconv.FormatFloat(pt.AccM, 'f', 0, 64)
		words = append(words, i18n.T(lang, "map.point"))
		if fence != nil {
			if nLat, nLng, d := fence.Nearest(pt.Lat, pt.Lng); d > 0 {
				x2, y2 := xy(nLat, nLng)
				m.Link = &svgLine{f1(x), f1(y), f1(x2), f1(y2)}
			}
		}
	}
	// A scale bar of a round length near a quarter of the width.
	raw := mapW / 4 / s
	step := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, f := range []float64{5, 2, 1} {
		if f*step <= raw {
			step *= f
			break
		}
	}
	m.ScaleX1, m.ScaleX2, m.ScaleY = f1(pad), f1(pad+step*s), f1(mapH-10)
	m.ScaleLabel = fmtMetres(lang, step)
	m.Label = strings.Join(words, i18n.T(lang, "map.and")) + " · " + i18n.T(lang, "map.scale", m.ScaleLabel)
	return m
}

// fmtMetres writes a length for people: "850 米" / "1.2 km".
func fmtMetres(lang string, m float64) string {
	switch {
	case m >= 10000:
		return i18n.T(lang, "map.km", strconv.FormatFloat(math.Round(m/1000), 'f', -1, 64))
	case m >= 1000:
		return i18n.T(lang, "map.km", strconv.FormatFloat(math.Round(m/100)/10, 'f', -1, 64))
	case m >= 10:
		return i18n.T(lang, "map.m", strconv.FormatFloat(math.Round(m), 'f', -1, 64))
	default:
		return i18n.T(lang, "map.m", strconv.FormatFloat(math.Round(m*10)/10, 'f', -1, 64))
	}
}
