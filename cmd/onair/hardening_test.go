package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/internal/testutil"
)

// syncBuffer is a log sink that tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveWith runs the server with cfg on a free loopback port until the
// test ends, logging into the returned buffer.
func serveWith(t *testing.T, cfg *configs.Config) (addr string, logs *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, ln, slog.New(slog.NewTextHandler(logs, nil))) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String(), logs
}

var setupURL = regexp.MustCompile(`url="?(http://[^ "]+/setup\?token=[A-Za-z0-9_-]+)`)

func TestFirstRunSetup(t *testing.T) {
	cfg := configs.Default()
	cfg.DataDir = t.TempDir()
	cfg.WebRTC.LoopbackOnly = true
	addr, logs := serveWith(t, &cfg)
	var link string
	testutil.Eventually(t, 20*time.Second, "the setup URL in the log", func() bool {
		m := setupURL.FindStringSubmatch(logs.String())
		if m != nil {
			link = m[1]
		}
		return m != nil
	})
	_, port, _ := net.SplitHostPort(addr)
	if !strings.HasPrefix(link, "http://127.0.0.1:"+port+"/setup?token=") {
		t.Fatalf("setup link %q does not point at the server %s", link, addr)
	}
	resp, err := http.Get(link)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET setup page: %v %v", resp, err)
	}
	resp.Body.Close()
	token := link[strings.Index(link, "token=")+len("token="):]
	post := func(tok string) *http.Response {
		b, _ := json.Marshal(map[string]string{"token": tok, "username": "boss", "password": "boss password"})
		resp, err := http.Post("http://"+addr+"/api/setup", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if r := post("not-the-token"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong token: %d", r.StatusCode)
	}
	if r := post(token); r.StatusCode != http.StatusCreated || len(r.Cookies()) != 1 {
		t.Fatalf("setup: %d, cookies %v", r.StatusCode, r.Cookies())
	}
	if r := post(token); r.StatusCode != http.StatusForbidden {
		t.Fatalf("second setup: %d", r.StatusCode)
	}
}

func TestWeakAdminPasswordRefused(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"serve", "--http.addr", "127.0.0.1:0"}, nil, &out,
		[]string{"ONAIR_DATA_DIR=" + t.TempDir(), "ONAIR_ADMIN_PASSWORD=a"})
	if err == nil || !strings.Contains(err.Error(), "admin.password must be at least 8 characters") {
		t.Fatalf("serve with admin.password=a: %v", err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "onair test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLSServer: with tls.cert_file/key_file the server speaks https and
// wss on http.addr, its cookie is Secure and pages send HSTS; plain HTTP
// on the redirect address goes to https.
func TestTLSServer(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	plainLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	plainAddr := plainLn.Addr().String()
	plainLn.Close() // the server listens there itself
	cfg := configs.Default()
	cfg.DataDir = t.TempDir()
	cfg.Admin.Password = adminPassword
	cfg.WebRTC.LoopbackOnly = true
	cfg.TLS.CertFile, cfg.TLS.KeyFile = certFile, keyFile
	cfg.TLS.RedirectAddr = plainAddr
	addr, _ := serveWith(t, &cfg)

	tlsConf := &tls.Config{RootCAs: pool}
	client := &http.Client{
		Transport: &http.Transport{TLSClientConfig: tlsConf},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	defer client.CloseIdleConnections()
	var resp *http.Response
	testutil.Eventually(t, 20*time.Second, "the https server", func() bool {
		resp, err = client.Get("https://" + addr + "/healthz")
		return err == nil
	})
	resp.Body.Close()
	if resp.TLS == nil || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("https answer: TLS %v, HSTS %q", resp.TLS != nil, resp.Header.Get("Strict-Transport-Security"))
	}
	b, _ := json.Marshal(map[string]string{"username": "admin", "password": adminPassword})
	resp, err = client.Post("https://"+addr+"/api/auth/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if c := resp.Cookies(); resp.StatusCode != 200 || len(c) != 1 || !c[0].Secure || !c[0].HttpOnly {
		t.Fatalf("login over https: %d, cookies %v", resp.StatusCode, c)
	}

	// wss with the token.
	d := websocket.Dialer{TLSClientConfig: tlsConf, HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.Dial("wss://"+addr+"/ws", http.Header{"Authorization": {"Bearer " + login.Token}})
	if err != nil {
		t.Fatalf("wss: %v", err)
	}
	ws.WriteJSON(map[string]any{"event": "stream:leave", "data": map[string]string{"station": "none"}, "ref": "r1"})
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var ack struct{ Event, Ref string }
	if err := ws.ReadJSON(&ack); err != nil || ack.Event != "ack" || ack.Ref != "r1" {
		t.Fatalf("wss round trip: %+v %v", ack, err)
	}
	ws.Close()

	// Plain HTTP on http.addr is refused (a TLS server), and the redirect
	// address sends browsers to https.
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP served on the TLS address")
		}
		resp.Body.Close()
	}
	resp, err = client.Get("http://" + plainAddr + "/dashboard?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently || loc != "https://127.0.0.1/dashboard?x=1" {
		t.Fatalf("redirect: %d to %q", resp.StatusCode, loc)
	}
}

func TestACMEWiring(t *testing.T) {
	cfg := configs.Default()
	cfg.DataDir = t.TempDir()
	cfg.TLS.ACMEDomains = []string{"radio.example.org"}
	cfg.TLS.ACMEEmail = "ops@example.org"
	cfg.TLS.ACMEDirectory = "https://127.0.0.1:14000/dir"
	m := newAutocert(&cfg)
	if m.Client.DirectoryURL != cfg.TLS.ACMEDirectory || m.Email != "ops@example.org" {
		t.Fatalf("manager: %+v", m)
	}
	if err := m.HostPolicy(context.Background(), "radio.example.org"); err != nil {
		t.Fatalf("listed host refused: %v", err)
	}
	if err := m.HostPolicy(context.Background(), "evil.example.org"); err == nil {
		t.Fatal("unlisted host accepted: anyone could make us ask the CA for any name")
	}
	setup, err := newTLS(&cfg, slog.New(slog.DiscardHandler))
	if err != nil || setup == nil || setup.plain == nil {
		t.Fatalf("newTLS: %+v %v", setup, err)
	}
	if !contains(setup.config.NextProtos, "acme-tls/1") || contains(setup.config.NextProtos, "h2") {
		t.Fatalf("ALPN %v: want acme-tls/1 and no h2", setup.config.NextProtos)
	}
	// An unlisted name gets no certificate and no request to the CA.
	if _, err := setup.config.GetCertificate(&tls.ClientHelloInfo{ServerName: "evil.example.org"}); err == nil {
		t.Fatal("certificate for an unlisted name")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestKillDuringUpload kills the server with SIGKILL while an upload is
// half sent, then starts it again on the same data directory: the
// temporary file of the upload is gone.
func TestKillDuringUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server as a child process")
	}
	dataDir := t.TempDir()
	media := filepath.Join(dataDir, "media")
	start := func() (*exec.Cmd, string) {
		return startChild(t, "onair serving",
			"ONAIR_DATA_DIR="+dataDir, "ONAIR_ADMIN_PASSWORD="+adminPassword, "ONAIR_WEBRTC_LOOPBACK_ONLY=true")
	}
	cmd, addr := start()
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	s := &server{t: t, URL: "http://" + addr}
	s.admin = s.login("admin", adminPassword)
	var st struct{ Slug string }
	s.must(201, "POST", "/api/stations", s.admin, map[string]string{"name": "Crash FM"}, &st)

	// Half an upload: headers, the part's start and some bytes, then
	// nothing while the server has a temporary file open.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	boundary := "crashtestboundary"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\n"
	io.WriteString(conn, "POST /api/stations/"+st.Slug+"/tracks HTTP/1.1\r\nHost: "+addr+
		"\r\nAuthorization: Bearer "+s.admin+
		"\r\nContent-Type: multipart/form-data; boundary="+boundary+
		"\r\nContent-Length: 10000000\r\n\r\n"+head)
	conn.Write(bytes.Repeat([]byte{0xff, 0xfb, 0x90, 0x00}, 64<<10))
	var tmp []string
	testutil.Eventually(t, 20*time.Second, "the upload's temporary file", func() bool {
		tmp, _ = filepath.Glob(filepath.Join(media, ".upload-*.tmp"))
		return len(tmp) > 0
	})
	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if left, _ := filepath.Glob(filepath.Join(media, ".upload-*.tmp")); len(left) == 0 {
		t.Fatal("temporary file gone before the restart: the test proves nothing")
	}

	cmd2, addr2 := start()
	defer func() { _ = cmd2.Process.Signal(os.Interrupt); _ = cmd2.Wait() }()
	if left, _ := filepath.Glob(filepath.Join(media, ".upload-*.tmp")); len(left) != 0 {
		t.Fatalf("after restart: %v left", left)
	}
	s2 := &server{t: t, URL: "http://" + addr2}
	s2.login("admin", adminPassword)
}

// wsDial opens a WebSocket with a bearer token.
func wsDial(t *testing.T, s *server, token string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	return d.Dial(s.wsURL(), h)
}

// closeCode reads until the socket closes and returns its close code.
func closeCode(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			t.Fatalf("socket not closed by the server: %v", err)
		}
	}
}

