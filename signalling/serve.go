package signalling

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/httpjson"
)

// sessionCookie is the cookie the REST login sets; its value is the token.
const sessionCookie = onair.SessionCookie

// ServeHTTP upgrades GET /ws to a WebSocket and returns once it is open;
// the hub serves it on its own goroutines until it closes (see
// ServeSocket).
//
// A browser page from a foreign origin is refused (403, no upgrade) even
// without a cookie, so no other site can act with a visitor's session. A
// request without Origin (not a browser) is accepted.
//
// The user comes from "Authorization: Bearer TOKEN" or the session cookie.
// A bad bearer token is refused with 401: a script asked for an identity
// it cannot have. A bad cookie is ignored and the socket is anonymous:
// listening needs no account and a stale cookie is normal after a logout.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.ServeSocket(w, r, nil)
}

// ServeSocket is ServeHTTP for a caller that must know when the socket
// ends (web's sockets-per-address limit): released, if not nil, is called
// once, when the socket has closed, or before ServeSocket returns if no
// socket was opened.
//
// The socket is served on a goroutine of the hub's, not on the request's:
// else the HTTP server's state for the hijacked connection (its buffers,
// the request and its headers: ≈ 16 KB of heap measured at 200 sockets)
// and the handler chain's deep stack would live as long as the socket.
func (h *Hub) ServeSocket(w http.ResponseWriter, r *http.Request, released func()) {
	if !h.serve(w, r, released) && released != nil {
		released()
	}
}

// serve upgrades r and starts serving the socket; false when it did not.
func (h *Hub) serve(w http.ResponseWriter, r *http.Request, released func()) bool {
	h.init()
	if !h.originAllowed(r) {
		writeError(w, http.StatusForbidden, "origin not allowed")
		return false
	}
	ends := h.endCount()
	u, token, err := h.requestUser(r)
	if err != nil {
		if wireCode(err) == onair.EInternal {
			h.log.Error("authenticate socket", "err", err)
			writeError(w, http.StatusInternalServerError, "internal error")
			return false
		}
		writeError(w, http.StatusUnauthorized, onair.ErrorMessage(err))
		return false
	}
	if !h.running() {
		writeError(w, http.StatusServiceUnavailable, "signalling is not running")
		return false
	}
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered the request.
		h.log.Debug("upgrade refused", "remote", r.RemoteAddr, "err", err)
		return false
	}
	c := newConn(h, ws, u, token)
	c.ctx = onair.WithUserAgent(c.ctx, r.UserAgent()) // for the statistics of its WebRTC peers
	c.released = released
	c.keepAlive()
	ok, endedSince := h.register(c, ends)
	if !ok {
		c.ping.Stop()
		_ = ws.Close()
		return false
	}
	go c.readLoop()
	if endedSince && u != nil {
		// A session ended between the authentication and now: if it was
		// this one, the socket goes as if it had been open then.
		if u2, _, err := h.requestUser(r); err != nil || u2 == nil {
			c.kill(closeSessionEnded, "session ended")
		}
	}
	return true
}

func (h *Hub) running() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state == hubRunning
}

// originAllowed accepts no Origin, the request's own host, or one of
// AllowedOrigins.
func (h *Hub) originAllowed(r *http.Request) bool {
	origins := r.Header.Values("Origin")
	switch len(origins) {
	case 0:
		return true
	case 1:
	default:
		return false
	}
	origin := origins[0]
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, a := range h.AllowedOrigins {
		if strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
			return true
		}
	}
	return false
}

// requestUser returns the user of the upgrade request, or nil for an
// anonymous one. See ServeHTTP for how bad credentials are treated.
func (h *Hub) requestUser(r *http.Request) (*onair.User, string, error) {
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, token, ok := strings.Cut(a, " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return nil, "", onair.Errorf(onair.EUnauthorized, "Authorization must be \"Bearer TOKEN\"")
		}
		u, err := h.userByToken(r.Context(), token)
		return u, token, err
	}
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, "", nil
	}
	u, err := h.userByToken(r.Context(), ck.Value)
	if err != nil {
		if wireCode(err) == onair.EInternal {
			h.log.Error("authenticate cookie", "err", err)
		}
		return nil, "", nil
	}
	return u, ck.Value, nil
}

// userByToken asks the authenticator, reading every "no such session"
// answer as unauthorized.
func (h *Hub) userByToken(ctx context.Context, token string) (*onair.User, error) {
	if h.Auth == nil {
		return nil, onair.Errorf(onair.EUnauthorized, "accounts are not available")
	}
	u, err := h.Auth.UserByToken(ctx, token)
	switch {
	case err != nil && wireCode(err) == onair.EInternal:
		return nil, err
	case err != nil || u == nil:
		return nil, onair.Errorf(onair.EUnauthorized, "invalid or expired token")
	}
	return u, nil
}

// upgradeError answers a failed handshake in the contract's JSON error
// shape.
func upgradeError(w http.ResponseWriter, _ *http.Request, status int, reason error) {
	msg := http.StatusText(status)
	if reason != nil {
		msg = reason.Error()
	}
	writeError(w, status, msg)
}

func writeError(w http.ResponseWriter, status int, msg string) { httpjson.Error(w, status, msg) }
