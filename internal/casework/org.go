package casework

import (
	"encoding/json"
	"fmt"
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

// Validate checks the input, every field at once (issue 18 item 9), and
// returns the parsed geofence.
func (in *OrgInput) Validate() (*Geofence, error) {
	in.Name = strings.TrimSpace(in.Name)
	in.AreaCode = strings.TrimSpace(in.AreaCode)
	in.TimeZone = strings.TrimSpace(in.TimeZone)
	var errs FieldErrors
	if in.Name == "" {
		errs.Add(Invalid("name", "名称不能为空", "name is required"))
	} else if utf8.RuneCountInString(in.Name) > 100 {
		errs.Add(Invalid("name", "名称不能超过100个字", "name must be at most 100 characters"))
	}
	if in.Kind.Level() == 0 {
		errs.Add(Invalid("kind", "层级无效：%q（应为 province/city/county/township/community）",
			"unknown kind %q (want province, city, county, township or community)", string(in.Kind)))
	}
	if in.AreaCode != "" {
		if len(in.AreaCode) != 12 || strings.Trim(in.AreaCode, "0123456789") != "" {
			errs.Add(Invalid("area_code", "区划代码应为12位数字，收到 %q", "area code must be 12 digits, got %q", in.AreaCode))
		}
	}
	if in.TimeZone == "" {
		in.TimeZone = DefaultTimeZone
	}
	if _, err := time.LoadLocation(in.TimeZone); err != nil {
		errs.Add(Invalid("time_zone", "未知时区 %q", "unknown time zone %q", in.TimeZone))
	}
	var g *Geofence
	if strings.TrimSpace(in.Geofence) != "" {
		var err error
		if g, err = ParseGeofence(in.Geofence); err != nil {
			if other := errs.Add(err); other != nil {
				return nil, other
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return g, nil
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

// ParseGeofence parses and validates a geofence from JSON: a circle
// {"type":"circle","lat","lng","radius_m"}, a GeoJSON Polygon or
// MultiPolygon, or a GeoJSON Feature (or a FeatureCollection of one
// feature) holding one — what map tools export; it is kept as its
// geometry. Every error names the field "geofence" and says where the
// input is wrong (which ring, which point) and why (issue 18 §8).
func ParseGeofence(s string) (*Geofence, error) {
	var g Geofence
	var wrap struct {
		Type     string          `json:"type"`
		Geometry json.RawMessage `json:"geometry"`
		Features []struct {
			Geometry json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(s), &wrap); err != nil {
		return nil, Invalid("geofence", "地理围栏不是有效的JSON：%v", "geofence is not valid JSON: %v", err)
	}
	switch wrap.Type {
	case "Feature":
		if len(wrap.Geometry) == 0 || string(wrap.Geometry) == "null" {
			return nil, Invalid("geofence", "GeoJSON Feature 缺少 geometry", "the GeoJSON Feature has no geometry")
		}
		return ParseGeofence(string(wrap.Geometry))
	case "FeatureCollection":
		if len(wrap.Features) != 1 {
			return nil, Invalid("geofence", "FeatureCollection 应只含一个要素（收到 %d 个）", "a FeatureCollection must hold exactly one feature (it has %d)", len(wrap.Features))
		}
		return ParseGeofence(string(wrap.Features[0].Geometry))
	}
	if err := json.Unmarshal([]byte(s), &g); err != nil {
		return nil, Invalid("geofence", "地理围栏不是有效的JSON：%v", "geofence is not valid JSON: %v", err)
	}
	switch g.Type {
	case "circle":
		if !validLatLng(g.Lat, g.Lng) {
			return nil, Invalid("geofence", "圆心坐标超出范围（纬度 -90 至 90，经度 -180 至 180）", "circle centre is out of range (lat -90..90, lng -180..180)")
		}
		if !(g.RadiusM > 0 && g.RadiusM <= 500000) {
			return nil, Invalid("geofence", "半径 radius_m 应大于 0 且不超过 500000 米", "radius_m must be more than 0 and at most 500000")
		}
		g.Coordinates = nil
	case "Polygon":
		var rings [][][2]float64
		if err := json.Unmarshal(g.Coordinates, &rings); err != nil {
			return nil, Invalid("geofence", "多边形坐标格式错误，应为 [[[经度,纬度],…]]", "Polygon coordinates must be [[[lng,lat],…]]")
		}
		g.polygons = [][][][2]float64{rings}
	case "MultiPolygon":
		var polys [][][][2]float64
		if err := json.Unmarshal(g.Coordinates, &polys); err != nil {
			return nil, Invalid("geofence", "多多边形坐标格式错误，应为 [[[[经度,纬度],…]]]", "MultiPolygon coordinates must be [[[[lng,lat],…]]]")
		}
		g.polygons = polys
	case "":
		return nil, Invalid("geofence", "地理围栏缺少 type（circle、Polygon 或 MultiPolygon）", "the geofence has no type (circle, Polygon or MultiPolygon)")
	default:
		return nil, Invalid("geofence", "地理围栏类型应为 circle、Polygon 或 MultiPolygon，收到 %q", "geofence type must be circle, Polygon or MultiPolygon, got %q", g.Type)
	}
	if g.Type != "circle" {
		if len(g.polygons) == 0 {
			return nil, Invalid("geofence", "多边形不能为空", "polygon has no rings")
		}
		for pi, rings := range g.polygons {
			if len(rings) == 0 {
				return nil, Invalid("geofence", "第%d个多边形没有环", "polygon %d has no rings", pi+1)
			}
			for ri, ring := range rings {
				where := fmt.Sprintf("第%d个环", ri+1)
				whereEN := fmt.Sprintf("ring %d", ri+1)
				if len(g.polygons) > 1 {
					where = fmt.Sprintf("第%d个多边形的", pi+1) + where
					whereEN += fmt.Sprintf(" of polygon %d", pi+1)
				}
				if len(ring) < 4 {
					return nil, geofenceErr(fmt.Sprintf("%s只有%d个点：每个环至少4个点且首尾相同", where, len(ring)),
						fmt.Sprintf("%s has %d points: each ring needs at least 4 and must end where it starts", whereEN, len(ring)))
				}
				if ring[0] != ring[len(ring)-1] {
					return nil, geofenceErr(where+"未闭合：最后一个点应与第一个点相同", whereEN+" is not closed: its last point must equal its first")
				}
				for i, p := range ring {
					if !validLatLng(p[1], p[0]) {
						return nil, geofenceErr(fmt.Sprintf("%s的第%d个点 [%g,%g] 超出范围（应为 [经度 -180 至 180, 纬度 -90 至 90]）", where, i+1, p[0], p[1]),
							fmt.Sprintf("point %d of %s, [%g,%g], is out of range (want [lng -180..180, lat -90..90])", i+1, whereEN, p[0], p[1]))
					}
				}
			}
		}
	}
	return &g, nil
}

// geofenceErr is an EINVALID error on the geofence field with messages
// already formatted.
func geofenceErr(zh, en string) *Error {
	return &Error{Code: EINVALID, Field: "geofence", ZH: zh, EN: en}
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
