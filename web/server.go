// Package web is onair's HTTP edge: the REST JSON API, the listening routes
// (playlist files, and the relay's stream and status handlers mounted in
// one mux), sessions by cookie or bearer token with cross-site protection,
// the mapping of onair error codes to HTTP statuses, and the embedded
// pages (see pages.go).
package web

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/onairfm/onair/auth"
	"github.com/onairfm/onair/control"
	"github.com/onairfm/onair/internal/guard"
	"github.com/onairfm/onair/internal/limit"
)

// Server answers every HTTP route of onair. Fill the fields, then serve
// Handler(). A Server must not be copied after first use.
type Server struct {
	Control *control.Service
	Auth    *auth.Service
	Stream  http.Handler // /stream/{slug} and /stream/{slug}.mp3 (the relay)
	Status  http.Handler // /status-json.xsl (the relay)
	WS      http.Handler // /ws (signalling hub); nil answers 404
	Metrics http.Handler // /metrics (Prometheus); nil answers 404
	WHIP    whipIngest   // /api/stations/{slug}/whip (package whip); nil answers 404
	// Source takes Icecast source clients: PUT and SOURCE /stream/{slug},
	// GET /admin/metadata (package live); nil answers 404.
	Source http.Handler
	Logger *slog.Logger

	// Stats answers the statistics routes (a stats.Recorder); nil answers
	// 404.
	Stats statsReporter

	// PublicURL is the base of absolute links (.m3u, .pls); empty uses the
	// scheme and Host of the request.
	PublicURL string
	// AllowedOrigins are origins besides the server's own (and
	// PublicURL's) from which browsers may make cookie-authenticated state
	// changes, e.g. "https://radio.example".
	AllowedOrigins []string
	// ICEServers are the STUN/TURN URLs handed to browsers by /api/config.
	ICEServers []string
	// SessionTTL is the session cookie's Max-Age; 0 uses the auth
	// service's session lifetime.
	SessionTTL time.Duration
	// Now is the clock of the login rate limit; nil means time.Now.
	Now func() time.Time

	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (see guard.Guard.Client).
	TrustedProxies []netip.Prefix
	// ReadTimeout bounds each read of a request body (see guard.Guard);
	// 0 leaves bodies unbounded.
	ReadTimeout time.Duration
	// SocketsPerIP and StreamsPerIP cap the WebSockets and HTTP streams
	// one client address holds open at once; 0 means no cap.
	SocketsPerIP int
	StreamsPerIP int
	// MetricsToken, when set, is wanted as "Authorization: Bearer" on
	// /metrics.
	MetricsToken string
	// Sessions closes the sockets of sessions that end (logout, password
	// change, disabled or deleted user); nil when there are no sockets.
	Sessions sessionEnder

	limitOnce sync.Once
	limiter   *limit.Rate[string]
	guard     *guard.Guard
}

