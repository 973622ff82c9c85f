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

var codeRe = regexp.MustCompile(`data-testid="activation-code">([0-9A-Z]{4}) ([0-9A-Z]{4})<`)

// Issue 4 §8: activation management with a QR code, the month calendar
// coloured by verdict, the point shown only to sensitive roles and
// audited, and the community's "today" board with the rates.
func TestCheckinPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newSite(t, db)
		id := s.createPerson("lead", s.newPersonForm("赵六", idNumber("46020019900101002"), "13800138000", 10, true))

		s.get("lead", "", "/persons/"+id+"/app")
		status, _, body := s.do("lead", "", "POST", "/persons/"+id+"/app/codes", url.Values{})
		m := codeRe.FindStringSubmatch(body)
		if status != http.StatusCreated || m == nil || !strings.Contains(body, `src="data:image/png;base64,`) || !strings.Contains(body, "/app/#activate="+m[1]+m[2]) {
			t.Fatalf("new code: %d\n%s", status, excerpt(body))
		}
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		_, hash := auth.NewToken()
		dev, _, err := db.Activate(ctx, store.Activation{Code: m[1] + m[2], PublicKey: base64.StdEncoding.EncodeToString(der), PINHash: "x", TokenHash: hash})
		if err != nil {
			t.Fatal(err)
		}
		ad := storetest.Must(db.AppDeviceByToken(ctx, hash))
		in := casework.CheckinInput{ID: uuid.NewString(), TakenAt: db.Now().Add(-time.Minute).Format(time.RFC3339), Lat: 18.25, Lng: 109.5, AccuracyM: 10}
		c, _, err := db.IngestCheckin(ctx, ad, in, []byte(in.ID), "sig")
		if err != nil {
			t.Fatal(err)
		}

		for _, lang := range []string{"zh", "en"} {
			body := s.get("worker", lang, "/persons/"+id+"/checkins")
			if !strings.Contains(body, `cal-day verdict-`+string(c.Verdict)) || !strings.Contains(body, `data-testid="checkin-row"`) ||
				!strings.Contains(body, "/checkins/"+c.ID+"/point") {
				t.Fatalf("%s calendar:\n%s", lang, body)
			}
			if strings.Contains(body, "18.25") {
				t.Fatal("the calendar shows the location")
			}
			board := s.get("lead", lang, "/orgs/"+s.streetA.ID+"/checkins")
			if !strings.Contains(board, "赵六") || !strings.Contains(board, "1 / 1") {
				t.Fatalf("%s board:\n%s", lang, board)
			}
		}
		point := s.get("lead", "", "/checkins/"+c.ID+"/point")
		if !strings.Contains(point, "18.250000") || !strings.Contains(point, "109.500000") {
			t.Fatalf("point:\n%s", point)
		}
		var audited int
		db.Read(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'checkin.point.read' AND target_id = ?`, id).Scan(&audited)
		})
		if audited != 1 {
			t.Fatalf("point reads audited: %d, want 1", audited)
		}
		if status, _, _ := s.do("leadb", "", "GET", "/checkins/"+c.ID+"/point", nil); status != http.StatusNotFound {
			t.Fatalf("another street's lead: %d, want 404", status)
		}

		codes, _ := ciCodes(t, db, id)
		status, _, _ = s.do("lead", "", "POST", "/persons/"+id+"/app/codes", url.Values{})
		if status != http.StatusCreated {
			t.Fatalf("second code: %d", status)
		}
		after, _ := ciCodes(t, db, id)
		if len(after) != len(codes)+1 {
			t.Fatalf("codes %d → %d", len(codes), len(after))
		}
		if loc := s.post("lead", "/app-codes/"+after[0].ID+"/revoke", url.Values{}); !strings.Contains(loc, "/persons/"+id+"/app") {
			t.Fatalf("revoke redirected to %q", loc)
		}
		if loc := s.post("lead", "/devices/"+dev.ID+"/retire", url.Values{"reason": {"手机丢失"}, "person_id": {id}}); !strings.Contains(loc, "/persons/"+id+"/app") {
			t.Fatalf("retire redirected to %q", loc)
		}
		if body := s.get("lead", "en", "/persons/"+id+"/app"); !strings.Contains(body, "retired") || !strings.Contains(body, "revoked") {
			t.Fatalf("app page after revoke and retire:\n%s", body)
		}
	})
}

func ciCodes(t *testing.T, db *store.DB, personID string) ([]*store.ActivationCode, []*store.Device) {
	t.Helper()
	c, d, err := db.ListActivationCodes(context.Background(), casework.SystemActor("test"), personID)
	if err != nil {
		t.Fatal(err)
	}
	return c, d
}
