package web

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair/auth"
)

// sessionRecorder notes what the accounts routes ask the hub to close.
type sessionRecorder struct {
	mu       sync.Mutex
	sessions []string
	users    []string // "id/keep"
}

func (s *sessionRecorder) EndSession(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = append(s.sessions, token)
}

func (s *sessionRecorder) EndUser(id int64, keep string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, strings.Join([]string{strconv.FormatInt(id, 10), keep}, "/"))
}

func TestLogoutAndPasswordChangeEndSockets(t *testing.T) {
	rec := &sessionRecorder{}
	e := newEnv(t, withServer(func(s *Server) { s.Sessions = rec }))
	// A second session of owner, which the change must end.
	other, _, err := e.auth.Login(context.Background(), "owner", password)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.as("owner", "POST", "/api/auth/password", map[string]string{"current_password": "nope nope", "new_password": "a new password"})
	wantError(t, resp, body, http.StatusForbidden)
	resp, body = e.as("owner", "POST", "/api/auth/password", map[string]string{"current_password": password, "new_password": "short"})
	wantError(t, resp, body, http.StatusBadRequest)
	resp, body = e.as("owner", "POST", "/api/auth/password", map[string]string{"current_password": password, "new_password": "a new password"})
	want(t, resp, body, http.StatusNoContent)
	resp, body = e.do("GET", "/api/me", other, nil, nil)
	wantError(t, resp, body, http.StatusUnauthorized)
	resp, body = e.as("owner", "GET", "/api/me", nil)
	want(t, resp, body, http.StatusOK)
	if len(rec.users) != 1 || rec.users[0] != strconv.FormatInt(e.owner.ID, 10)+"/"+e.token["owner"] {
		t.Fatalf("EndUser calls %v", rec.users)
	}

	resp, body = e.as("listener", "POST", "/api/auth/logout", nil)
	want(t, resp, body, http.StatusNoContent)
	if len(rec.sessions) != 1 || rec.sessions[0] != e.token["listener"] {
		t.Fatalf("EndSession calls %v", rec.sessions)
	}
}

func TestAdminUsers(t *testing.T) {
	rec := &sessionRecorder{}
	e := newEnv(t, withServer(func(s *Server) { s.Sessions = rec }))
	resp, body := e.as("owner", "GET", "/api/users", nil)
	wantError(t, resp, body, http.StatusForbidden)
	resp, body = e.as("admin", "GET", "/api/users", nil)
	if users := objects(t, want(t, resp, body, http.StatusOK), "users"); len(users) != 4 {
		t.Fatalf("users %v", users)
	}
	resp, body = e.as("admin", "PATCH", "/api/users/listener", map[string]any{"disabled": true})
	if m := want(t, resp, body, http.StatusOK); m["disabled"] != true {
		t.Fatalf("patched %v", m)
	}
	resp, body = e.as("listener", "GET", "/api/me", nil)
	wantError(t, resp, body, http.StatusUnauthorized)
	resp, body = e.do("POST", "/api/auth/login", "", map[string]string{"username": "listener", "password": password}, nil)
	wantError(t, resp, body, http.StatusForbidden)
	resp, body = e.as("admin", "PATCH", "/api/users/listener", map[string]any{"disabled": false, "role": "owner"})
	if m := want(t, resp, body, http.StatusOK); m["role"] != "owner" {
		t.Fatalf("patched %v", m)
	}
	resp, body = e.as("admin", "DELETE", "/api/users/owner", nil)
	wantError(t, resp, body, http.StatusConflict) // owns a station
	resp, body = e.as("admin", "DELETE", "/api/users/listener", nil)
	want(t, resp, body, http.StatusNoContent)
	resp, body = e.as("admin", "DELETE", "/api/users/listener", nil)
	wantError(t, resp, body, http.StatusNotFound)
	resp, body = e.as("admin", "PATCH", "/api/users/admin", map[string]any{"disabled": true})
	wantError(t, resp, body, http.StatusConflict) // the last admin
	if len(rec.users) != 2 {
		t.Fatalf("EndUser calls %v, want disable and delete", rec.users)
	}
}