// sessionEnder is the signalling hub as the accounts routes see it.
type sessionEnder interface {
	EndSession(token string)
	EndUser(userID int64, keepToken string)
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// authLimiter limits login and register attempts per client address; it is
// shared by every Handler of the Server, as is the guard it sets up with
// the per-address caps.
func (s *Server) authLimiter() *limit.Rate[string] {
	s.limitOnce.Do(func() {
		s.limiter = limit.NewRate[string](authPerSecond, authBurst)
		s.guard = &guard.Guard{TrustedProxies: s.TrustedProxies, ReadTimeout: s.ReadTimeout,
			SocketsPerIP: s.SocketsPerIP, StreamsPerIP: s.StreamsPerIP}
	})
	return s.limiter
}

// sessionTTL is how long the session cookie lives: as long as the session.
func (s *Server) sessionTTL() time.Duration {
	switch {
	case s.SessionTTL > 0:
		return s.SessionTTL
	case s.Auth != nil && s.Auth.SessionTTL > 0:
		return s.Auth.SessionTTL
	default:
		return auth.DefaultSessionTTL
	}
}

// baseURL is the server's address for absolute links.
func (s *Server) baseURL(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimSuffix(s.PublicURL, "/")
	}
	scheme := "http"
	if guard.IsHTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// apiFunc is a handler that reports failure by returning an error; the
// error becomes the JSON error answer with the status of its onair code.
type apiFunc func(w http.ResponseWriter, r *http.Request) error

// route is one method and pattern of the mux.
type route struct {
	method  string
	pattern string
	handle  apiFunc
}

// Handler returns the one mux with every route, wrapped in request logging
// and panic recovery.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.mount(mux, []route{
		{"POST", "/api/auth/login", s.login},
		{"POST", "/api/auth/logout", s.logout},
		{"POST", "/api/auth/register", s.register},
		{"GET", "/api/me", s.me},
		{"POST", "/api/users", s.createUser},
		{"GET", "/api/users", s.listUsers},
		{"PATCH", "/api/users/{username}", s.updateUser},
		{"DELETE", "/api/users/{username}", s.deleteUser},
		{"POST", "/api/auth/password", s.changePassword},
		{"POST", "/api/setup", s.setup},
		{"GET", "/api/config", s.config},

		{"GET", "/api/stations", s.listStations},
		{"POST", "/api/stations", s.createStation},
		{"GET", "/api/stations/{slug}", s.getStation},
		{"PATCH", "/api/stations/{slug}", s.updateStation},
		{"DELETE", "/api/stations/{slug}", s.deleteStation},

		{"GET", "/api/stations/{slug}/tracks", s.listTracks},
		{"POST", "/api/stations/{slug}/tracks", s.uploadTracks},
		{"PATCH", "/api/stations/{slug}/tracks/{id}", s.patchTrack},
		{"DELETE", "/api/stations/{slug}/tracks/{id}", s.deleteTrack},
		{"GET", "/api/stations/{slug}/tracks/{id}/art", s.trackArt},
		{"GET", "/api/stations/{slug}/history", s.history},
		{"GET", "/api/analysis", s.analysis},
		{"PUT", "/api/stations/{slug}/playlist", s.setPlaylist},

		{"POST", "/api/stations/{slug}/start", s.start},
		{"POST", "/api/stations/{slug}/stop", s.stop},
		{"POST", "/api/stations/{slug}/skip", s.skip},
		{"POST", "/api/stations/{slug}/metadata", s.metadata},
		{"POST", "/api/stations/{slug}/whip", s.whipPublish},
		{"DELETE", "/api/stations/{slug}/whip/{id}", s.whipEnd},
		{"GET", "/api/stations/{slug}/streamers", s.listStreamers},
		{"POST", "/api/stations/{slug}/streamers", s.createStreamer},
		{"DELETE", "/api/stations/{slug}/streamers/{username}", s.deleteStreamer},
		{"GET", "/admin/metadata", s.source},

		{"GET", "/api/stations/{slug}/stats", s.stationStats},
		{"GET", "/api/stations/{slug}/stats.csv", s.stationStatsCSV},
		{"GET", "/api/stats", s.serverStats},
		{"GET", "/api/stats.csv", s.serverStatsCSV},

		{"GET", "/status-json.xsl", s.status},
		{"GET", "/healthz", s.healthz},
		{"GET", "/metrics", s.metrics},
	})
	mux.Handle("/api/", s.api(func(http.ResponseWriter, *http.Request) error { return errNoRoute }))
	// Streams and their playlist files check the method themselves: the
	// relay answers HEAD and refuses the rest.
	mux.Handle("/stream/{name}", s.api(s.stream))
	mux.Handle("/ws", s.api(s.websocket))
	s.routePages(mux)
	_ = s.authLimiter() // sets the guard up before any request
	return s.guard.Wrap(s.logRequests(s.recoverPanics(mux)))
}

// mount adds routes, and for each pattern a catch-all that answers 405
// in JSON with the methods it does have (the mux's own 405 is plain text).
func (s *Server) mount(mux *http.ServeMux, routes []route) {
	allowed := map[string][]string{}
	var order []string
	for _, rt := range routes {
		mux.Handle(rt.method+" "+rt.pattern, s.api(rt.handle))
		if _, ok := allowed[rt.pattern]; !ok {
			order = append(order, rt.pattern)
		}
		allowed[rt.pattern] = append(allowed[rt.pattern], rt.method)
		if rt.method == http.MethodGet {
			allowed[rt.pattern] = append(allowed[rt.pattern], http.MethodHead)
		}
	}
	for _, p := range order {
		allow := strings.Join(allowed[p], ", ")
		mux.Handle(p, s.api(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Allow", allow)
			return errMethod
		}))
	}
}

// api turns an apiFunc into a handler: cross-site checks first, errors
// written as JSON after.
func (s *Server) api(h apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.checkOrigin(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}
