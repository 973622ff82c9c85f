package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// appDevice is an activated device of a person: its key and token.
type appDevice struct {
	s     *apiSite
	key   *ecdsa.PrivateKey
	token string
}

func activateDevice(t *testing.T, s *apiSite, personID string) *appDevice {
	t.Helper()
	code, _, err := s.db.CreateActivationCode(context.Background(), casework.SystemActor("test"), personID)
	if err != nil {
		t.Fatal(err)
	}
	key := storetest.Must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	der := storetest.Must(x509.MarshalPKIXPublicKey(&key.PublicKey))
	d := &appDevice{s: s, key: key}
	var out struct {
		Token string `json:"token"`
	}
	status, raw := d.call("POST", "/api/v1/app/activate", jsonString(map[string]string{"code": code, "public_key": base64.StdEncoding.EncodeToString(der), "pin": "135790"}), false, &out)
	if status != http.StatusCreated || out.Token == "" {
		t.Fatalf("activate: %d %s", status, raw)
	}
	d.token = out.Token
	return d
}

// sign is the IEEE P1363 r||s signature of the body, as WebCrypto gives.
func (d *appDevice) sign(body string) string {
	h := sha256.Sum256([]byte(body))
	r, s, err := ecdsa.Sign(rand.Reader, d.key, h[:])
	if err != nil {
		panic(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return base64.StdEncoding.EncodeToString(sig)
}

func (d *appDevice) call(method, path, body string, signed bool, out any) (int, string) {
	req, err := http.NewRequest(method, d.s.srv.URL+path, strings.NewReader(body))
	if err != nil {
		d.s.t.Fatal(err)
	}
	if d.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if signed {
		req.Header.Set("X-Kangfu-Signature", d.sign(body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			d.s.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

type appLeaveOut struct {
	ID             string   `json:"id"`
	State          string   `json:"state"`
	EffectiveState string   `json:"effective_state"`
	Days           int      `json:"days"`
	Required       bool     `json:"required"`
	Actions        []string `json:"actions"`
	Address        string   `json:"address"`
}

// The app's leave and messages through the device wrapper (the contract):
// signed requests, idempotent by client id, read receipts.
func TestAppLeaveAndMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newAPISite(t, db)
		ctx := context.Background()
		p := storetest.Must(db.CreatePerson(ctx, casework.SystemActor("test"), casework.PersonInput{OrgID: s.commA.ID, Name: "王五",
			IDNumber: "46020319900101123" + string(casework.IDCheckChar("46020319900101123"))},
			&casework.MeasureInput{Kind: casework.MeasureTreatment, DecisionNumber: "1", DecisionAuthority: "局", DecisionDate: s.today.AddDays(-20),
				ReceivedDate: s.today.AddDays(-18), ReportDate: s.today.AddDays(-15)}))
		d := activateDevice(t, s, p.ID)

		id := "7d0c4b8e-3f7a-4c55-9a0e-2b1d3c4e5f60"
		body := jsonString(map[string]any{"id": id, "kind": "work_away", "destination_province": "440000", "destination_city": "深圳市",
			"from": s.today.AddDays(1).String(), "to": s.today.AddDays(60).String(), "reason": "务工", "employer": "某电子厂", "address": "深圳市宝安区"})
		// Unsigned, or signed over other bytes: refused.
		if status, raw := d.call("POST", "/api/v1/app/leave", body, false, nil); status != http.StatusUnauthorized {
			t.Fatalf("unsigned: %d %s", status, raw)
		}
		req, _ := http.NewRequest("POST", s.srv.URL+"/api/v1/app/leave", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+d.token)
		req.Header.Set("X-Kangfu-Signature", d.sign(strings.Replace(body, "深圳", "广州", 1)))
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("tampered body: %v %v", resp.StatusCode, err)
		}
		var l appLeaveOut
		if status, raw := d.call("POST", "/api/v1/app/leave", body, true, &l); status != http.StatusCreated || l.State != "pending" || l.Days != 60 || !l.Required || l.Address != "深圳市宝安区" {
			t.Fatalf("create: %d %s", status, raw)
		}
		if status, raw := d.call("POST", "/api/v1/app/leave", body, true, &l); status != http.StatusOK || l.ID != id {
			t.Fatalf("replay: %d %s", status, raw)
		}
		other := strings.Replace(body, "务工", "打工", 1)
		if status, raw := d.call("POST", "/api/v1/app/leave", other, true, nil); status != http.StatusConflict {
			t.Fatalf("same id, other body: %d %s", status, raw)
		}
		var ls struct {
			Items []appLeaveOut `json:"items"`
		}
		d.call("GET", "/api/v1/app/leave", "", false, &ls)
		if len(ls.Items) != 1 {
			t.Fatalf("app list: %+v", ls)
		}
		// A lead of another street cannot decide; the lead of the street approves.
		s.must(http.StatusNotFound, "leadb", "POST", "/api/v1/leave/"+id+"/decision", `{"approve":true}`, nil)
		s.must(http.StatusForbidden, "worker", "POST", "/api/v1/leave/"+id+"/decision", `{"approve":true}`, nil)
		s.must(http.StatusOK, "lead", "POST", "/api/v1/leave/"+id+"/decision", `{"approve":true,"reason":"同意"}`, &l)
		if l.State != "approved" {
			t.Fatalf("approved: %+v", l)
		}
		// Messages: sent by the lead, read in the app.
		var m struct {
			ID   string `json:"id"`
			Read bool   `json:"read"`
		}
		s.must(http.StatusCreated, "lead", "POST", "/api/v1/persons/"+p.ID+"/messages", `{"body":"请按时签到"}`, &m)
		var today map[string]any
		d.call("GET", "/api/v1/app/today", "", false, &today)
		// Two unread: the system's notice of the approval, and the lead's message.
		if today["messages_unread"] != float64(2) || today["leave"] == nil {
			t.Fatalf("today: %v", today)
		}
		if status, raw := d.call("POST", "/api/v1/app/messages/"+m.ID+"/read", "{}", false, nil); status != http.StatusUnauthorized {
			t.Fatalf("unsigned receipt: %d %s", status, raw)
		}
		if status, raw := d.call("POST", "/api/v1/app/messages/"+m.ID+"/read", "{}", true, &m); status != http.StatusOK || !m.Read {
			t.Fatalf("receipt: %d %s", status, raw)
		}
		var ml struct {
			Items  []struct{ Read bool } `json:"items"`
			Unread int                   `json:"unread"`
		}
		s.must(http.StatusOK, "worker", "GET", "/api/v1/persons/"+p.ID+"/messages", "", &ml)
		// The lead's message, read; the system's notice of the approval, not yet.
		if len(ml.Items) != 2 || !ml.Items[0].Read || ml.Items[1].Read || ml.Unread != 1 {
			t.Fatalf("console sees: %+v", ml)
		}
		// The leave has not begun: reporting back is refused; after it, accepted once.
		if status, _ := d.call("POST", "/api/v1/app/leave/"+id+"/return", "{}", true, nil); status != http.StatusConflict {
			t.Fatalf("return before the start: %d", status)
		}
		id2 := "7d0c4b8e-3f7a-4c55-9a0e-2b1d3c4e5f61"
		body2 := jsonString(map[string]any{"id": id2, "kind": "leave", "destination_province": "460000", "destination_city": "海口",
			"from": s.today.String(), "to": s.today.String(), "reason": "就医"})
		if status, raw := d.call("POST", "/api/v1/app/leave", body2, true, &l); status != http.StatusCreated || l.Required {
			t.Fatalf("a one-day leave (informational, R8): %d %s", status, raw)
		}
		s.must(http.StatusOK, "lead", "POST", "/api/v1/leave/"+id2+"/decision", `{"approve":true}`, nil)
		for i, want := range []int{http.StatusOK, http.StatusOK} { // the repeat answers as it stands
			if status, raw := d.call("POST", "/api/v1/app/leave/"+id2+"/return", "{}", true, &l); status != want || l.State != "return_pending" {
				t.Fatalf("return %d: %d %s", i, status, raw)
			}
		}
		s.must(http.StatusOK, "lead", "POST", "/api/v1/leave/"+id2+"/steps", `{"action":"confirm_return"}`, &l)
		if l.State != "returned" {
			t.Fatalf("confirmed: %+v", l)
		}
	})
}