func TestSetupFlow(t *testing.T) {
	e := newEnv(t)
	// The env already has an admin: setup is closed.
	resp, body := e.do("POST", "/api/setup", "", map[string]string{"token": "x", "username": "boss", "password": "boss password"}, nil)
	wantError(t, resp, body, http.StatusForbidden)

	// A fresh server with no admin.
	fresh := newBareEnv(t)
	tok, ok, err := fresh.auth.SetupToken(context.Background())
	if err != nil || !ok {
		t.Fatalf("SetupToken: %v %v", ok, err)
	}
	resp, body = fresh.do("POST", "/api/setup", "", map[string]string{"token": "wrong", "username": "boss", "password": "boss password"}, nil)
	wantError(t, resp, body, http.StatusForbidden)
	resp, body = fresh.do("POST", "/api/setup", "", map[string]string{"token": tok, "username": "boss", "password": "boss password"}, nil)
	m := want(t, resp, body, http.StatusCreated)
	if m["token"] == "" || m["user"].(map[string]any)["role"] != "admin" {
		t.Fatalf("setup answer %v", m)
	}
	if c := resp.Cookies(); len(c) != 1 || c[0].Name != CookieName || !c[0].HttpOnly {
		t.Fatalf("setup cookies %v", c)
	}
	resp, body = fresh.do("POST", "/api/setup", "", map[string]string{"token": tok, "username": "boss2", "password": "boss password"}, nil)
	wantError(t, resp, body, http.StatusForbidden)
	resp, body = fresh.do("GET", "/setup", "", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "setup-form") {
		t.Fatalf("GET /setup: %d", resp.StatusCode)
	}
}

// bareEnv is a Server over a store with no user at all.
type bareEnv struct {
	*env
}

func newBareEnv(t *testing.T) *bareEnv {
	e := newEnv(t)
	// Same store layout, but a new store without the env's users.
	db := e.db
	users, _ := e.auth.Users(context.Background())
	for _, u := range users {
		if u.Username == "owner" {
			continue // owns the station; a listener stays listener
		}
		if u.Role == "admin" {
			_ = db.UpdateUser(context.Background(), u.ID, false, "listener")
		}
	}
	e.auth = &auth.Service{Store: db, Cost: 4}
	e.srv.Auth = e.auth
	return &bareEnv{e}
}

func TestMetricsToken(t *testing.T) {
	e := newEnv(t, withServer(func(s *Server) {
		s.MetricsToken = "m-token"
		s.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "onair_up 1\n") })
	}))
	resp, body := e.do("GET", "/metrics", "", nil, nil)
	wantError(t, resp, body, http.StatusUnauthorized)
	resp, body = e.do("GET", "/metrics", "wrong", nil, nil)
	wantError(t, resp, body, http.StatusUnauthorized)
	resp, body = e.do("GET", "/metrics", "m-token", nil, nil)
	if resp.StatusCode != http.StatusOK || string(body) != "onair_up 1\n" {
		t.Fatalf("with token: %d %q", resp.StatusCode, body)
	}
}