// TestSessionsEndWithTheirSockets: logging out closes that session's open
// socket, so it cannot stop the station afterwards; a password change
// closes the other sessions' sockets and keeps the changer's.
func TestSessionsEndWithTheirSockets(t *testing.T) {
	s := startServer(t, "")
	s.owner("deejay")
	tokA, tokB, tokC := s.login("deejay", "owner-password"), s.login("deejay", "owner-password"), s.login("deejay", "owner-password")
	wsA, _, err := wsDial(t, s, tokA)
	if err != nil {
		t.Fatal(err)
	}
	defer wsA.Close()
	s.must(204, "POST", "/api/auth/logout", tokA, nil, nil)
	if code := closeCode(t, wsA); code != 4001 {
		t.Fatalf("logged-out socket closed with %d, want 4001", code)
	}

	wsB, _, err := wsDial(t, s, tokB)
	if err != nil {
		t.Fatal(err)
	}
	defer wsB.Close()
	wsC, _, err := wsDial(t, s, tokC)
	if err != nil {
		t.Fatal(err)
	}
	defer wsC.Close()
	s.must(204, "POST", "/api/auth/password", tokC, map[string]string{"current_password": "owner-password", "new_password": "another password"}, nil)
	if code := closeCode(t, wsB); code != 4001 {
		t.Fatalf("other session's socket closed with %d, want 4001", code)
	}
	if code := s.do("GET", "/api/me", tokB, nil, nil); code != 401 {
		t.Fatalf("other session after the change: %d, want 401", code)
	}
	// The changer's socket stays and still works.
	wsC.WriteJSON(map[string]any{"event": "stream:leave", "data": map[string]string{"station": "none"}, "ref": "still"})
	wsC.SetReadDeadline(time.Now().Add(10 * time.Second))
	var ack struct{ Event, Ref string }
	if err := wsC.ReadJSON(&ack); err != nil || ack.Ref != "still" {
		t.Fatalf("changer's socket: %+v %v", ack, err)
	}
}

