// Package guard is what every onair node's HTTP server enforces before a
// handler runs, the single node's and an edge's alike: who the client is
// behind trusted proxies, how many streams and sockets one address holds
// open, how long a request body may stall, HSTS over https, and the
// metrics token. web and an edge (cmd/onair) use the same Guard, so an
// edge cannot drift from what the origin enforces.
package guard

import (
	"crypto/subtle"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/httpjson"
	"github.com/onairfm/onair/internal/limit"
)

// Guard holds a server's limits. Fill the fields before first use; a
// Guard must not be copied after it. The zero Guard trusts no proxy and
// caps nothing.
type Guard struct {
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (see Client).
	TrustedProxies []netip.Prefix
	// ReadTimeout bounds each read of a request body (see Client); 0
	// leaves bodies unbounded.
	ReadTimeout time.Duration
	// SocketsPerIP and StreamsPerIP cap the WebSockets and HTTP streams
	// one client address holds open at once; 0 means no cap.
	SocketsPerIP int
	StreamsPerIP int

	once    sync.Once
	sockets limit.Open[string]
	streams limit.Open[string]
}

// Kind is what a client holds open: a stream or a socket.
type Kind int

// What Hold counts.
const (
	Streams Kind = iota
	Sockets
)

func (g *Guard) open(k Kind) *limit.Open[string] {
	g.once.Do(func() { g.sockets.Max, g.streams.Max = g.SocketsPerIP, g.StreamsPerIP })
	if k == Sockets {
		return &g.sockets
	}
	return &g.streams
}

// Wrap is the front of a server's handler: the real client (Client), the
// body deadline, then HSTS over https.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return g.Client(g.bodyDeadline(strictTransport(next)))
}

// Hold takes one of r's client address's slots of kind k for as long as
// the caller keeps it (call release once at the end), or refuses with an
// onair.ERateLimited error and a Retry-After header when they are all
// taken.
func (g *Guard) Hold(w http.ResponseWriter, r *http.Request, k Kind) (release func(), err error) {
	o := g.open(k)
	release, ok := o.Acquire(ClientKey(r))
	if !ok {
		what := "streams"
		if k == Sockets {
			what = "WebSockets"
		}
		w.Header().Set("Retry-After", "10")
		return nil, onair.Errorf(onair.ERateLimited,
			"too many %s open from your address (at most %d at once): close one and try again", what, o.Max)
	}
	return release, nil
}

// Limit serves next while r's client holds a slot of kind k, and answers
// 429 in JSON, as web does, when it has none left.
func (g *Guard) Limit(k Kind, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := g.Hold(w, r, k)
		if err != nil {
			httpjson.Error(w, http.StatusTooManyRequests, onair.ErrorMessage(err))
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}

// CheckToken wants token as "Authorization: Bearer" when token is set
// (metrics.token on /metrics); a session cookie does not count. On
// refusal it sets WWW-Authenticate and returns an onair.EUnauthorized
// error.
func CheckToken(w http.ResponseWriter, r *http.Request, token string) error {
	if token == "" {
		return nil
	}
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") ||
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
		return onair.Errorf(onair.EUnauthorized, "metrics need Authorization: Bearer <metrics.token>")
	}
	return nil
}

// Token serves next to requests with token (see CheckToken), and answers
// 401 in JSON to the rest.
func Token(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := CheckToken(w, r, token); err != nil {
			httpjson.Error(w, http.StatusUnauthorized, onair.ErrorMessage(err))
			return
		}
		next.ServeHTTP(w, r)
	})
}
