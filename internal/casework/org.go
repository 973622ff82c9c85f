package casework

import (
	"encoding/json"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// OrgKind is the level of a node in the org tree (区划). The county is the
// unit for "leaving the place of execution" (R8, R9).
type OrgKind string

// The org kinds, top to bottom.
const (
	KindProvince  OrgKind = "province"  // 省
	KindCity      OrgKind = "city"      // 市
	KindCounty    OrgKind = "county"    // 区/县
	KindTownship  OrgKind = "township"  // 乡镇/街道
	KindCommunity OrgKind = "community" // 社区/村/单位
)

// OrgKinds lists the kinds top to bottom.
var OrgKinds = []OrgKind{KindProvince, KindCity, KindCounty, KindTownship, KindCommunity}

// Level returns 1 for a province … 5 for a community, 0 for an unknown kind.
func (k OrgKind) Level() int {
	for i, x := range OrgKinds {
		if x == k {
			return i + 1
		}
	}
	return 0
}

// DefaultTimeZone is the zone of an org that states none.
const DefaultTimeZone = "Asia/Shanghai"

// Org is a node of the org tree. Path is the chain of ids from the root,
// "/rootid/childid/…/id/", so a subtree is every path with a given prefix.
type Org struct {
	ID        string
	ParentID  string // "" for a root
	Path      string
	Kind      OrgKind
	Name      string
	AreaCode  string // 12-digit 统计用区划代码, or ""
	TimeZone  string
	Geofence  *Geofence
	Retired   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Depth is the number of nodes from the root to o, the root being 1.
func (o *Org) Depth() int { return strings.Count(o.Path, "/") - 1 }

// Location returns the org's time zone; Asia/Shanghai when unset or unknown.
func (o *Org) Location() *time.Location {
	return LoadLocation(o.TimeZone)
}

// LoadLocation loads a zone by name, falling back to Asia/Shanghai.
func LoadLocation(name string) *time.Location {
	if name == "" {
		name = DefaultTimeZone
	}
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc, err = time.LoadLocation(DefaultTimeZone)
		if err != nil {
			return time.FixedZone("CST", 8*3600)
		}
	}
	locations.Store(name, loc)
	return loc
}

// locations caches loaded zones: time.LoadLocation reads the zone file on
// every call, and the local date is needed on every check-in (measured: 2.5 %
// of the ingest CPU). Zone names are few and never change while running.
var locations sync.Map

// OrgInput is what a user supplies to create or update an org node.
type OrgInput struct {
	ParentID string
	Kind     OrgKind
	Name     string
	AreaCode string
	TimeZone string
	Geofence string // JSON; "" for none
}

// Validate checks the input and returns the parsed geofence.
func (in *OrgInput) Validate() (*Geofence, error) {
	in.Name = strings.TrimSpace(in.Name)
	in.AreaCode = strings.TrimSpace(in.AreaCode)
	in.TimeZone = strings.TrimSpace(in.TimeZone)
	if in.Name == "" {
		return nil, Invalid("name", "名称不能为空", "name is required")
	}
	if utf8.RuneCountInString(in.Name) > 100 {
		return nil, Invalid("name", "名称不能超过100个字", "name must be at most 100 characters")
	}
	if in.Kind.Level() == 0 {
		return nil, Invalid("kind", "层级无效：%q（应为 province/city/county/township/community）",
			"unknown kind %q (want province, city, county, township or community)", string(in.Kind))
	}
	if in.AreaCode != "" {
		if len(in.AreaCode) != 12 || strings.Trim(in.AreaCode, "0123456789") != "" {
			return nil, Invalid("area_code", "区划代码应为12位数字，收到 %q", "area code must be 12 digits, got %q", in.AreaCode)
		}
	}
	if in.TimeZone == "" {
		in.TimeZone = DefaultTimeZone
	}
	if _, err := time.LoadLocation(in.TimeZone); err != nil {
		return nil, Invalid("time_zone", "未知时区 %q", "unknown time zone %q", in.TimeZone)
	}
	if strings.TrimSpace(in.Geofence) == "" {
		return nil, nil
	}
	return ParseGeofence(in.Geofence)
}

// Geofence is the area of a node: a circle, or a GeoJSON Polygon or
// MultiPolygon (coordinates as [lng, lat] as GeoJSON has them).
type Geofence struct {
	Type        string          `json:"type"`
	Lat         float64         `json:"lat,omitempty"`
	Lng         float64         `json:"lng,omitempty"`
	RadiusM     float64         `json:"radius_m,omitempty"`
	Coordinates json.RawMessage `json:"coordinates,omitempty"`

	polygons [][][][2]float64 // parsed: polygon → ring → point (lng, lat)
}

// ParseGeofence parses and validates a geofence from JSON.
func ParseGeofence(s string) (*Geofence, error) {
	var g Geofence
	if err := json.Unmarshal([]byte(s), &g); err != nil {
		return nil, Invalid("geofence", "地理围栏不是有效的JSON：%v", "geofence is not valid JSON: %v", err)
	}
	switch g.Type {
	case "circle":
		if !validLatLng(g.Lat, g.Lng) {
			return nil, Invalid("geofence", "圆心坐标超出范围", "circle centre is out of range (lat -90..90, lng -180..180)")
		}
		if !(g.RadiusM > 0 && g.RadiusM <= 500000) {
			return nil, Invalid("geofence", "半径应在 0 到 500000 米之间", "radius_m must be more than 0 and at most 500000")
		}
	case "Polygon":
		var rings [][][2]float64
		if err := json.Unmarshal(g.Coordinates, &rings); err != nil {
			return nil, Invalid("geofence", "多边形坐标格式错误", "Polygon coordinates must be [[[lng,lat],…]]")
		}
		g.polygons = [][][][2]float64{rings}
	case "MultiPolygon":
		var polys [][][][2]float64
		if err := json.Unmarshal(g.Coordinates, &polys); err != nil {
			return nil, Invalid("geofence", "多多边形坐标格式错误", "MultiPolygon coordinates must be [[[[lng,lat],…]]]")
		}
		g.polygons = polys
	default:
		return nil, Invalid("geofence", "地理围栏类型应为 circle、Polygon 或 MultiPolygon", "geofence type must be circle, Polygon or MultiPolygon, got %q", g.Type)
	}
	if g.Type != "circle" {
		if len(g.polygons) == 0 {
			return nil, Invalid("geofence", "多边形不能为空", "polygon has no rings")
		}
		for _, rings := range g.polygons {
			if len(rings) == 0 {
				return nil, Invalid("geofence", "多边形不能为空", "polygon has no rings")
			}
			for _, ring := range rings {
				if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
					return nil, Invalid("geofence", "每个环至少4个点且首尾相同", "each ring needs at least 4 points and must end where it starts")
				}
				for _, p := range ring {
					if !validLatLng(p[1], p[0]) {
						return nil, Invalid("geofence", "坐标超出范围", "a point is out of range (lng -180..180, lat -90..90)")
					}
				}
			}
		}
	}
	return &g, nil
}

