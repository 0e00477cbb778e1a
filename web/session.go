package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/auth"
	"github.com/onairfm/onair/internal/guard"
)

// CookieName is the session cookie.
const CookieName = onair.SessionCookie

// errCrossSite refuses a state change a foreign page asked a browser for.
var errCrossSite = onair.Errorf(onair.EForbidden, "cross-site request refused")

// credentials returns the session token of r and whether it came from the
// cookie. A bearer token wins over the cookie: a foreign page cannot make a
// browser send an Authorization header.
func credentials(r *http.Request) (token string, byCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), false
		}
	}
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

// user returns who sent r, or nil for anyone not logged in: no token, or
// one that is unknown, logged out or expired. Public routes serve nil as
// anonymous; owner actions refuse it with 401.
func (s *Server) user(r *http.Request) (*onair.User, error) {
	token, _ := credentials(r)
	if token == "" {
		return nil, nil
	}
	u, err := s.Auth.UserByToken(r.Context(), token)
	if errors.Is(err, auth.ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// loggedIn is user for routes that need an account: nobody gets
// errNoLogin (401) before the body is even read.
func (s *Server) loggedIn(r *http.Request) (*onair.User, error) {
	u, err := s.user(r)
	if err == nil && u == nil {
		err = errNoLogin
	}
	return u, err
}

// setSessionCookie gives the browser its session.
func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{
		Name:     CookieName,
		Value:    token,
		Path:     "/",
		MaxAge:   int(s.sessionTTL().Seconds()),
		HttpOnly: true,
		Secure:   s.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// clearSessionCookie makes the browser forget its session.
func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     CookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// checkOrigin refuses a cookie-authenticated state change that a page of
// another site made the browser send. SameSite=Lax already keeps the cookie
// off cross-site POSTs in current browsers; this covers the others and
// same-site but cross-origin pages. Logins and registrations are checked
// too, cookie or not, so a foreign page cannot log a browser into an
// account of its choosing. Bearer requests are exempt: a browser never adds
// that header by itself. A request with neither Origin nor Referer comes
// from a non-browser client and passes.
func (s *Server) checkOrigin(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	token, byCookie := credentials(r)
	login := r.URL.Path == "/api/auth/login" || r.URL.Path == "/api/auth/register"
	if !byCookie && (!login || token != "") {
		return nil
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = r.Header.Get("Referer")
		if origin == "" {
			return nil
		}
	}
	if s.trustedOrigin(origin, r.Host) {
		return nil
	}
	return errCrossSite
}

// trustedOrigin reports whether origin (an Origin header or a Referer URL)
// is the server itself or an allowed origin.
func (s *Server) trustedOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false // includes the "null" origin of sandboxed pages
	}
	if sameHost(u.Scheme, u.Host, host) {
		return true
	}
	for _, allowed := range append([]string{s.PublicURL}, s.AllowedOrigins...) {
		a, err := url.Parse(strings.TrimSpace(allowed))
		if err != nil || a.Host == "" {
			continue
		}
		if strings.EqualFold(a.Scheme, u.Scheme) && sameHost(u.Scheme, a.Host, u.Host) {
			return true
		}
	}
	return false
}

// sameHost compares two host[:port] values, ignoring letter case and the
// scheme's default port.
func sameHost(scheme, a, b string) bool {
	return strings.EqualFold(stripDefaultPort(scheme, a), stripDefaultPort(scheme, b))
}

func stripDefaultPort(scheme, host string) string {
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		return strings.TrimSuffix(host, ":80")
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		return strings.TrimSuffix(host, ":443")
	}
	return host
}

// secure reports whether cookies must be Secure and pages send HSTS: the
// request came over https, or the public URL is https (the proxy in front
// terminates TLS).
func (s *Server) secure(r *http.Request) bool {
	return guard.IsHTTPS(r) || strings.HasPrefix(strings.ToLower(s.PublicURL), "https://")
}