// TestSocketCapPerAddress: past limits.sockets_per_ip, a WebSocket from
// the same address is refused with 429 and a JSON message.
func TestSocketCapPerAddress(t *testing.T) {
	cfg := configs.Default()
	cfg.DataDir = t.TempDir()
	cfg.Admin.Password = adminPassword
	cfg.WebRTC.LoopbackOnly = true
	cfg.Limits.SocketsPerIP = 3
	addr, _ := serveWith(t, &cfg)
	s := &server{t: t, URL: "http://" + addr}
	var open []*websocket.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for range 3 {
		ws, _, err := wsDial(t, s, "")
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, ws)
	}
	_, resp, err := wsDial(t, s, "")
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth socket: %v %v", resp, err)
	}
	var body struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if !strings.Contains(body.Error, "too many WebSockets") {
		t.Fatalf("refusal %q", body.Error)
	}
	open[0].Close()
	testutil.Eventually(t, 10*time.Second, "a slot after one closed", func() bool {
		ws, _, err := wsDial(t, s, "")
		if err == nil {
			open = append(open, ws)
		}
		return err == nil
	})
}

// TestSlowloris: a client that sends its headers a byte now and then is
// cut off after http.read_timeout; the server keeps serving others.
func TestSlowloris(t *testing.T) {
	cfg := configs.Default()
	cfg.DataDir = t.TempDir()
	cfg.Admin.Password = adminPassword
	cfg.HTTP.ReadTimeout = 500 * time.Millisecond
	addr, _ := serveWith(t, &cfg)
	const n = 20
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		conns[i] = c
	}
	// Keep trickling; each must be closed by the server in a few seconds.
	for i, c := range conns {
		c.SetDeadline(time.Now().Add(15 * time.Second))
		closed := false
		for range 100 {
			if _, err := c.Write([]byte("a")); err != nil {
				closed = true
				break
			}
			buf := make([]byte, 1)
			c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if _, err := c.Read(buf); err != nil && !isTimeout(err) {
				closed = true
				break
			}
		}
		if !closed {
			t.Fatalf("slow client %d still open after 10 s of trickled headers", i)
		}
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("server after the slow clients: %v %v", resp, err)
	}
	resp.Body.Close()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestConnectionCap: with http.max_conns connections open, the next one
