package casework

import "math"

// Polygons returns the parsed rings of a Polygon or MultiPolygon fence
// (polygon → ring → [lng, lat]); nil for a circle.
func (g *Geofence) Polygons() [][][][2]float64 {
	if g == nil {
		return nil
	}
	return g.polygons
}

// DistanceToM is how far the point is from the fence in metres: 0 inside
// or on the edge (as Contains), else the distance to the nearest edge —
// of a circle, the distance to the centre less the radius; of a polygon,
// the shortest great-circle distance to any edge of any ring (a point in
// a hole measures to the hole's edge). This is what the check-in location
// page shows beside the verdict (issue 18 §14; R8's area).
func (g *Geofence) DistanceToM(lat, lng float64) float64 {
	_, _, d := g.Nearest(lat, lng)
	return d
}

// Nearest returns the point of the fence's edge nearest to the given
// point and the distance to it (DistanceToM); a point inside (or on the
// edge) is its own nearest point at 0. No fence: NaN.
func (g *Geofence) Nearest(lat, lng float64) (nLat, nLng, distM float64) {
	if g == nil {
		return math.NaN(), math.NaN(), math.NaN()
	}
	if g.Contains(lat, lng) {
		return lat, lng, 0
	}
	if g.Type == "circle" {
		d := DistanceM(g.Lat, g.Lng, lat, lng)
		f := g.RadiusM / d // along the line from the centre, on a local plane
		return g.Lat + (lat-g.Lat)*f, g.Lng + (lng-g.Lng)*f, math.Max(0, d-g.RadiusM)
	}
	best := math.Inf(1)
	for _, rings := range g.polygons {
		for _, ring := range rings {
			for i := 0; i+1 < len(ring); i++ {
				la, ln, d := segmentNearest(lat, lng, ring[i], ring[i+1])
				if d < best {
					nLat, nLng, best = la, ln, d
				}
			}
		}
	}
	return nLat, nLng, best
}

// segmentNearest is the point of the edge a–b ([lng, lat] each) nearest
// to the point, and the distance to it: the nearest point is found on a local
// plane centred on the point (equirectangular, exact enough for edges of
// a county), and the distance to it measured on the sphere.
func segmentNearest(lat, lng float64, a, b [2]float64) (nLat, nLng, distM float64) {
	k := math.Cos(lat * math.Pi / 180)
	ax, ay := (a[0]-lng)*k, a[1]-lat
	bx, by := (b[0]-lng)*k, b[1]-lat
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l2 := dx*dx + dy*dy; l2 > 0 {
		t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l2))
	}
	nLng = a[0] + t*(b[0]-a[0])
	nLat = a[1] + t*(b[1]-a[1])
	return nLat, nLng, DistanceM(lat, lng, nLat, nLng)
}
