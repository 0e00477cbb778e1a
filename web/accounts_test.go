package web

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/onairfm/onair"
)

func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == CookieName {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", CookieName, resp.Header["Set-Cookie"])
	return nil
}

func cookieHeader(token string) http.Header {
	return http.Header{"Cookie": {CookieName + "=" + token}}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	resp, body := e.do("POST", "/api/auth/login", "", map[string]string{"username": "owner", "password": password}, nil)
	m := want(t, resp, body, http.StatusOK)
	checkShape(t, "login", m, map[string]string{"token": tString, "user": tObject})
	checkUser(t, m["user"].(map[string]any), "owner", onair.RoleOwner)
	token := m["token"].(string)

	c := sessionCookie(t, resp)
	if c.Value != token || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
		t.Errorf("cookie %+v: want the token, HttpOnly, SameSite=Lax, Path=/, not Secure over plain HTTP", c)
	}
	if want := int((30 * 24 * time.Hour).Seconds()); c.MaxAge != want {
		t.Errorf("cookie Max-Age %d, want %d", c.MaxAge, want)
	}

	// The token works both ways.
	for name, h := range map[string]http.Header{
		"bearer": {"Authorization": {"Bearer " + token}},
		"cookie": cookieHeader(token),
	} {
		resp, body := e.do("GET", "/api/me", "", nil, h)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: /api/me %d %s", name, resp.StatusCode, body)
		}
		checkUser(t, decodeObject(t, resp, body), "owner", onair.RoleOwner)
	}

	for _, bad := range []map[string]string{
		{"username": "owner", "password": "wrong password"},
		{"username": "nobody", "password": password},
		{"username": "", "password": ""},
	} {
		resp, body := e.do("POST", "/api/auth/login", "", bad, nil)
		wantError(t, resp, body, http.StatusUnauthorized)
		if len(resp.Cookies()) != 0 {
			t.Errorf("a failed login set cookies: %v", resp.Cookies())
		}
	}
}

func TestSessionTTLSetsMaxAge(t *testing.T) {
	e := newEnv(t, withServer(func(s *Server) { s.SessionTTL = time.Hour }))
	resp, body := e.do("POST", "/api/auth/login", "", map[string]string{"username": "owner", "password": password}, nil)
	want(t, resp, body, http.StatusOK)
	if c := sessionCookie(t, resp); c.MaxAge != 3600 {
		t.Fatalf("Max-Age %d, want 3600", c.MaxAge)
	}
}

func TestAnonymousAndInvalidTokens(t *testing.T) {
	e := newEnv(t)
	for name, h := range map[string]http.Header{
		"none":             nil,
		"bad bearer":       {"Authorization": {"Bearer not-a-token"}},
		"bad cookie":       cookieHeader("not-a-token"),
		"other scheme":     {"Authorization": {"Basic b3duZXI6eA=="}},
		"empty bearer":     {"Authorization": {"Bearer "}},
		"empty cookie":     cookieHeader(""),
		"lowercase scheme": {"Authorization": {"bearer nope"}},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := e.do("GET", "/api/me", "", nil, h)
			wantError(t, resp, body, http.StatusUnauthorized)
			// Public routes serve an invalid token as anonymous.
			resp, body = e.do("GET", "/api/stations", "", nil, h)
			want(t, resp, body, http.StatusOK)
			// Protected ones refuse it.
			resp, body = e.do("POST", "/api/stations/"+e.slug+"/stop", "", nil, h)
			wantError(t, resp, body, http.StatusUnauthorized)
		})
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	for _, how := range []string{"cookie", "bearer"} {
		t.Run(how, func(t *testing.T) {
			resp, body := e.do("POST", "/api/auth/login", "", map[string]string{"username": "admin", "password": password}, nil)
			token := want(t, resp, body, http.StatusOK)["token"].(string)
			h := cookieHeader(token)
			if how == "bearer" {
				h = http.Header{"Authorization": {"Bearer " + token}}
			}
			resp, body = e.do("POST", "/api/auth/logout", "", nil, h)
			want(t, resp, body, http.StatusNoContent)
			if c := sessionCookie(t, resp); c.MaxAge >= 0 || c.Value != "" {
				t.Errorf("logout cookie %+v does not expire the session cookie", c)
			}
			resp, body = e.do("GET", "/api/me", "", nil, h)
			wantError(t, resp, body, http.StatusUnauthorized)
			// Logging out again is harmless.
			resp, body = e.do("POST", "/api/auth/logout", "", nil, h)
			want(t, resp, body, http.StatusNoContent)
		})
	}
	// Other sessions stay.
	resp, body := e.as("admin", "GET", "/api/me", nil)
	want(t, resp, body, http.StatusOK)
}

