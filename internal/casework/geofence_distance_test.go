package casework

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// The demo's 吉阳区 square (lng 109.45–109.62, lat 18.22–18.36) with a hole.
const squareFence = `{"type":"Polygon","coordinates":[[[109.45,18.22],[109.62,18.22],[109.62,18.36],[109.45,18.36],[109.45,18.22]],
	[[109.50,18.25],[109.52,18.25],[109.52,18.27],[109.50,18.27],[109.50,18.25]]]}`

// TestGeofenceDistanceAtBoundaries (issue 18 §14, R8's area): 0 inside and
// on the edge; outside, metres to the nearest edge — just across an edge,
// beyond a vertex (the vertex is nearest, not either edge's line), in a
// hole (to the hole's edge), and for a circle.
func TestGeofenceDistanceAtBoundaries(t *testing.T) {
	g, err := ParseGeofence(squareFence)
	if err != nil {
		t.Fatal(err)
	}
	degLng := DistanceM(18.3, 109.45, 18.3, 109.4501) // 0.0001° of longitude at 18.3°N, ≈ 10.6 m
	near := func(got, want, tol float64) bool { return math.Abs(got-want) <= tol }
	cases := []struct {
		name     string
		lat, lng float64
		want     float64
		tol      float64
	}{
		{"well inside", 18.30, 109.55, 0, 0},
		{"just inside the west edge", 18.30, 109.4501, 0, 0},
		{"on the west edge", 18.30, 109.45, 0, 0},
		{"just outside the west edge", 18.30, 109.4499, degLng, 0.05},
		{"1 km outside the east edge", 18.30, 109.62 + 1000/DistanceM(18.30, 109.62, 18.30, 109.63)*0.01, 1000, 1},
		{"beyond the south-west vertex", 18.2199, 109.4499, DistanceM(18.2199, 109.4499, 18.22, 109.45), 0.05},
		{"south of the south edge, past neither vertex", 18.2199, 109.50, DistanceM(18.2199, 109.50, 18.22, 109.50), 0.05},
		{"in the hole, near its west edge", 18.26, 109.5001, DistanceM(18.26, 109.5001, 18.26, 109.50), 0.05},
		{"on the hole's edge", 18.26, 109.50, 0, 0},
	}
	for _, c := range cases {
		got := g.DistanceToM(c.lat, c.lng)
		if !near(got, c.want, c.tol) {
			t.Errorf("%s: %.3f m, want %.3f ± %.2f", c.name, got, c.want, c.tol)
		}
		if (got == 0) != g.Contains(c.lat, c.lng) {
			t.Errorf("%s: distance %.3f but Contains %v", c.name, got, g.Contains(c.lat, c.lng))
		}
	}
	// Across a vertex the nearest point moves from one edge to the other
	// without a jump: just south of the corner and just west of it measure
	// the same as the corner itself.
	a := g.DistanceToM(18.2190, 109.4500) // straight south of the vertex
	b := g.DistanceToM(18.2200, 109.4491) // straight west of the vertex
	if !near(a, DistanceM(18.219, 109.45, 18.22, 109.45), 0.05) || !near(b, DistanceM(18.22, 109.4491, 18.22, 109.45), 0.05) {
		t.Errorf("at the vertex: south %.3f, west %.3f", a, b)
	}

	// Beyond the corner the nearest point is the corner itself; beside an
	// edge it is the foot of the perpendicular.
	if la, ln, _ := g.Nearest(18.2199, 109.4499); math.Abs(la-18.22) > 1e-9 || math.Abs(ln-109.45) > 1e-9 {
		t.Errorf("nearest to the south-west corner's outside: %v, %v", la, ln)
	}
	if la, ln, _ := g.Nearest(18.30, 109.4499); math.Abs(la-18.30) > 1e-9 || math.Abs(ln-109.45) > 1e-9 {
		t.Errorf("nearest across the west edge: %v, %v", la, ln)
	}

	c, err := ParseGeofence(`{"type":"circle","lat":18.285,"lng":109.535,"radius_m":1200}`)
	if err != nil {
		t.Fatal(err)
	}
	// 1199 m and 1201 m north of the centre.
	mPerDeg := DistanceM(18.285, 109.535, 18.295, 109.535) / 0.01
	if d := c.DistanceToM(18.285+1199/mPerDeg, 109.535); d != 0 {
		t.Errorf("just inside the circle: %.3f", d)
	}
	if d := c.DistanceToM(18.285+1201/mPerDeg, 109.535); !near(d, 1, 0.01) {
		t.Errorf("just outside the circle: %.3f, want 1", d)
	}
	var none *Geofence
	if !math.IsNaN(none.DistanceToM(18, 109)) {
		t.Error("no fence: want NaN")
	}
}