// String returns the geofence as JSON.
func (g *Geofence) String() string {
	if g == nil {
		return ""
	}
	b, _ := json.Marshal(g)
	return string(b)
}

// Contains reports whether the point lies inside the fence (on the edge
// counts as inside) — the test used for check-ins (issue 4).
func (g *Geofence) Contains(lat, lng float64) bool {
	if g == nil {
		return false
	}
	if g.Type == "circle" {
		return DistanceM(g.Lat, g.Lng, lat, lng) <= g.RadiusM
	}
	for _, rings := range g.polygons {
		if inRing(rings[0], lng, lat) {
			inHole := false
			for _, hole := range rings[1:] {
				if inRing(hole, lng, lat) && !onRing(hole, lng, lat) {
					inHole = true
					break
				}
			}
			if !inHole {
				return true
			}
		}
	}
	return false
}

func validLatLng(lat, lng float64) bool {
	return lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180 && !math.IsNaN(lat) && !math.IsNaN(lng)
}

// inRing is the even-odd rule, with points on an edge counted inside.
func inRing(ring [][2]float64, x, y float64) bool {
	if onRing(ring, x, y) {
		return true
	}
	in := false
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		xi, yi, xj, yj := ring[i][0], ring[i][1], ring[j][0], ring[j][1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}

func onRing(ring [][2]float64, x, y float64) bool {
	const eps = 1e-12
	for i := 0; i+1 < len(ring); i++ {
		ax, ay, bx, by := ring[i][0], ring[i][1], ring[i+1][0], ring[i+1][1]
		cross := (bx-ax)*(y-ay) - (by-ay)*(x-ax)
		if math.Abs(cross) > eps {
			continue
		}
		if x >= math.Min(ax, bx)-eps && x <= math.Max(ax, bx)+eps && y >= math.Min(ay, by)-eps && y <= math.Max(ay, by)+eps {
			return true
		}
	}
	return false
}

// DistanceM is the great-circle distance in metres (haversine).
func DistanceM(lat1, lng1, lat2, lng2 float64) float64 {
	const r = 6371008.8
	rad := math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLng := (lng2 - lng1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}
