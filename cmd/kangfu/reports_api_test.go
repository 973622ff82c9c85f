package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Issue 12 §6: the figures under /api/v1/reports/… for the district
// office (its own org by default), each with its formula, and for every
// figure the records endpoint returns exactly what the figure counts,
// with masked ID numbers.
func TestReportsAPI(t *testing.T) {
	base := startServer(t, t.TempDir())
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"office","password":"kangfu-demo"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Token string `json:"token"`
	}
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	get := func(path string, v any) int {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+login.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if v != nil {
			json.NewDecoder(resp.Body).Decode(v)
		}
		return resp.StatusCode
	}
	type fig struct {
		Key, Name, Formula string
		Num, Den           int64
	}
	var figs struct {
		OrgID   string `json:"org_id"`
		Figures []fig  `json:"figures"`
	}
	if st := get("/api/v1/reports/figures", &figs); st != 200 || len(figs.Figures) < 20 {
		t.Fatalf("figures: %d, %d figures", st, len(figs.Figures))
	}
	for _, f := range figs.Figures {
		if f.Name == "" || f.Formula == "" || f.Name == f.Key {
			t.Errorf("figure %s without words: %+v", f.Key, f)
		}
		var recs struct {
			Figure  fig `json:"figure"`
			Records []struct {
				IDMasked string `json:"id_masked"`
				Num, Den int64
			} `json:"records"`
		}
		if st := get("/api/v1/reports/figures/"+f.Key+"/records?org="+figs.OrgID, &recs); st != 200 {
			t.Fatalf("records of %s: %d", f.Key, st)
		}
		var n, d int64
		for _, r := range recs.Records {
			n, d = n+r.Num, d+r.Den
			if r.IDMasked != "" && !strings.Contains(r.IDMasked, "****") {
				t.Errorf("%s: unmasked ID %q", f.Key, r.IDMasked)
			}
		}
		if n != f.Num || d != f.Den {
			t.Errorf("%s: figure %d/%d, records add up to %d/%d", f.Key, f.Num, f.Den, n, d)
		}
	}
	if st := get("/api/v1/reports/figures?period=2026-13", nil); st != 400 {
		t.Errorf("a bad period: %d, want 400", st)
	}
	if st := get("/api/v1/reports/figures/nonsense/records", nil); st != 400 {
		t.Errorf("an unknown figure: %d, want 400", st)
	}
	var dash struct {
		Year   int      `json:"year"`
		Months []string `json:"months"`
	}
	if st := get("/api/v1/reports/dashboard?period=2026", &dash); st != 200 || len(dash.Months) != 12 {
		t.Errorf("dashboard: %d %+v", st, dash)
	}
}