// TestTrustedProxies checks whose X-Forwarded-* are believed, through the
// login rate limit (keyed by client) and the cookie's Secure flag.
func TestTrustedProxies(t *testing.T) {
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	e := newEnv(t, withServer(func(s *Server) { s.TrustedProxies = []netip.Prefix{loopback} }))
	login := func(client, proto string) *http.Response {
		h := http.Header{"X-Forwarded-For": {"203.0.113.9, " + client}}
		if proto != "" {
			h.Set("X-Forwarded-Proto", proto)
		}
		resp, _ := e.do("POST", "/api/auth/login", "", map[string]string{"username": "owner", "password": "wrong password"}, h)
		return resp
	}
	// Client A spends its whole burst...
	for range authBurst {
		if resp := login("198.51.100.1", ""); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("A's attempt: %d", resp.StatusCode)
		}
	}
	if resp := login("198.51.100.1", ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("A past its burst: %d, want 429", resp.StatusCode)
	}
	// ...and client B behind the same proxy is not locked out.
	if resp := login("198.51.100.2", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("B: %d, want 401 (its own bucket)", resp.StatusCode)
	}
	// The proxy says https: Secure cookie and HSTS.
	resp, _ := e.do("POST", "/api/auth/login", "", map[string]string{"username": "admin", "password": password},
		http.Header{"X-Forwarded-For": {"198.51.100.3"}, "X-Forwarded-Proto": {"https"}})
	if c := resp.Cookies(); len(c) != 1 || !c[0].Secure {
		t.Fatalf("cookie over a trusted https proxy: %v", c)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS over a trusted https proxy")
	}

	// Nobody trusted: the headers count for nothing.
	u := newEnv(t)
	for range authBurst {
		resp, _ := u.do("POST", "/api/auth/login", "", map[string]string{"username": "owner", "password": "wrong password"},
			http.Header{"X-Forwarded-For": {"198.51.100.77"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt: %d", resp.StatusCode)
		}
	}
	resp, _ = u.do("POST", "/api/auth/login", "", map[string]string{"username": "admin", "password": password},
		http.Header{"X-Forwarded-For": {"198.51.100.78"}, "X-Forwarded-Proto": {"https"}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a forged X-Forwarded-For escaped the limit: %d", resp.StatusCode)
	}
	resp, _ = u.do("GET", "/", "", nil, http.Header{"X-Forwarded-Proto": {"https"}})
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Fatal("HSTS from a forged X-Forwarded-Proto")
	}
}

func TestPublicURLHTTPSMakesCookieSecure(t *testing.T) {
	e := newEnv(t, withServer(func(s *Server) { s.PublicURL = "https://radio.example.org" }))
	resp, _ := e.do("POST", "/api/auth/login", "", map[string]string{"username": "admin", "password": password}, nil)
	if c := resp.Cookies(); len(c) != 1 || !c[0].Secure {
		t.Fatalf("cookie: %v", c)
	}
	resp, body := e.do("GET", "/stream/"+e.slug+".m3u", "", nil, http.Header{"Host": {"evil.example"}})
	if !strings.Contains(string(body), "https://radio.example.org/stream/"+e.slug) || strings.Contains(string(body), "evil") {
		t.Fatalf("m3u %d: %s", resp.StatusCode, body)
	}
}

// TestPerAddressCaps opens streams and sockets from one address up to the
// cap; the next is refused with 429 and a message, and a slot comes back
// when one closes.
func TestPerAddressCaps(t *testing.T) {
	var mu sync.Mutex
	open := map[string]int{}
	hold := func(kind string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			open[kind]++
			mu.Unlock()
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			mu.Lock()
			open[kind]--
			mu.Unlock()
		})
	}
	e := newEnv(t, withServer(func(s *Server) {
		s.StreamsPerIP, s.SocketsPerIP = 3, 2
		s.Stream, s.WS = hold("stream"), hold("ws")
	}))
	for _, c := range []struct {
		path, kind string
		max        int
	}{{"/stream/" + e.slug, "stream", 3}, {"/ws", "ws", 2}} {
		var cancels []context.CancelFunc
		for i := range c.max {
			ctx, cancel := context.WithCancel(context.Background())
			cancels = append(cancels, cancel)
			req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+c.path, nil)
			resp, err := e.client.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s #%d: %v %v", c.kind, i, resp, err)
			}
		}
		resp, body := e.do("GET", c.path, "", nil, nil)
		if msg := wantError(t, resp, body, http.StatusTooManyRequests); !strings.Contains(msg, "from your address") {
			t.Fatalf("%s refusal: %q", c.kind, msg)
		}
		cancels[0]()
		waitOpen := func() bool {
			mu.Lock()
			defer mu.Unlock()
			return open[c.kind] == c.max-1
		}
		for deadline := time.Now().Add(10 * time.Second); !waitOpen(); {
			if time.Now().After(deadline) {
				t.Fatalf("%s: slot not given back", c.kind)
			}
			time.Sleep(5 * time.Millisecond)
		}
		// The handler has returned; the wrapper releases right after it.
		ok := false
		for deadline := time.Now().Add(10 * time.Second); !ok && time.Now().Before(deadline); {
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+c.path, nil)
			resp, err := e.client.Do(req)
			ok = err == nil && resp.StatusCode == http.StatusOK
			cancels = append(cancels, cancel)
			if !ok {
				time.Sleep(5 * time.Millisecond)
			}
		}
		if !ok {
			t.Fatalf("%s: refused after a slot came back", c.kind)
		}
		for _, cancel := range cancels {
			cancel()
		}
	}
}

// detachedSockets is a /ws handler that, as the signalling hub, keeps the
// socket past its request and says when it closed.
type detachedSockets struct {
	mu       sync.Mutex
	released []func()
}

// ServeHTTP is not what /ws should call: it fails the test's requests.
func (d *detachedSockets) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "ServeHTTP called on a socket server", http.StatusInternalServerError)
}

func (d *detachedSockets) ServeSocket(w http.ResponseWriter, _ *http.Request, released func()) {
	d.mu.Lock()
	d.released = append(d.released, released)
	d.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// TestSocketCapPastTheRequest: a socket served past its request keeps its
// address's slot until the server says it closed, not until the request
// returns.
func TestSocketCapPastTheRequest(t *testing.T) {
	ws := &detachedSockets{}
	e := newEnv(t, withServer(func(s *Server) { s.SocketsPerIP, s.WS = 2, ws }))
	for i := range 2 {
		if resp, _ := e.do("GET", "/ws", "", nil, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("socket #%d: %d", i, resp.StatusCode)
		}
	}
	resp, body := e.do("GET", "/ws", "", nil, nil)
	if msg := wantError(t, resp, body, http.StatusTooManyRequests); !strings.Contains(msg, "from your address") {
		t.Fatalf("refusal: %q", msg)
	}
	ws.mu.Lock()
	ws.released[0]()
	ws.mu.Unlock()
	if resp, _ := e.do("GET", "/ws", "", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after a socket closed: %d", resp.StatusCode)
	}
}
