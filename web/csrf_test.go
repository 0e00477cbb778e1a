package web

import (
	"net/http"
	"strings"
	"testing"
)

func TestCrossSiteRequests(t *testing.T) {
	e := newEnv(t, withServer(func(s *Server) { s.AllowedOrigins = []string{"https://studio.example"} }))
	cookie := cookieHeader(e.token["owner"])
	self := e.ts.URL // http://127.0.0.1:port

	with := func(h http.Header, kv ...string) http.Header {
		out := http.Header{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	stationCount := func() int {
		resp, body := e.as("", "GET", "/api/stations", nil)
		return len(objects(t, want(t, resp, body, http.StatusOK), "stations"))
	}
	stationName := func() string {
		resp, body := e.as("", "GET", "/api/stations/"+e.slug, nil)
		return want(t, resp, body, http.StatusOK)["name"].(string)
	}

	refused := []struct {
		name string
		h    http.Header
	}{
		{"foreign origin", with(cookie, "Origin", "https://evil.example")},
		{"foreign origin, same host other port", with(cookie, "Origin", "http://127.0.0.1:1")},
		{"null origin", with(cookie, "Origin", "null")},
		{"foreign referer", with(cookie, "Referer", "https://evil.example/page")},
		{"foreign origin beats own referer", with(cookie, "Origin", "https://evil.example", "Referer", self+"/dashboard")},
		{"allowed origin, other scheme", with(cookie, "Origin", "http://studio.example")},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			before := stationCount()
			resp, body := e.do("POST", "/api/stations", "", map[string]string{"name": "Evil FM"}, c.h)
			if msg := wantError(t, resp, body, http.StatusForbidden); msg != "cross-site request refused" {
				t.Errorf("message %q", msg)
			}
			if n := stationCount(); n != before {
				t.Fatalf("a refused request created a station: %d → %d", before, n)
			}
			resp, body = e.do("PATCH", "/api/stations/"+e.slug, "", map[string]string{"name": "Evil FM"}, c.h)
			wantError(t, resp, body, http.StatusForbidden)
			resp, body = e.do("POST", "/api/auth/logout", "", nil, c.h)
			wantError(t, resp, body, http.StatusForbidden)
			if n := stationName(); n != "Test FM" {
				t.Fatalf("a refused request renamed the station to %q", n)
			}
			// The session survived the refused logout.
			resp, body = e.do("GET", "/api/me", "", nil, cookie)
			want(t, resp, body, http.StatusOK)
			// Reading is never refused.
			resp, body = e.do("GET", "/api/me", "", nil, c.h)
			want(t, resp, body, http.StatusOK)
		})
	}

	allowed := []struct {
		name string
		h    http.Header
	}{
		{"same origin", with(cookie, "Origin", self)},
		{"same origin referer", with(cookie, "Referer", self+"/dashboard?x=1")},
		{"no origin nor referer", cookie},
		{"allowed origin", with(cookie, "Origin", "https://studio.example")},
		{"bearer from a foreign origin", http.Header{"Authorization": {"Bearer " + e.token["owner"]}, "Origin": {"https://evil.example"}}},
		{"bearer and cookie from a foreign origin", with(cookie, "Authorization", "Bearer "+e.token["owner"], "Origin", "https://evil.example")},
	}
	for i, c := range allowed {
		t.Run(c.name, func(t *testing.T) {
			before := stationCount()
			resp, body := e.do("POST", "/api/stations", "", map[string]string{"name": "Good FM"}, c.h)
			checkStation(t, want(t, resp, body, http.StatusCreated))
			if n := stationCount(); n != before+1 {
				t.Fatalf("stations %d → %d", before, n)
			}
			name := "Renamed " + strings.Repeat("I", i+1)
			resp, body = e.do("PATCH", "/api/stations/"+e.slug, "", map[string]string{"name": name}, c.h)
			if got := want(t, resp, body, http.StatusOK)["name"]; got != name {
				t.Fatalf("name %v, want %s", got, name)
			}
		})
	}
}

func TestPublicURLIsATrustedOrigin(t *testing.T) {
	e := newEnv(t, withServer(func(s *Server) { s.PublicURL = "https://radio.example/" }))
	h := cookieHeader(e.token["owner"])
	h.Set("Origin", "https://radio.example")
	resp, body := e.do("POST", "/api/stations", "", map[string]string{"name": "Proxied FM"}, h)
	want(t, resp, body, http.StatusCreated)
}

func TestLoginFromAForeignPageIsRefused(t *testing.T) {
	e := newEnv(t)
	creds := map[string]string{"username": "owner", "password": password}
	resp, body := e.do("POST", "/api/auth/login", "", creds, http.Header{"Origin": {"https://evil.example"}})
	wantError(t, resp, body, http.StatusForbidden)
	if len(resp.Cookies()) != 0 {
		t.Fatal("a refused login set a cookie")
	}
	resp, body = e.do("POST", "/api/auth/register", "", map[string]string{"username": "planted", "password": password},
		http.Header{"Origin": {"https://evil.example"}})
	wantError(t, resp, body, http.StatusForbidden)
	resp, body = e.do("POST", "/api/auth/login", "", creds, http.Header{"Origin": {e.ts.URL}})
	want(t, resp, body, http.StatusOK)
}

func TestTrustedOrigin(t *testing.T) {
	s := &Server{PublicURL: "https://radio.example", AllowedOrigins: []string{"https://studio.example:8443/"}}
	for _, c := range []struct {
		origin, host string
		want         bool
	}{
		{"http://localhost:8000", "localhost:8000", true},
		{"http://LOCALHOST:8000", "localhost:8000", true},
		{"https://radio.example", "10.0.0.5:8000", true},
		{"https://radio.example:443", "10.0.0.5:8000", true},
		{"http://radio.example", "10.0.0.5:8000", false},
		{"https://studio.example:8443", "localhost", true},
		{"https://studio.example", "localhost", false},
		{"http://example.com", "example.com:80", true},
		{"http://localhost:8001", "localhost:8000", false},
		{"https://localhost.evil.example", "localhost", false},
		{"null", "localhost", false},
		{"", "localhost", false},
		{"javascript:alert(1)", "localhost", false},
		{"file:///etc/passwd", "localhost", false},
	} {
		if got := s.trustedOrigin(c.origin, c.host); got != c.want {
			t.Errorf("trustedOrigin(%q, %q) = %v, want %v", c.origin, c.host, got, c.want)
		}
	}
}

// FuzzTrustedOrigin checks that no origin header upsets the check, and
// that one trusted for a host names that host or a configured origin.
func FuzzTrustedOrigin(f *testing.F) {
	for _, o := range []string{"http://localhost:8000", "null", "https://radio.example", "http://[::1]:80", "%zz", "http://a@b/"} {
		f.Add(o, "localhost:8000")
	}
	s := &Server{PublicURL: "https://radio.example"}
	f.Fuzz(func(t *testing.T, origin, host string) {
		if !s.trustedOrigin(origin, host) {
			return
		}
		o := strings.ToLower(origin)
		if !strings.Contains(o, strings.ToLower(stripDefaultPort("http", stripDefaultPort("https", host)))) && !strings.Contains(o, "radio.example") {
			t.Fatalf("trusted %q for host %q", origin, host)
		}
	})
}
