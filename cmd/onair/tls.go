package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/onairfm/onair/configs"
)

// tlsSetup is how the server speaks TLS: its tls.Config for http.addr,
// and the handler of the plain-HTTP side (ACME HTTP-01 challenges and the
// redirect to https), if any.
type tlsSetup struct {
	config *tls.Config
	plain  http.Handler
}

// newTLS reads tls.* into a setup; nil when TLS is off. Only HTTP/1.1 is
// offered: WebSockets and the Icecast-style streams take over their
// connection, which HTTP/2 does not allow.
func newTLS(cfg *configs.Config, log *slog.Logger) (*tlsSetup, error) {
	t := cfg.TLS
	switch {
	case t.CertFile != "":
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: load %s and %s: %w", t.CertFile, t.KeyFile, err)
		}
		return &tlsSetup{
			config: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}},
			plain:  http.HandlerFunc(redirectHTTPS),
		}, nil
	case len(t.ACMEDomains) > 0:
		m := newAutocert(cfg)
		log.Info("certificates from ACME", "domains", t.ACMEDomains, "directory", t.ACMEDirectory, "cache", m.Cache)
		c := m.TLSConfig() // offers acme-tls/1 for TLS-ALPN-01 challenges
		c.NextProtos = []string{"http/1.1", acme.ALPNProto}
		c.MinVersion = tls.VersionTLS12
		return &tlsSetup{config: c, plain: m.HTTPHandler(http.HandlerFunc(redirectHTTPS))}, nil
	}
	return nil, nil
}

// newAutocert is the ACME certificate manager of tls.acme_*: certificates
// for the listed names only, cached under data_dir/acme so a restart does
// not ask the CA again (Let's Encrypt limits how often one may).
func newAutocert(cfg *configs.Config) *autocert.Manager {
	return &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(filepath.Join(cfg.DataDir, "acme")),
		HostPolicy: autocert.HostWhitelist(cfg.TLS.ACMEDomains...),
		Email:      cfg.TLS.ACMEEmail,
		Client:     &acme.Client{DirectoryURL: cfg.TLS.ACMEDirectory, HTTPClient: acmeHTTPClient},
	}
}

// acmeHTTPClient talks to the ACME CA; nil is http.DefaultClient. Tests
// set it to trust a local test CA (pebble).
var acmeHTTPClient *http.Client

// redirectHTTPS sends a plain-HTTP request to the same path over https,
// on the default port: the plain side only exists where https is on 443.
func redirectHTTPS(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" {
		http.Error(w, "no Host", http.StatusBadRequest)
		return
	}
	target := "https://" + host + r.URL.RequestURI()
	http.Redirect(w, r, target, http.StatusMovedPermanently)
}

// plainServer serves the plain-HTTP side of TLS on addr.
func plainServer(h http.Handler, readTimeout time.Duration) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readTimeout, ReadTimeout: readTimeout, WriteTimeout: readTimeout, IdleTimeout: time.Minute}
}
