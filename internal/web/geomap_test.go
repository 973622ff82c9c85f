package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

const testSquare = `{"type":"Polygon","coordinates":[[[109.45,18.22],[109.62,18.22],[109.62,18.36],[109.45,18.36],[109.45,18.22]]]}`

// TestCheckinPointMapAndDistance (issue 18 §14, R8's area): the check-in
// location page draws the county's geofence, the point and its accuracy
// circle as SVG (no tiles configured: nothing fetched from outside), says
// how far outside the area the point lies (0 inside), and shows no raw
// GeoJSON.
func TestCheckinPointMapAndDistance(t *testing.T) {
	storetest.EachWithClock(t, time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC), func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		ctx := context.Background()
		s := newSite(t, db)
		fence := testSquare
		storetest.Must(db.UpdateOrg(ctx, s.sys, s.streetA.ParentID, store.OrgUpdate{Geofence: &fence}))
		id := s.createPerson("lead", s.newPersonForm("赵六", idNumber("46020019900101002"), "13800138000", 10, true))
		_, _, body := s.do("lead", "", "POST", "/persons/"+id+"/app/codes", url.Values{})
		m := codeRe.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no code:\n%s", excerpt(body))
		}
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		_, hash := auth.NewToken()
		if _, _, err := db.Activate(ctx, store.Activation{Code: m[1] + m[2], PublicKey: base64.StdEncoding.EncodeToString(der), PINHash: "x", TokenHash: hash}); err != nil {
			t.Fatal(err)
		}
		ad := storetest.Must(db.AppDeviceByToken(ctx, hash))
		checkin := func(lat, lng float64) *store.Checkin {
			in := casework.CheckinInput{ID: uuid.NewString(), TakenAt: db.Now().Add(-time.Minute).Format(time.RFC3339), Lat: lat, Lng: lng, AccuracyM: 30}
			c, _, err := db.IngestCheckin(ctx, ad, in, []byte(in.ID), "sig")
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		out := checkin(18.21, 109.5) // 0.01° south of the southern edge: ≈ 1.1 km
		in := checkin(18.30, 109.5)
		if !slicesHas(out.Checks, casework.VerdictOutsideArea) || slicesHas(in.Checks, casework.VerdictOutsideArea) {
			t.Fatalf("verdicts: out %v, in %v", out.Checks, in.Checks)
		}
		for lang, want := range map[string][2]string{"zh": {"在范围外 1.1 公里", "在范围内"}, "en": {"outside by 1.1 km", "inside"}} {
			page := s.get("lead", lang, "/checkins/"+out.ID+"/point")
			for _, part := range []string{`data-testid="geomap-svg"`, `class="map-fence"`, `class="map-point"`, `class="map-acc"`, `data-testid="geomap-scale"`, `data-testid="geomap-near"`, `data-testid="geomap-link"`, "吉阳区", "赵六"} {
				if !strings.Contains(page, part) {
					t.Errorf("%s point page lacks %s", lang, part)
				}
			}
			if d := testidText(page, "checkin-distance"); !strings.Contains(d, want[0]) {
				t.Errorf("%s distance outside: %q, want %q", lang, d, want[0])
			}
			if strings.Contains(page, "coordinates") || strings.Contains(page, "data-tiles") || strings.Contains(page, "leaflet") {
				t.Errorf("%s: raw GeoJSON or tiles on the page without a tile server", lang)
			}
			if d := testidText(s.get("lead", lang, "/checkins/"+in.ID+"/point"), "checkin-distance"); !strings.Contains(d, want[1]) {
				t.Errorf("%s distance inside: %q, want %q", lang, d, want[1])
			}
		}
	})
}

