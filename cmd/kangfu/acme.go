package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// Automatic certificates (issue 15 §5): with --acme-domain set, the server
// gets and renews its TLS certificate from an ACME certificate authority
// (Let's Encrypt unless --acme-directory names another, e.g. a county's own
// CA) through golang.org/x/crypto/acme/autocert. Only the listed domains
// are ever asked for (a request naming another host gets no certificate);
// the account key and certificates are kept in <data-dir>/acme (0700),
// so a restart does not ask again. The CA proves the domain by HTTP-01 on
// --acme-http-addr (:80 by default, which also redirects plain HTTP to
// HTTPS) or by TLS-ALPN-01 on --addr itself (which must then be :443).

// acmeCacheDir is where autocert keeps the account key and certificates.
func (c *Config) acmeCacheDir() string { return filepath.Join(c.DataDir, "acme") }

// acmeDomainList returns the configured domains, trimmed, lower-case.
func (c *Config) acmeDomainList() []string {
	var out []string
	for _, d := range strings.Split(c.ACMEDomains, ",") {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// validateACME checks the ACME settings; each problem says what to fix.
func (c *Config) validateACME() []string {
	domains := c.acmeDomainList()
	if len(domains) == 0 {
		if c.ACMEEmail != "" || c.ACMEDirectory != "" {
			return []string{"--acme-email/--acme-directory need --acme-domain/KANGFU_ACME_DOMAIN"}
		}
		return nil
	}
	var probs []string
	if c.TLSCert != "" || c.TLSKey != "" {
		probs = append(probs, "--acme-domain/KANGFU_ACME_DOMAIN and --tls-cert/KANGFU_TLS_CERT are two ways to get a certificate: set one of them")
	}
	for _, d := range domains {
		if strings.ContainsAny(d, ":/*") || !strings.Contains(d, ".") || net.ParseIP(d) != nil || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
			probs = append(probs, fmt.Sprintf("--acme-domain/KANGFU_ACME_DOMAIN %q must be a domain name such as kangfu.example.gov.cn (no scheme, port, wildcard or IP address)", d))
		}
	}
	if c.ACMEEmail != "" {
		if a, err := mail.ParseAddress(c.ACMEEmail); err != nil || a.Address != c.ACMEEmail {
			probs = append(probs, fmt.Sprintf("--acme-email/KANGFU_ACME_EMAIL %q must be a plain e-mail address", c.ACMEEmail))
		}
	}
	if c.ACMEDirectory != "" && !strings.HasPrefix(c.ACMEDirectory, "https://") {
		probs = append(probs, fmt.Sprintf("--acme-directory/KANGFU_ACME_DIRECTORY %q must be an https:// URL", c.ACMEDirectory))
	}
	if c.ACMEHTTPAddr != "off" {
		if _, _, err := net.SplitHostPort(c.ACMEHTTPAddr); err != nil {
			probs = append(probs, fmt.Sprintf("--acme-http-addr/KANGFU_ACME_HTTP_ADDR %q must be host:port (e.g. :80) or off", c.ACMEHTTPAddr))
		}
	}
	return probs
}

// acmeManager is the certificate manager for the configured domains, nil
// when ACME is off.
func (c *Config) acmeManager() *autocert.Manager {
	domains := c.acmeDomainList()
	if len(domains) == 0 {
		return nil
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(domains...),
		Cache:      autocert.DirCache(c.acmeCacheDir()),
		Email:      c.ACMEEmail,
	}
	if c.ACMEDirectory != "" {
		m.Client = &acme.Client{DirectoryURL: c.ACMEDirectory}
	}
	return m
}

// acmeTLSConfig is the listener's TLS configuration: certificates from the
// manager (GetCertificate, which also answers TLS-ALPN-01), TLS 1.2 at least.
func acmeTLSConfig(m *autocert.Manager) *tls.Config {
	cfg := m.TLSConfig()
	cfg.MinVersion = tls.VersionTLS12
	return cfg
}

// acmeHTTPHandler answers HTTP-01 challenges and redirects everything else
// to HTTPS.
func acmeHTTPHandler(m *autocert.Manager) http.Handler { return m.HTTPHandler(nil) }
