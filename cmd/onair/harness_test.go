package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/internal/audiotest"
)

// server is the whole onair server running in the test process on
// 127.0.0.1, with its own data directory.
type server struct {
	t       *testing.T
	URL     string
	dataDir string
	cancel  context.CancelFunc
	done    chan error
	admin   string // admin's bearer token
}

const adminPassword = "admin-password"

// startServer starts the server on a free loopback port. dataDir "" makes a
// new one.
func startServer(t *testing.T, dataDir string) *server {
	t.Helper()
	return startServerWith(t, dataDir, nil)
}

// startServerWith is startServer with the test's own settings: tweak
// changes the configuration before the server starts.
func startServerWith(t *testing.T, dataDir string, tweak func(*configs.Config)) *server {
	t.Helper()
	return startServerLogged(t, dataDir, tweak, nil)
}

// startServerLogged is startServerWith whose log also goes through wrap
// (when not nil): for a test that watches what the server logs.
func startServerLogged(t *testing.T, dataDir string, tweak func(*configs.Config), wrap func(slog.Handler) slog.Handler) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	cfg := configs.Default()
	cfg.DataDir = dataDir
	cfg.Admin.Password = adminPassword
	cfg.WebRTC.LoopbackOnly = true
	if tweak != nil {
		tweak(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{t: t, URL: "http://" + ln.Addr().String(), dataDir: dataDir, cancel: cancel, done: make(chan error, 1)}
	var h slog.Handler = slog.NewTextHandler(io.Discard, nil)
	if testing.Verbose() {
		h = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
	}
	if wrap != nil {
		h = wrap(h)
	}
	log := slog.New(h)
	go func() { s.done <- serve(ctx, &cfg, ln, log) }()
	t.Cleanup(s.stop)
	s.admin = s.login("admin", adminPassword)
	return s
}

// stop shuts the server down and waits for it.
func (s *server) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("server: %v", err)
		}
	case <-time.After(20 * time.Second):
		s.t.Error("server did not shut down within 20 s")
	}
}

// do makes a request with a bearer token ("" for none) and decodes a JSON
// answer into out when out is not nil. It returns the status.
func (s *server) do(method, path, token string, body any, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return s.send(req, out)
}

func (s *server) send(req *http.Request, out any) int {
	s.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %d %q: %v", req.Method, req.URL.Path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func (s *server) must(want int, method, path, token string, body any, out any) {
	s.t.Helper()
	var raw json.RawMessage
	if got := s.do(method, path, token, body, &raw); got != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, want, raw)
	}
	if out != nil {
		json.Unmarshal(raw, out)
	}
}

func (s *server) login(user, password string) string {
	s.t.Helper()
	var out struct{ Token string }
	s.must(200, "POST", "/api/auth/login", "", map[string]string{"username": user, "password": password}, &out)
	return out.Token
}

// owner creates an owner account and returns its token.
func (s *server) owner(name string) string {
	s.t.Helper()
	s.must(201, "POST", "/api/users", s.admin, map[string]string{"username": name, "password": "owner-password", "role": "owner"}, nil)
	return s.login(name, "owner-password")
}

type trackJSON struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	Filename string `json:"filename"`
}

type uploadResult struct {
	Tracks []trackJSON
	Errors []struct{ File, Error string }
}

// upload sends fixtures (name → bytes) in one multipart request.
func (s *server) upload(token, slug string, files ...namedFile) (int, uploadResult) {
	s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range files {
		w, _ := mw.CreateFormFile("file", f.name)
		w.Write(f.data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", s.URL+"/api/stations/"+slug+"/tracks", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	var out uploadResult
	return s.send(req, &out), out
}

type namedFile struct {
	name string
	data []byte
}

func fixture(t *testing.T, name string) namedFile {
	return namedFile{name, audiotest.Fixture(t, name)}
}

// station creates a station with the given fixtures and starts it.
func (s *server) liveStation(token, name string, fixtures ...string) (slug string, tracks []trackJSON) {
	s.t.Helper()
	var st struct{ Slug string }
	s.must(201, "POST", "/api/stations", token, map[string]string{"name": name, "genre": "Tones"}, &st)
	var files []namedFile
	for _, f := range fixtures {
		files = append(files, fixture(s.t, f))
	}
	status, res := s.upload(token, st.Slug, files...)
	if status != 201 || len(res.Tracks) != len(fixtures) {
		s.t.Fatalf("upload: %d %+v", status, res)
	}
	s.must(200, "POST", "/api/stations/"+st.Slug+"/start", token, nil, nil)
	return st.Slug, res.Tracks
}