// TestOrgGeofenceDrawnAndFieldErrors (issue 18 §8): the org page draws
// the geofence instead of printing its JSON; the GeoJSON is edited in a
// folded field as before, and an invalid one is refused with the error
// beside the field, what was typed kept and nothing saved.
func TestOrgGeofenceDrawnAndFieldErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newSite(t, db)
		county := s.streetA.ParentID
		fence := testSquare
		storetest.Must(db.UpdateOrg(ctx, s.sys, county, store.OrgUpdate{Geofence: &fence}))
		admin := storetest.Must(db.CreateUser(ctx, s.sys, casework.UserInput{Username: "admin", OrgID: county, Password: "long-enough-pw"}, "$argon2id$x", false))
		storetest.Must(db.GrantRole(ctx, s.sys, admin.ID, casework.RoleAdmin, county))
		if err := db.SetTOTPExempt(ctx, s.sys, admin.ID, true); err != nil {
			t.Fatal(err)
		}
		tok, hash := auth.NewToken()
		if err := db.CreateSession(ctx, store.Session{TokenHash: hash, UserID: admin.ID, Kind: "web", ExpiresAt: time.Now().Add(time.Hour)}, "127.0.0.1", "test", "test"); err != nil {
			t.Fatal(err)
		}
		s.users["admin"], s.tokens["admin"] = admin.ID, tok

		for _, lang := range []string{"zh", "en"} {
			page := s.get("admin", lang, "/orgs/"+county)
			dd := testidBlock(page, "org-geofence")
			if !strings.Contains(dd, `data-testid="geomap-svg"`) || !strings.Contains(dd, `class="map-fence"`) || strings.Contains(dd, "coordinates") {
				t.Errorf("%s: the geofence is not drawn:\n%s", lang, dd)
			}
			if !strings.Contains(page, `data-testid="geofence-edit"><summary>`) {
				t.Errorf("%s: the GeoJSON field is not folded", lang)
			}
		}
		open := `{"type":"Polygon","coordinates":[[[109.45,18.22],[109.62,18.22],[109.62,18.36],[109.45,18.36]]]}`
		status, _, body := s.do("admin", "zh", "POST", "/orgs/"+county, url.Values{"name": {"吉阳区"}, "time_zone": {"Asia/Shanghai"}, "geofence": {open}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(testidText(body, "geofence-error"), "第1个环未闭合") ||
			!strings.Contains(body, `data-testid="geofence-edit" open>`) || !strings.Contains(body, "109.45,18.36]]]}") {
			t.Fatalf("unclosed ring: %d\n%s", status, excerpt(body))
		}
		if o := storetest.Must(db.GetOrg(ctx, s.sys, county)); o.Geofence.String() != storetest.Must(casework.ParseGeofence(testSquare)).String() {
			t.Fatalf("a refused edit changed the fence: %s", o.Geofence.String())
		}
		status, _, body = s.do("admin", "en", "POST", "/orgs/"+county, url.Values{"name": {"吉阳区"}, "time_zone": {"Asia/Shanghai"},
			"geofence": {`{"type":"circle","lat":109.5,"lng":18.3,"radius_m":500}`}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(testidText(body, "geofence-error"), "circle centre is out of range") {
			t.Fatalf("swapped circle: %d\n%s", status, excerpt(body))
		}
		// Refused for another field: the new shape typed is drawn as a
		// preview (not saved).
		status, _, body = s.do("admin", "zh", "POST", "/orgs/"+county, url.Values{"name": {""}, "time_zone": {"Asia/Shanghai"},
			"geofence": {`{"type":"circle","lat":18.3,"lng":109.5,"radius_m":600}`}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "输入的地理围栏（尚未保存）") || !strings.Contains(body, `<circle class="map-fence"`) {
			t.Fatalf("preview of the typed fence: %d\n%s", status, excerpt(body))
		}
		// A good circle is saved and drawn as a circle.
		loc := s.post("admin", "/orgs/"+county, url.Values{"name": {"吉阳区"}, "time_zone": {"Asia/Shanghai"},
			"geofence": {`{"type":"Feature","properties":{},"geometry":{"type":"circle","lat":18.3,"lng":109.5,"radius_m":800}}`}})
		if !strings.Contains(loc, "/orgs/"+county) {
			t.Fatalf("save redirected to %q", loc)
		}
		if dd := testidBlock(s.get("admin", "zh", "/orgs/"+county), "org-geofence"); !strings.Contains(dd, `<circle class="map-fence"`) || !strings.Contains(dd, "半径 800 米") {
			t.Fatalf("circle not drawn:\n%s", dd)
		}
	})
}

func slicesHas(vs []casework.Verdict, v casework.Verdict) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

var tagRe = regexp.MustCompile(`<[^>]*>`)

// testidBlock is the HTML from the element with the data-testid to the
// end of its line.
func testidBlock(page, id string) string {
	i := strings.Index(page, `data-testid="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := page[i:]
	if j := strings.Index(rest, "</dd>"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// testidText is the text of the element with the data-testid (up to the
// end of its dd or span).
func testidText(page, id string) string {
	i := strings.Index(page, `data-testid="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := page[i:]
	for _, end := range []string{"</dd>", "</span>\n"} {
		if j := strings.Index(rest, end); j >= 0 {
			rest = rest[:j]
			break
		}
	}
	return strings.Join(strings.Fields(tagRe.ReplaceAllString(rest[strings.Index(rest, ">")+1:], " ")), " ")
}