func TestRegister(t *testing.T) {
	e := newEnv(t)
	resp, body := e.do("POST", "/api/auth/register", "", map[string]string{"username": "newbie", "password": password}, nil)
	checkUser(t, want(t, resp, body, http.StatusCreated), "newbie", onair.RoleListener)

	resp, body = e.do("POST", "/api/auth/register", "", map[string]string{"username": "NEWBIE", "password": password}, nil)
	wantError(t, resp, body, http.StatusConflict)
	resp, body = e.do("POST", "/api/auth/register", "", map[string]string{"username": "x", "password": password}, nil)
	wantError(t, resp, body, http.StatusBadRequest)
	resp, body = e.do("POST", "/api/auth/register", "", map[string]string{"username": "shorty", "password": "short"}, nil)
	wantError(t, resp, body, http.StatusBadRequest)
	// A role in the body is not honoured.
	resp, body = e.do("POST", "/api/auth/register", "", map[string]string{"username": "sneaky", "password": password, "role": "admin"}, nil)
	checkUser(t, want(t, resp, body, http.StatusCreated), "sneaky", onair.RoleListener)

	resp, body = e.do("POST", "/api/auth/login", "", map[string]string{"username": "newbie", "password": password}, nil)
	want(t, resp, body, http.StatusOK)
}

func TestCreateUserIsForAdmins(t *testing.T) {
	e := newEnv(t)
	in := map[string]string{"username": "deejay", "password": password, "role": "owner"}
	for user, status := range map[string]int{"": http.StatusUnauthorized, "owner": http.StatusForbidden, "listener": http.StatusForbidden} {
		resp, body := e.as(user, "POST", "/api/users", in)
		wantError(t, resp, body, status)
	}
	resp, body := e.as("admin", "POST", "/api/users", in)
	checkUser(t, want(t, resp, body, http.StatusCreated), "deejay", onair.RoleOwner)
	resp, body = e.as("admin", "POST", "/api/users", in)
	wantError(t, resp, body, http.StatusConflict)
	resp, body = e.as("admin", "POST", "/api/users", map[string]string{"username": "deejay2", "password": password, "role": "god"})
	wantError(t, resp, body, http.StatusBadRequest)

	resp, body = e.do("POST", "/api/auth/login", "", map[string]string{"username": "deejay", "password": password}, nil)
	checkUser(t, want(t, resp, body, http.StatusOK)["user"].(map[string]any), "deejay", onair.RoleOwner)
}

func TestLoginRateLimit(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, withServer(func(s *Server) { s.Now = func() time.Time { return now } }))
	bad := map[string]string{"username": "owner", "password": "wrong password"}
	for i := range authBurst {
		resp, body := e.do("POST", "/api/auth/login", "", bad, nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := e.do("POST", "/api/auth/login", "", map[string]string{"username": "owner", "password": password}, nil)
	wantError(t, resp, body, http.StatusTooManyRequests)
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	// Registration shares the budget.
	resp, body = e.do("POST", "/api/auth/register", "", map[string]string{"username": "newbie", "password": password}, nil)
	wantError(t, resp, body, http.StatusTooManyRequests)

	// Sessions already open are not affected.
	resp, body = e.as("owner", "GET", "/api/me", nil)
	want(t, resp, body, http.StatusOK)

	now = now.Add(10 * time.Second) // refills about one and a half attempts
	resp, body = e.do("POST", "/api/auth/login", "", map[string]string{"username": "owner", "password": password}, nil)
	want(t, resp, body, http.StatusOK)
	resp, body = e.do("POST", "/api/auth/login", "", map[string]string{"username": "owner", "password": password}, nil)
	wantError(t, resp, body, http.StatusTooManyRequests)
}
