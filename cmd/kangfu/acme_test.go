package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

func acmeConfig(t *testing.T, env map[string]string) (*Config, error) {
	t.Helper()
	env["KANGFU_DATA_DIR"] = t.TempDir()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	cfg := bindConfig(fs, envFrom(env))
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	return cfg, cfg.validate()
}

// Issue 15 §5: ACME settings are checked at start, each problem saying
// what to fix; a certificate file and ACME together are refused.
func TestACMEConfigErrorsSayWhatToFix(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"KANGFU_ACME_DOMAIN": "kangfu.example.gov.cn", "KANGFU_TLS_CERT": "c.pem", "KANGFU_TLS_KEY": "k.pem"}, "set one of them"},
		{map[string]string{"KANGFU_ACME_DOMAIN": "https://kangfu.example.gov.cn"}, "no scheme"},
		{map[string]string{"KANGFU_ACME_DOMAIN": "kangfu.example.gov.cn:443"}, "no scheme, port"},
		{map[string]string{"KANGFU_ACME_DOMAIN": "*.example.gov.cn"}, "wildcard"},
		{map[string]string{"KANGFU_ACME_DOMAIN": "10.0.0.1"}, "IP address"},
		{map[string]string{"KANGFU_ACME_DOMAIN": "localhost"}, "domain name"},
		{map[string]string{"KANGFU_ACME_DOMAIN": "kangfu.example.gov.cn", "KANGFU_ACME_EMAIL": "Admin <a@b.cn>"}, "KANGFU_ACME_EMAIL"},
		{map[string]string{"KANGFU_ACME_DOMAIN": "kangfu.example.gov.cn", "KANGFU_ACME_DIRECTORY": "http://ca.local/dir"}, "https://"},
		{map[string]string{"KANGFU_ACME_DOMAIN": "kangfu.example.gov.cn", "KANGFU_ACME_HTTP_ADDR": "80"}, "KANGFU_ACME_HTTP_ADDR"},
		{map[string]string{"KANGFU_ACME_EMAIL": "a@b.cn"}, "need --acme-domain"},
	} {
		_, err := acmeConfig(t, tt.env)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want an error mentioning %q", tt.env, err, tt.want)
		}
	}
	cfg, err := acmeConfig(t, map[string]string{"KANGFU_ACME_DOMAIN": " Kangfu.Example.gov.cn, jy.example.gov.cn ", "KANGFU_ACME_EMAIL": "ops@example.gov.cn",
		"KANGFU_ACME_HTTP_ADDR": "off"})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.acmeDomainList(); !slices.Equal(got, []string{"kangfu.example.gov.cn", "jy.example.gov.cn"}) {
		t.Errorf("domains %q", got)
	}
	if cfg, err := acmeConfig(t, map[string]string{}); err != nil || cfg.acmeManager() != nil {
		t.Errorf("no domain: %v, manager %v; want ACME off", err, cfg.acmeManager())
	}
}

// Issue 15 §5: the manager asks only for the configured domains, keeps its
// account and certificates in <data-dir>/acme, serves a certificate found
// there without asking the CA, answers TLS-ALPN-01 through the TLS config,
// and the HTTP listener answers challenges and redirects the rest to HTTPS.
func TestACMEManagerWhitelistCacheAndHandlers(t *testing.T) {
	const domain = "kangfu.example.gov.cn"
	cfg, err := acmeConfig(t, map[string]string{"KANGFU_ACME_DOMAIN": domain, "KANGFU_ACME_EMAIL": "ops@example.gov.cn",
		"KANGFU_ACME_DIRECTORY": "https://ca.example.gov.cn/directory"})
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.acmeManager()
	if m == nil {
		t.Fatal("no manager with a domain set")
	}
	ctx := context.Background()
	if err := m.HostPolicy(ctx, domain); err != nil {
		t.Errorf("host policy refuses %s: %v", domain, err)
	}
	for _, h := range []string{"evil.example.com", "x." + domain, "127.0.0.1"} {
		if m.HostPolicy(ctx, h) == nil {
			t.Errorf("host policy lets a certificate be asked for %s", h)
		}
	}
	if dir, ok := m.Cache.(autocert.DirCache); !ok || string(dir) != filepath.Join(cfg.DataDir, "acme") {
		t.Errorf("cache %#v, want a DirCache in the data dir", m.Cache)
	}
	if m.Email != "ops@example.gov.cn" || m.Client == nil || m.Client.DirectoryURL != "https://ca.example.gov.cn/directory" {
		t.Errorf("manager email %q client %+v", m.Email, m.Client)
	}

	tc := acmeTLSConfig(m)
	if tc.GetCertificate == nil || !slices.Contains(tc.NextProtos, "acme-tls/1") || !slices.Contains(tc.NextProtos, "h2") || tc.MinVersion != tls.VersionTLS12 {
		t.Fatalf("TLS config: GetCertificate set %v, protocols %q, min version %x", tc.GetCertificate != nil, tc.NextProtos, tc.MinVersion)
	}
	hello := func(name string) *tls.ClientHelloInfo {
		return &tls.ClientHelloInfo{ServerName: name, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256}, SupportedCurves: []tls.CurveID{tls.CurveP256}}
	}
	if _, err := tc.GetCertificate(hello("evil.example.com")); err == nil {
		t.Error("a certificate for a host not configured")
	}
	// A certificate already in the cache is served without the CA.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: domain}, DNSNames: []string{domain},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	if err := os.MkdirAll(cfg.acmeCacheDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.acmeCacheDir(), domain), pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := tc.GetCertificate(hello(domain))
	if err != nil || cert == nil || len(cert.Certificate) != 1 || string(cert.Certificate[0]) != string(der) {
		t.Fatalf("cached certificate not served: %v", err)
	}

	h := acmeHTTPHandler(m)
	for _, tt := range []struct {
		host, path string
		want       int
		location   string
	}{
		{domain, "/.well-known/acme-challenge/no-such-token", http.StatusNotFound, ""},
		{"evil.example.com", "/.well-known/acme-challenge/x", http.StatusForbidden, ""},
		{domain, "/login?next=/", http.StatusFound, "https://" + domain + "/login?next=/"},
	} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "http://"+tt.host+tt.path, nil)
		h.ServeHTTP(rec, r)
		if rec.Code != tt.want || rec.Header().Get("Location") != tt.location {
			t.Errorf("GET http://%s%s: %d Location %q, want %d %q", tt.host, tt.path, rec.Code, rec.Header().Get("Location"), tt.want, tt.location)
		}
	}
}