// TestParseGeofenceErrorsNameThePlace (issue 18 §8): invalid GeoJSON gets
// an error on the geofence field that says where and why, in both
// languages; a Feature or a one-feature FeatureCollection is kept as its
// geometry.
func TestParseGeofenceErrorsNameThePlace(t *testing.T) {
	ring := `[[109.45,18.22],[109.62,18.22],[109.62,18.36],[109.45,18.22]]`
	bad := []struct{ in, zh, en string }{
		{`{"type":"Polygon"`, "不是有效的JSON", "not valid JSON"},
		{`{"coordinates":[]}`, "缺少 type", "has no type"},
		{`{"type":"Point","coordinates":[109,18]}`, `收到 "Point"`, `got "Point"`},
		{`{"type":"Polygon","coordinates":[[109,18]]}`, "多边形坐标格式错误", "Polygon coordinates must be"},
		{`{"type":"Polygon","coordinates":[[[109.45,18.22],[109.62,18.22],[109.45,18.22]]]}`, "第1个环只有3个点", "ring 1 has 3 points"},
		{`{"type":"Polygon","coordinates":[` + ring + `,[[109.5,18.25],[109.52,18.25],[109.52,18.27],[109.5,18.27]]]}`, "第2个环未闭合", "ring 2 is not closed"},
		{`{"type":"Polygon","coordinates":[[[109.45,18.22],[18.22,109.62],[109.62,18.36],[109.45,18.22]]]}`, "第1个环的第2个点 [18.22,109.62] 超出范围", "point 2 of ring 1, [18.22,109.62], is out of range"},
		{`{"type":"MultiPolygon","coordinates":[[` + ring + `],[[[1,2],[3,4],[1,2]]]]}`, "第2个多边形的第1个环只有3个点", "ring 1 of polygon 2 has 3 points"},
		{`{"type":"circle","lat":18.3,"lng":109.5,"radius_m":0}`, "半径", "radius_m"},
		{`{"type":"circle","lat":109.5,"lng":18.3,"radius_m":10}`, "圆心坐标超出范围", "centre is out of range"},
		{`{"type":"Feature","properties":{}}`, "缺少 geometry", "has no geometry"},
		{`{"type":"FeatureCollection","features":[]}`, "收到 0 个", "it has 0"},
	}
	for _, b := range bad {
		_, err := ParseGeofence(b.in)
		var e *Error
		if err == nil || !errors.As(err, &e) || e.Field != "geofence" || !strings.Contains(e.Message("zh"), b.zh) || !strings.Contains(e.Message("en"), b.en) {
			t.Errorf("%s: %v (want %q / %q)", b.in, err, b.zh, b.en)
		}
	}
	g, err := ParseGeofence(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Polygon","coordinates":[` + ring + `]}}]}`)
	if err != nil || g.Type != "Polygon" || !strings.HasPrefix(g.String(), `{"type":"Polygon","coordinates":[[[109.45,18.22]`) || !g.Contains(18.25, 109.5) {
		t.Fatalf("feature collection: %v %s", err, g.String())
	}
}
