package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/internal/testutil"
)

// freePort returns a loopback address nobody listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestACMEWithPebble gets a certificate from pebble, Let's Encrypt's ACME
// test server, on loopback. Pebble is told to take every challenge as
// passed (PEBBLE_VA_ALWAYS_VALID), since it cannot reach a public name
// here; the test is of the ACME exchange, the cache and the TLS wiring.
func TestACMEWithPebble(t *testing.T) {
	pebble := testutil.NeedTool(t, "pebble")
	certFile, keyFile, pool := selfSigned(t)
	acmeAddr, mgmtAddr := freePort(t), freePort(t)
	conf, _ := json.Marshal(map[string]any{"pebble": map[string]any{
		"listenAddress":           acmeAddr,
		"managementListenAddress": mgmtAddr,
		"certificate":             certFile,
		"privateKey":              keyFile,
		"httpPort":                5002,
		"tlsPort":                 5001,
		"ocspResponderURL":        "",
	}})
	confFile := filepath.Join(t.TempDir(), "pebble.json")
	if err := os.WriteFile(confFile, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pebble, "-config", confFile, "-dnsserver", "127.0.0.1:1")
	cmd.Env = append(os.Environ(), "PEBBLE_VA_ALWAYS_VALID=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_VA_NOSLEEP=1")
	if testing.Verbose() {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	caClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer caClient.CloseIdleConnections()
	testutil.Eventually(t, 30*time.Second, "pebble's directory", func() bool {
		resp, err := caClient.Get("https://" + acmeAddr + "/dir")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	acmeHTTPClient = caClient
	t.Cleanup(func() { acmeHTTPClient = nil })

	cfg := configs.Default()
	cfg.DataDir = t.TempDir()
	cfg.Admin.Password = adminPassword
	cfg.WebRTC.LoopbackOnly = true
	cfg.TLS.ACMEDomains = []string{"radio.test"}
	cfg.TLS.ACMEDirectory = "https://" + acmeAddr + "/dir"
	addr, _ := serveWith(t, &cfg)

	// Pebble's root for this run, from its management interface.
	resp, err := caClient.Get("https://" + mgmtAddr + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("pebble root: %q", rootPEM)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "radio.test"}}}
	defer client.CloseIdleConnections()
	resp, err = client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("https with the ACME certificate: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(resp.TLS.PeerCertificates) == 0 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	leaf := resp.TLS.PeerCertificates[0]
	if fmt.Sprint(leaf.DNSNames) != "[radio.test]" {
		t.Fatalf("certificate names %v", leaf.DNSNames)
	}
	if cached, _ := filepath.Glob(filepath.Join(cfg.DataDir, "acme", "radio.test*")); len(cached) == 0 {
		t.Fatal("certificate not cached under data_dir/acme")
	}
	// A name not in tls.acme_domains gets no certificate.
	bad := &tls.Config{RootCAs: roots, ServerName: "other.test"}
	if c, err := tls.Dial("tcp", addr, bad); err == nil {
		c.Close()
		t.Fatal("handshake for a name not configured")
	}
}