// waits for one of them to close.
func TestConnectionCap(t *testing.T) {
	cfg := configs.Default()
	cfg.DataDir = t.TempDir()
	cfg.Admin.Password = adminPassword
	cfg.HTTP.MaxConns = 2
	addr, _ := serveWith(t, &cfg)
	held := holdConnCap(t, addr, 2)
	held[0].Close()
	servedWithin10s(t, "http://"+addr, "after one closed")
}

// holdConnCap opens max connections to host, each proven taken by a
// request answered on it, and fails t if one more is served while they
// are open. They are closed when t ends, if the test has not.
func holdConnCap(t *testing.T, host string, max int) []net.Conn {
	t.Helper()
	var held []net.Conn
	for range max {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	extra := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := extra.Get("http://" + host + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("connection %d was served while %d were open", max+1, max)
	}
	return held
}

// servedWithin10s fails t unless a fresh connection to baseURL gets
// /healthz answered within 10 s: a slot is free.
func servedWithin10s(t *testing.T, baseURL, when string) {
	t.Helper()
	patient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := patient.Get(baseURL + "/healthz")
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	resp.Body.Close()
}

// TestStreamCapPerAddress: past limits.streams_per_ip, a listener from the
// same address is refused with 429 for as long as the others listen (the
// relay takes each connection over: the slot must be held until the
// listener goes, not until the handler hands it over).
func TestStreamCapPerAddress(t *testing.T) {
	s := startServerWith(t, "", func(c *configs.Config) { c.Limits.StreamsPerIP = 2 })
	tok := s.owner("capper")
	slug, _ := s.liveStation(tok, "Cap FM", "tone440.mp3")
	var bodies []io.Closer
	defer func() {
		for _, b := range bodies {
			b.Close()
		}
	}()
	for range 2 {
		resp, err := http.Get(s.URL + "/stream/" + slug)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("listener: %v %v", resp, err)
		}
		bodies = append(bodies, resp.Body)
		io.ReadFull(resp.Body, make([]byte, 1000)) // it is really listening
	}
	resp, err := http.Get(s.URL + "/stream/" + slug + ".opus")
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body.Error, "too many streams") {
		t.Fatalf("third stream: %d %q", resp.StatusCode, body.Error)
	}
	bodies[0].Close()
	testutil.Eventually(t, 10*time.Second, "a slot after one listener left", func() bool {
		resp, err := http.Get(s.URL + "/stream/" + slug)
		if err != nil {
			return false
		}
		if resp.StatusCode == http.StatusOK {
			bodies = append(bodies, resp.Body)
			return true
		}
		resp.Body.Close()
		return false
	})
}
